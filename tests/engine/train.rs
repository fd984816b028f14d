//! Sessions: training lowers the loss, growth happens on schedule with its record (with either
//! score path), the same seed replays the same run, work per call is bounded, carried optimiser
//! moments follow the surgery (checked against moments reshaped by hand), and bad settings are
//! refused.

use firefly_playground::EngineError;
use firefly_playground::config::RunConfig;
use firefly_playground::data::DatasetKind;
use firefly_playground::data::Task;
use firefly_playground::grow::{
    CandidateKind, GrowthPlan, LayerUnitChoice, Method, NewLayerChoice, NewUnitChoice, ScorePath,
    SplitChoice, Surgery, apply_plan, apply_plan_with,
};
use firefly_playground::model::{Activation, Matrix};
use firefly_playground::train::{OnGrowth, Session, Stage};

use crate::support::{block, device, mlp};

fn small_config(method: Method, seed: u64) -> RunConfig {
    let mut config = RunConfig {
        seed,
        ..RunConfig::default()
    };
    config.data.kind = DatasetKind::Xor;
    config.data.n_points = 120;
    config.data.seed = seed;
    config.train.batch_size = 20;
    config.train.epochs_per_growth = 5;
    config.growth.method = method;
    config.growth.step1_steps = 20;
    config
}

#[test]
fn training_lowers_the_loss() {
    let mut config = small_config(Method::None, 1);
    config.train.learning_rate = 0.05;
    let mut session = Session::new(config, device()).expect("session");
    let before = block(session.evaluate()).expect("evaluate").train_loss;
    block(session.run_epochs(30)).expect("train");
    let after = session.history().epochs.last().expect("records").train_loss;
    assert!(after < before * 0.8, "{before} → {after}");
    assert_eq!(session.epoch(), 30);
    assert_eq!(session.history().epochs.len(), 30);
    assert!(
        session.history().growths.is_empty(),
        "method none never grows"
    );
}

#[test]
fn growth_happens_on_schedule_and_is_recorded() {
    for method in [
        Method::Firefly,
        Method::FireflyLayers,
        Method::RandomSplit,
        Method::RandomNew,
        Method::ExactSplit,
    ] {
        let mut session = Session::new(small_config(method, 2), device()).expect("session");
        block(session.run_epochs(16)).expect("train");
        let growths = &session.history().growths;
        assert_eq!(growths.len(), 3, "{method}: grows after epochs 5, 10, 15");
        for (g, event) in growths.iter().enumerate() {
            assert_eq!(event.epoch, 5 * (g + 1));
            assert_eq!(event.method, method);
            assert!(event.units_after <= event.units_before + 1);
            assert_eq!(event.lineage.len(), event.units_after - event.units_before);
            assert_eq!(
                event.candidates.iter().filter(|c| c.chosen).count(),
                event.plan.n_added()
            );
            assert!(event.loss_after.is_finite());
            assert!(event.timings.total_ms() >= 0.0);
        }
        if method == Method::Firefly {
            // Every split (2+ units) and 10 new-unit candidates per layer were scored.
            let first = &growths[0];
            assert_eq!(
                first
                    .candidates
                    .iter()
                    .filter(|c| c.kind == CandidateKind::Split)
                    .count(),
                2
            );
            assert_eq!(
                first
                    .candidates
                    .iter()
                    .filter(|c| c.kind == CandidateKind::New)
                    .count(),
                10
            );
            assert!(session.n_units() > 2, "firefly grew");
            for event in growths.iter().filter(|e| e.units_after > e.units_before) {
                assert!(event.predicted_change < 0.0);
                // The first-order prediction points the right way.
                assert!(event.loss_after < event.loss_before + 1e-4);
            }
        }
    }
}

