//! Growth: plans, the one surgery that applies them, and the record of a growth event.
//!
//! Every growth method (Firefly and its ablations in [`firefly`], the random baselines in
//! [`random`], exact splitting in [`splitting`]) only *proposes*: it returns a [`GrowthPlan`], plain
//! data naming which units split along which δ, which new units and which new layers appear, each
//! with its score. A session drives every method through one interface, [`Grower`] (start,
//! bounded step, finish ⇒ plan and scores; [`grower`]), and [`apply_plan`] ([`surgery`]) is the
//! only code that changes a network's shape.
pub mod firefly;
pub mod grower;
pub mod random;
pub mod splitting;
pub mod surgery;

use serde::{Deserialize, Serialize};

pub use grower::{Grower, GrowthStage};
pub use surgery::{Surgery, apply_plan, apply_plan_with};

use crate::error::EngineError;
use crate::model::UnitId;

/// Which growth method a session uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Firefly with splits and new units (the default).
    Firefly,
    /// Firefly, splitting existing units only.
    FireflySplit,
    /// Firefly, new units only.
    FireflyNew,
    /// Firefly with splits, new units and new residual layers.
    FireflyLayers,
    /// Split uniformly chosen units along random directions.
    RandomSplit,
    /// Add units with random weights.
    RandomNew,
    /// Exact splitting steepest descent (second-order splitting matrices).
    ExactSplit,
    /// Never grow (a fixed network).
    None,
}

impl Method {
    /// Every method, in the order menus and tables show them.
    pub const ALL: [Method; 8] = [
        Method::Firefly,
        Method::FireflySplit,
        Method::FireflyNew,
        Method::FireflyLayers,
        Method::RandomSplit,
        Method::RandomNew,
        Method::ExactSplit,
        Method::None,
    ];

    /// The name used in CSV files, configs and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Method::Firefly => "firefly",
            Method::FireflySplit => "firefly-split",
            Method::FireflyNew => "firefly-new",
            Method::FireflyLayers => "firefly-layers",
            Method::RandomSplit => "random-split",
            Method::RandomNew => "random-new",
            Method::ExactSplit => "exact-split",
            Method::None => "none",
        }
    }

    /// Whether the method ever adds units (all but [`Method::None`]).
    pub fn grows(self) -> bool {
        self != Method::None
    }

    /// The candidate kinds a Firefly variant proposes (`None` for non-Firefly methods).
    pub fn firefly_kinds(self) -> Option<CandidateKinds> {
        let (split, new, layers) = match self {
            Method::Firefly => (true, true, false),
            Method::FireflySplit => (true, false, false),
            Method::FireflyNew => (false, true, false),
            Method::FireflyLayers => (true, true, true),
            _ => return None,
        };
        Some(CandidateKinds { split, new, layers })
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Method {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Method::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
                EngineError::InvalidConfig(format!(
                    "unknown growth method \"{s}\" (expected one of {})",
                    names.join(", ")
                ))
            })
    }
}

/// Which kinds of candidate a Firefly run builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateKinds {
    /// Split every existing unit.
    pub split: bool,
    /// m' new units per block.
    pub new: bool,
    /// A candidate residual layer after every block.
    pub layers: bool,
}

/// How many units one growth phase may add.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Budget {
    /// A fixed number of units per phase.
    Count(usize),
    /// A fraction of the current number of hidden units (at least one).
    Ratio(f32),
}

impl Budget {
    /// Units allowed this phase for a network with `n_units` hidden units.
    pub fn units(self, n_units: usize) -> usize {
        match self {
            Budget::Count(n) => n,
            Budget::Ratio(r) => ((n_units as f32 * r).round() as usize).max(1),
        }
    }
}

/// How Step 2 integrates a candidate's gradient into its score (spec §4).
///
/// Both give score_i = ε̂_i·s_i with s_i the mean of ∂L/∂ε_i over a midpoint grid of g points; they
/// differ in where the other candidates are while candidate i moves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScorePath {
    /// Every candidate moves together along α·ε̂, α ∈ (0, 1) (integrated gradients): the scores
    /// add up to the loss change, Σ_i score_i = L(ε̂) − L(0). The default (see README, "Growth
    /// defaults": the two tie on Figure 3, and the joint path is far better on the page's opening
    /// experiment).
    #[default]
    Joint,
    /// Candidate i moves along its own axis, ε_i = α·ε̂_i, while the others stay at ε̂ (the seed's
    /// s_i = (1/ε̂_i) ∫₀^ε̂_i ∂L/∂ε_i(ε̂_{−i}, ζ) dζ): score_i = L(ε̂) − L(ε̂ with ε_i = 0), what
    /// removing candidate i from the optimised neighbour would cost. One pass per candidate
    /// and path point (batched: the data is stacked once per candidate).
    OwnAxis,
}

