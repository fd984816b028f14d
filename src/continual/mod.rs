//! Continual learning by Firefly growth (the paper's Figure 2, spec §8).
//!
//! Tasks arrive one after another (e.g. circle → xor → spiral), each with its own output head.
//! The network is **one hidden layer** (tanh by default) shared by all tasks; each task's head
//! reads the units of its own mask ([`net`]). For each new task the network grows by the same
//! Step 1 / Step 2 selection as the rest of the engine, choosing between **unlocked copies** of
//! existing frozen units (θ + εδ, trainable, added to the new task's mask beside the original,
//! which gives it half its head row in that task only; or, as an option, replacing the original
//! there) and **new units** ([`grow`]), at most `units_per_task` per task. When a task ends, the units it
//! owns and its head are frozen, so every old task, evaluated with its own mask and head, keeps
//! bit-identical outputs. [`run`] schedules the tasks and advances a bounded amount of work at a
//! time (for a page), [`experiment`] runs every method over seeds for the `firefly continual`
//! command.
//!
//! Baselines on the same data and training budget ([`ContinualMethod`]): **random** growth (the
//! same masks, freezing and budget, candidates drawn at random from Firefly's starting pool),
//! **fine-tuning** one fixed network (a head per task; every unit keeps training, so old tasks
//! drift), **EWC** (the fine-tuning network with elastic weight consolidation's quadratic penalty
//! towards each earlier task's weights, weighted by its diagonal Fisher information, [`ewc`]), and
//! a **separate** fixed network per task.
//!
//! Why host loops and hand-written gradients instead of burn: a task's network is a few dozen
//! tanh units on 250 points, where a tensor library's cost per operation dominates (see
//! [`crate::fused`]); plain loops make the five-seed experiment take seconds, keep "frozen" a
//! matter of which numbers are written (nothing else can touch them, so bit-identity is easy to
//! keep and to test), and run unchanged in the browser. The gradients of the task loss and of the
//! augmented loss (every ε and δ) are tested against finite differences.
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

pub use config::{ContinualConfig, ContinualMethod, TaskSpec};
pub use grow::{CandidateRef, ContinualPlan, CopyMode, GrowthSettings, ScoredCandidate};
pub use net::{ContinualNet, Head, Unit, UnitOrigin};
pub use run::{
    ContinualAdvance, ContinualGrowth, ContinualRun, ContinualStage, ContinualState, GrowPart,
    TaskRecord,
};
