//! A training session: model, optimiser, data, RNG, schedule and history, advanced a bounded amount
//! of work at a time.
//!
//! [`Session::advance`] does at most `budget` units of work (one mini-batch step, one Step-1 step,
//! one Step-2 path point or one bookkeeping action each; on a large data set a run of rows of one,
//! see `chunk.rs`) and returns, so a browser can call it once per animation frame and a growth
//! phase, or an epoch over 50,000 training points, spreads over several frames. Every read from
//! the device is an `await` on [`crate::readback`]; nothing here reads synchronously. The
//! schedule: train `epochs_per_growth` epochs, grow (if the method grows and the unit cap
//! allows), repeat.
//!
//! Same seed ⇒ same run: the data, the initial weights, the mini-batch order and every growth
//! candidate come from seeded ChaCha generators, so one backend replays a run exactly.

use burn::tensor::{Device, Tensor};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use web_time::Instant;

pub use crate::config::OnGrowth;
use crate::config::{Regularization, RunConfig};
use crate::data::{Dataset, Sample, Task, grid_inputs};
use crate::error::EngineError;
use crate::fused::{self, FusedOptimizer, Workspace};
pub use crate::grow::GrowthStage;
use crate::grow::grower::{self, Grower, GrowthInput};
use crate::grow::{
    CandidateScore, GrowthEvent, GrowthPlan, GrowthTimings, Surgery, apply_plan, apply_plan_with,
};
use crate::model::{
    DeviceMlp, Matrix, Mlp, Targets, forward_hooked, forward_with, inputs_tensor, loss,
    metrics_from_outputs,
};
use crate::optim::Optimizer;
use crate::readback::read_all;

mod chunk;
mod history;

use chunk::FusedEval;
pub use history::{EpochRecord, History, MAX_EPOCH_RECORDS};

/// What the session is doing now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Training with the optimiser.
    Training,
    /// In a growth phase.
    Growing(GrowthStage),
}

/// What the playground draws of a session at one moment (see [`Session::snapshot`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Side of the output grid.
    pub resolution: usize,
    /// Values per grid cell (classes, or 1 for regression).
    pub n_outputs: usize,
    /// `[resolution², n_outputs]` row-major from the top-left cell: class probabilities, or the
    /// regression value.
    pub heat: Vec<f32>,
    /// Side of the unit-thumbnail grid.
    pub thumb_resolution: usize,
    /// Per hidden block, `[thumb_resolution², n_units]` activations.
    pub units: Vec<Vec<f32>>,
    /// The network with its current weights.
    pub network: Mlp,
    /// What its inputs are (the diagram names them).
    pub features: crate::features::Features,
}

/// What one call to [`Session::advance`] did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Advance {
    /// Work units used.
    pub work: usize,
    /// Epochs completed during the call.
    pub epochs: usize,
    /// Growth phases completed during the call.
    pub growths: usize,
}

/// How a session trains between growth phases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrainPath {
    /// The fused fused step ([`crate::fused`]): plain loops, no per-operation cost. The default on
    /// the CPU; growth's Step 1 and 2 still run as tensors on the session's device.
    #[default]
    Fused,
    /// burn tensors and autodiff on the session's device: the reference path, and the one that
    /// keeps training on a GPU.
    Tensor,
}

/// The fused path's state: the network and its optimiser in CPU memory, and the data as plain
/// rows.
struct FusedTrain {
    mlp: Mlp,
    optimizer: FusedOptimizer,
    ws: Workspace,
    train_x: Vec<f32>,
    test_x: Vec<f32>,
    epoch_x: Vec<f32>,
    epoch_y: Vec<f32>,
}

impl FusedTrain {
    fn new(mlp: &Mlp, config: &RunConfig, data: &Dataset) -> Self {
        FusedTrain {
            mlp: mlp.clone(),
            optimizer: FusedOptimizer::new(config.train.optimizer),
            ws: Workspace::default(),
            train_x: config.features.map(&Dataset::inputs(&data.train)),
            test_x: config.features.map(&Dataset::inputs(&data.test)),
            epoch_x: Vec::new(),
            epoch_y: Vec::new(),
        }
    }
}

struct Growth {
    mlp: Mlp,
    loss_before: f32,
    timings: GrowthTimings,
    grower: Box<dyn Grower>,
}

/// What an evaluation spread over units of work ([`FusedEval`]) is for.
enum Measure {
    /// The record of the epoch whose last step is done: the epoch ends with it.
    Epoch,
    /// The loss before the growth phase in progress.
    Before,
    /// The loss after a growth: its event, complete once the loss is in.
    After(Box<GrowthEvent>),
}

/// The most hidden units a restored network may have.
const MAX_RESTORED_UNITS: usize = 4096;

