//! The page's continual-learning mode (`mode=continual`), without the page: Firefly growing
//! through a sequence of tasks beside one network fine-tuned on them, kept in step task by task;
//! what the page shows (the task strip, the accuracy table, the decision maps of the current
//! task) comes from here, so the UI only draws.
//!
//! The mode also answers the host-page API ([`ContinualPage::command`]: play, pause, step, reset,
//! export and import; `set` and `grow` are refused with a reason) and tells the host what
//! happens ([`ContinualPage::host_events`]: `progress` and `task-done`), and its run saves and
//! opens as a [`ContinualExport`]: both runs' whole state (sequence, current task, every task's
//! mask and head, every unit's owner, origin and frozen flag, the accuracy table), checked whole
//! before anything changes. The run-file types of both modes, and what Save writes, are in
//! `export.rs`.

use super::export::{
    CONTINUAL_FILE_IN_GROWTH, CONTINUAL_MODE, CONTINUAL_VERSION, ContinualExport, FORMAT, Opens,
    check_header, settings_by_key,
};
use super::host::{Command, EPOCH_EVENT_MS, ExportFuture, HostEvent, HostPage, RunStatus};
use super::{Cause, Level, Msg, Notice};
use crate::continual::{
    ContinualConfig, ContinualMethod, ContinualRun, ContinualStage, ContinualState, GrowPart,
    TaskSpec,
};
use crate::data::grid_inputs;
use crate::settings::{self, PageOptions, SETTINGS};
use crate::url::{parse_hash, to_hash};

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
    /// The task's name (`spiral3:0+1` for a class split).
    pub task: String,
    /// Firefly's accuracy now (its own mask and head).
    pub firefly: f32,
    /// Fine-tuning's accuracy now, once it has reached the task.
    pub fine_tune: Option<f32>,
}

/// The continual mode's two runs. See the module doc.
pub struct ContinualPage {
    options: PageOptions,
    firefly: ContinualRun,
    fine_tune: ContinualRun,
    running: bool,
    pub(super) notices: Vec<Notice>,
    version: u64,
}

/// What the host has been told of a continual page so far (the page keeps one).
#[derive(Clone, Debug, Default)]
pub struct ContinualCursor {
    last_ms: Option<f64>,
    seen: Option<(u64, ContinualStage, ContinualStage)>,
    tasks: (usize, usize),
    version: u64,
}

impl HostPage for ContinualPage {
    type Cursor = ContinualCursor;
    fn options(&self) -> &PageOptions {
        ContinualPage::options(self)
    }
    fn ready_event(&self) -> HostEvent {
        ContinualPage::ready_event(self)
    }
    fn host_events(&self, cursor: &mut ContinualCursor, now_ms: f64) -> Vec<HostEvent> {
        ContinualPage::host_events(self, cursor, now_ms)
    }
    fn export_event(&self) -> ExportFuture<'_> {
        Box::pin(std::future::ready(Ok(HostEvent::ContinualExport {
            run: Box::new(self.export()),
        })))
    }
}

impl ContinualPage {
    /// The settings of the page's runs: the options' sequence, seed and activation, the rest the
    /// engine's defaults.
    pub fn config(options: &PageOptions, method: ContinualMethod) -> ContinualConfig {
        let mut config = ContinualConfig {
            seed: options.config.seed,
            activation: options.config.model.activation,
            method,
            ..ContinualConfig::default()
        };
        config.set_tasks(&options.sequence);
        config
    }

    /// Both runs on the options' sequence, seed and activation.
    pub fn new(options: &PageOptions) -> Result<Self, String> {
        let run =
            |method| ContinualRun::new(Self::config(options, method)).map_err(|e| e.to_string());
        Ok(ContinualPage {
            options: options.clone(),
            firefly: run(ContinualMethod::Firefly)?,
            fine_tune: run(ContinualMethod::FineTune)?,
            running: options.autoplay,
            notices: Vec::new(),
            version: 0,
        })
    }

    /// Says what in the page's link was refused (an unknown data set in the sequence, a bad
    /// seed…): the runs use the defaults for those settings, and the notice names each.
    pub fn report_link(&mut self, problems: &[crate::url::Problem]) {
        if problems.is_empty() {
            return;
        }
        let parts: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        Notice::new(
            Cause::Link,
            Level::Error,
            format!(
                "From the link: {}. The defaults are used for those; the rest of the link applies.",
                parts.join("; ")
            ),
        )
        .show_in(&mut self.notices);
    }

    /// The page's options (after an import: its sequence, seed and activation).
    pub fn options(&self) -> &PageOptions {
        &self.options
    }

