//! The charts beside the maps: loss curves and test accuracy over epochs, Figure 3 over seeds
//! (loss against hidden units, mean and band), with their axes and legends, and the one-line
//! summary of a growth. Tick steps, labels, the epoch axis and the legend's rows come from
//! `crate::chart` (plain functions, tested natively); this file only draws them.

use wasm_bindgen::JsValue;
use web_sys::CanvasRenderingContext2d;
use web_sys::HtmlCanvasElement;

use super::draw::{BASELINE, MAIN, cleared};
use crate::chart::{self, EpochAxis, LossAxis};
use crate::grow::GrowthEvent;
use crate::playground::BandPoint;
use crate::train::EpochRecord;

const INK: &str = "#1f2328";
const MUTED: &str = "#5f6b76";
const SMALL_FONT: &str = "10px system-ui, sans-serif";
const NAME_FONT: &str = "11px system-ui, sans-serif";
/// Height of one legend row, and where the first row's text sits.
const ROW: f64 = 13.0;
const FIRST_BASELINE: f64 = 11.0;
/// Pixels between two labelled x ticks at least.
const MIN_TICK_GAP: f64 = 34.0;
/// Pixels between two y labels at least: one line of [`SMALL_FONT`].
const LABEL_HEIGHT: f64 = 11.0;

/// The last epoch recorded by either run (at least 1), the right end of the epoch axis.
fn last_epoch(main: &[EpochRecord], baseline: &[EpochRecord]) -> usize {
    main.iter()
        .chain(baseline)
        .map(|r| r.epoch)
        .max()
        .unwrap_or(1)
        .max(1)
}

/// One legend entry: its label, colour and whether its line is dashed.
type Entry<'a> = (&'a str, &'a str, bool);

/// The plot area of a chart.
struct Frame {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

impl Frame {
    /// The pixel row of a position from 0 (bottom) to 1 (top).
    fn y(&self, position: f64) -> f64 {
        let p = if position.is_finite() { position } else { 0.0 };
        self.bottom - (self.bottom - self.top) * p.clamp(0.0, 1.0)
    }

