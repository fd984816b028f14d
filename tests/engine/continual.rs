//! Continual learning (spec §8): old tasks keep bit-identical outputs while later tasks grow,
//! fine-tuning measurably forgets, growth keeps the candidates with the best scores (a constructed
//! case), the hand-written gradients match finite differences, ε = 0 is the old function, the
//! grown network's loss is the augmented loss with unselected ε = 0, the same seed replays the
//! same run, and a state survives JSON and restores to the same continuation.

use firefly_playground::continual::experiment::{self, CSV_HEADER};
use firefly_playground::continual::grow::{
    CandidateRef, Candidates, CopyCandidate, GrowthRun, Kinds, NewCandidate, apply_plan,
    augmented_loss, select,
};
use firefly_playground::continual::net::{TaskLayout, task_loss};
use firefly_playground::continual::{
    ContinualConfig, ContinualMethod, ContinualNet, ContinualRun, ContinualStage, ContinualState,
    CopyMode, GrowPart, GrowthSettings, Head, UnitOrigin,
};
use firefly_playground::data::{DatasetKind, grid_inputs};
use firefly_playground::model::{Activation, Matrix};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// circle → xor → spiral at test size: 200 points per task, 3 units per task, 100 steps per block.
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

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// What a task computes and is made of: logits on a grid and its test points (as bits), its head
/// and the units it reads.
type Fingerprint = (Vec<u32>, Head, Vec<Vec<f32>>);

/// Task `task`'s [`Fingerprint`] now.
fn fingerprint(run: &ContinualRun, task: usize) -> Fingerprint {
    let mut inputs = grid_inputs(25);
    let data = run.data(task).expect("task data");
    inputs.extend(firefly_playground::data::Dataset::inputs(&data.test));
    let logits = run.logits(task, &inputs).expect("logits");
    let head = run.net().heads[task].clone();
    let units = head
        .units
        .iter()
        .map(|id| run.net().unit(*id).expect("unit").theta.clone())
        .collect();
    (bits(&logits), head, units)
}

/// Runs to the end, taking a fingerprint of each task as it ends.
fn run_recording(config: ContinualConfig) -> (ContinualRun, Vec<Fingerprint>) {
    let mut run = ContinualRun::new(config).expect("run");
    let mut at_end = Vec::new();
    while !run.is_finished() {
        let task = run.task();
        run.advance(37).expect("advance");
        if run.task() != task {
            at_end.push(fingerprint(&run, task));
        }
    }
    (run, at_end)
}

#[test]
fn old_tasks_keep_bit_identical_outputs_while_later_tasks_grow() {
    for method in [
        ContinualMethod::Firefly,
        ContinualMethod::FireflyNew,
        ContinualMethod::Random,
        ContinualMethod::Separate,
    ] {
        let (run, at_end) = run_recording(small(method, 3));
        assert_eq!(at_end.len(), 3, "{method}");
        for (task, recorded) in at_end.iter().enumerate() {
            let now = fingerprint(&run, task);
            assert_eq!(recorded.0, now.0, "{method}: task {task}'s logits changed");
            assert_eq!(recorded.1, now.1, "{method}: task {task}'s head changed");
            assert_eq!(recorded.2, now.2, "{method}: task {task}'s units changed");
            // The accuracy table agrees: the same value in every row after the task.
            let values: Vec<f32> = run.table()[task..]
                .iter()
                .map(|r| r.accuracy[task])
                .collect();
            assert!(
                values.windows(2).all(|w| w[0] == w[1]),
                "{method}: {values:?}"
            );
        }
        assert!(run.net().units.iter().all(|u| u.frozen), "{method}");
        run.net().check().expect("consistent network");
        if method.grows() {
            assert!(
                run.net().n_units() > 1 + 3,
                "{method} grew: {}",
                run.net().n_units()
            );
        }
    }
}

#[test]
fn firefly_unlocks_copies_that_leave_their_originals_to_the_old_tasks() {
    // At test size copies and new units share the phases; the first seed whose run chose a copy.
    for mode in CopyMode::ALL {
        let run = (0..8)
            .map(|seed| {
                let mut config = small(ContinualMethod::Firefly, seed);
                config.growth.copies = mode;
                run_recording(config).0
            })
            .find(|run| {
                run.net()
                    .units
                    .iter()
                    .any(|u| matches!(u.origin, UnitOrigin::Copy { .. }))
            })
            .expect("a run that chose a copy");
        copies_leave_their_originals(run.net(), mode);
    }
}

