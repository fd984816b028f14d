//! The loss on a device (softmax cross-entropy or mean squared error) and the same loss and the
//! accuracy on the host from read-back outputs.

use burn::tensor::{Device, Tensor, TensorData, activation};

use crate::data::Task;

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
