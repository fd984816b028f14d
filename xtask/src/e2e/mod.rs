//! The end-to-end test: builds the site with trunk (or takes a ready one from `E2E_DIST`),
//! serves it from a small static server under a sub-path, drives headless Chromium through
//! chromedriver and checks the page contract: the `data-*` attributes of `<main id="app">`,
//! the URL hash options, the keyboard shortcuts and buttons, WebGPU, a software adapter, the
//! CPU fallback and the backend probe. Each check prints a PASS or FAIL line; the last line is
//! `e2e: N passed, M failed`; `E2E_ONLY=name,name` runs only the checks named (with
//! `E2E_DIST`, e.g. `E2E_ONLY=gpu-lost`, without a rebuild). Screenshots and chromedriver's log go to
//! `<target-dir>/e2e/`. `cargo xtask bench` (`bench.rs`) reuses the build, the server and the
//! browser to measure the page.

mod backends;
mod bench;
mod checks;
mod course;
mod deploy;
mod evidence;
mod inputs;
mod json;
mod page;
mod readouts;
mod robust;
mod server;
mod webdriver;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::context::{Context, run};
use crate::steps;
use crate::trunk;
use json::{Json, json};
use server::StaticServer;
use webdriver::{Driver, Session};

pub use bench::{Options as BenchOptions, run_bench};

/// The flag that gives headless Chromium a (software) WebGPU adapter.
const WEBGPU_FLAG: &str = "--enable-unsafe-webgpu";
/// The window size every session gets (wide enough for the full layout).
const WINDOW_SIZE_FLAG: &str = "--window-size=1280,1000";

/// Builds (unless `ctx.e2e_dist` is set), serves and checks the site.
pub fn run_e2e(ctx: &Context) -> Result<(), String> {
    let out_dir = ctx.target_dir_or_default().join("e2e");
    fs::create_dir_all(&out_dir).map_err(|e| format!("creating {}: {e}", out_dir.display()))?;
    println!("    artifacts (screenshots, bench.json, chromedriver.log): {}", out_dir.display());

    let dist = site(ctx)?;
    let (chrome, server, driver) = browser(ctx, &dist, &out_dir)?;
    let base = server.base_url();

    let mut report = Report::default();
    // The stand-in page of `e2e-selftest` implements only the base contract: it starts, grows,
    // answers the keyboard and the buttons.
    let full = dist != standin_dir(ctx);
    checks::run_all(&driver, &chrome, &base, &out_dir, &mut report, full);
    if full {
        match chrome.session(&driver, false) {
            Ok(session) => {
                page::run_all(&session, &base, &out_dir, &mut report);
                evidence::run_all(&session, &base, &out_dir, &mut report);
                course::run_all(&session, &base, &mut report);
                inputs::run_all(&session, &base, &out_dir, &mut report);
                readouts::run_all(&session, &base, &out_dir, &mut report);
                robust::run_all(&driver, &chrome, &session, &base, &out_dir, &mut report);
            }
            Err(e) => {
                report.check("controls", || Err(e));
            }
        }
        report.check("deploy", || deploy::check(&driver, &chrome, &dist));
        // The probe needs a WebGPU adapter (SwiftShader here).
        let session = chrome.session(&driver, true);
        let session = || session.as_ref().map_err(Clone::clone);
        report.check("probe", || page::probe(session()?, &base));
        report.check("decide-again", || page::decide_again(session()?, &base, &out_dir));
    }
    // Sessions are gone by now; dropping the driver and the server stops them.
    drop(driver);
    drop(server);
    report.finish()
}

/// The site to serve: `E2E_DIST` as it is, else a fresh trunk build into
/// `<target-dir>/e2e-dist`; an error when the folder has no `index.html`. Shared by the
/// end-to-end test and `cargo xtask bench`, so both measure the same build.
pub fn site(ctx: &Context) -> Result<PathBuf, String> {
    let dist = match &ctx.e2e_dist {
        Some(dir) => {
            println!("    E2E_DIST={}: serving it as it is (no trunk build)", dir.display());
            dir.clone()
        }
        None => {
            let dist = ctx.target_dir_or_default().join("e2e-dist");
            println!("==> trunk build into {}", dist.display());
            trunk::fetch(ctx)?;
            run(trunk::build_command(ctx, &dist, None)?)?;
            dist
        }
    };
    fail_if!(!dist.join("index.html").is_file(), "{} has no index.html", dist.display());
    Ok(dist)
}

