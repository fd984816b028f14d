//! Several sessions' networks trained as one stack: their parameters side by side along a
//! leading axis, each padded with zeros to the widest network, so that a training step launches
//! the same kernels for two networks or a hundred. On a GPU a small network's step costs its
//! launches, not its arithmetic, so Figure 3 over ten seeds then costs one network's launches a
//! step. [`run_epochs_together`] trains sessions for a number of epochs (the command line's
//! sweep); [`Stacked`] keeps a stack over several calls, an epoch at a time (the page's seeds,
//! from frame to frame).
//!
//! Padding changes nothing a network computes: a padded unit's activation is masked to zero, so
//! its in- and out-weights get a gradient of exactly zero and the optimiser leaves them at zero
//! (the update of a zero gradient from zero moments is zero); the loss is the sum of the
//! networks' own mean losses, so each network's gradient is its own. The stack is built from
//! the networks as they are on the device and cut back there: forming and dissolving one reads
//! nothing. The records the stacked epochs end with come from one evaluation of the whole stack
//! and one read. Tests hold every network and record within 1e-5 of the same session trained
//! alone (`tests/engine/stacked.rs`) and count a step's launches for 2 and 10 networks
//! (`tests/engine/wgpu.rs`).
//!
//! Networks stack when they have the same blocks in the same order (dense or residual), inputs,
//! outputs, activation, numbers of training and test rows (each network trains on its own),
//! optimiser, step count and learning rate, and train on full batches without a weight penalty,
//! with no growth due meanwhile; the others train alone, as does a session whose path hands
//! nothing over (the fused step). The sessions share one device.

use burn::tensor::ops::PadMode;
use burn::tensor::{Device, Tensor, TensorData, activation};

use super::path::{HandOver, Rows, record_from};
use super::{EpochRecord, Session};
use crate::config::Regularization;
use crate::data::Task;
use crate::error::EngineError;
use crate::model::{Activation, BlockKind, Mlp, n_outputs};
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
        let groups = groups(sessions.iter(), span);
        for (i, session) in sessions.iter_mut().enumerate() {
            if !groups.iter().any(|g| g.contains(&i)) {
                stacked[i] = false;
                session.run_epochs(span).await.map_err(|e| (i, e))?;
            }
        }
        for group in groups {
            let mut members: Vec<&mut Session> = (sessions.iter_mut().enumerate())
                .filter(|(i, _)| group.contains(i))
                .map(|(_, s)| s)
                .collect();
            let mut stack = Stacked::of(&members);
            let result = stack.epochs(&mut members, span).await;
            stack.dissolve(&mut members);
            result.map_err(|(k, e)| (group[k], e))?;
        }
        remaining -= span;
    }
    Ok(stacked)
}

/// Sessions' networks in one stack that lasts over several calls, trained an epoch at a time
/// ([`Stacked::epochs`]). While it lasts the sessions' own parameters are stale: the caller
/// trains them only through it, and [`Stacked::dissolve`]s it before anything else touches them.
pub struct Stacked {
    stack: Stack,
}

impl Stacked {
    /// The sessions (every one, in order) in one stack, when each can train its next epoch in
    /// it and they share what a stack needs (see the module doc); otherwise `None`. A single
    /// session never stacks.
    pub fn form(sessions: &[&mut Session]) -> Option<Stacked> {
        let all: Vec<usize> = (0..sessions.len()).collect();
        let fits = groups(sessions.iter().map(|s| &**s), 1).first() == Some(&all);
        fits.then(|| Stacked::of(sessions))
    }

    /// Stacks sessions known to share a [`Key`].
    fn of(sessions: &[&mut Session]) -> Stacked {
        let states: Vec<HandOver> = (sessions.iter())
            .filter_map(|s| s.path.hand_over())
            .collect();
        Stacked {
            stack: Stack::new(&states, sessions, &sessions[0].device),
        }
    }

    /// Whether every session can still train its next epoch in the stack (no growth due).
    pub fn fits(&self, sessions: &[&mut Session]) -> bool {
        sessions.len() == self.stack.networks && sessions.iter().all(|s| s.stackable(1))
    }

    /// Trains every session `n` epochs, the same sessions in the same order as formed, and
    /// keeps the records due at the last one, from one evaluation of the stack. A failure names
    /// the index of the session it belongs to.
    pub async fn epochs(
        &mut self,
        sessions: &mut [&mut Session],
        n: usize,
    ) -> Result<(), (usize, EngineError)> {
        let learning_rate = sessions[0].learning_rate;
        for _ in 0..n {
            self.stack.step(learning_rate);
        }
        let due: Vec<bool> = (sessions.iter())
            .map(|s| s.next_record_within(n) == Some(n))
            .collect();
        let records = match due.contains(&true) {
            true => Some(self.records(sessions).await.map_err(|e| (0, e))?),
            false => None,
        };
        for (i, session) in sessions.iter_mut().enumerate() {
            session.epoch += n;
            session.epochs_since_growth += n;
            session.steps += n as u64;
            session.epochs_stacked += n;
            if let (true, Some(records)) = (due[i], &records) {
                let mut record = records[i].clone();
                record.epoch = session.epoch;
                session.record(record).map_err(|e| (i, e))?;
            }
        }
        Ok(())
    }