#[test]
fn the_same_seed_replays_the_same_run() {
    let run = |seed: u64| {
        let mut session =
            Session::new(small_config(Method::Firefly, seed), device()).expect("session");
        block(session.run_epochs(12)).expect("train");
        (
            session.history().clone(),
            block(session.network()).expect("read"),
        )
    };
    let (history_a, net_a) = run(5);
    let (mut history_b, net_b) = run(5);
    // Wall times differ between runs; everything else must be identical.
    for (a, b) in history_a.growths.iter().zip(history_b.growths.iter_mut()) {
        b.timings = a.timings;
    }
    assert_eq!(history_a, history_b);
    assert_eq!(net_a, net_b);
    let (history_c, _) = run(6);
    assert_ne!(history_a.epochs, history_c.epochs);
}

#[test]
fn advance_does_bounded_work_and_growth_spans_several_calls() {
    let mut config = small_config(Method::Firefly, 3);
    config.train.epochs_per_growth = 1;
    config.growth.step1_steps = 40;
    let mut session = Session::new(config, device()).expect("session");
    // One epoch is 3 mini-batches (60 training points, batch 20).
    let done = block(session.advance(3)).expect("advance");
    assert_eq!((done.work, done.epochs), (3, 1));
    assert_eq!(session.stage(), Stage::Training);
    block(session.advance(1)).expect("advance");
    assert!(matches!(session.stage(), Stage::Growing(_)));
    let mut calls = 0;
    while matches!(session.stage(), Stage::Growing(_)) {
        let done = block(session.advance(8)).expect("advance");
        assert!(done.work <= 8 + 1);
        calls += 1;
    }
    assert!(
        calls >= 5,
        "a 40-step growth needs several calls of 8, took {calls}"
    );
    assert_eq!(session.history().growths.len(), 1);
}

#[test]
fn optimiser_moments_can_be_carried_across_growth() {
    let mut config = small_config(Method::Firefly, 4);
    config.train.on_growth = OnGrowth::Carry;
    let mut session = Session::new(config, device()).expect("session");
    block(session.run_epochs(16)).expect("train with carried moments");
    assert_eq!(session.history().growths.len(), 3);
    let last = session.history().epochs.last().expect("records");
    assert!(last.train_loss.is_finite());
}

