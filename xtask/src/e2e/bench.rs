//! `cargo xtask bench`: the built site measured as people use it, in headless Chromium (the
//! flags of the end-to-end test, WebGPU included): time to the first epoch, epochs per second
//! of both runs, animation-frame times and the bytes of the code, at our default setup and at
//! TensorFlow Playground's largest network, optionally beside another playground in the same
//! browser session. Prints one table and writes it as JSON to `<target-dir>/bench/bench.json`.

mod options;
mod report;

use std::fs::{self, File};
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use super::checks::open;
use super::json::{self, Json, base64_decode, items, json};
use super::webdriver::{Session, millis, poll_every, secs};
use super::{browser, site};
use crate::context::Context;
use crate::{dist, install, trunk};
pub use options::Options;
use options::Setup;
use report::{FirstEpoch, Frames, Measurement, Page, PageKind, SetupResult, Sizes};

/// Training before the window opens (compilation, caches, the first growth of the heap).
const WARMUP: Duration = secs(2);
/// How long a page may take to show what kind it is, and to reach its first epoch.
const KIND_TIMEOUT: Duration = secs(60);
const FIRST_EPOCH_TIMEOUT: Duration = secs(180);
/// How often the first epoch is polled (the time itself comes from the page's clock).
const FIRST_EPOCH_POLL: Duration = millis(100);

/// Counts WebGPU kernel launches (compute dispatches) in `window.__benchDispatches`, by wrapping
/// the browser's `GPUComputePassEncoder` methods before the page's scripts run. Pages without
/// WebGPU leave it undefined.
const COUNT_LAUNCHES: &str = "(() => {
    if (window.__benchDispatches !== undefined || !window.GPUComputePassEncoder) return;
    window.__benchDispatches = 0;
    const proto = GPUComputePassEncoder.prototype;
    for (const name of ['dispatchWorkgroups', 'dispatchWorkgroupsIndirect']) {
      const original = proto[name];
      if (!original) continue;
      proto[name] = function (...args) {
        window.__benchDispatches++;
        return original.apply(this, args);
      };
    }
  })();";

/// Records the page-clock time (`performance.now()`, ms since navigation) at which the epoch
/// counter first reaches 1: `#app[data-epoch]`, else TensorFlow Playground's `#iter-number`.
/// Installed before the page's own scripts run (see [`install_observer`]); when it only runs
/// after the load event and the epoch is already there, it records now and marks the time late
/// (an upper bound). Runs once per document.
const OBSERVE_FIRST_EPOCH: &str = "(() => {
    if ('__benchFirstEpoch' in window) return;
    window.__benchFirstEpoch = null;
    window.__benchFirstEpochLate = false;
    const epochNow = () => {
      const app = document.getElementById('app');
      if (app && app.hasAttribute('data-epoch')) return Number(app.getAttribute('data-epoch'));
      const iter = document.getElementById('iter-number');
      if (iter) return Number(iter.textContent.replace(/,/g, ''));
      return NaN;
    };
    if (epochNow() >= 1) {
      window.__benchFirstEpoch = performance.now();
      window.__benchFirstEpochLate = true;
      return;
    }
    const observer = new MutationObserver(() => {
      if (window.__benchFirstEpoch === null && epochNow() >= 1) {
        window.__benchFirstEpoch = performance.now();
        observer.disconnect();
      }
    });
    observer.observe(document, {
      subtree: true, childList: true, characterData: true,
      attributes: true, attributeFilter: ['data-epoch'],
    });
  })();";

/// Starts recording the gaps between animation frames into `window.__benchFrames`.
const START_FRAMES: &str = "
    window.__benchFrames = [];
    window.__benchRecording = true;
    let last = null;
    const tick = t => {
      if (!window.__benchRecording) return;
      if (last !== null) window.__benchFrames.push(t - last);
      last = t;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);";

const STOP_FRAMES: &str = "window.__benchRecording = false;";

