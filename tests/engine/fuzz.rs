//! Bad input, generated: links, CSV files, run files (of both modes) and host-page messages (in
//! both modes), 10,000 cases each (1,000 for messages in continual mode, where a step trains a
//! whole block) (proptest, a fixed seed so a failure reproduces). Whatever comes in, nothing
//! panics, a refusal says what is wrong in a short message, and a refused input changes nothing.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use firefly_playground::data::Dataset;
use firefly_playground::playground::{Cause, Command, Msg, Opens, parse_command};
use firefly_playground::settings::{SETTINGS, hideable};
use firefly_playground::url::{parse_hash, to_hash};

use crate::playground::{page, train_to};
use crate::support::block;

/// Cases per input.
const CASES: u32 = 10_000;
/// Cases of host messages in continual mode, where `step` trains a whole block.
const CONTINUAL_MESSAGE_CASES: u32 = 1_000;
/// The longest a message about bad input may be.
const LONGEST_MESSAGE: usize = 400;

fn runner() -> TestRunner {
    runner_of(CASES)
}

fn runner_of(cases: u32) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]))
}

/// Keys a link may hold: every setting's key and alias, hide keys, and garbage.
fn key() -> impl Strategy<Value = String> {
    let mut known: Vec<String> = SETTINGS
        .iter()
        .flat_map(|s| std::iter::once(s.key).chain(s.aliases.iter().copied()))
        .map(str::to_string)
        .collect();
    known.extend(hideable().map(|(k, _)| format!("{k}_hide")));
    prop_oneof![
        4 => proptest::sample::select(known),
        1 => "[a-z_%-]{0,12}",
        1 => any::<String>(),
    ]
}

/// Values: plausible ones, numbers at the edges, and garbage.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "",
            "0",
            "1",
            "-1",
            "0.5",
            "1e309",
            "-1e309",
            "NaN",
            "inf",
            "4,2",
            "8,8,8,8,8,8,8,8,8",
            "0,1",
            "65",
            "tanh",
            "xor",
            "spiral",
            "firefly",
            "random-new",
            "adam",
            "auto",
            "webgpu",
            "https://a.example",
            "*",
            "javascript:x",
            "split-vs-random-spiral",
            "%",
            "%2",
            "%zz",
            "%2C",
            "%E2%82",
            "4294967296",
            "18446744073709551616",
            "1.5",
            "2000",
            "100000",
        ])
        .prop_map(str::to_string),
        any::<f64>().prop_map(|x| x.to_string()),
        any::<i64>().prop_map(|x| x.to_string()),
        "[0-9.,e+-]{0,10}",
        any::<String>(),
    ]
}

fn link() -> impl Strategy<Value = String> {
    prop::collection::vec((key(), value(), any::<bool>()), 0..8).prop_map(|pairs| {
        let mut out = String::from("#");
        for (k, v, bare) in pairs {
            out.push_str(&k);
            if !bare {
                out.push('=');
                out.push_str(&v);
            }
            out.push('&');
        }
        out
    })
}

#[test]
fn links_never_panic_name_their_problems_and_round_trip() {
    runner()
        .run(&link(), |hash| {
            let (options, problems) = parse_hash(&hash);
            prop_assert!(
                options.config.validate().is_ok(),
                "{hash}: invalid options applied"
            );
            for p in &problems {
                prop_assert!(!p.message.is_empty() && p.message.len() <= LONGEST_MESSAGE);
            }
            let again = parse_hash(&to_hash(&options));
            prop_assert!(
                again.1.is_empty(),
                "{hash}: its rewrite has problems {:?}",
                again.1
            );
            prop_assert_eq!(&again.0, &options, "{} does not round-trip", hash);
            Ok(())
        })
        .unwrap();
}

/// CSV text: a header or not, lines of numbers, and damaged lines.
fn csv_text() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        (-8.0f32..8.0).prop_map(|x| x.to_string()),
        proptest::sample::select(vec![
            "0", "1", "-1", "2", "NaN", "inf", "", "1e40", "x", "\"1\""
        ])
        .prop_map(str::to_string),
    ];
    let line = prop_oneof![
        8 => (number.clone(), number.clone(), number.clone())
            .prop_map(|(x, y, l)| format!("{x},{y},{l}")),
        1 => prop::collection::vec(number, 0..6).prop_map(|v| v.join(",")),
        1 => "[^\n]{0,20}",
    ];
    (any::<bool>(), prop::collection::vec(line, 0..40)).prop_map(|(header, lines)| {
        let mut text = if header {
            "x,y,label\n".to_string()
        } else {
            String::new()
        };
        text.push_str(&lines.join("\n"));
        text
    })
}

