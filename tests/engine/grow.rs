//! Growth: the invariants of spec §10 and the baselines.
//!
//! - ε = 0 preserves the function for every neighbour kind (data and grid, ≤ 1e-6);
//! - autodiff ∂L/∂ε matches central finite differences and the closed forms of spec §4;
//! - autodiff ∂L/∂δ matches central finite differences for every candidate kind;
//! - joint path: Σ scores ≈ L(ε̂) − L(0) (fine grid and the default g = 4); own axis: each score ≈
//!   L(ε̂) − L(ε̂ with that ε at 0);
//! - projection leaves an inside point unchanged and holds after every Step-1 step;
//! - the materialised network's loss equals the augmented loss with unselected ε = 0;
//! - exact splitting's eigenvalues and plans match hand-built splitting matrices, and the
//!   baselines grow what they say.

use burn::tensor::{Device, Tensor, TensorData};
use firefly_playground::data::{Dataset, DatasetKind, Task, grid_inputs};
use firefly_playground::grow::firefly::{FireflyRun, augmented_forward};
use firefly_playground::grow::{
    Budget, CandidateKind, CandidateKinds, CandidateScore, GrowthConfig, GrowthPlan,
    LayerUnitChoice, Method, NewLayerChoice, NewUnitChoice, ScorePath, SplitChoice, apply_plan,
    random, select_top, splitting,
};
use firefly_playground::model::{
    Activation, DeviceMlp, Mlp, Targets, inputs_tensor, loss, metrics_from_outputs,
};
use firefly_playground::readback::{read_all, read_one};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::support::{block, dataset, device, max_abs_diff, mlp};

const ALL: CandidateKinds = CandidateKinds {
    split: true,
    new: true,
    layers: true,
};

fn config(candidates: usize) -> GrowthConfig {
    GrowthConfig {
        method: Method::FireflyLayers,
        budget: Budget::Count(1),
        candidates,
        eps_max: 0.1,
        step1_steps: 30,
        step1_lr: 0.05,
        path_points: 4,
        score: ScorePath::Joint,
        max_new_layers: 1,
        split_scale: 0.0,
    }
}

/// A network with two dense layers and a residual block between them: 2-3-2r-4-2.
fn network_with_residual() -> Mlp {
    let base = mlp(
        &[3, 4],
        Activation::Tanh,
        Task::Classification { n_classes: 2 },
        11,
    );
    let plan = GrowthPlan {
        new_layers: vec![NewLayerChoice {
            after_block: 0,
            units: (0..2)
                .map(|j| LayerUnitChoice {
                    eps: 0.5,
                    fan_in: vec![0.3 * j as f32 - 0.2, 0.4, -0.1, 0.2],
                    fan_out: vec![0.5, -0.4, 0.3 * j as f32],
                    score: -1.0,
                })
                .collect(),
        }],
        ..GrowthPlan::default()
    };
    let (grown, _) = apply_plan(&base, &plan).expect("valid plan");
    assert_eq!(grown.architecture(), "2-3-2r-4-2");
    grown
}

struct Fixture {
    net: Mlp,
    data: Dataset,
    device: Device,
}

impl Fixture {
    fn new(net: Mlp) -> Self {
        Fixture {
            net,
            data: dataset(DatasetKind::Circle, 60, 2),
            device: device(),
        }
    }

    fn run(&self, kinds: CandidateKinds, config: &GrowthConfig, seed: u64) -> FireflyRun {
        let x = inputs_tensor(&Dataset::inputs(&self.data.train), 2, &self.device);
        let t = Targets::new(
            &Dataset::labels(&self.data.train),
            self.data.task,
            &self.device,
        );
        let base = DeviceMlp::upload(&self.net, &self.device).params;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        FireflyRun::new(&self.net, base, kinds, config, x, t, &mut rng)
    }

    fn loss_of(&self, net: &Mlp) -> f32 {
        let out = net.forward_host(&Dataset::inputs(&self.data.train));
        metrics_from_outputs(&out, &Dataset::labels(&self.data.train), net.task).0
    }
}

fn read_values(values: &[Tensor<2>]) -> Vec<Vec<f32>> {
    block(read_all(values.to_vec())).expect("read")
}

fn upload_like(template: &Tensor<2>, data: Vec<f32>) -> Tensor<2> {
    Tensor::from_data(TensorData::new(data, template.dims()), &template.device())
}

fn scalar(t: Tensor<1>) -> f32 {
    block(read_one(t)).expect("read")[0]
}

fn with_eps_zero(run: &FireflyRun) -> Vec<Tensor<2>> {
    let mut values = run.candidates.values.clone();
    for slot in run.candidates.eps_slots() {
        values[slot] = values[slot].zeros_like();
    }
    values
}

#[test]
fn epsilon_zero_preserves_the_function_for_every_neighbour_kind() {
    let fx = Fixture::new(network_with_residual());
    let kinds = [
        CandidateKinds {
            split: true,
            new: false,
            layers: false,
        },
        CandidateKinds {
            split: false,
            new: true,
            layers: false,
        },
        CandidateKinds {
            split: false,
            new: false,
            layers: true,
        },
        ALL,
    ];
    let mut points = Dataset::inputs(&fx.data.train);
    points.extend(grid_inputs(20));
    let reference = fx.net.forward_host(&points);
    for kind in kinds {
        let run = fx.run(kind, &config(5), 3);
        let values = with_eps_zero(&run);
        let out = augmented_forward(
            &run.mlp,
            &run.base,
            &run.candidates,
            &values,
            inputs_tensor(&points, 2, &fx.device),
        );
        let out = block(read_one(out)).expect("read");
        assert!(max_abs_diff(&out, &reference) <= 1e-6, "{kind:?}");
        // With ε ≠ 0 the neighbour does differ (so the check above can fail).
        let moved = augmented_forward(
            &run.mlp,
            &run.base,
            &run.candidates,
            &run.candidates.values,
            inputs_tensor(&points, 2, &fx.device),
        );
        assert!(max_abs_diff(&block(read_one(moved)).expect("read"), &reference) > 1e-5);
    }
}

