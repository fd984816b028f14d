//! Choosing where the maths runs: WebGPU when the browser offers an adapter (unless the link
//! says `backend=cpu`), burn's CPU backend otherwise, with a note the page shows; and watching
//! the WebGPU device for loss ([`GpuWatch`]), so the page can move to the CPU instead of
//! crashing.

use std::sync::{Arc, OnceLock};

use burn::tensor::Device;
use burn::tensor::wgpu::wgpu::{self, DeviceType};

use crate::config::RunConfig;
use crate::probe::{Place, Split, Timings, explain, probe, probe_growth, steps_per_phase};
use crate::settings::BackendChoice;
use crate::train::TrainPath;

/// Which backend computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// burn's wgpu backend on the browser's WebGPU.
    WebGpu,
    /// burn's Flex CPU backend in WebAssembly.
    Cpu,
    /// Training on the CPU (the fused step), growth phases on WebGPU.
    CpuTrainGpuGrow,
}

impl Backend {
    /// The backend that runs `split`.
    pub fn of(split: Split) -> Self {
        match (split.train, split.grow) {
            (Place::Cpu, Place::Cpu) => Backend::Cpu,
            (Place::Cpu, Place::Gpu) => Backend::CpuTrainGpuGrow,
            (Place::Gpu, _) => Backend::WebGpu,
        }
    }

    /// Where it trains and grows.
    pub fn split(self) -> Split {
        match self {
            Backend::Cpu => Split::CPU,
            Backend::CpuTrainGpuGrow => Split::GROW_ON_GPU,
            Backend::WebGpu => Split::GPU,
        }
    }

    /// The `data-backend` value.
    pub fn name(self) -> &'static str {
        match self {
            Backend::WebGpu => "webgpu",
            Backend::Cpu => "cpu",
            Backend::CpuTrainGpuGrow => "cpu+webgpu",
        }
    }

    /// How the page names it.
    pub fn label(self) -> &'static str {
        match self {
            Backend::WebGpu => "WebGPU",
            Backend::Cpu => "CPU",
            Backend::CpuTrainGpuGrow => "CPU + WebGPU",
        }
    }

    /// Milliseconds per animation frame for training and drawing together (training gets what
    /// drawing leaves). A 60 Hz frame is 16.7 ms; WebGPU waits on the GPU and gets longer frames.
    pub fn frame_budget_ms(self) -> f64 {
        match self {
            Backend::WebGpu => 30.0,
            Backend::Cpu | Backend::CpuTrainGpuGrow => 13.0,
        }
    }
}

/// Whether an adapter renders in software: wgpu reports the browser's `isFallbackAdapter` as
/// [`DeviceType::Cpu`], and Chromium names SwiftShader in the description.
pub fn is_software(device_type: DeviceType, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    device_type == DeviceType::Cpu
        || ["swiftshader", "llvmpipe", "lavapipe", "software"]
            .iter()
            .any(|s| name.contains(s))
}

/// Watches a WebGPU device: set once when the device is lost or reports an error nobody
/// caught. wgpu's default handler for such errors panics; this one records the reason, and the
/// page's loop moves the runs to the CPU when it sees it.
#[derive(Clone, Debug, Default)]
pub struct GpuWatch {
    reason: Arc<OnceLock<String>>,
}

impl GpuWatch {
    /// Installs the device-lost callback and the uncaptured-error handler on `device`.
    ///
    /// In the browser the lost callback is one more handler on `GPUDevice.lost` (burn's own
    /// stays and makes every later read fail instead of returning stale data), and the error
    /// handler replaces burn's, which panics on an error while the device is not lost yet.
    pub fn watch(device: &wgpu::Device) -> Self {
        let watch = GpuWatch::default();
        let reason = watch.reason.clone();
        device.set_device_lost_callback(move |kind, message| {
            let message = message.trim();
            let text = match kind {
                wgpu::DeviceLostReason::Destroyed => "the device was destroyed".to_string(),
                _ if message.is_empty() => "the device was lost".to_string(),
                _ => short(message),
            };
            web_sys::console::warn_1(&format!("webgpu lost: {text}").into());
            let _ = reason.set(text);
        });
        let reason = watch.reason.clone();
        device.on_uncaptured_error(Arc::new(move |error| {
            let text = format!("the GPU reported an error: {}", short(&error.to_string()));
            web_sys::console::warn_1(&format!("webgpu error: {text}").into());
            let _ = reason.set(text);
        }));
        watch
    }

    /// Why the device can no longer be trusted, once it cannot.
    pub fn lost(&self) -> Option<&str> {
        self.reason.get().map(String::as_str)
    }
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

/// Where the page computes, and why.
pub struct Choice {
    /// The device the sessions compute on.
    pub device: Device,
    /// Its backend.
    pub backend: Backend,
    /// A note for the page (why this backend), if any.
    pub note: Option<String>,
    /// The probe's figures, when it ran.
    pub probe: Option<Timings>,
    /// The watch on the WebGPU device, when the page computes on one.
    pub watch: Option<GpuWatch>,
}

impl Choice {
    fn plain(device: Device, backend: Backend, note: Option<String>) -> Self {
        Choice {
            device,
            backend,
            note,
            probe: None,
            watch: None,
        }
    }
}

/// The CPU probe's budget (it is fast: at most this many steps or milliseconds).
const CPU_PROBE: (usize, f64) = (400, 100.0);
/// The WebGPU probe's budget, after its warm-up step.
const GPU_PROBE: (usize, f64) = (10, 400.0);
/// The most milliseconds one timed growth phase (and the GPU's warm-up phase) may take.
const GROWTH_PROBE_MS: f64 = 1500.0;
/// The widest hidden layer from which `auto` also times a growth phase on both backends. On an
/// H200 the GPU's Firefly phase won from width 128 (and lost at 16); below this width no GPU
/// measured wins it, and the growth probe would cost seconds at page open for nothing.
/// `backend=probe` always times it.
pub const GROWTH_PROBE_WIDTH: usize = 64;

/// The backend the page asked for, and a note when it is the CPU or a software adapter.
///
/// `auto` on a hardware adapter runs a short probe of the page's own network on both backends
/// and takes the faster; on a software adapter (SwiftShader) it takes the CPU, many times faster
/// there (the first epoch took 44 s). `webgpu` takes any adapter; `probe` probes any adapter.
pub async fn init(choice: BackendChoice, config: &RunConfig) -> Choice {
    if choice == BackendChoice::Cpu {
        return Choice::plain(
            Device::flex(),
            Backend::Cpu,
            Some("Running on the CPU backend, as the link asks (backend=cpu).".into()),
        );
    }
    match Device::wgpu_options().init_with_setup_async().await {
        Ok((device, setup)) => {
            let watch = GpuWatch::watch(&setup.device);
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
                    Some(format!(
                        "This browser's WebGPU adapter renders in software ({label}), which is far slower than the CPU backend, so the networks train on the CPU. Add backend=webgpu to the link to use it anyway, or backend=probe to time both."
                    )),
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
            Choice::plain(
                Device::flex(),
                Backend::Cpu,
                Some(
                    "WebGPU is not available in this browser, so the networks train on the CPU backend (WebAssembly). Everything works; large networks are slower."
                        .into(),
                ),
            )
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
    let widest = config.model.hidden.iter().copied().max().unwrap_or(0);
    let grow = if always_growth || widest >= GROWTH_PROBE_WIDTH {
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
