//! Robustness without the page: a diverged run offers a one-click reset with a smaller learning
//! rate, growth never picks a candidate with a non-finite score, and histories stay bounded on
//! long runs.

use firefly_playground::grow::select_top;
use firefly_playground::playground::{Action, Cause, Msg, RunState, smaller_rate};

use crate::playground::page;
use crate::support::block;

#[test]
fn a_diverged_run_offers_a_reset_with_a_smaller_rate() {
    assert_eq!(smaller_rate(10.0), Some(1.0));
    assert_eq!(smaller_rate(0.5), Some(0.03));
    assert_eq!(smaller_rate(0.01), Some(0.001));
    assert_eq!(smaller_rate(0.001), Some(0.0001));
    assert_eq!(smaller_rate(0.0001), None);

    let mut p = page("lr=10&optimizer=sgd&dataset=reg-plane&seeds=1");
    let mut guard = 0;
    while p.state() != RunState::Error {
        block(p.work(20.0));
        guard += 1;
        assert!(guard < 5_000, "lr=10 with SGD did not diverge");
    }
    let notice = p
        .notices()
        .iter()
        .find(|n| n.cause == Cause::Run)
        .expect("a notice");
    assert_eq!(notice.action, Some(Action::ResetWithRate(1.0)));
    assert!(notice.text.contains("diverged"));
    let fx = p.update(Msg::Act(Action::ResetWithRate(1.0)));
    assert!(fx.restarted);
    assert_eq!(p.state(), RunState::Running);
    assert_eq!(p.options().config.train.learning_rate, 1.0);
    assert_eq!(
        fx.hash.map(|h| h.hash),
        Some("dataset=reg-plane&lr=1&optimizer=sgd&seeds=1".into())
    );
    assert!(p.notices().iter().all(|n| n.cause != Cause::Run));
}

#[test]
fn growth_never_selects_a_non_finite_score() {
    let scores = [
        (f32::NAN, 0),
        (-1.0, 1),
        (f32::NEG_INFINITY, 2),
        (f32::INFINITY, 3),
        (-0.5, 4),
        (0.0, 5),
    ];
    let chosen = select_top(&scores, 10, 10, |_| None);
    assert_eq!(chosen, vec![1, 4]);
}

#[test]
fn a_long_history_stays_bounded_and_keeps_its_ends() {
    use firefly_playground::train::{EpochRecord, History, MAX_EPOCH_RECORDS};
    let mut history = History::default();
    let record = |epoch: usize| EpochRecord {
        epoch,
        train_loss: 1.0 / epoch as f32,
        test_loss: 1.0,
        train_accuracy: None,
        test_accuracy: None,
        units: 1,
        params: 4,
    };
    for epoch in 1..=10 * MAX_EPOCH_RECORDS {
        history.record(record(epoch));
        assert!(history.epochs.len() <= MAX_EPOCH_RECORDS);
    }
    let epochs: Vec<usize> = history.epochs.iter().map(|r| r.epoch).collect();
    assert_eq!(epochs[0], 1, "the first epoch stays");
    assert_eq!(
        *epochs.last().unwrap(),
        10 * MAX_EPOCH_RECORDS,
        "the latest stays"
    );
    assert!(epochs.windows(2).all(|w| w[0] < w[1]), "in order");
    // The newest stretch is whole.
    let tail = &epochs[epochs.len() - 1000..];
    assert!(tail.windows(2).all(|w| w[1] == w[0] + 1));
    assert!(epochs.len() > MAX_EPOCH_RECORDS / 2);
}
