//! Choosing where the maths runs: WebGPU when the browser offers an adapter (unless the link
//! says `backend=cpu`), burn's CPU backend otherwise, with a note the page shows.

use burn::tensor::Device;
use burn::tensor::wgpu::wgpu::DeviceType;

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

    /// Milliseconds per animation frame for training and drawing together (training gets what
    /// drawing leaves). A 60 Hz frame is 16.7 ms; WebGPU waits on the GPU and gets longer frames.
    pub fn frame_budget_ms(self) -> f64 {
        match self {
            Backend::WebGpu => 30.0,
            Backend::Cpu => 13.0,
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

/// The backend the page asked for, and a note when it is the CPU or a software adapter.
///
/// `auto` takes WebGPU only on a hardware adapter: on a software one (SwiftShader) the CPU
/// backend is many times faster (the first epoch took 44 s there). `webgpu` takes any adapter.
pub async fn init(choice: BackendChoice) -> (Device, Backend, Option<String>) {
    if choice == BackendChoice::Cpu {
        return (
            Device::flex(),
            Backend::Cpu,
            Some("Running on the CPU backend, as the link asks (backend=cpu).".into()),
        );
    }
    match Device::wgpu_options().init_with_setup_async().await {
        Ok((device, setup)) => {
            let info = setup.adapter.get_info();
            let label = if info.name.trim().is_empty() {
                "no name given".to_string()
            } else {
                info.name.trim().chars().take(60).collect()
            };
            let software = is_software(info.device_type, &info.name);
            match (software, choice) {
                (false, _) => (device, Backend::WebGpu, None),
                (true, BackendChoice::WebGpu) => (
                    device,
                    Backend::WebGpu,
                    Some(format!(
                        "Running on WebGPU as the link asks (backend=webgpu), on a software adapter ({label}): expect it to be much slower than the CPU backend."
                    )),
                ),
                (true, _) => (
                    Device::flex(),
                    Backend::Cpu,
                    Some(format!(
                        "This browser's WebGPU adapter renders in software ({label}), which is far slower than the CPU backend, so the networks train on the CPU. Add backend=webgpu to the link to use it anyway."
                    )),
                ),
            }
        }
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
