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

use crate::data::Dataset;
use crate::grow::Method;
use crate::settings::{self, PageOptions, method_label};

pub mod continual;
mod explain;
mod export;
mod figure3;
mod host;
mod notice;
mod relocate;
mod update;
mod work;

use crate::train::{GrowOn, GrowthStage, Session, Stacked, Stage, TrainPath};
use crate::url::{Problem, parse_hash, to_hash};
pub use explain::{candidate_name, explanation};
pub use export::{
    CONTINUAL_FILE_IN_GROWTH, CONTINUAL_MODE, ContinualExport, ExportedRun,
    GROWTH_FILE_IN_CONTINUAL, MAX_IMPORT_BYTES, Opens, Role, RunExport, RunFile, SaveBody,
    SaveFile, SaveKind, Saves, csv,
};
pub use figure3::{BandPoint, band};
pub use host::{
    Command, EPOCH_EVENT_MS, EventCursor, ExportFuture, HostEvent, HostPage, ModeStatus, RunStatus,
    Value, parse_command,
};
pub use notice::{Action, Cause, Level, Notice};
pub use relocate::SavedState;
pub use work::{HALF_RATE_FRAME_MS, training_budget_ms};

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
    /// A run file was read: its name and text (see [`Opens::open_file`]).
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
    /// Where every run's growth phases run ([`Playground::grow_on`]; the page leaves them on
    /// the runs' device).
    grow_on: GrowOn,
    data: Dataset,
    custom_data: bool,
    main: Session,
    baseline: Session,
    /// Seeds 1.. of both runs (Figure 3 over seeds), kept in step with the main run by epochs.
    seeds: Vec<Pair>,
    /// The seeds' runs training in one stack (where they can: tensor training on full batches;
    /// see [`Stacked`]), kept from frame to frame. Their sessions' own networks are stale while
    /// it lasts: whatever changes or replaces a seed calls [`Playground::unstack`] first, and
    /// [`Playground::export`] reads their networks from it.
    seed_stack: Option<Stacked>,
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
    /// The network the page's backend was chosen for under `auto`
    /// ([`crate::probe::auto_decides_for`]): a restart that changes it reloads the page, which
    /// decides again.
    backend_chosen_for: Option<usize>,
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
        let grow_on = GrowOn::Device;
        let (main, baseline, seeds) = sessions(&options, &data, &device, (path, grow_on))?;
        let running = options.autoplay;
        Ok(Playground {
            backend_chosen_for: crate::probe::auto_decides_for(&options.config),
            path,
            grow_on,
            seeds,
            seed_stack: None,
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

    /// Where every run's growth phases run from now on, the runs built again after a change
    /// included (the command line's `--grow-on`; the page keeps them on the runs' device).
    pub fn grow_on(&mut self, grow_on: GrowOn) {
        self.unstack();
        self.grow_on = grow_on;
        for session in self.sessions_mut() {
            session.grow_on(grow_on);
        }
    }

    /// The settings in force.
    pub fn options(&self) -> &PageOptions {
        &self.options
    }

    /// Records that the page's backend was chosen for `config`'s network (a grown network's,
    /// carried over a reload that decided again), so that a reset or a restart back to the
    /// settings' network decides once more.
    pub fn chose_backend_for(&mut self, config: &crate::config::RunConfig) {
        self.backend_chosen_for = crate::probe::auto_decides_for(config);
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

    /// Whether the seeds' runs are training in one stack now (see [`Stacked`]).
    pub fn seeds_in_stack(&self) -> bool {
        self.seed_stack.is_some()
    }

    /// Epochs the seeds' runs have trained in a stack, all of them together (each run's
    /// [`Session::epochs_stacked`]): none on the CPU's fused step.
    pub fn seed_epochs_stacked(&self) -> usize {
        (self.main_seeds().chain(self.baseline_seeds()))
            .map(Session::epochs_stacked)
            .sum()
    }

    /// Gives the seeds' runs their networks back from the stack, if they are in one (before
    /// reading a seed's network straight from its session; the next epoch stacks them again).
    pub fn unstack(&mut self) {
        if let Some(stack) = self.seed_stack.take() {
            stack.dissolve(&mut work::seed_sessions(&mut self.seeds));
        }
    }

    /// Every run's session: the main run, the baseline, then the seeds' runs (out of their stack
    /// only: call [`Playground::unstack`] first).
    fn sessions_mut(&mut self) -> impl Iterator<Item = &mut Session> {
        [&mut self.main, &mut self.baseline]
            .into_iter()
            .chain(work::seed_sessions(&mut self.seeds))
    }

    /// Every seed of the growing run (the first is [`Playground::main`]). Their histories are
    /// current; while the seeds train in a stack ([`Playground::seeds_in_stack`]) the networks
    /// of seeds 1.. are read through [`Playground::export`].
    pub fn main_seeds(&self) -> impl Iterator<Item = &Session> {
        std::iter::once(&self.main).chain(self.seeds.iter().map(|p| &p.main))
    }

    /// Every seed of the comparison run (the first is [`Playground::baseline`]); see
    /// [`Playground::main_seeds`].
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
        if settings::preset::is_opening(o) {
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
        Notice::new(cause, level, text).show_in(&mut self.notices);
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
    (path, grow_on): (TrainPath, GrowOn),
) -> Result<(Session, Session, Vec<Pair>), String> {
    let session = |config| -> Result<Session, String> {
        let mut session = Session::with_path(config, data.clone(), device.clone(), path)
            .map_err(|e| e.to_string())?;
        session.grow_on(grow_on);
        Ok(session)
    };
    let pair = |k: u64| -> Result<Pair, String> {
        let mut config = options.config.clone();
        config.seed = config.seed.wrapping_add(k);
        let main = session(config.clone())?;
        config.growth.method = options.baseline;
        let baseline = session(config)?;
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
