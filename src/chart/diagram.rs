//! The network diagram's geometry: where the inputs, units, pass-through streams and outputs
//! go on a canvas (spacing that scales with depth, unit numbers and layer labels that never
//! overlap, room for the inputs' names), every weight as an edge between the nodes it joins,
//! its width, the edge under the pointer and its hover text.

use std::collections::HashMap;

use super::significant;
use crate::model::{BlockKind, Mlp, UnitId};

/// A node of the diagram: an input, a hidden unit or an output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    /// Input coordinate `i` (0: x₁, 1: x₂).
    Input(usize),
    /// A hidden unit.
    Unit(UnitId),
    /// Output `k`.
    Output(usize),
}

/// A label above a hidden layer's column.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerLabel {
    /// Centre x of the text.
    pub x: f64,
    /// The text: the layer's number, with the word "layer" where there is room.
    pub text: String,
}

/// Where everything of the diagram goes on a canvas.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// Hidden units by identity.
    pub units: HashMap<UnitId, (f64, f64)>,
    /// Columns in drawing order: each a list of node centres (inputs, units, streams, outputs).
    pub columns: Vec<Vec<(f64, f64)>>,
    /// Side of a unit square.
    pub size: f64,
    /// Font size of the unit numbers, in pixels; 0 when the columns are too close for them
    /// (the unit card still names every unit).
    pub number_font: f64,
    /// Labels above the hidden layers, left to right, none overlapping.
    pub layer_labels: Vec<LayerLabel>,
    /// The inputs' names, drawn left of their squares (x₁, x₂, or the input features).
    pub input_labels: Vec<String>,
}

impl Layout {
    /// Every node with its centre: inputs, hidden units, outputs.
    pub fn nodes(&self) -> Vec<(Node, (f64, f64))> {
        let mut out: Vec<(Node, (f64, f64))> = self
            .columns
            .first()
            .map(|c| {
                c.iter()
                    .enumerate()
                    .map(|(i, p)| (Node::Input(i), *p))
                    .collect()
            })
            .unwrap_or_default();
        out.extend(self.units.iter().map(|(id, p)| (Node::Unit(*id), *p)));
        if let Some(last) = self.columns.last() {
            out.extend(last.iter().enumerate().map(|(k, p)| (Node::Output(k), *p)));
        }
        out
    }
}

/// Estimated width of `text` at `font` pixels (system sans-serif averages under 0.6 em a
/// character; digits are 0.55 em).
pub fn text_width(text: &str, font: f64) -> f64 {
    text.chars().count() as f64 * font * 0.6
}

/// Height of the band above the nodes that holds the layer labels.
pub const LABEL_BAND: f64 = 16.0;
/// Font size of the layer labels.
pub const LAYER_FONT: f64 = 10.0;
/// Left margin: room for the inputs' names (x₁, x₂) left of the input squares.
const LEFT_MARGIN: f64 = 22.0;
/// Distance from a column to the stream column after it (dots only, no numbers), relative to
/// the distance before a column of units (which holds the units' numbers).
const STREAM_GAP: f64 = 0.5;

/// What a column of the diagram holds.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Column {
    Inputs,
    Units,
    Stream,
    Outputs,
}

/// Lays the network out in columns on a `w`×`h` canvas: inputs, then per block its units (and,
/// after a residual block, the updated stream), then the outputs. The spacing scales with depth
/// and width: unit squares shrink so that neighbouring columns never touch, unit numbers are
/// dropped when they would run into the column before, and layer labels shorten to their
/// number (or are skipped) rather than overlap.
pub fn layout(net: &Mlp, w: f64, h: f64) -> Layout {
    layout_labelled(net, w, h, (0..net.n_inputs).map(input_name).collect())
}

/// Font size of the inputs' names.
pub const INPUT_FONT: f64 = 11.0;

