//! The browser playground (wasm32 only): the edge between the page and
//! [`crate::playground::Playground`]. Listeners read values from the DOM and push [`Event`]s into
//! an inbox; one async loop, once per animation frame, hands the playground's messages to its
//! synchronous `update`, carries out the [`Effects`] (the link, the controls), advances both runs
//! by a time-boxed amount of work and redraws.
//!
//! Modules: [`controls`] (built from the settings table), [`view`] (drawing and `data-*`),
//! [`draw`] (canvas drawing), [`device`] (WebGPU or CPU, the probe), [`dom`].
//! Entry point: [`start_on_page`], the module's `#[wasm_bindgen(start)]` function (the page is
//! this library built as a `cdylib` by trunk), which calls [`start`] on a page with `#app`.

pub mod charts;
pub mod continual;
pub mod controls;
pub mod crash;
pub mod device;
pub mod dom;
pub mod draw;
pub mod host;
pub mod view;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use burn::tensor::Device;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{
    Element, HtmlCanvasElement, HtmlElement, HtmlInputElement, KeyboardEvent, MouseEvent,
};

use crate::playground::{Cause, Effects, Msg, Playground, SaveKind};
use crate::settings;
use crate::train::TrainPath;
use crate::url::parse_hash;
use dom::{by_id, listen};
use view::{Ui, View};

/// What a listener hands to the loop.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A message for the playground.
    App(Msg),
    /// Flip a checkbox setting by its key (keyboard shortcuts).
    Toggle(&'static str),
    /// The pointer is over the network diagram at canvas coordinates (or left it).
    Hover(Option<(f64, f64)>),
    /// Arrow keys on the diagram (−1 previous, +1 next, ±100 a layer).
    FocusUnit(i32),
    /// The diagram lost the keyboard focus.
    BlurDiagram,
    /// Open or close the shortcut sheet.
    ToggleShortcuts,
    /// Close the shortcut sheet.
    CloseShortcuts,
    /// A host page posted a message (read, not yet checked against the allowed origins).
    HostMessage {
        /// The sender's origin.
        origin: String,
        /// The command, or why it could not be read.
        command: Result<crate::playground::Command, String>,
    },
    /// The page went to the background (`true`) or came back.
    PageHidden(bool),
    /// The playground scrolled into view (`true`) or out of it.
    OnScreen(bool),
    /// Open or close the Share dialog.
    Share(bool),
    /// A checkbox of the Share dialog changed.
    ShareChanged,
    /// A Save button.
    Save(SaveKind),
    /// A run file could not be read: its name and why.
    ImportFailed(String, String),
    /// The button of the notice with this cause.
    Act(Cause),
}

/// The inbox shared by listeners and the loop.
pub type Inbox = Rc<RefCell<VecDeque<Event>>>;

/// Adds an event to the inbox.
pub fn push(inbox: &Inbox, event: Event) {
    inbox.borrow_mut().push_back(event);
}

unsafe extern "C" {
    /// wasm-ld's function that runs the static constructors (some dependencies register items
    /// with `inventory`). While no code calls it, wasm-ld wraps *every* export in it, so each
    /// call from JavaScript into the module (each closure, each string passed) ran all of them
    /// again: a third of the page's time. Calling it once here turns that off.
    fn __wasm_call_ctors();
}

/// Runs the static constructors, once. A wasm binary that never calls `__wasm_call_ctors` gets
/// it called by wasm-ld at the top of every export; this module calls it itself (so that calls
/// from JavaScript stay cheap), which makes it our job to run it before anything needs the
/// registrations (the WebGPU backend's). The page's start function does; tests that use WebGPU
/// call this first.
pub fn run_constructors() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: wasm-ld defines it; the `Once` runs it exactly once.
    ONCE.call_once(|| unsafe { __wasm_call_ctors() });
}

/// The module's start function: runs the constructors, then starts the playground on a page
/// that has `#app` (the wasm-bindgen test pages have none).
#[wasm_bindgen(start)]
pub fn start_on_page() {
    run_constructors();
    if by_id::<Element>("app").is_ok() {
        start();
    }
}

