//! A run as plain serde data: `ContinualState`, the export (`ContinualRun::state`) and the
//! restore, checked whole before anything is put back.

use serde::{Deserialize, Serialize};

use super::{ContinualGrowth, ContinualRun, Inner, TaskRecord};
use crate::continual::config::{ContinualConfig, ContinualMethod};
use crate::continual::ewc::EwcAnchor;
use crate::continual::net::ContinualNet;
use crate::error::EngineError;
use crate::fused::{FusedOptimizer, Workspace};

/// Everything needed to show a run again or carry on: plain serde data (the network with every
/// unit's owner, origin and frozen flag, each task's mask and head), the accuracy table, the
/// growth events and where the run was.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContinualState {
    /// The run's settings (the data are regenerated from them).
    pub config: ContinualConfig,
    /// The network.
    pub net: ContinualNet,
    /// Current task (the number of tasks when finished).
    pub task: usize,
    /// Training block within the task.
    pub phase: usize,
    /// Steps done in the block.
    pub step: usize,
    /// Units added to the current task so far.
    pub added_this_task: usize,
    /// The accuracy table.
    pub table: Vec<TaskRecord>,
    /// Every growth phase.
    pub growths: Vec<ContinualGrowth>,
    /// EWC's anchors, one per finished task (method `ewc` only; absent from other runs' files
    /// and from files written before the method existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ewc: Vec<EwcAnchor>,
}

/// The most hidden units a restored state may have (as many as a run file of the growth mode).
pub const MAX_RESTORED_UNITS: usize = 4096;

impl ContinualRun {
    /// Puts a state back (from [`ContinualRun::state`], e.g. through a JSON export): checked whole
    /// first. The data are regenerated from the settings; a growth phase in progress starts again
    /// (with the same candidates), a training block carries on with fresh Adam moments.
    pub fn restore(state: ContinualState) -> Result<Self, EngineError> {
        let bad = |m: &str| Err(EngineError::InvalidConfig(format!("continual state: {m}")));
        state.config.validate()?;
        state.net.check()?;
        let n_tasks = state.config.sequence.len();
        let finished = state.task >= n_tasks;
        if state.task > n_tasks {
            return bad("the current task is past the sequence");
        }
        let heads = if finished { n_tasks } else { state.task + 1 };
        if state.net.heads.len() != heads || state.table.len() != state.task {
            return bad("the heads or the accuracy table do not match the current task");
        }
        if state.net.n_inputs != 2 || state.net.activation != state.config.activation {
            return bad("the network does not match the settings");
        }
        let tasks = Self::generate(&state.config)?;
        for (t, head) in state.net.heads.iter().enumerate() {
            if head.n_classes() != tasks[t].dataset.n_classes() {
                return bad("a head's classes do not match its task");
            }
            if t < state.task && !state.config.method.shares_one_network() && !head.frozen {
                return bad("a finished task's head is not frozen");
            }
        }
        if !finished
            && (state.phase > state.config.phases() || state.step > state.config.steps_per_phase)
        {
            return bad("the phase or step is out of range");
        }
        if state.added_this_task > state.config.units_per_task {
            return bad("more units were added to the task than its budget");
        }
        if state.net.units.len() > MAX_RESTORED_UNITS {
            return bad(&format!(
                "{} hidden units; at most {MAX_RESTORED_UNITS}",
                state.net.units.len()
            ));
        }
        for (t, record) in state.table.iter().enumerate() {
            if record.after_task != t || record.accuracy.len() != t + 1 {
                return bad(&format!(
                    "row {t} of the accuracy table does not fit task {t}"
                ));
            }
            if record
                .accuracy
                .iter()
                .any(|a| !(a.is_finite() && (0.0..=1.0).contains(a)))
            {
                return bad(&format!(
                    "row {t} of the accuracy table has an accuracy outside 0 to 1"
                ));
            }
        }
        let anchors = if state.config.method == ContinualMethod::Ewc {
            state.table.len()
        } else {
            0
        };
        if state.ewc.len() != anchors {
            return bad("EWC needs one anchor per finished task, other methods none");
        }
        for (t, anchor) in state.ewc.iter().enumerate() {
            if anchor.task != t {
                return bad("the EWC anchors are not in task order");
            }
            anchor.check(&state.net)?;
        }
        let optimizer = FusedOptimizer::new(state.config.optimizer);
        let mut run = ContinualRun {
            view: None,
            ws: Workspace::default(),
            config: state.config,
            tasks,
            net: state.net,
            task: state.task,
            phase: state.phase,
            step: state.step,
            added_this_task: state.added_this_task,
            inner: if finished {
                Inner::Finished
            } else {
                Inner::Train
            },
            optimizer,
            last_loss: f32::NAN,
            table: state.table,
            growths: state.growths,
            anchors: state.ewc,
            device: burn::tensor::Device::flex(),
        };
        if !finished {
            run.relayout()?;
        }
        Ok(run)
    }

    /// The run as plain data (see [`ContinualState`]).
    pub fn state(&self) -> ContinualState {
        ContinualState {
            config: self.config.clone(),
            net: self.net.clone(),
            task: self.task,
            phase: self.phase,
            step: self.step,
            added_this_task: self.added_this_task,
            table: self.table.clone(),
            growths: self.growths.clone(),
            ewc: self.anchors.clone(),
        }
    }
}
