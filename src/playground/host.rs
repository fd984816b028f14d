//! The host-page API: what a course page that embeds the playground in an iframe may ask of
//! it through `postMessage` ([`Command`]), and what the playground tells it ([`HostEvent`]).
//! Both are plain serde types: the page converts them with `serde-wasm-bindgen` at its edge, and
//! every command goes through [`Playground::command`], so good and bad payloads are tested
//! natively. A command either applies whole or changes nothing and says why.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::export::{ContinualExport, Opens, RunFile};
use super::{Effects, Msg, Playground, RunExport, RunState};
use crate::continual::{ContinualRun, ContinualStage, TaskRecord};
use crate::grow::GrowthEvent;
use crate::settings::{self, SETTINGS};
use crate::train::Session;

/// The fewest milliseconds between two `epoch` events.
pub const EPOCH_EVENT_MS: f64 = 250.0;
/// The most settings one `set` may carry.
pub const MAX_SET_KEYS: usize = 128;

/// A setting's value in a command: text as in a link, a number or a flag.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// Link text.
    Text(String),
    /// A number (written as link text).
    Number(f64),
    /// A flag (`1` or `0`).
    Flag(bool),
}

impl Value {
    /// The value as link text.
    pub fn text(&self) -> String {
        match self {
            Value::Text(t) => t.clone(),
            Value::Number(x) => format!("{x}"),
            Value::Flag(b) => u8::from(*b).to_string(),
        }
    }
}

/// What a host page may ask (`{"type": "set", "settings": {"dataset": "xor"}}`, `{"type":
/// "play"}` …).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Command {
    /// Set settings by link key (and `<key>_hide`), all or none.
    Set {
        /// Key → value.
        settings: BTreeMap<String, Value>,
    },
    /// Start training.
    Play,
    /// Pause.
    Pause,
    /// Train one epoch, then pause.
    Step,
    /// Grow both runs now.
    Grow,
    /// Start both runs again.
    Reset,
    /// Ask for the run's export (answered with an `export` event).
    Export,
    /// Show an exported run again.
    Import {
        /// The run, as `export` gave it (a growth-mode or a continual-learning run file).
        run: Box<RunFile>,
    },
}

impl Command {
    /// The command's name, as in its `type`.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Set { .. } => "set",
            Command::Play => "play",
            Command::Pause => "pause",
            Command::Step => "step",
            Command::Grow => "grow",
            Command::Reset => "reset",
            Command::Export => "export",
            Command::Import { .. } => "import",
        }
    }
}

/// One run, as an event reports it (`epoch` in growth mode, `progress` in continual mode): what
/// both modes say of a run, and beside it, in the same JSON object, what only its mode says.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunStatus {
    /// Growth method (`firefly`, `random-new`, …; `fine-tune` in continual mode).
    pub method: &'static str,
    /// Hidden units (in continual mode, all tasks' together).
    pub units: usize,
    /// Growth phases so far.
    pub growths: usize,
    /// Latest training loss (in continual mode, the current task's).
    pub train_loss: Option<f32>,
    /// The mode's own fields.
    #[serde(flatten)]
    pub mode: ModeStatus,
}

/// What only one page mode says of a run (its fields sit beside [`RunStatus`]'s).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ModeStatus {
    /// Growth mode.
    Growth {
        /// Epochs trained.
        epoch: usize,
        /// Architecture, e.g. `2-4-3r-2`.
        architecture: String,
        /// Latest test loss.
        test_loss: Option<f32>,
        /// Latest test accuracy (classification).
        test_accuracy: Option<f32>,
    },
    /// Continual mode.
    Continual {
        /// Where the run is (`training` with task, phase and step; `growing`; `finished`).
        stage: ContinualStage,
        /// Tasks learnt so far.
        tasks_done: usize,
        /// Stored parameters.
        params: usize,
        /// Test accuracy now on every task with a head, in sequence order.
        accuracy: Vec<f32>,
    },
}

