//! Growth for a new task: the Firefly neighbourhood of spec §8, Step 1, Step 2 and selection.
//!
//! While task t trains, its head reads every unit made so far; the older ones are frozen. The
//! neighbourhood offers two kinds of candidate:
//! - **unlocked copy** of a frozen unit at mask position m, with head row r_m. By default
//!   ([`CopyMode::Add`]) the copy *adds* a unit, as Firefly's split does (spec §2) with one
//!   offspring frozen: task t reads ½r_m·σ(θ·x̃) + ½r_m·σ((θ + εδ)·x̃), the frozen original with
//!   half its head row and a trainable copy with the other half. With [`CopyMode::Replace`] the
//!   copy takes the original's place in task t's mask: σ((θ + εδ)·x̃) with r_m unchanged. Either
//!   way the frozen original stays as it is for the tasks that own or read it, and the function
//!   is exactly the old one at ε = 0, for any δ; ‖δ‖₂ ≤ 1. For the same δ and ε the added copy's
//!   ∂L/∂ε is half the replacing copy's: ½·mean[G_m·σ'(θ·x̃ + εδ·x̃)·δ·x̃] with G_m = r_m·∂L/∂logits.
//! - **new unit** j: task t's logits gain ε·c_j·σ(S·w_j·x̃) (δ_j = (w_j, c_j), ‖δ_j‖₂ ≤ 1, as in
//!   spec §2), S the mean ‖θ‖ of the frozen units the task reads (at least 1, and 1 for the first
//!   task, which reads none; [`GrowthSettings::relative_fan_in`], S = 1 without), so that a new
//!   unit may be as steep a feature as the units whose copies it competes with. Exactly the old
//!   function at ε = 0.
//!
//! Every candidate lives in one augmented forward pass ([`augmented_loss`], gradients by hand and
//! tested against finite differences). Step 1 runs Adam on every ε and δ and projects after every
//! step (|ε| ≤ ε_max, ‖δ‖ ≤ 1); Step 2 scores each candidate by ε̂·s with s the ε-gradient averaged
//! over the midpoint grid of the joint path α·ε̂ (the engine's Step 2, spec §4), and the η most
//! negative scores are kept ([`crate::grow::select_top`]: copies and new units compete in one
//! ranking, a score ≥ 0 is never kept). [`apply_plan`] materialises the choice: a chosen copy
//! becomes a new trainable unit θ + ε̂δ̂ owned by task t, appended to t's mask with half the
//! original's head row while the original keeps the other half ([`CopyMode::Add`]), or in the
//! original's place with its whole row ([`CopyMode::Replace`]); a chosen new unit gets fan-in w
//! and head row ε̂·c. Other tasks' masks and heads are untouched. Unselected candidates vanish, so
//! the grown network's loss equals the augmented loss with the unselected ε at 0.

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::net::{ContinualNet, FlatOptimizer, UnitOrigin, cross_entropy, pre_activation};
use crate::error::EngineError;
use crate::grow::firefly::unit_direction;
use crate::grow::select_top;
use crate::model::UnitId;

/// How a chosen unlocked copy joins the new task.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CopyMode {
    /// The task keeps reading the frozen original and gains the copy, the original's head row
    /// shared half and half (½r·σ(θ·x̃) + ½r·σ((θ + εδ)·x̃)): the copy adds a unit, like a
    /// split whose one offspring is frozen.
    #[default]
    Add,
    /// The copy takes the original's place in the task's mask with its whole head row
    /// (r·σ((θ + εδ)·x̃)): the task swaps a frozen feature for a trainable one.
    Replace,
}

impl CopyMode {
    /// Every mode.
    pub const ALL: [CopyMode; 2] = [CopyMode::Add, CopyMode::Replace];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            CopyMode::Add => "add",
            CopyMode::Replace => "replace",
        }
    }

    /// The mode of states and plans written before the field existed.
    pub fn before_the_field() -> Self {
        CopyMode::Replace
    }

    /// The share of the original's head row the copy is read with (and ∂L/∂ε's factor).
    pub fn share(self) -> f32 {
        match self {
            CopyMode::Add => 0.5,
            CopyMode::Replace => 1.0,
        }
    }
}