/// One reading of the page: its clock, epochs, the `data-*` the bench shows, the frames so far
/// and the first-epoch observer's state. Its kind (see [`PageKind`]) shows in it too: `epoch` is
/// set on our page, `iter` on TensorFlow Playground's.
const SNAPSHOT: &str = "
    const app = document.getElementById('app');
    const attr = name => (app && app.hasAttribute(name) ? app.getAttribute(name) : null);
    const iter = document.getElementById('iter-number');
    return {
      now: performance.now(),
      epoch: attr('data-epoch'), baseline: attr('data-baseline-epoch'),
      iter: iter ? iter.textContent : null,
      backend: attr('data-backend'), state: attr('data-state'), error: attr('data-error'),
      timings: attr('data-growth-timings'),
      launches: window.__benchDispatches === undefined ? null : String(window.__benchDispatches),
      steps: attr('data-steps'),
      draw: attr('data-draw-ms'),
      growths: attr('data-growths'), baseline_growths: attr('data-baseline-growths'),
      frames: window.__benchFrames || null,
      at: window.__benchFirstEpoch, late: window.__benchFirstEpochLate,
      pageMs: attr('data-first-epoch-ms'),
    };";

/// The same-origin `.js` and `.wasm` files the page loaded, fetched again (from the cache) and
/// returned as `{name, base64}`; a file that cannot be fetched is left out.
const LOADED_CODE: &str = "
    const names = [...new Set(performance.getEntriesByType('resource').map(e => e.name))]
      .filter(name => {
        try {
          const url = new URL(name);
          return url.origin === location.origin && /\\.(js|wasm)$/.test(url.pathname);
        } catch (e) { return false; }
      });
    const encode = buffer => {
      const bytes = new Uint8Array(buffer);
      let text = '';
      for (let i = 0; i < bytes.length; i += 0x8000) {
        text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      }
      return btoa(text);
    };
    return Promise.all(names.map(name => fetch(name)
      .then(r => (r.ok ? r.arrayBuffer() : null))
      .then(buffer => (buffer ? { name, base64: encode(buffer) } : null))
      .catch(() => null)))
      .then(files => files.filter(f => f));";

/// Builds (unless `E2E_DIST` is set) and serves the site, measures every setup and prints the
/// table; an error when a page could not be measured (after the table).
pub fn run_bench(ctx: &Context, options: &Options) -> Result<(), String> {
    install::chromium(ctx)?;
    if ctx.e2e_dist.is_none() {
        trunk::install_build_tools(ctx)?;
    }
    let dist = site(ctx)?;
    let out_dir = ctx.target_dir_or_default().join("bench");
    fs::create_dir_all(&out_dir).map_err(|e| format!("creating {}: {e}", out_dir.display()))?;
    println!("==> sizes of the built code in {}", dist.display());
    let our_sizes = site_sizes(&dist)?;

    let (chrome, server, driver) = browser(ctx, &dist, &out_dir)?;
    let base = server.base_url();
    let session = chrome.session(&driver, true)?;

    install_observer(&session);

    let seconds = Duration::from_secs_f64(options.seconds);
    let mut results = Vec::new();
    for Setup { layers, hash, compare } in options.setups() {
        let url = format!("{base}index.html#{hash}");
        let ours =
            measure_page(&session, &format!("ours {layers}"), &url, seconds, || our_sizes.clone());
        let theirs = compare.map(|url| {
            measure_page(&session, &format!("theirs {layers}"), &url, seconds, || {
                loaded_sizes(&session).unwrap_or_else(|e| {
                    println!("    sizes of {url}: {e}");
                    Sizes::default()
                })
            })
        });
        results.push(SetupResult { layers, ours, theirs });
    }
    drop(session);
    drop(driver);
    drop(server);

    println!(
        "\n==> bench: {:.0} s per page after a {} s warm-up, one Chromium session\n",
        options.seconds,
        WARMUP.as_secs()
    );
    print!("{}", report::table(&results));
    let json = report::to_json(&results, options.seconds, WARMUP.as_secs_f64());
    let path = out_dir.join("bench.json");
    fs::write(&path, format!("{json:#}\n"))
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    println!("\n    written to {}", path.display());

    let failed: Vec<String> = results
        .iter()
        .flat_map(|s| std::iter::once(&s.ours).chain(&s.theirs))
        .filter_map(|page| {
            let error = page.result.as_ref().err()?;
            Some(format!("{} ({}): {error}", page.label, page.url))
        })
        .collect();
    fail_if!(!failed.is_empty(), "pages not measured:\n  {}", failed.join("\n  "));
    Ok(())
}

