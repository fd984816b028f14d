//! The continual network: one hidden layer of units shared by every task, and one output head per
//! task that reads only the units of its mask.
//!
//! A unit is θ = [w; b] (fan-in then bias) with the task that made it (its *owner*), where it came
//! from ([`UnitOrigin`]: the starting network, a new unit, or an unlocked copy of an older unit)
//! and whether it is frozen. A [`Head`] belongs to one task: its mask lists the units it reads, in
//! order, and its weights map their activations to that task's logits:
//!
//! ```text
//! logits_t(x) = b_t + Σ_m σ(θ_{M_t[m]} · [x; 1]) · W_t[m, :]
//! ```
//!
//! When a task ends its own units and its head are frozen, so its logits are a function of frozen
//! numbers only and stay bit-identical whatever later tasks add. Training a task moves its head and
//! the units of its mask that are not frozen; the gradients are written by hand in plain loops
//! (as [`crate::fused`] does) and tested against finite differences.

use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::model::{Activation, Matrix, UnitId};

/// Where a unit came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum UnitOrigin {
    /// Part of a network a task started with (the first task's starting units, the fine-tuning
    /// network, a per-task network).
    Initial,
    /// A new unit chosen by growth.
    New,
    /// An unlocked, trainable copy of an older (frozen) unit: θ_parent + ε·δ when it appeared.
    Copy {
        /// The frozen unit it copies.
        parent: UnitId,
    },
}

/// One hidden unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// Identity (never reused).
    pub id: UnitId,
    /// θ = [w; b]: fan-in weights then bias, length `n_inputs + 1`.
    pub theta: Vec<f32>,
    /// Index of the task that made it.
    pub owner: usize,
    /// How it appeared.
    pub origin: UnitOrigin,
    /// Frozen units never change again.
    pub frozen: bool,
}

/// One task's output layer: the units it reads and their weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Head {
    /// Index of the task in the sequence.
    pub task: usize,
    /// The task's mask: the units it reads, in the order of `weight`'s rows.
    pub units: Vec<UnitId>,
    /// `[units.len(), n_classes]`.
    pub weight: Matrix,
    /// One bias per class.
    pub bias: Vec<f32>,
    /// Frozen once its task ends.
    pub frozen: bool,
}

impl Head {
    /// Number of classes (logits).
    pub fn n_classes(&self) -> usize {
        self.bias.len()
    }
}

/// The continual network: every unit ever made and one head per task so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContinualNet {
    /// Input width (2 for the plane).
    pub n_inputs: usize,
    /// Hidden nonlinearity.
    pub activation: Activation,
    /// Every unit, in the order they appeared.
    pub units: Vec<Unit>,
    /// `heads[t]` is task t's head.
    pub heads: Vec<Head>,
    /// Next fresh unit identity.
    pub next_unit_id: UnitId,
}

fn internal(message: impl Into<String>) -> EngineError {
    EngineError::Internal(message.into())
}

impl ContinualNet {
    /// An empty network (no units, no heads).
    pub fn new(n_inputs: usize, activation: Activation) -> Self {
        ContinualNet {
            n_inputs,
            activation,
            units: Vec::new(),
            heads: Vec::new(),
            next_unit_id: 0,
        }
    }

    /// Appends a trainable unit owned by `owner` and returns its identity.
    pub fn add_unit(&mut self, theta: Vec<f32>, owner: usize, origin: UnitOrigin) -> UnitId {
        let id = self.next_unit_id;
        self.next_unit_id += 1;
        self.units.push(Unit {
            id,
            theta,
            owner,
            origin,
            frozen: false,
        });
        id
    }

    /// Index of a unit in [`ContinualNet::units`].
    pub fn index_of(&self, id: UnitId) -> Option<usize> {
        self.units.iter().position(|u| u.id == id)
    }

    /// A unit by identity.
    pub fn unit(&self, id: UnitId) -> Option<&Unit> {
        self.units.iter().find(|u| u.id == id)
    }

    /// Task `task`'s head.
    pub fn head(&self, task: usize) -> Result<&Head, EngineError> {
        self.heads
            .get(task)
            .ok_or_else(|| internal(format!("no head for task {task}")))
    }

