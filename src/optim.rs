//! Optimisers over a flat list of rank-2 parameter tensors: Adam (default) and SGD with momentum
//! (plain or Nesterov).
//!
//! burn's module optimisers key their state by parameter id, but growth changes every parameter's
//! shape. Keeping the loop here, over plain tensors, lets the session *carry* moments across a
//! growth phase by reshaping them with the same surgery as the weights
//! ([`crate::grow::Surgery::Moments`]), or reset them (the default, as the paper's code does).

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::error::EngineError;

/// Which update rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam (β₁ 0.9, β₂ 0.999, ε 1e-8), bias-corrected.
    Adam,
    /// Stochastic gradient descent with momentum 0.9: v ← 0.9·v + g, θ ← θ − lr·v.
    Sgd,
    /// SGD with Nesterov momentum 0.9 (as PyTorch writes it): v ← 0.9·v + g,
    /// θ ← θ − lr·(g + 0.9·v).
    Nesterov,
}

impl OptimizerKind {
    /// The name used in configs and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            OptimizerKind::Adam => "adam",
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Nesterov => "nesterov",
        }
    }
}

impl std::str::FromStr for OptimizerKind {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "adam" => Ok(OptimizerKind::Adam),
            "sgd" => Ok(OptimizerKind::Sgd),
            "nesterov" => Ok(OptimizerKind::Nesterov),
            _ => Err(EngineError::InvalidConfig(format!(
                "unknown optimiser \"{s}\" (expected adam, sgd or nesterov)"
            ))),
        }
    }
}

const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const EPSILON: f32 = 1e-8;
const MOMENTUM: f32 = 0.9;

/// The update rule over parameter slices in CPU memory: the one optimiser of the fused training
/// step ([`crate::fused::FusedOptimizer`], moments shaped like the network), which continual
/// learning trains with too. burn's own `Adam` and `Sgd` with momentum
/// (`burn::optim::Optimizer::step`) are its reference: a test takes both through the same
/// gradients step by step, and another holds [`Optimizer`] (the tensor path) to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SliceOptimizer {
    /// Update rule.
    pub kind: OptimizerKind,
    /// Steps taken since the state was created (Adam's bias correction).
    pub steps: u32,
}

/// One step of a [`SliceOptimizer`], to apply to every parameter slice
/// ([`SliceOptimizer::step`]).
#[derive(Clone, Copy, Debug)]
pub struct SliceStep {
    kind: OptimizerKind,
    learning_rate: f32,
    /// Adam's bias corrections, 1 − β₁ᵗ and 1 − β₂ᵗ.
    corrections: (f32, f32),
}

impl SliceOptimizer {
    /// Fresh state.
    pub fn new(kind: OptimizerKind) -> Self {
        SliceOptimizer { kind, steps: 0 }
    }

    /// Counts one step at `learning_rate`; apply the result to every parameter slice.
    pub fn step(&mut self, learning_rate: f32) -> SliceStep {
        self.steps += 1;
        let t = self.steps as i32;
        SliceStep {
            kind: self.kind,
            learning_rate,
            corrections: (1.0 - BETA1.powi(t), 1.0 - BETA2.powi(t)),
        }
    }
}

impl SliceStep {
    /// Updates `params` with `grads`, keeping the first moments (SGD's velocity) in `first` and
    /// Adam's second moments in `second` (not read for SGD; it may be empty then). All start
    /// at zero.
    pub fn apply(&self, params: &mut [f32], grads: &[f32], first: &mut [f32], second: &mut [f32]) {
        let learning_rate = self.learning_rate;
        match self.kind {
            OptimizerKind::Adam => {
                let (c1, c2) = self.corrections;
                for (((p, g), m), v) in params.iter_mut().zip(grads).zip(first).zip(second) {
                    *m = *m * BETA1 + g * (1.0 - BETA1);
                    *v = *v * BETA2 + g * g * (1.0 - BETA2);
                    *p -= (*m / c1) / ((*v / c2).sqrt() + EPSILON) * learning_rate;
                }
            }
            OptimizerKind::Sgd | OptimizerKind::Nesterov => {
                let nesterov = self.kind == OptimizerKind::Nesterov;
                for ((p, g), v) in params.iter_mut().zip(grads).zip(first) {
                    *v = *v * MOMENTUM + g;
                    let update = if nesterov { g + *v * MOMENTUM } else { *v };
                    *p -= update * learning_rate;
                }
            }
        }
    }
}