impl std::fmt::Display for CopyMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for CopyMode {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CopyMode::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                EngineError::InvalidConfig(format!(
                    "unknown copy mode \"{s}\" (expected add or replace)"
                ))
            })
    }
}

/// Step 1 and Step 2 settings (the engine's growth defaults: ε_max 0.1, m' = 10, 100 Adam steps
/// at 1e-2, g = 4) and how a chosen copy joins its task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrowthSettings {
    /// New-unit candidates per phase (m').
    pub candidates: usize,
    /// ε_max.
    pub eps_max: f32,
    /// Step-1 Adam steps.
    pub step1_steps: usize,
    /// Step-1 learning rate.
    pub step1_lr: f32,
    /// Midpoint-grid points of Step 2 (g).
    pub path_points: usize,
    /// How a chosen unlocked copy joins the new task (states written before this setting
    /// existed replaced the original).
    #[serde(default = "CopyMode::before_the_field")]
    pub copies: CopyMode,
    /// Whether a new unit's fan-in is measured against the copies it competes with: it reads
    /// σ(S·w·x̃) with S the mean ‖θ‖ of the frozen units the task reads ([`mean_unit_norm`]; 1
    /// when there are none, as in the first task), so the ball ‖(w, c)‖ ≤ 1 allows features as
    /// steep as the units a copy starts from (spec §3 allows bounds relative to the layer's mean
    /// unit norm). Without it a new unit's ‖w‖ ≤ 1 on inputs in [−1, 1] makes it a nearly linear
    /// feature beside frozen units of norm 3 to 10, and their copies win almost every phase
    /// (159 of 160 on circle → xor → spiral over 10 seeds; about 70 % with it). States written
    /// before this setting existed used ‖w‖ ≤ 1.
    #[serde(default)]
    pub relative_fan_in: bool,
}

impl Default for GrowthSettings {
    fn default() -> Self {
        let g = crate::grow::GrowthConfig::default();
        GrowthSettings {
            candidates: g.candidates,
            eps_max: g.eps_max,
            step1_steps: g.step1_steps,
            step1_lr: g.step1_lr,
            path_points: g.path_points,
            copies: CopyMode::default(),
            relative_fan_in: true,
        }
    }
}

impl GrowthSettings {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), EngineError> {
        crate::grow::validate_search(
            self.candidates,
            self.eps_max,
            self.step1_steps,
            self.step1_lr,
            self.path_points,
        )
    }
}

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

