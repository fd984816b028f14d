//! The WebGPU build's half of choosing where the maths runs (built with `--features wgpu`):
//! the browser's adapter, the probe that times the page's network on it and on the CPU, and
//! the watch on the device.

use std::sync::Arc;

use burn::tensor::Device;
use burn::tensor::wgpu::wgpu::{self, DeviceType};

use super::{Backend, Choice, GpuWatch, NO_WEBGPU_NOTE};
use crate::config::RunConfig;
use crate::probe::{Timings, explain, is_wide, probe, probe_growth, steps_per_phase};
use crate::settings::BackendChoice;
use crate::train::TrainPath;

/// The CPU probe's budget (it is fast: at most this many steps or milliseconds).
const CPU_PROBE: (usize, f64) = (400, 100.0);
/// The WebGPU probe's budget, after its warm-up step.
const GPU_PROBE: (usize, f64) = (10, 400.0);
/// The most milliseconds one timed growth phase (and the GPU's warm-up phase) may take.
const GROWTH_PROBE_MS: f64 = 1500.0;

/// Whether an adapter renders in software: wgpu reports the browser's `isFallbackAdapter` as
/// [`DeviceType::Cpu`], and Chromium names SwiftShader in the description.
pub fn is_software(device_type: DeviceType, name: &str) -> bool {
    device_type == DeviceType::Cpu || super::names_software(name)
}

/// Watches a WebGPU device: installs the device-lost callback and the uncaptured-error
/// handler on `device`.
///
/// In the browser the lost callback is one more handler on `GPUDevice.lost` (burn's own
/// stays and makes every later read fail instead of returning stale data), and the error
/// handler replaces burn's, which panics on an error while the device is not lost yet.
pub fn watch(device: &wgpu::Device) -> GpuWatch {
    let watch = GpuWatch::default();
    let reason = watch.clone();
    device.set_device_lost_callback(move |kind, message| {
        let message = message.trim();
        let text = match kind {
            wgpu::DeviceLostReason::Destroyed => "the device was destroyed".to_string(),
            _ if message.is_empty() => "the device was lost".to_string(),
            _ => short(message),
        };
        web_sys::console::warn_1(&format!("webgpu lost: {text}").into());
        reason.set(text);
    });
    let reason = watch.clone();
    device.on_uncaptured_error(Arc::new(move |error| {
        let text = format!("the GPU reported an error: {}", short(&error.to_string()));
        web_sys::console::warn_1(&format!("webgpu error: {text}").into());
        reason.set(text);
    }));
    watch
}

/// The first line of a message, at most 120 characters.
fn short(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    let mut out: String = line.chars().take(120).collect();
    if line.chars().count() > 120 {
        out.push('…');
    }
    out
}

/// WebGPU as `choice` (not `cpu`) asks: on a software adapter (SwiftShader) `auto` takes the
/// CPU, many times faster there (the first epoch took 44 s); on a hardware one it probes.
/// `webgpu` takes any adapter; `probe` probes any adapter.
pub async fn init(choice: BackendChoice, config: &RunConfig) -> Choice {
    match Device::wgpu_options().init_with_setup_async().await {
        Ok((device, setup)) => {
            let watch = watch(&setup.device);
            let info = setup.adapter.get_info();
            let label = if info.name.trim().is_empty() {
                "no name given".to_string()
            } else {
                info.name.trim().chars().take(60).collect()
            };
            let software = is_software(info.device_type, &info.name);
            let chosen = match (software, choice) {
                (_, BackendChoice::WebGpu) if software => Choice::plain(
                    device,
                    Backend::WebGpu,
                    Some(format!(
                        "Running on WebGPU as the link asks (backend=webgpu), on a software adapter ({label}): expect it to be much slower than the CPU backend."
                    )),
                ),
                (_, BackendChoice::WebGpu) => Choice::plain(device, Backend::WebGpu, None),
                (true, BackendChoice::Auto) => Choice::plain(
                    Device::flex(),
                    Backend::Cpu,
                    Some(super::software_note(&label)),
                ),
                _ => probe_and_choose(device, config, &label, choice == BackendChoice::Probe).await,
            };
            // Only a page that computes on the device needs to hear that it went.
            Choice {
                watch: chosen.backend.split().uses_gpu().then_some(watch),
                ..chosen
            }
        }
        Err(e) => {
            web_sys::console::info_1(&format!("webgpu unavailable: {e:?}").into());
            Choice::plain(Device::flex(), Backend::Cpu, Some(NO_WEBGPU_NOTE.into()))
        }
    }
}

/// Times a few training steps of the page's network on the CPU (fused) and on WebGPU (tensors)
/// and, for a wide network or when `always_growth` (`backend=probe`), a growth phase on each; then
/// keeps the split with the shortest round ([`Timings::choose`]). A probe that fails leaves the
/// CPU.
async fn probe_and_choose(
    gpu: Device,
    config: &RunConfig,
    label: &str,
    always_growth: bool,
) -> Choice {
    match measure(&gpu, config, always_growth).await {
        Ok(timings) => {
            let split = timings.choose();
            let backend = Backend::of(split);
            let device = if split.uses_gpu() {
                gpu
            } else {
                Device::flex()
            };
            Choice {
                device,
                backend,
                note: Some(format!("{} (adapter: {label})", explain(&timings))),
                probe: Some(timings),
                watch: None,
                for_width: true,
            }
        }
        Err(e) => Choice::plain(
            Device::flex(),
            Backend::Cpu,
            Some(format!(
                "The backend probe failed ({e}), so the networks train on the CPU backend."
            )),
        ),
    }
}

/// Every figure of the probe: training steps on both backends, and a growth phase on both when
/// the network is wide enough (or `always_growth`).
async fn measure(
    gpu: &Device,
    config: &RunConfig,
    always_growth: bool,
) -> Result<Timings, crate::error::EngineError> {
    let (steps, ms) = CPU_PROBE;
    let cpu = probe(config, Device::flex(), TrainPath::Fused, steps, ms).await?;
    let (steps, ms) = GPU_PROBE;
    let on_gpu = probe(config, gpu.clone(), TrainPath::Tensor, steps, ms).await?;
    let grow = if always_growth || is_wide(config) {
        let cpu = probe_growth(config, Device::flex(), false, GROWTH_PROBE_MS).await?;
        let on_gpu = probe_growth(config, gpu.clone(), true, GROWTH_PROBE_MS).await?;
        cpu.zip(on_gpu)
    } else {
        None
    };
    let n_train = (config.data.n_points as f64 * f64::from(config.data.train_ratio)).round();
    Ok(Timings {
        train: (cpu, on_gpu),
        grow,
        steps_per_phase: steps_per_phase(config, n_train.max(1.0) as usize),
    })
}
