//! The page in continual-learning mode (`mode=continual`): a mode of the page's one frame loop
//! (`frame.rs`) over [`ContinualPage`], drawing the task strip, the accuracy table, both runs'
//! maps of the current task and Firefly's units coloured by the task that owns them (unlocked
//! copies ringed). The maths is the engine's; this file draws and handles Play, Step, Reset, the
//! mode switch, Save and Open a run (the continual run's JSON, through [`super::host::save`])
//! and the host page's commands, whose origin checks and events are [`super::host::Host`]'s.

use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlCanvasElement, HtmlElement};

use super::dom::{self, by_id, set_attr, set_text};
use super::draw::{self, DecisionMap};
use super::frame::{Mode, ModeHost, Worked};
use super::host;
use super::{Event, Inbox};
use crate::continual::{ContinualRun, UnitOrigin};
use crate::playground::continual::{ContinualPage, TaskState};
use crate::playground::{Command, Msg};
use crate::settings::{self, Effect, PageOptions};
use crate::url::to_hash;

/// Side of the maps' grid.
const RESOLUTION: usize = 60;
/// Work per call to [`ContinualPage::work`] (a unit is about 0.1 ms).
const CHUNK: usize = 20;
/// Milliseconds of training per frame.
const FRAME_MS: f64 = 10.0;
/// Colours of the tasks' units, in order.
const TASK_COLOURS: [&str; 6] = [
    "#7b3fe4", "#0877bd", "#2ea043", "#f59322", "#c0392b", "#555",
];

/// Runs the continual mode until the page goes (a mode switch reloads it).
pub async fn run(
    options: PageOptions,
    problems: &[crate::url::Problem],
    inbox: Inbox,
) -> Result<(), JsValue> {
    let root: Element = by_id("app")?;
    let _ = root.class_list().add_1("continual-mode");
    set_attr(&root, "data-mode", "continual");
    // Continual learning trains on the CPU: the toolbar's badge says so, as in growth.
    let cpu = super::device::Backend::Cpu;
    set_attr(&root, "data-backend", cpu.name());
    if let Ok(badge) = by_id::<Element>("backend-badge") {
        set_text(&badge, cpu.label());
        set_attr(&badge, "class", &format!("badge {}", cpu.name()));
    }
    if let Ok(panel) = by_id::<HtmlElement>("continual") {
        dom::set_hidden(&panel, false);
    }
    set_text(&by_id::<Element>("main-name")?, "Firefly (grows per task)");
    set_text(
        &by_id::<Element>("baseline-name")?,
        "Fine-tuning one network",
    );
    set_text(
        &by_id::<Element>("look-for")?,
        "Tasks arrive one after another. Firefly grows for each new task, choosing between unlocked copies of old units and new units, and freezes the units each old task uses, so old tasks keep their accuracy exactly; the other network is fine-tuned on each task in turn and forgets. Watch the table as tasks end.",
    );
    show_save_row();
    let mut page = ContinualPage::new(&options).map_err(|e| JsValue::from_str(&e))?;
    page.report_link(problems);
    let maps = (
        DecisionMap::new(by_id("heatmap")?)?,
        DecisionMap::new(by_id("baseline-heatmap")?)?,
    );
    let mut mode = Continual {
        network: by_id("network")?,
        link: page.link(),
        page,
        root,
        maps,
        shown_notices: Vec::new(),
        notice_list: by_id("notices")?,
        last_frame: dom::now(),
        credit: 0.0,
    };
    super::frame::run(&mut mode, &inbox).await
}

/// Continual mode: its page model and what it draws into.
struct Continual {
    page: ContinualPage,
    root: Element,
    maps: (DecisionMap, DecisionMap),
    network: HtmlCanvasElement,
    /// The link last written to the address bar.
    link: String,
    notice_list: HtmlElement,
    shown_notices: super::view::notices::Shown,
    /// When the last frame's work began (ms), and the training steps Speed allows and not yet
    /// taken.
    last_frame: f64,
    credit: f64,
}