/// [`layout`] with the inputs named `input_labels` (the input features): the left margin grows
/// to fit the longest name.
pub fn layout_labelled(net: &Mlp, w: f64, h: f64, input_labels: Vec<String>) -> Layout {
    let margin = input_labels
        .iter()
        .map(|l| text_width(l, INPUT_FONT) + 6.0)
        .fold(LEFT_MARGIN, f64::max);
    let mut kinds = vec![(Column::Inputs, net.n_inputs)];
    for block in &net.blocks {
        kinds.push((Column::Units, block.n_units()));
        if block.kind == BlockKind::Residual {
            kinds.push((Column::Stream, block.d_out()));
        }
    }
    kinds.push((Column::Outputs, net.out_bias.len()));
    // Distances between neighbouring columns, in units of `gap`.
    let steps: Vec<f64> = kinds
        .windows(2)
        .map(|pair| match (pair[0].0, pair[1].0) {
            // Before a column of units: room for their numbers.
            (_, Column::Units) => 1.0,
            (Column::Units, Column::Stream) => STREAM_GAP,
            (Column::Stream, Column::Outputs) => 0.6,
            _ => 1.0,
        })
        .collect();
    let total: f64 = steps.iter().sum::<f64>().max(1.0);
    let max_count = kinds.iter().map(|k| k.1).max().unwrap_or(1).max(1) as f64;
    let top = LABEL_BAND + 2.0;
    let bottom = h - 4.0;
    let by_height = (bottom - top) / (max_count * 1.35);
    // A first guess of the gap for the size, then the margins that size needs.
    let rough_gap = (w - margin - 20.0) / total;
    let size = by_height.min(rough_gap * 0.4).clamp(2.0, 28.0);
    let left = margin + size / 2.0;
    let right = w - size / 2.0 - 6.0;
    let gap = ((right - left) / total).max(0.0);
    let mut xs = vec![left];
    for s in &steps {
        let x = xs.last().copied().unwrap_or(left) + s * gap;
        xs.push(x);
    }
    // Named nodes (inputs, outputs) keep room for a line of text between them, however small a
    // wide layer makes the squares.
    let spread = |n: usize, x: f64, named: bool| -> Vec<(f64, f64)> {
        let room = (bottom - top) / n.max(1) as f64;
        let least = if named { INPUT_FONT + 3.0 } else { 0.0 };
        let pitch = room.min(size * 1.6).max(least.min(room));
        let centre = (top + bottom) / 2.0;
        let first = centre - pitch * (n as f64 - 1.0) / 2.0;
        (0..n).map(|i| (x, first + pitch * i as f64)).collect()
    };
    let columns: Vec<Vec<(f64, f64)>> = kinds
        .iter()
        .zip(&xs)
        .map(|((kind, n), x)| spread(*n, *x, matches!(kind, Column::Inputs | Column::Outputs)))
        .collect();
    let mut units = HashMap::new();
    let mut unit_columns = Vec::new();
    let mut c = 1;
    for block in &net.blocks {
        if let Some(column) = columns.get(c) {
            for (id, p) in block.unit_ids.iter().zip(column) {
                units.insert(*id, *p);
            }
            unit_columns.push((c, block));
        }
        c += if block.kind == BlockKind::Residual {
            2
        } else {
            1
        };
    }
    // Unit numbers sit left of their squares: they need the room between the column before
    // (its half width) and this one.
    let half = |k: Column| if k == Column::Stream { 3.0 } else { size / 2.0 };
    let font = (size * 0.8).clamp(7.0, 11.0);
    let fits = unit_columns.iter().all(|(c, block)| {
        let widest = block
            .unit_ids
            .iter()
            .map(|id| text_width(&id.to_string(), font))
            .fold(0.0, f64::max);
        let room = xs[*c] - xs[*c - 1] - half(kinds[*c - 1].0) - size / 2.0;
        room >= widest + 5.0
    });
    let number_font = if fits && size >= 5.0 { font } else { 0.0 };
    let mut layer_labels: Vec<LayerLabel> = Vec::new();
    let mut right_edge = f64::NEG_INFINITY;
    let words = unit_columns.iter().all(|(c, _)| {
        let text = format!("layer {}", unit_columns.len());
        let room = unit_columns
            .iter()
            .map(|(o, _)| (xs[*o] - xs[*c]).abs())
            .filter(|d| *d > 0.0)
            .fold(f64::INFINITY, f64::min);
        text_width(&text, LAYER_FONT) + 6.0 <= room
    });
    for (i, (c, _)) in unit_columns.iter().enumerate() {
        let text = if words {
            format!("layer {}", i + 1)
        } else {
            (i + 1).to_string()
        };
        let width = text_width(&text, LAYER_FONT);
        let x = xs[*c];
        if x - width / 2.0 >= (right_edge + 4.0).max(0.0) && x + width / 2.0 <= w {
            right_edge = x + width / 2.0;
            layer_labels.push(LayerLabel { x, text });
        }
    }
    Layout {
        units,
        columns,
        size,
        number_font,
        layer_labels,
        input_labels,
    }
}

