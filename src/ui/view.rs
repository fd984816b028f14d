//! The view: the page's elements and everything drawn from the playground's state once per
//! frame — both decision maps, the network diagram (with growth animations and the unit card),
//! the candidate ranking, the curves, Figure 3, the notices and the `data-*` attributes of
//! `#app`. It reads engine snapshots and histories and never does maths.

use std::collections::HashMap;

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, HtmlCanvasElement, HtmlElement};

use super::charts;
use super::controls;
use super::device::Backend;
use super::dom::{self, by_id, now, set_attr, set_hidden, set_text};
use super::draw::{self, DecisionMap, Edge, Layout, Node, Placed};
use crate::chart::{self, EDGE_REACH, End};
use crate::features::Feature;
use crate::grow::CandidateKind;
use crate::model::{BlockKind, UnitId};
use crate::playground::{Held, Level, Playground, candidate_name};
use crate::settings::method_label;
use crate::train::{GrowthStage, Session, Snapshot, Stage};

/// Resolution of the decision maps (TensorFlow Playground's 100×100).
pub const MAP_RESOLUTION: usize = 100;
/// Resolution of each unit's thumbnail.
pub const THUMB_RESOLUTION: usize = 10;
const ANIMATION_MS: f64 = 1500.0;

struct Animation {
    started: f64,
    from: HashMap<UnitId, Placed>,
}

/// The page's elements the view writes to.
pub struct Ui {
    root: Element,
    play: HtmlElement,
    epoch: Element,
    badge: Element,
    backend_note: HtmlElement,
    notices: HtmlElement,
    explain: HtmlElement,
    look_for: Element,
    /// The colour key under the maps.
    legend: Element,
    main_map: DecisionMap,
    baseline_map: DecisionMap,
    /// The loss line under each map.
    main_loss: Element,
    baseline_loss: Element,
    network: HtmlCanvasElement,
    /// Off the page: every unit's thumbnail in one image.
    thumbs: HtmlCanvasElement,
    unit_card: HtmlElement,
    curves: HtmlCanvasElement,
    accuracy: HtmlCanvasElement,
    figure3: HtmlCanvasElement,
    progress: Element,
    why: Element,
    why_summary: Element,
    timings: Element,
    metrics: Element,
    main_name: Element,
    baseline_name: Element,
    main_arch: Element,
    baseline_arch: Element,
    /// The shortcut sheet.
    pub shortcuts: HtmlElement,
}

impl Ui {
    /// Finds every element by id.
    pub fn find() -> Result<Self, JsValue> {
        Ok(Ui {
            root: by_id("app")?,
            play: by_id("play")?,
            epoch: by_id("epoch-out")?,
            badge: by_id("backend-badge")?,
            backend_note: backend_note()?,
            notices: by_id("notices")?,
            explain: by_id("explain")?,
            look_for: by_id("look-for")?,
            legend: by_id("legend")?,
            main_map: DecisionMap::new(by_id("heatmap")?)?,
            baseline_map: DecisionMap::new(by_id("baseline-heatmap")?)?,
            main_loss: by_id("main-loss")?,
            baseline_loss: by_id("baseline-loss")?,
            network: by_id("network")?,
            thumbs: draw::new_canvas()?,
            unit_card: by_id("unit-card")?,
            curves: by_id("curves")?,
            accuracy: by_id("accuracy")?,
            figure3: by_id("figure3")?,
            progress: by_id("progress")?,
            why: by_id("why")?,
            why_summary: by_id("why-summary")?,
            timings: by_id("timings")?,
            metrics: by_id("metrics")?,
            main_name: by_id("main-name")?,
            baseline_name: by_id("baseline-name")?,
            main_arch: by_id("main-arch")?,
            baseline_arch: by_id("baseline-arch")?,
            shortcuts: by_id("shortcuts")?,
        })
    }

    /// The main decision map (click target for points).
    pub fn main_map(&self) -> &DecisionMap {
        &self.main_map
    }

    /// The network canvas.
    pub fn network(&self) -> &HtmlCanvasElement {
        &self.network
    }

    /// Shows a fatal error in the page (the playground could not start, or a panic).
    pub fn show_fatal(&self, message: &str) {
        set_attr(&self.root, "data-state", "error");
        set_attr(&self.root, "data-error", message);
        self.notices.set_inner_html("");
        if let Ok(document) = dom::document()
            && let Ok(li) = document.create_element("li")
        {
            li.set_class_name("error");
            li.set_text_content(Some(message));
            let _ = self.notices.append_child(&li);
        }
    }
}

/// The backend note, its close button bound once: × hides it until the next note (a new
/// backend after a lost GPU shows one again).
fn backend_note() -> Result<HtmlElement, JsValue> {
    let note: HtmlElement = by_id("backend-note")?;
    if note.get_attribute("data-bound").is_none() {
        set_attr(&note, "data-bound", "1");
        if let Some(button) = note.query_selector(".dismiss")? {
            let target = note.clone();
            dom::listen(&button, "click", move |_: web_sys::Event| {
                set_hidden(&target, true);
            })?;
        }
    }
    Ok(note)
}

