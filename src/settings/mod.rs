//! The one settings table: every setting of the playground written once — its link key (and old
//! aliases), its control, how it is read and written, its range, its help — and used by the URL
//! hash ([`crate::url`]), by the page's controls (`ui::controls` builds them from this table) and
//! by [`crate::playground::Playground::update`]. The default of a setting is its value in
//! [`PageOptions::default`].
//!
//! A value travels as text (the same text in a link and in a control's `value`); [`Setting::set`]
//! parses it, checks it against the setting's range and writes it into [`PageOptions`], or says
//! what is wrong in a message that names the setting.

use crate::config::{OnGrowth, Regularization, RunConfig};
use crate::continual::TaskSpec;
use crate::data::DatasetKind;
use crate::features::Features;
use crate::grow::{Budget, Method, ScorePath};
use crate::model::Activation;
use crate::optim::OptimizerKind;

mod embed;
mod layers;
pub mod preset;
mod table;

pub use embed::{
    HIDE_SUFFIX, MAX_ORIGINS, PAGE_CONTROLS, hideable, origin_allowed, parse_origins, set_hidden,
};
pub use layers::{MAX_LAYERS, MAX_TOTAL_UNITS, MAX_WIDTH, parse_layers};
pub use table::{SETTINGS, method_label};

/// Which compute backend the page should use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendChoice {
    /// On a hardware WebGPU adapter, a short probe of the page's network picks the faster of
    /// WebGPU and the CPU; otherwise the CPU.
    Auto,
    /// Run the probe on any adapter, a software one too, and take the faster (shows both
    /// figures; how the probe itself is tested in a browser without a GPU).
    Probe,
    /// Always burn's CPU backend.
    Cpu,
    /// WebGPU whenever the browser has any adapter, a software one included.
    WebGpu,
}

/// Everything a link or a control can set.
#[derive(Clone, Debug, PartialEq)]
pub struct PageOptions {
    /// The main run (its growth method is the one being shown).
    pub config: RunConfig,
    /// The growth method of the comparison run.
    pub baseline: Method,
    /// Backend choice.
    pub backend: BackendChoice,
    /// Show test points on the maps.
    pub show_test: bool,
    /// Show the sign of the output instead of its confidence.
    pub discretize: bool,
    /// Pause after every part of a growth phase, with an explanation.
    pub slow_motion: bool,
    /// Epochs per second the main run trains while playing (the others keep in step); 0: as
    /// fast as the machine goes. See [`crate::playground::Playground::work_paced`].
    pub speed: u32,
    /// Seeds of each run trained at once (Figure 3 draws their mean and band); 1 trains one of
    /// each. Seed `k` starts from the run's seed + `k`, on the same data.
    pub seeds: usize,
    /// The compact layout for an iframe in a course page (no header or footer text, the panels
    /// of controls collapsible).
    pub embed: bool,
    /// Start training when the page opens (`false`: start paused).
    pub autoplay: bool,
    /// Origins other than the page's own whose `postMessage` commands the page obeys and to
    /// which it sends its events (`*`: any); empty: the page's own origin only.
    pub allow_origins: Vec<String>,
    /// Controls hidden by `<key>_hide=1` in the link, in the order of [`hideable`].
    pub hidden: Vec<&'static str>,
    /// `true`: the continual-learning mode (tasks one after another) instead of growth on one
    /// data set.
    pub continual: bool,
    /// The continual mode's tasks, in order, each a data set or a subset of its classes
    /// (`spiral3:0+1`).
    pub sequence: Vec<TaskSpec>,
}

/// The most seeds Figure 3 trains at once.
pub const MAX_SEEDS: usize = 10;

/// The page's pace: epochs per second (see [`PageOptions::speed`]). With the opening
/// experiment's 300 epochs between growths, 100 epochs/s grows a unit every 3 s (plus the
/// growth's own time and [`crate::playground::GROWTH_HOLD_S`]): its 15 growths take about a
/// minute, at the same pace on any machine that keeps up.
pub const DEFAULT_SPEED: u32 = 100;

impl Default for PageOptions {
    /// The page's opening experiment (see [`crate::presets::DEFAULT_EXPERIMENT`]).
    fn default() -> Self {
        PageOptions {
            config: crate::presets::default_experiment(),
            baseline: Method::RandomNew,
            backend: BackendChoice::Auto,
            show_test: false,
            discretize: false,
            slow_motion: false,
            speed: DEFAULT_SPEED,
            seeds: 5,
            embed: false,
            autoplay: true,
            allow_origins: Vec::new(),
            hidden: Vec::new(),
            continual: false,
            sequence: [DatasetKind::Circle, DatasetKind::Xor, DatasetKind::Spiral]
                .into_iter()
                .map(|kind| TaskSpec {
                    kind,
                    classes: Vec::new(),
                })
                .collect(),
        }
    }
}