#[test]
fn autodiff_epsilon_gradients_match_central_finite_differences() {
    let fx = Fixture::new(network_with_residual());
    let mut run = fx.run(ALL, &config(3), 5);
    run.step1(10);
    let values = run.candidates.values.clone();
    let grads: Vec<Vec<f32>> = run
        .eps_gradients(&values)
        .into_iter()
        .map(|g| block(read_one(g.expect("every ε has a gradient"))).expect("read"))
        .collect();
    let host = read_values(&values);
    let h = 1e-2f32;
    let mut checked = 0;
    for (k, &slot) in run.candidates.eps_slots().iter().enumerate() {
        for i in 0..host[slot].len() {
            let shifted = |sign: f32| {
                let mut v = values.clone();
                let mut data = host[slot].clone();
                data[i] += sign * h;
                v[slot] = upload_like(&values[slot], data);
                scalar(run.augmented_loss(&v))
            };
            let fd = (shifted(1.0) - shifted(-1.0)) / (2.0 * h);
            let ad = grads[k][i];
            assert!(
                (fd - ad).abs() <= 2e-3 * ad.abs().max(1e-2) + 2e-5,
                "slot {slot} entry {i}: autodiff {ad}, finite difference {fd}"
            );
            checked += 1;
        }
    }
    assert!(checked > 10);
}

#[test]
fn autodiff_delta_gradients_match_central_finite_differences() {
    let fx = Fixture::new(network_with_residual());
    let mut run = fx.run(ALL, &config(3), 5);
    run.step1(10);
    let values = run.candidates.values.clone();
    let leaves: Vec<Tensor<2>> = values
        .iter()
        .map(|v| v.clone().autodiff().require_grad())
        .collect();
    let grads = run.augmented_loss(&leaves).backward();
    let c = &run.candidates;
    let mut deltas: Vec<usize> = Vec::new();
    for s in c.split.iter().flatten() {
        deltas.extend([s.delta_w, s.delta_b]);
    }
    for s in c.new.iter().chain(c.layer.iter()).flatten() {
        deltas.extend([s.fan_in, s.bias, s.fan_out]);
    }
    assert_eq!(deltas.len(), 3 * 2 + 6 * 3, "every δ tensor of every kind");
    let host = read_values(&values);
    let h = 1e-2f32;
    let mut checked = 0;
    let mut nonzero = 0;
    for &slot in &deltas {
        let ad = block(read_one(
            leaves[slot]
                .grad(&grads)
                .unwrap_or_else(|| panic!("δ slot {slot} has a gradient")),
        ))
        .expect("read");
        for i in 0..host[slot].len() {
            let shifted = |sign: f32| {
                let mut v = values.clone();
                let mut data = host[slot].clone();
                data[i] += sign * h;
                v[slot] = upload_like(&values[slot], data);
                scalar(run.augmented_loss(&v))
            };
            let fd = (shifted(1.0) - shifted(-1.0)) / (2.0 * h);
            assert!(
                (fd - ad[i]).abs() <= 2e-3 * ad[i].abs().max(1e-2) + 2e-6,
                "δ slot {slot} entry {i}: autodiff {}, finite difference {fd}",
                ad[i]
            );
            checked += 1;
            nonzero += usize::from(fd.abs() > 1e-5);
        }
    }
    assert!(checked > 100, "{checked}");
    assert!(
        nonzero * 2 > checked,
        "most δ gradients are not zero: {nonzero}/{checked}"
    );
}

