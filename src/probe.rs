//! The backend probe: how long one mini-batch step of the page's own network takes on a device
//! and path, so the page can pick the faster of the CPU and WebGPU for the work at hand.
//!
//! A GPU pays a fixed cost per kernel launch and per read; a network of a few units does almost
//! no arithmetic, so on most machines the CPU wins — but not for every network on every GPU.
//! Measuring the actual workload decides it.

use burn::tensor::Device;
use web_time::Instant;

use crate::config::RunConfig;
use crate::error::EngineError;
use crate::grow::Method;
use crate::train::{Session, TrainPath};

/// What the probe measured on one backend.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Probe {
    /// Milliseconds per mini-batch step, a final read included (so a GPU has finished).
    pub ms_per_step: f64,
    /// Steps timed.
    pub steps: usize,
}

/// Times mini-batch steps of `config`'s network (growth off) on `device` along `path`: one
/// warm-up step and a read first (a GPU compiles its kernels then), then up to `max_steps`
/// steps or `max_ms` milliseconds, whichever comes first, and a read.
pub async fn probe(
    config: &RunConfig,
    device: Device,
    path: TrainPath,
    max_steps: usize,
    max_ms: f64,
) -> Result<Probe, EngineError> {
    let mut config = config.clone();
    config.growth.method = Method::None;
    let data = crate::data::Dataset::generate(&config.data)?;
    let mut session = Session::with_path(config, data, device, path)?;
    session.advance(1).await?;
    session.evaluate().await?;
    let start = Instant::now();
    let mut steps = 0;
    while steps < max_steps.max(1) {
        session.advance(1).await?;
        steps += 1;
        if start.elapsed().as_secs_f64() * 1e3 > max_ms {
            break;
        }
    }
    session.evaluate().await?;
    Ok(Probe {
        ms_per_step: start.elapsed().as_secs_f64() * 1e3 / steps as f64,
        steps,
    })
}

/// Whether the GPU wins: its step must be faster than the CPU's.
pub fn gpu_wins(cpu: &Probe, gpu: &Probe) -> bool {
    gpu.ms_per_step < cpu.ms_per_step
}

/// The sentence the page shows about the choice.
pub fn explain(cpu: &Probe, gpu: &Probe) -> String {
    let (winner, loser, ratio) = if gpu_wins(cpu, gpu) {
        ("WebGPU", "the CPU", cpu.ms_per_step / gpu.ms_per_step)
    } else {
        ("the CPU", "WebGPU", gpu.ms_per_step / cpu.ms_per_step)
    };
    format!(
        "A probe of this network chose {winner}: a training step takes {:.3} ms on the CPU and {:.3} ms on WebGPU, so {winner} is {ratio:.1}× faster than {loser} here. backend=cpu or backend=webgpu in the link overrides it.",
        cpu.ms_per_step, gpu.ms_per_step
    )
}
