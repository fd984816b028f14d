//! The continual-learning experiment: every method over seeds on one sequence, CSV rows and the
//! table of average accuracy after each task.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::config::{ContinualConfig, ContinualMethod};
use super::run::ContinualRun;
use crate::error::EngineError;

/// The CSV header.
pub const CSV_HEADER: [&str; 8] = [
    "sequence",
    "method",
    "seed",
    "after_task",
    "task",
    "accuracy",
    "units",
    "params",
];

/// One CSV row: test accuracy on task `task` once task `after_task` has been learnt (both 1-based).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContinualRow {
    /// The sequence, e.g. `circle>xor>spiral`.
    pub sequence: String,
    /// Method name.
    pub method: String,
    /// Seed.
    pub seed: u64,
    /// Tasks learnt so far (1-based index of the last).
    pub after_task: usize,
    /// The task evaluated (1-based).
    pub task: usize,
    /// Its test accuracy.
    pub accuracy: f32,
    /// Hidden units of the whole model after `after_task`.
    pub units: usize,
    /// Stored parameters of the whole model after `after_task`.
    pub params: usize,
}

/// The rows of a finished (or partly finished) run.
pub fn rows_of(run: &ContinualRun) -> Vec<ContinualRow> {
    let config = run.config();
    let sequence = config.sequence_name();
    let mut rows = Vec::new();
    for record in run.table() {
        for (task, accuracy) in record.accuracy.iter().enumerate() {
            rows.push(ContinualRow {
                sequence: sequence.clone(),
                method: config.method.name().to_string(),
                seed: config.seed,
                after_task: record.after_task + 1,
                task: task + 1,
                accuracy: *accuracy,
                units: record.units,
                params: record.params,
            });
        }
    }
    rows
}

/// What the growth phases of tasks after the first chose (where copies can compete): units
/// added as unlocked copies and as new units, and the phases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choices {
    /// Growth phases of tasks after the first.
    pub phases: usize,
    /// Units added as unlocked copies.
    pub copies: usize,
    /// Units added as new units.
    pub new_units: usize,
}

impl Choices {
    /// The choices of a run so far.
    pub fn of(run: &ContinualRun) -> Self {
        let mut out = Choices::default();
        for g in run.growths().iter().filter(|g| g.task > 0) {
            out.phases += 1;
            out.copies += g.plan.splits.len();
            out.new_units += g.plan.new_units.len();
        }
        out
    }

    /// Both counts added.
    pub fn add(&mut self, other: Choices) {
        self.phases += other.phases;
        self.copies += other.copies;
        self.new_units += other.new_units;
    }
}

/// Runs one configuration to the end, its growth phases on `device`, and returns its rows and
/// its growth choices.
pub fn run_job(
    config: &ContinualConfig,
    device: &Device,
) -> Result<(Vec<ContinualRow>, Choices), EngineError> {
    let mut run = ContinualRun::on_device(config.clone(), device.clone())?;
    run.run_to_end()?;
    Ok((rows_of(&run), Choices::of(&run)))
}

/// One configuration per (method, seed), seeds `0..seeds`, in table order.
pub fn jobs(
    base: &ContinualConfig,
    methods: &[ContinualMethod],
    seeds: u64,
) -> Vec<ContinualConfig> {
    let mut out = Vec::new();
    for &method in methods {
        for seed in 0..seeds {
            out.push(ContinualConfig {
                method,
                seed,
                ..base.clone()
            });
        }
    }
    out
}

/// Writes rows with [`CSV_HEADER`].
pub fn write_csv<W: std::io::Write>(rows: &[ContinualRow], writer: W) -> Result<(), EngineError> {
    let mut w = csv::Writer::from_writer(writer);
    let io = |e: csv::Error| EngineError::Internal(format!("writing CSV: {e}"));
    w.write_record(CSV_HEADER).map_err(io)?;
    for r in rows {
        w.write_record([
            r.sequence.clone(),
            r.method.clone(),
            r.seed.to_string(),
            r.after_task.to_string(),
            r.task.to_string(),
            format!("{:.4}", r.accuracy),
            r.units.to_string(),
            r.params.to_string(),
        ])
        .map_err(io)?;
    }
    w.flush()
        .map_err(|e| EngineError::Internal(format!("writing CSV: {e}")))
}

