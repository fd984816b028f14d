//! What `cargo xtask dist` does after trunk has built the site with the `dist` cargo profile:
//! wasm-opt on the wasm (pinned npm binaryen; trunk's own wasm-opt stays off so that the tests'
//! build is fast), the wasm's size and integrity put right in `index.html`, precompressed `.gz`
//! (zopfli through `pigz -11`) and `.br` beside each text or wasm asset, and a size table checked
//! against the download budget. With `SITE_URL` set, the preview image's URL in the social tags
//! becomes absolute, as social sites want it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::context::{Context, run, utf8};
use crate::{install, sri};

/// wasm-opt's passes, chosen by measurement (README "Size"): identical functions merged, then
/// functions ordered by name, which puts the instances of one generic function side by side
/// where gzip's 32 KB window finds their likeness (−9 % gzip). `-Oz` is not used: it cuts the raw
/// size by half but reorders functions and makes the gzip larger (2.28 → 2.42 MB); LLVM's
/// `opt-level = "z"` with fat LTO has done the optimising.
pub const WASM_OPT_PASSES: [&str; 2] =
    ["--duplicate-function-elimination", "--reorder-functions-by-name"];
/// The features rustc enables for wasm32-unknown-unknown (Rust ≥ 1.82), plus SIMD, which
/// dependencies use in some functions: wasm-opt must accept them all and may use no others.
const WASM_FEATURES: [&str; 7] = [
    "--enable-bulk-memory",
    "--enable-multivalue",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-sign-ext",
    "--enable-simd",
];
/// The most the page may download when it opens, `.wasm` and `.js` together, gzip-compressed
/// (bytes): a guard against regressions (the goal was 2,000,000). The page every visitor loads
/// has no WebGPU code and weighs 0.68 MB (README "Size").
pub const DOWNLOAD_BUDGET_GZIP: u64 = 750_000;
/// The most the WebGPU build may weigh, `.wasm` and `.js` gzip-compressed (bytes): the page
/// loads it only when the settings want WebGPU (`backend=webgpu`, `probe`, or a 64-wide network).
/// burn's WebGPU backend is three quarters of it.
pub const WEBGPU_BUDGET_GZIP: u64 = 2_350_000;
/// The WebGPU build's files in the site start with this (`webgpu-<hash>.js`, `_bg.wasm`).
const WEBGPU_PREFIX: &str = "webgpu-";
/// The environment variable that names where the site will be served from (e.g.
/// `https://user.github.io/firefly-playground/`).
pub const SITE_URL_VAR: &str = "SITE_URL";
/// The preview image's URL as `index.html` writes it in `og:image` and `twitter:image`:
/// relative, so the site works wherever it is put; [`SITE_URL_VAR`] makes it absolute.
const PREVIEW_CONTENT: &str = "content=\"preview.png\"";
/// What gets a precompressed copy: everything a browser downloads except images.
const COMPRESSED_EXTENSIONS: [&str; 6] = ["html", "js", "wasm", "css", "json", "svg"];

/// Optimises the wasm, fixes `index.html`, precompresses and reports the sizes.
pub fn finish(ctx: &Context, dist: &Path) -> Result<(), String> {
    let wasm = the_wasm(dist, false)?;
    let before = wasm_opt(ctx, &wasm)?;
    fix_loader(dist, &wasm, &before)?;
    wasm_opt(ctx, &the_wasm(dist, true)?)?;
    site_url(dist)?;
    precompress(ctx, dist)?;
    report(dist)
}

/// Whether `file` (under `dist`) belongs to the WebGPU build (`webgpu-<hash>.js`,
/// `webgpu-<hash>_bg.wasm` and their precompressed copies, at the top).
pub fn in_webgpu_build(dist: &Path, file: &Path) -> bool {
    file.parent() == Some(dist)
        && file.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(WEBGPU_PREFIX))
}

