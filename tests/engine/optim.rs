//! The one optimiser over parameter slices ([`SliceOptimizer`], which the fused step and
//! continual learning use) and the tensor path's [`Optimizer`] against burn's own `Adam` and
//! `Sgd` with momentum (`burn::optim::Optimizer::step`), step by step on the same gradients, with
//! a fresh state and with a state carried over (as growth carries moments).

use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamState, Optimizer as BurnOptimizer, SgdConfig, SgdState};
use burn::tensor::{Tensor, TensorData};
use firefly_playground::optim::{Optimizer, OptimizerKind, SliceOptimizer};

/// The [`SliceOptimizer`] over one flat parameter vector, with its moments.
#[derive(Clone)]
struct FlatOptimizer {
    rule: SliceOptimizer,
    first: Vec<f32>,
    second: Vec<f32>,
}

impl FlatOptimizer {
    fn new(kind: OptimizerKind) -> Self {
        FlatOptimizer {
            rule: SliceOptimizer::new(kind),
            first: Vec::new(),
            second: Vec::new(),
        }
    }

    fn step(&mut self, learning_rate: f32, params: &mut [f32], grads: &[f32]) {
        self.first.resize(params.len(), 0.0);
        self.second.resize(params.len(), 0.0);
        self.rule
            .step(learning_rate)
            .apply(params, grads, &mut self.first, &mut self.second);
    }
}
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::support::{device, max_abs_diff};

const SHAPE: [usize; 2] = [3, 4];
const STEPS: usize = 40;
const LEARNING_RATE: f32 = 0.05;

/// Starting values and a gradient per step, the same for every optimiser compared.
fn problem(seed: u64) -> (Vec<f32>, Vec<Vec<f32>>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = SHAPE[0] * SHAPE[1];
    let mut draw = |scale: f32| -> Vec<f32> {
        (0..n)
            .map(|_| rng.random_range(-1.0f32..1.0) * scale)
            .collect()
    };
    let start = draw(1.0);
    let grads = (0..STEPS).map(|i| draw(1.0 + i as f32 * 0.1)).collect();
    (start, grads)
}

fn tensor(values: &[f32]) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values.to_vec(), SHAPE), &device())
}

fn values(t: &Tensor<2>) -> Vec<f32> {
    t.clone().into_data().try_to_vec::<f32>().unwrap()
}

/// burn's optimiser for the rule `kind`, over every step's gradient; the values after each step.
fn burn_run(kind: OptimizerKind, start: &[f32], grads: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let mut param = tensor(start);
    let mut out = Vec::new();
    let lr = f64::from(LEARNING_RATE);
    match kind {
        OptimizerKind::Adam => {
            let adam = AdamConfig::new()
                .with_beta_1(0.9)
                .with_beta_2(0.999)
                .with_epsilon(1e-8)
                .build();
            let mut state: Option<AdamState<2>> = None;
            for g in grads {
                let (next, s) = adam.step(lr, param, tensor(g), state);
                (param, state) = (next, s);
                out.push(values(&param));
            }
        }
        OptimizerKind::Sgd | OptimizerKind::Nesterov => {
            let momentum = MomentumConfig::new()
                .with_momentum(0.9)
                .with_dampening(0.0)
                .with_nesterov(kind == OptimizerKind::Nesterov);
            let sgd = SgdConfig::new().with_momentum(Some(momentum)).build();
            let mut state: Option<SgdState<2>> = None;
            for g in grads {
                let (next, s) = sgd.step(lr, param, tensor(g), state);
                (param, state) = (next, s);
                out.push(values(&param));
            }
        }
    }
    out
}

const KINDS: [OptimizerKind; 3] = [
    OptimizerKind::Adam,
    OptimizerKind::Sgd,
    OptimizerKind::Nesterov,
];

