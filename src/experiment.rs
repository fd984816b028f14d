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
use crate::train::{Session, TrainPath};

mod backend;
mod growth_time;
mod paired;
mod presets;

pub use backend::{BackendCheck, backend_check};
pub use growth_time::{
    GROWTH_TIME_HEADER, GrowthTimeConfig, GrowthTimeRow, crossover, time_growth,
    write_growth_time_csv,
};
pub use paired::{Measure, Paired, paired, paired_comparisons};
pub use presets::{PresetMeasure, PresetSeed, measure_preset};

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
    // Growth is driven explicitly below, never by the schedule.
    run.train.epochs_per_growth = usize::MAX;
    let data = crate::data::Dataset::generate(&run.data)?;
    let mut session = Session::with_path(run, data, device.clone(), config.path)?;
    let start_units = session.evaluate().await?.units;
    let mut previous_units = start_units;
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
        let loss_after_growth = session.evaluate().await?.train_loss;
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
            units_grown: record.units.saturating_sub(start_units),
            added: record.units.saturating_sub(previous_units),
            loss_after_growth,
        });
        previous_units = record.units;
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

/// Mean and standard deviation of the training loss at one count of units grown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Dataset name.
    pub dataset: String,
    /// Method name.
    pub method: String,
    /// m' (0 for methods that do not depend on it).
    pub candidates: usize,
    /// Units actually grown (units − starting width).
    pub units_grown: usize,
    /// Mean training loss over the seeds that reached this count.
    pub mean: f64,
    /// Sample standard deviation over those seeds (0 for one seed).
    pub std: f64,
    /// Number of seeds that reached this count.
    pub n: usize,
}

/// Figure 3's points: for every series and every count of units actually grown, the mean and
/// standard deviation over seeds of the training loss of the network when it first had that many
/// grown units (see the module's note on empty phases). Series in first-seen order, counts
/// ascending; a seed that never reached a count is left out of it (`n` says how many did).
pub fn summarise(rows: &[Row]) -> Vec<Summary> {
    let mut out = Vec::new();
    for (series, seeds) in by_series_and_seed(rows) {
        let mut points: Vec<(usize, Vec<f64>)> = Vec::new();
        for (_, seed_rows) in &seeds {
            for row in first_rows_by_units(seed_rows) {
                match points.iter_mut().find(|(k, _)| *k == row.units_grown) {
                    Some((_, values)) => values.push(row.train_loss as f64),
                    None => points.push((row.units_grown, vec![row.train_loss as f64])),
                }
            }
        }
        points.sort_by_key(|(k, _)| *k);
        for (units_grown, values) in points {
            let (mean, std) = mean_std(&values);
            out.push(Summary {
                dataset: series.dataset.clone(),
                method: series.method.clone(),
                candidates: series.candidates,
                units_grown,
                mean,
                std,
                n: values.len(),
            });
        }
    }
    out
}

/// How often the growth phases of one series added nothing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmptyPhases {
    /// Dataset name (empty when counted over several datasets).
    pub dataset: String,
    /// Method name.
    pub method: String,
    /// m' (0 for methods that do not depend on it).
    pub candidates: usize,
    /// Growth phases (rows with `grown` > 0), over every seed.
    pub phases: usize,
    /// Phases that added no unit.
    pub empty: usize,
}

impl EmptyPhases {
    /// `empty / phases` (0 without phases).
    pub fn share(&self) -> f64 {
        if self.phases == 0 {
            0.0
        } else {
            self.empty as f64 / self.phases as f64
        }
    }
}

