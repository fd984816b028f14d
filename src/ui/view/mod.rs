//! The view: the page's elements and everything drawn from the playground's state once per
//! frame — both decision maps, the network diagram (with growth animations and the unit card),
//! the candidate ranking, the curves, Figure 3, the notices and the `data-*` attributes of
//! `#app`. It reads engine snapshots and histories and never does maths.

mod network;
pub(super) mod notices;
mod state;

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
use crate::playground::{Held, Playground, candidate_name};
use crate::settings::method_label;
use crate::train::{GrowthStage, Session, Snapshot, Stage};

/// Resolution of the decision maps: TensorFlow Playground's 100×100, coarser for a wide network
/// ([`crate::chart::map_resolution`]).
pub use crate::chart::{MAP_MAX_RESOLUTION, map_resolution};
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

    /// The loss chart's canvas.
    pub fn curves(&self) -> &HtmlCanvasElement {
        &self.curves
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
    /// Whether the next frame redraws the diagram alone (see [`SPLIT_DRAW_MS`]).
    diagram_turn: bool,
    /// Where the pointer is over the loss chart (canvas x), whose records it reads out.
    curves_hover: Option<f64>,
}

/// When reading both maps costs more than this (ms), frames refresh them in turn.
const SPLIT_SNAPSHOT_MS: f64 = 4.0;

/// When refreshing one map and drawing the diagram cost more than this together (ms), a frame
/// does one or the other: at 1,024 units a map costs about 8 ms and the diagram 10.
const SPLIT_DRAW_MS: f64 = 12.0;

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
            diagram_turn: false,
            curves_hover: None,
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

    /// The pointer moved over the loss chart (canvas x) or left it: the chart reads out the
    /// records under it.
    pub fn hover_curves(&mut self, x: Option<f64>, p: &Playground) {
        self.curves_hover = x;
        self.render_curves(p);
    }

    fn render_curves(&self, p: &Playground) {
        let _ = charts::curves(
            &self.ui.curves,
            (&p.main().history().epochs, &p.baseline().history().epochs),
            &growth_epochs(p),
            run_names(p),
            self.curves_hover,
        );
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

    /// Shows the backend probe's figures on `#app` (ms per training step and per growth phase)
    /// and where each part runs.
    pub fn show_probe(&self, timings: &crate::probe::Timings) {
        let root = &self.ui.root;
        let (cpu, gpu) = timings.train;
        set_attr(
            root,
            "data-probe-cpu-ms",
            &format!("{:.4}", cpu.ms_per_step),
        );
        set_attr(
            root,
            "data-probe-webgpu-ms",
            &format!("{:.4}", gpu.ms_per_step),
        );
        set_attr(
            root,
            "data-probe-steps",
            &format!("{}", timings.steps_per_phase),
        );
        if let Some((cpu, gpu)) = timings.grow {
            set_attr(root, "data-probe-grow-cpu-ms", &format!("{:.1}", cpu.ms));
            set_attr(root, "data-probe-grow-webgpu-ms", &format!("{:.1}", gpu.ms));
        }
        let split = timings.choose();
        let place = |p: crate::probe::Place| match p {
            crate::probe::Place::Cpu => "cpu",
            crate::probe::Place::Gpu => "webgpu",
        };
        set_attr(root, "data-train-on", place(split.train));
        set_attr(root, "data-grow-on", place(split.grow));
    }

    /// What `part` of a frame costs, in ms (its moving average; 0 before it was drawn).
    fn cost(&self, part: &str) -> f64 {
        self.draw_ms
            .iter()
            .find(|(p, _)| *p == part)
            .map_or(0.0, |(_, ms)| *ms)
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

    /// Draws every panel from the snapshots; the diagram too when `network` (else it keeps
    /// its last drawing, and the next frame draws it).
    fn render(&mut self, p: &Playground, network: bool) {
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
        if network {
            self.render_network(p);
            self.lap("network");
        }
        self.render_curves(p);
        self.lap("curves");
        let _ = charts::accuracy(
            &self.ui.accuracy,
            &p.main().history().epochs,
            &p.baseline().history().epochs,
            &growth_epochs(p),
        );
        let (main_band, baseline_band) = p.figure3();
        let _ = charts::figure3(
            &self.ui.figure3,
            &main_band,
            &baseline_band,
            run_names(p),
            p.options().seeds,
        );
        self.lap("charts");
        self.render_why(p);
        self.render_card(p);
        self.render_text(p);
        self.lap("text");
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
/// The epochs at which the main run grew (the charts' gridlines).
fn growth_epochs(p: &Playground) -> Vec<usize> {
    p.main().history().growths.iter().map(|g| g.epoch).collect()
}

/// The two runs' names as the charts' legends give them.
fn run_names(p: &Playground) -> (&'static str, &'static str) {
    let o = p.options();
    (
        method_label(o.config.growth.method),
        method_label(o.baseline),
    )
}

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
