//! Several sessions' networks trained as one stack ([`run_epochs_together`]): their parameters
//! side by side along a leading axis, each padded with zeros to the widest network, so that a
//! training step launches the same kernels for two networks or a hundred. On a GPU a small
//! network's step costs its launches, not its arithmetic, so Figure 3 over ten seeds then costs
//! one network's launches a step.
//!
//! Padding changes nothing a network computes: a padded unit's activation is masked to zero, so
//! its in- and out-weights get a gradient of exactly zero and the optimiser leaves them at zero
//! (the update of a zero gradient from zero moments is zero); the loss is the sum of the
//! networks' own mean losses, so each network's gradient is its own. Tests hold every network
//! within 1e-5 of the same session trained alone (`tests/engine/stacked.rs`) and count a step's
//! launches for 2 and 10 networks (`tests/engine/wgpu.rs`).
//!
//! Networks stack when they have the same blocks in the same order (dense or residual), inputs,
//! outputs, activation, training rows, optimiser, step count and learning rate, and train on full
//! batches without a weight penalty, with no growth due meanwhile; the others train alone, as
//! does a session whose path hands nothing over (the fused step). The sessions share one device.

use burn::tensor::{Device, Tensor, TensorData, activation};

use super::Session;
use super::path::{HandOver, Rows};
use crate::config::Regularization;
use crate::data::Task;
use crate::error::EngineError;
use crate::model::{Activation, BlockKind, Matrix};
use crate::optim::{Optimizer, OptimizerKind};
use crate::readback::read_all;

/// Trains every session `n` more epochs, as [`Session::run_epochs`] trains each alone, with the
/// sessions that can train together stacked (see the module doc). Returns, for each session,
/// whether all its epochs trained in a stack. A failure names the index of the session it
/// belongs to (a stack's failure, its first session).
pub async fn run_epochs_together(
    sessions: &mut [Session],
    n: usize,
) -> Result<Vec<bool>, (usize, EngineError)> {
    let mut stacked = vec![true; sessions.len()];
    let mut remaining = n;
    while remaining > 0 {
        // Up to the next epoch any session records: a record is each network's own evaluation.
        let span = (sessions.iter())
            .filter_map(|s| s.next_record_within(remaining))
            .min()
            .unwrap_or(remaining);
        // A stack needs two networks: one alone hands nothing over (a read it would not use).
        let stackable: Vec<bool> = sessions.iter().map(|s| s.stackable(span)).collect();
        let pair = stackable.iter().filter(|&&s| s).count() > 1;
        let mut handed = Vec::with_capacity(sessions.len());
        for (i, session) in sessions.iter().enumerate() {
            handed.push(match pair && stackable[i] {
                true => session.path.hand_over().await.map_err(|e| (i, e))?,
                false => None,
            });
        }
        let groups = groups(sessions, &handed);
        for (i, session) in sessions.iter_mut().enumerate() {
            if !groups.iter().any(|g| g.contains(&i)) {
                stacked[i] = false;
                session.run_epochs(span).await.map_err(|e| (i, e))?;
            }
        }
        for group in groups {
            let states: Vec<HandOver> = group.iter().filter_map(|&i| handed[i].take()).collect();
            let first = &sessions[group[0]];
            let rows: Vec<&Rows> = group.iter().map(|&i| &sessions[i].rows).collect();
            let mut stack = Stack::new(&states, &rows, &first.device);
            let learning_rate = first.learning_rate;
            for _ in 0..span {
                stack.step(learning_rate);
            }
            let trained = stack.take_apart(states).await.map_err(|e| (group[0], e))?;
            for (&i, state) in group.iter().zip(trained) {
                sessions[i]
                    .trained_in_stack(state, span)
                    .await
                    .map_err(|e| (i, e))?;
            }
        }
        remaining -= span;
    }
    Ok(stacked)
}

impl Session {
    /// Whether the next `span` epochs may train in a stack: nothing in progress, full batches,
    /// no weight penalty, no growth due or asked for.
    fn stackable(&self, span: usize) -> bool {
        let train = &self.config.train;
        let full_batch = train.batch_size == 0 || train.batch_size >= self.data.train.len();
        let penalty =
            train.regularization != Regularization::None && train.regularization_rate != 0.0;
        let grows = self.can_grow()
            && self.growth_allowed()
            && self.epochs_since_growth.saturating_add(span) > train.epochs_per_growth;
        full_batch
            && !penalty
            && !grows
            && !self.grow_requested
            && self.growth.is_none()
            && self.evaluating.is_none()
            && self.batch == 0
            && !self.path.gathering()
    }

    /// Takes back its network trained `span` epochs in a stack, and keeps the record the last of
    /// them ends with, if any.
    async fn trained_in_stack(&mut self, state: HandOver, span: usize) -> Result<(), EngineError> {
        let records = self.next_record_within(span) == Some(span);
        self.path.take_back(state);
        self.epoch += span;
        self.epochs_since_growth += span;
        self.steps += span as u64;
        if records {
            let record = self.evaluate().await?;
            self.record(record)?;
        }
        Ok(())
    }
}