/// Where a setting's control lives on the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// The Data panel.
    Data,
    /// The Run panel.
    Run,
    /// The toolbar (slow motion).
    Toolbar,
    /// Only in links (no control).
    Link,
}

/// The kind of control a setting has, with its range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Widget {
    /// No control: set by links only.
    None,
    /// The dataset thumbnails (one button per [`DatasetKind`]).
    Datasets,
    /// A slider from `min` to `max` in steps of `step`; the read-out adds `suffix`.
    Range {
        /// Smallest value.
        min: f64,
        /// Largest value.
        max: f64,
        /// Step.
        step: f64,
        /// Unit shown after the value.
        suffix: &'static str,
        /// What the control shows for the value 0 instead of the number (batch size 0: all).
        zero: Option<&'static str>,
    },
    /// A number field from `min` to `max` (whole numbers when `step` is 1).
    Number {
        /// Smallest value.
        min: f64,
        /// Largest value.
        max: f64,
        /// Step.
        step: f64,
    },
    /// A text field.
    Text,
    /// A list of `(value, label)` choices; `custom` allows any number in `(min, max]` from a link
    /// (the control then shows it as an extra choice).
    Select {
        /// The choices.
        options: &'static [(&'static str, &'static str)],
        /// Numbers outside the list accepted from links: exclusive minimum and maximum.
        custom: Option<(f64, f64)>,
    },
    /// A checkbox (`1` on, `0` off in links).
    Checkbox,
    /// A row of toggles, any of which may be on; the value is the keys of those on, joined by
    /// commas (`x1,x2,x1sq`).
    Toggles {
        /// The toggles: `(key, label)`.
        options: &'static [(&'static str, &'static str)],
    },
}

/// What changing a setting does to the runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// New data from the generator, then both runs start again.
    NewData,
    /// Both runs start again on the same data.
    Restart,
    /// Applied to both running sessions without a restart.
    Live,
    /// Only the drawing changes.
    View,
    /// Needs the page to load again (the backend).
    Reload,
}

/// One setting. See the module doc.
pub struct Setting {
    /// The link key.
    pub key: &'static str,
    /// Older link keys still read.
    pub aliases: &'static [&'static str],
    /// The id of its control in the page (`""` when it has none).
    pub id: &'static str,
    /// The control's label.
    pub label: &'static str,
    /// One sentence shown as the control's help.
    pub help: &'static str,
    /// Where the control lives.
    pub group: Group,
    /// The control and its range.
    pub widget: Widget,
    /// What a change does.
    pub effect: Effect,
    get: fn(&PageOptions) -> String,
    put: fn(&Setting, &mut PageOptions, &str) -> Result<(), String>,
}

impl std::fmt::Debug for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setting").field("key", &self.key).finish()
    }
}

/// The longest piece of a user's value echoed in a message.
const ECHO_CHARS: usize = 24;

/// A value as echoed in a message: trimmed and cut to a few characters, so a 10,000-character
/// value does not fill the page.
pub fn echo(value: &str) -> String {
    let value = value.trim();
    let mut out: String = value.chars().take(ECHO_CHARS).collect();
    if value.chars().count() > ECHO_CHARS {
        out.push('…');
    }
    out
}