fn copies_leave_their_originals(net: &ContinualNet, mode: CopyMode) {
    let copies: Vec<_> = net
        .units
        .iter()
        .filter_map(|u| match u.origin {
            UnitOrigin::Copy { parent } => Some((u, parent)),
            _ => None,
        })
        .collect();
    for (copy, parent) in copies {
        let original = net.unit(parent).expect("parent");
        assert!(
            original.owner < copy.owner,
            "a copy comes from an older task"
        );
        assert_ne!(original.theta, copy.theta, "the copy trained for its task");
        // The copy is read by its own task (and later ones, as a frozen feature). Added, it sits
        // beside the original in its task's mask; replacing, its task no longer reads the
        // original. The older tasks still read the original either way.
        let users = net.users(copy.id);
        assert!(users.contains(&copy.owner) && users.iter().all(|t| *t >= copy.owner));
        assert_eq!(
            net.users(parent).contains(&copy.owner),
            mode == CopyMode::Add,
            "{mode}"
        );
        assert!(net.users(parent).contains(&original.owner));
    }
}

#[test]
fn fine_tuning_forgets_where_growth_does_not() {
    let seeds = 0..3;
    let drop = |method| -> f32 {
        seeds
            .clone()
            .map(|seed| {
                let (run, at_end) = run_recording(small(method, seed));
                let table = run.table();
                let first = table[0].accuracy[0];
                let last = table[table.len() - 1].accuracy[0];
                if method == ContinualMethod::FineTune {
                    assert_ne!(
                        at_end[0].0,
                        fingerprint(&run, 0).0,
                        "fine-tuning moved task 0"
                    );
                }
                first - last
            })
            .sum::<f32>()
            / 3.0
    };
    let fine_tune = drop(ContinualMethod::FineTune);
    let firefly = drop(ContinualMethod::Firefly);
    assert_eq!(firefly, 0.0);
    assert!(
        fine_tune > 0.1,
        "fine-tuning lost only {:.1} points of task 1's accuracy",
        100.0 * fine_tune
    );
}

/// Two frozen units of task 0, tanh(4x) and tanh(4y), and task 1 (trainable head) reading both,
/// with a head that uses only the first: class 1 when x > 0. Task 1's labels put the boundary at
/// x = 0.25, so an unlocked copy of the first unit with a shifted bias is the best move, and a
/// copy of the second (head row zero) changes nothing at first order.
fn constructed() -> (ContinualNet, Vec<f32>, Vec<f32>) {
    let mut net = ContinualNet::new(2, Activation::Tanh);
    let a = net.add_unit(vec![4.0, 0.0, 0.0], 0, UnitOrigin::Initial);
    let b = net.add_unit(vec![0.0, 4.0, 0.0], 0, UnitOrigin::Initial);
    net.heads.push(Head {
        task: 0,
        units: vec![a, b],
        weight: Matrix::from_vec(2, 2, vec![-1.0, 1.0, 1.0, -1.0]),
        bias: vec![0.0, 0.0],
        frozen: false,
    });
    net.freeze_task(0);
    net.heads.push(Head {
        task: 1,
        units: vec![a, b],
        weight: Matrix::from_vec(2, 2, vec![-2.0, 2.0, 0.0, 0.0]),
        bias: vec![0.0, 0.0],
        frozen: false,
    });
    net.check().expect("constructed network");
    let inputs = grid_inputs(16);
    let labels = inputs
        .chunks(2)
        .map(|p| if p[0] > 0.25 { 1.0 } else { 0.0 })
        .collect();
    (net, inputs, labels)
}

fn grown_phase(net: &ContinualNet, x: &[f32], y: &[f32], settings: &GrowthSettings) -> GrowthRun {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let kinds = Kinds {
        copies: true,
        new: true,
    };
    let mut run = GrowthRun::new(net, 1, kinds, settings, &mut rng).expect("growth");
    run.step1(net, x, y, usize::MAX).expect("step 1");
    run.step2(net, x, y, usize::MAX).expect("step 2");
    assert!(run.step1_done() && run.step2_done());
    run
}

#[test]
fn growth_keeps_the_candidates_with_the_most_negative_scores() {
    for mode in CopyMode::ALL {
        keeps_the_most_negative_scores(mode);
    }
}

