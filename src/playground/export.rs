//! Run files of both page modes, and what the Save buttons write.
//!
//! A growth-mode run ([`RunExport`]) holds the settings (as a link and key by key), the data,
//! and for every run and seed its history (per-epoch metrics, every growth with every
//! candidate's score) and its network's weights — enough to see the run again in the page and
//! to plot it elsewhere; [`csv`] writes the per-epoch metrics for a spreadsheet. A
//! continual-learning run ([`ContinualExport`]) holds both runs' whole state. Both carry one
//! [`FORMAT`] and [`VERSION`]; [`RunFile`] reads either kind by its `mode` and says where a file
//! of the other mode opens. [`Saves`] is what a Save button of either mode writes: each page
//! model names the [`SaveKind`]s it offers and the file of each.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::continual::ContinualPage;
use super::{Effects, HashWrite, Notice, Playground, sessions};
use crate::continual::ContinualState;
use crate::data::Dataset;
use crate::error::EngineError;
use crate::model::Mlp;
use crate::settings::{self, PageOptions, SETTINGS};
use crate::train::{History, Session};
use crate::url::{parse_hash, to_hash};

/// The `format` of an export.
pub const FORMAT: &str = "firefly-playground-run";
/// The export's version; an import reads this one.
pub const VERSION: u32 = 1;
/// A continual-learning export's version: 2 since continual learning grows on the engine's
/// grower (its growth phases are recorded as the engine's plans); an import reads this one.
pub const CONTINUAL_VERSION: u32 = 2;
/// The largest run file an import reads.
pub const MAX_IMPORT_BYTES: usize = 64 << 20;

/// Which run a record belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The growing run.
    Main,
    /// The comparison run.
    Baseline,
}

/// One run of one seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportedRun {
    /// Growing run or baseline.
    pub role: Role,
    /// Which seed of the run (0 is the one the maps show).
    pub index: usize,
    /// The seed it trained from.
    pub seed: u64,
    /// Its growth method.
    pub method: String,
    /// Per-epoch metrics and growth events.
    pub history: History,
    /// The network now, with its weights.
    pub network: Mlp,
}

/// Everything an export holds. See the module doc.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunExport {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The settings as a link hash (what an import applies).
    pub link: String,
    /// Every setting by key, as link text (for reading elsewhere).
    pub settings: BTreeMap<String, String>,
    /// The points both runs trained on.
    pub data: Dataset,
    /// Every run and seed.
    pub runs: Vec<ExportedRun>,
}

/// The `mode` field of a continual-learning run file.
pub const CONTINUAL_MODE: &str = "continual";

/// A continual-learning run saved by the page (*Save → Run (JSON)* or the host's `export`): the
/// settings as a link, and both runs' whole state. See [`ContinualPage::export`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContinualExport {
    /// Always [`FORMAT`] (`firefly-playground-run`).
    pub format: String,
    /// The export's version.
    pub version: u32,
    /// Always [`CONTINUAL_MODE`]: what tells this file from a growth-mode one.
    pub mode: String,
    /// The settings as a link hash (`mode=continual&sequence=…&seed=…`).
    pub link: String,
    /// Every setting by key, as link text (for reading elsewhere).
    pub settings: BTreeMap<String, String>,
    /// Firefly's run: settings, network (units, masks, heads), where it is, its table.
    pub firefly: ContinualState,
    /// The fine-tuned network's run, the same way.
    pub fine_tune: ContinualState,
}

/// A run file of either mode: what *Open a run* and the host's `import` read. A file with
/// `"mode": "continual"` is a [`ContinualExport`], any other a growth-mode [`RunExport`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RunFile {
    /// A growth-mode run.
    Growth(Box<RunExport>),
    /// A continual-learning run.
    Continual(Box<ContinualExport>),
}

