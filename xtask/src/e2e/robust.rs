//! The end-to-end checks of long runs and a lost GPU: `long-run` (flat memory at the unit cap
//! and over 100 resets), `gpu-lost` and `gpu-memory`.

use std::path::Path;
use std::thread;
use std::time::Instant;

use super::checks::{App, app_now, open_hash, snap, visible_text, wait_for};
use super::json::{Json, json, strings};
use super::webdriver::{Driver, Session, millis, secs};
use super::{ChromeConfig, Report};

/// Runs every check of this file: `long-run` on `session` (no WebGPU), `gpu-lost` on a session
/// of its own with a WebGPU adapter.
pub fn run_all(
    driver: &Driver, chrome: &ChromeConfig, session: &Session, base: &str, out_dir: &Path,
    report: &mut Report,
) {
    report.check("long-run", || long_run(session, base));
    report.check("gpu-lost", || gpu_lost(driver, chrome, base, out_dir));
    report.check("gpu-memory", || gpu_memory(driver, chrome, base));
}

/// A browser session with a WebGPU adapter in which `script` (`what`, for messages) runs in
/// every page before the page's own scripts (DevTools' `Page.addScriptToEvaluateOnNewDocument`).
pub(super) fn webgpu_session<'d>(
    driver: &'d Driver, chrome: &ChromeConfig, script: &str, what: &str,
) -> Result<Session<'d>, String> {
    let session = chrome.session(driver, true)?;
    session
        .cdp("Page.addScriptToEvaluateOnNewDocument", json!({"source": script}))
        .map_err(|e| format!("cannot install {what} before the page's scripts: {e}"))?;
    Ok(session)
}

/// An error when the page runs on the CPU although its link asks for WebGPU (`why` says what
/// that rules out).
fn on_webgpu(a: &App, why: &str) -> Result<(), String> {
    fail_if!(
        a.is("backend", "cpu"),
        "WebGPU is not available in this browser (the page runs on the CPU although the link says backend=webgpu){why}: {}",
        a.summary()
    );
    Ok(())
}

/// Run before the page's own scripts: counts the GPU buffers the page holds
/// (`window.__e2eGpu`: live buffers and their bytes). A buffer stops counting when it is
/// destroyed or garbage-collected (wgpu drops a buffer on the web without `destroy()`, leaving it
/// to the collector); the check forces a collection before it reads.
const COUNT_BUFFERS: &str = "(() => {
    if (window.__e2eGpu || !window.GPUDevice || !window.GPUBuffer) return;
    const gpu = window.__e2eGpu = { created: 0, destroyed: 0, collected: 0, live: 0, bytes: 0 };
    const sizes = new WeakMap();
    const gone = size => { gpu.live -= 1; gpu.bytes -= size; };
    const registry = new FinalizationRegistry(size => { gpu.collected += 1; gone(size); });
    const create = GPUDevice.prototype.createBuffer;
    GPUDevice.prototype.createBuffer = function (desc) {
      const buffer = create.call(this, desc);
      const size = Number(desc && desc.size) || 0;
      sizes.set(buffer, size);
      registry.register(buffer, size, buffer);
      gpu.created += 1; gpu.live += 1; gpu.bytes += size;
      return buffer;
    };
    const destroy = GPUBuffer.prototype.destroy;
    GPUBuffer.prototype.destroy = function () {
      if (sizes.has(this)) {
        gpu.destroyed += 1;
        gone(sizes.get(this));
        sizes.delete(this);
        registry.unregister(this);
      }
      return destroy.call(this);
    };
  })();";

/// Live GPU buffers and their bytes as the page's wrapper counted them, with the page's state.
fn gpu_buffers(session: &Session) -> Result<(f64, f64, App), String> {
    // Collect what the page dropped, and let the finalisers run.
    session.cdp("HeapProfiler.collectGarbage", json!({}))?;
    thread::sleep(millis(700));
    let gpu = session.script("return window.__e2eGpu || null;")?;
    let field = |k: &str| gpu.get(k).and_then(Json::as_f64);
    let (Some(live), Some(bytes)) = (field("live"), field("bytes")) else {
        return Err(
            "the GPU buffer counter was not installed (no GPUDevice in this browser?)".into()
        );
    };
    Ok((live, bytes, app_now(session)?))
}