#[test]
fn csv_files_load_whole_or_not_at_all() {
    let p = std::cell::RefCell::new(page("seeds=1&autoplay=0"));
    runner()
        .run(&csv_text(), |text| {
            let mut p = p.borrow_mut();
            let before = p.data().clone();
            let parsed = Dataset::from_csv("f.csv", &text, 0.5, 1);
            p.update(Msg::Csv("f.csv".into(), text.clone()));
            match parsed {
                Ok(data) => {
                    prop_assert!(
                        data.train
                            .iter()
                            .chain(&data.test)
                            .all(|s| s.x.is_finite() && s.y.is_finite() && s.label.is_finite())
                    );
                    prop_assert_eq!(p.data().len(), data.len());
                }
                Err(e) => {
                    let message = e.to_string();
                    prop_assert!(!message.is_empty() && message.len() <= LONGEST_MESSAGE);
                    prop_assert_eq!(p.data(), &before, "a refused file changed the data");
                    let notice = p
                        .notices()
                        .last()
                        .map(|n| n.text.clone())
                        .unwrap_or_default();
                    prop_assert!(notice.starts_with("f.csv: "), "{}", notice);
                }
            }
            Ok(())
        })
        .unwrap();
}

/// A JSON value changed in one place: a field replaced, removed or added.
fn mutate(
    value: &mut serde_json::Value,
    path: &[usize],
    replacement: &serde_json::Value,
    action: u8,
) {
    use serde_json::Value;
    let Some((&first, rest)) = path.split_first() else {
        *value = replacement.clone();
        return;
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            let key = map
                .keys()
                .nth(first % map.len())
                .cloned()
                .unwrap_or_default();
            if rest.is_empty() && action == 1 {
                map.remove(&key);
            } else if rest.is_empty() && action == 2 {
                map.insert("unexpected".into(), replacement.clone());
            } else if let Some(child) = map.get_mut(&key) {
                mutate(child, rest, replacement, action);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = first % items.len();
            if rest.is_empty() && action == 1 {
                items.remove(i);
            } else if rest.is_empty() && action == 2 {
                items.push(replacement.clone());
            } else {
                mutate(&mut items[i], rest, replacement, action);
            }
        }
        other => *other = replacement.clone(),
    }
}

/// A run file damaged three ways: a value somewhere in it replaced, removed or added (8 in 10),
/// the text cut short (1 in 10), or any text at all (1 in 10).
fn damaged_files(original: serde_json::Value) -> impl Strategy<Value = String> {
    let text = serde_json::to_string(&original).unwrap();
    prop_oneof![
        8 => (prop::collection::vec(any::<usize>(), 1..7), json_value(), 0u8..3).prop_map(
            move |(path, replacement, action)| {
                let mut v = original.clone();
                mutate(&mut v, &path, &replacement, action);
                serde_json::to_string(&v).unwrap()
            }
        ),
        1 => (0..text.len()).prop_map({
            let text = text.clone();
            move |cut| text.get(..cut).unwrap_or_default().to_string()
        }),
        1 => any::<String>(),
    ]
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|x| json!(x)),
        any::<f64>().prop_map(|x| json!(x)),
        proptest::sample::select(vec![0i64, 1, -1, 2, 3, 1_000_000, u32::MAX as i64])
            .prop_map(|x| json!(x)),
        "[a-z-]{0,12}".prop_map(Value::String),
        Just(json!([])),
        Just(json!({})),
        Just(json!([1.0, 2.0])),
    ]
}

#[test]
fn run_files_import_whole_or_not_at_all() {
    let mut source = page("layers=2&grow-every=2&seeds=1&dataset=xor");
    train_to(&mut source, 5);
    let run = block(source.export()).unwrap();
    let p = std::cell::RefCell::new(page("seeds=1&autoplay=0"));
    let strategy = damaged_files(serde_json::to_value(&run).unwrap());
    runner()
        .run(&strategy, |file| {
            let mut p = p.borrow_mut();
            let before = (
                p.options().clone(),
                p.main().history().clone(),
                p.data().clone(),
            );
            let fx = p.update(Msg::ImportRun("run.json".into(), file));
            if fx.restarted {
                prop_assert_eq!(p.state(), firefly_playground::playground::RunState::Paused);
                // Shown again: go back to a plain page for the next case.
                *p = page("seeds=1&autoplay=0");
            } else {
                let after = (
                    p.options().clone(),
                    p.main().history().clone(),
                    p.data().clone(),
                );
                prop_assert!(after == before, "a refused run file changed the page");
                let notice = p
                    .notices()
                    .last()
                    .map(|n| n.text.clone())
                    .unwrap_or_default();
                prop_assert!(
                    notice.starts_with("run.json: ") && notice.len() <= LONGEST_MESSAGE + 100,
                    "{}",
                    notice
                );
            }
            Ok(())
        })
        .unwrap();
}

/// Host messages: known and unknown types, settings with any keys and values, extra fields.
fn message() -> impl Strategy<Value = String> {
    use serde_json::{Map, Value, json};
    let kind = prop_oneof![
        4 => proptest::sample::select(vec!["set", "play", "pause", "step", "grow", "reset", "export"]).prop_map(str::to_string),
        1 => "[a-z]{0,8}",
    ];
    let setting = (
        key(),
        prop_oneof![value().prop_map(Value::String), json_value(),],
    );
    let object = (
        kind,
        prop::collection::vec(setting, 0..5),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(kind, settings, with_settings, extra)| {
            let mut m = Map::new();
            m.insert("type".into(), json!(kind));
            if with_settings {
                m.insert(
                    "settings".into(),
                    Value::Object(settings.into_iter().collect()),
                );
            }
            if extra {
                m.insert("speed".into(), json!(11));
            }
            Value::Object(m).to_string()
        });
    prop_oneof![8 => object, 1 => any::<String>(), 1 => json_value().prop_map(|v| v.to_string())]
}

