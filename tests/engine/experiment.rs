//! Figure 3 and Figure 4(b) at test size: Firefly against the baselines, Figure 3's points by units
//! actually grown (a phase that grows nothing is not a grown unit), the empty-phase count, panel
//! (b)'s ordering in m', the growth-time CSV and where its lines cross, and how each random
//! baseline builds its units.

use firefly_playground::data::{DatasetKind, Task};
use firefly_playground::experiment::{
    self, CSV_HEADER, Figure3Config, GROWTH_TIME_HEADER, GrowthTimeConfig, GrowthTimeRow, Measure,
    Row, SUMMARY_HEADER, Series, run_job,
};
use firefly_playground::grow::{Method, apply_plan, random};
use firefly_playground::model::Activation;
use firefly_playground::optim::OptimizerKind;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::support::{block, device, mlp};

fn run_all(config: &Figure3Config) -> Vec<Row> {
    let device = device();
    let mut rows = Vec::new();
    for job in config.jobs() {
        rows.extend(block(run_job(&job, config, &device)).expect("job"));
    }
    rows
}

/// The headline claim at test size: the Figure 3 protocol (full-batch SGD with momentum, 300
/// steps between phases) over 8 phases on circle, xor and spiral, 10 seeds, paired by seed.
/// Measured: Firefly's mean loss over units 1..8 below random-new's on 10, 10 and 8 seeds, below
/// random-split's and exact splitting's on every seed compared (exact splitting grows nothing on
/// some xor seeds, which are left out of its comparison).
#[test]
fn firefly_is_ahead_of_every_baseline_on_at_least_8_of_10_seeds() {
    let config = Figure3Config {
        datasets: vec![DatasetKind::Circle, DatasetKind::Xor, DatasetKind::Spiral],
        methods: vec![
            Method::Firefly,
            Method::RandomNew,
            Method::RandomSplit,
            Method::ExactSplit,
        ],
        candidates: vec![10],
        seeds: 10,
        max_grown: 8,
        ..Figure3Config::default()
    };
    assert_eq!(config.optimizer, OptimizerKind::Sgd, "the protocol");
    assert_eq!((config.steps_per_phase, config.learning_rate), (300, 0.1));
    let rows = run_all(&config);
    assert_eq!(rows.len(), 3 * 4 * 10 * 9);
    // Same seed ⇒ same starting network: the rows at grown = 0 agree across methods.
    for seed in 0..10 {
        let start: Vec<f32> = rows
            .iter()
            .filter(|r| r.seed == seed && r.grown == 0 && r.dataset == "circle")
            .map(|r| r.loss_after_growth)
            .collect();
        assert!(start.windows(2).all(|w| w[0] == w[1]), "{start:?}");
    }
    let paired = experiment::paired_comparisons(&rows);
    for dataset in ["circle", "xor", "spiral"] {
        for baseline in ["random-new", "random-split", "exact-split"] {
            let p = paired
                .iter()
                .find(|p| {
                    p.method.dataset == dataset
                        && p.baseline.method == baseline
                        && p.measure == Measure::AfterTraining
                })
                .unwrap_or_else(|| panic!("{dataset}: firefly vs {baseline} compared"));
            assert!(p.up_to >= 4, "{dataset} vs {baseline}: K = {}", p.up_to);
            assert!(p.difference < 0.0, "{p:?}");
            if baseline == "exact-split" {
                assert!(p.seeds >= 5 && p.ahead + 1 >= p.seeds, "{p:?}");
            } else {
                assert_eq!(p.seeds, 10, "{p:?}");
                assert!(p.ahead >= 8, "{p:?}");
            }
        }
    }
    let report = experiment::figure3_report(&rows);
    assert!(report.contains("paired by seed"), "{report}");
    let mut csv = Vec::new();
    experiment::write_csv(&rows, &mut csv).expect("csv");
    let text = String::from_utf8(csv).expect("utf-8");
    assert_eq!(text.lines().next(), Some(CSV_HEADER.join(",").as_str()));
    assert_eq!(text.lines().count(), rows.len() + 1);
}