#[test]
fn epsilon_gradients_match_the_closed_forms() {
    // One hidden dense layer, so the closed forms of spec §4 apply directly.
    let net = mlp(
        &[3],
        Activation::Tanh,
        Task::Classification { n_classes: 2 },
        4,
    );
    let fx = Fixture::new(net);
    let kinds = CandidateKinds {
        split: true,
        new: true,
        layers: false,
    };
    let mut run = fx.run(kinds, &config(4), 9);
    run.step1(15);
    let values = run.candidates.values.clone();
    let v = read_values(&values);
    let split = run.candidates.split[0].expect("split slots");
    let new = run.candidates.new[0].expect("new slots");
    let (m, k) = (3, 4);
    let net = &fx.net;
    let act = net.activation;
    let xs = Dataset::inputs(&fx.data.train);
    let ys = Dataset::labels(&fx.data.train);
    let n = ys.len() as f32;
    let mut d_split = vec![0.0f64; m];
    let mut d_new = vec![0.0f64; k];
    for (x, y) in xs.chunks(2).zip(&ys) {
        let xt = [x[0], x[1], 1.0];
        let theta = |i: usize| net.blocks[0].theta(i);
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f32>();
        let delta = |i: usize| {
            [
                v[split.delta_w][i],
                v[split.delta_w][m + i],
                v[split.delta_b][i],
            ]
        };
        let w_new = |j: usize| [v[new.fan_in][j], v[new.fan_in][k + j], v[new.bias][j]];
        let z: Vec<f32> = (0..m).map(|i| dot(&theta(i), &xt)).collect();
        let s: Vec<f32> = (0..m).map(|i| dot(&delta(i), &xt)).collect();
        let u: Vec<f32> = (0..m).map(|i| v[split.eps][i] * s[i]).collect();
        let h: Vec<f32> = (0..m)
            .map(|i| 0.5 * (act.value(z[i] + u[i]) + act.value(z[i] - u[i])))
            .collect();
        let a: Vec<f32> = (0..k).map(|j| act.value(dot(&w_new(j), &xt))).collect();
        let out: Vec<f32> = (0..2)
            .map(|c| {
                (0..m).map(|i| h[i] * net.out_weight.get(i, c)).sum::<f32>()
                    + net.out_bias[c]
                    + (0..k)
                        .map(|j| v[new.eps][j] * a[j] * v[new.fan_out][j * 2 + c])
                        .sum::<f32>()
            })
            .collect();
        let max = out[0].max(out[1]);
        let e: Vec<f32> = out.iter().map(|o| (o - max).exp()).collect();
        let p: Vec<f32> = e.iter().map(|x| x / (e[0] + e[1])).collect();
        let dout: Vec<f32> = (0..2)
            .map(|c| (p[c] - if *y as usize == c { 1.0 } else { 0.0 }) / n)
            .collect();
        for i in 0..m {
            let g: f32 = (0..2).map(|c| dout[c] * net.out_weight.get(i, c)).sum();
            let dh = 0.5 * (act.derivative(z[i] + u[i]) - act.derivative(z[i] - u[i])) * s[i];
            d_split[i] += (g * dh) as f64;
        }
        for j in 0..k {
            let g: f32 = (0..2).map(|c| dout[c] * v[new.fan_out][j * 2 + c]).sum();
            d_new[j] += (a[j] * g) as f64;
        }
    }
    let grads = run.eps_gradients(&values);
    let slots = run.candidates.eps_slots();
    let ad = |slot: usize| {
        let k = slots.iter().position(|&s| s == slot).expect("slot");
        block(read_one(grads[k].clone().expect("gradient"))).expect("read")
    };
    let (ad_split, ad_new) = (ad(split.eps), ad(new.eps));
    for i in 0..m {
        assert!(
            (ad_split[i] as f64 - d_split[i]).abs() < 1e-5 + 1e-3 * d_split[i].abs(),
            "split {i}"
        );
    }
    for j in 0..k {
        assert!(
            (ad_new[j] as f64 - d_new[j]).abs() < 1e-5 + 1e-3 * d_new[j].abs(),
            "new {j}"
        );
    }
    assert!(
        d_split.iter().any(|g| g.abs() > 1e-4),
        "split gradients are not all zero"
    );
}

/// Step 1, then Step 2 along `score` on a midpoint grid of `g` points; every candidate's score.
fn scored_run(
    fx: &Fixture,
    score: ScorePath,
    g: usize,
    seed: u64,
) -> (FireflyRun, Vec<CandidateScore>) {
    let mut cfg = config(4);
    cfg.path_points = g;
    cfg.score = score;
    let mut run = fx.run(ALL, &cfg, seed);
    run.step1(cfg.step1_steps);
    run.step2(usize::MAX);
    assert!(run.step2_done());
    let (_, scores) = block(run.finish(0)).expect("finish");
    (run, scores)
}

#[test]
fn joint_scores_sum_to_the_loss_change() {
    let fx = Fixture::new(network_with_residual());
    let default_g = GrowthConfig::default().path_points;
    assert_eq!(default_g, 4);
    // A fine grid is exact to f32 noise; the default g = 4 to the midpoint rule's O(1/g²).
    for (g, tolerance) in [(64, 2e-3), (default_g, 1e-2)] {
        let (run, scores) = scored_run(&fx, ScorePath::Joint, g, 7);
        let total: f32 = scores.iter().map(|s| s.score).sum();
        let at_hat = scalar(run.augmented_loss(&run.candidates.values));
        let at_zero = scalar(run.augmented_loss(&with_eps_zero(&run)));
        let change = at_hat - at_zero;
        assert!(change < -1e-3, "Step 1 lowered the loss: {change}");
        assert!(
            total < 0.0,
            "g = {g}: the scores predict a decrease: {total}"
        );
        assert!(
            (total - change).abs() <= tolerance * change.abs(),
            "g = {g}: Σ scores {total} vs L(ε̂) − L(0) {change}"
        );
        // Splits score along the path: not zero, although their gradient at ε = 0 is.
        assert!(
            scores
                .iter()
                .any(|s| s.kind == CandidateKind::Split && s.score.abs() > 1e-7)
        );
    }
}

