//! The fused path: the network and its optimiser in CPU memory, trained by the fused step
//! ([`crate::fused`]); a large data set's steps and evaluations spread over units of work
//! ([`super::super::chunk`]).

use burn::tensor::Tensor;

use super::{Batch, PathFuture, Rows, TrainPath, TrainingPath, ready, record_from, train_only};
use crate::data::grid_inputs;
use crate::error::EngineError;
use crate::fused::{self, FusedOptimizer, GradientSum, Workspace};
use crate::grow::{GrowthPlan, Surgery, apply_plan_with};
use crate::model::{DeviceMlp, Mlp, n_outputs};
use crate::optim::OptimizerKind;
use crate::train::chunk::{self, FusedEval};
use crate::train::{EpochRecord, Snapshot};

/// See the module doc.
pub(in crate::train) struct FusedPath {
    mlp: Mlp,
    optimizer: FusedOptimizer,
    ws: Workspace,
    /// The epoch's training rows and labels in mini-batch order.
    epoch_x: Vec<f32>,
    epoch_y: Vec<f32>,
    /// A mini-batch's gradients being gathered over several units of work (a batch of more rows
    /// than one unit covers, [`chunk::step_rows`]).
    gathering: Option<GradientSum>,
    /// An evaluation being computed over several units of work.
    evaluating: Option<FusedEval>,
}

impl FusedPath {
    pub fn new(mlp: &Mlp, kind: OptimizerKind) -> Self {
        FusedPath {
            mlp: mlp.clone(),
            optimizer: FusedOptimizer::new(kind),
            ws: Workspace::default(),
            epoch_x: Vec::new(),
            epoch_y: Vec::new(),
            gathering: None,
            evaluating: None,
        }
    }

    /// One unit of a step, at once.
    fn step_now(&mut self, rows: &Rows, batch: Batch) -> bool {
        let d = rows.features.len();
        let Batch { start, len, .. } = batch;
        let (x, y) = if batch.whole {
            (&rows.train_x[..], &rows.train_labels[..])
        } else {
            (
                &self.epoch_x[d * start..d * (start + len)],
                &self.epoch_y[start..start + len],
            )
        };
        let unit = chunk::step_rows(&self.mlp);
        if len <= unit && self.gathering.is_none() {
            fused::train_step_regularized(
                &mut self.mlp,
                &mut self.optimizer,
                batch.learning_rate,
                batch.penalty,
                x,
                y,
                &mut self.ws,
            );
            return true;
        }
        // A batch larger than one unit: its gradients are gathered a run of rows per unit (the
        // same sums in the same order), then one update.
        let sum = self.gathering.get_or_insert_with(|| GradientSum::new(len));
        let (from, to) = (sum.rows(), (sum.rows() + unit).min(len));
        sum.add(&self.mlp, &x[d * from..d * to], &y[from..to], &mut self.ws);
        if !sum.complete() {
            return false;
        }
        self.gathering = None;
        fused::update(
            &mut self.mlp,
            &mut self.optimizer,
            batch.learning_rate,
            batch.penalty,
            &mut self.ws,
        );
        true
    }

    /// The optimiser for the grown network: fresh, or its moments carried through the plan.
    fn next_optimizer(&self, carry: Option<&GrowthPlan>) -> Result<FusedOptimizer, EngineError> {
        let Some(plan) = carry else {
            return Ok(FusedOptimizer::new(self.optimizer.rule.kind));
        };
        let reshape = |moments: &Option<Mlp>| -> Result<Option<Mlp>, EngineError> {
            match moments {
                Some(m) => Ok(Some(apply_plan_with(m, plan, Surgery::Moments)?.0)),
                None => Ok(None),
            }
        };
        Ok(FusedOptimizer {
            rule: self.optimizer.rule,
            first: reshape(&self.optimizer.first)?,
            second: reshape(&self.optimizer.second)?,
        })
    }

    fn evaluate_now(&self, rows: &Rows, epoch: usize) -> EpochRecord {
        let mut ws = Workspace::default();
        let train = fused::forward(&self.mlp, &rows.train_x, &mut ws);
        let test = fused::forward(&self.mlp, &rows.test_x, &mut ws);
        record_from(&self.mlp, rows, epoch, &train, &test)
    }
}

impl TrainingPath for FusedPath {
    fn kind(&self) -> TrainPath {
        TrainPath::Fused
    }

