//! What the page's texts claim, measured over seeds through the same definitions the page uses:
//! the opening experiment ([`OPENING_CLAIM`]) and every preset's [`Claim`], each growing run
//! against its baseline trained side by side (`firefly presets` prints the same measurements).

use firefly_playground::experiment::measure_preset;
use firefly_playground::playground::OPENING_CLAIM;
use firefly_playground::presets::{self, Claim, PRESETS};
use firefly_playground::settings::{self, PageOptions};

use crate::support::{block, device};

fn check(name: &str, options: &PageOptions, claim: Claim) {
    let m = block(measure_preset(options, 10, claim.epochs, &device())).expect("measured");
    let (a, b) = m.means();
    let (d, se) = m.difference();
    eprintln!(
        "{name}: {a:.4} vs {b:.4}, difference {d:+.4} ± {se:.4}, growing run ahead on {}/10",
        m.main_ahead()
    );
    assert!(
        m.holds(claim.expect),
        "{name}: {:?} does not hold: {a:.4} vs {b:.4}, difference {d:+.4} ± {se:.4}, growing run \
         ahead on {}/10",
        claim.expect,
        m.main_ahead()
    );
}

fn preset(name: &str) {
    let p = presets::find(name).expect("a preset");
    check(name, &settings::preset::options(p).expect("valid"), p.claim);
}

#[test]
fn the_opening_experiment_shows_firefly_ahead_on_every_seed() {
    check("opening", &PageOptions::default(), OPENING_CLAIM);
}

#[test]
fn split_vs_random_spiral_says_what_it_measures() {
    preset("split-vs-random-spiral");
}

#[test]
fn depth_checkerboard_says_what_it_measures() {
    preset("depth-checkerboard");
}

#[test]
fn how_many_candidates_says_what_it_measures() {
    preset("how-many-candidates");
}

#[test]
fn lone_unit_split_says_what_it_measures() {
    preset("lone-unit-split");
}

#[test]
fn firefly_vs_exact_says_what_it_measures() {
    preset("firefly-vs-exact");
}

#[test]
fn every_preset_has_a_checked_claim() {
    // A new preset needs its own test above.
    let checked = [
        "split-vs-random-spiral",
        "depth-checkerboard",
        "how-many-candidates",
        "lone-unit-split",
        "firefly-vs-exact",
    ];
    for p in PRESETS {
        assert!(checked.contains(&p.name), "{} has no claim test", p.name);
    }
}