/// Starts the playground: shows errors in the page, never only in the console.
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let message = format!("the playground stopped: {info}");
        web_sys::console::error_1(&message.clone().into());
        crash::show(&message);
    }));
    wasm_bindgen_futures::spawn_local(async {
        if let Err(e) = run().await {
            let message = e.as_string().unwrap_or_else(|| format!("{e:?}"));
            crash::show(&format!("the playground could not start: {message}"));
        }
    });
}

fn current_hash() -> String {
    dom::window()
        .and_then(|w| w.location().hash())
        .unwrap_or_default()
}

async fn run() -> Result<(), JsValue> {
    let hash = current_hash();
    let (options, problems) = parse_hash(&hash);
    // Before anything listens: the build without WebGPU code hands the page to the WebGPU
    // build when the settings want it.
    let cpu_because = match device::hand_over(&options).await {
        device::Handover::Elsewhere => return Ok(()),
        device::Handover::Here(note) => note,
    };
    let inbox: Inbox = Rc::new(RefCell::new(VecDeque::new()));
    controls::build(&inbox)?;
    bind_page(&inbox)?;
    host::bind_messages(&inbox)?;
    host::bind_visibility(&inbox)?;
    host::bind_share(&inbox)?;
    host::bind_export(&inbox)?;
    host::write_layout(&options);
    controls::write(&options, &[]);
    if options.continual {
        // Continual learning runs on the CPU in plain loops (no WebGPU to pick).
        return continual::run(options, &problems, inbox).await;
    }
    let choice = device::init(options.backend, &options.config, cpu_because).await;
    let (device, mut backend, note) = (choice.device, choice.backend, choice.note);
    // On WebGPU: the watch on the device and the last good state to go back to if it is lost.
    let mut gpu = choice.watch.map(GpuGuard::new);
    // On the CPU the fused CPU step trains (growing on the CPU or on WebGPU); on WebGPU the
    // tensors stay on the GPU.
    let path = backend.split().path();
    let mut playground =
        Playground::from_hash_on(&hash, device, path).map_err(|e| JsValue::from_str(&e))?;
    controls::write(playground.options(), &playground.held());
    host::write_layout(playground.options());
    let mut host = host::Host::new();
    let (mut page_hidden, mut on_screen) = (dom::document()?.hidden(), true);
    let mut view = View::new(Ui::find()?, backend, note.as_deref());
    if let Some(timings) = &choice.probe {
        view.show_probe(timings);
    }
    bind_canvases(&inbox, &view)?;
    // What drawing a frame costs (a moving average), so training takes the rest of the frame.
    let mut draw_ms = 4.0;
    // When the runs last worked: the pace lends epochs by the time played.
    let mut worked_at = dom::now();
    let mut memory_at = f64::NEG_INFINITY;
    loop {
        dom::next_frame().await;
        let events: Vec<Event> = inbox.borrow_mut().drain(..).collect();
        let mut changed = !events.is_empty();
        if changed {
            crash::note_link(&playground.settings_hash());
        }
        for event in events {
            if !matches!(
                event,
                Event::Hover(_) | Event::OnScreen(_) | Event::PageHidden(_)
            ) {
                crash::note_event(&event);
                if let Some(guard) = &mut gpu {
                    guard.dirty = true;
                }
            }
            match event {
                Event::PageHidden(hidden) => page_hidden = hidden,
                Event::OnScreen(seen) => on_screen = seen,
                event => handle(event, &mut playground, &mut view, &host).await?,
            }
        }
        // The GPU went (or reported an error nobody caught): move every run to the CPU and
        // carry on from the last good state.
        if let Some(why) = gpu
            .as_ref()
            .and_then(|g| g.watch.lost().map(str::to_string))
        {
            let saved = gpu.take().and_then(|g| g.saved);
            crash::note_event(&format!("GPU lost: {why}"));
            let lost_at = playground.main().epoch();
            let fx = playground.relocate(Device::flex(), TrainPath::Fused, saved, &why);
            backend = device::Backend::Cpu;
            let resumed = playground.main().epoch();
            let note = format!("Running on the CPU backend: the GPU was lost at epoch {lost_at}.");
            view = View::new(Ui::find()?, backend, Some(&note));
            apply(fx, &playground, &mut view)?;
            view.forget();
            let root: Element = by_id("app")?;
            dom::set_attr(&root, "data-gpu-lost", &lost_at.to_string());
            dom::set_attr(&root, "data-gpu-resumed", &resumed.to_string());
            changed = true;
        }
        // Unseen (another tab, or scrolled away in a course page): no training, no drawing.
        let visible = !page_hidden && on_screen;
        host::write_visible(visible);
        if dom::now() - memory_at > 1000.0 {
            memory_at = dom::now();
            view::write_memory();
        }
        if !visible {
            host.tick(&playground);
            continue;
        }
        if playground.state() == crate::playground::RunState::Running || playground.busy() {
            let budget = (backend.frame_budget_ms() - draw_ms).max(2.0);
            let now = dom::now();
            playground.work_paced(budget, now - worked_at).await;
            worked_at = now;
            changed = true;
        }
        if let Some(guard) = &mut gpu
            && guard.hold_frame(&playground)
        {
            // The device went during this frame's work (the next frame moves the runs), or a
            // run failed on it and its loss is likely on its way: draw nothing from it now.
            continue;
        }
        let start = dom::now();
        view.frame(&playground, changed).await;
        if changed {
            draw_ms = 0.8 * draw_ms + 0.2 * (dom::now() - start);
        }
        if let Some(guard) = &mut gpu {
            guard.save(&playground).await;
        }
        host.tick(&playground);
    }
}

