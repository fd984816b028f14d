//! What `cargo xtask bench` measured and how it is shown: frame-time percentiles, the one
//! plain-text table (a column per page, a row per measure) and the same numbers as JSON.

use std::fmt::Write as _;

use super::super::json::{Json, json};

/// Which kind of page was measured, found by what it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageKind {
    /// A page whose `#app` carries `data-epoch` (ours).
    App,
    /// TensorFlow Playground: started by `#play-pause-button`, epochs in `#iter-number`.
    TfPlayground,
}

impl PageKind {
    pub fn name(self) -> &'static str {
        match self {
            PageKind::App => "app",
            PageKind::TfPlayground => "tf-playground",
        }
    }
}

/// Raw and gzip bytes of a page's `.wasm` and `.js`; `None` where unknown.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sizes {
    pub wasm_raw: Option<u64>,
    pub wasm_gzip: Option<u64>,
    pub js_raw: Option<u64>,
    pub js_gzip: Option<u64>,
}

impl Sizes {
    /// Adds the raw and gzip bytes of a file at `path` (`bytes`, asked only for a `.wasm` or
    /// `.js`) to the totals of its kind; any other file counts for nothing.
    pub fn add(
        &mut self, path: &str, bytes: impl FnOnce() -> Result<(u64, u64), String>,
    ) -> Result<(), String> {
        let (raw_total, gzip_total) = if path.ends_with(".wasm") {
            (&mut self.wasm_raw, &mut self.wasm_gzip)
        } else if path.ends_with(".js") {
            (&mut self.js_raw, &mut self.js_gzip)
        } else {
            return Ok(());
        };
        let (raw, gzip) = bytes()?;
        *raw_total = Some(raw_total.unwrap_or(0) + raw);
        *gzip_total = Some(gzip_total.unwrap_or(0) + gzip);
        Ok(())
    }
}

