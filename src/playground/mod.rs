//! The playground's state and its one `update`: everything the page does, without the page.
//!
//! Two sessions run side by side on the same data and seed: the *main* run grows with the chosen
//! method, the *baseline* with the comparison method; they are kept in step by epochs. Messages
//! carry their values ([`Msg::Set`] carries a setting's key and its text, read from the control
//! at the page's edge), and [`Playground::update`] is plain synchronous code, so every behaviour
//! of the controls is tested natively. [`Playground::work`] advances both runs by a time-boxed
//! amount. The browser UI (`ui`) turns DOM events into messages, applies the returned
//! [`Effects`] (the link, the controls) and draws; it never does maths.
//!
//! Notices belong to a [`Cause`]: a notice goes when its cause goes (a setting fixed, a reset,
//! the unit cap raised), and each can be dismissed.

use burn::tensor::Device;
use web_time::Instant;

use crate::data::{DOMAIN, Dataset, MAX_CSV_BYTES, Sample, Task};
use crate::error::EngineError;
use crate::grow::Method;
use crate::settings::{self, Effect, PageOptions, method_label};

pub mod continual;
mod explain;
mod export;
mod figure3;
mod host;
mod notice;
mod relocate;

use crate::train::{GrowthStage, Session, Stage, TrainPath};
use crate::url::{Problem, parse_hash, to_hash};
pub use explain::{candidate_name, explanation};
pub use export::{ExportedRun, MAX_IMPORT_BYTES, Role, RunExport, csv};
pub use figure3::{BandPoint, band};
pub use host::{Command, EPOCH_EVENT_MS, EventCursor, HostEvent, RunStatus, Value, parse_command};
pub use notice::{Action, Cause, Level, Notice};
use notice::{size, too_big};
pub use relocate::SavedState;

pub use crate::presets::{DEFAULT_EXPERIMENT, OPENING_CLAIM, default_experiment};

/// Everything the page can ask for; each message carries its values.
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    /// Play or pause.
    TogglePlay,
    /// Train exactly one more epoch, then pause.
    Step,
    /// Grow both runs now (also while paused).
    Grow,
    /// Start both runs again with the current settings.
    Reset,
    /// A control's value was committed: the setting's key and its text.
    Set(String, String),
    /// A control's value is being dragged: the link follows, the runs wait for [`Msg::Set`].
    Preview(String, String),
    /// The link changed (Back, Forward, a pasted link): its hash.
    Link(String),
    /// New points from the generator with this data seed.
    Regenerate(u64),
    /// Add a point at plane coordinates; `true` picks the other class.
    AddPoint(f32, f32, bool),
    /// Remove the point nearest to plane coordinates.
    RemovePoint(f32, f32),
    /// A CSV file is being read: its name and size in bytes.
    CsvLoading(String, f64),
    /// A CSV file was read: its name and text.
    Csv(String, String),
    /// A file could not be read: its name and why.
    CsvFailed(String, String),
    /// The person closed a notice.
    Dismiss(Cause),
    /// A run file was read: its name and text (see [`Playground::import_file`]).
    ImportRun(String, String),
    /// A run file could not be read: its name and why.
    ImportFailed(String, String),
    /// A notice's button was pressed.
    Act(Action),
}

/// How the page's link should change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashWrite {
    /// The new hash (without `#`).
    pub hash: String,
    /// Add a history entry (`true`) or replace the current one (`false`, while dragging).
    pub push: bool,
}

/// What the page must do after an update.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Effects {
    /// Write the link.
    pub hash: Option<HashWrite>,
    /// Put every control back to the options (a value was refused, or a link applied).
    pub controls: bool,
    /// The runs started again: forget snapshots and animations.
    pub restarted: bool,
    /// Load the page again (the backend changed).
    pub reload: bool,
}

/// What the page shows in `data-state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// Training (or growing).
    Running,
    /// Waiting for Play.
    Paused,
    /// Stopped by a failure (see the [`Cause::Run`] notice).
    Error,
}

impl RunState {
    /// The `data-state` value.
    pub fn name(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Paused => "paused",
            RunState::Error => "error",
        }
    }
}

