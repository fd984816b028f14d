//! The fused CPU path replays burn's tensor path (the reference: autodiff and tensors) as whole
//! sessions beyond the 2-class tanh case `fused.rs` covers: 3 classes and regression, every
//! activation, every optimiser, residual layers grown, the optimiser's moments reset or carried
//! on growth, and input features.

use firefly_playground::config::RunConfig;
use firefly_playground::data::{Dataset, DatasetKind};
use firefly_playground::features::Features;
use firefly_playground::grow::{Budget, Method};
use firefly_playground::model::Activation;
use firefly_playground::optim::OptimizerKind;
use firefly_playground::train::{OnGrowth, Session, TrainPath};

use crate::support::{block, device};

fn config(kind: DatasetKind, activation: Activation, method: Method, seed: u64) -> RunConfig {
    let mut config = RunConfig {
        seed,
        ..RunConfig::default()
    };
    config.data.kind = kind;
    config.data.n_points = 120;
    config.data.seed = seed;
    config.model.hidden = vec![3];
    config.model.activation = activation;
    config.train.batch_size = 15;
    config.train.epochs_per_growth = 4;
    config.train.learning_rate = 0.03;
    config.growth.method = method;
    config.growth.step1_steps = 15;
    config
}

/// Runs `config` on both paths for `epochs` epochs; returns the largest difference of any
/// recorded loss (every epoch's training and test loss, every growth's loss before and after)
/// after checking that both grew the same networks, and the last architecture.
fn largest_difference(config: &RunConfig, epochs: usize) -> (f32, String) {
    let run = |path| {
        let data = Dataset::generate(&config.data).expect("data");
        let mut session =
            Session::with_path(config.clone(), data, device(), path).expect("session");
        block(session.run_epochs(epochs)).expect("train");
        session
    };
    let (fused, tensor) = (run(TrainPath::Fused), run(TrainPath::Tensor));
    let (a, b) = (fused.history(), tensor.history());
    let what = format!(
        "{:?} {} {:?} {:?}",
        config.data.kind,
        config.model.activation.name(),
        config.growth.method,
        config.train.optimizer
    );
    assert_eq!(a.epochs.len(), b.epochs.len(), "{what}");
    assert_eq!(a.growths.len(), b.growths.len(), "{what}");
    assert!(!a.growths.is_empty(), "{what}: it grew");
    let mut largest = 0.0f32;
    for (x, y) in a.growths.iter().zip(&b.growths) {
        assert_eq!(x.architecture_after, y.architecture_after, "{what}");
        largest = largest
            .max((x.loss_before - y.loss_before).abs())
            .max((x.loss_after - y.loss_after).abs());
    }
    for (x, y) in a.epochs.iter().zip(&b.epochs) {
        largest = largest
            .max((x.train_loss - y.train_loss).abs())
            .max((x.test_loss - y.test_loss).abs());
    }
    assert!(largest.is_finite(), "{what}");
    (largest, fused.shape().architecture())
}

/// Both paths compute in f32 with sums in different orders: 1e-5 is a few hundred roundings at
/// these loss sizes (cross-entropy near 1, regression near 0.1 to 1).
const TOLERANCE: f32 = 1e-5;

#[test]
fn three_classes_and_regression_train_and_grow_alike_with_every_activation() {
    for kind in [
        DatasetKind::Circle,
        DatasetKind::Spiral3,
        DatasetKind::RegPlane,
    ] {
        for activation in Activation::ALL {
            let config = config(kind, activation, Method::Firefly, 3);
            let (d, _) = largest_difference(&config, 9);
            assert!(
                d < TOLERANCE,
                "{kind:?} {}: the paths differ by {d}",
                activation.name()
            );
        }
    }
}

#[test]
fn residual_layers_grow_alike_with_every_optimiser_and_moments_reset_or_carried() {
    for optimizer in [
        OptimizerKind::Adam,
        OptimizerKind::Sgd,
        OptimizerKind::Nesterov,
    ] {
        for on_growth in [OnGrowth::Reset, OnGrowth::Carry] {
            for kind in [DatasetKind::Spiral3, DatasetKind::RegGauss] {
                let mut config = config(kind, Activation::Tanh, Method::FireflyLayers, 5);
                config.train.optimizer = optimizer;
                config.train.on_growth = on_growth;
                config.growth.max_new_layers = 1;
                // Enough units per growth that a candidate layer is among the best.
                config.growth.budget = Budget::Count(8);
                let (d, architecture) = largest_difference(&config, 13);
                assert!(
                    d < TOLERANCE,
                    "{kind:?} {optimizer:?} {on_growth:?}: the paths differ by {d}"
                );
                assert!(
                    architecture.contains('r'),
                    "{kind:?} {optimizer:?} {on_growth:?}: no residual layer grown ({architecture})"
                );
            }
        }
    }
}

#[test]
fn input_features_and_regularization_train_alike() {
    let mut config = config(DatasetKind::Spiral3, Activation::Relu, Method::Firefly, 7);
    config.features = Features::parse("x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2").expect("features");
    config.model.n_inputs = 7;
    config.train.regularization = firefly_playground::config::Regularization::L2;
    config.train.regularization_rate = 0.01;
    let (d, architecture) = largest_difference(&config, 9);
    assert!(d < TOLERANCE, "the paths differ by {d}");
    assert!(architecture.starts_with("7-"), "{architecture}");
}

/// The run the browser tests train on WebGPU's tensor path and on the CPU's fused step
/// (`experiment::path_check`) agrees between the two paths natively: same growth, same losses.
#[test]
fn the_browsers_path_check_agrees_between_paths_natively() {
    use firefly_playground::experiment::path_check;
    let fused = block(path_check(&device(), TrainPath::Fused, || async {})).expect("fused");
    let tensor = block(path_check(&device(), TrainPath::Tensor, || async {})).expect("tensor");
    assert_eq!(fused.losses.len(), 4, "one record per epoch");
    assert_ne!(fused.architecture, "2-3-2", "the run grew");
    tensor
        .compare(&fused, 1e-5)
        .expect("tensor path = fused path");
}

/// A session that trains on a GPU grows on the CPU under `auto` while its widest layer is under
/// 128 units, where a Firefly phase ran faster on the CPU than on an NVIDIA H200; `cpu` and
/// `gpu` (`Device`) decide alone, and a session on the CPU has nowhere to move. That the rows
/// stay the same is `wgpu::a_figure3_job_trained_on_wgpu_matches_the_fused_cpu_step`.
#[test]
fn auto_grows_on_the_cpu_below_128_units_and_a_cpu_session_stays() {
    use firefly_playground::train::{CPU_GROWTH_BELOW, GrowOn};
    assert_eq!(CPU_GROWTH_BELOW, 128);
    assert!(GrowOn::Auto.moves_to_cpu(1, false) && GrowOn::Auto.moves_to_cpu(127, false));
    assert!(!GrowOn::Auto.moves_to_cpu(128, false) && !GrowOn::Auto.moves_to_cpu(1024, false));
    assert!(GrowOn::Cpu.moves_to_cpu(1024, false) && !GrowOn::Device.moves_to_cpu(1, false));
    for grow_on in [GrowOn::Auto, GrowOn::Cpu, GrowOn::Device] {
        assert!(!grow_on.moves_to_cpu(16, true), "{grow_on:?} on the CPU");
    }
}
