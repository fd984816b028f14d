//! Named experiments: a link fragment over the defaults and a paragraph on what to look for.
//! Chosen in the page (the Experiment list) or by `preset=NAME` in a link; the other keys of a
//! link apply on top. A preset sets only settings of the runs, so the page's own settings
//! (backend, embed, hidden controls…) stay as they are, and so does the number of seeds (a
//! course page may want one seed for speed); the options *are* the preset while the runs'
//! settings equal it, so changing one makes the experiment Custom. This file is data: applying a
//! preset through the settings table is `settings::preset` (so settings sit above presets, never
//! beside them in a circle). The page's opening experiment lives here too.

use crate::config::RunConfig;
use crate::data::{DataConfig, DatasetKind};
use crate::model::{Activation, ModelConfig};

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
    /// What `look_for` claims, in numbers the engine can check
    /// ([`crate::experiment::measure_preset`]; a test checks every preset's).
    pub claim: Claim,
}

/// A preset's measurable claim about the two runs' mean training loss over the first `epochs`
/// epochs (the area under the page's loss chart up to then), over seeds 1..=10.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Claim {
    /// Epochs (at the page's default speed, [`crate::settings::DEFAULT_SPEED`] a second).
    pub epochs: usize,
    /// What the measurement shows.
    pub expect: Expect,
}

/// The seeds (1 to 10) every claim is stated over: a measurement over another number of seeds
/// does not check it.
pub const CLAIM_SEEDS: u64 = 10;

/// Which run a claim says is ahead.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Expect {
    /// The growing run's loss is lower on at least this many of 10 seeds.
    MainAhead(usize),
    /// The baseline's loss is lower on at least this many of 10 seeds.
    BaselineAhead(usize),
    /// The mean over seeds of the difference is within this much of 0.
    Close(f64),
}

/// Every preset, in the order of the page.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "split-vs-random-spiral",
        label: "Split vs random on the spiral",
        link: "dataset=spiral&layers=8&lr=0.3&method=firefly-split&baseline=random-split&max-units=24",
        look_for: "Both networks start from 8 units on the spiral and grow only by splitting existing units, one every 300 epochs (learning rate 0.3). Firefly picks the unit whose split lowers the loss most and the direction to split it in; the baseline splits a random unit along a random direction, both by the same step ε_max. Measured over 10 seeds, Firefly's training loss is lower on 9 of them over the first 45 seconds and its map winds further round the spiral; Figure 3's bands part as units are added. Splitting only copies features the network already has: try firefly (split + new) as the growth method to see what new units add.",
        claim: Claim {
            epochs: 4500,
            expect: Expect::MainAhead(8),
        },
    },
    Preset {
        name: "depth-checkerboard",
        label: "Depth growth on the checkerboard",
        link: "dataset=checkerboard&layers=4&lr=0.03&method=firefly-layers&baseline=firefly-new&max-units=16",
        look_for: "The growing network may also insert new residual layers (shown as 4r in the architecture); the baseline only adds units to its layers (Firefly's new units). Measured over 10 seeds at learning rate 0.03, growing in depth keeps the loss lower on all 10 over the first 36 seconds, and the checkerboard's corners appear sooner. The order depends on the step size: at the protocol's 0.1 (with 24 units, over a minute) the wide network is ahead on all 10 seeds and the deep one's loss climbs back. Try it with the Learning rate.",
        claim: Claim {
            epochs: 3600,
            expect: Expect::MainAhead(8),
        },
    },
    Preset {
        name: "how-many-candidates",
        label: "How many candidates?",
        link: "dataset=xor&method=firefly-new&candidates=1&max-units=12",
        look_for: "Firefly adds new units chosen from m′ candidates per layer, here m′ = 1. Even a single candidate is optimised (its direction and its size) before it is added, and that alone keeps Firefly's loss below the random new units' (grey) on all 10 seeds measured over the first 33 seconds. Raise Candidates m′ to 10, then 50, and compare Figure 3's bands: on xor and the circle the curves hardly move (the project's Figure 3(b) over 10 seeds: flat within a standard error), while on the spiral more candidates help (mean loss over 20 grown units 0.42 with m′ = 1, 0.37 with 10 and 50).",
        claim: Claim {
            epochs: 3300,
            expect: Expect::MainAhead(8),
        },
    },
    Preset {
        name: "lone-unit-split",
        label: "Why splitting a lone unit helps little",
        link: "method=firefly-split&baseline=firefly-new&max-units=16",
        look_for: "Both networks start from one unit on the circle. Splitting makes two copies θ ± εδ of a unit that already exists (ε = ε_max = 0.1), so the first splits can only bend the one boundary the network has; a new unit can point anywhere. Measured over 10 seeds, the baseline (Firefly's new units, grey) is ahead on all 10 over the first 21 seconds: watch it close the circle while the splitting network is still a band.",
        claim: Claim {
            epochs: 2100,
            expect: Expect::BaselineAhead(8),
        },
    },
    Preset {
        name: "firefly-vs-exact",
        label: "Firefly vs exact splitting",
        link: "layers=3&method=firefly-split&baseline=exact-split",
        look_for: "Exact splitting (Liu et al. 2019) splits along the smallest eigenvector of each unit's splitting matrix, a second-order computation; Firefly finds split directions by gradient descent on δ and scores them to first order. Both take the same step ε_max. Measured over 10 seeds on the circle their mean training losses differ by 0.0001 (standard error 0.0001): Firefly's search finds the same splits. Compare the time each growth takes under Why these units.",
        claim: Claim {
            epochs: 4500,
            expect: Expect::Close(0.002),
        },
    },
];