/// A training session. See the module doc.
pub struct Session {
    config: RunConfig,
    device: Device,
    data: Dataset,
    train_inputs: Tensor<2>,
    train_targets: Targets,
    test_inputs: Tensor<2>,
    test_labels: Vec<f32>,
    train_labels: Vec<f32>,
    model: DeviceMlp,
    optimizer: Optimizer,
    rng: ChaCha8Rng,
    history: History,
    epoch: usize,
    epochs_since_growth: usize,
    batch: usize,
    epoch_data: Option<(Tensor<2>, Targets)>,
    growth: Option<Growth>,
    grow_requested: bool,
    learning_rate: f32,
    fused: Option<FusedTrain>,
    steps: u64,
    /// A mini-batch's gradients being gathered over several units of work (a batch of more rows
    /// than one unit covers, [`chunk::step_rows`]); the fused path only.
    gathering: Option<fused::GradientSum>,
    /// An evaluation being computed over several units of work, and what for; the fused path
    /// only.
    evaluating: Option<(FusedEval, Measure)>,
}

impl Session {
    /// A session on data generated from `config.data`.
    pub fn new(config: RunConfig, device: Device) -> Result<Self, EngineError> {
        let data = Dataset::generate(&config.data)?;
        Session::with_dataset(config, data, device)
    }

    /// A session on the given data (user points, CSV).
    pub fn with_dataset(
        config: RunConfig,
        data: Dataset,
        device: Device,
    ) -> Result<Self, EngineError> {
        Session::with_path(config, data, device, TrainPath::Fused)
    }

    /// A session on the given data that trains along `path`.
    pub fn with_path(
        config: RunConfig,
        data: Dataset,
        device: Device,
        path: TrainPath,
    ) -> Result<Self, EngineError> {
        config.validate()?;
        if data.train.is_empty() || data.test.is_empty() {
            return Err(EngineError::InvalidConfig(
                "the data needs at least one training and one test point".into(),
            ));
        }
        let mlp = Mlp::new(&config.model, data.task, config.seed)?;
        let features = config.features;
        let train_inputs = inputs_tensor(
            &features.map(&Dataset::inputs(&data.train)),
            features.len(),
            &device,
        );
        let train_labels = Dataset::labels(&data.train);
        let train_targets = Targets::new(&train_labels, data.task, &device);
        let test_inputs = inputs_tensor(
            &features.map(&Dataset::inputs(&data.test)),
            features.len(),
            &device,
        );
        let test_labels = Dataset::labels(&data.test);
        let model = DeviceMlp::upload(&mlp, &device);
        let optimizer = Optimizer::new(config.train.optimizer, model.params.len());
        let fused = (path == TrainPath::Fused).then(|| FusedTrain::new(&mlp, &config, &data));
        Ok(Session {
            fused,
            steps: 0,
            rng: ChaCha8Rng::seed_from_u64(config.seed ^ 0x5eed_f1e5),
            learning_rate: config.train.learning_rate,
            config,
            device,
            data,
            train_inputs,
            train_targets,
            test_inputs,
            test_labels,
            train_labels,
            model,
            optimizer,
            history: History::default(),
            epoch: 0,
            epochs_since_growth: 0,
            batch: 0,
            epoch_data: None,
            growth: None,
            grow_requested: false,
            gathering: None,
            evaluating: None,
        })
    }

    /// Swaps in new data (points added or removed by hand) and keeps training the same network.
    /// The task must stay the same; otherwise start a new session.
    pub fn replace_data(&mut self, data: Dataset) -> Result<(), EngineError> {
        if data.task != self.data.task {
            return Err(EngineError::InvalidConfig(
                "the new data has a different task; start a new run".into(),
            ));
        }
        if data.train.is_empty() || data.test.is_empty() {
            return Err(EngineError::InvalidConfig(
                "the data needs at least one training and one test point".into(),
            ));
        }
        self.train_inputs = self.inputs_tensor(&Dataset::inputs(&data.train));
        self.train_labels = Dataset::labels(&data.train);
        self.train_targets = Targets::new(&self.train_labels, data.task, &self.device);
        self.test_inputs = self.inputs_tensor(&Dataset::inputs(&data.test));
        self.test_labels = Dataset::labels(&data.test);
        if let Some(fused) = &mut self.fused {
            fused.train_x = self.config.features.map(&Dataset::inputs(&data.train));
            fused.test_x = self.config.features.map(&Dataset::inputs(&data.test));
        }
        self.data = data;
        self.batch = 0;
        self.epoch_data = None;
        // Work spread over units goes on with the new data: a batch's gradients start again,
        // an evaluation starts again from its first row.
        self.gathering = None;
        if let Some((eval, _)) = &mut self.evaluating {
            eval.restart();
        }
        Ok(())
    }

