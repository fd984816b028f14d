//! Continual learning by Firefly growth (the paper's Figure 2, spec §8).
//!
//! Tasks arrive one after another (e.g. circle → xor → spiral), each with its own output head.
//! The network is **one hidden layer** (tanh by default) shared by all tasks; each task's head
//! reads the units of its own mask ([`net`]). For each new task the network grows by the engine's
//! own grower, Step 1 / Step 2 and surgery, on the task's view ([`view`]: the task as an engine
//! [`crate::model::Mlp`] with its frozen units), choosing between **unlocked copies** of frozen
//! units (θ + εδ, trainable, added to the new task's mask beside the original, which gives it half
//! its head row in that task only: a one-sided split) and **new units** ([`grow`]), at most
//! `units_per_task` per task. Training is the engine's fused step with the frozen units'
//! gradients zeroed. When a task ends, the units it owns and its head are frozen, so every old
//! task, evaluated with its own mask and head, keeps bit-identical outputs. [`run`] schedules the
//! tasks and advances a bounded amount of work at a time (for a page), [`experiment`] runs every
//! method over seeds for the `firefly continual` command.
//!
//! Baselines on the same data and training budget ([`ContinualMethod`]): **random** growth (the
//! same masks, freezing and budget, candidates drawn at random from Firefly's starting pool),
//! **fine-tuning** one fixed network (a head per task; every unit keeps training, so old tasks
//! drift), **EWC** (the fine-tuning network with elastic weight consolidation's quadratic penalty
//! towards each earlier task's weights, weighted by its diagonal Fisher information, [`ewc`]), and
//! a **separate** fixed network per task.
//!
//! What a page calls: [`ContinualRun::new`] with a [`ContinualConfig`]; [`ContinualRun::advance`]
//! (bounded work) or [`ContinualRun::run_to_end`]; then [`ContinualRun::stage`],
//! [`ContinualRun::table`] (accuracy on every task after each task), [`ContinualRun::accuracies`]
//! (live), [`ContinualRun::net`] (units with owner, origin — copies name their parent — and
//! frozen flag; [`ContinualNet::users`] for the tasks reading a unit), [`ContinualRun::growths`]
//! (every candidate's score), [`ContinualRun::pending`] (candidates of a phase in progress),
//! [`ContinualRun::logits`] (maps) and [`ContinualRun::state`] / [`ContinualRun::restore`] (serde
//! export and import).

pub mod config;
pub mod ewc;
pub mod experiment;
pub mod grow;
pub mod net;
pub mod run;
pub mod view;

pub use config::{ContinualConfig, ContinualMethod, TaskSpec};
pub use grow::GrowthSettings;
pub use net::{ContinualNet, Head, Unit, UnitOrigin};
pub use run::{
    ContinualAdvance, ContinualGrowth, ContinualRun, ContinualStage, ContinualState, GrowPart,
    TaskRecord,
};
pub use view::{Added, TaskView};
