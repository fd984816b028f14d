//! Continual learning (spec §8) on the engine's own training path, grower and surgery: old tasks
//! keep bit-identical outputs while later tasks grow, fine-tuning measurably forgets, growth
//! keeps the candidates with the best scores (a constructed case), a task's view computes the
//! task and its gradients skip frozen units (finite differences), a copy at ε = 0 is the old
//! function, the grown network's loss is the augmented loss with unselected ε = 0, the same seed
//! replays the same run, and a state survives JSON and restores to the same continuation.

use burn::tensor::{Tensor, TensorData};
use firefly_playground::config::Regularization;
use firefly_playground::continual::experiment::{self, CSV_HEADER};
use firefly_playground::continual::grow::mean_unit_norm;
use firefly_playground::continual::{
    ContinualConfig, ContinualMethod, ContinualNet, ContinualRun, ContinualStage, ContinualState,
    GrowPart, GrowthSettings, Head, TaskView, UnitOrigin,
};
use firefly_playground::data::{DatasetKind, grid_inputs};
use firefly_playground::fused::{self, Workspace};
use firefly_playground::grow::firefly::{FireflyRun, augmented_forward};
use firefly_playground::grow::grower::GrowthInput;
use firefly_playground::grow::{CandidateKind, GrowthConfig, Method, apply_plan};
use firefly_playground::model::{
    Activation, DeviceMlp, Matrix, Mlp, Targets, inputs_tensor, metrics_from_outputs,
};
use firefly_playground::optim::OptimizerKind;

use crate::support::{block, device};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// circle → xor → spiral at test size: 200 points per task, 3 units per task, 100 steps per block.
pub(crate) fn small(method: ContinualMethod, seed: u64) -> ContinualConfig {
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
    let run = (0..8)
        .map(|seed| {
            // Every old unit stays in the mask (mask selection may drop a copy's original).
            let config = ContinualConfig {
                mask_tolerance: 0.0,
                ..small(ContinualMethod::Firefly, seed)
            };
            run_recording(config).0
        })
        .find(|run| {
            run.net()
                .units
                .iter()
                .any(|u| matches!(u.origin, UnitOrigin::Copy { .. }))
        })
        .expect("a run that chose a copy");
    let net = run.net();
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
        // The copy sits beside the original in its task's mask; the older tasks still read
        // the original.
        let users = net.users(copy.id);
        assert!(users.contains(&copy.owner) && users.iter().all(|t| *t >= copy.owner));
        assert!(net.users(parent).contains(&copy.owner));
        assert!(net.users(parent).contains(&original.owner));
    }
    // Growth records name the copies as one-sided splits of frozen units.
    let g = run
        .growths()
        .iter()
        .find(|g| !g.plan.splits.is_empty())
        .expect("a copy");
    assert!(g.plan.splits.iter().all(|s| s.keep_parent));
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
/// copy of the second (head row zero) changes nothing.
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

/// The engine's Firefly phase on task `task`'s view (copies of its frozen units and m' new
/// units with S = the mean norm of the frozen units), Step 1 and Step 2 done.
fn firefly_phase(
    net: &ContinualNet,
    task: usize,
    (x, y): (&[f32], &[f32]),
    config: &GrowthConfig,
) -> (TaskView, FireflyRun) {
    let view = net.view(task).expect("view");
    let device = device();
    let input = GrowthInput {
        mlp: &view.mlp,
        params: DeviceMlp::upload(&view.mlp, &device).params,
        inputs: inputs_tensor(x, 2, &device),
        targets: Targets::new(y, view.mlp.task, &device),
        config,
        frozen: &view.frozen,
        new_unit_scale: mean_unit_norm(&view),
    };
    let kinds = Method::Firefly.firefly_kinds().expect("kinds");
    let mut run = FireflyRun::start(input, kinds, &mut ChaCha8Rng::seed_from_u64(5));
    run.step1(usize::MAX);
    run.step2(usize::MAX);
    assert!(run.step1_done() && run.step2_done());
    (view, run)
}