#[test]
fn own_axis_scores_are_the_loss_change_of_removing_each_candidate() {
    // 1200 training points: the stacked own-axis pass (at most 2^15 rows) takes two chunks.
    let fx = Fixture {
        net: network_with_residual(),
        data: dataset(DatasetKind::Circle, 2400, 2),
        device: device(),
    };
    let mut cfg = config(4);
    cfg.score = ScorePath::OwnAxis;
    let mut run = fx.run(ALL, &cfg, 7);
    run.step1(cfg.step1_steps);
    // Work is bounded: one chunk of candidates per unit, a point when both are done.
    assert_eq!(run.step2(1), 1);
    assert_eq!(run.points_done(), 0);
    assert_eq!(run.step2(1), 1);
    assert_eq!(run.points_done(), 1);

    let (_, joint) = scored_run(&fx, ScorePath::Joint, 64, 7);
    let at_hat = scalar(run.augmented_loss(&run.candidates.values));
    let host = read_values(&run.candidates.values);
    let slots = |kind: CandidateKind, b: usize| match kind {
        CandidateKind::Split => run.candidates.split[b].map(|s| s.eps),
        CandidateKind::New => run.candidates.new[b].map(|s| s.eps),
        CandidateKind::Layer => run.candidates.layer[b].map(|s| s.eps),
    };
    let mut differs = false;
    for (g, tolerance) in [(64, 2e-3), (GrowthConfig::default().path_points, 1e-2)] {
        let (_, scores) = scored_run(&fx, ScorePath::OwnAxis, g, 7);
        assert_eq!(scores.len(), 33);
        for (s, j) in scores.iter().zip(&joint) {
            let slot = slots(s.kind, s.block).expect("the candidate's ε");
            let mut without = host[slot].clone();
            without[s.index] = 0.0;
            let mut values = run.candidates.values.clone();
            values[slot] = upload_like(&values[slot], without);
            let removal = at_hat - scalar(run.augmented_loss(&values));
            assert!(
                (s.score - removal).abs() <= tolerance * removal.abs() + 1e-6,
                "g = {g}, {:?} {} of block {}: score {} vs L(ε̂) − L(ε̂, ε_i = 0) {removal}",
                s.kind,
                s.index,
                s.block,
                s.score
            );
            differs |= (s.score - j.score).abs() > 0.1 * j.score.abs() + 1e-5;
        }
        assert!(
            scores.iter().any(|s| s.score < -1e-4),
            "g = {g}: some candidate lowers the loss"
        );
    }
    assert!(
        differs,
        "the candidates interact: the two paths score differently"
    );
}

#[test]
fn projection_leaves_an_inside_point_unchanged_and_scales_an_outside_one() {
    let fx = Fixture::new(network_with_residual());
    let cfg = config(3);
    let run = fx.run(ALL, &cfg, 1);
    let c = &run.candidates;
    let scaled = |factor: f32| -> Vec<Tensor<2>> {
        c.values
            .iter()
            .map(|v| v.clone().mul_scalar(factor))
            .collect()
    };
    // Splits' ε at ε_max/2, new units' at ε_max/20 and every δ of norm 1/2: strictly inside.
    let inside = scaled(0.5);
    let projected = read_values(&c.project(inside.clone(), cfg.eps_max));
    assert_eq!(projected, read_values(&inside), "an inside point stays put");
    // ×8: new units' ε (ε_max/10 · 8) stay; a split's ε is no variable (held at its step by
    // Step 1), so the projection leaves it; δ of norm 8 go back to norm 1 along the same
    // direction. ×20: new units' ε (2·ε_max) clamp to ε_max.
    let outside = read_values(&scaled(8.0));
    let projected = read_values(&c.project(scaled(8.0), cfg.eps_max));
    let far = read_values(&c.project(scaled(20.0), cfg.eps_max));
    for s in c.new.iter().chain(c.layer.iter()).flatten() {
        assert!(far[s.eps].iter().all(|e| *e == cfg.eps_max));
    }
    for s in c.split.iter().flatten() {
        assert_eq!(projected[s.eps], outside[s.eps]);
        for slot in [s.delta_w, s.delta_b] {
            assert!(max_abs_diff(&projected[slot], &read_values(&c.values)[slot]) <= 1e-6);
        }
    }
    for s in c.new.iter().chain(c.layer.iter()).flatten() {
        assert_eq!(projected[s.eps], outside[s.eps]);
        for slot in [s.fan_in, s.bias, s.fan_out] {
            assert!(max_abs_diff(&projected[slot], &read_values(&c.values)[slot]) <= 1e-6);
        }
    }
}

#[test]
fn projection_holds_after_every_step1_step() {
    let fx = Fixture::new(network_with_residual());
    let mut cfg = config(3);
    cfg.eps_max = 0.05;
    cfg.step1_lr = 0.5;
    let mut run = fx.run(ALL, &cfg, 1);
    let c = run.candidates.clone();
    for _ in 0..12 {
        assert_eq!(run.step1(1), 1);
        let v = read_values(&run.candidates.values);
        for slot in c.eps_slots() {
            assert!(
                v[slot]
                    .iter()
                    .all(|e| e.abs() <= cfg.eps_max * (1.0 + 1e-6))
            );
        }
        for s in c.split.iter().flatten() {
            let m = v[s.delta_b].len();
            let d = v[s.delta_w].len() / m;
            for i in 0..m {
                let norm2: f32 = (0..d).map(|r| v[s.delta_w][r * m + i].powi(2)).sum::<f32>()
                    + v[s.delta_b][i].powi(2);
                assert!(norm2.sqrt() <= 1.0 + 1e-5);
            }
        }
        for s in c.new.iter().chain(c.layer.iter()).flatten() {
            let k = v[s.bias].len();
            let d = v[s.fan_in].len() / k;
            let dc = v[s.fan_out].len() / k;
            for j in 0..k {
                let norm2: f32 = (0..d).map(|r| v[s.fan_in][r * k + j].powi(2)).sum::<f32>()
                    + v[s.bias][j].powi(2)
                    + (0..dc)
                        .map(|q| v[s.fan_out][j * dc + q].powi(2))
                        .sum::<f32>();
                assert!(norm2.sqrt() <= 1.0 + 1e-5);
            }
        }
    }
    // The large learning rate makes the constraints bind: some ε sits on the bound.
    let v = read_values(&run.candidates.values);
    assert!(
        c.eps_slots()
            .iter()
            .any(|&s| v[s].iter().any(|e| (e.abs() - cfg.eps_max).abs() < 1e-6))
    );
}

