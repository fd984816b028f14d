//! Chart and diagram geometry the view uses before drawing: plain functions over numbers,
//! tested natively. Thinning curves to pixel columns, tick steps whose labels are exact at their
//! gridlines, numbers printed with significant digits, the epoch axis that keeps the growth
//! window readable, legends packed into rows, the maps' resolution for the network at hand, and
//! the network diagram's layout.

mod diagram;

pub use diagram::*;

use crate::model::{BlockKind, Mlp};

/// The finest grid of a decision map, a side of points: what every network of at most
/// [`NARROW_WIDTH`] units a layer gets, and a wider one while it stays within the budget.
pub const MAP_MAX_RESOLUTION: usize = 100;
/// The widest layer of a network whose maps keep the finest grid whatever they cost.
pub const NARROW_WIDTH: usize = 64;
/// The coarsest grid of a decision map: still a readable picture of a boundary.
pub const MAP_MIN_RESOLUTION: usize = 24;
/// Multiply-adds one map may cost: a map is computed in WebAssembly on the CPU (the page
/// redraws both about 30 times a second), 4 million of them take a few milliseconds there.
pub const MAP_BUDGET_MACS: f64 = 4.0e6;

/// Multiply-adds of one forward pass of `net` for one point.
pub fn macs_per_point(net: &Mlp) -> usize {
    let blocks: usize = net
        .blocks
        .iter()
        .map(|b| {
            let fan_out = if b.kind == BlockKind::Residual {
                b.n_units() * b.d_out()
            } else {
                0
            };
            b.d_in() * b.n_units() + fan_out
        })
        .sum();
    let last = net.blocks.last().map_or(net.n_inputs, |b| b.d_out());
    blocks + last * net.out_bias.len()
}

/// The side of a decision map's grid for `net`: [`MAP_MAX_RESOLUTION`] up to [`NARROW_WIDTH`]
/// units a layer or while a map costs at most [`MAP_BUDGET_MACS`]; coarser for a wider network
/// so that drawing keeps the page responsive (a 1,024-unit layer gets 31), never under
/// [`MAP_MIN_RESOLUTION`].
pub fn map_resolution(net: &Mlp) -> usize {
    if net.widest_layer() <= NARROW_WIDTH {
        return MAP_MAX_RESOLUTION;
    }
    let points = MAP_BUDGET_MACS / macs_per_point(net).max(1) as f64;
    (points.sqrt().floor() as usize).clamp(MAP_MIN_RESOLUTION, MAP_MAX_RESOLUTION)
}

/// Thins a polyline for drawing: within each one-pixel column of `x` it keeps the first, lowest,
/// highest and last point, in their order. A curve of a million epochs then costs at most four
/// points per pixel of width, and looks the same: every extreme is kept.
pub fn thin(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len().min(4096));
    let mut start = 0;
    while start < points.len() {
        let column = points[start].0.floor();
        let mut end = start + 1;
        while end < points.len() && points[end].0.floor() == column {
            end += 1;
        }
        let group = &points[start..end];
        if group.len() <= 4 {
            out.extend_from_slice(group);
        } else {
            let by_y = |better: fn(f64, f64) -> bool| {
                (1..group.len()).fold(0, |best, i| {
                    if better(group[i].1, group[best].1) {
                        i
                    } else {
                        best
                    }
                })
            };
            let (low, high) = (by_y(|a, b| a < b), by_y(|a, b| a > b));
            let mut keep = [0, low, high, group.len() - 1];
            keep.sort_unstable();
            let mut last = usize::MAX;
            for i in keep {
                if i != last {
                    out.push(group[i]);
                    last = i;
                }
            }
        }
        start = end;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Numbers as the page prints them.

/// `value` with `digits` significant digits: fixed notation from 0.001 up to 100,000
/// (`0.693`, `0.0123`, `123`), scientific outside it with trailing zeros dropped (`1.3e-8`), so
/// a tiny loss never reads `0.000`. Zero is `0`; NaN and infinities are named.
pub fn significant(value: f64, digits: usize) -> String {
    let digits = digits.max(1);
    if value == 0.0 {
        return "0".into();
    }
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "∞" } else { "−∞" }.into();
    }
    let magnitude = value.abs().log10().floor() as i32;
    if (-3..5).contains(&magnitude) {
        let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
        return format!("{value:.decimals$}");
    }
    let text = format!("{:.*e}", digits - 1, value);
    match text.split_once('e') {
        Some((mantissa, exponent)) if mantissa.contains('.') => {
            let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
            format!("{mantissa}e{exponent}")
        }
        _ => text,
    }
}