    /// Indices (into [`ContinualNet::units`]) of task `task`'s mask, in mask order.
    pub fn mask_indices(&self, task: usize) -> Result<Vec<usize>, EngineError> {
        self.head(task)?
            .units
            .iter()
            .map(|id| {
                self.index_of(*id)
                    .ok_or_else(|| internal(format!("task {task}'s mask names missing unit {id}")))
            })
            .collect()
    }

    /// Hidden units over all tasks.
    pub fn n_units(&self) -> usize {
        self.units.len()
    }

    /// Stored parameters: every unit's θ and every head's weights and biases.
    pub fn n_params(&self) -> usize {
        self.units.len() * (self.n_inputs + 1)
            + self
                .heads
                .iter()
                .map(|h| h.weight.data.len() + h.bias.len())
                .sum::<usize>()
    }

    /// Tasks whose masks read unit `id`.
    pub fn users(&self, id: UnitId) -> Vec<usize> {
        self.heads
            .iter()
            .filter(|h| h.units.contains(&id))
            .map(|h| h.task)
            .collect()
    }

    /// Freezes task `task`'s head and every unit it owns.
    pub fn freeze_task(&mut self, task: usize) {
        for unit in &mut self.units {
            if unit.owner == task {
                unit.frozen = true;
            }
        }
        if let Some(head) = self.heads.get_mut(task) {
            head.frozen = true;
        }
    }