/// What the loop keeps while the runs compute on WebGPU: the watch on the device, the last
/// good state (every run's network and history, saved after each epoch and after each change
/// of the person's, at most every [`GpuGuard::SAVE_MS`]) and how long a failure has waited for
/// the loss that may explain it.
struct GpuGuard {
    watch: device::GpuWatch,
    saved: Option<crate::playground::SavedState>,
    /// Something changed since the last save (an epoch, a growth, the person's input).
    dirty: bool,
    saved_at: f64,
    saved_key: (usize, usize, usize),
    held: u32,
}

impl GpuGuard {
    /// The shortest time between two saves (each reads every network back from the GPU).
    const SAVE_MS: f64 = 500.0;
    /// How many frames a run's failure waits for the device's loss before it is shown.
    const HOLD_FRAMES: u32 = 30;

    fn new(watch: device::GpuWatch) -> Self {
        GpuGuard {
            watch,
            saved: None,
            dirty: true,
            saved_at: f64::NEG_INFINITY,
            saved_key: (usize::MAX, 0, 0),
            held: 0,
        }
    }

    /// Whether to hold back the frame: the device is lost (reads from it fail), or a run
    /// failed while the device still looks good (for at most [`GpuGuard::HOLD_FRAMES`]).
    fn hold_frame(&mut self, playground: &Playground) -> bool {
        if self.watch.lost().is_some() {
            return true;
        }
        if playground.state() != crate::playground::RunState::Error {
            self.held = 0;
            return false;
        }
        self.held = self.held.saturating_add(1);
        self.held <= Self::HOLD_FRAMES
    }

    /// Saves the runs when something changed and the last save is old enough; a save that
    /// fails (a read on a device going away, a run just grown) keeps the previous one.
    async fn save(&mut self, playground: &Playground) {
        let main = playground.main();
        let key = (
            main.epoch(),
            main.history().growths.len(),
            playground.baseline().epoch(),
        );
        if key != self.saved_key {
            self.dirty = true;
        }
        if !self.dirty || dom::now() - self.saved_at < Self::SAVE_MS || self.watch.lost().is_some()
        {
            return;
        }
        self.saved_at = dom::now();
        if let Ok(state) = playground.save_state().await
            && self.watch.lost().is_none()
        {
            self.saved = Some(state);
            self.saved_key = key;
            self.dirty = false;
        }
    }
}