/// Measures one page and, when that worked, the bytes of its code (`sizes`); a failure is kept
/// in the result, so the other pages are still measured.
fn measure_page(
    session: &Session, label: &str, url: &str, window: Duration, sizes: impl FnOnce() -> Sizes,
) -> Page {
    println!("\n--- bench `{label}`");
    let mut result = measure(session, url, window);
    match &result {
        Ok(m) => println!(
            "    {label}: first epoch {:.0} ms, {:.1} epochs/s",
            m.first_epoch_ms, m.epochs_per_s
        ),
        Err(e) => println!("    {label}: FAILED: {e}"),
    }
    if let Ok(m) = &mut result {
        m.sizes = sizes();
    }
    Page { label: label.to_string(), url: url.to_string(), result }
}

/// Opens the page, starts it if it needs starting, waits for its first epoch, warms up, then
/// measures for `window`.
fn measure(session: &Session, url: &str, window: Duration) -> Result<Measurement, String> {
    open(session, url)?;
    // Does nothing when the observer was installed before the page's scripts.
    session.script(OBSERVE_FIRST_EPOCH)?;
    let kind = page_kind(session)?;
    if kind == PageKind::TfPlayground {
        session.click("#play-pause-button")?;
    }
    let (first_epoch_ms, first_epoch) = first_epoch(session, kind)?;
    thread::sleep(WARMUP);

    let start = Snapshot::read(session, START_FRAMES, kind)?;
    thread::sleep(window);
    let end = Snapshot::read(session, STOP_FRAMES, kind)?;
    fail_if!(
        end.text("state") == Some("error"),
        "the page reports data-state=error: {}",
        end.text("error").unwrap_or("(no data-error)")
    );
    let seconds = (end.now - start.now) / 1000.0;
    fail_if!(seconds <= 0.0, "the page's clock did not advance over the window");
    let change = |key: &str| Some(end.num(key)? - start.num(key)?);
    let rate_of = |key: &str| change(key).map(|n| n / seconds);
    let epochs_per_s = (end.epoch.zip(start.epoch))
        .map(|(to, from)| (to - from) / seconds)
        .ok_or("no epoch count at the start or the end of the window")?;
    let frames: Vec<f64> = items(&end.value["frames"]).iter().filter_map(Json::as_f64).collect();
    let launches = launches_per_step(&start, &end);
    Ok(Measurement {
        kind,
        backend: end.text("backend").filter(|b| !b.is_empty()).map(str::to_string),
        first_epoch_ms,
        first_epoch,
        epochs_per_s,
        baseline_epochs_per_s: rate_of("baseline"),
        steps_per_s: rate_of("steps"),
        frames: Frames::from_gaps(&frames),
        growth_timings: end.text("timings").and_then(growth_timings),
        frame_parts: end.text("draw").and_then(growth_timings),
        growths: change("growths").zip(change("baseline_growths")),
        launches,
        sizes: Sizes::default(),
    })
}

/// Has Chromium run [`OBSERVE_FIRST_EPOCH`] in every new document before its own scripts
/// (DevTools' `Page.addScriptToEvaluateOnNewDocument`), so that the first epoch is seen however
/// early it comes. Without it the observer starts after the load event.
fn install_observer(session: &Session) {
    let counter = json!({"source": COUNT_LAUNCHES});
    if let Err(e) = session.cdp("Page.addScriptToEvaluateOnNewDocument", counter) {
        println!("    note: WebGPU launches are not counted ({e})");
    }
    let params = json!({"source": OBSERVE_FIRST_EPOCH});
    match session.cdp("Page.addScriptToEvaluateOnNewDocument", params) {
        Ok(_) => println!("    first-epoch observer runs before each page's scripts"),
        Err(e) => println!(
            "    note: the first-epoch observer starts after the load event ({e}); \
             a first epoch already reached then is shown as an upper bound (≤)"
        ),
    }
}

/// WebGPU launches per training step over the window (`data-steps` counts the mini-batch steps
/// of every run), to one decimal; `None` where the page has no step count or no WebGPU.
fn launches_per_step(start: &Snapshot, end: &Snapshot) -> Option<String> {
    let launches = end.num("launches")? - start.num("launches")?;
    let steps = end.num("steps")? - start.num("steps")?;
    (steps > 0.0).then(|| format!("{:.1}", launches / steps))
}

