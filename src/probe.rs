//! The backend probe: how long one mini-batch step and one growth phase of the page's own
//! network take on the CPU and on the GPU, so the page can run each part where it is faster
//! ([`Split`]): everything on the CPU, training on the CPU and growth on the GPU, or everything
//! on the GPU, whichever makes a round (the steps between two growths, then a growth) shortest
//! ([`Timings::choose`]).
//!
//! A GPU pays a fixed cost per kernel launch and per read; a network of a few units does almost
//! no arithmetic, so on most machines the CPU wins — but not for every network on every GPU: on
//! an H200 a Firefly growth phase of a 1,024-wide layer was 24× faster on the GPU while small
//! mini-batch steps stayed 400× faster on the CPU. Measuring the actual workload decides it.

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

/// What the probe measured of a growth phase on one device.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GrowthProbe {
    /// Milliseconds the phase took, or, when it did not finish within the time box, the time
    /// spent (a lower bound).
    pub ms: f64,
    /// Whether the phase finished within the time box.
    pub complete: bool,
}

/// Times one growth phase of `config`'s network (its method and settings, untrained weights) on
/// `device`. The session trains on the CPU's fused step and grows on `device`, as the page does
/// when it grows on the GPU, so the figure includes the network's upload. With `warm_up` a first
/// phase on an identical session compiles the GPU's kernels and is not timed. Each phase stops at
/// `max_ms`; a warm-up that does not finish makes the result that lower bound. `None` when the
/// network cannot grow (no growth method, or already at its unit cap).
pub async fn probe_growth(
    config: &RunConfig,
    device: Device,
    warm_up: bool,
    max_ms: f64,
) -> Result<Option<GrowthProbe>, EngineError> {
    let data = crate::data::Dataset::generate(&config.data)?;
    // Nothing to time when the network cannot grow (no growth method, or at its unit cap).
    if !Session::with_path(
        config.clone(),
        data.clone(),
        Device::flex(),
        TrainPath::Fused,
    )?
    .can_grow()
    {
        return Ok(None);
    }
    let phase = |data| async {
        let mut session =
            Session::with_path(config.clone(), data, device.clone(), TrainPath::Fused)?;
        session.request_growth();
        let start = Instant::now();
        let mut complete = false;
        while start.elapsed().as_secs_f64() * 1e3 <= max_ms {
            session.advance(1).await?;
            if !session.history().growths.is_empty() {
                complete = true;
                break;
            }
        }
        Ok::<_, EngineError>(GrowthProbe {
            ms: start.elapsed().as_secs_f64() * 1e3,
            complete,
        })
    };
    if warm_up {
        let first = phase(data.clone()).await?;
        if !first.complete {
            return Ok(Some(first));
        }
    }
    Ok(Some(phase(data).await?))
}

/// Where a part of the work runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// burn's CPU backend; training on the fused step.
    Cpu,
    /// The GPU (WebGPU in a browser).
    Gpu,
}

/// Where the page trains and where it grows. Training on the GPU keeps the network there, so
/// growth runs there too; training on the CPU may grow on either (the network goes up to the
/// GPU for each growth phase, which the growth probe times).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    /// Where mini-batch steps run.
    pub train: Place,
    /// Where growth phases run.
    pub grow: Place,
}

impl Split {
    /// Everything on the CPU.
    pub const CPU: Split = Split {
        train: Place::Cpu,
        grow: Place::Cpu,
    };
    /// Training on the CPU, growth on the GPU.
    pub const GROW_ON_GPU: Split = Split {
        train: Place::Cpu,
        grow: Place::Gpu,
    };
    /// Everything on the GPU.
    pub const GPU: Split = Split {
        train: Place::Gpu,
        grow: Place::Gpu,
    };

    /// How the sessions train: the fused step when training runs on the CPU.
    pub fn path(self) -> TrainPath {
        match self.train {
            Place::Cpu => TrainPath::Fused,
            Place::Gpu => TrainPath::Tensor,
        }
    }

    /// Whether the sessions' device is the GPU (anything runs there).
    pub fn uses_gpu(self) -> bool {
        self.grow == Place::Gpu
    }
}

/// Every figure a probe of the page's network measured, CPU first.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timings {
    /// A mini-batch step on the CPU (fused) and on the GPU (tensors).
    pub train: (Probe, Probe),
    /// A growth phase on the CPU and on the GPU; `None` when the method does not grow or the
    /// growth probe was skipped.
    pub grow: Option<(GrowthProbe, GrowthProbe)>,
    /// Mini-batch steps between two growth phases.
    pub steps_per_phase: f64,
}

impl Timings {
    /// Milliseconds of one round (the steps between two growths, then a growth) under `split`.
    pub fn round_ms(&self, split: Split) -> f64 {
        let (cpu, gpu) = self.train;
        let step = match split.train {
            Place::Cpu => cpu.ms_per_step,
            Place::Gpu => gpu.ms_per_step,
        };
        let grow = self.grow.map_or(0.0, |(cpu, gpu)| match split.grow {
            Place::Cpu => cpu.ms,
            Place::Gpu => gpu.ms,
        });
        self.steps_per_phase * step + grow
    }