fn keeps_the_most_negative_scores(mode: CopyMode) {
    let (net, x, y) = constructed();
    let settings = GrowthSettings {
        copies: mode,
        ..GrowthSettings::default()
    };
    let phase = grown_phase(&net, &x, &y, &settings);
    let scores = phase.scores();
    assert_eq!(scores.len(), 2 + settings.candidates);
    // The copy of tanh(4x) is the best candidate; the copy of tanh(4y) scores exactly 0.
    let (plan, scored) = phase.finish(1);
    assert_eq!(plan.copies.len(), 1, "{scored:?}");
    assert_eq!(plan.copies[0].unit, net.heads[1].units[0]);
    assert_eq!(scores[1], 0.0);
    assert!(
        scores[0] < 0.0 && scores.iter().skip(1).all(|s| scores[0] < *s),
        "{scores:?}"
    );
    // With a larger budget: the most negative scores in rank order, never one ≥ 0.
    let (plan, scored) = phase.finish(4);
    let mut order: Vec<f32> = scores.iter().copied().filter(|s| *s < 0.0).collect();
    order.sort_by(f32::total_cmp);
    order.truncate(4);
    let chosen: Vec<f32> = plan
        .copies
        .iter()
        .map(|c| c.score)
        .chain(plan.new_units.iter().map(|n| n.score))
        .collect();
    let mut sorted = chosen.clone();
    sorted.sort_by(f32::total_cmp);
    assert_eq!(sorted, order);
    assert!(scored.iter().all(|c| !c.chosen || c.score < 0.0));
    assert!(!scored[1].chosen, "a zero score is never kept");
    assert_eq!(scored.iter().filter(|c| c.chosen).count(), plan.n_added());

    // Materialised in task 1's mask only: added beside the original, each with half its head
    // row, or in its place with the whole row; the loss falls by about the predicted change.
    let (plan, _) = phase.finish(1);
    let mut grown = net.clone();
    let layout = TaskLayout::new(&net, 1).expect("layout");
    let before = task_loss(&net, &layout, &x, &y, None).expect("loss");
    let added = apply_plan(&mut grown, &plan).expect("surgery");
    assert_eq!(added.len(), 1);
    let copy = added[0].unit;
    let [a, b] = [net.heads[1].units[0], net.heads[1].units[1]];
    let row = |net: &ContinualNet, m: usize| net.heads[1].weight.data[2 * m..2 * m + 2].to_vec();
    match mode {
        CopyMode::Add => {
            assert_eq!(grown.heads[1].units, vec![a, b, copy]);
            let half: Vec<f32> = row(&net, 0).iter().map(|w| 0.5 * w).collect();
            assert_eq!(row(&grown, 0), half);
            assert_eq!(row(&grown, 2), half);
        }
        CopyMode::Replace => {
            assert_eq!(grown.heads[1].units, vec![copy, b]);
            assert_eq!(row(&grown, 0), row(&net, 0));
        }
    }
    assert_eq!(row(&grown, 1), row(&net, 1));
    assert_eq!(grown.heads[0], net.heads[0]);
    assert_eq!(grown.units[..2], net.units[..2]);
    assert_eq!(
        grown.unit(copy).expect("copy").origin,
        UnitOrigin::Copy {
            parent: net.heads[1].units[0]
        }
    );
    let after = task_loss(
        &grown,
        &TaskLayout::new(&grown, 1).expect("layout"),
        &x,
        &y,
        None,
    )
    .expect("loss");
    assert!(after < before);
    let predicted = plan.predicted_change();
    assert!(
        ((after - before) - predicted).abs() < 0.3 * predicted.abs(),
        "actual {} predicted {predicted}",
        after - before
    );
}

#[test]
fn selection_ranks_copies_and_new_units_together() {
    let candidates = Candidates {
        task: 1,
        copy_mode: CopyMode::Add,
        fan_in_scale: 1.0,
        copies: (0..2)
            .map(|i| CopyCandidate {
                position: i,
                unit: 10 + i as u64,
                eps: 0.05,
                delta: vec![0.0, 0.0, 1.0],
            })
            .collect(),
        new_units: (0..3)
            .map(|_| NewCandidate {
                eps: 0.01,
                fan_in: vec![1.0, 0.0, 0.0],
                fan_out: vec![0.0, 1.0],
            })
            .collect(),
    };
    let (plan, scored) = select(&candidates, &[0.1, -0.3, -0.2, 0.0, -0.5], 2);
    assert_eq!(plan.copies.len(), 1);
    assert_eq!(plan.copies[0].unit, 11);
    assert_eq!(plan.new_units.len(), 1);
    assert_eq!(plan.new_units[0].score, -0.5);
    let chosen: Vec<bool> = scored.iter().map(|c| c.chosen).collect();
    assert_eq!(chosen, vec![false, true, false, false, true]);
    assert_eq!(scored[4].candidate, CandidateRef::New { index: 2 });
    let (plan, _) = select(&candidates, &[0.1, 0.0, 0.2, 0.0, 0.5], 3);
    assert_eq!(plan.n_added(), 0, "nothing with a score ≥ 0 is kept");
}