impl RunStatus {
    fn of(session: &Session) -> Self {
        let last = session.history().epochs.last();
        RunStatus {
            method: session.config().growth.method.name(),
            units: session.n_units(),
            growths: session.history().growths.len(),
            train_loss: last.map(|r| r.train_loss),
            mode: ModeStatus::Growth {
                epoch: session.epoch(),
                architecture: session.shape().architecture(),
                test_loss: last.map(|r| r.test_loss),
                test_accuracy: last.and_then(|r| r.test_accuracy),
            },
        }
    }

    /// A continual run's status.
    pub(super) fn of_continual(run: &ContinualRun) -> Self {
        let loss = run.train_loss();
        RunStatus {
            method: run.config().method.name(),
            units: run.net().n_units(),
            growths: run.growths().len(),
            train_loss: loss.is_finite().then_some(loss),
            mode: ModeStatus::Continual {
                stage: run.stage(),
                tasks_done: run.table().len(),
                params: run.net().n_params(),
                accuracy: run.accuracies().unwrap_or_default(),
            },
        }
    }
}

/// What the playground tells its host page.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum HostEvent {
    /// The page is running and takes commands.
    Ready {
        /// The link of the experiment.
        link: String,
        /// Every setting by key, as link text.
        settings: BTreeMap<&'static str, String>,
    },
    /// Training went on, or the runs' state, units or growths changed (at most every
    /// [`EPOCH_EVENT_MS`]).
    Epoch {
        /// `running`, `paused` or `error`.
        state: &'static str,
        /// The data both runs train on: a generated data set's key (`spiral`), or the person's
        /// points (a CSV file's name, or `custom`).
        data: String,
        /// The growing run.
        main: RunStatus,
        /// The comparison run.
        baseline: RunStatus,
    },
    /// A run grew.
    Grew {
        /// `main` or `baseline`.
        run: &'static str,
        /// The growth, with every candidate's score.
        growth: Box<GrowthEvent>,
    },
    /// The page's height changed (for the iframe's height).
    Height {
        /// CSS pixels.
        height: f64,
    },
    /// Settings changed (by the person or by a command): the new link.
    Settings {
        /// The link of the experiment.
        link: String,
    },
    /// A command was refused; nothing changed.
    Error {
        /// The command's type, when it could be read.
        command: Option<String>,
        /// Why.
        message: String,
    },
    /// The run, as asked for by `export`.
    Export {
        /// Settings, data, histories and networks.
        run: Box<RunExport>,
    },
    /// The continual-learning run, as asked for by `export` in continual mode (the same `type`).
    #[serde(rename = "export")]
    ContinualExport {
        /// Settings and both runs' whole state.
        run: Box<ContinualExport>,
    },
    /// Continual mode: the runs went on (at most every [`EPOCH_EVENT_MS`]).
    Progress {
        /// `running`, `paused` or `finished`.
        state: &'static str,
        /// The tasks, in order.
        sequence: Vec<String>,
        /// The task both runs show (0-based).
        task: usize,
        /// The growing run.
        firefly: RunStatus,
        /// The fine-tuned run.
        fine_tune: RunStatus,
    },
    /// Continual mode: a run finished a task.
    TaskDone {
        /// `firefly` or `fine-tune`.
        run: &'static str,
        /// The task, test accuracy on every task seen, units and parameters.
        record: TaskRecord,
    },
}

/// What the host-page edge needs of the page, in either mode (growth, [`Playground`]; continual,
/// [`super::continual::ContinualPage`]): its options (for the allowed origins and the embed
/// layout), the `ready` event, and the events due since a cursor of its own kind. One edge
/// (`ui::host::Host`) serves both.
pub trait HostPage {
    /// What the host has been told so far.
    type Cursor: Default;
    /// The page's options.
    fn options(&self) -> &settings::PageOptions;
    /// The `ready` event.
    fn ready_event(&self) -> HostEvent;
    /// The events due since `cursor`; `now_ms` is any clock in milliseconds.
    fn host_events(&self, cursor: &mut Self::Cursor, now_ms: f64) -> Vec<HostEvent>;
    /// The answer to the `export` command: the whole run, as a Save of JSON writes it (growth
    /// mode reads its networks back from the device, hence a future).
    fn export_event(&self) -> ExportFuture<'_>;
}