/// A loss as the page prints it: three significant digits ([`significant`]).
pub fn loss(value: f32) -> String {
    significant(value as f64, 3)
}

/// A change of loss or a candidate's score: three significant digits with its sign (`+0.0123`,
/// `-4.2e-7`).
pub fn signed(value: f32) -> String {
    let text = significant(value as f64, 3);
    if value > 0.0 && value.is_finite() {
        format!("+{text}")
    } else {
        text
    }
}

/// The line under a decision map: both losses of its run with three significant digits
/// ([`loss`]), test first as TensorFlow Playground prints them; dashes before the first epoch.
/// Each half is held together by no-break spaces, so that a narrow map breaks the line after
/// the slash, never between a loss and its name.
pub fn loss_line(last: Option<(f32, f32)>) -> String {
    let (test, train) = last.map_or(("—".to_string(), "—".to_string()), |(test, train)| {
        (loss(test), loss(train))
    });
    format!("Test\u{a0}loss\u{a0}{test} / Training\u{a0}loss\u{a0}{train}")
}

// ---------------------------------------------------------------------------------------------
// Ticks.

/// A tick step `mantissa`·10^`exponent` with a mantissa of 1, 2, 2.5 or 5: steps a reader can
/// count in, whose multiples print exactly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    /// Tenths of the mantissa: 10, 20, 25 or 50 (integers, so labels are exact).
    tenths: i64,
    /// Power of ten.
    exponent: i32,
}

/// One tick: where its gridline is and the label printed there (exactly that value).
#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    /// The value at the gridline.
    pub value: f64,
    /// The value printed exactly.
    pub label: String,
}

impl Step {
    /// The smallest nice step of at least `raw` (a positive, finite number; anything else
    /// gives 1).
    pub fn at_least(raw: f64) -> Step {
        if !(raw.is_finite() && raw > 0.0) {
            return Step {
                tenths: 10,
                exponent: 0,
            };
        }
        let mut exponent = raw.log10().floor() as i32;
        loop {
            for tenths in [10, 20, 25, 50] {
                let step = Step { tenths, exponent };
                // A relative slack so that a raw step of exactly 0.2 picks 0.2, not 0.25.
                if step.value() >= raw * (1.0 - 1e-9) {
                    return step;
                }
            }
            exponent += 1;
        }
    }

    /// The step's size.
    pub fn value(&self) -> f64 {
        self.tenths as f64 * 10f64.powi(self.exponent - 1)
    }

    /// The `i`-th multiple of the step and its exact label.
    pub fn tick(&self, i: i64) -> Tick {
        let tenths = i * self.tenths;
        Tick {
            value: tenths as f64 * 10f64.powi(self.exponent - 1),
            label: exact_label(tenths, self.exponent - 1),
        }
    }
}

/// Prints `digits`·10^`exponent` exactly and short enough for an axis: plain decimals
/// (`0.075`, `250`), `k` from 10,000 (`12.5k`), scientific notation below 0.001 and from a
/// million (`7.5e-9`, `2e6`).
fn exact_label(digits: i64, exponent: i32) -> String {
    if digits == 0 {
        return "0".into();
    }
    let sign = if digits < 0 { "-" } else { "" };
    let text = digits.unsigned_abs().to_string();
    // Decimal exponent of the leading digit.
    let leading = exponent + text.len() as i32 - 1;
    let (text, exponent, suffix) = if leading >= 4 {
        (text, exponent - 3, "k")
    } else {
        (text, exponent, "")
    };
    if !(-3..6).contains(&leading) {
        let (first, rest) = text.split_at(1);
        let rest = rest.trim_end_matches('0');
        let mantissa = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        return format!("{sign}{mantissa}e{leading}");
    }
    let plain = if exponent >= 0 {
        format!("{text}{}", "0".repeat(exponent as usize))
    } else {
        let shift = (-exponent) as usize;
        let padded = format!("{text:0>width$}", width = shift + 1);
        let (whole, fraction) = padded.split_at(padded.len() - shift);
        let fraction = fraction.trim_end_matches('0');
        if fraction.is_empty() {
            whole.to_string()
        } else {
            format!("{whole}.{fraction}")
        }
    };
    format!("{sign}{plain}{suffix}")
}