    /// The split with the shortest round; the CPU on a tie (it needs no uploads).
    pub fn choose(&self) -> Split {
        let mut best = Split::CPU;
        for split in [Split::GROW_ON_GPU, Split::GPU] {
            if self.round_ms(split) < self.round_ms(best) {
                best = split;
            }
        }
        best
    }
}

/// The widest hidden layer from which the page's `auto` considers WebGPU: it loads the WebGPU
/// build and times training steps and a growth phase on both backends. On an H200 the CPU
/// trained a 4,2 network 413× faster and grew a 16-wide one 2.7× faster, full-batch training at
/// 64,64 was a tie, and the GPU's Firefly phase won from width 128 (README "Where each part runs,
/// and why"): below this width the H200 did not win, and the probe would cost seconds at page
/// open (and the WebGPU build 1.7 MB) for nothing.
pub const WEBGPU_WIDTH: usize = 64;

/// Whether `config`'s network is wide enough for `auto` to consider WebGPU ([`WEBGPU_WIDTH`]).
pub fn is_wide(config: &RunConfig) -> bool {
    auto_decides_for(config).is_some()
}

/// What the page's `auto` backend decides from: `None` for a network under [`WEBGPU_WIDTH`]
/// units a layer (the CPU, without probing), else its widest layer (the probe's figures are for
/// that network). A restart that changes it leaves the page on a backend chosen for another
/// network, so the page decides again.
pub fn auto_decides_for(config: &RunConfig) -> Option<usize> {
    let widest = config.model.hidden.iter().copied().max().unwrap_or(0);
    (widest >= WEBGPU_WIDTH).then_some(widest)
}

/// The widest layer at which a growing run makes the page decide its backend again, for a
/// backend chosen for a network whose widest layer is `decided_for`: [`WEBGPU_WIDTH`] for a
/// narrow network (which `auto` runs on the CPU without asking), then each time the widest layer
/// doubles, at most 5 times from 64 to 1,024 units. Where the GPU wins moves with the width (on
/// the H200 a Firefly phase: 2.2× at 128, 9.5× at 512, 24× at 1,024), so a choice made for the
/// network the page opened with goes stale as it grows; a doubling is far enough for the
/// figures to move, and few enough that the probe's seconds stay rare.
pub fn decide_again_at(decided_for: usize) -> usize {
    decided_for.saturating_mul(2).max(WEBGPU_WIDTH)
}

/// The settings a probe of a grown network runs on: `config` with `mlp`'s hidden widths (a
/// residual block as a layer of its units). `None` when they are not a network the settings
/// could start with (more layers or a wider one than a starting network may have): then the
/// page keeps its choice.
pub fn grown_config(config: &RunConfig, mlp: &crate::model::Mlp) -> Option<RunConfig> {
    let mut grown = config.clone();
    grown.model.hidden = mlp.blocks.iter().map(|b| b.n_units()).collect();
    grown.model.validate().is_ok().then_some(grown)
}

/// Mini-batch steps between two growth phases of `config` on `n_train` training points.
pub fn steps_per_phase(config: &RunConfig, n_train: usize) -> f64 {
    let batch = match config.train.batch_size {
        0 => n_train.max(1),
        b => b.min(n_train.max(1)),
    };
    (config.train.epochs_per_growth.max(1) * n_train.div_ceil(batch)) as f64
}

/// How the page names a split.
pub fn describe(split: Split) -> &'static str {
    match (split.train, split.grow) {
        (Place::Cpu, Place::Cpu) => "the CPU for everything",
        (Place::Cpu, Place::Gpu) => "the CPU for training and WebGPU for growth",
        (Place::Gpu, _) => "WebGPU for everything",
    }
}

/// The sentence the page shows about the choice, with every figure.
pub fn explain(t: &Timings) -> String {
    let split = t.choose();
    let (cpu, gpu) = t.train;
    let ratio = |a: f64, b: f64| if a >= b { a / b } else { b / a };
    let mut text = format!(
        "A probe of this network chose {}: a training step takes {:.3} ms on the CPU and {:.3} ms on WebGPU ({:.1}× apart)",
        describe(split),
        cpu.ms_per_step,
        gpu.ms_per_step,
        ratio(cpu.ms_per_step, gpu.ms_per_step),
    );
    if let Some((cpu, gpu)) = t.grow {
        let figure = |g: GrowthProbe| {
            if g.complete {
                format!("{:.0} ms", g.ms)
            } else {
                format!("over {:.0} ms", g.ms)
            }
        };
        text.push_str(&format!(
            "; a growth phase takes {} on the CPU and {} on WebGPU. A round of {:.0} steps and one growth takes {:.0} ms on the CPU alone, {:.0} ms training on the CPU and growing on WebGPU, {:.0} ms on WebGPU alone",
            figure(cpu),
            figure(gpu),
            t.steps_per_phase,
            t.round_ms(Split::CPU),
            t.round_ms(Split::GROW_ON_GPU),
            t.round_ms(Split::GPU),
        ));
    }
    text.push_str(". backend=cpu or backend=webgpu in the link overrides it.");
    text
}
