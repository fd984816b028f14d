//! Browser tests (wasm32, headless Chromium through wasm-bindgen-test): a full growth phase on
//! burn's Flex CPU backend and on the WebGPU backend, each compared with the native run recorded in
//! `tests/golden/backend_check.json`. On native targets this file compiles to nothing.
#![cfg(target_arch = "wasm32")]

use burn::tensor::Device;
use firefly_playground::experiment::{BackendCheck, backend_check};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Yields to the browser's event loop (a zero-delay timer), so long GPU work never stalls the page.
async fn pause() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        let set_timeout = js_sys::Reflect::get(&global, &"setTimeout".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        if let Some(set_timeout) = set_timeout {
            let _ = set_timeout.call2(&global, &resolve, &0.into());
        } else {
            let _ = resolve.call0(&global);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

fn golden() -> BackendCheck {
    serde_json::from_str(include_str!("golden/backend_check.json")).expect("golden file parses")
}

#[wasm_bindgen_test]
async fn growth_phase_on_the_cpu_backend_matches_native() {
    let check = backend_check(&Device::flex(), pause)
        .await
        .expect("backend check on flex");
    check
        .compare(&golden(), 1e-4)
        .expect("browser cpu run matches native");
}

#[wasm_bindgen_test]
async fn growth_phase_on_webgpu_matches_native() {
    let device = Device::wgpu_options()
        .init_async()
        .await
        .expect("headless chromium with --enable-unsafe-webgpu has a webgpu adapter");
    let check = backend_check(&device, pause)
        .await
        .expect("backend check on webgpu");
    check
        .compare(&golden(), 2e-3)
        .expect("browser webgpu run matches native");
}