/// What the person inspects on the diagram: the last of hover and keyboard wins.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Inspect {
    hovered: Option<Node>,
    /// The edge under the pointer (by the nodes it joins), when no node is.
    edge: Option<(End, End)>,
    focused: Option<Node>,
}

/// The view's own state: snapshots, animation, inspection.
pub struct View {
    /// The elements.
    pub ui: Ui,
    backend: Backend,
    snap_main: Option<Snapshot>,
    snap_baseline: Option<Snapshot>,
    placed: HashMap<UnitId, Placed>,
    animation: Option<Animation>,
    inspect: Inspect,
    seen_growths: usize,
    /// Growth count the "why these units" panel shows (`None`: nothing drawn yet).
    why_shown: Option<usize>,
    notices_shown: Vec<(String, String)>,
    /// The classes the colour key shows (0: regression), once drawn.
    legend_shown: Option<usize>,
    /// The controls held as last written (see `Playground::held`).
    held_shown: Vec<Held>,
    reduced_motion: bool,
    /// When the first epoch was shown (ms since the page started loading).
    first_epoch_ms: Option<f64>,
    /// Moving averages of what each part of a frame costs, in ms (`data-draw-ms`).
    draw_ms: Vec<(&'static str, f64)>,
    lap_start: f64,
    /// Which map the next split refresh reads (see [`SPLIT_SNAPSHOT_MS`]).
    flip: bool,
}

/// When reading both maps costs more than this (ms), frames refresh them in turn.
const SPLIT_SNAPSHOT_MS: f64 = 4.0;

impl View {
    /// A view over the page's elements.
    pub fn new(ui: Ui, backend: Backend, note: Option<&str>) -> Self {
        match note {
            Some(text) => {
                // The text sits in its own span beside the close button; cut to one line in
                // the embedded layout, so the whole text is its tooltip too.
                if let Ok(Some(span)) = ui.backend_note.query_selector("#backend-note-text") {
                    set_text(&span, text);
                    set_attr(&span, "title", text);
                }
                set_hidden(&ui.backend_note, false);
            }
            None => set_hidden(&ui.backend_note, true),
        }
        View {
            ui,
            backend,
            snap_main: None,
            snap_baseline: None,
            first_epoch_ms: None,
            draw_ms: Vec::new(),
            lap_start: 0.0,
            flip: false,
            placed: HashMap::new(),
            animation: None,
            inspect: Inspect::default(),
            seen_growths: 0,
            why_shown: None,
            notices_shown: Vec::new(),
            legend_shown: None,
            held_shown: Vec::new(),
            reduced_motion: dom::prefers_reduced_motion(),
        }
    }

    /// The runs started again: forget what was drawn for the old ones.
    pub fn forget(&mut self) {
        self.snap_main = None;
        self.snap_baseline = None;
        self.placed.clear();
        self.animation = None;
        self.inspect = Inspect::default();
        self.seen_growths = 0;
        self.why_shown = None;
    }

    /// The pointer moved over the diagram (canvas coordinates), or left it: a node under it,
    /// else the nearest edge within reach.
    pub fn hover(&mut self, position: Option<(f64, f64)>, p: &Playground) {
        self.inspect.hovered = position.and_then(|(x, y)| self.node_at(x, y));
        self.inspect.edge = match (self.inspect.hovered, position) {
            (None, Some(at)) => {
                let edges = self.edges();
                chart::edge_at(&edges, at, EDGE_REACH)
                    .and_then(|i| edges.get(i))
                    .map(|e| (e.from, e.to))
            }
            _ => None,
        };
        self.render_card(p);
        self.render_network(p);
    }

    /// Arrow keys on the diagram: the keyboard takes over from the pointer.
    pub fn move_focus(&mut self, delta: i32, p: &Playground) {
        self.inspect.hovered = None;
        self.inspect.edge = None;
        let order = self.node_order(p);
        if order.is_empty() {
            return;
        }
        let current = self
            .inspect
            .focused
            .and_then(|n| order.iter().position(|o| *o == n));
        let next = match current {
            None => 0,
            Some(i) if delta.abs() >= 100 => {
                let column = |n: &Node| self.column_of(n, p);
                let here = column(&order[i]);
                let target = here + delta.signum();
                order.iter().position(|n| column(n) == target).unwrap_or(i)
            }
            Some(i) => (i as i32 + delta).rem_euclid(order.len() as i32) as usize,
        };
        self.inspect.focused = Some(order[next]);
        self.render_card(p);
        self.render_network(p);
    }

    /// The diagram lost the keyboard focus.
    pub fn blur(&mut self, p: &Playground) {
        self.inspect.focused = None;
        self.render_card(p);
        self.render_network(p);
    }

    fn node_order(&self, p: &Playground) -> Vec<Node> {
        let net = p.main().shape();
        let mut order: Vec<Node> = (0..net.n_inputs).map(Node::Input).collect();
        order.extend(net.unit_ids().into_iter().map(Node::Unit));
        order.extend((0..net.out_bias.len()).map(Node::Output));
        order
    }

