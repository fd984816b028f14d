//! Input features: hand-derived values, the link key, and runs that the features change (a
//! circle that one unit cannot separate from x₁, x₂ but separates from x₁², x₂²), the same on
//! the fused and the tensor path, through growth.

use firefly_playground::config::RunConfig;
use firefly_playground::data::{Dataset, DatasetKind};
use firefly_playground::features::{Feature, Features};
use firefly_playground::grow::Method;
use firefly_playground::train::{Session, TrainPath};
use firefly_playground::url::{parse_hash, to_hash};

use crate::support::{block, device};

#[test]
fn each_feature_has_its_hand_derived_value() {
    // The plane point (3, -1.5) is (0.5, -0.25) in model coordinates.
    let all = Features::parse("x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2").unwrap();
    let got = all.map(&[0.5, -0.25]);
    let want = [
        0.5,
        -0.25,
        0.25,
        0.0625,
        -0.125,
        3.0f32.sin(),
        (-1.5f32).sin(),
    ];
    assert_eq!(got.len(), 7);
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-7, "{got:?} against {want:?}");
    }
    // Any order and repeats read the same set, written in the first layer's order.
    let some = Features::parse(" sinx2 , x1sq,X1SQ ").unwrap();
    assert_eq!(some.to_string(), "x1sq,sinx2");
    assert_eq!(
        some.iter().collect::<Vec<_>>(),
        [Feature::X1Squared, Feature::SinX2]
    );
    assert_eq!(
        some.map(&[0.5, -0.25, 1.0, 0.0]),
        [0.25, (-1.5f32).sin(), 1.0, 0.0]
    );
    assert_eq!(Features::default(), Features::PLANE);
    assert_eq!(Features::PLANE.map(&[0.1, 0.2]), [0.1, 0.2]);
}

#[test]
fn bad_feature_lists_are_named() {
    let err = Features::parse("x1,x3").unwrap_err();
    assert!(err.contains("\"x3\"") && err.contains("sinx1"), "{err}");
    let err = Features::parse(" , ").unwrap_err();
    assert!(err.contains("at least one"), "{err}");
}

#[test]
fn the_link_carries_the_features_and_names_a_bad_one() {
    let (options, problems) = parse_hash("features=x1sq,x2sq");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(options.config.features.to_string(), "x1sq,x2sq");
    assert_eq!(options.config.model.n_inputs, 2);
    assert!(
        to_hash(&options).contains("features=x1sq%2Cx2sq")
            || to_hash(&options).contains("features=x1sq,x2sq")
    );
    let (options, problems) = parse_hash("features=x1,x2,sinx1");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(options.config.model.n_inputs, 3);
    let (options, problems) = parse_hash("features=x1,nope&lr=0.3");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(format!("{problems:?}").contains("nope"), "{problems:?}");
    assert_eq!(
        options.config.features,
        Features::PLANE,
        "the bad value changed nothing"
    );
    assert_eq!(
        options.config.train.learning_rate, 0.3,
        "the rest of the link applied"
    );
    let (_, problems) = parse_hash("features=");
    assert_eq!(problems.len(), 1, "an empty list is refused: {problems:?}");
}

#[test]
fn a_run_saved_before_features_existed_reads_as_the_plane() {
    let mut json = serde_json::to_value(RunConfig::default()).unwrap();
    json.as_object_mut().unwrap().remove("features");
    let config: RunConfig = serde_json::from_value(json).unwrap();
    assert_eq!(config.features, Features::PLANE);
    config.validate().unwrap();
    let mut config = RunConfig {
        features: Features::parse("x1,x2,x1x2").unwrap(),
        ..RunConfig::default()
    };
    assert!(config.validate().is_err(), "3 features need 3 inputs");
    config.model.n_inputs = 3;
    config.validate().unwrap();
    let back: RunConfig = serde_json::from_str(&serde_json::to_string(&config).unwrap()).unwrap();
    assert_eq!(back, config);
}

fn one_unit_on_the_circle(features: &str, path: TrainPath) -> Session {
    let mut config = RunConfig {
        seed: 3,
        ..RunConfig::default()
    };
    config.data.kind = DatasetKind::Circle;
    config.data.n_points = 200;
    config.data.seed = 3;
    config.features = Features::parse(features).unwrap();
    config.model.n_inputs = config.features.len();
    config.model.hidden = vec![1];
    config.train.batch_size = 10;
    config.train.learning_rate = 0.1;
    config.growth.method = Method::None;
    let data = Dataset::generate(&config.data).unwrap();
    let mut session = Session::with_path(config, data, device(), path).unwrap();
    block(session.run_epochs(60)).unwrap();
    session
}

#[test]
fn squares_let_one_unit_separate_the_circle() {
    let plane = one_unit_on_the_circle("x1,x2", TrainPath::Fused);
    let squares = one_unit_on_the_circle("x1sq,x2sq", TrainPath::Fused);
    let accuracy = |s: &Session| {
        block(s.evaluate())
            .unwrap()
            .test_accuracy
            .expect("classification")
    };
    let (a, b) = (accuracy(&plane), accuracy(&squares));
    // One tanh unit on x₁, x₂ draws a line through a disc: at best ~3/4 of the circle data.
    assert!(a < 0.8, "x1,x2 with one unit: {a}");
    assert!(b > 0.95, "x1sq,x2sq with one unit: {b}");
    assert_eq!(squares.shape().n_inputs, 2);
    assert_eq!(squares.shape().architecture(), "2-1-2");
}

#[test]
fn features_train_and_grow_the_same_on_both_paths() {
    let mut config = RunConfig {
        seed: 4,
        ..RunConfig::default()
    };
    config.data.kind = DatasetKind::Xor;
    config.data.n_points = 120;
    config.data.seed = 4;
    config.features = Features::parse("x1,x2,x1x2,sinx1").unwrap();
    config.model.n_inputs = 4;
    config.model.hidden = vec![2];
    config.train.batch_size = 20;
    config.train.epochs_per_growth = 4;
    config.growth.method = Method::Firefly;
    config.growth.step1_steps = 20;
    let run = |path| {
        let data = Dataset::generate(&config.data).unwrap();
        let mut session = Session::with_path(config.clone(), data, device(), path).unwrap();
        block(session.run_epochs(10)).unwrap();
        session
    };
    let (fused, tensor) = (run(TrainPath::Fused), run(TrainPath::Tensor));
    let (a, b) = (fused.history(), tensor.history());
    assert!(!a.growths.is_empty(), "it grew");
    assert_eq!(a.growths.len(), b.growths.len());
    for (x, y) in a.growths.iter().zip(&b.growths) {
        assert_eq!(x.architecture_after, y.architecture_after);
        assert!(
            x.architecture_after.starts_with("4-"),
            "{}",
            x.architecture_after
        );
    }
    for (x, y) in a.epochs.iter().zip(&b.epochs) {
        assert!(
            (x.train_loss - y.train_loss).abs() < 1e-5,
            "epoch {}",
            x.epoch
        );
    }
    // Predictions take plane coordinates / 6; the session computes the features.
    let coords = [0.5, -0.25, -0.9, 0.3];
    let p = block(fused.predict(&coords)).unwrap();
    let q = block(tensor.predict(&coords)).unwrap();
    assert_eq!(p.len(), 4);
    for (u, v) in p.iter().zip(&q) {
        assert!((u - v).abs() < 1e-5);
    }
    let snap = block(fused.snapshot(6, 3)).unwrap();
    assert_eq!(snap.heat.len(), 36 * 2);
}