    fn shape(&self) -> &Mlp {
        &self.mlp
    }

    fn network(&self) -> PathFuture<'_, Mlp> {
        ready(Ok(self.mlp.clone()))
    }

    fn begin_epoch(&mut self, rows: &Rows, order: &[usize]) {
        let d = rows.features.len();
        self.epoch_x.clear();
        self.epoch_y.clear();
        for &i in order {
            self.epoch_x
                .extend_from_slice(&rows.train_x[d * i..d * (i + 1)]);
            self.epoch_y.push(rows.train_labels[i]);
        }
    }

    fn step(&mut self, rows: &Rows, batch: Batch) -> bool {
        self.step_now(rows, batch)
    }

    fn gathering(&self) -> bool {
        self.gathering.is_some()
    }

    fn data_changed(&mut self) {
        self.gathering = None;
        if let Some(eval) = &mut self.evaluating {
            eval.restart();
        }
    }

    fn evaluation_fits(&self, rows: &Rows, test: bool) -> bool {
        FusedEval::fits_one_unit(&self.mlp, rows, test)
    }

    fn begin_evaluation(&mut self, test: bool) {
        self.evaluating = Some(FusedEval::new(test));
    }

    fn evaluation_unit<'a>(
        &'a mut self,
        rows: &'a Rows,
        epoch: usize,
    ) -> PathFuture<'a, Option<EpochRecord>> {
        let Some(eval) = &mut self.evaluating else {
            return ready(Ok(Some(self.evaluate_now(rows, epoch))));
        };
        if !eval.step(&self.mlp, rows, &mut self.ws) {
            return ready(Ok(None));
        }
        let record = if eval.test {
            eval.record(&self.mlp, rows, epoch)
        } else {
            train_only(&self.mlp, epoch, eval.train_loss(rows))
        };
        self.evaluating = None;
        ready(Ok(Some(record)))
    }

    fn evaluate<'a>(&'a self, rows: &'a Rows, epoch: usize) -> PathFuture<'a, EpochRecord> {
        ready(Ok(self.evaluate_now(rows, epoch)))
    }

    fn for_growth<'a>(&'a mut self, rows: &'a Rows) -> PathFuture<'a, (Mlp, Vec<Tensor<2>>)> {
        // Growth works on tensors: the current weights go up (no read back needed).
        let params = DeviceMlp::upload(&self.mlp, &rows.device).params;
        ready(Ok((self.mlp.clone(), params)))
    }

    fn grown<'a>(
        &'a mut self,
        _old: &'a Mlp,
        grown: &'a Mlp,
        carry: Option<&'a GrowthPlan>,
    ) -> PathFuture<'a, ()> {
        let result = self.next_optimizer(carry).map(|optimizer| {
            self.optimizer = optimizer;
            self.mlp = grown.clone();
        });
        ready(result)
    }

    fn hand_over(&self) -> Option<super::HandOver> {
        None
    }

    fn take_back(&mut self, _state: super::HandOver) {
        // Never called: this path hands nothing over.
    }

    fn restore(&mut self, mlp: &Mlp) {
        *self = FusedPath::new(mlp, self.optimizer.rule.kind);
    }

    fn predict<'a>(&'a self, rows: &'a Rows, coords: &'a [f32]) -> PathFuture<'a, Vec<f32>> {
        let inputs = rows.features.map(coords);
        ready(Ok(fused::forward(
            &self.mlp,
            &inputs,
            &mut Workspace::default(),
        )))
    }

    fn snapshot<'a>(
        &'a self,
        rows: &'a Rows,
        resolution: usize,
        thumb_resolution: usize,
    ) -> PathFuture<'a, Snapshot> {
        let mut ws = Workspace::default();
        let grid = rows.features.map(&grid_inputs(resolution));
        let out = fused::forward_for_drawing(&self.mlp, &grid, &mut ws);
        let thumbs = rows.features.map(&grid_inputs(thumb_resolution));
        let (_, units) = fused::forward_with_activations(&self.mlp, &thumbs, &mut ws);
        ready(Ok(Snapshot {
            resolution,
            n_outputs: n_outputs(rows.task),
            heat: fused::output_values(&out, rows.task),
            thumb_resolution,
            units,
            network: self.mlp.clone(),
            features: rows.features,
        }))
    }
}
