//! The cost of one growth phase against the network's width, the analogue of Figure 4(b)
//! (spec §9): `firefly growth-time` times Firefly, exact splitting and random splitting on
//! networks of growing width and finds where Firefly's phase becomes the cheaper.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use web_time::Instant;

use crate::config::RunConfig;
use crate::data::DatasetKind;
use crate::error::EngineError;
use crate::grow::Method;
use crate::train::{Session, TrainPath};

/// The CSV header of `firefly growth-time` rows ([`GrowthTimeRow`]).
pub const GROWTH_TIME_HEADER: [&str; 12] = [
    "width",
    "layers",
    "method",
    "ms",
    "propose_ms",
    "step1_ms",
    "step2_ms",
    "surgery_ms",
    "units_before",
    "units_after",
    "train_points",
    "repeats",
];

/// The cost of one growth phase against width (Figure 4(b)'s analogue, spec §9).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrowthTimeConfig {
    /// Widths of every hidden layer.
    pub widths: Vec<usize>,
    /// Methods to time.
    pub methods: Vec<Method>,
    /// Hidden layers, each `width` wide.
    pub layers: usize,
    /// Points generated (half for training).
    pub points: usize,
    /// Growth phases timed per (width, method); the median is reported.
    pub repeats: usize,
    /// Dataset.
    pub dataset: DatasetKind,
    /// Full-batch Adam steps before the timed phase.
    pub train_steps: usize,
    /// Seed of data and network.
    pub seed: u64,
    /// How the sessions train before the timed phase: the fused host step on the CPU (the
    /// default), or burn tensors on the device (`firefly growth-time --backend wgpu`). The phase
    /// itself runs as tensors on the device either way.
    #[serde(default)]
    pub path: TrainPath,
}

impl Default for GrowthTimeConfig {
    fn default() -> Self {
        GrowthTimeConfig {
            widths: vec![8, 16, 32, 64, 128, 256, 512],
            methods: vec![Method::Firefly, Method::ExactSplit, Method::RandomSplit],
            layers: 1,
            points: 2000,
            repeats: 3,
            dataset: DatasetKind::Circle,
            train_steps: 20,
            seed: 0,
            path: TrainPath::Fused,
        }
    }
}

impl GrowthTimeConfig {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |m: &str| Err(EngineError::InvalidConfig(m.into()));
        if self.widths.is_empty() || self.methods.is_empty() {
            return bad("give at least one width and one method");
        }
        if self.widths.iter().any(|&w| w == 0 || w > MAX_WIDTH) {
            return bad("every width must be 1 to 1024");
        }
        if self.widths.iter().any(|&w| w * self.layers > 4000) {
            return bad("width × layers must be at most 4000 units");
        }
        if self.methods.contains(&Method::None) {
            return bad("method none does not grow");
        }
        if !(1..=8).contains(&self.layers) {
            return bad("layers must be 1 to 8");
        }
        if !(4..=100_000).contains(&self.points) {
            return bad("points must be 4 to 100000");
        }
        if !(1..=100).contains(&self.repeats) {
            return bad("repeats must be 1 to 100");
        }
        if self.dataset.task() == crate::data::Task::Regression {
            return bad("growth-time uses a classification dataset");
        }
        Ok(())
    }
}

/// One (width, method): the median wall time of a growth phase and that phase's parts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrowthTimeRow {
    /// Width of every hidden layer.
    pub width: usize,
    /// Hidden layers.
    pub layers: usize,
    /// Method name.
    pub method: String,
    /// Wall time of the phase (median over repeats), from the call to its end, the evaluation of
    /// the grown network included.
    pub ms: f64,
    /// Reading the network and building candidates (of the median phase).
    pub propose_ms: f64,
    /// Step 1, or the eigen-analysis for exact splitting, or drawing the random plan.
    pub step1_ms: f64,
    /// Step 2 and selection.
    pub step2_ms: f64,
    /// Applying the plan.
    pub surgery_ms: f64,
    /// Hidden units before the phase.
    pub units_before: usize,
    /// Hidden units after the phase.
    pub units_after: usize,
    /// Training points.
    pub train_points: usize,
    /// Phases timed.
    pub repeats: usize,
}