/// The one `*_bg.wasm` of the page's first build (trunk's, at the top of `dist`), or of the
/// WebGPU build (`webgpu-<hash>_bg.wasm`, which the post-build hook writes).
fn the_wasm(dist: &Path, webgpu: bool) -> Result<PathBuf, String> {
    let mut found: Vec<PathBuf> = files(dist)?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .filter(|p| in_webgpu_build(dist, p) == webgpu)
        .collect();
    let which = if webgpu { "the WebGPU build's" } else { "the first build's" };
    match found.len() {
        1 => Ok(found.remove(0)),
        n => Err(format!("expected one .wasm for {which} in {}, found {n}", dist.display())),
    }
}

/// Runs the pinned wasm-opt on `wasm` in place; returns the bytes from before.
fn wasm_opt(ctx: &Context, wasm: &Path) -> Result<Vec<u8>, String> {
    let before = fs::read(wasm).map_err(|e| format!("reading {}: {e}", wasm.display()))?;
    let work = ctx.target_dir_or_default().join("wasm-opt-dist");
    fs::create_dir_all(&work).map_err(|e| format!("creating {}: {e}", work.display()))?;
    let output = work.join("optimised.wasm");
    let (input_arg, output_arg) = (utf8(wasm)?, utf8(&output)?);
    let mut args = WASM_OPT_PASSES.to_vec();
    args.extend(WASM_FEATURES);
    args.extend([input_arg, "-o", output_arg]);
    let started = Instant::now();
    let (passes, from) = (WASM_OPT_PASSES.join(" "), mb(before.len() as u64));
    println!("==> wasm-opt {passes} on {} ({from:.1} MB)", wasm.display());
    run(ctx.command(install::wasm_opt_path(ctx), &args))?;
    let after = fs::read(&output).map_err(|e| format!("reading {}: {e}", output.display()))?;
    let (to, seconds) = (mb(after.len() as u64), started.elapsed().as_secs_f64());
    println!("    wasm-opt: {from:.1} MB -> {to:.1} MB in {seconds:.0} s");
    fs::write(wasm, &after).map_err(|e| format!("writing {}: {e}", wasm.display()))?;
    Ok(before)
}

/// Puts the first build's new size (the loading progress's total) and integrity into
/// `index.html` and trunk's loader where trunk wrote the old ones.
fn fix_loader(dist: &Path, wasm: &Path, before: &[u8]) -> Result<(), String> {
    let after = fs::read(wasm).map_err(|e| format!("reading {}: {e}", wasm.display()))?;
    let name = wasm.file_name().and_then(|n| n.to_str()).ok_or("the wasm's name is not UTF-8")?;
    edit(&dist.join("index.html"), |html| {
        let (old, new) = (sri::integrity(before), sri::integrity(&after));
        replace_once(html, &old, &new, "the wasm's integrity")
    })?;
    // trunk's loader, which the post-build hook moved out of index.html into `*-inline.js`
    // (the page's Content-Security-Policy allows no inline script), carries the wasm's size.
    let loader = files(dist)?
        .into_iter()
        .find(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with("-inline.js"))
                && fs::read_to_string(p).is_ok_and(|t| t.contains("__trunkInitializer"))
        })
        .ok_or(
            "no trunk loader (*-inline.js) in the build: is the post-build hook in Trunk.toml?",
        )?;
    edit(&loader, |text| replace_wasm_size(text, name, before.len(), after.len()))
}

