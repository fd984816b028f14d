//! A continual-learning run: tasks one after another, each trained and (for the growing methods)
//! grown, advanced a bounded amount of work at a time.
//!
//! Per task: `phases` training blocks of `steps_per_phase` full-batch Adam steps, each followed by
//! a growth phase of at most `units_per_phase` units (until `units_per_task` are added), then a
//! last training block; then every task seen so far is evaluated on its test points (one row of
//! the accuracy table) and the task's units and head are frozen. Every method gets the same number
//! of training steps per task. Randomness (data, initial weights, candidates) comes from generators
//! seeded by (seed, task, phase), so the same seed gives the same run, and a state exported at any
//! point restores to the same decisions (only Adam's moments of an interrupted training block are
//! not kept).

use burn::tensor::Device;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::config::{ContinualConfig, ContinualMethod, Purpose, TaskSpec, derive_seed};
use super::ewc::{self, EwcAnchor};
use super::grow::GrowthRun;
use super::net::{ContinualNet, Head, UnitOrigin};
use super::view::TaskView;
use crate::data::{Dataset, Task};
use crate::error::EngineError;
use crate::fused::{self, FusedOptimizer, Workspace};
use crate::grow::grower::GrowthStage;
use crate::grow::{CandidateScore, GrowthPlan, PendingCandidate, apply_plan, random};
use crate::model::{Matrix, Mlp, metrics_from_outputs};

mod records;
mod state;

pub use records::{ContinualAdvance, ContinualGrowth, ContinualStage, GrowPart, TaskRecord};
pub use state::{ContinualState, MAX_RESTORED_UNITS};

fn rng_for(seed: u64, task: usize, phase: usize, purpose: Purpose) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(derive_seed(seed, task, phase, purpose))
}

/// One task's data as model inputs.
#[derive(Clone, Debug)]
struct TaskData {
    dataset: Dataset,
    train_x: Vec<f32>,
    train_y: Vec<f32>,
    test_x: Vec<f32>,
    test_y: Vec<f32>,
}

impl TaskData {
    fn new(dataset: Dataset) -> Self {
        TaskData {
            train_x: Dataset::inputs(&dataset.train),
            train_y: Dataset::labels(&dataset.train),
            test_x: Dataset::inputs(&dataset.test),
            test_y: Dataset::labels(&dataset.test),
            dataset,
        }
    }

    /// `mlp`'s loss on the training points.
    fn train_loss(&self, mlp: &Mlp) -> f32 {
        let out = fused::forward(mlp, &self.train_x, &mut Workspace::default());
        metrics_from_outputs(&out, &self.train_y, mlp.task).0
    }
}

/// A task's points of its class subset, relabelled by their place in the subset (all points
/// when the subset is empty).
fn keep_classes(data: Dataset, spec: &TaskSpec) -> Result<Dataset, EngineError> {
    if spec.classes.is_empty() {
        return Ok(data);
    }
    let keep = |points: Vec<crate::data::Sample>| -> Vec<crate::data::Sample> {
        points
            .into_iter()
            .filter_map(|mut p| {
                let place = spec.classes.iter().position(|c| *c as f32 == p.label)?;
                p.label = place as f32;
                Some(p)
            })
            .collect()
    };
    let out = Dataset {
        name: spec.name(),
        task: Task::Classification {
            n_classes: spec.classes.len(),
        },
        train: keep(data.train),
        test: keep(data.test),
    };
    if out.train.is_empty() || out.test.is_empty() {
        return Err(EngineError::InvalidConfig(format!(
            "{}: too few points of these classes for a training and a test split",
            spec.name()
        )));
    }
    Ok(out)
}

enum Inner {
    Train,
    Grow(Box<GrowthRun>),
    Finished,
}

/// A continual-learning run. See the module doc.
pub struct ContinualRun {
    config: ContinualConfig,
    tasks: Vec<TaskData>,
    net: ContinualNet,
    task: usize,
    phase: usize,
    step: usize,
    added_this_task: usize,
    inner: Inner,
    /// The current task's view (`None` only while the first task is being set up).
    view: Option<TaskView>,
    optimizer: FusedOptimizer,
    ws: Workspace,
    last_loss: f32,
    table: Vec<TaskRecord>,
    growths: Vec<ContinualGrowth>,
    /// EWC's anchors, one per finished task (method `ewc` only; empty otherwise).
    anchors: Vec<EwcAnchor>,
    /// Where growth phases run (training is the fused CPU step either way).
    device: Device,
}

/// Glorot-uniform values for a `[rows, cols]` matrix, row-major.
fn glorot(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let limit = (6.0 / (rows + cols).max(1) as f32).sqrt();
    (0..rows * cols)
        .map(|_| rng.random_range(-limit..limit))
        .collect()
}