    fn column_of(&self, node: &Node, p: &Playground) -> i32 {
        let net = p.main().shape();
        match node {
            Node::Input(_) => 0,
            Node::Unit(id) => net.unit_info(*id).map_or(1, |u| u.block as i32 + 1),
            Node::Output(_) => net.blocks.len() as i32 + 1,
        }
    }

    /// Where the diagram's nodes go on its canvas, the inputs named by the run's features.
    fn diagram(&self, snapshot: &Snapshot) -> Layout {
        draw::layout_labelled(
            &snapshot.network,
            self.ui.network.width() as f64,
            self.ui.network.height() as f64,
            snapshot.features.labels(),
        )
    }

    /// The diagram's edges where they were last drawn (units where the animation put them).
    fn edges(&self) -> Vec<Edge> {
        let Some(snapshot) = &self.snap_main else {
            return Vec::new();
        };
        let layout = self.diagram(snapshot);
        let moved = self
            .placed
            .iter()
            .map(|(id, p)| (*id, (p.x, p.y)))
            .collect();
        chart::edges(&snapshot.network, &layout, &moved)
    }

    fn node_at(&self, x: f64, y: f64) -> Option<Node> {
        let snapshot = self.snap_main.as_ref()?;
        let layout = self.diagram(snapshot);
        let half = layout.size / 2.0 + 2.0;
        layout
            .nodes()
            .into_iter()
            .find(|(_, (nx, ny))| (x - nx).abs() <= half && (y - ny).abs() <= half)
            .map(|(node, _)| node)
    }

    /// One frame: read snapshots (when the runs changed), draw everything, write `data-*`.
    pub async fn frame(&mut self, p: &Playground, changed: bool) {
        self.lap_start = now();
        if changed || self.snap_main.is_none() {
            // A deep network's two maps cost several ms: then each frame refreshes one of them
            // (each map still updates 30 times a second) and training keeps the time.
            let cost = self
                .draw_ms
                .iter()
                .find(|(part, _)| *part == "snapshot")
                .map_or(0.0, |(_, ms)| *ms);
            let grew = p.main().history().growths.len() != self.seen_growths;
            let both = cost < SPLIT_SNAPSHOT_MS
                || grew
                || self.snap_main.is_none()
                || self.snap_baseline.is_none();
            let (main, baseline) = (both || self.flip, both || !self.flip);
            self.flip = !self.flip;
            if main {
                match p.main().snapshot(MAP_RESOLUTION, THUMB_RESOLUTION).await {
                    Ok(snap) => self.snap_main = Some(snap),
                    Err(e) => web_sys::console::error_1(&format!("snapshot: {e}").into()),
                }
            }
            if baseline {
                match p
                    .baseline()
                    .snapshot(MAP_RESOLUTION, THUMB_RESOLUTION)
                    .await
                {
                    Ok(snap) => self.snap_baseline = Some(snap),
                    Err(e) => web_sys::console::error_1(&format!("snapshot: {e}").into()),
                }
            }
            // Counted per map, so the average says what one refresh costs both ways.
            let maps = usize::from(main) + usize::from(baseline);
            self.lap_scaled("snapshot", 2.0 / maps as f64);
            let growths = p.main().history().growths.len();
            if growths > self.seen_growths {
                self.seen_growths = growths;
                self.start_animation(p);
            }
            self.render(p);
        } else if self.animation.is_some() {
            self.render_network(p);
        }
        self.write_state(p);
        self.lap("state");
        let parts: Vec<String> = self
            .draw_ms
            .iter()
            .map(|(part, ms)| format!("\"{part}\":{ms:.2}"))
            .collect();
        set_attr(
            &self.ui.root,
            "data-draw-ms",
            &format!("{{{}}}", parts.join(",")),
        );
    }

    /// Shows the backend probe's figures on `#app` (ms per training step).
    pub fn show_probe(&self, cpu_ms: f64, gpu_ms: f64) {
        set_attr(&self.ui.root, "data-probe-cpu-ms", &format!("{cpu_ms:.4}"));
        set_attr(
            &self.ui.root,
            "data-probe-webgpu-ms",
            &format!("{gpu_ms:.4}"),
        );
    }

    /// Adds the time since the last lap to `part`'s moving average (what `data-draw-ms` shows).
    fn lap(&mut self, part: &'static str) {
        self.lap_scaled(part, 1.0);
    }

    /// [`View::lap`] with the time multiplied by `scale`.
    fn lap_scaled(&mut self, part: &'static str, scale: f64) {
        let t = now();
        let ms = (t - self.lap_start) * scale;
        self.lap_start = t;
        match self.draw_ms.iter_mut().find(|(p, _)| *p == part) {
            Some((_, avg)) => *avg = 0.9 * *avg + 0.1 * ms,
            None => self.draw_ms.push((part, ms)),
        }
    }