/// Empty phases per series (dataset, method, m'), in first-seen order.
pub fn empty_phases(rows: &[Row]) -> Vec<EmptyPhases> {
    let mut out: Vec<EmptyPhases> = Vec::new();
    for row in rows.iter().filter(|r| r.grown > 0) {
        let entry = match out.iter().position(|e| {
            e.dataset == row.dataset && e.method == row.method && e.candidates == row.candidates
        }) {
            Some(i) => &mut out[i],
            None => {
                out.push(EmptyPhases {
                    dataset: row.dataset.clone(),
                    method: row.method.clone(),
                    candidates: row.candidates,
                    phases: 0,
                    empty: 0,
                });
                let last = out.len() - 1;
                &mut out[last]
            }
        };
        entry.phases += 1;
        if row.added == 0 {
            entry.empty += 1;
        }
    }
    out
}

/// Empty phases per (method, m') over every dataset (`dataset` left empty), in first-seen order.
pub fn empty_phases_overall(rows: &[Row]) -> Vec<EmptyPhases> {
    let mut out: Vec<EmptyPhases> = Vec::new();
    for e in empty_phases(rows) {
        match out
            .iter_mut()
            .find(|o| o.method == e.method && o.candidates == e.candidates)
        {
            Some(o) => {
                o.phases += e.phases;
                o.empty += e.empty;
            }
            None => out.push(EmptyPhases {
                dataset: String::new(),
                ..e
            }),
        }
    }
    out
}

/// The most units grown that every seed of every given series of `dataset` reached (the right end
/// of a comparison at equal size over all seeds); `None` without rows.
pub fn common_units(rows: &[Row], dataset: &str, series_of: &[Series]) -> Option<usize> {
    by_series_and_seed(rows)
        .into_iter()
        .filter(|(s, _)| s.dataset == dataset && series_of.contains(s))
        .flat_map(|(_, seeds)| {
            seeds
                .into_iter()
                .map(|(_, r)| r.iter().map(|r| r.units_grown).max().unwrap_or(0))
        })
        .min()
}

/// The mean over k = 1..=`up_to` of a series' mean training loss at k units grown (the area under
/// its Figure 3 curve per unit); `None` if a point is missing or `up_to` is 0.
pub fn mean_over_units(summaries: &[Summary], series: &Series, up_to: usize) -> Option<f64> {
    if up_to == 0 {
        return None;
    }
    let mut total = 0.0;
    for k in 1..=up_to {
        let point = summaries.iter().find(|s| {
            s.dataset == series.dataset
                && s.method == series.method
                && s.candidates == series.candidates
                && s.units_grown == k
        })?;
        total += point.mean;
    }
    Some(total / up_to as f64)
}

/// Panel (b)'s question for one (dataset, method): is the loss non-increasing in m'?
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CandidateOrdering {
    /// Dataset name.
    pub dataset: String,
    /// Method name.
    pub method: String,
    /// The m' values, ascending.
    pub counts: Vec<usize>,
    /// The most units grown that every seed of every m' reached (the comparison's "final" count).
    pub final_units: usize,
    /// Per m': the training loss at `final_units` over seeds.
    pub at_final: Vec<Spread>,
    /// Per m': each seed's mean training loss over units grown 1..=`final_units`, over seeds (its
    /// mean is the mean of the Figure 3 curve over those counts).
    pub average: Vec<Spread>,
}

/// Mean, sample standard deviation and count of values over seeds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 for one value).
    pub std: f64,
    /// Number of values.
    pub n: usize,
}

impl Spread {
    fn of(values: &[f64]) -> Spread {
        let (mean, std) = mean_std(values);
        Spread {
            mean,
            std,
            n: values.len(),
        }
    }
}

/// One place where a larger m' has a higher mean loss than the next smaller one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rise {
    /// The smaller m'.
    pub from: usize,
    /// The larger m'.
    pub to: usize,
    /// Mean loss at `to` minus mean loss at `from` (> 0).
    pub by: f64,
    /// Standard error of that difference, √(s₁²/n₁ + s₂²/n₂).
    pub se: f64,
}

