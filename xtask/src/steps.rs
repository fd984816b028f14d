//! The steps of `cargo xtask test` / `install`, and the runner that times them, stops at the
//! first failure and prints a summary table.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::context::{Context, is_executable, run, words};
use crate::install::{BINARYEN_VERSION, TRUNK_VERSION, WASM_BINDGEN_VERSION, WASM_TARGET};
use crate::{e2e, install, trunk};
use Step::*;

/// The real Chromium binary that `webdriver.json` names.
pub const CHROMIUM_BINARY: &str = "/usr/lib/chromium/chromium";
/// Where Debian's `chromium-driver` puts chromedriver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Seconds wasm-bindgen-test-runner waits for the browser tests.
const WASM_BINDGEN_TEST_TIMEOUT: &str = "600";

/// One step; its order in the lists below is the order it runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    InstallWasmTarget,
    InstallComponents,
    InstallChromium,
    InstallWasmBindgen,
    InstallTrunk,
    InstallWasmOpt,
    InstallCompressors,
    Fmt,
    ClippyNative,
    ClippyWasm,
    TestNative,
    TestWgpu,
    TestWasm,
    E2e,
    Dist,
}

impl Step {
    /// `cargo xtask test`: every install and every check.
    pub const ALL: [Step; 12] = [
        InstallWasmTarget,
        InstallComponents,
        InstallChromium,
        InstallWasmBindgen,
        InstallTrunk,
        Fmt,
        ClippyNative,
        ClippyWasm,
        TestNative,
        TestWgpu,
        TestWasm,
        E2e,
    ];
    /// `cargo xtask test --native`: no wasm target, browser or wasm-bindgen needed.
    pub const NATIVE: [Step; 5] = [InstallComponents, Fmt, ClippyNative, TestNative, TestWgpu];
    /// `cargo xtask test --wasm`: what the browser tests need, then the browser tests.
    pub const WASM: [Step; 4] = [InstallWasmTarget, InstallChromium, InstallWasmBindgen, TestWasm];
    /// `cargo xtask test --e2e`: what the trunk build and the browser need, then the
    /// end-to-end test.
    pub const E2E: [Step; 5] =
        [InstallWasmTarget, InstallChromium, InstallWasmBindgen, InstallTrunk, E2e];
    /// `cargo xtask test --e2e` with `E2E_DIST` set (no trunk build, so no build tools), and
    /// `cargo xtask e2e-selftest`.
    pub const E2E_PREBUILT: [Step; 2] = [InstallChromium, E2e];
    /// `cargo xtask install`: every install, no check.
    pub const INSTALL: [Step; 5] =
        [InstallWasmTarget, InstallComponents, InstallChromium, InstallWasmBindgen, InstallTrunk];
    /// `cargo xtask dist`: what trunk, wasm-opt and the precompression need (no browser), then
    /// the build.
    pub const DIST: [Step; 6] = [
        InstallWasmTarget,
        InstallWasmBindgen,
        InstallTrunk,
        InstallWasmOpt,
        InstallCompressors,
        Dist,
    ];

    /// The name shown in the `==>` lines, the summary and the failure message.
    pub fn name(self) -> String {
        match self {
            InstallWasmTarget => format!("install rustup target {WASM_TARGET}"),
            InstallComponents => "install rustfmt + clippy".into(),
            InstallChromium => "install chromium + chromedriver".into(),
            InstallWasmBindgen => format!("install wasm-bindgen-cli {WASM_BINDGEN_VERSION}"),
            InstallTrunk => format!("install trunk {TRUNK_VERSION}"),
            InstallCompressors => "install pigz + brotli".into(),
            InstallWasmOpt => format!("install wasm-opt (npm binaryen {BINARYEN_VERSION})"),
            Fmt => "fmt".into(),
            ClippyNative => "clippy (native)".into(),
            ClippyWasm => "clippy (wasm32)".into(),
            TestNative => "test (native)".into(),
            TestWgpu => "test (native wgpu, on a software adapter where there is one)".into(),
            TestWasm => "test (wasm32, headless Chromium)".into(),
            E2e => "e2e (the built site in headless Chromium)".into(),
            Dist => {
                "dist (trunk build with the dist profile, wasm-opt, precompress into dist/)".into()
            }
        }
    }

    fn run(self, ctx: &Context) -> Result<(), String> {
        match self {
            InstallWasmTarget => install::wasm_target(ctx),
            InstallComponents => install::components(ctx),
            InstallChromium => install::chromium(ctx),
            InstallWasmBindgen => install::wasm_bindgen_cli(ctx),
            InstallTrunk => install::trunk(ctx),
            InstallWasmOpt => install::wasm_opt(ctx),
            InstallCompressors => install::compressors(ctx),
            Fmt => run(ctx.cargo(&["fmt", "--all", "--", "--check"])),
            ClippyNative => {
                run(ctx.cargo(&words("clippy --workspace --all-targets --release -- -D warnings")))
            }
            // Both builds of the page: the one every visitor loads (no WebGPU code), then the
            // WebGPU build with the browser tests.
            ClippyWasm => ["", " --tests --features wgpu"].iter().try_for_each(|extra| {
                run(ctx.cargo(&words(&format!(
                    "clippy -p firefly-playground --lib{extra} --target {WASM_TARGET} --release -- -D warnings"
                ))))
            }),
            TestNative => run(ctx.cargo(&["test", "--release", "--workspace"])),
            TestWgpu => test_wgpu(ctx),
            TestWasm => test_wasm(ctx),
            E2e => e2e::run_e2e(ctx),
            Dist => trunk::dist(ctx),
        }
    }
}