// ---------------------------------------------------------------------------------------------
// The diagram's edges: one per weight, where it runs, how thick it is drawn, which one the
// pointer is on and what its hover text says.

/// One end of a diagram edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Input `i`.
    Input(usize),
    /// Hidden unit `id` of layer `layer` (the block's index, from 0).
    Unit {
        /// The unit.
        id: UnitId,
        /// Its block's index.
        layer: usize,
    },
    /// Position `index` of the stream after the residual layer `layer` (a pass-through dot).
    Stream {
        /// The residual block's index.
        layer: usize,
        /// The position in the stream, from 0.
        index: usize,
    },
    /// Output `k`.
    Output(usize),
}

/// One weight of the network as the diagram draws it: a curve from `a` to `b` (see
/// [`edge_path`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Edge {
    /// Where the weight reads from.
    pub from: End,
    /// Where it adds to.
    pub to: End,
    /// The weight.
    pub weight: f32,
    /// The curve's start (the `from` node's centre).
    pub a: (f64, f64),
    /// The curve's end (the `to` node's centre).
    pub b: (f64, f64),
    /// The hidden unit the edge fades in with while that unit appears (the unit it feeds for
    /// input weights, the unit it leaves for a residual layer's weights back into the stream;
    /// none for the output weights).
    pub fades_with: Option<UnitId>,
}

/// The most edges drawn for one weight matrix: a wider one shows its strongest weights (every
/// network of up to 32 units a layer draws all of its weights).
pub const MAX_EDGES_PER_MATRIX: usize = 1024;

/// The smallest |weight| of `m` that is drawn: 0 when all of them are (at most
/// [`MAX_EDGES_PER_MATRIX`]), else the largest magnitude that still leaves that many.
fn drawn_from(m: &crate::model::Matrix) -> f32 {
    let n = m.rows * m.cols;
    if n <= MAX_EDGES_PER_MATRIX {
        return 0.0;
    }
    let mut magnitudes: Vec<f32> = (0..m.rows)
        .flat_map(|i| (0..m.cols).map(move |j| (i, j)))
        .map(|(i, j)| m.get(i, j).abs())
        .map(|w| if w.is_finite() { w } else { 0.0 })
        .collect();
    let k = n - MAX_EDGES_PER_MATRIX;
    let (_, at, _) = magnitudes.select_nth_unstable_by(k, f32::total_cmp);
    *at
}