impl Mode for Continual {
    type Page = ContinualPage;

    fn page(&self) -> &ContinualPage {
        &self.page
    }

    fn link(&self) -> String {
        self.page.link()
    }

    async fn handle(&mut self, event: Event, host: &ModeHost<Self>) -> Result<(), JsValue> {
        let page = &mut self.page;
        match event {
            Event::App(Msg::Set(key, value)) => switch(page, &key, &value)?,
            Event::App(msg) => page.update(msg).map_err(|e| JsValue::from_str(&e))?,
            Event::ImportFailed(name, why) => page
                .update(Msg::ImportFailed(name, why))
                .map_err(|e| JsValue::from_str(&e))?,
            Event::Save(kind) => {
                if let Err(e) = host::save(kind, &*page).await {
                    web_sys::console::error_1(&e);
                }
            }
            Event::HostMessage { origin, command } => {
                let Some(command) = host.accept(page.options(), &origin, command) else {
                    return Ok(());
                };
                if command == Command::Export {
                    host.export(&*page).await;
                    return Ok(());
                }
                let name = command.name();
                if let Err(message) = page.command(command) {
                    host.refuse(page.options(), Some(name), message);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// An import brought its own sequence and seed: the link says so (Reset and a reload start
    /// that run).
    async fn settle(&mut self) -> Result<bool, JsValue> {
        if self.page.link() != self.link {
            self.link = self.page.link();
            let window = dom::window()?;
            window.history()?.replace_state_with_url(
                &JsValue::NULL,
                "",
                Some(&format!("#{}", self.link)),
            )?;
        }
        Ok(false)
    }

    /// The state is still written (cheap), so that a test sees nothing trained.
    fn unseen(&mut self) -> Result<(), JsValue> {
        write_state(&self.root, &self.page)
    }

    /// Trains for at most [`FRAME_MS`] in chunks of [`CHUNK`] training steps (or single units of
    /// a growth phase), as many steps a second as Speed says (a full-batch step is an epoch
    /// here; Fastest: as many as the frame allows); growth phases are not paced. A run that
    /// fails stops the page.
    async fn work(&mut self) -> Result<Worked, JsValue> {
        let (start, running) = (dom::now(), self.page.running());
        let speed = f64::from(self.page.options().speed);
        let since = (start - self.last_frame).clamp(0.0, 100.0);
        self.last_frame = start;
        // Steps owed: at most a tenth of a second's worth, so a pause or a hidden tab does not
        // come back as a burst.
        self.credit = (self.credit + speed * since / 1000.0).min((speed / 10.0).max(1.0));
        while self.page.running() && dom::now() - start < FRAME_MS {
            // A growth phase's units (Step 1 steps, Step 2 points) cost about as much as 20
            // training steps: one at a time, so that a frame stays near its budget.
            let chunk = match (self.page.growing(), speed > 0.0) {
                (true, _) => 1,
                (false, false) => CHUNK,
                (false, true) => (self.credit as usize).min(CHUNK),
            };
            if chunk == 0 {
                break;
            }
            match self.page.work(chunk) {
                Ok(steps) => self.credit -= steps as f64,
                Err(e) => {
                    super::crash::show(&format!("the continual run stopped: {e}"));
                    return Ok(Worked::Stopped);
                }
            }
        }
        Ok(if running {
            Worked::Changed
        } else {
            Worked::Nothing
        })
    }

    /// Draws every frame (the maps redraw only when their run or task changed).
    async fn draw(&mut self, _changed: bool) -> Result<bool, JsValue> {
        let page = &self.page;
        draw_all(page, &self.maps, &self.network, page.version())?;
        write_state(&self.root, page)?;
        super::view::notices::render(
            &self.root,
            &self.notice_list,
            page.notices(),
            &mut self.shown_notices,
        );
        Ok(true)
    }
}

/// Moves the Save and Open-a-run row into the continual panel (the Run panel it sits in is
/// hidden in this mode) and hides the Save buttons of the kinds continual mode does not save.
fn show_save_row() {
    let Ok(panel) = by_id::<Element>("continual") else {
        return;
    };
    if let Ok(Some(row)) = dom::document().and_then(|d| {
        d.query_selector("#run-panel .row.save")
            .map_err(|_| JsValue::from_str("no save row"))
    }) {
        let _ = panel.append_child(&row);
    }
    host::hide_other_saves::<ContinualPage>();
}

/// A changed setting: the mode (or anything that reloads) writes the link and loads the page
/// again; Speed applies at once; the rest waits for growth mode.
fn switch(page: &mut ContinualPage, key: &str, value: &str) -> Result<(), JsValue> {
    let mut next = page.options().clone();
    if settings::set_key(&mut next, key, value).is_err() {
        return Ok(());
    }
    let reload = settings::changed(page.options(), &next)
        .iter()
        .any(|s| s.effect == Effect::Reload);
    if !reload {
        let _ = page.set_view_options(next);
    } else {
        let window = dom::window()?;
        window.location().set_hash(&to_hash(&next))?;
        window.location().reload()?;
    }
    Ok(())
}

fn draw_all(
    page: &ContinualPage,
    maps: &(DecisionMap, DecisionMap),
    network: &HtmlCanvasElement,
    version: u64,
) -> Result<(), JsValue> {
    for (run, map) in [(page.firefly(), &maps.0), (page.fine_tune(), &maps.1)] {
        let task = page.task();
        let Some(data) = run.data(task) else { continue };
        let heat = ContinualPage::heat(run, task, RESOLUTION).map_err(|e| JsValue::from_str(&e))?;
        let k = heat.len() / (RESOLUTION * RESOLUTION).max(1);
        map.draw_heat(
            &heat,
            RESOLUTION,
            k,
            &data.train,
            None,
            data.task,
            false,
            version * 100 + task as u64,
        )?;
    }
    draw_units(network, page.firefly())
}

/// Firefly's hidden units in one row, coloured by the task that owns them; an unlocked copy has
/// a ring; under them, each task's head and lines to the units its mask reads.
fn draw_units(canvas: &HtmlCanvasElement, run: &ContinualRun) -> Result<(), JsValue> {
    let ctx = draw::context(canvas)?;
    let (w, h) = (f64::from(canvas.width()), f64::from(canvas.height()));
    ctx.clear_rect(0.0, 0.0, w, h);
    let net = run.net();
    let n = net.units.len().max(1) as f64;
    let x_of = |i: usize| 20.0 + (w - 40.0) * (i as f64 + 0.5) / n;
    let heads = net.heads.len().max(1) as f64;
    let head_x = |t: usize| 40.0 + (w - 80.0) * (t as f64 + 0.5) / heads;
    let (unit_y, head_y) = (h * 0.3, h * 0.8);
    ctx.set_line_width(1.0);
    for (t, head) in net.heads.iter().enumerate() {
        ctx.set_stroke_style_str(TASK_COLOURS[t % TASK_COLOURS.len()]);
        ctx.set_global_alpha(0.35);
        for id in &head.units {
            if let Some(i) = net.index_of(*id) {
                ctx.begin_path();
                ctx.move_to(x_of(i), unit_y);
                ctx.line_to(head_x(t), head_y);
                ctx.stroke();
            }
        }
    }
    ctx.set_global_alpha(1.0);
    let radius = (((w - 40.0) / n) * 0.4).clamp(2.5, 9.0);
    for (i, unit) in net.units.iter().enumerate() {
        ctx.set_fill_style_str(TASK_COLOURS[unit.owner % TASK_COLOURS.len()]);
        ctx.begin_path();
        ctx.arc(x_of(i), unit_y, radius, 0.0, std::f64::consts::TAU)?;
        ctx.fill();
        if matches!(unit.origin, UnitOrigin::Copy { .. }) {
            ctx.set_stroke_style_str("#222");
            ctx.set_line_width(2.0);
            ctx.begin_path();
            ctx.arc(x_of(i), unit_y, radius + 3.0, 0.0, std::f64::consts::TAU)?;
            ctx.stroke();
            ctx.set_line_width(1.0);
        }
    }
    ctx.set_font("12px system-ui, sans-serif");
    for (t, _) in net.heads.iter().enumerate() {
        let name = run
            .config()
            .task_names()
            .get(t)
            .cloned()
            .unwrap_or_else(|| "?".into());
        ctx.set_fill_style_str(TASK_COLOURS[t % TASK_COLOURS.len()]);
        ctx.fill_rect(head_x(t) - 6.0, head_y - 6.0, 12.0, 12.0);
        ctx.fill_text(
            &format!("head {}: {name}", t + 1),
            head_x(t) - 30.0,
            head_y + 22.0,
        )?;
    }
    ctx.set_fill_style_str("#444");
    ctx.fill_text(&ContinualPage::diagram_caption(run), 10.0, 16.0)?;
    ctx.fill_text(
        "lines: the units each task's head reads (its mask)",
        10.0,
        32.0,
    )?;
    Ok(())
}

fn write_state(root: &Element, page: &ContinualPage) -> Result<(), JsValue> {
    let state = if page.finished() {
        "finished"
    } else if page.running() {
        "running"
    } else {
        "paused"
    };
    set_attr(root, "data-state", state);
    set_attr(root, "data-settings", &page.link());
    set_attr(root, "data-task", &page.firefly().task().to_string());
    set_attr(
        root,
        "data-tasks-done",
        &page.firefly().table().len().to_string(),
    );
    set_attr(
        root,
        "data-units",
        &page.firefly().net().units.len().to_string(),
    );
    set_attr(root, "data-loss", &page.firefly().train_loss().to_string());
    set_text(&by_id::<Element>("progress")?, &page.progress());
    for (id, run) in [
        ("main-arch", page.firefly()),
        ("baseline-arch", page.fine_tune()),
    ] {
        set_text(&by_id::<Element>(id)?, &page.map_caption(run));
    }
    if let Ok(play) = by_id::<Element>("play") {
        set_text(&play, if page.running() { "Pause" } else { "Play" });
    }
    // The task strip.
    let strip: Vec<String> = page
        .strip()
        .iter()
        .map(|(k, s)| {
            let mark = match s {
                TaskState::Done => "✓",
                TaskState::Current => "▶",
                TaskState::Next => "·",
            };
            format!("{mark} {k}")
        })
        .collect();
    set_text(&by_id::<Element>("task-strip")?, &strip.join("   →   "));
    // The table: every task seen, both runs' accuracy now.
    let rows = page.rows().map_err(|e| JsValue::from_str(&e))?;
    let pct = |x: f32| format!("{:.1} %", x * 100.0);
    let mut text = Vec::new();
    let mut data = Vec::new();
    for r in &rows {
        let fine = r.fine_tune.map_or("—".to_string(), pct);
        text.push(format!(
            "{}: Firefly {} · fine-tuning {}",
            r.task,
            pct(r.firefly),
            fine
        ));
        data.push(format!(
            "{}:{:.4}:{}",
            r.task,
            r.firefly,
            r.fine_tune.map_or(String::new(), |f| format!("{f:.4}"))
        ));
    }
    let table: Element = by_id("cl-table")?;
    let lines = text.join("\n");
    if table.text_content().as_deref() != Some(lines.as_str()) {
        table.set_inner_html("");
        let document = dom::document()?;
        for line in text {
            let li = document.create_element("li")?;
            li.set_text_content(Some(&line));
            table.append_child(&li)?;
        }
    }
    set_attr(root, "data-cl", &data.join(","));
    Ok(())
}