/// What [`HostPage::export_event`] returns.
pub type ExportFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<HostEvent, String>> + 'a>>;

impl HostPage for Playground {
    type Cursor = EventCursor;
    fn options(&self) -> &settings::PageOptions {
        Playground::options(self)
    }
    fn ready_event(&self) -> HostEvent {
        Playground::ready_event(self)
    }
    fn host_events(&self, cursor: &mut EventCursor, now_ms: f64) -> Vec<HostEvent> {
        Playground::host_events(self, cursor, now_ms)
    }
    fn export_event(&self) -> ExportFuture<'_> {
        Box::pin(async move {
            let run = self.export().await.map_err(|e| e.to_string())?;
            Ok(HostEvent::Export { run: Box::new(run) })
        })
    }
}

/// What the host has been told so far (the page keeps one).
#[derive(Clone, Debug, Default)]
pub struct EventCursor {
    last_epoch_ms: Option<f64>,
    /// What the last `epoch` event said (see [`Playground::epoch_status`]).
    status: Option<EpochStatus>,
    growths: (usize, usize),
    link: Option<String>,
}

/// What an `epoch` event reports that may change: the state and both runs' epochs, units and
/// growths.
type EpochStatus = (&'static str, [usize; 6]);

impl Playground {
    /// Carries out a host page's command; on error nothing changed and the message says why.
    pub fn command(&mut self, command: Command) -> Result<Effects, String> {
        match command {
            Command::Set { settings } => self.set_all(&settings),
            Command::Play => {
                if self.failed {
                    return Err("the run stopped; send reset first".into());
                }
                if !self.running {
                    return Ok(self.update(Msg::TogglePlay));
                }
                Ok(Effects::default())
            }
            Command::Pause => {
                if self.running {
                    return Ok(self.update(Msg::TogglePlay));
                }
                self.step_to = None;
                Ok(Effects::default())
            }
            Command::Step => Ok(self.update(Msg::Step)),
            Command::Grow => Ok(self.update(Msg::Grow)),
            Command::Reset => Ok(self.update(Msg::Reset)),
            // Answered through `HostPage::export_event`: nothing to change.
            Command::Export => Ok(Effects::default()),
            Command::Import { run } => self.open(*run),
        }
    }

    /// Applies every setting or none.
    fn set_all(&mut self, values: &BTreeMap<String, Value>) -> Result<Effects, String> {
        if values.len() > MAX_SET_KEYS {
            return Err(format!(
                "{} settings in one set; at most {MAX_SET_KEYS}",
                values.len()
            ));
        }
        let mut next = self.options.clone();
        // The preset first, so that the other values apply on top of it, as in a link.
        let mut ordered: Vec<(&String, &Value)> = values.iter().collect();
        ordered.sort_by_key(|(k, _)| settings::find(k).map(|s| s.key) != Some("preset"));
        let mut touched = Vec::new();
        for (key, value) in ordered {
            if let Some(setting) = settings::set_key(&mut next, key, &value.text())? {
                touched.push(setting.key);
            }
        }
        let mut fx = Effects::default();
        for key in touched {
            self.clear(super::Cause::Setting(key));
        }
        self.apply(next, &mut fx);
        self.write_link(true, &mut fx);
        fx.controls = true;
        Ok(fx)
    }

    /// The events due since `cursor`: a growth of either run, new settings, and at most one
    /// `epoch` event every [`EPOCH_EVENT_MS`] while the runs move, and whenever their state
    /// (play, pause, a step done), units or growths changed (Grow while paused), so a host page
    /// never shows a state that has passed. `now_ms` is any clock in milliseconds.
    pub fn host_events(&self, cursor: &mut EventCursor, now_ms: f64) -> Vec<HostEvent> {
        let mut events = Vec::new();
        let link = self.settings_hash();
        if cursor.link.as_ref() != Some(&link) {
            if cursor.link.is_some() {
                events.push(HostEvent::Settings { link: link.clone() });
            }
            cursor.link = Some(link);
        }
        for (run, session, seen) in [
            ("main", &self.main, &mut cursor.growths.0),
            ("baseline", &self.baseline, &mut cursor.growths.1),
        ] {
            let growths = &session.history().growths;
            if growths.len() < *seen {
                // The run started again.
                *seen = 0;
            }
            for growth in &growths[*seen..] {
                events.push(HostEvent::Grew {
                    run,
                    growth: Box::new(growth.clone()),
                });
            }
            *seen = growths.len();
        }
        let status = self.epoch_status();
        let due = cursor
            .last_epoch_ms
            .is_none_or(|t| now_ms - t >= EPOCH_EVENT_MS);
        if cursor.status != Some(status) && due {
            cursor.status = Some(status);
            cursor.last_epoch_ms = Some(now_ms);
            events.push(self.epoch_event());
        }
        events
    }

    /// What an `epoch` event would report that may change.
    fn epoch_status(&self) -> EpochStatus {
        let (m, b) = (&self.main, &self.baseline);
        (
            self.state().name(),
            [
                m.epoch(),
                b.epoch(),
                m.n_units(),
                b.n_units(),
                m.history().growths.len(),
                b.history().growths.len(),
            ],
        )
    }

    /// An `epoch` event for the runs as they are.
    pub fn epoch_event(&self) -> HostEvent {
        HostEvent::Epoch {
            state: self.state().name(),
            data: self.data.name.clone(),
            main: RunStatus::of(&self.main),
            baseline: RunStatus::of(&self.baseline),
        }
    }

    /// The `ready` event.
    pub fn ready_event(&self) -> HostEvent {
        HostEvent::Ready {
            link: self.settings_hash(),
            settings: SETTINGS
                .iter()
                .map(|s| (s.key, s.get(&self.options)))
                .collect(),
        }
    }
}

/// Reads a command from JSON text (a host page may post a string); `max_bytes` bounds it.
pub fn parse_command(text: &str, max_bytes: usize) -> Result<Command, String> {
    if text.len() > max_bytes {
        return Err(format!(
            "the message is {} bytes; at most {max_bytes}",
            text.len()
        ));
    }
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not a command: {e}"))?;
    Command::from_json(value)
}

/// Counts the bytes written to it and fails once they pass a limit.
struct Meter {
    bytes: usize,
    limit: usize,
}

impl std::io::Write for Meter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes += buf.len();
        if self.bytes > self.limit {
            return Err(std::io::Error::other("over the limit"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The size of `value` written as compact JSON, or `None` when it is more than `limit` bytes
/// (the writing stops there).
pub fn json_size(value: &serde_json::Value, limit: usize) -> Option<usize> {
    let mut meter = Meter { bytes: 0, limit };
    serde_json::to_writer(&mut meter, value).ok()?;
    Some(meter.bytes)
}

impl Command {
    /// Reads a command that a host page posted as an object (turned into a JSON value at the
    /// page's edge), bounded as a message posted as text is: its size as compact JSON must be at
    /// most `max_bytes`.
    pub fn from_posted_object(
        value: serde_json::Value,
        max_bytes: usize,
    ) -> Result<Command, String> {
        if json_size(&value, max_bytes).is_none() {
            return Err(format!(
                "the message is more than {max_bytes} bytes as JSON; at most {max_bytes}"
            ));
        }
        Command::from_json(value)
    }

    /// Reads a command from a JSON value (the page turns a posted object into one): an object
    /// with a known `type` and only the fields that type has.
    pub fn from_json(value: serde_json::Value) -> Result<Command, String> {
        let Some(object) = value.as_object() else {
            return Err("not a command: expected an object with a \"type\"".into());
        };
        let allowed: &[&str] = match object.get("type").and_then(|t| t.as_str()) {
            Some("set") => &["type", "settings"],
            Some("import") => &["type", "run"],
            _ => &["type"],
        };
        if let Some(extra) = object.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(format!(
                "not a command: unknown field \"{}\"",
                settings::echo(extra)
            ));
        }
        serde_json::from_value(value).map_err(|e| format!("not a command: {e}"))
    }
}

impl RunState {
    /// Whether the runs are training.
    pub fn is_running(self) -> bool {
        self == RunState::Running
    }
}
