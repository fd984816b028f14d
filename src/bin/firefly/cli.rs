//! The command line's shape (clap), its dispatch to one function per command, and what the
//! commands share: the backend and device, lists and the optimiser from flags.

use std::process::ExitCode;

use anyhow::{Result, bail};
use burn::tensor::Device;
use clap::{Args, Parser, Subcommand};
use firefly_playground::optim::OptimizerKind;
use firefly_playground::train::{GrowOn, TrainPath};

use crate::continual::{ContinualArgs, continual};
use crate::figure3::{Figure3Args, figure3};
use crate::growth_time::{GrowthTimeArgs, growth_time};
use crate::launches::{LaunchesArgs, launches};
use crate::presets::{PresetsArgs, presets};
use crate::run::{RunArgs, run};

#[derive(Parser)]
#[command(
    name = "firefly",
    version,
    about = "Grow small networks with Firefly neural architecture descent"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the Figure 3 protocol: training loss vs units grown, Firefly against baselines.
    Figure3(Figure3Args),
    /// Time one growth phase per method against the network's width (Figure 4(b)).
    GrowthTime(GrowthTimeArgs),
    /// Count the kernel launches of a training epoch and of one growth phase per method on
    /// burn's wgpu backend (cubecl's profiler; needs a build with `--features wgpu`).
    Launches(LaunchesArgs),
    /// Run the page's experiment natively: the growing run, its baseline and Figure 3 live's
    /// seeds, for a link's settings or flags named by its keys, with a log line per growth.
    Run(RunArgs),
    /// Continual learning (Figure 2): tasks one after another, Firefly growth against
    /// fine-tuning, EWC, a network per task and random growth. Trains with the fused CPU step on
    /// either backend; --backend says where growth phases run.
    Continual(ContinualArgs),
    /// Measure the page's presets and opening experiment over seeds: each one's growing run
    /// against its baseline, as the page trains them, and whether its claim holds.
    Presets(PresetsArgs),
}

/// Where the maths runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Backend {
    /// burn's Flex CPU backend; training in the fused host step.
    Flex,
    /// burn's wgpu backend on the machine's GPU (Vulkan, Metal, DX12 or GL); training as
    /// burn tensors on the device. Needs a build with `--features wgpu`.
    Wgpu,
}

impl Backend {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Wgpu => "wgpu",
        }
    }
}

#[derive(Args)]
pub(crate) struct BackendArgs {
    /// Where the maths runs: flex (burn's CPU backend, training in the fused host step) or
    /// wgpu (burn's wgpu backend on the GPU, training as tensors on it; needs `cargo build
    /// --release --features wgpu`).
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub(crate) backend: Backend,
}

/// Where growth phases run when training runs on the GPU (`--backend wgpu`).
#[derive(Args)]
pub(crate) struct GrowOnArgs {
    /// With --backend wgpu, where growth phases run: auto (on the CPU while the widest hidden
    /// layer is under 128 units, where a Firefly phase ran faster on the CPU than on an NVIDIA
    /// H200, else on the GPU), cpu or gpu. Training stays on the GPU either way.
    #[arg(long, value_enum, default_value_t = GrowOnArg::Auto)]
    pub(crate) grow_on: GrowOnArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum GrowOnArg {
    Auto,
    Cpu,
    Gpu,
}

impl GrowOnArgs {
    /// Where growth phases run on `backend`, in words.
    pub(crate) fn describe(&self, backend: Backend) -> &'static str {
        match (backend, self.grow_on) {
            (Backend::Flex, _) | (Backend::Wgpu, GrowOnArg::Cpu) => "growth on the CPU",
            (Backend::Wgpu, GrowOnArg::Gpu) => "growth on the GPU",
            (Backend::Wgpu, GrowOnArg::Auto) => {
                "growth on the CPU under 128 units a layer, on the GPU from 128"
            }
        }
    }

    pub(crate) fn grow_on(&self) -> GrowOn {
        match self.grow_on {
            GrowOnArg::Auto => GrowOn::Auto,
            GrowOnArg::Cpu => GrowOn::Cpu,
            GrowOnArg::Gpu => GrowOn::Device,
        }
    }
}

/// A device and the training path that goes with it.
pub(crate) struct Compute {
    pub(crate) device: Device,
    pub(crate) path: TrainPath,
}

/// The device `--backend` names; for wgpu, the adapter is named on stderr.
pub(crate) fn compute(backend: Backend) -> Result<Compute> {
    match backend {
        Backend::Flex => Ok(Compute {
            device: Device::flex(),
            path: TrainPath::Fused,
        }),
        Backend::Wgpu => wgpu_device().map(|device| Compute {
            device,
            path: TrainPath::Tensor,
        }),
    }
}

/// burn's wgpu device on the best adapter (Vulkan first; `CUBECL_WGPU_DEFAULT_DEVICE` picks
/// another).
#[cfg(feature = "wgpu")]
fn wgpu_device() -> Result<Device> {
    let (device, setup) = Device::wgpu_options().init_with_setup().map_err(|e| {
        anyhow::anyhow!(
            "--backend wgpu: no usable GPU adapter ({e}). wgpu looks for Vulkan, then DX12, \
             then OpenGL (Metal on macOS); install the GPU's Vulkan driver and loader \
             (libvulkan1), or use --backend flex"
        )
    })?;
    let info = setup.adapter.get_info();
    let software = info.device_type == burn::tensor::wgpu::wgpu::DeviceType::Cpu
        || ["llvmpipe", "lavapipe", "swiftshader", "software"]
            .iter()
            .any(|s| info.name.to_ascii_lowercase().contains(s));
    let driver: Vec<&str> = [info.driver.trim(), info.driver_info.trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    eprintln!(
        "wgpu: {} ({:?}, {:?}; driver {}){}",
        info.name.trim(),
        info.backend,
        info.device_type,
        driver.join(" "),
        if software {
            " — a software adapter: the numbers hold, the speed says nothing about a GPU"
        } else {
            ""
        }
    );
    Ok(device)
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_device() -> Result<Device> {
    bail!(
        "--backend wgpu needs the `wgpu` feature, which this build lacks. Build and run with \
         it: cargo run --release --features wgpu --bin firefly -- … --backend wgpu \
         (or cargo build --release --features wgpu, then target/release/firefly)"
    )
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Figure3(args) => figure3(args),
        Command::GrowthTime(args) => growth_time(args),
        Command::Launches(args) => launches(args),
        Command::Run(args) => run(args),
        Command::Continual(args) => continual(args),
        Command::Presets(args) => presets(args),
    };
    crate::launches::await_profile_log();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of the output went away (`firefly run | head`): it has what it wanted.
        Err(e) if reader_gone(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Whether `error` is a write to a pipe whose reader has closed it.
fn reader_gone(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

pub(crate) fn parse_list<T: std::str::FromStr>(values: &[String], what: &str) -> Result<Vec<T>>
where
    T::Err: std::fmt::Display,
{
    values
        .iter()
        .filter(|v| !v.trim().is_empty())
        .map(|v| v.parse::<T>().map_err(|e| anyhow::anyhow!("--{what}: {e}")))
        .collect()
}

/// The optimiser named by `--optimizer` and `--nesterov`.
pub(crate) fn optimizer(name: &str, nesterov: bool) -> Result<OptimizerKind> {
    let kind: OptimizerKind = name.parse()?;
    match (kind, nesterov) {
        (OptimizerKind::Sgd, true) => Ok(OptimizerKind::Nesterov),
        (OptimizerKind::Adam, true) => bail!("--nesterov applies to --optimizer sgd, not adam"),
        (kind, _) => Ok(kind),
    }
}
