//! Experiments: the Figure 3 protocol (spec §7) over datasets, methods, candidate counts and seeds,
//! and the cost of one growth phase against the network's width (the analogue of Figure 4(b),
//! spec §9).
//!
//! (a) training loss against the number of units actually grown for Firefly, its ablations and the
//! baselines; (b) Firefly with different numbers of new-unit candidates m'. Each job is one
//! session: the same seed gives the same data and the same initial network for every method.
//! The protocol is ours (the paper's toy setting is not public in full): see
//! [`RunConfig::figure3`].
//!
//! A growth *phase* may add nothing (exact splitting when no eigenvalue is negative, Firefly when
//! no score is): rows are one per phase (`grown`), but every summary is by units grown
//! (`units_grown` = units − starting width), and [`empty_phases`] counts the phases that grew
//! nothing.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::config::RunConfig;
use crate::data::DatasetKind;
use crate::error::EngineError;
use crate::grow::{Method, ScorePath};
use crate::optim::OptimizerKind;
use crate::train::{GrowOn, Session, TrainPath, run_epochs_together};

mod backend;
mod candidates;
mod growth_time;
mod paired;
mod presets;
mod report;
mod summary;

pub use backend::{BackendCheck, backend_check, path_check};
pub use candidates::{CandidateOrdering, Rise, Spread, candidate_orderings};
pub use growth_time::{
    GROWTH_TIME_HEADER, GrowthTimeConfig, GrowthTimeRow, crossover, time_growth,
    write_growth_time_csv,
};
pub use paired::{Measure, Paired, paired, paired_comparisons};
pub use presets::{PresetMeasure, PresetSeed, measure_preset};
pub use report::figure3_report;
pub use summary::{
    EmptyPhases, SUMMARY_HEADER, Summary, common_units, empty_phases, empty_phases_overall,
    mean_loss, mean_over_units, summarise, write_summary_csv,
};

/// The CSV header of Figure 3 rows.
pub const CSV_HEADER: [&str; 14] = [
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
    "units_grown",
    "added",
    "loss_after_growth",
];

/// What to run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figure3Config {
    /// Datasets.
    pub datasets: Vec<DatasetKind>,
    /// Methods (panel a).
    pub methods: Vec<Method>,
    /// Candidate counts m' for the Firefly methods that propose new units (panel b); the other
    /// methods, split-only Firefly included, run once.
    pub candidates: Vec<usize>,
    /// Seeds 0..seeds.
    pub seeds: u64,
    /// Growth phases per run.
    pub max_grown: usize,
    /// Full-batch optimiser steps between growth phases.
    pub steps_per_phase: usize,
    /// The optimiser of those steps (the headline protocol: SGD with momentum; see
    /// [`Figure3Config::default`]).
    pub optimizer: OptimizerKind,
    /// Its learning rate.
    pub learning_rate: f32,
    /// Every splitting method's step relative to the unit's norm
    /// ([`crate::grow::split_step`]).
    pub split_scale: f32,
    /// Step 2's score path for the Firefly methods.
    #[serde(default)]
    pub score: ScorePath,
    /// How the sessions train between phases: the fused host step on the CPU (the default), or
    /// burn tensors on the device (`firefly figure3 --backend wgpu`).
    #[serde(default)]
    pub path: TrainPath,
    /// Where the growth phases of sessions that train on a GPU run ([`GrowOn`]).
    #[serde(default)]
    pub grow_on: GrowOn,
}

pub use crate::config::{PROTOCOL_LR, PROTOCOL_OPTIMIZER, PROTOCOL_STEPS};

impl Default for Figure3Config {
    fn default() -> Self {
        Figure3Config {
            datasets: vec![
                DatasetKind::Circle,
                DatasetKind::Xor,
                DatasetKind::Gauss,
                DatasetKind::Spiral,
            ],
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
            steps_per_phase: PROTOCOL_STEPS,
            optimizer: PROTOCOL_OPTIMIZER,
            learning_rate: PROTOCOL_LR,
            split_scale: crate::grow::SPLIT_SCALE,
            score: ScorePath::default(),
            path: TrainPath::Fused,
            grow_on: GrowOn::Auto,
        }
    }
}

/// Whether `method`'s result depends on m' (it proposes new units or new layers).
pub fn uses_candidates(method: Method) -> bool {
    method.firefly_kinds().is_some_and(|k| k.new || k.layers)
}

/// One session of the experiment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Dataset.
    pub dataset: DatasetKind,
    /// Method.
    pub method: Method,
    /// m' (0 for methods that do not depend on it).
    pub candidates: usize,
    /// Seed of data and network.
    pub seed: u64,
}