    /// The pixel column of a position from 0 (left) to 1 (right).
    fn x(&self, position: f64) -> f64 {
        self.left + (self.right - self.left) * position
    }
}

/// The chart's head: the y axis's name at the top left and the legend right of it, in as many
/// rows as it needs (`chart::legend_rows`), so it never overprints the name or the curves: the
/// plot area starts below the last row.
fn head(ctx: &CanvasRenderingContext2d, w: f64, h: f64, y_name: &str, entries: &[Entry]) -> Frame {
    ctx.set_font(NAME_FONT);
    ctx.set_fill_style_str(MUTED);
    ctx.set_text_align("left");
    let _ = ctx.fill_text(y_name, 4.0, FIRST_BASELINE + 1.0);
    let name_width = ctx.measure_text(y_name).map_or(60.0, |m| m.width());
    let right = w - 10.0;
    ctx.set_font(SMALL_FONT);
    let widths: Vec<f64> = entries
        .iter()
        .map(|(label, _, _)| 24.0 + ctx.measure_text(label).map_or(60.0, |m| m.width()))
        .collect();
    let available = right - (4.0 + name_width + 12.0);
    let rows = chart::legend_rows(&widths, available, 10.0);
    for (r, row) in rows.iter().enumerate() {
        let baseline = FIRST_BASELINE + ROW * r as f64;
        let mut x = right;
        for &i in row.iter().rev() {
            let (label, colour, dashed) = entries[i];
            x -= widths[i];
            ctx.set_fill_style_str(INK);
            let _ = ctx.fill_text(label, x + 20.0, baseline);
            polyline(
                ctx,
                &[(x, baseline - 3.0), (x + 16.0, baseline - 3.0)],
                colour,
                dashed,
            );
            x -= 10.0;
        }
    }
    Frame {
        left: 44.0,
        right,
        top: FIRST_BASELINE + ROW * rows.len().max(1) as f64 + 6.0,
        bottom: h - 30.0,
    }
}

/// The axes: y ticks and x ticks at the given positions (0 to 1, gridlines across for y), the x
/// axis's name under them.
fn axes(
    ctx: &CanvasRenderingContext2d,
    f: &Frame,
    h: f64,
    y_ticks: &[(f64, String)],
    x_ticks: &[(f64, String)],
    x_name: &str,
) {
    ctx.set_line_width(1.0);
    ctx.set_font(SMALL_FONT);
    ctx.set_text_align("right");
    let ys: Vec<f64> = y_ticks.iter().map(|(p, _)| f.y(*p)).collect();
    let labelled = chart::spaced(&ys, LABEL_HEIGHT);
    for (((_, label), &y), labelled) in y_ticks.iter().zip(&ys).zip(labelled) {
        ctx.set_stroke_style_str("#eef0f2");
        ctx.begin_path();
        ctx.move_to(f.left + 1.0, y);
        ctx.line_to(f.right, y);
        ctx.stroke();
        if labelled {
            ctx.set_fill_style_str(MUTED);
            let _ = ctx.fill_text(label, f.left - 4.0, y + 3.0);
        }
    }
    ctx.set_stroke_style_str("#c9ced4");
    ctx.begin_path();
    ctx.move_to(f.left, f.top);
    ctx.line_to(f.left, f.bottom);
    ctx.line_to(f.right, f.bottom);
    ctx.stroke();
    ctx.set_text_align("center");
    for (position, label) in x_ticks {
        let x = f.x(*position);
        ctx.begin_path();
        ctx.move_to(x, f.bottom);
        ctx.line_to(x, f.bottom + 3.0);
        ctx.stroke();
        // The last label stays inside the canvas (the plot ends 10 px before its edge).
        let half = ctx.measure_text(label).map_or(0.0, |m| m.width()) / 2.0;
        let _ = ctx.fill_text(label, x.min(f.right + 9.0 - half), f.bottom + 13.0);
    }
    ctx.set_font(NAME_FONT);
    let _ = ctx.fill_text(x_name, (f.left + f.right) / 2.0, h - 4.0);
    ctx.set_text_align("left");
}

fn polyline(ctx: &CanvasRenderingContext2d, points: &[(f64, f64)], colour: &str, dashed: bool) {
    let points = chart::thin(points);
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

/// The epoch axis's ticks for a frame, and its name (which says where the scale turns
/// logarithmic).
fn epoch_ticks(axis: &EpochAxis, f: &Frame) -> (Vec<(f64, String)>, &'static str) {
    let ticks = axis
        .ticks(f.right - f.left, MIN_TICK_GAP)
        .into_iter()
        .map(|t| (axis.position(t.value), t.label))
        .collect();
    let name = if axis.tail_start() < 1.0 {
        "epoch (shaded: later epochs, log scale)"
    } else {
        "epoch"
    };
    (ticks, name)
}

/// A loss axis's gridlines at their positions.
fn loss_ticks(axis: &LossAxis) -> Vec<(f64, String)> {
    axis.ticks()
        .into_iter()
        .map(|t| (axis.position(t.value), t.label))
        .collect()
}

/// Shades the logarithmic part of an epoch axis, so the change of scale is seen.
fn shade_tail(ctx: &CanvasRenderingContext2d, axis: &EpochAxis, f: &Frame) {
    if axis.tail_start() < 1.0 {
        let x = f.x(axis.tail_start());
        ctx.set_fill_style_str("#f3f4f6");
        ctx.fill_rect(x, f.top, f.right - x, f.bottom - f.top);
    }
}

/// Loss curves over epochs: training (solid) and test (dashed) for both runs, growth events of
/// the main run as vertical lines, on the epoch axis that keeps the growth window readable
/// (`chart::EpochAxis`); `names` are the two runs' methods.
pub fn curves(
    canvas: &HtmlCanvasElement,
    (main, baseline): (&[EpochRecord], &[EpochRecord]),
    growth_epochs: &[usize],
    names: (&str, &str),
    hover: Option<f64>,
) -> Result<(), JsValue> {
    let (ctx, w, h) = cleared(canvas)?;
    let losses = main.iter().chain(baseline);
    let loss_axis =
        LossAxis::covering(losses.flat_map(|r| [r.train_loss as f64, r.test_loss as f64]));
    let y_ticks = loss_ticks(&loss_axis);
    // The axis as drawn, for tests and tools: log₁₀ of its bottom and top.
    let (low, high) = loss_axis.decades();
    let _ = canvas.set_attribute("data-log-axis", &format!("{low} {high}"));
    let axis = EpochAxis::new(last_epoch(main, baseline), growth_epochs);
    let f = head(
        &ctx,
        w,
        h,
        "loss (log scale)",
        &[
            (names.0, MAIN, false),
            (names.1, BASELINE, false),
            ("train", MUTED, false),
            ("test", MUTED, true),
        ],
    );
    shade_tail(&ctx, &axis, &f);
    let (x_ticks, x_name) = epoch_ticks(&axis, &f);
    axes(&ctx, &f, h, &y_ticks, &x_ticks, x_name);
    ctx.set_stroke_style_str("#e2d6fb");
    ctx.set_line_width(1.0);
    for e in growth_epochs {
        let x = f.x(axis.position(*e as f64));
        ctx.begin_path();
        ctx.move_to(x, f.top);
        ctx.line_to(x, f.bottom);
        ctx.stroke();
    }
    let series = |records: &[EpochRecord], test: bool| -> Vec<(f64, f64)> {
        records
            .iter()
            .map(|rec| {
                let v = if test { rec.test_loss } else { rec.train_loss };
                (
                    f.x(axis.position(rec.epoch as f64)),
                    f.y(loss_axis.position(v as f64)),
                )
            })
            .collect()
    };
    polyline(&ctx, &series(baseline, false), BASELINE, false);
    polyline(&ctx, &series(baseline, true), BASELINE, true);
    polyline(&ctx, &series(main, false), MAIN, false);
    polyline(&ctx, &series(main, true), MAIN, true);
    let read = hover
        .filter(|x| (f.left..=f.right).contains(x))
        .map(|x| axis.epoch_at((x - f.left) / (f.right - f.left)))
        .and_then(|epoch| read_out(&ctx, &f, (main, baseline), epoch, &axis));
    // What the pointer reads, for tests and tools: the epoch and both training losses in full.
    let _ = canvas.set_attribute("data-hover", read.as_deref().unwrap_or(""));
    Ok(())
}

/// The records of both runs nearest `epoch`, marked on the chart with a line and their
/// training losses in their runs' colours (`epoch 1200  0.0123  0.0145`); returns the epoch
/// and the losses in full (`1200 0.012312 0.014478`).
fn read_out(
    ctx: &CanvasRenderingContext2d,
    f: &Frame,
    (main, baseline): (&[EpochRecord], &[EpochRecord]),
    epoch: f64,
    axis: &EpochAxis,
) -> Option<String> {
    fn at(records: &[EpochRecord], epoch: f64) -> Option<&EpochRecord> {
        let epochs: Vec<f64> = records.iter().map(|r| r.epoch as f64).collect();
        chart::nearest(&epochs, epoch).map(|i| &records[i])
    }
    let record = at(main, epoch)?;
    let mut parts = vec![
        (format!("epoch {}", record.epoch), INK),
        (chart::loss(record.train_loss), MAIN),
    ];
    let mut data = format!("{} {}", record.epoch, record.train_loss);
    if let Some(b) = at(baseline, epoch) {
        parts.push((chart::loss(b.train_loss), BASELINE));
        data.push_str(&format!(" {}", b.train_loss));
    }
    let x = f.x(axis.position(record.epoch as f64));
    ctx.set_stroke_style_str(MUTED);
    ctx.set_line_width(1.0);
    ctx.begin_path();
    ctx.move_to(x, f.top);
    ctx.line_to(x, f.bottom);
    ctx.stroke();
    ctx.set_font(SMALL_FONT);
    ctx.set_text_align("left");
    const GAP: f64 = 6.0;
    let widths: Vec<f64> = parts
        .iter()
        .map(|(t, _)| ctx.measure_text(t).map_or(0.0, |m| m.width()))
        .collect();
    let width = widths.iter().sum::<f64>() + GAP * (parts.len() - 1) as f64;
    let mut left = (x + 4.0).min(f.right - width - 4.0).max(f.left);
    ctx.set_fill_style_str("rgba(255, 255, 255, 0.85)");
    ctx.fill_rect(left - 2.0, f.top + 1.0, width + 4.0, 13.0);
    for ((text, colour), w) in parts.iter().zip(widths) {
        ctx.set_fill_style_str(colour);
        let _ = ctx.fill_text(text, left, f.top + 11.0);
        left += w + GAP;
    }
    Some(data)
}

/// Test accuracy over epochs for both runs (classification only; empty otherwise), on the same
/// epoch axis and in the same colours as the loss curves above it, whose legend names them: a
/// second legend took the room of the curves on a short chart (an embedded page's).
pub fn accuracy(
    canvas: &HtmlCanvasElement,
    main: &[EpochRecord],
    baseline: &[EpochRecord],
    growth_epochs: &[usize],
) -> Result<(), JsValue> {
    let (ctx, w, h) = cleared(canvas)?;
    let axis = EpochAxis::new(last_epoch(main, baseline), growth_epochs);
    // A regression task has no accuracy: the chart says so instead of drawing an empty scale.
    let regression = !main.is_empty() && main.iter().all(|r| r.test_accuracy.is_none());
    let y_ticks: Vec<(f64, String)> = chart::covering_ticks(0.0, 1.0, 2)
        .into_iter()
        .filter(|_| !regression)
        .map(|t| (t.value, t.label))
        .collect();
    let f = head(&ctx, w, h, "test accuracy", &[]);
    shade_tail(&ctx, &axis, &f);
    let (x_ticks, x_name) = epoch_ticks(&axis, &f);
    axes(&ctx, &f, h, &y_ticks, &x_ticks, x_name);
    let series = |records: &[EpochRecord]| -> Vec<(f64, f64)> {
        records
            .iter()
            .filter_map(|rec| {
                rec.test_accuracy
                    .map(|a| (f.x(axis.position(rec.epoch as f64)), f.y(a as f64)))
            })
            .collect()
    };
    polyline(&ctx, &series(baseline), BASELINE, false);
    polyline(&ctx, &series(main), MAIN, false);
    if regression {
        ctx.set_font(SMALL_FONT);
        ctx.set_fill_style_str(MUTED);
        ctx.set_text_align("center");
        let note = "none: a regression task";
        let _ = ctx.fill_text(
            note,
            (f.left + f.right) / 2.0,
            (f.top + f.bottom) / 2.0 + 3.0,
        );
        ctx.set_text_align("left");
    }
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
    // The means and the bands' tops set the axis; a band's bottom (mean − sd, near 0 when the
    // seeds disagree) may run off it.
    let loss_axis = LossAxis::covering(all().flat_map(|p| [p.mean as f64, p.high as f64]));
    let y_ticks = loss_ticks(&loss_axis);
    let x_min = all().map(|p| p.units).min().unwrap_or(0) as f64;
    let x_max = (all().map(|p| p.units).max().unwrap_or(1) as f64).max(x_min + 1.0);
    let spread = format!("mean of {seeds} seeds ± 1 sd");
    let mut entries = vec![(names.0, MAIN, false), (names.1, BASELINE, false)];
    if seeds > 1 {
        entries.push((spread.as_str(), MUTED, false));
    }
    let f = head(&ctx, w, h, "training loss (log scale)", &entries);
    let position = |units: f64| (units - x_min) / (x_max - x_min);
    let target = ((f.right - f.left) / MIN_TICK_GAP).floor().max(1.0) as usize;
    let x_ticks: Vec<(f64, String)> = chart::inner_ticks(x_min, x_max, target.min(8), true)
        .into_iter()
        .map(|t| (position(t.value), t.label))
        .collect();
    axes(&ctx, &f, h, &y_ticks, &x_ticks, "hidden units");
    let to = |units: usize, v: f32| {
        (
            f.x(position(units as f64)),
            f.y(loss_axis.position(v as f64)),
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
    Ok(())
}

/// One line of the growth summary (changes of loss with three significant digits).
pub fn growth_line(event: &GrowthEvent) -> String {
    format!(
        "Epoch {}: {} → {}. Predicted Δloss {}, actual {}.",
        event.epoch,
        event.architecture_before,
        event.architecture_after,
        chart::signed(event.predicted_change),
        chart::signed(event.actual_change())
    )
}