/// A task whose mask mixes frozen and trainable units, with three classes.
fn mixed() -> (ContinualNet, Vec<f32>, Vec<f32>) {
    let mut net = ContinualNet::new(2, Activation::Tanh);
    let a = net.add_unit(vec![1.3, -0.4, 0.2], 0, UnitOrigin::Initial);
    let b = net.add_unit(vec![-0.5, 0.9, -0.1], 0, UnitOrigin::Initial);
    net.heads.push(Head {
        task: 0,
        units: vec![a, b],
        weight: Matrix::from_vec(2, 2, vec![0.3, -0.2, 0.5, 0.1]),
        bias: vec![0.0, 0.1],
        frozen: false,
    });
    net.freeze_task(0);
    let c = net.add_unit(vec![0.7, 0.6, -0.3], 1, UnitOrigin::New);
    let d = net.add_unit(vec![-1.1, 0.2, 0.4], 1, UnitOrigin::Copy { parent: a });
    net.heads.push(Head {
        task: 1,
        units: vec![b, c, a, d],
        weight: Matrix::from_vec(
            4,
            3,
            vec![
                0.8, -0.3, 0.2, -0.6, 0.4, 0.9, 0.1, 0.7, -0.5, 0.3, -0.8, 0.6,
            ],
        ),
        bias: vec![0.1, -0.2, 0.05],
        frozen: false,
    });
    net.check().expect("mixed network");
    let (x, y) = rows();
    (net, x, y)
}

/// Twelve rows of two inputs in [−1, 1) with labels 0, 1, 2 in turn: the data of the gradient
/// checks.
pub(crate) fn rows() -> (Vec<f32>, Vec<f32>) {
    let x: Vec<f32> = (0..24)
        .map(|i| ((i * 37 % 23) as f32 / 11.5) - 1.0)
        .collect();
    let y: Vec<f32> = (0..12).map(|i| (i % 3) as f32).collect();
    (x, y)
}

/// An analytic derivative against its finite difference, within 2e-3 + 2 %.
pub(crate) fn assert_close(analytic: f32, numeric: f32, what: &str) {
    assert!(
        (analytic - numeric).abs() <= 2e-3 + 0.02 * numeric.abs(),
        "{what}: analytic {analytic} finite difference {numeric}"
    );
}

#[test]
fn task_gradients_match_finite_differences_and_skip_frozen_units() {
    let (net, x, y) = mixed();
    let layout = TaskLayout::new(&net, 1).expect("layout");
    assert_eq!(
        layout.trainable,
        vec![1, 3],
        "the frozen units b and a do not train"
    );
    assert_eq!(layout.len(), 2 * 3 + 4 * 3 + 3);
    let mut grad = vec![0.0; layout.len()];
    task_loss(&net, &layout, &x, &y, Some(&mut grad)).expect("loss");
    let flat = layout.gather(&net).expect("gather");
    let h = 1e-3;
    for i in 0..flat.len() {
        let mut probe = net.clone();
        let at = |probe: &mut ContinualNet, v: f32| {
            let mut p = flat.clone();
            p[i] = v;
            layout.scatter(probe, &p).expect("scatter");
            task_loss(probe, &layout, &x, &y, None).expect("loss")
        };
        let fd = (at(&mut probe, flat[i] + h) - at(&mut probe, flat[i] - h)) / (2.0 * h);
        assert_close(grad[i], fd, &format!("parameter {i}"));
    }
}

fn mixed_candidates(net: &ContinualNet, mode: CopyMode) -> Candidates {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let settings = GrowthSettings {
        candidates: 3,
        copies: mode,
        ..GrowthSettings::default()
    };
    let kinds = Kinds {
        copies: true,
        new: true,
    };
    let mut c = Candidates::propose(net, 1, kinds, &settings, &mut rng).expect("candidates");
    for (i, copy) in c.copies.iter_mut().enumerate() {
        copy.eps = 0.3 - 0.5 * i as f32;
    }
    for (j, new) in c.new_units.iter_mut().enumerate() {
        new.eps = 0.4 + 0.2 * j as f32;
    }
    c
}

#[test]
fn augmented_gradients_match_finite_differences() {
    let (net, x, y) = mixed();
    for mode in CopyMode::ALL {
        let candidates = mixed_candidates(&net, mode);
        // Copies of the two frozen units only, at their mask positions; new units' fan-in scaled
        // by the mean norm of the units the task reads.
        let positions: Vec<usize> = candidates.copies.iter().map(|c| c.position).collect();
        assert_eq!(positions, vec![0, 2]);
        assert_eq!(
            candidates.fan_in_scale,
            firefly_playground::continual::grow::mean_unit_norm(&net, 1).expect("norm")
        );
        assert!(candidates.fan_in_scale > 1.0);
        augmented_gradients_match(&net, &candidates, &x, &y);
    }
    // At ε = 0 an added copy's ∂L/∂ε is exactly half a replacing copy's for the same δ (the
    // frozen original keeps half the head row and does not move).
    let grad_at_zero = |mode| {
        let c = mixed_candidates(&net, mode).scaled(0.0);
        let mut grad = vec![0.0; c.flat_len()];
        augmented_loss(&net, &c, &x, &y, Some(&mut grad)).expect("loss");
        c.eps_slots()[..c.copies.len()]
            .iter()
            .map(|s| grad[*s])
            .collect::<Vec<f32>>()
    };
    let (added, replacing) = (grad_at_zero(CopyMode::Add), grad_at_zero(CopyMode::Replace));
    for (a, r) in added.iter().zip(&replacing) {
        assert!(r.abs() > 1e-3, "{replacing:?}");
        assert!(
            (a - 0.5 * r).abs() <= 1e-6 * r.abs(),
            "{added:?} {replacing:?}"
        );
    }
}

