//! The playground's state and its one loop: messages from the page go into an inbox; each
//! animation frame the loop applies them ([`App::update`]), advances both runs by a time-boxed
//! amount of work ([`App::tick`]), reads one snapshot per run and redraws.
//!
//! Two sessions run side by side on the same data and seed: the *main* run grows with the chosen
//! method, the *baseline* with the comparison method. They are kept in step by epochs.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use burn::tensor::Device;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use web_sys::{Element, HtmlCanvasElement, HtmlElement, HtmlInputElement, HtmlSelectElement};

use super::dom::{self, by_id, now, set_attr, set_hidden, set_text};
use super::draw::{self, DecisionMap, Placed};
use crate::data::{DataConfig, Dataset, DatasetKind, Sample, Task};
use crate::error::EngineError;
use crate::grow::{Budget, CandidateKind, Method};
use crate::model::{Activation, BlockKind, UnitId};
use crate::optim::OptimizerKind;
use crate::train::{GrowthStage, OnGrowth, Session, Snapshot, Stage};
use crate::url::{BackendChoice, PageOptions, parse_layers, to_hash};

/// Resolution of the decision maps (TensorFlow Playground's 100×100).
pub const MAP_RESOLUTION: usize = 100;
/// Resolution of each unit's thumbnail.
pub const THUMB_RESOLUTION: usize = 10;
const ANIMATION_MS: f64 = 1500.0;

/// Which backend computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// burn's wgpu backend on the browser's WebGPU.
    WebGpu,
    /// burn's Flex CPU backend in WebAssembly.
    Cpu,
}

impl Backend {
    /// The `data-backend` value.
    pub fn name(self) -> &'static str {
        match self {
            Backend::WebGpu => "webgpu",
            Backend::Cpu => "cpu",
        }
    }
}

/// Everything the page can ask for.
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    /// Play or pause.
    TogglePlay,
    /// Train exactly one more epoch, then pause.
    Step,
    /// Grow both runs now.
    Grow,
    /// Start both runs again.
    Reset,
    /// Open or close the shortcut sheet.
    ToggleShortcuts,
    /// Close the shortcut sheet.
    CloseShortcuts,
    /// A setting that needs new runs changed.
    Settings,
    /// The learning rate changed (applied live).
    LearningRate,
    /// Show or hide test points / discretize / slow motion (read from the checkboxes).
    ViewToggles,
    /// Toggle a checkbox by keyboard shortcut, by id.
    ToggleCheckbox(&'static str),
    /// A dataset thumbnail was chosen.
    Dataset(DatasetKind),
    /// New points from a new seed.
    Regenerate,
    /// Add a point at plane coordinates; `other` picks the other class.
    AddPoint(f32, f32, bool),
    /// Remove the point nearest to plane coordinates.
    RemovePoint(f32, f32),
    /// A CSV file was read: its name and text.
    Csv(String, String),
    /// Something the person should read.
    Notice(String),
    /// Move the unit focus on the network diagram (−1 previous, +1 next, ±100 layer).
    FocusUnit(i32),
    /// The pointer is over the network diagram at canvas coordinates (or left it).
    Hover(Option<(f64, f64)>),
}

/// The inbox shared by listeners and the loop.
pub type Inbox = Rc<RefCell<VecDeque<Msg>>>;

struct Animation {
    started: f64,
    from: HashMap<UnitId, Placed>,
}

/// The page's elements the loop writes to.
pub struct Ui {
    root: Element,
    play: HtmlElement,
    epoch: Element,
    badge: Element,
    backend_note: HtmlElement,
    error: HtmlElement,
    explain: HtmlElement,
    main_map: DecisionMap,
    baseline_map: DecisionMap,
    network: HtmlCanvasElement,
    unit_card: HtmlElement,
    curves: HtmlCanvasElement,
    accuracy: HtmlCanvasElement,
    figure3: HtmlCanvasElement,
    progress: Element,
    why: Element,
    why_summary: Element,
    timings: Element,
    metrics: Element,
    shortcuts: HtmlElement,
}

impl Ui {
    /// Finds every element by id.
    pub fn find() -> Result<Self, JsValue> {
        Ok(Ui {
            root: by_id("app")?,
            play: by_id("play")?,
            epoch: by_id("epoch-out")?,
            badge: by_id("backend-badge")?,
            backend_note: by_id("backend-note")?,
            error: by_id("error")?,
            explain: by_id("explain")?,
            main_map: DecisionMap::new(by_id("heatmap")?)?,
            baseline_map: DecisionMap::new(by_id("baseline-heatmap")?)?,
            network: by_id("network")?,
            unit_card: by_id("unit-card")?,
            curves: by_id("curves")?,
            accuracy: by_id("accuracy")?,
            figure3: by_id("figure3")?,
            progress: by_id("progress")?,
            why: by_id("why")?,
            why_summary: by_id("why-summary")?,
            timings: by_id("timings")?,
            metrics: by_id("metrics")?,
            shortcuts: by_id("shortcuts")?,
        })
    }

