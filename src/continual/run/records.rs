//! What a run reports: the accuracy table's rows, each growth phase, the stage it is at and what
//! one call of `advance` did.

use serde::{Deserialize, Serialize};

use crate::continual::view::Added;
use crate::grow::{CandidateScore, GrowthPlan};

/// The accuracy table's row after a task ends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// The task that just ended (0-based).
    pub after_task: usize,
    /// Test accuracy on every task seen so far, `0..=after_task`.
    pub accuracy: Vec<f32>,
    /// Hidden units of the model (all tasks together).
    pub units: usize,
    /// Stored parameters of the model.
    pub params: usize,
}

impl TaskRecord {
    /// Mean accuracy over the tasks seen.
    pub fn average(&self) -> f32 {
        self.accuracy.iter().sum::<f32>() / self.accuracy.len().max(1) as f32
    }
}

/// What one growth phase did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContinualGrowth {
    /// The task that grew.
    pub task: usize,
    /// Growth phase within the task (0-based).
    pub phase: usize,
    /// Hidden units before and after.
    pub units_before: usize,
    /// Hidden units after.
    pub units_after: usize,
    /// The task's training loss before and right after the surgery.
    pub loss_before: f32,
    /// Training loss after the surgery.
    pub loss_after: f32,
    /// Σ of the chosen scores.
    pub predicted_change: f32,
    /// Every candidate with its score, chosen ones marked (a split candidate is a copy of the
    /// frozen unit it names).
    pub candidates: Vec<CandidateScore>,
    /// The applied plan (its splits are one-sided: copies).
    pub plan: GrowthPlan,
    /// The units it added.
    pub added: Vec<Added>,
}

/// Which part of a growth phase is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GrowPart {
    /// Step 1: `done` of `total` steps.
    Optimise {
        /// Steps taken.
        done: usize,
        /// Steps planned.
        total: usize,
    },
    /// Step 2: `done` of `total` path points.
    Score {
        /// Points evaluated.
        done: usize,
        /// Points planned.
        total: usize,
    },
}

/// Where a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "stage")]
pub enum ContinualStage {
    /// Training task `task`: block `phase`, `step` of `steps` steps done.
    Training {
        /// Current task.
        task: usize,
        /// Training block within the task (0..=phases).
        phase: usize,
        /// Steps done in the block.
        step: usize,
        /// Steps per block.
        steps: usize,
    },
    /// Growing task `task` in phase `phase`.
    Growing {
        /// Current task.
        task: usize,
        /// Growth phase within the task.
        phase: usize,
        /// Step 1 or Step 2, with progress.
        part: GrowPart,
    },
    /// Every task is done.
    Finished,
}

/// What one [`ContinualRun::advance`] call did.
///
/// [`ContinualRun::advance`]: super::ContinualRun::advance
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContinualAdvance {
    /// Work units used (a training step, a Step-1 step, a Step-2 point, or a phase or task
    /// boundary each).
    pub work: usize,
    /// Training steps taken.
    pub steps: usize,
    /// Growth phases completed.
    pub growths: usize,
    /// Tasks completed.
    pub tasks: usize,
}
