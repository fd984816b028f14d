//! The page's behaviour without the page: `Playground::update` with messages that carry their
//! values, notices that go with their cause, the link history, both runs growing while paused,
//! recovery from a diverged run, and the page's pace (the opening experiment grows over a
//! minute, training waits while a growth is shown).

use firefly_playground::data::{DatasetKind, MAX_CSV_BYTES};
use firefly_playground::playground::{
    BandPoint, Cause, HashWrite, Level, Msg, Playground, RunState, band,
};
use firefly_playground::settings::PageOptions;

use crate::support::{block, device};

pub(crate) fn page(hash: &str) -> Playground {
    Playground::from_hash(hash, device()).expect("the page starts")
}

fn set(p: &mut Playground, key: &str, value: &str) -> firefly_playground::playground::Effects {
    p.update(Msg::Set(key.into(), value.into()))
}

fn has(p: &Playground, cause: Cause) -> bool {
    p.notices().iter().any(|n| n.cause == cause)
}

/// Works until the main run has trained `epochs` epochs (and the baseline caught up).
pub(crate) fn train_to(p: &mut Playground, epochs: usize) {
    let mut guard = 0;
    while p.main().epoch() < epochs || p.slowest_epoch() < p.main().epoch() {
        block(p.work(50.0));
        guard += 1;
        assert!(guard < 100_000, "training made no progress");
        assert_ne!(p.state(), RunState::Error, "{:?}", p.notices());
    }
}

/// Works until nothing asked for while paused is left.
pub(crate) fn settle(p: &mut Playground) {
    let mut guard = 0;
    while p.busy() {
        block(p.work(50.0));
        guard += 1;
        assert!(guard < 100_000, "the request never finished");
    }
}

/// Every `Effect::Live` row of the settings table reaches every running session without a
/// restart: a newcomer who adds a live row and forgets `Session::set_live` fails here.
#[test]
fn every_live_setting_of_the_table_reaches_the_running_sessions() {
    use firefly_playground::settings::{Effect, SETTINGS, Widget};
    let live: Vec<_> = SETTINGS
        .iter()
        .filter(|s| s.effect == Effect::Live)
        .collect();
    assert!(live.len() >= 3, "learning rate, growth interval, unit cap");
    for setting in live {
        let mut p = page("");
        train_to(&mut p, 2);
        let default = setting.default_value();
        let value = match setting.widget {
            Widget::Select { options, .. } => options
                .iter()
                .map(|(v, _)| v.to_string())
                .find(|v| *v != default)
                .expect("a second choice"),
            Widget::Range { min, max, step, .. } | Widget::Number { min, max, step } => {
                let v = if (min + step).to_string() == default {
                    min + 2.0 * step
                } else {
                    min + step
                };
                assert!(v <= max);
                v.to_string()
            }
            _ => panic!("{}: a live setting with an unexpected control", setting.key),
        };
        let epoch = p.main().epoch();
        set(&mut p, setting.key, &value);
        assert_eq!(setting.get(p.options()), value, "{}", setting.key);
        assert_eq!(p.main().epoch(), epoch, "{}: no restart", setting.key);
        for session in [p.main(), p.baseline()] {
            let mut expect = p.options().config.train.clone();
            let got = &session.config().train;
            expect.learning_rate = got.learning_rate;
            assert_eq!(got, &expect, "{}: the session's schedule", setting.key);
            assert_eq!(
                session.learning_rate(),
                p.options().config.train.learning_rate,
                "{}",
                setting.key
            );
        }
    }
}

#[test]
fn the_learning_rate_changes_live_and_in_the_link() {
    let mut p = page("");
    let fx = set(&mut p, "lr", "0.03");
    assert_eq!(p.options().config.train.learning_rate, 0.03);
    assert_eq!(p.main().learning_rate(), 0.03);
    assert_eq!(p.baseline().learning_rate(), 0.03);
    assert_eq!(
        fx.hash,
        Some(HashWrite {
            hash: "lr=0.03".into(),
            push: true
        })
    );
    assert!(!fx.restarted, "a live setting does not restart the runs");
    assert!(p.notices().is_empty());
}