    /// The main decision map (click target for points).
    pub fn main_map(&self) -> &DecisionMap {
        &self.main_map
    }

    /// Shows a fatal error in the page.
    pub fn show_fatal(&self, message: &str) {
        set_attr(&self.root, "data-state", "error");
        set_attr(&self.root, "data-error", message);
        set_text(&self.error, message);
        set_hidden(&self.error, false);
    }
}

/// The playground.
pub struct App {
    ui: Ui,
    device: Device,
    backend: Backend,
    options: PageOptions,
    custom_data: bool,
    data: Dataset,
    main: Session,
    baseline: Session,
    running: bool,
    step_to: Option<usize>,
    grow_to: Option<usize>,
    snap_main: Option<Snapshot>,
    snap_baseline: Option<Snapshot>,
    placed: HashMap<UnitId, Placed>,
    animation: Option<Animation>,
    focused: Option<UnitId>,
    hovered: Option<UnitId>,
    last_stage: u8,
    seen_growths: usize,
    /// Growth count the "why these units" panel shows (`None`: nothing drawn yet).
    why_shown: Option<usize>,
    notice: Option<String>,
    fatal: Option<String>,
    reduced_motion: bool,
    dirty: bool,
}

fn stage_key(stage: Stage) -> u8 {
    match stage {
        Stage::Training => 0,
        Stage::Growing(GrowthStage::Propose) => 1,
        Stage::Growing(GrowthStage::Optimise { .. }) => 1,
        Stage::Growing(GrowthStage::Score { .. }) => 2,
        Stage::Growing(GrowthStage::Materialise) => 3,
    }
}

fn input(id: &str) -> Result<HtmlInputElement, JsValue> {
    by_id(id)
}

fn select(id: &str) -> Result<HtmlSelectElement, JsValue> {
    by_id(id)
}

fn number<T: std::str::FromStr>(id: &str, what: &str) -> Result<T, String> {
    let value = input(id)
        .map_err(|_| format!("missing control {id}"))?
        .value();
    value
        .trim()
        .parse::<T>()
        .map_err(|_| format!("{what}: \"{value}\" is not a valid number"))
}

fn engine_error(e: EngineError) -> String {
    e.to_string()
}

impl App {
    /// Builds both runs from the page options.
    pub fn new(
        ui: Ui,
        device: Device,
        backend: Backend,
        options: PageOptions,
    ) -> Result<Self, String> {
        let data = Dataset::generate(&options.config.data).map_err(|e| e.to_string())?;
        let (main, baseline) = sessions(&options, &data, &device)?;
        let app = App {
            ui,
            device,
            backend,
            custom_data: false,
            data,
            main,
            baseline,
            running: true,
            step_to: None,
            grow_to: None,
            snap_main: None,
            snap_baseline: None,
            placed: HashMap::new(),
            animation: None,
            focused: None,
            hovered: None,
            last_stage: 0,
            seen_growths: 0,
            why_shown: None,
            notice: None,
            fatal: None,
            reduced_motion: dom::prefers_reduced_motion(),
            dirty: true,
            options,
        };
        app.write_controls();
        Ok(app)
    }

