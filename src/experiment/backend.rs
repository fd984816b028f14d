//! The backend check: one small, fixed run whose numbers native, browser-CPU and browser-WebGPU
//! builds must all agree on (`tests/golden/`).

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::config::RunConfig;
use crate::data::DatasetKind;
use crate::error::EngineError;
use crate::grow::Method;
use crate::train::{Session, TrainPath};

/// The outcome of [`backend_check`]: a small, fixed run whose numbers must agree across backends
/// (and across native and browser builds) within floating-point tolerance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackendCheck {
    /// Training loss after each epoch.
    pub losses: Vec<f32>,
    /// Architecture after the growth phase.
    pub architecture: String,
    /// Chosen candidates as (kind, block, index).
    pub chosen: Vec<(crate::grow::CandidateKind, usize, usize)>,
    /// Training loss right after growth.
    pub loss_after_growth: f32,
    /// Outputs on a 5×5 grid at the end.
    pub outputs: Vec<f32>,
}

impl BackendCheck {
    /// Compares two checks: same architecture and choices, numbers within `tolerance`.
    pub fn compare(&self, other: &BackendCheck, tolerance: f32) -> Result<(), String> {
        if self.architecture != other.architecture {
            return Err(format!(
                "architecture {} vs {}",
                self.architecture, other.architecture
            ));
        }
        if self.chosen != other.chosen {
            return Err(format!("chosen {:?} vs {:?}", self.chosen, other.chosen));
        }
        let close = |what: &str, a: &[f32], b: &[f32]| -> Result<(), String> {
            if a.len() != b.len() {
                return Err(format!("{what}: {} vs {} values", a.len(), b.len()));
            }
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                let within = (x - y).abs() <= tolerance * (1.0 + x.abs().max(y.abs()));
                if !within {
                    return Err(format!("{what}[{i}]: {x} vs {y}"));
                }
            }
            Ok(())
        };
        close("losses", &self.losses, &other.losses)?;
        close(
            "loss after growth",
            &[self.loss_after_growth],
            &[other.loss_after_growth],
        )?;
        close("outputs", &self.outputs, &other.outputs)
    }
}

/// A small fixed run on `device`: circle (100 points), one hidden layer of 2 tanh units,
/// full-batch Adam for 8 epochs, one Firefly growth (20 Step-1 steps), 4 more epochs.
///
/// `pause` is awaited after every unit of work; in a browser it yields to the event loop (a long
/// run of GPU submissions without a yield stalls the page), natively it is `|| async {}`.
pub async fn backend_check<P, F>(device: &Device, pause: P) -> Result<BackendCheck, EngineError>
where
    P: FnMut() -> F,
    F: std::future::Future<Output = ()>,
{
    let mut config = small_run();
    config.train.learning_rate = 0.01;
    config.model.hidden = vec![2];
    config.train.epochs_per_growth = 8;
    config.growth.step1_steps = 20;
    check_run(config, device, TrainPath::Fused, 12, pause).await
}

/// A short run trained along `path` on `device`: mini-batches of 40 (so each epoch's order is
/// drawn), Adam, one Firefly growth phase after 2 epochs with the moments carried, 4 epochs in
/// all. The browser tests compare WebGPU's tensor training with the CPU's fused step on it;
/// `tests/engine/paths.rs` compares the two paths natively.
pub async fn path_check<P, F>(
    device: &Device,
    path: TrainPath,
    pause: P,
) -> Result<BackendCheck, EngineError>
where
    P: FnMut() -> F,
    F: std::future::Future<Output = ()>,
{
    let mut config = small_run();
    config.train.learning_rate = 0.02;
    config.train.batch_size = 40;
    config.train.on_growth = crate::train::OnGrowth::Carry;
    config.model.hidden = vec![3];
    config.train.epochs_per_growth = 2;
    config.growth.step1_steps = 5;
    check_run(config, device, path, 4, pause).await
}

/// What both checks share: Firefly on the circle (100 points), Adam (as when the golden result
/// was recorded; the Figure 3 protocol now trains with SGD), every epoch recorded, one growth.
fn small_run() -> RunConfig {
    let mut config = RunConfig::figure3(DatasetKind::Circle, Method::Firefly, 4, 3, 8);
    config.data.n_points = 100;
    config.train.optimizer = crate::optim::OptimizerKind::Adam;
    config.train.eval_every = 1;
    config.train.max_growths = 1;
    config
}

/// Trains `config` along `path` on `device` for `epochs` epochs (pausing after every unit of
/// work) and reads what a [`BackendCheck`] holds.
async fn check_run<P, F>(
    config: RunConfig,
    device: &Device,
    path: TrainPath,
    epochs: usize,
    mut pause: P,
) -> Result<BackendCheck, EngineError>
where
    P: FnMut() -> F,
    F: std::future::Future<Output = ()>,
{
    let data = crate::data::Dataset::generate(&config.data)?;
    let mut session = Session::with_path(config, data, device.clone(), path)?;
    while session.epoch() < epochs {
        session.advance(1).await?;
        pause().await;
    }
    let event = session
        .history()
        .growths
        .first()
        .cloned()
        .ok_or_else(|| EngineError::Internal("no growth".into()))?;
    Ok(BackendCheck {
        losses: session
            .history()
            .epochs
            .iter()
            .map(|e| e.train_loss)
            .collect(),
        architecture: event.architecture_after.clone(),
        chosen: event
            .candidates
            .iter()
            .filter(|c| c.chosen)
            .map(|c| (c.kind, c.block, c.index))
            .collect(),
        loss_after_growth: event.loss_after,
        outputs: session.predict(&crate::data::grid_inputs(5)).await?,
    })
}
