//! Robustness without the page: a diverged run offers a one-click reset with a smaller learning
//! rate, growth never picks a candidate with a non-finite score, histories stay bounded on
//! long runs, and runs moved to another device (a lost GPU) carry on from the saved state.

use firefly_playground::grow::select_top;
use firefly_playground::playground::{Action, Cause, Msg, Playground, RunState, smaller_rate};
use firefly_playground::train::TrainPath;

use crate::playground::page;
use crate::support::{block, device};

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
        Some("dataset=reg-plane&lr=1&seeds=1".into())
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

/// Every run's epoch, network and history, in the order the export lists them.
fn runs_now(p: &Playground) -> Vec<(usize, firefly_playground::model::Mlp, String)> {
    let run = block(p.export()).unwrap();
    run.runs
        .into_iter()
        .map(|r| {
            let history = serde_json::to_string(&r.history).unwrap();
            (
                r.history.epochs.last().map_or(0, |e| e.epoch),
                r.network,
                history,
            )
        })
        .collect()
}

#[test]
fn runs_moved_to_another_device_carry_on_from_the_saved_state() {
    // The tensor path, as on WebGPU; two seeds, so every run of Figure 3 moves too.
    let hash = "seeds=2&grow-every=2&batch=25";
    let mut p = Playground::from_hash_on(hash, device(), TrainPath::Tensor).unwrap();
    assert_eq!(p.main().path(), TrainPath::Tensor);
    while p.main().epoch() < 5 {
        block(p.work(50.0));
    }
    let mut saved = None;
    while saved.is_none() {
        // Just after a growth the history counts the old units: not saved until an epoch ends.
        saved = block(p.save_state()).ok();
        if saved.is_none() {
            block(p.work(5.0));
        }
    }
    let saved = saved.unwrap();
    let at_save = runs_now(&p);
    assert_eq!(saved.epoch(), p.main().epoch());
    assert!(saved.running());
    assert!(
        !p.main().history().growths.is_empty(),
        "grew before the save"
    );
    // Work after the save is what a loss loses.
    let target = p.main().epoch() + 3;
    while p.main().epoch() < target {
        block(p.work(50.0));
    }
    let lost_at = p.main().epoch();
    let fx = p.relocate(device(), TrainPath::Fused, Some(saved.clone()), "test loss");
    assert!(fx.restarted);
    assert!(fx.hash.is_none(), "the link stays: {:?}", fx.hash);
    assert_eq!(p.state(), RunState::Running);
    assert_eq!(p.main().path(), TrainPath::Fused);
    assert_eq!(p.baseline().path(), TrainPath::Fused);
    assert_eq!(p.main().epoch(), saved.epoch());
    // The same networks and histories as at the save, for every run and seed.
    assert_eq!(runs_now(&p), at_save);
    let notice = p
        .notices()
        .iter()
        .find(|n| n.cause == Cause::Gpu)
        .expect("a notice about the move");
    assert!(
        notice.text.contains(&format!("lost at epoch {lost_at}"))
            && notice
                .text
                .contains(&format!("from epoch {}", saved.epoch()))
            && notice.text.contains("CPU"),
        "{}",
        notice.text
    );
    // Training carries on from there, growth included.
    let growths = p.main().history().growths.len();
    while p.main().epoch() < saved.epoch() + 6 {
        block(p.work(50.0));
    }
    assert_eq!(p.state(), RunState::Running);
    assert!(p.main().history().growths.len() > growths);
    let epochs: Vec<usize> = p.main().history().epochs.iter().map(|r| r.epoch).collect();
    assert!(epochs.windows(2).all(|w| w[1] == w[0] + 1), "{epochs:?}");
    for s in p.main_seeds().chain(p.baseline_seeds()) {
        assert!(s.epoch() > saved.epoch() + 3, "every seed trains on");
        assert_eq!(s.path(), TrainPath::Fused);
    }
}

#[test]
fn a_move_without_a_saved_state_starts_again_and_says_so() {
    let mut p = Playground::from_hash_on("seeds=1", device(), TrainPath::Tensor).unwrap();
    while p.main().epoch() < 2 {
        block(p.work(50.0));
    }
    let fx = p.relocate(device(), TrainPath::Fused, None, "test loss");
    assert!(fx.restarted);
    assert_eq!(p.main().epoch(), 0);
    assert_eq!(p.main().path(), TrainPath::Fused);
    let notice = p.notices().iter().find(|n| n.cause == Cause::Gpu).unwrap();
    assert!(notice.text.contains("start again"), "{}", notice.text);
    assert_eq!(p.state(), RunState::Running);
}

#[test]
fn a_failed_run_is_not_saved() {
    let mut p = page("lr=10&optimizer=sgd&dataset=reg-plane&seeds=1");
    let mut guard = 0;
    while p.state() != RunState::Error {
        block(p.work(20.0));
        guard += 1;
        assert!(guard < 5_000, "lr=10 with SGD did not diverge");
    }
    assert!(block(p.save_state()).is_err());
}
