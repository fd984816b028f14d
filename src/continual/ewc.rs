//! Elastic weight consolidation (Kirkpatrick et al. 2017), the regularisation baseline: the
//! fine-tuning network (one hidden layer shared by every task, a head per task, every unit keeps
//! training) with, after each task s, an [`EwcAnchor`]: the task's final unit weights θ*_s and the
//! diagonal Fisher information F_s of its loss there, the mean over its training points of the
//! squared per-example gradient (the empirical Fisher). While a later task trains, its loss gains
//!
//! ```text
//! (λ/2) · Σ_{s<t} Σ_i F_{s,i} (θ_i − θ*_{s,i})²,   gradient λ · Σ_s F_{s,i} (θ_i − θ*_{s,i})
//! ```
//!
//! over the shared units' weights, added to the gradient of the engine's fused step on the task's
//! view. Earlier heads are not trained by later tasks (only the current task's head is in its
//! view), so they need no penalty.

use serde::{Deserialize, Serialize};

use super::net::ContinualNet;
use super::view::TaskView;
use crate::error::EngineError;
use crate::fused::{self, Workspace};
use crate::model::{Mlp, UnitId};

/// What one finished task leaves for the penalty: its units' weights and their Fisher values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EwcAnchor {
    /// The task.
    pub task: usize,
    /// The units anchored, in the order of the blocks of `theta` and `fisher`.
    pub units: Vec<UnitId>,
    /// θ* of each unit at the task's end, `n_inputs + 1` values per unit.
    pub theta: Vec<f32>,
    /// The diagonal Fisher information of each of those values (≥ 0).
    pub fisher: Vec<f32>,
}

/// The positions in a view's block of the units that train (not frozen).
fn trainable(view: &TaskView) -> Vec<usize> {
    let block = &view.mlp.blocks[0];
    (0..block.n_units())
        .filter(|&j| !view.frozen.contains(&block.unit_ids[j]))
        .collect()
}

impl EwcAnchor {
    /// The anchor of task `view.task` now: the trainable units of its view at their current
    /// weights, with F_i = mean_n (∂ℓ_n/∂θ_i)² over `inputs: [n, n_inputs]` and `labels` (each
    /// example's gradient from the engine's fused pass).
    pub fn of_task(view: &TaskView, inputs: &[f32], labels: &[f32]) -> Result<Self, EngineError> {
        let d = view.mlp.n_inputs;
        let p = d + 1;
        let positions = trainable(view);
        let mut fisher = vec![0.0f64; positions.len() * p];
        let mut ws = Workspace::default();
        for (x, y) in inputs.chunks_exact(d).zip(labels) {
            fused::gradients(&view.mlp, x, std::slice::from_ref(y), &mut ws);
            let grads = ws
                .gradients()
                .ok_or_else(|| EngineError::Internal("no gradients for the Fisher".into()))?;
            for (q, &j) in positions.iter().enumerate() {
                for (f, g) in fisher[q * p..(q + 1) * p]
                    .iter_mut()
                    .zip(grads.blocks[0].theta(j))
                {
                    *f += f64::from(g) * f64::from(g);
                }
            }
        }
        let n = labels.len().max(1) as f64;
        let block = &view.mlp.blocks[0];
        Ok(EwcAnchor {
            task: view.task,
            units: positions.iter().map(|&j| block.unit_ids[j]).collect(),
            theta: positions.iter().flat_map(|&j| block.theta(j)).collect(),
            fisher: fisher.into_iter().map(|f| (f / n) as f32).collect(),
        })
    }

    /// Checks the anchor against a network (what a restored state must satisfy).
    pub fn check(&self, net: &ContinualNet) -> Result<(), EngineError> {
        let p = net.n_inputs + 1;
        let bad = |m: String| {
            Err(EngineError::InvalidConfig(format!(
                "EWC anchor of task {}: {m}",
                self.task
            )))
        };
        if self.theta.len() != self.units.len() * p || self.fisher.len() != self.theta.len() {
            return bad("its weights do not match its units".into());
        }
        if self.theta.iter().any(|v| !v.is_finite())
            || self.fisher.iter().any(|f| !(f.is_finite() && *f >= 0.0))
        {
            return bad("a weight is not finite or a Fisher value is negative".into());
        }
        if let Some(id) = self.units.iter().find(|id| net.unit(**id).is_none()) {
            return bad(format!("it names missing unit {id}"));
        }
        Ok(())
    }
}

/// The penalty (λ/2)·Σ_anchors Σ_i F_i (θ_i − θ*_i)² at the view's current unit weights, over
/// the units it trains (anchored units it does not train cannot move); if `grads` is given (a
/// network shaped like the view, the fused step's gradients), λ·F_i (θ_i − θ*_i) is *added* to
/// each trainable unit's fan-in and bias entries.
pub fn penalty(
    view: &TaskView,
    anchors: &[EwcAnchor],
    lambda: f32,
    mut grads: Option<&mut Mlp>,
) -> Result<f32, EngineError> {
    if anchors.is_empty() || lambda == 0.0 {
        return Ok(0.0);
    }
    let d = view.mlp.n_inputs;
    let p = d + 1;
    let block = &view.mlp.blocks[0];
    if let Some(g) = grads.as_deref()
        && (g.blocks.len() != 1 || g.blocks[0].n_units() != block.n_units())
    {
        return Err(EngineError::Internal(
            "gradients do not match the task view".into(),
        ));
    }
    let mut total = 0.0f64;
    for &j in &trainable(view) {
        let id = block.unit_ids[j];
        let theta = block.theta(j);
        for anchor in anchors {
            let Some(b) = anchor.units.iter().position(|u| *u == id) else {
                continue;
            };
            let star = &anchor.theta[b * p..(b + 1) * p];
            let f = &anchor.fisher[b * p..(b + 1) * p];
            for i in 0..p {
                let diff = theta[i] - star[i];
                total += f64::from(f[i]) * f64::from(diff) * f64::from(diff);
                if let Some(g) = grads.as_deref_mut() {
                    let g = &mut g.blocks[0];
                    let step = lambda * f[i] * diff;
                    match i < d {
                        true => g.fan_in.set(i, j, g.fan_in.get(i, j) + step),
                        false => g.bias[j] += step,
                    }
                }
            }
        }
    }
    Ok((0.5 * f64::from(lambda) * total) as f32)
}