/// A number without a needless fraction (`0.1`, `20`, not `20.0`).
fn plain(x: f64) -> String {
    let s = format!("{x}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

impl Setting {
    /// The setting's current value as link text.
    pub fn get(&self, options: &PageOptions) -> String {
        (self.get)(options)
    }

    /// The default value as link text.
    pub fn default_value(&self) -> String {
        (self.get)(&PageOptions::default())
    }

    /// Parses `value`, checks its range and writes it into `options`; on error `options` is
    /// unchanged and the message names the setting.
    pub fn set(&self, options: &mut PageOptions, value: &str) -> Result<(), String> {
        let mut trial = options.clone();
        (self.put)(self, &mut trial, value)?;
        trial
            .config
            .validate()
            .map_err(|e| format!("{}: {e}", self.label))?;
        *options = trial;
        Ok(())
    }

    /// The value as a number within the widget's range.
    fn number(&self, value: &str) -> Result<f64, String> {
        let bad = || format!("{}: \"{}\" is not a number", self.label, echo(value));
        let x: f64 = value.trim().parse().map_err(|_| bad())?;
        if !x.is_finite() {
            return Err(bad());
        }
        match self.widget {
            Widget::Range { min, max, step, .. } | Widget::Number { min, max, step } => {
                if x < min || x > max {
                    return Err(format!(
                        "{}: {} is outside {} to {}",
                        self.label,
                        echo(value),
                        plain(min),
                        plain(max)
                    ));
                }
                if step == 1.0 && x.fract() != 0.0 {
                    return Err(format!(
                        "{}: {} is not a whole number",
                        self.label,
                        echo(value)
                    ));
                }
            }
            Widget::Select {
                custom: Some((min, max)),
                ..
            } if x <= min || x > max => {
                return Err(format!(
                    "{}: {} is outside ({}, {}]",
                    self.label,
                    echo(value),
                    plain(min),
                    plain(max)
                ));
            }
            _ => {}
        }
        Ok(x)
    }

    /// A whole number within the widget's range.
    fn count(&self, value: &str) -> Result<usize, String> {
        let x = self.number(value)?;
        if x < 0.0 || x.fract() != 0.0 || x > usize::MAX as f64 {
            return Err(format!(
                "{}: {} is not a whole number",
                self.label,
                echo(value)
            ));
        }
        Ok(x as usize)
    }

    /// A name parsed by `T`'s `FromStr`, with the setting's label in the message.
    fn named<T: std::str::FromStr>(&self, value: &str) -> Result<T, String> {
        value.trim().parse::<T>().map_err(|_| {
            let names = match self.widget {
                Widget::Select { options, .. } => options
                    .iter()
                    .map(|(v, _)| *v)
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => DatasetKind::ALL
                    .iter()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            format!("{}: \"{}\" is not one of {names}", self.label, echo(value))
        })
    }

    fn flag(&self, value: &str) -> Result<bool, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "1" | "true" | "on" | "yes" => Ok(true),
            "0" | "false" | "off" | "no" => Ok(false),
            _ => Err(format!(
                "{}: expected 1 or 0, got \"{}\"",
                self.label,
                echo(value)
            )),
        }
    }

    /// Whether this key (or an alias) names the setting.
    pub fn answers_to(&self, key: &str) -> bool {
        self.key == key || self.aliases.contains(&key)
    }

    /// Whether the setting shapes the runs (their data, network, training, growth, baseline or
    /// seeds) rather than the page's drawing or loading: these are the settings `firefly run`
    /// takes as flags, each named by its link key.
    pub fn shapes_the_runs(&self) -> bool {
        matches!(
            self.effect,
            Effect::NewData | Effect::Restart | Effect::Live
        )
    }

    /// The values the setting accepts, in words: a range, the names of a list, a checkbox's
    /// `1` or `0`; `None` for free text (the starting layers, a sequence).
    pub fn accepts(&self) -> Option<String> {
        let names = |names: &mut dyn Iterator<Item = &str>| names.collect::<Vec<_>>().join(", ");
        Some(match self.widget {
            Widget::Range { min, max, step, .. } | Widget::Number { min, max, step } => {
                let whole = if step == 1.0 { "whole numbers " } else { "" };
                format!("{whole}{} to {}", plain(min), plain(max))
            }
            Widget::Select { options, custom } => {
                let listed = names(&mut options.iter().map(|(v, _)| *v).filter(|v| !v.is_empty()));
                match custom {
                    Some((min, max)) => {
                        format!("{listed}, or a number in ({}, {}]", plain(min), plain(max))
                    }
                    None => listed,
                }
            }
            Widget::Datasets => names(&mut DatasetKind::ALL.iter().map(|k| k.name())),
            Widget::Toggles { options } => format!(
                "any of {}, joined by commas",
                names(&mut options.iter().map(|(v, _)| *v))
            ),
            Widget::Checkbox => "1 or 0".into(),
            Widget::Text | Widget::None => return None,
        })
    }
}

/// Sets one value by link key: a setting (or an alias), or `<key>_hide`. On error `options`
/// is unchanged; `Ok` names the setting changed (`None` for a hide flag).
pub fn set_key(
    options: &mut PageOptions,
    key: &str,
    value: &str,
) -> Result<Option<&'static Setting>, String> {
    let key = key.trim();
    if let Some(setting) = find(key) {
        setting.set(options, value)?;
        return Ok(Some(setting));
    }
    if let Some(stem) = key.strip_suffix(HIDE_SUFFIX) {
        set_hidden(options, stem, value)?;
        return Ok(None);
    }
    Err(format!("unknown setting \"{}\"", echo(key)))
}

/// The setting a link key (or alias) names.
pub fn find(key: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.answers_to(key))
}

/// The settings whose values differ between `a` and `b`.
///
/// The preset is left out: it follows from the runs' settings, and their own effects apply (a
/// new learning rate stays live when it makes the experiment Custom).
pub fn changed(a: &PageOptions, b: &PageOptions) -> Vec<&'static Setting> {
    SETTINGS
        .iter()
        .filter(|s| s.key != "preset" && s.get(a) != s.get(b))
        .collect()
}
