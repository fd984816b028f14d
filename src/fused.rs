//! The fused training step: forward pass, backward pass and optimiser update of a dense network in
//! plain loops in CPU memory.
//!
//! At the playground's sizes (a 2-4-2-2 network, mini-batches of 10) a step is about a thousand
//! floating-point operations, while a tensor library pays a fixed cost per operation (dozens of
//! operations per step). These loops pay nothing per operation, so training is 10–100× faster
//! than the tensor path on the CPU. They compute exactly what [`crate::model::forward_with`],
//! [`crate::model::loss`], burn's autodiff and [`crate::optim::Optimizer`] compute: the tensor path
//! stays the reference, and tests hold the two within 1e-5 over training and growth.
//!
//! Weights live in an [`Mlp`]; the optimiser's moments are [`Mlp`]s of the same shape, so growth
//! reshapes them with the same surgery as the weights ([`crate::grow::Surgery::Moments`]).

use crate::config::Regularization;
use crate::data::Task;
use crate::model::{Activation, BlockKind, Mlp, n_outputs};
use crate::optim::{OptimizerKind, SliceOptimizer};

/// Every parameter of a network as a mutable slice, in [`Mlp::param_matrices`] order.
pub fn params_mut(mlp: &mut Mlp) -> Vec<&mut [f32]> {
    let mut out: Vec<&mut [f32]> = Vec::with_capacity(mlp.blocks.len() * 3 + 2);
    for block in &mut mlp.blocks {
        out.push(&mut block.fan_in.data);
        out.push(&mut block.bias);
        if let Some(fan_out) = &mut block.fan_out {
            out.push(&mut fan_out.data);
        }
    }
    out.push(&mut mlp.out_weight.data);
    out.push(&mut mlp.out_bias);
    out
}

/// Every parameter as a slice, in [`Mlp::param_matrices`] order.
pub fn params(mlp: &Mlp) -> Vec<&[f32]> {
    let mut out: Vec<&[f32]> = Vec::with_capacity(mlp.blocks.len() * 3 + 2);
    for block in &mlp.blocks {
        out.push(&block.fan_in.data);
        out.push(&block.bias);
        if let Some(fan_out) = &block.fan_out {
            out.push(&fan_out.data);
        }
    }
    out.push(&mlp.out_weight.data);
    out.push(&mlp.out_bias);
    out
}

/// A network of the same shape with every parameter zero (fresh moments, gradient buffers).
pub fn zeros_like(mlp: &Mlp) -> Mlp {
    let mut zero = mlp.clone();
    for p in params_mut(&mut zero) {
        p.fill(0.0);
    }
    zero
}

/// Whether two networks have parameters of the same shapes.
fn same_shape(a: &Mlp, b: &Mlp) -> bool {
    let (pa, pb) = (params(a), params(b));
    pa.len() == pb.len()
        && pa.iter().zip(&pb).all(|(x, y)| x.len() == y.len())
        && a.blocks
            .iter()
            .zip(&b.blocks)
            .all(|(x, y)| x.fan_in.rows == y.fan_in.rows)
}

/// `out[r, c] = Σ_k a[r, k] b[k, c]` (+ `bias[c]`), row-major; `out` is overwritten.
fn matmul_bias(a: &[f32], b: &[f32], bias: Option<&[f32]>, k: usize, cols: usize, out: &mut [f32]) {
    for (row_a, row_out) in a.chunks_exact(k).zip(out.chunks_exact_mut(cols)) {
        match bias {
            Some(bias) => row_out.copy_from_slice(bias),
            None => row_out.fill(0.0),
        }
        for (x, row_b) in row_a.iter().zip(b.chunks_exact(cols)) {
            for (o, w) in row_out.iter_mut().zip(row_b) {
                *o += x * w;
            }
        }
    }
}

/// `out[r, k] (+)= Σ_c g[r, c] w[k, c]`: a gradient sent back through `w: [k, cols]`.
fn matmul_transposed(g: &[f32], w: &[f32], k: usize, cols: usize, out: &mut [f32], add: bool) {
    for (row_g, row_out) in g.chunks_exact(cols).zip(out.chunks_exact_mut(k)) {
        for (o, row_w) in row_out.iter_mut().zip(w.chunks_exact(cols)) {
            let s: f32 = row_g.iter().zip(row_w).map(|(a, b)| a * b).sum();
            if add { *o += s } else { *o = s }
        }
    }
}

