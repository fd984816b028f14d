//! Firefly's candidates (every unit split, m' new units per block, a candidate layer after each
//! block) and the augmented forward pass that runs them over the frozen base network.

use burn::tensor::{Bool, Device, Tensor, TensorData};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::grow::CandidateKinds;
use crate::grow::grower::GrowthInput;
use crate::model::{BlockKind, Matrix, Mlp};

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
    /// Per block: the one-sided splits among its split candidates, if it has frozen units.
    pub copies: Vec<Option<Copies>>,
    /// S: new units read σ(S·(w·x̃)) ([`GrowthInput::new_unit_scale`]).
    pub new_unit_scale: f32,
    /// Every candidate tensor (plain values, no autodiff).
    pub values: Vec<Tensor<2>>,
}

/// The split candidates of a block in a network with frozen units (continual learning's
/// neighbourhood, spec §8): each frozen unit's candidate is a copy, ½[σ(z + u) + σ(z)] (the
/// unit unchanged beside θ + εδ, a one-sided split), whose ε moves in Step 1 within
/// |ε| ≤ ε_max (at ε = 0 its gradient is not zero, unlike a split's). The block's trainable
/// units are not candidates: their ε is held at 0, where their column computes σ(z) exactly,
/// and they are neither scored nor shown.
#[derive(Clone, Debug)]
pub struct Copies {
    /// Per unit: whether it is frozen (its candidate a copy).
    pub keep: Vec<bool>,
    /// `[1, m]`: true where ε is held at 0 (the trainable units).
    pub held: Tensor<2, Bool>,
}

impl Copies {
    /// Whether unit `i` is frozen, its candidate a copy.
    pub fn keeps(&self, i: usize) -> bool {
        self.keep.get(i).copied().unwrap_or(false)
    }
}