#[test]
fn a_bad_value_is_named_then_goes_when_fixed() {
    let mut p = page("");
    let fx = set(&mut p, "layers", "4,x");
    assert!(fx.controls, "the control is put back to the value in force");
    assert!(fx.hash.is_none());
    assert!(has(&p, Cause::Setting("layers")));
    assert_eq!(p.options().config.model.hidden, vec![1]);
    let fx = set(&mut p, "layers", "4,2");
    assert!(fx.restarted);
    assert!(!has(&p, Cause::Setting("layers")), "{:?}", p.notices());
    assert_eq!(p.main().shape().architecture(), "2-4-2-2");
}

#[test]
fn reset_clears_refused_values_and_dismiss_clears_one_notice() {
    let mut p = page("colour=red&noise=99");
    assert!(has(&p, Cause::Link));
    assert!(has(&p, Cause::Setting("noise")));
    p.update(Msg::Dismiss(Cause::Link));
    assert!(!has(&p, Cause::Link));
    assert!(has(&p, Cause::Setting("noise")));
    let fx = p.update(Msg::Reset);
    assert!(fx.controls);
    assert!(p.notices().is_empty(), "{:?}", p.notices());
}

#[test]
fn a_diverged_run_recovers_with_a_smaller_rate_and_reset() {
    let mut p = page("lr=10&optimizer=sgd&dataset=reg-plane");
    let mut guard = 0;
    while p.state() != RunState::Error {
        block(p.work(50.0));
        guard += 1;
        assert!(guard < 10_000, "lr=10 with SGD should diverge");
    }
    let run = p
        .notices()
        .iter()
        .find(|n| n.cause == Cause::Run)
        .expect("a notice says why the run stopped");
    assert!(run.text.contains("smaller learning rate"), "{}", run.text);
    set(&mut p, "lr", "0.01");
    p.update(Msg::Reset);
    assert_eq!(p.state(), RunState::Running);
    assert_eq!(
        p.main().learning_rate(),
        0.01,
        "reset keeps the chosen rate"
    );
    assert!(!has(&p, Cause::Run));
    train_to(&mut p, 3);
    assert_eq!(p.state(), RunState::Running);
}

#[test]
fn grow_while_paused_grows_both_runs() {
    let mut p = page("grow-every=100");
    assert!(p.notices().is_empty(), "{:?}", p.notices());
    p.update(Msg::TogglePlay);
    assert_eq!(p.state(), RunState::Paused);
    p.update(Msg::Step);
    settle(&mut p);
    let epoch = p.main().epoch();
    assert_eq!(epoch, 1);
    p.update(Msg::Grow);
    settle(&mut p);
    assert_eq!(
        p.main_seeds().count(),
        5,
        "Figure 3 trains 5 seeds by default"
    );
    for s in p.main_seeds().chain(p.baseline_seeds()) {
        assert_eq!(s.history().growths.len(), 1, "every seed grew");
        assert_eq!(s.n_units(), 2);
        assert_eq!(s.epoch(), epoch);
    }
    assert_eq!(p.main().epoch(), epoch, "growing does not train");
    assert_eq!(p.state(), RunState::Paused);
}

#[test]
fn step_trains_exactly_one_epoch_for_both() {
    let mut p = page("grow-every=100");
    p.update(Msg::TogglePlay);
    p.update(Msg::Step);
    settle(&mut p);
    assert_eq!((p.main().epoch(), p.baseline().epoch()), (1, 1));
    p.update(Msg::Step);
    settle(&mut p);
    assert_eq!((p.main().epoch(), p.baseline().epoch()), (2, 2));
}

#[test]
fn the_unit_cap_is_shown_and_goes_when_raised() {
    let mut p = page("max-units=2&grow-every=1");
    train_to(&mut p, 4);
    assert_eq!(p.main().n_units(), 2);
    let cap = p
        .notices()
        .iter()
        .find(|n| n.cause == Cause::UnitCap)
        .expect("the cap is shown");
    assert_eq!(cap.level, Level::Info);
    let fx = set(&mut p, "max-units", "8");
    assert!(!fx.restarted, "raising the cap keeps the runs");
    assert!(!has(&p, Cause::UnitCap), "{:?}", p.notices());
    let epoch = p.main().epoch();
    train_to(&mut p, epoch + 3);
    assert!(
        p.main().n_units() > 2,
        "growth goes on after the cap is raised"
    );
}