/// Where Debian's `mesa-vulkan-drivers` installs Vulkan ICD files.
const VULKAN_ICDS: &str = "/usr/share/vulkan/icd.d";

/// The ICD file of a software Vulkan adapter (Mesa's lavapipe, `lvp_icd.*.json`) in `dir`.
fn software_icd(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("lvp_icd") && n.ends_with(".json"))
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// Where Debian's `libegl-mesa0` names Mesa's EGL to glvnd.
const MESA_EGL: &str = "/usr/share/glvnd/egl_vendor.d/50_mesa.json";
/// Where Debian's multiarch library folders are (`<triple>/dri/swrast_dri.so`).
const LIBS: &str = "/usr/lib";

/// The software adapter native wgpu can use on this machine.
#[derive(Debug, PartialEq)]
enum SoftwareAdapter {
    /// Mesa's lavapipe (Vulkan), through this ICD file.
    Lavapipe(PathBuf),
    /// Mesa's llvmpipe through OpenGL: its EGL (`egl`) and its software driver.
    Llvmpipe { egl: PathBuf },
}

/// Lavapipe when `icds` has its ICD file, else llvmpipe when `egl` exists and a folder of `libs`
/// has Mesa's software GL driver (`*/dri/swrast_dri.so`), else none.
fn software_adapter(icds: &Path, egl: &Path, libs: &Path) -> Option<SoftwareAdapter> {
    if let Some(icd) = software_icd(icds) {
        return Some(SoftwareAdapter::Lavapipe(icd));
    }
    let swrast = std::fs::read_dir(libs)
        .into_iter()
        .flatten()
        .flatten()
        .any(|lib| lib.path().join("dri/swrast_dri.so").is_file());
    (egl.is_file() && swrast).then(|| SoftwareAdapter::Llvmpipe { egl: egl.to_path_buf() })
}

/// burn's wgpu backend natively (`tests/engine/wgpu.rs`: the golden run, a Figure 3 job and a
/// continual run against the CPU, and the kernel launches of a growth phase and of a stacked
/// step) on a software adapter where the machine has one: lavapipe, the only Vulkan adapter
/// wgpu is shown (`VK_ICD_FILENAMES`), else llvmpipe through OpenGL (wgpu falls back to GL where
/// there is no Vulkan adapter; `LIBGL_ALWAYS_SOFTWARE` keeps Mesa on llvmpipe). Elsewhere it
/// says why it is skipped. The WebGPU path is checked in the browser tests either way.
fn test_wgpu(ctx: &Context) -> Result<(), String> {
    let found = software_adapter(Path::new(VULKAN_ICDS), Path::new(MESA_EGL), Path::new(LIBS));
    let mut cmd = ctx
        .cargo(&words("test --release -p firefly-playground --features wgpu --test engine wgpu::"));
    match found {
        Some(SoftwareAdapter::Lavapipe(icd)) => {
            println!("    software adapter: lavapipe (Vulkan), {}", icd.display());
            cmd.env("VK_ICD_FILENAMES", &icd);
        }
        Some(SoftwareAdapter::Llvmpipe { egl }) => {
            println!("    software adapter: llvmpipe (OpenGL through EGL, {})", egl.display());
            cmd.env("LIBGL_ALWAYS_SOFTWARE", "1");
        }
        None => {
            println!(
                "    skipped: no software adapter here (Mesa's lavapipe: `apt install \
                 mesa-vulkan-drivers`; or llvmpipe: `apt install libegl-mesa0 libgl1-mesa-dri`); \
                 the browser tests check WebGPU on Chromium's SwiftShader"
            );
            return Ok(());
        }
    }
    run(cmd)
}

/// The browser tests: `tests/browser.rs` built for wasm32 and run by wasm-bindgen-test-runner in
/// headless Chromium through chromedriver, with the flags of `webdriver.json`.
fn test_wasm(ctx: &Context) -> Result<(), String> {
    let chromedriver = chromedriver(ctx)?;
    let webdriver_json = ctx.repo_root.join("webdriver.json");
    fail_if!(!webdriver_json.is_file(), "{} is missing", webdriver_json.display());
    fail_if!(
        !is_executable(Path::new(CHROMIUM_BINARY)),
        "{CHROMIUM_BINARY} (named by webdriver.json) is missing: run `cargo xtask install`"
    );
    let mut cmd = ctx.cargo(&words(&format!(
        "test --release -p firefly-playground --features wgpu --target {WASM_TARGET} --test browser"
    )));
    cmd.env("CHROMEDRIVER", &chromedriver)
        .env("WASM_BINDGEN_TEST_TIMEOUT", WASM_BINDGEN_TEST_TIMEOUT)
        .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &webdriver_json);
    run(cmd)
}

