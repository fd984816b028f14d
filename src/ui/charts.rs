//! The charts under the maps: loss curves and test accuracy over epochs, Figure 3 over seeds
//! (loss against hidden units, mean and band), with their axes and legends, and the one-line
//! summary of a growth.

use wasm_bindgen::JsValue;
use web_sys::CanvasRenderingContext2d;
use web_sys::HtmlCanvasElement;

use super::draw::{BASELINE, MAIN, cleared};
use crate::grow::GrowthEvent;
use crate::playground::BandPoint;
use crate::train::EpochRecord;

/// The last epoch recorded by either run (at least 1), the right end of the epoch axis.
fn last_epoch(main: &[EpochRecord], baseline: &[EpochRecord]) -> f64 {
    main.iter()
        .chain(baseline)
        .map(|r| r.epoch)
        .max()
        .unwrap_or(1)
        .max(1) as f64
}

/// Round tick values covering `0..=max` (about `n` of them).
fn ticks(max: f64, n: usize) -> Vec<f64> {
    if !(max.is_finite() && max > 0.0) {
        return vec![0.0];
    }
    let raw = max / n.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(raw);
    (0..)
        .map(|i| i as f64 * step)
        .take_while(|v| *v <= max * 1.0001)
        .collect()
}

fn tick_label(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.fract() == 0.0 && v.abs() >= 1.0 {
        format!("{v:.0}")
    } else if v.abs() >= 0.1 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The plot area of a chart.
struct Frame {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

/// Axes with numbered ticks on both: x from `x_min` to `x_max` (whole numbers), y from 0 to
/// `y_max`; the axis names under and beside them.
fn axes(
    ctx: &CanvasRenderingContext2d,
    w: f64,
    h: f64,
    (x_min, x_max): (f64, f64),
    y_max: f64,
    (x_name, y_name): (&str, &str),
) -> Frame {
    let f = Frame {
        left: 44.0,
        right: w - 10.0,
        top: 22.0,
        bottom: h - 30.0,
    };
    ctx.set_stroke_style_str("#c9ced4");
    ctx.set_line_width(1.0);
    ctx.begin_path();
    ctx.move_to(f.left, f.top);
    ctx.line_to(f.left, f.bottom);
    ctx.line_to(f.right, f.bottom);
    ctx.stroke();
    ctx.set_fill_style_str("#5f6b76");
    ctx.set_font("10px system-ui, sans-serif");
    ctx.set_text_align("right");
    for v in ticks(y_max, 4) {
        let y = f.bottom - (f.bottom - f.top) * v / y_max;
        let _ = ctx.fill_text(&tick_label(v), f.left - 4.0, y + 3.0);
        ctx.set_stroke_style_str("#eef0f2");
        ctx.begin_path();
        ctx.move_to(f.left + 1.0, y);
        ctx.line_to(f.right, y);
        ctx.stroke();
    }
    ctx.set_text_align("center");
    let span = (x_max - x_min).max(1.0);
    for v in ticks(span, 5) {
        let v = (x_min + v).round();
        let x = f.left + (f.right - f.left) * (v - x_min) / span;
        let _ = ctx.fill_text(&tick_label(v), x, f.bottom + 12.0);
    }
    ctx.set_font("11px system-ui, sans-serif");
    let _ = ctx.fill_text(x_name, (f.left + f.right) / 2.0, h - 4.0);
    ctx.set_text_align("left");
    let _ = ctx.fill_text(y_name, 4.0, 12.0);
    f
}

/// A legend in the chart's top-right corner: colour, solid or dashed, label.
fn legend(ctx: &CanvasRenderingContext2d, right: f64, entries: &[(&str, &str, bool)]) {
    ctx.set_font("10px system-ui, sans-serif");
    let mut x = right;
    for (label, colour, dashed) in entries.iter().rev() {
        let width = ctx.measure_text(label).map_or(60.0, |m| m.width());
        x -= width + 4.0;
        ctx.set_fill_style_str("#1f2328");
        let _ = ctx.fill_text(label, x, 11.0);
        x -= 20.0;
        polyline(ctx, &[(x, 8.0), (x + 16.0, 8.0)], colour, *dashed);
        x -= 10.0;
    }
}

fn polyline(ctx: &CanvasRenderingContext2d, points: &[(f64, f64)], colour: &str, dashed: bool) {
    let points = crate::chart::thin(points);
    if points.is_empty() {
        return;
    }
    ctx.set_stroke_style_str(colour);
    ctx.set_line_width(2.0);
    let dash = if dashed {
        js_sys::Array::of2(&5.0.into(), &4.0.into())
    } else {
        js_sys::Array::new()
    };
    let _ = ctx.set_line_dash(&dash);
    ctx.begin_path();
    ctx.move_to(points[0].0, points[0].1);
    for p in &points[1..] {
        ctx.line_to(p.0, p.1);
    }
    ctx.stroke();
    let _ = ctx.set_line_dash(&js_sys::Array::new());
}

/// Loss curves over epochs: training (solid) and test (dashed) for both runs, growth events of
/// the main run as vertical lines; `names` are the two runs' methods.
pub fn curves(
    canvas: &HtmlCanvasElement,
    main: &[EpochRecord],
    baseline: &[EpochRecord],
    growth_epochs: &[usize],
    names: (&str, &str),
) -> Result<(), JsValue> {
    let (ctx, w, h) = cleared(canvas)?;
    let finite = |v: f32| if v.is_finite() { v as f64 } else { 0.0 };
    let y_max = main
        .iter()
        .chain(baseline)
        .flat_map(|r| [finite(r.train_loss), finite(r.test_loss)])
        .fold(0.1, f64::max);
    let x_max = last_epoch(main, baseline);
    let f = axes(&ctx, w, h, (0.0, x_max), y_max, ("epoch", "loss"));
    let to = |e: usize, v: f32| {
        (
            f.left + (f.right - f.left) * e as f64 / x_max,
            f.bottom - (f.bottom - f.top) * finite(v) / y_max,
        )
    };
    ctx.set_stroke_style_str("#e2d6fb");
    ctx.set_line_width(1.0);
    for e in growth_epochs {
        let x = to(*e, 0.0).0;
        ctx.begin_path();
        ctx.move_to(x, f.top);
        ctx.line_to(x, f.bottom);
        ctx.stroke();
    }
    let series = |records: &[EpochRecord], test: bool| -> Vec<(f64, f64)> {
        records
            .iter()
            .map(|rec| to(rec.epoch, if test { rec.test_loss } else { rec.train_loss }))
            .collect()
    };
    polyline(&ctx, &series(baseline, false), BASELINE, false);
    polyline(&ctx, &series(baseline, true), BASELINE, true);
    polyline(&ctx, &series(main, false), MAIN, false);
    polyline(&ctx, &series(main, true), MAIN, true);
    legend(
        &ctx,
        f.right,
        &[
            (names.0, MAIN, false),
            (names.1, BASELINE, false),
            ("train", "#5f6b76", false),
            ("test", "#5f6b76", true),
        ],
    );
    Ok(())
}

/// Test accuracy over epochs for both runs (classification only; empty otherwise).
pub fn accuracy(
    canvas: &HtmlCanvasElement,
    main: &[EpochRecord],
    baseline: &[EpochRecord],
    names: (&str, &str),
) -> Result<(), JsValue> {
    let (ctx, w, h) = cleared(canvas)?;
    let x_max = last_epoch(main, baseline);
    let f = axes(&ctx, w, h, (0.0, x_max), 1.0, ("epoch", "test accuracy"));
    let series = |records: &[EpochRecord]| -> Vec<(f64, f64)> {
        records
            .iter()
            .filter_map(|rec| {
                rec.test_accuracy.map(|a| {
                    (
                        f.left + (f.right - f.left) * rec.epoch as f64 / x_max,
                        f.bottom - (f.bottom - f.top) * a as f64,
                    )
                })
            })
            .collect()
    };
    polyline(&ctx, &series(baseline), BASELINE, false);
    polyline(&ctx, &series(main), MAIN, false);
    legend(
        &ctx,
        f.right,
        &[(names.0, MAIN, false), (names.1, BASELINE, false)],
    );
    Ok(())
}

/// Figure 3, live: training loss against hidden units for both runs, the mean over the seeds
/// as a line with dots and, with more than one seed, a band of one standard deviation.
pub fn figure3(
    canvas: &HtmlCanvasElement,
    main: &[BandPoint],
    baseline: &[BandPoint],
    names: (&str, &str),
    seeds: usize,
) -> Result<(), JsValue> {
    let (ctx, w, h) = cleared(canvas)?;
    let all = || main.iter().chain(baseline);
    let finite = |v: f32| if v.is_finite() { v as f64 } else { 0.0 };
    let y_max = all().map(|p| finite(p.high)).fold(0.1, f64::max);
    let x_min = all().map(|p| p.units).min().unwrap_or(0) as f64;
    let x_max = (all().map(|p| p.units).max().unwrap_or(1) as f64).max(x_min + 1.0);
    let f = axes(
        &ctx,
        w,
        h,
        (x_min, x_max),
        y_max,
        ("hidden units", "training loss"),
    );
    let to = |units: usize, v: f32| {
        (
            f.left + (f.right - f.left) * (units as f64 - x_min) / (x_max - x_min),
            f.bottom - (f.bottom - f.top) * finite(v).max(0.0) / y_max,
        )
    };
    for (points, colour) in [(baseline, BASELINE), (main, MAIN)] {
        if seeds > 1 && points.len() > 1 {
            ctx.set_fill_style_str(colour);
            ctx.set_global_alpha(0.18);
            ctx.begin_path();
            let (x, y) = to(points[0].units, points[0].high);
            ctx.move_to(x, y);
            for p in &points[1..] {
                let (x, y) = to(p.units, p.high);
                ctx.line_to(x, y);
            }
            for p in points.iter().rev() {
                let (x, y) = to(p.units, p.low);
                ctx.line_to(x, y);
            }
            ctx.close_path();
            ctx.fill();
            ctx.set_global_alpha(1.0);
        }
        let line: Vec<(f64, f64)> = points.iter().map(|p| to(p.units, p.mean)).collect();
        polyline(&ctx, &line, colour, false);
        ctx.set_fill_style_str(colour);
        for p in &line {
            ctx.begin_path();
            let _ = ctx.arc(p.0, p.1, 3.0, 0.0, std::f64::consts::TAU);
            ctx.fill();
        }
    }
    let spread = format!("mean of {seeds} seeds ± 1 sd");
    let mut entries = vec![(names.0, MAIN, false), (names.1, BASELINE, false)];
    if seeds > 1 {
        entries.push((spread.as_str(), "#5f6b76", false));
    }
    legend(&ctx, f.right, &entries);
    Ok(())
}

/// One line of the growth summary.
pub fn growth_line(event: &GrowthEvent) -> String {
    format!(
        "Epoch {}: {} → {}. Predicted Δloss {:+.4}, actual {:+.4}.",
        event.epoch,
        event.architecture_before,
        event.architecture_after,
        event.predicted_change,
        event.actual_change()
    )
}
