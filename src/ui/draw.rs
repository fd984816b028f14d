//! Canvas drawing: decision maps, data points and the network diagram with unit thumbnails (the
//! charts are in `charts.rs`). Pure presentation: every number drawn comes from the engine's
//! snapshots and histories; where the diagram's nodes and labels go is `chart::layout` (tested
//! natively for overlaps); this file only maps values to colours and draws.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};

use wasm_bindgen::{Clamped, JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use crate::data::{DOMAIN, Sample, Task};
use crate::grow::{CandidateKind, PendingCandidate};
use crate::model::{BlockKind, Mlp, UnitId};
use crate::train::Snapshot;

pub use crate::chart::{Edge, Layout, Node, layout, layout_labelled};

const ORANGE: [f64; 3] = [245.0, 147.0, 34.0];
const BLUE: [f64; 3] = [8.0, 119.0, 189.0];
const GREY: [f64; 3] = [232.0, 234.0, 235.0];
const GREEN: [f64; 3] = [46.0, 160.0, 67.0];
/// Colour of the main (growing) run in plots.
pub const MAIN: &str = "#7b3fe4";
/// Colour of the baseline run in plots.
pub const BASELINE: &str = "#8a8f95";

fn lerp(a: [f64; 3], b: [f64; 3], t: f64) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0);
    [
        (a[0] + (b[0] - a[0]) * t) as u8,
        (a[1] + (b[1] - a[1]) * t) as u8,
        (a[2] + (b[2] - a[2]) * t) as u8,
    ]
}

/// Orange (−1) → grey (0) → blue (+1); NaN is grey.
pub fn diverging(v: f32) -> [u8; 3] {
    if !v.is_finite() {
        return lerp(GREY, GREY, 0.0);
    }
    if v < 0.0 {
        lerp(GREY, ORANGE, -v as f64)
    } else {
        lerp(GREY, BLUE, v as f64)
    }
}

fn class_colour(class: usize) -> [f64; 3] {
    match class {
        0 => ORANGE,
        1 => BLUE,
        2 => GREEN,
        k => [((k * 67) % 200) as f64, 90.0, ((k * 131) % 200) as f64],
    }
}

/// The CSS colour of class `class` on the maps and points (for the colour key).
pub fn class_css(class: usize) -> String {
    css(lerp(class_colour(class), GREY, 0.0))
}

fn css(rgb: [u8; 3]) -> String {
    format!("rgb({},{},{})", rgb[0], rgb[1], rgb[2])
}

/// Colour of one grid cell given its output values (class probabilities or a regression value).
pub fn cell_colour(values: &[f32], discretize: bool) -> [u8; 3] {
    // A diverged network's NaN or infinite output is grey, not a colour it never meant.
    if values.iter().any(|v| !v.is_finite()) {
        return lerp(GREY, GREY, 0.0);
    }
    match values.len() {
        0 => lerp(GREY, GREY, 0.0),
        1 => {
            let v = values[0].clamp(-1.0, 1.0);
            diverging(if discretize { v.signum() } else { v })
        }
        2 => {
            let v = values[1] - values[0];
            diverging(if discretize { v.signum() } else { v })
        }
        k => {
            let (best, p) = values
                .iter()
                .enumerate()
                .fold(
                    (0, f32::NEG_INFINITY),
                    |b, (i, v)| if *v > b.1 { (i, *v) } else { b },
                );
            let floor = 1.0 / k as f32;
            let confidence = if discretize {
                1.0
            } else {
                ((p - floor) / (1.0 - floor)).clamp(0.0, 1.0)
            };
            lerp(GREY, class_colour(best), confidence as f64)
        }
    }
}

/// The 2-D context of a canvas.
pub fn context(canvas: &HtmlCanvasElement) -> Result<CanvasRenderingContext2d, JsValue> {
    canvas
        .get_context("2d")?
        .ok_or_else(|| JsValue::from_str("no 2d context"))?
        .dyn_into::<CanvasRenderingContext2d>()
        .map_err(|_| JsValue::from_str("not a 2d context"))
}