impl ScorePath {
    /// Both choices, in the order menus show them.
    pub const ALL: [ScorePath; 2] = [ScorePath::Joint, ScorePath::OwnAxis];

    /// The name used in links, configs and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            ScorePath::Joint => "joint",
            ScorePath::OwnAxis => "own-axis",
        }
    }
}

impl std::fmt::Display for ScorePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ScorePath {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ScorePath::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                EngineError::InvalidConfig(format!(
                    "unknown score path \"{s}\" (expected joint or own-axis)"
                ))
            })
    }
}

/// Settings shared by every growth method.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrowthConfig {
    /// The method.
    pub method: Method,
    /// Units added per phase (η_t).
    pub budget: Budget,
    /// New-unit candidates per block and per candidate layer (m').
    pub candidates: usize,
    /// ε_max: bound on every |ε|.
    pub eps_max: f32,
    /// Step-1 gradient steps.
    pub step1_steps: usize,
    /// Step-1 Adam learning rate.
    pub step1_lr: f32,
    /// Points of the midpoint grid for the path-integrated scores (g).
    pub path_points: usize,
    /// The path each candidate's gradient is integrated along (Step 2).
    #[serde(default)]
    pub score: ScorePath,
    /// At most this many new layers per phase (η_{t,1}).
    pub max_new_layers: usize,
    /// Every splitting method's step relative to the unit's norm ([`split_step`]; 0, the
    /// default: the absolute ε_max).
    #[serde(default = "default_split_scale")]
    pub split_scale: f32,
}

impl Default for GrowthConfig {
    /// Tuned defaults: ε_max 0.1, 100 Step-1 steps of Adam at 1e-2, g = 4, m' = 10, one unit per
    /// phase, at most one new layer per phase.
    fn default() -> Self {
        GrowthConfig {
            method: Method::Firefly,
            budget: Budget::Count(1),
            candidates: 10,
            eps_max: 0.1,
            step1_steps: 100,
            step1_lr: 1e-2,
            path_points: 4,
            score: ScorePath::default(),
            max_new_layers: 1,
            split_scale: SPLIT_SCALE,
        }
    }
}

impl GrowthConfig {
    /// Checks every value's range.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |m: String| Err(EngineError::InvalidConfig(m));
        match self.budget {
            Budget::Count(n) if n == 0 || n > 1000 => {
                return bad(format!("units per growth must be 1 to 1000, got {n}"));
            }
            Budget::Ratio(r) if !(r.is_finite() && r > 0.0 && r <= 4.0) => {
                return bad(format!("growth ratio must be in (0, 4], got {r}"));
            }
            _ => {}
        }
        if !(self.split_scale.is_finite() && (0.0..=10.0).contains(&self.split_scale)) {
            return bad(format!(
                "split scale must be in [0, 10], got {}",
                self.split_scale
            ));
        }
        validate_search(
            self.candidates,
            self.eps_max,
            self.step1_steps,
            self.step1_lr,
            self.path_points,
        )
    }
}

/// Checks the knobs of Firefly's search shared by every grower (this module's and continual
/// learning's): candidates, ε bound, Step 1 steps and rate, Step 2 path points.
pub(crate) fn validate_search(
    candidates: usize,
    eps_max: f32,
    step1_steps: usize,
    step1_lr: f32,
    path_points: usize,
) -> Result<(), EngineError> {
    let bad = |m: String| Err(EngineError::InvalidConfig(m));
    if candidates == 0 || candidates > 1000 {
        return bad(format!("candidates must be 1 to 1000, got {candidates}"));
    }
    if !(eps_max.is_finite() && eps_max > 0.0 && eps_max <= 10.0) {
        return bad(format!("eps_max must be in (0, 10], got {eps_max}"));
    }
    if step1_steps > 100_000 {
        return bad(format!(
            "step-1 steps must be at most 100000, got {step1_steps}"
        ));
    }
    if !(step1_lr.is_finite() && step1_lr > 0.0 && step1_lr <= 10.0) {
        return bad(format!(
            "step-1 learning rate must be in (0, 10], got {step1_lr}"
        ));
    }
    if path_points == 0 || path_points > 1024 {
        return bad(format!("path points must be 1 to 1024, got {path_points}"));
    }
    Ok(())
}