/// The augmented network's mean cross-entropy for the candidates' task on `inputs: [n, d]` (a
/// copied position reads ½σ(θ·x̃) + ½σ((θ + εδ)·x̃) with [`CopyMode::Add`], σ((θ + εδ)·x̃) with
/// [`CopyMode::Replace`], times its head row), and, if `grad` is given (length [`Candidates::flat_len`]), its gradient with respect to every ε and δ
/// in [`Candidates::flat`]'s layout. The base network is held fixed.
pub fn augmented_loss(
    net: &ContinualNet,
    candidates: &Candidates,
    inputs: &[f32],
    labels: &[f32],
    mut grad: Option<&mut [f32]>,
) -> Result<f32, EngineError> {
    let task = candidates.task;
    let head = net.head(task)?;
    let idx = net.mask_indices(task)?;
    let d = net.n_inputs;
    let p = d + 1;
    let k = head.n_classes();
    let mm = idx.len();
    let n = labels.len();
    if inputs.len() != n * d {
        return Err(EngineError::Internal(
            "inputs and labels differ in length".into(),
        ));
    }
    let slots = candidates.eps_slots();
    if let Some(g) = grad.as_deref_mut() {
        if g.len() != candidates.flat_len() {
            return Err(EngineError::Internal(
                "gradient buffer does not match the candidates".into(),
            ));
        }
        g.fill(0.0);
    }
    let mut copy_at: Vec<Option<usize>> = vec![None; mm];
    for (q, c) in candidates.copies.iter().enumerate() {
        if c.position >= mm || c.delta.len() != p {
            return Err(EngineError::Internal(
                "copy candidate does not fit the mask".into(),
            ));
        }
        copy_at[c.position] = Some(q);
    }
    let act = net.activation;
    let mode = candidates.copy_mode;
    let share = mode.share();
    let in_scale = candidates.fan_in_scale;
    let scale = 1.0 / n.max(1) as f32;
    let n_copies = candidates.copies.len();
    let mut z = vec![0.0f32; mm];
    let mut a = vec![0.0f32; mm];
    let mut nz = vec![0.0f32; candidates.new_units.len()];
    let mut na = vec![0.0f32; candidates.new_units.len()];
    let mut v = vec![0.0f32; n_copies];
    let mut logits = vec![0.0f32; k];
    let mut g_out = vec![0.0f32; k];
    let mut total = 0.0f64;
    for (x, label) in inputs.chunks_exact(d).zip(labels) {
        for m in 0..mm {
            let base = pre_activation(&net.units[idx[m]].theta, x);
            (z[m], a[m]) = match copy_at[m] {
                Some(q) => {
                    let c = &candidates.copies[q];
                    v[q] = pre_activation(&c.delta, x);
                    let moved = base + c.eps * v[q];
                    match mode {
                        CopyMode::Add => (moved, 0.5 * act.value(base) + 0.5 * act.value(moved)),
                        CopyMode::Replace => (moved, act.value(moved)),
                    }
                }
                None => (base, act.value(base)),
            };
        }
        logits.copy_from_slice(&head.bias);
        for (am, w) in a.iter().zip(head.weight.data.chunks_exact(k)) {
            for (o, wk) in logits.iter_mut().zip(w) {
                *o += am * wk;
            }
        }
        for (j, cand) in candidates.new_units.iter().enumerate() {
            nz[j] = in_scale * pre_activation(&cand.fan_in, x);
            na[j] = act.value(nz[j]);
            for (o, c) in logits.iter_mut().zip(&cand.fan_out) {
                *o += cand.eps * na[j] * c;
            }
        }
        total += f64::from(cross_entropy(&logits, *label as usize, scale, &mut g_out));
        let Some(g) = grad.as_deref_mut() else {
            continue;
        };
        for (q, c) in candidates.copies.iter().enumerate() {
            let m = c.position;
            let row = &head.weight.data[m * k..(m + 1) * k];
            let big_g: f32 = row.iter().zip(&g_out).map(|(w, gj)| w * gj).sum();
            let dz = big_g * share * act.derivative(z[m]);
            let s = slots[q];
            g[s] += dz * v[q];
            let gd = &mut g[s + 1..s + 1 + p];
            for (gi, xi) in gd.iter_mut().zip(x) {
                *gi += dz * c.eps * xi;
            }
            gd[d] += dz * c.eps;
        }
        for (j, cand) in candidates.new_units.iter().enumerate() {
            let s = slots[n_copies + j];
            let gc: f32 = cand.fan_out.iter().zip(&g_out).map(|(c, gj)| c * gj).sum();
            g[s] += na[j] * gc;
            let dz = gc * cand.eps * act.derivative(nz[j]) * in_scale;
            let gw = &mut g[s + 1..s + 1 + p];
            for (gi, xi) in gw.iter_mut().zip(x) {
                *gi += dz * xi;
            }
            gw[d] += dz;
            for (gi, gj) in g[s + 1 + p..s + 1 + p + k].iter_mut().zip(&g_out) {
                *gi += cand.eps * na[j] * gj;
            }
        }
    }
    Ok((total * f64::from(scale)) as f32)
}

/// A candidate as the scores and the diagram name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum CandidateRef {
    /// Unlocked copy of `unit`, at `position` in the task's mask.
    Copy {
        /// The frozen unit.
        unit: UnitId,
        /// Its mask position.
        position: usize,
    },
    /// New-unit candidate number `index`.
    New {
        /// Index among the phase's new-unit candidates.
        index: usize,
    },
}