#[test]
fn carried_moments_are_reshaped_like_the_weights_by_hand() {
    // 2-3-2r-2-2 (a residual block between two dense ones) with distinct moments: entry e of
    // parameter p holds 100(p + 1) + e.
    let base = mlp(
        &[3, 2],
        Activation::Tanh,
        Task::Classification { n_classes: 2 },
        1,
    );
    let residual = GrowthPlan {
        new_layers: vec![NewLayerChoice {
            after_block: 0,
            units: vec![
                LayerUnitChoice {
                    eps: 0.5,
                    fan_in: vec![0.1, 0.2, 0.3, 0.4],
                    fan_out: vec![0.5, 0.6, 0.7],
                    score: -1.0,
                };
                2
            ],
        }],
        ..GrowthPlan::default()
    };
    let (net, _) = apply_plan(&base, &residual).expect("a residual block");
    assert_eq!(net.architecture(), "2-3-2r-2-2");
    let mut moments = net.clone();
    let values: Vec<Vec<f32>> = net
        .param_matrices()
        .iter()
        .enumerate()
        .map(|(p, m)| {
            (0..m.data.len())
                .map(|e| (100 * (p + 1) + e) as f32)
                .collect()
        })
        .collect();
    moments.set_param_values(&values).expect("same shapes");
    let old = |b: usize| &moments.blocks[b];
    let (w0, b0) = (&old(0).fan_in, &old(0).bias);
    let (r_in, r_bias) = (&old(1).fan_in, &old(1).bias);
    let r_out = old(1).fan_out.as_ref().expect("residual fan-out");
    let (w2, b2) = (&old(2).fan_in, &old(2).bias);
    let (wo, bo) = (&moments.out_weight, &moments.out_bias);
    // Split unit 1 of block 0, a new unit in block 0, split unit 0 of block 2, a new layer of one
    // unit after block 2.
    let plan = GrowthPlan {
        splits: vec![
            SplitChoice {
                block: 0,
                unit: 1,
                eps: 0.3,
                delta: vec![0.6, 0.0, 0.8],
                score: -1.0,
                keep_parent: false,
            },
            SplitChoice {
                block: 2,
                unit: 0,
                eps: 0.2,
                delta: vec![0.5; 4],
                score: -1.0,
                keep_parent: false,
            },
        ],
        new_units: vec![NewUnitChoice {
            block: 0,
            eps: 0.1,
            fan_in: vec![0.3, -0.4, 0.5],
            fan_out: vec![0.7, -0.7],
            score: -1.0,
        }],
        new_layers: vec![NewLayerChoice {
            after_block: 2,
            units: vec![LayerUnitChoice {
                eps: 0.1,
                fan_in: vec![0.2, 0.4, 0.6],
                fan_out: vec![0.5, -0.5],
                score: -1.0,
            }],
        }],
    };
    let (carried, _) = apply_plan_with(&moments, &plan, Surgery::Moments).expect("reshape");
    assert_eq!(carried.architecture(), "2-5-2r-3-1r-2");
    // By hand: a clone copies its parent's moments (never halved: moments are not weights); a new
    // unit or layer starts from zero everywhere.
    // Block 0: columns 0, 1, 2, clone of 1, new.
    let mut fan_in0 = Vec::new();
    for r in 0..2 {
        fan_in0.extend([w0.get(r, 0), w0.get(r, 1), w0.get(r, 2), w0.get(r, 1), 0.0]);
    }
    assert_eq!(carried.blocks[0].fan_in, Matrix::from_vec(2, 5, fan_in0));
    assert_eq!(
        carried.blocks[0].bias,
        vec![b0[0], b0[1], b0[2], b0[1], 0.0]
    );
    // The residual block reads and writes the stream of block 0's units 0, 1, 2, clone of 1, new.
    let stream = [Some(0), Some(1), Some(2), Some(1), None];
    let mut fan_in1 = Vec::new();
    for u in stream {
        fan_in1.extend((0..2).map(|c| u.map_or(0.0, |r| r_in.get(r, c))));
    }
    assert_eq!(carried.blocks[1].fan_in, Matrix::from_vec(5, 2, fan_in1));
    assert_eq!(&carried.blocks[1].bias, r_bias);
    let mut fan_out1 = Vec::new();
    for q in 0..2 {
        fan_out1.extend(stream.map(|u| u.map_or(0.0, |c| r_out.get(q, c))));
    }
    assert_eq!(
        carried.blocks[1].fan_out,
        Some(Matrix::from_vec(2, 5, fan_out1))
    );
    // Block 2: rows of the stream (the new unit's zero); columns 0, 1, clone of 0.
    let mut fan_in2 = Vec::new();
    for u in stream {
        fan_in2.extend([0, 1, 0].map(|c| u.map_or(0.0, |r| w2.get(r, c))));
    }
    assert_eq!(carried.blocks[2].fan_in, Matrix::from_vec(5, 3, fan_in2));
    assert_eq!(carried.blocks[2].bias, vec![b2[0], b2[1], b2[0]]);
    // The new layer: zero, over the grown stream of 3.
    let layer = &carried.blocks[3];
    assert_eq!(layer.fan_in, Matrix::zeros(3, 1));
    assert_eq!(layer.bias, vec![0.0]);
    assert_eq!(layer.fan_out, Some(Matrix::zeros(1, 3)));
    // Output: rows of block 2's units 0, 1, clone of 0.
    let mut out = Vec::new();
    for r in [0, 1, 0] {
        out.extend([wo.get(r, 0), wo.get(r, 1)]);
    }
    assert_eq!(carried.out_weight, Matrix::from_vec(3, 2, out));
    assert_eq!(&carried.out_bias, bo);
}

#[test]
fn own_axis_scoring_grows_on_schedule() {
    let mut config = small_config(Method::Firefly, 2);
    config.growth.score = ScorePath::OwnAxis;
    let mut session = Session::new(config, device()).expect("session");
    block(session.run_epochs(11)).expect("train");
    let growths = &session.history().growths;
    assert_eq!(growths.len(), 2);
    assert_eq!(growths[0].candidates.len(), 2 + 10);
    for event in growths.iter().filter(|e| e.units_after > e.units_before) {
        assert!(event.predicted_change < 0.0);
        assert!(event.loss_after < event.loss_before + 1e-4);
    }
    assert!(session.n_units() > 2, "own-axis firefly grew");
}