fn augmented_gradients_match(net: &ContinualNet, candidates: &Candidates, x: &[f32], y: &[f32]) {
    let mode = candidates.copy_mode;
    let flat = candidates.flat();
    let mut grad = vec![0.0; flat.len()];
    augmented_loss(net, candidates, x, y, Some(&mut grad)).expect("loss");
    let h = 1e-3;
    for i in 0..flat.len() {
        let at = |v: f32| {
            let mut p = flat.clone();
            p[i] = v;
            let mut c = candidates.clone();
            c.set_flat(&p).expect("set");
            augmented_loss(net, &c, x, y, None).expect("loss")
        };
        let fd = (at(flat[i] + h) - at(flat[i] - h)) / (2.0 * h);
        assert_close(grad[i], fd, &format!("{mode}: candidate value {i}"));
    }
}

#[test]
fn epsilon_zero_is_the_old_function() {
    let (net, x, y) = mixed();
    let layout = TaskLayout::new(&net, 1).expect("layout");
    let base = task_loss(&net, &layout, &x, &y, None).expect("loss");
    for mode in CopyMode::ALL {
        let zero = mixed_candidates(&net, mode).scaled(0.0);
        assert_eq!(
            augmented_loss(&net, &zero, &x, &y, None).expect("loss"),
            base,
            "{mode}"
        );
        let moved = mixed_candidates(&net, mode);
        assert_ne!(
            augmented_loss(&net, &moved, &x, &y, None).expect("loss"),
            base,
            "{mode}"
        );
    }
}

#[test]
fn scores_add_up_to_the_loss_change_and_surgery_keeps_the_augmented_loss() {
    for mode in CopyMode::ALL {
        scores_add_up_and_surgery_keeps_the_augmented_loss(mode);
    }
}

fn scores_add_up_and_surgery_keeps_the_augmented_loss(mode: CopyMode) {
    let (net, x, y) = constructed();
    let settings = GrowthSettings {
        path_points: 64,
        copies: mode,
        ..GrowthSettings::default()
    };
    let phase = grown_phase(&net, &x, &y, &settings);
    let c = phase.candidates();
    // Projection held: |ε| ≤ ε_max, ‖δ‖ ≤ 1.
    let norm = |v: &[f32]| v.iter().map(|a| a * a).sum::<f32>().sqrt();
    for copy in &c.copies {
        assert!(copy.eps.abs() <= settings.eps_max && norm(&copy.delta) <= 1.0 + 1e-5);
    }
    for new in &c.new_units {
        let joint: Vec<f32> = new.fan_in.iter().chain(&new.fan_out).copied().collect();
        assert!(new.eps.abs() <= settings.eps_max && norm(&joint) <= 1.0 + 1e-5);
    }
    let l0 = augmented_loss(&net, &c.scaled(0.0), &x, &y, None).expect("loss");
    let l1 = augmented_loss(&net, c, &x, &y, None).expect("loss");
    let sum: f32 = phase.scores().iter().sum();
    assert!(sum < 0.0);
    assert!(
        (sum - (l1 - l0)).abs() <= 1e-3 * (l1 - l0).abs() + 1e-6,
        "Σ scores {sum} against L(ε̂) − L(0) = {}",
        l1 - l0
    );
    // Grow by three: the grown network's loss is the augmented loss with the others at ε = 0.
    let (plan, scored) = phase.finish(3);
    assert_eq!(plan.n_added(), 3);
    let mut kept = c.clone();
    let chosen: Vec<bool> = scored.iter().map(|s| s.chosen).collect();
    let n_copies = kept.copies.len();
    for (i, copy) in kept.copies.iter_mut().enumerate() {
        if !chosen[i] {
            copy.eps = 0.0;
        }
    }
    for (j, new) in kept.new_units.iter_mut().enumerate() {
        if !chosen[n_copies + j] {
            new.eps = 0.0;
        }
    }
    let expected = augmented_loss(&net, &kept, &x, &y, None).expect("loss");
    let mut grown = net.clone();
    apply_plan(&mut grown, &plan).expect("surgery");
    let layout = TaskLayout::new(&grown, 1).expect("layout");
    let actual = task_loss(&grown, &layout, &x, &y, None).expect("loss");
    assert!(
        (actual - expected).abs() < 1e-5,
        "{mode}: {actual} against {expected}"
    );
    assert_eq!(layout.trainable.len(), 3, "{mode}: the grown units train");
}

