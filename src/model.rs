//! The growable network: an MLP whose hidden blocks are dense layers or residual blocks.
//!
//! A network lives in two forms. [`Mlp`] is plain host data (row-major matrices, unit identities,
//! the architecture); it is what growth surgery edits and what tests inspect. [`DeviceMlp`] holds the
//! same weights as burn tensors on a [`Device`] and runs the forward pass and the loss. Training
//! uploads an `Mlp` once, steps the `DeviceMlp` many times and downloads it again (asynchronously,
//! through [`crate::readback`]) only when growth needs the numbers.
//!
//! Shapes follow burn's convention: a linear map is `[d_input, d_output]`, so widening hidden block
//! `i` appends columns to its fan-in matrix and rows to whatever consumes its output.
//!
//! A dense block computes `a = σ(x W + b)` (width = its number of units). A residual block keeps
//! the stream width `d` and computes `x + σ(x W_in + b) W_out` with `W_in: [d, m]`, `W_out: [m, d]`;
//! its `m` units are growable like any other. Residual blocks are what depth growth creates.

use burn::tensor::{Device, Tensor, TensorData, activation};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::Task;
use crate::error::EngineError;

/// A unit's identity: it survives growth, so lineage and the UI can follow a unit across phases.
pub type UnitId = u64;

/// Hidden-unit nonlinearity, shared by every hidden block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// Hyperbolic tangent.
    Tanh,
    /// Rectified linear unit (derivative 0 at 0).
    Relu,
    /// Logistic sigmoid.
    Sigmoid,
    /// softplus(z) = ln(1 + e^z).
    Softplus,
}

impl Activation {
    /// Every activation, in the order menus show them.
    pub const ALL: [Activation; 4] = [
        Activation::Tanh,
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Softplus,
    ];

    /// The lower-case name used in configs, URLs and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Softplus => "softplus",
        }
    }

    /// Applies the activation to a tensor on any device.
    pub fn forward(self, z: Tensor<2>) -> Tensor<2> {
        match self {
            Activation::Tanh => z.tanh(),
            Activation::Relu => activation::relu(z),
            Activation::Sigmoid => activation::sigmoid(z),
            Activation::Softplus => activation::softplus(z, 1.0),
        }
    }

    /// σ(z) on the host, for test oracles and host-side analysis.
    pub fn value(self, z: f32) -> f32 {
        match self {
            Activation::Tanh => z.tanh(),
            Activation::Relu => z.max(0.0),
            Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
            Activation::Softplus => softplus(z, 1.0),
        }
    }

    /// σ'(z) on the host.
    pub fn derivative(self, z: f32) -> f32 {
        match self {
            Activation::Tanh => 1.0 - z.tanh().powi(2),
            Activation::Relu => {
                if z > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::Sigmoid => {
                let s = self.value(z);
                s * (1.0 - s)
            }
            Activation::Softplus => Activation::Sigmoid.value(z),
        }
    }

    /// σ''(z) on the host, as exact splitting steepest descent needs it. ReLU's second derivative is
    /// zero almost everywhere, so (as the splitting paper's code does) a softplus with β = 3 stands
    /// in for it.
    pub fn second_derivative(self, z: f32) -> f32 {
        match self {
            Activation::Tanh => {
                let t = z.tanh();
                -2.0 * t * (1.0 - t * t)
            }
            Activation::Relu => {
                let beta = 3.0;
                let s = Activation::Sigmoid.value(beta * z);
                beta * s * (1.0 - s)
            }
            Activation::Sigmoid => {
                let s = self.value(z);
                s * (1.0 - s) * (1.0 - 2.0 * s)
            }
            Activation::Softplus => {
                let s = Activation::Sigmoid.value(z);
                s * (1.0 - s)
            }
        }
    }
}

fn softplus(z: f32, beta: f32) -> f32 {
    let bz = beta * z;
    if bz > 20.0 {
        z
    } else {
        bz.exp().ln_1p() / beta
    }
}

impl std::fmt::Display for Activation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Activation {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Activation::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                EngineError::InvalidConfig(format!(
                    "unknown activation \"{s}\" (expected one of tanh, relu, sigmoid, softplus)"
                ))
            })
    }
}

/// A dense row-major matrix of `f32` on the host.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// `rows * cols` values, row after row.
    pub data: Vec<f32>,
}