#[test]
fn back_and_forward_apply_the_link() {
    let mut p = page("");
    set(&mut p, "dataset", "xor");
    let fx = p.update(Msg::Link("#dataset=spiral&layers=3".into()));
    assert!(fx.restarted && fx.controls);
    assert!(fx.hash.is_none(), "a link read is not written back");
    assert_eq!(p.options().config.data.kind, DatasetKind::Spiral);
    assert_eq!(p.main().shape().architecture(), "2-3-2");
    // The same link again changes nothing.
    let fx = p.update(Msg::Link("dataset=spiral&layers=3".into()));
    assert_eq!(fx, Default::default());
    // Back to the start: the defaults.
    p.update(Msg::Link(String::new()));
    assert_eq!(p.options(), &PageOptions::default());
}

#[test]
fn dragging_replaces_the_history_entry_it_added() {
    let mut p = page("");
    let first = p.update(Msg::Preview("noise".into(), "10".into()));
    assert_eq!(first.hash.as_ref().map(|h| h.push), Some(true));
    assert!(!first.restarted, "a drag does not restart the runs");
    assert_eq!(p.options().config.data.noise, 0.0);
    let next = p.update(Msg::Preview("noise".into(), "20".into()));
    assert_eq!(next.hash.as_ref().map(|h| h.push), Some(false));
    let done = set(&mut p, "noise", "20");
    assert!(done.hash.is_none(), "the link already says noise=20");
    assert!(done.restarted);
    assert!((p.options().config.data.noise - 0.2).abs() < 1e-6);
    let other = set(&mut p, "batch", "20");
    assert_eq!(other.hash.map(|h| h.push), Some(true));
}

#[test]
fn slow_motion_stops_after_each_part_of_a_growth() {
    let mut p = page("slowmo=1&grow-every=1");
    let mut parts = Vec::new();
    for _ in 0..4 {
        let mut guard = 0;
        while p.state() == RunState::Running {
            block(p.work(50.0));
            guard += 1;
            assert!(guard < 10_000, "slow motion never stopped");
        }
        let text = p.explanation().expect("a stop explains itself");
        parts.push(text.chars().next().unwrap_or(' '));
        p.update(Msg::TogglePlay);
    }
    assert_eq!(parts, ['①', '②', '③', '④']);
    assert_eq!(p.main().history().growths.len(), 1);
}

#[test]
fn a_checkbox_setting_changes_only_the_view() {
    let mut p = page("");
    let fx = set(&mut p, "test", "1");
    assert!(p.options().show_test);
    assert!(!fx.restarted);
    assert_eq!(fx.hash.map(|h| h.hash), Some("test=1".into()));
}

#[test]
fn csv_files_load_and_report() {
    let mut p = page("");
    let mut text = String::from("x,y,label\n");
    for i in 0..40 {
        let x = (i as f32) / 4.0 - 5.0;
        text.push_str(&format!("{x},{},{}\n", -x, i % 2));
    }
    text.push_str("9,9,1\n-8,0,0\n");
    p.update(Msg::Csv("points.csv".into(), text));
    assert_eq!(p.data().len(), 42);
    let info = p
        .notices()
        .iter()
        .find(|n| n.cause == Cause::Points)
        .expect("points outside the plane are reported");
    assert!(info.text.contains("2 of 42"), "{}", info.text);
    p.update(Msg::Csv(
        "bad.csv".into(),
        "x,y,label\n1,2,0\n1,x,1\n".into(),
    ));
    assert_eq!(p.data().len(), 42, "a bad file loses nothing");
    let error = p.notices().iter().find(|n| n.cause == Cause::Data);
    assert!(
        error.is_some_and(|n| n.text.contains("line 3")),
        "{:?}",
        p.notices()
    );
    p.update(Msg::CsvLoading(
        "huge.csv".into(),
        (MAX_CSV_BYTES * 2) as f64,
    ));
    let error = p.notices().iter().find(|n| n.cause == Cause::Data);
    assert!(error.is_some_and(|n| n.text.contains("nothing was loaded")));
    p.update(Msg::Set("dataset".into(), "xor".into()));
    assert!(
        !has(&p, Cause::Points),
        "generated data has no outside points"
    );
}

