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
//! over the shared units' weights. Earlier heads are not trained by later tasks (only the current
//! task's head is in its layout), so they need no penalty.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::net::{ContinualNet, TaskLayout, task_loss};
use crate::error::EngineError;
use crate::model::UnitId;

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

impl EwcAnchor {
    /// The anchor of task `layout.task` now: the trainable units of its layout at their current
    /// weights, with F_i = mean_n (∂ℓ_n/∂θ_i)² over `inputs: [n, n_inputs]` and `labels`.
    pub fn of_task(
        net: &ContinualNet,
        layout: &TaskLayout,
        inputs: &[f32],
        labels: &[f32],
    ) -> Result<Self, EngineError> {
        let d = net.n_inputs;
        let p = d + 1;
        let n_unit = layout.trainable.len() * p;
        let mut fisher = vec![0.0f64; n_unit];
        let mut grad = vec![0.0f32; layout.len()];
        for (x, y) in inputs.chunks_exact(d).zip(labels) {
            task_loss(net, layout, x, std::slice::from_ref(y), Some(&mut grad))?;
            for (f, g) in fisher.iter_mut().zip(&grad[..n_unit]) {
                *f += f64::from(*g) * f64::from(*g);
            }
        }
        let n = labels.len().max(1) as f64;
        let mut units = Vec::with_capacity(layout.trainable.len());
        let mut theta = Vec::with_capacity(n_unit);
        for &m in &layout.trainable {
            let unit = &net.units[layout.positions[m]];
            units.push(unit.id);
            theta.extend_from_slice(&unit.theta);
        }
        Ok(EwcAnchor {
            task: layout.task,
            units,
            theta,
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

/// The penalty (λ/2)·Σ_anchors Σ_i F_i (θ_i − θ*_i)² at the network's current unit weights, over
/// the units the layout trains (anchored units it does not train cannot move); if `grad` is given
/// (length [`TaskLayout::len`]), λ·F_i (θ_i − θ*_i) is *added* to each trainable unit's entries.
pub fn penalty(
    net: &ContinualNet,
    layout: &TaskLayout,
    anchors: &[EwcAnchor],
    lambda: f32,
    mut grad: Option<&mut [f32]>,
) -> Result<f32, EngineError> {
    if anchors.is_empty() || lambda == 0.0 {
        return Ok(0.0);
    }
    let p = net.n_inputs + 1;
    if let Some(g) = grad.as_deref()
        && g.len() != layout.len()
    {
        return Err(EngineError::Internal(
            "gradient buffer does not match the task layout".into(),
        ));
    }
    let place: HashMap<UnitId, usize> = layout
        .trainable
        .iter()
        .enumerate()
        .map(|(q, &m)| (net.units[layout.positions[m]].id, q))
        .collect();
    let mut total = 0.0f64;
    for anchor in anchors {
        for (b, id) in anchor.units.iter().enumerate() {
            let Some(&q) = place.get(id) else { continue };
            let theta = &net.units[layout.positions[layout.trainable[q]]].theta;
            let star = &anchor.theta[b * p..(b + 1) * p];
            let f = &anchor.fisher[b * p..(b + 1) * p];
            for i in 0..p {
                let diff = theta[i] - star[i];
                total += f64::from(f[i]) * f64::from(diff) * f64::from(diff);
                if let Some(g) = grad.as_deref_mut() {
                    g[q * p + i] += lambda * f[i] * diff;
                }
            }
        }
    }
    Ok((0.5 * f64::from(lambda) * total) as f32)
}