#[test]
fn host_messages_apply_whole_or_not_at_all() {
    let p = std::cell::RefCell::new(page("seeds=1&autoplay=0&points=100"));
    runner()
        .run(&message(), |text| {
            let mut p = p.borrow_mut();
            let before = (p.options().clone(), p.settings_hash());
            match parse_command(&text, 1 << 20) {
                Err(e) => prop_assert!(!e.is_empty() && e.len() <= LONGEST_MESSAGE, "{}", e),
                Ok(command) => {
                    let is_set = matches!(command, Command::Set { .. });
                    if let Err(e) = p.command(command) {
                        prop_assert!(!e.is_empty() && e.len() <= LONGEST_MESSAGE, "{}", e);
                        prop_assert!((p.options().clone(), p.settings_hash()) == before);
                    } else if is_set {
                        prop_assert!(p.options().config.validate().is_ok());
                        // Keep each case cheap: back to a small page.
                        if p.options().seeds > 1 || p.options().config.data.n_points > 200 {
                            *p = page("seeds=1&autoplay=0&points=100");
                        }
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}

/// A continual page (circle → xor) a little into its second task, paused.
fn continual_page(hash: &str) -> firefly_playground::playground::continual::ContinualPage {
    use firefly_playground::playground::continual::ContinualPage;
    let (options, problems) = parse_hash(hash);
    assert!(problems.is_empty(), "{problems:?}");
    ContinualPage::new(&options).unwrap()
}

/// What a continual page shows: both runs' whole state, its link and its notice.
type ContinualView = (
    firefly_playground::continual::ContinualState,
    firefly_playground::continual::ContinualState,
    String,
);

fn continual_view(p: &firefly_playground::playground::continual::ContinualPage) -> ContinualView {
    (p.firefly().state(), p.fine_tune().state(), p.link())
}

#[test]
fn continual_run_files_import_whole_or_not_at_all() {
    use firefly_playground::playground::Level;
    let mut source = continual_page("mode=continual&sequence=circle,xor&seed=4");
    source.set_running(true);
    while source.firefly().table().is_empty() || source.fine_tune().table().is_empty() {
        source.work(500).unwrap();
    }
    source.work(200).unwrap();
    let run = source.export();
    let fresh = || continual_page("mode=continual&sequence=xor,circle&seed=1&autoplay=0");
    let p = std::cell::RefCell::new(fresh());
    let strategy = damaged_files(serde_json::to_value(&run).unwrap());
    runner()
        .run(&strategy, |file| {
            let mut p = p.borrow_mut();
            p.dismiss(Cause::Import);
            let before = continual_view(&p);
            p.open_file("cl.json", &file);
            let notice = p.notice().cloned();
            prop_assert!(notice.is_some(), "an import always says what it did");
            let notice = notice.unwrap();
            if notice.level == Level::Info {
                // Shown: it goes on without a panic, then back to a plain page.
                p.set_running(true);
                p.work(3).map_err(TestCaseError::fail)?;
                p.rows().map_err(TestCaseError::fail)?;
                *p = fresh();
            } else {
                prop_assert!(
                    continual_view(&p) == before,
                    "a refused run file changed the page"
                );
                prop_assert!(
                    notice.text.starts_with("cl.json: ")
                        && notice.text.len() <= LONGEST_MESSAGE + 100,
                    "{}",
                    notice.text
                );
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn continual_host_messages_apply_whole_or_not_at_all() {
    let fresh = || continual_page("mode=continual&sequence=circle,xor&seed=2&autoplay=0");
    let p = std::cell::RefCell::new(fresh());
    // A step here is a training block (300 steps of a debug build): fewer cases.
    runner_of(CONTINUAL_MESSAGE_CASES)
        .run(&message(), |text| {
            let mut p = p.borrow_mut();
            let before = continual_view(&p);
            let was_running = p.running();
            match parse_command(&text, 1 << 20) {
                Err(e) => prop_assert!(!e.is_empty() && e.len() <= LONGEST_MESSAGE, "{}", e),
                Ok(command) => {
                    let name = command.name();
                    match p.command(command) {
                        Err(e) => {
                            prop_assert!(!e.is_empty() && e.len() <= LONGEST_MESSAGE, "{}", e);
                            prop_assert!(continual_view(&p) == before, "{} changed the page", name);
                        }
                        Ok(()) => {
                            let expected = match name {
                                "play" => true,
                                // The link does not autoplay, so reset leaves it paused.
                                "pause" | "step" | "reset" => false,
                                _ => was_running,
                            };
                            prop_assert_eq!(p.running(), expected, "after {}", name);
                        }
                    }
                }
            }
            if p.finished() {
                *p = fresh();
            }
            Ok(())
        })
        .unwrap();
}