    fn start_animation(&mut self, p: &Playground) {
        let Some(snapshot) = &self.snap_main else {
            return;
        };
        let layout = self.diagram(snapshot);
        let mut from = HashMap::new();
        if let Some(event) = p.main().history().growths.last() {
            for l in &event.lineage {
                let start = match l.parent.and_then(|id| self.placed.get(&id)) {
                    Some(parent) => Placed {
                        alpha: 1.0,
                        ..*parent
                    },
                    None => {
                        let (x, y) = layout.units.get(&l.child).copied().unwrap_or((0.0, 0.0));
                        Placed { x, y, alpha: 0.0 }
                    }
                };
                from.insert(l.child, start);
            }
        }
        for (id, placed) in &self.placed {
            from.entry(*id).or_insert(*placed);
        }
        if !self.reduced_motion {
            self.animation = Some(Animation {
                started: now(),
                from,
            });
        }
    }

    fn render(&mut self, p: &Playground) {
        let o = p.options();
        let test = o.show_test.then(|| p.data().test.as_slice());
        let version = p.data_version();
        for (map, snapshot) in [
            (&self.ui.main_map, &self.snap_main),
            (&self.ui.baseline_map, &self.snap_baseline),
        ] {
            if let Some(s) = snapshot {
                let _ = map.draw(
                    s,
                    &p.data().train,
                    test,
                    p.data().task,
                    o.discretize,
                    version,
                );
            }
        }
        self.render_legend(p.data().task);
        self.lap("maps");
        // Text on the diagram and the charts at its true size: each canvas draws at the size the
        // page gives it (the layout changes it with the window).
        for canvas in [
            &self.ui.network,
            &self.ui.curves,
            &self.ui.accuracy,
            &self.ui.figure3,
        ] {
            fit(canvas);
        }
        self.render_network(p);
        self.lap("network");
        let growth_epochs: Vec<usize> =
            p.main().history().growths.iter().map(|g| g.epoch).collect();
        let names = (
            method_label(o.config.growth.method),
            method_label(o.baseline),
        );
        let _ = charts::curves(
            &self.ui.curves,
            &p.main().history().epochs,
            &p.baseline().history().epochs,
            &growth_epochs,
            names,
        );
        self.lap("curves");
        let _ = charts::accuracy(
            &self.ui.accuracy,
            &p.main().history().epochs,
            &p.baseline().history().epochs,
            &growth_epochs,
            names,
        );
        let (main_band, baseline_band) = p.figure3();
        let _ = charts::figure3(
            &self.ui.figure3,
            &main_band,
            &baseline_band,
            names,
            p.options().seeds,
        );
        self.lap("charts");
        self.render_why(p);
        self.render_card(p);
        self.render_text(p);
        self.lap("text");
    }

    fn render_network(&mut self, p: &Playground) {
        let Some(snapshot) = &self.snap_main else {
            return;
        };
        let layout = self.diagram(snapshot);
        let t = match &self.animation {
            Some(a) => ((now() - a.started) / ANIMATION_MS).clamp(0.0, 1.0),
            None => 1.0,
        };
        let ease = 1.0 - (1.0 - t).powi(3);
        let mut placed = HashMap::new();
        for (id, (x, y)) in &layout.units {
            let target = Placed {
                x: *x,
                y: *y,
                alpha: 1.0,
            };
            let at = match self.animation.as_ref().and_then(|a| a.from.get(id)) {
                Some(from) => Placed {
                    x: from.x + (target.x - from.x) * ease,
                    y: from.y + (target.y - from.y) * ease,
                    alpha: from.alpha + (1.0 - from.alpha) * ease,
                },
                None => target,
            };
            placed.insert(*id, at);
        }
        if t >= 1.0 {
            self.animation = None;
        }
        let candidates = match p.main().stage() {
            Stage::Growing(_) => p.main().pending_candidates(),
            Stage::Training => Vec::new(),
        };
        let moved = placed.iter().map(|(id, p)| (*id, (p.x, p.y))).collect();
        let edges = chart::edges(&snapshot.network, &layout, &moved);
        let hovered = self
            .inspect
            .edge
            .and_then(|(from, to)| edges.iter().position(|e| e.from == from && e.to == to));
        let _ = draw::network(
            &self.ui.network,
            &self.ui.thumbs,
            snapshot,
            &placed,
            &layout,
            &edges,
            hovered,
            self.inspected(),
            &candidates,
        );
        // An edge a test can hover (its midpoint in canvas pixels, and its weight), once the
        // units are where the layout puts them.
        if self.animation.is_none() {
            let probe = chart::clear_edge(&edges, &layout, EDGE_REACH)
                .and_then(|i| edges.get(i))
                .map_or(String::new(), |e| {
                    format!(
                        "{},{},{}",
                        (e.a.0 + e.b.0) / 2.0,
                        (e.a.1 + e.b.1) / 2.0,
                        e.weight
                    )
                });
            set_attr(&self.ui.network, "data-edge-probe", &probe);
        }
        // The inputs as the diagram names them (the run's input features).
        set_attr(
            &self.ui.network,
            "data-inputs",
            &layout.input_labels.join(","),
        );
        self.placed = placed;
    }

