//! Figure 3 and Figure 4(b) at test size: Firefly against the baselines, Figure 3's points by units
//! actually grown (a phase that grows nothing is not a grown unit), the empty-phase count, panel
//! (b)'s ordering in m', the growth-time CSV and where its lines cross, and how each random
//! baseline builds its units.

use firefly_playground::data::{DatasetKind, Task};
use firefly_playground::experiment::{
    self, CSV_HEADER, Figure3Config, GROWTH_TIME_HEADER, GrowthTimeConfig, GrowthTimeRow, Row,
    SUMMARY_HEADER, Series, mean_loss, run_job,
};
use firefly_playground::grow::{Method, apply_plan, random};
use firefly_playground::model::Activation;
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

#[test]
fn firefly_beats_random_splitting_and_keeps_up_with_random_new_units() {
    let config = Figure3Config {
        datasets: vec![DatasetKind::Circle, DatasetKind::Xor],
        methods: vec![Method::Firefly, Method::RandomSplit, Method::RandomNew],
        candidates: vec![10],
        seeds: 3,
        max_grown: 4,
        steps_per_phase: 150,
        ..Figure3Config::default()
    };
    let rows = run_all(&config);
    assert_eq!(rows.len(), 2 * 3 * 3 * 5);
    // Same seed ⇒ same starting network: the rows at grown = 0 agree across methods.
    for seed in 0..3 {
        let start: Vec<f32> = rows
            .iter()
            .filter(|r| r.seed == seed && r.grown == 0 && r.dataset == "circle")
            .map(|r| r.train_loss)
            .collect();
        assert!(start.windows(2).all(|w| w[0] == w[1]), "{start:?}");
    }
    let grown: Vec<_> = rows.iter().filter(|r| r.grown > 0).cloned().collect();
    let firefly = mean_loss(&grown, Method::Firefly, None).expect("firefly rows");
    let random_split = mean_loss(&grown, Method::RandomSplit, None).expect("rows");
    let random_new = mean_loss(&grown, Method::RandomNew, None).expect("rows");
    // Measured: 0.142 against 0.238 (random split) and 0.145 (random new). A random new unit that
    // starts where Firefly's candidates start (‖(w, b, c)‖ = 1, ε = ε_max) is nearly as good here:
    // Firefly must not fall behind it by more than 5 %.
    assert!(
        firefly < 0.8 * random_split && firefly < 1.05 * random_new,
        "firefly {firefly:.4}, random split {random_split:.4}, random new {random_new:.4}"
    );
    let mut csv = Vec::new();
    experiment::write_csv(&rows, &mut csv).expect("csv");
    let text = String::from_utf8(csv).expect("utf-8");
    assert_eq!(text.lines().next(), Some(CSV_HEADER.join(",").as_str()));
    assert_eq!(text.lines().count(), rows.len() + 1);
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
fn more_candidates_are_not_worse_on_xor_at_test_size() {
    // Panel (b) at test size: 4 seeds of xor, 4 phases of 150 steps. Measured means over units
    // 1..4: m' = 1: 0.182, 10: 0.153, 50: 0.142; on each of 6 seeds m' = 50 was at most m' = 1.
    // On circle the three are equal within 0.0005, on spiral at this size m' = 1 is lowest, and
    // on the full protocol (20 phases of 300 steps, 10 seeds) m' makes no difference on xor
    // either (0.0210 to 0.0211): the ordering is xor's at short training, not a law.
    let config = Figure3Config {
        datasets: vec![DatasetKind::Xor],
        methods: vec![Method::Firefly, Method::FireflySplit],
        candidates: vec![1, 10, 50],
        seeds: 4,
        max_grown: 4,
        steps_per_phase: 150,
        ..Figure3Config::default()
    };
    let jobs = config.jobs();
    assert_eq!(jobs.len(), (3 + 1) * 4, "split-only does not depend on m'");
    let rows = run_all(&config);
    let orderings = experiment::candidate_orderings(&rows);
    assert_eq!(
        orderings.len(),
        1,
        "split-only has one m' and is not ordered"
    );
    let o = &orderings[0];
    assert_eq!((o.dataset.as_str(), o.method.as_str()), ("xor", "firefly"));
    assert_eq!(o.counts, vec![1, 10, 50]);
    assert_eq!(o.final_units, 4);
    assert!(o.average.iter().all(|p| p.n == 4));
    let means: Vec<f64> = o.average.iter().map(|p| p.mean).collect();
    assert!(
        o.rises_on_average().is_empty() && means[2] < 0.9 * means[0],
        "mean over units 1..4 by m': {means:?}"
    );
    let report = experiment::figure3_report(&rows);
    assert!(
        report.contains("panel (b), firefly on xor") && report.contains("on average over units"),
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
        widths: vec![513],
        ..GrowthTimeConfig::default()
    };
    assert!(too_wide.validate().is_err());
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
    // A random split moves each offspring by RANDOM_SPLIT_SCALE·‖θ‖ (never less than ε_max).
    let (plan, _) = random::random_split(&net, 5, 0.1, &mut rng);
    assert_eq!(plan.splits.len(), 5);
    let mut units: Vec<_> = plan.splits.iter().map(|s| (s.block, s.unit)).collect();
    units.sort_unstable();
    units.dedup();
    assert_eq!(units.len(), 5, "without replacement");
    for s in &plan.splits {
        let theta = net.blocks[s.block].theta(s.unit);
        let norm = theta.iter().map(|v| v * v).sum::<f32>().sqrt();
        let expected = (random::RANDOM_SPLIT_SCALE * norm).max(0.1);
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
