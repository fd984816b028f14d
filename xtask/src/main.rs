//! `cargo xtask`: the project's automation, written with the standard library only so that it
//! builds in seconds on a fresh machine.
//!
//! `cargo xtask test` installs whatever is missing (the wasm32 target, rustfmt and clippy,
//! Chromium and chromedriver, wasm-bindgen-cli, trunk) and then runs every check in order:
//! rustfmt, clippy for the host and for wasm32, the native tests, the browser tests in headless
//! Chromium and the end-to-end test of the built site. It stops at the first failing step and
//! names it. `.ci/run` calls exactly this. `cargo xtask serve` and `dist` run trunk;
//! `cargo xtask bench` measures the built site in headless Chromium.

mod context;
mod dist;
mod e2e;
mod install;
mod sri;
mod steps;
mod trunk;

use std::env;
use std::process::ExitCode;

use context::Context;
use steps::{Runner, Step};

/// The usage text printed by `cargo xtask help` and for unknown commands.
const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  test            install what is missing, then run every check in order:
                  rustfmt, clippy (native), clippy (wasm32), native tests,
                  browser tests (wasm32 in headless Chromium), end-to-end test
  test --native   only the native checks: rustfmt, clippy (native), native tests
  test --wasm     only the installs the browser tests need, then the browser tests
  test --e2e      only the installs the end-to-end test needs, then the end-to-end
                  test: trunk builds the site into <target-dir>/e2e-dist, a small
                  static server serves it under /firefly-playground/, and headless
                  Chromium (chromedriver, WebDriver) checks the page contract:
                  starts, grows, keyboard, buttons, webgpu, software-adapter,
                  cpu-fallback, then what a new user does (page.rs),
                  readable evidence (evidence.rs: the first screen at
                  1400×1000, a tiny loss in significant digits),
                  then deploy (deploy.rs: the site under /course/playground/,
                  every request on its own origin and inside that sub-path,
                  hashed assets, preview image and icons);
                  screenshots go to <target-dir>/e2e/
  bench [--compare URL] [--seconds N] [--hash HASH]
                  build the site as `test --e2e` does (or take E2E_DIST), open it in
                  headless Chromium and measure it as people use it, at the hash
                  (default: circle, layers 4,2, tanh, batch 10, lr 0.03, 250
                  training points, no growth, CPU) and again with layers
                  8,8,8,8,8,8: ms to the first epoch, epochs/s of both runs over
                  N seconds (default 10) after a 2 s warm-up, frame-time p50/p90/
                  p99/max, growth timings and launches when the page reports
                  them, raw and gzip bytes of the .wasm and .js. --compare URL
                  (at most twice: one per setup; given once, the second URL gets
                  networkShape=8,8,8,8,8,8) measures another playground in the
                  same session (TensorFlow Playground: started with its play
                  button, epochs from #iter-number) with the ratio ours/theirs.
                  Prints one table; JSON in <target-dir>/bench/bench.json
  e2e-selftest    the end-to-end test against the stand-in page in
                  xtask/testdata/e2e-standin/ (tests the harness; no build)
  install         only install what is missing: the wasm32-unknown-unknown target,
                  rustfmt and clippy, chromium and chromium-driver (apt-get),
                  wasm-bindgen-cli and trunk (pinned versions)
  serve           install what trunk needs, then `trunk serve` the app in release
                  mode at http://127.0.0.1:8080/ (rebuilds on changes; builds into
                  <target-dir>/serve-dist, never dist/)
  dist            install what trunk, wasm-opt and precompression need (wasm-opt: npm binaryen
                  132.0.0 under ~/.cache/firefly-playground/), then build the static
                  site into a fresh dist/ with relative URLs (deployable under any
                  sub-path): the `dist` cargo profile (fat LTO, opt-level z),
                  wasm-opt (duplicate functions merged, functions ordered by name),
                  .gz (pigz -11, zopfli) and .br (brotli) beside each asset, pigz and
                  brotli installed with apt-get when missing; prints the sizes and
                  fails over 2,100,000 bytes gzip of .wasm + .js. With SITE_URL set
                  (https://user.github.io/firefly-playground/), og:image and
                  twitter:image become absolute and og:url is set
  help            print this text

environment:
  CARGO_TARGET_DIR  used for every cargo and trunk call when set
  CI                when set (and CARGO_TARGET_DIR is not), the target dir is
                    $HOME/.cache/firefly-playground/target so builds survive between runs
  SITE_URL          `dist`: the address the site will be served from, for the
                    absolute preview-image URL social sites want
  CHROMEDRIVER      chromedriver for the browser and end-to-end tests (default
                    /usr/bin/chromedriver, else `chromedriver` on PATH)
  E2E_DIST          a ready site (a folder with index.html) for the end-to-end test and
                    the bench to serve instead of running trunk; `test --e2e` and
                    `bench` then skip the build tools
  E2E_ONLY          comma-separated names of the end-to-end checks to run (the others
                    print SKIP), e.g. E2E_ONLY=gpu-lost,gpu-memory
";

/// What a command line asks for.
enum Command {
    /// Run these steps in order, stopping at the first failure.
    Run(Vec<Step>),
    /// The end-to-end test against the stand-in page.
    SelfTest,
    /// Print the usage text and succeed.
    Help,
    /// Install what trunk needs and run `trunk serve` until it is stopped.
    Serve,
    /// Build, serve and measure the site (and the pages to compare with).
    Bench(e2e::BenchOptions),
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let command = match parse(&args) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("error: {message}\n");
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match command {
        Command::Help => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Command::Serve => Context::from_env().and_then(|ctx| trunk::serve(&ctx)),
        Command::SelfTest => Context::from_env().and_then(|mut ctx| {
            ctx.e2e_dist = Some(e2e::standin_dir(&ctx));
            Runner::new(Step::E2E_PREBUILT.to_vec()).run(&ctx)
        }),
        Command::Bench(options) => {
            Context::from_env().and_then(|ctx| e2e::run_bench(&ctx, &options))
        }
        Command::Run(steps) => Context::from_env().and_then(|ctx| Runner::new(steps).run(&ctx)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Turns the arguments after `cargo xtask` into a [`Command`].
fn parse(args: &[String]) -> Result<Command, String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] | ["help" | "--help" | "-h"] => Ok(Command::Help),
        ["test"] => Ok(Command::Run(Step::ALL.to_vec())),
        ["test", "--native"] => Ok(Command::Run(Step::NATIVE.to_vec())),
        ["test", "--wasm"] => Ok(Command::Run(Step::WASM.to_vec())),
        ["test", "--e2e"] if env::var_os("E2E_DIST").is_some_and(|d| !d.is_empty()) => {
            Ok(Command::Run(Step::E2E_PREBUILT.to_vec()))
        }
        ["test", "--e2e"] => Ok(Command::Run(Step::E2E.to_vec())),
        ["test", other, ..] => Err(format!(
            "unknown arguments for `test`: {other:?} (expected nothing, --native, --wasm or --e2e)"
        )),
        ["e2e-selftest"] => Ok(Command::SelfTest),
        ["install"] => Ok(Command::Run(Step::INSTALL.to_vec())),
        ["bench", rest @ ..] => e2e::BenchOptions::parse(rest).map(Command::Bench),
        ["serve"] => Ok(Command::Serve),
        ["dist"] => Ok(Command::Run(Step::DIST.to_vec())),
        [other, ..] => Err(format!("unknown command {other:?}")),
    }
}