impl RunFile {
    /// Reads a run file from a JSON value; the error names what does not fit.
    pub fn from_value(value: serde_json::Value) -> Result<RunFile, String> {
        let mode = match value.get("mode") {
            None => None,
            Some(serde_json::Value::String(m)) => Some(m.clone()),
            Some(_) => return Err("not a Firefly Playground run file (mode is not text)".into()),
        };
        match mode.as_deref() {
            None => serde_json::from_value(value)
                .map(|r| RunFile::Growth(Box::new(r)))
                .map_err(|e| format!("not a Firefly Playground run file ({e})")),
            Some(CONTINUAL_MODE) => {
                if let Some(version) = value.get("version").and_then(serde_json::Value::as_u64)
                    && version != u64::from(CONTINUAL_VERSION)
                {
                    return Err(continual_version(version));
                }
                serde_json::from_value(value)
                    .map(|r| RunFile::Continual(Box::new(r)))
                    .map_err(|e| format!("not a continual-learning run file ({e})"))
            }
            Some(other) => Err(format!(
                "not a Firefly Playground run file (mode \"{}\")",
                settings::echo(other)
            )),
        }
    }

    /// Reads a run file's text (at most [`MAX_IMPORT_BYTES`]).
    pub fn from_text(text: &str) -> Result<RunFile, String> {
        if text.len() > MAX_IMPORT_BYTES {
            return Err(format!(
                "the file is {:.1} MB; a run file may be at most {} MB",
                text.len() as f64 / 1e6,
                MAX_IMPORT_BYTES >> 20
            ));
        }
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| format!("not a Firefly Playground run file ({e})"))?;
        RunFile::from_value(value)
    }

    /// The growth-mode run, or why this file opens in the other mode.
    pub fn growth(self) -> Result<RunExport, String> {
        match self {
            RunFile::Growth(run) => Ok(*run),
            RunFile::Continual(_) => Err(CONTINUAL_FILE_IN_GROWTH.into()),
        }
    }

    /// The continual-learning run, or why this file opens in the other mode.
    pub fn continual(self) -> Result<ContinualExport, String> {
        match self {
            RunFile::Continual(run) => Ok(*run),
            RunFile::Growth(_) => Err(GROWTH_FILE_IN_CONTINUAL.into()),
        }
    }
}

/// Why a continual-learning run file of another version is refused.
pub(super) fn continual_version(version: u64) -> String {
    format!(
        "continual-learning run file version {version} (this page reads version \
         {CONTINUAL_VERSION}; files of version 1 were written before continual learning grew on \
         the engine's grower: open their link to run them again)"
    )
}

/// Checks a run file's `format` and `version` (`expected`: [`VERSION`] or
/// [`CONTINUAL_VERSION`]).
pub(super) fn check_header(format: &str, version: u32, expected: u32) -> Result<(), String> {
    if format != FORMAT {
        return Err(format!(
            "not a Firefly Playground run file (format \"{}\")",
            crate::settings::echo(format)
        ));
    }
    if version != expected {
        return Err(match expected {
            CONTINUAL_VERSION => continual_version(u64::from(version)),
            _ => format!("run file version {version} (this page reads version {expected})"),
        });
    }
    Ok(())
}

/// Every setting by key, as link text (what a run file of either mode lists).
pub(super) fn settings_by_key(options: &PageOptions) -> BTreeMap<String, String> {
    SETTINGS
        .iter()
        .map(|s| (s.key.to_string(), s.get(options)))
        .collect()
}

impl<'de> Deserialize<'de> for RunFile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        RunFile::from_value(value).map_err(serde::de::Error::custom)
    }
}

/// The message for a run file opened in the other mode.
pub const GROWTH_FILE_IN_CONTINUAL: &str =
    "this run file is from the growth mode; open it with the mode list set to Growth";
/// The message for a continual-learning run file opened in the growth mode.
pub const CONTINUAL_FILE_IN_GROWTH: &str = "this is a continual-learning run file; open it with the mode list set to Continual learning (mode=continual)";