#[test]
fn materialised_loss_equals_the_augmented_loss_with_unselected_eps_zero() {
    let fx = Fixture::new(network_with_residual());
    let cfg = config(4);
    let mut run = fx.run(ALL, &cfg, 21);
    run.step1(cfg.step1_steps);
    run.step2(cfg.path_points);
    let (plan, scores) = block(run.finish(1000)).expect("finish");
    assert!(!plan.splits.is_empty(), "plan has splits");
    assert!(!plan.new_units.is_empty(), "plan has new units");
    assert!(!plan.new_layers.is_empty(), "plan has a new layer");
    assert_eq!(plan.n_added(), scores.iter().filter(|s| s.chosen).count());

    let mut host = read_values(&run.candidates.values);
    for b in 0..run.mlp.blocks.len() {
        let groups = [
            (run.candidates.split[b].map(|s| s.eps), CandidateKind::Split),
            (run.candidates.new[b].map(|s| s.eps), CandidateKind::New),
            (run.candidates.layer[b].map(|s| s.eps), CandidateKind::Layer),
        ];
        for (slot, kind) in groups {
            let Some(slot) = slot else { continue };
            for (i, e) in host[slot].iter_mut().enumerate() {
                let chosen = scores
                    .iter()
                    .any(|s| s.kind == kind && s.block == b && s.index == i && s.chosen);
                if !chosen {
                    *e = 0.0;
                }
            }
        }
    }
    let masked: Vec<Tensor<2>> = run
        .candidates
        .values
        .iter()
        .zip(host)
        .map(|(t, data)| upload_like(t, data))
        .collect();
    let augmented = scalar(run.augmented_loss(&masked));
    let (grown, lineage) = apply_plan(&fx.net, &plan).expect("apply");
    assert_eq!(grown.n_units(), fx.net.n_units() + plan.n_added());
    assert_eq!(lineage.len(), plan.n_added());
    let materialised = fx.loss_of(&grown);
    assert!(
        (augmented - materialised).abs() <= 1e-5,
        "augmented {augmented} vs materialised {materialised}"
    );
    // And growth lowered the loss as Step 2 predicted.
    assert!(materialised < fx.loss_of(&fx.net));
}

#[test]
fn a_plan_with_zero_epsilon_preserves_the_function_after_surgery() {
    let net = network_with_residual();
    let plan = GrowthPlan {
        splits: vec![
            SplitChoice {
                block: 0,
                unit: 1,
                eps: 0.0,
                delta: vec![0.6, 0.0, 0.8],
                score: -1.0,
                keep_parent: false,
            },
            SplitChoice {
                block: 1,
                unit: 0,
                eps: 0.0,
                delta: vec![0.5, 0.5, 0.5, 0.5],
                score: -1.0,
                keep_parent: false,
            },
            SplitChoice {
                block: 2,
                unit: 3,
                eps: 0.0,
                delta: vec![0.5, 0.5, 0.5, 0.5],
                score: -1.0,
                keep_parent: false,
            },
        ],
        new_units: vec![
            NewUnitChoice {
                block: 0,
                eps: 0.0,
                fan_in: vec![1.0, 0.0, 0.0],
                fan_out: vec![1.0; 4],
                score: -1.0,
            },
            NewUnitChoice {
                block: 2,
                eps: 0.0,
                fan_in: vec![0.5; 4],
                fan_out: vec![1.0; 2],
                score: -1.0,
            },
        ],
        new_layers: vec![NewLayerChoice {
            after_block: 2,
            units: vec![LayerUnitChoice {
                eps: 0.0,
                fan_in: vec![0.5; 5],
                fan_out: vec![1.0; 4],
                score: -1.0,
            }],
        }],
    };
    let (grown, lineage) = apply_plan(&net, &plan).expect("apply");
    assert_eq!(grown.architecture(), "2-5-3r-6-1r-2");
    assert_eq!(lineage.len(), 6);
    let split_parents: Vec<_> = lineage.iter().filter_map(|l| l.parent).collect();
    assert_eq!(split_parents.len(), 3);
    let points = grid_inputs(15);
    assert!(max_abs_diff(&grown.forward_host(&points), &net.forward_host(&points)) <= 1e-6);
}

/// Every unit's splitting matrix S_i = Σ_points G_i σ''(z_i) x̃ x̃ᵀ of a classifier with one
/// hidden layer, built on the host in f64 from the weights (G_i = ∂(mean loss)/∂a_i per point).
fn splitting_matrices(net: &Mlp, xs: &[f32], ys: &[f32]) -> Vec<nalgebra::DMatrix<f64>> {
    let m = net.blocks[0].n_units();
    let k = net.out_bias.len();
    let act = net.activation;
    let n = ys.len() as f64;
    let mut out = vec![nalgebra::DMatrix::<f64>::zeros(3, 3); m];
    for (x, y) in xs.chunks(2).zip(ys) {
        let xt = [x[0] as f64, x[1] as f64, 1.0];
        let z: Vec<f64> = (0..m)
            .map(|u| {
                let th = net.blocks[0].theta(u);
                (0..3).map(|r| th[r] as f64 * xt[r]).sum::<f64>()
            })
            .collect();
        let hidden: Vec<f64> = z.iter().map(|z| act.value(*z as f32) as f64).collect();
        let logits: Vec<f64> = (0..k)
            .map(|c| {
                (0..m)
                    .map(|u| hidden[u] * net.out_weight.get(u, c) as f64)
                    .sum::<f64>()
                    + net.out_bias[c] as f64
            })
            .collect();
        let mx = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = logits.iter().map(|o| (o - mx).exp()).collect();
        let total: f64 = e.iter().sum();
        for (i, s) in out.iter_mut().enumerate() {
            let g: f64 = (0..k)
                .map(|c| {
                    let yc = if *y as usize == c { 1.0 } else { 0.0 };
                    (e[c] / total - yc) / n * net.out_weight.get(i, c) as f64
                })
                .sum();
            let coef = g * act.second_derivative(z[i] as f32) as f64;
            for r in 0..3 {
                for c in 0..3 {
                    s[(r, c)] += coef * xt[r] * xt[c];
                }
            }
        }
    }
    out
}