/// Every weight of `net` as an edge between the nodes of `layout`, in drawing order: each
/// block's input weights (stream position `i` to unit `j`), a residual block's weights back
/// into the stream, then the output weights; of a matrix with more than
/// [`MAX_EDGES_PER_MATRIX`] weights, its strongest (ties at the smallest kept magnitude may add
/// a few). A hidden unit sits where `moved` says (a growth animation) or else where the layout
/// puts it.
pub fn edges(net: &Mlp, layout: &Layout, moved: &HashMap<UnitId, (f64, f64)>) -> Vec<Edge> {
    let at = |id: &UnitId| {
        moved
            .get(id)
            .or_else(|| layout.units.get(id))
            .copied()
            .unwrap_or((0.0, 0.0))
    };
    let mut out = Vec::new();
    let mut stream: Vec<(End, (f64, f64))> = layout
        .columns
        .first()
        .map(|c| {
            c.iter()
                .enumerate()
                .map(|(i, p)| (End::Input(i), *p))
                .collect()
        })
        .unwrap_or_default();
    let mut col = 1;
    for (layer, block) in net.blocks.iter().enumerate() {
        let units: Vec<(End, (f64, f64))> = block
            .unit_ids
            .iter()
            .map(|id| (End::Unit { id: *id, layer }, at(id)))
            .collect();
        let least = drawn_from(&block.fan_in);
        for (j, (to, b)) in units.iter().enumerate().take(block.n_units()) {
            for (i, (from, a)) in stream.iter().enumerate().take(block.d_in()) {
                if block.fan_in.get(i, j).abs() < least {
                    continue;
                }
                out.push(Edge {
                    from: *from,
                    to: *to,
                    weight: block.fan_in.get(i, j),
                    a: *a,
                    b: *b,
                    fades_with: block.unit_ids.get(j).copied(),
                });
            }
        }
        col += 1;
        match (block.kind, &block.fan_out) {
            (BlockKind::Residual, Some(fan_out)) => {
                let next: Vec<(End, (f64, f64))> = layout
                    .columns
                    .get(col)
                    .map(|c| {
                        c.iter()
                            .enumerate()
                            .map(|(index, p)| (End::Stream { layer, index }, *p))
                            .collect()
                    })
                    .unwrap_or_default();
                let least = drawn_from(fan_out);
                for (j, (from, a)) in units.iter().enumerate().take(fan_out.rows) {
                    for (k, (to, b)) in next.iter().enumerate().take(fan_out.cols) {
                        if fan_out.get(j, k).abs() < least {
                            continue;
                        }
                        out.push(Edge {
                            from: *from,
                            to: *to,
                            weight: fan_out.get(j, k),
                            a: *a,
                            b: *b,
                            fades_with: block.unit_ids.get(j).copied(),
                        });
                    }
                }
                stream = next;
                col += 1;
            }
            _ => stream = units,
        }
    }
    if let Some(outputs) = layout.columns.last() {
        let least = drawn_from(&net.out_weight);
        for (k, b) in outputs.iter().enumerate().take(net.out_weight.cols) {
            for (i, (from, a)) in stream.iter().enumerate().take(net.out_weight.rows) {
                if net.out_weight.get(i, k).abs() < least {
                    continue;
                }
                out.push(Edge {
                    from: *from,
                    to: End::Output(k),
                    weight: net.out_weight.get(i, k),
                    a: *a,
                    b: *b,
                    fades_with: None,
                });
            }
        }
    }
    out
}

/// The width an edge is drawn at, as TensorFlow Playground draws its links: growing with
/// |weight| (2 px per unit of weight), from a hairline of 0.4 px so that a zero weight still
/// shows, to 6 px from |w| = 3 on; a weight that is not finite is a hairline.
pub fn edge_width(weight: f32) -> f64 {
    let w = f64::from(weight).abs();
    if w.is_finite() {
        (w * 2.0).clamp(0.4, 6.0)
    } else {
        0.4
    }
}

/// Straight pieces an edge's curve is measured in ([`edge_path`]); the drawn curve strays
/// from them by well under a pixel at the diagram's sizes.
pub const EDGE_PIECES: usize = 16;

/// The points of the curve the diagram draws from `a` to `b`: the cubic Bézier that leaves
/// `a` and enters `b` horizontally (control points at the middle x, at `a`'s and at `b`'s
/// height), sampled at [`EDGE_PIECES`] + 1 evenly spaced parameters. By symmetry its
/// midpoint is the midpoint of `a` and `b`.
pub fn edge_path(a: (f64, f64), b: (f64, f64)) -> Vec<(f64, f64)> {
    let mid = (a.0 + b.0) / 2.0;
    let c1 = (mid, a.1);
    let c2 = (mid, b.1);
    (0..=EDGE_PIECES)
        .map(|i| {
            let t = i as f64 / EDGE_PIECES as f64;
            let u = 1.0 - t;
            let (k0, k1, k2, k3) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
            (
                k0 * a.0 + k1 * c1.0 + k2 * c2.0 + k3 * b.0,
                k0 * a.1 + k1 * c1.1 + k2 * c2.1 + k3 * b.1,
            )
        })
        .collect()
}

/// The distance from `p` to the segment from `a` to `b`.
pub fn segment_distance(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let length2 = dx * dx + dy * dy;
    let t = if length2 > 0.0 {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / length2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (x, y) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - x).powi(2) + (p.1 - y).powi(2)).sqrt()
}

/// How far from an edge's drawn stroke the pointer may be and still be on it, in pixels.
pub const EDGE_REACH: f64 = 4.0;