impl Playground {
    /// The run as it is now (one read of each network's weights).
    pub async fn export(&self) -> Result<RunExport, EngineError> {
        let mut runs = Vec::new();
        for (role, seeds) in [
            (Role::Main, self.main_seeds().collect::<Vec<_>>()),
            (Role::Baseline, self.baseline_seeds().collect()),
        ] {
            for (index, session) in seeds.into_iter().enumerate() {
                runs.push(ExportedRun {
                    role,
                    index,
                    seed: session.config().seed,
                    method: session.config().growth.method.name().to_string(),
                    history: session.history().clone(),
                    network: match (&self.seed_stack, index) {
                        // Seeds 1.. train in the stack: their sessions' own weights are stale.
                        (Some(stack), 1..) => {
                            let member = 2 * (index - 1) + usize::from(role == Role::Main);
                            stack.network(member, session).await?
                        }
                        _ => session.network().await?,
                    },
                });
            }
        }
        Ok(RunExport {
            format: FORMAT.into(),
            version: VERSION,
            link: to_hash(&self.options),
            settings: settings_by_key(&self.options),
            data: self.data.clone(),
            runs,
        })
    }

    /// Shows an exported run again, paused: its settings, data, histories and networks. The
    /// optimiser starts fresh if training goes on. On error nothing changed.
    pub fn import(&mut self, run: RunExport) -> Result<Effects, String> {
        check_header(&run.format, run.version, VERSION)?;
        let (options, problems) = parse_hash(&run.link);
        if let Some(p) = problems.first() {
            return Err(format!("the run's settings: {}", p.message));
        }
        check_data(&run.data)?;
        let (mut main, mut baseline, mut seeds) =
            sessions(&options, &run.data, &self.device, (self.path, self.grow_on))?;
        let n = seeds.len() + 1;
        if run.runs.len() != 2 * n {
            return Err(format!(
                "the file has {} runs; its settings train {}",
                run.runs.len(),
                2 * n
            ));
        }
        for record in run.runs {
            let session: &mut Session = match (record.role, record.index) {
                (Role::Main, 0) => &mut main,
                (Role::Baseline, 0) => &mut baseline,
                (Role::Main, i) if i < n => &mut seeds[i - 1].main,
                (Role::Baseline, i) if i < n => &mut seeds[i - 1].baseline,
                (_, i) => return Err(format!("the file has a run of seed {i} of {n}")),
            };
            if session.config().growth.method.name() != record.method {
                return Err(format!(
                    "run {} of the file grew by {}, its settings say {}",
                    record.index,
                    crate::settings::echo(&record.method),
                    session.config().growth.method.name()
                ));
            }
            if session.epoch() != 0 {
                return Err(format!("the file has seed {} twice", record.index));
            }
            session
                .restore(record.network, record.history)
                .map_err(|e| format!("run {} of the file: {e}", record.index))?;
        }
        let generated = Dataset::generate(&options.config.data).ok();
        self.custom_data = generated.as_ref() != Some(&run.data);
        self.options = options;
        self.data = run.data;
        self.data_version += 1;
        self.seed_stack = None;
        self.main = main;
        self.baseline = baseline;
        self.seeds = seeds;
        self.failed = false;
        self.running = false;
        self.step_to = None;
        self.grow_to = None;
        self.explain = None;
        self.last_stage = 0;
        self.dragging = None;
        self.notices.clear();
        self.raise(
            super::Cause::Import,
            super::Level::Info,
            format!(
                "Showing the imported run at epoch {} (paused). Play trains on from its networks with a fresh optimiser.",
                self.main.epoch()
            ),
        );
        let mut fx = Effects {
            restarted: true,
            controls: true,
            ..Effects::default()
        };
        let hash = to_hash(&self.options);
        self.hash = hash.clone();
        fx.hash = Some(HashWrite { hash, push: true });
        Ok(fx)
    }
}