impl ContinualRun {
    /// A run at the start of its first task, growing on burn's CPU device.
    pub fn new(config: ContinualConfig) -> Result<Self, EngineError> {
        Self::on_device(config, Device::flex())
    }

    /// A run at the start of its first task whose growth phases run on `device` (natively, a
    /// wgpu device grows on the GPU; the page grows on the CPU device, whose reads are ready at
    /// once). Training stays the fused CPU step.
    pub fn on_device(config: ContinualConfig, device: Device) -> Result<Self, EngineError> {
        config.validate()?;
        let tasks = Self::generate(&config)?;
        let net = ContinualNet::new(2, config.activation);
        let optimizer = FusedOptimizer::new(config.optimizer);
        let mut run = ContinualRun {
            view: None,
            ws: Workspace::default(),
            config,
            tasks,
            net,
            task: 0,
            phase: 0,
            step: 0,
            added_this_task: 0,
            inner: Inner::Train,
            optimizer,
            last_loss: f32::NAN,
            table: Vec::new(),
            growths: Vec::new(),
            anchors: Vec::new(),
            device,
        };
        run.start_task(0)?;
        Ok(run)
    }

    fn generate(config: &ContinualConfig) -> Result<Vec<TaskData>, EngineError> {
        config
            .tasks()
            .iter()
            .enumerate()
            .map(|(t, spec)| {
                let data = Dataset::generate(&config.data_config(t))?;
                Ok(TaskData::new(keep_classes(data, spec)?))
            })
            .collect()
    }

    /// The settings.
    pub fn config(&self) -> &ContinualConfig {
        &self.config
    }

    /// The network now (units with owners, origins and frozen flags; masks and heads).
    pub fn net(&self) -> &ContinualNet {
        &self.net
    }

    /// Current task (0-based; the number of tasks once finished).
    pub fn task(&self) -> usize {
        self.task
    }

    /// Number of tasks in the sequence.
    pub fn n_tasks(&self) -> usize {
        self.tasks.len()
    }

    /// Task `task`'s data.
    pub fn data(&self, task: usize) -> Option<&Dataset> {
        self.tasks.get(task).map(|t| &t.dataset)
    }

    /// The accuracy table: one row per finished task.
    pub fn table(&self) -> &[TaskRecord] {
        &self.table
    }

    /// Every growth phase so far.
    pub fn growths(&self) -> &[ContinualGrowth] {
        &self.growths
    }

    /// EWC's anchors so far, one per finished task (empty for the other methods).
    pub fn ewc_anchors(&self) -> &[EwcAnchor] {
        &self.anchors
    }

    /// The current task's training loss (cross-entropy, without EWC's penalty) at the last step
    /// (NaN before the first).
    pub fn train_loss(&self) -> f32 {
        self.last_loss
    }

    /// Whether every task is done.
    pub fn is_finished(&self) -> bool {
        matches!(self.inner, Inner::Finished)
    }

    /// The candidates of the growth phase in progress, if one is.
    pub fn pending(&self) -> Option<Vec<PendingCandidate>> {
        match &self.inner {
            Inner::Grow(g) => Some(g.pending()),
            _ => None,
        }
    }

    /// Where the run is.
    pub fn stage(&self) -> ContinualStage {
        match &self.inner {
            Inner::Finished => ContinualStage::Finished,
            Inner::Train => ContinualStage::Training {
                task: self.task,
                phase: self.phase,
                step: self.step,
                steps: self.config.steps_per_phase,
            },
            Inner::Grow(g) => ContinualStage::Growing {
                task: self.task,
                phase: self.phase,
                part: match g.stage() {
                    GrowthStage::Propose => GrowPart::Optimise {
                        done: 0,
                        total: self.config.growth.step1_steps,
                    },
                    GrowthStage::Optimise { done, total } => GrowPart::Optimise { done, total },
                    GrowthStage::Score { done, total } => GrowPart::Score { done, total },
                    GrowthStage::Materialise => GrowPart::Score {
                        done: self.config.growth.path_points,
                        total: self.config.growth.path_points,
                    },
                },
            },
        }
    }

    /// Test accuracy now on every task with a head (the ones seen, the current one included).
    pub fn accuracies(&self) -> Result<Vec<f32>, EngineError> {
        (0..self.net.heads.len())
            .map(|t| {
                let d = &self.tasks[t];
                self.net.accuracy(t, &d.test_x, &d.test_y)
            })
            .collect()
    }

    /// Task `task`'s logits for inputs `[n, 2]` (model coordinates, as [`Dataset::inputs`]).
    pub fn logits(&self, task: usize, inputs: &[f32]) -> Result<Vec<f32>, EngineError> {
        self.net.logits(task, inputs)
    }

