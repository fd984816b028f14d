//! Firefly neural architecture descent: candidates, Step 1, Step 2, selection → plan.
//!
//! 1. **Candidates** ([`Candidates::new`]): every existing unit split (θ ± εδ, halved out-weights),
//!    m' new units per block (ε·c·σ(w·x̃)) and, for the `+layers` variant, a candidate residual layer
//!    of m' units after every block. All of them live in one augmented forward pass
//!    ([`augmented_forward`]) over the frozen base network; at ε = 0 it computes the base network
//!    exactly.
//! 2. **Step 1** ([`FireflyRun::step1`]): Adam on every ε and δ, projecting after every step:
//!    ε ← clamp(ε, ±ε_max), δ ← δ / max(1, ‖δ‖₂); a split's ε is held at the step every splitting
//!    method takes ([`super::split_step`]) and only its δ moves.
//! 3. **Step 2** ([`FireflyRun::step2`]): the path-integrated gradient s_i, the mean of ∂L/∂ε_i
//!    over a midpoint grid of g points, and the score ε̂_i·s_i (the candidate's predicted loss
//!    change). [`ScorePath`] says along which path: `joint`, every ε at α·ε̂ (Σ scores ≈
//!    L(ε̂) − L(0)), or `own-axis`, ε_i at α·ε̂_i with the others at ε̂ (the seed's definition;
//!    score_i ≈ L(ε̂) − L(ε̂ with ε_i = 0)). The own-axis pass stacks the data once per candidate,
//!    each copy with its own ε, so one backward pass gives every candidate's own-axis gradient.
//! 4. **Selection** ([`FireflyRun::finish`]): the η most negative scores over all layers and kinds,
//!    never a score ≥ 0, at most `max_new_layers` new layers, as a [`GrowthPlan`].
//!
//! Splits are scored along the path because at ε = 0 a split's gradient is exactly zero.
//!
//! A network with frozen units ([`GrowthInput::frozen`], continual learning) gets continual
//! learning's neighbourhood instead of splits (spec §8): each frozen unit's candidate is a copy,
//! a one-sided split ½[σ(z + u) + σ(z)] that leaves the unit as it is beside θ + εδ, with its ε
//! free in Step 1 (|ε| ≤ ε_max); its trainable units are not split ([`Copies`]).
//!
//! The augmented stream of a dense block is kept folded: the consumers of a split unit only ever
//! see the mean of its two offspring, so the pass carries that mean `S` (width of the base block)
//! and adds the new units' contribution `(ε ⊙ σ(x̃ W_new)) C_new` directly to the consumer's
//! pre-activation. Residual blocks add their output to both offspring alike, so they act on `S`.
//!
//! [`ScorePath`]: super::ScorePath

use burn::tensor::{Device, Tensor};
use rand_chacha::ChaCha8Rng;

use super::grower::GrowthInput;
use super::{
    CandidateKind, CandidateKinds, CandidateScore, GrowthConfig, GrowthPlan, LayerUnitChoice,
    NewLayerChoice, NewUnitChoice, SplitChoice, select_top,
};
use crate::error::EngineError;
use crate::model::{Mlp, Targets, loss};
use crate::optim::{Optimizer, OptimizerKind};
use crate::readback::read_all;

mod candidates;
mod step2;

pub use candidates::{Candidates, Copies, NewSlots, SplitSlots, augmented_forward};
use candidates::{augmented_forward_from, first_pre_activation};

/// One Firefly growth phase in progress. The session advances it a bounded amount at a time.
#[derive(Clone, Debug)]
pub struct FireflyRun {
    /// The base network (host copy, frozen).
    pub mlp: Mlp,
    /// The base network's parameters on the device.
    pub base: Vec<Tensor<2>>,
    /// The candidates and their current values.
    pub candidates: Candidates,
    config: GrowthConfig,
    inputs: Tensor<2>,
    targets: Targets,
    optimizer: Optimizer,
    steps_done: usize,
    points_done: usize,
    /// Own-axis scoring: chunks of candidates done at the current path point.
    chunks_done: usize,
    gradient_sums: Vec<Option<Tensor<2>>>,
    /// Training rows done of the step or path point in progress (more rows than
    /// one unit covers take several units).
    rows_done: usize,
    /// The Step-1 gradients gathered so far over the rows done.
    step_sums: Vec<Option<Tensor<2>>>,
    /// The most training rows one unit goes over ([`growth_rows`]).
    unit_rows: usize,
    /// The first block's base pre-activation on every training row, when one unit covers them
    /// all: every Step-1 step reuses it (two launches a step fewer on a GPU).
    first_pre: Option<Tensor<2>>,
}