/// `gpu-memory`: on WebGPU, the GPU memory the page holds follows the size of its networks, not
/// the number of growth phases or resets. Counted in the page by wrapping `createBuffer` /
/// `destroy` and watching for collected buffers (after a forced collection). Without giving the
/// memory pool's pages back after each growth (`Session` calls `memory_cleanup`), it held 28 MB
/// at 23 growths, 69 MB at 43 and 75 MB after resets back to 6 units; with it, 15, 15 and 4.5 MB.
fn gpu_memory(driver: &Driver, chrome: &ChromeConfig, base: &str) -> Result<String, String> {
    let session = webgpu_session(driver, chrome, COUNT_BUFFERS, "the buffer counter")?;
    // Random growth every epoch (a Firefly phase on a software adapter takes seconds), on 100
    // points in one batch: a software adapter is slow.
    open_hash(
        &session,
        base,
        "backend=webgpu&seeds=1&points=100&batch=100&grow-every=1&max-units=256&method=random-new&baseline=random-split&speed=0",
    )?;
    let at = |n: f64, what: &str| -> Result<(f64, f64, App), String> {
        wait_for(&session, what, secs(300), |a| {
            on_webgpu(a, "")?;
            Ok(a.num("growths") >= n && a.num("baseline-growths") >= n)
        })?;
        gpu_buffers(&session)
    };
    let warm = at(3.0, "3 growths on WebGPU")?;
    let mid = at(23.0, "23 growths on WebGPU")?;
    let late = at(43.0, "43 growths on WebGPU")?;
    for _ in 0..10 {
        session.script("document.getElementById('reset').click();")?;
        thread::sleep(millis(150));
    }
    let reset = at(3.0, "3 growths after 10 resets")?;
    let text = |(live, bytes, app): &(f64, f64, App)| {
        let (units, baseline) = (app.num("units"), app.num("baseline-units"));
        format!("{live} buffers, {:.2} MB ({units} + {baseline} units)", mb(*bytes))
    };
    let [at_3, at_23, at_43, after] = [&warm, &mid, &late, &reset].map(text);
    let summary = format!(
        "at 3 growths: {at_3}; at 23: {at_23}; at 43: {at_43}; 3 growths after 10 resets: {after}"
    );
    // Memory may grow with the networks (the maps evaluate every unit over the grid), not faster.
    // One reading depends on when the pool last gave pages back (6.6 to 14.9 MB at 23 growths on
    // SwiftShader), so the middle reading is at least the first scaled by the units: a leak
    // (69 MB at 43 growths against 28 at 23, above) still fails.
    let units = |a: &App| a.num("units") + a.num("baseline-units");
    let mid_bytes = mid.1.max(warm.1 * units(&mid.2) / units(&warm.2).max(1.0));
    let allowed = mid_bytes * units(&late.2) / units(&mid.2).max(1.0) + 2e6;
    fail_if!(
        late.1 > allowed,
        "GPU memory grew faster than the networks over 20 growth phases ({:.1} MB allowed): {summary}",
        mb(allowed)
    );
    // Back at the same size after resets, the page holds what it held at that size before.
    fail_if!(reset.1 > warm.1 + 2e6, "GPU memory was not given back after resets: {summary}");
    Ok(summary)
}

/// Run before the page's own scripts (DevTools' `Page.addScriptToEvaluateOnNewDocument`): keeps
/// every `GPUDevice` the page asks for in `window.__e2eDevices`, so the check can destroy it,
/// and records console errors, uncaught errors and unhandled rejections in `window.__e2eErrors`.
const KEEP_DEVICES: &str = "(() => {
    if (window.__e2eErrors) return;
    window.__e2eErrors = [];
    window.__e2eDevices = [];
    const note = (kind, args) => {
      try {
        const text = Array.from(args).map(a => a && a.stack ? a.stack : String(a)).join(' ');
        window.__e2eErrors.push(kind + ': ' + text.slice(0, 400));
      } catch (_) {}
    };
    const error = console.error;
    console.error = function (...args) { note('console.error', args); return error.apply(this, args); };
    window.addEventListener('error', e => note('error', [e.message]));
    window.addEventListener('unhandledrejection', e => note('unhandledrejection', [e.reason]));
    if (!window.GPUAdapter || !GPUAdapter.prototype.requestDevice) return;
    const request = GPUAdapter.prototype.requestDevice;
    GPUAdapter.prototype.requestDevice = function (...args) {
      return request.apply(this, args).then(device => {
        window.__e2eDevices.push(device);
        return device;
      });
    };
  })();";

