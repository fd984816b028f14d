//! The one place where tensors come back from the device.
//!
//! WebGPU in the browser can only read asynchronously, so every read in the engine goes through
//! [`read_all`], which batches several tensors into one transaction and awaits it. Native callers
//! drive these futures with a blocking executor at the edge (the CLI, tests, benches).

use burn::tensor::{Tensor, Transaction};

use crate::error::EngineError;

/// Reads several tensors in one batched transaction; each comes back as a flat row-major vector.
pub async fn read_all<const D: usize>(
    tensors: Vec<Tensor<D>>,
) -> Result<Vec<Vec<f32>>, EngineError> {
    let mut transaction = Transaction::default();
    for tensor in tensors {
        transaction = transaction.register(tensor.without_autodiff());
    }
    let datas = transaction
        .execute_async()
        .await
        .map_err(|e| EngineError::Read(format!("{e:?}")))?;
    datas
        .into_iter()
        .map(|d| {
            d.convert::<f32>()
                .try_into_vec::<f32>()
                .map_err(|e| EngineError::Read(format!("{e:?}")))
        })
        .collect()
}

/// Reads one tensor.
pub async fn read_one<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, EngineError> {
    let mut all = read_all(vec![tensor]).await?;
    all.pop()
        .ok_or_else(|| EngineError::Internal("empty read".into()))
}