/// What networks must share to train in one stack.
#[derive(PartialEq)]
struct Key {
    blocks: Vec<BlockKind>,
    inputs: usize,
    task: Task,
    activation: Activation,
    rows: usize,
    optimizer: OptimizerKind,
    steps: u32,
    learning_rate: u32,
}

/// The sessions (indices) that train together: groups of two or more with the same [`Key`].
fn groups(sessions: &[Session], handed: &[Option<HandOver>]) -> Vec<Vec<usize>> {
    let mut groups: Vec<(Key, Vec<usize>)> = Vec::new();
    for (i, state) in handed.iter().enumerate() {
        let Some(state) = state else { continue };
        let key = Key {
            blocks: state.mlp.blocks.iter().map(|b| b.kind).collect(),
            inputs: state.mlp.n_inputs,
            task: state.mlp.task,
            activation: state.mlp.activation,
            rows: sessions[i].rows.n_train(),
            optimizer: state.optimizer,
            steps: state.steps,
            learning_rate: sessions[i].learning_rate.to_bits(),
        };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    groups
        .into_iter()
        .map(|(_, g)| g)
        .filter(|g| g.len() > 1)
        .collect()
}

/// Networks of one [`Key`] as stacked, padded tensors on the device (see the module doc).
struct Stack {
    networks: usize,
    blocks: Vec<BlockKind>,
    activation: Activation,
    task: Task,
    /// Each parameter's padded `[rows, cols]`, in [`crate::model::Mlp::param_matrices`] order.
    dims: Vec<[usize; 2]>,
    /// Each parameter as `[networks · rows, cols]` (the optimiser's view; the forward pass
    /// reshapes it to `[networks, rows, cols]`).
    params: Vec<Tensor<2>>,
    /// Per hidden block, `[networks, 1, units]`: 1 for a network's units, 0 for padding.
    masks: Vec<Tensor<3>>,
    /// `[networks, rows, inputs]` and `[networks, rows, outputs]`.
    inputs: Tensor<3>,
    targets: Tensor<3>,
    /// Training rows of each network (every network has as many).
    rows: usize,
    optimizer: Optimizer,
}

impl Stack {
    fn new(states: &[HandOver], rows: &[&Rows], device: &Device) -> Stack {
        let matrices: Vec<Vec<Matrix>> = states.iter().map(|s| s.mlp.param_matrices()).collect();
        let dims: Vec<[usize; 2]> = (0..matrices[0].len())
            .map(|i| {
                let widest = |of: fn(&Matrix) -> usize| matrices.iter().map(|m| of(&m[i])).max();
                [
                    widest(|m| m.rows).unwrap_or(0),
                    widest(|m| m.cols).unwrap_or(0),
                ]
            })
            .collect();
        let networks = states.len();
        let upload = |values: Vec<f32>, [r, c]: [usize; 2]| {
            Tensor::from_data(TensorData::new(values, [networks * r, c]), device)
        };
        let params = (dims.iter().enumerate())
            .map(|(i, &d)| {
                upload(
                    padded(
                        matrices.iter().map(|m| Some(&m[i].data[..])),
                        &matrices,
                        i,
                        d,
                    ),
                    d,
                )
            })
            .collect();
        let moments = |of: fn(&HandOver) -> &Vec<Option<Vec<f32>>>| -> Vec<Option<Tensor<2>>> {
            (dims.iter().enumerate())
                .map(|(i, &d)| {
                    let each = states.iter().map(|s| of(s)[i].as_deref());
                    // Moments not yet made are zeros: the update from zero moments is the same.
                    (states.iter().any(|s| of(s)[i].is_some()))
                        .then(|| upload(padded(each, &matrices, i, d), d))
                })
                .collect()
        };
        let optimizer = Optimizer {
            kind: states[0].optimizer,
            steps: states[0].steps,
            first: moments(|s| &s.first),
            second: moments(|s| &s.second),
        };
        let mlp = &states[0].mlp;
        let mut masks = Vec::new();
        let mut param = 0;
        for (b, block) in mlp.blocks.iter().enumerate() {
            let units = dims[param][1];
            let mut mask = vec![0.0f32; networks * units];
            for (n, state) in states.iter().enumerate() {
                mask[n * units..n * units + state.mlp.blocks[b].n_units()].fill(1.0);
            }
            masks.push(Tensor::from_data(
                TensorData::new(mask, [networks, 1, units]),
                device,
            ));
            param += if block.kind == BlockKind::Residual {
                3
            } else {
                2
            };
        }
        Stack {
            networks,
            blocks: mlp.blocks.iter().map(|b| b.kind).collect(),
            activation: mlp.activation,
            task: mlp.task,
            dims,
            params,
            masks,
            inputs: Tensor::stack(rows.iter().map(|r| r.train_inputs.clone()).collect(), 0),
            targets: Tensor::stack(
                rows.iter()
                    .map(|r| r.train_targets.tensor.clone())
                    .collect(),
                0,
            ),
            rows: rows[0].n_train(),
            optimizer,
        }
    }

    /// Every network's outputs, `[networks, rows, outputs]` (as `forward_with` for each alone).
    fn forward(&self, params: &[Tensor<2>]) -> Tensor<3> {
        let at = |i: usize| {
            let [r, c] = self.dims[i];
            params[i].clone().reshape([self.networks, r, c])
        };
        let mut i = 0;
        let mut stream = self.inputs.clone();
        for (kind, mask) in self.blocks.iter().zip(&self.masks) {
            let z = stream.clone().matmul(at(i)) + at(i + 1);
            i += 2;
            let act = self.activation.forward(z) * mask.clone();
            stream = match kind {
                BlockKind::Dense => act,
                BlockKind::Residual => {
                    i += 1;
                    stream + act.matmul(at(i - 1))
                }
            };
        }
        stream.matmul(at(i)) + at(i + 1)
    }

    /// One full-batch step of every network: the sum of their mean losses, one backward pass,
    /// one update.
    fn step(&mut self, learning_rate: f32) {
        let leaves: Vec<Tensor<2>> = self
            .params
            .iter()
            .map(|p| p.clone().autodiff().require_grad())
            .collect();
        let out = self.forward(&leaves);
        let total = match self.task {
            Task::Classification { .. } => (activation::log_softmax(out, 2) * self.targets.clone())
                .sum()
                .neg(),
            Task::Regression => (out - self.targets.clone()).square().sum(),
        };
        let grads = total.div_scalar(self.rows as f32).backward();
        let grads = leaves.iter().map(|l| l.grad(&grads)).collect();
        self.params = self.optimizer.step(learning_rate, &self.params, grads);
    }

    /// Each network and its optimiser's state cut back out of the stack, in one read.
    async fn take_apart(self, states: Vec<HandOver>) -> Result<Vec<HandOver>, EngineError> {
        let count = self.params.len();
        let mut reads = self.params;
        let first: Vec<bool> = self.optimizer.first.iter().map(Option::is_some).collect();
        let second: Vec<bool> = self.optimizer.second.iter().map(Option::is_some).collect();
        reads.extend(self.optimizer.first.into_iter().flatten());
        reads.extend(self.optimizer.second.into_iter().flatten());
        let values = read_all(reads).await?;
        let (params, moments) = values.split_at(count);
        let (first_values, second_values) = moments.split_at(first.iter().filter(|&&m| m).count());
        let dims = &self.dims;
        let steps = self.optimizer.steps;
        states
            .into_iter()
            .enumerate()
            .map(|(n, state)| {
                let shapes = state.mlp.param_matrices();
                let cut = |i: usize, values: &[f32]| cut(values, n, dims[i], &shapes[i]);
                let moments = |made: &[bool], values: &[Vec<f32>]| {
                    let mut values = values.iter();
                    (made.iter().enumerate())
                        .map(|(i, &m)| m.then(|| values.next().map(|v| cut(i, v))).flatten())
                        .collect()
                };
                let mut mlp = state.mlp;
                let own: Vec<Vec<f32>> =
                    params.iter().enumerate().map(|(i, v)| cut(i, v)).collect();
                mlp.set_param_values(&own)?;
                Ok(HandOver {
                    mlp,
                    optimizer: state.optimizer,
                    steps,
                    first: moments(&first, first_values),
                    second: moments(&second, second_values),
                })
            })
            .collect()
    }
}

/// Parameter `i` of every network, each padded with zeros to `[rows, cols]` and laid one after
/// another (a network with no values, zeros).
fn padded<'a>(
    each: impl Iterator<Item = Option<&'a [f32]>>,
    matrices: &[Vec<Matrix>],
    i: usize,
    [rows, cols]: [usize; 2],
) -> Vec<f32> {
    let mut out = vec![0.0f32; matrices.len() * rows * cols];
    for (n, values) in each.enumerate() {
        let Some(values) = values else { continue };
        let own = &matrices[n][i];
        for r in 0..own.rows {
            let at = (n * rows + r) * cols;
            out[at..at + own.cols].copy_from_slice(&values[r * own.cols..(r + 1) * own.cols]);
        }
    }
    out
}

/// Network `n`'s own `[rows, cols]` of `shape` out of a stacked parameter padded to `dims`.
fn cut(values: &[f32], n: usize, [rows, cols]: [usize; 2], shape: &Matrix) -> Vec<f32> {
    let mut out = Vec::with_capacity(shape.rows * shape.cols);
    for r in 0..shape.rows {
        let at = (n * rows + r) * cols;
        out.extend_from_slice(&values[at..at + shape.cols]);
    }
    out
}