    /// Applies one message.
    pub async fn update(&mut self, msg: Msg) {
        match msg {
            Msg::TogglePlay => {
                if self.fatal.is_none() {
                    self.running = !self.running;
                    self.step_to = None;
                    set_hidden(&self.ui.explain, true);
                }
            }
            Msg::Step => {
                self.running = false;
                self.step_to = Some(self.main.epoch() + 1);
            }
            Msg::Grow => {
                if self.main.can_grow() {
                    self.main.request_growth();
                    self.baseline.request_growth();
                    self.grow_to = Some(self.main.history().growths.len() + 1);
                } else {
                    self.notice = Some(if self.options.config.growth.method == Method::None {
                        "this run's method never grows".into()
                    } else {
                        format!(
                            "the network has reached its unit cap ({}); raise \"max units\" to grow further",
                            self.options.config.train.max_units
                        )
                    });
                }
            }
            Msg::Reset => self.reset(),
            Msg::ToggleShortcuts => {
                let open = self.ui.shortcuts.hidden();
                set_hidden(&self.ui.shortcuts, !open);
                if open && let Ok(close) = by_id::<HtmlElement>("shortcuts-close") {
                    let _ = close.focus();
                }
            }
            Msg::CloseShortcuts => set_hidden(&self.ui.shortcuts, true),
            Msg::Settings => match self.read_controls() {
                Ok(options) => {
                    let data_changed = options.config.data != self.options.config.data;
                    self.options = options;
                    if data_changed {
                        self.custom_data = false;
                    }
                    self.reset();
                }
                Err(problem) => self.notice = Some(problem),
            },
            Msg::LearningRate => match number::<f32>("lr", "learning rate") {
                Ok(lr) => {
                    let result = self
                        .main
                        .set_learning_rate(lr)
                        .and_then(|_| self.baseline.set_learning_rate(lr));
                    match result {
                        Ok(()) => {
                            self.options.config.train.learning_rate = lr;
                            self.write_hash();
                        }
                        Err(e) => self.notice = Some(engine_error(e)),
                    }
                }
                Err(problem) => self.notice = Some(problem),
            },
            Msg::ViewToggles => {
                self.options.show_test = input("show-test").is_ok_and(|i| i.checked());
                self.options.discretize = input("discretize").is_ok_and(|i| i.checked());
                self.options.slow_motion = input("slowmo").is_ok_and(|i| i.checked());
                self.write_hash();
                self.dirty = true;
            }
            Msg::ToggleCheckbox(id) => {
                if let Ok(i) = input(id) {
                    i.set_checked(!i.checked());
                }
                Box::pin(self.update(Msg::ViewToggles)).await;
            }
            Msg::Dataset(kind) => {
                self.options.config.data.kind = kind;
                self.options.config.data.n_points = DataConfig::new(kind).n_points;
                self.custom_data = false;
                self.write_controls();
                self.reset();
            }
            Msg::Regenerate => {
                let seed = (js_sys::Math::random() * 1e9) as u64;
                self.options.config.data.seed = seed;
                self.custom_data = false;
                match Dataset::generate(&self.options.config.data) {
                    Ok(data) => self.swap_data(data),
                    Err(e) => self.notice = Some(e.to_string()),
                }
            }
            Msg::AddPoint(x, y, other) => {
                let label = match self.data.task {
                    Task::Classification { .. } => {
                        if other {
                            0.0
                        } else {
                            1.0
                        }
                    }
                    Task::Regression => {
                        if other {
                            -1.0
                        } else {
                            1.0
                        }
                    }
                };
                let mut data = self.data.clone();
                data.train.push(Sample { x, y, label });
                data.name = "custom".into();
                self.custom_data = true;
                self.swap_data(data);
            }
            Msg::RemovePoint(x, y) => {
                let mut data = self.data.clone();
                let near = |s: &Sample| (s.x - x).powi(2) + (s.y - y).powi(2) < 0.36;
                let (before_train, before_test) = (data.train.len(), data.test.len());
                if let Some(i) = data.train.iter().position(near) {
                    data.train.remove(i);
                } else if let Some(i) = data.test.iter().position(near) {
                    data.test.remove(i);
                }
                if data.train.len() + data.test.len() < before_train + before_test {
                    data.name = "custom".into();
                    self.custom_data = true;
                    self.swap_data(data);
                }
            }
            Msg::Csv(name, text) => {
                let ratio = self.options.config.data.train_ratio;
                match Dataset::from_csv(&name, &text, ratio, self.options.config.seed) {
                    Ok(data) => {
                        self.custom_data = true;
                        if data.task == self.data.task {
                            self.swap_data(data);
                        } else {
                            self.data = data;
                            self.reset();
                        }
                        self.notice = None;
                    }
                    Err(e) => self.notice = Some(format!("{name}: {e}")),
                }
            }
            Msg::Notice(text) => self.notice = Some(text),
            Msg::FocusUnit(delta) => self.move_focus(delta),
            Msg::Hover(position) => {
                self.hovered = position.and_then(|(x, y)| self.unit_at(x, y));
                self.render_card();
            }
        }
        self.dirty = true;
    }

    fn swap_data(&mut self, data: Dataset) {
        let result = self
            .main
            .replace_data(data.clone())
            .and_then(|_| self.baseline.replace_data(data.clone()));
        self.data = data;
        if let Err(e) = result {
            self.notice = Some(engine_error(e));
            self.reset();
        }
    }

    /// Starts both runs again from the current options and data.
    fn reset(&mut self) {
        if !self.custom_data {
            match Dataset::generate(&self.options.config.data) {
                Ok(data) => self.data = data,
                Err(e) => {
                    self.notice = Some(e.to_string());
                    return;
                }
            }
        }
        match sessions(&self.options, &self.data, &self.device) {
            Ok((main, baseline)) => {
                self.main = main;
                self.baseline = baseline;
                self.fatal = None;
                set_hidden(&self.ui.error, true);
                self.running = true;
                self.step_to = None;
                self.grow_to = None;
                self.placed.clear();
                self.animation = None;
                self.focused = None;
                self.seen_growths = 0;
                self.why_shown = None;
                self.last_stage = 0;
                self.snap_main = None;
                self.snap_baseline = None;
                set_hidden(&self.ui.explain, true);
                self.write_hash();
            }
            Err(problem) => self.notice = Some(problem),
        }
    }