/// Which part of a growth the main run is in, as slow motion stops at it.
fn stage_key(stage: Stage) -> u8 {
    match stage {
        Stage::Training => 0,
        Stage::Growing(GrowthStage::Propose | GrowthStage::Optimise { .. }) => 1,
        Stage::Growing(GrowthStage::Score { .. }) => 2,
        Stage::Growing(GrowthStage::Materialise) => 3,
    }
}

/// A control held by the playground ([`Playground::held`]): disabled, showing `text` instead
/// of its setting's value, with `why` as its help.
#[derive(Clone, Debug, PartialEq)]
pub struct Held {
    /// The setting's link key.
    pub key: &'static str,
    /// The value the control is put at (a slider's position; the control clamps it).
    pub value: String,
    /// What its read-out says.
    pub text: String,
    /// Why it is held and how to let it go.
    pub why: String,
}

/// The playground: settings, data, both runs, notices. See the module doc.
pub struct Playground {
    options: PageOptions,
    device: Device,
    path: TrainPath,
    data: Dataset,
    custom_data: bool,
    main: Session,
    baseline: Session,
    /// Seeds 1.. of both runs (Figure 3 over seeds), kept in step with the main run by epochs.
    seeds: Vec<Pair>,
    running: bool,
    failed: bool,
    step_to: Option<usize>,
    /// Growth counts each run must reach (a Grow press); `None` for a run that cannot grow.
    grow_to: Option<(Option<usize>, Option<usize>)>,
    notices: Vec<Notice>,
    explain: Option<String>,
    last_stage: u8,
    /// The setting being dragged (its first preview added a history entry).
    dragging: Option<&'static str>,
    /// The setting whose change wrote the last history entry: more changes of it (a slider
    /// stepped by arrow keys, a list by its arrows) replace that entry, so Back undoes the whole
    /// adjustment at once. Any other change, Reset or a link forgets it.
    adjusting: Option<&'static str>,
    /// The link as last written or read.
    hash: String,
    /// Counts changes of the data (the page redraws its cached points layer when it changes).
    data_version: u64,
    /// The epoch the main run may reach under the page's pace ([`Playground::work_paced`]): it
    /// grows by the speed × the time played, and drops back after each growth so that training
    /// waits while the growth is shown.
    allowance: f64,
    /// Whether the last [`Playground::work_paced`] call paced the runs.
    paced: bool,
}

/// How long training waits after each growth of the main run while the page is paced, in
/// seconds: the diagram animates the split or the new unit meanwhile.
pub const GROWTH_HOLD_S: f64 = 0.8;

/// The most epochs the pace lends ahead of the main run, in seconds of play: a frame that came
/// late (or a growth phase that took long) is not made up by a burst of training.
const PACE_AHEAD_S: f64 = 0.25;

impl Playground {
    /// Builds both runs from a link's hash; problems in the link become notices.
    pub fn from_hash(hash: &str, device: Device) -> Result<Self, String> {
        Playground::from_hash_on(hash, device, TrainPath::Fused)
    }

    /// [`Playground::from_hash`], training along `path` (the tensor path keeps training on a GPU).
    pub fn from_hash_on(hash: &str, device: Device, path: TrainPath) -> Result<Self, String> {
        let (options, problems) = parse_hash(hash);
        let mut playground = Playground::new_on(options, device, path)?;
        playground.report_link(&problems);
        Ok(playground)
    }

    /// Builds both runs from options.
    pub fn new(options: PageOptions, device: Device) -> Result<Self, String> {
        Playground::new_on(options, device, TrainPath::Fused)
    }

    /// Builds both runs from options, training along `path`.
    pub fn new_on(options: PageOptions, device: Device, path: TrainPath) -> Result<Self, String> {
        let data = Dataset::generate(&options.config.data).map_err(|e| e.to_string())?;
        let (main, baseline, seeds) = sessions(&options, &data, &device, path)?;
        let running = options.autoplay;
        Ok(Playground {
            path,
            seeds,
            hash: to_hash(&options),
            options,
            device,
            data,
            custom_data: false,
            main,
            baseline,
            running,
            failed: false,
            step_to: None,
            grow_to: None,
            notices: Vec::new(),
            explain: None,
            last_stage: 0,
            dragging: None,
            adjusting: None,
            data_version: 0,
            allowance: 0.0,
            paced: false,
        })
    }

