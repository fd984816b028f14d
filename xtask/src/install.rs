//! Installs what the checks need when it is missing, saying what it installs, and skipping with a
//! note when it is already there.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::context::{Context, TempDir, is_executable, run, utf8, words};
use crate::steps::{CHROMEDRIVER, CHROMIUM_BINARY};

/// The wasm target the library and the browser tests are built for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// wasm-bindgen-cli must equal the `wasm-bindgen` crate version pinned in Cargo.toml.
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";
/// trunk, pinned: 0.22 needs a newer Rust than this project's.
pub const TRUNK_VERSION: &str = "0.21.14";
/// The registry mirror lacks the `webpki-roots` that wasm-bindgen-cli's lock file pins; this is
/// the newest one it has.
const WEBPKI_ROOTS_VERSION: &str = "1.0.10";
/// Where Debian's `chromium` puts its launcher.
const CHROMIUM_LAUNCHER: &str = "/usr/bin/chromium";
/// binaryen from npm, for wasm-opt: the one build that works here (Debian's binaryen 108
/// corrupts wasm-bindgen 0.2.130's output; see `shared/toolchain.md`).
pub const BINARYEN_VERSION: &str = "132.0.0";

/// `rustup target add wasm32-unknown-unknown` unless `rustup target list --installed` lists it.
pub fn wasm_target(ctx: &Context) -> Result<(), String> {
    let installed = ctx
        .probe("rustup", &["target", "list", "--installed"])
        .ok_or("`rustup target list --installed` failed: is rustup installed?")?;
    if installed.lines().any(|line| line.trim() == WASM_TARGET) {
        println!("    rustup target {WASM_TARGET} already installed (skip)");
        return Ok(());
    }
    println!("==> installing rustup target {WASM_TARGET} (missing)");
    run(ctx.command("rustup", &["target", "add", WASM_TARGET]))
}

/// `rustup component add rustfmt` / `clippy` when `cargo fmt --version` /
/// `cargo clippy --version` fail.
pub fn components(ctx: &Context) -> Result<(), String> {
    for (component, subcommand) in [("rustfmt", "fmt"), ("clippy", "clippy")] {
        if ctx.cargo_probe(&[subcommand, "--version"]) {
            println!("    {component} already installed (skip)");
            continue;
        }
        println!("==> installing {component} (missing: `cargo {subcommand} --version` failed)");
        run(ctx.command("rustup", &["component", "add", component]))?;
        fail_if!(
            !ctx.cargo_probe(&[subcommand, "--version"]),
            "`cargo {subcommand} --version` still fails after installing {component}"
        );
    }
    Ok(())
}

/// Debian's `chromium` and `chromium-driver` through apt-get when either binary is missing.
pub fn chromium(ctx: &Context) -> Result<(), String> {
    let missing: Vec<&str> = [CHROMIUM_LAUNCHER, CHROMEDRIVER]
        .into_iter()
        .filter(|path| !is_executable(Path::new(path)))
        .collect();
    if missing.is_empty() {
        println!("    {CHROMIUM_LAUNCHER} and {CHROMEDRIVER} present (skip)");
        return Ok(());
    }
    let what = "Debian packages `chromium` and `chromium-driver` \
                (Chromium and a matching chromedriver)";
    apt_get_install(ctx, &["chromium", "chromium-driver"], &missing, what)?;
    for path in [CHROMIUM_LAUNCHER, CHROMEDRIVER, CHROMIUM_BINARY] {
        fail_if!(!is_executable(Path::new(path)), "{path} is still missing after apt-get install");
    }
    Ok(())
}

/// `apt-get update && apt-get install -y <packages>` as root or through password-less sudo;
/// `missing` and `what` name what is missing and why, for the messages.
fn apt_get_install(
    ctx: &Context, packages: &[&str], missing: &[&str], what: &str,
) -> Result<(), String> {
    let list = packages.join(" ");
    fail_if!(
        ctx.find_in_path("apt-get").is_none(),
        "{} missing and apt-get is not available: install {what} by hand",
        missing.join(" and ")
    );
    // Root runs apt-get itself; anyone else needs password-less sudo.
    let prefix: &[&str] = if is_root(ctx) {
        &["env", "DEBIAN_FRONTEND=noninteractive"]
    } else if ctx.probe("sudo", &["-n", "true"]).is_some() {
        &["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive"]
    } else {
        return Err(format!(
            "{} missing, and this user is not root and has no password-less sudo: install {what}, \
             e.g. as root `apt-get update && apt-get install -y {list}`",
            missing.join(" and ")
        ));
    };
    println!("==> installing {list} (missing: {})", missing.join(", "));
    let apt = |args: &[&str]| ctx.command(prefix[0], &[&prefix[1..], args].concat());
    run(apt(&["apt-get", "update"]))?;
    run(apt(&[&["apt-get", "install", "-y"], packages].concat()))
}