/// The default of [`GrowthConfig::split_scale`]: 0, every split moves by the absolute ε_max (see
/// [`split_step`]).
pub const SPLIT_SCALE: f32 = 0.0;

fn default_split_scale() -> f32 {
    SPLIT_SCALE
}

/// The one step-size rule of every splitting method (Firefly's splits, exact splitting, random
/// splitting): a split of a unit with weights θ = [fan-in; bias] moves each offspring by
/// ε = max(`scale`·‖θ‖, ε_max) along a direction of norm at most 1. The default scale 0 is the
/// paper's neighbourhood (|ε| ≤ ε_max, ‖δ‖ ≤ 1) and the authors' absolute step; a positive scale
/// moves a trained unit's offspring on the unit's own scale instead (measured, README "Fair
/// baselines": with 0.5 Firefly's split + new chooses large splits for their immediate drop and
/// ends behind new units). Firefly holds its splits' ε at this bound during Step 1 and optimises
/// δ within ‖δ‖ ≤ 1 (so the step it takes is ε·‖δ‖, anywhere up to the bound); exact splitting
/// moves along its unit eigenvector by ε; random splitting along a random unit direction by ε.
pub fn split_step(theta: &[f32], eps_max: f32, scale: f32) -> f32 {
    let norm = theta.iter().map(|v| v * v).sum::<f32>().sqrt();
    (scale * norm).max(eps_max)
}

/// Split unit `unit` of block `block` into θ ± ε·δ, each offspring with half the out-weights
/// (or, [`SplitChoice::keep_parent`], into θ and θ + ε·δ).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitChoice {
    /// Block index in the network the plan was made for.
    pub block: usize,
    /// Unit (column) index within the block.
    pub unit: usize,
    /// ε̂.
    pub eps: f32,
    /// δ over [fan-in; bias], length `d_in + 1`.
    pub delta: Vec<f32>,
    /// Predicted loss change (negative is good).
    pub score: f32,
    /// A one-sided split of a unit that must stay as it is (a frozen unit of continual
    /// learning): the unit keeps θ and half its out-weights, and its clone is θ + εδ with the
    /// other half (the paper's unlocked copy), instead of θ ± εδ.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_parent: bool,
}

/// A new unit in block `block`: fan-in w (with bias) and out-weights ε·c.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewUnitChoice {
    /// Block index in the network the plan was made for.
    pub block: usize,
    /// ε̂.
    pub eps: f32,
    /// w over [fan-in; bias], length `d_in + 1`.
    pub fan_in: Vec<f32>,
    /// c: for a dense block, one weight per unit of its consumer (the next dense block or the
    /// output); for a residual block, one per stream coordinate.
    pub fan_out: Vec<f32>,
    /// Predicted loss change.
    pub score: f32,
}

/// One unit of a new residual layer: fan-in w (with bias) over the stream, fan-out ε·c into it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerUnitChoice {
    /// ε̂.
    pub eps: f32,
    /// w over [stream; bias], length `d + 1`.
    pub fan_in: Vec<f32>,
    /// c, length `d`.
    pub fan_out: Vec<f32>,
    /// Predicted loss change.
    pub score: f32,
}

/// A new residual layer inserted after block `after_block`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewLayerChoice {
    /// The block it follows (in the network the plan was made for).
    pub after_block: usize,
    /// Its units (at least one).
    pub units: Vec<LayerUnitChoice>,
}

/// What a growth method decided: plain data, applied by [`apply_plan`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GrowthPlan {
    /// Units to split (each unit at most once).
    pub splits: Vec<SplitChoice>,
    /// New units in existing blocks.
    pub new_units: Vec<NewUnitChoice>,
    /// New residual layers.
    pub new_layers: Vec<NewLayerChoice>,
}

impl GrowthPlan {
    /// Hidden units the plan adds.
    pub fn n_added(&self) -> usize {
        self.splits.len()
            + self.new_units.len()
            + self.new_layers.iter().map(|l| l.units.len()).sum::<usize>()
    }

    /// Σ of the chosen candidates' scores: the first-order predicted loss change.
    pub fn predicted_change(&self) -> f32 {
        self.splits.iter().map(|s| s.score).sum::<f32>()
            + self.new_units.iter().map(|s| s.score).sum::<f32>()
            + self
                .new_layers
                .iter()
                .flat_map(|l| l.units.iter().map(|u| u.score))
                .sum::<f32>()
    }
}