/// Times one growth phase of `method` on a fresh network with `config.layers` hidden layers of
/// `width` tanh units, trained `config.train_steps` full-batch steps first; repeated
/// `config.repeats` times on the same network (same seed), the median kept. A session starts at
/// most 256 units wide; wider layers are made from a 256-wide network by splitting its units
/// (θ ± 0.1·u, u random: the function is kept) before training.
pub async fn time_growth(
    width: usize,
    method: Method,
    config: &GrowthTimeConfig,
    device: &Device,
) -> Result<GrowthTimeRow, EngineError> {
    let mut phases = Vec::with_capacity(config.repeats);
    let mut train_points = 0;
    for _ in 0..config.repeats {
        let mut run = RunConfig::figure3(config.dataset, method, 10, config.seed, 1);
        run.data.n_points = config.points;
        run.train.optimizer = crate::optim::OptimizerKind::Adam;
        run.train.learning_rate = 0.01;
        run.model.hidden = vec![width.min(MAX_SESSION_WIDTH); config.layers];
        run.train.epochs_per_growth = usize::MAX;
        run.train.max_units = 4096;
        let data = crate::data::Dataset::generate(&run.data)?;
        let mut session = Session::with_path(run, data, device.clone(), config.path)?;
        if width > MAX_SESSION_WIDTH {
            let wide = widen(&session.network().await?, width, config.seed)?;
            session.restore(wide, crate::train::History::default())?;
        }
        train_points = session.data().train.len();
        session.run_epochs(config.train_steps).await?;
        let t = Instant::now();
        let event = session.grow_now().await?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let event = event.ok_or_else(|| EngineError::Internal("no growth phase ran".into()))?;
        phases.push((ms, event));
    }
    phases.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (ms, event) = &phases[phases.len() / 2];
    Ok(GrowthTimeRow {
        width,
        layers: config.layers,
        method: method.name().to_string(),
        ms: *ms,
        propose_ms: event.timings.propose_ms,
        step1_ms: event.timings.step1_ms,
        step2_ms: event.timings.step2_ms,
        surgery_ms: event.timings.surgery_ms,
        units_before: event.units_before,
        units_after: event.units_after,
        train_points,
        repeats: config.repeats,
    })
}

/// The widest hidden layer a session starts with ([`crate::model::ModelConfig`]'s limit).
const MAX_SESSION_WIDTH: usize = 256;

/// The widest hidden layer timed: a 256-wide session split twice over (the widths where a GPU
/// wins, README "On a GPU server").
const MAX_WIDTH: usize = 4 * MAX_SESSION_WIDTH;

/// `mlp` with every dense hidden layer split up to `width` units, in rounds: each round splits
/// a layer's first units (at most all of them) along random directions with ε = 0.1 (the
/// function stays the same: each pair of offspring has half the parent's out-weights).
fn widen(
    mlp: &crate::model::Mlp,
    width: usize,
    seed: u64,
) -> Result<crate::model::Mlp, EngineError> {
    use rand::{RngExt, SeedableRng};
    use rand_distr::StandardNormal;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut wide = mlp.clone();
    while wide
        .blocks
        .iter()
        .any(|b| b.kind == crate::model::BlockKind::Dense && b.n_units() < width)
    {
        let mut plan = crate::grow::GrowthPlan::default();
        for (b, block) in wide.blocks.iter().enumerate() {
            if block.kind != crate::model::BlockKind::Dense {
                continue;
            }
            for unit in 0..width.saturating_sub(block.n_units()).min(block.n_units()) {
                let v: Vec<f32> = (0..=block.d_in())
                    .map(|_| rng.sample::<f32, _>(StandardNormal))
                    .collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                plan.splits.push(crate::grow::SplitChoice {
                    block: b,
                    unit,
                    eps: 0.1,
                    delta: v.into_iter().map(|x| x / norm).collect(),
                    score: 0.0,
                    keep_parent: false,
                });
            }
        }
        if plan.splits.is_empty() {
            break;
        }
        wide = crate::grow::apply_plan(&wide, &plan)?.0;
    }
    if wide.blocks.iter().any(|b| b.n_units() != width) {
        return Err(EngineError::InvalidConfig(format!(
            "width {width}: the widened network has other widths"
        )));
    }
    Ok(wide)
}

/// Writes growth-time rows as CSV with [`GROWTH_TIME_HEADER`].
pub fn write_growth_time_csv<W: std::io::Write>(
    rows: &[GrowthTimeRow],
    writer: W,
) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(writer);
    for row in rows {
        w.serialize(row)?;
    }
    w.flush()?;
    Ok(())
}

/// Where `cheaper` becomes cheaper than `than`: the smallest width from which `cheaper`'s phase
/// takes less time at that width and at every larger width timed for both; `None` if it is not
/// cheaper at the largest such width (or neither was timed).
pub fn crossover(rows: &[GrowthTimeRow], cheaper: Method, than: Method) -> Option<usize> {
    let ms = |method: Method, width: usize| {
        rows.iter()
            .find(|r| r.method == method.name() && r.width == width)
            .map(|r| r.ms)
    };
    let mut widths: Vec<usize> = rows
        .iter()
        .map(|r| r.width)
        .filter(|&w| ms(cheaper, w).is_some() && ms(than, w).is_some())
        .collect();
    widths.sort_unstable();
    widths.dedup();
    let mut from = None;
    for &w in widths.iter().rev() {
        match (ms(cheaper, w), ms(than, w)) {
            (Some(a), Some(b)) if a < b => from = Some(w),
            _ => break,
        }
    }
    from
}