fn rises(counts: &[usize], spreads: &[Spread]) -> Vec<Rise> {
    counts
        .windows(2)
        .zip(spreads.windows(2))
        .filter(|(_, p)| p[1].mean > p[0].mean)
        .map(|(c, p)| Rise {
            from: c[0],
            to: c[1],
            by: p[1].mean - p[0].mean,
            se: (p[0].std.powi(2) / p[0].n.max(1) as f64 + p[1].std.powi(2) / p[1].n.max(1) as f64)
                .sqrt(),
        })
        .collect()
}

impl CandidateOrdering {
    /// Where the mean loss at `final_units` rises from one m' to the next (empty: non-increasing).
    pub fn rises_at_final(&self) -> Vec<Rise> {
        rises(&self.counts, &self.at_final)
    }

    /// Where the mean over units grown 1..=`final_units` rises from one m' to the next.
    pub fn rises_on_average(&self) -> Vec<Rise> {
        rises(&self.counts, &self.average)
    }
}

/// Panel (b): for every (dataset, method) run with at least two m' values, the training loss per
/// m' at the final common unit count and averaged over units grown 1..that count, over seeds.
pub fn candidate_orderings(rows: &[Row]) -> Vec<CandidateOrdering> {
    let grouped = by_series_and_seed(rows);
    let all = series(rows);
    let mut out = Vec::new();
    let mut seen: Vec<(String, String)> = Vec::new();
    for s in &all {
        let key = (s.dataset.clone(), s.method.clone());
        if s.candidates == 0 || seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let mut group: Vec<Series> = all
            .iter()
            .filter(|o| o.dataset == s.dataset && o.method == s.method && o.candidates > 0)
            .cloned()
            .collect();
        if group.len() < 2 {
            continue;
        }
        group.sort_by_key(|o| o.candidates);
        let Some(final_units) = common_units(rows, &s.dataset, &group) else {
            continue;
        };
        // Per m', per seed: the first-row losses at units grown 1..=final_units.
        let curves: Vec<Vec<Vec<f64>>> = group
            .iter()
            .map(|o| {
                grouped
                    .iter()
                    .find(|(g, _)| g == o)
                    .map_or(Vec::new(), |(_, seeds)| {
                        seeds
                            .iter()
                            .map(|(_, r)| {
                                first_rows_by_units(r)
                                    .into_iter()
                                    .filter(|r| (1..=final_units).contains(&r.units_grown))
                                    .map(|r| r.train_loss as f64)
                                    .collect()
                            })
                            .collect()
                    })
            })
            .collect();
        out.push(CandidateOrdering {
            dataset: s.dataset.clone(),
            method: s.method.clone(),
            counts: group.iter().map(|o| o.candidates).collect(),
            final_units,
            at_final: curves
                .iter()
                .map(|seeds| {
                    let last: Vec<f64> = seeds.iter().filter_map(|c| c.last().copied()).collect();
                    Spread::of(&last)
                })
                .collect(),
            average: curves
                .iter()
                .map(|seeds| {
                    let means: Vec<f64> = seeds.iter().map(|c| mean_std(c).0).collect();
                    Spread::of(&means)
                })
                .collect(),
        });
    }
    out
}

/// The header of the summary CSV ([`write_summary_csv`]).
pub const SUMMARY_HEADER: [&str; 10] = [
    "dataset",
    "method",
    "candidates",
    "units_grown",
    "seeds",
    "mean_train_loss",
    "std_train_loss",
    "phases",
    "empty_phases",
    "empty_share",
];

