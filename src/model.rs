//! The growable network: an MLP whose hidden blocks are dense layers or residual blocks.
//!
//! A network lives in two forms. [`Mlp`] is plain host data (row-major matrices, unit identities,
//! the architecture); it is what growth surgery edits and what tests inspect. [`DeviceMlp`] holds the
//! same weights as burn tensors on a [`Device`](burn::tensor::Device) and runs the forward pass and
//! the loss. Training uploads an `Mlp` once, steps the `DeviceMlp` many times and downloads it again
//! (asynchronously, through [`crate::readback`]) only when growth needs the numbers.
//!
//! Shapes follow burn's convention: a linear map is `[d_input, d_output]`, so widening hidden block
//! `i` appends columns to its fan-in matrix and rows to whatever consumes its output.
//!
//! A dense block computes `a = σ(x W + b)` (width = its number of units). A residual block keeps
//! the stream width `d` and computes `x + σ(x W_in + b) W_out` with `W_in: [d, m]`, `W_out: [m, d]`;
//! its `m` units are growable like any other. Residual blocks are what depth growth creates.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::Task;
use crate::error::EngineError;

mod activation;
mod device;
mod loss;
mod matrix;

pub use activation::Activation;
pub use device::{DeviceMlp, forward_hooked, forward_with, inputs_tensor, is_cpu};
pub use loss::{Targets, loss, metrics_from_outputs};
pub use matrix::Matrix;

/// A unit's identity: it survives growth, so lineage and the UI can follow a unit across phases.
pub type UnitId = u64;

/// Whether a hidden block is an ordinary dense layer or a residual block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlockKind {
    /// `σ(x W + b)`; its width is its number of units.
    Dense,
    /// `x + σ(x W_in + b) W_out`; keeps the stream width.
    Residual,
}

/// One hidden block on the host.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Block {
    /// Dense or residual.
    pub kind: BlockKind,
    /// Fan-in weights `[d_in, n_units]`: column `i` is unit `i`'s input weights.
    pub fan_in: Matrix,
    /// Biases, one per unit.
    pub bias: Vec<f32>,
    /// Residual blocks only: fan-out `[n_units, d]` back into the stream.
    pub fan_out: Option<Matrix>,
    /// Identity of each unit, in column order.
    pub unit_ids: Vec<UnitId>,
}

impl Block {
    /// Number of units (columns of the fan-in matrix).
    pub fn n_units(&self) -> usize {
        self.fan_in.cols
    }

    /// Width of the block's input (rows of the fan-in matrix).
    pub fn d_in(&self) -> usize {
        self.fan_in.rows
    }

    /// Width of the stream after this block.
    pub fn d_out(&self) -> usize {
        match self.kind {
            BlockKind::Dense => self.n_units(),
            BlockKind::Residual => self.d_in(),
        }
    }

    /// Unit `i`'s θ = [w; b] (fan-in weights then bias), length `d_in + 1`.
    pub fn theta(&self, unit: usize) -> Vec<f32> {
        let mut theta = self.fan_in.column(unit);
        theta.push(self.bias[unit]);
        theta
    }
}

/// A unit's place and weights, as the UI shows them.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitInfo {
    /// Block index.
    pub block: usize,
    /// Column within the block.
    pub index: usize,
    /// Dense or residual block.
    pub kind: BlockKind,
    /// Bias.
    pub bias: f32,
    /// ‖fan-in weights‖₂.
    pub fan_in_norm: f32,
    /// ‖out-weights‖₂ (to the next layer, the stream, or the output).
    pub fan_out_norm: f32,
}

/// The widest hidden layer a network may start with: wide enough for the widths where a GPU
/// wins a growth phase (README "Where each part runs, and why").
pub const MAX_WIDTH: usize = 1024;

/// Shape and activation of a fresh network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Input width (2 for the plane).
    pub n_inputs: usize,
    /// Width of each hidden dense layer.
    pub hidden: Vec<usize>,
    /// Hidden activation.
    pub activation: Activation,
}

impl ModelConfig {
    /// Checks the shape: at least one hidden layer, every width in 1..=256.
    pub fn validate(&self) -> Result<(), EngineError> {
        if self.n_inputs == 0 {
            return Err(EngineError::InvalidConfig(
                "the network needs at least one input".into(),
            ));
        }
        if self.hidden.is_empty() || self.hidden.len() > 8 {
            return Err(EngineError::InvalidConfig(format!(
                "the network needs 1 to 8 hidden layers, got {}",
                self.hidden.len()
            )));
        }
        if let Some(w) = self.hidden.iter().find(|w| **w == 0 || **w > MAX_WIDTH) {
            return Err(EngineError::InvalidConfig(format!(
                "hidden layer widths must be 1 to {MAX_WIDTH}, got {w}"
            )));
        }
        Ok(())
    }
}

