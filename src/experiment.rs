//! Experiments: the Figure 3 protocol (spec §7) over datasets, methods, candidate counts and seeds.
//!
//! (a) training loss against the number of grown units for Firefly, its ablations and the
//! baselines; (b) Firefly with different numbers of new-unit candidates m'. Each job is one
//! session: the same seed gives the same data and the same initial network for every method.
//! The protocol is ours (the paper's toy setting is not public in full): see
//! [`RunConfig::figure3`].

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::config::RunConfig;
use crate::data::DatasetKind;
use crate::error::EngineError;
use crate::grow::Method;
use crate::train::Session;

/// The CSV header of Figure 3 rows.
pub const CSV_HEADER: [&str; 11] = [
    "dataset",
    "method",
    "candidates",
    "seed",
    "grown",
    "units",
    "params",
    "train_loss",
    "test_loss",
    "train_accuracy",
    "grow_ms",
];

/// What to run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figure3Config {
    /// Datasets.
    pub datasets: Vec<DatasetKind>,
    /// Methods (panel a).
    pub methods: Vec<Method>,
    /// Candidate counts m' for Firefly (panel b); other methods run once.
    pub candidates: Vec<usize>,
    /// Seeds 0..seeds.
    pub seeds: u64,
    /// Units grown per run.
    pub max_grown: usize,
    /// Full-batch Adam steps between growth phases.
    pub steps_per_phase: usize,
}

impl Default for Figure3Config {
    fn default() -> Self {
        Figure3Config {
            datasets: vec![DatasetKind::Circle, DatasetKind::Xor, DatasetKind::Spiral],
            methods: vec![
                Method::Firefly,
                Method::FireflySplit,
                Method::FireflyNew,
                Method::RandomSplit,
                Method::RandomNew,
                Method::ExactSplit,
            ],
            candidates: vec![10],
            seeds: 10,
            max_grown: 20,
            steps_per_phase: 300,
        }
    }
}

/// One session of the experiment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Dataset.
    pub dataset: DatasetKind,
    /// Method.
    pub method: Method,
    /// m' (0 for methods without candidates).
    pub candidates: usize,
    /// Seed of data and network.
    pub seed: u64,
}

/// One CSV row: the state after training with `grown` units grown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Dataset name.
    pub dataset: String,
    /// Method name.
    pub method: String,
    /// m' (0 for methods without candidates).
    pub candidates: usize,
    /// Seed.
    pub seed: u64,
    /// Units grown so far.
    pub grown: usize,
    /// Hidden units.
    pub units: usize,
    /// Trainable parameters.
    pub params: usize,
    /// Training loss (cross-entropy).
    pub train_loss: f32,
    /// Test loss.
    pub test_loss: f32,
    /// Training accuracy.
    pub train_accuracy: f32,
    /// Wall time of the growth phase that led here (0 for the starting network).
    pub grow_ms: f64,
}

impl Figure3Config {
    /// Every job, in a stable order (dataset, method, candidates, seed).
    pub fn jobs(&self) -> Vec<Job> {
        let mut jobs = Vec::new();
        for &dataset in &self.datasets {
            for &method in &self.methods {
                let counts: Vec<usize> = if method.firefly_kinds().is_some() {
                    self.candidates.clone()
                } else {
                    vec![0]
                };
                for candidates in counts {
                    for seed in 0..self.seeds {
                        jobs.push(Job {
                            dataset,
                            method,
                            candidates,
                            seed,
                        });
                    }
                }
            }
        }
        jobs
    }

    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |m: &str| Err(EngineError::InvalidConfig(m.into()));
        if self.datasets.is_empty() || self.methods.is_empty() || self.candidates.is_empty() {
            return bad("give at least one dataset, method and candidate count");
        }
        if self.seeds == 0 {
            return bad("seeds must be at least 1");
        }
        if self.steps_per_phase == 0 {
            return bad("steps per phase must be at least 1");
        }
        if self.max_grown > 500 {
            return bad("max grown must be at most 500");
        }
        for &d in &self.datasets {
            if d.task() == crate::data::Task::Regression {
                return bad("figure 3 uses classification datasets");
            }
        }
        Ok(())
    }
}

