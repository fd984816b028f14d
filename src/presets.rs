//! Named experiments: a link fragment over the defaults and a paragraph on what to look for.
//! Chosen in the page (the Experiment list) or by `preset=NAME` in a link; the other keys of a
//! link apply on top. A preset sets only settings of the runs, so the page's own settings
//! (backend, embed, hidden controls…) stay as they are, and so does the number of seeds (a
//! course page may want one seed for speed); the options *are* the preset while the runs'
//! settings equal it, so changing one makes the experiment Custom.

use crate::settings::{self, Effect, PageOptions};

/// One named experiment.
#[derive(Debug)]
pub struct Preset {
    /// Its value in links (`preset=NAME`).
    pub name: &'static str,
    /// Its name in the page.
    pub label: &'static str,
    /// Settings over the defaults, as link text.
    pub link: &'static str,
    /// What to look for, shown under the toolbar.
    pub look_for: &'static str,
}

/// Every preset, in the order of the page.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "split-vs-random-spiral",
        label: "Split vs random on the spiral",
        link: "dataset=spiral&layers=2&method=firefly-split&baseline=random-split&grow-every=10&per-growth=2&max-units=32",
        look_for: "Both networks grow only by splitting existing units, two units every 10 epochs. Firefly picks the units whose split lowers the loss most and the direction to split them in; the baseline splits random units along random directions scaled to each unit's weights. On the spiral the two end up close (measured over 5 seeds, Firefly is not ahead): splitting copies a feature the network already has, and the spiral needs new ones. Watch Figure 3's bands overlap, then try firefly (split + new) as the growth method.",
    },
    Preset {
        name: "depth-checkerboard",
        label: "Depth growth on the checkerboard",
        link: "dataset=checkerboard&layers=4&method=firefly-layers&baseline=firefly-new&grow-every=20&per-growth=2&max-units=40",
        look_for: "The growing network may also insert new residual layers (shown as 3r in the architecture), the baseline only widens its layers. Watch the diagram for a new layer appearing and whether the checkerboard's corners sharpen sooner with depth; Figure 3 compares the two at equal units.",
    },
    Preset {
        name: "how-many-candidates",
        label: "How many candidates?",
        link: "dataset=xor&method=firefly-new&candidates=1&grow-every=10&max-units=12",
        look_for: "Firefly adds new units chosen from m′ candidates per layer, here m′ = 1: with a single candidate it can only tune that one, so it is close to adding a random unit (grey). Raise Candidates m′ to 10, then 100, and compare Figure 3's bands. On xor with short training between growths more candidates help a little early on; over a whole run the curves come out nearly flat in m′ (the project's Figure 3(b) over 10 seeds), because every candidate's direction is optimised before it is scored.",
    },
    Preset {
        name: "lone-unit-split",
        label: "Why splitting a lone unit helps little",
        link: "method=firefly-split&baseline=firefly-new&grow-every=10&max-units=8",
        look_for: "Both networks start from one unit on the circle. Splitting makes two copies θ ± εδ of a unit that already exists, so the first splits can only bend the one boundary the network has; a new unit can point anywhere. Watch the baseline (new units, grey) close the circle while the splitting network is still a band, then splitting catch up once there are several units to split.",
    },
    Preset {
        name: "firefly-vs-exact",
        label: "Firefly vs exact splitting",
        link: "dataset=xor&layers=2&method=firefly-split&baseline=exact-split&grow-every=10&max-units=16",
        look_for: "Exact splitting (Liu et al. 2019) splits along the smallest eigenvector of each unit's splitting matrix; Firefly finds split directions by gradient descent on ε and δ. Both lower the loss at every split: compare their curves and the time each growth takes (under Why these units).",
    },
];

/// The Experiment list's choices: Custom, then every preset.
pub const CHOICES: &[(&str, &str)] = &[
    ("", "Custom"),
    ("split-vs-random-spiral", "Split vs random on the spiral"),
    ("depth-checkerboard", "Depth growth on the checkerboard"),
    ("how-many-candidates", "How many candidates?"),
    ("lone-unit-split", "Why splitting a lone unit helps little"),
    ("firefly-vs-exact", "Firefly vs exact splitting"),
];

/// The preset of this name.
pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name.trim())
}

impl Preset {
    /// The default options with the preset applied.
    pub fn options(&self) -> Result<PageOptions, String> {
        let mut options = PageOptions::default();
        for pair in self.link.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let setting = settings::find(key)
                .filter(|s| {
                    !matches!(s.key, "preset" | "seeds")
                        && matches!(s.effect, Effect::NewData | Effect::Restart | Effect::Live)
                })
                .ok_or_else(|| {
                    format!(
                        "preset {}: \"{key}\" is not a setting of the runs",
                        self.name
                    )
                })?;
            setting.set(&mut options, value)?;
        }
        Ok(options)
    }
}

/// Every preset's options, read once (the link and the page ask which preset is in force on
/// every frame).
fn all_options() -> &'static [Option<PageOptions>] {
    static OPTIONS: std::sync::OnceLock<Vec<Option<PageOptions>>> = std::sync::OnceLock::new();
    OPTIONS.get_or_init(|| PRESETS.iter().map(|p| p.options().ok()).collect())
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

/// Applies preset `name` to the runs' settings (an empty name or `custom` leaves them as they
/// are); the page's own settings stay.
pub fn choose(options: &mut PageOptions, name: &str) -> Result<(), String> {
    let name = name.trim();
    if name.is_empty() || name == "custom" {
        return Ok(());
    }
    let Some(preset) = find(name) else {
        let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
        return Err(format!(
            "\"{}\" is not one of {}",
            settings::echo(name),
            names.join(", ")
        ));
    };
    let runs = preset.options()?;
    options.config = runs.config;
    options.baseline = runs.baseline;
    Ok(())
}