/// The loss right after a growth is the loss the growth left: for a phase that grew nothing it
/// is the previous row's loss after training (the same network), and the starting row's is the
/// untrained network's.
#[test]
fn the_loss_after_growth_is_recorded_before_the_steps_that_follow() {
    let config = Figure3Config {
        datasets: vec![DatasetKind::Xor],
        methods: vec![Method::ExactSplit, Method::RandomNew],
        seeds: 2,
        max_grown: 3,
        steps_per_phase: 50,
        ..Figure3Config::default()
    };
    let rows = run_all(&config);
    for pair in rows.windows(2).filter(|w| w[1].grown > 0) {
        let (before, after) = (&pair[0], &pair[1]);
        if after.added == 0 {
            assert_eq!(after.loss_after_growth, before.train_loss, "{after:?}");
        } else {
            assert_ne!(after.loss_after_growth, before.train_loss, "{after:?}");
        }
    }
    for r in rows.iter().filter(|r| r.grown == 0) {
        assert!(
            r.loss_after_growth > r.train_loss,
            "training lowered the loss: {r:?}"
        );
    }
}

/// Paired statistics by hand: seed 0: firefly 0.2 vs 0.4 (units 1, 2: 0.3, 0.1 and 0.5, 0.3);
/// seed 1: 0.3 vs 0.2; seed 2: only firefly reached 2 units, so it is left out. Differences
/// −0.2, +0.1: mean −0.05, sample s.d. 0.2121, s.e. 0.15; ahead on 1 of 2.
#[test]
fn paired_comparisons_match_hand_derived_statistics() {
    let mk = |method: &str, seed: u64, grown: usize, units: usize, loss: f32| Row {
        method: method.into(),
        candidates: if method == "firefly" { 10 } else { 0 },
        ..row(seed, grown, units, if grown > 0 { 1 } else { 0 }, loss)
    };
    let rows = vec![
        mk("firefly", 0, 0, 1, 0.9),
        mk("firefly", 0, 1, 2, 0.3),
        mk("firefly", 0, 2, 3, 0.1),
        mk("firefly", 1, 0, 1, 0.9),
        mk("firefly", 1, 1, 2, 0.4),
        mk("firefly", 1, 2, 3, 0.2),
        mk("firefly", 2, 0, 1, 0.9),
        mk("firefly", 2, 1, 2, 0.4),
        mk("firefly", 2, 2, 3, 0.2),
        mk("random-new", 0, 0, 1, 0.9),
        mk("random-new", 0, 1, 2, 0.5),
        mk("random-new", 0, 2, 3, 0.3),
        mk("random-new", 1, 0, 1, 0.9),
        mk("random-new", 1, 1, 2, 0.3),
        mk("random-new", 1, 2, 3, 0.1),
        mk("random-new", 2, 0, 1, 0.9),
        mk("random-new", 2, 1, 2, 0.6),
        mk("random-new", 2, 2, 2, 0.6),
    ];
    let series = experiment::series(&rows);
    let p = experiment::paired(&rows, &series[0], &series[1], 2, Measure::AfterTraining)
        .expect("compared");
    assert_eq!((p.seeds, p.ahead, p.up_to), (2, 1, 2));
    assert!((p.method_mean - 0.25).abs() < 1e-6, "{p:?}");
    assert!((p.baseline_mean - 0.3).abs() < 1e-6, "{p:?}");
    assert!((p.difference + 0.05).abs() < 1e-6, "{p:?}");
    assert!((p.standard_error - 0.15).abs() < 1e-6, "{p:?}");
    // Half the seeds of each reached 2 units: the comparison goes up to 2.
    let all = experiment::paired_comparisons(&rows);
    assert_eq!(all.len(), 2, "both measures");
    assert_eq!(all[0].up_to, 2);
}

