//! What a session has done: one record per epoch (bounded on long runs) and one event per
//! growth phase, with the points of Figure 3.

use serde::{Deserialize, Serialize};

use crate::grow::GrowthEvent;

/// Metrics after one epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epochs trained so far (1 after the first epoch).
    pub epoch: usize,
    /// Mean training loss (cross-entropy or MSE).
    pub train_loss: f32,
    /// Mean test loss.
    pub test_loss: f32,
    /// Training accuracy (classification only).
    pub train_accuracy: Option<f32>,
    /// Test accuracy (classification only).
    pub test_accuracy: Option<f32>,
    /// Hidden units.
    pub units: usize,
    /// Trainable parameters.
    pub params: usize,
}

/// Everything a session has done.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// One record per evaluated epoch.
    pub epochs: Vec<EpochRecord>,
    /// One event per growth phase.
    pub growths: Vec<GrowthEvent>,
}

/// The most per-epoch records a history keeps; past it, older records are thinned (see
/// [`History::record`]), so a page left running for hours keeps a flat memory.
pub const MAX_EPOCH_RECORDS: usize = 20_000;

impl History {
    /// Adds an epoch's record. Past [`MAX_EPOCH_RECORDS`], every other record of the older half
    /// goes (the first stays): recent epochs stay whole, older ones at a coarser step, and the
    /// curves keep their shape. Growth events are never thinned.
    pub fn record(&mut self, record: EpochRecord) {
        self.epochs.push(record);
        if self.epochs.len() > MAX_EPOCH_RECORDS {
            self.thin_older_half();
        }
    }

    /// Thins the records by [`History::record`]'s rule until at most `max` (at least 2) are
    /// left: the first and the most recent stay, and growth events are kept whole.
    pub fn thin_to(&mut self, max: usize) {
        while self.epochs.len() > max.max(2) {
            let before = self.epochs.len();
            self.thin_older_half();
            if self.epochs.len() == before {
                // Three records: the older half is the first alone.
                self.epochs.remove(1);
            }
        }
    }

    /// Drops every other record of the older half (the first stays).
    fn thin_older_half(&mut self) {
        let half = self.epochs.len() / 2;
        let mut i = 0;
        self.epochs.retain(|_| {
            let keep = i >= half || i % 2 == 0;
            i += 1;
            keep
        });
    }

    /// Where a unit came from: the growth event's epoch and its lineage record (`None` for units
    /// of the starting network).
    pub fn origin(&self, id: crate::model::UnitId) -> Option<(usize, &crate::grow::Lineage)> {
        self.growths.iter().find_map(|g| {
            g.lineage
                .iter()
                .find(|l| l.child == id)
                .map(|l| (g.epoch, l))
        })
    }

    /// Lineage records over all growths.
    pub fn n_lineage(&self) -> usize {
        self.growths.iter().map(|g| g.lineage.len()).sum()
    }

    /// Training loss at the end of each phase against hidden units, plus the latest record: the
    /// points of Figure 3 for this run.
    pub fn loss_vs_units(&self) -> Vec<(usize, f32)> {
        let mut points: Vec<(usize, f32)> = self
            .growths
            .iter()
            .map(|g| (g.units_before, g.loss_before))
            .collect();
        if let Some(last) = self.epochs.last() {
            points.push((last.units, last.train_loss));
        }
        points
    }
}
