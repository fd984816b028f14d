//! Moving the runs to another device: the page keeps a [`SavedState`] (every run's network and
//! history, read while the device was good) and rebuilds every session on the new device from
//! it ([`Playground::resume`]). When a GPU is lost ([`Playground::relocate`]) a notice says what
//! happened and from which epoch the runs go on; when a growing network has outgrown the
//! backend chosen for it, the page carries the state over a reload that decides again
//! (`ui::carry`).

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::{Cause, Effects, Level, Notice, Playground, RunExport};
use crate::train::TrainPath;

/// Every run as it was at one moment, ready to be put back on another device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

    /// The state with at most `max_records` epoch records in all, shared evenly among the
    /// runs (each history thinned as a long run thins it, [`crate::train::History::thin_to`]):
    /// small enough to carry over a reload in the tab's session storage (a few MB) after a
    /// long run over many seeds. Networks, growth events and data are kept whole.
    pub fn bounded(mut self, max_records: usize) -> SavedState {
        let per_run = max_records / self.run.runs.len().max(1);
        for run in &mut self.run.runs {
            run.history.thin_to(per_run);
        }
        self
    }

    /// The main run's network.
    pub fn main_network(&self) -> Option<&crate::model::Mlp> {
        let main = |r: &&super::export::ExportedRun| r.role == super::Role::Main && r.index == 0;
        self.run.runs.iter().find(main).map(|r| &r.network)
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
        self.device = device;
        self.path = path;
        self.notices.retain(|n| n.cause != Cause::Gpu);
        let restored = saved.ok_or_else(|| "nothing was saved yet".to_string());
        let (fx, text) = match restored.and_then(|saved| self.resume(saved)) {
            Ok(fx) => {
                let text = format!(
                    "The GPU was lost at epoch {lost_at} ({why}). The networks moved to the CPU backend and carry on from epoch {}, the last state saved before the loss.",
                    self.main.epoch()
                );
                (fx, text)
            }
            Err(e) => {
                self.notices
                    .retain(|n| !matches!(n.cause, Cause::Run | Cause::Import));
                let mut fx = Effects::default();
                self.restart(&mut fx);
                keep_link(&mut fx, &hash);
                let text = format!(
                    "The GPU was lost at epoch {lost_at} ({why}). The runs could not be put back ({e}), so they start again on the CPU backend."
                );
                (fx, text)
            }
        };
        self.raise(Cause::Gpu, Level::Info, text);
        fx
    }

    /// Puts every run back as `saved` has it, on this page's device and training path: the
    /// networks and histories, playing if they were, the optimiser fresh. The notices stay (but
    /// a run's failure, which the state predates), and the link is the page's own, with no new
    /// history entry. On error nothing changed.
    pub fn resume(&mut self, saved: SavedState) -> Result<Effects, String> {
        let hash = self.hash.clone();
        let notices: Vec<Notice> = self
            .notices
            .iter()
            .filter(|n| !matches!(n.cause, Cause::Run | Cause::Import))
            .cloned()
            .collect();
        let mut fx = self.import(saved.run)?;
        self.notices = notices;
        self.running = saved.running;
        keep_link(&mut fx, &hash);
        Ok(fx)
    }
}

/// The link stays the page's own (`hash`) over a move: an effect that would write it anew
/// replaces it without a new history entry, and one that writes it as it is goes.
fn keep_link(fx: &mut Effects, hash: &str) {
    fx.hash = fx.hash.take().filter(|h| h.hash != hash).map(|mut h| {
        h.push = false;
        h
    });
}