/// Mean and spread over seeds of one method after one task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Method name.
    pub method: String,
    /// Tasks learnt (1-based).
    pub after_task: usize,
    /// Mean over seeds of the average accuracy over the tasks seen.
    pub mean: f32,
    /// Standard deviation over seeds (population).
    pub std: f32,
    /// Mean accuracy per task seen (index 0 is task 1).
    pub per_task: Vec<f32>,
    /// Mean hidden units.
    pub units: f32,
    /// Mean stored parameters.
    pub params: f32,
    /// Seeds averaged.
    pub seeds: usize,
}

fn mean_std(values: &[f32]) -> (f32, f32) {
    let n = values.len().max(1) as f32;
    let mean = values.iter().sum::<f32>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n;
    (mean, var.sqrt())
}

/// Summaries per method (in first-seen order) and task learnt.
pub fn summarise(rows: &[ContinualRow]) -> Vec<Summary> {
    let mut methods: Vec<&str> = Vec::new();
    for r in rows {
        if !methods.contains(&r.method.as_str()) {
            methods.push(&r.method);
        }
    }
    let n_tasks = rows.iter().map(|r| r.after_task).max().unwrap_or(0);
    let mut out = Vec::new();
    for method in methods {
        for after in 1..=n_tasks {
            let at: Vec<&ContinualRow> = rows
                .iter()
                .filter(|r| r.method == method && r.after_task == after)
                .collect();
            let mut seeds: Vec<u64> = at.iter().map(|r| r.seed).collect();
            seeds.sort_unstable();
            seeds.dedup();
            if seeds.is_empty() {
                continue;
            }
            let averages: Vec<f32> = seeds
                .iter()
                .map(|s| {
                    let accs: Vec<f32> = at
                        .iter()
                        .filter(|r| r.seed == *s)
                        .map(|r| r.accuracy)
                        .collect();
                    accs.iter().sum::<f32>() / accs.len().max(1) as f32
                })
                .collect();
            let (mean, std) = mean_std(&averages);
            let per_task = (1..=after)
                .map(|t| {
                    let v: Vec<f32> = at
                        .iter()
                        .filter(|r| r.task == t)
                        .map(|r| r.accuracy)
                        .collect();
                    mean_std(&v).0
                })
                .collect();
            let per_seed = |f: fn(&ContinualRow) -> usize| -> f32 {
                let v: Vec<f32> = seeds
                    .iter()
                    .filter_map(|s| at.iter().find(|r| r.seed == *s).map(|r| f(r) as f32))
                    .collect();
                mean_std(&v).0
            };
            out.push(Summary {
                method: method.to_string(),
                after_task: after,
                mean,
                std,
                per_task,
                units: per_seed(|r| r.units),
                params: per_seed(|r| r.params),
                seeds: seeds.len(),
            });
        }
    }
    out
}

/// The printed tables: average test accuracy over the tasks seen after each task (mean ± std over
/// seeds) with the model's size after the last task, then each task's accuracy after the last.
pub fn format_table(rows: &[ContinualRow], task_names: &[&str]) -> String {
    use std::fmt::Write;
    let summaries = summarise(rows);
    let n = task_names.len();
    let mut methods: Vec<&str> = Vec::new();
    for s in &summaries {
        if !methods.contains(&s.method.as_str()) {
            methods.push(&s.method);
        }
    }
    let seeds = summaries.iter().map(|s| s.seeds).max().unwrap_or(0);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: average test accuracy (%) over the tasks seen, mean ± std over {seeds} seeds",
        task_names.join(" > ")
    );
    let _ = write!(out, "{:<12}", "method");
    for (t, name) in task_names.iter().enumerate() {
        let _ = write!(out, " {:>16}", format!("after {} {name}", t + 1));
    }
    let _ = writeln!(out, " {:>7} {:>8}", "units", "params");
    for m in &methods {
        let _ = write!(out, "{m:<12}");
        for t in 1..=n {
            let cell = summaries
                .iter()
                .find(|s| s.method == *m && s.after_task == t)
                .map_or("-".to_string(), |s| {
                    format!("{:.1} ± {:.1}", 100.0 * s.mean, 100.0 * s.std)
                });
            let _ = write!(out, " {cell:>16}");
        }
        let last = summaries
            .iter()
            .find(|s| s.method == *m && s.after_task == n);
        let _ = writeln!(
            out,
            " {:>7} {:>8}",
            last.map_or("-".into(), |s| format!("{:.1}", s.units)),
            last.map_or("-".into(), |s| format!("{:.0}", s.params))
        );
    }
    let _ = writeln!(
        out,
        "\neach task's test accuracy (%) after the last task, mean over seeds"
    );
    let _ = write!(out, "{:<12}", "method");
    for (t, name) in task_names.iter().enumerate() {
        let _ = write!(out, " {:>16}", format!("{} {name}", t + 1));
    }
    let _ = writeln!(out);
    for m in &methods {
        let _ = write!(out, "{m:<12}");
        let last = summaries
            .iter()
            .find(|s| s.method == *m && s.after_task == n);
        for t in 0..n {
            let cell = last
                .and_then(|s| s.per_task.get(t))
                .map_or("-".to_string(), |v| format!("{:.1}", 100.0 * v));
            let _ = write!(out, " {cell:>16}");
        }
        let _ = writeln!(out);
    }
    out
}

