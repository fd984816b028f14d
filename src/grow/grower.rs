//! The one interface a training session drives every growth method through.
//!
//! A growth phase is *started* on the network and the training data ([`start`]), *stepped* a
//! bounded amount of work at a time ([`Grower::step`], so a browser spreads a phase over frames),
//! and *finished* into a [`GrowthPlan`] with every candidate's score ([`Grower::finish`]). The
//! session never asks which method it runs: it applies the plan with [`super::apply_plan`].
//! Adding a method means one type implementing [`Grower`] and one arm in [`start`].

use std::future::Future;
use std::pin::Pin;

use burn::tensor::Tensor;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::firefly::FireflyRun;
use super::{
    CandidateScore, GrowthConfig, GrowthPlan, GrowthTimings, Method, PendingCandidate, random,
    splitting,
};
use crate::error::EngineError;
use crate::model::{Mlp, Targets, UnitId};

/// The part of a growth phase a method is in (what a slow-motion view explains).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GrowthStage {
    /// Building the over-grown neighbour (or, for a method without steps, all of its work).
    Propose,
    /// Optimising ε and δ; `done` of `total` steps taken.
    Optimise {
        /// Steps taken.
        done: usize,
        /// Steps planned.
        total: usize,
    },
    /// Path-integrated scoring; `done` of `total` path points evaluated.
    Score {
        /// Points evaluated.
        done: usize,
        /// Points planned.
        total: usize,
    },
    /// Choosing candidates and materialising them.
    Materialise,
}

/// Which timing a piece of a method's work counts towards ([`super::GrowthTimings`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Step 1 (optimising ε, δ), or a baseline's whole analysis.
    Search,
    /// Step 2 (scores and selection).
    Score,
}

impl GrowthTimings {
    /// Counts `ms` of work towards `part`.
    pub fn add(&mut self, part: Part, ms: f64) {
        match part {
            Part::Search => self.step1_ms += ms,
            Part::Score => self.step2_ms += ms,
        }
    }
}

/// What [`Grower::finish`] returns: the plan and every candidate's score.
pub type Planned = Result<(GrowthPlan, Vec<CandidateScore>), EngineError>;

/// A future of [`Planned`] (reading scores back from a device is asynchronous in a browser).
pub type PlanFuture<'a> = Pin<Box<dyn Future<Output = Planned> + 'a>>;

/// What a growth phase works on: the network, its parameters on the session's device, and the
/// training data there.
pub struct GrowthInput<'a> {
    /// The network (host copy).
    pub mlp: &'a Mlp,
    /// Its parameters on the device, in [`Mlp::param_matrices`] order.
    pub params: Vec<Tensor<2>>,
    /// Training inputs.
    pub inputs: Tensor<2>,
    /// Training targets.
    pub targets: Targets,
    /// The growth settings.
    pub config: &'a GrowthConfig,
    /// Units that must stay as they are (continual learning's frozen units; none in a
    /// session): Firefly offers a one-sided split of each ([`super::SplitChoice::keep_parent`]),
    /// a trainable copy θ + εδ beside the unchanged unit, whose ε moves in Step 1.
    pub frozen: &'a [UnitId],
    /// S: Firefly's new-unit candidates read σ(S·(w·x̃)), ‖(w, c)‖ ≤ 1 (1 in a session, the
    /// paper's ball; continual learning measures it against the frozen units, see
    /// [`crate::continual`]).
    pub new_unit_scale: f32,
}

impl<'a> GrowthInput<'a> {
    /// The input for `mlp` with nothing frozen and the paper's ball for new units.
    pub fn new(
        mlp: &'a Mlp,
        params: Vec<Tensor<2>>,
        (inputs, targets): (Tensor<2>, Targets),
        config: &'a GrowthConfig,
    ) -> Self {
        GrowthInput {
            mlp,
            params,
            inputs,
            targets,
            config,
            frozen: &[],
            new_unit_scale: 1.0,
        }
    }

    /// The same input on the device of `rows` (the training rows given there): the network's
    /// parameters go up again from its host copy. A session that trains on a GPU grows on the
    /// CPU this way ([`crate::train::GrowOn`]).
    pub fn moved(self, rows: (Tensor<2>, Targets)) -> Self {
        let params = crate::model::DeviceMlp::upload(self.mlp, &rows.0.device()).params;
        let (inputs, targets) = rows;
        GrowthInput {
            params,
            inputs,
            targets,
            ..self
        }
    }
}

/// One growth phase of one method. See the module doc.
pub trait Grower: Send {
    /// Where the phase stands (a method without steps stays at [`GrowthStage::Propose`]).
    fn stage(&self) -> GrowthStage {
        GrowthStage::Propose
    }