/// The smallest eigenvalue of `s` and its unit eigenvector.
fn smallest_eigenpair(s: &nalgebra::DMatrix<f64>) -> (f64, Vec<f64>) {
    let eigen = s.clone().symmetric_eigen();
    let k = eigen.eigenvalues.imin();
    (
        eigen.eigenvalues[k],
        eigen.eigenvectors.column(k).iter().copied().collect(),
    )
}

#[test]
fn exact_splitting_eigenvalues_match_a_host_oracle() {
    let net = mlp(
        &[3],
        Activation::Tanh,
        Task::Classification { n_classes: 2 },
        8,
    );
    let fx = Fixture::new(net);
    let device = &fx.device;
    let params = DeviceMlp::upload(&fx.net, device).params;
    let xs = Dataset::inputs(&fx.data.train);
    let ys = Dataset::labels(&fx.data.train);
    let t = Targets::new(&ys, fx.data.task, device);
    let analyses = block(splitting::analyse(
        &fx.net,
        &params,
        inputs_tensor(&xs, 2, device),
        &t,
    ))
    .expect("analyse");
    assert_eq!(analyses.len(), 3);
    let matrices = splitting_matrices(&fx.net, &xs, &ys);
    for a in &analyses {
        let (oracle, _) = smallest_eigenpair(&matrices[a.unit]);
        assert!(
            (a.min_eigenvalue as f64 - oracle).abs() <= 1e-4 * oracle.abs() + 1e-7,
            "unit {}: {} vs {oracle}",
            a.unit,
            a.min_eigenvalue
        );
        let norm: f32 = a.direction.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
    }
    // Splitting the most negative unit along ±εv lowers the loss, as predicted.
    let best = analyses
        .iter()
        .min_by(|a, b| a.min_eigenvalue.total_cmp(&b.min_eigenvalue))
        .expect("three units");
    assert!(best.min_eigenvalue < 0.0);
    let plan = GrowthPlan {
        splits: vec![SplitChoice {
            block: 0,
            unit: best.unit,
            eps: 0.5,
            delta: best.direction.clone(),
            score: 0.0,
            keep_parent: false,
        }],
        ..GrowthPlan::default()
    };
    let (grown, _) = apply_plan(&fx.net, &plan).expect("apply");
    assert!(fx.loss_of(&grown) < fx.loss_of(&fx.net));
}

#[test]
fn random_baselines_grow_the_requested_number_of_units() {
    let net = network_with_residual();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (plan, scores) = random::random_split(&net, 4, 0.1, 0.0, &mut rng);
    assert_eq!(plan.splits.len(), 4);
    assert_eq!(scores.len(), 4);
    // Distinct as a set (a dedup of the unsorted list would miss a repeat that is not adjacent).
    let distinct = |units: &[(usize, usize)]| {
        units
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            == units.len()
    };
    assert!(
        !distinct(&[(0, 1), (2, 0), (0, 1)]),
        "the check sees a repeat"
    );
    let units: Vec<_> = plan.splits.iter().map(|s| (s.block, s.unit)).collect();
    assert!(distinct(&units), "without replacement: {units:?}");
    for s in &plan.splits {
        let norm: f32 = s.delta.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
    }
    let (grown, _) = apply_plan(&net, &plan).expect("apply");
    assert_eq!(grown.n_units(), net.n_units() + 4);

    let (plan, _) = random::random_new(&net, 3, 0.1, &mut rng);
    assert_eq!(plan.new_units.len(), 3);
    // Where Firefly's new candidates start: ‖(w, b, c)‖ = 1 together, ε = ε_max.
    for u in &plan.new_units {
        assert_eq!(u.eps, 0.1);
        let norm: f32 = u
            .fan_in
            .iter()
            .chain(&u.fan_out)
            .map(|v| v * v)
            .sum::<f32>()
            .sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
    }
    let (grown, _) = apply_plan(&net, &plan).expect("apply");
    assert_eq!(grown.n_units(), net.n_units() + 3);
}

#[test]
fn selection_keeps_the_most_negative_scores_and_caps_new_layers() {
    // (score, layer position)
    let scored = vec![
        (-0.5, None),
        (0.2, None),
        (-0.9, Some(1)),
        (-0.8, Some(2)),
        (-0.1, Some(1)),
        (0.0, None),
    ];
    let chosen = select_top(&scored, 10, 1, |l: &Option<usize>| *l);
    // −0.9 opens layer 1; −0.8 would open a second layer and is skipped; scores ≥ 0 never kept.
    assert_eq!(chosen, vec![2, 0, 4]);
    assert_eq!(
        select_top(&scored, 2, 1, |l: &Option<usize>| *l),
        vec![2, 0]
    );
    assert!(select_top(&[(0.1, None::<usize>)], 3, 1, |l| *l).is_empty());
}

