//! One unit of training work: a mini-batch step on the session's path (a run of rows of one on
//! a large data set), the end of an epoch and its record.

use super::*;

impl Session {
    /// One unit of a mini-batch step; returns whether it completed an epoch.
    pub(super) async fn train_step(&mut self) -> Result<bool, EngineError> {
        let n = self.data.train.len();
        let batch_size = match self.config.train.batch_size {
            0 => n,
            b => b.min(n),
        };
        if self.batch == 0 && batch_size < n && !self.path.gathering() {
            let mut order: Vec<usize> = (0..n).collect();
            order.shuffle(&mut self.rng);
            self.path.begin_epoch(&self.rows, &order);
        }
        let start = self.batch * batch_size;
        let batch = Batch {
            start,
            len: batch_size.min(n - start),
            whole: batch_size >= n,
            learning_rate: self.learning_rate,
            penalty: (
                self.config.train.regularization,
                self.config.train.regularization_rate,
            ),
        };
        if !self.path.step(&self.rows, batch) {
            return Ok(false);
        }
        self.end_step(start + batch.len, n).await
    }

    /// Bookkeeping after a mini-batch that ended at `end` of `n` samples.
    pub(super) async fn end_step(&mut self, end: usize, n: usize) -> Result<bool, EngineError> {
        self.batch += 1;
        self.steps += 1;
        if end < n {
            return Ok(false);
        }
        self.batch = 0;
        let recorded = self.next_record_within(1).is_some();
        if recorded && !self.path.evaluation_fits(&self.rows, true) {
            // A large data set: the epoch ends once its record is evaluated, over units.
            self.path.begin_evaluation(true);
            self.evaluating = Some(Measure::Epoch);
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

    /// Which of the next `limit` epochs (counted from 1) is the first to end with a record:
    /// every `eval_every` epochs, and the last epoch before a growth is due.
    pub(super) fn next_record_within(&self, limit: usize) -> Option<usize> {
        let every = self.config.train.eval_every.max(1);
        let to_eval = every - self.epoch % every;
        let to_growth = (self.config.train.epochs_per_growth)
            .saturating_sub(self.epochs_since_growth)
            .max(1);
        Some(to_eval.min(to_growth)).filter(|&j| j <= limit)
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
    pub(super) async fn evaluate_unit(&mut self, done: &mut Advance) -> Result<(), EngineError> {
        let Some(measure) = &self.evaluating else {
            return Ok(());
        };
        let epoch = self.epoch + usize::from(matches!(measure, Measure::Epoch));
        let t = Instant::now();
        done.work += 1;
        let Some(record) = self.path.evaluation_unit(&self.rows, epoch).await? else {
            self.time_growth(t);
            return Ok(());
        };
        let Some(measure) = self.evaluating.take() else {
            return Ok(());
        };
        match measure {
            Measure::Epoch => {
                self.epoch += 1;
                self.epochs_since_growth += 1;
                self.record(record)?;
                done.epochs += 1;
            }
            Measure::Before => {
                if let Some(growth) = &mut self.growth {
                    growth.loss_before = record.train_loss;
                }
                self.time_growth(t);
            }
            Measure::After(mut event) => {
                event.loss_after = record.train_loss;
                self.finish_growth(*event);
                done.growths += 1;
            }
        }
        Ok(())
    }
}