fn edit(path: &Path, change: impl FnOnce(&str) -> Result<String, String>) -> Result<(), String> {
    let text = fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    fs::write(path, change(&text)?).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// trunk 0.21 writes `__trunkInitializer(init, '<base><name>', <size>, initializer(), …)` with
/// the size from before its (here unused) wasm-opt step: the loader with the new size.
fn replace_wasm_size(
    loader: &str, name: &str, before: usize, after: usize,
) -> Result<String, String> {
    replace_once(
        loader,
        &format!("{name}', {before}, initializer()"),
        &format!("{name}', {after}, initializer()"),
        "the wasm's size in the initializer call",
    )
}

/// With [`SITE_URL_VAR`] set, puts the absolute preview URL and `og:url` into `index.html`.
/// Social sites (Facebook, LinkedIn, Slack, X) read `og:image` without running the page and do
/// not all resolve a relative one; the page itself needs no absolute URL.
fn site_url(dist: &Path) -> Result<(), String> {
    let Some(site) = std::env::var(SITE_URL_VAR).ok().filter(|s| !s.is_empty()) else {
        println!(
            "    og:image stays relative (preview.png); set {SITE_URL_VAR}=https://host/path/ \
             for the absolute URL social sites want"
        );
        return Ok(());
    };
    edit(&dist.join("index.html"), |html| with_site_url(html, &site))?;
    println!("    og:image and twitter:image made absolute under {SITE_URL_VAR}={site}");
    Ok(())
}

/// `html` with the preview image's URL made absolute under `site` (an http(s) URL, safe inside
/// an attribute; a missing final `/` is added) and `og:url` set to `site`.
fn with_site_url(html: &str, site: &str) -> Result<String, String> {
    let site = &format!("{}/", site.trim_end_matches('/'));
    let plain = site
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '<' | '>' | '&' | '\\'));
    fail_if!(
        !(site.starts_with("https://") || site.starts_with("http://")) || !plain,
        "{SITE_URL_VAR}={site:?}: expected the site's full address, such as \
             https://user.github.io/firefly-playground/"
    );
    let count = html.matches(PREVIEW_CONTENT).count();
    fail_if!(
        count != 2,
        "index.html: expected {PREVIEW_CONTENT} twice (og:image, twitter:image), found it \
             {count} times"
    );
    let html = html.replace(PREVIEW_CONTENT, &format!("content=\"{site}preview.png\""));
    replace_once(
        &html,
        "<meta property=\"og:type\"",
        &format!("<meta property=\"og:url\" content=\"{site}\">\n  <meta property=\"og:type\""),
        "og:type",
    )
}

fn replace_once(text: &str, from: &str, to: &str, what: &str) -> Result<String, String> {
    match text.matches(from).count() {
        1 => Ok(text.replacen(from, to, 1)),
        n => Err(format!("index.html: expected {what} ({from}) once, found it {n} times")),
    }
}

/// Writes `<file>.gz` (`pigz -11`: zopfli, any gzip reader reads it) and `<file>.br` (brotli
/// quality 11) beside every asset with one of [`COMPRESSED_EXTENSIONS`], for servers that send
/// precompressed files (`install::compressors` installs both tools).
fn precompress(ctx: &Context, dist: &Path) -> Result<(), String> {
    let started = Instant::now();
    for file in files(dist)? {
        let compressible = file
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| COMPRESSED_EXTENSIONS.contains(&e));
        if !compressible {
            continue;
        }
        let path = utf8(&file)?;
        // -n: no name or time stamp inside, so the same input gives the same bytes.
        quiet(ctx.command("pigz", &["-11", "-n", "-k", "-f", path]))?;
        quiet(ctx.command("brotli", &["-q", "11", "-k", "-f", path]))?;
    }
    println!(
        "    precompressed (.gz by pigz -11, .br by brotli -q 11) in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// One downloaded file: its name under `dist`, raw, gzip and brotli bytes.
type Row = (String, u64, u64, u64);

/// Prints each `.wasm` and `.js` with its raw, gzip and brotli bytes: what the page loads when it
/// opens, then the WebGPU build it loads only when the settings want WebGPU. Fails when either
/// total is over its budget ([`DOWNLOAD_BUDGET_GZIP`], [`WEBGPU_BUDGET_GZIP`]).
fn report(dist: &Path) -> Result<(), String> {
    let (mut first, mut webgpu): (Vec<Row>, Vec<Row>) = (Vec::new(), Vec::new());
    for file in files(dist)? {
        let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "wasm" && ext != "js" {
            continue;
        }
        let raw = len(&file)?;
        let gz = len(&with_suffix(&file, "gz"))?;
        let br = len(&with_suffix(&file, "br"))?;
        let name = file.strip_prefix(dist).unwrap_or(&file).display().to_string();
        let rows = if in_webgpu_build(dist, &file) { &mut webgpu } else { &mut first };
        rows.push((name, raw, gz, br));
    }
    table("the page's download when it opens", &mut first, DOWNLOAD_BUDGET_GZIP)?;
    table(
        "the WebGPU build, loaded only when the settings want WebGPU",
        &mut webgpu,
        WEBGPU_BUDGET_GZIP,
    )
}

/// Prints `rows` and their total under `title`; an error when the gzip total passes `budget`.
fn table(title: &str, rows: &mut [Row], budget: u64) -> Result<(), String> {
    rows.sort();
    let total = |f: fn(&Row) -> u64| rows.iter().map(f).sum::<u64>();
    let (raw, gz, br) = (total(|r| r.1), total(|r| r.2), total(|r| r.3));
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(5);
    println!("\n==> {title} (bytes)");
    println!("    {:<width$}  {:>10}  {:>10}  {:>10}", "file", "raw", "gzip", "brotli");
    for (name, raw, gz, br) in rows.iter() {
        println!("    {name:<width$}  {raw:>10}  {gz:>10}  {br:>10}");
    }
    println!("    {:<width$}  {raw:>10}  {gz:>10}  {br:>10}", "total");
    fail_if!(
        gz > budget,
        "{title}: its .wasm and .js are {gz} bytes gzip, over the budget of {budget}"
    );
    println!("    within the budget: {:.2} MB gzip of {:.2} MB", mb(gz), mb(budget));
    Ok(())
}

fn quiet(mut cmd: Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let output =
        cmd.stdin(Stdio::null()).output().map_err(|e| format!("could not start {shown}: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    fail_if!(!output.status.success(), "{shown} exited with {}: {}", output.status, stderr.trim());
    Ok(())
}

pub fn files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("reading {}: {e}", dir.display()))?.path();
        if path.is_dir() {
            out.extend(files(&path)?);
        } else {
            out.push(path);
        }
    }
    Ok(out)
}

pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

pub fn len(path: &Path) -> Result<u64, String> {
    fs::metadata(path).map(|m| m.len()).map_err(|e| format!("{}: {e}", path.display()))
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_wasm_size_and_refuses_what_is_not_there() {
        let loader = "const wasm = await __trunkInitializer(init, './app_bg.wasm', 14, initializer(), false);";
        let fixed = replace_wasm_size(loader, "app_bg.wasm", 14, 3).unwrap();
        assert!(fixed.contains("'./app_bg.wasm', 3, initializer()"));
        assert!(!fixed.contains(", 14, "));
        let err = replace_wasm_size(loader, "app_bg.wasm", 15, 3).unwrap_err();
        assert!(err.contains("size"), "{err}");
        let err = replace_once("<html></html>", "sha384-x", "sha384-y", "the wasm's integrity")
            .unwrap_err();
        assert!(err.contains("integrity"), "{err}");
    }

    #[test]
    fn site_url_makes_the_preview_absolute() {
        let html = "<meta property=\"og:type\" content=\"website\">\n  \
                    <meta property=\"og:image\" content=\"preview.png\">\n  \
                    <meta name=\"twitter:image\" content=\"preview.png\">";
        let site = "https://user.github.io/firefly-playground/";
        let fixed = with_site_url(html, site).unwrap();
        assert_eq!(fixed.matches(&format!("content=\"{site}preview.png\"")).count(), 2);
        assert!(fixed.contains(&format!("<meta property=\"og:url\" content=\"{site}\">")));
        assert!(!fixed.contains("content=\"preview.png\""));
        let no_slash = with_site_url(html, site.trim_end_matches('/')).unwrap();
        assert_eq!(no_slash, fixed);
        for bad in ["user.github.io/x/", "https://a/\"><script>/", "https://a b/"] {
            assert!(with_site_url(html, bad).is_err(), "{bad}");
        }
        assert!(with_site_url("<html></html>", site).is_err());
    }

    #[test]
    fn tells_the_webgpu_build_from_the_first() {
        let dist = Path::new("dist");
        assert!(in_webgpu_build(dist, Path::new("dist/webgpu-0a1b_bg.wasm")));
        assert!(in_webgpu_build(dist, Path::new("dist/webgpu-0a1b.js")));
        assert!(!in_webgpu_build(dist, Path::new("dist/app-1234_bg.wasm")));
        assert!(!in_webgpu_build(dist, Path::new("dist/x/webgpu-0a1b.js")));
    }

    #[test]
    fn suffix_is_appended() {
        assert_eq!(
            with_suffix(Path::new("dist/a_bg.wasm"), "gz"),
            PathBuf::from("dist/a_bg.wasm.gz")
        );
    }
}
