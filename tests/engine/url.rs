//! The settings table and the URL hash: every setting written then parsed gives it back, an
//! out-of-range value is a named problem while the rest of the link applies, old keys still work.

use firefly_playground::data::DatasetKind;
use firefly_playground::grow::{Budget, Method};
use firefly_playground::model::Activation;
use firefly_playground::settings::{self, Effect, Group, SETTINGS, Widget};
use firefly_playground::train::OnGrowth;
use firefly_playground::url::{BackendChoice, PageOptions, parse_hash, parse_layers, to_hash};

/// A value for `setting` different from its default and within its range.
fn other_value(setting: &settings::Setting) -> String {
    let default = setting.default_value();
    match setting.widget {
        Widget::Range { min, max, step, .. } | Widget::Number { min, max, step } => {
            let candidate = if step == 1.0 {
                ((min + max) / 2.0).floor()
            } else {
                max / 2.0
            };
            let mut v = candidate;
            if format!("{v}").trim_end_matches(".0") == default {
                v += step;
            }
            let text = format!("{v}");
            text.strip_suffix(".0").map(str::to_string).unwrap_or(text)
        }
        Widget::Select { options, .. } => options
            .iter()
            .map(|(v, _)| v.to_string())
            // Custom (empty) is what the Experiment list reads, not a value that sets anything.
            .find(|v| *v != default && !v.is_empty())
            .expect("a select has two choices"),
        Widget::Checkbox => if default == "1" { "0" } else { "1" }.into(),
        Widget::Toggles { .. } => "x1,x2,x1sq".into(),
        Widget::Datasets => DatasetKind::ALL
            .iter()
            .map(|k| k.name().to_string())
            .find(|v| *v != default)
            .expect("several datasets"),
        Widget::Text if setting.key == "allow-origin" => "https://course.example.org".into(),
        Widget::Text if setting.key == "sequence" => "xor,circle".into(),
        Widget::Text => "4,2".into(),
        Widget::None => unreachable!("every setting has a widget"),
    }
}

/// A value just outside the setting's range, where it has one.
fn out_of_range(setting: &settings::Setting) -> Option<String> {
    match setting.widget {
        Widget::Range { max, step, .. } | Widget::Number { max, step, .. } => {
            Some(format!("{}", max + step.max(1.0)))
        }
        Widget::Select {
            custom: Some((_, max)),
            ..
        } => Some(format!("{}", max * 2.0)),
        Widget::Select { custom: None, .. } | Widget::Datasets => Some("no-such-choice".into()),
        Widget::Checkbox => Some("maybe".into()),
        Widget::Toggles { .. } => Some("x3".into()),
        Widget::Text => Some("0".into()),
        Widget::None => None,
    }
}

#[test]
fn an_empty_hash_gives_the_defaults() {
    let (options, problems) = parse_hash("");
    assert!(problems.is_empty());
    assert_eq!(options, PageOptions::default());
    assert_eq!(to_hash(&options), "");
}

#[test]
fn every_setting_written_then_parsed_gives_it_back() {
    for setting in SETTINGS {
        let value = other_value(setting);
        let mut options = PageOptions::default();
        setting
            .set(&mut options, &value)
            .unwrap_or_else(|e| panic!("{}={value}: {e}", setting.key));
        assert_eq!(setting.get(&options), value, "{} reads back", setting.key);
        let hash = to_hash(&options);
        assert!(
            hash.contains(&format!("{}={value}", setting.key)),
            "{hash} names {}",
            setting.key
        );
        let (again, problems) = parse_hash(&hash);
        assert!(problems.is_empty(), "{}: {problems:?}", setting.key);
        assert_eq!(again, options, "{} round-trips", setting.key);
    }
}

#[test]
fn out_of_range_values_are_named_and_the_rest_of_the_link_applies() {
    for setting in SETTINGS {
        let Some(bad) = out_of_range(setting) else {
            continue;
        };
        // The bad value comes last, so it is the one read for its key.
        let hash = format!("dataset=spiral&layers=4,2&{}={bad}", setting.key);
        let (options, problems) = parse_hash(&hash);
        let mine: Vec<_> = problems
            .iter()
            .filter(|p| p.key == Some(setting.key))
            .collect();
        assert_eq!(mine.len(), 1, "{hash}: {problems:?}");
        assert!(
            mine[0].message.starts_with(setting.label),
            "the message names the setting: {}",
            mine[0].message
        );
        // The Experiment list reads Custom there: the link's other values changed the runs.
        let expected = match setting.key {
            "preset" => String::new(),
            _ => setting.default_value(),
        };
        assert_eq!(setting.get(&options), expected, "{hash}");
        // The other values of the link still apply (unless they are this setting).
        if setting.key != "dataset" {
            assert_eq!(options.config.data.kind, DatasetKind::Spiral, "{hash}");
        }
        if setting.key != "layers" {
            assert_eq!(options.config.model.hidden, vec![4, 2], "{hash}");
        }
        assert!(options.config.validate().is_ok());
    }
}

#[test]
fn the_issue_link_with_zero_points_keeps_dataset_and_layers() {
    let (options, problems) = parse_hash("#dataset=spiral&layers=4,2&points=0");
    assert_eq!(options.config.data.kind, DatasetKind::Spiral);
    assert_eq!(options.config.model.hidden, vec![4, 2]);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].key, Some("points"));
    assert_eq!(problems[0].message, "Points: 0 is outside 50 to 2000");
}