fn row(seed: u64, grown: usize, units: usize, added: usize, loss: f32) -> Row {
    Row {
        dataset: "xor".into(),
        method: "exact-split".into(),
        candidates: 0,
        seed,
        grown,
        units,
        params: 4 * units + 3,
        train_loss: loss,
        test_loss: loss,
        train_accuracy: 1.0,
        grow_ms: if added > 0 { 1.0 } else { 0.0 },
        units_grown: units - 1,
        added,
        loss_after_growth: loss,
    }
}

/// Seed 0 grows nothing in phases 1 and 3; seed 1 grows a unit in every phase.
fn rows_with_empty_phases() -> Vec<Row> {
    vec![
        row(0, 0, 1, 0, 0.9),
        row(0, 1, 1, 0, 0.8),
        row(0, 2, 2, 1, 0.7),
        row(0, 3, 2, 0, 0.6),
        row(0, 4, 3, 1, 0.5),
        row(1, 0, 1, 0, 0.9),
        row(1, 1, 2, 1, 0.6),
        row(1, 2, 3, 1, 0.4),
        row(1, 3, 4, 1, 0.3),
        row(1, 4, 5, 1, 0.2),
    ]
}

#[test]
fn figure3_points_are_by_units_actually_grown() {
    let rows = rows_with_empty_phases();
    let summary = experiment::summarise(&rows);
    let points: Vec<(usize, f64, usize)> = summary
        .iter()
        .map(|s| (s.units_grown, s.mean, s.n))
        .collect();
    // At k grown units each seed contributes the network when it first had k grown units:
    // seed 0 reaches 1 grown unit in phase 2 (0.7), not in phase 1 (0.8, still 0 grown).
    let expected = [
        (0, 0.9, 2),
        (1, (0.7 + 0.6) / 2.0, 2),
        (2, (0.5 + 0.4) / 2.0, 2),
        (3, 0.3, 1),
        (4, 0.2, 1),
    ];
    assert_eq!(points.len(), expected.len(), "{points:?}");
    for ((k, mean, n), (ek, emean, en)) in points.iter().zip(expected) {
        assert_eq!((*k, *n), (ek, en));
        assert!((mean - emean).abs() < 1e-6, "k = {k}: {mean} vs {emean}");
    }
    let one = summary.iter().find(|s| s.units_grown == 1).expect("k = 1");
    assert!((one.std - (0.005f64).sqrt()).abs() < 1e-6, "{}", one.std);

    let empty = experiment::empty_phases(&rows);
    assert_eq!(empty.len(), 1);
    assert_eq!((empty[0].phases, empty[0].empty), (8, 2));
    assert!((empty[0].share() - 0.25).abs() < 1e-12);

    let series = Series {
        dataset: "xor".into(),
        method: "exact-split".into(),
        candidates: 0,
    };
    assert_eq!(
        experiment::common_units(&rows, "xor", std::slice::from_ref(&series)),
        Some(2)
    );
    let area = experiment::mean_over_units(&summary, &series, 2).expect("points 1 and 2");
    assert!((area - (0.65 + 0.45) / 2.0).abs() < 1e-6);
    assert_eq!(experiment::mean_over_units(&summary, &series, 5), None);

    let mut csv = Vec::new();
    experiment::write_summary_csv(&rows, &mut csv).expect("csv");
    let text = String::from_utf8(csv).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], SUMMARY_HEADER.join(","));
    assert_eq!(lines.len(), 1 + 5);
    assert_eq!(
        lines[2],
        "xor,exact-split,0,1,2,0.650000,0.070711,8,2,0.2500"
    );

    let report = experiment::figure3_report(&rows);
    assert!(report.contains("2/8 (25 %)"), "{report}");
    assert!(report.contains("0.3000 ± 0.0000 (1)"), "{report}");
}

