//! The tensor path: the network's parameters as tensors on the session's device, trained with
//! burn's autodiff and the tensor optimiser ([`crate::optim::Optimizer`]). Every read is an
//! `await` on [`crate::readback`].

use burn::tensor::{Device, Tensor};

use super::{Batch, HandOver, PathFuture, Rows, TrainPath, TrainingPath};
use crate::config::Regularization;
use crate::data::{Task, grid_inputs};
use crate::error::EngineError;
use crate::fused;
use crate::grow::{GrowthPlan, Surgery, apply_plan_with};
use crate::model::{
    DeviceMlp, Matrix, Mlp, Targets, forward_hooked, forward_with, loss, n_outputs,
};
use crate::optim::{Optimizer, OptimizerKind};
use crate::readback::read_all;
use crate::train::{EpochRecord, Snapshot};

/// See the module doc.
pub(in crate::train) struct TensorPath {
    model: DeviceMlp,
    optimizer: Optimizer,
    device: Device,
    /// The epoch's inputs and targets in mini-batch order.
    epoch_data: Option<(Tensor<2>, Targets)>,
}

impl TensorPath {
    pub fn new(mlp: &Mlp, kind: OptimizerKind, device: &Device) -> Self {
        let model = DeviceMlp::upload(mlp, device);
        TensorPath {
            optimizer: Optimizer::new(kind, model.params.len()),
            model,
            device: device.clone(),
            epoch_data: None,
        }
    }

    /// One step on the batch's rows.
    fn step_now(&mut self, rows: &Rows, batch: Batch) {
        let (x, t) = match (&self.epoch_data, batch.whole) {
            (Some((x, t)), false) => (
                x.clone().narrow(0, batch.start, batch.len),
                Targets {
                    tensor: t.tensor.clone().narrow(0, batch.start, batch.len),
                    task: t.task,
                },
            ),
            _ => (rows.train_inputs.clone(), rows.train_targets.clone()),
        };
        let leaves: Vec<Tensor<2>> = self
            .model
            .params
            .iter()
            .map(|p| p.clone().autodiff().require_grad())
            .collect();
        let grads = loss(forward_with(&self.model.shape, &leaves, x), &t).backward();
        let mut g: Vec<Option<Tensor<2>>> = leaves.iter().map(|l| l.grad(&grads)).collect();
        let (penalty, rate) = batch.penalty;
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
            .step(batch.learning_rate, &self.model.params, g);
    }

    /// Train and test metrics, one batched read.
    async fn evaluate_now(&self, rows: &Rows, epoch: usize) -> Result<EpochRecord, EngineError> {
        let shape = &self.model.shape;
        let train = forward_with(shape, &self.model.params, rows.train_inputs.clone());
        let test = forward_with(shape, &self.model.params, rows.test_inputs.clone());
        let read = read_all(vec![train, test]).await?;
        Ok(super::record_from(shape, rows, epoch, &read[0], &read[1]))
    }

    /// The optimiser with its moments reshaped by the plan (parents' moments copied, new ones
    /// zero), for the grown network now in place.
    async fn carried(
        &self,
        old_optimizer: &Optimizer,
        old: &Mlp,
        plan: &GrowthPlan,
    ) -> Result<Optimizer, EngineError> {
        let n_old = old.param_matrices().len();
        let mut next = Optimizer::new(old_optimizer.kind, self.model.params.len());
        next.steps = old_optimizer.steps;
        let zeros = |m: &Matrix| Tensor::<2>::zeros([m.rows, m.cols], &self.device);
        let shapes = old.param_matrices();
        for (moments, target) in [
            (&old_optimizer.first, &mut next.first),
            (&old_optimizer.second, &mut next.second),
        ] {
            if moments.iter().all(Option::is_none) {
                continue;
            }
            let tensors: Vec<Tensor<2>> = (0..n_old)
                .map(|i| moments[i].clone().unwrap_or_else(|| zeros(&shapes[i])))
                .collect();
            let values = read_all(tensors).await?;
            let mut as_network = old.clone();
            as_network.set_param_values(&values)?;
            let (reshaped, _) = apply_plan_with(&as_network, plan, Surgery::Moments)?;
            let uploaded = DeviceMlp::upload(&reshaped, &self.device).params;
            *target = uploaded.into_iter().map(Some).collect();
        }
        Ok(next)
    }