/// One candidate's score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoredCandidate {
    /// Which candidate.
    pub candidate: CandidateRef,
    /// Predicted loss change ε̂·s (0 for random growth, which does not score).
    pub score: f32,
    /// Whether it was kept.
    pub chosen: bool,
}

/// A chosen copy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CopyChoice {
    /// Mask position of the frozen unit (in the mask the plan was made for).
    pub position: usize,
    /// The frozen unit.
    pub unit: UnitId,
    /// ε̂.
    pub eps: f32,
    /// δ̂, length `n_inputs + 1`.
    pub delta: Vec<f32>,
    /// Predicted loss change.
    pub score: f32,
}

/// A chosen new unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewChoice {
    /// ε̂.
    pub eps: f32,
    /// S·w over [fan-in; bias]: the unit's θ.
    pub fan_in: Vec<f32>,
    /// c, one per class.
    pub fan_out: Vec<f32>,
    /// Predicted loss change.
    pub score: f32,
}

/// What a growth phase decided for task `task`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContinualPlan {
    /// The task that grows.
    pub task: usize,
    /// How the copies join the task (plans written before this field existed replaced).
    #[serde(default = "CopyMode::before_the_field")]
    pub copy_mode: CopyMode,
    /// Unlocked copies.
    pub copies: Vec<CopyChoice>,
    /// New units.
    pub new_units: Vec<NewChoice>,
}

impl ContinualPlan {
    /// Units the plan adds.
    pub fn n_added(&self) -> usize {
        self.copies.len() + self.new_units.len()
    }

    /// Σ of the chosen scores.
    pub fn predicted_change(&self) -> f32 {
        self.copies.iter().map(|c| c.score).sum::<f32>()
            + self.new_units.iter().map(|n| n.score).sum::<f32>()
    }
}

/// Turns chosen candidate indices (copies first, then new units) into a plan.
fn plan_of(candidates: &Candidates, chosen: &[usize], scores: &[f32]) -> ContinualPlan {
    let n_copies = candidates.copies.len();
    let mut plan = ContinualPlan {
        task: candidates.task,
        copy_mode: candidates.copy_mode,
        ..ContinualPlan::default()
    };
    for &i in chosen {
        let score = scores.get(i).copied().unwrap_or(0.0);
        if i < n_copies {
            let c = &candidates.copies[i];
            plan.copies.push(CopyChoice {
                position: c.position,
                unit: c.unit,
                eps: c.eps,
                delta: c.delta.clone(),
                score,
            });
        } else if let Some(n) = candidates.new_units.get(i - n_copies) {
            plan.new_units.push(NewChoice {
                eps: n.eps,
                fan_in: n
                    .fan_in
                    .iter()
                    .map(|w| candidates.fan_in_scale * w)
                    .collect(),
                fan_out: n.fan_out.clone(),
                score,
            });
        }
    }
    plan
}

fn refs(candidates: &Candidates) -> Vec<CandidateRef> {
    candidates
        .copies
        .iter()
        .map(|c| CandidateRef::Copy {
            unit: c.unit,
            position: c.position,
        })
        .chain((0..candidates.new_units.len()).map(|index| CandidateRef::New { index }))
        .collect()
}

/// Ranks candidates by score and keeps at most `budget` (the most negative, never one ≥ 0):
/// the plan and every candidate's score, chosen ones marked.
pub fn select(
    candidates: &Candidates,
    scores: &[f32],
    budget: usize,
) -> (ContinualPlan, Vec<ScoredCandidate>) {
    let keyed: Vec<(f32, usize)> = scores.iter().copied().zip(0..).collect();
    let chosen = select_top(&keyed, budget, 0, |_| None);
    let plan = plan_of(candidates, &chosen, scores);
    let scored = refs(candidates)
        .into_iter()
        .enumerate()
        .map(|(i, candidate)| ScoredCandidate {
            candidate,
            score: scores.get(i).copied().unwrap_or(0.0),
            chosen: chosen.contains(&i),
        })
        .collect();
    (plan, scored)
}

