//! Notices: a message for the person tied to its [`Cause`], so that it goes when its cause goes,
//! and the wording of the data-file messages.

use crate::data::MAX_CSV_BYTES;
use crate::settings;

/// Why a notice is shown; the notice goes when its cause goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cause {
    /// Unknown keys in the link.
    Link,
    /// A value of this setting (from a link or a control) could not be used.
    Setting(&'static str),
    /// Loaded or generated data could not be used.
    Data,
    /// Information about the loaded points (some lie outside the plane).
    Points,
    /// A run reached its unit cap.
    UnitCap,
    /// A run stopped (the loss diverged, or the engine failed).
    Run,
    /// A run file was imported, or could not be.
    Import,
    /// The GPU was lost and the runs moved to the CPU.
    Gpu,
}

impl Cause {
    /// A stable name (the page's dismiss buttons carry it).
    pub fn name(self) -> String {
        match self {
            Cause::Link => "link".into(),
            Cause::Setting(key) => format!("setting:{key}"),
            Cause::Data => "data".into(),
            Cause::Points => "points".into(),
            Cause::UnitCap => "unit-cap".into(),
            Cause::Run => "run".into(),
            Cause::Import => "import".into(),
            Cause::Gpu => "gpu".into(),
        }
    }

    /// The cause a name stands for.
    pub fn from_name(name: &str) -> Option<Cause> {
        Some(match name {
            "link" => Cause::Link,
            "data" => Cause::Data,
            "points" => Cause::Points,
            "unit-cap" => Cause::UnitCap,
            "run" => Cause::Run,
            "import" => Cause::Import,
            "gpu" => Cause::Gpu,
            other => Cause::Setting(settings::find(other.strip_prefix("setting:")?)?.key),
        })
    }
}

/// How serious a notice is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Something did not work.
    Error,
    /// Worth knowing.
    Info,
}

/// A message for the person, tied to its cause.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    /// Why it is shown.
    pub cause: Cause,
    /// How serious it is.
    pub level: Level,
    /// One line.
    pub text: String,
    /// A one-click way out, shown as a button beside the text.
    pub action: Option<Action>,
}

impl Notice {
    /// A notice without a button.
    pub fn new(cause: Cause, level: Level, text: String) -> Self {
        Notice {
            cause,
            level,
            text,
            action: None,
        }
    }

    /// Shows this notice in `list`, in place of one with the same cause.
    pub fn show_in(self, list: &mut Vec<Notice>) {
        list.retain(|n| n.cause != self.cause);
        list.push(self);
    }
}

/// What a notice's button does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    /// Start again with this (smaller) learning rate.
    ResetWithRate(f32),
}

impl Action {
    /// The button's words.
    pub fn label(self) -> String {
        match self {
            Action::ResetWithRate(lr) => format!("Reset with learning rate {lr}"),
        }
    }
}

pub(super) fn size(bytes: f64) -> String {
    if bytes >= 1e6 {
        format!("{:.1} MB", bytes / 1e6)
    } else {
        format!("{:.0} KB", (bytes / 1e3).max(1.0))
    }
}

pub(super) fn too_big(name: &str, bytes: f64) -> String {
    format!(
        "{}: the file is {}, more than the {} a data file may have; nothing was loaded.",
        settings::echo(name),
        size(bytes),
        size(MAX_CSV_BYTES as f64)
    )
}