#[test]
fn projection_leaves_an_inside_point_alone_and_pulls_an_outside_one_in() {
    let mut inside = Candidates {
        task: 1,
        copy_mode: CopyMode::Add,
        fan_in_scale: 1.0,
        copies: vec![CopyCandidate {
            position: 0,
            unit: 0,
            eps: 0.05,
            delta: vec![0.3, -0.4, 0.5],
        }],
        new_units: vec![NewCandidate {
            eps: -0.02,
            fan_in: vec![0.1, 0.2, 0.3],
            fan_out: vec![0.4, -0.5],
        }],
    };
    let before = inside.clone();
    inside.project(0.1);
    assert_eq!(inside, before);
    let mut outside = before.clone();
    outside.copies[0].eps = 0.7;
    outside.copies[0].delta = vec![3.0, 0.0, 4.0];
    outside.new_units[0].eps = -0.9;
    outside.new_units[0].fan_out = vec![2.0, 0.0];
    outside.project(0.1);
    assert_eq!(outside.copies[0].eps, 0.1);
    assert_eq!(outside.copies[0].delta, vec![0.6, 0.0, 0.8]);
    assert_eq!(outside.new_units[0].eps, -0.1);
    let joint: f32 = outside.new_units[0]
        .fan_in
        .iter()
        .chain(&outside.new_units[0].fan_out)
        .map(|v| v * v)
        .sum();
    assert!((joint - 1.0).abs() < 1e-5);
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let run = |seed| {
        let mut r = ContinualRun::new(small(ContinualMethod::Firefly, seed)).expect("run");
        r.run_to_end().expect("run");
        r.state()
    };
    let a = run(4);
    assert_eq!(a, run(4));
    assert_eq!(
        serde_json::to_string(&a).expect("json"),
        serde_json::to_string(&run(4)).expect("json")
    );
    assert_ne!(a.net, run(5).net);
}

fn round_trip(state: &ContinualState) -> ContinualState {
    let text = serde_json::to_string(state).expect("json");
    let back: ContinualState = serde_json::from_str(&text).expect("parse");
    assert_eq!(&back, state);
    back
}

#[test]
fn a_state_survives_json_and_restores_to_the_same_continuation() {
    let config = small(ContinualMethod::Firefly, 2);
    let mut straight = ContinualRun::new(config.clone()).expect("run");
    straight.run_to_end().expect("run");

    // At a task boundary and in the middle of a growth phase (which starts again with the same
    // candidates): the restored run finishes exactly as the uninterrupted one.
    let boundary = |run: &ContinualRun| run.task() == 1;
    let growing = |run: &ContinualRun| {
        matches!(
            run.stage(),
            ContinualStage::Growing {
                task: 1,
                part: GrowPart::Score { .. },
                ..
            }
        )
    };
    for stop in [&boundary as &dyn Fn(&ContinualRun) -> bool, &growing] {
        let mut run = ContinualRun::new(config.clone()).expect("run");
        while !stop(&run) {
            run.advance(1).expect("advance");
        }
        let state = round_trip(&run.state());
        let mut restored = ContinualRun::restore(state).expect("restore");
        assert_eq!(restored.net(), run.net());
        assert_eq!(
            bits(&restored.logits(0, &grid_inputs(10)).expect("logits")),
            bits(&run.logits(0, &grid_inputs(10)).expect("logits"))
        );
        restored.run_to_end().expect("run");
        assert_eq!(restored.state(), straight.state());
    }
    // A finished run restores as finished, with its table.
    let done = ContinualRun::restore(round_trip(&straight.state())).expect("restore");
    assert!(done.is_finished());
    assert_eq!(done.table(), straight.table());
}

#[test]
fn a_state_that_does_not_fit_together_is_refused() {
    let mut run = ContinualRun::new(small(ContinualMethod::Firefly, 2)).expect("run");
    while run.task() < 2 {
        run.advance(500).expect("advance");
    }
    let good = run.state();
    ContinualRun::restore(good.clone()).expect("the state itself restores");
    let mut missing = good.clone();
    missing.net.heads[1].units[0] = 999;
    let mut thawed = good.clone();
    let read = thawed.net.heads[0].units[0];
    if let Some(u) = thawed.net.units.iter_mut().find(|u| u.id == read) {
        u.frozen = false;
    }
    let mut open_head = good.clone();
    open_head.net.heads[0].frozen = false;
    let mut short_table = good.clone();
    short_table.table.pop();
    let mut wrong_classes = good.clone();
    wrong_classes.config.sequence[0] = DatasetKind::Spiral3;
    let mut misshapen = good;
    misshapen.net.heads[1].weight.rows += 1;
    for (what, state) in [
        ("a mask naming a missing unit", missing),
        ("a frozen head reading a trainable unit", thawed),
        ("a finished task's head not frozen", open_head),
        ("a table shorter than the tasks done", short_table),
        ("a head whose classes do not fit its task", wrong_classes),
        ("a head of the wrong shape", misshapen),
    ] {
        assert!(ContinualRun::restore(state).is_err(), "{what} was accepted");
    }
}