async fn handle(
    event: Event,
    playground: &mut Playground,
    view: &mut View,
    host: &host::Host<crate::playground::EventCursor>,
) -> Result<(), JsValue> {
    match event {
        Event::App(msg) => {
            let fx = playground.update(msg);
            apply(fx, playground, view)?;
        }
        Event::Toggle(key) => {
            if let Some(setting) = settings::find(key) {
                let on = setting.get(playground.options()) == "1";
                let msg = Msg::Set(key.into(), if on { "0" } else { "1" }.into());
                let fx = playground.update(msg);
                apply(fx, playground, view)?;
            }
        }
        Event::Hover(position) => view.hover(position, playground),
        Event::FocusUnit(delta) => view.move_focus(delta, playground),
        Event::BlurDiagram => view.blur(playground),
        Event::ToggleShortcuts => {
            let open = view.ui.shortcuts.hidden();
            dom::set_hidden(&view.ui.shortcuts, !open);
            if open && let Ok(close) = by_id::<HtmlElement>("shortcuts-close") {
                let _ = close.focus();
            }
        }
        Event::CloseShortcuts => dom::set_hidden(&view.ui.shortcuts, true),
        Event::HostMessage { origin, command } => {
            let Some(command) = host.accept(playground.options(), &origin, command) else {
                return Ok(());
            };
            let name = command.name();
            if command == crate::playground::Command::Export {
                match playground.export().await {
                    Ok(run) => host.post(
                        playground.options(),
                        &crate::playground::HostEvent::Export { run: Box::new(run) },
                    ),
                    Err(e) => host.refuse(playground.options(), Some(name), e.to_string()),
                }
                return Ok(());
            }
            match playground.command(command) {
                Ok(fx) => apply(fx, playground, view)?,
                Err(message) => host.refuse(playground.options(), Some(name), message),
            }
        }
        Event::Share(open) => host::share(open, playground.options(), playground.custom_data())?,
        Event::ShareChanged => host::share(true, playground.options(), playground.custom_data())?,
        Event::Save(kind) => {
            if let Err(e) = host::save(kind, playground).await {
                web_sys::console::error_1(&e);
            }
        }
        Event::ImportFailed(name, why) => {
            let fx = playground.update(Msg::ImportFailed(name, why));
            apply(fx, playground, view)?;
        }
        Event::Act(cause) => {
            let action = playground
                .notices()
                .iter()
                .find(|n| n.cause == cause)
                .and_then(|n| n.action);
            if let Some(action) = action {
                let fx = playground.update(Msg::Act(action));
                apply(fx, playground, view)?;
            }
        }
        Event::PageHidden(_) | Event::OnScreen(_) => {}
    }
    Ok(())
}

/// Carries out what an update asks of the page.
fn apply(fx: Effects, playground: &Playground, view: &mut View) -> Result<(), JsValue> {
    if let Some(write) = fx.hash {
        let window = dom::window()?;
        let history = window.history()?;
        let url = format!("#{}", write.hash);
        // An empty hash still needs a URL that drops the old one.
        let url = if write.hash.is_empty() {
            let location = window.location();
            format!("{}{}", location.pathname()?, location.search()?)
        } else {
            url
        };
        if write.push {
            history.push_state_with_url(&JsValue::NULL, "", Some(&url))?;
        } else {
            history.replace_state_with_url(&JsValue::NULL, "", Some(&url))?;
        }
    }
    if fx.controls {
        controls::write(playground.options(), &playground.held());
        host::write_layout(playground.options());
    }
    if fx.restarted {
        view.forget();
    }
    if fx.reload {
        dom::window()?.location().reload()?;
    }
    Ok(())
}

