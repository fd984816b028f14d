//! Panel (b)'s question: per dataset and method, whether the loss is non-increasing in the number
//! of candidates m', at the final size and on average over units grown.

use serde::{Deserialize, Serialize};

use super::{Row, Series, by_series_and_seed, common_units, first_rows_by_units, mean_std, series};

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