/// The growable network as plain host data: the source of truth between growth phases.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mlp {
    /// Hidden activation.
    pub activation: Activation,
    /// Classification (softmax cross-entropy) or regression (mean squared error).
    pub task: Task,
    /// Input width.
    pub n_inputs: usize,
    /// Hidden blocks in order.
    pub blocks: Vec<Block>,
    /// Output weights `[d_last, n_outputs]`.
    pub out_weight: Matrix,
    /// Output biases.
    pub out_bias: Vec<f32>,
    /// Next fresh unit identity.
    pub next_unit_id: UnitId,
}

/// Number of network outputs a task needs.
pub fn n_outputs(task: Task) -> usize {
    match task {
        Task::Classification { n_classes } => n_classes,
        Task::Regression => 1,
    }
}

/// Glorot-uniform matrix from the given RNG.
fn glorot(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Matrix {
    let limit = (6.0 / (rows + cols) as f32).sqrt();
    let data = (0..rows * cols)
        .map(|_| rng.random_range(-limit..limit))
        .collect();
    Matrix::from_vec(rows, cols, data)
}

impl Mlp {
    /// A fresh network: Glorot-uniform weights and zero biases from `seed` (backend-independent).
    pub fn new(config: &ModelConfig, task: Task, seed: u64) -> Result<Self, EngineError> {
        config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut blocks = Vec::new();
        let mut d_in = config.n_inputs;
        let mut next_unit_id = 0;
        for &width in &config.hidden {
            blocks.push(Block {
                kind: BlockKind::Dense,
                fan_in: glorot(d_in, width, &mut rng),
                bias: vec![0.0; width],
                fan_out: None,
                unit_ids: (next_unit_id..next_unit_id + width as u64).collect(),
            });
            next_unit_id += width as u64;
            d_in = width;
        }
        let n_out = n_outputs(task);
        Ok(Mlp {
            activation: config.activation,
            task,
            n_inputs: config.n_inputs,
            blocks,
            out_weight: glorot(d_in, n_out, &mut rng),
            out_bias: vec![0.0; n_out],
            next_unit_id,
        })
    }

    /// Hands out a fresh unit identity.
    pub fn fresh_unit_id(&mut self) -> UnitId {
        let id = self.next_unit_id;
        self.next_unit_id += 1;
        id
    }

    /// Number of hidden units over all blocks.
    pub fn n_units(&self) -> usize {
        self.blocks.iter().map(Block::n_units).sum()
    }

    /// Units in the widest hidden block (0 without any).
    pub fn widest_layer(&self) -> usize {
        self.blocks.iter().map(Block::n_units).max().unwrap_or(0)
    }

    /// Number of trainable parameters.
    pub fn n_params(&self) -> usize {
        let hidden: usize = self
            .blocks
            .iter()
            .map(|b| {
                b.fan_in.data.len() + b.bias.len() + b.fan_out.as_ref().map_or(0, |m| m.data.len())
            })
            .sum();
        hidden + self.out_weight.data.len() + self.out_bias.len()
    }

    /// Width of the stream entering block `block` (or the output layer when `block == blocks.len()`).
    pub fn stream_width_before(&self, block: usize) -> usize {
        if block == 0 {
            self.n_inputs
        } else {
            self.blocks[block - 1].d_out()
        }
    }

    /// Readable architecture, e.g. `2-4-3r-2`: input width, each block's units (`r` marks a residual
    /// block) and the output width.
    pub fn architecture(&self) -> String {
        let mut parts = vec![self.n_inputs.to_string()];
        for block in &self.blocks {
            parts.push(match block.kind {
                BlockKind::Dense => block.n_units().to_string(),
                BlockKind::Residual => format!("{}r", block.n_units()),
            });
        }
        parts.push(self.out_bias.len().to_string());
        parts.join("-")
    }

    /// Every unit identity, block by block.
    pub fn unit_ids(&self) -> Vec<UnitId> {
        self.blocks
            .iter()
            .flat_map(|b| b.unit_ids.iter().copied())
            .collect()
    }

    /// The next dense block after `block`, which reads its units (`None`: the output layer
    /// does). Residual blocks in between act on the same stream.
    pub fn consumer_of(&self, block: usize) -> Option<usize> {
        (block + 1..self.blocks.len()).find(|&b| self.blocks[b].kind == BlockKind::Dense)
    }

    /// How many values one unit of `block` writes: one per unit of its consumer (the next dense
    /// block, or the output) for a dense block, one per stream coordinate for a residual block.
    pub fn consumer_width(&self, block: usize) -> usize {
        match self.blocks[block].kind {
            BlockKind::Residual => self.blocks[block].d_in(),
            BlockKind::Dense => match self.consumer_of(block) {
                Some(c) => self.blocks[c].n_units(),
                None => self.out_bias.len(),
            },
        }
    }

    /// Where a unit is and the size of its weights (for the UI's unit card).
    pub fn unit_info(&self, id: UnitId) -> Option<UnitInfo> {
        let (block, index) =
            self.blocks.iter().enumerate().find_map(|(b, block)| {
                block.unit_ids.iter().position(|u| *u == id).map(|i| (b, i))
            })?;
        let blk = &self.blocks[block];
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let fan_out: Vec<f32> = match (&blk.fan_out, blk.kind) {
            (Some(m), _) => m.row(index).to_vec(),
            (None, _) => match self.consumer_of(block) {
                Some(c) if blk.kind == BlockKind::Dense => {
                    self.blocks[c].fan_in.row(index).to_vec()
                }
                _ => self.out_weight.row(index).to_vec(),
            },
        };
        Some(UnitInfo {
            block,
            index,
            kind: blk.kind,
            bias: blk.bias[index],
            fan_in_norm: norm(&blk.fan_in.column(index)),
            fan_out_norm: norm(&fan_out),
        })
    }

    /// Forward pass on the host (slow, exact reference for tests): inputs `[n, n_inputs]` row-major,
    /// returns outputs `[n, n_outputs]` row-major.
    pub fn forward_host(&self, inputs: &[f32]) -> Vec<f32> {
        let n = inputs.len() / self.n_inputs;
        let mut out = Vec::with_capacity(n * self.out_bias.len());
        for row in inputs.chunks(self.n_inputs) {
            let mut stream = row.to_vec();
            for block in &self.blocks {
                let act: Vec<f32> = (0..block.n_units())
                    .map(|j| {
                        let z: f32 = stream
                            .iter()
                            .enumerate()
                            .map(|(i, x)| x * block.fan_in.get(i, j))
                            .sum::<f32>()
                            + block.bias[j];
                        self.activation.value(z)
                    })
                    .collect();
                stream = match (&block.fan_out, block.kind) {
                    (Some(fan_out), BlockKind::Residual) => (0..stream.len())
                        .map(|k| {
                            stream[k]
                                + act
                                    .iter()
                                    .enumerate()
                                    .map(|(j, a)| a * fan_out.get(j, k))
                                    .sum::<f32>()
                        })
                        .collect(),
                    _ => act,
                };
            }
            for k in 0..self.out_bias.len() {
                let z: f32 = stream
                    .iter()
                    .enumerate()
                    .map(|(i, x)| x * self.out_weight.get(i, k))
                    .sum::<f32>()
                    + self.out_bias[k];
                out.push(z);
            }
        }
        out
    }

    /// Checks that every matrix agrees with its neighbours (a surgery bug trips this).
    pub fn check_shapes(&self) -> Result<(), EngineError> {
        let mut d = self.n_inputs;
        for (i, block) in self.blocks.iter().enumerate() {
            let bad = |what: &str| {
                Err(EngineError::Internal(format!(
                    "block {i}: {what} (architecture {})",
                    self.architecture()
                )))
            };
            if block.fan_in.rows != d {
                return bad("fan-in rows do not match the stream width");
            }
            if block.bias.len() != block.n_units() || block.unit_ids.len() != block.n_units() {
                return bad("bias or identities do not match the unit count");
            }
            match (block.kind, &block.fan_out) {
                (BlockKind::Residual, Some(m)) if m.rows == block.n_units() && m.cols == d => {}
                (BlockKind::Dense, None) => {}
                _ => return bad("fan-out does not match"),
            }
            d = block.d_out();
        }
        if self.out_weight.rows != d || self.out_weight.cols != self.out_bias.len() {
            return Err(EngineError::Internal("output layer shape mismatch".into()));
        }
        Ok(())
    }

    /// The parameters as matrices in [`DeviceMlp::params`] order: per block fan-in, bias as a
    /// `[1, m]` row, fan-out (residual only); then output weight and output bias.
    pub fn param_matrices(&self) -> Vec<Matrix> {
        let mut out = Vec::new();
        for block in &self.blocks {
            out.push(block.fan_in.clone());
            out.push(Matrix::from_vec(1, block.bias.len(), block.bias.clone()));
            if let Some(fan_out) = &block.fan_out {
                out.push(fan_out.clone());
            }
        }
        out.push(self.out_weight.clone());
        out.push(Matrix::from_vec(
            1,
            self.out_bias.len(),
            self.out_bias.clone(),
        ));
        out
    }

    /// Replaces every parameter with values in [`Mlp::param_matrices`] order (shapes must match).
    pub fn set_param_values(&mut self, values: &[Vec<f32>]) -> Result<(), EngineError> {
        let mut it = values.iter();
        let mut next = |len: usize| -> Result<Vec<f32>, EngineError> {
            match it.next() {
                Some(v) if v.len() == len => Ok(v.clone()),
                _ => Err(EngineError::Internal(
                    "parameter values do not match the architecture".into(),
                )),
            }
        };
        for block in &mut self.blocks {
            block.fan_in.data = next(block.fan_in.data.len())?;
            block.bias = next(block.bias.len())?;
            if let Some(fan_out) = &mut block.fan_out {
                fan_out.data = next(fan_out.data.len())?;
            }
        }
        self.out_weight.data = next(self.out_weight.data.len())?;
        self.out_bias = next(self.out_bias.len())?;
        Ok(())
    }
}