/// `grad[k, c] = Σ_r x[r, k] g[r, c]` and `bias_grad[c] = Σ_r g[r, c]`; with `clear` false the
/// rows' terms are added to what the gradients hold (the next rows of a batch, in order).
fn weight_grads(
    x: &[f32],
    g: &[f32],
    k: usize,
    cols: usize,
    grad: &mut [f32],
    bias_grad: Option<&mut [f32]>,
    clear: bool,
) {
    if clear {
        grad.fill(0.0);
    }
    for (row_x, row_g) in x.chunks_exact(k).zip(g.chunks_exact(cols)) {
        for (xv, row_grad) in row_x.iter().zip(grad.chunks_exact_mut(cols)) {
            for (o, gv) in row_grad.iter_mut().zip(row_g) {
                *o += xv * gv;
            }
        }
    }
    if let Some(bias_grad) = bias_grad {
        if clear {
            bias_grad.fill(0.0);
        }
        for row_g in g.chunks_exact(cols) {
            for (o, gv) in bias_grad.iter_mut().zip(row_g) {
                *o += gv;
            }
        }
    }
}

fn activate(activation: Activation, z: &[f32], a: &mut [f32], precision: Precision) {
    match (activation, precision) {
        (Activation::Tanh, Precision::Drawing) => {
            let table = tanh_table();
            for (a, z) in a.iter_mut().zip(z) {
                *a = table.tanh(*z);
            }
        }
        (Activation::Sigmoid, Precision::Drawing) => {
            let table = tanh_table();
            for (a, z) in a.iter_mut().zip(z) {
                *a = 0.5 + 0.5 * table.tanh(0.5 * z);
            }
        }
        _ => {
            for (a, z) in a.iter_mut().zip(z) {
                *a = activation.value(*z);
            }
        }
    }
}

/// How exactly a forward pass computes its activations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Precision {
    /// `f32::tanh` and friends, as the tensor path does: training and metrics.
    Exact,
    /// tanh and the sigmoid from a table (error below 2e-6): maps and thumbnails, where a
    /// 100×100 grid through a deep network is mostly the cost of the library tanh.
    Drawing,
}

/// tanh sampled on [-RANGE, RANGE] for linear interpolation; beyond it tanh is ±1 to within
/// f32 rounding (tanh(9) = 1 − 3e-8).
struct TanhTable {
    values: Vec<f32>,
}

impl TanhTable {
    const RANGE: f32 = 9.0;
    const STEPS: usize = 8192;

    fn new() -> Self {
        let values = (0..=Self::STEPS + 1)
            .map(|i| {
                let x =
                    -Self::RANGE as f64 + 2.0 * Self::RANGE as f64 * i as f64 / Self::STEPS as f64;
                x.tanh() as f32
            })
            .collect();
        TanhTable { values }
    }

    fn tanh(&self, x: f32) -> f32 {
        if x.is_nan() {
            return x;
        }
        let t = (x.clamp(-Self::RANGE, Self::RANGE) + Self::RANGE)
            * (Self::STEPS as f32 / (2.0 * Self::RANGE));
        let i = (t as usize).min(Self::STEPS);
        let frac = t - i as f32;
        let (a, b) = (self.values[i], self.values[i + 1]);
        a + (b - a) * frac
    }
}

fn tanh_table() -> &'static TanhTable {
    static TABLE: std::sync::OnceLock<TanhTable> = std::sync::OnceLock::new();
    TABLE.get_or_init(TanhTable::new)
}

/// The drawing tanh (see [`Precision::Drawing`]), exposed for its accuracy test.
pub fn drawing_tanh(x: f32) -> f32 {
    tanh_table().tanh(x)
}