/// About `target` ticks from `min` to the first tick at or above `max`: the axis then ends on a
/// gridline. Empty or non-finite ranges give the ticks of 0 to 1.
pub fn covering_ticks(min: f64, max: f64, target: usize) -> Vec<Tick> {
    let (min, max) = if min.is_finite() && max.is_finite() && max > min {
        (min, max)
    } else {
        (0.0, 1.0)
    };
    let step = Step::at_least((max - min) / target.max(1) as f64);
    let first = (min / step.value()).floor() as i64;
    let last = (max / step.value() - 1e-9).ceil() as i64;
    (first..=last.max(first + 1))
        .map(|i| step.tick(i))
        .collect()
}

/// About `target` ticks inside `min..=max` (whole numbers only when `whole`).
pub fn inner_ticks(min: f64, max: f64, target: usize, whole: bool) -> Vec<Tick> {
    if !(min.is_finite() && max.is_finite() && max >= min) {
        return Vec::new();
    }
    let mut step = Step::at_least(((max - min) / target.max(1) as f64).max(f64::MIN_POSITIVE));
    if whole && step.value() < 1.0 {
        step = Step {
            tenths: 10,
            exponent: 0,
        };
    }
    if whole && step.tenths == 25 && step.exponent == 0 {
        // 2.5 is not a whole number; 5 is the next step.
        step.tenths = 50;
    }
    let first = (min / step.value() - 1e-9).ceil() as i64;
    let last = (max / step.value() + 1e-9).floor() as i64;
    (first..=last).map(|i| step.tick(i)).collect()
}

/// Which of the ticks at pixel `positions` (along one axis, in tick order) get a label, so that
/// no two labels come closer than `min_gap` pixels: the last (the top of a y axis) always, then
/// each one far enough from the last labelled. A short chart (an embedded page's) then prints
/// `0` and `1` rather than `0`, `0.5` and `1` on top of each other.
pub fn spaced(positions: &[f64], min_gap: f64) -> Vec<bool> {
    let mut labelled = vec![false; positions.len()];
    let mut last: Option<f64> = None;
    for (i, &p) in positions.iter().enumerate().rev() {
        if last.is_none_or(|l| (l - p).abs() >= min_gap) {
            labelled[i] = true;
            last = Some(p);
        }
    }
    labelled
}

/// The index of the value in `sorted` (ascending) nearest to `target`, the earlier of two as
/// near; `None` when there is none. Which record a pointer over a chart reads.
pub fn nearest(sorted: &[f64], target: f64) -> Option<usize> {
    let after = sorted.partition_point(|&v| v < target);
    let candidates = [
        after.checked_sub(1),
        (after < sorted.len()).then_some(after),
    ];
    candidates.into_iter().flatten().min_by(|&a, &b| {
        (sorted[a] - target)
            .abs()
            .total_cmp(&(sorted[b] - target).abs())
    })
}

// ---------------------------------------------------------------------------------------------
// The loss axis.

/// The y axis of a loss, logarithmic: a run's loss falls by orders of magnitude (0.69 to 0.003 in
/// the opening minute), and the lesson is in the ratio of two small losses (Firefly's 0.0033
/// against the baseline's 0.0057), which a linear axis from 0 to 0.8 draws as two lines on the
/// floor. It spans whole decades, from the one at or below the smallest positive loss (at most
/// [`LOSS_DECADES`] below the top) to the one at or above the largest.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossAxis {
    /// log₁₀ of the bottom and of the top.
    low: i32,
    high: i32,
}