    /// Does at most `budget` units of work (at least one) and returns what it did; it returns
    /// early when a growth phase starts, whose units cost more than a training step's.
    pub fn advance(&mut self, budget: usize) -> Result<ContinualAdvance, EngineError> {
        let mut done = ContinualAdvance::default();
        while done.work < budget.max(1) {
            let phase_budget = self.phase_budget();
            match &mut self.inner {
                Inner::Finished => break,
                Inner::Train => {
                    if self.step < self.config.steps_per_phase {
                        self.train_step()?;
                        done.steps += 1;
                    } else if self.phase < self.config.phases() {
                        if self.end_block()? {
                            done.growths += 1;
                        }
                        if matches!(self.inner, Inner::Grow(_)) {
                            done.work += 1;
                            break; // a growth phase's units cost more: the caller paces them
                        }
                    } else {
                        self.end_task()?;
                        done.tasks += 1;
                    }
                }
                Inner::Grow(g) => {
                    if !g.step() {
                        let mut rng =
                            rng_for(self.config.seed, self.task, self.phase, Purpose::Grow);
                        let (plan, scored) = g.finish(phase_budget, &mut rng)?;
                        self.inner = Inner::Train;
                        self.grow_with(plan, scored)?;
                        done.growths += 1;
                    }
                }
            }
            done.work += 1;
        }
        Ok(done)
    }

    /// Runs every remaining task to the end.
    pub fn run_to_end(&mut self) -> Result<(), EngineError> {
        while !self.is_finished() {
            self.advance(100_000)?;
        }
        Ok(())
    }

    fn phase_budget(&self) -> usize {
        self.config.units_per_phase.min(
            self.config
                .units_per_task
                .saturating_sub(self.added_this_task),
        )
    }

    fn current_data(&self) -> &TaskData {
        &self.tasks[self.task]
    }

    /// The current task's view afresh from the network, with a fresh optimiser (its moments
    /// start at zero, so frozen units, whose gradients are zeroed, never move).
    fn relayout(&mut self) -> Result<(), EngineError> {
        self.view = Some(self.net.view(self.task)?);
        self.optimizer = FusedOptimizer::new(self.config.optimizer);
        Ok(())
    }

    fn view(&self) -> Result<&TaskView, EngineError> {
        self.view
            .as_ref()
            .ok_or_else(|| EngineError::Internal("no task in training".into()))
    }

    fn current_loss(&self) -> Result<f32, EngineError> {
        Ok(self.current_data().train_loss(&self.view()?.mlp))
    }

    /// One full-batch step of the engine's fused path on the task's view: gradients, frozen
    /// units' zeroed, EWC's penalty added, one optimiser update; the view is written back.
    fn train_step(&mut self) -> Result<(), EngineError> {
        let data = &self.tasks[self.task];
        let view = self
            .view
            .as_mut()
            .ok_or_else(|| EngineError::Internal("no task in training".into()))?;
        let loss = fused::gradients(&view.mlp, &data.train_x, &data.train_y, &mut self.ws);
        let grads = self
            .ws
            .gradients_mut()
            .ok_or_else(|| EngineError::Internal("no gradients".into()))?;
        fused::freeze(&view.mlp, grads, &view.frozen);
        let penalty = ewc::penalty(view, &self.anchors, self.config.ewc_lambda, Some(grads))?;
        if !(loss + penalty).is_finite() {
            return Err(EngineError::Diverged(loss + penalty));
        }
        let none = (crate::config::Regularization::None, 0.0);
        fused::update(
            &mut view.mlp,
            &mut self.optimizer,
            self.config.learning_rate,
            none,
            &mut self.ws,
        );
        self.net.write_back(view)?;
        self.last_loss = loss;
        self.step += 1;
        Ok(())
    }

    /// The end of a training block before growth phase `phase`: Firefly starts Step 1, random
    /// growth grows at once, the fixed networks just go on. Returns whether a growth completed.
    fn end_block(&mut self) -> Result<bool, EngineError> {
        let budget = self.phase_budget();
        let copies = self.config.method != ContinualMethod::FireflyNew;
        let mut rng = rng_for(self.config.seed, self.task, self.phase, Purpose::Grow);
        match self.config.method {
            ContinualMethod::Firefly | ContinualMethod::FireflyNew if budget > 0 => {
                let data = &self.tasks[self.task];
                let run = GrowthRun::new(
                    &self.device,
                    self.view()?,
                    copies,
                    &self.config.growth,
                    (&data.train_x, &data.train_y),
                    &mut rng,
                );
                self.inner = Inner::Grow(Box::new(run));
                Ok(false)
            }
            ContinualMethod::Random if budget > 0 => {
                // Random new units keep unit-norm fan-ins, the baseline's stronger form here:
                // drawn at random, steeper features learn worse.
                let view = self.view()?;
                let (plan, scored) = random::random_copies_and_new(
                    &view.mlp,
                    &view.frozen,
                    (copies, self.config.growth.candidates),
                    budget,
                    self.config.growth.eps_max,
                    &mut rng,
                );
                self.grow_with(plan, scored)?;
                Ok(true)
            }
            _ => {
                self.next_block()?;
                Ok(false)
            }
        }
    }