    /// One frame: advance the runs (time-boxed), read snapshots, redraw.
    pub async fn tick(&mut self) {
        let active = self.running || self.step_to.is_some() || self.grow_to.is_some();
        if active && self.fatal.is_none() {
            if let Err(e) = self.work().await {
                self.running = false;
                self.step_to = None;
                self.grow_to = None;
                self.fatal = Some(engine_error(e));
            }
            self.dirty = true;
        }
        if self.dirty {
            self.dirty = false;
            match self.read_snapshots().await {
                Ok(()) => {}
                Err(e) => self.fatal = Some(engine_error(e)),
            }
            self.render();
        } else if self.animation.is_some() {
            self.render_network();
        }
        self.write_state();
    }

    async fn work(&mut self) -> Result<(), EngineError> {
        let start = now();
        let budget_ms = match self.backend {
            Backend::WebGpu => 30.0,
            Backend::Cpu => 14.0,
        };
        loop {
            self.main.advance(1).await?;
            while self.baseline.epoch() < self.main.epoch()
                || matches!(self.baseline.stage(), Stage::Growing(_))
            {
                self.baseline.advance(1).await?;
            }
            let key = stage_key(self.main.stage());
            if key != self.last_stage {
                let finished_growth = key == 0;
                self.last_stage = key;
                if self.options.slow_motion {
                    self.explain(key, finished_growth);
                    self.running = false;
                    self.step_to = None;
                    self.grow_to = None;
                    return Ok(());
                }
            }
            if let Some(target) = self.step_to
                && self.main.epoch() >= target
            {
                self.step_to = None;
                return Ok(());
            }
            if let Some(target) = self.grow_to
                && self.main.history().growths.len() >= target
                && self.main.stage() == Stage::Training
            {
                self.grow_to = None;
                return Ok(());
            }
            if now() - start > budget_ms {
                return Ok(());
            }
            if self.backend == Backend::WebGpu {
                // Let the page breathe between GPU submissions.
                dom::yield_now().await;
            }
        }
    }

    fn explain(&self, key: u8, finished_growth: bool) {
        let g = &self.options.config.growth;
        let text = match key {
            1 => format!(
                "① Propose. The grower built an over-grown neighbour of the network: every hidden unit split into θ ± εδ with halved out-weights, {} candidate new units per layer with out-weight ε{}. At ε = 0 it computes exactly the old function. Next: ② optimise ε and δ.",
                g.candidates,
                if g.method == Method::FireflyLayers {
                    ", and a candidate residual layer after every layer"
                } else {
                    ""
                }
            ),
            2 => format!(
                "② Optimise. {} steps of gradient descent moved ε and δ to lower the loss, projecting after every step: |ε| ≤ {} and ‖δ‖ ≤ 1. Next: ③ score every candidate.",
                g.step1_steps, g.eps_max
            ),
            3 => format!(
                "③ Score. Each candidate's effect on the loss was integrated along the path from ε = 0 to the optimised ε ({} points). Next: ④ select the best and ⑤ materialise them.",
                g.path_points
            ),
            _ if finished_growth => match self.main.history().growths.last() {
                Some(event) => format!(
                    "④ Select and ⑤ materialise. The {} most negative scores were kept and made real: {} The other candidates vanished. Press play to train on.",
                    event.n_added(),
                    draw::growth_line(event)
                ),
                None => "Training.".into(),
            },
            _ => "Training.".into(),
        };
        set_text(&self.ui.explain, &text);
        set_hidden(&self.ui.explain, false);
    }

    async fn read_snapshots(&mut self) -> Result<(), EngineError> {
        self.snap_main = Some(self.main.snapshot(MAP_RESOLUTION, THUMB_RESOLUTION).await?);
        self.snap_baseline = Some(
            self.baseline
                .snapshot(MAP_RESOLUTION, THUMB_RESOLUTION)
                .await?,
        );
        let growths = self.main.history().growths.len();
        if growths > self.seen_growths {
            self.seen_growths = growths;
            self.start_animation();
        }
        Ok(())
    }

