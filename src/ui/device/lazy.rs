//! The build without WebGPU code hands the page to the WebGPU build when the settings want it:
//! `www/webgpu.js` imports that build's JavaScript (named in `index.html` by the
//! `firefly-webgpu-build` meta tag, which the trunk build writes), whose start function runs the
//! page from the beginning. This module returns before anything is bound to the page, so the
//! two builds never both listen.

use wasm_bindgen::prelude::*;

use super::{Handover, NO_WEBGPU_NOTE, wants_webgpu};
use crate::settings::PageOptions;

#[wasm_bindgen(module = "/www/webgpu.js")]
extern "C" {
    #[wasm_bindgen(js_name = hasWebgpu)]
    fn has_webgpu() -> bool;

    #[wasm_bindgen(js_name = loadWebgpuBuild, catch)]
    async fn load_webgpu_build() -> Result<JsValue, JsValue>;
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
