//! What a continual run learns and how: the method ([`ContinualMethod`]), the task sequence
//! ([`TaskSpec`]: a data set or a class split of one, `spiral3:0+1`) and every setting
//! ([`ContinualConfig`]), with their checks.

use serde::{Deserialize, Serialize};

use super::grow::GrowthSettings;
use crate::data::{DataConfig, DatasetKind, Task};
use crate::error::EngineError;
use crate::model::Activation;
use crate::optim::OptimizerKind;

/// The default of [`ContinualConfig::optimizer`] in run files written before it existed.
fn adam() -> OptimizerKind {
    OptimizerKind::Adam
}

/// The default EWC strength λ: the best of 100, 300, 1000, 3000, 10⁴ and 3·10⁴ on circle → xor
/// → spiral over 10 seeds (final average accuracy 87.9 %, 300 level with it; fine-tuning 84.7 %;
/// README). Also that of run files written before the setting existed.
pub const DEFAULT_EWC_LAMBDA: f32 = 1000.0;

fn default_ewc_lambda() -> f32 {
    DEFAULT_EWC_LAMBDA
}

fn is_default_ewc_lambda(lambda: &f32) -> bool {
    lambda.to_bits() == DEFAULT_EWC_LAMBDA.to_bits()
}
/// The default of [`ContinualConfig::mask_tolerance`] (README, "Continual learning").
pub const DEFAULT_MASK_TOLERANCE: f32 = 0.1;

/// How a run learns the sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContinualMethod {
    /// Firefly growth per task: unlocked copies of frozen units and new units, chosen by Step 1 /
    /// Step 2; old tasks frozen and masked.
    Firefly,
    /// Firefly's ablation without unlocked copies: new units only.
    FireflyNew,
    /// The same masks, freezing and budget, with candidates drawn at random from the same pool
    /// (new units with unit-norm fan-ins, copies joining as the settings say).
    Random,
    /// One network of fixed width trained on every task in turn (a head per task): forgets.
    FineTune,
    /// A separate network of fixed width per task.
    Separate,
    /// Elastic weight consolidation: the fine-tuning network (a head per task, every unit keeps
    /// training) with a quadratic penalty (λ/2)·Σ F_i (θ_i − θ*_i)² per earlier task, F the
    /// diagonal Fisher information of that task's loss at its final weights θ* ([`super::ewc`]).
    Ewc,
}

impl ContinualMethod {
    /// Every method, in table order.
    pub const ALL: [ContinualMethod; 6] = [
        ContinualMethod::Firefly,
        ContinualMethod::FireflyNew,
        ContinualMethod::Random,
        ContinualMethod::FineTune,
        ContinualMethod::Ewc,
        ContinualMethod::Separate,
    ];

    /// The name used in CSV files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ContinualMethod::Firefly => "firefly",
            ContinualMethod::FireflyNew => "firefly-new",
            ContinualMethod::Random => "random",
            ContinualMethod::FineTune => "fine-tune",
            ContinualMethod::Separate => "separate",
            ContinualMethod::Ewc => "ewc",
        }
    }

    /// Whether the method grows (and so masks and freezes old tasks).
    pub fn grows(self) -> bool {
        matches!(
            self,
            ContinualMethod::Firefly | ContinualMethod::FireflyNew | ContinualMethod::Random
        )
    }

    /// Whether the method trains one fixed network on every task (fine-tuning, EWC): its units
    /// and earlier heads are never frozen.
    pub fn shares_one_network(self) -> bool {
        matches!(self, ContinualMethod::FineTune | ContinualMethod::Ewc)
    }
}

impl std::fmt::Display for ContinualMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ContinualMethod {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ContinualMethod::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                EngineError::InvalidConfig(format!(
                    "unknown continual method \"{s}\" (expected one of firefly, firefly-new, random, fine-tune, ewc, separate)"
                ))
            })
    }
}