#[test]
fn advance_does_bounded_work_through_every_stage() {
    let config = small(ContinualMethod::Firefly, 1);
    let mut run = ContinualRun::new(config.clone()).expect("run");
    let mut seen_optimise = false;
    let mut seen_score = false;
    let mut tasks = 0;
    let mut calls = 0;
    while !run.is_finished() {
        let did = run.advance(7).expect("advance");
        assert!(did.work <= 7 && did.steps <= 7);
        tasks += did.tasks;
        calls += 1;
        match run.stage() {
            ContinualStage::Growing {
                part: GrowPart::Optimise { done, total },
                ..
            } => {
                seen_optimise = true;
                assert!(done <= total && run.pending().is_some());
            }
            ContinualStage::Growing {
                part: GrowPart::Score { done, total },
                ..
            } => {
                seen_score = true;
                assert!(done <= total);
            }
            ContinualStage::Training {
                step, steps, task, ..
            } => {
                assert!(step <= steps && task < 3);
                assert!(run.pending().is_none());
                assert_eq!(run.accuracies().expect("accuracies").len(), task + 1);
            }
            ContinualStage::Finished => {}
        }
    }
    assert!(seen_optimise && seen_score && calls > 100);
    assert_eq!(tasks, 3);
    assert_eq!(run.table().len(), 3);
    for (t, record) in run.table().iter().enumerate() {
        assert_eq!(record.after_task, t);
        assert_eq!(record.accuracy.len(), t + 1);
    }
    // At most the budget per task, in at most `phases` growths per task.
    for t in 0..3 {
        let added: usize = run
            .growths()
            .iter()
            .filter(|g| g.task == t)
            .map(|g| g.added.len())
            .sum();
        assert!(added <= config.units_per_task);
        assert!(run.growths().iter().filter(|g| g.task == t).count() <= config.phases());
    }
    assert_eq!(run.advance(10).expect("advance").work, 0);
}

#[test]
fn every_method_gets_the_same_steps_and_the_csv_has_the_documented_rows() {
    let base = ContinualConfig {
        sequence: vec![DatasetKind::Circle, DatasetKind::Xor],
        ..small(ContinualMethod::Firefly, 0)
    };
    let jobs = experiment::jobs(&base, &ContinualMethod::ALL, 2);
    assert_eq!(jobs.len(), 12);
    let mut rows = Vec::new();
    for job in &jobs {
        let mut run = ContinualRun::new(job.clone()).expect("run");
        let mut steps = 0;
        while !run.is_finished() {
            steps += run.advance(1000).expect("advance").steps;
        }
        assert_eq!(steps, 2 * base.steps_per_task(), "{}", job.method);
        rows.extend(experiment::rows_of(&run));
    }
    assert_eq!(
        rows.len(),
        12 * 3,
        "rows (after 1: task 1; after 2: tasks 1, 2)"
    );
    assert!(
        rows.iter()
            .all(|r| r.sequence == "circle>xor" && r.task <= r.after_task)
    );
    let separate: Vec<_> = rows.iter().filter(|r| r.method == "separate").collect();
    assert!(
        separate
            .iter()
            .all(|r| r.units == r.after_task * base.task_network_width())
    );
    let fine_tune: Vec<_> = rows
        .iter()
        .filter(|r| r.method == "fine-tune" || r.method == "ewc")
        .collect();
    assert_eq!(fine_tune.len(), 2 * 2 * 3);
    assert!(fine_tune.iter().all(|r| r.units == base.fine_tune_width()));
    let mut csv = Vec::new();
    experiment::write_csv(&rows, &mut csv).expect("csv");
    let text = String::from_utf8(csv).expect("utf-8");
    assert_eq!(text.lines().next(), Some(CSV_HEADER.join(",").as_str()));
    assert_eq!(text.lines().count(), 1 + rows.len());
    let table = experiment::format_table(&rows, &["circle", "xor"]);
    for method in ContinualMethod::ALL {
        assert!(table.contains(method.name()), "{table}");
    }
    let summary = experiment::summarise(&rows);
    assert_eq!(summary.len(), 12);
    assert!(summary.iter().all(|s| s.seeds == 2));
}