#[test]
fn exact_split_plans_the_most_negative_eigenvalues_of_hand_built_matrices() {
    // ReLU (σ'' from the softplus surrogate) and tanh; each case has a negative eigenvalue.
    for (activation, seed) in [(Activation::Relu, 2), (Activation::Tanh, 8)] {
        let fx = Fixture::new(mlp(
            &[4],
            activation,
            Task::Classification { n_classes: 2 },
            seed,
        ));
        let params = DeviceMlp::upload(&fx.net, &fx.device).params;
        let xs = Dataset::inputs(&fx.data.train);
        let ys = Dataset::labels(&fx.data.train);
        let t = Targets::new(&ys, fx.data.task, &fx.device);
        let oracle: Vec<(f64, Vec<f64>)> = splitting_matrices(&fx.net, &xs, &ys)
            .iter()
            .map(smallest_eigenpair)
            .collect();
        let mut negative: Vec<usize> = (0..4).filter(|&i| oracle[i].0 < 0.0).collect();
        negative.sort_by(|&a, &b| oracle[a].0.total_cmp(&oracle[b].0));
        assert!(
            !negative.is_empty(),
            "{activation:?}: a negative eigenvalue"
        );
        let eps = 0.1f32;
        for budget in [1, 4] {
            let (plan, scores) = block(splitting::exact_split(
                &fx.net,
                &params,
                inputs_tensor(&xs, 2, &fx.device),
                &t,
                budget,
                eps,
                0.0,
            ))
            .expect("plan");
            // The `budget` most negative, most negative first, and never one with λ ≥ 0.
            let expected: Vec<usize> = negative.iter().copied().take(budget).collect();
            let planned: Vec<usize> = plan.splits.iter().map(|s| s.unit).collect();
            assert_eq!(planned, expected, "{activation:?}, budget {budget}");
            for s in &plan.splits {
                let (lambda, v) = &oracle[s.unit];
                assert_eq!((s.block, s.eps), (0, eps));
                let predicted = 0.5 * (eps as f64).powi(2) * lambda;
                assert!((s.score as f64 - predicted).abs() <= 1e-4 * predicted.abs() + 1e-9);
                let cosine: f64 = s.delta.iter().zip(v).map(|(d, v)| *d as f64 * v).sum();
                assert!(
                    (cosine.abs() - 1.0).abs() < 1e-3,
                    "the oracle's eigenvector: {cosine}"
                );
            }
            assert_eq!(scores.len(), 4);
            for sc in &scores {
                let predicted = 0.5 * (eps as f64).powi(2) * oracle[sc.index].0;
                assert!((sc.score as f64 - predicted).abs() <= 1e-4 * predicted.abs() + 1e-9);
                assert_eq!(sc.chosen, planned.contains(&sc.index));
            }
        }
    }
    let _ = loss;
}

#[test]
fn every_method_grows_through_the_one_interface_as_it_does_alone() {
    use firefly_playground::grow::grower::{self, GrowthInput, Part};
    use firefly_playground::grow::{Grower, GrowthStage};

    let fx = Fixture::new(network_with_residual());
    let x = inputs_tensor(&Dataset::inputs(&fx.data.train), 2, &fx.device);
    let t = Targets::new(&Dataset::labels(&fx.data.train), fx.data.task, &fx.device);
    let base = DeviceMlp::upload(&fx.net, &fx.device).params;
    let budget = 2;
    for method in Method::ALL {
        let cfg = GrowthConfig {
            method,
            ..config(4)
        };
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut g: Box<dyn Grower> = grower::start(
            GrowthInput::new(&fx.net, base.clone(), (x.clone(), t.clone()), &cfg),
            &mut rng,
        );
        // Bounded steps, through the stages in order.
        let mut stages = vec![g.stage()];
        let mut parts = Vec::new();
        while let Some((work, part)) = g.step(3) {
            assert!((1..=3).contains(&work), "{method}: {work} work in one step");
            parts.push(part);
            stages.push(g.stage());
        }
        let (plan, scores) = block(g.finish(budget, &mut rng)).expect("finish");

        // The same phase without the interface, from the same generator state.
        let mut alone = ChaCha8Rng::seed_from_u64(11);
        let (want, want_scores) = match method.firefly_kinds() {
            Some(kinds) => {
                let mut run = FireflyRun::new(
                    &fx.net,
                    base.clone(),
                    kinds,
                    &cfg,
                    x.clone(),
                    t.clone(),
                    &mut alone,
                );
                run.step1(cfg.step1_steps);
                run.step2(usize::MAX);
                assert_eq!(g.pending().len(), run.pending().len(), "{method}");
                block(run.finish(budget)).expect("finish")
            }
            None => match method {
                Method::RandomSplit => {
                    random::random_split(&fx.net, budget, cfg.eps_max, cfg.split_scale, &mut alone)
                }
                Method::RandomNew => random::random_new(&fx.net, budget, cfg.eps_max, &mut alone),
                Method::ExactSplit => block(splitting::exact_split(
                    &fx.net,
                    &base,
                    x.clone(),
                    &t,
                    budget,
                    cfg.eps_max,
                    cfg.split_scale,
                ))
                .expect("exact"),
                _ => (GrowthPlan::default(), Vec::new()),
            },
        };
        assert_eq!(plan, want, "{method}: the interface planned something else");
        assert_eq!(scores, want_scores, "{method}");
        if method.firefly_kinds().is_some() {
            assert_eq!(
                stages.first(),
                Some(&GrowthStage::Optimise { done: 0, total: 30 })
            );
            assert_eq!(stages.last(), Some(&GrowthStage::Materialise));
            assert!(
                stages.contains(&GrowthStage::Score { done: 3, total: 4 }),
                "{stages:?}"
            );
            assert_eq!(
                parts.iter().filter(|p| **p == Part::Search).count(),
                10,
                "30 steps by 3"
            );
            assert_eq!(
                parts.iter().filter(|p| **p == Part::Score).count(),
                2,
                "4 points by 3"
            );
            assert!(plan.n_added() >= 1, "{method} grew nothing");
        } else {
            assert_eq!(stages, vec![GrowthStage::Propose], "{method}: no steps");
            assert!(g.pending().is_empty());
            let expect = if method == Method::None { 0 } else { 1 };
            assert!(plan.n_added() >= expect, "{method}");
        }
        if method == Method::None {
            assert_eq!(plan.n_added(), 0);
        }
    }
}