/// Random growth with the same budget: `budget` candidates drawn uniformly without replacement
/// from the same pool Firefly starts from, each at ε = ε_max (no Step 1, no scores).
pub fn random_plan(
    candidates: &Candidates,
    budget: usize,
    eps_max: f32,
    rng: &mut ChaCha8Rng,
) -> (ContinualPlan, Vec<ScoredCandidate>) {
    let n = candidates.len();
    let mut chosen: Vec<usize> = (0..n).collect();
    chosen.shuffle(rng);
    chosen.truncate(budget);
    let mut at_bound = candidates.clone();
    for c in &mut at_bound.copies {
        c.eps = eps_max;
    }
    for c in &mut at_bound.new_units {
        c.eps = eps_max;
    }
    let plan = plan_of(&at_bound, &chosen, &[]);
    let scored = refs(candidates)
        .into_iter()
        .enumerate()
        .map(|(i, candidate)| ScoredCandidate {
            candidate,
            score: 0.0,
            chosen: chosen.contains(&i),
        })
        .collect();
    (plan, scored)
}

/// How a unit appeared in a growth phase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Added {
    /// The new unit.
    pub unit: UnitId,
    /// Its origin (new, or a copy of which unit).
    pub origin: UnitOrigin,
}

/// Materialises a plan on task `plan.task`: chosen copies become trainable units θ + ε̂δ̂ owned by
/// the task, appended to its mask with half their original's head row while the original keeps
/// the other half ([`CopyMode::Add`]), or in their original's place with its whole row
/// ([`CopyMode::Replace`]); chosen new units get fan-in w and a head row ε̂·c appended. Other
/// tasks' masks and heads are untouched.
pub fn apply_plan(net: &mut ContinualNet, plan: &ContinualPlan) -> Result<Vec<Added>, EngineError> {
    let task = plan.task;
    let p = net.n_inputs + 1;
    let head = net.head(task)?;
    if head.frozen {
        return Err(EngineError::Internal(format!("task {task} is frozen")));
    }
    let k = head.n_classes();
    for (i, c) in plan.copies.iter().enumerate() {
        if head.units.get(c.position) != Some(&c.unit)
            || c.delta.len() != p
            || plan.copies[..i].iter().any(|o| o.position == c.position)
        {
            return Err(EngineError::Internal(
                "copy choice does not fit the mask".into(),
            ));
        }
    }
    if plan
        .new_units
        .iter()
        .any(|u| u.fan_in.len() != p || u.fan_out.len() != k)
    {
        return Err(EngineError::Internal("new unit has the wrong shape".into()));
    }
    let mut added = Vec::with_capacity(plan.n_added());
    for c in &plan.copies {
        let parent = net
            .unit(c.unit)
            .ok_or_else(|| EngineError::Internal("copy of a missing unit".into()))?;
        let theta = parent
            .theta
            .iter()
            .zip(&c.delta)
            .map(|(t, d)| t + c.eps * d)
            .collect();
        let origin = UnitOrigin::Copy { parent: c.unit };
        let id = net.add_unit(theta, task, origin);
        let head = &mut net.heads[task];
        match plan.copy_mode {
            CopyMode::Add => {
                let row = &mut head.weight.data[c.position * k..(c.position + 1) * k];
                for w in row.iter_mut() {
                    *w *= 0.5;
                }
                let half = row.to_vec();
                head.units.push(id);
                head.weight.push_row(&half);
            }
            CopyMode::Replace => head.units[c.position] = id,
        }
        added.push(Added { unit: id, origin });
    }
    for u in &plan.new_units {
        let id = net.add_unit(u.fan_in.clone(), task, UnitOrigin::New);
        let row: Vec<f32> = u.fan_out.iter().map(|c| u.eps * c).collect();
        let head = &mut net.heads[task];
        head.units.push(id);
        head.weight.push_row(&row);
        added.push(Added {
            unit: id,
            origin: UnitOrigin::New,
        });
    }
    Ok(added)
}