#[test]
fn the_slice_optimiser_takes_burns_steps() {
    for (seed, kind) in KINDS.into_iter().enumerate() {
        let (start, grads) = problem(seed as u64);
        let reference = burn_run(kind, &start, &grads);
        let mut flat = FlatOptimizer::new(kind);
        let mut params = start.clone();
        for (step, (g, want)) in grads.iter().zip(&reference).enumerate() {
            flat.step(LEARNING_RATE, &mut params, g);
            let diff = max_abs_diff(&params, want);
            assert!(
                diff < 2e-6,
                "{}: step {step} differs from burn's by {diff}",
                kind.name()
            );
        }
        // The same rule applied slice by slice (as the fused step applies it to each matrix of
        // a network) takes the same steps as on the whole vector.
        let mut rule = SliceOptimizer::new(kind);
        let mut split = start.clone();
        let (mut first, mut second) = (vec![0.0; split.len()], vec![0.0; split.len()]);
        for g in &grads {
            let step = rule.step(LEARNING_RATE);
            let (p, (m, v)) = (
                split.split_at_mut(5),
                (first.split_at_mut(5), second.split_at_mut(5)),
            );
            step.apply(p.0, &g[..5], m.0, v.0);
            step.apply(p.1, &g[5..], m.1, v.1);
        }
        assert_eq!(split, params, "{}: split slices", kind.name());
    }
}

#[test]
fn the_tensor_optimiser_takes_burns_steps() {
    for (seed, kind) in KINDS.into_iter().enumerate() {
        let (start, grads) = problem(10 + seed as u64);
        let reference = burn_run(kind, &start, &grads);
        let mut opt = Optimizer::new(kind, 1);
        let mut param = tensor(&start);
        for (step, (g, want)) in grads.iter().zip(&reference).enumerate() {
            param = opt
                .step(LEARNING_RATE, &[param], vec![Some(tensor(g))])
                .remove(0);
            let diff = max_abs_diff(&values(&param), want);
            assert!(
                diff < 2e-6,
                "{}: step {step} differs from burn's by {diff}",
                kind.name()
            );
        }
    }
}

/// Every tensor stepped at once (Firefly's Step 1) takes exactly the steps of a step per
/// tensor, a tensor that never has a gradient (a split's held ε) included.
#[test]
fn a_step_of_every_tensor_at_once_equals_a_step_per_tensor() {
    for (seed, kind) in KINDS.into_iter().enumerate() {
        let (start, grads) = problem(50 + seed as u64);
        let shaped = |data: &[f32], [r, c]: [usize; 2]| {
            Tensor::<2>::from_data(TensorData::new(data[..r * c].to_vec(), [r, c]), &device())
        };
        let shapes = [[2, 3], [1, 3], [3, 1]];
        let mut each: Vec<Tensor<2>> = shapes.iter().map(|&s| shaped(&start, s)).collect();
        let mut together = each.clone();
        let (mut per_tensor, mut at_once) = (Optimizer::new(kind, 3), Optimizer::new(kind, 1));
        for g in &grads {
            // The second tensor has no gradient at any step.
            let grads = || vec![Some(shaped(g, shapes[0])), None, Some(shaped(g, shapes[2]))];
            each = per_tensor.step(LEARNING_RATE, &each, grads());
            together = at_once.step_as_one(LEARNING_RATE, &together, grads());
        }
        for (a, b) in each.iter().zip(&together) {
            assert_eq!(a.dims(), b.dims());
            assert_eq!(values(a), values(b), "{}", kind.name());
        }
        assert_eq!(values(&together[1]), start[..3].to_vec(), "left as it was");
        assert_ne!(values(&together[0]), start[..6].to_vec(), "stepped");
    }
}

/// A state carried across a growth keeps its step count and moments: after 20 steps, burn's
/// state and the slice optimiser's are both handed on, and the next 20 steps still agree. (burn
/// keeps a step count per tensor; the project's optimisers one per network, which is the same
/// while every tensor is updated every step, as in training.)
#[test]
fn carried_state_goes_on_as_burns_does() {
    let (start, grads) = problem(99);
    let reference = burn_run(OptimizerKind::Adam, &start, &grads);
    let mut flat = FlatOptimizer::new(OptimizerKind::Adam);
    let mut params = start.clone();
    for g in &grads[..STEPS / 2] {
        flat.step(LEARNING_RATE, &mut params, g);
    }
    let mut carried = flat.clone();
    for (g, want) in grads[STEPS / 2..].iter().zip(&reference[STEPS / 2..]) {
        carried.step(LEARNING_RATE, &mut params, g);
        assert!(max_abs_diff(&params, want) < 2e-6);
    }
    // A fresh state in the middle is not the same run: the comparison can fail.
    let mut fresh = FlatOptimizer::new(OptimizerKind::Adam);
    let mut restarted = reference[STEPS / 2 - 1].clone();
    fresh.step(LEARNING_RATE, &mut restarted, &grads[STEPS / 2]);
    assert!(max_abs_diff(&restarted, &reference[STEPS / 2]) > 1e-4);
}