impl Matrix {
    /// A matrix of zeros.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Matrix {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// Wraps row-major data; `data.len()` must be `rows * cols`.
    pub fn from_vec(rows: usize, cols: usize, data: Vec<f32>) -> Self {
        assert_eq!(data.len(), rows * cols, "matrix data has the wrong length");
        Matrix { rows, cols, data }
    }

    /// Element at (`r`, `c`).
    pub fn get(&self, r: usize, c: usize) -> f32 {
        self.data[r * self.cols + c]
    }

    /// Sets the element at (`r`, `c`).
    pub fn set(&mut self, r: usize, c: usize, value: f32) {
        self.data[r * self.cols + c] = value;
    }

    /// Row `r` as a slice.
    pub fn row(&self, r: usize) -> &[f32] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// Column `c`, copied.
    pub fn column(&self, c: usize) -> Vec<f32> {
        (0..self.rows).map(|r| self.get(r, c)).collect()
    }

    /// Appends a row (its length must be `cols`).
    pub fn push_row(&mut self, row: &[f32]) {
        assert_eq!(row.len(), self.cols, "row has the wrong length");
        self.data.extend_from_slice(row);
        self.rows += 1;
    }

    /// Appends a column (its length must be `rows`).
    pub fn push_column(&mut self, column: &[f32]) {
        assert_eq!(column.len(), self.rows, "column has the wrong length");
        let mut data = Vec::with_capacity(self.rows * (self.cols + 1));
        for (r, value) in column.iter().enumerate() {
            data.extend_from_slice(self.row(r));
            data.push(*value);
        }
        self.data = data;
        self.cols += 1;
    }

    /// Multiplies row `r` by `factor`.
    pub fn scale_row(&mut self, r: usize, factor: f32) {
        for v in &mut self.data[r * self.cols..(r + 1) * self.cols] {
            *v *= factor;
        }
    }