/// Everything a continual run needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContinualConfig {
    /// The tasks, in order (classification data sets).
    pub sequence: Vec<DatasetKind>,
    /// How the sequence is learnt.
    pub method: ContinualMethod,
    /// Points per task (train and test).
    pub n_points: usize,
    /// Noise of the generators.
    pub noise: f32,
    /// Share of each task's points used for training.
    pub train_ratio: f32,
    /// Hidden nonlinearity.
    pub activation: Activation,
    /// Units the growing methods start the first task with.
    pub start_units: usize,
    /// Growth budget per task: at most this many units added while a task trains.
    pub units_per_task: usize,
    /// At most this many units per growth phase (η).
    pub units_per_phase: usize,
    /// Full-batch optimiser steps per training block.
    pub steps_per_phase: usize,
    /// The optimiser of the training blocks (Adam by default; SGD with momentum, plain or
    /// Nesterov). Step 1 of a growth phase always runs Adam.
    #[serde(default = "adam")]
    pub optimizer: OptimizerKind,
    /// The optimiser's learning rate.
    pub learning_rate: f32,
    /// Step 1 / Step 2 settings.
    pub growth: GrowthSettings,
    /// Width of the fine-tuning (and EWC) network (default: the growing methods' largest size,
    /// `start_units + units_per_task × tasks`).
    pub fine_tune_units: Option<usize>,
    /// Width of each per-task network (default: what the growing methods may give one task,
    /// `start_units + units_per_task`, so that the models are of about the same size).
    pub task_network_units: Option<usize>,
    /// Seed of data, weights and candidates.
    pub seed: u64,
    /// Class-incremental splits: `classes[t]`, when given and not empty, is the subset of task
    /// t's classes it learns, in label order (`spiral3:0+1` keeps classes 0 and 1 of the 3-class
    /// spiral, relabelled 0 and 1). Empty: every task learns all its classes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<Vec<usize>>,
    /// EWC's penalty strength λ (method `ewc` only): the training loss of task t adds
    /// (λ/2)·Σ_{s<t} Σ_i F_{s,i} (θ_i − θ*_{s,i})². Written only when it differs from the
    /// default, so other runs' files are unchanged.
    #[serde(
        default = "default_ewc_lambda",
        skip_serializing_if = "is_default_ewc_lambda"
    )]
    pub ewc_lambda: f32,
    /// Mask selection (growing methods, from the second task on): after the task's growth
    /// phases, before its last training block, old units leave its mask one at a time, each time
    /// the one whose removal raises the training loss least, while the loss stays within this
    /// many nats of the loss with every old unit ([`super::view::TaskView::select_old_units`]).
    /// 0 keeps every old unit (as did runs written before the setting existed).
    #[serde(default)]
    pub mask_tolerance: f32,
}

/// A task of a sequence as written on the command line: a data set, optionally with a subset of
/// its classes (`spiral3:0+1`, at least two). See [`ContinualConfig::classes`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskSpec {
    /// The data set.
    pub kind: DatasetKind,
    /// The classes it keeps, in label order (empty: all).
    pub classes: Vec<usize>,
}

impl TaskSpec {
    /// The task's name: the data set's, then `:` and the classes joined by `+` for a subset.
    pub fn name(&self) -> String {
        task_name(self.kind, &self.classes)
    }
}

fn task_name(kind: DatasetKind, classes: &[usize]) -> String {
    if classes.is_empty() {
        kind.name().to_string()
    } else {
        let list: Vec<String> = classes.iter().map(usize::to_string).collect();
        format!("{}:{}", kind.name(), list.join("+"))
    }
}