#[test]
fn a_phase_that_grows_nothing_is_not_plotted_as_a_grown_unit() {
    // Firefly splitting a lone unit, and exact splitting, often find nothing worth growing
    // (spec §4: no candidate with a negative score; §6: no negative eigenvalue).
    let config = Figure3Config {
        datasets: vec![DatasetKind::Xor],
        methods: vec![Method::FireflySplit, Method::ExactSplit],
        candidates: vec![10],
        seeds: 3,
        max_grown: 4,
        steps_per_phase: 100,
        ..Figure3Config::default()
    };
    let jobs = config.jobs();
    assert!(
        jobs.iter().all(|j| j.candidates == 0),
        "split-only runs once"
    );
    let rows = run_all(&config);
    let mut empty = 0;
    for pair in rows.windows(2).filter(|w| w[1].grown > 0) {
        let (before, after) = (&pair[0], &pair[1]);
        assert_eq!(after.grown, before.grown + 1);
        assert_eq!(after.added, after.units - before.units);
        assert_eq!(after.units_grown, after.units - 1, "started at width 1");
        if after.added == 0 {
            empty += 1;
            assert_eq!(after.grow_ms, 0.0);
        }
    }
    assert!(empty > 0, "some phase grew nothing in this run");
    let counted: usize = experiment::empty_phases(&rows)
        .iter()
        .map(|e| e.empty)
        .sum();
    assert_eq!(counted, empty);
    // Every plotted point is the first row of each seed at that unit count.
    let summary = experiment::summarise(&rows);
    let mut differs = false;
    for s in &summary {
        let firsts: Vec<f64> = (0..3)
            .filter_map(|seed| {
                rows.iter()
                    .filter(|r| r.method == s.method && r.seed == seed)
                    .find(|r| r.units_grown == s.units_grown)
                    .map(|r| r.train_loss as f64)
            })
            .collect();
        assert_eq!(firsts.len(), s.n);
        let mean = firsts.iter().sum::<f64>() / firsts.len() as f64;
        assert!((mean - s.mean).abs() < 1e-9);
        // The old x axis (phases) would have put another value here.
        let at_phase: Vec<f64> = rows
            .iter()
            .filter(|r| r.method == s.method && r.grown == s.units_grown)
            .map(|r| r.train_loss as f64)
            .collect();
        let phase_mean = at_phase.iter().sum::<f64>() / at_phase.len().max(1) as f64;
        differs |= (phase_mean - s.mean).abs() > 1e-6;
    }
    assert!(
        differs,
        "by units and by phases coincide: no empty phase mattered"
    );
}

#[test]
fn more_candidates_are_not_worse_on_the_spiral_at_test_size() {
    // Panel (b) at test size: 6 seeds of the spiral, 8 phases of the protocol. Measured means
    // over units 1..8: m' = 1: 0.623, 10: 0.607, 50: 0.610 (50 above 10 by 0.003, s.e. 0.008).
    // Over 20 phases and 10 seeds the spiral is non-increasing in m' (0.419, 0.390, 0.369,
    // 0.367 for 1, 5, 10, 50); on circle and xor m' makes no difference beyond a standard error.
    let config = Figure3Config {
        datasets: vec![DatasetKind::Spiral],
        methods: vec![Method::Firefly, Method::FireflySplit],
        candidates: vec![1, 10, 50],
        seeds: 6,
        max_grown: 8,
        ..Figure3Config::default()
    };
    let jobs = config.jobs();
    assert_eq!(jobs.len(), (3 + 1) * 6, "split-only does not depend on m'");
    let rows = run_all(&config);
    let orderings = experiment::candidate_orderings(&rows);
    assert_eq!(
        orderings.len(),
        1,
        "split-only has one m' and is not ordered"
    );
    let o = &orderings[0];
    assert_eq!(
        (o.dataset.as_str(), o.method.as_str()),
        ("spiral", "firefly")
    );
    assert_eq!(o.counts, vec![1, 10, 50]);
    assert_eq!(o.final_units, 8);
    assert!(o.average.iter().all(|p| p.n == 6));
    let means: Vec<f64> = o.average.iter().map(|p| p.mean).collect();
    assert!(
        means[1] < means[0] && means[2] < means[0],
        "more candidates than one help: {means:?}"
    );
    for rise in o.rises_on_average() {
        assert!(
            rise.by < 2.0 * rise.se,
            "a rise beyond two standard errors: {rise:?}"
        );
    }
    let report = experiment::figure3_report(&rows);
    assert!(
        report.contains("panel (b), firefly on spiral") && report.contains("on average over units"),
        "{report}"
    );
}