fn page_kind(session: &Session) -> Result<PageKind, String> {
    poll_every(FIRST_EPOCH_POLL, KIND_TIMEOUT, || {
        let page = session.script(SNAPSHOT)?;
        Ok(match (page["epoch"].is_string(), page["iter"].is_string()) {
            (true, _) => Ok(PageKind::App),
            (false, true) => Ok(PageKind::TfPlayground),
            _ => Err(format!(
                "after {} s the page has neither #app[data-epoch] nor #iter-number",
                KIND_TIMEOUT.as_secs()
            )),
        })
    })
}

/// Waits (≤ [`FIRST_EPOCH_TIMEOUT`]) for epoch 1 and returns the ms from navigation to it,
/// preferring the page's own `data-first-epoch-ms`. A paused app is started with `#play`.
fn first_epoch(session: &Session, kind: PageKind) -> Result<(f64, FirstEpoch), String> {
    let mut played = false;
    poll_every(FIRST_EPOCH_POLL, FIRST_EPOCH_TIMEOUT, || {
        let state = session.script(SNAPSHOT)?;
        let text = |key: &str| state.get(key).and_then(Json::as_str).unwrap_or_default();
        fail_if!(text("state") == "error", "the page reports data-state=error: {}", text("error"));
        if let Some(at) = state.get("at").and_then(Json::as_f64) {
            if let Ok(ms) = text("pageMs").trim().parse::<f64>() {
                return Ok(Ok((ms, FirstEpoch::Page)));
            }
            let late = state.get("late").and_then(Json::as_bool) == Some(true);
            return Ok(Ok((at, if late { FirstEpoch::AtMost } else { FirstEpoch::Observed })));
        }
        if kind == PageKind::App && text("state") == "paused" && !played {
            session.click("#play")?;
            played = true;
        }
        Ok(Err(format!(
            "no first epoch within {} s (data-state={:?})",
            FIRST_EPOCH_TIMEOUT.as_secs(),
            text("state")
        )))
    })
}

/// One reading of the page (see [`SNAPSHOT`]): its clock, its epochs read the way its kind
/// shows them, and the rest as the page returned it.
struct Snapshot {
    now: f64,
    epoch: Option<f64>,
    value: Json,
}

impl Snapshot {
    /// Runs `before` (a statement, may be empty) and reads the page in the same script.
    fn read(session: &Session, before: &str, kind: PageKind) -> Result<Self, String> {
        let value = session.script(&format!("{before}{SNAPSHOT}"))?;
        let now = value["now"].as_f64().ok_or("the page did not report performance.now()")?;
        let mut snapshot = Snapshot { now, epoch: None, value };
        snapshot.epoch = match kind {
            PageKind::App => snapshot.num("epoch"),
            PageKind::TfPlayground => {
                snapshot.text("iter").and_then(report::parse_iter_number).map(|n| n as f64)
            }
        };
        Ok(snapshot)
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.value.get(key).and_then(Json::as_str)
    }

    fn num(&self, key: &str) -> Option<f64> {
        self.text(key).and_then(|t| t.trim().parse().ok())
    }
}

/// `data-growth-timings` (`{"propose":ms,…}`) or `data-draw-ms` as (name, ms) pairs; `None` when
/// it is not a JSON object of numbers.
fn growth_timings(text: &str) -> Option<Vec<(String, f64)>> {
    let json = json::parse(text).ok()?;
    json.as_object()?.iter().map(|(name, value)| Some((name.clone(), value.as_f64()?))).collect()
}

/// Raw and gzip bytes of the `.wasm` and `.js` files the page loads when it opens (in any folder
/// of the site; not the WebGPU build, which it loads only when the settings want WebGPU): the
/// gzip size from a `<file>.gz` beside it when the build made one, else from `gzip -9 -c`.
fn site_sizes(dist: &Path) -> Result<Sizes, String> {
    let mut sizes = Sizes::default();
    for path in dist::files(dist)? {
        if dist::in_webgpu_build(dist, &path) {
            continue;
        }
        let name = path.to_string_lossy();
        sizes.add(&name, || {
            let raw = dist::len(&path)?;
            let gz = dist::with_suffix(&path, "gz");
            if gz.is_file() {
                return Ok((raw, dist::len(&gz)?));
            }
            let file = File::open(&path).map_err(|e| format!("reading {name}: {e}"))?;
            Ok((raw, gzip_len(Stdio::from(file), None)?))
        })?;
    }
    Ok(sizes)
}

