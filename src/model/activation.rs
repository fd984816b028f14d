//! The hidden units' nonlinearity: its value and derivatives on the host, its forward pass on tensors.

use burn::tensor::{Tensor, activation};
use serde::{Deserialize, Serialize};

use crate::error::EngineError;

/// Hidden-unit nonlinearity, shared by every hidden block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// Hyperbolic tangent.
    Tanh,
    /// Rectified linear unit (derivative 0 at 0).
    Relu,
    /// Logistic sigmoid.
    Sigmoid,
    /// softplus(z) = ln(1 + e^z).
    Softplus,
}

impl Activation {
    /// Every activation, in the order menus show them.
    pub const ALL: [Activation; 4] = [
        Activation::Tanh,
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Softplus,
    ];

    /// The lower-case name used in configs, URLs and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Softplus => "softplus",
        }
    }

    /// Applies the activation to a tensor on any device.
    pub fn forward<const D: usize>(self, z: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Tanh => z.tanh(),
            Activation::Relu => activation::relu(z),
            Activation::Sigmoid => activation::sigmoid(z),
            Activation::Softplus => activation::softplus(z, 1.0),
        }
    }

    /// σ(z) on the host, for test oracles and host-side analysis.
    pub fn value(self, z: f32) -> f32 {
        match self {
            Activation::Tanh => z.tanh(),
            Activation::Relu => z.max(0.0),
            Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
            Activation::Softplus => softplus(z, 1.0),
        }
    }

    /// σ'(z) on the host.
    pub fn derivative(self, z: f32) -> f32 {
        match self {
            Activation::Tanh => 1.0 - z.tanh().powi(2),
            Activation::Relu => {
                if z > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::Sigmoid => {
                let s = self.value(z);
                s * (1.0 - s)
            }
            Activation::Softplus => Activation::Sigmoid.value(z),
        }
    }

    /// σ''(z) on the host, as exact splitting steepest descent needs it. ReLU's second derivative is
    /// zero almost everywhere, so (as the splitting paper's code does) a softplus with β = 3 stands
    /// in for it.
    pub fn second_derivative(self, z: f32) -> f32 {
        match self {
            Activation::Tanh => {
                let t = z.tanh();
                -2.0 * t * (1.0 - t * t)
            }
            Activation::Relu => {
                let beta = 3.0;
                let s = Activation::Sigmoid.value(beta * z);
                beta * s * (1.0 - s)
            }
            Activation::Sigmoid => {
                let s = self.value(z);
                s * (1.0 - s) * (1.0 - 2.0 * s)
            }
            Activation::Softplus => {
                let s = Activation::Sigmoid.value(z);
                s * (1.0 - s)
            }
        }
    }
}

fn softplus(z: f32, beta: f32) -> f32 {
    let bz = beta * z;
    if bz > 20.0 {
        z
    } else {
        bz.exp().ln_1p() / beta
    }
}

impl std::fmt::Display for Activation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Activation {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Activation::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                EngineError::InvalidConfig(format!(
                    "unknown activation \"{s}\" (expected one of tanh, relu, sigmoid, softplus)"
                ))
            })
    }
}