    /// On to the next training block; before the task's last one, the growing methods select
    /// its mask over old units.
    fn next_block(&mut self) -> Result<(), EngineError> {
        self.phase += 1;
        self.step = 0;
        if self.phase == self.config.phases() {
            self.select_mask()?;
        }
        Ok(())
    }

    /// The growing methods' mask selection after a task's growth phases
    /// ([`ContinualConfig::mask_tolerance`]): old units whose removal costs the task little leave
    /// its mask (and head), and its last training block trains the head over the units kept.
    fn select_mask(&mut self) -> Result<(), EngineError> {
        if !self.config.method.grows() || self.config.mask_tolerance == 0.0 {
            return Ok(());
        }
        let data = self.current_data();
        let (kept, dropped) = self
            .view()?
            .select_old_units(self.config.mask_tolerance, |mlp| data.train_loss(mlp));
        if !dropped.is_empty() {
            self.net.take_grown(&kept, &[])?;
            self.relayout()?;
        }
        Ok(())
    }

    fn grow_with(
        &mut self,
        plan: GrowthPlan,
        candidates: Vec<CandidateScore>,
    ) -> Result<(), EngineError> {
        let units_before = self.net.n_units();
        let loss_before = self.current_loss()?;
        let view = self.view()?;
        let (mlp, lineage) = apply_plan(&view.mlp, &plan)?;
        let grown = TaskView {
            task: self.task,
            mlp,
            frozen: view.frozen.clone(),
        };
        let added = self.net.take_grown(&grown, &lineage)?;
        self.relayout()?;
        let loss_after = self.current_loss()?;
        self.added_this_task += added.len();
        self.growths.push(ContinualGrowth {
            task: self.task,
            phase: self.phase,
            units_before,
            units_after: self.net.n_units(),
            loss_before,
            loss_after,
            predicted_change: plan.predicted_change(),
            candidates,
            plan,
            added,
        });
        self.next_block()
    }

    fn end_task(&mut self) -> Result<(), EngineError> {
        let accuracy = self.accuracies()?;
        self.table.push(TaskRecord {
            after_task: self.task,
            accuracy,
            units: self.net.n_units(),
            params: self.net.n_params(),
        });
        if self.config.method == ContinualMethod::Ewc {
            let data = self.current_data();
            let anchor = EwcAnchor::of_task(self.view()?, &data.train_x, &data.train_y)?;
            self.anchors.push(anchor);
        }
        if !self.config.method.shares_one_network() {
            self.net.freeze_task(self.task);
        }
        self.task += 1;
        if self.task >= self.tasks.len() {
            self.inner = Inner::Finished;
            Ok(())
        } else {
            self.start_task(self.task)
        }
    }

    fn add_initial_units(&mut self, task: usize, width: usize) {
        let mut rng = rng_for(self.config.seed, task, 0, Purpose::Units);
        let d = self.net.n_inputs;
        let w = glorot(d, width, &mut rng);
        for j in 0..width {
            let mut theta: Vec<f32> = (0..d).map(|i| w[i * width + j]).collect();
            theta.push(0.0);
            self.net.add_unit(theta, task, UnitOrigin::Initial);
        }
    }

    fn start_task(&mut self, task: usize) -> Result<(), EngineError> {
        let mask: Vec<_> = match self.config.method {
            ContinualMethod::Firefly | ContinualMethod::FireflyNew | ContinualMethod::Random => {
                if task == 0 {
                    self.add_initial_units(0, self.config.start_units);
                }
                self.net.units.iter().map(|u| u.id).collect()
            }
            ContinualMethod::FineTune | ContinualMethod::Ewc => {
                if task == 0 {
                    self.add_initial_units(0, self.config.fine_tune_width());
                }
                self.net.units.iter().map(|u| u.id).collect()
            }
            ContinualMethod::Separate => {
                let before = self.net.units.len();
                self.add_initial_units(task, self.config.task_network_width());
                self.net.units[before..].iter().map(|u| u.id).collect()
            }
        };
        let k = self.tasks[task].dataset.n_classes();
        let mut rng = rng_for(self.config.seed, task, 0, Purpose::Head);
        let weight = Matrix::from_vec(mask.len(), k, glorot(mask.len(), k, &mut rng));
        self.net.heads.push(Head {
            task,
            units: mask,
            weight,
            bias: vec![0.0; k],
            frozen: false,
        });
        self.phase = 0;
        self.step = 0;
        self.added_this_task = 0;
        self.inner = Inner::Train;
        self.relayout()?;
        self.last_loss = self.current_loss()?;
        Ok(())
    }
}
