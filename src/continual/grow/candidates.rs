//! The neighbourhood of a new task: unlocked copies of frozen units and new units, their ε and δ
//! as one flat vector, and the projection after every Step 1 step.

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{CopyMode, GrowthSettings};
use crate::continual::net::ContinualNet;
use crate::error::EngineError;
use crate::grow::firefly::unit_direction;
use crate::model::UnitId;

/// An unlocked copy of the frozen unit at a mask position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CopyCandidate {
    /// Position in the task's mask.
    pub position: usize,
    /// The frozen unit it copies.
    pub unit: UnitId,
    /// ε.
    pub eps: f32,
    /// δ over [fan-in; bias], length `n_inputs + 1`.
    pub delta: Vec<f32>,
}

/// A new unit: ε·c·σ(S·w·x̃) added to the task's logits (S: [`Candidates::fan_in_scale`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewCandidate {
    /// ε.
    pub eps: f32,
    /// w over [fan-in; bias], length `n_inputs + 1` (the unit reads S·w).
    pub fan_in: Vec<f32>,
    /// c, one weight per class.
    pub fan_out: Vec<f32>,
}

/// Which kinds of candidate a growth phase builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kinds {
    /// Unlocked copies of the frozen units in the task's mask.
    pub copies: bool,
    /// m' new units.
    pub new: bool,
}

/// The candidates of one growth phase for one task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidates {
    /// The task.
    pub task: usize,
    /// How the copies join the task.
    #[serde(default = "CopyMode::before_the_field")]
    pub copy_mode: CopyMode,
    /// S: every new unit reads σ(S·w·x̃) (see [`GrowthSettings::relative_fan_in`]; 1 without).
    #[serde(default = "one")]
    pub fan_in_scale: f32,
    /// Unlocked copies, in mask order.
    pub copies: Vec<CopyCandidate>,
    /// New units.
    pub new_units: Vec<NewCandidate>,
}

fn one() -> f32 {
    1.0
}

/// The mean ‖θ‖ of the frozen units task `task` reads (those an unlocked copy can start from),
/// at least 1; 1 when it reads none.
pub fn mean_unit_norm(net: &ContinualNet, task: usize) -> Result<f32, EngineError> {
    let norms: Vec<f32> = net
        .mask_indices(task)?
        .iter()
        .map(|&u| &net.units[u])
        .filter(|u| u.frozen)
        .map(|u| u.theta.iter().map(|v| v * v).sum::<f32>().sqrt())
        .collect();
    Ok((norms.iter().sum::<f32>() / norms.len().max(1) as f32).max(1.0))
}

fn scale_to_ball(values: &mut [f32]) {
    let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 1.0 {
        for v in values {
            *v /= norm;
        }
    }
}