/// The compressors `cargo xtask dist` precompresses with: Debian's `pigz` (its `-11` is zopfli:
/// gzip that any browser reads, about 5 % smaller than `gzip -9`) and `brotli`, through apt-get
/// when either is missing.
pub fn compressors(ctx: &Context) -> Result<(), String> {
    let missing: Vec<&str> =
        ["pigz", "brotli"].into_iter().filter(|tool| ctx.find_in_path(tool).is_none()).collect();
    if missing.is_empty() {
        println!("    pigz and brotli present (skip)");
        return Ok(());
    }
    let what = "Debian packages `pigz` and `brotli`";
    apt_get_install(ctx, &["pigz", "brotli"], &missing, what)?;
    match missing.iter().find(|tool| ctx.find_in_path(tool).is_none()) {
        None => Ok(()),
        Some(tool) => Err(format!("{tool} is still missing after apt-get install")),
    }
}

/// Whether this process runs as root (`id -u` prints 0).
fn is_root(ctx: &Context) -> bool {
    ctx.probe("id", &["-u"]).is_some_and(|uid| uid.trim() == "0")
}

/// Why `program --version` does not print `want` as its word number `word` (from 0), or `None`
/// when it does.
fn version_problem(ctx: &Context, program: &str, word: usize, want: &str) -> Option<String> {
    let Some(version) = ctx.probe(program, &["--version"]) else {
        return Some(format!("`{program} --version` failed"));
    };
    let printed = version.trim();
    (version.split_whitespace().nth(word) != Some(want))
        .then(|| format!("`{program} --version` printed {printed:?}, not version {want}"))
}

/// Why the installed wasm-bindgen-cli does not fit, or `None` when it does: `wasm-bindgen` and
/// `wasm-bindgen-test-runner` (both from the crate) print `<name> 0.2.130`.
fn wasm_bindgen_problem(ctx: &Context) -> Option<String> {
    version_problem(ctx, "wasm-bindgen", 1, WASM_BINDGEN_VERSION).or_else(|| {
        if ctx.find_in_path("wasm-bindgen-test-runner").is_none() {
            return Some("wasm-bindgen-test-runner is not on PATH".to_string());
        }
        version_problem(ctx, "wasm-bindgen-test-runner", 1, WASM_BINDGEN_VERSION)
    })
}

/// The error when a tool is still missing after its install (`problem` says why).
fn still(what: &str, problem: &str, ctx: &Context) -> String {
    format!(
        "after installing {what}: {problem} (is {} on PATH?)",
        ctx.cargo_home.join("bin").display()
    )
}

/// wasm-bindgen-cli at [`WASM_BINDGEN_VERSION`], built from its published lock file with one
/// change: `cargo install --locked wasm-bindgen-cli` fails here because the lock pins a
/// `webpki-roots` the registry mirror lacks. So: fetch the crate source with `cargo info`, copy
/// it to a temporary directory outside the workspace, pin `webpki-roots` to
/// [`WEBPKI_ROOTS_VERSION`] and `cargo install --locked --path .` from there.
pub fn wasm_bindgen_cli(ctx: &Context) -> Result<(), String> {
    let Some(problem) = wasm_bindgen_problem(ctx) else {
        println!("    wasm-bindgen-cli {WASM_BINDGEN_VERSION} already installed (skip)");
        return Ok(());
    };
    println!("==> installing wasm-bindgen-cli {WASM_BINDGEN_VERSION} (missing: {problem})");

    let temp = TempDir::new("xtask-wasm-bindgen-cli")?;
    let krate = format!("wasm-bindgen-cli@{WASM_BINDGEN_VERSION}");
    // `cargo info` downloads the crate source into $CARGO_HOME/registry/src/*/.
    run(cargo_in(ctx, &temp.0, &["info", &krate]))?;
    let source = find_registry_source(ctx, &format!("wasm-bindgen-cli-{WASM_BINDGEN_VERSION}"))?;
    let work = temp.0.join(format!("wasm-bindgen-cli-{WASM_BINDGEN_VERSION}"));
    println!("    copying {} to {}", source.display(), work.display());
    copy_dir(&source, &work).map_err(|e| format!("copying {}: {e}", source.display()))?;

    let pin = format!("update -p webpki-roots --precise {WEBPKI_ROOTS_VERSION}");
    run(cargo_in(ctx, &work, &words(&pin)))?;

    let target = temp.0.join("target");
    let mut args = words("install --locked --force --path . --target-dir");
    args.push(utf8(&target)?);
    run(cargo_in(ctx, &work, &args))?;

    match wasm_bindgen_problem(ctx) {
        None => {
            run(ctx.command("wasm-bindgen", &["--version"]))?;
            run(ctx.command("wasm-bindgen-test-runner", &["--version"]))
        }
        Some(problem) => {
            Err(still(&format!("wasm-bindgen-cli {WASM_BINDGEN_VERSION}"), &problem, ctx))
        }
    }
}

