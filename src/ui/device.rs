//! Choosing where the maths runs: WebGPU when the browser offers an adapter (unless the link
//! says `backend=cpu`), burn's CPU backend otherwise, with a note the page shows.

use burn::tensor::Device;

use crate::settings::BackendChoice;

/// Which backend computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// burn's wgpu backend on the browser's WebGPU.
    WebGpu,
    /// burn's Flex CPU backend in WebAssembly.
    Cpu,
}

impl Backend {
    /// The `data-backend` value.
    pub fn name(self) -> &'static str {
        match self {
            Backend::WebGpu => "webgpu",
            Backend::Cpu => "cpu",
        }
    }

    /// How the page names it.
    pub fn label(self) -> &'static str {
        match self {
            Backend::WebGpu => "WebGPU",
            Backend::Cpu => "CPU",
        }
    }

    /// Milliseconds of training work per animation frame.
    pub fn frame_budget_ms(self) -> f64 {
        match self {
            Backend::WebGpu => 30.0,
            Backend::Cpu => 14.0,
        }
    }
}

/// The backend the page asked for, and a note when it is the CPU.
pub async fn init(choice: BackendChoice) -> (Device, Backend, Option<String>) {
    if choice == BackendChoice::Cpu {
        return (
            Device::flex(),
            Backend::Cpu,
            Some("Running on the CPU backend, as the link asks (backend=cpu).".into()),
        );
    }
    match Device::wgpu_options().init_async().await {
        Ok(device) => (device, Backend::WebGpu, None),
        Err(e) => {
            web_sys::console::info_1(&format!("webgpu unavailable: {e:?}").into());
            (
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