/// Runs one job and returns its rows (grown = 0 ..= max_grown).
pub async fn run_job(
    job: &Job,
    config: &Figure3Config,
    device: &Device,
) -> Result<Vec<Row>, EngineError> {
    let candidates = if job.candidates == 0 {
        10
    } else {
        job.candidates
    };
    let mut run = RunConfig::figure3(
        job.dataset,
        job.method,
        candidates,
        job.seed,
        config.steps_per_phase,
    );
    // Growth is driven explicitly below, never by the schedule.
    run.train.epochs_per_growth = usize::MAX;
    let mut session = Session::new(run, device.clone())?;
    let mut rows = Vec::with_capacity(config.max_grown + 1);
    let mut grow_ms = 0.0;
    for grown in 0..=config.max_grown {
        if grown > 0 {
            match session.grow_now().await? {
                Some(event) if event.units_after > event.units_before => {
                    grow_ms = event.timings.total_ms();
                }
                // No candidate would lower the loss: the network keeps its size.
                _ => grow_ms = 0.0,
            }
        }
        session.run_epochs(config.steps_per_phase).await?;
        let record = session.evaluate().await?;
        rows.push(Row {
            dataset: job.dataset.name().to_string(),
            method: job.method.name().to_string(),
            candidates: job.candidates,
            seed: job.seed,
            grown,
            units: record.units,
            params: record.params,
            train_loss: record.train_loss,
            test_loss: record.test_loss,
            train_accuracy: record.train_accuracy.unwrap_or(f32::NAN),
            grow_ms,
        });
    }
    Ok(rows)
}

/// Writes rows as CSV with [`CSV_HEADER`].
pub fn write_csv<W: std::io::Write>(rows: &[Row], writer: W) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(writer);
    for row in rows {
        w.serialize(row)?;
    }
    w.flush()?;
    Ok(())
}

/// Mean and standard deviation of the training loss at one x position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Dataset name.
    pub dataset: String,
    /// Method name.
    pub method: String,
    /// m'.
    pub candidates: usize,
    /// Units grown.
    pub grown: usize,
    /// Mean training loss over seeds.
    pub mean: f64,
    /// Sample standard deviation over seeds (0 for one seed).
    pub std: f64,
    /// Number of seeds.
    pub n: usize,
}

/// Groups rows by (dataset, method, candidates, grown), in first-seen order.
pub fn summarise(rows: &[Row]) -> Vec<Summary> {
    let mut groups: Vec<(Summary, Vec<f64>)> = Vec::new();
    for row in rows {
        let key = |s: &Summary| {
            s.dataset == row.dataset
                && s.method == row.method
                && s.candidates == row.candidates
                && s.grown == row.grown
        };
        match groups.iter_mut().find(|(s, _)| key(s)) {
            Some((_, values)) => values.push(row.train_loss as f64),
            None => groups.push((
                Summary {
                    dataset: row.dataset.clone(),
                    method: row.method.clone(),
                    candidates: row.candidates,
                    grown: row.grown,
                    mean: 0.0,
                    std: 0.0,
                    n: 0,
                },
                vec![row.train_loss as f64],
            )),
        }
    }
    groups
        .into_iter()
        .map(|(mut s, values)| {
            let n = values.len();
            let mean = values.iter().sum::<f64>() / n as f64;
            let var = if n > 1 {
                values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
            } else {
                0.0
            };
            s.mean = mean;
            s.std = var.sqrt();
            s.n = n;
            s
        })
        .collect()
}

/// Mean training loss over all rows of one method (and m'), over every grown count and seed.
pub fn mean_loss(rows: &[Row], method: Method, candidates: Option<usize>) -> Option<f64> {
    let values: Vec<f64> = rows
        .iter()
        .filter(|r| r.method == method.name() && candidates.is_none_or(|c| r.candidates == c))
        .map(|r| r.train_loss as f64)
        .collect();
    if values.is_empty() {
        None
    } else {
        Some(values.iter().sum::<f64>() / values.len() as f64)
    }
}

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
pub async fn backend_check<P, F>(device: &Device, mut pause: P) -> Result<BackendCheck, EngineError>
where
    P: FnMut() -> F,
    F: std::future::Future<Output = ()>,
{
    let mut config = RunConfig::figure3(DatasetKind::Circle, Method::Firefly, 4, 3, 8);
    config.data.n_points = 100;
    config.model.hidden = vec![2];
    config.train.eval_every = 1;
    config.train.epochs_per_growth = 8;
    config.train.max_growths = 1;
    config.growth.step1_steps = 20;
    let mut session = Session::new(config, device.clone())?;
    while session.epoch() < 12 {
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