    /// Every network's record on its session's rows (numbered 0): one forward pass of the
    /// stack on the training rows and one on the test rows, one read.
    async fn records(&self, sessions: &[&mut Session]) -> Result<Vec<EpochRecord>, EngineError> {
        let rows = &sessions[0].rows;
        let stack = &self.stack;
        let outputs = vec![
            stack.forward(&stack.params, stack.inputs.clone()),
            stack.forward(&stack.params, stack.test_inputs.clone()),
        ];
        let read = read_all(outputs).await?;
        let k = n_outputs(rows.task);
        let (train, test) = (k * rows.n_train(), k * rows.test_labels.len());
        Ok((sessions.iter().enumerate())
            .map(|(n, session)| {
                let train_out = &read[0][n * train..(n + 1) * train];
                let test_out = &read[1][n * test..(n + 1) * test];
                record_from(session.path.shape(), &session.rows, 0, train_out, test_out)
            })
            .collect())
    }

    /// The network of member `n` (of `session`) as it is in the stack: one read.
    pub async fn network(&self, n: usize, session: &Session) -> Result<Mlp, EngineError> {
        let stack = &self.stack;
        let params = (0..stack.params.len())
            .map(|i| stack.cut(i, n, &stack.params[i]))
            .collect();
        let mut mlp = session.path.shape().clone();
        mlp.set_param_values(&read_all(params).await?)?;
        Ok(mlp)
    }

    /// Gives each session (the same, in the same order as formed) its network and optimiser
    /// state back, cut out of the stack on the device.
    pub fn dissolve(self, sessions: &mut [&mut Session]) {
        for (session, state) in sessions.iter_mut().zip(self.stack.take_apart()) {
            session.path.take_back(state);
        }
    }
}

impl Session {
    /// How many of its epochs this session trained in a stack with other sessions' networks.
    pub fn epochs_stacked(&self) -> usize {
        self.epochs_stacked
    }

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
}

/// What networks must share to train in one stack.
#[derive(PartialEq)]
struct Key {
    blocks: Vec<BlockKind>,
    inputs: usize,
    task: Task,
    activation: Activation,
    rows: usize,
    test_rows: usize,
    optimizer: OptimizerKind,
    steps: u32,
    learning_rate: u32,
}

