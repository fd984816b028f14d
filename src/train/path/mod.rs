//! How a session trains between growth phases: the [`TrainingPath`] trait, chosen when the
//! session is built ([`TrainPath`]), and its two implementations.
//!
//! - [`fused::FusedPath`]: the fused step ([`crate::fused`]), plain loops in CPU memory with the
//!   one optimiser over parameter slices; a large data set's steps and evaluations spread over
//!   units of work (`chunk.rs`). The default on the CPU.
//! - [`tensor::TensorPath`]: burn tensors and autodiff on the session's device, with the tensor
//!   optimiser ([`crate::optim::Optimizer`]): the reference, and the path that keeps training on
//!   a GPU.
//!
//! The session keeps the schedule, the mini-batch order (its RNG), the history and growth, and
//! never asks which path it holds. Tests hold the two within 1e-5 over whole sessions
//! (`tests/engine/paths.rs`, `tests/engine/fused.rs`).

use std::future::Future;
use std::pin::Pin;

use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::{EpochRecord, Snapshot};
use crate::config::{Regularization, RunConfig};
use crate::data::{Dataset, Task};
use crate::error::EngineError;
use crate::features::Features;
use crate::grow::GrowthPlan;
use crate::model::{Mlp, Targets, inputs_tensor, metrics_from_outputs};
use crate::optim::Optimizer;

pub(super) mod fused;
pub(super) mod tensor;

/// A path's answer that may need a read from the device (an `await` in a browser).
pub(super) type PathFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, EngineError>> + 'a>>;

/// How a session trains between growth phases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrainPath {
    /// The fused step ([`crate::fused`]): plain loops, no per-operation cost. The default on
    /// the CPU; growth's Step 1 and 2 still run as tensors on the session's device.
    #[default]
    Fused,
    /// burn tensors and autodiff on the session's device: the reference path, and the one that
    /// keeps training on a GPU.
    Tensor,
}

/// The data a session trains on, as both paths and growth read it: the input features' rows and
/// the labels in CPU memory, and the same as tensors on the session's device.
pub(super) struct Rows {
    pub task: Task,
    pub features: Features,
    pub device: Device,
    /// `[n_train, features]` row-major.
    pub train_x: Vec<f32>,
    /// `[n_test, features]` row-major.
    pub test_x: Vec<f32>,
    pub train_labels: Vec<f32>,
    pub test_labels: Vec<f32>,
    pub train_inputs: Tensor<2>,
    pub train_targets: Targets,
    pub test_inputs: Tensor<2>,
}

impl Rows {
    pub fn new(data: &Dataset, features: Features, device: &Device) -> Self {
        let train_x = features.map(&Dataset::inputs(&data.train));
        let test_x = features.map(&Dataset::inputs(&data.test));
        let train_labels = Dataset::labels(&data.train);
        let test_labels = Dataset::labels(&data.test);
        Rows {
            task: data.task,
            features,
            device: device.clone(),
            train_inputs: inputs_tensor(&train_x, features.len(), device),
            train_targets: Targets::new(&train_labels, data.task, device),
            test_inputs: inputs_tensor(&test_x, features.len(), device),
            train_x,
            test_x,
            train_labels,
            test_labels,
        }
    }

    /// Training rows.
    pub fn n_train(&self) -> usize {
        self.train_labels.len()
    }

    /// The network's inputs for model coordinates `[n, 2]`, on the session's device.
    pub fn inputs_tensor(&self, coords: &[f32]) -> Tensor<2> {
        inputs_tensor(
            &self.features.map(coords),
            self.features.len(),
            &self.device,
        )
    }
}

/// One mini-batch step as the session schedules it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Batch {
    /// First row of the batch in the epoch's order.
    pub start: usize,
    /// Rows in the batch.
    pub len: usize,
    /// Whether the batch is every training row in their own order (full batch).
    pub whole: bool,
    pub learning_rate: f32,
    pub penalty: (Regularization, f32),
}

/// A way of training a session's network (see the module doc). Every method that may read from
/// the device returns a [`PathFuture`]; the rest answer at once.
pub(super) trait TrainingPath: Send {
    /// Which path this is.
    fn kind(&self) -> TrainPath;

    /// The network's architecture and identities (the weights may be stale; see
    /// [`TrainingPath::network`]).
    fn shape(&self) -> &Mlp;

    /// The network with its current weights.
    fn network(&self) -> PathFuture<'_, Mlp>;

    /// Orders the next epoch's mini-batches: `order` indexes the training rows.
    fn begin_epoch(&mut self, rows: &Rows, order: &[usize]);

    /// One unit of work on a mini-batch step; returns whether its update is done (a batch of
    /// more rows than a unit covers gathers its gradients over several units). Nothing is read
    /// back, so it answers at once on every path.
    fn step(&mut self, rows: &Rows, batch: Batch) -> bool;