impl std::str::FromStr for TaskSpec {
    type Err = EngineError;
    /// `circle`, or `spiral3:0+1` (a data set and at least two of its classes, `+`-separated).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |m: String| EngineError::InvalidConfig(m);
        let (name, classes) = match s.trim().split_once(':') {
            None => (s.trim(), None),
            Some((name, classes)) => (name, Some(classes)),
        };
        let kind: DatasetKind = name.parse().map_err(|e| bad(format!("{e}")))?;
        let classes = match classes {
            None => Vec::new(),
            Some(list) => list
                .split('+')
                .map(|c| {
                    c.trim().parse::<usize>().map_err(|_| {
                        bad(format!(
                            "task \"{}\": classes are numbers joined by +, e.g. spiral3:0+1",
                            s.trim()
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let spec = TaskSpec { kind, classes };
        check_classes(&spec)?;
        Ok(spec)
    }
}

/// A class subset names at least two distinct classes of its data set.
fn check_classes(spec: &TaskSpec) -> Result<(), EngineError> {
    if spec.classes.is_empty() {
        return Ok(());
    }
    let name = spec.name();
    let n = match spec.kind.task() {
        Task::Classification { n_classes } => n_classes,
        Task::Regression => {
            return Err(EngineError::InvalidConfig(format!(
                "{name}: a regression task has no classes"
            )));
        }
    };
    if spec.classes.len() < 2 {
        return Err(EngineError::InvalidConfig(format!(
            "{name}: a task needs at least two classes (each task has its own head)"
        )));
    }
    for (i, c) in spec.classes.iter().enumerate() {
        if *c >= n {
            return Err(EngineError::InvalidConfig(format!(
                "{name}: {} has classes 0 to {}",
                spec.kind.name(),
                n - 1
            )));
        }
        if spec.classes[..i].contains(c) {
            return Err(EngineError::InvalidConfig(format!(
                "{name}: class {c} is named twice"
            )));
        }
    }
    Ok(())
}

impl Default for ContinualConfig {
    /// circle → xor → spiral, 500 points each without noise (half for training), tanh, Firefly
    /// starting from 1 unit with 8 units per task, 1 per phase, 300 full-batch Adam steps at 0.01
    /// per block (Figure 3's protocol, spec §7).
    fn default() -> Self {
        ContinualConfig {
            sequence: vec![DatasetKind::Circle, DatasetKind::Xor, DatasetKind::Spiral],
            method: ContinualMethod::Firefly,
            n_points: 500,
            noise: 0.0,
            train_ratio: 0.5,
            activation: Activation::Tanh,
            start_units: 1,
            units_per_task: 8,
            units_per_phase: 1,
            steps_per_phase: 300,
            optimizer: OptimizerKind::Adam,
            learning_rate: 0.01,
            growth: GrowthSettings::default(),
            fine_tune_units: None,
            task_network_units: None,
            seed: 0,
            classes: Vec::new(),
            ewc_lambda: DEFAULT_EWC_LAMBDA,
            mask_tolerance: DEFAULT_MASK_TOLERANCE,
        }
    }
}

impl ContinualConfig {
    /// Growth phases per task.
    pub fn phases(&self) -> usize {
        self.units_per_task.div_ceil(self.units_per_phase.max(1))
    }

    /// Training steps every method takes per task.
    pub fn steps_per_task(&self) -> usize {
        self.steps_per_phase * (self.phases() + 1)
    }

    /// Width of the fine-tuning network.
    pub fn fine_tune_width(&self) -> usize {
        self.fine_tune_units
            .unwrap_or(self.start_units + self.units_per_task * self.sequence.len())
    }

    /// Width of each per-task network.
    pub fn task_network_width(&self) -> usize {
        self.task_network_units
            .unwrap_or(self.start_units + self.units_per_task)
    }

    /// The sequence as text, e.g. `circle>xor>spiral` or `spiral3:0+1>spiral3:1+2`.
    pub fn sequence_name(&self) -> String {
        self.task_names().join(">")
    }

    /// Each task's name (`spiral3:0+1` for a class subset).
    pub fn task_names(&self) -> Vec<String> {
        self.tasks().iter().map(TaskSpec::name).collect()
    }

    /// The sequence with each task's classes.
    pub fn tasks(&self) -> Vec<TaskSpec> {
        self.sequence
            .iter()
            .enumerate()
            .map(|(t, &kind)| TaskSpec {
                kind,
                classes: self.classes.get(t).cloned().unwrap_or_default(),
            })
            .collect()
    }

    /// Sets the sequence and its class subsets from task specifications.
    pub fn set_tasks(&mut self, tasks: &[TaskSpec]) {
        self.sequence = tasks.iter().map(|t| t.kind).collect();
        self.classes = if tasks.iter().all(|t| t.classes.is_empty()) {
            Vec::new()
        } else {
            tasks.iter().map(|t| t.classes.clone()).collect()
        };
    }

    /// Task `task`'s data generator settings (the same for every method at one seed).
    pub fn data_config(&self, task: usize) -> DataConfig {
        DataConfig {
            kind: self.sequence[task],
            n_points: self.n_points,
            noise: self.noise,
            train_ratio: self.train_ratio,
            seed: derive_seed(self.seed, task, 0, Purpose::Data),
        }
    }

    /// Checks every value.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |m: String| Err(EngineError::InvalidConfig(m));
        if self.sequence.is_empty() || self.sequence.len() > 16 {
            return bad(format!(
                "the sequence needs 1 to 16 tasks, got {}",
                self.sequence.len()
            ));
        }
        if let Some(k) = self
            .sequence
            .iter()
            .find(|k| !matches!(k.task(), Task::Classification { .. }))
        {
            return bad(format!(
                "{k} is a regression task; continual learning needs classification"
            ));
        }
        let widths = [
            ("start units", self.start_units, 1),
            ("units per phase", self.units_per_phase, 1),
            ("fine-tuning units", self.fine_tune_width(), 1),
            ("per-task network units", self.task_network_width(), 1),
        ];
        for (name, value, min) in widths {
            if value < min || value > 1024 {
                return bad(format!("{name} must be {min} to 1024, got {value}"));
            }
        }
        if self.units_per_task > 256 {
            return bad(format!(
                "units per task must be at most 256, got {}",
                self.units_per_task
            ));
        }
        if self.steps_per_phase == 0 || self.steps_per_phase > 100_000 {
            return bad(format!(
                "steps per phase must be 1 to 100000, got {}",
                self.steps_per_phase
            ));
        }
        if !(self.learning_rate.is_finite()
            && self.learning_rate > 0.0
            && self.learning_rate <= 10.0)
        {
            return bad(format!(
                "learning rate must be in (0, 10], got {}",
                self.learning_rate
            ));
        }
        if !(self.ewc_lambda.is_finite() && (0.0..=1e7).contains(&self.ewc_lambda)) {
            return bad(format!(
                "the EWC strength must be 0 to 1e7, got {}",
                self.ewc_lambda
            ));
        }
        if !(self.mask_tolerance.is_finite() && (0.0..=10.0).contains(&self.mask_tolerance)) {
            return bad(format!(
                "the mask tolerance must be 0 to 10 nats, got {}",
                self.mask_tolerance
            ));
        }
        if self.classes.len() > self.sequence.len() {
            return bad(format!(
                "class subsets for {} tasks, but the sequence has {}",
                self.classes.len(),
                self.sequence.len()
            ));
        }
        for spec in self.tasks() {
            check_classes(&spec)?;
        }
        self.growth.validate()?;
        self.data_config(0).validate()?;
        Ok(())
    }
}

/// What a generator of a run is for (one stream of randomness each).
#[derive(Clone, Copy)]
pub(super) enum Purpose {
    Data = 1,
    Units = 2,
    Head = 3,
    Grow = 4,
}

/// A seed for one purpose of one phase of one task (splitmix64 over the parts).
pub(super) fn derive_seed(seed: u64, task: usize, phase: usize, purpose: Purpose) -> u64 {
    let mut x = seed;
    for part in [task as u64, phase as u64, purpose as u64] {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15).wrapping_add(part);
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 31;
    }
    x
}
