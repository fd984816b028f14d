//! Applying a named experiment ([`crate::presets`], plain data) through the settings table: a
//! preset's options, the preset the options are now, and choosing one.

use super::{Effect, PageOptions, echo, find};
use crate::presets::{OPENING, PRESETS, Preset, find as find_preset};

/// The default options with `preset` applied.
pub fn options(preset: &Preset) -> Result<PageOptions, String> {
    let mut options = PageOptions::default();
    for pair in preset.link.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let setting = find(key)
            .filter(|s| {
                !matches!(s.key, "preset" | "seeds")
                    && matches!(s.effect, Effect::NewData | Effect::Restart | Effect::Live)
            })
            .ok_or_else(|| {
                format!(
                    "preset {}: \"{key}\" is not a setting of the runs",
                    preset.name
                )
            })?;
        setting.set(&mut options, value)?;
    }
    Ok(options)
}

/// Every preset's options, read once (the link and the page ask which preset is in force on
/// every frame).
fn all_options() -> &'static [Option<PageOptions>] {
    static OPTIONS: std::sync::OnceLock<Vec<Option<PageOptions>>> = std::sync::OnceLock::new();
    OPTIONS.get_or_init(|| PRESETS.iter().map(|p| options(p).ok()).collect())
}

/// The preset the options are, if any: the runs' settings (all but the number of seeds) equal
/// the preset's.
pub fn current(options: &PageOptions) -> Option<&'static Preset> {
    PRESETS
        .iter()
        .zip(all_options())
        .find(|(_, p)| {
            p.as_ref()
                .is_some_and(|p| p.config == options.config && p.baseline == options.baseline)
        })
        .map(|(preset, _)| preset)
}

/// Whether the runs' settings are the opening experiment's (the defaults; the number of seeds
/// and the page's own settings aside).
pub fn is_opening(options: &PageOptions) -> bool {
    let opening = PageOptions::default();
    options.config == opening.config && options.baseline == opening.baseline
}

/// What the Experiment list shows for `options`: a preset's name, [`OPENING`], or empty
/// (Custom).
pub fn current_name(options: &PageOptions) -> &'static str {
    match current(options) {
        Some(preset) => preset.name,
        None if is_opening(options) => OPENING,
        None => "",
    }
}

/// Applies preset `name` to the runs' settings ([`OPENING`]: the opening experiment's; an empty
/// name or `custom` leaves them as they are); the page's own settings stay.
pub fn choose(into: &mut PageOptions, name: &str) -> Result<(), String> {
    let name = name.trim();
    if name.is_empty() || name == "custom" {
        return Ok(());
    }
    let runs = match find_preset(name) {
        Some(preset) => options(preset)?,
        None if name == OPENING => PageOptions::default(),
        None => {
            let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
            return Err(format!(
                "\"{}\" is not one of {}, {OPENING}",
                echo(name),
                names.join(", ")
            ));
        }
    };
    into.config = runs.config;
    into.baseline = runs.baseline;
    Ok(())
}