    /// Whether a step's gradients are partly gathered (growth waits for the update).
    fn gathering(&self) -> bool;

    /// The data changed: gradients partly gathered are dropped, an evaluation in progress
    /// starts again from its first row.
    fn data_changed(&mut self);

    /// Whether an evaluation (with the test rows when `test`) is done in one unit of work.
    fn evaluation_fits(&self, rows: &Rows, test: bool) -> bool;

    /// Begins an evaluation spread over units of work ([`TrainingPath::evaluation_unit`]).
    fn begin_evaluation(&mut self, test: bool);

    /// One unit of the evaluation begun; its record (numbered `epoch`) once done. An
    /// evaluation without the test rows leaves the test loss not a number and no
    /// accuracies.
    fn evaluation_unit<'a>(
        &'a mut self,
        rows: &'a Rows,
        epoch: usize,
    ) -> PathFuture<'a, Option<EpochRecord>>;

    /// Train and test metrics now, recorded as epoch `epoch`.
    fn evaluate<'a>(&'a self, rows: &'a Rows, epoch: usize) -> PathFuture<'a, EpochRecord>;

    /// The network with its weights and the same weights as tensors on the device, for a growth
    /// phase.
    fn for_growth<'a>(&'a mut self, rows: &'a Rows) -> PathFuture<'a, (Mlp, Vec<Tensor<2>>)>;

    /// Puts the grown network in place. The optimiser starts afresh, or, with `carry`, keeps its
    /// moments reshaped by the plan's surgery (parents' moments copied, new ones zero).
    fn grown<'a>(
        &'a mut self,
        old: &'a Mlp,
        grown: &'a Mlp,
        carry: Option<&'a GrowthPlan>,
    ) -> PathFuture<'a, ()>;

    /// Puts a restored network in place, with a fresh optimiser.
    fn restore(&mut self, mlp: &Mlp);

    /// The network and the optimiser's state as they are on the device, to train in one stack
    /// with other sessions' networks ([`super::stacked`]): no read, no copy. `None` where the
    /// path trains only alone (the fused step: on the CPU a stack buys nothing, and its numbers
    /// are its own).
    fn hand_over(&self) -> Option<HandOver>;

    /// Takes back a network and optimiser state trained in a stack (only ever one this path
    /// handed over, of the same shape).
    fn take_back(&mut self, state: HandOver);

    /// The network's outputs for input feature rows.
    fn predict<'a>(&'a self, rows: &'a Rows, coords: &'a [f32]) -> PathFuture<'a, Vec<f32>>;

    /// What the playground draws (see [`super::Session::snapshot`]).
    fn snapshot<'a>(
        &'a self,
        rows: &'a Rows,
        resolution: usize,
        thumb_resolution: usize,
    ) -> PathFuture<'a, Snapshot>;
}

/// A network's parameters and its optimiser's state on the device ([`TrainingPath::hand_over`]).
#[derive(Clone, Debug)]
pub(super) struct HandOver {
    /// The parameters in [`Mlp::param_matrices`] order.
    pub params: Vec<Tensor<2>>,
    pub optimizer: Optimizer,
}

/// The path `kind` for a fresh network.
pub(super) fn build(
    kind: TrainPath,
    mlp: &Mlp,
    config: &RunConfig,
    device: &Device,
) -> Box<dyn TrainingPath> {
    match kind {
        TrainPath::Fused => Box::new(fused::FusedPath::new(mlp, config.train.optimizer)),
        TrainPath::Tensor => Box::new(tensor::TensorPath::new(mlp, config.train.optimizer, device)),
    }
}

/// The record of epoch `epoch` from the network's outputs on the training rows and on the test
/// rows (how every path and every evaluation spread over units makes one).
pub(super) fn record_from(
    mlp: &Mlp,
    rows: &Rows,
    epoch: usize,
    train: &[f32],
    test: &[f32],
) -> EpochRecord {
    let (train_loss, train_accuracy) = metrics_from_outputs(train, &rows.train_labels, rows.task);
    let (test_loss, test_accuracy) = metrics_from_outputs(test, &rows.test_labels, rows.task);
    EpochRecord {
        epoch,
        train_loss,
        test_loss,
        train_accuracy,
        test_accuracy,
        units: mlp.n_units(),
        params: mlp.n_params(),
    }
}

/// A record of the training loss alone (test loss not a number, no accuracies), numbered
/// `epoch`.
pub(super) fn train_only(mlp: &Mlp, epoch: usize, train_loss: f32) -> EpochRecord {
    EpochRecord {
        epoch,
        train_loss,
        test_loss: f32::NAN,
        train_accuracy: None,
        test_accuracy: None,
        units: mlp.n_units(),
        params: mlp.n_params(),
    }
}

/// A path's answer computed at once.
pub(super) fn ready<'a, T: 'a>(value: Result<T, EngineError>) -> PathFuture<'a, T> {
    Box::pin(std::future::ready(value))
}
