//! Browser tests (wasm32, headless Chromium through wasm-bindgen-test): a full growth phase on
//! burn's Flex CPU backend and on the WebGPU backend, each compared with the native run recorded in
//! `tests/golden/backend_check.json`. On native targets this file compiles to nothing.
#![cfg(target_arch = "wasm32")]

use burn::tensor::Device;
use firefly_playground::experiment::{BackendCheck, backend_check};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn golden() -> BackendCheck {
    serde_json::from_str(include_str!("golden/backend_check.json")).expect("golden file parses")
}

#[wasm_bindgen_test]
async fn growth_phase_on_the_cpu_backend_matches_native() {
    let check = backend_check(&Device::flex())
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
    let check = backend_check(&device)
        .await
        .expect("backend check on webgpu");
    check
        .compare(&golden(), 2e-3)
        .expect("browser webgpu run matches native");
}
