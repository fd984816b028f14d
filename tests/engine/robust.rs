//! Robustness without the page: a diverged run offers a one-click reset with a smaller learning
//! rate, growth never picks a candidate with a non-finite score, histories stay bounded on
//! long runs, and runs moved to another device (a lost GPU, or a grown network that decides its
//! backend again) carry on from the saved state.

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

    // Thinned further by the same rule, as a state carried over a reload is: of epochs 1 to
    // 10, the older half loses every other record until 4 are left.
    let mut short = History::default();
    (1..=10).for_each(|epoch| short.record(record(epoch)));
    short.thin_to(4);
    let kept: Vec<usize> = short.epochs.iter().map(|r| r.epoch).collect();
    assert_eq!(kept, [1, 8, 9, 10]);
    short.thin_to(0);
    assert_eq!(short.epochs.len(), 2, "the first and the latest stay");
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
fn a_grown_network_decides_its_backend_again_and_its_runs_carry_over_the_reload() {
    use firefly_playground::playground::SavedState;
    use firefly_playground::probe::{decide_again_at, grown_config};
    // A narrow network decides again at 64 units a layer (the line `auto` draws), a wider one
    // each time its widest layer doubles.
    assert_eq!(decide_again_at(0), 64);
    assert_eq!(decide_again_at(4), 64);
    assert_eq!(decide_again_at(32), 64);
    assert_eq!(decide_again_at(48), 96);
    assert_eq!(decide_again_at(64), 128);
    assert_eq!(decide_again_at(1024), 2048);

    // Two seeds, so every run of Figure 3 is carried too.
    let hash = "seeds=2&layers=4&per-growth=4&grow-every=2&max-units=200&batch=25";
    let mut p = page(hash);
    while p.main().shape().widest_layer() < 12 {
        block(p.work(50.0));
    }
    let saved = loop {
        match block(p.save_state()) {
            Ok(saved) => break saved,
            Err(_) => block(p.work(5.0)),
        }
    };
    let at_save = runs_now(&p);
    // The state goes through the tab's storage as JSON and comes back the same.
    let text = serde_json::to_string(&saved).unwrap();
    let saved: SavedState = serde_json::from_str(&text).unwrap();
    // The probe of the new page times the network as it has grown.
    let main = saved.main_network().unwrap().clone();
    let grown = grown_config(&p.options().config, &main).unwrap();
    let widths: Vec<usize> = main.blocks.iter().map(|b| b.n_units()).collect();
    assert_eq!(grown.model.hidden, widths);
    assert!(grown.model.hidden[0] >= 12);

    // Bounded for the tab's storage, every history is thinned (its first and latest records
    // kept) and nothing else changes; such a state is put back as well.
    let bounded = saved.clone().bounded(12);
    let runs = saved.run().runs.len();
    assert_eq!(runs, 4, "both runs of both seeds");
    for (b, s) in bounded.run().runs.iter().zip(&saved.run().runs) {
        let (kept, all) = (&b.history.epochs, &s.history.epochs);
        assert!(
            all.len() > 3 && kept.len() <= 3,
            "{} of {} records",
            kept.len(),
            all.len()
        );
        assert_eq!((kept.first(), kept.last()), (all.first(), all.last()));
        assert_eq!(
            (&b.history.growths, &b.network),
            (&s.history.growths, &s.network)
        );
    }
    let mut r = page(&p.settings_hash());
    r.resume(bounded).unwrap();
    assert_eq!(r.main().epoch(), saved.epoch());
    assert_eq!(r.main().shape(), &main);

    // The new page, under the same link, puts every run back and plays on.
    let mut q = page(&p.settings_hash());
    let fx = q.resume(saved.clone()).unwrap();
    assert!(fx.hash.is_none(), "the link stays: {:?}", fx.hash);
    assert_eq!(q.state(), RunState::Running);
    assert_eq!(q.main().epoch(), saved.epoch());
    assert_eq!(runs_now(&q), at_save);
    assert!(
        !q.notices().iter().any(|n| n.cause == Cause::Import),
        "no notice of an imported file: {:?}",
        q.notices()
    );
    let target = q.main().epoch() + 4;
    while q.main().epoch() < target {
        block(q.work(50.0));
    }
    assert!(
        q.main().shape().n_units() > main.n_units(),
        "growth goes on"
    );

    // A network that no starting setting could have is not probed (the page keeps its choice).
    let mut too_wide = main.clone();
    too_wide.blocks = vec![main.blocks[0].clone(); 9];
    assert!(grown_config(&p.options().config, &too_wide).is_none());

    // Once the backend was chosen for a wide grown network, Reset (back to 4 units) decides
    // again; a live setting does not; under backend=cpu nothing does.
    let mut wide = grown.clone();
    wide.model.hidden = vec![128];
    q.chose_backend_for(&wide);
    assert!(!q.update(Msg::Set("lr".into(), "0.1".into())).reload);
    assert!(q.update(Msg::Reset).reload);
    let mut cpu = page("backend=cpu&seeds=1&layers=4");
    cpu.chose_backend_for(&wide);
    assert!(!cpu.update(Msg::Reset).reload);
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

/// `firefly run | head -1`: the command line stops quietly, with success, when the program
/// reading its output closes the pipe, where a write to it used to panic.
#[test]
fn the_command_line_stops_quietly_when_its_reader_goes_away() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_firefly"))
        .args(["run", "--dataset", "spiral", "--method", "firefly"])
        .args(["--epochs", "2000", "--grow-every", "100"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("firefly starts");
    let mut first = String::new();
    let stdout = child.stdout.take().expect("piped");
    std::io::BufReader::new(stdout)
        .read_line(&mut first)
        .expect("the first line");
    // The reader is dropped here: the pipe closes before the first growth's line is written.
    assert!(first.starts_with("spiral · Firefly"), "{first}");
    let output = child.wait_with_output().expect("firefly ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.status.success(), "{:?}: {stderr}", output.status);
}
