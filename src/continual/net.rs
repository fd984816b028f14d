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
//! the units of its mask that are not frozen, on the engine's code through the task's view
//! ([`super::view`]).

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
            if head.units.is_empty() {
                return bad(format!("task {t}'s mask reads no unit"));
            }
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

    /// Task `task`'s logits for row-major inputs `[n, n_inputs]`: `[n, n_classes]`, by the
    /// engine's forward pass over the task's view.
    pub fn logits(&self, task: usize, inputs: &[f32]) -> Result<Vec<f32>, EngineError> {
        let view = self.view(task)?;
        Ok(crate::fused::forward(
            &view.mlp,
            inputs,
            &mut crate::fused::Workspace::default(),
        ))
    }

    /// Share of points whose largest logit is their label, for task `task`.
    pub fn accuracy(
        &self,
        task: usize,
        inputs: &[f32],
        labels: &[f32],
    ) -> Result<f32, EngineError> {
        let view = self.view(task)?;
        let logits =
            crate::fused::forward(&view.mlp, inputs, &mut crate::fused::Workspace::default());
        Ok(
            crate::model::metrics_from_outputs(&logits, labels, view.mlp.task)
                .1
                .unwrap_or(0.0),
        )
    }
}
