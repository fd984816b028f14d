//! The browser playground (wasm32 only): binds the static page in `index.html`, forwards every
//! event as a [`app::Msg`] into an inbox, and runs one async loop that applies messages, advances
//! the two runs and redraws once per animation frame. The UI never does the maths: it drives
//! [`crate::train::Session`]s and draws their snapshots.
//!
//! Entry point: [`start`], called by the `playground` binary that trunk builds.

pub mod app;
pub mod dom;
pub mod draw;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use burn::tensor::Device;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{
    Element, Event, HtmlCanvasElement, HtmlElement, HtmlInputElement, KeyboardEvent, MouseEvent,
};

use crate::config::RunConfig;
use crate::data::DatasetKind;
use crate::grow::Method;
use crate::url::{BackendChoice, parse_hash};
use app::{App, Backend, Inbox, Msg, Ui};
use dom::{by_id, listen};

/// Starts the playground: shows errors in the page, never only in the console.
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let message = format!("the playground stopped: {info}");
        web_sys::console::error_1(&message.clone().into());
        if let Ok(ui) = Ui::find() {
            ui.show_fatal(&message);
        }
    }));
    wasm_bindgen_futures::spawn_local(async {
        if let Err(e) = run().await {
            let message = e.as_string().unwrap_or_else(|| format!("{e:?}"));
            if let Ok(ui) = Ui::find() {
                ui.show_fatal(&message);
            }
        }
    });
}

fn push(inbox: &Inbox, msg: Msg) {
    inbox.borrow_mut().push_back(msg);
}

async fn run() -> Result<(), JsValue> {
    let window = dom::window()?;
    let hash = window.location().hash().unwrap_or_default();
    let (options, problems) = parse_hash(&hash);
    if options.bench {
        return bench().await;
    }
    let inbox: Inbox = Rc::new(RefCell::new(VecDeque::new()));
    build_dataset_buttons(&inbox)?;
    bind_controls(&inbox)?;
    let (device, backend, note) = app::init_device(options.backend).await;
    let ui = Ui::find()?;
    let mut app = App::new(ui, device, backend, options).map_err(|e| JsValue::from_str(&e))?;
    app.set_backend_note(note.as_deref());
    if !problems.is_empty() {
        push(
            &inbox,
            Msg::Notice(format!(
                "some settings in the link were ignored: {}",
                problems.join("; ")
            )),
        );
    }
    loop {
        dom::next_frame().await;
        let messages: Vec<Msg> = inbox.borrow_mut().drain(..).collect();
        for msg in messages {
            app.update(msg).await;
        }
        app.tick().await;
    }
}

fn build_dataset_buttons(inbox: &Inbox) -> Result<(), JsValue> {
    let document = dom::document()?;
    let list: Element = by_id("datasets")?;
    for kind in app::dataset_kinds() {
        let button = document.create_element("button")?;
        button.set_attribute("type", "button")?;
        button.set_attribute("role", "radio")?;
        button.set_attribute("aria-checked", "false")?;
        button.set_attribute("data-kind", kind.name())?;
        button.set_attribute("aria-label", &format!("Dataset {}", kind.name()))?;
        let canvas = document
            .create_element("canvas")?
            .dyn_into::<HtmlCanvasElement>()
            .map_err(|_| JsValue::from_str("canvas"))?;
        canvas.set_width(56);
        canvas.set_height(56);
        if let Some((points, task)) = app::thumbnail_points(kind) {
            draw::thumbnail(&canvas, &points, task)?;
        }
        button.append_child(&canvas)?;
        let label = document.create_element("span")?;
        label.set_text_content(Some(kind.name()));
        button.append_child(&label)?;
        list.append_child(&button)?;
        let inbox = inbox.clone();
        listen(&button, "click", move |_: Event| {
            push(&inbox, Msg::Dataset(kind))
        })?;
    }
    Ok(())
}

