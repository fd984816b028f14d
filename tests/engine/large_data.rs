//! Large data sets (up to the documented 100,000 points) spread over units of work, so that a
//! browser frame stays short: a batch's gradients gathered a run of rows at a time equal one
//! pass over the batch, an epoch's record evaluated over units equals `Session::evaluate`, and a
//! session advanced in small budgets equals one advanced in large ones, through training and
//! growth (Step 1, Step 2 and the losses around a growth), bit for bit.

use firefly_playground::config::RunConfig;
use firefly_playground::data::{DatasetKind, Task};
use firefly_playground::fused::{self, GradientSum, Workspace};
use firefly_playground::grow::firefly::{GROWTH_ROWS, growth_rows};
use firefly_playground::grow::{Method, ScorePath};
use firefly_playground::model::Activation;
use firefly_playground::train::{Session, Stage};

use crate::support::{block, dataset, device, mlp};

/// 60,000 points, 30,000 for training: a full batch of more rows than one unit covers (a
/// one-unit network's unit covers 13,333 rows of a step and twice that of an evaluation, a
/// growth unit 2,048).
fn large_config(method: Method, seed: u64) -> RunConfig {
    let mut config = RunConfig {
        seed,
        ..RunConfig::default()
    };
    config.data.kind = DatasetKind::Circle;
    config.data.n_points = 60_000;
    config.data.seed = seed;
    config.model.hidden = vec![1];
    config.train.batch_size = 0;
    config.train.epochs_per_growth = 2;
    config.train.learning_rate = 0.1;
    config.growth.method = method;
    config.growth.step1_steps = 3;
    config
}

#[test]
fn gradients_gathered_in_runs_of_rows_equal_one_pass_bit_for_bit() {
    let data = dataset(DatasetKind::Spiral, 1000, 3);
    let x: Vec<f32> = data.train.iter().flat_map(|s| [s.x, s.y]).collect();
    let y: Vec<f32> = data.train.iter().map(|s| s.label).collect();
    let net = mlp(
        &[5, 3],
        Activation::Tanh,
        Task::Classification { n_classes: 2 },
        4,
    );
    let mut whole = Workspace::default();
    let loss = fused::gradients(&net, &x, &y, &mut whole);
    for run in [1, 7, 64, 499] {
        let mut ws = Workspace::default();
        // A workspace that held another batch's gradients starts from zero all the same.
        fused::gradients(&net, &x[..20], &y[..20], &mut ws);
        let mut sum = GradientSum::new(y.len());
        let mut from = 0;
        while !sum.complete() {
            let to = (from + run).min(y.len());
            sum.add(&net, &x[2 * from..2 * to], &y[from..to], &mut ws);
            from = to;
        }
        assert_eq!(sum.loss().to_bits(), loss.to_bits(), "runs of {run} rows");
        assert_eq!(ws.gradients(), whole.gradients(), "runs of {run} rows");
    }
}

#[test]
fn a_large_data_set_trains_and_grows_the_same_in_small_and_large_budgets() {
    // 420 units: five epochs (six units each) and two Firefly growths (Step 1: three steps of
    // fifteen runs of rows; Step 2: four path points of fifteen) and more.
    const UNITS: usize = 420;
    for (method, score) in [
        (Method::Firefly, ScorePath::Joint),
        (Method::Firefly, ScorePath::OwnAxis),
        (Method::RandomNew, ScorePath::Joint),
    ] {
        let run = |budget: usize| {
            let mut config = large_config(method, 11);
            config.growth.score = score;
            let mut session = Session::new(config, device()).expect("session");
            for _ in 0..UNITS / budget {
                let done = block(session.advance(budget)).expect("advance");
                assert_eq!(
                    done.work, budget,
                    "{method}: advance does its budget exactly"
                );
            }
            let mut history = session.history().clone();
            for g in &mut history.growths {
                // Wall times differ between runs; everything else must be identical.
                g.timings = Default::default();
            }
            let net = block(session.network()).expect("read");
            (history, net, session.epoch(), session.stage())
        };
        let small = run(1);
        assert_eq!(small, run(7), "{method} {score:?}: budgets of 1 and 7");
        assert_eq!(
            small,
            run(UNITS),
            "{method} {score:?}: budgets of 1 and {UNITS}"
        );
        let (history, _, epoch, _) = small;
        assert!(history.growths.len() >= 2, "{method} {score:?}: grew twice");
        assert!(
            history
                .growths
                .iter()
                .all(|g| g.loss_before.is_finite() && g.loss_after.is_finite())
        );
        assert!((5..UNITS / 3).contains(&epoch), "{method}: {epoch} epochs");
    }
}

