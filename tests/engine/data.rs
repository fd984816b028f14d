//! Behaviour of `firefly_playground::data`: generators checked against facts
//! derived by hand from TensorFlow Playground's definitions, CSV and user
//! point loading, splitting, and the evaluation grid.

use firefly_playground::data::{
    DOMAIN, DataConfig, DataError, Dataset, DatasetKind, Sample, Task, grid_inputs,
};

fn generate(kind: DatasetKind, n_points: usize, noise: f32, seed: u64) -> Dataset {
    let config = DataConfig {
        n_points,
        noise,
        seed,
        ..DataConfig::new(kind)
    };
    match Dataset::generate(&config) {
        Ok(d) => d,
        Err(e) => panic!("generating {kind}: {e}"),
    }
}

fn all_points(d: &Dataset) -> Vec<Sample> {
    d.train.iter().chain(d.test.iter()).copied().collect()
}

fn count_label(points: &[Sample], label: f32) -> usize {
    points.iter().filter(|p| p.label == label).count()
}

fn csv_err(text: &str) -> DataError {
    match Dataset::from_csv("t", text, 0.5, 0) {
        Ok(d) => panic!("expected an error, loaded {} points", d.len()),
        Err(e) => e,
    }
}

fn csv_ok(text: &str) -> Dataset {
    match Dataset::from_csv("t", text, 0.5, 0) {
        Ok(d) => d,
        Err(e) => panic!("expected to load: {e}"),
    }
}

// ---------------------------------------------------------------- kinds

#[test]
fn names_round_trip_through_from_str_and_display() {
    let expected = [
        "circle",
        "xor",
        "gauss",
        "spiral",
        "reg-plane",
        "reg-gauss",
        "moons",
        "checkerboard",
        "spiral3",
    ];
    let names: Vec<&str> = DatasetKind::ALL.iter().map(|k| k.name()).collect();
    assert_eq!(names, expected);
    for kind in DatasetKind::ALL {
        assert_eq!(kind.name().parse::<DatasetKind>(), Ok(kind));
        assert_eq!(kind.to_string(), kind.name());
    }
}

