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
//! The augmented stream of a dense block is kept folded: the consumers of a split unit only ever
//! see the mean of its two offspring, so the pass carries that mean `S` (width of the base block)
//! and adds the new units' contribution `(ε ⊙ σ(x̃ W_new)) C_new` directly to the consumer's
//! pre-activation. Residual blocks add their output to both offspring alike, so they act on `S`.

use burn::tensor::{Device, Tensor, TensorData};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::{
    CandidateKind, CandidateKinds, CandidateScore, GrowthConfig, GrowthPlan, LayerUnitChoice,
    NewLayerChoice, NewUnitChoice, ScorePath, SplitChoice, select_top,
};
use crate::error::EngineError;
use crate::model::{BlockKind, Matrix, Mlp, Targets, loss};
use crate::optim::{Optimizer, OptimizerKind};
use crate::readback::read_all;

/// Indices of one block's split candidates in [`Candidates::values`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplitSlots {
    /// ε `[1, m]`.
    pub eps: usize,
    /// δ's fan-in part `[d, m]`.
    pub delta_w: usize,
    /// δ's bias part `[1, m]`.
    pub delta_b: usize,
}

/// Indices of a group of new-unit candidates (in a block or a candidate layer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewSlots {
    /// ε `[1, k]`.
    pub eps: usize,
    /// Fan-in `[d, k]`.
    pub fan_in: usize,
    /// Bias `[1, k]`.
    pub bias: usize,
    /// Fan-out `[k, d_c]`.
    pub fan_out: usize,
}

/// The augmented network's candidates: where each lives and its current values.
#[derive(Clone, Debug)]
pub struct Candidates {
    /// Per block: its split candidates, if any.
    pub split: Vec<Option<SplitSlots>>,
    /// Per block: its new-unit candidates, if any.
    pub new: Vec<Option<NewSlots>>,
    /// Per block: the candidate layer after it, if any.
    pub layer: Vec<Option<NewSlots>>,
    /// Every candidate tensor (plain values, no autodiff).
    pub values: Vec<Tensor<2>>,
}

/// A random direction with unit norm over all given lengths together.
pub(crate) fn unit_direction(lengths: &[usize], rng: &mut ChaCha8Rng) -> Vec<Vec<f32>> {
    let mut parts: Vec<Vec<f32>> = lengths
        .iter()
        .map(|&n| {
            (0..n)
                .map(|_| rng.sample::<f32, _>(StandardNormal))
                .collect()
        })
        .collect();
    let norm = parts
        .iter()
        .flatten()
        .map(|v| v * v)
        .sum::<f32>()
        .sqrt()
        .max(1e-12);
    for v in parts.iter_mut().flatten() {
        *v /= norm;
    }
    parts
}

fn upload(m: &Matrix, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(m.data.clone(), [m.rows, m.cols]), device)
}