#[test]
fn grow_now_and_the_unit_cap() {
    let mut config = small_config(Method::RandomNew, 6);
    config.train.max_units = 3;
    let mut session = Session::new(config, device()).expect("session");
    let event = block(session.grow_now()).expect("grow").expect("an event");
    assert_eq!((event.units_before, event.units_after), (2, 3));
    assert!(!session.can_grow());
    assert_eq!(block(session.grow_now()).expect("grow"), None);
}

#[test]
fn bad_settings_are_refused_with_the_field_named() {
    let mut config = small_config(Method::Firefly, 1);
    config.train.learning_rate = f32::NAN;
    let err = Session::new(config, device()).err().expect("refused");
    assert!(err.to_string().contains("learning rate"), "{err}");

    let mut config = small_config(Method::Firefly, 1);
    config.growth.candidates = 0;
    let err = Session::new(config, device()).err().expect("refused");
    assert!(err.to_string().contains("candidates"), "{err}");

    let mut config = small_config(Method::Firefly, 1);
    config.model.hidden = vec![];
    assert!(matches!(
        Session::new(config, device()),
        Err(EngineError::InvalidConfig(_))
    ));

    let mut session = Session::new(small_config(Method::Firefly, 1), device()).expect("session");
    assert!(session.set_learning_rate(-1.0).is_err());
    session.set_learning_rate(0.3).expect("valid");
    assert_eq!(session.learning_rate(), 0.3);
}

#[test]
fn a_diverging_run_stops_with_a_clear_error() {
    let mut config = small_config(Method::None, 1);
    config.train.optimizer = firefly_playground::optim::OptimizerKind::Sgd;
    config.train.learning_rate = 10.0;
    config.data.kind = DatasetKind::RegPlane;
    let mut session = Session::new(config, device()).expect("session");
    let err = block(session.run_epochs(200)).err();
    assert!(matches!(err, Some(EngineError::Diverged(_))), "{err:?}");
}

#[test]
fn the_probe_times_steps_of_the_actual_network() {
    use firefly_playground::probe::probe;
    use firefly_playground::train::TrainPath;
    let config = small_config(Method::Firefly, 3);
    for path in [TrainPath::Fused, TrainPath::Tensor] {
        let p = block(probe(&config, device(), path, 12, 10_000.0)).expect("probe");
        assert_eq!(p.steps, 12, "{path:?}: every step within the time box");
        assert!(p.ms_per_step.is_finite() && p.ms_per_step > 0.0);
    }
    let boxed = block(probe(&config, device(), TrainPath::Tensor, 1_000_000, 0.0)).expect("probe");
    assert_eq!(boxed.steps, 1, "the time box stops the probe");
}

#[test]
fn the_growth_probe_times_one_phase_within_its_time_box() {
    use firefly_playground::probe::probe_growth;
    let config = small_config(Method::Firefly, 3);
    let phase = block(probe_growth(&config, device(), true, 60_000.0))
        .expect("growth probe")
        .expect("firefly grows");
    assert!(phase.complete && phase.ms > 0.0, "{phase:?}");
    let boxed = block(probe_growth(&config, device(), false, 0.0))
        .expect("growth probe")
        .expect("firefly grows");
    assert!(
        !boxed.complete,
        "a phase cannot finish in no time: {boxed:?}"
    );
    let none = small_config(Method::None, 3);
    assert_eq!(
        block(probe_growth(&none, device(), false, 1e3)).expect("probe"),
        None
    );
    // At its unit cap the network cannot grow: nothing to time (not a phase that never ends).
    let mut capped = small_config(Method::Firefly, 3);
    capped.train.max_units = capped.model.hidden.iter().sum();
    assert_eq!(
        block(probe_growth(&capped, device(), false, 1e3)).expect("probe"),
        None
    );
}