    /// The node ringed and described: none while an edge is hovered.
    fn inspected(&self) -> Option<Node> {
        if self.inspect.edge.is_some() {
            return None;
        }
        self.inspect.hovered.or(self.inspect.focused)
    }

    /// The card for the hovered edge: its weight and the nodes it joins, beside its midpoint.
    fn render_edge_card(&self, (from, to): (End, End)) {
        let edges = self.edges();
        let Some(edge) = edges.iter().find(|e| e.from == from && e.to == to) else {
            set_hidden(&self.ui.unit_card, true);
            return;
        };
        let inputs = self
            .snap_main
            .as_ref()
            .map(|s| s.features.labels())
            .unwrap_or_default();
        set_text(&self.ui.unit_card, &chart::edge_text(edge, &inputs));
        set_attr(&self.ui.unit_card, "data-weight", &edge.weight.to_string());
        let mid = ((edge.a.0 + edge.b.0) / 2.0, (edge.a.1 + edge.b.1) / 2.0);
        // Under the pointer, so that the link and the nodes it joins stay in view.
        self.place_card(mid, -30.0, 14.0);
        set_hidden(&self.ui.unit_card, false);
    }

    /// Puts the card beside canvas point `(x, y)`: `offset` canvas pixels (plus a 10 px gap)
    /// off it towards the side with more room, `down` page pixels below it (negative: above).
    fn place_card(&self, (x, y): (f64, f64), offset: f64, down: f64) {
        let rect = self.ui.network.get_bounding_client_rect();
        let sx = rect.width() / self.ui.network.width().max(1) as f64;
        let sy = rect.height() / self.ui.network.height().max(1) as f64;
        let (px, py) = (x * sx, y * sy);
        let right_half = px > rect.width() / 2.0;
        let style = self.ui.unit_card.style();
        let offset = offset * sx + 10.0;
        if right_half {
            let _ = style.set_property("left", "auto");
            let _ = style.set_property("right", &format!("{:.0}px", rect.width() - px + offset));
        } else {
            let _ = style.set_property("right", "auto");
            let _ = style.set_property("left", &format!("{:.0}px", px + offset));
        }
        let _ = style.set_property("top", &format!("{:.0}px", (py + down).max(0.0)));
    }

    /// The unit card, placed beside the node it describes (or the hovered edge's card).
    fn render_card(&self, p: &Playground) {
        if let Some(edge) = self.inspect.edge {
            self.render_edge_card(edge);
            return;
        }
        let _ = self.ui.unit_card.remove_attribute("data-weight");
        let Some(node) = self.inspected() else {
            set_hidden(&self.ui.unit_card, true);
            return;
        };
        let Some(snapshot) = &self.snap_main else {
            return;
        };
        let net = &snapshot.network;
        let classes = net.out_bias.len();
        let text = match node {
            Node::Input(i) => match snapshot.features.iter().nth(i) {
                Some(Feature::X1) => "Input x₁: the point's horizontal coordinate (divided by 6). Every unit of the first layer reads it through its input weights.".to_string(),
                Some(Feature::X2) => "Input x₂: the point's vertical coordinate (divided by 6). Every unit of the first layer reads it through its input weights.".to_string(),
                Some(feature) => format!(
                    "Input {}: a feature of the point ({}). Every unit of the first layer reads it through its input weights.",
                    feature.label(),
                    match feature {
                        Feature::SinX1 | Feature::SinX2 => "the sine of its coordinate",
                        _ => "from its coordinates divided by 6",
                    }
                ),
                None => format!("Input {}", i + 1),
            },
            Node::Output(k) if classes == 1 => format!(
                "Output {}: the network's prediction, the value the map shows (bias {:+.3}).",
                k + 1,
                net.out_bias.get(k).copied().unwrap_or(0.0)
            ),
            Node::Output(k) => format!(
                "Output {}: the score for class {}; the map colours each point by the class with the highest score (bias {:+.3}).",
                k + 1,
                match (classes, k) {
                    (2, 0) => "orange".to_string(),
                    (2, _) => "blue".to_string(),
                    _ => (k + 1).to_string(),
                },
                net.out_bias.get(k).copied().unwrap_or(0.0)
            ),
            Node::Unit(id) => {
                let Some(info) = net.unit_info(id) else {
                    set_hidden(&self.ui.unit_card, true);
                    return;
                };
                let origin = match p.main().history().origin(id) {
                    Some((epoch, l)) => match (l.kind, l.parent) {
                        (CandidateKind::Split, Some(parent)) => {
                            format!("split from unit {parent} at epoch {epoch}")
                        }
                        (CandidateKind::Layer, _) => {
                            format!("added with a new layer at epoch {epoch}")
                        }
                        _ => format!("added as a new unit at epoch {epoch}"),
                    },
                    None => "part of the starting network".into(),
                };
                let kind = match info.kind {
                    BlockKind::Dense => "dense",
                    BlockKind::Residual => "residual",
                };
                format!(
                    "Unit {id} · layer {} ({kind}) · input weights of size {:.2} · bias {:+.2} · output weights of size {:.2} · {origin}. Its picture is its output over the plane.",
                    info.block + 1,
                    info.fan_in_norm,
                    info.bias,
                    info.fan_out_norm
                )
            }
        };
        set_text(&self.ui.unit_card, &text);
        // Beside the node: canvas coordinates scaled to the canvas's size on the page.
        let layout = self.diagram(snapshot);
        if let Some((_, at)) = layout.nodes().into_iter().find(|(n, _)| *n == node) {
            self.place_card(at, layout.size / 2.0, -20.0);
        }
        set_hidden(&self.ui.unit_card, false);
    }