fn bind_controls(inbox: &Inbox) -> Result<(), JsValue> {
    let click = |id: &str, msg: Msg| -> Result<(), JsValue> {
        let inbox = inbox.clone();
        let el: HtmlElement = by_id(id)?;
        listen(&el, "click", move |_: Event| push(&inbox, msg.clone()))
    };
    click("play", Msg::TogglePlay)?;
    click("step", Msg::Step)?;
    click("grow", Msg::Grow)?;
    click("reset", Msg::Reset)?;
    click("help", Msg::ToggleShortcuts)?;
    click("shortcuts-close", Msg::CloseShortcuts)?;
    click("regenerate", Msg::Regenerate)?;

    // Settings that start new runs (on change), and live range read-outs (on input).
    for id in [
        "noise",
        "ratio",
        "points",
        "batch",
        "layers",
        "activation",
        "optimizer",
        "method",
        "baseline",
        "interval",
        "per-growth",
        "candidates",
        "eps",
        "max-units",
        "on-growth",
        "seed",
    ] {
        let el: HtmlElement = by_id(id)?;
        let inbox2 = inbox.clone();
        listen(&el, "change", move |_: Event| push(&inbox2, Msg::Settings))?;
    }
    for (id, out, suffix) in [
        ("noise", "noise-out", ""),
        ("ratio", "ratio-out", " %"),
        ("points", "points-out", ""),
        ("batch", "batch-out", ""),
        ("interval", "interval-out", ""),
    ] {
        let el: HtmlInputElement = by_id(id)?;
        let output: Element = by_id(out)?;
        let source = el.clone();
        listen(&el, "input", move |_: Event| {
            output.set_text_content(Some(&format!("{}{suffix}", source.value())));
        })?;
    }
    {
        let inbox = inbox.clone();
        let el: HtmlElement = by_id("lr")?;
        listen(&el, "change", move |_: Event| {
            push(&inbox, Msg::LearningRate)
        })?;
    }
    for id in ["show-test", "discretize", "slowmo"] {
        let inbox = inbox.clone();
        let el: HtmlElement = by_id(id)?;
        listen(&el, "change", move |_: Event| {
            push(&inbox, Msg::ViewToggles)
        })?;
    }

    // CSV upload: read the file's text, then hand it to the engine.
    {
        let inbox = inbox.clone();
        let file_input: HtmlInputElement = by_id("csv")?;
        let source = file_input.clone();
        listen(&file_input, "change", move |_: Event| {
            let Some(file) = source.files().and_then(|f| f.get(0)) else {
                return;
            };
            let name = file.name();
            let inbox = inbox.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                    Ok(text) => push(&inbox, Msg::Csv(name, text.as_string().unwrap_or_default())),
                    Err(_) => push(
                        &inbox,
                        Msg::Notice(format!("{name}: could not read the file")),
                    ),
                }
            });
        })?;
    }

    // Points: click adds, shift-click adds the other class, ctrl-click removes.
    {
        let inbox = inbox.clone();
        let map = Ui::find()?;
        let canvas = map.main_map().canvas().clone();
        listen(&canvas, "click", move |e: MouseEvent| {
            let (x, y) = map
                .main_map()
                .to_plane(e.offset_x() as f64, e.offset_y() as f64);
            let msg = if e.ctrl_key() || e.meta_key() {
                Msg::RemovePoint(x, y)
            } else {
                Msg::AddPoint(x, y, e.shift_key())
            };
            push(&inbox, msg);
        })?;
    }

    // The network diagram: hover and keyboard focus show a unit's card.
    {
        let canvas: HtmlCanvasElement = by_id("network")?;
        let inbox2 = inbox.clone();
        let source = canvas.clone();
        listen(&canvas, "mousemove", move |e: MouseEvent| {
            let rect = source.get_bounding_client_rect();
            let sx = source.width() as f64 / rect.width().max(1.0);
            let sy = source.height() as f64 / rect.height().max(1.0);
            push(
                &inbox2,
                Msg::Hover(Some((e.offset_x() as f64 * sx, e.offset_y() as f64 * sy))),
            );
        })?;
        let inbox3 = inbox.clone();
        listen(&canvas, "mouseleave", move |_: Event| {
            push(&inbox3, Msg::Hover(None))
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
            push(&inbox4, Msg::FocusUnit(delta));
        })?;
        let inbox5 = inbox.clone();
        listen(&canvas, "focus", move |_: Event| {
            push(&inbox5, Msg::FocusUnit(0))
        })?;
    }

    // Global shortcuts.
    {
        let inbox = inbox.clone();
        let document = dom::document()?;
        listen(&document, "keydown", move |e: KeyboardEvent| {
            if e.ctrl_key() || e.meta_key() || e.alt_key() {
                return;
            }
            let target = e.target();
            if app::from_text_field(target.clone()) && e.key() != "Escape" {
                return;
            }
            let msg = match e.key().as_str() {
                " " | "Spacebar" => {
                    if app::from_control(target) {
                        return;
                    }
                    Msg::TogglePlay
                }
                "s" | "S" | "." => Msg::Step,
                "g" | "G" => Msg::Grow,
                "r" | "R" => Msg::Reset,
                "m" | "M" => Msg::ToggleCheckbox("slowmo"),
                "t" | "T" => Msg::ToggleCheckbox("show-test"),
                "d" | "D" => Msg::ToggleCheckbox("discretize"),
                "?" => Msg::ToggleShortcuts,
                "Escape" => Msg::CloseShortcuts,
                _ => return,
            };
            e.prevent_default();
            push(&inbox, msg);
        })?;
    }
    Ok(())
}