#[test]
fn unknown_dataset_name_lists_valid_names() {
    let err = "spirals".parse::<DatasetKind>().unwrap_err();
    assert!(matches!(err, DataError::UnknownDataset { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("spirals"), "{msg}");
    for kind in DatasetKind::ALL {
        assert!(msg.contains(kind.name()), "{msg} lacks {}", kind.name());
    }
}

#[test]
fn tasks_per_kind() {
    use DatasetKind::*;
    for kind in [Circle, Xor, Gauss, Spiral, Moons, Checkerboard] {
        assert_eq!(kind.task(), Task::Classification { n_classes: 2 }, "{kind}");
    }
    assert_eq!(Spiral3.task(), Task::Classification { n_classes: 3 });
    assert_eq!(RegPlane.task(), Task::Regression);
    assert_eq!(RegGauss.task(), Task::Regression);
}

// ---------------------------------------------------------------- config

#[test]
fn config_defaults() {
    let c = DataConfig::new(DatasetKind::Circle);
    assert_eq!(c.kind, DatasetKind::Circle);
    assert_eq!(c.n_points, 500);
    assert_eq!(c.noise, 0.0);
    assert_eq!(c.train_ratio, 0.5);
    assert_eq!(c.seed, 0);
    assert_eq!(DataConfig::new(DatasetKind::RegPlane).n_points, 1200);
    assert_eq!(DataConfig::new(DatasetKind::RegGauss).n_points, 1200);
    assert_eq!(DataConfig::new(DatasetKind::Spiral3).n_points, 500);
    for kind in DatasetKind::ALL {
        assert_eq!(DataConfig::new(kind).validate(), Ok(()), "{kind}");
    }
}

#[test]
fn config_bounds_are_inclusive() {
    let base = DataConfig::new(DatasetKind::Xor);
    for c in [
        DataConfig {
            n_points: 4,
            ..base.clone()
        },
        DataConfig {
            n_points: 100_000,
            ..base.clone()
        },
        DataConfig {
            noise: 0.8,
            ..base.clone()
        },
        DataConfig {
            train_ratio: 0.1,
            ..base.clone()
        },
        DataConfig {
            train_ratio: 0.9,
            ..base.clone()
        },
    ] {
        assert_eq!(c.validate(), Ok(()), "{c:?}");
    }
}

#[test]
fn invalid_config_values_are_rejected_naming_the_field() {
    let base = DataConfig::new(DatasetKind::Gauss);
    let cases = [
        (
            DataConfig {
                n_points: 3,
                ..base.clone()
            },
            "n_points",
        ),
        (
            DataConfig {
                n_points: 100_001,
                ..base.clone()
            },
            "n_points",
        ),
        (
            DataConfig {
                noise: -0.01,
                ..base.clone()
            },
            "noise",
        ),
        (
            DataConfig {
                noise: 0.81,
                ..base.clone()
            },
            "noise",
        ),
        (
            DataConfig {
                noise: f32::NAN,
                ..base.clone()
            },
            "noise",
        ),
        (
            DataConfig {
                train_ratio: 0.09,
                ..base.clone()
            },
            "train_ratio",
        ),
        (
            DataConfig {
                train_ratio: 0.91,
                ..base.clone()
            },
            "train_ratio",
        ),
        (
            DataConfig {
                train_ratio: f32::INFINITY,
                ..base.clone()
            },
            "train_ratio",
        ),
    ];
    for (config, field) in cases {
        let err = config.validate().unwrap_err();
        assert!(matches!(err, DataError::InvalidConfig(_)), "{err:?}");
        assert!(err.to_string().contains(field), "{err} should name {field}");
        assert_eq!(Dataset::generate(&config), Err(err));
    }
}

// ---------------------------------------------------------------- splitting

#[test]
fn split_sizes_are_rounded_train_ratio() {
    // (n, ratio, expected train size): round(n·ratio), worked out by hand.
    let cases = [
        (500, 0.5, 250),
        (101, 0.5, 51),
        (1000, 0.3, 300),
        (10, 0.9, 9),
        (7, 0.2, 1),
    ];
    for kind in DatasetKind::ALL {
        for (n, ratio, expected) in cases {
            let config = DataConfig {
                n_points: n,
                train_ratio: ratio,
                ..DataConfig::new(kind)
            };
            let d = Dataset::generate(&config).unwrap();
            assert_eq!(d.train.len(), expected, "{kind} n={n} ratio={ratio}");
            assert_eq!(d.test.len(), n - expected, "{kind} n={n} ratio={ratio}");
            assert_eq!(d.len(), n);
            assert!(!d.is_empty());
            assert_eq!(d.name, kind.name());
            assert_eq!(d.task, kind.task());
        }
    }
}

#[test]
fn neither_split_is_empty_at_the_smallest_sizes() {
    // round(4 · 0.1) = 0 would leave no training point; one is kept.
    let config = DataConfig {
        n_points: 4,
        train_ratio: 0.1,
        ..DataConfig::new(DatasetKind::Xor)
    };
    let d = Dataset::generate(&config).unwrap();
    assert_eq!((d.train.len(), d.test.len()), (1, 3));
}

#[test]
fn train_and_test_partition_the_generated_points() {
    for kind in DatasetKind::ALL {
        let at = |ratio: f32| {
            Dataset::generate(&DataConfig {
                n_points: 300,
                noise: 0.2,
                seed: 11,
                train_ratio: ratio,
                ..DataConfig::new(kind)
            })
            .unwrap()
        };
        let a = at(0.3);
        let b = at(0.7);
        // The same shuffled set is split at a different place.
        assert_eq!(all_points(&a), all_points(&b), "{kind}");
        assert_eq!(a.train[..], b.train[..a.train.len()], "{kind}");
        // No point is in both splits.
        for p in &a.train {
            assert!(!a.test.contains(p), "{kind}: {p:?} in both splits");
        }
    }
}

#[test]
fn points_are_shuffled_across_splits() {
    // Generation lists all positives first; after shuffling both splits mix classes.
    let d = generate(DatasetKind::Circle, 400, 0.0, 3);
    for split in [&d.train, &d.test] {
        let ones = count_label(split, 1.0);
        assert!(ones > 50 && ones < 150, "{ones} of {}", split.len());
    }
}

// ---------------------------------------------------------------- determinism

#[test]
fn same_seed_same_dataset_different_seed_different() {
    for kind in DatasetKind::ALL {
        let a = generate(kind, 200, 0.3, 42);
        let b = generate(kind, 200, 0.3, 42);
        let c = generate(kind, 200, 0.3, 43);
        assert_eq!(a, b, "{kind}");
        assert_ne!(a.train, c.train, "{kind}");
    }
}

// ---------------------------------------------------------------- generators

#[test]
fn two_class_generators_are_balanced() {
    use DatasetKind::*;
    for kind in [Circle, Gauss, Spiral, Moons] {
        for n in [500, 100] {
            let d = generate(kind, n, 0.0, 5);
            let points = all_points(&d);
            assert_eq!(count_label(&points, 1.0), n / 2, "{kind} n={n}");
            assert_eq!(count_label(&points, 0.0), n / 2, "{kind} n={n}");
        }
    }
}

#[test]
fn odd_counts_still_give_exactly_n_points() {
    use DatasetKind::*;
    for kind in DatasetKind::ALL {
        assert_eq!(generate(kind, 101, 0.0, 1).len(), 101, "{kind}");
    }
    for kind in [Circle, Gauss, Spiral, Moons] {
        let points = all_points(&generate(kind, 101, 0.0, 1));
        assert_eq!(count_label(&points, 1.0), 51, "{kind}");
        assert_eq!(count_label(&points, 0.0), 50, "{kind}");
    }
}

#[test]
fn circle_at_zero_noise_has_disc_and_ring() {
    let d = generate(DatasetKind::Circle, 1000, 0.0, 9);
    for p in all_points(&d) {
        let r = p.x.hypot(p.y);
        if p.label == 1.0 {
            assert!(r <= 2.5 + 1e-5, "positive at radius {r}");
        } else {
            assert_eq!(p.label, 0.0);
            assert!((3.5 - 1e-5..=5.0 + 1e-5).contains(&r), "negative at {r}");
        }
    }
}

#[test]
fn circle_noise_flips_labels_but_not_positions() {
    let d = generate(DatasetKind::Circle, 1000, 0.5, 9);
    let points = all_points(&d);
    // Positions still form a disc (r < 2.5) and a ring (3.5 ≤ r ≤ 5).
    assert!(points.iter().all(|p| {
        let r = p.x.hypot(p.y);
        r <= 2.5 + 1e-5 || (3.5 - 1e-5..=5.0 + 1e-5).contains(&r)
    }));
    // With noise up to ±2.5 per axis some labels disagree with the radius.
    let wrong = points
        .iter()
        .filter(|p| (p.x.hypot(p.y) < 2.5) != (p.label == 1.0))
        .count();
    assert!(wrong > 20, "only {wrong} noisy labels");
}

#[test]
fn xor_at_zero_noise_is_padded_and_labelled_by_sign() {
    let d = generate(DatasetKind::Xor, 1000, 0.0, 4);
    for p in all_points(&d) {
        for v in [p.x, p.y] {
            assert!((0.3 - 1e-6..=5.3 + 1e-6).contains(&v.abs()), "{p:?}");
        }
        let expected = if p.x * p.y >= 0.0 { 1.0 } else { 0.0 };
        assert_eq!(p.label, expected, "{p:?}");
    }
}

#[test]
fn xor_noise_flips_some_labels() {
    let d = generate(DatasetKind::Xor, 1000, 0.5, 4);
    let wrong = all_points(&d)
        .iter()
        .filter(|p| (p.x * p.y >= 0.0) != (p.label == 1.0))
        .count();
    assert!(wrong > 20, "only {wrong} noisy labels");
}

fn mean_var(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

#[test]
fn gauss_centres_and_variance_follow_noise() {
    // variance = 0.5 + 3.5 · noise / 0.5: 0.5 at noise 0, 2.25 at 0.25, 4 at 0.5.
    for (noise, variance) in [(0.0, 0.5), (0.25, 2.25), (0.5, 4.0)] {
        let d = generate(DatasetKind::Gauss, 20_000, noise, 17);
        let points = all_points(&d);
        for (label, centre) in [(1.0, 2.0), (0.0, -2.0)] {
            for coord in [0, 1] {
                let values: Vec<f64> = points
                    .iter()
                    .filter(|p| p.label == label)
                    .map(|p| f64::from(if coord == 0 { p.x } else { p.y }))
                    .collect();
                let (m, v) = mean_var(&values);
                assert!((m - centre).abs() < 0.1, "noise {noise}: mean {m}");
                assert!(
                    (v - variance).abs() < 0.08 * variance,
                    "noise {noise}: variance {v}, expected {variance}"
                );
            }
        }
    }
}

#[test]
fn spiral_stays_within_radius_five_plus_noise() {
    for noise in [0.0, 0.5] {
        let d = generate(DatasetKind::Spiral, 1000, noise, 2);
        let limit = 5.0 + noise * 2.0_f32.sqrt() + 1e-5;
        for p in all_points(&d) {
            assert!(p.x.hypot(p.y) <= limit, "noise {noise}: {p:?}");
        }
    }
}

/// Distance between two angles on the circle.
fn angle_gap(a: f32, b: f32) -> f32 {
    let d = (a - b).rem_euclid(std::f32::consts::TAU);
    d.min(std::f32::consts::TAU - d)
}

#[test]
fn spiral_angle_grows_with_radius_at_zero_noise() {
    // x = r sin t, y = r cos t with r = 5·i/m and t = 1.75·2π·i/m + δ, so
    // atan2(x, y) = 1.75·2π·r/5 + δ (mod 2π), δ = 0 for class 1 and π for class 0.
    let d = generate(DatasetKind::Spiral, 400, 0.0, 14);
    for p in all_points(&d) {
        let r = p.x.hypot(p.y);
        if r < 1e-3 {
            continue;
        }
        let delta = if p.label == 1.0 {
            0.0
        } else {
            std::f32::consts::PI
        };
        let expected = 1.75 * std::f32::consts::TAU * r / 5.0 + delta;
        assert!(angle_gap(p.x.atan2(p.y), expected) < 1e-3, "{p:?}");
    }
}

#[test]
fn spiral3_angle_grows_with_radius_at_zero_noise() {
    // t = 1.25·2π·r/5 + 2πk/3 for class k.
    let d = generate(DatasetKind::Spiral3, 300, 0.0, 15);
    for p in all_points(&d) {
        let r = p.x.hypot(p.y);
        if r < 1e-3 {
            continue;
        }
        let delta = std::f32::consts::TAU * p.label / 3.0;
        let expected = 1.25 * std::f32::consts::TAU * r / 5.0 + delta;
        assert!(angle_gap(p.x.atan2(p.y), expected) < 1e-3, "{p:?}");
    }
}

#[test]
fn spiral_arms_are_point_reflections_at_zero_noise() {
    // Arm two is arm one turned by π: for each i, (x, y) ↦ (−x, −y).
    let d = generate(DatasetKind::Spiral, 200, 0.0, 8);
    let points = all_points(&d);
    let negatives: Vec<&Sample> = points.iter().filter(|p| p.label == 0.0).collect();
    for p in points.iter().filter(|p| p.label == 1.0) {
        let found = negatives
            .iter()
            .any(|q| (q.x + p.x).abs() < 1e-4 && (q.y + p.y).abs() < 1e-4);
        assert!(found, "no mirror of {p:?}");
    }
}

#[test]
fn reg_plane_label_is_sum_over_ten_at_zero_noise() {
    let d = generate(DatasetKind::RegPlane, 1200, 0.0, 6);
    assert_eq!(d.n_classes(), 1);
    for p in all_points(&d) {
        assert!(p.x.abs() <= 6.0 && p.y.abs() <= 6.0, "{p:?}");
        assert!((p.label - (p.x + p.y) / 10.0).abs() < 1e-5, "{p:?}");
    }
}

#[test]
fn reg_plane_noise_perturbs_labels_not_positions() {
    let d = generate(DatasetKind::RegPlane, 1200, 0.5, 6);
    let points = all_points(&d);
    assert!(points.iter().all(|p| p.x.abs() <= 6.0 && p.y.abs() <= 6.0));
    let off = points
        .iter()
        .filter(|p| (p.label - (p.x + p.y) / 10.0).abs() > 0.05)
        .count();
    assert!(off > 600, "only {off} labels perturbed");
}

#[test]
fn reg_gauss_values_near_centres_and_far_away() {
    let d = generate(DatasetKind::RegGauss, 20_000, 0.0, 12);
    let points = all_points(&d);
    let centres = [
        (-4.0, 2.5, 1.0),
        (0.0, 2.5, -1.0),
        (4.0, 2.5, 1.0),
        (-4.0, -2.5, -1.0),
        (0.0, -2.5, 1.0),
        (4.0, -2.5, -1.0),
    ];
    for (cx, cy, sign) in centres {
        // Within 0.1 of a centre the label is sign · (1 − d/2) ≥ 0.95 in size.
        let near: Vec<&Sample> = points
            .iter()
            .filter(|p| (p.x - cx).hypot(p.y - cy) < 0.1)
            .collect();
        assert!(!near.is_empty(), "no point near ({cx}, {cy})");
        for p in near {
            let dist = (p.x - cx).hypot(p.y - cy);
            assert!((p.label - sign * (1.0 - dist / 2.0)).abs() < 1e-5, "{p:?}");
        }
    }
    // |y| > 4.5 is more than 2 away from every centre: the label is 0.
    let far: Vec<&Sample> = points.iter().filter(|p| p.y.abs() > 4.5).collect();
    assert!(far.len() > 100);
    assert!(far.iter().all(|p| p.label == 0.0));
    // Halfway between (−4, 2.5) and (0, 2.5), at x = −2: both bumps are 0.
    // At (−3, 2.5) the +1 bump gives 0.5 and the −1 bump 0.
    for p in &points {
        if (p.x + 3.0).abs() < 0.02 && (p.y - 2.5).abs() < 0.02 {
            assert!((p.label - 0.5).abs() < 0.03, "{p:?}");
        }
    }
    assert!(points.iter().all(|p| (-1.0..=1.0).contains(&p.label)));
}

#[test]
fn moons_lie_on_their_arcs_at_zero_noise() {
    let d = generate(DatasetKind::Moons, 1000, 0.0, 21);
    for p in all_points(&d) {
        // Undo x' = (x − 0.5)·3.5, y' = (y − 0.25)·3.5.
        let x = p.x / 3.5 + 0.5;
        let y = p.y / 3.5 + 0.25;
        if p.label == 1.0 {
            assert!(((x * x + y * y).sqrt() - 1.0).abs() < 1e-4, "{p:?}");
            assert!(y >= -1e-5, "{p:?}");
        } else {
            assert_eq!(p.label, 0.0);
            let (u, v) = (1.0 - x, 0.5 - y);
            assert!(((u * u + v * v).sqrt() - 1.0).abs() < 1e-4, "{p:?}");
            assert!(y <= 0.5 + 1e-5, "{p:?}");
        }
        assert!(p.x.abs() <= DOMAIN && p.y.abs() <= DOMAIN);
    }
}

#[test]
fn checkerboard_labels_follow_cell_parity_at_zero_noise() {
    let d = generate(DatasetKind::Checkerboard, 2000, 0.0, 13);
    let points = all_points(&d);
    for p in &points {
        assert!(p.x.abs() <= 6.0 && p.y.abs() <= 6.0, "{p:?}");
        let cells = (p.x / 3.0).floor() as i32 + (p.y / 3.0).floor() as i32;
        let expected = if cells % 2 == 0 { 1.0 } else { 0.0 };
        assert_eq!(p.label, expected, "{p:?}");
    }
    // The cell [0, 3) × [0, 3) is class 1 and [3, 6) × [0, 3) class 0.
    assert!(
        points
            .iter()
            .filter(|p| (0.1..2.9).contains(&p.x) && (0.1..2.9).contains(&p.y))
            .all(|p| p.label == 1.0)
    );
    assert!(
        points
            .iter()
            .filter(|p| (3.1..5.9).contains(&p.x) && (0.1..2.9).contains(&p.y))
            .all(|p| p.label == 0.0)
    );
}

#[test]
fn spiral3_has_three_classes_with_exact_counts() {
    for (n, counts) in [
        (300, [100, 100, 100]),
        (301, [101, 100, 100]),
        (302, [101, 101, 100]),
    ] {
        let d = generate(DatasetKind::Spiral3, n, 0.0, 30);
        assert_eq!(d.task, Task::Classification { n_classes: 3 });
        assert_eq!(d.n_classes(), 3);
        let points = all_points(&d);
        assert_eq!(points.len(), n);
        for (k, &count) in counts.iter().enumerate() {
            assert_eq!(count_label(&points, k as f32), count, "n={n} class {k}");
        }
        assert!(points.iter().all(|p| p.x.hypot(p.y) <= 5.0 + 1e-5));
    }
}

#[test]
fn spiral3_arms_are_rotations_by_a_third_turn() {
    // Class 1 is class 0 turned by 2π/3 (in the (sin t, cos t) convention,
    // i.e. clockwise), so every class-0 point has a rotated twin in class 1.
    let d = generate(DatasetKind::Spiral3, 300, 0.0, 31);
    let points = all_points(&d);
    let (s, c) = (2.0 * std::f32::consts::PI / 3.0).sin_cos();
    let class1: Vec<&Sample> = points.iter().filter(|p| p.label == 1.0).collect();
    for p in points.iter().filter(|p| p.label == 0.0) {
        // (r sin t, r cos t) ↦ (r sin(t+δ), r cos(t+δ)).
        let x = p.x * c + p.y * s;
        let y = p.y * c - p.x * s;
        let found = class1
            .iter()
            .any(|q| (q.x - x).abs() < 1e-3 && (q.y - y).abs() < 1e-3);
        assert!(found, "no rotated twin of {p:?}");
    }
}

#[test]
fn every_kind_labels_match_its_task() {
    for kind in DatasetKind::ALL {
        let d = generate(kind, 400, 0.3, 77);
        match d.task {
            Task::Classification { n_classes } => {
                assert_eq!(d.n_classes(), n_classes);
                for p in all_points(&d) {
                    assert!(p.label.fract() == 0.0 && (p.label as usize) < n_classes);
                }
            }
            Task::Regression => assert_eq!(d.n_classes(), 1),
        }
    }
}

// ---------------------------------------------------------------- model inputs

#[test]
fn inputs_and_labels_are_flat_and_scaled() {
    let samples = [
        Sample {
            x: 6.0,
            y: -3.0,
            label: 1.0,
        },
        Sample {
            x: -1.5,
            y: 0.0,
            label: 0.0,
        },
    ];
    assert_eq!(Dataset::inputs(&samples), vec![1.0, -0.5, -0.25, 0.0]);
    assert_eq!(Dataset::labels(&samples), vec![1.0, 0.0]);
    assert!(Dataset::inputs(&[]).is_empty());
}

#[test]
fn grid_inputs_are_cell_centres_from_the_top_left() {
    let g = grid_inputs(3);
    assert_eq!(g.len(), 18);
    let third = 4.0 / 6.0;
    let expected = [
        [-third, third],
        [0.0, third],
        [third, third],
        [-third, 0.0],
        [0.0, 0.0],
        [third, 0.0],
        [-third, -third],
        [0.0, -third],
        [third, -third],
    ];
    for (i, e) in expected.iter().enumerate() {
        assert!(
            (g[2 * i] - e[0]).abs() < 1e-6,
            "point {i}: {:?}",
            &g[2 * i..]
        );
        assert!((g[2 * i + 1] - e[1]).abs() < 1e-6, "point {i}");
    }
    assert!(grid_inputs(0).is_empty());
    assert_eq!(grid_inputs(1), vec![0.0, 0.0]);
    let big = grid_inputs(64);
    assert_eq!(big.len(), 64 * 64 * 2);
    assert!(big.iter().all(|v| (-1.0..=1.0).contains(v)));
}

// ---------------------------------------------------------------- CSV

#[test]
fn csv_with_pm_one_labels_loads_as_two_classes() {
    let mut text = String::from(" X , Y , Label \n");
    for i in 0..10 {
        let label = if i % 2 == 0 { 1 } else { -1 };
        // x records the original label so the mapping can be checked.
        text.push_str(&format!("{label}, {}.5 ,{label}\n", i));
    }
    let d = Dataset::from_csv("mine", &text, 0.7, 1).unwrap();
    assert_eq!(d.name, "mine");
    assert_eq!(d.task, Task::Classification { n_classes: 2 });
    assert_eq!((d.train.len(), d.test.len()), (7, 3));
    let points = all_points(&d);
    assert_eq!(points.len(), 10);
    for p in &points {
        let expected = if p.x == 1.0 { 1.0 } else { 0.0 };
        assert_eq!(p.label, expected, "{p:?}");
    }
    assert_eq!(count_label(&points, 0.0), 5);
    let mut ys: Vec<f32> = points.iter().map(|p| p.y).collect();
    ys.sort_by(f32::total_cmp);
    assert_eq!(ys, (0..10).map(|i| i as f32 + 0.5).collect::<Vec<_>>());
}

#[test]
fn csv_integer_labels_give_max_plus_one_classes() {
    let d = csv_ok("x,y,label\n0,0,0\n1,1,1\n2,2,2\n3,3,0\n4,4,1\n");
    assert_eq!(d.task, Task::Classification { n_classes: 3 });
    assert_eq!(d.n_classes(), 3);
    for p in all_points(&d) {
        assert_eq!(p.label, p.x % 3.0);
    }
    // A missing middle class still counts up to the largest label.
    let d = csv_ok("x,y,label\n0,0,0\n1,1,4\n2,2,4\n3,3,0\n");
    assert_eq!(d.n_classes(), 5);
}

#[test]
fn csv_real_labels_give_regression_with_values_kept() {
    let d = csv_ok("x,y,label\n0,0,0.25\n1,1,-3\n2,2,7.5\n3,3,1\n");
    assert_eq!(d.task, Task::Regression);
    assert_eq!(d.n_classes(), 1);
    let mut labels = Dataset::labels(&all_points(&d));
    labels.sort_by(f32::total_cmp);
    assert_eq!(labels, vec![-3.0, 0.25, 1.0, 7.5]);
    // −1, 0 and 1 together are neither ±1 nor non-negative: regression.
    assert_eq!(
        csv_ok("x,y,label\n0,0,-1\n1,1,0\n2,2,1\n3,3,1\n").task,
        Task::Regression
    );
    // 10 is not below 10.
    assert_eq!(
        csv_ok("x,y,label\n0,0,10\n1,1,0\n2,2,1\n3,3,1\n").task,
        Task::Regression
    );
}

#[test]
fn csv_blank_lines_are_skipped_and_line_numbers_kept() {
    let d = csv_ok("x,y,label\n\n1,2,1\n3,4,-1\n\n5,6,1\n7,8,-1\n");
    assert_eq!(d.len(), 4);
    let err = csv_err("x,y,label\n1,2,1\n\n3,abc,1\n");
    assert_eq!(
        err,
        DataError::Csv {
            line: 4,
            message: "\"abc\" is not a number in column y".into()
        }
    );
}

#[test]
fn csv_crlf_bom_and_leading_blank_lines() {
    let d = csv_ok("\u{feff}x,y,label\r\n1,2,1\r\n3,4,-1\r\n5,6,1\r\n7,8,-1\r\n");
    assert_eq!(d.len(), 4);
    assert_eq!(d.task, Task::Classification { n_classes: 2 });
    let err = csv_err("\n\nx,y,label\r\n1,2,1\r\n\r\n3,4\r\n");
    assert_eq!(
        err.to_string(),
        "line 6: expected 3 fields (x,y,label), found 2"
    );
    let err = csv_err("\n\nq,y,label\n1,2,1\n");
    assert!(matches!(err, DataError::Csv { line: 3, .. }), "{err}");
}

#[test]
fn csv_loads_nothing_when_any_row_is_bad() {
    // 200 good rows and one bad one in the middle: the whole file is refused.
    let mut text = String::from("x,y,label\n");
    for i in 0..200 {
        if i == 100 {
            text.push_str("1,2,zz\n");
        }
        text.push_str(&format!("{i},{i},{}\n", i % 2));
    }
    assert_eq!(
        Dataset::from_csv("t", &text, 0.5, 0),
        Err(DataError::Csv {
            line: 102,
            message: "\"zz\" is not a number in column label".into()
        })
    );
}

#[test]
fn csv_wrong_header_is_line_one() {
    let err = csv_err("a,b,c\n1,2,1\n");
    assert_eq!(
        err.to_string(),
        "line 1: header must be x,y,label, found \"a,b,c\""
    );
    // A data row where the header should be is also a wrong header.
    assert!(matches!(
        csv_err("1,2,1\n3,4,-1\n"),
        DataError::Csv { line: 1, .. }
    ));
    assert!(matches!(
        csv_err("x,y\n1,2\n"),
        DataError::Csv { line: 1, .. }
    ));
}

#[test]
fn csv_wrong_field_counts_name_their_line() {
    let err = csv_err("x,y,label\n1,2,1\n3,4,-1\n5,6\n7,8,1\n");
    assert_eq!(
        err.to_string(),
        "line 4: expected 3 fields (x,y,label), found 2"
    );
    let err = csv_err("x,y,label\n1,2,1\n3,4,-1,9\n");
    assert_eq!(
        err.to_string(),
        "line 3: expected 3 fields (x,y,label), found 4"
    );
}

#[test]
fn csv_non_numbers_and_non_finite_values_name_line_and_column() {
    let mut text = String::from("x,y,label\n");
    for i in 0..5 {
        text.push_str(&format!("{i},{i},1\n{i},{i},-1\n"));
    }
    // Lines 2..=11 are good; line 12 is bad.
    let bad = |row: &str| csv_err(&format!("{text}{row}\n"));
    assert_eq!(
        bad("1,abc,1").to_string(),
        "line 12: \"abc\" is not a number in column y"
    );
    assert_eq!(
        bad("x1,2,1").to_string(),
        "line 12: \"x1\" is not a number in column x"
    );
    assert_eq!(
        bad("1,2,").to_string(),
        "line 12: \"\" is not a number in column label"
    );
    for row in ["NaN,2,1", "1,inf,1", "1,2,-inf", "1e39,2,1"] {
        let err = bad(row);
        assert!(
            matches!(err, DataError::Csv { line: 12, .. }),
            "{row}: {err}"
        );
        assert!(err.to_string().contains("finite"), "{row}: {err}");
    }
}

#[test]
fn csv_accepts_any_finite_coordinates() {
    let d = csv_ok("x,y,label\n1e9,0,1\n-1e9,0,-1\n0,1e-9,1\n0,0,-1\n");
    assert_eq!(d.len(), 4);
    assert!(all_points(&d).iter().any(|p| p.x == 1e9));
}

#[test]
fn csv_without_rows_is_empty() {
    assert_eq!(csv_err(""), DataError::Empty);
    assert_eq!(csv_err("x,y,label\n"), DataError::Empty);
    assert_eq!(csv_err("x,y,label\n\n\n"), DataError::Empty);
}

#[test]
fn csv_one_class_is_rejected() {
    assert_eq!(
        csv_err("x,y,label\n0,0,1\n1,1,1\n2,2,1\n3,3,1\n"),
        DataError::OneClass
    );
    assert_eq!(
        csv_err("x,y,label\n0,0,0\n1,1,0\n2,2,0\n3,3,0\n"),
        DataError::OneClass
    );
    assert_eq!(
        csv_err("x,y,label\n0,0,-1\n1,1,-1\n2,2,-1\n3,3,-1\n"),
        DataError::OneClass
    );
    // One class is fine for regression-looking labels.
    assert_eq!(
        csv_ok("x,y,label\n0,0,0.5\n1,1,0.5\n2,2,0.5\n3,3,0.5\n").task,
        Task::Regression
    );
}

#[test]
fn csv_too_few_points_and_bad_ratio_are_rejected() {
    assert_eq!(
        csv_err("x,y,label\n0,0,1\n1,1,-1\n"),
        DataError::TooFewPoints { found: 2 }
    );
    let text = "x,y,label\n0,0,1\n1,1,-1\n2,2,1\n3,3,-1\n";
    let err = Dataset::from_csv("t", text, 0.95, 0).unwrap_err();
    assert!(matches!(err, DataError::InvalidConfig(_)), "{err:?}");
    assert!(err.to_string().contains("train_ratio"), "{err}");
}

#[test]
fn csv_is_shuffled_by_seed() {
    let mut text = String::from("x,y,label\n");
    for i in 0..50 {
        text.push_str(&format!("{i},0,{}\n", i % 2));
    }
    let a = Dataset::from_csv("t", &text, 0.5, 1).unwrap();
    let b = Dataset::from_csv("t", &text, 0.5, 1).unwrap();
    let c = Dataset::from_csv("t", &text, 0.5, 2).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.train, c.train);
    let xs: Vec<f32> = a.train.iter().map(|p| p.x).collect();
    let sorted: Vec<f32> = (0..25).map(|i| i as f32).collect();
    assert_ne!(xs, sorted, "rows kept in file order");
}

// ---------------------------------------------------------------- user points

fn pts(labels: &[f32]) -> Vec<Sample> {
    labels
        .iter()
        .enumerate()
        .map(|(i, &label)| Sample {
            x: i as f32,
            y: -(i as f32),
            label,
        })
        .collect()
}

#[test]
fn from_points_applies_label_rules() {
    let d = Dataset::from_points("drawn", &pts(&[1.0, -1.0, 1.0, -1.0]), 0.5, 0).unwrap();
    assert_eq!(d.name, "drawn");
    assert_eq!(d.task, Task::Classification { n_classes: 2 });
    for p in all_points(&d) {
        let expected = if (p.x as usize).is_multiple_of(2) {
            1.0
        } else {
            0.0
        };
        assert_eq!(p.label, expected);
    }
    let d = Dataset::from_points("d", &pts(&[0.0, 1.0, 2.0, 3.0, 1.0]), 0.5, 0).unwrap();
    assert_eq!(d.task, Task::Classification { n_classes: 4 });
    assert_eq!((d.train.len(), d.test.len()), (3, 2));
    let d = Dataset::from_points("d", &pts(&[0.0, 1.5, 2.0, 3.0]), 0.5, 0).unwrap();
    assert_eq!(d.task, Task::Regression);
    assert!(all_points(&d).iter().any(|p| p.label == 1.5));
}

#[test]
fn from_points_rejects_bad_input() {
    assert_eq!(
        Dataset::from_points("d", &[], 0.5, 0),
        Err(DataError::Empty)
    );
    assert_eq!(
        Dataset::from_points("d", &pts(&[1.0, -1.0, 1.0]), 0.5, 0),
        Err(DataError::TooFewPoints { found: 3 })
    );
    assert_eq!(
        Dataset::from_points("d", &pts(&[2.0; 6]), 0.5, 0),
        Err(DataError::OneClass)
    );
    let mut bad = pts(&[1.0, -1.0, 1.0, -1.0]);
    bad[2].y = f32::NAN;
    let err = Dataset::from_points("d", &bad, 0.5, 0).unwrap_err();
    assert!(
        matches!(err, DataError::InvalidPoint { index: 2, .. }),
        "{err:?}"
    );
    let err = Dataset::from_points("d", &pts(&[1.0, -1.0, 1.0, -1.0]), 0.0, 0).unwrap_err();
    assert!(err.to_string().contains("train_ratio"), "{err}");
}

#[test]
fn error_messages_are_lower_case_without_final_period() {
    let errors = [
        "nope".parse::<DatasetKind>().unwrap_err(),
        DataConfig {
            n_points: 1,
            ..DataConfig::new(DatasetKind::Circle)
        }
        .validate()
        .unwrap_err(),
        csv_err("a,b\n"),
        DataError::Empty,
        DataError::OneClass,
        DataError::TooFewPoints { found: 1 },
        DataError::TooManyPoints,
    ];
    for e in errors {
        let msg = e.to_string();
        let first = msg.chars().next().unwrap();
        assert!(!first.is_uppercase(), "{msg}");
        assert!(!msg.ends_with('.'), "{msg}");
    }
}

#[test]
fn a_binary_file_is_named_as_one_in_plain_words() {
    // A PNG's first bytes, read as text the way a browser's file.text() reads them.
    let png = String::from_utf8_lossy(&[
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R',
        0xff, 0xfe, 0x01, 0x02,
    ])
    .repeat(20);
    let e = csv_err(&png);
    assert!(matches!(e, DataError::NotText), "{e}");
    assert!(e.to_string().starts_with("this is not a text file"), "{e}");
    // Without a NUL: mostly bytes that are not UTF-8.
    let junk =
        String::from_utf8_lossy(&[0xff, 0xfe, 0xfd, b'a', 0x80, 0x81].repeat(50)).into_owned();
    assert!(matches!(csv_err(&junk), DataError::NotText));
    // Text with a long wrong header is quoted shortened.
    let long = format!("{}\n1,2,0\n", "h".repeat(300));
    let message = csv_err(&long).to_string();
    assert!(message.len() < 120 && message.contains('…'), "{message}");
}