/// The Experiment list's name for the opening experiment ([`DEFAULT_EXPERIMENT`]): choosing it
/// puts the runs' settings back to the page's defaults.
pub const OPENING: &str = "opening";

/// The Experiment list's choices: Custom, the opening experiment, then every preset.
pub const CHOICES: &[(&str, &str)] = &[
    ("", "Custom"),
    (OPENING, "Opening: Firefly vs random"),
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

/// The opening experiment, in one sentence: what to look for.
pub const DEFAULT_EXPERIMENT: &str = "Both networks start from one hidden unit on the circle and \
train 300 steps between growths (full-batch SGD with momentum, the Figure 3 protocol): Firefly \
adds the unit that lowers the loss most, the baseline a random new unit drawn like Firefly's \
candidates. Measured over 10 seeds, Firefly's training loss (purple) is lower than the baseline's \
(grey) over the minute of growth on all 10, and its map closes the circle first; Figure 3, live \
over 5 seeds, shows the gap unit by unit with its spread.";

/// What [`DEFAULT_EXPERIMENT`] claims: Firefly's mean training loss over the 4,500 epochs of its
/// growths (45 s of training at the default speed) below the baseline's on every one of 10 seeds
/// (`firefly presets --names opening` measures it; a test checks it).
pub const OPENING_CLAIM: Claim = Claim {
    epochs: 4500,
    expect: Expect::MainAhead(10),
};

/// The page's opening experiment: the Figure 3 protocol ([`crate::config::PROTOCOL_STEPS`] and
/// the rest) on the circle: one hidden tanh unit, 300 full-batch steps of SGD with momentum at 0.1
/// between growths, one unit per growth up to 16 units, against random new units. Played at
/// [`crate::settings::DEFAULT_SPEED`] epochs per second, its 15 growths take about a minute. The test
/// `the_opening_experiment_shows_firefly_ahead_on_every_seed` checks its text over 10 seeds.
pub fn default_experiment() -> RunConfig {
    let mut config = RunConfig {
        seed: 1,
        data: DataConfig::new(DatasetKind::Circle),
        model: ModelConfig {
            n_inputs: 2,
            hidden: vec![1],
            activation: Activation::Tanh,
        },
        ..RunConfig::default()
    };
    config.data.seed = 1;
    config.train.optimizer = crate::config::PROTOCOL_OPTIMIZER;
    config.train.learning_rate = crate::config::PROTOCOL_LR;
    config.train.batch_size = 0;
    config.train.epochs_per_growth = crate::config::PROTOCOL_STEPS;
    config.train.max_units = 16;
    config
}