/// The most decades a loss axis spans; a loss further below the top sits on the bottom line.
pub const LOSS_DECADES: i32 = 6;

impl LossAxis {
    /// The axis covering every positive, finite value of `values` (one decade, 0.1 to 1, when
    /// there is none).
    pub fn covering(values: impl IntoIterator<Item = f64>) -> LossAxis {
        let (min, max) = values
            .into_iter()
            .filter(|v| v.is_finite() && *v > 0.0)
            .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        if max == 0.0 {
            return LossAxis { low: -1, high: 0 };
        }
        // A relative slack, so that 0.1 computed as 0.1000000001 keeps its decade.
        let high = (max.log10() - 1e-9).ceil() as i32;
        let low = (min.log10() + 1e-9).floor() as i32;
        LossAxis {
            low: low.clamp(high - LOSS_DECADES, high - 1),
            high,
        }
    }

    /// log₁₀ of the bottom and of the top (`-3, 0` for 0.001 to 1).
    pub fn decades(&self) -> (i32, i32) {
        (self.low, self.high)
    }

    /// Where `value` sits, from 0 (the bottom) to 1 (the top); a value below the bottom, zero or
    /// not a number sits on the bottom.
    pub fn position(&self, value: f64) -> f64 {
        if !(value.is_finite() && value > 0.0) {
            return 0.0;
        }
        ((value.log10() - self.low as f64) / (self.high - self.low) as f64).clamp(0.0, 1.0)
    }

    /// The gridlines: every power of ten, and 2 and 5 times one where the axis spans at most two
    /// decades; each labelled exactly (`0.001`, `1e-4`).
    pub fn ticks(&self) -> Vec<Tick> {
        let fine = self.high - self.low <= 2;
        let mut ticks = Vec::new();
        for exponent in self.low..=self.high {
            let mantissas: &[i64] = if fine && exponent < self.high {
                &[1, 2, 5]
            } else {
                &[1]
            };
            for &m in mantissas {
                ticks.push(Tick {
                    value: m as f64 * 10f64.powi(exponent),
                    label: exact_label(m, exponent),
                });
            }
        }
        ticks
    }
}

// ---------------------------------------------------------------------------------------------
// The epoch axis.

/// The x axis of the curves over epochs. Growth comes at a steady rhythm (a phase every so many
/// epochs), and the lesson is in that stretch: how the loss drops after each growth. So the
/// axis is linear over the growth window — from epoch 0 to two growth intervals past the last
/// growth — and spaces the growths as they happened. Epochs after it are drawn at the right on
/// a logarithmic scale that takes a growing share of the width (at most 40 %), so that after
/// minutes of training the growth window still fills most of the chart instead of being
/// squashed into a line at x = 0, and the latest epochs stay in view. The axis is continuous
/// and starts out plainly linear; its ticks are labelled exactly on either side.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochAxis {
    /// The last epoch of the linear part.
    window: f64,
    /// The last epoch drawn.
    last: f64,
    /// Share of the width given to epochs after the window.
    tail: f64,
}

/// Growth window used when a run has not grown: the first epochs, where the loss falls most.
const FIRST_EPOCHS: f64 = 100.0;
/// Share of the width the logarithmic tail gets per decade past the window, and at most.
const TAIL_PER_DECADE: f64 = 0.3;
const TAIL_MAX: f64 = 0.4;

impl EpochAxis {
    /// The axis for a run whose last epoch is `last_epoch` and which grew at `growth_epochs`
    /// (in order).
    pub fn new(last_epoch: usize, growth_epochs: &[usize]) -> EpochAxis {
        let last = (last_epoch.max(1)) as f64;
        // Two growth intervals past the last growth: by then growth has evidently stopped (a
        // phase is due every interval), and a run still growing stays linear.
        let window = match growth_epochs {
            [] => FIRST_EPOCHS,
            [only] => 3.0 * *only as f64,
            [first, .., end] => {
                let n = growth_epochs.len() as f64;
                let interval = (*end - *first) as f64 / (n - 1.0);
                *end as f64 + 2.0 * interval
            }
        }
        .max(1.0);
        if last <= window {
            return EpochAxis {
                window: last,
                last,
                tail: 0.0,
            };
        }
        let tail = (TAIL_PER_DECADE * (last / window).log10()).clamp(0.0, TAIL_MAX);
        EpochAxis { window, last, tail }
    }

