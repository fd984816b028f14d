//! A training session: data, RNG, schedule, history and a training path (network and optimiser,
//! [`path`]), advanced a bounded amount of work at a time.
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

use burn::tensor::Device;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use web_time::Instant;

pub use crate::config::OnGrowth;
use crate::config::RunConfig;
use crate::data::Dataset;
use crate::error::EngineError;
pub use crate::grow::GrowthStage;
use crate::grow::grower::{self, Grower, GrowthInput};
use crate::grow::{CandidateScore, GrowthEvent, GrowthPlan, GrowthTimings, apply_plan};
use crate::model::Mlp;

mod chunk;
mod growing;
mod history;
mod outputs;
mod path;
mod stacked;
mod step;

pub use growing::{CPU_GROWTH_BELOW, GrowOn};
pub use history::{EpochRecord, History, MAX_EPOCH_RECORDS};
pub use path::TrainPath;
use path::{Batch, Rows, TrainingPath};
pub use stacked::{Stacked, run_epochs_together};

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

struct Growth {
    mlp: Mlp,
    loss_before: f32,
    timings: GrowthTimings,
    grower: Box<dyn Grower>,
}

/// What an evaluation spread over units of work ([`TrainingPath::evaluation_unit`]) is for.
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
    /// The data as the paths and growth read it.
    rows: Rows,
    /// How the network trains between growth phases.
    path: Box<dyn TrainingPath>,
    rng: ChaCha8Rng,
    history: History,
    epoch: usize,
    epochs_since_growth: usize,
    batch: usize,
    growth: Option<Growth>,
    grow_requested: bool,
    learning_rate: f32,
    steps: u64,
    /// What an evaluation the path computes over several units of work is for.
    evaluating: Option<Measure>,
    /// Where growth phases run.
    grow_on: GrowOn,
    /// Epochs trained in a stack with other sessions' networks ([`Stacked`]).
    epochs_stacked: usize,
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
        let rows = Rows::new(&data, config.features, &device);
        Ok(Session {
            path: path::build(path, &mlp, &config, &device),
            rows,
            steps: 0,
            rng: ChaCha8Rng::seed_from_u64(config.seed ^ 0x5eed_f1e5),
            learning_rate: config.train.learning_rate,
            config,
            device,
            data,
            history: History::default(),
            epoch: 0,
            epochs_since_growth: 0,
            batch: 0,
            growth: None,
            grow_requested: false,
            epochs_stacked: 0,
            evaluating: None,
            grow_on: GrowOn::Device,
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
        self.rows = Rows::new(&data, self.config.features, &self.device);
        self.data = data;
        self.batch = 0;
        // Work spread over units goes on with the new data: a batch's gradients start again,
        // an evaluation starts again from its first row.
        self.path.data_changed();
        Ok(())
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
        self.path.kind()
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
        self.path.shape()
    }

    /// Hidden units now.
    pub fn n_units(&self) -> usize {
        self.shape().n_units()
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
            (Some(Measure::Before), _) => Stage::Growing(GrowthStage::Propose),
            (Some(Measure::After(_)), _) => Stage::Growing(GrowthStage::Materialise),
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
        // The network's units are those of the last record, or of the last growth when none
        // was recorded since (a run saved right after a growth).
        let last_units = match (history.epochs.last(), history.growths.last()) {
            (Some(r), Some(g)) if g.epoch >= r.epoch => Some(g.units_after),
            (Some(r), _) => Some(r.units),
            (None, g) => g.map(|g| g.units_after),
        };
        if last_units.is_some_and(|units| units != mlp.n_units()) {
            return bad(
                "the history ends with a different number of units than the network has".into(),
            );
        }
        self.path.restore(&mlp);
        self.epochs_since_growth = epoch - history.growths.last().map_or(0, |g| g.epoch);
        self.epoch = epoch;
        self.history = history;
        self.batch = 0;
        self.growth = None;
        self.grow_requested = false;
        self.evaluating = None;
        Ok(())
    }

    /// Does at most `budget` units of work and returns what was done.
    pub async fn advance(&mut self, budget: usize) -> Result<Advance, EngineError> {
        let mut done = Advance::default();
        while done.work < budget.max(1) {
            if self.evaluating.is_some() {
                self.evaluate_unit(&mut done).await?;
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
            if (due || self.grow_requested) && self.can_grow() && !self.path.gathering() {
                self.grow_requested = false;
                self.start_growth().await?;
                done.work += 1;
                continue;
            }
            // A request the network cannot take (at its cap) goes; one that waits for a batch
            // being gathered stays.
            if !self.path.gathering() {
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
            while self.path.gathering() || matches!(self.evaluating, Some(Measure::Epoch)) {
                self.advance(1).await?;
            }
            if self.growth.is_none() {
                self.start_growth().await?;
            }
        }
        let mut done = Advance::default();
        while self.growth.is_some() || self.evaluating.is_some() {
            if self.evaluating.is_some() {
                self.evaluate_unit(&mut done).await?;
            } else {
                self.growth_work(usize::MAX, &mut done).await?;
            }
        }
        Ok(self.history.growths.last().cloned())
    }
}