/// Bench mode (`#bench`): epochs per second at TensorFlow Playground's default setup (circle,
/// hidden layers 4 and 2, tanh, batch 10, a 100×100 decision map read after every epoch) on the
/// CPU backend and, when the browser has it, on WebGPU. The result goes into `data-bench` on
/// `#app` as JSON and into the page.
async fn bench() -> Result<(), JsValue> {
    let root: Element = by_id("app")?;
    let explain: HtmlElement = by_id("explain")?;
    root.set_attribute("data-state", "running")?;
    explain.set_hidden(false);
    explain.set_text_content(Some("Measuring epochs per second on each backend…"));
    let mut config = RunConfig::default();
    config.data.kind = DatasetKind::Circle;
    config.model.hidden = vec![4, 2];
    config.train.batch_size = 10;
    config.train.learning_rate = 0.03;
    config.growth.method = Method::None;
    let cpu = measure(&config, Device::flex(), 30).await;
    root.set_attribute("data-backend", Backend::Cpu.name())?;
    let (device, backend, _) = app::init_device(BackendChoice::Auto).await;
    let webgpu = if backend == Backend::WebGpu {
        root.set_attribute("data-backend", Backend::WebGpu.name())?;
        measure(&config, device, 3).await
    } else {
        Err("WebGPU is not available".into())
    };
    let json = |r: &Result<f64, String>| match r {
        Ok(v) => format!("{v:.3}"),
        Err(_) => "null".into(),
    };
    let result = format!(
        "{{\"setup\": \"circle, 2-4-2-2 tanh, batch 10, 250 training points, 100x100 map per epoch\", \"cpu_epochs_per_s\": {}, \"webgpu_epochs_per_s\": {}, \"webgpu_error\": {}}}",
        json(&cpu),
        json(&webgpu),
        match &webgpu {
            Ok(_) => "null".into(),
            Err(e) => format!("\"{}\"", e.replace('"', "'")),
        }
    );
    root.set_attribute("data-bench", &result)?;
    root.set_attribute("data-state", "paused")?;
    explain.set_text_content(Some(&format!("Bench: {result}")));
    Ok(())
}

async fn measure(config: &RunConfig, device: Device, epochs: usize) -> Result<f64, String> {
    let mut session =
        crate::train::Session::new(config.clone(), device).map_err(|e| e.to_string())?;
    // Warm-up: compile kernels, fill caches.
    session.run_epochs(1).await.map_err(|e| e.to_string())?;
    session
        .snapshot(app::MAP_RESOLUTION, app::THUMB_RESOLUTION)
        .await
        .map_err(|e| e.to_string())?;
    let start = dom::now();
    for _ in 0..epochs {
        let target = session.epoch() + 1;
        while session.epoch() < target {
            session.advance(1).await.map_err(|e| e.to_string())?;
        }
        session
            .snapshot(app::MAP_RESOLUTION, app::THUMB_RESOLUTION)
            .await
            .map_err(|e| e.to_string())?;
        dom::yield_now().await;
    }
    let seconds = (dom::now() - start) / 1000.0;
    Ok(epochs as f64 / seconds.max(1e-9))
}