    /// Where `epoch` sits, from 0 (left) to 1 (right).
    pub fn position(&self, epoch: f64) -> f64 {
        let linear = 1.0 - self.tail;
        if epoch <= self.window || self.tail == 0.0 {
            return linear * epoch.max(0.0) / self.window.max(1.0);
        }
        let decades = (self.last / self.window).log10();
        linear + self.tail * (epoch / self.window).log10() / decades
    }

    /// The epoch at `position` (0 to 1), the inverse of [`EpochAxis::position`]: where a
    /// pointer over the chart is.
    pub fn epoch_at(&self, position: f64) -> f64 {
        let position = position.clamp(0.0, 1.0);
        let linear = 1.0 - self.tail;
        if position <= linear || self.tail == 0.0 {
            return position / linear.max(f64::MIN_POSITIVE) * self.window.max(1.0);
        }
        let decades = (self.last / self.window).log10();
        self.window * 10f64.powf((position - linear) / self.tail * decades)
    }

    /// Where the logarithmic part begins (0 to 1; 1 when there is none).
    pub fn tail_start(&self) -> f64 {
        1.0 - self.tail
    }

    /// Labelled epochs for an axis `width` pixels wide, at least `min_gap` pixels apart: nice
    /// steps over the linear part, then 1, 2 and 5 times powers of ten in the tail.
    pub fn ticks(&self, width: f64, min_gap: f64) -> Vec<Tick> {
        let linear_px = width * (1.0 - self.tail);
        let target = (linear_px / (min_gap * 1.5)).floor().max(1.0) as usize;
        let mut ticks = inner_ticks(0.0, self.window, target, true);
        if self.tail > 0.0 {
            let after = ticks.last().map_or(0.0, |t| self.position(t.value) * width);
            // 1, 2 and 5 times powers of ten where they stand far enough apart, else powers of
            // ten alone (skipping any too close to the one before).
            let sets: [&[i64]; 2] = [&[10, 20, 50], &[10]];
            for (n, set) in sets.iter().enumerate() {
                let mut tail = Vec::new();
                let mut exponent = self.window.log10().floor() as i32;
                'decades: loop {
                    for &tenths in *set {
                        let tick = Step { tenths, exponent }.tick(1);
                        if tick.value > self.last {
                            break 'decades;
                        }
                        if tick.value > self.window {
                            tail.push((self.position(tick.value) * width, tick));
                        }
                    }
                    exponent += 1;
                }
                tail.retain(|(x, _)| x - after >= min_gap);
                let apart = tail.windows(2).all(|w| w[1].0 - w[0].0 >= min_gap);
                if apart || n + 1 == sets.len() {
                    let mut at = after;
                    for (x, tick) in tail {
                        if x - at >= min_gap {
                            at = x;
                            ticks.push(tick);
                        }
                    }
                    break;
                }
            }
        }
        ticks
    }
}

// ---------------------------------------------------------------------------------------------
// Legends.

/// Packs legend entries of the given widths (in pixels) into rows no wider than `available`,
/// keeping their order: each row is a list of entry indices. An entry wider than the space gets
/// a row of its own. The chart's plot area starts below the last row, so a legend never
/// overprints a title or a curve.
pub fn legend_rows(widths: &[f64], available: f64, gap: f64) -> Vec<Vec<usize>> {
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut used = 0.0;
    for (i, w) in widths.iter().enumerate() {
        match rows.last_mut() {
            Some(row) if used + gap + w <= available => {
                row.push(i);
                used += gap + w;
            }
            _ => {
                rows.push(vec![i]);
                used = *w;
            }
        }
    }
    rows
}