/// `$CHROMEDRIVER` when it names an executable, else `/usr/bin/chromedriver`, else the one on
/// `PATH`.
pub fn chromedriver(ctx: &Context) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("CHROMEDRIVER").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if is_executable(&path) {
            return Ok(path);
        }
        println!(
            "    note: CHROMEDRIVER={} is not an executable; looking elsewhere",
            path.display()
        );
    }
    let default = Path::new(CHROMEDRIVER);
    if is_executable(default) {
        return Ok(default.to_path_buf());
    }
    ctx.find_in_path("chromedriver")
        .ok_or_else(|| "chromedriver not found: run `cargo xtask install`".to_string())
}

/// Runs `steps` in order, timing each, and stops at the first failure; on failure returns a
/// message naming the failed step. The summary table is printed either way.
pub fn run_steps(steps: &[Step], ctx: &Context) -> Result<(), String> {
    let started = Instant::now();
    let total = steps.len();
    // The steps run: how long each took and whether it passed.
    let mut outcomes: Vec<(Duration, bool)> = Vec::with_capacity(total);
    for (index, step) in steps.iter().enumerate() {
        let name = step.name();
        println!("\n==> [{}/{total}] {name}", index + 1);
        let step_started = Instant::now();
        let result = step.run(ctx);
        let elapsed = step_started.elapsed();
        outcomes.push((elapsed, result.is_ok()));
        if let Err(message) = result {
            println!("    {name}: FAILED after {:.1} s", elapsed.as_secs_f64());
            print_summary(steps, &outcomes, started.elapsed());
            return Err(format!("step '{name}' failed: {message}"));
        }
        println!("    {name}: ok in {:.1} s", elapsed.as_secs_f64());
    }
    print_summary(steps, &outcomes, started.elapsed());
    Ok(())
}

/// Prints one row per step: name, seconds, ok / failed / not run (the steps after `outcomes`).
fn print_summary(steps: &[Step], outcomes: &[(Duration, bool)], total: Duration) {
    let names: Vec<String> = steps.iter().map(|s| s.name()).collect();
    let width = names.iter().map(String::len).max().unwrap_or(0).max(5);
    println!("\n==> summary");
    println!("    {:<width$}  {:>8}  result", "step", "seconds");
    for (i, name) in names.iter().enumerate() {
        let (seconds, result) = match outcomes.get(i) {
            Some((d, ok)) => (format!("{:.1}", d.as_secs_f64()), if *ok { "ok" } else { "FAILED" }),
            None => ("-".to_string(), "not run"),
        };
        println!("    {name:<width$}  {seconds:>8}  {result}");
    }
    println!("    {:<width$}  {:>8.1}", "total", total.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lavapipe_among_vulkan_icds_and_nothing_without_it() {
        let temp = crate::context::TempDir::new("xtask-icds").expect("temp dir");
        let dir = temp.0.clone();
        assert_eq!(software_icd(&dir), None);
        std::fs::write(dir.join("nvidia_icd.json"), "{}").expect("write");
        std::fs::write(dir.join("radeon_icd.x86_64.json"), "{}").expect("write");
        assert_eq!(software_icd(&dir), None, "hardware drivers only");
        std::fs::write(dir.join("lvp_icd.x86_64.json"), "{}").expect("write");
        assert_eq!(software_icd(&dir), Some(dir.join("lvp_icd.x86_64.json")));
        assert_eq!(software_icd(&dir.join("absent")), None);
    }

    #[test]
    fn takes_lavapipe_first_then_llvmpipe_through_egl_and_nothing_without_either() {
        let temp = crate::context::TempDir::new("xtask-adapters").expect("temp dir");
        let (icds, libs, egl) =
            (temp.0.join("icd.d"), temp.0.join("lib"), temp.0.join("mesa.json"));
        let mk = |dir: &Path| std::fs::create_dir_all(dir).expect("mkdir");
        mk(&icds);
        mk(&libs.join("x86_64-linux-gnu/dri"));
        assert_eq!(software_adapter(&icds, &egl, &libs), None, "nothing installed");
        std::fs::write(&egl, "{}").expect("write");
        assert_eq!(software_adapter(&icds, &egl, &libs), None, "EGL without the software driver");
        std::fs::write(libs.join("x86_64-linux-gnu/dri/swrast_dri.so"), "").expect("write");
        let llvmpipe = SoftwareAdapter::Llvmpipe { egl: egl.clone() };
        assert_eq!(software_adapter(&icds, &egl, &libs), Some(llvmpipe));
        std::fs::write(icds.join("lvp_icd.x86_64.json"), "{}").expect("write");
        let lavapipe = SoftwareAdapter::Lavapipe(icds.join("lvp_icd.x86_64.json"));
        assert_eq!(software_adapter(&icds, &egl, &libs), Some(lavapipe));
        std::fs::remove_file(&egl).expect("remove");
        assert!(matches!(software_adapter(&icds, &egl, &libs), Some(SoftwareAdapter::Lavapipe(_))));
    }
}