    fn start_animation(&mut self) {
        let Some(snapshot) = &self.snap_main else {
            return;
        };
        let layout = draw::layout(
            &snapshot.network,
            self.ui.network.width() as f64,
            self.ui.network.height() as f64,
        );
        let mut from = HashMap::new();
        if let Some(event) = self.main.history().growths.last() {
            for l in &event.lineage {
                let start = match l.parent.and_then(|p| self.placed.get(&p)) {
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
        for (id, p) in &self.placed {
            from.entry(*id).or_insert(*p);
        }
        if !self.reduced_motion {
            self.animation = Some(Animation {
                started: now(),
                from,
            });
        }
    }

    fn render(&mut self) {
        let test = if self.options.show_test {
            Some(self.main.data().test.as_slice())
        } else {
            None
        };
        for (map, snapshot, session) in [
            (&self.ui.main_map, &self.snap_main, &self.main),
            (&self.ui.baseline_map, &self.snap_baseline, &self.baseline),
        ] {
            if let Some(s) = snapshot {
                let _ = map.draw(
                    s,
                    &session.data().train,
                    test,
                    self.data.task,
                    self.options.discretize,
                );
            }
        }
        self.render_network();
        let growth_epochs: Vec<usize> = self
            .main
            .history()
            .growths
            .iter()
            .map(|g| g.epoch)
            .collect();
        let _ = draw::curves(
            &self.ui.curves,
            &self.main.history().epochs,
            &self.baseline.history().epochs,
            &growth_epochs,
        );
        let _ = draw::accuracy(
            &self.ui.accuracy,
            &self.main.history().epochs,
            &self.baseline.history().epochs,
        );
        let _ = draw::figure3(
            &self.ui.figure3,
            &self.main.history().loss_vs_units(),
            &self.baseline.history().loss_vs_units(),
        );
        self.render_why();
        self.render_card();
        self.render_text();
    }

    fn render_network(&mut self) {
        let Some(snapshot) = &self.snap_main else {
            return;
        };
        let (w, h) = (
            self.ui.network.width() as f64,
            self.ui.network.height() as f64,
        );
        let layout = draw::layout(&snapshot.network, w, h);
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
            let p = match self.animation.as_ref().and_then(|a| a.from.get(id)) {
                Some(from) => Placed {
                    x: from.x + (target.x - from.x) * ease,
                    y: from.y + (target.y - from.y) * ease,
                    alpha: from.alpha + (1.0 - from.alpha) * ease,
                },
                None => target,
            };
            placed.insert(*id, p);
        }
        if t >= 1.0 {
            self.animation = None;
        }
        let focus = self.focused.or(self.hovered);
        let _ = draw::network(&self.ui.network, snapshot, &placed, &layout, focus);
        self.placed = placed;
    }

    /// Rebuilds the candidate list only when a growth happened (or after a reset), not every frame.
    fn render_why(&mut self) {
        let growths = self.main.history().growths.len();
        if self.why_shown == Some(growths) {
            return;
        }
        self.why_shown = Some(growths);
        let Some(event) = self.main.history().growths.last() else {
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
            .fold(1e-12f32, f32::max);
        self.ui.why.set_inner_html("");
        for c in ranked.iter().take(40) {
            let Ok(li) = document.create_element("li") else {
                continue;
            };
            if c.chosen {
                let _ = li.set_attribute("class", "chosen");
            }
            let label = draw::candidate_label(c.kind, c.block, c.index, c.unit_id);
            let width = (c.score.abs() / scale * 100.0).clamp(0.0, 100.0);
            li.set_inner_html(&format!(
                "<span>{}{}</span><span class=\"bar\" style=\"width:{width:.1}%;{}\"></span><span>{:+.5}</span>",
                if c.chosen { "✓ " } else { "" },
                label,
                if c.score > 0.0 { "opacity:.45" } else { "" },
                c.score
            ));
            let _ = self.ui.why.append_child(&li);
        }
        set_text(&self.ui.why_summary, &draw::growth_line(event));
        let t = event.timings;
        set_text(
            &self.ui.timings,
            &format!(
                "Last growth ({}, on {}): propose {:.1} ms · optimise ε,δ {:.1} ms · score + select {:.1} ms · surgery {:.1} ms.",
                event.method,
                match self.backend {
                    Backend::WebGpu => "WebGPU",
                    Backend::Cpu => "the CPU",
                },
                t.propose_ms,
                t.step1_ms,
                t.step2_ms,
                t.surgery_ms
            ),
        );
    }

    fn unit_order(&self) -> Vec<UnitId> {
        self.main.shape().unit_ids()
    }

    fn move_focus(&mut self, delta: i32) {
        let order = self.unit_order();
        if order.is_empty() {
            return;
        }
        let current = self
            .focused
            .and_then(|id| order.iter().position(|u| *u == id));
        let next = match current {
            None => 0,
            Some(i) => {
                let step = if delta.abs() >= 100 {
                    // Jump by a layer: to the first unit of the next / previous block.
                    let shape = self.main.shape();
                    let block_of = |id: UnitId| shape.unit_info(id).map_or(0, |u| u.block) as i32;
                    let here = block_of(order[i]);
                    let target = here + delta.signum();
                    order
                        .iter()
                        .position(|u| block_of(*u) == target)
                        .map_or(0, |p| p as i32 - i as i32)
                } else {
                    delta
                };
                (i as i32 + step).rem_euclid(order.len() as i32) as usize
            }
        };
        self.focused = Some(order[next]);
        self.render_card();
    }

    fn unit_at(&self, x: f64, y: f64) -> Option<UnitId> {
        let snapshot = self.snap_main.as_ref()?;
        let layout = draw::layout(
            &snapshot.network,
            self.ui.network.width() as f64,
            self.ui.network.height() as f64,
        );
        let half = layout.size / 2.0 + 2.0;
        layout
            .units
            .iter()
            .find(|(_, (ux, uy))| (x - ux).abs() <= half && (y - uy).abs() <= half)
            .map(|(id, _)| *id)
    }

    fn render_card(&self) {
        let Some(id) = self.hovered.or(self.focused) else {
            set_hidden(&self.ui.unit_card, true);
            return;
        };
        let Some(snapshot) = &self.snap_main else {
            return;
        };
        let Some(info) = snapshot.network.unit_info(id) else {
            set_hidden(&self.ui.unit_card, true);
            return;
        };
        let origin = match self.main.history().origin(id) {
            Some((epoch, l)) => match (l.kind, l.parent) {
                (CandidateKind::Split, Some(parent)) => {
                    format!("split from unit #{parent} at epoch {epoch}")
                }
                (CandidateKind::Layer, _) => format!("new layer at epoch {epoch}"),
                _ => format!("new unit at epoch {epoch}"),
            },
            None => "part of the starting network".into(),
        };
        let kind = match info.kind {
            BlockKind::Dense => "dense",
            BlockKind::Residual => "residual",
        };
        set_text(
            &self.ui.unit_card,
            &format!(
                "Unit #{id} · layer {} ({kind}) · ‖w_in‖ {:.3} · bias {:+.3} · ‖w_out‖ {:.3} · {origin}",
                info.block + 1,
                info.fan_in_norm,
                info.bias,
                info.fan_out_norm
            ),
        );
        set_hidden(&self.ui.unit_card, false);
    }

    fn render_text(&self) {
        let name = |m: Method| match m {
            Method::Firefly => "Firefly (split + new)",
            Method::FireflySplit => "Firefly (split)",
            Method::FireflyNew => "Firefly (new)",
            Method::FireflyLayers => "Firefly (+ layers)",
            Method::RandomSplit => "Random split",
            Method::RandomNew => "Random new",
            Method::ExactSplit => "Exact splitting",
            Method::None => "No growth",
        };
        if let Ok(e) = by_id::<Element>("main-name") {
            set_text(&e, name(self.options.config.growth.method));
        }
        if let Ok(e) = by_id::<Element>("baseline-name") {
            set_text(&e, name(self.options.baseline));
        }
        if let Ok(e) = by_id::<Element>("main-arch") {
            set_text(&e, &self.main.shape().architecture());
        }
        if let Ok(e) = by_id::<Element>("baseline-arch") {
            set_text(&e, &self.baseline.shape().architecture());
        }
        let metric = |s: &Session| {
            s.history().epochs.last().map_or("—".to_string(), |r| {
                format!(
                    "train {:.3} · test {:.3}{}",
                    r.train_loss,
                    r.test_loss,
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
                name(self.options.config.growth.method),
                metric(&self.main),
                name(self.options.baseline),
                metric(&self.baseline)
            ),
        );
    }

    fn write_state(&self) {
        let root = &self.ui.root;
        let state = if self.fatal.is_some() {
            "error"
        } else if self.running {
            "running"
        } else {
            "paused"
        };
        set_attr(root, "data-state", state);
        set_attr(root, "data-backend", self.backend.name());
        set_attr(root, "data-epoch", &self.main.epoch().to_string());
        set_attr(root, "data-units", &self.main.n_units().to_string());
        set_attr(
            root,
            "data-baseline-units",
            &self.baseline.n_units().to_string(),
        );
        set_attr(
            root,
            "data-growths",
            &self.main.history().growths.len().to_string(),
        );
        set_attr(
            root,
            "data-lineage",
            &self.main.history().n_lineage().to_string(),
        );
        let message = self.fatal.as_ref().or(self.notice.as_ref());
        set_attr(root, "data-error", message.map_or("", |m| m.as_str()));
        match message {
            Some(m) => {
                set_text(&self.ui.error, m);
                set_hidden(&self.ui.error, false);
            }
            None => set_hidden(&self.ui.error, true),
        }
        set_text(&self.ui.epoch, &self.main.epoch().to_string());
        let progress = match self.main.stage() {
            Stage::Training => String::new(),
            Stage::Growing(GrowthStage::Propose) => "growing: proposing candidates".into(),
            Stage::Growing(GrowthStage::Optimise { done, total }) => {
                format!("growing: optimising ε, δ {done}/{total}")
            }
            Stage::Growing(GrowthStage::Score { done, total }) => {
                format!("growing: scoring {done}/{total}")
            }
            Stage::Growing(GrowthStage::Materialise) => "growing: materialising".into(),
        };
        set_text(&self.ui.progress, &progress);
        let playing = self.running;
        set_text(&self.ui.play, if playing { "Pause" } else { "Play" });
        set_attr(
            &self.ui.play,
            "aria-label",
            if playing { "Pause" } else { "Play" },
        );
        set_text(
            &self.ui.badge,
            match self.backend {
                Backend::WebGpu => "WebGPU",
                Backend::Cpu => "CPU",
            },
        );
        set_attr(
            &self.ui.badge,
            "class",
            &format!("badge {}", self.backend.name()),
        );
    }

    /// Shows why the CPU backend runs (visible in the page, not only in the console).
    pub fn set_backend_note(&self, note: Option<&str>) {
        match note {
            Some(text) => {
                set_text(&self.ui.backend_note, text);
                set_hidden(&self.ui.backend_note, false);
            }
            None => set_hidden(&self.ui.backend_note, true),
        }
    }

    fn write_hash(&self) {
        if let Ok(w) = dom::window() {
            let _ = w.location().set_hash(&to_hash(&self.options));
        }
    }

    /// Puts the options into the controls.
    fn write_controls(&self) {
        let o = &self.options;
        let c = &o.config;
        let set_input = |id: &str, value: String| {
            if let Ok(i) = input(id) {
                i.set_value(&value);
            }
        };
        let set_select = |id: &str, value: &str| {
            if let Ok(s) = select(id) {
                s.set_value(value);
            }
        };
        let set_out = |id: &str, text: String| {
            if let Ok(e) = by_id::<Element>(id) {
                set_text(&e, &text);
            }
        };
        set_input("noise", format!("{}", (c.data.noise * 100.0).round()));
        set_out("noise-out", format!("{}", (c.data.noise * 100.0).round()));
        set_input("ratio", format!("{}", (c.data.train_ratio * 100.0).round()));
        set_out(
            "ratio-out",
            format!("{} %", (c.data.train_ratio * 100.0).round()),
        );
        set_input("points", c.data.n_points.to_string());
        set_out("points-out", c.data.n_points.to_string());
        set_input("batch", c.train.batch_size.to_string());
        set_out("batch-out", c.train.batch_size.to_string());
        set_input(
            "layers",
            c.model
                .hidden
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
        );
        set_select("activation", c.model.activation.name());
        set_select("lr", &c.train.learning_rate.to_string());
        set_select("optimizer", c.train.optimizer.name());
        set_select("method", c.growth.method.name());
        set_select("baseline", o.baseline.name());
        set_input("interval", c.train.epochs_per_growth.to_string());
        set_out("interval-out", c.train.epochs_per_growth.to_string());
        if let Budget::Count(n) = c.growth.budget {
            set_input("per-growth", n.to_string());
        }
        set_input("candidates", c.growth.candidates.to_string());
        set_input("eps", c.growth.eps_max.to_string());
        set_input("max-units", c.train.max_units.to_string());
        set_select(
            "on-growth",
            match c.train.on_growth {
                OnGrowth::Reset => "reset",
                OnGrowth::Carry => "carry",
            },
        );
        set_input("seed", c.seed.to_string());
        for (id, on) in [
            ("show-test", o.show_test),
            ("discretize", o.discretize),
            ("slowmo", o.slow_motion),
        ] {
            if let Ok(i) = input(id) {
                i.set_checked(on);
            }
        }
        if let Ok(list) = by_id::<Element>("datasets") {
            let children = list.children();
            for i in 0..children.length() {
                if let Some(child) = children.item(i) {
                    let on =
                        child.get_attribute("data-kind").as_deref() == Some(c.data.kind.name());
                    set_attr(&child, "aria-checked", if on { "true" } else { "false" });
                }
            }
        }
    }

    /// Reads every control into new options (raw values first, then the engine validates).
    fn read_controls(&self) -> Result<PageOptions, String> {
        let mut o = self.options.clone();
        let c = &mut o.config;
        c.data.noise = number::<f32>("noise", "noise")? / 100.0;
        c.data.train_ratio = number::<f32>("ratio", "training share")? / 100.0;
        c.data.n_points = number("points", "points")?;
        c.train.batch_size = number("batch", "batch size")?;
        let layers = input("layers")
            .map_err(|_| "missing layers".to_string())?
            .value();
        c.model.hidden = parse_layers(&layers)?;
        let value = |id: &str| select(id).map(|s| s.value()).unwrap_or_default();
        c.model.activation = value("activation")
            .parse::<Activation>()
            .map_err(|e| e.to_string())?;
        c.train.learning_rate = value("lr")
            .parse::<f32>()
            .map_err(|_| "learning rate: not a number".to_string())?;
        c.train.optimizer = value("optimizer")
            .parse::<OptimizerKind>()
            .map_err(|e| e.to_string())?;
        c.growth.method = value("method")
            .parse::<Method>()
            .map_err(|e| e.to_string())?;
        o.baseline = value("baseline")
            .parse::<Method>()
            .map_err(|e| e.to_string())?;
        let c = &mut o.config;
        c.train.epochs_per_growth = number("interval", "growth interval")?;
        c.growth.budget = Budget::Count(number("per-growth", "units per growth")?);
        c.growth.candidates = number("candidates", "candidates")?;
        c.growth.eps_max = number("eps", "ε max")?;
        c.train.max_units = number("max-units", "max units")?;
        c.train.on_growth = match value("on-growth").as_str() {
            "carry" => OnGrowth::Carry,
            _ => OnGrowth::Reset,
        };
        c.seed = number("seed", "seed")?;
        c.data.seed = c.seed;
        c.validate().map_err(|e| e.to_string())?;
        Ok(o)
    }
}

/// Builds the main and baseline sessions on the same data and seed.
fn sessions(
    options: &PageOptions,
    data: &Dataset,
    device: &Device,
) -> Result<(Session, Session), String> {
    let main = Session::with_dataset(options.config.clone(), data.clone(), device.clone())
        .map_err(engine_error)?;
    let mut baseline_config = options.config.clone();
    baseline_config.growth.method = options.baseline;
    let baseline = Session::with_dataset(baseline_config, data.clone(), device.clone())
        .map_err(engine_error)?;
    Ok((main, baseline))
}

/// Whether a key event comes from a text field (where shortcuts must not fire).
pub fn from_text_field(target: Option<web_sys::EventTarget>) -> bool {
    target
        .and_then(|t| t.dyn_into::<Element>().ok())
        .is_some_and(|e| {
            let tag = e.tag_name().to_ascii_lowercase();
            tag == "textarea"
                || tag == "select"
                || (tag == "input"
                    && !matches!(
                        e.get_attribute("type").as_deref(),
                        Some("checkbox") | Some("range") | Some("button")
                    ))
        })
}

/// Whether a key event comes from a control that handles Space/Enter itself.
pub fn from_control(target: Option<web_sys::EventTarget>) -> bool {
    target
        .and_then(|t| t.dyn_into::<Element>().ok())
        .is_some_and(|e| {
            matches!(
                e.tag_name().to_ascii_lowercase().as_str(),
                "button" | "input" | "select" | "textarea" | "a" | "label"
            )
        })
}

/// The dataset kinds shown as thumbnails, in order.
pub fn dataset_kinds() -> [DatasetKind; 9] {
    DatasetKind::ALL
}

/// Points for a dataset thumbnail (200 points, noise 0, a fixed seed).
pub fn thumbnail_points(kind: DatasetKind) -> Option<(Vec<Sample>, Task)> {
    let mut config = DataConfig::new(kind);
    config.n_points = 200;
    config.seed = 7;
    let data = Dataset::generate(&config).ok()?;
    let mut points = data.train;
    points.extend(data.test);
    Some((points, data.task))
}

/// The backend the page asked for.
pub async fn init_device(choice: BackendChoice) -> (Device, Backend, Option<String>) {
    if choice == BackendChoice::Cpu {
        return (
            Device::flex(),
            Backend::Cpu,
            Some("Running on the CPU backend, as the link asks (backend=cpu).".into()),
        );
    }
    match Device::wgpu_options().init_async().await {
        Ok(device) => (device, Backend::WebGpu, None),
        Err(e) => {
            web_sys::console::info_1(&format!("webgpu unavailable: {e:?}").into());
            (
                Device::flex(),
                Backend::Cpu,
                Some(
                    "WebGPU is not available in this browser, so the networks train on the CPU backend (WebAssembly). Everything works; large networks are slower."
                        .into(),
                ),
            )
        }
    }
}