/// A decision map: an off-screen canvas at grid resolution, scaled onto the visible one.
pub struct DecisionMap {
    canvas: HtmlCanvasElement,
    ctx: CanvasRenderingContext2d,
    buffer: HtmlCanvasElement,
    /// The points, drawn once per data version (a large CSV has 100,000 of them).
    points: HtmlCanvasElement,
    points_key: Cell<Option<(u64, bool)>>,
}

/// A canvas that is not on the page (an image to draw from).
pub fn new_canvas() -> Result<HtmlCanvasElement, JsValue> {
    super::dom::document()?
        .create_element("canvas")?
        .dyn_into::<HtmlCanvasElement>()
        .map_err(|_| JsValue::from_str("canvas"))
}

impl DecisionMap {
    /// Wraps a visible canvas.
    pub fn new(canvas: HtmlCanvasElement) -> Result<Self, JsValue> {
        let ctx = context(&canvas)?;
        let points = new_canvas()?;
        points.set_width(canvas.width());
        points.set_height(canvas.height());
        Ok(DecisionMap {
            canvas,
            ctx,
            buffer: new_canvas()?,
            points,
            points_key: Cell::new(None),
        })
    }

    /// The visible canvas.
    pub fn canvas(&self) -> &HtmlCanvasElement {
        &self.canvas
    }

    /// Draws the map of `snapshot` and the points over it (`version` names the data: the points
    /// layer is drawn again only when it or the test toggle changes).
    pub fn draw(
        &self,
        snapshot: &Snapshot,
        train: &[Sample],
        test: Option<&[Sample]>,
        task: Task,
        discretize: bool,
        version: u64,
    ) -> Result<(), JsValue> {
        self.draw_heat(
            &snapshot.heat,
            snapshot.resolution,
            snapshot.n_outputs,
            train,
            test,
            task,
            discretize,
            version,
        )
    }

    /// Draws a map from its values (`[resolution², k]` from the top-left cell) and the points.
    #[allow(clippy::too_many_arguments)]
    pub fn draw_heat(
        &self,
        heat: &[f32],
        res: usize,
        k: usize,
        train: &[Sample],
        test: Option<&[Sample]>,
        task: Task,
        discretize: bool,
        version: u64,
    ) -> Result<(), JsValue> {
        let k = k.max(1);
        let mut pixels = Vec::with_capacity(res * res * 4);
        for cell in heat.chunks(k) {
            let c = cell_colour(cell, discretize);
            pixels.extend_from_slice(&[c[0], c[1], c[2], 255]);
        }
        if pixels.len() != res * res * 4 {
            return Ok(());
        }
        self.buffer.set_width(res as u32);
        self.buffer.set_height(res as u32);
        let image =
            ImageData::new_with_u8_clamped_array_and_sh(Clamped(&pixels), res as u32, res as u32)?;
        context(&self.buffer)?.put_image_data(&image, 0.0, 0.0)?;
        let (w, h) = (self.canvas.width() as f64, self.canvas.height() as f64);
        self.ctx.set_image_smoothing_enabled(!discretize);
        self.ctx
            .draw_image_with_html_canvas_element_and_dw_and_dh(&self.buffer, 0.0, 0.0, w, h)?;
        let key = Some((version, test.is_some()));
        if self.points_key.get() != key {
            let ctx = context(&self.points)?;
            ctx.clear_rect(0.0, 0.0, w, h);
            draw_points(&ctx, w, h, train, task, "#ffffff")?;
            if let Some(test) = test {
                draw_points(&ctx, w, h, test, task, "#000000")?;
            }
            self.points_key.set(key);
        }
        self.ctx
            .draw_image_with_html_canvas_element(&self.points, 0.0, 0.0)?;
        Ok(())
    }

    /// Converts a click position in CSS pixels to plane coordinates.
    pub fn to_plane(&self, offset_x: f64, offset_y: f64) -> (f32, f32) {
        let rect = self.canvas.get_bounding_client_rect();
        let (w, h) = (rect.width().max(1.0), rect.height().max(1.0));
        let d = DOMAIN as f64;
        (
            ((offset_x / w) * 2.0 * d - d) as f32,
            (d - (offset_y / h) * 2.0 * d) as f32,
        )
    }
}

