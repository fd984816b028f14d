//! The one configuration of a run: data, model, training schedule and growth, with presets.
//!
//! Raw values (from the CLI, a URL or the UI) are parsed into these types and then checked by
//! [`RunConfig::validate`], which names the offending field in its message.

use serde::{Deserialize, Serialize};

use crate::data::{DataConfig, DatasetKind};
use crate::error::EngineError;
use crate::features::Features;
use crate::grow::{Budget, GrowthConfig, Method};
use crate::model::{Activation, ModelConfig};
use crate::optim::OptimizerKind;

/// The Figure 3 protocol's optimiser between growth phases: SGD with momentum 0.9, as the
/// authors' code trains (README, "The Figure 3 protocol", has the measurements that chose it and
/// the Adam results beside them).
pub const PROTOCOL_OPTIMIZER: OptimizerKind = OptimizerKind::Sgd;
/// The protocol's learning rate.
pub const PROTOCOL_LR: f32 = 0.1;
/// The protocol's full-batch steps between growth phases.
pub const PROTOCOL_STEPS: usize = 300;

/// What the optimiser does when the network grows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnGrowth {
    /// Forget all moments (the default, as the paper's code does).
    Reset,
    /// Keep old moments; new entries start at zero, a split clone copies its parent's.
    Carry,
}

impl OnGrowth {
    /// The name used in links and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            OnGrowth::Reset => "reset",
            OnGrowth::Carry => "carry",
        }
    }
}

impl std::str::FromStr for OnGrowth {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "reset" => Ok(OnGrowth::Reset),
            "carry" => Ok(OnGrowth::Carry),
            _ => Err(EngineError::InvalidConfig(format!(
                "expected reset or carry, got \"{s}\""
            ))),
        }
    }
}

/// Optimiser and schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Adam (default) or SGD.
    pub optimizer: OptimizerKind,
    /// Learning rate (changeable live).
    pub learning_rate: f32,
    /// Mini-batch size; 0 means the whole training set.
    pub batch_size: usize,
    /// Grow after this many epochs of training.
    pub epochs_per_growth: usize,
    /// Evaluate train/test metrics every this many epochs (and always before a growth).
    pub eval_every: usize,
    /// Never grow beyond this many hidden units.
    pub max_units: usize,
    /// Stop growing after this many phases (0: no limit).
    pub max_growths: usize,
    /// Reset or carry the optimiser's moments across growth.
    pub on_growth: OnGrowth,
    /// A penalty on the weights (not the biases), as TensorFlow Playground's: none, L1 or L2.
    #[serde(default)]
    pub regularization: Regularization,
    /// Its rate.
    #[serde(default)]
    pub regularization_rate: f32,
}

/// A penalty on the weights added to the loss while training: L1 adds rate·Σ|w| (its gradient
/// rate·sign(w)), L2 adds rate·½Σw² (its gradient rate·w). Biases are not penalised. The losses
/// the page and the experiments report are the data loss alone, as TensorFlow Playground's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Regularization {
    /// No penalty (the default).
    #[default]
    None,
    /// rate·Σ|w|.
    L1,
    /// rate·½Σw².
    L2,
}

impl Regularization {
    /// The name used in links and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Regularization::None => "none",
            Regularization::L1 => "l1",
            Regularization::L2 => "l2",
        }
    }

    /// The penalty's gradient for weight `w` at `rate`.
    pub fn gradient(self, w: f32, rate: f32) -> f32 {
        match self {
            Regularization::None => 0.0,
            Regularization::L1 => rate * w.signum() * f32::from(w != 0.0),
            Regularization::L2 => rate * w,
        }
    }
}

impl std::str::FromStr for Regularization {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "" => Ok(Regularization::None),
            "l1" => Ok(Regularization::L1),
            "l2" => Ok(Regularization::L2),
            _ => Err(EngineError::InvalidConfig(format!(
                "expected none, l1 or l2, got \"{s}\""
            ))),
        }
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            optimizer: OptimizerKind::Adam,
            learning_rate: 0.01,
            batch_size: 10,
            epochs_per_growth: 20,
            eval_every: 1,
            max_units: 32,
            max_growths: 0,
            on_growth: OnGrowth::Reset,
            regularization: Regularization::None,
            regularization_rate: 0.0,
        }
    }
}

