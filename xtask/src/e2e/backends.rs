//! The end-to-end checks of where the page computes: `webgpu` (the WebGPU build loads and
//! trains), `software-adapter` (a narrow network stays on the CPU without the WebGPU build; a
//! 64-unit layer asks for an adapter and turns a software one down without fetching the build),
//! `cpu-fallback` (a browser without WebGPU), `wide-layer` (a 1,024-unit layer trains and
//! grows) and `grown-auto` (a network grown to 64 units a layer moves, runs and all, to the
//! WebGPU build where the adapter says it renders in hardware).

use std::path::Path;
use std::time::Instant;

use super::checks::{App, open, open_hash, snap, visible_text, wait_for};
use super::webdriver::{Driver, Session, poll, secs};
use super::{ChromeConfig, Report};

/// Runs the checks of this file, on the `main` session but `cpu-fallback` (a session without
/// WebGPU).
pub(super) fn run_all(
    report: &mut Report, driver: &Driver, chrome: &ChromeConfig, main: &Result<Session, String>,
    base: &str, out_dir: &Path,
) {
    let session = || main.as_ref().map_err(Clone::clone);
    report.check("webgpu", || webgpu(session()?, base, out_dir));
    report.check("software-adapter", || software_adapter(session()?, base));
    report.check("cpu-fallback", || cpu_fallback(driver, chrome, base, out_dir));
    report.check("wide-layer", || wide_layer(session()?, base, out_dir));
    report.check("grown-auto", || grown_auto(driver, chrome, base, out_dir));
}

/// Run before the page's own scripts: the browser's WebGPU adapter (SwiftShader here) says it
/// renders in hardware (its names and fallback flag), so that `auto` takes a GPU's path.
const STAND_IN_HARDWARE: &str = "(() => {
    const set = (proto, key, value) => {
      if (proto && key in proto) Object.defineProperty(proto, key, { get: () => value, configurable: true });
    };
    const info = window.GPUAdapterInfo && GPUAdapterInfo.prototype;
    for (const [key, value] of [['vendor', 'e2e'], ['architecture', 'stand-in'],
                                ['description', 'a stand-in hardware adapter'], ['device', '']]) {
      set(info, key, value);
    }
    set(info, 'isFallbackAdapter', false);
    set(window.GPUAdapter && GPUAdapter.prototype, 'isFallbackAdapter', false);
  })();";

/// `grown-auto`: under `auto` a 32-unit network trains on the CPU without the WebGPU build;
/// grown to 64 units a layer, where the adapter says it renders in hardware, the page carries
/// its runs over a reload into the WebGPU build, whose probe decides for the grown network, and
/// they go on from where they were.
fn grown_auto(
    driver: &Driver, chrome: &ChromeConfig, base: &str, out_dir: &Path,
) -> Result<String, String> {
    let session =
        super::robust::webgpu_session(driver, chrome, STAND_IN_HARDWARE, "the stand-in adapter")?;
    open_hash(
        &session,
        base,
        "seeds=1&layers=32&per-growth=16&grow-every=3&max-units=200&batch=0",
    )?;
    wait_for(&session, "the CPU for 32 units, deciding again at 64", secs(90), |a| {
        Ok(a.is("state", "running") && a.is("backend", "cpu") && a.num("decide-again-at") == 64.0)
    })?;
    fail_if!(
        webgpu_build_fetched(&session)? != 0,
        "a 32-unit network fetched the WebGPU build under auto"
    );
    let again = wait_for(&session, "the choice made again at 64 units", secs(240), |a| {
        Ok(a.is("state", "running") && a.num("decide-again-at") == 128.0)
    })?;
    let note = backend_note(&session)?.unwrap_or_default();
    snap(&session, out_dir, "grown-auto.png")?;
    let fetched = webgpu_build_fetched(&session)?;
    fail_if!(
        fetched == 0 || !note.contains("grew to 64 units a layer") || !note.contains("A probe"),
        "after the reload: WebGPU build fetched {fetched} time(s), note {note:?}"
    );
    fail_if!(
        again.num("units") < 64.0 || again.num("epoch") < 6.0,
        "the runs did not carry on from the grown network: {}",
        again.summary()
    );
    let (backend, epoch, units) = (again.text("backend"), again.num("epoch"), again.num("units"));
    Ok(format!(
        "32 units on the CPU, no WebGPU build; at 64 the WebGPU build probed: {backend}; epoch \
         {epoch}, {units} units"
    ))
}