/// The edge under the pointer at `p`: the nearest one whose drawn stroke (half its
/// [`edge_width`] either side of its curve) is within `reach` pixels, and of strokes that all
/// cover `p` the one whose curve is nearest; `None` when none is in reach.
/// Edges whose box (grown by the reach and their width) does not hold `p` are not measured.
pub fn edge_at(edges: &[Edge], p: (f64, f64), reach: f64) -> Option<usize> {
    let mut best: Option<(usize, (f64, f64))> = None;
    for (i, e) in edges.iter().enumerate() {
        let half = edge_width(e.weight) / 2.0;
        let margin = reach + half;
        let (x0, x1) = (e.a.0.min(e.b.0) - margin, e.a.0.max(e.b.0) + margin);
        let (y0, y1) = (e.a.1.min(e.b.1) - margin, e.a.1.max(e.b.1) + margin);
        if p.0 < x0 || p.0 > x1 || p.1 < y0 || p.1 > y1 {
            continue;
        }
        let path = edge_path(e.a, e.b);
        let d = path
            .windows(2)
            .map(|s| segment_distance(p, s[0], s[1]))
            .fold(f64::INFINITY, f64::min);
        let off = (d - half).max(0.0);
        if off <= reach && best.is_none_or(|(_, b)| (off, d) < b) {
            best = Some((i, (off, d)));
        }
    }
    best.map(|(i, _)| i)
}

/// An input's name as the diagram labels it: x₁, x₂, …
pub fn input_name(i: usize) -> String {
    const SUB: [char; 10] = ['₀', '₁', '₂', '₃', '₄', '₅', '₆', '₇', '₈', '₉'];
    let digits: String = (i + 1)
        .to_string()
        .chars()
        .filter_map(|c| c.to_digit(10).and_then(|d| SUB.get(d as usize)))
        .collect();
    format!("x{digits}")
}

fn end_name(end: End, inputs: &[String]) -> String {
    match end {
        End::Input(i) => format!(
            "input {}",
            inputs.get(i).cloned().unwrap_or_else(|| input_name(i))
        ),
        End::Unit { id, layer } => format!("unit {id} (layer {})", layer + 1),
        End::Stream { layer, index } => {
            format!("pass-through {} (after layer {})", index + 1, layer + 1)
        }
        End::Output(k) => format!("output {}", k + 1),
    }
}

/// What hovering an edge shows: its weight with three significant digits ([`significant`])
/// and the nodes it joins as the diagram numbers them, e.g. "weight 0.713 from unit 3
/// (layer 1) to unit 2 (layer 2)"; inputs by the names in `inputs` (x₁ … where it is short).
pub fn edge_text(edge: &Edge, inputs: &[String]) -> String {
    format!(
        "weight {} from {} to {}",
        significant(f64::from(edge.weight), 3),
        end_name(edge.from, inputs),
        end_name(edge.to, inputs)
    )
}

/// An edge a pointer can be put on without touching anything else: of the 32 heaviest edges,
/// the heaviest whose midpoint lies outside every node's square (grown by the reach) and for
/// which [`edge_at`] finds that edge at the midpoint and at every point within 2 px of it
/// (a pointer's position arrives in whole CSS pixels); `None` when none of them does. The
/// page names it (`data-edge-probe` on the diagram) so that a test can hover an edge it knows.
pub fn clear_edge(edges: &[Edge], layout: &Layout, reach: f64) -> Option<usize> {
    let half = layout.size / 2.0 + reach;
    let nodes = layout.nodes();
    let mut order: Vec<usize> = (0..edges.len()).collect();
    order.sort_by(|&i, &j| {
        let (wi, wj) = (edges[i].weight.abs(), edges[j].weight.abs());
        wj.total_cmp(&wi)
    });
    order.into_iter().take(32).find(|&i| {
        let e = &edges[i];
        let m = ((e.a.0 + e.b.0) / 2.0, (e.a.1 + e.b.1) / 2.0);
        let on_node = nodes
            .iter()
            .any(|(_, (x, y))| (m.0 - x).abs() <= half && (m.1 - y).abs() <= half);
        !on_node
            && edge_at(edges, m, reach) == Some(i)
            && (-2..=2).all(|dx| {
                (-2..=2).all(|dy| {
                    let p = (m.0 + f64::from(dx), m.1 + f64::from(dy));
                    edge_at(edges, p, reach) == Some(i)
                })
            })
    })
}