    /// The network's inputs for model coordinates `[n, 2]`, on the session's device.
    fn inputs_tensor(&self, coords: &[f32]) -> Tensor<2> {
        let features = self.config.features;
        inputs_tensor(&features.map(coords), features.len(), &self.device)
    }

    /// The run's configuration.
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// The data.
    pub fn data(&self) -> &Dataset {
        &self.data
    }

    /// How the session trains.
    pub fn path(&self) -> TrainPath {
        if self.fused.is_some() {
            TrainPath::Fused
        } else {
            TrainPath::Tensor
        }
    }

    /// The device the session computes on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Metrics and growth events so far.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Mini-batch steps trained (growth phases not counted).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Epochs trained.
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// The network's architecture and identities (weights may be stale; see [`Session::network`]).
    pub fn shape(&self) -> &Mlp {
        &self.model.shape
    }

    /// Hidden units now.
    pub fn n_units(&self) -> usize {
        self.model.shape.n_units()
    }

    /// The current learning rate.
    pub fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    /// Changes the learning rate without resetting anything.
    pub fn set_learning_rate(&mut self, learning_rate: f32) -> Result<(), EngineError> {
        if !(learning_rate.is_finite() && learning_rate > 0.0 && learning_rate <= 10.0) {
            return Err(EngineError::InvalidConfig(format!(
                "learning rate must be in (0, 10], got {learning_rate}"
            )));
        }
        self.learning_rate = learning_rate;
        Ok(())
    }

    /// Changes the unit cap without resetting anything (growth resumes when it is raised).
    pub fn set_max_units(&mut self, max_units: usize) -> Result<(), EngineError> {
        self.reconfigure(|c| c.train.max_units = max_units)
    }

    /// Changes how many epochs pass between growth phases, without resetting anything.
    pub fn set_epochs_per_growth(&mut self, epochs: usize) -> Result<(), EngineError> {
        self.reconfigure(|c| c.train.epochs_per_growth = epochs)
    }

    /// Applies the training settings a running session takes without a restart — the settings
    /// table's `Effect::Live` rows: learning rate, growth interval and unit cap — from `train`;
    /// nothing else of `train` is read. On error nothing changes. (A test changes every live
    /// row of the table and checks that the sessions follow.)
    pub fn set_live(&mut self, train: &crate::config::TrainConfig) -> Result<(), EngineError> {
        let mut config = self.config.clone();
        config.train.max_units = train.max_units;
        config.train.epochs_per_growth = train.epochs_per_growth;
        config.train.learning_rate = train.learning_rate;
        config.validate()?;
        self.set_learning_rate(train.learning_rate)?;
        self.config = config;
        Ok(())
    }

    /// Applies a change to the schedule if the changed config is valid.
    fn reconfigure(&mut self, change: impl FnOnce(&mut RunConfig)) -> Result<(), EngineError> {
        let mut config = self.config.clone();
        change(&mut config);
        config.validate()?;
        self.config = config;
        Ok(())
    }

    /// What the session is doing.
    pub fn stage(&self) -> Stage {
        match (&self.evaluating, &self.growth) {
            (Some((_, Measure::Before)), _) => Stage::Growing(GrowthStage::Propose),
            (Some((_, Measure::After(_))), _) => Stage::Growing(GrowthStage::Materialise),
            (_, None) => Stage::Training,
            (_, Some(g)) => Stage::Growing(g.grower.stage()),
        }
    }

    /// The candidates of a growth phase in progress (empty when none, or for a method that
    /// weighs none).
    pub fn pending_candidates(&self) -> Vec<crate::grow::PendingCandidate> {
        self.growth
            .as_ref()
            .map_or_else(Vec::new, |g| g.grower.pending())
    }

    /// Whether the schedule still allows growth (method grows, unit cap not reached).
    pub fn can_grow(&self) -> bool {
        self.config.growth.method.grows() && self.n_units() < self.config.train.max_units
    }

    /// Whether a growth phase was asked for and has not started yet.
    pub fn growth_requested(&self) -> bool {
        self.grow_requested
    }

    /// Asks for a growth phase at the next opportunity, whatever the schedule says.
    pub fn request_growth(&mut self) {
        if self.can_grow() {
            self.grow_requested = true;
        }
    }