/// trunk at [`TRUNK_VERSION`] with `cargo install --locked`, built without LTO and with 16
/// codegen units (about 10 instead of 12.5 minutes on 2 cores; the binary is a little slower,
/// which does not matter for a build tool) in a temporary target dir that is removed afterwards.
pub fn trunk(ctx: &Context) -> Result<(), String> {
    let Some(problem) = version_problem(ctx, "trunk", 1, TRUNK_VERSION) else {
        println!("    trunk {TRUNK_VERSION} already installed (skip)");
        return Ok(());
    };
    println!(
        "==> installing trunk {TRUNK_VERSION} into {} (missing: {problem}); \
         a release build, about 10 minutes on 2 cores",
        ctx.cargo_home.join("bin").display()
    );
    let temp = TempDir::new("xtask-trunk")?;
    let target = temp.0.join("target");
    let line = format!("install --locked --force trunk --version {TRUNK_VERSION} --target-dir");
    let mut args = words(&line);
    args.push(utf8(&target)?);
    let mut install = cargo_in(ctx, &temp.0, &args);
    install
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16");
    run(install)?;
    match version_problem(ctx, "trunk", 1, TRUNK_VERSION) {
        None => run(ctx.command("trunk", &["--version"])),
        Some(problem) => Err(still(&format!("trunk {TRUNK_VERSION}"), &problem, ctx)),
    }
}

/// The folder npm installs binaryen into: outside the repository, kept between runs
/// (`$XDG_CACHE_HOME`, else `~/.cache`, else the target dir).
fn binaryen_dir(ctx: &Context) -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|dir| !dir.is_empty())
                .map(|home| PathBuf::from(home).join(".cache"))
        })
        .unwrap_or_else(|| ctx.target_dir_or_default().join("tools"));
    cache.join("firefly-playground").join(format!("binaryen-{BINARYEN_VERSION}"))
}

/// The pinned wasm-opt (a Node.js script from npm's `binaryen`).
pub fn wasm_opt_path(ctx: &Context) -> PathBuf {
    binaryen_dir(ctx).join("node_modules").join(".bin").join("wasm-opt")
}

/// Why the pinned wasm-opt does not fit, or `None` when `wasm-opt --version` prints
/// `wasm-opt version 132 (version_132)`.
fn wasm_opt_problem(ctx: &Context) -> Option<String> {
    let path = wasm_opt_path(ctx);
    let Some(path) = path.to_str() else {
        return Some(format!("{} is not UTF-8", path.display()));
    };
    let major = BINARYEN_VERSION.split('.').next();
    version_problem(ctx, path, 2, major.unwrap_or(BINARYEN_VERSION))
}

/// npm's `binaryen` at [`BINARYEN_VERSION`] (wasm-opt for `cargo xtask dist`) into
/// [`binaryen_dir`] with `npm install --prefix`, unless it is already there. About 3 s; needs
/// Node.js and npm.
pub fn wasm_opt(ctx: &Context) -> Result<(), String> {
    let Some(problem) = wasm_opt_problem(ctx) else {
        println!("    wasm-opt (npm binaryen {BINARYEN_VERSION}) already installed (skip)");
        return Ok(());
    };
    let dir = binaryen_dir(ctx);
    println!(
        "==> installing wasm-opt (npm binaryen@{BINARYEN_VERSION}) into {} (missing: {problem})",
        dir.display()
    );
    fail_if!(
        ctx.find_in_path("npm").is_none() || ctx.find_in_path("node").is_none(),
        "wasm-opt comes from npm's binaryen and runs on Node.js, but `npm` or `node` is not on \
         PATH: install Node.js and npm (Debian: `apt-get install -y nodejs npm`)"
    );
    fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let prefix = utf8(&dir)?;
    let package = format!("binaryen@{BINARYEN_VERSION}");
    let mut args = vec!["install", "--prefix", prefix];
    args.extend(words("--no-audit --no-fund --save-exact"));
    args.push(&package);
    run(ctx.command("npm", &args))?;
    match wasm_opt_problem(ctx) {
        None => Ok(()),
        Some(problem) => Err(format!("after installing binaryen@{BINARYEN_VERSION}: {problem}")),
    }
}

/// A cargo command in `dir` that ignores the checks' target dir (for tool installs).
fn cargo_in(ctx: &Context, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = ctx.cargo_without_target_dir(args);
    cmd.current_dir(dir);
    cmd
}

/// `$CARGO_HOME/registry/src/<any index>/<dir_name>` holding a Cargo.toml.
fn find_registry_source(ctx: &Context, dir_name: &str) -> Result<PathBuf, String> {
    let src = ctx.cargo_home.join("registry").join("src");
    let entries = fs::read_dir(&src).map_err(|e| format!("reading {}: {e}", src.display()))?;
    entries
        .filter_map(Result::ok)
        .map(|index| index.path().join(dir_name))
        .find(|candidate| candidate.join("Cargo.toml").is_file())
        .ok_or_else(|| format!("`cargo info` did not leave {dir_name} in {}", src.display()))
}

/// Copies a directory tree (files and directories; symlinks are followed).
fn copy_dir(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