/// The text of `#backend-note` when it is shown, `None` when absent or hidden.
fn backend_note(session: &Session) -> Result<Option<String>, String> {
    visible_text(session, "#backend-note")
}

/// `webgpu`: with a WebGPU adapter and `backend=webgpu` the page trains on it (any adapter),
/// its Figure 3 seeds' runs in one stack.
fn webgpu(session: &Session, base: &str, out_dir: &Path) -> Result<String, String> {
    let started = Instant::now();
    open_hash(session, base, "backend=webgpu&grow-every=3")?;
    let app = wait_for(
        session,
        "data-backend=webgpu, data-state=running and data-epoch >= 1",
        secs(90),
        |a| {
            if a.is("state", "running") && a.is("backend", "cpu") {
                let note = backend_note(session).ok().flatten().unwrap_or_default();
                return Err(format!(
                    "the page runs on the CPU although Chromium has WebGPU (note: {note:?})"
                ));
            }
            Ok(a.is("backend", "webgpu") && a.is("state", "running") && a.num("epoch") >= 1.0)
        },
    )?;
    fail_if!(
        webgpu_build_fetched(session)? == 0,
        "the page runs on WebGPU but fetched no WebGPU build"
    );
    // Figure 3 live over 5 seeds: the seeds' runs train in one stack from frame to frame.
    let stacked = wait_for(session, "data-seed-epochs-stacked >= 8", secs(60), |a| {
        Ok(a.num("seed-epochs-stacked") >= 8.0)
    })?;
    snap(session, out_dir, "webgpu.png")?;
    let (epoch, seconds) = (app.num("epoch"), started.elapsed().as_secs_f64());
    Ok(format!(
        "training on webgpu, epoch {epoch} after {seconds:.1} s; {} seed epochs in a stack by epoch {}",
        stacked.text("seed-epochs-stacked"),
        stacked.text("epoch")
    ))
}

/// The WebGPU build's wasm files the page has fetched so far (`webgpu-<hash>_bg.wasm`, which
/// only the settings that want WebGPU load: src/ui/device/lazy.rs).
fn webgpu_build_fetched(session: &Session) -> Result<usize, String> {
    let value = session.script(
        "return performance.getEntriesByType('resource')
           .filter(e => /\\/webgpu-[0-9a-f]+_bg\\.wasm/.test(e.name)).length;",
    )?;
    value.as_u64().map(|n| n as usize).ok_or_else(|| format!("no count of fetched files: {value}"))
}