    fn render_text(&self, p: &Playground) {
        let o = p.options();
        set_text(&self.ui.main_name, method_label(o.config.growth.method));
        set_text(&self.ui.baseline_name, method_label(o.baseline));
        set_text(&self.ui.main_arch, &p.main().shape().architecture());
        set_text(&self.ui.baseline_arch, &p.baseline().shape().architecture());
        let look_for = p.what_to_look_for();
        set_text(&self.ui.look_for, &look_for);
        // Cut to one line in the embedded layout: the whole text is its tooltip.
        set_attr(&self.ui.look_for, "title", &look_for);
        let metric = |s: &Session| {
            s.history().epochs.last().map_or("—".to_string(), |r| {
                format!(
                    "training loss {} · test loss {}{}",
                    crate::chart::loss(r.train_loss),
                    crate::chart::loss(r.test_loss),
                    r.test_accuracy.map_or(String::new(), |a| format!(
                        " · test accuracy {:.0} %",
                        a * 100.0
                    ))
                )
            })
        };
        set_text(
            &self.ui.metrics,
            &format!(
                "{}: {}. {}: {}. Loss is cross-entropy (classification) or mean squared error.",
                method_label(o.config.growth.method),
                metric(p.main()),
                method_label(o.baseline),
                metric(p.baseline())
            ),
        );
    }

    fn write_state(&mut self, p: &Playground) {
        let root = &self.ui.root;
        let state = p.state();
        set_attr(root, "data-state", state.name());
        set_attr(root, "data-backend", self.backend.name());
        set_attr(root, "data-epoch", &p.main().epoch().to_string());
        set_attr(
            root,
            "data-baseline-epoch",
            &p.baseline().epoch().to_string(),
        );
        set_attr(root, "data-units", &p.main().n_units().to_string());
        set_attr(
            root,
            "data-baseline-units",
            &p.baseline().n_units().to_string(),
        );
        set_attr(
            root,
            "data-growths",
            &p.main().history().growths.len().to_string(),
        );
        set_attr(
            root,
            "data-baseline-growths",
            &p.baseline().history().growths.len().to_string(),
        );
        set_attr(
            root,
            "data-lineage",
            &p.main().history().n_lineage().to_string(),
        );
        let loss = |s: &Session| {
            s.history()
                .epochs
                .last()
                .map_or(String::new(), |r| r.train_loss.to_string())
        };
        set_attr(root, "data-loss", &loss(p.main()));
        set_attr(root, "data-baseline-loss", &loss(p.baseline()));
        // Under each map: that run's test and training loss, in significant digits, and both
        // in full on the element.
        for (line, s) in [
            (&self.ui.main_loss, p.main()),
            (&self.ui.baseline_loss, p.baseline()),
        ] {
            let last = s.history().epochs.last();
            set_text(
                line,
                &chart::loss_line(last.map(|r| (r.test_loss, r.train_loss))),
            );
            let full = |f: fn(&crate::train::EpochRecord) -> f32| {
                last.map_or(String::new(), |r| f(r).to_string())
            };
            set_attr(line, "data-test-loss", &full(|r| r.test_loss));
            set_attr(line, "data-train-loss", &full(|r| r.train_loss));
        }
        // Controls that stand for something else now (the Points slider on the person's data).
        let held = p.held();
        if held != self.held_shown {
            controls::write(p.options(), &held);
            self.held_shown = held;
        }
        set_attr(root, "data-settings", &p.settings_hash());
        set_attr(root, "data-points", &p.data().len().to_string());
        // The person's own points: no generated data set is the one shown.
        set_attr(
            root,
            "data-custom-data",
            if p.custom_data() { "1" } else { "0" },
        );
        set_attr(root, "data-seeds", &p.options().seeds.to_string());
        set_attr(root, "data-slowest-epoch", &p.slowest_epoch().to_string());
        set_attr(root, "data-steps", &p.steps_trained().to_string());
        if self.first_epoch_ms.is_none() && p.main().epoch() >= 1 {
            let at = now();
            self.first_epoch_ms = Some(at);
            set_attr(root, "data-first-epoch-ms", &format!("{at:.0}"));
        }
        if let Some(g) = p.main().history().growths.first() {
            // The first growth's decisions, for checking that a link reproduces them.
            let chosen: Vec<String> = g
                .candidates
                .iter()
                .filter(|c| c.chosen)
                .map(|c| format!("{:?} {}:{} {:e}", c.kind, c.block, c.index, c.score))
                .collect();
            set_attr(
                root,
                "data-first-growth",
                &format!(
                    "{} → {}: {}",
                    g.architecture_before,
                    g.architecture_after,
                    chosen.join(", ")
                ),
            );
        } else {
            set_attr(root, "data-first-growth", "");
        }
        if let Some(g) = p.main().history().growths.last() {
            let t = &g.timings;
            set_attr(
                root,
                "data-growth-timings",
                &format!(
                    "{{\"propose\":{:.2},\"step1\":{:.2},\"step2\":{:.2},\"surgery\":{:.2}}}",
                    t.propose_ms, t.step1_ms, t.step2_ms, t.surgery_ms
                ),
            );
        }
        let errors: Vec<&str> = p
            .notices()
            .iter()
            .filter(|n| n.level == Level::Error)
            .map(|n| n.text.as_str())
            .collect();
        set_attr(root, "data-error", &errors.join(" | "));
        let all: Vec<&str> = p.notices().iter().map(|n| n.text.as_str()).collect();
        set_attr(root, "data-notices", &all.join(" | "));
        self.render_notices(p);
        match p.explanation() {
            Some(text) => {
                set_text(&self.ui.explain, text);
                set_hidden(&self.ui.explain, false);
            }
            None => set_hidden(&self.ui.explain, true),
        }
        set_text(&self.ui.epoch, &p.main().epoch().to_string());
        let stage = |s: &Session| match s.stage() {
            Stage::Training => None,
            Stage::Growing(GrowthStage::Propose) => Some("proposing candidates".to_string()),
            Stage::Growing(GrowthStage::Optimise { done, total }) => {
                Some(format!("optimising ε, δ {done}/{total}"))
            }
            Stage::Growing(GrowthStage::Score { done, total }) => {
                Some(format!("scoring {done}/{total}"))
            }
            Stage::Growing(GrowthStage::Materialise) => Some("materialising".into()),
        };
        let progress = match (stage(p.main()), stage(p.baseline())) {
            (Some(m), _) => format!("growing: {m}"),
            (None, Some(b)) => format!("baseline growing: {b}"),
            (None, None) => String::new(),
        };
        set_text(&self.ui.progress, &progress);
        let playing = state == crate::playground::RunState::Running;
        set_text(&self.ui.play, if playing { "Pause" } else { "Play" });
        set_attr(
            &self.ui.play,
            "aria-label",
            if playing { "Pause" } else { "Play" },
        );
        set_text(&self.ui.badge, self.backend.label());
        set_attr(
            &self.ui.badge,
            "class",
            &format!("badge {}", self.backend.name()),
        );
    }