#[test]
fn settings_written_before_the_copy_mode_keep_their_meaning() {
    // New runs add copies beside their originals and scale new units' fan-in; a state written
    // before those settings existed replaced originals and kept ‖w‖ ≤ 1.
    let defaults = GrowthSettings::default();
    assert_eq!(defaults.copies, CopyMode::Add);
    assert!(defaults.relative_fan_in);
    let mut json = serde_json::to_value(&defaults).expect("json");
    let map = json.as_object_mut().expect("object");
    assert!(map.remove("copies").is_some() && map.remove("relative_fan_in").is_some());
    let old: GrowthSettings = serde_json::from_value(json).expect("old settings");
    assert_eq!(old.copies, CopyMode::Replace);
    assert!(!old.relative_fan_in);
    assert_eq!(
        "replace".parse::<CopyMode>().expect("mode"),
        CopyMode::Replace
    );
    assert!("swap".parse::<CopyMode>().is_err());
}

#[test]
fn settings_are_checked() {
    let bad = [
        ContinualConfig {
            sequence: vec![DatasetKind::Circle, DatasetKind::RegPlane],
            ..ContinualConfig::default()
        },
        ContinualConfig {
            sequence: Vec::new(),
            ..ContinualConfig::default()
        },
        ContinualConfig {
            units_per_phase: 0,
            ..ContinualConfig::default()
        },
        ContinualConfig {
            learning_rate: f32::NAN,
            ..ContinualConfig::default()
        },
        ContinualConfig {
            growth: GrowthSettings {
                path_points: 0,
                ..GrowthSettings::default()
            },
            ..ContinualConfig::default()
        },
    ];
    for config in bad {
        assert!(ContinualRun::new(config).is_err());
    }
    assert_eq!(
        "fine-tune".parse::<ContinualMethod>().expect("name"),
        ContinualMethod::FineTune
    );
    assert!("forget".parse::<ContinualMethod>().is_err());
}

#[test]
fn a_class_split_learns_subsets_of_the_continual_spiral3_classes() {
    use firefly_playground::continual::TaskSpec;
    let tasks: Vec<TaskSpec> = ["spiral3:0+1", "spiral3:1+2"]
        .iter()
        .map(|t| t.parse().expect("task"))
        .collect();
    assert_eq!(tasks[0].classes, vec![0, 1]);
    assert_eq!(tasks[1].name(), "spiral3:1+2");
    let mut config = small(ContinualMethod::Firefly, 1);
    config.set_tasks(&tasks);
    assert_eq!(config.sequence_name(), "spiral3:0+1>spiral3:1+2");
    // The state carries the split, and a file without it reads as before.
    let json = serde_json::to_value(&config).expect("json");
    assert_eq!(json["classes"], serde_json::json!([[0, 1], [1, 2]]));
    let mut plain = small(ContinualMethod::Firefly, 1);
    plain.set_tasks(&["circle".parse().expect("task")]);
    assert!(
        serde_json::to_value(&plain)
            .expect("json")
            .get("classes")
            .is_none()
    );

    let mut run = ContinualRun::new(config.clone()).expect("run");
    // Each task holds only its two classes, relabelled 0 and 1, drawn from the same spiral.
    let full = firefly_playground::data::Dataset::generate(&config.data_config(1)).expect("data");
    let second = run.data(1).expect("task data").clone();
    assert_eq!(second.n_classes(), 2);
    let kept = full
        .train
        .iter()
        .filter(|p| p.label == 1.0 || p.label == 2.0)
        .map(|p| (p.x.to_bits(), p.y.to_bits(), p.label as usize - 1))
        .collect::<Vec<_>>();
    let got = second
        .train
        .iter()
        .map(|p| (p.x.to_bits(), p.y.to_bits(), p.label as usize))
        .collect::<Vec<_>>();
    assert_eq!(got, kept);
    assert!(got.iter().any(|p| p.2 == 0) && got.iter().any(|p| p.2 == 1));
    run.run_to_end().expect("run");
    assert_eq!(run.net().heads[1].n_classes(), 2);
    // The first split is frozen: its accuracy does not move while the second is learnt.
    let table = run.table();
    assert_eq!(table.len(), 2);
    assert_eq!(
        table[1].accuracy[0].to_bits(),
        table[0].accuracy[0].to_bits()
    );
    assert!(table[0].accuracy[0] > 0.5, "{:?}", table[0].accuracy);
    // And it restores from its state.
    let restored = ContinualRun::restore(round_trip(&run.state())).expect("restore");
    assert_eq!(restored.table(), run.table());

    for bad in [
        "spiral3:2",
        "spiral3:0+3",
        "spiral3:1+1",
        "spiral3:a+b",
        "circle:0+2",
        "reg-plane:0+1",
        "nothing:0+1",
    ] {
        let e = bad.parse::<TaskSpec>().expect_err(bad).to_string();
        assert!(!e.is_empty() && e.len() < 200, "{bad}: {e}");
    }
    let mut mismatched = small(ContinualMethod::Firefly, 1);
    mismatched.classes = vec![vec![0, 1], vec![0, 1], vec![0, 1], vec![0, 1]];
    assert!(mismatched.validate().is_err());
}
