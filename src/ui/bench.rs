//! Bench mode (`#bench`): epochs per second at TensorFlow Playground's default setup on the CPU
//! backend and, when the browser has it, on WebGPU.

use burn::tensor::Device;
use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlElement};

use super::device::{self, Backend};
use super::dom::{self, by_id};
use super::view::{MAP_RESOLUTION, THUMB_RESOLUTION};
use crate::config::RunConfig;
use crate::data::DatasetKind;
use crate::grow::Method;
use crate::settings::BackendChoice;

/// Bench mode (`#bench`): epochs per second at TensorFlow Playground's default setup (circle,
/// hidden layers 4 and 2, tanh, batch 10, a 100×100 decision map read after every epoch) on the
/// CPU backend and, when the browser has it, on WebGPU. The result goes into `data-bench` on
/// `#app` as JSON and into the page.
pub async fn run() -> Result<(), JsValue> {
    let root: Element = by_id("app")?;
    let explain: HtmlElement = by_id("explain")?;
    root.set_attribute("data-state", "running")?;
    explain.set_hidden(false);
    explain.set_text_content(Some("Measuring epochs per second on each backend…"));
    let mut config = RunConfig::default();
    config.data.kind = DatasetKind::Circle;
    config.model.hidden = vec![4, 2];
    config.train.batch_size = 10;
    config.train.learning_rate = 0.03;
    config.growth.method = Method::None;
    let cpu = measure(&config, Device::flex(), 30).await;
    root.set_attribute("data-backend", Backend::Cpu.name())?;
    // Measured on any adapter, a software one too: the figure says what it would cost.
    let (device, backend, _) = device::init(BackendChoice::WebGpu).await;
    let webgpu = if backend == Backend::WebGpu {
        root.set_attribute("data-backend", Backend::WebGpu.name())?;
        measure(&config, device, 3).await
    } else {
        Err("WebGPU is not available".into())
    };
    let json = |r: &Result<f64, String>| match r {
        Ok(v) => format!("{v:.3}"),
        Err(_) => "null".into(),
    };
    let result = format!(
        "{{\"setup\": \"circle, 2-4-2-2 tanh, batch 10, 250 training points, 100x100 map per epoch\", \"cpu_epochs_per_s\": {}, \"webgpu_epochs_per_s\": {}, \"webgpu_error\": {}}}",
        json(&cpu),
        json(&webgpu),
        match &webgpu {
            Ok(_) => "null".into(),
            Err(e) => format!("\"{}\"", e.replace('"', "'")),
        }
    );
    root.set_attribute("data-bench", &result)?;
    root.set_attribute("data-state", "paused")?;
    explain.set_text_content(Some(&format!("Bench: {result}")));
    Ok(())
}

async fn measure(config: &RunConfig, device: Device, epochs: usize) -> Result<f64, String> {
    let mut session =
        crate::train::Session::new(config.clone(), device).map_err(|e| e.to_string())?;
    // Warm-up: compile kernels, fill caches.
    session.run_epochs(1).await.map_err(|e| e.to_string())?;
    session
        .snapshot(MAP_RESOLUTION, THUMB_RESOLUTION)
        .await
        .map_err(|e| e.to_string())?;
    let start = dom::now();
    for _ in 0..epochs {
        let target = session.epoch() + 1;
        while session.epoch() < target {
            session.advance(1).await.map_err(|e| e.to_string())?;
        }
        session
            .snapshot(MAP_RESOLUTION, THUMB_RESOLUTION)
            .await
            .map_err(|e| e.to_string())?;
        dom::yield_now().await;
    }
    let seconds = (dom::now() - start) / 1000.0;
    Ok(epochs as f64 / seconds.max(1e-9))
}