fn point_colour(sample: &Sample, task: Task) -> [u8; 3] {
    match task {
        Task::Classification { .. } => lerp(class_colour(sample.label as usize), GREY, 0.0),
        Task::Regression => diverging(sample.label.clamp(-1.0, 1.0)),
    }
}

/// Draws points with one path per colour (fast for many points); points outside the plane are
/// not drawn (the playground says how many).
fn draw_points(
    ctx: &CanvasRenderingContext2d,
    w: f64,
    h: f64,
    points: &[Sample],
    task: Task,
    outline: &str,
) -> Result<(), JsValue> {
    let d = DOMAIN as f64;
    let radius = if points.len() > 5_000 { 1.5 } else { 3.0 };
    let mut by_colour: BTreeMap<[u8; 3], Vec<(f64, f64)>> = BTreeMap::new();
    for p in points {
        let (x, y) = (p.x as f64, p.y as f64);
        if x.abs() > d || y.abs() > d {
            continue;
        }
        let colour = match task {
            // Regression colours in 21 shades, so that points share paths.
            Task::Regression => diverging((p.label.clamp(-1.0, 1.0) * 10.0).round() / 10.0),
            Task::Classification { .. } => point_colour(p, task),
        };
        by_colour
            .entry(colour)
            .or_default()
            .push(((x + d) / (2.0 * d) * w, (d - y) / (2.0 * d) * h));
    }
    ctx.set_line_width(if points.len() > 5_000 { 0.5 } else { 1.0 });
    ctx.set_stroke_style_str(outline);
    for (colour, centres) in by_colour {
        ctx.begin_path();
        for (px, py) in centres {
            ctx.move_to(px + radius, py);
            ctx.arc(px, py, radius, 0.0, std::f64::consts::TAU)?;
        }
        ctx.set_fill_style_str(&css(colour));
        ctx.fill();
        ctx.stroke();
    }
    Ok(())
}

/// Draws a small dataset thumbnail (points only).
pub fn thumbnail(canvas: &HtmlCanvasElement, points: &[Sample], task: Task) -> Result<(), JsValue> {
    let ctx = context(canvas)?;
    let (w, h) = (canvas.width() as f64, canvas.height() as f64);
    ctx.set_fill_style_str("#f4f5f7");
    ctx.fill_rect(0.0, 0.0, w, h);
    let d = DOMAIN as f64;
    for p in points {
        ctx.set_fill_style_str(&css(point_colour(p, task)));
        let px = (p.x as f64 + d) / (2.0 * d) * w;
        let py = (d - p.y as f64) / (2.0 * d) * h;
        ctx.fill_rect(px - 1.5, py - 1.5, 3.0, 3.0);
    }
    Ok(())
}

/// Where a unit sits in the diagram and how visible it is (for growth animations).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Placed {
    /// Centre x.
    pub x: f64,
    /// Centre y.
    pub y: f64,
    /// 0 (invisible) to 1.
    pub alpha: f64,
}

/// One link at `opacity`: its width by |w| ([`crate::chart::edge_width`]), blue for a positive
/// weight and orange for a negative one.
fn link(ctx: &CanvasRenderingContext2d, edge: &Edge, opacity: f64) {
    let (from, to) = (edge.a, edge.b);
    let c = diverging((edge.weight as f64).clamp(-1.0, 1.0).signum() as f32 * 0.9);
    ctx.set_global_alpha(opacity);
    ctx.set_stroke_style_str(&css(c));
    ctx.set_line_width(crate::chart::edge_width(edge.weight));
    ctx.begin_path();
    ctx.move_to(from.0, from.1);
    let mid = (from.0 + to.0) / 2.0;
    ctx.bezier_curve_to(mid, from.1, mid, to.1, to.0, to.1);
    ctx.stroke();
}