/// Words in a console error that mean the module panicked or trapped.
const PANIC_SIGNS: [&str; 5] =
    ["panicked", "the playground stopped", "RuntimeError", "unreachable", "wgpu error"];

/// `gpu-lost`: on WebGPU (`backend=webgpu`), destroying the page's `GPUDevice` after a few
/// epochs moves the runs to the CPU: no crash panel and no panic in the console, a notice that
/// says the GPU was lost (at which epoch), `data-backend=cpu`, and training that carries on from
/// the last good state (not from epoch 0) past the epoch it was lost at.
fn gpu_lost(
    driver: &Driver, chrome: &ChromeConfig, base: &str, out_dir: &Path,
) -> Result<String, String> {
    let session = webgpu_session(driver, chrome, KEEP_DEVICES, "the device catcher")?;
    // Small batches are slow on a software adapter: 5 steps an epoch, a growth every 2 epochs.
    open_hash(&session, base, "backend=webgpu&seeds=1&batch=50&grow-every=2")?;
    let started = Instant::now();
    let before = wait_for(
        &session,
        "data-backend=webgpu, data-state=running and data-epoch >= 3",
        secs(240),
        |a| {
            on_webgpu(a, ", so GPU loss cannot be tested")?;
            Ok(a.is("backend", "webgpu") && a.is("state", "running") && a.num("epoch") >= 3.0)
        },
    )?;
    let reached = started.elapsed().as_secs_f64();
    let at_loss = app_now(&session)?;
    let (epoch_before, growths_before) = (at_loss.num("epoch"), at_loss.num("growths"));
    let destroyed = session.script(
        "const devices = window.__e2eDevices || [];
         for (const d of devices) d.destroy();
         return devices.length;",
    )?;
    let destroyed = destroyed.as_f64().unwrap_or(0.0);
    fail_if!(
        destroyed < 1.0,
        "the page's GPUDevice was not caught (GPUAdapter.requestDevice was not called through the wrapper); nothing was destroyed"
    );
    let moved = wait_for(
        &session,
        "data-backend=cpu and data-gpu-lost after the device was destroyed",
        secs(60),
        |a| Ok(a.is("backend", "cpu") && a.get("gpu-lost").is_some()),
    )?;
    let (lost_at, resumed) = (moved.num("gpu-lost"), moved.num("gpu-resumed"));
    // The last good state is saved after each epoch: at most one epoch (and the growth phase
    // in it) is lost.
    fail_if!(
        !(resumed >= 1.0 && resumed + 1.0 >= epoch_before && resumed <= lost_at),
        "the runs did not carry on from the last good state: lost at epoch {lost_at}, resumed at epoch {resumed}, epoch {epoch_before} just before the loss ({})",
        moved.summary()
    );
    // A network just grown is saved once its first epoch ends.
    fail_if!(
        moved.num("growths") + 1.5 < growths_before,
        "more than the last growth was lost: {growths_before} before, {} after the move",
        moved.num("growths")
    );
    let notice = visible_text(&session, "#notices li[data-cause=\"gpu\"]")?
        .ok_or_else(|| format!("no visible notice about the lost GPU ({})", moved.summary()))?;
    fail_if!(
        !(notice.contains("GPU was lost") && notice.contains("CPU") && notice.contains("epoch")),
        "the notice does not say that the GPU was lost, at which epoch, and that the runs moved to the CPU: {notice:?}"
    );
    // Training carries on, on the CPU, past the epoch it was lost at.
    let after = wait_for(&session, "training on past the epoch of the loss", secs(60), |a| {
        Ok(a.is("state", "running") && a.num("epoch") > lost_at.max(epoch_before) + 2.0)
    })?;
    let crash =
        session.script("const c = document.getElementById('crash'); return !!c && !c.hidden;")?;
    fail_if!(crash.as_bool().unwrap_or(true), "the crash panel is shown");
    let errors = session.script("return window.__e2eErrors || [];")?;
    let errors = strings(&errors);
    if let Some(panic) = errors.iter().find(|e| PANIC_SIGNS.iter().any(|sign| e.contains(sign))) {
        return Err(format!("the console shows a panic: {panic}"));
    }
    snap(&session, out_dir, "gpu-lost.png")?;
    let (then, now, growths, state) =
        (before.num("epoch"), after.num("epoch"), after.num("growths"), after.text("state"));
    let (notice, count) = (notice.trim(), errors.len());
    let first = errors.first().map(|e| e.chars().take(160).collect::<String>());
    let first = first.map(|e| format!(" (first: {e})")).unwrap_or_default();
    Ok(format!(
        "epoch {then} on WebGPU after {reached:.0} s; {destroyed} device destroyed at epoch {epoch_before} ({growths_before} growths); moved to the CPU: lost at epoch {lost_at}, carried on from epoch {resumed}, epoch {now} now, {growths} growths, state {state}; notice: {notice:?}; {count} other console errors{first}"
    ))
}