/// One Firefly growth phase in progress, advanced a bounded amount at a time. It holds the
/// candidates; the network and data are passed to each call (they do not change meanwhile).
#[derive(Clone, Debug)]
pub struct GrowthRun {
    candidates: Candidates,
    settings: GrowthSettings,
    adam: FlatOptimizer,
    steps_done: usize,
    points_done: usize,
    eps_grad_sums: Vec<f32>,
}

impl GrowthRun {
    /// Starts a phase for task `task` with candidates of `kinds`.
    pub fn new(
        net: &ContinualNet,
        task: usize,
        kinds: Kinds,
        settings: &GrowthSettings,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self, EngineError> {
        let candidates = Candidates::propose(net, task, kinds, settings, rng)?;
        let n = candidates.len();
        Ok(GrowthRun {
            candidates,
            settings: settings.clone(),
            adam: FlatOptimizer::new(crate::optim::OptimizerKind::Adam),
            steps_done: 0,
            points_done: 0,
            eps_grad_sums: vec![0.0; n],
        })
    }

    /// The candidates and their current values.
    pub fn candidates(&self) -> &Candidates {
        &self.candidates
    }

    /// Step-1 steps taken.
    pub fn steps_done(&self) -> usize {
        self.steps_done
    }

    /// Step-2 path points evaluated.
    pub fn points_done(&self) -> usize {
        self.points_done
    }

    /// Whether Step 1 is over.
    pub fn step1_done(&self) -> bool {
        self.steps_done >= self.settings.step1_steps || self.candidates.is_empty()
    }

    /// Whether Step 2 is over.
    pub fn step2_done(&self) -> bool {
        self.points_done >= self.settings.path_points || self.candidates.is_empty()
    }

    /// Up to `max_steps` Step-1 steps: Adam on every ε and δ, projection after each. Returns the
    /// number taken.
    pub fn step1(
        &mut self,
        net: &ContinualNet,
        inputs: &[f32],
        labels: &[f32],
        max_steps: usize,
    ) -> Result<usize, EngineError> {
        let mut taken = 0;
        let mut grad = vec![0.0; self.candidates.flat_len()];
        while taken < max_steps && !self.step1_done() {
            augmented_loss(net, &self.candidates, inputs, labels, Some(&mut grad))?;
            let mut flat = self.candidates.flat();
            self.adam.step(self.settings.step1_lr, &mut flat, &grad);
            self.candidates.set_flat(&flat)?;
            self.candidates.project(self.settings.eps_max);
            self.steps_done += 1;
            taken += 1;
        }
        Ok(taken)
    }

    /// Up to `max_points` points α of Step 2's midpoint grid, accumulating ∂L/∂ε(α·ε̂). Returns the
    /// number evaluated.
    pub fn step2(
        &mut self,
        net: &ContinualNet,
        inputs: &[f32],
        labels: &[f32],
        max_points: usize,
    ) -> Result<usize, EngineError> {
        let g = self.settings.path_points;
        let slots = self.candidates.eps_slots();
        let mut grad = vec![0.0; self.candidates.flat_len()];
        let mut taken = 0;
        while taken < max_points && !self.step2_done() {
            let alpha = (self.points_done as f32 + 0.5) / g as f32;
            augmented_loss(
                net,
                &self.candidates.scaled(alpha),
                inputs,
                labels,
                Some(&mut grad),
            )?;
            for (sum, &s) in self.eps_grad_sums.iter_mut().zip(&slots) {
                *sum += grad[s];
            }
            self.points_done += 1;
            taken += 1;
        }
        Ok(taken)
    }

    /// Every candidate's score ε̂·s, copies first (valid once Step 2 is done).
    pub fn scores(&self) -> Vec<f32> {
        let g = self.points_done.max(1) as f32;
        self.candidates
            .eps()
            .iter()
            .zip(&self.eps_grad_sums)
            .map(|(e, s)| e * s / g)
            .collect()
    }

    /// The plan for at most `budget` units and every candidate's score.
    pub fn finish(&self, budget: usize) -> (ContinualPlan, Vec<ScoredCandidate>) {
        select(&self.candidates, &self.scores(), budget)
    }
}
