//! Step 2: the path-integrated gradient of every candidate's ε over a midpoint grid, along the
//! joint path or each candidate's own axis (one stacked pass per chunk of candidates).

use burn::tensor::{Tensor, TensorData};

use super::{FireflyRun, augmented_forward};
use crate::grow::ScorePath;
use crate::model::{Targets, loss};

/// The most rows one own-axis pass stacks (the training data once per candidate of a chunk).
const OWN_AXIS_ROWS: usize = 1 << 15;

impl FireflyRun {
    /// Every ε entry as (slot, column), in [`Candidates::eps_slots`] order: the candidates in the
    /// order the own-axis pass stacks them.
    ///
    /// [`Candidates::eps_slots`]: super::Candidates::eps_slots
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
        let rows = self.rows().clamp(1, self.unit_rows);
        let per = (OWN_AXIS_ROWS / rows).max(1);
        (per, self.eps_entries().len().div_ceil(per).max(1))
    }

    /// Runs up to `max_work` units of Step 2 and returns the number run. A unit is one point α of
    /// the midpoint grid for the joint path (∂L/∂ε at α·ε̂), and one chunk of candidates at one
    /// point for the own axis (a single chunk at the toy sizes of Figure 3); on more training
    /// rows than one unit covers ([`super::growth_rows`]), a run of them of either.
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
    /// On more training rows than one unit covers ([`super::growth_rows`]), over the rows of the unit; returns how many
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
}
