//! The network on a device: `DeviceMlp` (parameters as tensors, upload and download) and the
//! tensor forward pass.

use burn::tensor::{Device, Tensor, TensorData};

use super::{BlockKind, Mlp};
use crate::error::EngineError;

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

/// Whether `device` computes on the CPU (burn's Flex backend, plain or with autodiff) rather
/// than a GPU: work there costs by the row, on a GPU by the kernel launch. burn does not export
/// its device enum, so this reads the device's name (`tests/engine/model.rs` holds it).
pub fn is_cpu(device: &Device) -> bool {
    format!("{device:?}").contains("Flex")
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

/// Uploads row-major inputs `[n, width]`.
pub fn inputs_tensor(inputs: &[f32], width: usize, device: &Device) -> Tensor<2> {
    let n = inputs.len() / width;
    Tensor::from_data(TensorData::new(inputs.to_vec(), [n, width]), device)
}
