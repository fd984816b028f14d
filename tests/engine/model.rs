//! The growable network: shapes, forward pass against a host reference, loss and metrics against
//! hand-derived values, activation derivatives against finite differences.

use burn::tensor::Tensor;
use firefly_playground::data::{Dataset, DatasetKind, Task, grid_inputs};
use firefly_playground::model::{
    Activation, DeviceMlp, Targets, inputs_tensor, loss, metrics_from_outputs,
};
use firefly_playground::readback::read_one;

use crate::support::{block, dataset, device, max_abs_diff, mlp};

#[test]
fn architecture_string_and_parameter_count_follow_the_shape() {
    let net = mlp(
        &[4, 3],
        Activation::Tanh,
        Task::Classification { n_classes: 2 },
        0,
    );
    assert_eq!(net.architecture(), "2-4-3-2");
    // (2·4 + 4) + (4·3 + 3) + (3·2 + 2)
    assert_eq!(net.n_params(), 12 + 15 + 8);
    assert_eq!(net.n_units(), 7);
    let ids = net.unit_ids();
    assert_eq!(ids, (0..7).collect::<Vec<_>>());
}

#[test]
fn device_forward_matches_the_host_reference() {
    for activation in Activation::ALL {
        let net = mlp(
            &[5, 3],
            activation,
            Task::Classification { n_classes: 3 },
            7,
        );
        let inputs = grid_inputs(7);
        let device = device();
        let model = DeviceMlp::upload(&net, &device);
        let out = block(read_one(model.forward(inputs_tensor(&inputs, 2, &device)))).expect("read");
        let reference = net.forward_host(&inputs);
        assert!(max_abs_diff(&out, &reference) < 1e-5, "{activation}");
    }
}

#[test]
fn download_returns_what_was_uploaded() {
    let net = mlp(&[3], Activation::Relu, Task::Regression, 3);
    let model = DeviceMlp::upload(&net, &device());
    assert_eq!(block(model.download()).expect("read"), net);
}

#[test]
fn cross_entropy_and_accuracy_match_hand_values() {
    // Logits (0, 0) → p = ½ for both classes: loss ln 2; logits (2, 0) for class 0: ln(1 + e⁻²).
    let outputs = [0.0, 0.0, 2.0, 0.0];
    let labels = [1.0, 0.0];
    let (l, acc) = metrics_from_outputs(&outputs, &labels, Task::Classification { n_classes: 2 });
    let expected = ((2f32).ln() + (1.0 + (-2f32).exp()).ln()) / 2.0;
    assert!((l - expected).abs() < 1e-6);
    // Ties go to the first class: the first point (label 1) is wrong, the second right.
    assert_eq!(acc, Some(0.5));

    let device = device();
    let t = Targets::new(&labels, Task::Classification { n_classes: 2 }, &device);
    let x = Tensor::<2>::from_floats([[0.0, 0.0], [2.0, 0.0]], &device);
    let on_device = block(read_one(loss(x, &t))).expect("read")[0];
    assert!((on_device - expected).abs() < 1e-6);
}

#[test]
fn mean_squared_error_matches_hand_values() {
    let (l, acc) = metrics_from_outputs(&[1.0, -1.0], &[0.5, 1.0], Task::Regression);
    assert!((l - (0.25 + 4.0) / 2.0).abs() < 1e-6);
    assert_eq!(acc, None);
}

#[test]
fn activation_derivatives_match_finite_differences() {
    let h = 1e-3f32;
    for activation in Activation::ALL {
        for z in [-2.0f32, -0.7, 0.3, 1.5] {
            let fd1 = (activation.value(z + h) - activation.value(z - h)) / (2.0 * h);
            assert!(
                (fd1 - activation.derivative(z)).abs() < 1e-3,
                "{activation} σ' at {z}"
            );
            if activation != Activation::Relu {
                let fd2 = (activation.derivative(z + h) - activation.derivative(z - h)) / (2.0 * h);
                assert!(
                    (fd2 - activation.second_derivative(z)).abs() < 1e-2,
                    "{activation} σ'' at {z}"
                );
            }
        }
    }
    // ReLU's σ'' is the softplus(β = 3) surrogate: 3·s(1−s) with s = sigmoid(3z); at 0 that is ¾.
    assert!((Activation::Relu.second_derivative(0.0) - 0.75).abs() < 1e-6);
}

#[test]
fn the_data_feeds_the_network_in_model_units() {
    let data = dataset(DatasetKind::Circle, 40, 1);
    let inputs = Dataset::inputs(&data.train);
    assert!(inputs.iter().all(|v| v.abs() <= 1.0));
}