    /// The settings in force.
    pub fn options(&self) -> &PageOptions {
        &self.options
    }

    /// The settings as a link hash (without `#`).
    pub fn settings_hash(&self) -> String {
        to_hash(&self.options)
    }

    /// The data both runs train on.
    pub fn data(&self) -> &Dataset {
        &self.data
    }

    /// Whether the runs train on the person's own points (a CSV file or clicked points), which
    /// the link does not carry.
    pub fn custom_data(&self) -> bool {
        self.custom_data
    }

    /// The controls that stand for something other than their setting for now, with what they
    /// show instead. While the data is the person's own (a CSV file or clicked points), the
    /// Points slider, which sets how many points the *generator* makes, shows how many points
    /// are loaded and is held: moving it would replace the person's points, which no link
    /// can bring back, by generated ones. Clicking a data set is the way back, and says so.
    pub fn held(&self) -> Vec<Held> {
        if !self.custom_data {
            return Vec::new();
        }
        let n = self.data.len();
        vec![Held {
            key: "points",
            value: n.to_string(),
            text: format!("{n} (your data)"),
            why: format!(
                "Your {n} points are shown; this slider sets how many points a generated data \
                 set has. Click a data set to go back to generated points."
            ),
        }]
    }

    /// A number that changes whenever the data changes.
    pub fn data_version(&self) -> u64 {
        self.data_version
    }

    /// The growing run.
    pub fn main(&self) -> &Session {
        &self.main
    }

    /// The comparison run.
    pub fn baseline(&self) -> &Session {
        &self.baseline
    }

    /// Every seed of the growing run (the first is [`Playground::main`]).
    pub fn main_seeds(&self) -> impl Iterator<Item = &Session> {
        std::iter::once(&self.main).chain(self.seeds.iter().map(|p| &p.main))
    }

    /// Every seed of the comparison run (the first is [`Playground::baseline`]).
    pub fn baseline_seeds(&self) -> impl Iterator<Item = &Session> {
        std::iter::once(&self.baseline).chain(self.seeds.iter().map(|p| &p.baseline))
    }

    /// Figure 3 over the seeds: for the growing run and the baseline, training loss against
    /// hidden units, mean and spread over the seeds at each unit count.
    pub fn figure3(&self) -> (Vec<BandPoint>, Vec<BandPoint>) {
        let runs = |seeds: Vec<&Session>| {
            band(
                &seeds
                    .iter()
                    .map(|s| s.history().loss_vs_units())
                    .collect::<Vec<_>>(),
            )
        };
        (
            runs(self.main_seeds().collect()),
            runs(self.baseline_seeds().collect()),
        )
    }

    /// Mini-batch steps trained by every run and seed together.
    pub fn steps_trained(&self) -> u64 {
        self.main_seeds()
            .chain(self.baseline_seeds())
            .map(Session::steps)
            .sum()
    }

    /// The fewest epochs any seed has trained (all of them catch up with the main run).
    pub fn slowest_epoch(&self) -> usize {
        self.main_seeds()
            .chain(self.baseline_seeds())
            .map(Session::epoch)
            .min()
            .unwrap_or(0)
    }

    /// The notices, oldest first.
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    /// The slow-motion explanation, while one is shown.
    pub fn explanation(&self) -> Option<&str> {
        self.explain.as_deref()
    }

    /// Running, paused or stopped by a failure.
    pub fn state(&self) -> RunState {
        if self.failed {
            RunState::Error
        } else if self.running {
            RunState::Running
        } else {
            RunState::Paused
        }
    }

    /// Whether a step or a growth asked for while paused is still being carried out.
    pub fn busy(&self) -> bool {
        self.step_to.is_some() || self.grow_to.is_some()
    }