/// The view's training loss, by the fused forward pass.
fn loss_of(mlp: &Mlp, x: &[f32], y: &[f32]) -> f32 {
    metrics_from_outputs(
        &fused::forward(mlp, x, &mut Workspace::default()),
        y,
        mlp.task,
    )
    .0
}

#[test]
fn growth_keeps_the_candidates_with_the_most_negative_scores() {
    let (net, x, y) = constructed();
    let (view, phase) = firefly_phase(&net, 1, (&x, &y), &GrowthConfig::default());
    let (plan, scored) = block(phase.finish(1)).expect("finish");
    // Two copies (the task's units are both frozen) and m' new units, ranked together.
    assert_eq!(scored.len(), 2 + GrowthConfig::default().candidates);
    let copy_score = |unit| {
        scored
            .iter()
            .find(|c| c.kind == CandidateKind::Split && c.unit_id == Some(unit))
            .expect("copy")
            .score
    };
    let [a, b] = [net.heads[1].units[0], net.heads[1].units[1]];
    // The copy of tanh(4x) is the best candidate; the copy of tanh(4y) scores exactly 0.
    assert_eq!(copy_score(b), 0.0);
    assert!(
        scored
            .iter()
            .all(|c| c.unit_id == Some(a) || copy_score(a) < c.score),
        "{scored:?}"
    );
    assert_eq!(plan.splits.len(), 1, "{scored:?}");
    assert!(plan.splits[0].keep_parent && plan.splits[0].unit == 0);
    // With a larger budget: the most negative scores in rank order, never one ≥ 0.
    let (plan4, scored4) = block(phase.finish(4)).expect("finish");
    let mut order: Vec<f32> = scored4
        .iter()
        .map(|c| c.score)
        .filter(|s| *s < 0.0)
        .collect();
    order.sort_by(f32::total_cmp);
    order.truncate(4);
    let mut chosen: Vec<f32> = scored4
        .iter()
        .filter(|c| c.chosen)
        .map(|c| c.score)
        .collect();
    chosen.sort_by(f32::total_cmp);
    assert_eq!(chosen, order);
    assert_eq!(chosen.len(), plan4.n_added());

    // Materialised in task 1's mask only, beside the original, each with half its head row;
    // the loss falls by about the predicted change.
    let before = loss_of(&view.mlp, &x, &y);
    let (mlp, lineage) = apply_plan(&view.mlp, &plan).expect("surgery");
    let grown_view = TaskView {
        task: 1,
        mlp,
        frozen: view.frozen.clone(),
    };
    let mut grown = net.clone();
    let added = grown.take_grown(&grown_view, &lineage).expect("write back");
    assert_eq!(added.len(), 1);
    let copy = added[0].unit;
    assert_eq!(added[0].origin, UnitOrigin::Copy { parent: a });
    assert_eq!(grown.heads[1].units, vec![a, b, copy]);
    let row = |net: &ContinualNet, m: usize| net.heads[1].weight.data[2 * m..2 * m + 2].to_vec();
    let half: Vec<f32> = row(&net, 0).iter().map(|w| 0.5 * w).collect();
    assert_eq!(row(&grown, 0), half);
    assert_eq!(row(&grown, 2), half);
    assert_eq!(row(&grown, 1), row(&net, 1));
    assert_eq!(grown.heads[0], net.heads[0]);
    assert_eq!(grown.units[..2], net.units[..2]);
    let after = loss_of(&grown.view(1).expect("view").mlp, &x, &y);
    assert!(after < before);
    let predicted = plan.predicted_change();
    assert!(
        ((after - before) - predicted).abs() < 0.3 * predicted.abs(),
        "actual {} predicted {predicted}",
        after - before
    );
}