/// σ'(z) from z and a = σ(z), the way burn's autodiff computes it.
fn derivative(activation: Activation, z: f32, a: f32) -> f32 {
    match activation {
        Activation::Tanh => 1.0 - a * a,
        Activation::Relu => {
            if z > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Activation::Sigmoid => a * (1.0 - a),
        Activation::Softplus => Activation::Sigmoid.value(z),
    }
}

/// What one block's forward pass leaves for the backward pass.
#[derive(Clone, Debug, Default)]
struct Tape {
    /// The block's input `[batch, d_in]`.
    input: Vec<f32>,
    /// Pre-activations `[batch, m]`.
    z: Vec<f32>,
    /// Activations `[batch, m]`.
    a: Vec<f32>,
}

/// Reusable buffers for the forward and backward passes, sized on demand.
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    tapes: Vec<Tape>,
    stream: Vec<f32>,
    outputs: Vec<f32>,
    grad_stream: Vec<f32>,
    grad_next: Vec<f32>,
    grad_a: Vec<f32>,
    grads: Option<Mlp>,
}

impl Workspace {
    /// The gradients the last [`gradients`] call computed (shaped like the network).
    pub fn gradients(&self) -> Option<&Mlp> {
        self.grads.as_ref()
    }

    /// The gradients of the last pass, to edit before [`update`] (frozen units, a penalty).
    pub fn gradients_mut(&mut self) -> Option<&mut Mlp> {
        self.grads.as_mut()
    }
}

/// Forward pass of `inputs: [batch, n_inputs]`, keeping what backward needs in `ws`. Returns the
/// outputs `[batch, n_outputs]` (logits or regression values).
fn forward_taped<'w>(
    mlp: &Mlp,
    inputs: &[f32],
    ws: &'w mut Workspace,
    precision: Precision,
) -> &'w [f32] {
    let batch = inputs.len() / mlp.n_inputs.max(1);
    ws.tapes.resize_with(mlp.blocks.len(), Tape::default);
    ws.stream.clear();
    ws.stream.extend_from_slice(inputs);
    for (block, tape) in mlp.blocks.iter().zip(&mut ws.tapes) {
        let (d, m) = (block.d_in(), block.n_units());
        tape.input.clear();
        tape.input.extend_from_slice(&ws.stream);
        tape.z.resize(batch * m, 0.0);
        tape.a.resize(batch * m, 0.0);
        matmul_bias(
            &tape.input,
            &block.fan_in.data,
            Some(&block.bias),
            d,
            m,
            &mut tape.z,
        );
        activate(mlp.activation, &tape.z, &mut tape.a, precision);
        match (&block.fan_out, block.kind) {
            (Some(fan_out), BlockKind::Residual) => {
                // stream = input + a W_out
                ws.grad_a.resize(batch * d, 0.0);
                matmul_bias(&tape.a, &fan_out.data, None, m, d, &mut ws.grad_a);
                for (s, r) in ws.stream.iter_mut().zip(&ws.grad_a) {
                    *s += r;
                }
            }
            _ => {
                ws.stream.clear();
                ws.stream.extend_from_slice(&tape.a);
            }
        }
    }
    let k = mlp.out_bias.len();
    ws.outputs.resize(batch * k, 0.0);
    let d = mlp.out_weight.rows;
    matmul_bias(
        &ws.stream,
        &mlp.out_weight.data,
        Some(&mlp.out_bias),
        d,
        k,
        &mut ws.outputs,
    );
    &ws.outputs
}

/// Forward pass on the CPU: `inputs: [n, n_inputs]` → outputs `[n, n_outputs]`.
pub fn forward(mlp: &Mlp, inputs: &[f32], ws: &mut Workspace) -> Vec<f32> {
    forward_taped(mlp, inputs, ws, Precision::Exact).to_vec()
}

/// [`forward`] for drawing: tanh and the sigmoid from a table (within 2e-6), several times
/// faster on a 100×100 grid.
pub fn forward_for_drawing(mlp: &Mlp, inputs: &[f32], ws: &mut Workspace) -> Vec<f32> {
    forward_taped(mlp, inputs, ws, Precision::Drawing).to_vec()
}

