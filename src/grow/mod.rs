//! Growth: plans, the one surgery that applies them, and the record of a growth event.
//!
//! Every growth method (Firefly and its ablations in [`firefly`], the random baselines in
//! [`random`], exact splitting in [`splitting`]) only *proposes*: it returns a [`GrowthPlan`], plain
//! data naming which units split along which δ, which new units and which new layers appear, each
//! with its score. [`apply_plan`] is the only code that changes a network's shape.
//!
//! The surgery is the materialisation of Firefly's augmented network with the unselected ε set to
//! zero (spec §5), so that "the loss after surgery equals the augmented loss with unselected ε = 0"
//! holds exactly. It runs in two passes:
//! 1. *fan-in side*, block by block over the old input widths: a split unit's column becomes
//!    θ + εδ and a clone θ − εδ is appended; a new unit's column is appended; a residual unit's
//!    fan-out row is halved and copied for its clone, a new residual unit gets fan-out ε·c.
//! 2. *stream side*, for each dense block's group (the dense block and the residual blocks that
//!    follow it): every consumer row of a split unit is halved and copied; residual blocks copy their
//!    fan-out column for the clone; a new dense unit gets consumer row ε·c (extended to the
//!    consumer's own clones and new units) and zero rows/columns in the residual blocks.
//!
//! New layers are inserted first, on the old stream, so that pass 2 widens them like any other
//! residual block.

pub mod firefly;
pub mod random;
pub mod splitting;

use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::model::{Block, BlockKind, Matrix, Mlp, UnitId};

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

/// Split unit `unit` of block `block` into θ ± ε·δ, each offspring with half the out-weights.
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

/// How [`apply_plan_with`] treats values: as weights (the real surgery) or as optimiser moments
/// carried across growth (parents' moments copied, never halved; new entries zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surgery {
    /// Materialise the plan on the network's weights.
    Weights,
    /// Reshape optimiser moments the same way.
    Moments,
}

/// Applies a plan to a network: the one function that grows a network. Returns the grown network
/// and the lineage of its new units.
pub fn apply_plan(mlp: &Mlp, plan: &GrowthPlan) -> Result<(Mlp, Vec<Lineage>), EngineError> {
    apply_plan_with(mlp, plan, Surgery::Weights)
}

fn invalid(message: String) -> EngineError {
    EngineError::Internal(format!("invalid growth plan: {message}"))
}

fn check_plan(mlp: &Mlp, plan: &GrowthPlan) -> Result<(), EngineError> {
    let n_blocks = mlp.blocks.len();
    let mut seen = Vec::new();
    for s in &plan.splits {
        let block = mlp
            .blocks
            .get(s.block)
            .ok_or_else(|| invalid(format!("split names block {}", s.block)))?;
        if s.unit >= block.n_units() {
            return Err(invalid(format!(
                "split names unit {} of block {}",
                s.unit, s.block
            )));
        }
        if s.delta.len() != block.d_in() + 1 {
            return Err(invalid("split direction has the wrong length".into()));
        }
        if seen.contains(&(s.block, s.unit)) {
            return Err(invalid(format!(
                "unit {} of block {} split twice",
                s.unit, s.block
            )));
        }
        seen.push((s.block, s.unit));
    }
    for u in &plan.new_units {
        if u.block >= n_blocks {
            return Err(invalid(format!("new unit names block {}", u.block)));
        }
        if u.fan_in.len() != mlp.blocks[u.block].d_in() + 1
            || u.fan_out.len() != consumer_width(mlp, u.block)
        {
            return Err(invalid("new unit weights have the wrong length".into()));
        }
    }
    let mut positions = Vec::new();
    for l in &plan.new_layers {
        if l.after_block >= n_blocks || l.units.is_empty() || positions.contains(&l.after_block) {
            return Err(invalid(format!(
                "bad new layer after block {}",
                l.after_block
            )));
        }
        positions.push(l.after_block);
        let d = mlp.blocks[l.after_block].d_out();
        if l.units
            .iter()
            .any(|u| u.fan_in.len() != d + 1 || u.fan_out.len() != d)
        {
            return Err(invalid("new layer weights have the wrong length".into()));
        }
    }
    Ok(())
}

