//! Shared helpers: a CPU device, blocking on engine futures, small networks and data.

use burn::tensor::Device;
use firefly_playground::data::{DataConfig, Dataset, DatasetKind, Task};
use firefly_playground::model::{Activation, Mlp, ModelConfig};

/// The CPU device every native test runs on.
pub fn device() -> Device {
    Device::flex()
}

/// Drives an engine future to completion.
pub fn block<F: std::future::Future>(future: F) -> F::Output {
    pollster::block_on(future)
}

/// A small generated data set.
pub fn dataset(kind: DatasetKind, n_points: usize, seed: u64) -> Dataset {
    let mut config = DataConfig::new(kind);
    config.n_points = n_points;
    config.seed = seed;
    Dataset::generate(&config).expect("valid test data")
}

/// A network with the given hidden widths.
pub fn mlp(hidden: &[usize], activation: Activation, task: Task, seed: u64) -> Mlp {
    Mlp::new(
        &ModelConfig {
            n_inputs: 2,
            hidden: hidden.to_vec(),
            activation,
        },
        task,
        seed,
    )
    .expect("valid test network")
}

/// Largest absolute difference between two equally long slices.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "compared slices differ in length");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