/// Draws the network: links (`edges`, from `chart::edges`: width by |w|, colour by sign; the
/// hovered one, `hovered`, ringed), unit squares with thumbnails of each unit's output over
/// the plane and its number, the stream columns after residual blocks, the candidates of a
/// growth in progress (faint, dashed), and a highlight ring around the inspected node.
#[allow(clippy::too_many_arguments)]
pub fn network(
    canvas: &HtmlCanvasElement,
    thumbs: &HtmlCanvasElement,
    snapshot: &Snapshot,
    placed: &HashMap<UnitId, Placed>,
    layout: &Layout,
    edges: &[Edge],
    hovered: Option<usize>,
    inspected: Option<Node>,
    candidates: &[PendingCandidate],
) -> Result<(), JsValue> {
    let (ctx, _, _) = cleared(canvas)?;
    let net = &snapshot.network;
    let size = layout.size;
    let pos = |id: &UnitId| {
        placed.get(id).copied().unwrap_or(Placed {
            x: 0.0,
            y: 0.0,
            alpha: 0.0,
        })
    };
    // Links: each fades in with the unit it belongs to while a growth is animated.
    for edge in edges {
        let alpha = edge.fades_with.map_or(1.0, |id| pos(&id).alpha);
        link(&ctx, edge, alpha * 0.85);
    }
    // The identity of each residual block: dashed from the stream it reads to the one after.
    let mut stream: Vec<(f64, f64)> = layout.columns[0].clone();
    let mut col = 1;
    for block in &net.blocks {
        col += 1;
        match (block.kind, &block.fan_out) {
            (BlockKind::Residual, Some(_)) => {
                let next = layout.columns.get(col).cloned().unwrap_or_default();
                ctx.set_global_alpha(0.5);
                ctx.set_stroke_style_str("#9aa3ab");
                ctx.set_line_width(1.0);
                let _ = ctx.set_line_dash(&js_sys::Array::of2(&4.0.into(), &4.0.into()));
                for (s, n) in stream.iter().zip(&next) {
                    ctx.begin_path();
                    ctx.move_to(s.0, s.1);
                    ctx.line_to(n.0, n.1);
                    ctx.stroke();
                }
                let _ = ctx.set_line_dash(&js_sys::Array::new());
                stream = next;
                col += 1;
            }
            _ => {
                stream = block
                    .unit_ids
                    .iter()
                    .map(|id| {
                        let p = pos(id);
                        (p.x, p.y)
                    })
                    .collect()
            }
        }
    }
    // The hovered link over the others: ringed in the highlight colour, then drawn again.
    if let Some(edge) = hovered.and_then(|i| edges.get(i)) {
        let (from, to) = (edge.a, edge.b);
        let mid = (from.0 + to.0) / 2.0;
        ctx.set_global_alpha(1.0);
        ctx.set_stroke_style_str("#ffbf47");
        ctx.set_line_width(crate::chart::edge_width(edge.weight) + 4.0);
        ctx.begin_path();
        ctx.move_to(from.0, from.1);
        ctx.bezier_curve_to(mid, from.1, mid, to.1, to.0, to.1);
        ctx.stroke();
        link(&ctx, edge, 1.0);
    }
    ctx.set_global_alpha(1.0);
    // Layer numbers above the hidden layers' columns, as "Why these units" names the layers.
    ctx.set_fill_style_str("#5f6b76");
    ctx.set_font(&format!(
        "{}px system-ui, sans-serif",
        crate::chart::LAYER_FONT
    ));
    ctx.set_text_align("center");
    for label in &layout.layer_labels {
        let _ = ctx.fill_text(&label.text, label.x, crate::chart::LABEL_BAND - 4.0);
    }
    ctx.set_text_align("left");
    // Inputs, stream dots and outputs.
    ctx.set_font(&format!(
        "{}px system-ui, sans-serif",
        crate::chart::INPUT_FONT
    ));
    ctx.set_text_align("right");
    for (p, name) in layout.columns[0].iter().zip(&layout.input_labels) {
        ctx.fill_rect(p.0 - size / 2.0, p.1 - size / 2.0, size, size);
        let _ = ctx.fill_text(name, p.0 - size / 2.0 - 3.0, p.1 + 4.0);
    }
    ctx.set_text_align("left");
    for column in &layout.columns[1..layout.columns.len() - 1] {
        if column
            .iter()
            .all(|p| !layout.units.values().any(|u| u == p))
        {
            for p in column {
                ctx.begin_path();
                let _ = ctx.arc(p.0, p.1, 3.0f64.min(size / 2.0), 0.0, std::f64::consts::TAU);
                ctx.fill();
            }
        }
    }
    if let Some(outputs) = layout.columns.last() {
        for p in outputs {
            ctx.set_fill_style_str(MAIN);
            ctx.fill_rect(p.0 - size / 3.0, p.1 - size / 3.0, size / 1.5, size / 1.5);
        }
    }
    // Units with thumbnails, cut from one image of them all.
    let res = snapshot.thumb_resolution;
    let atlas = thumbnail_atlas(thumbs, snapshot).is_ok();
    ctx.set_image_smoothing_enabled(false);
    let mut unit = 0;
    for block in &net.blocks {
        for id in &block.unit_ids {
            let p = pos(id);
            let column = unit;
            unit += 1;
            if p.alpha <= 0.01 {
                continue;
            }
            ctx.set_global_alpha(p.alpha);
            let (x0, y0) = (p.x - size / 2.0, p.y - size / 2.0);
            if atlas {
                let r = res as f64;
                let _ = ctx
                    .draw_image_with_html_canvas_element_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
                        thumbs,
                        column as f64 * r,
                        0.0,
                        r,
                        r,
                        x0,
                        y0,
                        size,
                        size,
                    );
            }
            ctx.set_stroke_style_str(if block.kind == BlockKind::Residual {
                "#2ea043"
            } else {
                "#1f2328"
            });
            ctx.set_line_width(1.0);
            ctx.stroke_rect(x0, y0, size, size);
            // The unit's number, left of it, as the candidate list and the unit card name it
            // (left out where the columns are too close for it: the card still names it).
            if layout.number_font > 0.0 {
                ctx.set_fill_style_str("#1f2328");
                ctx.set_font(&format!(
                    "{:.0}px system-ui, sans-serif",
                    layout.number_font
                ));
                ctx.set_text_align("right");
                let _ = ctx.fill_text(&id.to_string(), x0 - 3.0, p.y + layout.number_font * 0.35);
                ctx.set_text_align("left");
            }
        }
    }
    ctx.set_global_alpha(1.0);
    draw_candidates(&ctx, layout, placed, net, candidates);
    if let Some(node) = inspected
        && let Some((_, (x, y))) = layout.nodes().into_iter().find(|(n, _)| *n == node)
    {
        let (x, y) = match node {
            Node::Unit(id) => placed.get(&id).map_or((x, y), |p| (p.x, p.y)),
            _ => (x, y),
        };
        ctx.set_stroke_style_str("#ffbf47");
        ctx.set_line_width(3.0);
        ctx.stroke_rect(
            x - size / 2.0 - 3.0,
            y - size / 2.0 - 3.0,
            size + 6.0,
            size + 6.0,
        );
    }
    Ok(())
}