impl Candidates {
    /// Builds the candidates of `kinds` for `mlp`: δ of every candidate random with unit norm,
    /// ε = ε_max/10 for new units and layer units, and for splits the step every splitting method
    /// takes ([`super::split_step`]), held there through Step 1 (see [`FireflyRun::step1`]).
    pub fn new(
        mlp: &Mlp,
        kinds: CandidateKinds,
        config: &GrowthConfig,
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Self {
        let mut host: Vec<Matrix> = Vec::new();
        let mut split = Vec::new();
        let mut new = Vec::new();
        let mut layer = Vec::new();
        let k = config.candidates;
        let new_group = |host: &mut Vec<Matrix>, d: usize, dc: usize, rng: &mut ChaCha8Rng| {
            let mut fan_in = Matrix::zeros(d, k);
            let mut bias = Matrix::zeros(1, k);
            let mut fan_out = Matrix::zeros(k, dc);
            for j in 0..k {
                let parts = unit_direction(&[d, 1, dc], rng);
                for (r, v) in parts[0].iter().enumerate() {
                    fan_in.set(r, j, *v);
                }
                bias.set(0, j, parts[1][0]);
                for (c, v) in parts[2].iter().enumerate() {
                    fan_out.set(j, c, *v);
                }
            }
            let slots = NewSlots {
                eps: host.len(),
                fan_in: host.len() + 1,
                bias: host.len() + 2,
                fan_out: host.len() + 3,
            };
            host.push(Matrix::from_vec(1, k, vec![config.eps_max / 10.0; k]));
            host.push(fan_in);
            host.push(bias);
            host.push(fan_out);
            slots
        };
        for (b, block) in mlp.blocks.iter().enumerate() {
            let d = block.d_in();
            let m = block.n_units();
            split.push(if kinds.split && m > 0 {
                let mut delta_w = Matrix::zeros(d, m);
                let mut delta_b = Matrix::zeros(1, m);
                let steps: Vec<f32> = (0..m)
                    .map(|i| super::split_step(&block.theta(i), config.eps_max, config.split_scale))
                    .collect();
                for i in 0..m {
                    let parts = unit_direction(&[d, 1], rng);
                    for (r, v) in parts[0].iter().enumerate() {
                        delta_w.set(r, i, *v);
                    }
                    delta_b.set(0, i, parts[1][0]);
                }
                let slots = SplitSlots {
                    eps: host.len(),
                    delta_w: host.len() + 1,
                    delta_b: host.len() + 2,
                };
                host.push(Matrix::from_vec(1, m, steps));
                host.push(delta_w);
                host.push(delta_b);
                Some(slots)
            } else {
                None
            });
            new.push(if kinds.new {
                Some(new_group(&mut host, d, mlp.consumer_width(b), rng))
            } else {
                None
            });
            layer.push(if kinds.layers {
                let d_out = block.d_out();
                Some(new_group(&mut host, d_out, d_out, rng))
            } else {
                None
            });
        }
        Candidates {
            split,
            new,
            layer,
            values: host.iter().map(|m| upload(m, device)).collect(),
        }
    }

    /// Indices of the split candidates' ε tensors (held fixed through Step 1).
    pub fn split_eps_slots(&self) -> Vec<usize> {
        self.split.iter().flatten().map(|s| s.eps).collect()
    }

    /// Indices of every ε tensor.
    pub fn eps_slots(&self) -> Vec<usize> {
        let mut out: Vec<usize> = self.split.iter().flatten().map(|s| s.eps).collect();
        out.extend(self.new.iter().flatten().map(|s| s.eps));
        out.extend(self.layer.iter().flatten().map(|s| s.eps));
        out.sort_unstable();
        out
    }

    /// Projects values onto the constraint set: |ε| ≤ ε_max for new units and layer units (a
    /// split's ε is held at its step, [`super::split_step`]), ‖δ_i‖₂ ≤ 1 for every candidate.
    pub fn project(&self, values: Vec<Tensor<2>>, eps_max: f32) -> Vec<Tensor<2>> {
        let mut values = values;
        let splits = self.split_eps_slots();
        for slot in self.eps_slots() {
            if !splits.contains(&slot) {
                values[slot] = values[slot].clone().clamp(-eps_max, eps_max);
            }
        }
        for s in self.split.iter().flatten() {
            let norm = (values[s.delta_w].clone().square().sum_dim(0)
                + values[s.delta_b].clone().square())
            .sqrt(); // [1, m]
            let scale = norm.clamp_min(1.0).recip();
            values[s.delta_w] = values[s.delta_w].clone() * scale.clone();
            values[s.delta_b] = values[s.delta_b].clone() * scale;
        }
        for s in self.new.iter().chain(self.layer.iter()).flatten() {
            let norm = (values[s.fan_in].clone().square().sum_dim(0)
                + values[s.bias].clone().square()
                + values[s.fan_out].clone().square().sum_dim(1).transpose())
            .sqrt(); // [1, k]
            let scale = norm.clamp_min(1.0).recip();
            values[s.fan_in] = values[s.fan_in].clone() * scale.clone();
            values[s.bias] = values[s.bias].clone() * scale.clone();
            values[s.fan_out] = values[s.fan_out].clone() * scale.transpose();
        }
        values
    }
}

/// The augmented network's forward pass.
///
/// `base` are the frozen parameters in [`Mlp::param_matrices`] order; `values` the candidate
/// tensors laid out as `candidates` says (they may be autodiff leaves).
///
/// # Shapes
/// - `inputs`: `[batch, n_inputs]`; returns `[batch, n_outputs]`.
pub fn augmented_forward(
    mlp: &Mlp,
    base: &[Tensor<2>],
    candidates: &Candidates,
    values: &[Tensor<2>],
    inputs: Tensor<2>,
) -> Tensor<2> {
    let act = mlp.activation;
    let new_units = |slots: &NewSlots, stream: &Tensor<2>| -> Tensor<2> {
        let a = act.forward(
            stream.clone().matmul(values[slots.fan_in].clone()) + values[slots.bias].clone(),
        ); // [batch, k]
        (a * values[slots.eps].clone()).matmul(values[slots.fan_out].clone()) // [batch, d_c]
    };
    let mut idx = 0;
    let mut stream = inputs; // S: [batch, d]
    let mut pending: Option<Tensor<2>> = None; // new units' input to the next consumer
    for (b, block) in mlp.blocks.iter().enumerate() {
        let mut z = stream.clone().matmul(base[idx].clone()) + base[idx + 1].clone(); // [batch, m]
        idx += 2;
        if block.kind == BlockKind::Dense
            && let Some(p) = pending.take()
        {
            z = z + p;
        }
        let h = match &candidates.split[b] {
            Some(s) => {
                let u = (stream.clone().matmul(values[s.delta_w].clone())
                    + values[s.delta_b].clone())
                    * values[s.eps].clone(); // [batch, m]
                (act.forward(z.clone() + u.clone()) + act.forward(z - u)).mul_scalar(0.5)
            }
            None => act.forward(z),
        };
        let new = candidates.new[b].as_ref().map(|s| new_units(s, &stream));
        match block.kind {
            BlockKind::Dense => {
                stream = h;
                pending = new;
            }
            BlockKind::Residual => {
                stream = stream + h.matmul(base[idx].clone());
                idx += 1;
                if let Some(n) = new {
                    stream = stream + n;
                }
            }
        }
        if let Some(s) = &candidates.layer[b] {
            stream = stream.clone() + new_units(s, &stream);
        }
    }
    let mut out = stream.matmul(base[idx].clone()) + base[idx + 1].clone();
    if let Some(p) = pending {
        out = out + p;
    }
    out
}

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
    /// [`GROWTH_ROWS`] take several units).
    rows_done: usize,
    /// The Step-1 gradients gathered so far over the rows done.
    step_sums: Vec<Option<Tensor<2>>>,
}