/// Forward pass for drawing (see [`forward_for_drawing`]) that also returns every block's
/// activations (`[n, m]` per block).
pub fn forward_with_activations(
    mlp: &Mlp,
    inputs: &[f32],
    ws: &mut Workspace,
) -> (Vec<f32>, Vec<Vec<f32>>) {
    let out = forward_taped(mlp, inputs, ws, Precision::Drawing).to_vec();
    let acts = ws
        .tapes
        .iter()
        .take(mlp.blocks.len())
        .map(|t| t.a.clone())
        .collect();
    (out, acts)
}

/// Class probabilities (softmax over each row) or the values themselves for regression.
pub fn output_values(outputs: &[f32], task: Task) -> Vec<f32> {
    match task {
        Task::Regression => outputs.to_vec(),
        Task::Classification { n_classes } => {
            let mut out = Vec::with_capacity(outputs.len());
            for row in outputs.chunks_exact(n_classes) {
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let start = out.len();
                let mut sum = 0.0;
                for v in row {
                    let e = (v - max).exp();
                    sum += e;
                    out.push(e);
                }
                for v in &mut out[start..] {
                    *v /= sum;
                }
            }
            out
        }
    }
}

/// Gradients of the mean loss (softmax cross-entropy on class labels, or mean squared error) with
/// respect to every parameter, in a network of the same shape. Returns the loss.
pub fn gradients(mlp: &Mlp, inputs: &[f32], labels: &[f32], ws: &mut Workspace) -> f32 {
    let mut sum = GradientSum::new(labels.len());
    sum.add(mlp, inputs, labels, ws);
    sum.loss()
}

/// The gradients of one batch's mean loss, gathered a run of rows at a time (a large batch over
/// several frames): each run of rows adds its terms, in row order, to the sums in the
/// workspace's gradients, so any split of the batch into runs gives exactly the numbers of one
/// pass over it ([`gradients`]). The network must not change until the batch is complete.
#[derive(Clone, Debug)]
pub struct GradientSum {
    batch: usize,
    rows: usize,
    total: f32,
}

impl GradientSum {
    /// An empty sum for a batch of `batch` rows.
    pub fn new(batch: usize) -> Self {
        GradientSum {
            batch,
            rows: 0,
            total: 0.0,
        }
    }

    /// Rows added so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Whether every row of the batch has been added.
    pub fn complete(&self) -> bool {
        self.rows >= self.batch
    }

    /// The batch's mean loss over the rows added (the batch's loss once complete).
    pub fn loss(&self) -> f32 {
        self.total * (1.0 / self.batch.max(1) as f32)
    }

    /// Adds the next rows of the batch (`inputs: [rows, n_inputs]`, `labels: [rows]`); the
    /// gradients so far are in [`Workspace::gradients`].
    pub fn add(&mut self, mlp: &Mlp, inputs: &[f32], labels: &[f32], ws: &mut Workspace) {
        let clear = self.rows == 0;
        self.total = accumulate(mlp, inputs, labels, self.batch, clear, self.total, ws);
        self.rows += labels.len();
    }
}

