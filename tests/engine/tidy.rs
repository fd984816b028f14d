//! Conventions every source file keeps (a `//!` module doc first, no `unwrap()` in the engine,
//! no browser crate in engine modules), the layering of `src/`, and the invariants ARCHITECTURE.md
//! states that a reading of the files can hold: every path it names exists, no file of `src/` is
//! past 700 lines but the settings table, tensors are read back only in `src/readback.rs`, only
//! the surgery changes a growing network's shapes, and one frame loop drives both modes of the
//! page.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(std::path::PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches", "xtask/src"] {
        if root.join(dir).exists() {
            rust_files(&root.join(dir), &mut files);
        }
    }
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable source");
            (p, text)
        })
        .collect()
}

#[test]
fn every_file_starts_with_a_module_doc() {
    let missing: Vec<String> = sources()
        .into_iter()
        .filter(|(_, text)| !text.trim_start().starts_with("//!"))
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a //! doc: {missing:?}");
}

#[test]
fn engine_modules_use_no_browser_crates_and_no_unwrap() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (path, text) in sources() {
        if !path.starts_with(&root) || path.starts_with(root.join("ui")) || path.ends_with("web.rs")
        {
            continue;
        }
        for forbidden in ["web_sys", "js_sys", "wasm_bindgen", ".unwrap()"] {
            assert!(
                !text.contains(forbidden),
                "{} uses {forbidden}",
                path.display()
            );
        }
    }
}

#[test]
fn config_does_not_import_the_session() {
    // `train` builds on `config`; the reverse import would make the two a cycle.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = std::fs::read_to_string(root.join("src/config.rs")).expect("config.rs");
    assert!(!config.contains("crate::train"), "config.rs imports train");
}

#[test]
fn the_model_sits_below_growth_and_sessions_name_no_method() {
    // Growth builds on the model; the session drives every method through `grow::Grower`.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = std::fs::read_to_string(root.join("src/model.rs")).expect("model.rs");
    assert!(!model.contains("crate::grow"), "model.rs imports grow");
    let session = std::fs::read_to_string(root.join("src/train/mod.rs")).expect("train/mod.rs");
    for name in ["Method::", "FireflyRun", "random::", "splitting::"] {
        assert!(!session.contains(name), "train/mod.rs names {name}");
    }
}

#[test]
fn the_session_never_asks_which_path_trains_it() {
    // The schedule, history, growth and stacks live in train/{mod,step,growing,outputs,stacked}.rs
    // and speak to the training path only through the `TrainingPath` trait (train/path/).
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/train");
    for file in [
        "mod.rs",
        "step.rs",
        "growing.rs",
        "outputs.rs",
        "stacked.rs",
    ] {
        let text = std::fs::read_to_string(root.join(file)).expect(file);
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for name in [
            "TrainPath::Tensor",
            "FusedPath",
            "TensorPath",
            "crate::fused",
            "fused::",
            "DeviceMlp",
            "== TrainPath",
            "path.kind() ==",
        ] {
            assert!(!code.contains(name), "train/{file} names {name}");
        }
    }
}

#[test]
fn readme_lists_every_link_key_of_the_settings_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let keys_at = readme.find("Keys: `").expect("README's list of link keys");
    let list = &readme[keys_at..];
    let list = &list[..list.find("\n\n").unwrap_or(list.len())];
    let missing: Vec<&str> = firefly_playground::settings::SETTINGS
        .iter()
        .map(|s| s.key)
        .filter(|key| !list.contains(&format!("`{key}`")))
        .collect();
    assert!(missing.is_empty(), "README's key list misses {missing:?}");
}

/// The top-level modules each file of `src/` names in code (`crate::x`, `use crate::{x, …}`),
/// comments and doc links left out.
fn module_imports() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut graph: std::collections::BTreeMap<_, std::collections::BTreeSet<String>> =
        Default::default();
    for path in files {
        let rel = path.strip_prefix(&root).expect("under src");
        let first = rel
            .iter()
            .next()
            .and_then(|c| c.to_str())
            .unwrap_or_default();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "bin" {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable source");
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut named = Vec::new();
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            if let Some(list) = rest.strip_prefix('{') {
                let list = &list[..list.find('}').unwrap_or(list.len())];
                named.extend(list.split(',').filter_map(|p| {
                    let p = p.trim();
                    let end = p.find(|c: char| !(c.is_alphanumeric() || c == '_'));
                    Some(p[..end.unwrap_or(p.len())].to_string()).filter(|m| !m.is_empty())
                }));
            } else {
                let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'));
                named.push(rest[..end.unwrap_or(rest.len())].to_string());
            }
        }
        let entry = graph.entry(module.clone()).or_default();
        entry.extend(named.into_iter().filter(|m| *m != module && !m.is_empty()));
    }
    graph
}