/// The most rows one own-axis pass stacks (the training data once per candidate of a chunk).
const OWN_AXIS_ROWS: usize = 1 << 15;

/// The most training rows one unit of Step 1 or Step 2 goes over. A larger data set (up to the
/// documented 100,000 points) takes a step or a path point over several units, each a run of
/// rows whose mean loss weighs rows/n in the whole mean, so that a browser frame stays short;
/// the runs depend only on the number of rows, so the same seed gives the same growth whatever
/// the frames. Up to this many training rows (Figure 3's 250, the page's default 250,
/// `firefly growth-time`'s 1,000, the 1,800 of the page's largest generated data set) a unit
/// goes over all of them, exactly as one pass.
pub const GROWTH_ROWS: usize = 2048;

impl FireflyRun {
    /// Builds the candidates for `mlp` (whose device parameters are `base`) on the training data.
    pub fn new(
        mlp: &Mlp,
        base: Vec<Tensor<2>>,
        kinds: CandidateKinds,
        config: &GrowthConfig,
        inputs: Tensor<2>,
        targets: Targets,
        rng: &mut ChaCha8Rng,
    ) -> Self {
        let device = inputs.device();
        let candidates = Candidates::new(mlp, kinds, config, rng, &device);
        let n = candidates.values.len();
        FireflyRun {
            mlp: mlp.clone(),
            base,
            candidates,
            config: config.clone(),
            inputs,
            targets,
            optimizer: Optimizer::new(OptimizerKind::Adam, n),
            steps_done: 0,
            points_done: 0,
            chunks_done: 0,
            gradient_sums: vec![None; n],
            rows_done: 0,
            step_sums: vec![None; n],
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
        if n <= GROWTH_ROWS {
            return (self.inputs.clone(), self.targets.clone(), n, None);
        }
        let len = GROWTH_ROWS.min(n - start);
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
    /// unit is a step, or a run of [`GROWTH_ROWS`] rows of one on a larger data set). Returns
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
        let held = self.candidates.split_eps_slots();
        while taken < max_work && !self.step1_done() {
            let leaves: Vec<Tensor<2>> = self
                .candidates
                .values
                .iter()
                .map(|v| v.clone().autodiff().require_grad())
                .collect();
            let (inputs, targets, len, weight) = self.rows_from(self.rows_done);
            let out = augmented_forward(&self.mlp, &self.base, &self.candidates, &leaves, inputs);
            let mut l = loss(out, &targets);
            if let Some(w) = weight {
                l = l.mul_scalar(w);
            }
            let grads = l.backward();
            for (i, leaf) in leaves.iter().enumerate() {
                if held.contains(&i) {
                    continue;
                }
                if let Some(grad) = leaf.grad(&grads) {
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
            let g = vec![None; self.step_sums.len()];
            let g = std::mem::replace(&mut self.step_sums, g);
            let stepped = self
                .optimizer
                .step(self.config.step1_lr, &self.candidates.values, g);
            self.candidates.values = self.candidates.project(stepped, self.config.eps_max);
            self.steps_done += 1;
        }
        taken
    }

    /// Every ε entry as (slot, column), in [`Candidates::eps_slots`] order: the candidates in the
    /// order the own-axis pass stacks them.
    fn eps_entries(&self) -> Vec<(usize, usize)> {
        self.candidates
            .eps_slots()
            .into_iter()
            .flat_map(|slot| {
                let m = self.candidates.values[slot].dims()[1];
                (0..m).map(move |j| (slot, j))
            })
            .collect()
    }

    /// Own-axis scoring: candidates stacked per pass, and passes per path point (at least one).
    fn own_axis_chunks(&self) -> (usize, usize) {
        let rows = self.rows().clamp(1, GROWTH_ROWS);
        let per = (OWN_AXIS_ROWS / rows).max(1);
        (per, self.eps_entries().len().div_ceil(per).max(1))
    }

    /// Runs up to `max_work` units of Step 2 and returns the number run. A unit is one point α of
    /// the midpoint grid for the joint path (∂L/∂ε at α·ε̂), and one chunk of candidates at one
    /// point for the own axis (a single chunk at the toy sizes of Figure 3); on more training
    /// rows than [`GROWTH_ROWS`], a run of them of either.
    pub fn step2(&mut self, max_work: usize) -> usize {
        let g = self.config.path_points;
        let mut taken = 0;
        while taken < max_work && !self.step2_done() {
            let alpha = (self.points_done as f32 + 0.5) / g as f32;
            match self.config.score {
                ScorePath::Joint => {
                    let len = self.joint_point(alpha);
                    if self.rows_advanced(len) {
                        self.points_done += 1;
                    }
                }
                ScorePath::OwnAxis => {
                    let (per, chunks) = self.own_axis_chunks();
                    let len = self.own_axis_chunk(alpha, self.chunks_done * per, per);
                    if self.rows_advanced(len) {
                        self.chunks_done += 1;
                    }
                    if self.chunks_done >= chunks {
                        self.chunks_done = 0;
                        self.points_done += 1;
                    }
                }
            }
            taken += 1;
        }
        taken
    }

    fn accumulate(&mut self, slot: usize, grad: Tensor<2>) {
        self.gradient_sums[slot] = Some(match self.gradient_sums[slot].take() {
            Some(sum) => sum + grad,
            None => grad,
        });
    }

    /// Joint path: adds ∂L/∂ε(α·ε̂) for every candidate, over the rows of the unit; returns how
    /// many rows.
    fn joint_point(&mut self, alpha: f32) -> usize {
        let eps = self.candidates.eps_slots();
        let mut values = self.candidates.values.clone();
        for &i in &eps {
            values[i] = values[i].clone().mul_scalar(alpha);
        }
        let (inputs, targets, len, weight) = self.rows_from(self.rows_done);
        let grads = self.eps_gradients_on(&values, (inputs, &targets), weight);
        for (&i, grad) in eps.iter().zip(grads) {
            if let Some(grad) = grad {
                self.accumulate(i, grad);
            }
        }
        len
    }

    /// Own axis: for candidates `start..start + per` (in [`Self::eps_entries`] order), adds
    /// ∂L/∂ε_i at ε_i = α·ε̂_i with every other ε at ε̂. The data is stacked once per candidate;
    /// copy c carries its own ε rows, so the stacked loss (the mean of the copies' losses) gives
    /// every candidate's gradient in one backward pass.
    /// On more training rows than [`GROWTH_ROWS`], over the rows of the unit; returns how many
    /// rows.
    fn own_axis_chunk(&mut self, alpha: f32, start: usize, per: usize) -> usize {
        let entries = self.eps_entries();
        let end = (start + per).min(entries.len());
        if start >= end {
            return self.rows() - self.rows_done;
        }
        let (inputs, targets, rows, weight) = self.rows_from(self.rows_done);
        let copies = end - start;
        let device = inputs.device();
        let mut values = self.candidates.values.clone();
        // (slot, the leaf of its per-row ε, mask [copies, m] of the copies that move it)
        let mut moved: Vec<(usize, Tensor<2>, Tensor<2>)> = Vec::new();
        for slot in self.candidates.eps_slots() {
            let m = values[slot].dims()[1];
            let mut mask = vec![0.0f32; copies * m];
            let mut any = false;
            for (c, &(s, j)) in entries[start..end].iter().enumerate() {
                if s == slot {
                    mask[c * m + j] = 1.0;
                    any = true;
                }
            }
            if !any {
                continue; // every copy has this slot at ε̂: the [1, m] row broadcasts
            }
            let mask = Tensor::<2>::from_data(TensorData::new(mask, [copies, m]), &device);
            let mask_rows = mask
                .clone()
                .reshape([copies, 1, m])
                .repeat_dim(1, rows)
                .reshape([copies * rows, m]);
            let factor = mask_rows.mul_scalar(alpha - 1.0).add_scalar(1.0);
            let leaf = (values[slot].clone() * factor).autodiff().require_grad();
            values[slot] = leaf.clone();
            moved.push((slot, leaf, mask));
        }
        let targets = Targets {
            tensor: targets.tensor.repeat_dim(0, copies),
            task: targets.task,
        };
        let out = augmented_forward(
            &self.mlp,
            &self.base,
            &self.candidates,
            &values,
            inputs.repeat_dim(0, copies),
        );
        let grads = loss(out, &targets).backward();
        for (slot, leaf, mask) in moved {
            let Some(grad) = leaf.grad(&grads) else {
                continue;
            };
            let m = mask.dims()[1];
            // The stacked loss is the mean of the copies' losses: scale back by `copies`.
            let per_copy = grad
                .reshape([copies, rows, m])
                .sum_dim(1)
                .reshape([copies, m]);
            let mut own = (per_copy * mask).sum_dim(0).mul_scalar(copies as f32);
            if let Some(w) = weight {
                own = own.mul_scalar(w);
            }
            self.accumulate(slot, own);
        }
        rows
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
                    scored.push((*score, Key::Split(b, i)));
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