/// Step 1 must be able to reach a direction of negative curvature: on a network where exact
/// splitting finds negative eigenvalues, split-only Firefly (default search settings) finds a
/// split that lowers the loss for each such unit, along a direction whose curvature is at least
/// half the smallest eigenvalue's. A
/// split is even in ε, so ∂L/∂ε = 0 at ε = 0; when ε was a Step-1 variable, a random δ of
/// positive curvature walked ε to 0, where δ's gradient vanishes too, and the split scored 0.
#[test]
fn split_only_firefly_reaches_the_negative_curvature_exact_splitting_finds() {
    let fx = Fixture::new(mlp(
        &[4],
        Activation::Tanh,
        Task::Classification { n_classes: 2 },
        8,
    ));
    let xs = Dataset::inputs(&fx.data.train);
    let ys = Dataset::labels(&fx.data.train);
    let matrices = splitting_matrices(&fx.net, &xs, &ys);
    let oracle: Vec<(f64, Vec<f64>)> = matrices.iter().map(smallest_eigenpair).collect();
    let negative: Vec<usize> = (0..4).filter(|&i| oracle[i].0 < 0.0).collect();
    assert!(
        !negative.is_empty(),
        "the fixture has a negative eigenvalue"
    );
    let cfg = GrowthConfig {
        method: Method::FireflySplit,
        ..GrowthConfig::default()
    };
    let kinds = Method::FireflySplit
        .firefly_kinds()
        .expect("a Firefly method");
    for seed in 0..4 {
        let mut run = fx.run(kinds, &cfg, seed);
        run.step1(usize::MAX);
        run.step2(usize::MAX);
        let (plan, scores) = block(run.finish(4)).expect("finish");
        for &i in &negative {
            let s = scores.iter().find(|s| s.index == i).expect("scored");
            assert!(s.score < 0.0, "seed {seed}, unit {i}: score {}", s.score);
            let split = plan.splits.iter().find(|p| p.unit == i).expect("planned");
            assert_eq!(split.eps, cfg.eps_max, "held at the shared step");
            // δ found a direction of negative curvature: δᵀSδ / ‖δ‖² < 0 under the oracle's S.
            let delta: Vec<f64> = split.delta.iter().map(|d| *d as f64).collect();
            let norm2: f64 = delta.iter().map(|d| d * d).sum();
            let curvature: f64 = (0..3)
                .map(|r| {
                    (0..3)
                        .map(|c| delta[r] * matrices[i][(r, c)] * delta[c])
                        .sum::<f64>()
                })
                .sum::<f64>()
                / norm2;
            eprintln!(
                "seed {seed}, unit {i}: curvature along δ {curvature:.3e}, λ_min {:.3e}, ‖δ‖ {:.3}",
                oracle[i].0,
                norm2.sqrt()
            );
            assert!(
                curvature < 0.0 && curvature <= 0.5 * oracle[i].0,
                "seed {seed}, unit {i}: curvature along δ {curvature}, λ_min {}",
                oracle[i].0
            );
        }
        // A unit without negative curvature is never planned.
        for p in &plan.splits {
            assert!(negative.contains(&p.unit), "seed {seed}: unit {}", p.unit);
        }
    }
}

/// Every splitting method takes the one step of `split_step`: ε_max by default, max(s·‖θ‖,
/// ε_max) with a scale s.
#[test]
fn every_splitting_method_takes_the_shared_step() {
    let fx = Fixture::new(mlp(
        &[4],
        Activation::Tanh,
        Task::Classification { n_classes: 2 },
        8,
    ));
    let x = inputs_tensor(&Dataset::inputs(&fx.data.train), 2, &fx.device);
    let t = Targets::new(&Dataset::labels(&fx.data.train), fx.data.task, &fx.device);
    let base = DeviceMlp::upload(&fx.net, &fx.device).params;
    for scale in [0.0f32, 0.5] {
        let step = |unit: usize| {
            firefly_playground::grow::split_step(&fx.net.blocks[0].theta(unit), 0.1, scale)
        };
        // The rule itself, by hand: θ's norm times the scale, never below ε_max.
        for unit in 0..4 {
            let theta = fx.net.blocks[0].theta(unit);
            let norm = theta.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert_eq!(step(unit), (scale * norm).max(0.1));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (random, _) = random::random_split(&fx.net, 4, 0.1, scale, &mut rng);
        let (exact, _) = block(splitting::exact_split(
            &fx.net,
            &base,
            x.clone(),
            &t,
            4,
            0.1,
            scale,
        ))
        .expect("exact");
        let cfg = GrowthConfig {
            method: Method::FireflySplit,
            split_scale: scale,
            ..GrowthConfig::default()
        };
        let mut run = fx.run(
            Method::FireflySplit.firefly_kinds().expect("Firefly"),
            &cfg,
            3,
        );
        run.step1(usize::MAX);
        run.step2(usize::MAX);
        let (firefly, _) = block(run.finish(4)).expect("finish");
        assert!(!random.splits.is_empty() && !exact.splits.is_empty());
        assert!(!firefly.splits.is_empty());
        for s in random
            .splits
            .iter()
            .chain(&exact.splits)
            .chain(&firefly.splits)
        {
            assert_eq!(s.eps, step(s.unit), "scale {scale}, unit {}", s.unit);
            let norm = s.delta.iter().map(|d| d * d).sum::<f32>().sqrt();
            assert!(norm <= 1.0 + 1e-5);
        }
    }
}