#[test]
fn a_task_keeps_the_old_units_it_needs_in_its_mask() {
    // Task 1 reads tanh(4x), which its head uses, and tanh(4y), whose head row is zero.
    let (net, x, y) = constructed();
    let view = net.view(1).expect("view");
    let [a, b] = [net.heads[1].units[0], net.heads[1].units[1]];
    let (kept, dropped) = view.select_old_units(0.01, |mlp| loss_of(mlp, &x, &y));
    assert_eq!(dropped, vec![b], "removing an unused unit costs nothing");
    assert_eq!(kept.mlp.blocks[0].unit_ids, vec![a]);
    assert_eq!(
        kept.mlp.out_weight.data,
        net.heads[1].weight.row(0).to_vec()
    );
    assert_eq!(loss_of(&kept.mlp, &x, &y), loss_of(&view.mlp, &x, &y));
    // Without a tolerance nothing leaves; with an unbounded one every old unit but the last
    // does; a unit the task trains never does.
    assert!(
        view.select_old_units(0.0, |mlp| loss_of(mlp, &x, &y))
            .1
            .is_empty()
    );
    assert_eq!(
        view.select_old_units(10.0, |mlp| loss_of(mlp, &x, &y))
            .1
            .len(),
        1
    );
    let mut trains = view.clone();
    trains.frozen.clear();
    assert!(
        trains
            .select_old_units(10.0, |mlp| loss_of(mlp, &x, &y))
            .1
            .is_empty()
    );
    // In a run, later tasks drop some old units (fewer head rows) and the old tasks are as
    // they were (see old_tasks_keep_bit_identical_outputs_while_later_tasks_grow).
    let run = |tolerance| {
        let mut config = small(ContinualMethod::Firefly, 2);
        config.mask_tolerance = tolerance;
        let mut run = ContinualRun::new(config).expect("run");
        run.run_to_end().expect("run");
        run
    };
    let (all, masked) = (run(0.0), run(1.0));
    let old_reads = |run: &ContinualRun, t: usize| {
        let head = &run.net().heads[t];
        head.units
            .iter()
            .filter(|id| run.net().unit(**id).is_some_and(|u| u.owner < t))
            .count()
    };
    for t in 1..3 {
        assert_eq!(
            old_reads(&all, t),
            all.net().units.iter().filter(|u| u.owner < t).count()
        );
        assert!(old_reads(&masked, t) < old_reads(&all, t), "task {t}");
    }
    assert!(masked.net().n_params() < all.net().n_params());
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
fn the_task_view_is_the_task_and_its_gradients_skip_frozen_units() {
    let (net, x, y) = mixed();
    let view = net.view(1).expect("view");
    // The view computes the task's logits; its frozen units are b and a (positions 0 and 2).
    assert_eq!(
        view.frozen,
        vec![net.heads[1].units[0], net.heads[1].units[2]]
    );
    assert_eq!(view.mlp.blocks[0].unit_ids, net.heads[1].units);
    let hand: Vec<f32> = x
        .chunks(2)
        .flat_map(|p| {
            let mut out = net.heads[1].bias.clone();
            for (m, id) in net.heads[1].units.iter().enumerate() {
                let t = &net.unit(*id).expect("unit").theta;
                let a = (t[0] * p[0] + t[1] * p[1] + t[2]).tanh();
                for (k, o) in out.iter_mut().enumerate() {
                    *o += a * net.heads[1].weight.get(m, k);
                }
            }
            out
        })
        .collect();
    let logits = net.logits(1, &x).expect("logits");
    for (l, h) in logits.iter().zip(&hand) {
        assert!((l - h).abs() < 1e-6, "{logits:?} {hand:?}");
    }
    // The fused gradients with the frozen units zeroed: zero there, finite differences elsewhere.
    let mut ws = Workspace::default();
    fused::gradients(&view.mlp, &x, &y, &mut ws);
    let grads = ws.gradients_mut().expect("gradients");
    fused::freeze(&view.mlp, grads, &view.frozen);
    let h = 1e-3;
    for j in 0..4 {
        let frozen = view.frozen.contains(&view.mlp.blocks[0].unit_ids[j]);
        for i in 0..3 {
            let g = grads.blocks[0].theta(j)[i];
            if frozen {
                assert_eq!(g, 0.0);
                continue;
            }
            let at = |v: f32| {
                let mut probe = view.mlp.clone();
                match i {
                    2 => probe.blocks[0].bias[j] = v,
                    _ => probe.blocks[0].fan_in.set(i, j, v),
                }
                loss_of(&probe, &x, &y)
            };
            let v = view.mlp.blocks[0].theta(j)[i];
            assert_close(
                g,
                (at(v + h) - at(v - h)) / (2.0 * h),
                &format!("unit {j} weight {i}"),
            );
        }
    }
    // Steps of the fused path leave the frozen units bit-identical and move the others.
    let mut mlp = view.mlp.clone();
    let mut optimizer = fused::FusedOptimizer::new(OptimizerKind::Adam);
    for _ in 0..20 {
        fused::gradients(&mlp, &x, &y, &mut ws);
        let grads = ws.gradients_mut().expect("gradients");
        fused::freeze(&mlp, grads, &view.frozen);
        fused::update(
            &mut mlp,
            &mut optimizer,
            0.05,
            (Regularization::None, 0.0),
            &mut ws,
        );
    }
    for j in 0..4 {
        let moved = mlp.blocks[0].theta(j) != view.mlp.blocks[0].theta(j);
        assert_eq!(
            moved,
            !view.frozen.contains(&view.mlp.blocks[0].unit_ids[j]),
            "unit {j}"
        );
    }
}

#[test]
fn copies_keep_the_old_function_at_zero_and_their_gradients_match_finite_differences() {
    let (net, x, y) = mixed();
    let config = GrowthConfig {
        candidates: 3,
        step1_steps: 5,
        path_points: 1,
        ..GrowthConfig::default()
    };
    let (view, phase) = firefly_phase(&net, 1, (&x, &y), &config);
    let c = &phase.candidates;
    let split = c.split[0].expect("copies of the frozen units");
    let copies = c.copies[0].as_ref().expect("copies");
    assert_eq!(
        copies.keep,
        vec![true, false, true, false],
        "only the frozen units b and a"
    );
    assert!(c.new_unit_scale > 1.0 && c.new_unit_scale == mean_unit_norm(&view));
    // After Step 1: copies within |ε| ≤ ε_max, the trainable units' ε held at 0, ‖δ‖ ≤ 1.
    let eps = c.values[split.eps]
        .to_data()
        .try_to_vec::<f32>()
        .expect("eps");
    assert!(eps[0] != 0.0 && eps[2] != 0.0 && eps[0].abs() <= 0.1 && eps[2].abs() <= 0.1);
    assert_eq!((eps[1], eps[3]), (0.0, 0.0));
    // ε = 0: exactly the old function.
    let device = device();
    let base = DeviceMlp::upload(&view.mlp, &device).params;
    let inputs = inputs_tensor(&x, 2, &device);
    let at = |values: &[Tensor<2>]| {
        augmented_forward(&view.mlp, &base, c, values, inputs.clone())
            .to_data()
            .try_to_vec::<f32>()
            .expect("out")
    };
    let mut zero = c.values.clone();
    for slot in c.eps_slots() {
        zero[slot] = zero[slot].zeros_like();
    }
    let old = fused::forward(&view.mlp, &x, &mut Workspace::default());
    for (a, b) in at(&zero).iter().zip(&old) {
        assert!((a - b).abs() <= 1e-6, "{a} against {b}");
    }
    // ∂L/∂ε of each copy against central differences of the augmented loss.
    let grads = phase.eps_gradients(&c.values);
    let g = grads[c
        .eps_slots()
        .iter()
        .position(|s| *s == split.eps)
        .expect("slot")]
    .clone()
    .expect("gradient")
    .to_data()
    .try_to_vec::<f32>()
    .expect("grad");
    let h = 1e-2;
    for i in [0, 2] {
        let loss_at = |e: f32| {
            let mut values = c.values.clone();
            let mut row = eps.clone();
            row[i] = e;
            values[split.eps] = Tensor::from_data(TensorData::new(row, [1, 4]), &device);
            phase.augmented_loss(&values).into_scalar::<f32>()
        };
        let fd = (loss_at(eps[i] + h) - loss_at(eps[i] - h)) / (2.0 * h);
        assert!(g[i].abs() > 1e-4, "{g:?}");
        assert_close(g[i], fd, &format!("copy at position {i}"));
    }
}

#[test]
fn scores_add_up_to_the_loss_change_and_surgery_keeps_the_augmented_loss() {
    let (net, x, y) = constructed();
    let config = GrowthConfig {
        path_points: 64,
        ..GrowthConfig::default()
    };
    let (view, phase) = firefly_phase(&net, 1, (&x, &y), &config);
    let c = &phase.candidates;
    let zero: Vec<Tensor<2>> = c
        .values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            if c.eps_slots().contains(&i) {
                v.zeros_like()
            } else {
                v.clone()
            }
        })
        .collect();
    let l0 = phase.augmented_loss(&zero).into_scalar::<f32>();
    let l1 = phase.augmented_loss(&c.values).into_scalar::<f32>();
    let (plan, scored) = block(phase.finish(3)).expect("finish");
    let sum: f32 = scored.iter().map(|s| s.score).sum();
    assert!(sum < 0.0);
    assert!(
        (sum - (l1 - l0)).abs() <= 1e-3 * (l1 - l0).abs() + 1e-6,
        "Σ scores {sum} against L(ε̂) − L(0) = {}",
        l1 - l0
    );
    // Grow by three: the grown view's loss is the augmented loss with the others at ε = 0.
    assert_eq!(plan.n_added(), 3);
    let mut kept = c.values.clone();
    let split = c.split[0].expect("copies");
    let new = c.new[0].expect("new units");
    let mask = |slot: usize, chosen: Vec<bool>| {
        let keep: Vec<f32> = chosen.iter().map(|&k| if k { 1.0 } else { 0.0 }).collect();
        let n = keep.len();
        c.values[slot].clone() * Tensor::<2>::from_data(TensorData::new(keep, [1, n]), &device())
    };
    let chosen_of = |kind| {
        scored
            .iter()
            .filter(|s| s.kind == kind)
            .map(|s| s.chosen)
            .collect()
    };
    kept[split.eps] = mask(split.eps, chosen_of(CandidateKind::Split));
    kept[new.eps] = mask(new.eps, chosen_of(CandidateKind::New));
    let expected = phase.augmented_loss(&kept).into_scalar::<f32>();
    let (mlp, lineage) = apply_plan(&view.mlp, &plan).expect("surgery");
    let mut grown = net.clone();
    grown
        .take_grown(
            &TaskView {
                task: 1,
                mlp,
                frozen: view.frozen.clone(),
            },
            &lineage,
        )
        .expect("grown");
    let grown_view = grown.view(1).expect("view");
    let actual = loss_of(&grown_view.mlp, &x, &y);
    assert!(
        (actual - expected).abs() < 1e-5,
        "{actual} against {expected}"
    );
    assert_eq!(grown_view.frozen.len(), 2, "the grown units train");
    assert_eq!(grown.heads[0], net.heads[0]);
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
        // 5 divides the 30 Step-1 steps: some calls end between Step 1 and Step 2.
        let did = run.advance(5).expect("advance");
        assert!(did.work <= 5 && did.steps <= 5);
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
fn settings_written_before_the_relative_fan_in_keep_their_meaning() {
    // New runs scale new units' fan-in; a state written before that setting kept ‖w‖ ≤ 1.
    let defaults = GrowthSettings::default();
    assert!(defaults.relative_fan_in);
    let mut json = serde_json::to_value(&defaults).expect("json");
    let map = json.as_object_mut().expect("object");
    assert!(map.remove("relative_fan_in").is_some());
    let old: GrowthSettings = serde_json::from_value(json).expect("old settings");
    assert!(!old.relative_fan_in);
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