/// Checks imported points: both splits present, finite, labels that fit the task.
fn check_data(data: &Dataset) -> Result<(), String> {
    if data.train.is_empty() || data.test.is_empty() {
        return Err("the run's data needs training and test points".into());
    }
    if let crate::data::Task::Classification { n_classes } = data.task
        && !(2..=crate::data::MAX_CLASSES).contains(&n_classes)
    {
        return Err(format!(
            "the run's data has {n_classes} classes; 2 to {} are possible",
            crate::data::MAX_CLASSES
        ));
    }
    if data.len() > crate::data::MAX_POINTS {
        return Err(format!(
            "the run's data has {} points; at most {}",
            data.len(),
            crate::data::MAX_POINTS
        ));
    }
    let ok = |s: &crate::data::Sample| {
        s.x.is_finite()
            && s.y.is_finite()
            && s.label.is_finite()
            && match data.task {
                crate::data::Task::Classification { n_classes } => {
                    s.label >= 0.0 && s.label.fract() == 0.0 && (s.label as usize) < n_classes
                }
                crate::data::Task::Regression => true,
            }
    };
    if !data.train.iter().chain(&data.test).all(ok) {
        return Err(
            "the run's data has a point that is not a finite number or a known class".into(),
        );
    }
    Ok(())
}

/// Per-epoch metrics of every run and seed as CSV, one row per epoch:
/// `role,index,seed,method,epoch,train_loss,test_loss,train_accuracy,test_accuracy,units,params`.
pub fn csv(run: &RunExport) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    let _ = out.write_record([
        "role",
        "index",
        "seed",
        "method",
        "epoch",
        "train_loss",
        "test_loss",
        "train_accuracy",
        "test_accuracy",
        "units",
        "params",
    ]);
    let opt = |x: Option<f32>| x.map(|v| v.to_string()).unwrap_or_default();
    for r in &run.runs {
        let role = match r.role {
            Role::Main => "main",
            Role::Baseline => "baseline",
        };
        for e in &r.history.epochs {
            let _ = out.write_record([
                role.to_string(),
                r.index.to_string(),
                r.seed.to_string(),
                r.method.clone(),
                e.epoch.to_string(),
                e.train_loss.to_string(),
                e.test_loss.to_string(),
                opt(e.train_accuracy),
                opt(e.test_accuracy),
                e.units.to_string(),
                e.params.to_string(),
            ]);
        }
    }
    out.into_inner()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// What a Save button saves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveKind {
    /// The run as JSON (a run file, opened again by *Open a run*).
    Json,
    /// Per-epoch metrics as CSV.
    Csv,
    /// The maps, the network and the charts as one PNG.
    Png,
}

/// What a Save downloads: the file's name, its MIME type and what it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct SaveFile {
    /// The file name (no `:` or `+`).
    pub name: String,
    /// Its MIME type.
    pub mime: &'static str,
    /// Its contents.
    pub body: SaveBody,
}

/// What a saved file holds.
#[derive(Clone, Debug, PartialEq)]
pub enum SaveBody {
    /// Text written here (a run file, the metrics as CSV).
    Text(String),
    /// The page's canvases drawn into one picture: only the page can draw it.
    Picture,
}

/// A page model that the Save buttons save from, in either mode: the kinds it offers (the page
/// hides the other buttons) and the file a Save of each writes. One `ui::host::save` downloads
/// it.
pub trait Saves {
    /// The kinds of Save this page offers.
    const KINDS: &'static [SaveKind];
    /// The file a Save of `kind` writes; an error for a kind not in [`Saves::KINDS`] or a run
    /// that could not be read.
    fn save_file(
        &self,
        kind: SaveKind,
    ) -> impl std::future::Future<Output = Result<SaveFile, String>>;
}

impl Saves for Playground {
    const KINDS: &'static [SaveKind] = &[SaveKind::Json, SaveKind::Csv, SaveKind::Png];