    /// One line on what the opening experiment shows, or on what the chosen methods compare.
    pub fn what_to_look_for(&self) -> String {
        let o = &self.options;
        if self.custom_data {
            // The presets' and the opening experiment's words are about their generated data.
            return format!(
                "Your data: {}, {} points ({} for training). They are not in the link: a shared \
                 link opens the generated data set instead. Click a data set to go back to \
                 generated points. {}",
                settings::echo(&self.data.name),
                self.data.len(),
                self.data.train.len(),
                self.comparison()
            );
        }
        if let Some(preset) = settings::preset::current(o) {
            return preset.look_for.to_string();
        }
        if o.config == default_experiment() && o.baseline == PageOptions::default().baseline {
            return DEFAULT_EXPERIMENT.to_string();
        }
        self.comparison()
    }

    /// The generic words on the two runs.
    fn comparison(&self) -> String {
        let o = &self.options;
        let method = o.config.growth.method;
        if method == Method::None {
            return "The main network does not grow: choose a growth method to compare.".into();
        }
        format!(
            "Both networks start the same and grow every {} epochs: {} against {}. Compare their \
             training loss (purple and grey curves) at the same number of units.",
            o.config.train.epochs_per_growth,
            method_label(method),
            method_label(o.baseline)
        )
    }

    fn raise(&mut self, cause: Cause, level: Level, text: String) {
        self.notices.retain(|n| n.cause != cause);
        self.notices.push(Notice {
            cause,
            level,
            text,
            action: None,
        });
    }

    fn clear(&mut self, cause: Cause) {
        self.notices.retain(|n| n.cause != cause);
    }

    fn report_link(&mut self, problems: &[Problem]) {
        self.notices
            .retain(|n| !matches!(n.cause, Cause::Link | Cause::Setting(_)));
        let unknown: Vec<&str> = problems
            .iter()
            .filter(|p| p.key.is_none())
            .map(|p| p.message.as_str())
            .collect();
        if !unknown.is_empty() {
            self.raise(
                Cause::Link,
                Level::Error,
                format!("The link has {}; ignored.", unknown.join(", ")),
            );
        }
        for p in problems {
            if let Some(key) = p.key {
                self.raise(
                    Cause::Setting(key),
                    Level::Error,
                    format!("From the link, {}; the default is used.", p.message),
                );
            }
        }
    }

    /// Applies one message and says what the page must do.
    pub fn update(&mut self, msg: Msg) -> Effects {
        let mut fx = Effects::default();
        match msg {
            Msg::TogglePlay => {
                if !self.failed {
                    self.running = !self.running;
                    // Epochs stepped while paused are not owed to the pace.
                    if self.running {
                        self.allowance = self.allowance.max(self.main.epoch() as f64);
                    }
                    self.step_to = None;
                    self.explain = None;
                }
            }
            Msg::Step => {
                if !self.failed {
                    self.running = false;
                    self.explain = None;
                    self.step_to = Some(self.main.epoch() + 1);
                }
            }
            Msg::Grow => self.grow(),
            Msg::Reset => {
                // A reset puts every control back to the settings in force and rewrites the
                // link, so the notices about refused values lose their cause.
                self.notices
                    .retain(|n| !matches!(n.cause, Cause::Link | Cause::Setting(_)));
                self.restart(&mut fx);
                fx.controls = true;
                let hash = to_hash(&self.options);
                if hash != self.hash {
                    self.hash = hash.clone();
                    fx.hash = Some(HashWrite { hash, push: false });
                }
                self.dragging = None;
                self.adjusting = None;
            }
            Msg::Set(key, value) => self.set(&key, &value, false, &mut fx),
            Msg::Preview(key, value) => self.set(&key, &value, true, &mut fx),
            Msg::Link(hash) => {
                let hash = hash.trim_start_matches('#').to_string();
                if hash != self.hash {
                    let (options, problems) = parse_hash(&hash);
                    self.hash = hash;
                    self.dragging = None;
                    self.adjusting = None;
                    self.report_link(&problems);
                    self.apply(options, &mut fx);
                    fx.controls = true;
                }
            }
            Msg::Regenerate(seed) => {
                self.set("data-seed", &seed.to_string(), false, &mut fx);
            }
            Msg::AddPoint(x, y, other) => {
                let label = match (self.data.task, other) {
                    (Task::Classification { .. }, false) => 1.0,
                    (Task::Classification { .. }, true) => 0.0,
                    (Task::Regression, false) => 1.0,
                    (Task::Regression, true) => -1.0,
                };
                let mut data = self.data.clone();
                data.train.push(Sample { x, y, label });
                data.name = "custom".into();
                self.swap_data(data, &mut fx);
            }
            Msg::RemovePoint(x, y) => {
                let mut data = self.data.clone();
                let near = |s: &Sample| (s.x - x).powi(2) + (s.y - y).powi(2) < 0.36;
                let removed = if let Some(i) = data.train.iter().position(near) {
                    data.train.remove(i);
                    true
                } else if let Some(i) = data.test.iter().position(near) {
                    data.test.remove(i);
                    true
                } else {
                    false
                };
                if removed {
                    data.name = "custom".into();
                    self.swap_data(data, &mut fx);
                }
            }
            Msg::CsvLoading(name, bytes) => {
                self.clear(Cause::Data);
                if bytes > MAX_CSV_BYTES as f64 {
                    self.raise(Cause::Data, Level::Error, too_big(&name, bytes));
                } else {
                    self.raise(
                        Cause::Data,
                        Level::Info,
                        format!("Reading {} ({})…", settings::echo(&name), size(bytes)),
                    );
                }
            }
            Msg::Csv(name, text) => self.load_csv(&name, &text, &mut fx),
            Msg::CsvFailed(name, why) => self.raise(
                Cause::Data,
                Level::Error,
                format!("{}: {why}", settings::echo(&name)),
            ),
            Msg::Dismiss(cause) => self.clear(cause),
            Msg::ImportRun(name, text) => return self.import_file(&name, &text),
            Msg::Act(Action::ResetWithRate(lr)) => {
                // The rate first (it restarts nothing by itself), then a reset.
                let mut next = self.update(Msg::Set("lr".into(), lr.to_string()));
                let reset = self.update(Msg::Reset);
                next.restarted |= reset.restarted;
                next.controls |= reset.controls;
                next.hash = reset.hash.or(next.hash);
                return next;
            }
            Msg::ImportFailed(name, why) => self.raise(
                Cause::Import,
                Level::Error,
                format!("{}: {why}", settings::echo(&name)),
            ),
        }
        fx
    }