/// Every unit's thumbnail side by side in `atlas` (unit `u`, in block order, at x = `u`·res):
/// one `putImageData` a frame instead of a rectangle per cell.
fn thumbnail_atlas(atlas: &HtmlCanvasElement, snapshot: &Snapshot) -> Result<(), JsValue> {
    let res = snapshot.thumb_resolution.max(1);
    let n = snapshot.network.n_units().max(1);
    let (w, h) = ((res * n) as u32, res as u32);
    if atlas.width() != w {
        atlas.set_width(w);
    }
    if atlas.height() != h {
        atlas.set_height(h);
    }
    let mut pixels = vec![255u8; (w * h * 4) as usize];
    let mut unit = 0;
    for (b, block) in snapshot.network.blocks.iter().enumerate() {
        let m = block.n_units();
        let acts = snapshot.units.get(b);
        for j in 0..m {
            for r in 0..res {
                for c in 0..res {
                    let v = acts
                        .and_then(|a| a.get((r * res + c) * m + j))
                        .copied()
                        .unwrap_or(0.0);
                    let rgb = diverging(v.clamp(-1.0, 1.0));
                    let at = ((r * res * n) + unit * res + c) * 4;
                    pixels[at..at + 3].copy_from_slice(&rgb);
                }
            }
            unit += 1;
        }
    }
    let image = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&pixels), w, h)?;
    context(atlas)?.put_image_data(&image, 0.0, 0.0)
}

