//! The URL hash: every setting round-trips, bad values and unknown keys are reported while the
//! rest still applies.

use firefly_playground::data::DatasetKind;
use firefly_playground::grow::{Budget, Method};
use firefly_playground::model::Activation;
use firefly_playground::train::OnGrowth;
use firefly_playground::url::{BackendChoice, PageOptions, parse_hash, parse_layers, to_hash};

#[test]
fn an_empty_hash_gives_the_defaults() {
    let (options, problems) = parse_hash("");
    assert!(problems.is_empty());
    assert_eq!(options, PageOptions::default());
    assert_eq!(to_hash(&options), "");
}

#[test]
fn every_setting_round_trips() {
    let hash = "#dataset=spiral&noise=20&ratio=70&points=300&batch=5&seed=9&layers=4,2&activation=relu&lr=0.03&optimizer=sgd&method=firefly-layers&baseline=random-split&grow-every=7&per-growth=2&candidates=5&eps=0.2&max-units=30&on-growth=carry&backend=cpu&test=1&discretize=1&slowmo=1";
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
    assert_eq!(options.backend, BackendChoice::Cpu);
    assert!(options.show_test && options.discretize && options.slow_motion);
    let (again, problems) = parse_hash(&to_hash(&options));
    assert!(problems.is_empty());
    assert_eq!(again, options);
}

#[test]
fn bad_values_are_reported_and_the_rest_applies() {
    let (options, problems) = parse_hash("#dataset=moons&lr=fast&colour=red&layers=0&grow-every=3");
    assert_eq!(options.config.data.kind, DatasetKind::Moons);
    assert_eq!(options.config.train.epochs_per_growth, 3);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems.iter().any(|p| p.starts_with("lr:")));
    assert!(problems.iter().any(|p| p.contains("colour")));
    assert!(problems.iter().any(|p| p.starts_with("layers:")));
}

#[test]
fn out_of_range_values_fall_back_to_a_valid_run() {
    let (options, problems) = parse_hash("#noise=500");
    assert!(!problems.is_empty());
    assert!(options.config.validate().is_ok());
}

#[test]
fn layers_parse_with_commas_and_spaces() {
    assert_eq!(parse_layers("4, 2"), Ok(vec![4, 2]));
    assert_eq!(parse_layers("8"), Ok(vec![8]));
    assert!(parse_layers("").is_err());
    assert!(parse_layers("4,x").is_err());
    assert!(parse_layers("100").is_err());
}