/// A random direction with unit norm over all given lengths together.
fn unit_direction(lengths: &[usize], rng: &mut ChaCha8Rng) -> Vec<Vec<f32>> {
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
    /// Builds the candidates of `kinds` for `input.mlp`: δ of every candidate random with unit
    /// norm, ε = ε_max/10 for new units and layer units, ε_max/2 for copies of frozen units, and
    /// for splits the step every splitting method takes ([`super::split_step`]), held there
    /// through Step 1 (see [`FireflyRun::step1`]).
    ///
    /// [`super::split_step`]: crate::grow::split_step
    /// [`FireflyRun::step1`]: super::FireflyRun::step1
    pub fn new(input: &GrowthInput<'_>, kinds: CandidateKinds, rng: &mut ChaCha8Rng) -> Self {
        let (mlp, config, device) = (input.mlp, input.config, &input.inputs.device());
        let mut copies = Vec::new();
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
            // With frozen units, only the blocks that hold some have (copy) candidates.
            let copy = (!input.frozen.is_empty()).then(|| {
                block
                    .unit_ids
                    .iter()
                    .map(|id| input.frozen.contains(id))
                    .collect::<Vec<_>>()
            });
            let splits = copy.as_ref().is_none_or(|keep| keep.contains(&true));
            split.push(if kinds.split && m > 0 && splits {
                let mut delta_w = Matrix::zeros(d, m);
                let mut delta_b = Matrix::zeros(1, m);
                let steps: Vec<f32> = (0..m)
                    .map(|i| match &copy {
                        Some(keep) if keep[i] => config.eps_max / 2.0,
                        Some(_) => 0.0,
                        None => crate::grow::split_step(
                            &block.theta(i),
                            config.eps_max,
                            config.split_scale,
                        ),
                    })
                    .collect();
                copies.push(copy.map(|keep| {
                    let held: Vec<f32> = keep.iter().map(|&k| if k { 0.0 } else { 1.0 }).collect();
                    let held = upload(&Matrix::from_vec(1, m, held), device).greater_elem(0.5);
                    Copies { keep, held }
                }));
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
                copies.push(None);
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
            copies,
            new_unit_scale: input.new_unit_scale,
            values: host.iter().map(|m| upload(m, device)).collect(),
        }
    }

    /// Indices of the split candidates' ε tensors (held fixed through Step 1).
    pub fn split_eps_slots(&self) -> Vec<usize> {
        self.split.iter().flatten().map(|s| s.eps).collect()
    }

    /// The one-sided splits whose ε lives in slot `slot`, if that slot is a split ε of a block
    /// with frozen units.
    pub fn copies_at(&self, slot: usize) -> Option<&Copies> {
        self.split
            .iter()
            .zip(&self.copies)
            .find_map(|(s, c)| c.as_ref().filter(|_| s.is_some_and(|s| s.eps == slot)))
    }

    /// Whether unit `i` of block `b` has a split candidate (every unit of a block with split
    /// candidates, or only the frozen ones in a network with frozen units).
    pub fn is_candidate(&self, b: usize, i: usize) -> bool {
        match self.copies.get(b) {
            Some(Some(c)) => c.keeps(i),
            _ => self.split.get(b).is_some_and(Option::is_some),
        }
    }

    /// Indices of every ε tensor.
    pub fn eps_slots(&self) -> Vec<usize> {
        let mut out: Vec<usize> = self.split.iter().flatten().map(|s| s.eps).collect();
        out.extend(self.new.iter().flatten().map(|s| s.eps));
        out.extend(self.layer.iter().flatten().map(|s| s.eps));
        out.sort_unstable();
        out
    }

    /// Projects values onto the constraint set: |ε| ≤ ε_max for new units, layer units and
    /// copies (a split's ε is held at its step, [`super::split_step`]), ‖δ_i‖₂ ≤ 1 for every
    /// candidate.
    ///
    /// [`super::split_step`]: crate::grow::split_step
    pub fn project(&self, values: Vec<Tensor<2>>, eps_max: f32) -> Vec<Tensor<2>> {
        let mut values = values;
        let splits = self.split_eps_slots();
        for slot in self.eps_slots() {
            if !splits.contains(&slot) {
                values[slot] = values[slot].clone().clamp(-eps_max, eps_max);
            }
        }
        for (s, c) in self.split.iter().zip(&self.copies) {
            if let (Some(s), Some(c)) = (s, c) {
                let clamped = values[s.eps].clone().clamp(-eps_max, eps_max);
                values[s.eps] = clamped.mask_where(c.held.clone(), values[s.eps].clone());
            }
        }
        for s in self.split.iter().flatten() {
            let norm = (values[s.delta_w].clone().square().sum_dim(0)
                + values[s.delta_b].clone().square())
            .sqrt(); // [1, m]
            let scale = at_least_one(norm).recip();
            values[s.delta_w] = values[s.delta_w].clone() * scale.clone();
            values[s.delta_b] = values[s.delta_b].clone() * scale;
        }
        for s in self.new.iter().chain(self.layer.iter()).flatten() {
            let norm = (values[s.fan_in].clone().square().sum_dim(0)
                + values[s.bias].clone().square()
                + values[s.fan_out].clone().square().sum_dim(1).transpose())
            .sqrt(); // [1, k]
            let scale = at_least_one(norm).recip();
            values[s.fan_in] = values[s.fan_in].clone() * scale.clone();
            values[s.bias] = values[s.bias].clone() * scale.clone();
            values[s.fan_out] = values[s.fan_out].clone() * scale.transpose();
        }
        values
    }
}

/// `max(x, 1)` element-wise as one kernel: burn's `clamp_min` is a comparison and a fill (two
/// launches on a GPU), its `clamp` one.
fn at_least_one(x: Tensor<2>) -> Tensor<2> {
    x.clamp(1.0, f32::MAX)
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
    augmented_forward_from(mlp, base, candidates, values, inputs, None)
}

/// The first block's base pre-activation `inputs · W₀ + b₀` (`[batch, m₀]`): the same at every
/// Step-1 step over the same rows, so a run computes it once.
pub(super) fn first_pre_activation(base: &[Tensor<2>], inputs: Tensor<2>) -> Tensor<2> {
    inputs.matmul(base[0].clone()) + base[1].clone()
}

/// [`augmented_forward`], with the first block's base pre-activation given when it is known
/// ([`first_pre_activation`] of these `inputs`).
pub(super) fn augmented_forward_from(
    mlp: &Mlp,
    base: &[Tensor<2>],
    candidates: &Candidates,
    values: &[Tensor<2>],
    inputs: Tensor<2>,
    mut first_pre: Option<Tensor<2>>,
) -> Tensor<2> {
    let act = mlp.activation;
    let new_units = |slots: &NewSlots, stream: &Tensor<2>| -> Tensor<2> {
        let mut z =
            stream.clone().matmul(values[slots.fan_in].clone()) + values[slots.bias].clone();
        if candidates.new_unit_scale != 1.0 {
            z = z.mul_scalar(candidates.new_unit_scale);
        }
        let a = act.forward(z); // [batch, k]
        (a * values[slots.eps].clone()).matmul(values[slots.fan_out].clone()) // [batch, d_c]
    };
    let mut idx = 0;
    let mut stream = inputs; // S: [batch, d]
    let mut pending: Option<Tensor<2>> = None; // new units' input to the next consumer
    for (b, block) in mlp.blocks.iter().enumerate() {
        let mut z = match first_pre.take() {
            Some(z) => z,
            None => first_pre_activation(&base[idx..], stream.clone()), // [batch, m]
        };
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
                // A copy's second offspring is the unit itself.
                let second = match &candidates.copies[b] {
                    Some(_) => z.clone(),
                    None => z.clone() - u.clone(),
                };
                (act.forward(z + u) + act.forward(second)).mul_scalar(0.5)
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