    /// Checks that the parts fit together (what an imported state must satisfy): θ lengths, head
    /// shapes, masks that name existing units once each, heads in task order, unique identities,
    /// and every unit read by a frozen head frozen too.
    pub fn check(&self) -> Result<(), EngineError> {
        let bad = |m: String| {
            Err(EngineError::InvalidConfig(format!(
                "continual network: {m}"
            )))
        };
        if self.n_inputs == 0 {
            return bad("no inputs".into());
        }
        for (i, unit) in self.units.iter().enumerate() {
            if unit.theta.len() != self.n_inputs + 1 {
                return bad(format!("unit {} has {} weights", unit.id, unit.theta.len()));
            }
            if unit.theta.iter().any(|v| !v.is_finite()) {
                return bad(format!("unit {} has a non-finite weight", unit.id));
            }
            if unit.id >= self.next_unit_id || self.units[..i].iter().any(|u| u.id == unit.id) {
                return bad(format!("unit identity {} is reused", unit.id));
            }
            if unit.owner >= self.heads.len().max(1) {
                return bad(format!("unit {} names task {}", unit.id, unit.owner));
            }
            if let UnitOrigin::Copy { parent } = unit.origin
                && self.unit(parent).is_none()
            {
                return bad(format!("unit {} copies missing unit {parent}", unit.id));
            }
        }
        for (t, head) in self.heads.iter().enumerate() {
            if head.task != t {
                return bad(format!("head {t} says it belongs to task {}", head.task));
            }
            let k = head.bias.len();
            if head.weight.rows != head.units.len() {
                return bad(format!(
                    "task {t}'s mask reads {} units but its head has weights for {}",
                    head.units.len(),
                    head.weight.rows
                ));
            }
            if k < 2 || head.weight.cols != k || head.weight.data.len() != head.weight.rows * k {
                return bad(format!("task {t}'s head has the wrong shape"));
            }
            if head
                .weight
                .data
                .iter()
                .chain(&head.bias)
                .any(|v| !v.is_finite())
            {
                return bad(format!("task {t}'s head has a non-finite weight"));
            }
            for (m, id) in head.units.iter().enumerate() {
                let Some(unit) = self.unit(*id) else {
                    return bad(format!("task {t}'s mask names missing unit {id}"));
                };
                if head.units[..m].contains(id) {
                    return bad(format!("task {t}'s mask names unit {id} twice"));
                }
                if head.frozen && !unit.frozen {
                    return bad(format!(
                        "frozen task {t} reads unit {id}, which is not frozen"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Task `task`'s logits for row-major inputs `[n, n_inputs]`: `[n, n_classes]`.
    pub fn logits(&self, task: usize, inputs: &[f32]) -> Result<Vec<f32>, EngineError> {
        let head = self.head(task)?;
        let idx = self.mask_indices(task)?;
        let d = self.n_inputs;
        let k = head.n_classes();
        let mut a = vec![0.0f32; idx.len()];
        let mut out = Vec::with_capacity(inputs.len() / d.max(1) * k);
        for x in inputs.chunks_exact(d) {
            for (am, &u) in a.iter_mut().zip(&idx) {
                *am = self
                    .activation
                    .value(pre_activation(&self.units[u].theta, x));
            }
            let start = out.len();
            out.extend_from_slice(&head.bias);
            let row = &mut out[start..];
            for (am, w) in a.iter().zip(head.weight.data.chunks_exact(k)) {
                for (o, wk) in row.iter_mut().zip(w) {
                    *o += am * wk;
                }
            }
        }
        Ok(out)
    }

    /// Share of points whose largest logit is their label, for task `task`.
    pub fn accuracy(
        &self,
        task: usize,
        inputs: &[f32],
        labels: &[f32],
    ) -> Result<f32, EngineError> {
        let logits = self.logits(task, inputs)?;
        let k = self.head(task)?.n_classes();
        Ok(accuracy_of(&logits, labels, k))
    }
}

/// θ·[x; 1] for θ = [w; b].
pub fn pre_activation(theta: &[f32], x: &[f32]) -> f32 {
    let d = x.len();
    let mut z = theta[d];
    for (w, xi) in theta[..d].iter().zip(x) {
        z += w * xi;
    }
    z
}

/// Share of rows of `logits: [n, k]` whose argmax (first on ties) is the label.
pub fn accuracy_of(logits: &[f32], labels: &[f32], k: usize) -> f32 {
    let n = labels.len();
    if n == 0 || k == 0 {
        return 0.0;
    }
    let correct = logits
        .chunks_exact(k)
        .zip(labels)
        .filter(|(row, label)| {
            let best = row
                .iter()
                .enumerate()
                .fold(
                    (0, f32::NEG_INFINITY),
                    |b, (i, v)| if *v > b.1 { (i, *v) } else { b },
                )
                .0;
            best == **label as usize
        })
        .count();
    correct as f32 / n as f32
}

/// Softmax cross-entropy of one row of logits against class `label`; writes
/// `scale · (softmax − onehot)` into `grad` (the gradient of `scale ·` loss).
pub fn cross_entropy(row: &[f32], label: usize, scale: f32, grad: &mut [f32]) -> f32 {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = row.iter().map(|v| (v - max).exp()).sum();
    let lse = sum.ln() + max;
    for (j, (g, v)) in grad.iter_mut().zip(row).enumerate() {
        let p = (v - lse).exp();
        *g = (p - if j == label { 1.0 } else { 0.0 }) * scale;
    }
    lse - row[label.min(row.len() - 1)]
}

/// What one task trains: its head and the units of its mask that are not frozen, laid out as one
/// flat parameter vector `[θ of each trainable mask position…, head weight (row-major), head bias]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskLayout {
    /// The task.
    pub task: usize,
    /// Mask position → index into [`ContinualNet::units`].
    pub positions: Vec<usize>,
    /// Mask positions whose unit trains (not frozen), in mask order.
    pub trainable: Vec<usize>,
    /// Input width.
    pub n_inputs: usize,
    /// Classes.
    pub n_classes: usize,
}

impl TaskLayout {
    /// The layout of task `task` in `net` now.
    pub fn new(net: &ContinualNet, task: usize) -> Result<Self, EngineError> {
        let positions = net.mask_indices(task)?;
        let trainable = positions
            .iter()
            .enumerate()
            .filter(|(_, u)| !net.units[**u].frozen)
            .map(|(m, _)| m)
            .collect();
        Ok(TaskLayout {
            task,
            positions,
            trainable,
            n_inputs: net.n_inputs,
            n_classes: net.head(task)?.n_classes(),
        })
    }

    /// Length of the flat parameter vector.
    pub fn len(&self) -> usize {
        self.trainable.len() * (self.n_inputs + 1)
            + self.positions.len() * self.n_classes
            + self.n_classes
    }

    /// Whether there is nothing to train (never: a head has at least its biases).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The trainable parameters, flat.
    pub fn gather(&self, net: &ContinualNet) -> Result<Vec<f32>, EngineError> {
        let head = net.head(self.task)?;
        let mut out = Vec::with_capacity(self.len());
        for &m in &self.trainable {
            out.extend_from_slice(&net.units[self.positions[m]].theta);
        }
        out.extend_from_slice(&head.weight.data);
        out.extend_from_slice(&head.bias);
        Ok(out)
    }

    /// Writes flat parameters back into the network.
    pub fn scatter(&self, net: &mut ContinualNet, flat: &[f32]) -> Result<(), EngineError> {
        if flat.len() != self.len() {
            return Err(internal("flat parameters do not match the task layout"));
        }
        let p = self.n_inputs + 1;
        let mut offset = 0;
        for &m in &self.trainable {
            net.units[self.positions[m]]
                .theta
                .copy_from_slice(&flat[offset..offset + p]);
            offset += p;
        }
        let head = net
            .heads
            .get_mut(self.task)
            .ok_or_else(|| internal("no head for the layout's task"))?;
        let w = head.weight.data.len();
        head.weight.data.copy_from_slice(&flat[offset..offset + w]);
        head.bias.copy_from_slice(&flat[offset + w..]);
        Ok(())
    }
}

/// Mean cross-entropy of task `layout.task` on `inputs: [n, n_inputs]` with class `labels`, and,
/// if `grad` is given (length [`TaskLayout::len`]), its gradient with respect to the layout's
/// parameters. Frozen units get no gradient.
pub fn task_loss(
    net: &ContinualNet,
    layout: &TaskLayout,
    inputs: &[f32],
    labels: &[f32],
    mut grad: Option<&mut [f32]>,
) -> Result<f32, EngineError> {
    let head = net.head(layout.task)?;
    let d = net.n_inputs;
    let k = layout.n_classes;
    let mm = layout.positions.len();
    let p = d + 1;
    let n = labels.len();
    if inputs.len() != n * d {
        return Err(internal("inputs and labels differ in length"));
    }
    if let Some(g) = grad.as_deref_mut() {
        if g.len() != layout.len() {
            return Err(internal("gradient buffer does not match the task layout"));
        }
        g.fill(0.0);
    }
    let scale = 1.0 / n.max(1) as f32;
    let w_off = layout.trainable.len() * p;
    let b_off = w_off + mm * k;
    let mut z = vec![0.0f32; mm];
    let mut a = vec![0.0f32; mm];
    let mut logits = vec![0.0f32; k];
    let mut g_out = vec![0.0f32; k];
    let mut total = 0.0f64;
    for (x, label) in inputs.chunks_exact(d).zip(labels) {
        for m in 0..mm {
            z[m] = pre_activation(&net.units[layout.positions[m]].theta, x);
            a[m] = net.activation.value(z[m]);
        }
        logits.copy_from_slice(&head.bias);
        for (am, w) in a.iter().zip(head.weight.data.chunks_exact(k)) {
            for (o, wk) in logits.iter_mut().zip(w) {
                *o += am * wk;
            }
        }
        total += f64::from(cross_entropy(&logits, *label as usize, scale, &mut g_out));
        let Some(g) = grad.as_deref_mut() else {
            continue;
        };
        for (m, am) in a.iter().enumerate() {
            for (j, gj) in g_out.iter().enumerate() {
                g[w_off + m * k + j] += am * gj;
            }
        }
        for (j, gj) in g_out.iter().enumerate() {
            g[b_off + j] += gj;
        }
        for (q, &m) in layout.trainable.iter().enumerate() {
            let row = &head.weight.data[m * k..(m + 1) * k];
            let big_g: f32 = row.iter().zip(&g_out).map(|(w, gj)| w * gj).sum();
            let dz = big_g * net.activation.derivative(z[m]);
            let gq = &mut g[q * p..(q + 1) * p];
            for (gi, xi) in gq.iter_mut().zip(x) {
                *gi += dz * xi;
            }
            gq[d] += dz;
        }
    }
    Ok((total * f64::from(scale)) as f32)
}

/// Continual learning's optimiser: the one over parameter slices, on one flat vector.
pub use crate::optim::FlatOptimizer;
