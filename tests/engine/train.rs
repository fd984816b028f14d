//! Sessions: training lowers the loss, growth happens on schedule with its record, the same seed
//! replays the same run, work per call is bounded, and bad settings are refused.

use firefly_playground::EngineError;
use firefly_playground::config::RunConfig;
use firefly_playground::data::DatasetKind;
use firefly_playground::grow::{CandidateKind, Method, ScorePath};
use firefly_playground::train::{OnGrowth, Session, Stage};

use crate::support::{block, device};

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
fn the_probe_times_steps_of_the_actual_network_and_explains_its_choice() {
    use firefly_playground::probe::{Probe, explain, gpu_wins, probe};
    use firefly_playground::train::TrainPath;
    let config = small_config(Method::Firefly, 3);
    for path in [TrainPath::Fused, TrainPath::Tensor] {
        let p = block(probe(&config, device(), path, 12, 10_000.0)).expect("probe");
        assert_eq!(p.steps, 12, "{path:?}: every step within the time box");
        assert!(p.ms_per_step.is_finite() && p.ms_per_step > 0.0);
    }
    let boxed = block(probe(&config, device(), TrainPath::Tensor, 1_000_000, 0.0)).expect("probe");
    assert_eq!(boxed.steps, 1, "the time box stops the probe");
    let cpu = Probe {
        ms_per_step: 0.01,
        steps: 100,
    };
    let gpu = Probe {
        ms_per_step: 2.0,
        steps: 10,
    };
    assert!(!gpu_wins(&cpu, &gpu));
    assert!(gpu_wins(&gpu, &cpu));
    let text = explain(&cpu, &gpu);
    assert!(
        text.contains("chose the CPU") && text.contains("0.010 ms") && text.contains("2.000 ms")
    );
    assert!(text.contains("200.0×"), "{text}");
    assert!(explain(&gpu, &cpu).contains("chose WebGPU"));
}