    /// Puts a saved network and its history in place (a run imported from its export), so the
    /// session shows that run again and can train on from it. The optimiser starts fresh and the
    /// batch order from the session's seed: training on after an import is a new continuation,
    /// not the original one. On error the session is unchanged.
    pub fn restore(&mut self, mlp: Mlp, history: History) -> Result<(), EngineError> {
        let bad = |what: String| Err(EngineError::InvalidConfig(what));
        mlp.check_shapes().map_err(|e| {
            EngineError::InvalidConfig(format!("the network does not fit together: {e}"))
        })?;
        if mlp.task != self.data.task
            || mlp.n_inputs != self.config.features.len()
            || mlp.out_bias.len() != crate::model::n_outputs(mlp.task)
        {
            return bad("the network was trained on a different task".into());
        }
        if mlp.activation != self.config.model.activation {
            return bad(format!(
                "the network uses {}, the settings {}",
                mlp.activation.name(),
                self.config.model.activation.name()
            ));
        }
        if mlp.n_units() > MAX_RESTORED_UNITS {
            return bad(format!("the network has {} hidden units", mlp.n_units()));
        }
        let matrices = mlp.param_matrices();
        if matrices
            .iter()
            .any(|m| m.rows.checked_mul(m.cols) != Some(m.data.len()))
        {
            return bad("a weight matrix has the wrong number of values".into());
        }
        if matrices
            .iter()
            .any(|m| m.data.iter().any(|x| !x.is_finite()))
        {
            return bad("the network has a weight that is not a finite number".into());
        }
        let mut ids = mlp.unit_ids();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1])
            || ids.last().is_some_and(|&id| id >= mlp.next_unit_id)
        {
            return bad("the network's unit identities repeat".into());
        }
        let epoch = history.epochs.last().map_or(0, |r| r.epoch);
        if history.epochs.windows(2).any(|w| w[1].epoch <= w[0].epoch)
            || history.growths.iter().any(|g| g.epoch > epoch)
        {
            return bad("the history's epochs are out of order".into());
        }
        if history
            .epochs
            .last()
            .is_some_and(|r| r.units != mlp.n_units())
        {
            return bad(
                "the history ends with a different number of units than the network has".into(),
            );
        }
        self.model = DeviceMlp::upload(&mlp, &self.device);
        self.optimizer = Optimizer::new(self.config.train.optimizer, self.model.params.len());
        if self.fused.is_some() {
            self.fused = Some(FusedTrain::new(&mlp, &self.config, &self.data));
        }
        self.epochs_since_growth = epoch - history.growths.last().map_or(0, |g| g.epoch);
        self.epoch = epoch;
        self.history = history;
        self.batch = 0;
        self.epoch_data = None;
        self.growth = None;
        self.grow_requested = false;
        self.gathering = None;
        self.evaluating = None;
        Ok(())
    }

    /// The current network with its weights (one read).
    pub async fn network(&self) -> Result<Mlp, EngineError> {
        if let Some(fused) = &self.fused {
            return Ok(fused.mlp.clone());
        }
        self.model.download().await
    }

    /// The network's outputs at row-major model coordinates `[n, 2]` (plane / 6, as
    /// [`Dataset::inputs`]; the run's input features are computed from them; one read).
    pub async fn predict(&self, coords: &[f32]) -> Result<Vec<f32>, EngineError> {
        let inputs = self.config.features.map(coords);
        if let Some(fused) = &self.fused {
            return Ok(fused::forward(
                &fused.mlp,
                &inputs,
                &mut Workspace::default(),
            ));
        }
        let x = self.inputs_tensor(coords);
        let out = forward_with(&self.model.shape, &self.model.params, x);
        let mut read = read_all(vec![out]).await?;
        read.pop()
            .ok_or_else(|| EngineError::Internal("empty read".into()))
    }

    /// What the playground draws, in one batched read: the network with its weights, the output
    /// over a `resolution`² grid of the plane (class probabilities, or the regression value) and
    /// every hidden unit's activation over a coarser `thumb_resolution`² grid.
    pub async fn snapshot(
        &self,
        resolution: usize,
        thumb_resolution: usize,
    ) -> Result<Snapshot, EngineError> {
        if let Some(fused) = &self.fused {
            let mut ws = Workspace::default();
            let features = self.config.features;
            let grid = features.map(&grid_inputs(resolution));
            let out = fused::forward_for_drawing(&fused.mlp, &grid, &mut ws);
            let thumbs = features.map(&grid_inputs(thumb_resolution));
            let (_, units) = fused::forward_with_activations(&fused.mlp, &thumbs, &mut ws);
            return Ok(Snapshot {
                resolution,
                n_outputs: crate::model::n_outputs(self.data.task),
                heat: fused::output_values(&out, self.data.task),
                thumb_resolution,
                units,
                network: fused.mlp.clone(),
                features: self.config.features,
            });
        }
        let shape = &self.model.shape;
        let grid = self.inputs_tensor(&grid_inputs(resolution));
        let out = forward_with(shape, &self.model.params, grid);
        let heat = match self.data.task {
            Task::Classification { .. } => burn::tensor::activation::softmax(out, 1),
            Task::Regression => out,
        };
        let thumbs = self.inputs_tensor(&grid_inputs(thumb_resolution));
        let mut captured = Vec::new();
        forward_hooked(shape, &self.model.params, thumbs, &mut |_, _, _, h| {
            captured.push(h.clone());
            h
        });
        let n_params = self.model.params.len();
        let mut reads = self.model.params.clone();
        reads.push(heat);
        reads.extend(captured);
        let mut values = read_all(reads).await?;
        let units = values.split_off(n_params + 1);
        let heat = values.pop().unwrap_or_default();
        let mut network = shape.clone();
        network.set_param_values(&values)?;
        Ok(Snapshot {
            resolution,
            n_outputs: crate::model::n_outputs(self.data.task),
            heat,
            thumb_resolution,
            units,
            network,
            features: self.config.features,
        })
    }

    /// Evaluates train and test metrics now (one batched read).
    pub async fn evaluate(&self) -> Result<EpochRecord, EngineError> {
        let task = self.data.task;
        if let Some(fused) = &self.fused {
            let mut ws = Workspace::default();
            let train = fused::forward(&fused.mlp, &fused.train_x, &mut ws);
            let test = fused::forward(&fused.mlp, &fused.test_x, &mut ws);
            let (train_loss, train_accuracy) =
                metrics_from_outputs(&train, &self.train_labels, task);
            let (test_loss, test_accuracy) = metrics_from_outputs(&test, &self.test_labels, task);
            return Ok(EpochRecord {
                epoch: self.epoch,
                train_loss,
                test_loss,
                train_accuracy,
                test_accuracy,
                units: fused.mlp.n_units(),
                params: fused.mlp.n_params(),
            });
        }
        let train = forward_with(
            &self.model.shape,
            &self.model.params,
            self.train_inputs.clone(),
        );
        let test = forward_with(
            &self.model.shape,
            &self.model.params,
            self.test_inputs.clone(),
        );
        let read = read_all(vec![train, test]).await?;
        let (train_loss, train_accuracy) = metrics_from_outputs(&read[0], &self.train_labels, task);
        let (test_loss, test_accuracy) = metrics_from_outputs(&read[1], &self.test_labels, task);
        Ok(EpochRecord {
            epoch: self.epoch,
            train_loss,
            test_loss,
            train_accuracy,
            test_accuracy,
            units: self.model.shape.n_units(),
            params: self.model.shape.n_params(),
        })
    }

    /// Does at most `budget` units of work and returns what was done.
    pub async fn advance(&mut self, budget: usize) -> Result<Advance, EngineError> {
        let mut done = Advance::default();
        while done.work < budget.max(1) {
            if self.evaluating.is_some() {
                self.evaluate_unit(&mut done)?;
                continue;
            }
            if self.growth.is_some() {
                if self
                    .growth_work(budget - done.work.min(budget), &mut done)
                    .await?
                {
                    done.growths += 1;
                }
                continue;
            }
            // A growth waits for the gradients of a batch being gathered (they belong to the
            // network as it is).
            let due = self.epochs_since_growth >= self.config.train.epochs_per_growth
                && self.batch == 0
                && self.growth_allowed();
            if (due || self.grow_requested) && self.can_grow() && self.gathering.is_none() {
                self.grow_requested = false;
                self.start_growth().await?;
                done.work += 1;
                continue;
            }
            // A request the network cannot take (at its cap) goes; one that waits for a batch
            // being gathered stays.
            if self.gathering.is_none() {
                self.grow_requested = false;
            }
            if self.train_step().await? {
                done.epochs += 1;
            }
            done.work += 1;
        }
        Ok(done)
    }

    fn growth_allowed(&self) -> bool {
        let max = self.config.train.max_growths;
        max == 0 || self.history.growths.len() < max
    }

    /// Trains until `n` more epochs are complete, growing on schedule in between.
    pub async fn run_epochs(&mut self, n: usize) -> Result<(), EngineError> {
        let target = self.epoch + n;
        while self.epoch < target {
            // One unit at a time, so the loop stops exactly at the epoch boundary.
            self.advance(1).await?;
        }
        Ok(())
    }

    /// Runs one complete growth phase now (finishing one in progress) and returns its event.
    pub async fn grow_now(&mut self) -> Result<Option<GrowthEvent>, EngineError> {
        if self.growth.is_none() {
            if !self.can_grow() {
                return Ok(None);
            }
            // Finish what is spread over units first: the batch being gathered and its
            // epoch's record.
            while self.gathering.is_some() || matches!(self.evaluating, Some((_, Measure::Epoch))) {
                self.advance(1).await?;
            }
            if self.growth.is_none() {
                self.start_growth().await?;
            }
        }
        let mut done = Advance::default();
        while self.growth.is_some() || self.evaluating.is_some() {
            if self.evaluating.is_some() {
                self.evaluate_unit(&mut done)?;
            } else {
                self.growth_work(usize::MAX, &mut done).await?;
            }
        }
        Ok(self.history.growths.last().cloned())
    }

    /// One mini-batch step; returns whether it completed an epoch.
    async fn train_step(&mut self) -> Result<bool, EngineError> {
        let n = self.data.train.len();
        let batch_size = match self.config.train.batch_size {
            0 => n,
            b => b.min(n),
        };
        let d = self.config.features.len();
        if let Some(fused) = &mut self.fused {
            if self.batch == 0 && batch_size < n && self.gathering.is_none() {
                let mut order: Vec<usize> = (0..n).collect();
                order.shuffle(&mut self.rng);
                fused.epoch_x.clear();
                fused.epoch_y.clear();
                for &i in &order {
                    fused
                        .epoch_x
                        .extend_from_slice(&fused.train_x[d * i..d * (i + 1)]);
                    fused.epoch_y.push(self.train_labels[i]);
                }
            }
            let start = self.batch * batch_size;
            let len = batch_size.min(n - start);
            let (x, y) = if batch_size < n {
                (
                    &fused.epoch_x[d * start..d * (start + len)],
                    &fused.epoch_y[start..start + len],
                )
            } else {
                (&fused.train_x[..], &self.train_labels[..])
            };
            let penalty = (
                self.config.train.regularization,
                self.config.train.regularization_rate,
            );
            let rows = chunk::step_rows(&fused.mlp);
            if len <= rows && self.gathering.is_none() {
                fused::train_step_regularized(
                    &mut fused.mlp,
                    &mut fused.optimizer,
                    self.learning_rate,
                    penalty,
                    x,
                    y,
                    &mut fused.ws,
                );
                return self.end_step(start + len, n).await;
            }
            // A batch larger than one unit: its gradients are gathered a run of rows per unit
            // (the same sums in the same order), then one update.
            let sum = self
                .gathering
                .get_or_insert_with(|| fused::GradientSum::new(len));
            let (from, to) = (sum.rows(), (sum.rows() + rows).min(len));
            sum.add(
                &fused.mlp,
                &x[d * from..d * to],
                &y[from..to],
                &mut fused.ws,
            );
            if !sum.complete() {
                return Ok(false);
            }
            self.gathering = None;
            fused::update(
                &mut fused.mlp,
                &mut fused.optimizer,
                self.learning_rate,
                penalty,
                &mut fused.ws,
            );
            return self.end_step(start + len, n).await;
        }
        if self.batch == 0 && batch_size < n {
            let mut order: Vec<usize> = (0..n).collect();
            order.shuffle(&mut self.rng);
            let shuffled: Vec<Sample> = order.iter().map(|&i| self.data.train[i]).collect();
            self.epoch_data = Some((
                self.inputs_tensor(&Dataset::inputs(&shuffled)),
                Targets::new(&Dataset::labels(&shuffled), self.data.task, &self.device),
            ));
        }
        let start = self.batch * batch_size;
        let len = batch_size.min(n - start);
        let (x, t) = match (&self.epoch_data, batch_size < n) {
            (Some((x, t)), true) => (
                x.clone().narrow(0, start, len),
                Targets {
                    tensor: t.tensor.clone().narrow(0, start, len),
                    task: t.task,
                },
            ),
            _ => (self.train_inputs.clone(), self.train_targets.clone()),
        };
        let leaves: Vec<Tensor<2>> = self
            .model
            .params
            .iter()
            .map(|p| p.clone().autodiff().require_grad())
            .collect();
        let grads = loss(forward_with(&self.model.shape, &leaves, x), &t).backward();
        let mut g: Vec<Option<Tensor<2>>> = leaves.iter().map(|l| l.grad(&grads)).collect();
        let (penalty, rate) = (
            self.config.train.regularization,
            self.config.train.regularization_rate,
        );
        if penalty != Regularization::None && rate != 0.0 {
            // The penalty's gradient on the weights, as `fused::regularize` adds it.
            let mask = fused::weight_mask(&self.model.shape);
            for ((g, p), is_weight) in g.iter_mut().zip(&self.model.params).zip(mask) {
                if !is_weight {
                    continue;
                }
                if let Some(grad) = g.take() {
                    let extra = match penalty {
                        Regularization::L1 => p.clone().sign().mul_scalar(rate),
                        _ => p.clone().mul_scalar(rate),
                    };
                    *g = Some(grad + extra);
                }
            }
        }
        self.model.params = self
            .optimizer
            .step(self.learning_rate, &self.model.params, g);
        self.end_step(start + len, n).await
    }

    /// Bookkeeping after a mini-batch that ended at `end` of `n` samples.
    async fn end_step(&mut self, end: usize, n: usize) -> Result<bool, EngineError> {
        self.batch += 1;
        self.steps += 1;
        if end < n {
            return Ok(false);
        }
        self.batch = 0;
        let every = self.config.train.eval_every.max(1);
        let recorded = (self.epoch + 1).is_multiple_of(every)
            || self.epochs_since_growth + 1 >= self.config.train.epochs_per_growth;
        if recorded
            && let Some(fused) = &self.fused
            && !FusedEval::fits_one_unit(fused, true)
        {
            // A large data set: the epoch ends once its record is evaluated, over units.
            self.evaluating = Some((FusedEval::new(true), Measure::Epoch));
            return Ok(false);
        }
        self.epoch += 1;
        self.epochs_since_growth += 1;
        if recorded {
            let record = self.evaluate().await?;
            self.record(record)?;
        }
        Ok(true)
    }

    /// Keeps an epoch's record, or stops on a loss that is not finite.
    fn record(&mut self, record: EpochRecord) -> Result<(), EngineError> {
        if !record.train_loss.is_finite() {
            return Err(EngineError::Diverged(record.train_loss));
        }
        self.history.record(record);
        Ok(())
    }

    /// One unit of the evaluation in progress ([`Session::evaluating`]); once it is done, what
    /// it was for: the epoch ends with its record, the growth phase gets its loss before, or the
    /// growth its loss after.
    fn evaluate_unit(&mut self, done: &mut Advance) -> Result<(), EngineError> {
        let (Some(fused), Some((eval, _))) = (&mut self.fused, &mut self.evaluating) else {
            self.evaluating = None;
            return Ok(());
        };
        let t = Instant::now();
        done.work += 1;
        if !eval.step(fused) {
            self.time_growth(t);
            return Ok(());
        }
        let Some((eval, measure)) = self.evaluating.take() else {
            return Ok(());
        };
        let task = self.data.task;
        match measure {
            Measure::Epoch => {
                self.epoch += 1;
                self.epochs_since_growth += 1;
                let labels = (&self.train_labels[..], &self.test_labels[..]);
                let record = eval.record(fused, labels, task, self.epoch);
                self.record(record)?;
                done.epochs += 1;
            }
            Measure::Before => {
                let loss = eval.train_loss(fused, &self.train_labels, task);
                if let Some(growth) = &mut self.growth {
                    growth.loss_before = loss;
                }
                self.time_growth(t);
            }
            Measure::After(mut event) => {
                event.loss_after = eval.train_loss(fused, &self.train_labels, task);
                self.finish_growth(*event);
                done.growths += 1;
            }
        }
        Ok(())
    }

    /// Counts the time since `t` towards the proposal of the growth phase whose loss before is
    /// being evaluated (as [`Session::start_growth`] counts it when done at once).
    fn time_growth(&mut self, t: Instant) {
        if matches!(self.evaluating, Some((_, Measure::Before)) | None)
            && let Some(growth) = &mut self.growth
        {
            growth.timings.propose_ms += t.elapsed().as_secs_f64() * 1e3;
        }
    }

    async fn start_growth(&mut self) -> Result<(), EngineError> {
        let started = Instant::now();
        let mlp = match &self.fused {
            Some(fused) => {
                // Growth works on tensors: hand it the current weights (no read back needed).
                self.model = DeviceMlp::upload(&fused.mlp, &self.device);
                fused.mlp.clone()
            }
            None => self.model.download().await?,
        };
        // The loss before: its first run of rows now, the rest (on a large data set) over the
        // next units, as Propose.
        let loss_before = match &mut self.fused {
            Some(fused) => {
                let mut eval = FusedEval::new(false);
                if eval.step(fused) {
                    eval.train_loss(fused, &self.train_labels, self.data.task)
                } else {
                    self.evaluating = Some((eval, Measure::Before));
                    f32::NAN
                }
            }
            None => self.evaluate().await?.train_loss,
        };
        let grower = grower::start(
            GrowthInput {
                mlp: &mlp,
                params: self.model.params.clone(),
                inputs: self.train_inputs.clone(),
                targets: self.train_targets.clone(),
                config: &self.config.growth,
            },
            &mut self.rng,
        );
        let timings = GrowthTimings {
            propose_ms: started.elapsed().as_secs_f64() * 1e3,
            ..GrowthTimings::default()
        };
        self.growth = Some(Growth {
            mlp,
            loss_before,
            timings,
            grower,
        });
        Ok(())
    }

    /// Advances the growth phase by at most `budget` work; returns whether it finished.
    async fn growth_work(
        &mut self,
        budget: usize,
        done: &mut Advance,
    ) -> Result<bool, EngineError> {
        let Some(growth) = self.growth.as_mut() else {
            return Ok(false);
        };
        let eta = self.config.growth.budget.units(growth.mlp.n_units()).min(
            self.config
                .train
                .max_units
                .saturating_sub(growth.mlp.n_units()),
        );
        let t = Instant::now();
        let (plan, candidates) = match growth.grower.step(budget) {
            Some((work, part)) => {
                done.work += work;
                growth.timings.add(part, t.elapsed().as_secs_f64() * 1e3);
                return Ok(false);
            }
            None => {
                let part = growth.grower.finish_part();
                let planned = growth.grower.finish(eta, &mut self.rng).await?;
                growth.timings.add(part, t.elapsed().as_secs_f64() * 1e3);
                planned
            }
        };
        done.work += 1;
        let Some(growth) = self.growth.take() else {
            return Ok(false);
        };
        self.materialise(growth, plan, candidates).await
    }

    async fn materialise(
        &mut self,
        growth: Growth,
        plan: GrowthPlan,
        candidates: Vec<CandidateScore>,
    ) -> Result<bool, EngineError> {
        let t = Instant::now();
        let mut timings = growth.timings;
        let (grown, lineage) = apply_plan(&growth.mlp, &plan)?;
        let old_shape = growth.mlp.clone();
        self.model = DeviceMlp::upload(&grown, &self.device);
        if let Some(fused) = &mut self.fused {
            let carry = |moments: &Option<Mlp>| -> Result<Option<Mlp>, EngineError> {
                match moments {
                    Some(m) => Ok(Some(apply_plan_with(m, &plan, Surgery::Moments)?.0)),
                    None => Ok(None),
                }
            };
            fused.optimizer = match self.config.train.on_growth {
                OnGrowth::Reset => FusedOptimizer::new(self.config.train.optimizer),
                OnGrowth::Carry => FusedOptimizer {
                    kind: fused.optimizer.kind,
                    steps: fused.optimizer.steps,
                    first: carry(&fused.optimizer.first)?,
                    second: carry(&fused.optimizer.second)?,
                },
            };
            fused.mlp = grown.clone();
        }
        self.optimizer = match self.config.train.on_growth {
            OnGrowth::Reset => Optimizer::new(self.config.train.optimizer, self.model.params.len()),
            OnGrowth::Carry => self.carried_optimizer(&old_shape, &plan).await?,
        };
        timings.surgery_ms = t.elapsed().as_secs_f64() * 1e3;
        let mut event = GrowthEvent {
            epoch: self.epoch,
            method: self.config.growth.method,
            architecture_before: growth.mlp.architecture(),
            architecture_after: grown.architecture(),
            units_before: growth.mlp.n_units(),
            units_after: grown.n_units(),
            candidates,
            predicted_change: plan.predicted_change(),
            plan,
            lineage,
            loss_before: growth.loss_before,
            loss_after: f32::NAN,
            timings,
        };
        // The old network's tensors and the growth phase's candidates are gone, and the grown
        // network's have new shapes: give their pages back, or a device's memory pool (WebGPU)
        // keeps every size it ever held and grows with each phase.
        drop(growth);
        // The loss after: its first run of rows now; on a large data set the growth is complete
        // once the rest is evaluated over the next units (as Materialise).
        event.loss_after = match &mut self.fused {
            Some(fused) => {
                let mut eval = FusedEval::new(false);
                if !eval.step(fused) {
                    self.evaluating = Some((eval, Measure::After(Box::new(event))));
                    return Ok(false);
                }
                eval.train_loss(fused, &self.train_labels, self.data.task)
            }
            None => self.evaluate().await?.train_loss,
        };
        self.finish_growth(event);
        Ok(true)
    }

    /// Keeps a complete growth's event; the schedule counts epochs from it.
    fn finish_growth(&mut self, event: GrowthEvent) {
        self.history.growths.push(event);
        self.epochs_since_growth = 0;
        self.device.memory_cleanup();
    }

    /// Reshapes the optimiser's moments with the plan (parents' moments copied, new ones zero).
    async fn carried_optimizer(
        &self,
        old: &Mlp,
        plan: &GrowthPlan,
    ) -> Result<Optimizer, EngineError> {
        let n_old = old.param_matrices().len();
        let mut next = Optimizer::new(self.config.train.optimizer, self.model.params.len());
        next.steps = self.optimizer.steps;
        let zeros = |m: &Matrix| Tensor::<2>::zeros([m.rows, m.cols], &self.device);
        let shapes = old.param_matrices();
        for moments in [&self.optimizer.first, &self.optimizer.second] {
            if moments.iter().all(Option::is_none) {
                continue;
            }
            let tensors: Vec<Tensor<2>> = (0..n_old)
                .map(|i| moments[i].clone().unwrap_or_else(|| zeros(&shapes[i])))
                .collect();
            let values = read_all(tensors).await?;
            let mut fused = old.clone();
            fused.set_param_values(&values)?;
            let (reshaped, _) = apply_plan_with(&fused, plan, Surgery::Moments)?;
            let uploaded = DeviceMlp::upload(&reshaped, &self.device).params;
            let target = if std::ptr::eq(moments, &self.optimizer.first) {
                &mut next.first
            } else {
                &mut next.second
            };
            *target = uploaded.into_iter().map(Some).collect();
        }
        Ok(next)
    }
}