#[test]
fn jobs_run_each_method_once_unless_it_depends_on_m_prime() {
    let config = Figure3Config {
        methods: vec![
            Method::Firefly,
            Method::FireflySplit,
            Method::FireflyNew,
            Method::RandomNew,
        ],
        candidates: vec![1, 5],
        seeds: 2,
        ..Figure3Config::default()
    };
    assert!(config.datasets.contains(&DatasetKind::Gauss));
    config.validate().expect("gauss is a Figure 3 dataset");
    let jobs = config.jobs();
    // 4 datasets × (firefly × 2 + firefly-new × 2 + firefly-split + random-new) × 2 seeds
    assert_eq!(jobs.len(), 4 * 6 * 2);
    for method in [Method::FireflySplit, Method::RandomNew] {
        assert!(
            jobs.iter()
                .filter(|j| j.method == method)
                .all(|j| j.candidates == 0)
        );
    }
    let bad = Figure3Config {
        candidates: vec![0],
        ..Figure3Config::default()
    };
    assert!(bad.validate().is_err());
}

#[test]
fn growth_time_writes_one_row_per_width_and_method() {
    let config = GrowthTimeConfig {
        widths: vec![4, 8, 300],
        methods: vec![Method::Firefly, Method::ExactSplit, Method::RandomSplit],
        points: 200,
        repeats: 1,
        train_steps: 2,
        ..GrowthTimeConfig::default()
    };
    config.validate().expect("valid");
    let device = device();
    let mut rows = Vec::new();
    for &width in &config.widths {
        for &method in &config.methods {
            if width == 300 && method == Method::Firefly {
                continue; // the widened network is checked on the cheap methods
            }
            rows.push(
                block(experiment::time_growth(width, method, &config, &device)).expect("timed"),
            );
        }
    }
    assert_eq!(rows.len(), 8);
    for r in &rows {
        assert_eq!(r.units_before, r.width, "{r:?}");
        assert!(r.ms > 0.0 && r.ms.is_finite());
        assert!(r.ms >= r.step1_ms, "{r:?}");
        assert_eq!((r.layers, r.train_points, r.repeats), (1, 100, 1));
        if r.method == "random-split" {
            assert_eq!(r.units_after, r.width + 1);
        }
    }
    let mut csv = Vec::new();
    experiment::write_growth_time_csv(&rows, &mut csv).expect("csv");
    let text = String::from_utf8(csv).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], GROWTH_TIME_HEADER.join(","));
    assert_eq!(lines.len(), rows.len() + 1);
    assert!(lines[1].starts_with("4,1,firefly,"), "{}", lines[1]);
    assert!(
        lines
            .iter()
            .skip(1)
            .all(|l| l.split(',').count() == GROWTH_TIME_HEADER.len())
    );
    let too_wide = GrowthTimeConfig {
        widths: vec![1025],
        ..GrowthTimeConfig::default()
    };
    assert!(too_wide.validate().is_err());
}

/// Widths past twice a session's 256 units are split in rounds (256 → 512 → 1024).
#[test]
fn growth_time_widens_to_1024_in_rounds() {
    let config = GrowthTimeConfig {
        widths: vec![1024],
        methods: vec![Method::RandomSplit],
        layers: 2,
        points: 40,
        repeats: 1,
        train_steps: 1,
        ..GrowthTimeConfig::default()
    };
    config.validate().expect("valid");
    let row = block(experiment::time_growth(
        1024,
        Method::RandomSplit,
        &config,
        &device(),
    ))
    .expect("timed");
    assert_eq!((row.units_before, row.units_after), (2048, 2049));
}