fn bind_page(inbox: &Inbox) -> Result<(), JsValue> {
    let click = |id: &str, event: Event| -> Result<(), JsValue> {
        let inbox = inbox.clone();
        let el: HtmlElement = by_id(id)?;
        listen(&el, "click", move |_: web_sys::Event| {
            push(&inbox, event.clone())
        })
    };
    click("play", Event::App(Msg::TogglePlay))?;
    click("step", Event::App(Msg::Step))?;
    click("grow", Event::App(Msg::Grow))?;
    click("reset", Event::App(Msg::Reset))?;
    click("help", Event::ToggleShortcuts)?;
    click("shortcuts-close", Event::CloseShortcuts)?;
    {
        // The embedded layout folds the panels of controls behind one button.
        let button: HtmlElement = by_id("controls-toggle")?;
        let source = button.clone();
        listen(&button, "click", move |_: web_sys::Event| {
            if let Ok(root) = by_id::<Element>("app") {
                let open = root.class_list().toggle("controls-open").unwrap_or(false);
                let _ = source.set_attribute("aria-expanded", if open { "true" } else { "false" });
            }
        })?;
    }
    {
        let inbox = inbox.clone();
        let el: HtmlElement = by_id("regenerate")?;
        listen(&el, "click", move |_: web_sys::Event| {
            let seed = (js_sys::Math::random() * 4e9) as u64;
            push(&inbox, Event::App(Msg::Regenerate(seed)));
        })?;
    }

    // Notices: one listener for every close button.
    {
        let inbox = inbox.clone();
        let list: HtmlElement = by_id("notices")?;
        listen(&list, "click", move |e: web_sys::Event| {
            let target = e.target().and_then(|t| t.dyn_into::<Element>().ok());
            let cause = target
                .as_ref()
                .and_then(|el| el.get_attribute("data-dismiss"))
                .and_then(|name| Cause::from_name(&name));
            if let Some(cause) = cause {
                push(&inbox, Event::App(Msg::Dismiss(cause)));
            }
            // A notice's action: the loop looks the notice up by its cause.
            if let Some(cause) = target
                .and_then(|el| el.get_attribute("data-act"))
                .and_then(|name| Cause::from_name(&name))
            {
                push(&inbox, Event::Act(cause));
            }
        })?;
    }

    // Back, Forward and pasted links.
    let window = dom::window()?;
    for name in ["hashchange", "popstate"] {
        let inbox = inbox.clone();
        listen(&window, name, move |_: web_sys::Event| {
            push(&inbox, Event::App(Msg::Link(current_hash())));
        })?;
    }

    // CSV upload: refuse an over-large file before reading it; say when reading starts.
    {
        let inbox = inbox.clone();
        let file_input: HtmlInputElement = by_id("csv")?;
        let source = file_input.clone();
        listen(&file_input, "change", move |_: web_sys::Event| {
            let Some(file) = source.files().and_then(|f| f.get(0)) else {
                return;
            };
            source.set_value("");
            let name = file.name();
            let bytes = file.size();
            push(&inbox, Event::App(Msg::CsvLoading(name.clone(), bytes)));
            if bytes > crate::data::MAX_CSV_BYTES as f64 {
                return;
            }
            let inbox = inbox.clone();
            wasm_bindgen_futures::spawn_local(async move {
                // Let a frame show the "Reading…" notice before the work starts.
                dom::next_frame().await;
                let msg = match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                    Ok(text) => Msg::Csv(name, text.as_string().unwrap_or_default()),
                    Err(_) => Msg::CsvFailed(name, "the file could not be read".into()),
                };
                push(&inbox, Event::App(msg));
            });
        })?;
    }

    // Global shortcuts. Space is Play/Pause wherever the focus is, except in text fields,
    // lists and checkboxes (where Space types or ticks); Enter still presses a focused button.
    {
        let inbox = inbox.clone();
        let document = dom::document()?;
        listen(&document, "keydown", move |e: KeyboardEvent| {
            if e.ctrl_key() || e.meta_key() || e.alt_key() {
                return;
            }
            let target = e.target();
            if takes_typing(target.clone()) && e.key() != "Escape" {
                return;
            }
            let event = match e.key().as_str() {
                " " | "Spacebar" => {
                    if is_checkbox(target) {
                        return;
                    }
                    Event::App(Msg::TogglePlay)
                }
                "s" | "S" | "." => Event::App(Msg::Step),
                "g" | "G" => Event::App(Msg::Grow),
                "r" | "R" => Event::App(Msg::Reset),
                "m" | "M" => Event::Toggle("slowmo"),
                "t" | "T" => Event::Toggle("test"),
                "d" | "D" => Event::Toggle("discretize"),
                "?" => Event::ToggleShortcuts,
                "Escape" => Event::CloseShortcuts,
                _ => return,
            };
            e.prevent_default();
            push(&inbox, event);
        })?;
        // A button activates on Space's key-up: keep Space for Play/Pause there too.
        let document = dom::document()?;
        listen(&document, "keyup", move |e: KeyboardEvent| {
            if (e.key() == " " || e.key() == "Spacebar")
                && !takes_typing(e.target())
                && !is_checkbox(e.target())
            {
                e.prevent_default();
            }
        })?;
    }
    Ok(())
}