    fn grow(&mut self) {
        if self.failed {
            return;
        }
        let main = self
            .main
            .can_grow()
            .then(|| self.main.history().growths.len() + 1);
        let baseline = self
            .baseline
            .can_grow()
            .then(|| self.baseline.history().growths.len() + 1);
        if main.is_some() {
            self.main.request_growth();
        }
        if baseline.is_some() {
            self.baseline.request_growth();
        }
        for pair in &mut self.seeds {
            pair.main.request_growth();
            pair.baseline.request_growth();
        }
        if main.is_none() && baseline.is_none() {
            self.note_unit_cap();
            if self.options.config.growth.method == Method::None
                && self.options.baseline == Method::None
            {
                self.raise(
                    Cause::UnitCap,
                    Level::Info,
                    "Neither run's method grows: choose a growth method.".into(),
                );
            }
            return;
        }
        self.grow_to = Some((main, baseline));
        self.explain = None;
    }

    /// Raises or clears the unit-cap notice from the runs' state.
    fn note_unit_cap(&mut self) {
        let cap = self.options.config.train.max_units;
        let at_cap = |s: &Session| s.config().growth.method != Method::None && s.n_units() >= cap;
        let who = match (at_cap(&self.main), at_cap(&self.baseline)) {
            (true, true) => "Both networks have",
            (true, false) => "The growing network has",
            (false, true) => "The baseline network has",
            (false, false) => {
                self.clear(Cause::UnitCap);
                return;
            }
        };
        let started_above = [&self.main, &self.baseline]
            .into_iter()
            .filter(|s| s.history().growths.is_empty())
            .map(Session::n_units)
            .max()
            .filter(|&n| n > cap);
        let text = match started_above {
            Some(n) => format!(
                "The networks start with {n} hidden units, more than Max units ({cap}): they will not grow. Raise Max units above {n} to let them grow."
            ),
            None => format!(
                "{who} reached the unit cap ({cap} hidden units): growth has stopped and training goes on. Raise Max units to let it grow further."
            ),
        };
        self.raise(Cause::UnitCap, Level::Info, text);
    }