/// Optimiser state: first and second moments per parameter (SGD uses only the first, as its
/// velocity) and the step count.
#[derive(Clone, Debug)]
pub struct Optimizer {
    /// Update rule.
    pub kind: OptimizerKind,
    /// Steps taken since the state was created (Adam's bias correction).
    pub steps: u32,
    /// First moments (or SGD velocity), one per parameter once it has had a gradient.
    pub first: Vec<Option<Tensor<2>>>,
    /// Second moments (Adam).
    pub second: Vec<Option<Tensor<2>>>,
}

impl Optimizer {
    /// Fresh state for `n_params` parameters.
    pub fn new(kind: OptimizerKind, n_params: usize) -> Self {
        Optimizer {
            kind,
            steps: 0,
            first: vec![None; n_params],
            second: vec![None; n_params],
        }
    }

    /// One update. `params` are plain (non-autodiff) values; `grads[i]` is `None` for a parameter
    /// that received no gradient (left unchanged). Returns the new values.
    pub fn step(
        &mut self,
        learning_rate: f32,
        params: &[Tensor<2>],
        grads: Vec<Option<Tensor<2>>>,
    ) -> Vec<Tensor<2>> {
        self.steps += 1;
        let t = self.steps as i32;
        let mut out = Vec::with_capacity(params.len());
        for (i, (param, grad)) in params.iter().zip(grads).enumerate() {
            let Some(grad) = grad else {
                out.push(param.clone());
                continue;
            };
            let update = match self.kind {
                OptimizerKind::Adam => {
                    let m = match self.first[i].take() {
                        Some(m) => m.mul_scalar(BETA1) + grad.clone().mul_scalar(1.0 - BETA1),
                        None => grad.clone().mul_scalar(1.0 - BETA1),
                    };
                    let v = match self.second[i].take() {
                        Some(v) => v.mul_scalar(BETA2) + grad.square().mul_scalar(1.0 - BETA2),
                        None => grad.square().mul_scalar(1.0 - BETA2),
                    };
                    let m_hat = m.clone().div_scalar(1.0 - BETA1.powi(t));
                    let v_hat = v.clone().div_scalar(1.0 - BETA2.powi(t));
                    self.first[i] = Some(m);
                    self.second[i] = Some(v);
                    m_hat / v_hat.sqrt().add_scalar(EPSILON)
                }
                OptimizerKind::Sgd | OptimizerKind::Nesterov => {
                    let velocity = match self.first[i].take() {
                        Some(v) => v.mul_scalar(MOMENTUM) + grad.clone(),
                        None => grad.clone(),
                    };
                    self.first[i] = Some(velocity.clone());
                    if self.kind == OptimizerKind::Nesterov {
                        grad + velocity.mul_scalar(MOMENTUM)
                    } else {
                        velocity
                    }
                }
            };
            out.push(param.clone() - update.mul_scalar(learning_rate));
        }
        out
    }

    /// [`Optimizer::step`] of every tensor at once, for a state made for one parameter: the
    /// tensors and their gradients laid side by side in one row, a tensor without a gradient
    /// given zeros, so that the update is one chain of element-wise kernels instead of one per
    /// tensor (on a GPU, where each costs a launch). Every element takes the same operations, so
    /// the values equal a step per tensor exactly when each tensor has a gradient at every step
    /// or at none (zero moments leave it as it is), as in Firefly's Step 1.
    pub fn step_as_one(
        &mut self,
        learning_rate: f32,
        params: &[Tensor<2>],
        grads: Vec<Option<Tensor<2>>>,
    ) -> Vec<Tensor<2>> {
        let row = |t: Tensor<2>| {
            let [r, c] = t.dims();
            t.reshape([1, r * c])
        };
        let flat = Tensor::cat(params.iter().cloned().map(row).collect(), 1);
        let grad = grads
            .into_iter()
            .zip(params)
            .map(|(g, p)| row(g.unwrap_or_else(|| p.zeros_like())))
            .collect();
        let stepped = self
            .step(learning_rate, &[flat], vec![Some(Tensor::cat(grad, 1))])
            .remove(0);
        let mut offset = 0;
        params
            .iter()
            .map(|p| {
                let [r, c] = p.dims();
                let piece = stepped.clone().narrow(1, offset, r * c).reshape([r, c]);
                offset += r * c;
                piece
            })
            .collect()
    }
}