/// One CSV row: the state after `grown` growth phases and the training that followed each.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Dataset name.
    pub dataset: String,
    /// Method name.
    pub method: String,
    /// m' (0 for methods that do not depend on it).
    pub candidates: usize,
    /// Seed.
    pub seed: u64,
    /// Growth phases so far (a phase that added nothing counts).
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
    /// Wall time of the growth phase that led here (0 for the starting network and for a phase
    /// that added nothing).
    pub grow_ms: f64,
    /// Units actually grown so far: `units` minus the starting width.
    pub units_grown: usize,
    /// Units the phase that led here added (0 for the starting network; 0 at `grown` > 0 is an
    /// empty phase).
    pub added: usize,
    /// Training loss right after the phase's surgery, before the steps that follow (for the
    /// starting network: before any training). What the growth decision itself achieved.
    pub loss_after_growth: f32,
}

impl Figure3Config {
    /// Every job, in a stable order (dataset, method, candidates, seed). Methods whose result does
    /// not depend on m' ([`uses_candidates`]) run once, with `candidates` 0.
    pub fn jobs(&self) -> Vec<Job> {
        let mut jobs = Vec::new();
        for &dataset in &self.datasets {
            for &method in &self.methods {
                let counts: Vec<usize> = if uses_candidates(method) {
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
        if self.candidates.iter().any(|&c| c == 0 || c > 1000) {
            return bad("every candidate count must be 1 to 1000");
        }
        if self.seeds == 0 {
            return bad("seeds must be at least 1");
        }
        if self.steps_per_phase == 0 {
            return bad("steps per phase must be at least 1");
        }
        if !(self.learning_rate.is_finite()
            && self.learning_rate > 0.0
            && self.learning_rate <= 10.0)
        {
            return bad("the learning rate must be in (0, 10]");
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
    let mut rows = run_jobs_together(std::slice::from_ref(job), config, device, 1, &mut |_| {})
        .await
        .map_err(|(_, e)| e)?;
    rows.pop()
        .ok_or_else(|| EngineError::Internal("a job made no rows".into()))
}

/// [`run_job`] for many jobs at once, in step: phase by phase, each job grows alone, then every
/// network trains together ([`run_epochs_together`]; on a GPU a training step launches the same
/// kernels for one job or a hundred, and sessions on the fused CPU path train one by one). When
/// every job's phase runs on the CPU ([`GrowOn`]), the jobs grow on up to `threads` threads
/// (natively; one elsewhere), each job's growth its own, so the rows do not depend on them. Each
/// job's rows are those [`run_job`] gives it, within float rounding. `progress(grown)` is told as
/// each phase ends. A failure names the index of its job.
pub async fn run_jobs_together(
    jobs: &[Job],
    config: &Figure3Config,
    device: &Device,
    threads: usize,
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<Vec<Row>>, (usize, EngineError)> {
    let mut sessions = Vec::with_capacity(jobs.len());
    for (i, job) in jobs.iter().enumerate() {
        sessions.push(job_session(job, config, device).map_err(|e| (i, e))?);
    }
    let mut starts = Vec::with_capacity(jobs.len());
    for (i, session) in sessions.iter().enumerate() {
        starts.push(session.evaluate().await.map_err(|e| (i, e))?.units);
    }
    let mut previous = starts.clone();
    let mut grow_ms = vec![0.0; jobs.len()];
    let mut rows: Vec<Vec<Row>> = vec![Vec::with_capacity(config.max_grown + 1); jobs.len()];
    for grown in 0..=config.max_grown {
        let mut after_growth = Vec::with_capacity(jobs.len());
        let on_threads = threads > 1 && sessions.iter().all(Session::grows_on_cpu);
        for (i, phase) in grow_all(&mut sessions, grown > 0, on_threads.then_some(threads))
            .await
            .into_iter()
            .enumerate()
        {
            let (ms, loss) = phase.map_err(|e| (i, e))?;
            grow_ms[i] = ms.unwrap_or(grow_ms[i]);
            after_growth.push(loss);
        }
        run_epochs_together(&mut sessions, config.steps_per_phase).await?;
        for (i, (job, session)) in jobs.iter().zip(&sessions).enumerate() {
            let record = session.evaluate().await.map_err(|e| (i, e))?;
            rows[i].push(Row {
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
                grow_ms: grow_ms[i],
                units_grown: record.units.saturating_sub(starts[i]),
                added: record.units.saturating_sub(previous[i]),
                loss_after_growth: after_growth[i],
            });
            previous[i] = record.units;
        }
        progress(grown);
    }
    Ok(rows)
}

/// One job's phase: the time its growth took (`None`: it did not grow) and its loss after.
type Phase = Result<(Option<f64>, f32), EngineError>;

/// One job's phase: its growth, when `grows` (the time it took, 0 when it grew nothing), and its
/// training loss right after.
async fn grow_one(session: &mut Session, grows: bool) -> Phase {
    let mut ms = None;
    if grows {
        ms = Some(match session.grow_now().await? {
            Some(event) if event.units_after > event.units_before => event.timings.total_ms(),
            // No candidate would lower the loss: the network keeps its size.
            _ => 0.0,
        });
    }
    Ok((ms, session.evaluate().await?.train_loss))
}

/// Every job's phase ([`grow_one`]), one after another, or natively on `threads` threads.
async fn grow_all(sessions: &mut [Session], grows: bool, threads: Option<usize>) -> Vec<Phase> {
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(threads) = threads {
        let per_thread = sessions.len().div_ceil(threads.max(1)).max(1);
        return std::thread::scope(|scope| {
            let parts: Vec<_> = (sessions.chunks_mut(per_thread))
                .map(|part| {
                    scope.spawn(move || {
                        let phases = part.iter_mut().map(|s| grow_one(s, grows));
                        phases.map(pollster::block_on).collect::<Vec<_>>()
                    })
                })
                .collect();
            (parts.into_iter())
                .flat_map(|part| {
                    part.join().unwrap_or_else(|_| {
                        vec![Err(EngineError::Internal(
                            "a growth thread panicked".into(),
                        ))]
                    })
                })
                .collect()
        });
    }
    let _ = threads;
    let mut phases = Vec::with_capacity(sessions.len());
    for session in sessions {
        phases.push(grow_one(session, grows).await);
    }
    phases
}

/// A job's session: the Figure 3 protocol's run for its dataset, method, candidates and seed,
/// growing only when asked.
fn job_session(job: &Job, config: &Figure3Config, device: &Device) -> Result<Session, EngineError> {
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
    run.train.optimizer = config.optimizer;
    run.train.learning_rate = config.learning_rate;
    run.growth.split_scale = config.split_scale;
    run.growth.score = config.score;
    // Growth is driven explicitly, never by the schedule.
    run.train.epochs_per_growth = usize::MAX;
    let data = crate::data::Dataset::generate(&run.data)?;
    let mut session = Session::with_path(run, data, device.clone(), config.path)?;
    session.grow_on(config.grow_on);
    Ok(session)
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

/// A curve of Figure 3: one (dataset, method, m').
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Series {
    /// Dataset name.
    pub dataset: String,
    /// Method name.
    pub method: String,
    /// m' (0 for methods that do not depend on it).
    pub candidates: usize,
}

impl Series {
    fn of(row: &Row) -> Series {
        Series {
            dataset: row.dataset.clone(),
            method: row.method.clone(),
            candidates: row.candidates,
        }
    }

    /// `method` or `method m'=c`.
    pub fn label(&self) -> String {
        if self.candidates == 0 {
            self.method.clone()
        } else {
            format!("{} m'={}", self.method, self.candidates)
        }
    }
}

/// The series of `rows` in first-seen order.
pub fn series(rows: &[Row]) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for row in rows {
        let s = Series::of(row);
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// For one seed of one series: the row where the network first had each count of grown units,
/// in ascending order of that count. That row is the network right after the phase that grew
/// its last unit and the training that followed; later rows at the same count (after empty
/// phases) are the same network trained longer and are not plotted.
fn first_rows_by_units<'a>(rows: &[&'a Row]) -> Vec<&'a Row> {
    let mut sorted: Vec<&Row> = rows.to_vec();
    sorted.sort_by_key(|r| r.grown);
    let mut out: Vec<&Row> = Vec::new();
    for row in sorted {
        if out.iter().all(|r| r.units_grown != row.units_grown) {
            out.push(row);
        }
    }
    out.sort_by_key(|r| r.units_grown);
    out
}

/// Rows grouped by series and then by seed, both in first-seen order.
/// One series' rows, per seed.
type BySeed<'a> = Vec<(u64, Vec<&'a Row>)>;

fn by_series_and_seed(rows: &[Row]) -> Vec<(Series, BySeed<'_>)> {
    let mut groups: Vec<(Series, BySeed<'_>)> = Vec::new();
    for row in rows {
        let s = Series::of(row);
        let index = match groups.iter().position(|(g, _)| *g == s) {
            Some(i) => i,
            None => {
                groups.push((s, Vec::new()));
                groups.len() - 1
            }
        };
        let seeds = &mut groups[index].1;
        match seeds.iter_mut().find(|(seed, _)| *seed == row.seed) {
            Some((_, list)) => list.push(row),
            None => seeds.push((row.seed, vec![row])),
        }
    }
    groups
}

fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let var = if n > 1 {
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
    } else {
        0.0
    };
    (mean, var.sqrt())
}