/// The split on timings recorded natively on an NVIDIA H200 (README, "On a GPU server"): ms per
/// training step from epochs/s, ms per Firefly growth phase.
#[test]
fn the_probe_runs_each_part_where_it_is_faster() {
    use firefly_playground::probe::{GrowthProbe, Probe, Split, Timings, explain, steps_per_phase};
    let step = |ms_per_step: f64| Probe {
        ms_per_step,
        steps: 10,
    };
    let phase = |ms: f64| GrowthProbe { ms, complete: true };
    let timings = |train: (f64, f64), grow: Option<(f64, f64)>, steps: f64| Timings {
        train: (step(train.0), step(train.1)),
        grow: grow.map(|(c, g)| (phase(c), phase(g))),
        steps_per_phase: steps,
    };
    // 4,2 with mini-batches of 10 (25 steps an epoch): 5,767 epochs/s on the CPU, 14 on the
    // GPU; a phase at width 16, 169 ms against 464. Everything stays on the CPU.
    let small = timings(
        (1e3 / 5767.0 / 25.0, 1e3 / 14.0 / 25.0),
        Some((169.0, 464.0)),
        10.0 * 25.0,
    );
    assert_eq!(small.choose(), Split::CPU);
    // Width 128, full batch: training 335 against 291 epochs/s (the CPU a little ahead), a phase
    // 1,890 ms against 524 (two layers). Train on the CPU, grow on the GPU.
    let middle = timings((1e3 / 335.0, 1e3 / 291.0), Some((1890.0, 524.0)), 10.0);
    assert_eq!(middle.choose(), Split::GROW_ON_GPU);
    // 1024,1024 full batch: 2.3 against 207 epochs/s; a phase 33,733 ms against 769.
    let wide = timings((1e3 / 2.3, 1e3 / 207.0), Some((33733.0, 769.0)), 10.0);
    assert_eq!(wide.choose(), Split::GPU);
    // The same middle network with many steps between growths: training dominates the round,
    // and the GPU's growth still wins on its own.
    let long = timings((1e3 / 335.0, 1e3 / 291.0), Some((1890.0, 524.0)), 10_000.0);
    assert_eq!(long.choose(), Split::GROW_ON_GPU);
    // Without a growth probe only training decides; a tie stays on the CPU.
    assert_eq!(timings((0.01, 2.0), None, 50.0).choose(), Split::CPU);
    assert_eq!(timings((2.0, 0.01), None, 50.0).choose(), Split::GPU);
    assert_eq!(
        timings((1.0, 1.0), Some((5.0, 5.0)), 50.0).choose(),
        Split::CPU
    );
    // A round: 10 steps of 2.985 ms on the CPU and the GPU's 524 ms phase.
    assert!((middle.round_ms(Split::GROW_ON_GPU) - (10.0 * 1e3 / 335.0 + 524.0)).abs() < 1e-9);
    let text = explain(&middle);
    for part in [
        "chose the CPU for training and WebGPU for growth",
        "2.985 ms on the CPU",
        "3.436 ms on WebGPU",
        "1890 ms on the CPU and 524 ms on WebGPU",
        "A round of 10 steps",
        "backend=cpu or backend=webgpu",
    ] {
        assert!(text.contains(part), "{part:?} missing from {text}");
    }
    assert!(explain(&small).contains("chose the CPU for everything"));
    assert!(explain(&wide).contains("chose WebGPU for everything"));
    let unfinished = Timings {
        grow: Some((
            phase(100.0),
            GrowthProbe {
                ms: 1500.0,
                complete: false,
            },
        )),
        ..small
    };
    assert!(explain(&unfinished).contains("over 1500 ms on WebGPU"));
    // Steps between growths: epochs per growth × batches per epoch (full batch: one).
    let mut config = small_config(Method::Firefly, 3);
    config.train.epochs_per_growth = 4;
    config.train.batch_size = 10;
    assert_eq!(steps_per_phase(&config, 95), 40.0);
    config.train.batch_size = 0;
    assert_eq!(steps_per_phase(&config, 95), 4.0);
}
