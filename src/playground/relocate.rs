//! Moving the runs to another device when theirs is lost (a GPU that went away): the page keeps
//! a [`SavedState`] (every run's network and history, read while the device was good) and, on
//! loss, rebuilds every session on the new device from it and carries on, with a notice that
//! says what happened and from which epoch the runs go on.

use burn::tensor::Device;

use super::{Cause, Effects, Level, Notice, Playground, RunExport};
use crate::train::TrainPath;

/// Every run as it was at one moment, ready to be put back on another device.
#[derive(Clone, Debug)]
pub struct SavedState {
    run: RunExport,
    running: bool,
    epoch: usize,
}

impl SavedState {
    /// The main run's epoch when it was saved.
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// Whether the runs were playing.
    pub fn running(&self) -> bool {
        self.running
    }

    /// The runs' settings, data, networks and histories.
    pub fn run(&self) -> &RunExport {
        &self.run
    }
}

impl Playground {
    /// Reads every run's network (one read each) with its history, to go back to if the device
    /// is lost. Refused while a run has failed, or when a network could not be put back (a
    /// weight that is not a finite number, or a history whose last record counts other units,
    /// as just after a growth phase, before its first epoch ends).
    pub async fn save_state(&self) -> Result<SavedState, String> {
        if self.failed {
            return Err("a run has stopped".into());
        }
        let run = self.export().await.map_err(|e| e.to_string())?;
        for r in &run.runs {
            let finite = r
                .network
                .param_matrices()
                .iter()
                .all(|m| m.data.iter().all(|x| x.is_finite()));
            let fits = r
                .history
                .epochs
                .last()
                .is_none_or(|e| e.units == r.network.n_units());
            if !finite || !fits {
                return Err(format!(
                    "run {} ({:?}) cannot be put back now",
                    r.index, r.role
                ));
            }
        }
        Ok(SavedState {
            run,
            running: self.running,
            epoch: self.main.epoch(),
        })
    }

    /// Moves every run to `device`, training along `path`, from `saved` (the last good state):
    /// the networks and histories are put back, the optimiser starts fresh, playing goes on if
    /// it was on, and the notices stay (but the failure the lost device caused). Without a saved
    /// state, or when it cannot be put back, the runs start again on the new device. Either way
    /// a notice says that the GPU was lost (`why`), at which epoch, and where the runs go on.
    pub fn relocate(
        &mut self,
        device: Device,
        path: TrainPath,
        saved: Option<SavedState>,
        why: &str,
    ) -> Effects {
        let lost_at = self.main.epoch();
        let hash = self.hash.clone();
        let notices: Vec<Notice> = self
            .notices
            .iter()
            .filter(|n| !matches!(n.cause, Cause::Run | Cause::Import | Cause::Gpu))
            .cloned()
            .collect();
        self.device = device;
        self.path = path;
        let restored = match saved {
            Some(saved) => {
                let running = saved.running;
                self.import(saved.run).map(|fx| (fx, running))
            }
            None => Err("nothing was saved yet".into()),
        };
        let (mut fx, text) = match restored {
            Ok((fx, running)) => {
                self.notices = notices;
                self.running = running;
                let text = format!(
                    "The GPU was lost at epoch {lost_at} ({why}). The networks moved to the CPU backend and carry on from epoch {}, the last state saved before the loss.",
                    self.main.epoch()
                );
                (fx, text)
            }
            Err(e) => {
                self.notices = notices;
                let mut fx = Effects::default();
                self.restart(&mut fx);
                let text = format!(
                    "The GPU was lost at epoch {lost_at} ({why}). The runs could not be put back ({e}), so they start again on the CPU backend."
                );
                (fx, text)
            }
        };
        // The link stays the page's own: no new history entry for a move.
        fx.hash = fx.hash.filter(|h| h.hash != hash).map(|mut h| {
            h.push = false;
            h
        });
        self.raise(Cause::Gpu, Level::Info, text);
        fx
    }
}