/// Frame-time statistics over the measured window, in milliseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Frames {
    pub count: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Frames {
    /// Statistics of the gaps between animation frames; `None` without any gap.
    pub fn from_gaps(gaps: &[f64]) -> Option<Self> {
        let mut sorted: Vec<f64> = gaps.iter().copied().filter(|g| g.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        Some(Frames {
            count: sorted.len(),
            p50: percentile(&sorted, 50.0)?,
            p90: percentile(&sorted, 90.0)?,
            p99: percentile(&sorted, 99.0)?,
            max: *sorted.last()?,
        })
    }
}

/// The nearest-rank percentile of sorted values: the smallest value with at least `p` % of the
/// values at or below it (`p` in (0, 100]); `None` when there are none.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// TensorFlow Playground's epoch counter as it shows it (`000,123`, `1,234,567`) as a number.
pub fn parse_iter_number(text: &str) -> Option<u64> {
    let digits: String = text.trim().chars().filter(|&c| c != ',').collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Where the first-epoch time comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirstEpoch {
    /// The page's own `data-first-epoch-ms`.
    Page,
    /// The injected observer saw the epoch counter reach 1.
    Observed,
    /// The epoch was already ≥ 1 when the observer was injected: an upper bound.
    AtMost,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    pub kind: PageKind,
    pub backend: Option<String>,
    /// Milliseconds from navigation to epoch 1, and where that number comes from.
    pub first_epoch_ms: f64,
    pub first_epoch: FirstEpoch,
    /// Epochs per second of the (main) run, and of our baseline run where there is one.
    pub epochs_per_s: f64,
    pub baseline_epochs_per_s: Option<f64>,
    /// Mini-batch steps per second of every run and seed together (`data-steps`), if reported.
    pub steps_per_s: Option<f64>,
    pub frames: Option<Frames>,
    /// `data-growth-timings` (name, ms) in the page's order, if set.
    pub growth_timings: Option<Vec<(String, f64)>>,
    /// Growth phases completed in the window by the main run and the baseline (our page only).
    pub growths: Option<(f64, f64)>,
    /// `data-draw-ms`: what each part of a frame costs (moving averages), if set.
    pub frame_parts: Option<Vec<(String, f64)>>,
    /// WebGPU launches (compute dispatches counted in the browser) per mini-batch step over the
    /// window, growth phases included; `None` without WebGPU or a step count.
    pub launches: Option<String>,
    /// The bytes of the page's code (for a compared page, what it loaded).
    pub sizes: Sizes,
}

/// One page of the table: a column.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    /// The column's header, e.g. `ours 4,2`.
    pub label: String,
    pub url: String,
    pub result: Result<Measurement, String>,
}

/// Our page at one setup and the page it was compared with.
#[derive(Clone, Debug, PartialEq)]
pub struct SetupResult {
    pub layers: String,
    pub ours: Page,
    pub theirs: Option<Page>,
}

impl SetupResult {
    /// Our epochs per second over theirs, when both were measured.
    pub fn ratio(&self) -> Option<f64> {
        let ours = self.ours.result.as_ref().ok()?.epochs_per_s;
        let theirs = self.theirs.as_ref()?.result.as_ref().ok()?.epochs_per_s;
        (theirs > 0.0).then(|| ours / theirs)
    }

    /// The pages in column order, each with the ratio to show under it (ours only).
    fn columns(&self) -> Vec<(&Page, Option<f64>)> {
        let mut columns = vec![(&self.ours, self.ratio())];
        columns.extend(self.theirs.iter().map(|page| (page, None)));
        columns
    }
}

const NONE: &str = "—";

/// The table: a header row of page labels, then one row per measure.
pub fn table(setups: &[SetupResult]) -> String {
    let columns: Vec<(&Page, Option<f64>)> = setups.iter().flat_map(SetupResult::columns).collect();
    type Cell = fn(&Measurement, Option<f64>) -> String;
    let measures: [(&str, Cell); 18] = [
        ("kind", |m, _| m.kind.name().to_string()),
        ("backend", |m, _| m.backend.clone().unwrap_or_else(|| NONE.into())),
        ("first epoch (ms)", |m, _| first_epoch_cell(m)),
        ("epochs/s", |m, _| format!("{:.1}", m.epochs_per_s)),
        ("epochs/s, baseline run", |m, _| tenths(m.baseline_epochs_per_s)),
        ("epochs/s ours/theirs", |_, ratio| ratio.map_or(NONE.into(), |r| format!("{r:.2}x"))),
        ("frames in window", |m, _| m.frames.as_ref().map_or(NONE.into(), |f| f.count.to_string())),
        ("frame p50 (ms)", |m, _| frame_cell(m, |f| f.p50)),
        ("frame p90 (ms)", |m, _| frame_cell(m, |f| f.p90)),
        ("frame p99 (ms)", |m, _| frame_cell(m, |f| f.p99)),
        ("frame max (ms)", |m, _| frame_cell(m, |f| f.max)),
        ("training steps/s, all runs", |m, _| tenths(m.steps_per_s)),
        ("growth phases (main / baseline)", |m, _| {
            m.growths.map_or(NONE.into(), |(a, b)| format!("{a:.0} / {b:.0}"))
        }),
        ("frame parts (ms)", |m, _| pairs_cell(m.frame_parts.as_ref())),
        ("growth timings (ms)", |m, _| pairs_cell(m.growth_timings.as_ref())),
        ("launches per step", |m, _| m.launches.clone().unwrap_or_else(|| NONE.into())),
        ("wasm bytes raw / gzip", |m, _| bytes_cell(m.sizes.wasm_raw, m.sizes.wasm_gzip)),
        ("js bytes raw / gzip", |m, _| bytes_cell(m.sizes.js_raw, m.sizes.js_gzip)),
    ];
    let mut rows = vec![
        std::iter::once("measure".to_string())
            .chain(columns.iter().map(|(page, _)| page.label.clone()))
            .collect::<Vec<_>>(),
    ];
    for (name, cell) in &measures {
        let mut row = vec![name.to_string()];
        for (page, ratio) in &columns {
            row.push(match &page.result {
                Ok(m) => cell(m, *ratio),
                Err(_) if *name == "kind" => "FAILED".to_string(),
                Err(_) => NONE.to_string(),
            });
        }
        rows.push(row);
    }
    align(&rows)
}

fn first_epoch_cell(m: &Measurement) -> String {
    let prefix = if m.first_epoch == FirstEpoch::AtMost { "≤" } else { "" };
    format!("{prefix}{:.0}", m.first_epoch_ms)
}

fn frame_cell(m: &Measurement, pick: fn(&Frames) -> f64) -> String {
    tenths(m.frames.as_ref().map(pick))
}

fn tenths(value: Option<f64>) -> String {
    value.map_or(NONE.into(), |v| format!("{v:.1}"))
}

fn pairs_cell(pairs: Option<&Vec<(String, f64)>>) -> String {
    match pairs {
        Some(timings) if !timings.is_empty() => timings
            .iter()
            .map(|(name, ms)| format!("{name} {ms:.1}"))
            .collect::<Vec<_>>()
            .join(", "),
        _ => NONE.into(),
    }
}

fn bytes_cell(raw: Option<u64>, gzip: Option<u64>) -> String {
    match (raw, gzip) {
        (None, None) => NONE.into(),
        (raw, gzip) => {
            let show = |n: Option<u64>| n.map_or(NONE.into(), thousands);
            format!("{} / {}", show(raw), show(gzip))
        }
    }
}

/// A whole number with commas between thousands: `31,908,338`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Rows as aligned plain text: the first column left-aligned, the others right-aligned, two
/// spaces between columns, a dashed line under the header, no trailing spaces.
pub fn align(rows: &[Vec<String>]) -> String {
    let n_columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width =
        |c: usize| rows.iter().filter_map(|row| row.get(c)).map(|s| s.chars().count()).max();
    let widths: Vec<usize> = (0..n_columns).map(|c| width(c).unwrap_or(0)).collect();
    let mut out = String::new();
    for (r, row) in rows.iter().enumerate() {
        let mut line = String::new();
        for (c, width) in widths.iter().enumerate() {
            let cell = row.get(c).map_or("", String::as_str);
            // Rust pads to a width in chars, as the widths are counted.
            let _ = match c {
                0 => write!(line, "{cell:<width$}"),
                _ => write!(line, "  {cell:>width$}"),
            };
        }
        out.push_str(line.trim_end());
        out.push('\n');
        if r == 0 {
            let total = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
            out.push_str(&"-".repeat(total));
            out.push('\n');
        }
    }
    out
}

/// Everything as JSON, for `<target-dir>/bench/bench.json` (`None` and NaN are `null`).
pub fn to_json(setups: &[SetupResult], seconds: f64, warmup_seconds: f64) -> Json {
    let setups: Vec<Json> = setups
        .iter()
        .map(|s| {
            json!({"layers": s.layers, "ours": page_json(&s.ours),
                   "theirs": s.theirs.as_ref().map(page_json),
                   "epochs_per_s_ours_over_theirs": s.ratio()})
        })
        .collect();
    json!({"seconds": seconds, "warmup_seconds": warmup_seconds, "setups": setups})
}

fn page_json(page: &Page) -> Json {
    let m = match &page.result {
        Err(error) => return json!({"label": page.label, "url": page.url, "error": error}),
        Ok(m) => m,
    };
    let frames = m.frames.as_ref().map(|f| {
        json!({"count": f.count, "p50_ms": f.p50, "p90_ms": f.p90, "p99_ms": f.p99, "max_ms": f.max})
    });
    let pairs = |p: &Option<Vec<(String, f64)>>| {
        p.as_ref().map(|t| {
            t.iter().map(|(k, v)| (k.clone(), Json::from(*v))).collect::<serde_json::Map<_, _>>()
        })
    };
    let first_epoch_source = match m.first_epoch {
        FirstEpoch::Page => "data-first-epoch-ms",
        FirstEpoch::Observed => "observed",
        FirstEpoch::AtMost => "at most (already reached when observed)",
    };
    let sizes = &m.sizes;
    json!({
        "label": page.label, "url": page.url, "error": null, "kind": m.kind.name(),
        "backend": m.backend, "first_epoch_ms": m.first_epoch_ms,
        "first_epoch_source": first_epoch_source, "epochs_per_s": m.epochs_per_s,
        "baseline_epochs_per_s": m.baseline_epochs_per_s, "steps_per_s": m.steps_per_s,
        "frames": frames, "growth_timings_ms": pairs(&m.growth_timings),
        "frame_parts_ms": pairs(&m.frame_parts),
        "growth_phases": m.growths.map(|(main, baseline)| json!({"main": main, "baseline": baseline})),
        "launches_per_step": m.launches,
        "bytes": {"wasm_raw": sizes.wasm_raw, "wasm_gzip": sizes.wasm_gzip,
                  "js_raw": sizes.js_raw, "js_gzip": sizes.js_gzip},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        // 1..=10: p50 is the 5th value, p90 the 9th, p99 the 10th (ceil(9.9) = 10).
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&ten, 50.0), Some(5.0));
        assert_eq!(percentile(&ten, 90.0), Some(9.0));
        assert_eq!(percentile(&ten, 99.0), Some(10.0));
        assert_eq!(percentile(&ten, 100.0), Some(10.0));
        // Four values: p50 is the 2nd (ceil(2.0)), p90 and p99 the 4th.
        let four = [16.0, 17.0, 33.0, 50.0];
        assert_eq!(percentile(&four, 50.0), Some(17.0));
        assert_eq!(percentile(&four, 90.0), Some(50.0));
        assert_eq!(percentile(&[7.0], 50.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn frame_stats_sort_and_drop_non_finite_gaps() {
        let mut gaps: Vec<f64> = vec![16.7; 97];
        gaps.extend([33.3, 100.0, 50.0, f64::NAN]);
        let frames = Frames::from_gaps(&gaps).unwrap();
        // 100 finite gaps: p50 and p90 are 16.7; p99 is the 99th of the sorted (33.3, 50, 100).
        assert_eq!(frames.count, 100);
        assert_eq!(frames.p50, 16.7);
        assert_eq!(frames.p90, 16.7);
        assert_eq!(frames.p99, 50.0);
        assert_eq!(frames.max, 100.0);
        assert_eq!(Frames::from_gaps(&[]), None);
    }

    #[test]
    fn reads_tf_playground_epoch_counter() {
        assert_eq!(parse_iter_number("000,123"), Some(123));
        assert_eq!(parse_iter_number("000,000"), Some(0));
        assert_eq!(parse_iter_number(" 1,234,567\n"), Some(1_234_567));
        assert_eq!(parse_iter_number("42"), Some(42));
        assert_eq!(parse_iter_number(""), None);
        assert_eq!(parse_iter_number(","), None);
        assert_eq!(parse_iter_number("12a"), None);
        assert_eq!(parse_iter_number("-1"), None);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(31_908_338), "31,908,338");
    }

    #[test]
    fn aligns_columns() {
        let rows = vec![
            vec!["measure".to_string(), "a".into(), "long header".into()],
            vec!["epochs/s".to_string(), "1234.5".into(), "—".into()],
            vec!["x".to_string(), "1".into(), "22".into()],
        ];
        assert_eq!(
            align(&rows),
            "measure        a  long header\n\
             -----------------------------\n\
             epochs/s  1234.5            —\n\
             x              1           22\n"
        );
    }

    fn measurement(epochs_per_s: f64) -> Measurement {
        Measurement {
            kind: PageKind::App,
            backend: Some("cpu".into()),
            first_epoch_ms: 1234.4,
            first_epoch: FirstEpoch::Observed,
            epochs_per_s,
            baseline_epochs_per_s: Some(39.96),
            frames: Frames::from_gaps(&[16.0, 17.0, 33.0, 50.0]),
            growth_timings: None,
            frame_parts: None,
            growths: None,
            steps_per_s: None,
            launches: None,
            sizes: Sizes {
                wasm_raw: Some(31_908_338),
                wasm_gzip: Some(7_000_123),
                js_raw: Some(72_082),
                js_gzip: None,
            },
        }
    }

    #[test]
    fn table_has_a_column_per_page_and_the_ratio_under_ours() {
        let theirs = Measurement {
            kind: PageKind::TfPlayground,
            backend: None,
            first_epoch: FirstEpoch::AtMost,
            baseline_epochs_per_s: None,
            frames: None,
            growth_timings: Some(vec![("propose".into(), 1.3), ("surgery".into(), 0.5)]),
            launches: Some("12".into()),
            sizes: Sizes::default(),
            ..measurement(20.0)
        };
        let page =
            |label: &str, url: &str, result| Page { label: label.into(), url: url.into(), result };
        let setups = [
            SetupResult {
                layers: "4,2".into(),
                ours: page("ours 4,2", "u", Ok(measurement(40.0))),
                theirs: Some(page("theirs 4,2", "v", Ok(theirs))),
            },
            SetupResult {
                layers: "8".into(),
                ours: page("ours 8", "w", Err("timed out".into())),
                theirs: None,
            },
        ];
        let text = table(&setups);
        let lines: Vec<&str> = text.lines().collect();
        let row = |name: &str| {
            let line =
                lines.iter().find(|l| l.starts_with(name) && l[name.len()..].starts_with("  "));
            let cells = line.unwrap()[name.len()..].split("  ").filter(|c| !c.trim().is_empty());
            cells.map(str::trim).collect::<Vec<_>>()
        };
        assert_eq!(row("measure"), ["ours 4,2", "theirs 4,2", "ours 8"]);
        assert!(lines[1].chars().all(|c| c == '-'));
        assert_eq!(row("kind"), ["app", "tf-playground", "FAILED"]);
        assert_eq!(row("backend"), ["cpu", "—", "—"]);
        assert_eq!(row("first epoch (ms)"), ["1234", "≤1234", "—"]);
        assert_eq!(row("epochs/s"), ["40.0", "20.0", "—"]);
        assert_eq!(row("epochs/s, baseline run"), ["40.0", "—", "—"]);
        assert_eq!(row("epochs/s ours/theirs"), ["2.00x", "—", "—"]);
        assert_eq!(row("frames in window"), ["4", "—", "—"]);
        assert_eq!(row("frame p50 (ms)"), ["17.0", "—", "—"]);
        assert_eq!(row("frame max (ms)"), ["50.0", "—", "—"]);
        assert_eq!(row("growth timings (ms)"), ["—", "propose 1.3, surgery 0.5", "—"]);
        assert_eq!(row("launches per step"), ["—", "12", "—"]);
        assert_eq!(row("wasm bytes raw / gzip"), ["31,908,338 / 7,000,123", "—", "—"]);
        assert_eq!(row("js bytes raw / gzip"), ["72,082 / —", "—", "—"]);
        // Every line of the table is as wide as the dashed line or narrower.
        assert!(lines.iter().all(|l| l.chars().count() <= lines[1].len()));

        let json = to_json(&setups, 10.0, 2.0);
        let first = &json.get("setups").and_then(Json::as_array).unwrap()[0];
        assert_eq!(first.get("epochs_per_s_ours_over_theirs"), Some(&json!(2.0)));
        let ours = first.get("ours").unwrap();
        assert_eq!(ours.get("backend").and_then(Json::as_str), Some("cpu"));
        let failed = json.get("setups").and_then(Json::as_array).unwrap()[1].get("ours").unwrap();
        assert_eq!(failed.get("error").and_then(Json::as_str), Some("timed out"));
        assert_eq!(super::super::json::parse(&json.to_string()).unwrap(), json);
    }
}