    fn set(&mut self, key: &str, value: &str, preview: bool, fx: &mut Effects) {
        let Some(setting) = settings::find(key) else {
            let mut next = self.options.clone();
            match settings::set_key(&mut next, key, value) {
                // `<key>_hide`: only the page changes.
                Ok(_) => {
                    self.options = next;
                    self.write_link(false, fx);
                    fx.controls = true;
                }
                Err(message) => self.raise(Cause::Link, Level::Error, message),
            }
            return;
        };
        let mut next = self.options.clone();
        if let Err(message) = setting.set(&mut next, value) {
            self.raise(Cause::Setting(setting.key), Level::Error, message);
            if !preview {
                fx.controls = true;
            }
            return;
        }
        self.clear(Cause::Setting(setting.key));
        let hash = to_hash(&next);
        // The first preview of a drag adds a history entry; the rest of the drag and the value
        // it is let go at replace it, and so do further changes of the same setting.
        let push = self.dragging != Some(setting.key) && self.adjusting != Some(setting.key);
        self.dragging = preview.then_some(setting.key);
        self.adjusting = Some(setting.key);
        if hash != self.hash {
            self.hash = hash.clone();
            fx.hash = Some(HashWrite { hash, push });
        }
        if !preview {
            if setting.key == "dataset"
                && self.custom_data
                && settings::changed(&self.options, &next).is_empty()
            {
                // The data set already chosen, clicked while the person's own points are
                // shown: back to generated points.
                self.custom_data = false;
                self.clear(Cause::Points);
                self.restart(fx);
                return;
            }
            self.apply(next, fx);
        }
    }

    /// Writes the link for the options in force, if it changed.
    fn write_link(&mut self, push: bool, fx: &mut Effects) {
        let hash = to_hash(&self.options);
        if hash != self.hash {
            self.hash = hash.clone();
            fx.hash = Some(HashWrite { hash, push });
        }
    }

    /// Makes `next` the options in force, doing what the changed settings need.
    fn apply(&mut self, next: PageOptions, fx: &mut Effects) {
        let changed = settings::changed(&self.options, &next);
        let strongest = |e: Effect| changed.iter().any(|s| s.effect == e);
        let old = std::mem::replace(&mut self.options, next);
        if strongest(Effect::Reload) {
            fx.reload = true;
        }
        if strongest(Effect::NewData) {
            self.custom_data = false;
            self.restart(fx);
        } else if strongest(Effect::Restart) {
            self.restart(fx);
        } else if strongest(Effect::Live) {
            let train = &self.options.config.train;
            let result = [&mut self.main, &mut self.baseline]
                .into_iter()
                .chain(
                    self.seeds
                        .iter_mut()
                        .flat_map(|p| [&mut p.main, &mut p.baseline]),
                )
                .try_for_each(|s| s.set_live(train));
            if let Err(e) = result {
                self.options = old;
                self.raise(Cause::Run, Level::Error, e.to_string());
                fx.controls = true;
                return;
            }
            if self.notices.iter().any(|n| n.cause == Cause::UnitCap) {
                self.note_unit_cap();
            }
        }
    }

    /// Starts both runs again from the options (new data unless the data is the person's own).
    fn restart(&mut self, fx: &mut Effects) {
        if !self.custom_data {
            match Dataset::generate(&self.options.config.data) {
                Ok(data) => {
                    self.data = data;
                    self.data_version += 1;
                    self.clear(Cause::Points);
                }
                Err(e) => {
                    self.raise(Cause::Data, Level::Error, e.to_string());
                    return;
                }
            }
        }
        match sessions(&self.options, &self.data, &self.device, self.path) {
            Ok((main, baseline, seeds)) => {
                self.main = main;
                self.baseline = baseline;
                self.seeds = seeds;
                // A paused page stays paused (Reset, r, or a setting that restarts); a run that
                // had stopped on a failure plays again, since it was not paused by the person.
                self.running = self.running || self.failed;
                self.failed = false;
                self.step_to = None;
                self.grow_to = None;
                self.explain = None;
                self.last_stage = 0;
                self.allowance = 0.0;
                self.clear(Cause::Run);
                self.clear(Cause::UnitCap);
                fx.restarted = true;
            }
            Err(problem) => self.raise(Cause::Run, Level::Error, problem),
        }
    }

