//! Figure 3 over seeds: the mean training loss at each unit count over the seeds of a run, and
//! its spread.

/// One point of Figure 3 over seeds: at `units` hidden units, the mean training loss of the
/// `n` seeds that reached it, and the mean ± one standard deviation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandPoint {
    /// Hidden units.
    pub units: usize,
    /// Mean training loss.
    pub mean: f32,
    /// Mean − one standard deviation.
    pub low: f32,
    /// Mean + one standard deviation.
    pub high: f32,
    /// Seeds with a point at this unit count.
    pub n: usize,
}

/// Mean and spread over runs of (units, loss) points, by unit count (increasing). Each run
/// counts once per unit count, with its last point there (a growth phase that added nothing
/// leaves two points at one count); non-finite losses are left out.
pub fn band(runs: &[Vec<(usize, f32)>]) -> Vec<BandPoint> {
    let mut by_units: std::collections::BTreeMap<usize, Vec<f64>> = Default::default();
    for run in runs {
        let mut last: std::collections::BTreeMap<usize, f32> = Default::default();
        for &(units, loss) in run {
            if loss.is_finite() {
                last.insert(units, loss);
            }
        }
        for (units, loss) in last {
            by_units.entry(units).or_default().push(loss as f64);
        }
    }
    by_units
        .into_iter()
        .map(|(units, losses)| {
            let n = losses.len();
            let mean = losses.iter().sum::<f64>() / n as f64;
            let var = losses.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / n as f64;
            let sd = var.sqrt();
            BandPoint {
                units,
                mean: mean as f32,
                low: (mean - sd) as f32,
                high: (mean + sd) as f32,
                n,
            }
        })
        .collect()
}