/// Adds `labels.len()` rows' terms of the gradients of a batch of `batch` rows' mean loss to the
/// workspace's gradients (zeroed first when `clear`); returns `total` plus the rows' losses.
fn accumulate(
    mlp: &Mlp,
    inputs: &[f32],
    labels: &[f32],
    batch: usize,
    clear: bool,
    mut total: f32,
    ws: &mut Workspace,
) -> f32 {
    let rows = labels.len();
    let k = n_outputs(mlp.task);
    forward_taped(mlp, inputs, ws, Precision::Exact);
    let mut grads = match ws.grads.take() {
        Some(g) if same_shape(&g, mlp) => g,
        _ => zeros_like(mlp),
    };
    // dL/d outputs, kept in grad_next: [rows, k].
    ws.grad_next.resize(rows * k, 0.0);
    let scale = 1.0 / batch.max(1) as f32;
    match mlp.task {
        Task::Classification { n_classes } => {
            for ((row, g), label) in ws
                .outputs
                .chunks_exact(k)
                .zip(ws.grad_next.chunks_exact_mut(k))
                .zip(labels)
            {
                let class = (*label as usize).min(n_classes - 1);
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let sum: f32 = row.iter().map(|v| (v - max).exp()).sum();
                let lse = sum.ln() + max;
                total += lse - row[class];
                for (j, (gv, v)) in g.iter_mut().zip(row).enumerate() {
                    let p = (v - lse).exp();
                    *gv = (p - if j == class { 1.0 } else { 0.0 }) * scale;
                }
            }
        }
        Task::Regression => {
            for ((o, g), t) in ws.outputs.iter().zip(&mut ws.grad_next).zip(labels) {
                let diff = o - t;
                total += diff * diff;
                *g = 2.0 * diff * scale;
            }
        }
    }
    // Output layer.
    let d = mlp.out_weight.rows;
    weight_grads(
        &ws.stream,
        &ws.grad_next,
        d,
        k,
        &mut grads.out_weight.data,
        Some(&mut grads.out_bias),
        clear,
    );
    ws.grad_stream.resize(rows * d, 0.0);
    matmul_transposed(
        &ws.grad_next,
        &mlp.out_weight.data,
        d,
        k,
        &mut ws.grad_stream,
        false,
    );
    // Hidden blocks, last first. grad_stream holds dL/d(stream after the block).
    for (b, block) in mlp.blocks.iter().enumerate().rev() {
        let tape = &ws.tapes[b];
        let (din, m) = (block.d_in(), block.n_units());
        let gblock = &mut grads.blocks[b];
        // dL/da
        match (&block.fan_out, block.kind) {
            (Some(fan_out), BlockKind::Residual) => {
                if let Some(g_out) = &mut gblock.fan_out {
                    weight_grads(
                        &tape.a,
                        &ws.grad_stream,
                        m,
                        din,
                        &mut g_out.data,
                        None,
                        clear,
                    );
                }
                ws.grad_a.resize(rows * m, 0.0);
                matmul_transposed(
                    &ws.grad_stream,
                    &fan_out.data,
                    m,
                    din,
                    &mut ws.grad_a,
                    false,
                );
            }
            _ => {
                ws.grad_a.clear();
                ws.grad_a.extend_from_slice(&ws.grad_stream);
            }
        }
        // dL/dz, in place.
        for ((g, z), a) in ws.grad_a.iter_mut().zip(&tape.z).zip(&tape.a) {
            *g *= derivative(mlp.activation, *z, *a);
        }
        weight_grads(
            &tape.input,
            &ws.grad_a,
            din,
            m,
            &mut gblock.fan_in.data,
            Some(&mut gblock.bias),
            clear,
        );
        if b == 0 {
            break;
        }
        // dL/d(block input): residual blocks add the skip path.
        let residual = block.kind == BlockKind::Residual;
        if residual {
            ws.grad_next.clear();
            ws.grad_next.extend_from_slice(&ws.grad_stream);
        } else {
            ws.grad_next.resize(rows * din, 0.0);
        }
        matmul_transposed(
            &ws.grad_a,
            &block.fan_in.data,
            din,
            m,
            &mut ws.grad_next,
            residual,
        );
        std::mem::swap(&mut ws.grad_stream, &mut ws.grad_next);
    }
    ws.grads = Some(grads);
    total
}

/// Optimiser state for the fused step: the [`SliceOptimizer`] with moments shaped like the
/// network.
#[derive(Clone, Debug)]
pub struct FusedOptimizer {
    /// Update rule and steps taken.
    pub rule: SliceOptimizer,
    /// First moments (or SGD velocity); `None` before the first step.
    pub first: Option<Mlp>,
    /// Second moments (Adam).
    pub second: Option<Mlp>,
}

impl FusedOptimizer {
    /// Fresh state.
    pub fn new(kind: OptimizerKind) -> Self {
        FusedOptimizer {
            rule: SliceOptimizer::new(kind),
            first: None,
            second: None,
        }
    }

