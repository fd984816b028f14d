//! `cargo xtask`: the project's automation, written with the standard library only so that it
//! builds in seconds on a fresh machine.
//!
//! `cargo xtask test` installs whatever is missing (the wasm32 target, rustfmt and clippy,
//! Chromium and chromedriver, wasm-bindgen-cli) and then runs every check in order: rustfmt,
//! clippy for the host and for wasm32, the native tests and the browser tests in headless
//! Chromium. It stops at the first failing step and names it. `.ci/run` calls exactly this.

mod context;
mod install;
mod steps;

use std::env;
use std::process::ExitCode;

use context::Context;
use steps::{Runner, Step};

/// The usage text printed by `cargo xtask help` and for unknown commands.
const USAGE: &str = "\
usage: cargo xtask <command> [option]

commands:
  test            install what is missing, then run every check in order:
                  rustfmt, clippy (native), clippy (wasm32), native tests,
                  browser tests (wasm32 in headless Chromium)
  test --native   only the native checks: rustfmt, clippy (native), native tests
  test --wasm     only the installs the browser tests need, then the browser tests
  install         only install what is missing: the wasm32-unknown-unknown target,
                  rustfmt and clippy, chromium and chromium-driver (apt-get),
                  wasm-bindgen-cli (pinned version)
  serve           (not implemented yet)
  help            print this text

environment:
  CARGO_TARGET_DIR  used for every cargo call when set
  CI                when set (and CARGO_TARGET_DIR is not), the target dir is
                    $HOME/.cache/firefly-playground/target so builds survive between runs
  CHROMEDRIVER      chromedriver for the browser tests (default /usr/bin/chromedriver,
                    else `chromedriver` on PATH)
";

/// What a command line asks for.
enum Command {
    /// Run these steps in order, stopping at the first failure.
    Run(Vec<Step>),
    /// Print the usage text and succeed.
    Help,
    /// Placeholder for the development server.
    Serve,
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
        // ------------------------------------------------------------------------------------
        // `cargo xtask serve`: a later task fills this in (build the app and serve it locally).
        // ------------------------------------------------------------------------------------
        Command::Serve => Err("serve is not implemented yet".to_string()),
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
        ["test", other, ..] => Err(format!(
            "unknown arguments for `test`: {other:?} (expected nothing, --native or --wasm)"
        )),
        ["install"] => Ok(Command::Run(Step::INSTALL.to_vec())),
        ["serve", ..] => Ok(Command::Serve),
        [other, ..] => Err(format!("unknown command {other:?}")),
    }
}