/// One method against a reference method (Firefly), paired by seed on the final average accuracy
/// (the mean over every task of its test accuracy after the last task).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Paired {
    /// The method compared.
    pub method: String,
    /// The reference method.
    pub reference: String,
    /// Seeds both ran to the last task.
    pub seeds: usize,
    /// Mean over those seeds of reference − method (accuracy as a share, 0 to 1).
    pub mean_difference: f32,
    /// Its standard error: the sample standard deviation of the differences (n − 1) over √n (0
    /// with one seed).
    pub standard_error: f32,
    /// Seeds where the reference is ahead (difference > 0).
    pub reference_ahead: usize,
    /// Seeds where both are level (difference = 0).
    pub level: usize,
}

/// Each seed's final average accuracy of `method`: the mean over the tasks of the rows of the last
/// task learnt, in seed order.
pub fn final_averages(rows: &[ContinualRow], method: &str) -> Vec<(u64, f64)> {
    let last = rows.iter().map(|r| r.after_task).max().unwrap_or(0);
    let mut seeds: Vec<u64> = rows
        .iter()
        .filter(|r| r.method == method && r.after_task == last)
        .map(|r| r.seed)
        .collect();
    seeds.sort_unstable();
    seeds.dedup();
    seeds
        .into_iter()
        .map(|s| {
            let accs: Vec<f64> = rows
                .iter()
                .filter(|r| r.method == method && r.after_task == last && r.seed == s)
                .map(|r| f64::from(r.accuracy))
                .collect();
            (s, accs.iter().sum::<f64>() / accs.len().max(1) as f64)
        })
        .collect()
}

/// Every other method (in first-seen order) against `reference`, paired by seed; empty when
/// `reference` has no rows.
pub fn paired(rows: &[ContinualRow], reference: &str) -> Vec<Paired> {
    let base = final_averages(rows, reference);
    if base.is_empty() {
        return Vec::new();
    }
    let mut methods: Vec<&str> = Vec::new();
    for r in rows {
        if r.method != reference && !methods.contains(&r.method.as_str()) {
            methods.push(&r.method);
        }
    }
    methods
        .into_iter()
        .map(|method| {
            let other = final_averages(rows, method);
            let diffs: Vec<f64> = base
                .iter()
                .filter_map(|(s, a)| other.iter().find(|(t, _)| t == s).map(|(_, b)| a - b))
                .collect();
            let n = diffs.len();
            let mean = diffs.iter().sum::<f64>() / n.max(1) as f64;
            let se = if n > 1 {
                let var = diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
                (var / n as f64).sqrt()
            } else {
                0.0
            };
            Paired {
                method: method.to_string(),
                reference: reference.to_string(),
                seeds: n,
                mean_difference: mean as f32,
                standard_error: se as f32,
                reference_ahead: diffs.iter().filter(|d| **d > 0.0).count(),
                level: diffs.iter().filter(|d| **d == 0.0).count(),
            }
        })
        .collect()
}

/// The printed paired comparison against `reference` (empty when it has no rows): per method,
/// reference − method in points (mean ± standard error over the paired seeds) and the seeds where
/// the reference is ahead, level and behind.
pub fn format_paired(rows: &[ContinualRow], reference: &str) -> String {
    use std::fmt::Write;
    let pairs = paired(rows, reference);
    let mut out = String::new();
    if pairs.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "{reference} − method, final average accuracy (points), paired by seed: mean ± standard error; seeds {reference} ahead / level / behind"
    );
    for p in &pairs {
        let _ = writeln!(
            out,
            "{:<12} {:>+6.2} ± {:.2}   {} / {} / {} of {}",
            p.method,
            100.0 * p.mean_difference,
            100.0 * p.standard_error,
            p.reference_ahead,
            p.level,
            p.seeds - p.reference_ahead - p.level,
            p.seeds
        );
    }
    out
}
