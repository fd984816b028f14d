//! The EWC baseline and the paired comparison of `firefly continual`: the penalty and its
//! gradient against hand-computed values and finite differences, the Fisher against
//! finite-difference per-example gradients, λ = 0 is fine-tuning bit for bit, an EWC run's state
//! (with its anchors) restores to the same continuation, older files still load, and the pairing
//! arithmetic against hand-computed values.

use firefly_playground::continual::ewc::{EwcAnchor, penalty};
use firefly_playground::continual::experiment::{self, ContinualRow};
use firefly_playground::continual::{
    ContinualConfig, ContinualMethod, ContinualNet, ContinualRun, ContinualState, GrowthSettings,
    Head, TaskView, UnitOrigin,
};
use firefly_playground::fused::{self, Workspace};
use firefly_playground::model::{Activation, Matrix, metrics_from_outputs};

use crate::continual::{assert_close, rows};

/// circle → xor → spiral at test size (as the continual tests' `small`).
fn small(method: ContinualMethod, seed: u64) -> ContinualConfig {
    ContinualConfig {
        method,
        seed,
        n_points: 200,
        units_per_task: 3,
        steps_per_phase: 100,
        growth: GrowthSettings {
            step1_steps: 30,
            ..GrowthSettings::default()
        },
        ..ContinualConfig::default()
    }
}

/// A fine-tuning network: three shared units, task 0 (2 classes) and task 1 (3 classes) both
/// reading all of them; and inputs with labels for 3 classes.
fn shared() -> (ContinualNet, Vec<f32>, Vec<f32>) {
    let mut net = ContinualNet::new(2, Activation::Tanh);
    let ids = [
        net.add_unit(vec![1.3, -0.4, 0.2], 0, UnitOrigin::Initial),
        net.add_unit(vec![-0.5, 0.9, -0.1], 0, UnitOrigin::Initial),
        net.add_unit(vec![0.7, 0.6, -0.3], 0, UnitOrigin::Initial),
    ];
    net.heads.push(Head {
        task: 0,
        units: ids.to_vec(),
        weight: Matrix::from_vec(3, 2, vec![0.3, -0.2, 0.5, 0.1, -0.7, 0.4]),
        bias: vec![0.0, 0.1],
        frozen: false,
    });
    net.heads.push(Head {
        task: 1,
        units: ids.to_vec(),
        weight: Matrix::from_vec(3, 3, vec![0.8, -0.3, 0.2, -0.6, 0.4, 0.9, 0.1, 0.7, -0.5]),
        bias: vec![0.1, -0.2, 0.05],
        frozen: false,
    });
    net.check().expect("shared network");
    let (x, y) = rows();
    (net, x, y)
}

/// Unit `i / 3`'s entry `i % 3` of a view's one block ([fan-in; bias]).
fn entry(view: &TaskView, i: usize) -> f32 {
    view.mlp.blocks[0].theta(i / 3)[i % 3]
}

/// The view with that entry set to `v`.
fn with_entry(view: &TaskView, i: usize, v: f32) -> TaskView {
    let mut probe = view.clone();
    let block = &mut probe.mlp.blocks[0];
    match i % 3 {
        2 => block.bias[i / 3] = v,
        r => block.fan_in.set(r, i / 3, v),
    }
    probe
}

/// The fused pass's loss of a view on `x`, `y`.
fn loss(view: &TaskView, x: &[f32], y: &[f32]) -> f32 {
    let out = fused::forward(&view.mlp, x, &mut Workspace::default());
    metrics_from_outputs(&out, y, view.mlp.task).0
}

#[test]
fn the_penalty_is_half_lambda_times_the_fisher_weighted_squared_distance() {
    let (net, _, _) = shared();
    let view = net.view(1).expect("view");
    // θ of unit 0 is [1.3, −0.4, 0.2]; anchor it at [1.0, 0.0, 0.2] with F = [2, 3, 5]:
    // (λ/2)·(2·0.3² + 3·0.4² + 5·0²) = (λ/2)·0.66; gradient λ·F·(θ − θ*) = λ·[0.6, −1.2, 0].
    let anchor = EwcAnchor {
        task: 0,
        units: vec![0],
        theta: vec![1.0, 0.0, 0.2],
        fisher: vec![2.0, 3.0, 5.0],
    };
    let lambda = 4.0;
    let mut grads = view.mlp.clone();
    for p in fused::params_mut(&mut grads) {
        p.fill(1.0);
    }
    let value = penalty(&view, &[anchor], lambda, Some(&mut grads)).expect("penalty");
    assert!((value - 2.0 * 0.66).abs() < 1e-5, "{value}");
    let expected_unit0 = [1.0 + 4.0 * 0.6, 1.0 - 4.0 * 1.2, 1.0];
    for (g, e) in grads.blocks[0].theta(0).iter().zip(expected_unit0) {
        assert!((g - e).abs() < 1e-5, "{g} against {e}");
    }
    let rest: Vec<f32> = fused::params(&grads).concat();
    assert_eq!(
        rest.iter().filter(|g| **g != 1.0).count(),
        2,
        "the penalty adds to unit 0's entries only"
    );
}

