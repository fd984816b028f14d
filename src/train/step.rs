//! One unit of training work: a mini-batch step on the fused or the tensor path (a run of rows
//! of one on a large data set), the end of an epoch and its record.

use super::*;

impl Session {
    /// One mini-batch step; returns whether it completed an epoch.
    pub(super) async fn train_step(&mut self) -> Result<bool, EngineError> {
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
    pub(super) async fn end_step(&mut self, end: usize, n: usize) -> Result<bool, EngineError> {
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
    pub(super) fn record(&mut self, record: EpochRecord) -> Result<(), EngineError> {
        if !record.train_loss.is_finite() {
            return Err(EngineError::Diverged(record.train_loss));
        }
        self.history.record(record);
        Ok(())
    }

    /// One unit of the evaluation in progress ([`Session::evaluating`]); once it is done, what
    /// it was for: the epoch ends with its record, the growth phase gets its loss before, or the
    /// growth its loss after.
    pub(super) fn evaluate_unit(&mut self, done: &mut Advance) -> Result<(), EngineError> {
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
}