    /// `firefly-<data>-<method>-vs-<baseline>.json`, `.csv` or `.png`.
    async fn save_file(&self, kind: SaveKind) -> Result<SaveFile, String> {
        let options = &self.options;
        let stem = format!(
            "firefly-{}-{}-vs-{}",
            options.config.data.kind.name(),
            options.config.growth.method.name(),
            options.baseline.name()
        );
        let text = |ext: &str, mime, text| SaveFile {
            name: format!("{stem}.{ext}"),
            mime,
            body: SaveBody::Text(text),
        };
        Ok(match kind {
            SaveKind::Png => SaveFile {
                name: format!("{stem}.png"),
                mime: "image/png",
                body: SaveBody::Picture,
            },
            SaveKind::Json => {
                let run = self.export().await.map_err(|e| e.to_string())?;
                let json = serde_json::to_string(&run).map_err(|e| e.to_string())?;
                text("json", "application/json", json)
            }
            SaveKind::Csv => {
                let run = self.export().await.map_err(|e| e.to_string())?;
                text("csv", "text/csv", csv(&run))
            }
        })
    }
}

impl Saves for ContinualPage {
    /// Only the run file: the continual mode has no per-epoch metrics or charts to save.
    const KINDS: &'static [SaveKind] = &[SaveKind::Json];

    /// `firefly-continual-<sequence>.json`.
    async fn save_file(&self, kind: SaveKind) -> Result<SaveFile, String> {
        if kind != SaveKind::Json {
            return Err("continual mode saves the run as JSON only".into());
        }
        let json = serde_json::to_string(&self.export()).map_err(|e| e.to_string())?;
        let sequence: Vec<String> = self
            .options()
            .sequence
            .iter()
            // No `:` or `+` in a file name (`spiral3:0+1` saves as `spiral3_0_1`).
            .map(|t| t.name().replace([':', '+'], "_"))
            .collect();
        Ok(SaveFile {
            name: format!("firefly-continual-{}.json", sequence.join("-")),
            mime: "application/json",
            body: SaveBody::Text(json),
        })
    }
}

/// A page model that opens run files, in either mode: the run of its own mode from a file of
/// either (a file of the other mode is refused with a word on where it opens), checked whole
/// first, and a refused file named in a notice. The page's file picker
/// ([`Opens::open_file`]) and a host page's `import` ([`Opens::open`]) both come here.
pub trait Opens {
    /// What opening a run asks of the page (growth mode: the link and the controls to write).
    type Opened: Default;

    /// Shows the run of `run`, paused; on error nothing changed.
    fn open(&mut self, run: RunFile) -> Result<Self::Opened, String>;

    /// Says in a notice why the file `name` was not opened.
    fn refuse_file(&mut self, name: &str, why: &str);

    /// Reads a run file chosen in the page and shows its run, paused; a bad file leaves the runs
    /// as they are and says why in a notice.
    fn open_file(&mut self, name: &str, text: &str) -> Self::Opened {
        match RunFile::from_text(text).and_then(|run| self.open(run)) {
            Ok(opened) => opened,
            Err(why) => {
                self.refuse_file(name, &why);
                Self::Opened::default()
            }
        }
    }
}

impl Opens for Playground {
    type Opened = Effects;

    fn open(&mut self, run: RunFile) -> Result<Effects, String> {
        self.import(run.growth()?)
    }

    fn refuse_file(&mut self, name: &str, why: &str) {
        self.raise(
            super::Cause::Import,
            super::Level::Error,
            format!("{}: {why}", crate::settings::echo(name)),
        );
    }
}

impl Opens for ContinualPage {
    type Opened = ();

    fn open(&mut self, run: RunFile) -> Result<(), String> {
        self.import(run.continual()?)
    }

    fn refuse_file(&mut self, name: &str, why: &str) {
        Notice::new(
            super::Cause::Import,
            super::Level::Error,
            format!("{}: {why}", crate::settings::echo(name)),
        )
        .show_in(&mut self.notices);
    }
}