    fn swap_data(&mut self, data: Dataset, fx: &mut Effects) {
        self.custom_data = true;
        let result = self
            .main
            .replace_data(data.clone())
            .and_then(|_| self.baseline.replace_data(data.clone()))
            .and_then(|_| {
                self.seeds.iter_mut().try_for_each(|p| {
                    p.main.replace_data(data.clone())?;
                    p.baseline.replace_data(data.clone())
                })
            });
        self.data = data;
        self.data_version += 1;
        if result.is_err() {
            self.restart(fx);
        }
    }

    fn load_csv(&mut self, name: &str, text: &str, fx: &mut Effects) {
        let shown = settings::echo(name);
        let ratio = self.options.config.data.train_ratio;
        match Dataset::from_csv(name, text, ratio, self.options.config.seed) {
            Ok(data) => {
                self.clear(Cause::Data);
                let outside = data
                    .train
                    .iter()
                    .chain(&data.test)
                    .filter(|p| p.x.abs() > DOMAIN || p.y.abs() > DOMAIN)
                    .count();
                let total = data.len();
                if outside > 0 {
                    self.raise(
                        Cause::Points,
                        Level::Info,
                        format!(
                            "{shown}: {outside} of {total} points lie outside the plane shown (−{DOMAIN} to {DOMAIN} on both axes); they are trained on but not drawn."
                        ),
                    );
                } else {
                    self.clear(Cause::Points);
                }
                self.custom_data = true;
                if data.task == self.data.task {
                    self.swap_data(data, fx);
                } else {
                    self.data = data;
                    self.data_version += 1;
                    self.restart(fx);
                }
            }
            Err(e) => self.raise(Cause::Data, Level::Error, format!("{shown}: {e}")),
        }
    }

    /// [`Playground::work`] at the page's pace: while playing, the main run may train
    /// `speed` epochs (the `speed` setting) per second of `elapsed_ms` (the time since the last
    /// call), never more than a quarter second ahead, and waits [`GROWTH_HOLD_S`] after each of
    /// its growths so the diagram can show it. Growth phases, Step and Grow are not paced. Speed
    /// 0 is as fast as the machine goes. The page calls this once per frame.
    pub async fn work_paced(&mut self, budget_ms: f64, elapsed_ms: f64) {
        let speed = self.options.speed as f64;
        self.paced = speed > 0.0;
        if self.paced && self.running {
            let ahead = self.main.epoch() as f64 + speed * PACE_AHEAD_S;
            self.allowance =
                (self.allowance + speed * elapsed_ms.max(0.0) / 1e3).min(ahead.max(self.allowance));
        }
        self.work(budget_ms).await;
        self.paced = false;
    }

