//! The build without WebGPU code hands the page to the WebGPU build when the settings want it:
//! `www/loading.js`'s `fireflyLoadWebgpuBuild` imports that build's JavaScript (named in
//! `index.html` by the `firefly-webgpu-build` meta tag, which the trunk build writes), whose
//! start function runs the page from the beginning. This module returns before anything is bound
//! to the page, so the two builds never both listen.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::{Handover, NO_WEBGPU_NOTE, wants_webgpu};
use crate::settings::PageOptions;

/// Whether the browser has WebGPU (`navigator.gpu`).
fn has_webgpu() -> bool {
    web_sys::window()
        .map(|w| w.navigator())
        .and_then(|n| js_sys::Reflect::get(&n, &"gpu".into()).ok())
        .is_some_and(|gpu| !gpu.is_undefined() && !gpu.is_null())
}

/// Calls `www/loading.js`'s `fireflyLoadWebgpuBuild` and waits for the WebGPU build to start.
async fn load_webgpu_build() -> Result<JsValue, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let load: js_sys::Function = js_sys::Reflect::get(&window, &"fireflyLoadWebgpuBuild".into())?
        .dyn_into()
        .map_err(|_| JsValue::from_str("the page's loader has no fireflyLoadWebgpuBuild"))?;
    let started: js_sys::Promise = load.call0(&window)?.dyn_into()?;
    JsFuture::from(started).await
}

/// Loads the WebGPU build when the settings want it and the browser has WebGPU; a build that
/// fails to load leaves the page here, on the CPU, with a note saying why.
pub async fn hand_over(options: &PageOptions) -> Handover {
    if !wants_webgpu(options) {
        return Handover::Here(None);
    }
    if !has_webgpu() {
        return Handover::Here(Some(NO_WEBGPU_NOTE.to_string()));
    }
    match load_webgpu_build().await {
        Ok(_) => Handover::Elsewhere,
        Err(e) => {
            let why = e
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .or_else(|| e.as_string())
                .unwrap_or_else(|| format!("{e:?}"));
            web_sys::console::warn_1(&format!("the WebGPU build did not load: {why}").into());
            Handover::Here(Some(format!(
                "The WebGPU code could not be loaded ({why}), so the networks train on the CPU backend (WebAssembly)."
            )))
        }
    }
}
