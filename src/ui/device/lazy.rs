//! The build without WebGPU code hands the page to the WebGPU build when the settings want it
//! and the browser has an adapter the settings would use (it asks `navigator.gpu` first):
//! `www/loading.js`'s `fireflyLoadWebgpuBuild` imports that build's JavaScript (named in
//! `index.html` by the `firefly-webgpu-build` meta tag, which the trunk build writes), whose
//! start function runs the page from the beginning. This module returns before anything is bound
//! to the page, so the two builds never both listen.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::{Handover, NO_WEBGPU_NOTE, names_software, software_note, wants_webgpu};
use crate::settings::{BackendChoice, PageOptions};

/// What the browser's WebGPU offers, asked before the WebGPU build is fetched.
enum Adapter {
    /// No `navigator.gpu`, or no adapter for this page.
    None,
    /// An adapter that renders in software, and its name.
    Software(String),
    /// A hardware adapter.
    Hardware,
}

/// A property of a JavaScript object (`undefined` when absent).
fn get(object: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// Asks `navigator.gpu.requestAdapter()` as the WebGPU build would, and reads whether the
/// adapter is a fallback or names software (`adapter.info`: vendor, architecture, description).
async fn adapter() -> Adapter {
    let Some(navigator) = web_sys::window().map(|w| w.navigator()) else {
        return Adapter::None;
    };
    let gpu = get(&navigator, "gpu");
    let Ok(request) = get(&gpu, "requestAdapter").dyn_into::<js_sys::Function>() else {
        return Adapter::None;
    };
    let Ok(promise) = request
        .call0(&gpu)
        .and_then(|p| p.dyn_into::<js_sys::Promise>())
    else {
        return Adapter::None;
    };
    let adapter = match JsFuture::from(promise).await {
        Ok(a) if !a.is_null() && !a.is_undefined() => a,
        _ => return Adapter::None,
    };
    let info = get(&adapter, "info");
    let fallback = get(&adapter, "isFallbackAdapter").as_bool() == Some(true)
        || get(&info, "isFallbackAdapter").as_bool() == Some(true);
    let names: Vec<String> = ["description", "vendor", "architecture", "device"]
        .iter()
        .filter_map(|k| get(&info, k).as_string())
        .filter(|n| !n.trim().is_empty())
        .collect();
    let label = names.join(" ");
    if fallback || names_software(&label) {
        let label: String = label.trim().chars().take(60).collect();
        Adapter::Software(if label.is_empty() {
            "no name given".into()
        } else {
            label
        })
    } else {
        Adapter::Hardware
    }
}

/// Whether the browser's WebGPU has an adapter that renders in hardware.
pub async fn has_hardware_adapter() -> bool {
    matches!(adapter().await, Adapter::Hardware)
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

/// Loads the WebGPU build when the settings want it and the browser has a WebGPU adapter (under
/// `auto`, one that renders in hardware); a build that fails to load leaves the page here, on
/// the CPU, with a note saying why.
pub async fn hand_over(options: &PageOptions) -> Handover {
    if !wants_webgpu(options) {
        return Handover::Here(None);
    }
    // What the WebGPU build would find is asked first: it is not fetched (2.3 MB) to learn
    // that there is no adapter, or, under `auto`, one that renders in software.
    match adapter().await {
        Adapter::None => return Handover::Here(Some(NO_WEBGPU_NOTE.to_string())),
        Adapter::Software(label) if options.backend == BackendChoice::Auto => {
            return Handover::Here(Some(software_note(&label)));
        }
        Adapter::Software(_) | Adapter::Hardware => {}
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
