//! Conventions every source file keeps: a `//!` module doc first, no `unwrap()` in the engine,
//! and no browser crate in engine modules.

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
    // The schedule, history and growth live in train/{mod,step,growing,outputs}.rs and speak to
    // the training path only through the `TrainingPath` trait (train/path/).
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/train");
    for file in ["mod.rs", "step.rs", "growing.rs", "outputs.rs"] {
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