/// The sessions (indices) that can train their next `span` epochs together: groups of two or
/// more with the same [`Key`].
fn groups<'a>(sessions: impl IntoIterator<Item = &'a Session>, span: usize) -> Vec<Vec<usize>> {
    let mut groups: Vec<(Key, Vec<usize>)> = Vec::new();
    for (i, session) in sessions.into_iter().enumerate() {
        let Some(key) = session.stackable(span).then(|| session.key()).flatten() else {
            continue;
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

impl Session {
    /// What this session's network must share with others to stack; `None` where its path
    /// hands nothing over.
    fn key(&self) -> Option<Key> {
        let state = self.path.hand_over()?;
        let mlp = self.path.shape();
        Some(Key {
            blocks: mlp.blocks.iter().map(|b| b.kind).collect(),
            inputs: mlp.n_inputs,
            task: mlp.task,
            activation: mlp.activation,
            rows: self.rows.n_train(),
            test_rows: self.rows.test_labels.len(),
            optimizer: state.optimizer.kind,
            steps: state.optimizer.steps,
            learning_rate: self.learning_rate.to_bits(),
        })
    }
}

/// Networks of one [`Key`] as stacked, padded tensors on the device (see the module doc).
struct Stack {
    networks: usize,
    blocks: Vec<BlockKind>,
    activation: Activation,
    task: Task,
    /// Each parameter's padded `[rows, cols]`, in [`crate::model::Mlp::param_matrices`] order.
    dims: Vec<[usize; 2]>,
    /// Each network's own `[rows, cols]` of each parameter.
    own: Vec<Vec<[usize; 2]>>,
    /// Each parameter as `[networks · rows, cols]` (the optimiser's view; the forward pass
    /// reshapes it to `[networks, rows, cols]`).
    params: Vec<Tensor<2>>,
    /// Per hidden block, `[networks, 1, units]`: 1 for a network's units, 0 for padding.
    masks: Vec<Tensor<3>>,
    /// `[networks, rows, inputs]` and `[networks, rows, outputs]`.
    inputs: Tensor<3>,
    targets: Tensor<3>,
    /// `[networks, test rows, inputs]`, for the records.
    test_inputs: Tensor<3>,
    /// Training rows of each network (every network has as many).
    rows: usize,
    optimizer: Optimizer,
}

impl Stack {
    /// The networks `states` (of `sessions`, whose shapes and rows they are) side by side.
    fn new(states: &[HandOver], sessions: &[&mut Session], device: &Device) -> Stack {
        let own: Vec<Vec<[usize; 2]>> = (states.iter())
            .map(|s| s.params.iter().map(Tensor::dims).collect())
            .collect();
        let dims: Vec<[usize; 2]> = (0..own[0].len())
            .map(|i| {
                let widest = |axis: usize| own.iter().map(|o| o[i][axis]).max().unwrap_or(0);
                [widest(0), widest(1)]
            })
            .collect();
        // Each network's parameter `i`, padded with zeros to the widest, one after another.
        let side_by_side = |i: usize, each: Vec<Tensor<2>>| -> Tensor<2> {
            let [rows, cols] = dims[i];
            let padded = (each.into_iter())
                .map(|t| match t.dims() {
                    [r, c] if [r, c] == dims[i] => t,
                    [r, c] => t.pad([(0, rows - r), (0, cols - c)], PadMode::Constant(0.0)),
                })
                .collect();
            Tensor::cat(padded, 0)
        };
        let params = (0..dims.len())
            .map(|i| side_by_side(i, states.iter().map(|s| s.params[i].clone()).collect()))
            .collect();
        let moments = |of: fn(&Optimizer) -> &Vec<Option<Tensor<2>>>| -> Vec<Option<Tensor<2>>> {
            (0..dims.len())
                .map(|i| {
                    // Moments not yet made are zeros: the update from zero moments is the same.
                    let each = states.iter().map(|s| of(&s.optimizer)[i].clone());
                    (states.iter().any(|s| of(&s.optimizer)[i].is_some())).then(|| {
                        let zeros = |n: usize| Tensor::zeros(own[n][i], device);
                        let each = each.enumerate().map(|(n, m)| m.unwrap_or_else(|| zeros(n)));
                        side_by_side(i, each.collect())
                    })
                })
                .collect()
        };
        let first = &states[0].optimizer;
        let optimizer = Optimizer {
            kind: first.kind,
            steps: first.steps,
            first: moments(|o| &o.first),
            second: moments(|o| &o.second),
        };
        let networks = states.len();
        let mlp = sessions[0].path.shape();
        let mut masks = Vec::new();
        let mut param = 0;
        for (b, block) in mlp.blocks.iter().enumerate() {
            let units = dims[param][1];
            let mut mask = vec![0.0f32; networks * units];
            for (n, session) in sessions.iter().enumerate() {
                let own = session.path.shape().blocks[b].n_units();
                mask[n * units..n * units + own].fill(1.0);
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
        let stacked = |each: fn(&Rows) -> Tensor<2>| {
            Tensor::stack(sessions.iter().map(|s| each(&s.rows)).collect(), 0)
        };
        Stack {
            networks,
            blocks: mlp.blocks.iter().map(|b| b.kind).collect(),
            activation: mlp.activation,
            task: mlp.task,
            dims,
            own,
            params,
            masks,
            inputs: stacked(|r| r.train_inputs.clone()),
            targets: stacked(|r| r.train_targets.tensor.clone()),
            test_inputs: stacked(|r| r.test_inputs.clone()),
            rows: sessions[0].rows.n_train(),
            optimizer,
        }
    }

    /// Every network's outputs on `inputs` (`[networks, rows, inputs]`), `[networks, rows,
    /// outputs]` (as `forward_with` for each alone).
    fn forward(&self, params: &[Tensor<2>], inputs: Tensor<3>) -> Tensor<3> {
        let at = |i: usize| {
            let [r, c] = self.dims[i];
            params[i].clone().reshape([self.networks, r, c])
        };
        let mut i = 0;
        let mut stream = inputs;
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
        let out = self.forward(&leaves, self.inputs.clone());
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

    /// Network `n`'s own part of `t`, a stacked parameter `i` (or its moment).
    fn cut(&self, i: usize, n: usize, t: &Tensor<2>) -> Tensor<2> {
        let [r, c] = self.own[n][i];
        let at = n * self.dims[i][0];
        t.clone().slice([at..at + r, 0..c])
    }

    /// Each network's parameters and optimiser state, cut back out of the stack on the device.
    fn take_apart(self) -> Vec<HandOver> {
        let optimizer = &self.optimizer;
        (0..self.networks)
            .map(|n| {
                let moments = |of: &[Option<Tensor<2>>]| {
                    (of.iter().enumerate())
                        .map(|(i, m)| m.as_ref().map(|m| self.cut(i, n, m)))
                        .collect()
                };
                HandOver {
                    params: (self.params.iter().enumerate())
                        .map(|(i, p)| self.cut(i, n, p))
                        .collect(),
                    optimizer: Optimizer {
                        kind: optimizer.kind,
                        steps: optimizer.steps,
                        first: moments(&optimizer.first),
                        second: moments(&optimizer.second),
                    },
                }
            })
            .collect()
    }
}