#[test]
fn a_long_value_is_shortened_in_its_message() {
    let long = "9".repeat(10_000);
    let (_, problems) = parse_hash(&format!("seed={long}&{long}=1"));
    assert_eq!(problems.len(), 2, "{problems:?}");
    for p in &problems {
        assert!(p.message.chars().count() < 120, "{}", p.message);
        assert!(p.message.contains('…'), "{}", p.message);
    }
}

#[test]
fn a_learning_rate_outside_the_list_is_kept() {
    let (options, problems) = parse_hash("lr=0.5");
    assert!(problems.is_empty());
    assert_eq!(options.config.train.learning_rate, 0.5);
    assert_eq!(to_hash(&options), "lr=0.5");
    let (_, problems) = parse_hash("lr=11");
    assert_eq!(problems[0].message, "Learning rate: 11 is outside (0, 10]");
    let (_, problems) = parse_hash("lr=0");
    assert_eq!(problems.len(), 1);
}

#[test]
fn old_keys_and_older_forms_still_work() {
    let hash = "#dataset=spiral&noise=20&ratio=70&points=300&batch=5&seed=9&layers=4-2&activation=relu&lr=0.03&optimizer=sgd&method=firefly-layers&baseline=random-split&interval=7&per-growth=2&candidates=5&eps=0.2&max-units=30&on-growth=carry&backend=webgpu&test=1&discretize=true&slowmo";
    let (options, problems) = parse_hash(hash);
    assert!(problems.is_empty(), "{problems:?}");
    let c = &options.config;
    assert_eq!(c.data.kind, DatasetKind::Spiral);
    assert!((c.data.noise - 0.2).abs() < 1e-6);
    assert!((c.data.train_ratio - 0.7).abs() < 1e-6);
    assert_eq!(
        (c.data.n_points, c.train.batch_size, c.seed, c.data.seed),
        (300, 5, 9, 9)
    );
    assert_eq!(c.model.hidden, vec![4, 2]);
    assert_eq!(c.model.activation, Activation::Relu);
    assert_eq!(c.growth.method, Method::FireflyLayers);
    assert_eq!(options.baseline, Method::RandomSplit);
    assert_eq!(c.train.epochs_per_growth, 7);
    assert_eq!(c.growth.budget, Budget::Count(2));
    assert_eq!(c.train.on_growth, OnGrowth::Carry);
    assert_eq!(options.backend, BackendChoice::WebGpu);
    assert!(options.show_test && options.discretize && options.slow_motion);
    let (again, problems) = parse_hash(&to_hash(&options));
    assert!(problems.is_empty());
    assert_eq!(again, options);
    // The key the page writes now is the new one.
    assert!(to_hash(&options).contains("grow-every=7"));
}

#[test]
fn link_order_does_not_matter_and_the_last_repeat_wins() {
    let (a, _) = parse_hash("data-seed=9&seed=5");
    let (b, _) = parse_hash("seed=5&data-seed=9");
    assert_eq!(a, b);
    assert_eq!((a.config.seed, a.config.data.seed), (5, 9));
    let (c, _) = parse_hash("seed=3&seed=4");
    assert_eq!(c.config.seed, 4);
}

#[test]
fn escaped_values_from_pasted_links_are_read() {
    let (options, problems) = parse_hash("layers=4%2C2");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(options.config.model.hidden, vec![4, 2]);
}

#[test]
fn the_table_is_consistent() {
    let mut keys: Vec<&str> = SETTINGS
        .iter()
        .flat_map(|s| std::iter::once(s.key).chain(s.aliases.iter().copied()))
        .collect();
    let n = keys.len();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), n, "every key and alias is unique");
    for s in SETTINGS {
        assert!(
            !s.label.is_empty() && !s.help.is_empty(),
            "{} documented",
            s.key
        );
        if s.group != Group::Link {
            assert!(!s.id.is_empty(), "{} has a control id", s.key);
        }
        // Every choice of a select parses.
        if let Widget::Select { options, .. } = s.widget {
            for (value, _) in options {
                let mut o = PageOptions::default();
                s.set(&mut o, value)
                    .unwrap_or_else(|e| panic!("{}={value}: {e}", s.key));
            }
        }
        // The default lies within the control's range.
        if let Widget::Range { min, max, .. } | Widget::Number { min, max, .. } = s.widget {
            let d: f64 = s.default_value().parse().expect("numeric default");
            assert!((min..=max).contains(&d), "{} default {d} in range", s.key);
        }
    }
    // Every growth method can be chosen in the page.
    let method = settings::find("method").expect("method setting");
    for m in Method::ALL {
        let mut o = PageOptions::default();
        method
            .set(&mut o, m.name())
            .expect("every method is listed");
    }
    assert_eq!(
        settings::find("interval").map(|s| s.key),
        Some("grow-every")
    );
    assert_eq!(settings::find("lr").map(|s| s.effect), Some(Effect::Live));
}

#[test]
fn layers_parse_with_commas_and_spaces() {
    assert_eq!(parse_layers("4, 2"), Ok(vec![4, 2]));
    assert_eq!(parse_layers("8"), Ok(vec![8]));
    assert!(parse_layers("").is_err());
    assert!(parse_layers("4,x").is_err());
    assert_eq!(parse_layers("1024, 8"), Ok(vec![1024, 8]), "one wide layer");
    assert!(parse_layers("1025").is_err(), "wider than 1,024");
    assert!(parse_layers("256,256").is_err(), "two wide layers in a row");
}
