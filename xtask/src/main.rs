//! `cargo xtask`: the project's automation, on a few kept crates (README "xtask" says which and
//! why) so that it builds in well under a minute on a fresh machine.
//!
//! `cargo xtask test` installs whatever is missing (the wasm32 target, rustfmt and clippy,
//! Chromium and chromedriver, wasm-bindgen-cli, trunk) and then runs every check in order:
//! rustfmt, clippy for the host and for wasm32, the native tests, the browser tests in headless
//! Chromium and the end-to-end test of the built site. It stops at the first failing step and
//! names it. `.ci/run` calls exactly this. `cargo xtask serve` and `dist` run trunk;
//! `cargo xtask bench` measures the built site in headless Chromium.

/// `return Err(format!(…))` from the enclosing function or closure when `cond` holds.
macro_rules! fail_if {
    ($cond:expr, $($msg:tt)+) => {
        if $cond {
            return Err(format!($($msg)+));
        }
    };
}

/// One try of a poll: `Ok(Ok(value))` once `done` holds, else `Ok(Err(format!(…)))`, the error
/// if time runs out.
macro_rules! ready {
    ($done:expr, $value:expr, $($msg:tt)+) => {
        Ok(if $done { Ok($value) } else { Err(format!($($msg)+)) })
    };
}

mod context;
mod dist;
mod e2e;
mod install;
mod sri;
mod steps;
mod trunk;

use std::env;
use std::process::ExitCode;

use clap::{Args, CommandFactory as _, Parser, Subcommand};

use context::Context;
use steps::{Step, run_steps};

/// The environment variables xtask reads, shown under `cargo xtask --help`.
const ENVIRONMENT: &str = "\
Environment:
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
                    print SKIP), e.g. E2E_ONLY=gpu-lost,gpu-memory";

/// The project's automation: installs, checks, the site's build and its measurements.
#[derive(Parser)]
#[command(bin_name = "cargo xtask", after_help = ENVIRONMENT)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Install what is missing, then run every check in order: rustfmt, clippy (native),
    /// clippy (wasm32), native tests, browser tests (wasm32 in headless Chromium), end-to-end
    /// test; --native, --wasm or --e2e runs one part
    Test(TestPart),
    /// Build the site as `test --e2e` does (or take E2E_DIST), open it in headless Chromium and
    /// measure it as people use it (--compare URL, --seconds N, --hash HASH); one table, JSON
    /// in <target-dir>/bench/bench.json
    ///
    /// At the hash (default: circle, layers 4,2, tanh, batch 10, lr 0.03, 250 training points,
    /// no growth, CPU) and again with layers 8,8,8,8,8,8: ms to the first epoch, epochs/s of
    /// both runs over N seconds after a 2 s warm-up, frame-time p50/p90/p99/max, growth timings
    /// and launches when the page reports them, raw and gzip bytes of the .wasm and .js.
    Bench(e2e::BenchOptions),
    /// The end-to-end test against the stand-in page in xtask/testdata/e2e-standin/ (tests the
    /// harness; no build)
    E2eSelftest,
    /// Only install what is missing: the wasm32-unknown-unknown target, rustfmt and clippy,
    /// chromium and chromium-driver (apt-get), wasm-bindgen-cli and trunk (pinned versions)
    Install,
    /// Install what trunk needs, then `trunk serve` the app in release mode at
    /// http://127.0.0.1:8080/ (rebuilds on changes; builds into <target-dir>/serve-dist)
    Serve,
    /// Build the deployable static site into a fresh dist/ (relative URLs, any sub-path):
    /// the `dist` profile, wasm-opt, .gz and .br beside each asset; fails over 2,310,000 bytes
    /// gzip of .wasm + .js
    ///
    /// Installs what trunk, wasm-opt and precompression need (wasm-opt: npm binaryen 132.0.0
    /// under ~/.cache/firefly-playground/; pigz and brotli with apt-get when missing). With
    /// SITE_URL set (https://user.github.io/firefly-playground/), og:image and twitter:image
    /// become absolute and og:url is set.
    Dist,
}

/// Which part of `cargo xtask test` to run (none: all of it).
#[derive(Args)]
#[group(multiple = false)]
struct TestPart {
    /// Only the native checks: rustfmt, clippy (native), native tests
    #[arg(long)]
    native: bool,
    /// Only the installs the browser tests need, then the browser tests
    #[arg(long)]
    wasm: bool,
    /// Only the installs the end-to-end test needs, then the end-to-end test: trunk builds the
    /// site into <target-dir>/e2e-dist (E2E_DIST: a ready one instead), a small static server
    /// serves it under /firefly-playground/, and headless Chromium checks the page contract
    /// (starts, grows, keyboard, buttons, webgpu, …, what a new user does, readable evidence,
    /// deploy under /course/playground/); screenshots go to <target-dir>/e2e/
    #[arg(long)]
    e2e: bool,
}

impl TestPart {
    fn steps(&self) -> Vec<Step> {
        let prebuilt = env::var_os("E2E_DIST").is_some_and(|d| !d.is_empty());
        match (self.native, self.wasm, self.e2e) {
            (true, _, _) => Step::NATIVE.to_vec(),
            (_, true, _) => Step::WASM.to_vec(),
            (_, _, true) if prebuilt => Step::E2E_PREBUILT.to_vec(),
            (_, _, true) => Step::E2E.to_vec(),
            _ => Step::ALL.to_vec(),
        }
    }
}

fn main() -> ExitCode {
    let Some(command) = Cli::parse().command else {
        let _ = Cli::command().print_help();
        return ExitCode::SUCCESS;
    };
    if let Command::Bench(options) = &command
        && let Err(message) = options.check()
    {
        Cli::command().error(clap::error::ErrorKind::TooManyValues, message).exit();
    }
    let result = Context::from_env().and_then(|mut ctx| match command {
        Command::Test(part) => run_steps(&part.steps(), &ctx),
        Command::Bench(options) => e2e::run_bench(&ctx, &options),
        Command::E2eSelftest => {
            ctx.e2e_dist = Some(e2e::standin_dir(&ctx));
            run_steps(&Step::E2E_PREBUILT, &ctx)
        }
        Command::Install => run_steps(&Step::INSTALL, &ctx),
        Command::Serve => trunk::serve(&ctx),
        Command::Dist => run_steps(&Step::DIST, &ctx),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn test_takes_at_most_one_part() {
        let parse = |args: &[&str]| Cli::try_parse_from([&["xtask"], args].concat());
        assert!(parse(&["test", "--native", "--wasm"]).is_err());
        assert!(parse(&["test", "fast"]).is_err());
        assert!(parse(&["launch"]).is_err());
        let Ok(Cli { command: Some(Command::Test(part)) }) = parse(&["test", "--native"]) else {
            panic!("test --native did not parse");
        };
        assert_eq!(part.steps(), Step::NATIVE);
        assert!(matches!(parse(&[]), Ok(Cli { command: None })));
    }
}
