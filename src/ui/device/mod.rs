//! Choosing where the maths runs, with a note the page shows: burn's CPU backend for every
//! network under [`crate::probe::WEBGPU_WIDTH`] units a layer (even an NVIDIA H200 did not beat
//! it there), WebGPU or a split of the two where the link asks for it or a wide network's probe
//! finds it faster;
//! and watching the WebGPU device for loss ([`GpuWatch`]), so the page can move to the CPU
//! instead of crashing.
//!
//! The page ships as two builds of this crate. The one every visitor loads has no WebGPU code
//! (burn's wgpu backend and its kernel compiler are three quarters of the bytes); when the
//! settings want WebGPU it loads the other build, made with `--features wgpu`, which then runs
//! the page ([`hand_over`], `lazy.rs`). That build's [`webgpu`] module sets up the device,
//! probes and watches it.

use std::sync::{Arc, OnceLock};

use burn::tensor::Device;

use crate::config::RunConfig;
use crate::probe::{Place, Split, Timings, is_wide};
use crate::settings::{BackendChoice, PageOptions};

#[cfg(not(feature = "wgpu"))]
mod lazy;
#[cfg(feature = "wgpu")]
mod webgpu;

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

/// Watches a WebGPU device: set once when the device is lost or reports an error nobody
/// caught. wgpu's default handler for such errors panics; this one records the reason, and the
/// page's loop moves the runs to the CPU when it sees it.
#[derive(Clone, Debug, Default)]
pub struct GpuWatch {
    reason: Arc<OnceLock<String>>,
}

impl GpuWatch {
    /// Records why the device can no longer be trusted (the first reason stays).
    pub fn set(&self, reason: String) {
        let _ = self.reason.set(reason);
    }

    /// Why the device can no longer be trusted, once it cannot.
    pub fn lost(&self) -> Option<&str> {
        self.reason.get().map(String::as_str)
    }
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
    /// Whether the choice was made for the network's width (`auto` on a narrow network, or a
    /// probe), so that a network grown past [`crate::probe::decide_again_at`] decides again.
    pub for_width: bool,
}

impl Choice {
    pub(crate) fn plain(device: Device, backend: Backend, note: Option<String>) -> Self {
        Choice {
            device,
            backend,
            note,
            probe: None,
            watch: None,
            for_width: false,
        }
    }
}

/// Whether deciding again for a grown network could move the page: in the WebGPU build a probe
/// decides; the build without WebGPU code (under `auto`) asks the browser first, since without
/// a hardware adapter the answer is the CPU again and the reload would be for nothing.
pub async fn may_choose_otherwise() -> bool {
    #[cfg(feature = "wgpu")]
    {
        true
    }
    #[cfg(not(feature = "wgpu"))]
    {
        lazy::has_hardware_adapter().await
    }
}

/// The backend note of a page that decided again for a network grown to `widest` units a
/// layer, the runs carried on from `epoch`: what happened, then why the backend is what it is.
pub fn decided_again_note(widest: usize, epoch: usize, note: Option<&str>) -> String {
    let why = note.unwrap_or("It runs on WebGPU.");
    format!(
        "The network grew to {widest} units a layer, so the page chose where it runs again; the runs carry on from epoch {epoch} with a fresh optimiser. {why}"
    )
}

/// Why the page computes on the CPU under `auto` with a narrow network.
pub const NARROW_NOTE: &str = "Running on the CPU (WebAssembly): networks below 64 units a layer train and grow faster there than on WebGPU, even on an NVIDIA H200, so the page does not load its WebGPU code. Add backend=webgpu to the link to use WebGPU anyway, or backend=probe to time both.";

/// Whether the page's settings want the WebGPU code: `backend=webgpu` or `probe`, or `auto`
/// with a wide network, in growth mode (continual learning runs on the CPU).
pub fn wants_webgpu(options: &PageOptions) -> bool {
    !options.continual
        && match options.backend {
            BackendChoice::Cpu => false,
            BackendChoice::WebGpu | BackendChoice::Probe => true,
            BackendChoice::Auto => is_wide(&options.config),
        }
}

/// What [`hand_over`] did.
pub enum Handover {
    /// The WebGPU build has been loaded and runs the page now: this one stops.
    Elsewhere,
    /// This build runs the page; `Some(note)`: on the CPU, for the reason the note gives.
    Here(Option<String>),
}

/// In the build without WebGPU code, loads the WebGPU build when the settings want it
/// ([`wants_webgpu`]) and the browser has WebGPU. The WebGPU build itself never hands over.
pub async fn hand_over(options: &PageOptions) -> Handover {
    #[cfg(feature = "wgpu")]
    {
        let _ = options;
        Handover::Here(None)
    }
    #[cfg(not(feature = "wgpu"))]
    {
        lazy::hand_over(options).await
    }
}

/// Whether an adapter's name (Chromium's description, or its vendor and architecture) says it
/// renders in software.
pub fn names_software(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["swiftshader", "llvmpipe", "lavapipe", "software"]
        .iter()
        .any(|s| name.contains(s))
}

/// The note for `auto` on a software adapter named `label`.
pub fn software_note(label: &str) -> String {
    format!(
        "This browser's WebGPU adapter renders in software ({label}), which is far slower than the CPU backend, so the networks train on the CPU. Add backend=webgpu to the link to use it anyway, or backend=probe to time both."
    )
}

/// The note for a browser without WebGPU.
pub const NO_WEBGPU_NOTE: &str = "WebGPU is not available in this browser, so the networks train on the CPU backend (WebAssembly). Everything works; large networks are slower.";

/// The backend the page asked for, and a note when it is the CPU or a software adapter.
/// `cpu_because`: the reason [`hand_over`] gave for staying on the CPU, if any.
///
/// `auto` with a network under [`crate::probe::WEBGPU_WIDTH`] units a layer takes the CPU without
/// asking for an adapter. Otherwise, on a hardware adapter, it runs a short probe of the page's
/// own network on both backends and takes the faster; on a software adapter (SwiftShader) it
/// takes the CPU, many times faster there (the first epoch took 44 s). `webgpu` takes any
/// adapter; `probe` probes any adapter.
pub async fn init(
    choice: BackendChoice,
    config: &RunConfig,
    cpu_because: Option<String>,
) -> Choice {
    let cpu = |note: &str| Choice::plain(Device::flex(), Backend::Cpu, Some(note.to_string()));
    match (choice, cpu_because) {
        (BackendChoice::Cpu, _) => {
            cpu("Running on the CPU backend, as the link asks (backend=cpu).")
        }
        (_, Some(note)) => cpu(&note),
        (BackendChoice::Auto, None) if !is_wide(config) => Choice {
            for_width: true,
            ..cpu(NARROW_NOTE)
        },
        (_, None) => on_webgpu(choice, config).await,
    }
}

#[cfg(feature = "wgpu")]
async fn on_webgpu(choice: BackendChoice, config: &RunConfig) -> Choice {
    webgpu::init(choice, config).await
}

/// Reached only where the WebGPU build could not take over without a reason given.
#[cfg(not(feature = "wgpu"))]
async fn on_webgpu(_: BackendChoice, _: &RunConfig) -> Choice {
    Choice::plain(
        Device::flex(),
        Backend::Cpu,
        Some(NO_WEBGPU_NOTE.to_string()),
    )
}
