//! Browser tests (wasm32, headless Chromium through wasm-bindgen-test): a full growth phase on
//! burn's Flex CPU backend and on the WebGPU backend, each compared with the native run recorded in
//! `tests/golden/backend_check.json`, and training itself on WebGPU (the tensor path) compared
//! with the CPU's fused step. On native targets this file compiles to nothing.
#![cfg(target_arch = "wasm32")]
// A failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use burn::tensor::Device;
use firefly_playground::experiment::{BackendCheck, backend_check, path_check};
use firefly_playground::train::TrainPath;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Yields to the browser's event loop (a zero-delay timer), so long GPU work never stalls the page.
async fn pause() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        let set_timeout = js_sys::Reflect::get(&global, &"setTimeout".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        if let Some(set_timeout) = set_timeout {
            let _ = set_timeout.call2(&global, &resolve, &0.into());
        } else {
            let _ = resolve.call0(&global);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

thread_local! {
    static WEBGPU: std::cell::RefCell<Option<Device>> = const { std::cell::RefCell::new(None) };
}

/// The page's WebGPU device, set up once: burn registers one server per device, and a second
/// set-up in the same page is refused while the first is alive.
async fn webgpu() -> Device {
    if let Some(device) = WEBGPU.with(|d| d.borrow().clone()) {
        return device;
    }
    firefly_playground::ui::run_constructors();
    let device = Device::wgpu_options()
        .init_async()
        .await
        .expect("headless chromium with --enable-unsafe-webgpu has a webgpu adapter");
    WEBGPU.with(|d| *d.borrow_mut() = Some(device.clone()));
    device
}

fn golden() -> BackendCheck {
    serde_json::from_str(include_str!("golden/backend_check.json")).expect("golden file parses")
}

#[wasm_bindgen_test]
async fn growth_phase_on_the_cpu_backend_matches_native() {
    let check = backend_check(&Device::flex(), pause)
        .await
        .expect("backend check on flex");
    check
        .compare(&golden(), 1e-4)
        .expect("browser cpu run matches native");
}

#[wasm_bindgen_test]
async fn growth_phase_on_webgpu_matches_native() {
    let device = webgpu().await;
    let check = backend_check(&device, pause)
        .await
        .expect("backend check on webgpu");
    check
        .compare(&golden(), 2e-3)
        .expect("browser webgpu run matches native");
}

/// Training itself on WebGPU: the tensor path (burn's autodiff and the tensor optimiser, every
/// step on the GPU, mini-batches, a growth with the moments carried) against the CPU's fused step
/// on the same run, both in this browser.
#[wasm_bindgen_test]
async fn tensor_training_on_webgpu_matches_the_fused_cpu_step() {
    let gpu = webgpu().await;
    let on_gpu = path_check(&gpu, TrainPath::Tensor, pause)
        .await
        .expect("tensor training on webgpu");
    let on_cpu = path_check(&Device::flex(), TrainPath::Fused, pause)
        .await
        .expect("fused training on the cpu");
    assert_ne!(on_cpu.architecture, "2-3-2", "the run grew");
    on_gpu
        .compare(&on_cpu, 1e-3)
        .expect("webgpu tensor training matches the cpu's fused step");
}

/// UI logic that needs a browser: colours of the decision map, and which key events count as
/// typing in a text field (where shortcuts must not fire) and which leave Space to a checkbox.
mod ui {
    use firefly_playground::ui::draw::{cell_colour, diverging};
    use firefly_playground::ui::{is_checkbox, takes_typing};
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn colours_follow_the_orange_grey_blue_scale() {
        assert_eq!(diverging(-1.0), [245, 147, 34]);
        assert_eq!(diverging(0.0), [232, 234, 235]);
        assert_eq!(diverging(1.0), [8, 119, 189]);
        assert_eq!(diverging(f32::NAN), [232, 234, 235]);
        // Two classes: p(class 1) − p(class 0); discretized, only the sign counts.
        assert_eq!(cell_colour(&[0.0, 1.0], false), [8, 119, 189]);
        assert_eq!(cell_colour(&[0.4, 0.6], true), [8, 119, 189]);
        assert_eq!(cell_colour(&[0.5, 0.5], false), [232, 234, 235]);
        // Three classes: an even split is grey, certainty is the class colour.
        assert_eq!(cell_colour(&[1.0 / 3.0; 3], false), [232, 234, 235]);
        assert_eq!(cell_colour(&[0.0, 0.0, 1.0], false), [46, 160, 67]);
        // A diverged network's cells are grey, whatever the other outputs.
        assert_eq!(cell_colour(&[f32::NAN, 0.2, 0.8], false), [232, 234, 235]);
        assert_eq!(cell_colour(&[0.1, f32::INFINITY], true), [232, 234, 235]);
    }

    #[wasm_bindgen_test]
    fn a_crash_shows_a_panel_with_a_report() {
        use firefly_playground::ui::crash;
        let document = web_sys::window()
            .and_then(|w| w.document())
            .expect("a document");
        let body = document.body().expect("a body");
        let panel = document.create_element("section").expect("section");
        panel.set_id("crash");
        panel.set_attribute("hidden", "").expect("hidden");
        for (tag, id) in [("p", "crash-message"), ("textarea", "crash-report")] {
            let e = document.create_element(tag).expect("element");
            e.set_id(id);
            panel.append_child(&e).expect("append");
        }
        body.append_child(&panel).expect("append");
        crash::note_link("dataset=xor&lr=0.03");
        crash::note_event(&"Set(\"lr\", \"0.03\")");
        crash::show("the playground stopped: index out of bounds");
        assert!(!panel.has_attribute("hidden"), "the panel is shown");
        let report = document
            .get_element_by_id("crash-report")
            .expect("report")
            .unchecked_into::<web_sys::HtmlTextAreaElement>()
            .value();
        assert!(report.contains("index out of bounds"), "{report}");
        assert!(
            report.contains("settings: #dataset=xor&lr=0.03"),
            "{report}"
        );
        assert!(report.contains("lr"), "{report}");
        assert!(report.contains("browser: Mozilla"), "{report}");
        panel.remove();
    }

    #[wasm_bindgen_test]
    fn shortcuts_are_ignored_while_typing() {
        let document = web_sys::window()
            .and_then(|w| w.document())
            .expect("a document");
        let make = |tag: &str, kind: Option<&str>| -> web_sys::EventTarget {
            let element = document.create_element(tag).expect("element");
            if let Some(kind) = kind {
                element.set_attribute("type", kind).expect("attribute");
            }
            element.unchecked_into()
        };
        assert!(takes_typing(Some(make("input", Some("text")))));
        assert!(takes_typing(Some(make("input", Some("number")))));
        assert!(takes_typing(Some(make("select", None))));
        assert!(!takes_typing(Some(make("input", Some("checkbox")))));
        assert!(!takes_typing(Some(make("input", Some("range")))));
        assert!(!takes_typing(Some(make("div", None))));
        assert!(!takes_typing(None));
        // Space on a button plays or pauses; on a checkbox it ticks the box.
        assert!(!takes_typing(Some(make("button", None))));
        assert!(!is_checkbox(Some(make("button", None))));
        assert!(is_checkbox(Some(make("input", Some("checkbox")))));
        assert!(!is_checkbox(Some(make("canvas", None))));
    }
}