    /// Applies one update with the gradients `grads` (same shape as `mlp`), as
    /// [`crate::optim::Optimizer::step`] does.
    pub fn step(&mut self, learning_rate: f32, mlp: &mut Mlp, grads: &Mlp) {
        let step = self.rule.step(learning_rate);
        let grads = params(grads);
        let first = self.first.get_or_insert_with(|| zeros_like(mlp));
        let second = match self.rule.kind {
            OptimizerKind::Adam => params_mut(self.second.get_or_insert_with(|| zeros_like(mlp))),
            OptimizerKind::Sgd | OptimizerKind::Nesterov => Vec::new(),
        };
        // SGD keeps no second moments: each slice gets an empty one (no allocation per step).
        let second = second
            .into_iter()
            .chain(std::iter::repeat_with(<&mut [f32]>::default));
        for (((p, g), m), v) in params_mut(mlp)
            .into_iter()
            .zip(grads)
            .zip(params_mut(first))
            .zip(second)
        {
            step.apply(p, g, m, v);
        }
    }
}

/// Which parameters of [`params`] are weights (the rest are biases), in that order: the ones a
/// [`Regularization`] penalises.
pub fn weight_mask(mlp: &Mlp) -> Vec<bool> {
    let mut out = Vec::with_capacity(mlp.blocks.len() * 3 + 2);
    for block in &mlp.blocks {
        out.push(true);
        out.push(false);
        if block.fan_out.is_some() {
            out.push(true);
        }
    }
    out.push(true);
    out.push(false);
    out
}

/// Adds the penalty's gradient to every weight's gradient (biases untouched).
pub fn regularize(mlp: &Mlp, grads: &mut Mlp, penalty: Regularization, rate: f32) {
    if penalty == Regularization::None || rate == 0.0 {
        return;
    }
    let mask = weight_mask(mlp);
    for ((g, w), is_weight) in params_mut(grads).into_iter().zip(params(mlp)).zip(mask) {
        if is_weight {
            for (g, w) in g.iter_mut().zip(w) {
                *g += penalty.gradient(*w, rate);
            }
        }
    }
}

/// Zeroes the gradients of the fan-in and bias of the units of `mlp` in `frozen`. An optimiser
/// whose moments started at zero then leaves them bit-identical (its update of a parameter that
/// never had a gradient is exactly 0): continual learning's frozen units.
pub fn freeze(mlp: &Mlp, grads: &mut Mlp, frozen: &[crate::model::UnitId]) {
    for (block, grad) in mlp.blocks.iter().zip(&mut grads.blocks) {
        for (i, _) in block
            .unit_ids
            .iter()
            .enumerate()
            .filter(|(_, id)| frozen.contains(id))
        {
            (0..grad.fan_in.rows).for_each(|r| grad.fan_in.set(r, i, 0.0));
            grad.bias[i] = 0.0;
        }
    }
}

/// [`train_step`] with a penalty on the weights: its gradient is added before the update. The
/// returned loss is the data loss alone.
#[allow(clippy::too_many_arguments)]
pub fn train_step_regularized(
    mlp: &mut Mlp,
    optimizer: &mut FusedOptimizer,
    learning_rate: f32,
    penalty: (Regularization, f32),
    inputs: &[f32],
    labels: &[f32],
    ws: &mut Workspace,
) -> f32 {
    let loss = gradients(mlp, inputs, labels, ws);
    update(mlp, optimizer, learning_rate, penalty, ws);
    loss
}

/// The update of [`train_step_regularized`] with the gradients in the workspace (a batch's
/// [`GradientSum`], once complete): the penalty's gradient added, then one optimiser step.
pub fn update(
    mlp: &mut Mlp,
    optimizer: &mut FusedOptimizer,
    learning_rate: f32,
    penalty: (Regularization, f32),
    ws: &mut Workspace,
) {
    if let Some(mut grads) = ws.grads.take() {
        regularize(mlp, &mut grads, penalty.0, penalty.1);
        optimizer.step(learning_rate, mlp, &grads);
        ws.grads = Some(grads);
    }
}

/// One fused training step on a mini-batch: gradients, then the optimiser update. Returns the
/// mini-batch loss before the update.
pub fn train_step(
    mlp: &mut Mlp,
    optimizer: &mut FusedOptimizer,
    learning_rate: f32,
    inputs: &[f32],
    labels: &[f32],
    ws: &mut Workspace,
) -> f32 {
    let loss = gradients(mlp, inputs, labels, ws);
    if let Some(grads) = ws.grads.take() {
        optimizer.step(learning_rate, mlp, &grads);
        ws.grads = Some(grads);
    }
    loss
}