    /// The candidates being weighed, for the diagram (empty for methods that weigh none).
    fn pending(&self) -> Vec<PendingCandidate> {
        Vec::new()
    }

    /// Does at most `budget` (at least one) units of work before finishing. Returns the work
    /// done and what it counts towards, or `None` when only [`Grower::finish`] is left (a method
    /// without steps does all its work there).
    fn step(&mut self, _budget: usize) -> Option<(usize, Part)> {
        None
    }

    /// What the work of [`Grower::finish`] counts towards.
    fn finish_part(&self) -> Part {
        Part::Search
    }

    /// Chooses at most `budget` units to add; `rng` is the session's generator.
    fn finish<'a>(&'a mut self, budget: usize, rng: &'a mut ChaCha8Rng) -> PlanFuture<'a>;
}

/// Starts a growth phase of `input.config.method`. Firefly builds its candidates here, drawing
/// from `rng`; the baselines draw when they finish.
pub fn start(input: GrowthInput<'_>, rng: &mut ChaCha8Rng) -> Box<dyn Grower> {
    let method = input.config.method;
    if let Some(kinds) = method.firefly_kinds() {
        return Box::new(FireflyRun::start(input, kinds, rng));
    }
    match method {
        Method::RandomSplit | Method::RandomNew => Box::new(RandomGrowth {
            mlp: input.mlp.clone(),
            split: method == Method::RandomSplit,
            eps_max: input.config.eps_max,
            split_scale: input.config.split_scale,
        }),
        Method::ExactSplit => Box::new(ExactSplitting {
            mlp: input.mlp.clone(),
            params: input.params,
            inputs: input.inputs,
            targets: input.targets,
            eps_max: input.config.eps_max,
            split_scale: input.config.split_scale,
        }),
        _ => Box::new(NoGrowth),
    }
}

impl Grower for FireflyRun {
    fn stage(&self) -> GrowthStage {
        if !self.step1_done() {
            GrowthStage::Optimise {
                done: self.steps_done(),
                total: self.config().step1_steps,
            }
        } else if !self.step2_done() {
            GrowthStage::Score {
                done: self.points_done(),
                total: self.config().path_points,
            }
        } else {
            GrowthStage::Materialise
        }
    }

    fn pending(&self) -> Vec<PendingCandidate> {
        FireflyRun::pending(self)
    }

    fn step(&mut self, budget: usize) -> Option<(usize, Part)> {
        if !self.step1_done() {
            Some((self.step1(budget.max(1)), Part::Search))
        } else if !self.step2_done() {
            Some((self.step2(budget.max(1)), Part::Score))
        } else {
            None
        }
    }

    fn finish_part(&self) -> Part {
        Part::Score
    }

    fn finish<'a>(&'a mut self, budget: usize, _rng: &'a mut ChaCha8Rng) -> PlanFuture<'a> {
        Box::pin(FireflyRun::finish(self, budget))
    }
}

/// The random baselines: split uniformly chosen units along random directions, or add units
/// with random weights ([`random`]).
struct RandomGrowth {
    mlp: Mlp,
    split: bool,
    eps_max: f32,
    split_scale: f32,
}

impl Grower for RandomGrowth {
    fn finish<'a>(&'a mut self, budget: usize, rng: &'a mut ChaCha8Rng) -> PlanFuture<'a> {
        let planned = if self.split {
            random::random_split(&self.mlp, budget, self.eps_max, self.split_scale, rng)
        } else {
            random::random_new(&self.mlp, budget, self.eps_max, rng)
        };
        Box::pin(std::future::ready(Ok(planned)))
    }
}

/// Exact splitting steepest descent ([`splitting`]).
struct ExactSplitting {
    mlp: Mlp,
    params: Vec<Tensor<2>>,
    inputs: Tensor<2>,
    targets: Targets,
    eps_max: f32,
    split_scale: f32,
}

impl Grower for ExactSplitting {
    fn finish<'a>(&'a mut self, budget: usize, _rng: &'a mut ChaCha8Rng) -> PlanFuture<'a> {
        Box::pin(splitting::exact_split(
            &self.mlp,
            &self.params,
            self.inputs.clone(),
            &self.targets,
            budget,
            self.eps_max,
            self.split_scale,
        ))
    }
}

/// A fixed network: every phase plans nothing.
struct NoGrowth;

impl Grower for NoGrowth {
    fn finish<'a>(&'a mut self, _budget: usize, _rng: &'a mut ChaCha8Rng) -> PlanFuture<'a> {
        Box::pin(std::future::ready(Ok((GrowthPlan::default(), Vec::new()))))
    }
}