/// The candidates of a growth in progress, faint and dashed: a twin behind every unit that may
/// split, the m′ candidate new units under each layer, a candidate layer after each layer.
fn draw_candidates(
    ctx: &CanvasRenderingContext2d,
    layout: &Layout,
    placed: &HashMap<UnitId, Placed>,
    net: &Mlp,
    candidates: &[PendingCandidate],
) {
    if candidates.is_empty() {
        return;
    }
    let size = layout.size;
    ctx.set_global_alpha(0.7);
    ctx.set_stroke_style_str(MAIN);
    ctx.set_line_width(1.0);
    let _ = ctx.set_line_dash(&js_sys::Array::of2(&3.0.into(), &3.0.into()));
    ctx.set_font("10px system-ui, sans-serif");
    ctx.set_fill_style_str(MAIN);
    let mut new_per_block: BTreeMap<(usize, bool), usize> = BTreeMap::new();
    for c in candidates {
        match c.kind {
            CandidateKind::Split => {
                if let Some(p) = c.unit_id.and_then(|id| placed.get(&id)) {
                    ctx.stroke_rect(p.x - size / 2.0 + 5.0, p.y - size / 2.0 + 5.0, size, size);
                }
            }
            CandidateKind::New => *new_per_block.entry((c.block, false)).or_default() += 1,
            CandidateKind::Layer => *new_per_block.entry((c.block, true)).or_default() += 1,
        }
    }
    for ((block, layer), count) in new_per_block {
        let Some(first) = net.blocks.get(block).and_then(|b| b.unit_ids.first()) else {
            continue;
        };
        let Some(p) = placed.get(first) else {
            continue;
        };
        // A column of faint squares right of the layer (at most 6 drawn), over a count.
        let top = net.blocks[block]
            .unit_ids
            .iter()
            .filter_map(|id| placed.get(id))
            .map(|q| q.y)
            .fold(p.y, f64::min);
        let x = p.x + size * if layer { 2.8 } else { 1.6 };
        let small = size * 0.6;
        for j in 0..count.min(6) {
            let y = top + j as f64 * (small + 3.0);
            ctx.stroke_rect(x - small / 2.0, y - small / 2.0, small, small);
        }
        let label = if layer {
            format!("{count} in a new layer?")
        } else {
            format!("{count} new?")
        };
        // Under the column (the layer numbers are above), the new layer's count a line lower
        // than the new units' beside it, so the two never overprint.
        let shown = count.min(6) as f64;
        let under = top + shown * (small + 3.0) + if layer { 20.0 } else { 8.0 };
        let bottom = canvas_height(ctx) - 2.0;
        ctx.set_text_align("center");
        let _ = ctx.fill_text(
            &label,
            x,
            under.min(bottom - if layer { 0.0 } else { 12.0 }),
        );
        ctx.set_text_align("left");
    }
    let _ = ctx.set_line_dash(&js_sys::Array::new());
    ctx.set_global_alpha(1.0);
}

/// The height of the canvas a context draws on (0 when it has none).
fn canvas_height(ctx: &CanvasRenderingContext2d) -> f64 {
    ctx.canvas().map_or(0.0, |c| c.height() as f64)
}

/// The canvas's context, cleared, and its size.
pub fn cleared(
    canvas: &HtmlCanvasElement,
) -> Result<(CanvasRenderingContext2d, f64, f64), JsValue> {
    let ctx = context(canvas)?;
    let (w, h) = (canvas.width() as f64, canvas.height() as f64);
    ctx.clear_rect(0.0, 0.0, w, h);
    Ok((ctx, w, h))
}