    /// The link of the experiment.
    pub fn link(&self) -> String {
        to_hash(&self.options)
    }

    /// Counts resets and imports (what the maps redraw on).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The notices to show (the page's one notice type: the link's problems, an import done
    /// or refused), oldest first.
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    /// The newest notice, if any.
    pub fn notice(&self) -> Option<&Notice> {
        self.notices.last()
    }

    /// What a message of the page does in continual mode, as [`super::Playground::update`] does
    /// in growth mode: play or pause, a step (nothing once every task is learnt), a reset, a run
    /// file read or refused, a notice dismissed. A changed setting reloads the page (the UI's
    /// edge does that), and the messages of growth mode alone (Grow, points, data files) do
    /// nothing here. An error is a reset that could not build the runs.
    pub fn update(&mut self, msg: Msg) -> Result<(), String> {
        match msg {
            Msg::TogglePlay => self.toggle(),
            Msg::Step => {
                let _ = self.step();
            }
            Msg::Reset => self.reset()?,
            Msg::ImportRun(name, text) => self.open_file(&name, &text),
            Msg::ImportFailed(name, why) => self.refuse_file(&name, &why),
            Msg::Dismiss(cause) => self.dismiss(cause),
            _ => {}
        }
        Ok(())
    }

    /// Dismisses the notice of `cause`.
    pub fn dismiss(&mut self, cause: Cause) {
        self.notices.retain(|n| n.cause != cause);
    }

    /// Starts both runs again from the page's options (paused unless it autoplays).
    pub fn reset(&mut self) -> Result<(), String> {
        let fresh = ContinualPage::new(&self.options)?;
        self.firefly = fresh.firefly;
        self.fine_tune = fresh.fine_tune;
        self.running = self.options.autoplay;
        self.notices.clear();
        self.version += 1;
        Ok(())
    }

    /// Pauses, then does one training block's worth of work on each run (Firefly's growth phase
    /// counts as work too), kept in step as [`ContinualPage::work`] does.
    pub fn step(&mut self) -> Result<(), String> {
        if self.finished() {
            return Err("every task of the sequence is learnt; send reset to start again".into());
        }
        self.running = false;
        self.advance(self.firefly.config().steps_per_phase)
            .map(|_| ())
    }

    /// Both runs as a run file (see [`ContinualExport`]).
    pub fn export(&self) -> ContinualExport {
        ContinualExport {
            format: FORMAT.into(),
            version: CONTINUAL_VERSION,
            mode: CONTINUAL_MODE.into(),
            link: self.link(),
            settings: settings_by_key(&self.options),
            firefly: self.firefly.state(),
            fine_tune: self.fine_tune.state(),
        }
    }

    /// Shows an exported continual run again, paused, checked whole first: its settings must
    /// name a continual sequence, both runs must have been made from them (Firefly and
    /// fine-tuning) and each state must fit together ([`ContinualRun::restore`]). The page keeps
    /// its own layout, hidden controls and allowed origins. On error nothing changed.
    pub fn import(&mut self, run: ContinualExport) -> Result<(), String> {
        check_header(&run.format, run.version, CONTINUAL_VERSION)?;
        if run.mode != CONTINUAL_MODE {
            return Err(CONTINUAL_FILE_IN_GROWTH.into());
        }
        let (linked, problems) = parse_hash(&run.link);
        if let Some(p) = problems.first() {
            return Err(format!("the run's settings: {}", p.message));
        }
        if !linked.continual {
            return Err("the run's settings are not of the continual mode (mode=continual)".into());
        }
        let mut options = self.options.clone();
        options.sequence = linked.sequence;
        options.config.seed = linked.config.seed;
        options.config.data.seed = linked.config.data.seed;
        options.config.model.activation = linked.config.model.activation;
        for (name, method, state) in [
            ("Firefly's run", ContinualMethod::Firefly, &run.firefly),
            (
                "the fine-tuned run",
                ContinualMethod::FineTune,
                &run.fine_tune,
            ),
        ] {
            if state.config != Self::config(&options, method) {
                return Err(format!(
                    "{name} (sequence {}, seed {}, method {}) was not made from the file's link (its sequence, seed or method differ)",
                    settings::echo(&state.config.sequence_name()),
                    state.config.seed,
                    state.config.method
                ));
            }
        }
        let restore = |name: &str, state: ContinualState| {
            ContinualRun::restore(state).map_err(|e| format!("{name}: {e}"))
        };
        let firefly = restore("Firefly's run", run.firefly)?;
        let fine_tune = restore("the fine-tuned run", run.fine_tune)?;
        let task = firefly.task().min(firefly.n_tasks().saturating_sub(1));
        self.options = options;
        self.firefly = firefly;
        self.fine_tune = fine_tune;
        self.running = false;
        self.version += 1;
        Notice::new(
            Cause::Import,
            Level::Info,
            format!(
                "Showing the imported continual run: {} of {} tasks learnt, task {} ({}) next (paused). Play trains on with a fresh optimiser.",
                self.firefly.table().len(),
                self.firefly.n_tasks(),
                task + 1,
                self.options
                    .sequence
                    .get(task)
                    .map_or_else(|| "?".to_string(), TaskSpec::name)
            ),
        )
        .show_in(&mut self.notices);
        Ok(())
    }