fn bind_canvases(inbox: &Inbox, view: &View) -> Result<(), JsValue> {
    // Points: click adds, shift-click adds the other class, ctrl-click removes.
    {
        let inbox = inbox.clone();
        let canvas = view.ui.main_map().canvas().clone();
        let source = canvas.clone();
        listen(&canvas, "click", move |e: MouseEvent| {
            let rect = source.get_bounding_client_rect();
            let (w, h) = (rect.width().max(1.0), rect.height().max(1.0));
            let d = f64::from(crate::data::DOMAIN);
            let x = (e.offset_x() as f64 / w * 2.0 * d - d) as f32;
            let y = (d - e.offset_y() as f64 / h * 2.0 * d) as f32;
            let msg = if e.ctrl_key() || e.meta_key() {
                Msg::RemovePoint(x, y)
            } else {
                Msg::AddPoint(x, y, e.shift_key())
            };
            push(&inbox, Event::App(msg));
        })?;
    }
    // The network diagram: hover and keyboard focus show a node's card.
    let canvas: HtmlCanvasElement = view.ui.network().clone();
    let source = canvas.clone();
    let inbox2 = inbox.clone();
    listen(&canvas, "mousemove", move |e: MouseEvent| {
        let rect = source.get_bounding_client_rect();
        let sx = source.width() as f64 / rect.width().max(1.0);
        let sy = source.height() as f64 / rect.height().max(1.0);
        push(
            &inbox2,
            Event::Hover(Some((e.offset_x() as f64 * sx, e.offset_y() as f64 * sy))),
        );
    })?;
    let inbox3 = inbox.clone();
    listen(&canvas, "mouseleave", move |_: web_sys::Event| {
        push(&inbox3, Event::Hover(None))
    })?;
    let inbox4 = inbox.clone();
    listen(&canvas, "keydown", move |e: KeyboardEvent| {
        let delta = match e.key().as_str() {
            "ArrowDown" => 1,
            "ArrowUp" => -1,
            "ArrowRight" => 100,
            "ArrowLeft" => -100,
            _ => return,
        };
        e.prevent_default();
        push(&inbox4, Event::FocusUnit(delta));
    })?;
    let inbox5 = inbox.clone();
    listen(&canvas, "focus", move |_: web_sys::Event| {
        push(&inbox5, Event::FocusUnit(0))
    })?;
    let inbox6 = inbox.clone();
    listen(&canvas, "blur", move |_: web_sys::Event| {
        push(&inbox6, Event::BlurDiagram)
    })?;
    Ok(())
}

fn element(target: Option<web_sys::EventTarget>) -> Option<Element> {
    target.and_then(|t| t.dyn_into::<Element>().ok())
}

/// Whether a key event comes from a field that takes typing (shortcuts must not fire there).
pub fn takes_typing(target: Option<web_sys::EventTarget>) -> bool {
    element(target).is_some_and(|e| {
        let tag = e.tag_name().to_ascii_lowercase();
        tag == "textarea"
            || tag == "select"
            || (tag == "input"
                && !matches!(
                    e.get_attribute("type").as_deref(),
                    Some("checkbox") | Some("range") | Some("button") | Some("file")
                ))
    })
}

/// Whether a key event comes from a checkbox (Space ticks it).
pub fn is_checkbox(target: Option<web_sys::EventTarget>) -> bool {
    element(target).is_some_and(|e| {
        e.tag_name().eq_ignore_ascii_case("input")
            && e.get_attribute("type").as_deref() == Some("checkbox")
    })
}
