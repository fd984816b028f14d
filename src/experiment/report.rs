//! The printed report of `firefly figure3`, written from the rows.

use super::{
    Measure, Rise, Row, Series, by_series_and_seed, candidate_orderings, common_units,
    empty_phases, empty_phases_overall, mean_over_units, mean_std, paired_comparisons, series,
    summarise,
};

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