    /// Carries out a host page's command; on error nothing changed and the message says why.
    /// `export` changes nothing: [`HostPage::export_event`] answers it.
    pub fn command(&mut self, command: Command) -> Result<(), String> {
        match command {
            Command::Set { .. } => Err(
                "set is not available in continual mode: the sequence and seed come from the page's link (or send import)".into(),
            ),
            Command::Grow => Err(
                "grow is not available in continual mode: each task grows after each of its training blocks".into(),
            ),
            Command::Play => {
                if self.finished() {
                    return Err(
                        "every task of the sequence is learnt; send reset to start again".into(),
                    );
                }
                self.running = true;
                Ok(())
            }
            Command::Pause => {
                self.running = false;
                Ok(())
            }
            Command::Step => self.step(),
            Command::Reset => self.reset(),
            // Answered through `HostPage::export_event`: nothing to change.
            Command::Export => Ok(()),
            Command::Import { run } => self.open(*run),
        }
    }

    /// The `ready` event.
    pub fn ready_event(&self) -> HostEvent {
        HostEvent::Ready {
            link: self.link(),
            settings: SETTINGS
                .iter()
                .map(|s| (s.key, s.get(&self.options)))
                .collect(),
        }
    }

    /// A `progress` event for the runs as they are.
    pub fn progress_event(&self) -> HostEvent {
        HostEvent::Progress {
            state: self.state_name(),
            sequence: self.options.sequence.iter().map(TaskSpec::name).collect(),
            task: self.task(),
            firefly: RunStatus::of_continual(&self.firefly),
            fine_tune: RunStatus::of_continual(&self.fine_tune),
        }
    }