#[test]
fn the_fisher_is_the_mean_squared_per_example_gradient() {
    let (net, x, y) = shared();
    // Task 0 has two classes: keep its points' labels in {0, 1}.
    let y0: Vec<f32> = y.iter().map(|v| v.min(1.0)).collect();
    let view = net.view(0).expect("view");
    let anchor = EwcAnchor::of_task(&view, &x, &y0).expect("fisher");
    assert_eq!(anchor.units, vec![0, 1, 2]);
    assert_eq!(
        anchor.theta,
        [[1.3, -0.4, 0.2], [-0.5, 0.9, -0.1], [0.7, 0.6, -0.3]].concat()
    );
    let h = 1e-3;
    for i in 0..9 {
        let mut sum = 0.0f32;
        for (xn, yn) in x.chunks_exact(2).zip(&y0) {
            let at = |v: f32| loss(&with_entry(&view, i, v), xn, std::slice::from_ref(yn));
            let g = (at(entry(&view, i) + h) - at(entry(&view, i) - h)) / (2.0 * h);
            sum += g * g;
        }
        assert_close(anchor.fisher[i], sum / 12.0, &format!("F of parameter {i}"));
    }
}

#[test]
fn the_trained_loss_with_the_penalty_matches_finite_differences() {
    let (mut net, x, y) = shared();
    let y0: Vec<f32> = y.iter().map(|v| v.min(1.0)).collect();
    // Task 0's anchor at the starting weights, then a second, made-up anchor; the units move.
    let first = EwcAnchor::of_task(&net.view(0).expect("view"), &x, &y0).expect("fisher");
    let second = EwcAnchor {
        task: 1,
        units: vec![2, 0],
        theta: vec![0.5, 0.5, 0.0, 1.0, -1.0, 0.3],
        fisher: vec![0.4, 0.1, 0.9, 0.2, 0.7, 0.05],
    };
    for (u, unit) in net.units.iter_mut().enumerate() {
        for (i, v) in unit.theta.iter_mut().enumerate() {
            *v += 0.3 * ((u * 3 + i) as f32 * 0.9).sin();
        }
    }
    let anchors = [first, second];
    let lambda = 3.0;
    let view = net.view(1).expect("view");
    let mut ws = Workspace::default();
    fused::gradients(&view.mlp, &x, &y, &mut ws);
    let grads = ws.gradients_mut().expect("gradients");
    let p = penalty(&view, &anchors, lambda, Some(grads)).expect("penalty");
    assert!(p > 0.0);
    let h = 1e-3;
    for i in 0..9 {
        let at = |v: f32| {
            let probe = with_entry(&view, i, v);
            loss(&probe, &x, &y) + penalty(&probe, &anchors, lambda, None).expect("penalty")
        };
        let fd = (at(entry(&view, i) + h) - at(entry(&view, i) - h)) / (2.0 * h);
        assert_close(
            grads.blocks[0].theta(i / 3)[i % 3],
            fd,
            &format!("parameter {i}"),
        );
    }
}

fn finished(config: ContinualConfig) -> ContinualRun {
    let mut run = ContinualRun::new(config).expect("run");
    run.run_to_end().expect("run");
    run
}

#[test]
fn ewc_at_lambda_zero_is_fine_tuning_and_a_strong_penalty_forgets_less() {
    let tune = finished(small(ContinualMethod::FineTune, 1));
    let zero = finished(ContinualConfig {
        ewc_lambda: 0.0,
        ..small(ContinualMethod::Ewc, 1)
    });
    assert_eq!(
        zero.net(),
        tune.net(),
        "λ = 0 trains exactly as fine-tuning"
    );
    assert_eq!(zero.table(), tune.table());
    assert_eq!(zero.ewc_anchors().len(), 3, "one anchor per task");
    assert!(tune.ewc_anchors().is_empty());
    let strong = finished(ContinualConfig {
        ewc_lambda: 1e5,
        ..small(ContinualMethod::Ewc, 1)
    });
    let first = |run: &ContinualRun| run.table().last().expect("table").accuracy[0];
    assert!(
        first(&strong) > first(&tune),
        "circle after spiral: EWC {} against fine-tuning {}",
        first(&strong),
        first(&tune)
    );
    let width = small(ContinualMethod::Ewc, 1).fine_tune_width();
    assert_eq!(strong.net().n_units(), width, "one fixed network");
    assert!(strong.net().units.iter().all(|u| !u.frozen));
}

fn round_trip(state: &ContinualState) -> ContinualState {
    let text = serde_json::to_string(state).expect("json");
    let back: ContinualState = serde_json::from_str(&text).expect("parse");
    assert_eq!(&back, state);
    back
}