fn mb(bytes: f64) -> f64 {
    bytes / 1e6
}

/// Memory as the page last wrote it: (wasm bytes, JS heap bytes, DOM nodes).
fn memory(session: &Session) -> Result<Memory, String> {
    // Let the page write its once-a-second figures after what just happened.
    thread::sleep(millis(1200));
    let app = app_now(session)?;
    let nodes = session.script("return document.getElementsByTagName('*').length;")?;
    let nodes = nodes.as_f64().unwrap_or(0.0);
    Ok((app.num("wasm-bytes"), app.num("js-heap"), nodes))
}

/// `long-run`: growth to the unit cap (255 growth phases of each run, by random growth: a
/// Firefly phase at 200 units spends about 0.4 s optimising its candidates, too long for CI)
/// then training on, and 100 resets, with flat memory (read from `#app`'s `data-wasm-bytes` and
/// `data-js-heap`, written each second, and the DOM's node count).
fn long_run(session: &Session, base: &str) -> Result<String, String> {
    open_hash(
        session,
        base,
        "backend=cpu&seeds=1&layers=1&grow-every=1&max-units=256&method=random-new&baseline=random-split&speed=0",
    )?;
    wait_for(session, "20 growths", secs(120), |a| {
        Ok(a.num("growths") >= 20.0 && a.num("wasm-bytes") > 0.0)
    })?;
    let before = memory(session)?;
    let started = Instant::now();
    let capped = wait_for(session, "255 growths (the unit cap)", secs(240), |a| {
        Ok(a.num("growths") >= 255.0 && a.num("baseline-growths") >= 255.0)
    })?;
    let growing = started.elapsed().as_secs_f64();
    let at_cap = memory(session)?;
    // Training goes on at the cap.
    let epoch = capped.num("epoch");
    thread::sleep(secs(8));
    let after = memory(session)?;
    let app = app_now(session)?;
    fail_if!(
        app.num("epoch") <= epoch || !app.is("state", "running"),
        "training stopped at the unit cap: {}",
        app.summary()
    );
    // Growing to 256 units raises the working set once (the maps evaluate every unit over the
    // grid, and wasm memory never shrinks); after that, training on must not add to it.
    flat(at_cap, after, "memory grew while training on at the cap")?;

    // 100 resets, a frame or two apart.
    let resets_before = memory(session)?;
    for _ in 0..100 {
        session.script("document.getElementById('reset').click();")?;
        thread::sleep(millis(40));
    }
    let resets_after = memory(session)?;
    flat(resets_before, resets_after, "100 resets left memory behind")?;
    let (at_20, capped) = (mb(before.0), mb(at_cap.0));
    let (training, resets) =
        (memory_change(at_cap, after), memory_change(resets_before, resets_after));
    Ok(format!(
        "255 growths of each run in {growing:.0} s (wasm {at_20:.1} MB at 20 growths, {capped:.1} MB at the cap); training on 8 s: {training}; 100 resets: {resets}"
    ))
}

/// (wasm bytes, JS heap bytes, DOM nodes), as [`memory`] reads them.
type Memory = (f64, f64, f64);

/// An error (`what` and the figures) when memory grew from `before` to `after`: wasm by more
/// than 4 MB, the JS heap by more than 16 MB or the DOM by more than 20 nodes.
fn flat(before: Memory, after: Memory, what: &str) -> Result<(), String> {
    fail_if!(
        after.0 - before.0 > 4e6 || after.1 - before.1 > 16e6 || after.2 > before.2 + 20.0,
        "{what}: {}",
        memory_change(before, after)
    );
    Ok(())
}

fn memory_change(before: Memory, after: Memory) -> String {
    let ((wasm, heap, nodes), (wasm_now, heap_now, nodes_now)) = (before, after);
    let (wasm, wasm_now, heap, heap_now) = (mb(wasm), mb(wasm_now), mb(heap), mb(heap_now));
    format!(
        "wasm {wasm:.1} → {wasm_now:.1} MB, JS heap {heap:.1} → {heap_now:.1} MB, DOM nodes {nodes} → {nodes_now}"
    )
}
