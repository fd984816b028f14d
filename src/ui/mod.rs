//! The browser playground (wasm32 only): the edge between the page and
//! [`crate::playground::Playground`] (or, in continual mode,
//! [`crate::playground::continual::ContinualPage`]). Listeners read values from the DOM and push
//! [`Event`]s into an inbox; one async loop (`frame.rs`), once per animation frame, hands them
//! to the page's mode (`growth.rs`, [`continual`]), which updates its page model and carries out
//! what that asks (the link, the controls), then lets the mode work for a time-boxed amount and
//! redraw.
//!
//! Modules: [`controls`] (built from the settings table), [`view`] (drawing and `data-*`),
//! [`draw`] (canvas drawing), [`device`] (WebGPU or CPU, the probe), [`host`] (the host page,
//! Save and *Open a run*), [`dom`].
//! Entry point: [`start_on_page`], the module's `#[wasm_bindgen(start)]` function (the page is
//! this library built as a `cdylib` by trunk), which calls [`start`] on a page with `#app`.

mod carry;
pub mod charts;
pub mod continual;
pub mod controls;
pub mod crash;
pub mod device;
pub mod dom;
pub mod draw;
mod frame;
mod growth;
pub mod host;
pub mod view;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{
    Element, HtmlCanvasElement, HtmlElement, HtmlInputElement, KeyboardEvent, MouseEvent,
};

use crate::playground::{Cause, Msg, Playground, SaveKind, SavedState};
use crate::settings::PageOptions;
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
    /// The pointer is over the loss chart at this canvas x (or left it).
    CurvesHover(Option<f64>),
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
    // A reload that decides the backend again for a grown network carries the runs over: the
    // choice is made for the network they have now.
    let carried = carry::peek(&crate::url::to_hash(&options)).filter(|_| !options.continual);
    let grown = carried
        .as_ref()
        .and_then(SavedState::main_network)
        .and_then(|mlp| crate::probe::grown_config(&options.config, mlp));
    let deciding = PageOptions {
        config: grown.clone().unwrap_or_else(|| options.config.clone()),
        ..options.clone()
    };
    // Before anything listens: the build without WebGPU code hands the page to the WebGPU
    // build when the settings want it (which then finds the carried runs itself).
    let cpu_because = match device::hand_over(&deciding).await {
        device::Handover::Elsewhere => return Ok(()),
        device::Handover::Here(note) => note,
    };
    carry::clear();
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
    let choice = device::init(options.backend, &deciding.config, cpu_because).await;
    let (device, backend, mut note) = (choice.device, choice.backend, choice.note);
    // On the CPU the fused CPU step trains (growing on the CPU or on WebGPU); on WebGPU the
    // tensors stay on the GPU.
    let path = backend.split().path();
    let mut playground =
        Playground::from_hash_on(&hash, device, path).map_err(|e| JsValue::from_str(&e))?;
    let widest = deciding
        .config
        .model
        .hidden
        .iter()
        .copied()
        .max()
        .unwrap_or(0);
    if let Some(state) = carried {
        // What resuming changes (the controls, a fresh view) is done below for every start.
        match playground.resume(state) {
            Ok(_) => {
                playground.chose_backend_for(&deciding.config);
                if grown.is_some() {
                    let epoch = playground.main().epoch();
                    note = Some(device::decided_again_note(widest, epoch, note.as_deref()));
                }
            }
            Err(e) => web_sys::console::warn_1(
                &format!("the runs carried over the reload could not be put back: {e}").into(),
            ),
        }
    }
    let decide_again = choice
        .for_width
        .then(|| crate::probe::decide_again_at(widest));
    controls::write(playground.options(), &playground.held());
    host::write_layout(playground.options());
    let view = View::new(Ui::find()?, backend, note.as_deref());
    if let Some(timings) = &choice.probe {
        view.show_probe(timings);
    }
    bind_canvases(&inbox, &view)?;
    let mut growth = growth::Growth::new(playground, view, backend, choice.watch, decide_again);
    frame::run(&mut growth, &inbox).await
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
    // The loss chart: the pointer reads out the records under it.
    let curves: HtmlCanvasElement = view.ui.curves().clone();
    let source = curves.clone();
    let inbox_curves = inbox.clone();
    listen(&curves, "mousemove", move |e: MouseEvent| {
        let scale = source.width() as f64 / source.get_bounding_client_rect().width().max(1.0);
        push(
            &inbox_curves,
            Event::CurvesHover(Some(e.offset_x() as f64 * scale)),
        );
    })?;
    let inbox_left = inbox.clone();
    listen(&curves, "mouseleave", move |_: web_sys::Event| {
        push(&inbox_left, Event::CurvesHover(None))
    })?;
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