    /// The colour key under the maps: the orange-to-blue scale for two classes and regression,
    /// one swatch per class (the maps' and the points' colours) for three classes or more.
    fn render_legend(&mut self, task: crate::data::Task) {
        let classes = match task {
            crate::data::Task::Classification { n_classes } => n_classes,
            crate::data::Task::Regression => 0,
        };
        if self.legend_shown == Some(classes) {
            return;
        }
        self.legend_shown = Some(classes);
        let legend = &self.ui.legend;
        if classes < 3 {
            legend.set_inner_html("<span>−1</span><span class=\"bar\"></span><span>+1</span>");
            return;
        }
        legend.set_inner_html("");
        let Ok(document) = dom::document() else {
            return;
        };
        for class in 0..classes {
            let (Ok(swatch), Ok(label)) = (
                document.create_element("span"),
                document.create_element("span"),
            ) else {
                continue;
            };
            swatch.set_class_name("class-swatch");
            if let Ok(swatch) = swatch.clone().dyn_into::<HtmlElement>() {
                // Through the style object: a strict Content-Security-Policy refuses `style`
                // attributes.
                let _ = swatch
                    .style()
                    .set_property("background", &draw::class_css(class));
            }
            label.set_text_content(Some(&format!("class {}", class + 1)));
            let _ = legend.append_child(&swatch);
            let _ = legend.append_child(&label);
        }
    }

    /// The notices, each with a close button; rebuilt only when they change.
    fn render_notices(&mut self, p: &Playground) {
        let now: Vec<(String, String)> = p
            .notices()
            .iter()
            .map(|n| (n.cause.name(), format!("{}{:?}", n.text, n.action)))
            .collect();
        if now == self.notices_shown {
            return;
        }
        self.ui.notices.set_inner_html("");
        let Ok(document) = dom::document() else {
            return;
        };
        for n in p.notices() {
            let Ok(li) = document.create_element("li") else {
                continue;
            };
            li.set_class_name(match n.level {
                Level::Error => "error",
                Level::Info => "info",
            });
            let _ = li.set_attribute("data-cause", &n.cause.name());
            if let Ok(span) = document.create_element("span") {
                span.set_text_content(Some(&n.text));
                // The embedded layout cuts a notice to one line: the tooltip and the focus
                // (a tap or Tab) show the whole text.
                let _ = span.set_attribute("title", &n.text);
                let _ = span.set_attribute("tabindex", "0");
                let _ = li.append_child(&span);
            }
            if let Some(action) = n.action
                && let Ok(button) = document.create_element("button")
            {
                let _ = button.set_attribute("type", "button");
                let _ = button.set_attribute("class", "act");
                let _ = button.set_attribute("data-act", &n.cause.name());
                button.set_text_content(Some(&action.label()));
                let _ = li.append_child(&button);
            }
            if let Ok(button) = document.create_element("button") {
                let _ = button.set_attribute("type", "button");
                let _ = button.set_attribute("class", "dismiss");
                let _ = button.set_attribute("data-dismiss", &n.cause.name());
                let _ = button.set_attribute("aria-label", "Dismiss this notice");
                button.set_text_content(Some("×"));
                let _ = li.append_child(&button);
            }
            let _ = self.ui.notices.append_child(&li);
        }
        set_hidden(&self.ui.notices, now.is_empty());
        self.notices_shown = now;
    }