/// `software-adapter`: left to choose, the page trains a narrow network on the CPU without even
/// loading the WebGPU build, and says why. When the person makes a layer 64 units wide it loads
/// again and asks for an adapter: one that renders in software (Chromium's SwiftShader here)
/// leaves it on the CPU, saying why, without fetching the WebGPU build; on a hardware adapter it
/// loads the WebGPU build and the probe decides.
fn software_adapter(session: &Session, base: &str) -> Result<String, String> {
    let running = |a: &App| Ok(a.is("state", "running") && a.num("epoch") >= 1.0);
    open_hash(session, base, "grow-every=3")?;
    let app = wait_for(session, "data-state=running and data-epoch >= 1", secs(90), running)?;
    let note = backend_note(session)?.unwrap_or_default();
    let fetched = webgpu_build_fetched(session)?;
    fail_if!(
        app.text("backend") != "cpu" || !note.contains("below 64 units") || fetched != 0,
        "narrow network: backend {}, WebGPU build fetched {fetched} time(s), note {note:?} \
             (expected the CPU, no WebGPU build and a note saying why)",
        app.text("backend")
    );
    // The person types a 64-unit layer: the page loads again and decides for that network.
    super::page::choose(session, "layers", "64")?;
    let app = wait_for(
        session,
        "the page loaded again with layers=64, running, data-epoch >= 1",
        secs(120),
        |a| Ok(a.has_setting("layers=64") && running(a)?),
    )?;
    let adapter = session.text(
        "if (!navigator.gpu) return 'none';
         return navigator.gpu.requestAdapter().then(a => !a ? 'none'
           : ((a.info && a.info.isFallbackAdapter) || /swiftshader/i.test(
               [a.info && a.info.vendor, a.info && a.info.architecture,
                a.info && a.info.description].join(' ')) ? 'software' : 'hardware'));",
    )?;
    let wide_note = backend_note(session)?.unwrap_or_default();
    let fetched = webgpu_build_fetched(session)?;
    match (adapter.as_str(), app.text("backend")) {
        ("software", "cpu") if wide_note.contains("software") && fetched == 0 => Ok(format!(
            "narrow: CPU, no WebGPU build ({:?}); 64 wide: software adapter, trains on the CPU \
             without fetching the WebGPU build, epoch {}; note: {:?}",
            note.trim(),
            app.num("epoch"),
            wide_note.trim()
        )),
        ("software", backend) => Err(format!(
            "software adapter: backend {backend}, WebGPU build fetched {fetched} time(s), note \
             {wide_note:?} (expected the CPU, no WebGPU build and a note saying why)"
        )),
        ("hardware", backend) if fetched > 0 => Ok(format!(
            "narrow: CPU without the WebGPU build; 64 wide on a hardware adapter: WebGPU build \
             loaded, {backend}"
        )),
        (kind, backend) => Err(format!(
            "{kind} adapter, backend {backend}, WebGPU build fetched {fetched} time(s)"
        )),
    }
}

/// `cpu-fallback`: in a browser without WebGPU the page trains on the CPU and says so.
fn cpu_fallback(
    driver: &Driver, chrome: &ChromeConfig, base: &str, out_dir: &Path,
) -> Result<String, String> {
    let started = Instant::now();
    let session = chrome.session(driver, false)?;
    open(&session, &format!("{base}index.html"))?;
    let app = wait_for(
        &session,
        "data-backend=cpu, data-state=running and data-epoch >= 1",
        secs(90),
        |a| Ok(a.is("backend", "cpu") && a.is("state", "running") && a.num("epoch") >= 1.0),
    )?;
    let note = poll(secs(10), || {
        Ok(match backend_note(&session)? {
            Some(text) if text.contains("CPU") => Ok(text),
            note => Err(format!("no visible #backend-note mentioning \"CPU\" (found: {note:?})")),
        })
    })?;
    snap(&session, out_dir, "cpu-fallback.png")?;
    let (epoch, seconds) = (app.num("epoch"), started.elapsed().as_secs_f64());
    Ok(format!("training on cpu, epoch {epoch} after {seconds:.1} s; note: {:?}", note.trim()))
}

/// `wide-layer`: the wide setup README describes (one hidden layer of 1,024 units, full batch,
/// 1,000 points) opens, trains and grows a 1,025th unit in the page; the diagram draws it.
fn wide_layer(session: &Session, base: &str, out_dir: &Path) -> Result<String, String> {
    let started = Instant::now();
    open_hash(
        session,
        base,
        "backend=cpu&layers=1024&batch=0&points=1000&seeds=1\
             &grow-every=5&max-units=2048",
    )?;
    let app = wait_for(session, "data-units >= 1025 and data-growths >= 1", secs(180), |a| {
        fail_if!(a.is("state", "error"), "the page stopped: {}", a.text("error"));
        Ok(a.num("units") >= 1025.0 && a.num("growths") >= 1.0)
    })?;
    snap(session, out_dir, "wide-layer.png")?;
    let (units, epoch, seconds) =
        (app.num("units"), app.num("epoch"), started.elapsed().as_secs_f64());
    let notices = app.text("notices");
    Ok(format!(
        "1,024 units grew to {units} at epoch {epoch} after {seconds:.1} s; notices: {notices:?}"
    ))
}
