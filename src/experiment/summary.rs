//! Figure 3's points from the rows: the mean and spread of the loss by units grown per series, the
//! phases that grew nothing, the comparison at equal size, and the summary CSV.

use serde::{Deserialize, Serialize};

use super::{Row, Series, by_series_and_seed, first_rows_by_units, mean_std};
use crate::grow::Method;

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
