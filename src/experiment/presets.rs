//! Each preset's claim measured over seeds through the preset's own definition
//! (`settings::preset::options`) and the opening experiment's: the growing run and the baseline trained side by side as
//! the page trains them, seed by seed, and compared by their mean training loss over the epochs
//! the claim names (the area under the page's loss chart up to then, per epoch).

use burn::tensor::Device;

use crate::error::EngineError;
use crate::settings::PageOptions;
use crate::train::Session;

/// One preset's two runs on one seed.
#[derive(Clone, Debug, PartialEq)]
pub struct PresetSeed {
    /// The seed (data and weights).
    pub seed: u64,
    /// The growing run's mean training loss over epochs 1..=epochs.
    pub main: f64,
    /// The baseline's.
    pub baseline: f64,
    /// The growing run's training loss at the last epoch.
    pub main_last: f64,
    /// The baseline's.
    pub baseline_last: f64,
    /// Hidden units of each at the end.
    pub units: (usize, usize),
}

impl PresetSeed {
    /// A growing run and its baseline on one seed, compared over epochs 1..=`epochs` of their
    /// histories.
    pub async fn of(
        seed: u64,
        main: &Session,
        baseline: &Session,
        epochs: usize,
    ) -> Result<PresetSeed, EngineError> {
        let mean = |session: &Session| {
            let losses: Vec<f64> = (session.history().epochs.iter())
                .filter(|r| r.epoch >= 1 && r.epoch <= epochs)
                .map(|r| r.train_loss as f64)
                .collect();
            losses.iter().sum::<f64>() / losses.len().max(1) as f64
        };
        Ok(PresetSeed {
            seed,
            main: mean(main),
            baseline: mean(baseline),
            main_last: main.evaluate().await?.train_loss as f64,
            baseline_last: baseline.evaluate().await?.train_loss as f64,
            units: (main.n_units(), baseline.n_units()),
        })
    }
}

/// The preset's comparison over seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct PresetMeasure {
    /// Epochs trained.
    pub epochs: usize,
    /// Per seed.
    pub seeds: Vec<PresetSeed>,
}

impl PresetMeasure {
    /// Seeds on which the growing run's mean loss is below the baseline's.
    pub fn main_ahead(&self) -> usize {
        self.seeds.iter().filter(|s| s.main < s.baseline).count()
    }

    /// Mean over seeds of (growing − baseline) mean loss, and its standard error.
    pub fn difference(&self) -> (f64, f64) {
        let d: Vec<f64> = self.seeds.iter().map(|s| s.main - s.baseline).collect();
        let n = d.len().max(1) as f64;
        let mean = d.iter().sum::<f64>() / n;
        let var = if d.len() > 1 {
            d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        (mean, (var / n).sqrt())
    }

    /// Whether the measurement bears out `expect` (ahead on that many seeds, or a mean
    /// difference within the tolerance); `None` when it is not over the
    /// [`crate::presets::CLAIM_SEEDS`] seeds a claim is stated over.
    pub fn holds(&self, expect: crate::presets::Expect) -> Option<bool> {
        use crate::presets::{CLAIM_SEEDS, Expect};
        if self.seeds.len() as u64 != CLAIM_SEEDS {
            return None;
        }
        let ahead = self.main_ahead();
        Some(match expect {
            Expect::MainAhead(k) => ahead >= k,
            Expect::BaselineAhead(k) => self.seeds.len() - ahead >= k,
            Expect::Close(t) => self.difference().0.abs() <= t,
        })
    }

    /// Means over seeds of the two runs' mean losses.
    pub fn means(&self) -> (f64, f64) {
        let n = self.seeds.len().max(1) as f64;
        (
            self.seeds.iter().map(|s| s.main).sum::<f64>() / n,
            self.seeds.iter().map(|s| s.baseline).sum::<f64>() / n,
        )
    }
}

/// Trains the growing run and the baseline of `options` (a preset's, or the opening
/// experiment's) for `epochs` epochs on seeds `1..=seeds` (the seed of data and weights both, so
/// each seed is another draw of the data set).
pub async fn measure_preset(
    options: &PageOptions,
    seeds: u64,
    epochs: usize,
    device: &Device,
) -> Result<PresetMeasure, EngineError> {
    let mut out = Vec::new();
    for seed in 1..=seeds {
        let mut config = options.config.clone();
        config.seed = seed;
        config.data.seed = seed;
        let mut runs = Vec::new();
        for method in [config.growth.method, options.baseline] {
            let mut c = config.clone();
            c.growth.method = method;
            let mut session = Session::new(c, device.clone())?;
            session.run_epochs(epochs).await?;
            runs.push(session);
        }
        out.push(PresetSeed::of(seed, &runs[0], &runs[1], epochs).await?);
    }
    Ok(PresetMeasure { epochs, seeds: out })
}
