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

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::net::{ContinualNet, FlatOptimizer};
use crate::error::EngineError;

mod augmented;
mod candidates;
mod plan;

pub use augmented::augmented_loss;
pub use candidates::{Candidates, CopyCandidate, Kinds, NewCandidate, mean_unit_norm};
pub use plan::{
    Added, CandidateRef, ContinualPlan, CopyChoice, NewChoice, ScoredCandidate, apply_plan,
    random_plan, select,
};

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