/// Writes Figure 3's points ([`summarise`]), one line per (dataset, method, m', units grown), with
/// the series' empty-phase count ([`empty_phases`]) repeated on each of its lines.
pub fn write_summary_csv<W: std::io::Write>(rows: &[Row], writer: W) -> Result<(), csv::Error> {
    let empty = empty_phases(rows);
    let mut w = csv::Writer::from_writer(writer);
    w.write_record(SUMMARY_HEADER)?;
    for s in summarise(rows) {
        let e = empty.iter().find(|e| {
            e.dataset == s.dataset && e.method == s.method && e.candidates == s.candidates
        });
        let (phases, count, share) = e.map_or((0, 0, 0.0), |e| (e.phases, e.empty, e.share()));
        w.write_record([
            s.dataset.clone(),
            s.method.clone(),
            s.candidates.to_string(),
            s.units_grown.to_string(),
            s.n.to_string(),
            format!("{:.6}", s.mean),
            format!("{:.6}", s.std),
            phases.to_string(),
            count.to_string(),
            format!("{share:.4}"),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// The printed report of `firefly figure3`: per dataset, the training loss by units grown per
/// series with each series' empty phases; the empty phases over every dataset; the mean over
/// units grown per series and dataset; and panel (b)'s ordering in m' where several m' ran.
pub fn figure3_report(rows: &[Row]) -> String {
    use std::fmt::Write as _;
    // Four decimals, or three significant digits below 0.001 (late losses are tiny).
    let loss = |v: f64| {
        if v != 0.0 && v.abs() < 1e-3 {
            format!("{v:.2e}")
        } else {
            format!("{v:.4}")
        }
    };
    let summaries = summarise(rows);
    let all = series(rows);
    let empty = empty_phases(rows);
    let mut datasets: Vec<String> = Vec::new();
    for s in &all {
        if !datasets.contains(&s.dataset) {
            datasets.push(s.dataset.clone());
        }
    }
    let seeds = |s: &Series| {
        by_series_and_seed(rows)
            .into_iter()
            .find(|(o, _)| o == s)
            .map_or(0, |(_, v)| v.len())
    };
    let mut out = String::new();
    for dataset in &datasets {
        let cols: Vec<&Series> = all.iter().filter(|s| &s.dataset == dataset).collect();
        let _ = writeln!(
            out,
            "\n{dataset}: training loss by units grown (units − starting width), mean ± std over \
             seeds; (n): only n seeds grew that many"
        );
        let _ = write!(out, "{:>6}", "units");
        for s in &cols {
            let _ = write!(out, " {:>26}", s.label());
        }
        let _ = writeln!(out);
        let max_k = summaries
            .iter()
            .filter(|p| &p.dataset == dataset)
            .map(|p| p.units_grown)
            .max()
            .unwrap_or(0);
        for k in 0..=max_k {
            let _ = write!(out, "{k:>6}");
            for s in &cols {
                let cell = summaries.iter().find(|p| {
                    p.dataset == s.dataset
                        && p.method == s.method
                        && p.candidates == s.candidates
                        && p.units_grown == k
                });
                let text = cell.map_or("-".to_string(), |p| {
                    let n = if p.n < seeds(s) {
                        format!(" ({})", p.n)
                    } else {
                        String::new()
                    };
                    format!("{:.4} ± {:.4}{n}", p.mean, p.std)
                });
                let _ = write!(out, " {text:>26}");
            }
            let _ = writeln!(out);
        }
        let _ = write!(out, "{:>6}", "empty");
        for s in &cols {
            let e = empty.iter().find(|e| {
                e.dataset == s.dataset && e.method == s.method && e.candidates == s.candidates
            });
            let text = e.map_or("-".to_string(), |e| {
                format!("{}/{} ({:.0} %)", e.empty, e.phases, 100.0 * e.share())
            });
            let _ = write!(out, " {text:>26}");
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "\nempty phases (a growth phase that added no unit), over datasets and seeds:"
    );
    for e in empty_phases_overall(rows) {
        let label = Series {
            dataset: String::new(),
            method: e.method.clone(),
            candidates: e.candidates,
        }
        .label();
        let _ = writeln!(
            out,
            "  {label:<24} {:>5} of {:>5} ({:.1} %)",
            e.empty,
            e.phases,
            100.0 * e.share()
        );
    }
    let _ = writeln!(
        out,
        "\nmean training loss over units grown 1..K, K the most units every seed of the dataset's \
         series grew (all series) or of this series (own K); and over growth phases 1..N (every \
         row after the start):"
    );
    for dataset in &datasets {
        let cols: Vec<Series> = all
            .iter()
            .filter(|s| &s.dataset == dataset)
            .cloned()
            .collect();
        let k = common_units(rows, dataset, &cols).unwrap_or(0);
        let _ = writeln!(out, "  {dataset} (K = {k} for all series):");
        for s in &cols {
            let text = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
            let own = common_units(rows, dataset, std::slice::from_ref(s)).unwrap_or(0);
            let phases: Vec<f64> = rows
                .iter()
                .filter(|r| Series::of(r) == *s && r.grown > 0)
                .map(|r| r.train_loss as f64)
                .collect();
            let by_phase = (!phases.is_empty()).then(|| mean_std(&phases).0);
            let _ = writeln!(
                out,
                "    {:<24} units 1..{k} {:>8}   units 1..{own} (own K) {:>8}   phases {:>8}",
                s.label(),
                text(mean_over_units(&summaries, s, k)),
                text(mean_over_units(&summaries, s, own)),
                text(by_phase)
            );
        }
    }
    let comparisons = paired_comparisons(rows);
    if !comparisons.is_empty() {
        let _ = writeln!(
            out,
            "\npaired by seed: each seed's mean loss over units grown 1..K (K the most units half \
             the seeds of each reached; the seeds of both that reached it), firefly minus the \
             other; after the training that follows each growth, and right after each growth (the \
             growth decision alone):"
        );
        for p in &comparisons {
            let _ = writeln!(
                out,
                "  {:<8} {} vs {:<22} {:<15} K = {:>2}: ahead on {:>2}/{:<2} seeds, {} vs {}, \
                 difference {} ± {} (s.e.)",
                p.method.dataset,
                p.method.label(),
                p.baseline.label(),
                match p.measure {
                    Measure::AfterTraining => "after training",
                    Measure::AfterGrowth => "after growth",
                },
                p.up_to,
                p.ahead,
                p.seeds,
                loss(p.method_mean),
                loss(p.baseline_mean),
                loss(p.difference),
                loss(p.standard_error)
            );
        }
    }
    for o in candidate_orderings(rows) {
        let _ = writeln!(
            out,
            "\npanel (b), {} on {}: mean training loss by m' over {} seeds",
            o.method,
            o.dataset,
            o.at_final.first().map_or(0, |p| p.n)
        );
        let _ = write!(out, "  {:<28}", format!("at {} units grown", o.final_units));
        for (c, p) in o.counts.iter().zip(&o.at_final) {
            let _ = write!(out, "  m'={c}: {} ± {}", loss(p.mean), loss(p.std));
        }
        let _ = writeln!(out);
        let _ = write!(
            out,
            "  {:<28}",
            format!("mean over units 1..{}", o.final_units)
        );
        for (c, p) in o.counts.iter().zip(&o.average) {
            let _ = write!(out, "  m'={c}: {} ± {}", loss(p.mean), loss(p.std));
        }
        let _ = writeln!(out);
        let verdict = |r: Vec<Rise>| {
            if r.is_empty() {
                "yes".to_string()
            } else {
                let parts: Vec<String> = r
                    .iter()
                    .map(|r| {
                        format!(
                            "m'={} above m'={} by {} (s.e. {})",
                            r.to,
                            r.from,
                            loss(r.by),
                            loss(r.se)
                        )
                    })
                    .collect();
                format!("no ({})", parts.join("; "))
            }
        };
        let _ = writeln!(
            out,
            "  non-increasing in m' at {} units: {}; on average over units 1..{}: {}",
            o.final_units,
            verdict(o.rises_at_final()),
            o.final_units,
            verdict(o.rises_on_average())
        );
    }
    out
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