/// The most training rows one unit of Step 1 or Step 2 goes over. A larger data set (up to the
/// documented 100,000 points) takes a step or a path point over several units, each a run of
/// rows whose mean loss weighs rows/n in the whole mean, so that a browser frame stays short;
/// the runs depend only on the number of rows, so the same seed gives the same growth whatever
/// the frames. Up to this many training rows (Figure 3's 250, the page's default 250,
/// `firefly growth-time`'s 1,000, the 1,800 of the page's largest generated data set) a unit
/// goes over all of them, exactly as one pass.
pub const GROWTH_ROWS: usize = 2048;

/// The work one unit of Step 1 or Step 2 may do on the CPU, in training rows × base-network
/// parameters: a wide network's step over the page's 500 training rows is tens of
/// milliseconds in a browser (about 28 ms at 1,024 units), so there a unit covers fewer rows,
/// about 10 ms. A network of up to 488 parameters (16,16 on two inputs) keeps [`GROWTH_ROWS`];
/// the rows a unit covers depend only on the network, the data and the device, so the same seed
/// still gives the same growth on one backend whatever the frames.
pub const CPU_GROWTH_WORK: usize = 1_000_000;

/// The fewest rows a unit of Step 1 or Step 2 covers.
const MIN_GROWTH_ROWS: usize = 64;

/// The training rows one unit of Step 1 or Step 2 goes over for `mlp` on `device`: on a GPU
/// [`GROWTH_ROWS`] (its cost is launches, not rows), on the CPU as many as
/// [`CPU_GROWTH_WORK`] allows, between 64 and [`GROWTH_ROWS`].
pub fn growth_rows(mlp: &Mlp, device: &Device) -> usize {
    if !crate::model::is_cpu(device) {
        return GROWTH_ROWS;
    }
    (CPU_GROWTH_WORK / mlp.n_params().max(1)).clamp(MIN_GROWTH_ROWS, GROWTH_ROWS)
}

impl FireflyRun {
    /// Builds the candidates for `mlp` (whose device parameters are `base`) on the training data,
    /// with nothing frozen.
    pub fn new(
        mlp: &Mlp,
        base: Vec<Tensor<2>>,
        kinds: CandidateKinds,
        config: &GrowthConfig,
        inputs: Tensor<2>,
        targets: Targets,
        rng: &mut ChaCha8Rng,
    ) -> Self {
        let input = GrowthInput::new(mlp, base, (inputs, targets), config);
        FireflyRun::start(input, kinds, rng)
    }

    /// Builds the candidates of `kinds` for `input` (its frozen units' candidates are copies).
    pub fn start(input: GrowthInput<'_>, kinds: CandidateKinds, rng: &mut ChaCha8Rng) -> Self {
        let candidates = Candidates::new(&input, kinds, rng);
        let n = candidates.values.len();
        let unit_rows = growth_rows(input.mlp, &input.inputs.device());
        let first_pre = (input.inputs.dims()[0] <= unit_rows)
            .then(|| first_pre_activation(&input.params, input.inputs.clone()));
        FireflyRun {
            mlp: input.mlp.clone(),
            base: input.params,
            candidates,
            config: input.config.clone(),
            inputs: input.inputs,
            targets: input.targets,
            optimizer: Optimizer::new(OptimizerKind::Adam, 1),
            steps_done: 0,
            points_done: 0,
            chunks_done: 0,
            gradient_sums: vec![None; n],
            rows_done: 0,
            step_sums: vec![None; n],
            unit_rows,
            first_pre,
        }
    }

    /// Training rows.
    fn rows(&self) -> usize {
        self.inputs.dims()[0]
    }

    /// The training rows of the unit that starts at row `start`: inputs, targets, how many, and
    /// the weight of their mean loss in the whole mean (`None` when one unit covers every row:
    /// then nothing is weighed, as in one pass).
    fn rows_from(&self, start: usize) -> (Tensor<2>, Targets, usize, Option<f32>) {
        let n = self.rows();
        if n <= self.unit_rows {
            return (self.inputs.clone(), self.targets.clone(), n, None);
        }
        let len = self.unit_rows.min(n - start);
        let targets = Targets {
            tensor: self.targets.tensor.clone().narrow(0, start, len),
            task: self.targets.task,
        };
        let inputs = self.inputs.clone().narrow(0, start, len);
        (inputs, targets, len, Some(len as f32 / n as f32))
    }