/// The kind of a candidate or of a grown unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CandidateKind {
    /// Split of an existing unit.
    Split,
    /// New unit in an existing block.
    New,
    /// Unit of a new layer.
    Layer,
}

/// A candidate of a growth phase in progress (before it is scored), for the diagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingCandidate {
    /// Split, new unit or new-layer unit.
    pub kind: CandidateKind,
    /// Block (split, new) or the block a candidate layer follows (layer).
    pub block: usize,
    /// Unit index for splits; candidate index for new and layer units.
    pub index: usize,
    /// Identity of the unit a split candidate would split.
    pub unit_id: Option<UnitId>,
}

/// One candidate's score, kept for the "why these units" view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CandidateScore {
    /// Split, new unit or new-layer unit.
    pub kind: CandidateKind,
    /// Block (split, new) or the block a candidate layer follows (layer).
    pub block: usize,
    /// Unit index for splits; candidate index for new and layer units.
    pub index: usize,
    /// Identity of the unit a split candidate would split.
    pub unit_id: Option<UnitId>,
    /// Predicted loss change ε̂·s (for exact splitting: ½ε²λ).
    pub score: f32,
    /// Whether the candidate was kept.
    pub chosen: bool,
}

/// Where a unit came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lineage {
    /// The new unit.
    pub child: UnitId,
    /// The unit it split from (splits only).
    pub parent: Option<UnitId>,
    /// How it appeared.
    pub kind: CandidateKind,
    /// Its block in the grown network.
    pub block: usize,
}

/// Wall time of each part of a growth phase, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GrowthTimings {
    /// Reading the network and building candidates.
    pub propose_ms: f64,
    /// Step 1 (optimising ε, δ), or the eigen-analysis for exact splitting.
    pub step1_ms: f64,
    /// Step 2 (path-integrated scores and selection).
    pub step2_ms: f64,
    /// Applying the plan and uploading the grown network.
    pub surgery_ms: f64,
}

impl GrowthTimings {
    /// Sum of the parts.
    pub fn total_ms(&self) -> f64 {
        self.propose_ms + self.step1_ms + self.step2_ms + self.surgery_ms
    }
}

/// Everything a growth phase did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrowthEvent {
    /// Epochs trained before this growth.
    pub epoch: usize,
    /// Method used.
    pub method: Method,
    /// Architecture before and after.
    pub architecture_before: String,
    /// Architecture after growth.
    pub architecture_after: String,
    /// Hidden units before.
    pub units_before: usize,
    /// Hidden units after.
    pub units_after: usize,
    /// Scores of every candidate, chosen ones marked.
    pub candidates: Vec<CandidateScore>,
    /// The applied plan.
    pub plan: GrowthPlan,
    /// Where each new unit came from.
    pub lineage: Vec<Lineage>,
    /// Training loss before growth.
    pub loss_before: f32,
    /// Training loss right after growth (before any further training).
    pub loss_after: f32,
    /// Σ of the chosen scores (predicted change).
    pub predicted_change: f32,
    /// Timings of the parts.
    pub timings: GrowthTimings,
}

impl GrowthEvent {
    /// Measured change of the training loss across the surgery (after − before).
    pub fn actual_change(&self) -> f32 {
        self.loss_after - self.loss_before
    }

    /// Hidden units the growth added.
    pub fn n_added(&self) -> usize {
        self.units_after.saturating_sub(self.units_before)
    }
}

/// Chooses at most `budget` candidates from `(score, key)` pairs: the most negative scores, never
/// a score ≥ 0, with at most `max_layers` distinct layer positions (`layer_of(key)` says which
/// layer a candidate belongs to, if any). Returns indices into `scores` in rank order.
pub fn select_top<K>(
    scores: &[(f32, K)],
    budget: usize,
    max_layers: usize,
    layer_of: impl Fn(&K) -> Option<usize>,
) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len())
        .filter(|&i| scores[i].0.is_finite() && scores[i].0 < 0.0)
        .collect();
    order.sort_by(|&a, &b| scores[a].0.total_cmp(&scores[b].0).then(a.cmp(&b)));
    let mut chosen = Vec::new();
    let mut layers: Vec<usize> = Vec::new();
    for i in order {
        if chosen.len() == budget {
            break;
        }
        if let Some(layer) = layer_of(&scores[i].1)
            && !layers.contains(&layer)
        {
            if layers.len() == max_layers {
                continue;
            }
            layers.push(layer);
        }
        chosen.push(i);
    }
    chosen
}