#[test]
fn an_ewc_state_restores_with_its_anchors_to_the_same_continuation() {
    let config = ContinualConfig {
        ewc_lambda: 500.0,
        ..small(ContinualMethod::Ewc, 3)
    };
    let straight = finished(config.clone());
    let mut run = ContinualRun::new(config).expect("run");
    while run.task() < 2 {
        run.advance(1).expect("advance");
    }
    let state = round_trip(&run.state());
    assert_eq!(state.ewc.len(), 2);
    let text = serde_json::to_string(&state).expect("json");
    assert!(
        text.contains("\"ewc_lambda\":500.0"),
        "a non-default λ is written"
    );
    let mut restored = ContinualRun::restore(state.clone()).expect("restore");
    restored.run_to_end().expect("run");
    assert_eq!(restored.state(), straight.state());

    let mut missing = state.clone();
    missing.ewc.pop();
    let mut stray = finished(small(ContinualMethod::FineTune, 3)).state();
    stray.ewc = straight.state().ewc;
    let mut bad_fisher = state;
    bad_fisher.ewc[0].fisher[0] = -1.0;
    for (what, state) in [
        ("an EWC state without an anchor per finished task", missing),
        ("a fine-tuning state with anchors", stray),
        ("a negative Fisher value", bad_fisher),
    ] {
        assert!(ContinualRun::restore(state).is_err(), "{what} was accepted");
    }
}

#[test]
fn files_written_before_ewc_still_load_and_other_runs_write_the_same_fields() {
    let mut run = ContinualRun::new(small(ContinualMethod::Firefly, 0)).expect("run");
    while run.task() < 1 {
        run.advance(500).expect("advance");
    }
    let state = run.state();
    let mut json = serde_json::to_value(&state).expect("json");
    let map = json.as_object_mut().expect("object");
    assert!(!map.contains_key("ewc"), "no anchors field outside EWC");
    let config = map["config"].as_object().expect("config");
    assert!(
        !config.contains_key("ewc_lambda"),
        "the default λ is not written"
    );
    let old: ContinualState = serde_json::from_value(json).expect("old state");
    assert_eq!(old, state);
    ContinualRun::restore(old).expect("restore");
    assert_eq!(
        "EWC".parse::<ContinualMethod>().expect("method"),
        ContinualMethod::Ewc
    );
    let bad = ContinualConfig {
        ewc_lambda: -1.0,
        ..ContinualConfig::default()
    };
    assert!(bad.validate().is_err());
}

fn row(method: &str, seed: u64, after_task: usize, task: usize, accuracy: f32) -> ContinualRow {
    ContinualRow {
        sequence: "circle>xor".into(),
        method: method.into(),
        seed,
        after_task,
        task,
        accuracy,
        units: 5,
        params: 20,
    }
}

#[test]
fn the_paired_comparison_matches_hand_computed_values() {
    // Final averages (after task 2) per seed, values exact in binary:
    //   firefly: seed 0 (1 + 1)/2 = 1, seed 1 (1 + 0.5)/2 = 0.75, seed 2 (0.5 + 0.75)/2 = 0.625
    //   random:  0.75 at every seed (its seed 3 has no firefly partner and is left out)
    // Differences firefly − random: 0.25, 0, −0.125; mean 0.125/3 = 0.041667; sample variance
    // (0.208333² + 0.041667² + 0.166667²)/2 = 0.036458, standard error √(0.036458/3) = 0.110240;
    // ahead 1, level 1, behind 1. The rows after task 1 do not count.
    let rows = vec![
        row("firefly", 0, 1, 1, 0.0),
        row("firefly", 0, 2, 1, 1.0),
        row("firefly", 0, 2, 2, 1.0),
        row("firefly", 1, 2, 1, 1.0),
        row("firefly", 1, 2, 2, 0.5),
        row("firefly", 2, 2, 1, 0.5),
        row("firefly", 2, 2, 2, 0.75),
        row("random", 0, 1, 1, 1.0),
        row("random", 0, 2, 1, 0.75),
        row("random", 0, 2, 2, 0.75),
        row("random", 1, 2, 1, 0.5),
        row("random", 1, 2, 2, 1.0),
        row("random", 2, 2, 1, 0.75),
        row("random", 2, 2, 2, 0.75),
        row("random", 3, 2, 1, 0.0),
        row("random", 3, 2, 2, 0.0),
        row("separate", 0, 2, 1, 0.5),
        row("separate", 0, 2, 2, 0.5),
    ];
    let pairs = experiment::paired(&rows, "firefly");
    assert_eq!(pairs.len(), 2);
    let random = &pairs[0];
    assert_eq!(random.method, "random");
    assert_eq!(random.seeds, 3);
    assert!(
        (random.mean_difference - 0.041667).abs() < 1e-5,
        "{random:?}"
    );
    assert!(
        (random.standard_error - 0.110240).abs() < 1e-5,
        "{random:?}"
    );
    assert_eq!((random.reference_ahead, random.level), (1, 1));
    // One seed: difference 1 − 0.5 = 0.5, no spread to estimate.
    let separate = &pairs[1];
    assert_eq!(separate.seeds, 1);
    assert_eq!(separate.mean_difference, 0.5);
    assert_eq!(separate.standard_error, 0.0);
    assert_eq!(separate.reference_ahead, 1);
    let text = experiment::format_paired(&rows, "firefly");
    assert!(
        text.contains("random") && text.contains("+4.17 ± 11.02   1 / 1 / 1 of 3"),
        "{text}"
    );
    assert!(experiment::paired(&rows, "ewc").is_empty());
}