    fn to_tensor(&self, device: &Device) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(self.data.clone(), [self.rows, self.cols]),
            device,
        )
    }
}

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
        if let Some(w) = self.hidden.iter().find(|w| **w == 0 || **w > 256) {
            return Err(EngineError::InvalidConfig(format!(
                "hidden layer widths must be 1 to 256, got {w}"
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

/// The network's parameters as tensors on a device. Every parameter is a rank-2 tensor (biases are
/// `[1, m]` rows) so one optimiser loop serves them all.
#[derive(Clone, Debug)]
pub struct DeviceMlp {
    /// Architecture and identities (the host copy's numbers are stale while training runs).
    pub shape: Mlp,
    /// Parameters in [`Mlp::param_matrices`] order.
    pub params: Vec<Tensor<2>>,
}

impl DeviceMlp {
    /// Uploads a host network (plain tensors; training makes autodiff leaves of them per step).
    pub fn upload(mlp: &Mlp, device: &Device) -> Self {
        let params = mlp
            .param_matrices()
            .iter()
            .map(|m| m.to_tensor(device))
            .collect();
        DeviceMlp {
            shape: mlp.clone(),
            params,
        }
    }

    /// The parameters, without autodiff (constants for growth's augmented pass).
    pub fn frozen_params(&self) -> Vec<Tensor<2>> {
        self.params
            .iter()
            .map(|p| p.clone().without_autodiff())
            .collect()
    }

    /// Forward pass.
    ///
    /// # Shapes
    /// - `inputs`: `[batch, n_inputs]`
    /// - returns: `[batch, n_outputs]` (logits or regression values)
    pub fn forward(&self, inputs: Tensor<2>) -> Tensor<2> {
        forward_with(&self.shape, &self.params, inputs)
    }

    /// Downloads the current parameter values into a host network.
    pub async fn download(&self) -> Result<Mlp, EngineError> {
        let values = crate::readback::read_all(self.frozen_params()).await?;
        let mut mlp = self.shape.clone();
        mlp.set_param_values(&values)?;
        Ok(mlp)
    }
}

/// Forward pass through `shape`'s architecture with parameters `params` (in
/// [`Mlp::param_matrices`] order).
pub fn forward_with(shape: &Mlp, params: &[Tensor<2>], inputs: Tensor<2>) -> Tensor<2> {
    forward_hooked(shape, params, inputs, &mut |_, _, _, h| h)
}

/// [`forward_with`], letting `hook(block, pre_activation, block_input, activation)` replace each
/// block's activation (exact splitting makes it a gradient leaf).
pub fn forward_hooked(
    shape: &Mlp,
    params: &[Tensor<2>],
    inputs: Tensor<2>,
    hook: &mut dyn FnMut(usize, &Tensor<2>, &Tensor<2>, Tensor<2>) -> Tensor<2>,
) -> Tensor<2> {
    let mut idx = 0;
    let mut stream = inputs; // [batch, d]
    for (b, block) in shape.blocks.iter().enumerate() {
        let z = stream.clone().matmul(params[idx].clone()) + params[idx + 1].clone(); // [batch, m]
        idx += 2;
        let act = hook(b, &z, &stream, shape.activation.forward(z.clone())); // [batch, m]
        stream = match block.kind {
            BlockKind::Dense => act,
            BlockKind::Residual => {
                let w_out = params[idx].clone();
                idx += 1;
                stream + act.matmul(w_out)
            }
        };
    }
    stream.matmul(params[idx].clone()) + params[idx + 1].clone()
}

/// Targets prepared on a device for [`loss`]: one-hot rows for classification, values for
/// regression.
#[derive(Clone, Debug)]
pub struct Targets {
    /// `[n, n_outputs]`.
    pub tensor: Tensor<2>,
    /// The task the targets belong to.
    pub task: Task,
}

impl Targets {
    /// Builds targets from labels (class indices as f32, or values).
    pub fn new(labels: &[f32], task: Task, device: &Device) -> Self {
        let n = labels.len();
        let tensor = match task {
            Task::Classification { n_classes } => {
                let mut onehot = vec![0.0f32; n * n_classes];
                for (i, label) in labels.iter().enumerate() {
                    let class = (*label as usize).min(n_classes - 1);
                    onehot[i * n_classes + class] = 1.0;
                }
                Tensor::from_data(TensorData::new(onehot, [n, n_classes]), device)
            }
            Task::Regression => Tensor::from_data(TensorData::new(labels.to_vec(), [n, 1]), device),
        };
        Targets { tensor, task }
    }
}

/// Mean loss: softmax cross-entropy for classification, mean squared error for regression.
///
/// # Shapes
/// - `outputs`: `[n, n_outputs]`; returns `[1]`.
pub fn loss(outputs: Tensor<2>, targets: &Targets) -> Tensor<1> {
    match targets.task {
        Task::Classification { .. } => {
            let logp = activation::log_softmax(outputs, 1);
            (logp * targets.tensor.clone()).sum_dim(1).mean().neg()
        }
        Task::Regression => (outputs - targets.tensor.clone()).square().mean(),
    }
}

/// Loss and accuracy computed on the host from read-back outputs (one read serves both).
/// Accuracy is `None` for regression.
pub fn metrics_from_outputs(outputs: &[f32], labels: &[f32], task: Task) -> (f32, Option<f32>) {
    let n = labels.len().max(1);
    match task {
        Task::Classification { n_classes } => {
            let mut loss = 0.0f64;
            let mut correct = 0usize;
            for (row, label) in outputs.chunks(n_classes).zip(labels) {
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let lse = row
                    .iter()
                    .map(|v| ((v - max) as f64).exp())
                    .sum::<f64>()
                    .ln()
                    + max as f64;
                let class = *label as usize;
                loss += lse - row[class.min(n_classes - 1)] as f64;
                let argmax = row
                    .iter()
                    .enumerate()
                    .fold((0, f32::NEG_INFINITY), |best, (i, v)| {
                        if *v > best.1 { (i, *v) } else { best }
                    })
                    .0;
                if argmax == class {
                    correct += 1;
                }
            }
            ((loss / n as f64) as f32, Some(correct as f32 / n as f32))
        }
        Task::Regression => {
            let sse: f64 = outputs
                .iter()
                .zip(labels)
                .map(|(o, t)| ((o - t) as f64).powi(2))
                .sum();
            ((sse / n as f64) as f32, None)
        }
    }
}

/// Uploads row-major inputs `[n, width]`.
pub fn inputs_tensor(inputs: &[f32], width: usize, device: &Device) -> Tensor<2> {
    let n = inputs.len() / width;
    Tensor::from_data(TensorData::new(inputs.to_vec(), [n, width]), device)
}
