//! Firefly paired with every other method by seed: each seed's mean loss over units grown
//! 1..K, after the training that follows each growth or right after each growth, how many seeds
//! Firefly is lower on, the mean difference and its standard error.

use serde::{Deserialize, Serialize};

use super::{Row, Series, by_series_and_seed, first_rows_by_units, mean_std, series};
use crate::grow::Method;

/// Which loss of a row a paired comparison reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Measure {
    /// The training loss after the steps that follow the growth (Figure 3's curves).
    AfterTraining,
    /// The training loss right after the growth, before any further step: the growth decision
    /// alone.
    AfterGrowth,
}

impl Measure {
    fn of(self, row: &Row) -> f64 {
        match self {
            Measure::AfterTraining => row.train_loss as f64,
            Measure::AfterGrowth => row.loss_after_growth as f64,
        }
    }
}

/// Two series of one dataset compared seed by seed: each seed's mean loss over units grown
/// 1..=`up_to` (the network when it first had k grown units, as Figure 3 plots it), the
/// method's minus the baseline's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Paired {
    /// The series compared.
    pub method: Series,
    /// The series it is compared with.
    pub baseline: Series,
    /// Which loss.
    pub measure: Measure,
    /// Units grown 1..=`up_to` are averaged.
    pub up_to: usize,
    /// Seeds where both series reached `up_to` grown units.
    pub seeds: usize,
    /// Of those, the seeds where the method's mean loss is lower.
    pub ahead: usize,
    /// Mean over seeds of the method's mean loss.
    pub method_mean: f64,
    /// Mean over seeds of the baseline's mean loss.
    pub baseline_mean: f64,
    /// Mean over seeds of the difference (method − baseline; negative: the method is ahead).
    pub difference: f64,
    /// Standard error of that mean (sample standard deviation of the differences / √seeds).
    pub standard_error: f64,
}

/// Per seed of one series: the mean of `measure` over units grown 1..=`up_to`, for the seeds
/// that reached `up_to`.
fn seed_means(rows: &[Row], series: &Series, up_to: usize, measure: Measure) -> Vec<(u64, f64)> {
    let groups = by_series_and_seed(rows);
    let Some((_, seeds)) = groups.into_iter().find(|(s, _)| s == series) else {
        return Vec::new();
    };
    seeds
        .into_iter()
        .filter_map(|(seed, seed_rows)| {
            let firsts = first_rows_by_units(&seed_rows);
            let values: Vec<f64> = (1..=up_to)
                .map(|k| {
                    firsts
                        .iter()
                        .find(|r| r.units_grown == k)
                        .map(|r| measure.of(r))
                })
                .collect::<Option<_>>()?;
            Some((seed, values.iter().sum::<f64>() / up_to.max(1) as f64))
        })
        .collect()
}

/// `method` against `baseline` paired by seed over units grown 1..=`up_to`; `None` if no seed
/// of both reached `up_to` or `up_to` is 0.
pub fn paired(
    rows: &[Row],
    method: &Series,
    baseline: &Series,
    up_to: usize,
    measure: Measure,
) -> Option<Paired> {
    if up_to == 0 {
        return None;
    }
    let a = seed_means(rows, method, up_to, measure);
    let b = seed_means(rows, baseline, up_to, measure);
    let pairs: Vec<(f64, f64)> = a
        .iter()
        .filter_map(|(seed, x)| b.iter().find(|(s, _)| s == seed).map(|(_, y)| (*x, *y)))
        .collect();
    if pairs.is_empty() {
        return None;
    }
    let differences: Vec<f64> = pairs.iter().map(|(x, y)| x - y).collect();
    let (difference, sd) = mean_std(&differences);
    let n = pairs.len();
    Some(Paired {
        method: method.clone(),
        baseline: baseline.clone(),
        measure,
        up_to,
        seeds: n,
        ahead: pairs.iter().filter(|(x, y)| x < y).count(),
        method_mean: pairs.iter().map(|p| p.0).sum::<f64>() / n as f64,
        baseline_mean: pairs.iter().map(|p| p.1).sum::<f64>() / n as f64,
        difference,
        standard_error: sd / (n as f64).sqrt(),
    })
}

/// The most units grown that at least half the seeds of each of `a` and `b` reached (a method
/// that grows nothing on some seeds, as exact splitting does when no eigenvalue is negative, is
/// then compared on the seeds that grew; [`Paired::seeds`] says how many).
fn half_reach(rows: &[Row], a: &Series, b: &Series) -> Option<usize> {
    let groups = by_series_and_seed(rows);
    let reach = |s: &Series| -> Vec<usize> {
        groups
            .iter()
            .find(|(g, _)| g == s)
            .map(|(_, seeds)| {
                let mut r: Vec<usize> = seeds
                    .iter()
                    .map(|(_, rows)| rows.iter().map(|r| r.units_grown).max().unwrap_or(0))
                    .collect();
                r.sort_unstable_by(|x, y| y.cmp(x));
                r
            })
            .unwrap_or_default()
    };
    let (ra, rb) = (reach(a), reach(b));
    let half = |r: &[usize]| r.get(r.len().div_ceil(2).saturating_sub(1)).copied();
    Some(half(&ra)?.min(half(&rb)?))
}

/// Every Firefly series of `rows` against every series of another method on the same dataset
/// (the baselines, and the Firefly ablations against full Firefly), paired by seed over units
/// grown 1..K, K the most units at least half the seeds of each reached (the seeds of both that
/// reached K are compared); for both measures.
pub fn paired_comparisons(rows: &[Row]) -> Vec<Paired> {
    let all = series(rows);
    let mut out = Vec::new();
    for a in all.iter().filter(|s| s.method == Method::Firefly.name()) {
        for b in all
            .iter()
            .filter(|b| b.dataset == a.dataset && b.method != a.method)
        {
            let Some(k) = half_reach(rows, a, b) else {
                continue;
            };
            for measure in [Measure::AfterTraining, Measure::AfterGrowth] {
                out.extend(paired(rows, a, b, k, measure));
            }
        }
    }
    out
}
