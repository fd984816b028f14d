//! Work on a large data set spread over several units of [`super::Session::advance`]: a
//! training step's gradients gathered a run of rows at a time ([`crate::fused::GradientSum`]),
//! and an evaluation computed a run of rows at a time ([`FusedEval`]). At the documented limit
//! (100,000 points, 50,000 of them for training) one full-batch epoch is tens of milliseconds of
//! work in a browser; split this way each unit stays near [`UNIT_WORK`] and a frame still answers
//! a click at once.
//!
//! The split never changes a number: a row's outputs do not depend on the other rows, and the
//! gradient sums add the rows in the same order whatever the runs, so a session advanced in
//! small budgets equals one advanced in large ones bit for bit. A data set small enough for one
//! run (Figure 3's 250 training points, the page's 500 points on the networks it opens with)
//! trains exactly as one unit per mini-batch.

use super::EpochRecord;
use super::path::Rows;
use crate::fused::{self, Workspace};
use crate::model::{Mlp, metrics_from_outputs, n_outputs};

/// The work one unit does on the fused path, in rows × (parameters + [`ROW_COST`]) of a forward
/// and backward pass: about 1 ms natively and 5–10 ms in a browser's WebAssembly.
pub(super) const UNIT_WORK: usize = 200_000;
/// What one row costs beyond the parameters (activations, the loss), in the same units.
const ROW_COST: usize = 8;
/// The fewest rows a unit covers, whatever the network. A network of up to 187 parameters
/// (8,8 on two inputs has 114) still trains a mini-batch of up to 1,024 rows in one unit; a
/// wide one (5,122 parameters at 1,024 units) takes the page's 500 training rows in runs of 64,
/// each about [`UNIT_WORK`].
pub(super) const MIN_UNIT_ROWS: usize = 64;

/// Rows of a forward and backward pass (a training step's gradients) one unit covers.
pub(super) fn step_rows(mlp: &Mlp) -> usize {
    (UNIT_WORK / (mlp.n_params() + ROW_COST)).max(MIN_UNIT_ROWS)
}

/// Rows of a forward pass alone (an evaluation) one unit covers: about twice
/// [`step_rows`], as a forward pass costs about half a forward and backward one.
pub(super) fn eval_rows(mlp: &Mlp) -> usize {
    2 * step_rows(mlp)
}

/// An evaluation of the fused network spread over units: its outputs on the training rows, then
/// (for an epoch's record) on the test rows, a run of rows at a time. The metrics equal
/// [`super::Session::evaluate`]'s.
#[derive(Clone, Debug)]
pub(super) struct FusedEval {
    outputs: Vec<f32>,
    rows: usize,
    /// Whether the test rows are evaluated too (an epoch's record).
    pub(super) test: bool,
}

impl FusedEval {
    /// An evaluation on the training rows, and the test rows when `test`.
    pub(super) fn new(test: bool) -> Self {
        FusedEval {
            outputs: Vec::new(),
            rows: 0,
            test,
        }
    }

    /// Rows of the evaluation: the training rows, and the test rows when asked for.
    fn total(&self, rows: &Rows) -> (usize, usize) {
        let test = if self.test { rows.test_labels.len() } else { 0 };
        (rows.n_train(), test)
    }

    /// Whether the whole evaluation fits in one unit (then it is done at once, as before).
    pub(super) fn fits_one_unit(mlp: &Mlp, rows: &Rows, test: bool) -> bool {
        let (train, test) = FusedEval::new(test).total(rows);
        train + test <= eval_rows(mlp)
    }

    /// Starts again from the first row (the data changed).
    pub(super) fn restart(&mut self) {
        self.outputs.clear();
        self.rows = 0;
    }

    /// Evaluates the next run of rows; returns whether every row is done.
    pub(super) fn step(&mut self, mlp: &Mlp, data: &Rows, ws: &mut Workspace) -> bool {
        let (n_train, n_test) = self.total(data);
        let total = n_train + n_test;
        let end = (self.rows + eval_rows(mlp)).min(total);
        let d = mlp.n_inputs.max(1);
        if self.rows < n_train {
            let to = end.min(n_train);
            let rows = &data.train_x[d * self.rows..d * to];
            let out = fused::forward(mlp, rows, ws);
            self.outputs.extend_from_slice(&out);
        }
        if end > n_train {
            let (from, to) = (self.rows.max(n_train) - n_train, end - n_train);
            let rows = &data.test_x[d * from..d * to];
            let out = fused::forward(mlp, rows, ws);
            self.outputs.extend_from_slice(&out);
        }
        self.rows = end;
        end >= total
    }

    /// The training loss, once [`FusedEval::step`] said the evaluation is done.
    pub(super) fn train_loss(&self, rows: &Rows) -> f32 {
        let k = n_outputs(rows.task);
        let n_train = rows.n_train();
        metrics_from_outputs(&self.outputs[..k * n_train], &rows.train_labels, rows.task).0
    }

    /// The epoch's record, once [`FusedEval::step`] said the evaluation (with the test rows) is
    /// done.
    pub(super) fn record(&self, mlp: &Mlp, rows: &Rows, epoch: usize) -> EpochRecord {
        let (train, test) = self.outputs.split_at(n_outputs(rows.task) * rows.n_train());
        super::path::record_from(mlp, rows, epoch, train, test)
    }
}