    /// `running`, `paused` or `finished`.
    pub fn state_name(&self) -> &'static str {
        if self.finished() {
            "finished"
        } else if self.running() {
            "running"
        } else {
            "paused"
        }
    }

    /// The events due since `cursor`: a `task-done` for each task a run finished, and at most
    /// one `progress` event every [`EPOCH_EVENT_MS`] while the runs move (or when their state
    /// changes). `now_ms` is any clock in milliseconds.
    pub fn host_events(&self, cursor: &mut ContinualCursor, now_ms: f64) -> Vec<HostEvent> {
        let mut events = Vec::new();
        if cursor.version != self.version {
            cursor.version = self.version;
            cursor.tasks = (0, 0);
        }
        for (name, run, seen) in [
            ("firefly", &self.firefly, &mut cursor.tasks.0),
            ("fine-tune", &self.fine_tune, &mut cursor.tasks.1),
        ] {
            let table = run.table();
            if table.len() < *seen {
                *seen = 0;
            }
            for record in &table[*seen..] {
                events.push(HostEvent::TaskDone {
                    run: name,
                    record: record.clone(),
                });
            }
            *seen = table.len();
        }
        let now = (
            self.version * 4 + u64::from(self.running) * 2 + u64::from(self.finished()),
            self.firefly.stage(),
            self.fine_tune.stage(),
        );
        let due = cursor.last_ms.is_none_or(|t| now_ms - t >= EPOCH_EVENT_MS);
        if cursor.seen != Some(now) && (due || !events.is_empty()) {
            cursor.seen = Some(now);
            cursor.last_ms = Some(now_ms);
            events.push(self.progress_event());
        }
        events
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

    /// Play (`true`) or pause.
    pub fn set_running(&mut self, running: bool) {
        self.running = running;
    }

    /// Does about `budget` units of work on each run while playing. Fine-tuning, which has no
    /// growth work, may finish a task first; it then waits, without training on the next task,
    /// until Firefly has finished it too, so both show the same task. Returns the training
    /// steps taken (Firefly's, or fine-tuning's once Firefly is done): what Speed paces.
    pub fn work(&mut self, budget: usize) -> Result<usize, String> {
        if !self.running() {
            return Ok(0);
        }
        self.advance(budget)
    }

    fn advance(&mut self, budget: usize) -> Result<usize, String> {
        let mut steps = 0;
        if !self.firefly.is_finished() {
            steps = self
                .firefly
                .advance(budget)
                .map_err(|e| e.to_string())?
                .steps;
        }
        let ahead = self.fine_tune.table().len() > self.firefly.table().len();
        if !self.fine_tune.is_finished() && !ahead {
            let tuned = self
                .fine_tune
                .advance(budget)
                .map_err(|e| e.to_string())?
                .steps;
            if self.firefly.is_finished() {
                steps = tuned;
            }
        }
        Ok(steps)
    }

    /// Takes settings that change only how the page is shown and paced (Speed): the runs go on
    /// as they were. Anything else is refused, unchanged (a new sequence or seed reloads).
    pub fn set_view_options(&mut self, next: PageOptions) -> Result<(), String> {
        let changed = crate::settings::changed(&self.options, &next);
        if let Some(s) = changed
            .iter()
            .find(|s| s.effect != crate::settings::Effect::View)
        {
            return Err(format!(
                "{} does not change a continual run as it goes",
                s.label
            ));
        }
        self.options = next;
        Ok(())
    }

    /// Whether either run is in a growth phase (whose units of work cost more than a training
    /// step's).
    pub fn growing(&self) -> bool {
        [&self.firefly, &self.fine_tune]
            .iter()
            .any(|r| matches!(r.stage(), ContinualStage::Growing { .. }))
    }

    /// The task both runs show: Firefly's.
    pub fn task(&self) -> usize {
        self.firefly
            .task()
            .min(self.firefly.n_tasks().saturating_sub(1))
    }

    /// Where Firefly's run is, for the toolbar (continual mode has no epochs to count), e.g.
    /// `Task 2 of 3 (xor) · growth phase 4 of 8: Step 1, 37 of 100`.
    pub fn progress(&self) -> String {
        let run = &self.firefly;
        let n = run.n_tasks();
        let name = |t: usize| {
            run.config()
                .task_names()
                .get(t)
                .cloned()
                .unwrap_or_default()
        };
        let task = |t: usize| format!("Task {} of {n} ({})", t + 1, name(t));
        match run.stage() {
            ContinualStage::Finished => format!("All {n} tasks learnt"),
            ContinualStage::Training {
                task: t,
                phase,
                step,
                steps,
            } => format!(
                "{} · training block {} of {}, step {step} of {steps}",
                task(t),
                phase + 1,
                run.config().phases() + 1
            ),
            ContinualStage::Growing {
                task: t,
                phase,
                part,
            } => {
                let (step, done, total) = match part {
                    GrowPart::Optimise { done, total } => ("Step 1", done, total),
                    GrowPart::Score { done, total } => ("Step 2", done, total),
                };
                format!(
                    "{} · growth phase {} of {}: {step}, {done} of {total}",
                    task(t),
                    phase + 1,
                    run.config().phases()
                )
            }
        }
    }

    /// What a map's caption says of `run` beside its name: the task shown and how many of the
    /// network's units its head reads (its mask), e.g. `spiral · reads 14 of 25 units`.
    pub fn map_caption(&self, run: &ContinualRun) -> String {
        let task = self.task();
        let name = run
            .config()
            .task_names()
            .get(task)
            .cloned()
            .unwrap_or_default();
        let net = run.net();
        let reads = net.heads.get(task).map_or(0, |h| h.units.len());
        format!("{name} · reads {reads} of {}", count(net.n_units(), "unit"))
    }

    /// The network diagram's caption for `run`, e.g. `25 hidden units, coloured by …`.
    pub fn diagram_caption(run: &ContinualRun) -> String {
        format!(
            "{}, coloured by the task that added them; ringed: unlocked copies",
            count(run.net().n_units(), "hidden unit")
        )
    }

    /// The task strip: every task of the sequence and where it is.
    pub fn strip(&self) -> Vec<(String, TaskState)> {
        let current = self.firefly.task();
        let done = self.firefly.table().len();
        self.firefly
            .config()
            .task_names()
            .into_iter()
            .enumerate()
            .map(|(t, name)| {
                let state = if t < done {
                    TaskState::Done
                } else if t == current {
                    TaskState::Current
                } else {
                    TaskState::Next
                };
                (name, state)
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
            .task_names()
            .into_iter()
            .zip(&firefly)
            .enumerate()
            .map(|(t, (task, &acc))| TaskRow {
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

/// `n` of `noun`, in the singular for one: `1 unit`, `25 units`.
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