#[test]
fn the_modules_of_src_import_each_other_without_a_circle() {
    let graph = module_imports();
    // Depth-first search; a module met again while on the path closes a circle.
    fn visit(
        m: &str,
        graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut circle = path[at..].to_vec();
            circle.push(m.to_string());
            return Some(circle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for next in graph.get(m).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = Default::default();
    for m in graph.keys() {
        if let Some(circle) = visit(m, &graph, &mut Vec::new(), &mut done) {
            panic!("a circle among src's modules: {}", circle.join(" → "));
        }
    }
    // The layering ARCHITECTURE.md states, checked by name.
    let below = |upper: &str, lower: &str| {
        assert!(
            !graph.get(lower).is_some_and(|s| s.contains(upper)),
            "{lower} imports {upper}, which sits above it"
        );
    };
    for (upper, lower) in [
        ("grow", "model"),
        ("train", "grow"),
        ("playground", "train"),
        ("playground", "settings"),
        ("playground", "presets"),
        ("settings", "presets"),
        ("ui", "playground"),
    ] {
        below(upper, lower);
    }
}

/// A file's code: its lines that are not comments (module docs and doc comments included).
fn code_of(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The files of `src/`, each with its path relative to the crate root.
fn src_files() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    sources()
        .into_iter()
        .filter(|(p, _)| p.starts_with(root.join("src")))
        .map(|(p, text)| {
            let rel = p.strip_prefix(root).expect("under the crate root");
            (rel.to_string_lossy().replace('\\', "/"), text)
        })
        .collect()
}

/// The code spans of a Markdown text outside its fenced blocks that name a path: one under a
/// top-level folder of the repository (`src/…`, `tests/…`, `xtask/…`, `www/…`, `benches/…`,
/// `.ci/…`) or a file at the root (`index.html`, `Trunk.toml`).
fn named_paths(markdown: &str) -> Vec<String> {
    let mut prose = String::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    prose
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| !span.is_empty() && !span.contains(char::is_whitespace))
        .filter(|span| {
            let first = span.split('/').next().unwrap_or_default();
            let in_folder = span.contains('/')
                && ["src", "tests", "xtask", "www", "benches", ".ci"].contains(&first);
            let root_file =
                !span.contains('/') && [".html", ".toml", ".md"].iter().any(|e| span.ends_with(e));
            in_folder || root_file
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn every_path_architecture_md_names_exists() {
    // The code map names files and folders; a move or a split must take the map with it.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let named = named_paths(&doc);
    assert!(
        named.len() >= 20,
        "ARCHITECTURE.md names only {named:?}: is the map still written with paths in backticks?"
    );
    let missing: Vec<&String> = named.iter().filter(|p| !root.join(p).exists()).collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {missing:?}"
    );
    // A file named bare inside an entry (`step.rs`, `settings/mod.rs`) must still be the end of
    // some file's path.
    let files: Vec<String> = sources()
        .into_iter()
        .map(|(p, _)| p.to_string_lossy().replace('\\', "/"))
        .collect();
    let bare_missing: Vec<&str> = doc
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| span.ends_with(".rs") && !span.contains(char::is_whitespace))
        .filter(|span| !files.iter().any(|f| f.ends_with(&format!("/{span}"))))
        .collect();
    assert!(
        bare_missing.is_empty(),
        "ARCHITECTURE.md names .rs files that no path ends with: {bare_missing:?}"
    );
}

#[test]
fn no_file_of_src_is_longer_than_700_lines_but_the_settings_table() {
    // A module past two screens of scrolling wants splitting by concern. The settings table is
    // the exception on purpose: one row per setting, read as a table.
    const MAX_LINES: usize = 700;
    let long: Vec<String> = src_files()
        .into_iter()
        .filter(|(path, _)| path != "src/settings/table.rs")
        .filter_map(|(path, text)| {
            let n = text.lines().count();
            (n > MAX_LINES).then(|| format!("{path} ({n} lines)"))
        })
        .collect();
    assert!(
        long.is_empty(),
        "longer than {MAX_LINES} lines, split them: {long:?}"
    );
}

#[test]
fn tensors_are_read_back_only_in_readback_rs() {
    // WebGPU in a browser reads only asynchronously; `readback::read_all` batches every read
    // into one awaited transaction. A read anywhere else (ui included) would block natively and
    // fail in the browser, or cost a transaction of its own. No file is excepted.
    let reads = [
        "into_data",
        "to_data(",
        "into_scalar",
        "execute_async",
        "Transaction",
    ];
    let mut found = Vec::new();
    for (path, text) in src_files() {
        if path == "src/readback.rs" {
            continue;
        }
        let code = code_of(&text);
        for read in reads {
            if code.contains(read) {
                found.push(format!("{path}: {read}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "tensors read back outside src/readback.rs: {found:?}"
    );
}

#[test]
fn only_the_surgery_changes_the_shapes_of_a_growing_network() {
    // Growth methods propose plans; `grow::apply_plan` in src/grow/surgery.rs materialises them
    // (continual learning's too, on a task's view).
    let defining: Vec<String> = src_files()
        .into_iter()
        .filter(|(_, text)| code_of(text).contains("fn apply_plan"))
        .map(|(path, _)| path)
        .collect();
    assert!(
        defining.iter().any(|p| p == "src/grow/surgery.rs"),
        "src/grow/surgery.rs no longer defines apply_plan (found in {defining:?})"
    );
    let elsewhere: Vec<&String> = defining
        .iter()
        .filter(|p| *p != "src/grow/surgery.rs")
        .collect();
    assert!(
        elsewhere.is_empty(),
        "apply_plan defined outside src/grow/surgery.rs: {elsewhere:?}"
    );
}

#[test]
fn the_page_every_visitor_loads_carries_no_webgpu_code() {
    // burn's WebGPU backend is three quarters of the page's bytes: the wasm32 build has it only
    // with `--features wgpu` (the WebGPU build, loaded when the settings want it), and only
    // `src/ui/device/webgpu.rs`, behind that feature, sets a WebGPU device up in the page.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    let wasm_deps = manifest
        .split("[target.'cfg(target_arch = \"wasm32\")'.dependencies]")
        .nth(1)
        .expect("a wasm32 dependency table")
        .split("\n[")
        .next()
        .unwrap_or_default();
    let burn = wasm_deps
        .lines()
        .find(|l| l.starts_with("burn "))
        .expect("burn among the wasm32 dependencies");
    assert!(
        !burn.contains("\"wgpu\""),
        "the wasm32 build always carries burn's wgpu backend: {burn}"
    );
    let device = std::fs::read_to_string(root.join("src/ui/device/mod.rs")).expect("device");
    assert!(
        device.contains("#[cfg(feature = \"wgpu\")]\nmod webgpu;"),
        "src/ui/device/mod.rs no longer keeps its WebGPU module behind the wgpu feature"
    );
    let setting_up: Vec<String> = src_files()
        .into_iter()
        .filter(|(path, text)| path.starts_with("src/ui/") && text.contains("wgpu_options"))
        .map(|(path, _)| path)
        .collect();
    assert_eq!(setting_up, ["src/ui/device/webgpu.rs"]);
}

#[test]
fn one_frame_loop_drives_both_modes_of_the_page() {
    // Waiting for the frame in a loop, draining the inbox, marking the page seen or unseen and
    // telling the host page what is due happen in `src/ui/frame.rs` alone; a mode of the page
    // (growth, continual) only implements its `Mode`. A second loop would drift from the first.
    let owners = |needle: &str| -> Vec<String> {
        src_files()
            .into_iter()
            .filter(|(path, _)| path.starts_with("src/ui/"))
            .filter(|(_, text)| {
                let code = code_of(text);
                match needle {
                    "frame loop" => code.contains("loop {") && code.contains("next_frame()"),
                    _ => code.contains(needle),
                }
            })
            .map(|(path, _)| path)
            .collect()
    };
    for needle in [
        "frame loop",
        ".drain(..)",
        "write_visible(visible)",
        ".tick(",
    ] {
        assert_eq!(
            owners(needle),
            ["src/ui/frame.rs"],
            "only the one frame loop may have `{needle}`"
        );
    }
}
