//! Growth for a new task (spec §8) on the engine's grower, through the task's view
//! ([`super::view`]).
//!
//! While task t trains, its head reads every unit its mask holds; the units of earlier tasks are
//! frozen. The neighbourhood offers two kinds of candidate, both Firefly's own
//! ([`crate::grow::firefly`], started with the view's frozen units):
//! - an **unlocked copy** of a frozen unit: a one-sided split. Task t reads
//!   ½r·σ(θ·x̃) + ½r·σ((θ + εδ)·x̃), the frozen original with half its head row r and a
//!   trainable copy with the other half; the original stays as it is for every task that reads
//!   it. ‖δ‖₂ ≤ 1 and |ε| ≤ ε_max, ε moving in Step 1 (its gradient at ε = 0 is not zero).
//! - a **new unit** j: t's logits gain ε·c_j·σ(S·w_j·x̃) (δ_j = (w_j, c_j), ‖δ_j‖₂ ≤ 1), S the
//!   mean ‖θ‖ of the frozen units the task reads (at least 1, and 1 for the first task, which
//!   reads none; [`GrowthSettings::relative_fan_in`], S = 1 without), so that a new unit may be as
//!   steep a feature as the units whose copies it competes with.
//!
//! Units of the task itself are not split (spec §8's neighbourhood is copies and new units).
//! Both kinds compute exactly the old function at ε = 0. Step 1, Step 2 and the selection
//! (copies and new units in one ranking, a score ≥ 0 never kept) are the engine's, and the
//! engine's surgery ([`crate::grow::apply_plan`]) materialises the choice; the task's view is
//! written back with [`crate::continual::ContinualNet::take_grown`]. Random growth draws from
//! the same pool ([`crate::grow::random::random_copies_and_new`]).

use std::future::Future;

use burn::tensor::Device;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::view::TaskView;
use crate::error::EngineError;
use crate::grow::grower::{self, Grower, GrowthInput, GrowthStage};
use crate::grow::{CandidateScore, GrowthConfig, GrowthPlan, Method, PendingCandidate};
use crate::model::{DeviceMlp, Targets, inputs_tensor};

/// Step 1 and Step 2 settings (the engine's growth defaults: ε_max 0.1, m' = 10, 100 Adam steps
/// at 1e-2, g = 4) and how new units are scaled.
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
    /// Whether a new unit's fan-in is measured against the copies it competes with: it reads
    /// σ(S·w·x̃) with S the mean ‖θ‖ of the frozen units the task reads ([`mean_unit_norm`]; 1
    /// when there are none, as in the first task), so the ball ‖(w, c)‖ ≤ 1 allows features as
    /// steep as the units a copy starts from (spec §3 allows bounds relative to the layer's mean
    /// unit norm). Without it a new unit's ‖w‖ ≤ 1 on inputs in [−1, 1] makes it a nearly linear
    /// feature beside frozen units of norm 3 to 10, and their copies win almost every phase.
    /// States written before this setting existed used ‖w‖ ≤ 1.
    #[serde(default)]
    pub relative_fan_in: bool,
}

impl Default for GrowthSettings {
    fn default() -> Self {
        let g = GrowthConfig::default();
        GrowthSettings {
            candidates: g.candidates,
            eps_max: g.eps_max,
            step1_steps: g.step1_steps,
            step1_lr: g.step1_lr,
            path_points: g.path_points,
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

    /// The engine's growth settings for `method` (one unit a phase; the run passes its budget).
    pub fn config(&self, method: Method) -> GrowthConfig {
        GrowthConfig {
            method,
            candidates: self.candidates,
            eps_max: self.eps_max,
            step1_steps: self.step1_steps,
            step1_lr: self.step1_lr,
            path_points: self.path_points,
            ..GrowthConfig::default()
        }
    }
}

/// The mean ‖θ‖ of the frozen units a view reads (those an unlocked copy can start from), at
/// least 1; 1 when it reads none.
pub fn mean_unit_norm(view: &TaskView) -> f32 {
    let block = &view.mlp.blocks[0];
    let norms: Vec<f32> = (0..block.n_units())
        .filter(|&j| view.frozen.contains(&block.unit_ids[j]))
        .map(|j| block.theta(j).iter().map(|v| v * v).sum::<f32>().sqrt())
        .collect();
    (norms.iter().sum::<f32>() / norms.len().max(1) as f32).max(1.0)
}

/// The value of `future`. Natively it is waited for (a wgpu device's reads complete on another
/// thread); in a browser the CPU device's reads are ready when first polled, and anything else
/// is an error rather than a stalled page.
fn wait<F: Future>(future: F) -> Result<F::Output, EngineError> {
    #[cfg(not(target_arch = "wasm32"))]
    let value = pollster::block_on(future);
    #[cfg(target_arch = "wasm32")]
    let value = {
        use std::task::{Context, Poll, Waker};
        let mut future = std::pin::pin!(future);
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(value) => value,
            Poll::Pending => {
                return Err(EngineError::Internal(
                    "a continual growth phase read the device asynchronously".into(),
                ));
            }
        }
    };
    Ok(value)
}

/// One Firefly growth phase of a task in progress, on the run's device, advanced a bounded amount
/// at a time: the engine's [`Grower`] over the task's view.
pub struct GrowthRun {
    grower: Box<dyn Grower>,
}

impl GrowthRun {
    /// Starts a phase on `device` for `view` on `inputs: [n, 2]` and `labels`: copies of the
    /// view's frozen units (if `copies`) and new units.
    pub fn new(
        device: &Device,
        view: &TaskView,
        copies: bool,
        settings: &GrowthSettings,
        (inputs, labels): (&[f32], &[f32]),
        rng: &mut ChaCha8Rng,
    ) -> Self {
        // Without frozen units Firefly would split the task's own units: new units only.
        let method = match copies && !view.frozen.is_empty() {
            true => Method::Firefly,
            false => Method::FireflyNew,
        };
        let config = settings.config(method);
        let input = GrowthInput {
            mlp: &view.mlp,
            params: DeviceMlp::upload(&view.mlp, device).params,
            inputs: inputs_tensor(inputs, view.mlp.n_inputs, device),
            targets: Targets::new(labels, view.mlp.task, device),
            config: &config,
            frozen: &view.frozen,
            new_unit_scale: if settings.relative_fan_in {
                mean_unit_norm(view)
            } else {
                1.0
            },
        };
        GrowthRun {
            grower: grower::start(input, rng),
        }
    }

    /// Where the phase stands.
    pub fn stage(&self) -> GrowthStage {
        self.grower.stage()
    }

    /// The candidates being weighed.
    pub fn pending(&self) -> Vec<PendingCandidate> {
        self.grower.pending()
    }

    /// One unit of Step 1 or Step 2; false once only [`GrowthRun::finish`] is left.
    pub fn step(&mut self) -> bool {
        self.grower.step(1).is_some()
    }

    /// The plan for at most `budget` units and every candidate's score.
    pub fn finish(
        &mut self,
        budget: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<(GrowthPlan, Vec<CandidateScore>), EngineError> {
        wait(self.grower.finish(budget, rng))?
    }
}
