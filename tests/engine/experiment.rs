//! Figure 3 at test size: Firefly's mean training loss is below both random baselines, and the CSV
//! has the documented header and one row per (dataset, method, candidates, seed, grown).

use firefly_playground::data::DatasetKind;
use firefly_playground::experiment::{self, CSV_HEADER, Figure3Config, mean_loss, run_job};
use firefly_playground::grow::Method;

use crate::support::{block, device};

#[test]
fn firefly_beats_random_growth_on_average_over_seeds() {
    let config = Figure3Config {
        datasets: vec![DatasetKind::Circle, DatasetKind::Xor],
        methods: vec![Method::Firefly, Method::RandomSplit, Method::RandomNew],
        candidates: vec![10],
        seeds: 3,
        max_grown: 4,
        steps_per_phase: 150,
    };
    let device = device();
    let mut rows = Vec::new();
    for job in config.jobs() {
        rows.extend(block(run_job(&job, &config, &device)).expect("job"));
    }
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
    assert!(
        firefly < random_split && firefly < random_new,
        "firefly {firefly:.4}, random split {random_split:.4}, random new {random_new:.4}"
    );
    let mut csv = Vec::new();
    experiment::write_csv(&rows, &mut csv).expect("csv");
    let text = String::from_utf8(csv).expect("utf-8");
    assert_eq!(text.lines().next(), Some(CSV_HEADER.join(",").as_str()));
    assert_eq!(text.lines().count(), rows.len() + 1);
}

#[test]
fn summary_gives_mean_and_standard_deviation() {
    let row = |seed: u64, loss: f32| experiment::Row {
        dataset: "xor".into(),
        method: "firefly".into(),
        candidates: 10,
        seed,
        grown: 1,
        units: 2,
        params: 9,
        train_loss: loss,
        test_loss: loss,
        train_accuracy: 1.0,
        grow_ms: 1.0,
    };
    let summary = experiment::summarise(&[row(0, 1.0), row(1, 3.0)]);
    assert_eq!(summary.len(), 1);
    assert!((summary[0].mean - 2.0).abs() < 1e-12);
    assert!((summary[0].std - 2f64.sqrt()).abs() < 1e-12);
}

#[test]
fn panel_b_runs_firefly_once_per_candidate_count() {
    let config = Figure3Config {
        methods: vec![Method::Firefly, Method::RandomNew],
        candidates: vec![1, 5],
        seeds: 2,
        ..Figure3Config::default()
    };
    let jobs = config.jobs();
    // 3 datasets × (firefly × 2 counts + random-new) × 2 seeds
    assert_eq!(jobs.len(), 3 * 3 * 2);
    assert!(
        jobs.iter()
            .filter(|j| j.method == Method::RandomNew)
            .all(|j| j.candidates == 0)
    );
}