impl Candidates {
    /// The candidates of `kinds` for task `task`: a copy of every frozen unit in its mask and m'
    /// new units, δ random with unit norm, ε = ε_max/2 for copies (as for splits) and ε_max/10 for
    /// new units (spec §3), new units' fan-in scaled as `settings` says.
    pub fn propose(
        net: &ContinualNet,
        task: usize,
        kinds: Kinds,
        settings: &GrowthSettings,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self, EngineError> {
        let head = net.head(task)?;
        let idx = net.mask_indices(task)?;
        let p = net.n_inputs + 1;
        let k = head.n_classes();
        let mut copies = Vec::new();
        if kinds.copies {
            for (m, &u) in idx.iter().enumerate() {
                if net.units[u].frozen {
                    let delta = unit_direction(&[p], rng).concat();
                    copies.push(CopyCandidate {
                        position: m,
                        unit: net.units[u].id,
                        eps: settings.eps_max / 2.0,
                        delta,
                    });
                }
            }
        }
        let mut new_units = Vec::new();
        if kinds.new {
            for _ in 0..settings.candidates {
                let parts = unit_direction(&[p, k], rng);
                new_units.push(NewCandidate {
                    eps: settings.eps_max / 10.0,
                    fan_in: parts[0].clone(),
                    fan_out: parts[1].clone(),
                });
            }
        }
        let fan_in_scale = if settings.relative_fan_in {
            mean_unit_norm(net, task)?
        } else {
            1.0
        };
        Ok(Candidates {
            task,
            copy_mode: settings.copies,
            fan_in_scale,
            copies,
            new_units,
        })
    }

    /// Number of candidates.
    pub fn len(&self) -> usize {
        self.copies.len() + self.new_units.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every ε and δ, flat: per copy `[ε, δ…]`, then per new unit `[ε, w…, c…]`.
    pub fn flat(&self) -> Vec<f32> {
        let mut out = Vec::new();
        for c in &self.copies {
            out.push(c.eps);
            out.extend_from_slice(&c.delta);
        }
        for n in &self.new_units {
            out.push(n.eps);
            out.extend_from_slice(&n.fan_in);
            out.extend_from_slice(&n.fan_out);
        }
        out
    }

    /// Sets every ε and δ from [`Candidates::flat`]'s layout.
    pub fn set_flat(&mut self, flat: &[f32]) -> Result<(), EngineError> {
        if flat.len() != self.flat_len() {
            return Err(EngineError::Internal(
                "flat candidate values have the wrong length".into(),
            ));
        }
        let mut it = flat.iter().copied();
        for c in &mut self.copies {
            c.eps = it.next().unwrap_or(0.0);
            for v in &mut c.delta {
                *v = it.next().unwrap_or(0.0);
            }
        }
        for n in &mut self.new_units {
            n.eps = it.next().unwrap_or(0.0);
            for v in n.fan_in.iter_mut().chain(&mut n.fan_out) {
                *v = it.next().unwrap_or(0.0);
            }
        }
        Ok(())
    }

    /// Length of the flat layout.
    pub fn flat_len(&self) -> usize {
        self.copies.iter().map(|c| 1 + c.delta.len()).sum::<usize>()
            + self
                .new_units
                .iter()
                .map(|n| 1 + n.fan_in.len() + n.fan_out.len())
                .sum::<usize>()
    }

    /// Flat index of every candidate's ε, copies first.
    pub fn eps_slots(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.len());
        let mut offset = 0;
        for c in &self.copies {
            out.push(offset);
            offset += 1 + c.delta.len();
        }
        for n in &self.new_units {
            out.push(offset);
            offset += 1 + n.fan_in.len() + n.fan_out.len();
        }
        out
    }

    /// Every candidate's ε, copies first.
    pub fn eps(&self) -> Vec<f32> {
        self.copies
            .iter()
            .map(|c| c.eps)
            .chain(self.new_units.iter().map(|n| n.eps))
            .collect()
    }

    /// Projects onto the constraint set: |ε| ≤ ε_max, ‖δ‖₂ ≤ 1 (for a new unit, ‖(w, c)‖₂ ≤ 1).
    pub fn project(&mut self, eps_max: f32) {
        for c in &mut self.copies {
            c.eps = c.eps.clamp(-eps_max, eps_max);
            scale_to_ball(&mut c.delta);
        }
        for n in &mut self.new_units {
            n.eps = n.eps.clamp(-eps_max, eps_max);
            let mut joint: Vec<f32> = n.fan_in.iter().chain(&n.fan_out).copied().collect();
            scale_to_ball(&mut joint);
            let (w, c) = joint.split_at(n.fan_in.len());
            n.fan_in.copy_from_slice(w);
            n.fan_out.copy_from_slice(c);
        }
    }

    /// A copy with every ε multiplied by `alpha` (a point of the joint path).
    pub fn scaled(&self, alpha: f32) -> Candidates {
        let mut out = self.clone();
        for c in &mut out.copies {
            c.eps *= alpha;
        }
        for n in &mut out.new_units {
            n.eps *= alpha;
        }
        out
    }
}