    /// Moves the rows done on by `len`; returns whether the step or point covered every row
    /// (and starts the next one from the first row).
    fn rows_advanced(&mut self, len: usize) -> bool {
        self.rows_done += len;
        if self.rows_done < self.rows() {
            return false;
        }
        self.rows_done = 0;
        true
    }

    /// Augmented training loss at the given candidate values.
    pub fn augmented_loss(&self, values: &[Tensor<2>]) -> Tensor<1> {
        let out = augmented_forward(
            &self.mlp,
            &self.base,
            &self.candidates,
            values,
            self.inputs.clone(),
        );
        loss(out, &self.targets)
    }

    /// Gradient of the augmented loss with respect to every ε tensor at `values` (δ held fixed).
    /// Returned in [`Candidates::eps_slots`] order.
    pub fn eps_gradients(&self, values: &[Tensor<2>]) -> Vec<Option<Tensor<2>>> {
        self.eps_gradients_on(values, (self.inputs.clone(), &self.targets), None)
    }

    /// [`FireflyRun::eps_gradients`] of the mean loss over some rows, weighed by `weight`.
    fn eps_gradients_on(
        &self,
        values: &[Tensor<2>],
        (inputs, targets): (Tensor<2>, &Targets),
        weight: Option<f32>,
    ) -> Vec<Option<Tensor<2>>> {
        let eps = self.candidates.eps_slots();
        let leaves: Vec<Tensor<2>> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if eps.contains(&i) {
                    v.clone().autodiff().require_grad()
                } else {
                    v.clone()
                }
            })
            .collect();
        let out = augmented_forward(&self.mlp, &self.base, &self.candidates, &leaves, inputs);
        let mut l = loss(out, targets);
        if let Some(w) = weight {
            l = l.mul_scalar(w);
        }
        let grads = l.backward();
        eps.iter().map(|&i| leaves[i].grad(&grads)).collect()
    }

    /// Every candidate of the augmented network, in the order the diagram shows them.
    pub fn pending(&self) -> Vec<crate::grow::PendingCandidate> {
        use crate::grow::{CandidateKind, PendingCandidate};
        let mut out = Vec::new();
        for (b, block) in self.mlp.blocks.iter().enumerate() {
            if self.candidates.split.get(b).is_some_and(Option::is_some) {
                for (i, id) in block.unit_ids.iter().enumerate() {
                    if !self.candidates.is_candidate(b, i) {
                        continue;
                    }
                    out.push(PendingCandidate {
                        kind: CandidateKind::Split,
                        block: b,
                        index: i,
                        unit_id: Some(*id),
                    });
                }
            }
            for (slots, kind) in [
                (&self.candidates.new, CandidateKind::New),
                (&self.candidates.layer, CandidateKind::Layer),
            ] {
                if slots.get(b).is_some_and(Option::is_some) {
                    out.extend((0..self.config.candidates).map(|j| PendingCandidate {
                        kind,
                        block: b,
                        index: j,
                        unit_id: None,
                    }));
                }
            }
        }
        out
    }

    /// The growth settings the phase runs with.
    pub fn config(&self) -> &GrowthConfig {
        &self.config
    }

    /// Step-1 steps taken so far.
    pub fn steps_done(&self) -> usize {
        self.steps_done
    }

    /// Whether Step 1 has taken all its steps.
    pub fn step1_done(&self) -> bool {
        self.steps_done >= self.config.step1_steps
    }

    /// Path points of Step 2 evaluated so far.
    pub fn points_done(&self) -> usize {
        self.points_done
    }

    /// Whether Step 2 has evaluated every path point.
    pub fn step2_done(&self) -> bool {
        self.points_done >= self.config.path_points
    }

    /// Runs up to `max_work` units of Step 1 (Adam on ε and δ, projection after each step; a
    /// unit is a step, or a run of [`growth_rows`] rows of one on a larger data set). Returns
    /// the units run.
    ///
    /// A split's ε is not a variable here: it stays at the split's step
    /// ([`super::split_step`]) and only δ moves (its norm, at most 1, sets how far the split goes).
    /// A split computes the same function at ε and −ε, so ∂L/∂ε = 0 at ε = 0, and a split whose
    /// random starting δ raised the loss (positive curvature along it) used to let gradient
    /// descent walk ε to 0, where δ's gradient (∝ ε²) vanishes too: the search stalled and the
    /// split scored 0 even when a direction of negative curvature existed. With ε held, δ
    /// descends ½ε²·δᵀSδ towards that direction (S the unit's splitting matrix), as exact
    /// splitting's eigenvector does.
    pub fn step1(&mut self, max_work: usize) -> usize {
        let mut taken = 0;
        // A split's ε is held: it is no variable (no gradient computed, no update); in a block
        // with copies, only the splits' entries are held.
        let held = self.candidates.split_eps_slots();
        let moves = |i: usize| !held.contains(&i) || self.candidates.copies_at(i).is_some();
        let moving: Vec<usize> = (0..self.candidates.values.len())
            .filter(|&i| moves(i))
            .collect();
        while taken < max_work && !self.step1_done() {
            let leaves: Vec<Tensor<2>> = self
                .candidates
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| match moving.contains(&i) {
                    true => v.clone().autodiff().require_grad(),
                    false => v.clone(),
                })
                .collect();
            let (inputs, targets, len, weight) = self.rows_from(self.rows_done);
            // Every row in one unit: the first block's base pre-activation is the run's.
            let first_pre = self.first_pre.clone().filter(|_| weight.is_none());
            let out = augmented_forward_from(
                &self.mlp,
                &self.base,
                &self.candidates,
                &leaves,
                inputs,
                first_pre,
            );
            let mut l = loss(out, &targets);
            if let Some(w) = weight {
                l = l.mul_scalar(w);
            }
            let grads = l.backward();
            for &i in &moving {
                if let Some(grad) = leaves[i].grad(&grads) {
                    let grad = match self.candidates.copies_at(i) {
                        Some(c) => grad.mask_fill(c.held.clone(), 0.0),
                        None => grad,
                    };
                    self.step_sums[i] = Some(match self.step_sums[i].take() {
                        Some(sum) => sum + grad,
                        None => grad,
                    });
                }
            }
            taken += 1;
            if !self.rows_advanced(len) {
                continue;
            }
            // One update of every variable together: a GPU's cost here is launches. Held
            // tensors stay as they are (a step with no gradient and no moments leaves a value).
            let values: Vec<Tensor<2>> = moving
                .iter()
                .map(|&i| self.candidates.values[i].clone())
                .collect();
            let g = moving.iter().map(|&i| self.step_sums[i].take()).collect();
            let stepped = self.optimizer.step_as_one(self.config.step1_lr, &values, g);
            let mut all = self.candidates.values.clone();
            for (&i, value) in moving.iter().zip(stepped) {
                all[i] = value;
            }
            self.candidates.values = self.candidates.project(all, self.config.eps_max);
            self.steps_done += 1;
        }
        taken
    }

    /// Reads the scores back, ranks every candidate and returns the plan for at most `budget` new
    /// units, with every candidate's score.
    pub async fn finish(
        &self,
        budget: usize,
    ) -> Result<(GrowthPlan, Vec<CandidateScore>), EngineError> {
        let g = self.config.path_points.max(1) as f32;
        let eps = self.candidates.eps_slots();
        let mut reads = self.candidates.values.clone();
        for &i in &eps {
            let sum = self.gradient_sums[i]
                .clone()
                .unwrap_or_else(|| self.candidates.values[i].zeros_like());
            reads.push(self.candidates.values[i].clone() * sum.div_scalar(g));
        }
        let host = read_all(reads).await?;
        let n = self.candidates.values.len();
        let score_of = |slot: usize| -> &Vec<f32> {
            let pos = eps.iter().position(|&e| e == slot).unwrap_or(0);
            &host[n + pos]
        };

        #[derive(Clone, Copy)]
        enum Key {
            Split(usize, usize),
            New(usize, usize),
            Layer(usize, usize),
        }
        let mut scored: Vec<(f32, Key)> = Vec::new();
        for b in 0..self.mlp.blocks.len() {
            if let Some(s) = &self.candidates.split[b] {
                for (i, score) in score_of(s.eps).iter().enumerate() {
                    if self.candidates.is_candidate(b, i) {
                        scored.push((*score, Key::Split(b, i)));
                    }
                }
            }
            if let Some(s) = &self.candidates.new[b] {
                for (j, score) in score_of(s.eps).iter().enumerate() {
                    scored.push((*score, Key::New(b, j)));
                }
            }
        }
        for b in 0..self.mlp.blocks.len() {
            if let Some(s) = &self.candidates.layer[b] {
                for (j, score) in score_of(s.eps).iter().enumerate() {
                    scored.push((*score, Key::Layer(b, j)));
                }
            }
        }
        let chosen = select_top(&scored, budget, self.config.max_new_layers, |k| match k {
            Key::Layer(b, _) => Some(*b),
            _ => None,
        });

        let column = |slot: usize, rows: usize, cols: usize, c: usize| -> Vec<f32> {
            (0..rows).map(|r| host[slot][r * cols + c]).collect()
        };
        let group_unit = |s: &NewSlots, d: usize, dc: usize, j: usize| {
            let k = self.config.candidates;
            let mut fan_in = column(s.fan_in, d, k, j);
            fan_in.push(host[s.bias][j]);
            if self.candidates.new_unit_scale != 1.0 {
                fan_in
                    .iter_mut()
                    .for_each(|w| *w *= self.candidates.new_unit_scale);
            }
            let fan_out = host[s.fan_out][j * dc..(j + 1) * dc].to_vec();
            (host[s.eps][j], fan_in, fan_out)
        };
        let mut plan = GrowthPlan::default();
        let mut layers: Vec<NewLayerChoice> = Vec::new();
        for &c in &chosen {
            let (score, key) = scored[c];
            match key {
                Key::Split(b, i) => {
                    let s = self.candidates.split[b].as_ref().ok_or_else(|| {
                        EngineError::Internal("split candidate without slots".into())
                    })?;
                    let block = &self.mlp.blocks[b];
                    let mut delta = column(s.delta_w, block.d_in(), block.n_units(), i);
                    delta.push(host[s.delta_b][i]);
                    plan.splits.push(SplitChoice {
                        block: b,
                        unit: i,
                        eps: host[s.eps][i],
                        delta,
                        score,
                        keep_parent: self.candidates.copies[b]
                            .as_ref()
                            .is_some_and(|c| c.keeps(i)),
                    });
                }
                Key::New(b, j) => {
                    let s = self.candidates.new[b].as_ref().ok_or_else(|| {
                        EngineError::Internal("new candidate without slots".into())
                    })?;
                    let d = self.mlp.blocks[b].d_in();
                    let (eps, fan_in, fan_out) = group_unit(s, d, self.mlp.consumer_width(b), j);
                    plan.new_units.push(NewUnitChoice {
                        block: b,
                        eps,
                        fan_in,
                        fan_out,
                        score,
                    });
                }
                Key::Layer(b, j) => {
                    let s = self.candidates.layer[b].as_ref().ok_or_else(|| {
                        EngineError::Internal("layer candidate without slots".into())
                    })?;
                    let d = self.mlp.blocks[b].d_out();
                    let (eps, fan_in, fan_out) = group_unit(s, d, d, j);
                    let unit = LayerUnitChoice {
                        eps,
                        fan_in,
                        fan_out,
                        score,
                    };
                    match layers.iter_mut().find(|l| l.after_block == b) {
                        Some(layer) => layer.units.push(unit),
                        None => layers.push(NewLayerChoice {
                            after_block: b,
                            units: vec![unit],
                        }),
                    }
                }
            }
        }
        plan.new_layers = layers;

        let candidates = scored
            .iter()
            .enumerate()
            .map(|(i, (score, key))| {
                let (kind, block, index) = match *key {
                    Key::Split(b, i) => (CandidateKind::Split, b, i),
                    Key::New(b, j) => (CandidateKind::New, b, j),
                    Key::Layer(b, j) => (CandidateKind::Layer, b, j),
                };
                CandidateScore {
                    kind,
                    block,
                    index,
                    unit_id: match kind {
                        CandidateKind::Split => Some(self.mlp.blocks[block].unit_ids[index]),
                        _ => None,
                    },
                    score: *score,
                    chosen: chosen.contains(&i),
                }
            })
            .collect();
        Ok((plan, candidates))
    }
}
