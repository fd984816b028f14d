//! The page's continual-learning mode (`mode=continual`), without the page: Firefly growing
//! through a sequence of tasks beside one network fine-tuned on them, kept in step task by task;
//! what the page shows (the task strip, the accuracy table, the decision maps of the current
//! task) comes from here, so the UI only draws.

use crate::continual::{ContinualConfig, ContinualMethod, ContinualRun};
use crate::data::{DatasetKind, grid_inputs};
use crate::settings::PageOptions;

/// Where a task of the strip is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// Learnt: Firefly's units for it are frozen.
    Done,
    /// Being learnt.
    Current,
    /// Still to come.
    Next,
}

/// One row of the accuracy table: a task seen, and each run's test accuracy on it now.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskRow {
    /// The task's data set.
    pub task: DatasetKind,
    /// Firefly's accuracy now (its own mask and head).
    pub firefly: f32,
    /// Fine-tuning's accuracy now, once it has reached the task.
    pub fine_tune: Option<f32>,
}

/// The continual mode's two runs. See the module doc.
pub struct ContinualPage {
    firefly: ContinualRun,
    fine_tune: ContinualRun,
    running: bool,
}

impl ContinualPage {
    /// Both runs on the options' sequence, seed and activation.
    pub fn new(options: &PageOptions) -> Result<Self, String> {
        let config = ContinualConfig {
            sequence: options.sequence.clone(),
            seed: options.config.seed,
            activation: options.config.model.activation,
            ..ContinualConfig::default()
        };
        let run = |method| {
            ContinualRun::new(ContinualConfig {
                method,
                ..config.clone()
            })
            .map_err(|e| e.to_string())
        };
        Ok(ContinualPage {
            firefly: run(ContinualMethod::Firefly)?,
            fine_tune: run(ContinualMethod::FineTune)?,
            running: options.autoplay,
        })
    }

    /// The growing run.
    pub fn firefly(&self) -> &ContinualRun {
        &self.firefly
    }

    /// The fine-tuned run.
    pub fn fine_tune(&self) -> &ContinualRun {
        &self.fine_tune
    }

    /// Whether the runs train.
    pub fn running(&self) -> bool {
        self.running && !self.finished()
    }

    /// Play or pause.
    pub fn toggle(&mut self) {
        self.running = !self.running;
    }

    /// Both runs learnt every task.
    pub fn finished(&self) -> bool {
        self.firefly.is_finished() && self.fine_tune.is_finished()
    }

    /// Does about `budget` units of work on each run. Fine-tuning, which has no growth work, may
    /// finish a task first; it then waits, without training on the next task, until Firefly has
    /// finished it too, so both show the same task.
    pub fn work(&mut self, budget: usize) -> Result<(), String> {
        if !self.running() {
            return Ok(());
        }
        if !self.firefly.is_finished() {
            self.firefly.advance(budget).map_err(|e| e.to_string())?;
        }
        let ahead = self.fine_tune.table().len() > self.firefly.table().len();
        if !self.fine_tune.is_finished() && !ahead {
            self.fine_tune.advance(budget).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// The task both runs show: Firefly's.
    pub fn task(&self) -> usize {
        self.firefly
            .task()
            .min(self.firefly.n_tasks().saturating_sub(1))
    }

    /// The task strip: every task of the sequence and where it is.
    pub fn strip(&self) -> Vec<(DatasetKind, TaskState)> {
        let current = self.firefly.task();
        let done = self.firefly.table().len();
        self.firefly
            .config()
            .sequence
            .iter()
            .enumerate()
            .map(|(t, &kind)| {
                let state = if t < done {
                    TaskState::Done
                } else if t == current {
                    TaskState::Current
                } else {
                    TaskState::Next
                };
                (kind, state)
            })
            .collect()
    }

    /// Each run's test accuracy now on every task Firefly has seen.
    pub fn rows(&self) -> Result<Vec<TaskRow>, String> {
        let firefly = self.firefly.accuracies().map_err(|e| e.to_string())?;
        let fine_tune = self.fine_tune.accuracies().map_err(|e| e.to_string())?;
        Ok(self
            .firefly
            .config()
            .sequence
            .iter()
            .zip(&firefly)
            .enumerate()
            .map(|(t, (&task, &acc))| TaskRow {
                task,
                firefly: acc,
                fine_tune: fine_tune.get(t).copied(),
            })
            .collect())
    }

    /// The class probabilities of `run` for `task` over a `resolution`² grid of the plane, from
    /// the top-left cell (what the decision map draws).
    pub fn heat(run: &ContinualRun, task: usize, resolution: usize) -> Result<Vec<f32>, String> {
        let logits = run
            .logits(task, &grid_inputs(resolution))
            .map_err(|e| e.to_string())?;
        let cells = resolution * resolution;
        let k = logits.len() / cells.max(1);
        let mut out = Vec::with_capacity(logits.len());
        for row in logits.chunks(k.max(1)) {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let exp: Vec<f32> = row.iter().map(|z| (z - max).exp()).collect();
            let sum: f32 = exp.iter().sum();
            out.extend(exp.iter().map(|e| e / sum));
        }
        Ok(out)
    }
}