#[test]
fn a_large_csv_parses_in_linear_time() {
    // 99,000 points: counting lines from the start for every record took minutes in the page.
    let mut text = String::with_capacity(2_500_000);
    text.push_str("x,y,label\n");
    for i in 0..99_000 {
        let t = i as f32 * 0.001;
        text.push_str(&format!(
            "{:.4},{:.4},{}\n",
            t.sin() * 5.0,
            t.cos() * 5.0,
            i % 2
        ));
    }
    text.push_str("1,oops,0\n");
    let data = firefly_playground::data::Dataset::from_csv("big", &text, 0.5, 1);
    let error = data.expect_err("the last line is bad").to_string();
    assert!(error.contains("line 99002"), "{error}");
}

#[test]
fn regenerate_gives_new_points_and_a_link_that_keeps_them() {
    let mut p = page("");
    let before = p.data().train[0];
    let fx = p.update(Msg::Regenerate(12345));
    assert_ne!(p.data().train[0], before);
    let hash = fx.hash.expect("the link changes").hash;
    assert!(hash.contains("data-seed=12345"), "{hash}");
    let again = Playground::from_hash(&hash, device()).expect("starts");
    assert_eq!(again.data().train, p.data().train);
}

#[test]
fn same_link_same_runs() {
    // Stepped epoch by epoch (no time box), two pages on the same link grow the same networks.
    let stepped = || {
        let mut p = page("layers=2&grow-every=2");
        p.update(Msg::TogglePlay);
        for _ in 0..7 {
            p.update(Msg::Step);
            settle(&mut p);
        }
        p
    };
    let (a, b) = (stepped(), stepped());
    for (x, y) in [(a.main(), b.main()), (a.baseline(), b.baseline())] {
        assert_eq!(x.epoch(), 7);
        assert_eq!(x.history().epochs, y.history().epochs);
        let growths = |s: &firefly_playground::Session| {
            s.history()
                .growths
                .iter()
                .map(|g| {
                    (
                        g.architecture_after.clone(),
                        g.plan.clone(),
                        g.candidates.clone(),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(growths(x), growths(y));
        assert_eq!(x.history().growths.len(), 3);
    }
}

/// Plays the page as the browser does for `seconds` of simulated time: one paced unit of work per
/// 60 Hz frame (as much work as the frame may do: the machine is never the limit here).
fn play(p: &mut Playground, seconds: f64) {
    let frames = (seconds * 60.0).round() as usize;
    for _ in 0..frames {
        block(p.work_paced(1e9, 1000.0 / 60.0));
        assert_ne!(p.state(), RunState::Error, "{:?}", p.notices());
    }
}

#[test]
fn the_opening_experiment_grows_over_a_minute_at_the_default_pace() {
    use firefly_playground::playground::GROWTH_HOLD_S;
    use firefly_playground::settings::DEFAULT_SPEED;
    let mut p = page("seeds=1");
    assert_eq!(p.options().speed, DEFAULT_SPEED);
    let growths = |p: &Playground| p.main().history().growths.len();
    // 300 epochs between growths at 100 epochs/s, and a pause of GROWTH_HOLD_S after each.
    play(&mut p, 20.0);
    let at_20 = growths(&p);
    let expected = (20.0 / (3.0 + GROWTH_HOLD_S)) as usize;
    assert!(
        (expected.saturating_sub(1)..=expected + 1).contains(&at_20),
        "{at_20} growths after 20 s, expected about {expected}"
    );
    assert!(p.main().epoch() <= 20 * DEFAULT_SPEED as usize + 25);
    play(&mut p, 10.0);
    assert!(
        growths(&p) < 15,
        "still growing after 30 s: {}",
        growths(&p)
    );
    play(&mut p, 30.0);
    assert_eq!(growths(&p), 15, "all 15 growths within the minute");
    assert_eq!(p.main().n_units(), 16);
    // Both kinds of growth show within the minute (the scores pick 4 splits and 11 new units).
    let events = &p.main().history().growths;
    let splits: usize = events.iter().map(|e| e.plan.splits.len()).sum();
    let new: usize = events.iter().map(|e| e.plan.new_units.len()).sum();
    assert!(splits >= 1 && new >= 1, "{splits} splits, {new} new units");
    // Both runs and the seeds keep in step.
    assert_eq!(p.baseline().epoch(), p.main().epoch());
}

#[test]
fn training_waits_while_a_growth_is_shown_and_speed_changes_the_pace() {
    let mut p = page("seeds=1&speed=100");
    let growths = |p: &Playground| p.main().history().growths.len();
    while growths(&p) == 0 {
        play(&mut p, 1.0 / 60.0);
    }
    let grown_at = p.main().epoch();
    play(&mut p, 0.5);
    assert_eq!(
        p.main().epoch(),
        grown_at,
        "no training while the growth is shown"
    );
    play(&mut p, 1.0);
    assert!(p.main().epoch() > grown_at + 30, "training resumed");
    // Slower: 10 epochs/s trains about 10 epochs a second; the change is live (no restart).
    let fx = set(&mut p, "speed", "10");
    assert!(!fx.restarted);
    let before = p.main().epoch();
    play(&mut p, 2.0);
    let trained = p.main().epoch() - before;
    assert!(
        (18..=23).contains(&trained),
        "{trained} epochs in 2 s at 10/s"
    );
    // Fastest: no pace, the frame's budget decides.
    set(&mut p, "speed", "fastest");
    assert_eq!(p.options().speed, 0);
    let before = p.main().epoch();
    block(p.work_paced(30.0, 1000.0 / 60.0));
    assert!(p.main().epoch() > before, "trains without a pace");
    // Only the listed speeds.
    set(&mut p, "speed", "50");
    assert!(has(&p, Cause::Setting("speed")), "{:?}", p.notices());
    assert_eq!(p.options().speed, 0);
}

#[test]
fn a_paused_page_does_not_bank_time() {
    let mut p = page("seeds=1");
    play(&mut p, 1.0);
    p.update(Msg::TogglePlay);
    let paused_at = p.main().epoch();
    play(&mut p, 5.0);
    assert_eq!(p.main().epoch(), paused_at);
    p.update(Msg::TogglePlay);
    play(&mut p, 1.0 / 60.0);
    assert!(
        p.main().epoch() <= paused_at + 26,
        "no burst after a pause: {} → {}",
        paused_at,
        p.main().epoch()
    );
    // Epochs stepped while paused are not owed: training goes on at once after Play.
    p.update(Msg::TogglePlay);
    for _ in 0..40 {
        p.update(Msg::Step);
        settle(&mut p);
    }
    let stepped_to = p.main().epoch();
    p.update(Msg::TogglePlay);
    play(&mut p, 3.0 / 60.0);
    assert!(
        p.main().epoch() > stepped_to,
        "trains right after Play: still at {stepped_to}"
    );
}

#[test]
fn figure3_trains_every_seed_as_it_would_train_alone() {
    // Three seeds of both runs: seed k starts from the run's seed + k on the same data.
    let mut p = page("seeds=3&grow-every=4");
    assert_eq!(p.main_seeds().count(), 3);
    assert_eq!(p.baseline_seeds().count(), 3);
    train_to(&mut p, 13);
    let epoch = p.main().epoch();
    assert_eq!(
        p.slowest_epoch(),
        epoch,
        "every seed keeps pace with the first"
    );
    let mains: Vec<_> = p.main_seeds().collect();
    assert_ne!(
        mains[0].history().epochs,
        mains[1].history().epochs,
        "different seeds, different runs"
    );
    // Seed 2 of the opening experiment (seed 1, data seed 1) is the run with seed 3 on data
    // seed 1, trained alone.
    let mut alone = page("seed=3&data-seed=1&seeds=1&grow-every=4");
    assert_eq!(alone.main_seeds().count(), 1);
    train_to(&mut alone, epoch);
    for (member, single) in [
        (mains[2], alone.main()),
        (p.baseline_seeds().nth(2).expect("seed 2"), alone.baseline()),
    ] {
        let a = &member.history().epochs[..epoch];
        let b = &single.history().epochs[..epoch];
        assert_eq!(a, b, "the member's history is the lone run's");
        let arch = |s: &firefly_playground::Session| {
            s.history()
                .growths
                .iter()
                .filter(|g| g.epoch < epoch)
                .map(|g| (g.epoch, g.architecture_after.clone(), g.lineage.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(arch(member), arch(single));
        assert!(!arch(member).is_empty(), "it grew");
    }
    let (firefly, random) = p.figure3();
    assert!(
        firefly.iter().any(|b| b.n == 3),
        "points shared by all seeds"
    );
    assert!(random.iter().all(|b| b.low <= b.mean && b.mean <= b.high));
}

#[test]
fn figure3_band_is_the_mean_and_one_standard_deviation() {
    let runs = vec![
        vec![(1, 1.0), (2, 0.5)],
        vec![(1, 3.0), (2, 0.5), (3, 0.2)],
        vec![(1, f32::NAN)],
    ];
    let b = band(&runs);
    assert_eq!(
        b,
        vec![
            BandPoint {
                units: 1,
                mean: 2.0,
                low: 1.0,
                high: 3.0,
                n: 2
            },
            BandPoint {
                units: 2,
                mean: 0.5,
                low: 0.5,
                high: 0.5,
                n: 2
            },
            BandPoint {
                units: 3,
                mean: 0.2,
                low: 0.2,
                high: 0.2,
                n: 1
            },
        ]
    );
    assert!(band(&[]).is_empty());
    // A phase that grew nothing leaves two points of one run at a count: the run counts once,
    // with its later point.
    let b = band(&[vec![(1, 0.9), (1, 0.7), (2, 0.4)], vec![(1, 0.5)]]);
    assert_eq!((b[0].n, b[0].mean), (2, 0.6));
    assert_eq!((b[1].n, b[1].mean), (1, 0.4));
}

#[test]
fn one_seed_trains_one_network_of_each() {
    let mut p = page("seeds=1");
    assert_eq!(p.main_seeds().count(), 1);
    train_to(&mut p, 3);
    let (firefly, _) = p.figure3();
    assert!(
        firefly
            .iter()
            .all(|b| b.n == 1 && b.low == b.mean && b.high == b.mean)
    );
    let fx = set(&mut p, "seeds", "4");
    assert!(fx.restarted, "more seeds start the runs again");
    assert_eq!(p.main_seeds().count(), 4);
    set(&mut p, "seeds", "11");
    assert!(has(&p, Cause::Setting("seeds")), "{:?}", p.notices());
    assert_eq!(p.main_seeds().count(), 4, "a refused value changes nothing");
}

#[test]
fn a_starting_network_above_the_limits_is_named() {
    // 1,024 + 1 + 1,024 + 1 units: more than the 2,048 a network may have in all.
    let (_, problems) = firefly_playground::url::parse_hash("layers=1024,1,1024,1");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].message.contains("2050") && problems[0].message.contains("2048"),
        "{}",
        problems[0].message
    );
    // Two wide layers in a row: too many weights between them for a CPU step in a frame.
    let (_, problems) = firefly_playground::url::parse_hash("layers=256,128");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].message.contains("32768") && problems[0].message.contains("16384"),
        "{}",
        problems[0].message
    );
    // One layer wider than 1,024 units.
    let (_, problems) = firefly_playground::url::parse_hash("layers=1025");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].message.contains("1 to 1024"),
        "{}",
        problems[0].message
    );
    // Starting above Max units: the notice says the networks start there, not that they grew.
    let mut p = page("layers=8,8,8&max-units=16&seeds=1");
    train_to(&mut p, 1);
    let notice = p
        .notices()
        .iter()
        .find(|n| n.cause == Cause::UnitCap)
        .expect("a unit-cap notice");
    assert!(
        notice.text.contains("start with 24") && notice.text.contains("(16)"),
        "{}",
        notice.text
    );
}

/// Grow pressed four times while paused: the generator advances between growths, so the random
/// baseline draws four different units. Firefly's first two units are one unit up to the sign
/// symmetry (w the same, ε and c both flipped: the same ε·c): on an unchanged network Step 1
/// finds the same steepest direction again from different starting candidates; later ones
/// differ as the network has changed.
#[test]
fn repeated_growths_while_paused_draw_new_candidates() {
    let mut p = page("autoplay=0&seeds=1");
    for _ in 0..4 {
        p.update(Msg::Grow);
        settle(&mut p);
    }
    assert_eq!(p.state(), RunState::Paused);
    let fan_ins = |s: &firefly_playground::Session| -> Vec<Vec<f32>> {
        s.history()
            .growths
            .iter()
            .flat_map(|e| e.plan.new_units.iter().map(|u| u.fan_in.clone()))
            .collect()
    };
    let baseline = fan_ins(p.baseline());
    assert_eq!(baseline.len(), 4);
    for i in 0..4 {
        for j in 0..i {
            assert_ne!(baseline[i], baseline[j], "random units {j} and {i}");
        }
    }
    let main = fan_ins(p.main());
    assert!(
        main.len()
            + p.main()
                .history()
                .growths
                .iter()
                .map(|e| e.plan.splits.len())
                .sum::<usize>()
            == 4
    );
    assert!(main.windows(2).any(|w| w[0] != w[1]), "{main:?}");
}

#[test]
fn reset_keeps_a_paused_page_paused() {
    let mut p = page("seeds=1&speed=0");
    train_to(&mut p, 3);
    p.update(Msg::TogglePlay);
    assert_eq!(p.state(), RunState::Paused);
    p.update(Msg::Reset);
    assert_eq!(
        p.state(),
        RunState::Paused,
        "r while paused does not start playing"
    );
    assert_eq!(p.main().epoch(), 0);
    set(&mut p, "layers", "3");
    assert_eq!(p.state(), RunState::Paused, "a restarting setting neither");
    p.update(Msg::TogglePlay);
    p.update(Msg::Reset);
    assert_eq!(p.state(), RunState::Running, "a playing page plays on");
}

#[test]
fn stepping_a_slider_with_the_keys_adds_one_history_entry() {
    // Each arrow key on a range fires input (a preview) and change (a set): twenty steps of
    // Noise used to add twenty entries. Now the first adds one and the rest replace it; another
    // setting adds its own.
    let mut p = page("seeds=1");
    let mut pushes = 0;
    for step in 1..=20 {
        let value = (step * 2).to_string();
        for fx in [
            p.update(Msg::Preview("noise".into(), value.clone())),
            p.update(Msg::Set("noise".into(), value)),
        ] {
            pushes += fx.hash.is_some_and(|h| h.push) as usize;
        }
    }
    assert_eq!(pushes, 1);
    assert!(
        p.settings_hash().contains("noise=40"),
        "{}",
        p.settings_hash()
    );
    let fx = set(&mut p, "lr", "0.03");
    assert!(
        fx.hash.is_some_and(|h| h.push),
        "another setting adds an entry"
    );
    let fx = set(&mut p, "noise", "10");
    assert!(fx.hash.is_some_and(|h| h.push), "and Noise again after it");
}

#[test]
fn uploaded_points_are_named_and_a_click_on_the_data_set_brings_generated_ones_back() {
    let mut p = page("seeds=1");
    let mut text = String::from("x,y,label\n");
    for i in 0..30 {
        let x = (i as f32) / 4.0 - 3.0;
        text.push_str(&format!("{x},{},{}\n", x / 2.0, i % 2));
    }
    p.update(Msg::Csv("mine.csv".into(), text));
    assert_eq!(p.data().len(), 30);
    let intro = p.what_to_look_for();
    assert!(
        intro.contains("Your data") && intro.contains("30 points") && !intro.contains("circle"),
        "{intro}"
    );
    assert!(intro.contains("not in the link"), "{intro}");
    // The data set already selected (circle), clicked: generated points again.
    let fx = set(&mut p, "dataset", "circle");
    assert!(fx.restarted);
    assert_eq!(p.data().len(), 500);
    assert!(!p.what_to_look_for().contains("Your data"));
}

#[test]
fn the_points_slider_shows_the_loaded_points_and_is_held_until_a_data_set_is_clicked() {
    let mut p = page("seeds=1");
    assert!(
        p.held().is_empty(),
        "generated data: every control as its setting says"
    );
    let mut text = String::from("x,y,label\n");
    for i in 0..300 {
        let x = (i as f32) / 60.0 - 2.5;
        text.push_str(&format!("{x},{},{}\n", x / 2.0, i % 2));
    }
    p.update(Msg::Csv("mine.csv".into(), text));
    assert_eq!(p.data().len(), 300);
    let held = p.held();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0].key, "points");
    assert_eq!(held[0].value, "300");
    assert_eq!(held[0].text, "300 (your data)");
    assert!(held[0].why.contains("Click a data set"), "{}", held[0].why);
    // The setting itself is still the generator's (the link keeps it).
    assert!(p.settings_hash().split('&').all(|kv| kv != "points=300"));
    // A point clicked onto the map counts too.
    p.update(Msg::AddPoint(0.5, 0.5, false));
    assert_eq!(p.held()[0].text, "301 (your data)");
    // The data set clicked again: generated points, the slider as its setting says.
    set(&mut p, "dataset", "circle");
    assert_eq!(p.data().len(), 500);
    assert!(p.held().is_empty());
}