    async fn snapshot_now(
        &self,
        rows: &Rows,
        resolution: usize,
        thumb_resolution: usize,
    ) -> Result<Snapshot, EngineError> {
        let shape = &self.model.shape;
        let grid = rows.inputs_tensor(&grid_inputs(resolution));
        let out = forward_with(shape, &self.model.params, grid);
        let heat = match rows.task {
            Task::Classification { .. } => burn::tensor::activation::softmax(out, 1),
            Task::Regression => out,
        };
        let thumbs = rows.inputs_tensor(&grid_inputs(thumb_resolution));
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
            n_outputs: n_outputs(rows.task),
            heat,
            thumb_resolution,
            units,
            network,
            features: rows.features,
        })
    }
}

impl TrainingPath for TensorPath {
    fn kind(&self) -> TrainPath {
        TrainPath::Tensor
    }

    fn shape(&self) -> &Mlp {
        &self.model.shape
    }

    fn network(&self) -> PathFuture<'_, Mlp> {
        Box::pin(self.model.download())
    }

    fn begin_epoch(&mut self, rows: &Rows, order: &[usize]) {
        let d = rows.features.len();
        let mut x = Vec::with_capacity(order.len() * d);
        let mut labels = Vec::with_capacity(order.len());
        for &i in order {
            x.extend_from_slice(&rows.train_x[d * i..d * (i + 1)]);
            labels.push(rows.train_labels[i]);
        }
        self.epoch_data = Some((
            crate::model::inputs_tensor(&x, d, &self.device),
            Targets::new(&labels, rows.task, &self.device),
        ));
    }

    fn step(&mut self, rows: &Rows, batch: Batch) -> bool {
        self.step_now(rows, batch);
        true
    }

    fn gathering(&self) -> bool {
        false
    }

    fn data_changed(&mut self) {
        self.epoch_data = None;
    }

    fn evaluation_fits(&self, _rows: &Rows, _test: bool) -> bool {
        true
    }

    fn begin_evaluation(&mut self, _test: bool) {}

    fn evaluation_unit<'a>(
        &'a mut self,
        rows: &'a Rows,
        epoch: usize,
    ) -> PathFuture<'a, Option<EpochRecord>> {
        Box::pin(async move { Ok(Some(self.evaluate_now(rows, epoch).await?)) })
    }

    fn evaluate<'a>(&'a self, rows: &'a Rows, epoch: usize) -> PathFuture<'a, EpochRecord> {
        Box::pin(self.evaluate_now(rows, epoch))
    }

    fn for_growth<'a>(&'a mut self, _rows: &'a Rows) -> PathFuture<'a, (Mlp, Vec<Tensor<2>>)> {
        Box::pin(async move { Ok((self.model.download().await?, self.model.params.clone())) })
    }

    fn grown<'a>(
        &'a mut self,
        old: &'a Mlp,
        grown: &'a Mlp,
        carry: Option<&'a GrowthPlan>,
    ) -> PathFuture<'a, ()> {
        Box::pin(async move {
            self.model = DeviceMlp::upload(grown, &self.device);
            let fresh = Optimizer::new(self.optimizer.kind, self.model.params.len());
            let old_optimizer = std::mem::replace(&mut self.optimizer, fresh);
            if let Some(plan) = carry {
                self.optimizer = self.carried(&old_optimizer, old, plan).await?;
            }
            Ok(())
        })
    }

    fn hand_over(&self) -> Option<HandOver> {
        Some(HandOver {
            params: self.model.params.clone(),
            optimizer: self.optimizer.clone(),
        })
    }

    fn take_back(&mut self, state: HandOver) {
        self.model.params = state.params;
        self.optimizer = state.optimizer;
    }

    fn restore(&mut self, mlp: &Mlp) {
        *self = TensorPath::new(mlp, self.optimizer.kind, &self.device);
    }

    fn predict<'a>(&'a self, rows: &'a Rows, coords: &'a [f32]) -> PathFuture<'a, Vec<f32>> {
        Box::pin(async move {
            let x = rows.inputs_tensor(coords);
            let out = forward_with(&self.model.shape, &self.model.params, x);
            let mut read = read_all(vec![out]).await?;
            read.pop()
                .ok_or_else(|| EngineError::Internal("empty read".into()))
        })
    }

    fn snapshot<'a>(
        &'a self,
        rows: &'a Rows,
        resolution: usize,
        thumb_resolution: usize,
    ) -> PathFuture<'a, Snapshot> {
        Box::pin(self.snapshot_now(rows, resolution, thumb_resolution))
    }
}
