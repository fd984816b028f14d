//! The trunk commands: `cargo xtask serve` (the development server), `cargo xtask dist` (the
//! static site in `dist/`, built with the `dist` cargo profile and finished by `dist.rs`) and
//! the build the end-to-end test serves (the `release` profile, no wasm-opt: fast to build). Trunk runs with the
//! checks' `CARGO_TARGET_DIR`, so it shares the wasm32 release dependencies with the browser
//! tests; `Trunk.toml` sets `offline = true`, so a `cargo fetch` first fills the cargo cache.

use std::path::Path;
use std::process::Command;

use crate::context::{Context, run, utf8, words};
use crate::{dist, install};

/// Where `cargo xtask serve` listens.
pub const SERVE_ADDRESS: &str = "127.0.0.1";
pub const SERVE_PORT: &str = "8080";

/// `cargo fetch`, so that trunk's offline cargo build finds every dependency.
pub fn fetch(ctx: &Context) -> Result<(), String> {
    run(ctx.cargo(&["fetch"]))
}

fn trunk(ctx: &Context, args: &[&str]) -> Command {
    ctx.command_with_target_dir("trunk", args)
}

/// The cargo profile of the deployable site (`[profile.dist]` in Cargo.toml: fat LTO, one
/// codegen unit, `opt-level = "z"`).
pub const DIST_PROFILE: &str = "dist";

/// `trunk build index.html --release true --public-url ./ --dist <dist>`: a release build with
/// relative URLs, so the site works under any sub-path (the end-to-end test's build), with
/// `--cargo-profile <profile>` when one is given.
///
/// trunk copies wasm-bindgen's `snippets/` from its output under `<target-dir>/wasm-bindgen/`,
/// where a snippet of an earlier build stays after the code that used it went: that folder is
/// cleared first (trunk writes it again), so the site holds this build's files only.
pub fn build_command(ctx: &Context, dist: &Path, profile: Option<&str>) -> Result<Command, String> {
    let bindings = ctx.target_dir_or_default().join("wasm-bindgen");
    if bindings.exists() {
        std::fs::remove_dir_all(&bindings)
            .map_err(|e| format!("clearing {}: {e}", bindings.display()))?;
    }
    let dist = utf8(dist)?;
    let mut args = words("build index.html --release true --public-url ./ --dist");
    args.push(dist);
    if let Some(profile) = profile {
        args.extend(["--cargo-profile", profile]);
    }
    let mut command = trunk(ctx, &args);
    // The post-build hook builds the WebGPU build with the same profile
    // (xtask/trunk-webgpu-build.sh).
    command.env("FIREFLY_CARGO_PROFILE", profile.unwrap_or("release"));
    Ok(command)
}

/// The tools a trunk build needs: the wasm32 target, wasm-bindgen-cli and trunk (no browser).
pub fn install_build_tools(ctx: &Context) -> Result<(), String> {
    install::wasm_target(ctx)?;
    install::wasm_bindgen_cli(ctx)?;
    install::trunk(ctx)
}

/// The last step of `cargo xtask dist` (after the installs): builds the static site into a
/// fresh `dist/` with the dist profile, then optimises and precompresses it (`dist.rs`).
pub fn dist(ctx: &Context) -> Result<(), String> {
    fetch(ctx)?;
    let dist = ctx.dist_dir();
    if dist.exists() {
        std::fs::remove_dir_all(&dist)
            .map_err(|e| format!("removing the old {}: {e}", dist.display()))?;
    }
    run(build_command(ctx, &dist, Some(DIST_PROFILE))?)?;
    dist::finish(ctx, &dist)?;
    println!(
        "==> static site in {} (relative URLs: deployable under any sub-path)",
        dist.display()
    );
    Ok(())
}

/// `cargo xtask serve`: installs what is missing, fetches, then hands over to `trunk serve`
/// (which rebuilds on changes) until it is stopped. It builds into `<target-dir>/serve-dist`,
/// so that it never replaces a deployable `dist/` with a development build (trunk's own
/// reload script in it).
pub fn serve(ctx: &Context) -> Result<(), String> {
    install_build_tools(ctx)?;
    fetch(ctx)?;
    let out = ctx.target_dir_or_default().join("serve-dist");
    let out = utf8(&out)?;
    println!(
        "\n==> serving at http://{SERVE_ADDRESS}:{SERVE_PORT}/ once trunk has built \
         (the first release build takes a while); Ctrl-C stops it\n"
    );
    let line = format!(
        "serve index.html --release true --address {SERVE_ADDRESS} --port {SERVE_PORT} --dist"
    );
    let mut args = words(&line);
    args.push(out);
    run(trunk(ctx, &args))
}