#[test]
fn under_auto_a_network_across_64_units_a_layer_decides_the_backend_again() {
    // `auto` runs a network under 64 units a layer on the CPU without loading the WebGPU code,
    // and probes a wider one: a restart with a network on the other side of the line, or a wide
    // one of another width, reloads the page, which decides for the network it now has.
    let narrow = || page("seeds=1&max-units=200&layers=4");
    assert!(
        !set(&mut narrow(), "layers", "8").reload,
        "narrow to narrow"
    );
    assert!(!set(&mut narrow(), "lr", "0.1").reload, "a live setting");
    let fx = set(&mut narrow(), "layers", "64");
    assert!(fx.reload, "narrow to 64 wide must decide again: {fx:?}");
    let wide = || page("seeds=1&max-units=200&layers=64");
    assert!(set(&mut wide(), "layers", "4").reload, "wide to narrow");
    assert!(
        !set(&mut wide(), "layers", "64,32").reload,
        "the same widest layer"
    );
    assert!(!set(&mut wide(), "lr", "0.1").reload, "a live setting");
    let mut cpu = page("backend=cpu&seeds=1&max-units=200&layers=4");
    assert!(
        !set(&mut cpu, "layers", "64").reload,
        "backend=cpu chose the CPU for every network"
    );
}

#[test]
fn a_frame_trains_for_what_drawing_leaves_and_a_costly_drawing_halves_the_frame_rate() {
    use firefly_playground::playground::{HALF_RATE_FRAME_MS, training_budget_ms};
    // The CPU's 13 ms frame: drawing 4 ms leaves 9, drawing 9 ms leaves 4; drawing 12 ms would
    // leave 1, but then the page aims at 22 ms frames and trains 10; however long drawing
    // takes, 2 ms at least.
    assert_eq!(training_budget_ms(13.0, 4.0), 9.0);
    assert_eq!(training_budget_ms(13.0, 9.0), 4.0);
    assert_eq!(training_budget_ms(13.0, 12.0), HALF_RATE_FRAME_MS - 12.0);
    assert_eq!(training_budget_ms(13.0, 21.0), 2.0);
    // WebGPU's 30 ms frame is already longer than a 30 Hz one.
    assert_eq!(training_budget_ms(30.0, 20.0), 10.0);
}