/// Serves `dist` and starts chromedriver (its log in `out_dir`) for Chromium as
/// `webdriver.json` describes it: what the end-to-end test and the bench drive.
fn browser(
    ctx: &Context, dist: &Path, out_dir: &Path,
) -> Result<(ChromeConfig, StaticServer, Driver), String> {
    let chrome = ChromeConfig::load(&ctx.repo_root.join("webdriver.json"))?;
    let chromedriver = steps::chromedriver(ctx)?;
    let server = StaticServer::start(dist)?;
    println!("    serving {} at {}", dist.display(), server.base_url());
    let driver = Driver::start(&chromedriver, &out_dir.join("chromedriver.log"))?;
    Ok((chrome, server, driver))
}

/// Chromium's binary and flags, read from the repository's `webdriver.json` (the file the
/// browser tests use) so both kinds of browser test run the same browser the same way.
pub struct ChromeConfig {
    binary: String,
    args: Vec<String>,
}

impl ChromeConfig {
    fn load(path: &Path) -> Result<Self, String> {
        let text =
            fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let json = json::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let options = json
            .get("goog:chromeOptions")
            .ok_or_else(|| format!("{}: no goog:chromeOptions", path.display()))?;
        let binary = options["binary"].as_str().unwrap_or(steps::CHROMIUM_BINARY).to_string();
        let args = json::strings(&options["args"]).into_iter().map(str::to_string).collect();
        Ok(Self { binary, args })
    }

    /// A new browser session in `driver`, with or without a WebGPU adapter; the error says which.
    pub fn session<'d>(&self, driver: &'d Driver, webgpu: bool) -> Result<Session<'d>, String> {
        let with = if webgpu { "with" } else { "without" };
        let options = self.options(webgpu);
        driver
            .session(options)
            .map_err(|e| format!("cannot open a browser session {with} WebGPU: {e}"))
    }

    /// `goog:chromeOptions` for a session, with or without a WebGPU adapter, always with
    /// [`WINDOW_SIZE_FLAG`].
    fn options(&self, webgpu: bool) -> Json {
        let kept = self.args.iter().map(String::as_str);
        let mut args: Vec<&str> =
            kept.filter(|arg| *arg != WEBGPU_FLAG && !arg.starts_with("--window-size=")).collect();
        args.extend(webgpu.then_some(WEBGPU_FLAG));
        args.push(WINDOW_SIZE_FLAG);
        json!({"binary": self.binary, "args": args})
    }
}

/// The PASS/FAIL lines and the closing count.
#[derive(Default)]
pub struct Report {
    results: Vec<(String, bool)>,
}

impl Report {
    /// Runs one named check, timing it and printing its PASS or FAIL line. With `E2E_ONLY` set
    /// (check names, comma-separated) any other check is skipped and not counted.
    pub fn check(&mut self, name: &str, body: impl FnOnce() -> Result<String, String>) -> bool {
        if let Some(only) = std::env::var_os("E2E_ONLY").filter(|v| !v.is_empty())
            && !only.to_string_lossy().split(',').any(|n| n.trim() == name)
        {
            println!("SKIP {name} (not in E2E_ONLY)");
            return false;
        }
        println!("\n--- e2e check `{name}`");
        let started = Instant::now();
        let result = body();
        let seconds = started.elapsed().as_secs_f64();
        let passed = result.is_ok();
        match result {
            Ok(detail) => println!("PASS {name} ({seconds:.1} s): {detail}"),
            Err(reason) => println!("FAIL {name} ({seconds:.1} s): {reason}"),
        }
        self.results.push((name.to_string(), passed));
        passed
    }

    pub fn passed(&self, name: &str) -> bool {
        self.results.iter().any(|(n, ok)| n == name && *ok)
    }

    /// Prints the summary and `e2e: N passed, M failed`; an error when any check failed.
    fn finish(self) -> Result<(), String> {
        let failed: Vec<&str> =
            self.results.iter().filter(|(_, ok)| !ok).map(|(name, _)| name.as_str()).collect();
        let passed = self.results.len() - failed.len();
        println!();
        for (name, ok) in &self.results {
            println!("    {:<14} {}", name, if *ok { "PASS" } else { "FAIL" });
        }
        println!("e2e: {passed} passed, {} failed", failed.len());
        fail_if!(!failed.is_empty(), "end-to-end checks failed: {}", failed.join(", "));
        Ok(())
    }
}

/// The stand-in page under `xtask/testdata/` that `cargo xtask e2e-selftest` serves instead of
/// a trunk build, to test this harness without the real UI.
pub fn standin_dir(ctx: &Context) -> PathBuf {
    ctx.repo_root.join("xtask").join("testdata").join("e2e-standin")
}