    /// Advances both runs for at most `budget_ms` of work: the main run while playing (or until
    /// a step or a growth asked for while paused is done), the baseline kept in step by epochs.
    /// Growth phases of both runs are spread over frames. Not paced: see
    /// [`Playground::work_paced`].
    pub async fn work(&mut self, budget_ms: f64) {
        if self.failed {
            return;
        }
        let start = Instant::now();
        loop {
            let result = self.work_unit().await;
            match result {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    self.fail(e);
                    return;
                }
            }
            if start.elapsed().as_secs_f64() * 1e3 > budget_ms {
                return;
            }
        }
    }

    fn fail(&mut self, e: EngineError) {
        self.running = false;
        self.step_to = None;
        self.grow_to = None;
        self.failed = true;
        let lr = self.options.config.train.learning_rate;
        let (text, action) = match e {
            EngineError::Diverged(value) => (
                format!(
                    "The loss became {value}: training diverged at learning rate {lr}. Choose a smaller learning rate, then press Reset."
                ),
                smaller_rate(lr).map(Action::ResetWithRate),
            ),
            other => (format!("The run stopped: {other}"), None),
        };
        self.raise(Cause::Run, Level::Error, text);
        if let Some(notice) = self.notices.last_mut() {
            notice.action = action;
        }
    }

    /// One unit of work for whichever run needs it; `false` when there is nothing to do.
    async fn work_unit(&mut self) -> Result<bool, EngineError> {
        let (main_target, baseline_target) = self.grow_to.unwrap_or((None, None));
        let growing = |s: &Session| matches!(s.stage(), Stage::Growing(_));
        let main_growths = self.main.history().growths.len();
        let baseline_growths = self.baseline.history().growths.len();
        let main_grow_pending = main_target.is_some_and(|t| main_growths < t);
        let baseline_grow_pending = baseline_target.is_some_and(|t| baseline_growths < t);

        let baseline_due = self.baseline.epoch() < self.main.epoch()
            || growing(&self.baseline)
            || baseline_grow_pending;
        if baseline_due {
            self.baseline.advance(1).await?;
            return Ok(true);
        }
        let target = self.main.epoch();
        let behind = |s: &Session| s.epoch() < target || growing(s) || s.growth_requested();
        for pair in &mut self.seeds {
            for s in [&mut pair.baseline, &mut pair.main] {
                if behind(s) {
                    s.advance(1).await?;
                    return Ok(true);
                }
            }
        }
        let step_pending = self.step_to.is_some_and(|t| self.main.epoch() < t);
        let in_pace = !self.paced || (self.main.epoch() as f64) < self.allowance.floor();
        let main_due =
            (self.running && in_pace) || step_pending || main_grow_pending || growing(&self.main);
        if !main_due {
            self.step_to = None;
            self.grow_to = None;
            return Ok(false);
        }
        self.main.advance(1).await?;
        self.check_unit_cap();
        let key = stage_key(self.main.stage());
        if key != self.last_stage {
            let finished_growth = key == 0;
            self.last_stage = key;
            if finished_growth && self.paced {
                // Training waits while the page shows the growth.
                self.allowance =
                    self.main.epoch() as f64 - self.options.speed as f64 * GROWTH_HOLD_S;
            }
            if self.options.slow_motion {
                // Slow motion waits for Play after each part, also within a Grow press.
                self.explain = Some(explanation(
                    &self.options.config.growth,
                    key,
                    finished_growth
                        .then(|| self.main.history().growths.last())
                        .flatten(),
                ));
                self.running = false;
                self.step_to = None;
                self.grow_to = None;
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Shows the unit-cap notice once a growing run can grow no more.
    fn check_unit_cap(&mut self) {
        let cap = self.options.config.train.max_units;
        let at_cap = |s: &Session| s.config().growth.method != Method::None && s.n_units() >= cap;
        let shown = self.notices.iter().any(|n| n.cause == Cause::UnitCap);
        if (at_cap(&self.main) || at_cap(&self.baseline)) != shown {
            self.note_unit_cap();
        }
    }
}

/// A learning rate of the list about a tenth of `lr` (the largest at most `lr`/10, else the
/// largest below `lr`), or `None` below the smallest.
pub fn smaller_rate(lr: f32) -> Option<f32> {
    const RATES: [f32; 10] = [10.0, 3.0, 1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 0.0001];
    RATES
        .iter()
        .copied()
        .find(|&r| r <= lr / 10.0 * 1.001)
        .or_else(|| RATES.iter().copied().find(|&r| r < lr * 0.999))
}

/// Builds the main and baseline sessions on the same data and seed.
fn sessions(
    options: &PageOptions,
    data: &Dataset,
    device: &Device,
    path: TrainPath,
) -> Result<(Session, Session, Vec<Pair>), String> {
    let pair = |k: u64| -> Result<Pair, String> {
        let mut config = options.config.clone();
        config.seed = config.seed.wrapping_add(k);
        let main = Session::with_path(config.clone(), data.clone(), device.clone(), path)
            .map_err(|e| e.to_string())?;
        config.growth.method = options.baseline;
        let baseline = Session::with_path(config, data.clone(), device.clone(), path)
            .map_err(|e| e.to_string())?;
        Ok(Pair { main, baseline })
    };
    let first = pair(0)?;
    let seeds = (1..options.seeds.clamp(1, settings::MAX_SEEDS) as u64)
        .map(pair)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((first.main, first.baseline, seeds))
}

/// One seed of both runs.
struct Pair {
    main: Session,
    baseline: Session,
}