/// Width a new unit of block `block` writes to: the next dense block's (or output's) units for a
/// dense block, the stream width for a residual block.
pub fn consumer_width(mlp: &Mlp, block: usize) -> usize {
    match mlp.blocks[block].kind {
        BlockKind::Residual => mlp.blocks[block].d_in(),
        BlockKind::Dense => match consumer_of(mlp, block) {
            Some(c) => mlp.blocks[c].n_units(),
            None => mlp.out_bias.len(),
        },
    }
}

/// The next dense block after `block` (`None`: the output layer consumes it).
pub fn consumer_of(mlp: &Mlp, block: usize) -> Option<usize> {
    (block + 1..mlp.blocks.len()).find(|&b| mlp.blocks[b].kind == BlockKind::Dense)
}

/// [`apply_plan`], or the same reshaping of optimiser moments.
pub fn apply_plan_with(
    mlp: &Mlp,
    plan: &GrowthPlan,
    mode: Surgery,
) -> Result<(Mlp, Vec<Lineage>), EngineError> {
    check_plan(mlp, plan)?;
    let weights = mode == Surgery::Weights;
    let mut out = mlp.clone();
    let mut lineage = Vec::new();

    // New layers, on the old stream. `index[b]` is old block b's index in the grown network.
    let mut layers = plan.new_layers.clone();
    layers.sort_by_key(|l| l.after_block);
    for layer in layers.iter().rev() {
        let d = mlp.blocks[layer.after_block].d_out();
        let m = layer.units.len();
        let mut fan_in = Matrix::zeros(d, 0);
        let mut fan_out = Matrix::zeros(0, d);
        let mut bias = Vec::with_capacity(m);
        let mut ids = Vec::with_capacity(m);
        for unit in &layer.units {
            let (w, c): (Vec<f32>, Vec<f32>) = if weights {
                (
                    unit.fan_in.clone(),
                    unit.fan_out.iter().map(|c| unit.eps * c).collect(),
                )
            } else {
                (vec![0.0; d + 1], vec![0.0; d])
            };
            fan_in.push_column(&w[..d]);
            bias.push(w[d]);
            fan_out.push_row(&c);
            ids.push(out.fresh_unit_id());
        }
        out.blocks.insert(
            layer.after_block + 1,
            Block {
                kind: BlockKind::Residual,
                fan_in,
                bias,
                fan_out: Some(fan_out),
                unit_ids: ids,
            },
        );
    }
    let index: Vec<usize> = (0..mlp.blocks.len())
        .map(|b| b + layers.iter().filter(|l| l.after_block < b).count())
        .collect();
    for layer in &layers {
        let nb = index[layer.after_block] + 1;
        for &id in &out.blocks[nb].unit_ids {
            lineage.push(Lineage {
                child: id,
                parent: None,
                kind: CandidateKind::Layer,
                block: nb,
            });
        }
    }

    // Pass 1: fan-in side. Per grown-network block: (parent column, clone column) pairs and the
    // new units' (ε, c) in column order.
    let n_new = out.blocks.len();
    let mut clones: Vec<Vec<usize>> = vec![Vec::new(); n_new];
    let mut new_outs: Vec<Vec<Vec<f32>>> = vec![Vec::new(); n_new];
    for s in &plan.splits {
        let nb = index[s.block];
        let parent_id = out.blocks[nb].unit_ids[s.unit];
        let clone_id = out.fresh_unit_id();
        let block = &mut out.blocks[nb];
        let d = block.d_in();
        let theta = block.theta(s.unit);
        let (plus, minus): (Vec<f32>, Vec<f32>) = if weights {
            (
                theta
                    .iter()
                    .zip(&s.delta)
                    .map(|(t, d)| t + s.eps * d)
                    .collect(),
                theta
                    .iter()
                    .zip(&s.delta)
                    .map(|(t, d)| t - s.eps * d)
                    .collect(),
            )
        } else {
            (theta.clone(), theta)
        };
        for (r, v) in plus[..d].iter().enumerate() {
            block.fan_in.set(r, s.unit, *v);
        }
        block.bias[s.unit] = plus[d];
        block.fan_in.push_column(&minus[..d]);
        block.bias.push(minus[d]);
        block.unit_ids.push(clone_id);
        if let Some(fan_out) = &mut block.fan_out {
            if weights {
                fan_out.scale_row(s.unit, 0.5);
            }
            let row = fan_out.row(s.unit).to_vec();
            fan_out.push_row(&row);
        }
        clones[nb].push(s.unit);
        lineage.push(Lineage {
            child: clone_id,
            parent: Some(parent_id),
            kind: CandidateKind::Split,
            block: nb,
        });
    }
    for u in &plan.new_units {
        let nb = index[u.block];
        let id = out.fresh_unit_id();
        let block = &mut out.blocks[nb];
        let d = block.d_in();
        let w = if weights {
            u.fan_in.clone()
        } else {
            vec![0.0; d + 1]
        };
        block.fan_in.push_column(&w[..d]);
        block.bias.push(w[d]);
        block.unit_ids.push(id);
        let c: Vec<f32> = if weights {
            u.fan_out.iter().map(|c| u.eps * c).collect()
        } else {
            vec![0.0; u.fan_out.len()]
        };
        match &mut block.fan_out {
            Some(fan_out) => fan_out.push_row(&c),
            None => new_outs[nb].push(c),
        }
        lineage.push(Lineage {
            child: id,
            parent: None,
            kind: CandidateKind::New,
            block: nb,
        });
    }

    // Pass 2: stream side, for each dense block's group.
    for g in 0..n_new {
        if out.blocks[g].kind != BlockKind::Dense {
            continue;
        }
        if clones[g].is_empty() && new_outs[g].is_empty() {
            continue;
        }
        let mut b = g + 1;
        while b < n_new && out.blocks[b].kind == BlockKind::Residual {
            let block = &mut out.blocks[b];
            for &parent in &clones[g] {
                if weights {
                    block.fan_in.scale_row(parent, 0.5);
                }
                let row = block.fan_in.row(parent).to_vec();
                block.fan_in.push_row(&row);
                if let Some(fan_out) = &mut block.fan_out {
                    let col = fan_out.column(parent);
                    fan_out.push_column(&col);
                }
            }
            for _ in &new_outs[g] {
                let cols = block.fan_in.cols;
                block.fan_in.push_row(&vec![0.0; cols]);
                if let Some(fan_out) = &mut block.fan_out {
                    let rows = fan_out.rows;
                    fan_out.push_column(&vec![0.0; rows]);
                }
            }
            b += 1;
        }
        // The consumer: block b if dense, else the output layer.
        let (consumer_clones, consumer_new) = if b < n_new {
            (clones[b].clone(), count_new(plan, &index, b))
        } else {
            (Vec::new(), 0)
        };
        let matrix = if b < n_new {
            &mut out.blocks[b].fan_in
        } else {
            &mut out.out_weight
        };
        for &parent in &clones[g] {
            if weights {
                matrix.scale_row(parent, 0.5);
            }
            let row = matrix.row(parent).to_vec();
            matrix.push_row(&row);
        }
        for c in &new_outs[g] {
            let mut row = c.clone();
            for &p in &consumer_clones {
                row.push(c[p]);
            }
            row.extend(std::iter::repeat_n(0.0, consumer_new));
            matrix.push_row(&row);
        }
    }
    out.check_shapes()?;
    Ok((out, lineage))
}

fn count_new(plan: &GrowthPlan, index: &[usize], grown_block: usize) -> usize {
    plan.new_units
        .iter()
        .filter(|u| index[u.block] == grown_block)
        .count()
}