#[test]
fn crossover_is_the_width_from_which_firefly_stays_cheaper() {
    let rows = |firefly: &[f64], exact: &[f64]| -> Vec<GrowthTimeRow> {
        let widths = [8, 16, 32, 64];
        let mut out = Vec::new();
        for (method, times) in [("firefly", firefly), ("exact-split", exact)] {
            for (&width, &ms) in widths.iter().zip(times) {
                out.push(GrowthTimeRow {
                    width,
                    layers: 2,
                    method: method.into(),
                    ms,
                    propose_ms: 0.0,
                    step1_ms: 0.0,
                    step2_ms: 0.0,
                    surgery_ms: 0.0,
                    units_before: width,
                    units_after: width + 1,
                    train_points: 100,
                    repeats: 1,
                });
            }
        }
        out
    };
    let cross = |f: &[f64], e: &[f64]| {
        experiment::crossover(&rows(f, e), Method::Firefly, Method::ExactSplit)
    };
    assert_eq!(
        cross(&[100.0, 50.0, 10.0, 5.0], &[10.0, 20.0, 30.0, 40.0]),
        Some(32)
    );
    // Cheaper at 16 only, then dearer again: the crossover is where it stays cheaper.
    assert_eq!(
        cross(&[100.0, 10.0, 40.0, 5.0], &[10.0, 20.0, 30.0, 40.0]),
        Some(64)
    );
    assert_eq!(
        cross(&[100.0, 10.0, 10.0, 50.0], &[10.0, 20.0, 30.0, 40.0]),
        None
    );
    assert_eq!(
        cross(&[1.0, 1.0, 1.0, 1.0], &[10.0, 20.0, 30.0, 40.0]),
        Some(8)
    );
}

#[test]
fn random_baselines_start_as_strong_as_their_firefly_counterparts() {
    let net = mlp(
        &[3, 2],
        Activation::Tanh,
        Task::Classification { n_classes: 2 },
        5,
    );
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    // With the relative rule a random split moves each offspring by 0.5·‖θ‖ (never less than
    // ε_max); with the default, by ε_max.
    let (plan, _) = random::random_split(&net, 5, 0.1, 0.5, &mut rng);
    assert_eq!(plan.splits.len(), 5);
    let mut units: Vec<_> = plan.splits.iter().map(|s| (s.block, s.unit)).collect();
    units.sort_unstable();
    units.dedup();
    assert_eq!(units.len(), 5, "without replacement");
    for s in &plan.splits {
        let theta = net.blocks[s.block].theta(s.unit);
        let norm = theta.iter().map(|v| v * v).sum::<f32>().sqrt();
        let expected = (0.5 * norm).max(0.1);
        assert!((s.eps - expected).abs() < 1e-6, "{} vs {expected}", s.eps);
        let delta: f32 = s.delta.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((delta - 1.0).abs() < 1e-5);
    }
    // A random new unit: (w, b, c) with joint unit norm, ε = ε_max, out-weights ε_max·c.
    let (plan, _) = random::random_new(&net, 4, 0.1, &mut rng);
    assert_eq!(plan.new_units.len(), 4);
    for u in &plan.new_units {
        assert_eq!(u.eps, 0.1);
        assert_eq!(u.fan_in.len(), net.blocks[u.block].d_in() + 1);
        let joint: f32 = u
            .fan_in
            .iter()
            .chain(&u.fan_out)
            .map(|v| v * v)
            .sum::<f32>()
            .sqrt();
        assert!((joint - 1.0).abs() < 1e-5, "{joint}");
        assert!(u.fan_out.iter().any(|c| c.abs() != u.fan_out[0].abs()));
    }
    let last_block_unit = plan.new_units.iter().find(|u| u.block == 1);
    let (grown, _) = apply_plan(&net, &plan).expect("apply");
    assert_eq!(grown.n_units(), net.n_units() + 4);
    if let Some(u) = last_block_unit {
        // A unit of the last hidden block feeds the output: its row is ε_max·c.
        let rows: Vec<Vec<f32>> = (net.blocks[1].n_units()..grown.blocks[1].n_units())
            .map(|r| grown.out_weight.row(r).to_vec())
            .collect();
        let expected: Vec<f32> = u.fan_out.iter().map(|c| 0.1 * c).collect();
        assert!(
            rows.iter()
                .any(|r| r.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-6)),
            "{rows:?} vs {expected:?}"
        );
    }
}