    /// Rebuilds the candidate list only when a growth happened (or after a reset).
    fn render_why(&mut self, p: &Playground) {
        let growths = p.main().history().growths.len();
        if self.why_shown == Some(growths) {
            return;
        }
        self.why_shown = Some(growths);
        let Some(event) = p.main().history().growths.last() else {
            self.ui.why.set_inner_html("");
            set_text(
                &self.ui.why_summary,
                "Each growth ranks every candidate by its predicted effect on the loss.",
            );
            set_text(&self.ui.timings, "");
            return;
        };
        let Ok(document) = dom::document() else {
            return;
        };
        let mut ranked: Vec<_> = event.candidates.iter().collect();
        ranked.sort_by(|a, b| a.score.total_cmp(&b.score));
        let scale = ranked
            .iter()
            .map(|c| c.score.abs())
            .filter(|s| s.is_finite())
            .fold(1e-12f32, f32::max);
        self.ui.why.set_inner_html("");
        for c in ranked.iter().take(40) {
            let Ok(li) = document.create_element("li") else {
                continue;
            };
            if c.chosen {
                let _ = li.set_attribute("class", "chosen");
            }
            let label = candidate_name(c, Some(event));
            let width = (c.score.abs() / scale * 100.0).clamp(0.0, 100.0);
            for (class, text) in [
                (
                    "label",
                    format!("{}{label}", if c.chosen { "✓ " } else { "" }),
                ),
                ("bar", String::new()),
                ("score", crate::chart::signed(c.score)),
            ] {
                if let Ok(span) = document.create_element("span") {
                    span.set_class_name(class);
                    span.set_text_content(Some(&text));
                    // Through the style object, not a `style` attribute, which a strict
                    // Content-Security-Policy refuses.
                    if class == "bar"
                        && let Ok(span) =
                            wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(span.clone())
                    {
                        let style = span.style();
                        let _ = style.set_property("width", &format!("{width:.1}%"));
                        if c.score > 0.0 {
                            let _ = style.set_property("opacity", ".45");
                        }
                    }
                    let _ = li.append_child(&span);
                }
            }
            let _ = self.ui.why.append_child(&li);
        }
        set_text(&self.ui.why_summary, &charts::growth_line(event));
        let t = event.timings;
        set_text(
            &self.ui.timings,
            &format!(
                "Last growth ({}, on {}): propose {:.1} ms · optimise ε,δ {:.1} ms · score + select {:.1} ms · surgery {:.1} ms.",
                event.method,
                self.backend.label(),
                t.propose_ms,
                t.step1_ms,
                t.step2_ms,
                t.surgery_ms
            ),
        );
    }
}

/// Gives `canvas` as many pixels as it covers on the page (CSS pixels), when that changed and
/// it is shown; drawing code reads the size from the canvas.
fn fit(canvas: &HtmlCanvasElement) {
    let (w, h) = (canvas.client_width(), canvas.client_height());
    if w <= 0 || h <= 0 {
        return;
    }
    let (w, h) = (w as u32, h as u32);
    if canvas.width() != w || canvas.height() != h {
        canvas.set_width(w);
        canvas.set_height(h);
    }
}

/// Writes the memory in use on `#app` (`data-wasm-bytes`: the module's linear memory, which
/// only grows; `data-js-heap`: Chromium's used JavaScript heap, where the browser reports it),
/// so that long runs can be checked for a flat memory.
pub fn write_memory() {
    let Ok(root) = by_id::<Element>("app") else {
        return;
    };
    let wasm = wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .ok()
        .and_then(|m| m.buffer().dyn_into::<js_sys::ArrayBuffer>().ok())
        .map_or(0.0, |b| f64::from(b.byte_length()));
    set_attr(&root, "data-wasm-bytes", &format!("{wasm:.0}"));
    let heap = dom::window()
        .ok()
        .and_then(|w| w.performance())
        .and_then(|p| js_sys::Reflect::get(&p, &"memory".into()).ok())
        .and_then(|m| js_sys::Reflect::get(&m, &"usedJSHeapSize".into()).ok())
        .and_then(|v| v.as_f64());
    if let Some(heap) = heap {
        set_attr(&root, "data-js-heap", &format!("{heap:.0}"));
    }
}