/// Everything that defines a run; the same config and seed give the same run on one backend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// Seed of the initial weights, mini-batch order and growth candidates.
    pub seed: u64,
    /// The data.
    pub data: DataConfig,
    /// The starting network (`model.n_inputs` equals `features.len()`).
    pub model: ModelConfig,
    /// What the first layer reads of each point (x₁ and x₂ unless chosen).
    #[serde(default)]
    pub features: Features,
    /// Optimiser and schedule.
    pub train: TrainConfig,
    /// Growth method and its settings.
    pub growth: GrowthConfig,
}

impl Default for RunConfig {
    /// The playground's opening experiment: circle, one hidden layer of 2 tanh units, Firefly
    /// growing one unit every 20 epochs.
    fn default() -> Self {
        RunConfig {
            seed: 1,
            data: DataConfig::new(DatasetKind::Circle),
            model: ModelConfig {
                n_inputs: 2,
                hidden: vec![2],
                activation: Activation::Tanh,
            },
            features: Features::PLANE,
            train: TrainConfig::default(),
            growth: GrowthConfig::default(),
        }
    }
}

impl RunConfig {
    /// The Figure 3 protocol (spec §7): 500 points without noise, 50 % train; one hidden tanh
    /// layer of width 1; `steps_per_phase` full-batch steps of SGD with momentum at
    /// [`PROTOCOL_LR`] between phases (callers may set another optimiser); one unit per phase.
    pub fn figure3(
        dataset: DatasetKind,
        method: Method,
        candidates: usize,
        seed: u64,
        steps_per_phase: usize,
    ) -> Self {
        let mut data = DataConfig::new(dataset);
        data.n_points = 500;
        data.noise = 0.0;
        data.train_ratio = 0.5;
        data.seed = seed;
        RunConfig {
            seed,
            data,
            model: ModelConfig {
                n_inputs: 2,
                hidden: vec![1],
                activation: Activation::Tanh,
            },
            features: Features::PLANE,
            train: TrainConfig {
                optimizer: PROTOCOL_OPTIMIZER,
                learning_rate: PROTOCOL_LR,
                batch_size: 0,
                epochs_per_growth: steps_per_phase,
                eval_every: steps_per_phase.max(1),
                max_units: 1000,
                max_growths: 0,
                on_growth: OnGrowth::Reset,
                ..TrainConfig::default()
            },
            growth: GrowthConfig {
                method,
                budget: Budget::Count(1),
                candidates,
                ..GrowthConfig::default()
            },
        }
    }

    /// Checks every field; the message names the field.
    pub fn validate(&self) -> Result<(), EngineError> {
        self.data.validate()?;
        self.model.validate()?;
        if self.model.n_inputs != self.features.len() {
            return Err(EngineError::InvalidConfig(format!(
                "the network reads {} inputs but {} input features are on ({})",
                self.model.n_inputs,
                self.features.len(),
                self.features
            )));
        }
        self.growth.validate()?;
        let t = &self.train;
        let bad = |m: String| Err(EngineError::InvalidConfig(m));
        if !(t.learning_rate.is_finite() && t.learning_rate > 0.0 && t.learning_rate <= 10.0) {
            return bad(format!(
                "learning rate must be in (0, 10], got {}",
                t.learning_rate
            ));
        }
        if t.batch_size > 100_000 {
            return bad(format!(
                "batch size must be at most 100000, got {}",
                t.batch_size
            ));
        }
        if !(t.regularization_rate.is_finite() && (0.0..=10.0).contains(&t.regularization_rate)) {
            return bad(format!(
                "regularization rate must be in [0, 10], got {}",
                t.regularization_rate
            ));
        }
        if t.epochs_per_growth == 0 {
            return bad("growth interval must be at least 1 epoch".into());
        }
        if t.max_units == 0 || t.max_units > 4096 {
            return bad(format!("max units must be 1 to 4096, got {}", t.max_units));
        }
        Ok(())
    }
}