/// The length of `gzip -9 -c`'s output for `input` (a file), or for `bytes` written to its
/// standard input.
fn gzip_len(input: Stdio, bytes: Option<Vec<u8>>) -> Result<u64, String> {
    let mut child = Command::new("gzip")
        .args(["-9", "-c"])
        .stdin(input)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start `gzip -9 -c`: {e}"))?;
    // Feed stdin from another thread, so that neither pipe can fill up and block the other.
    let feeder = match (bytes, child.stdin.take()) {
        (Some(bytes), Some(mut stdin)) => Some(thread::spawn(move || stdin.write_all(&bytes))),
        _ => None,
    };
    let mut stdout = child.stdout.take().ok_or("gzip has no stdout")?;
    let length = std::io::copy(&mut stdout, &mut std::io::sink())
        .map_err(|e| format!("reading gzip's output: {e}"))?;
    if let Some(feeder) = feeder {
        feeder
            .join()
            .map_err(|_| "the gzip feeder panicked".to_string())?
            .map_err(|e| format!("writing to gzip: {e}"))?;
    }
    let status = child.wait().map_err(|e| format!("waiting for gzip: {e}"))?;
    fail_if!(!status.success(), "`gzip -9 -c` exited with {status}");
    Ok(length)
}

/// Raw and gzip bytes of the same-origin `.js` and `.wasm` the open page loaded.
fn loaded_sizes(session: &Session) -> Result<Sizes, String> {
    let files = session.script(LOADED_CODE)?;
    let mut sizes = Sizes::default();
    for file in items(&files) {
        let name = file.get("name").and_then(Json::as_str).unwrap_or_default();
        let path = name.split(['?', '#']).next().unwrap_or_default();
        sizes.add(path, || {
            let text = file.get("base64").and_then(Json::as_str).unwrap_or_default();
            let bytes = base64_decode(text).map_err(|e| format!("{name}: {e}"))?;
            Ok((bytes.len() as u64, gzip_len(Stdio::piped(), Some(bytes))?))
        })?;
    }
    Ok(sizes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(launches: Option<&str>, steps: Option<f64>) -> Snapshot {
        Snapshot {
            now: 0.0,
            epoch: None,
            value: json!({"launches": launches, "steps": steps.map(|s| s.to_string())}),
        }
    }

    #[test]
    fn counts_launches_per_step() {
        let (a, b) = (reading(Some("100"), Some(10.0)), reading(Some("620"), Some(20.0)));
        assert_eq!(launches_per_step(&a, &b).as_deref(), Some("52.0"));
        let cpu = (reading(Some("0"), Some(10.0)), reading(Some("0"), Some(5010.0)));
        assert_eq!(launches_per_step(&cpu.0, &cpu.1).as_deref(), Some("0.0"));
        let idle = reading(Some("100"), Some(10.0));
        assert_eq!(launches_per_step(&a, &idle), None, "no steps, no ratio");
        assert_eq!(launches_per_step(&reading(None, Some(1.0)), &b), None);
        assert_eq!(launches_per_step(&a, &reading(Some("7"), None)), None);
    }

    #[test]
    fn reads_growth_timings() {
        assert_eq!(
            growth_timings(r#"{"propose":1.5,"step1":20,"step2":7.25,"surgery":0.5}"#),
            Some(vec![
                ("propose".to_string(), 1.5),
                ("step1".to_string(), 20.0),
                ("step2".to_string(), 7.25),
                ("surgery".to_string(), 0.5),
            ])
        );
        assert_eq!(growth_timings("{}"), Some(vec![]));
        assert_eq!(growth_timings(r#"{"propose":"fast"}"#), None);
        assert_eq!(growth_timings("[1]"), None);
        assert_eq!(growth_timings(""), None);
    }

    #[test]
    fn gzip_counts_compressed_bytes() {
        let bytes = vec![b'a'; 100_000];
        let length = gzip_len(Stdio::piped(), Some(bytes)).unwrap();
        assert!(length > 20 && length < 1000, "{length}");
    }
}