#[test]
fn an_epoch_record_evaluated_over_units_equals_evaluate() {
    let mut session = Session::new(large_config(Method::None, 12), device()).expect("session");
    // One unit at a time: the epoch ends only once its record is in.
    let mut units = 0;
    while session.epoch() < 1 {
        assert!(session.history().epochs.is_empty());
        let done = block(session.advance(1)).expect("advance");
        assert_eq!(done.work, 1);
        units += 1;
    }
    assert_eq!(
        units, 6,
        "three runs of the batch's rows, three of the record's"
    );
    let record = session.history().epochs.last().expect("a record").clone();
    let direct = block(session.evaluate()).expect("evaluate");
    assert_eq!(record, direct);
}

#[test]
fn grow_now_finishes_what_a_large_data_set_spread_over_units() {
    let mut session = Session::new(large_config(Method::Firefly, 13), device()).expect("session");
    // Half a batch gathered: the growth waits for the batch's update and its record.
    block(session.advance(1)).expect("advance");
    assert_eq!(session.epoch(), 0);
    let event = block(session.grow_now()).expect("grow").expect("a growth");
    assert_eq!(session.epoch(), 1);
    assert_eq!(session.history().epochs.len(), 1);
    assert_eq!(event.epoch, 1);
    assert!(event.loss_before.is_finite() && event.loss_after.is_finite());
    assert_eq!(session.stage(), Stage::Training);
}

#[test]
fn a_growth_asked_for_in_the_middle_of_a_batch_waits_for_its_update() {
    let mut config = large_config(Method::Firefly, 14);
    config.train.epochs_per_growth = 100;
    let mut session = Session::new(config, device()).expect("session");
    block(session.advance(1)).expect("advance");
    session.request_growth();
    let mut units = 0;
    while session.history().growths.is_empty() {
        block(session.advance(1)).expect("advance");
        units += 1;
        assert!(units < 1000, "the growth asked for never came");
    }
    // The batch's update and its record came first: the growth is of the network after them.
    assert_eq!(session.history().growths[0].epoch, 1);
    assert_eq!(session.history().epochs.len(), 1);
}

#[test]
fn a_wide_network_spreads_its_steps_and_growth_over_units_on_the_cpu() {
    // The page's wide setup: 1,000 points (500 for training), full batch. At 1,024 units a
    // training step is 500 rows in runs of 64 (eight units) and a Step-1 step or Step-2 point
    // 500 rows in runs of 195 (three units); a 4,2 network keeps one unit for each.
    let wide = mlp(
        &[1024],
        Activation::Tanh,
        Task::Classification { n_classes: 2 },
        1,
    );
    assert_eq!(growth_rows(&wide, &device()), 195);
    assert_eq!(growth_rows(&wide, &device().autodiff()), 195);
    let narrow = mlp(
        &[4, 2],
        Activation::Tanh,
        Task::Classification { n_classes: 2 },
        1,
    );
    assert_eq!(growth_rows(&narrow, &device()), GROWTH_ROWS);

    let config = |seed| {
        let mut config = large_config(Method::Firefly, seed);
        config.data.n_points = 1000;
        config.model.hidden = vec![1024];
        config.train.epochs_per_growth = 1;
        config.train.max_units = 2048;
        config.growth.step1_steps = 2;
        config.growth.path_points = 2;
        config
    };
    // One epoch: 8 units of the step and 8 of the record (runs of 128 rows over 1,000).
    let mut session = Session::new(config(15), device()).expect("session");
    let mut units = 0;
    while session.epoch() < 1 {
        block(session.advance(1)).expect("advance");
        units += 1;
    }
    assert_eq!(
        units,
        8 + 8,
        "eight runs of the step's rows, eight of the record's"
    );
    // A growth phase's steps and points in runs of rows, the same whatever the budget.
    let run = |budget: usize| {
        let mut session = Session::new(config(16), device()).expect("session");
        let mut units = 0;
        while session.history().growths.is_empty() {
            let done = block(session.advance(budget)).expect("advance");
            units += done.work;
            assert!(units < 500, "no growth after {units} units");
        }
        let mut event = session.history().growths[0].clone();
        event.timings = Default::default();
        (event, units)
    };
    let (small, units_small) = run(1);
    let (large, _) = run(64);
    assert_eq!(small, large, "budgets of 1 and 64");
    assert!(
        units_small >= 16 + 3 * (2 + 2),
        "Step 1 and Step 2 in runs of rows: {units_small} units"
    );
    assert!(small.loss_before.is_finite() && small.loss_after.is_finite());
}
