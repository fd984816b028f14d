//! Input features: what the network's first layer reads of a point, as TensorFlow Playground
//! offers them (x₁, x₂, x₁², x₂², x₁x₂, sin x₁, sin x₂).
//!
//! A point's model coordinates are u = x / [`DOMAIN`] and v = y / [`DOMAIN`] (the plane maps to
//! [-1, 1]², see [`crate::data::Dataset::inputs`]). The features are u, v, u², v², u·v on that
//! scale (so every polynomial feature stays within [-1, 1] and trains at the same learning rate as
//! the coordinates), and sin x, sin y of the plane coordinates themselves, as TensorFlow Playground
//! computes them (almost two periods across the plane). Each run maps its points once when its
//! data arrives; the heat-map grid goes through the same map.

use serde::{Deserialize, Serialize};

use crate::data::DOMAIN;

/// One input feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// The horizontal coordinate.
    X1,
    /// The vertical coordinate.
    X2,
    /// x₁ squared.
    X1Squared,
    /// x₂ squared.
    X2Squared,
    /// x₁ times x₂.
    X1X2,
    /// The sine of x₁.
    SinX1,
    /// The sine of x₂.
    SinX2,
}

impl Feature {
    /// Every feature, in the order the first layer reads them.
    pub const ALL: [Feature; 7] = [
        Feature::X1,
        Feature::X2,
        Feature::X1Squared,
        Feature::X2Squared,
        Feature::X1X2,
        Feature::SinX1,
        Feature::SinX2,
    ];

    /// The feature's name in links and on the command line.
    pub fn key(self) -> &'static str {
        match self {
            Feature::X1 => "x1",
            Feature::X2 => "x2",
            Feature::X1Squared => "x1sq",
            Feature::X2Squared => "x2sq",
            Feature::X1X2 => "x1x2",
            Feature::SinX1 => "sinx1",
            Feature::SinX2 => "sinx2",
        }
    }

    /// The feature as the page writes it.
    pub fn label(self) -> &'static str {
        match self {
            Feature::X1 => "x₁",
            Feature::X2 => "x₂",
            Feature::X1Squared => "x₁²",
            Feature::X2Squared => "x₂²",
            Feature::X1X2 => "x₁x₂",
            Feature::SinX1 => "sin x₁",
            Feature::SinX2 => "sin x₂",
        }
    }

    /// The feature's value at model coordinates `(u, v)` (plane coordinates / [`DOMAIN`]).
    pub fn value(self, u: f32, v: f32) -> f32 {
        match self {
            Feature::X1 => u,
            Feature::X2 => v,
            Feature::X1Squared => u * u,
            Feature::X2Squared => v * v,
            Feature::X1X2 => u * v,
            Feature::SinX1 => (u * DOMAIN).sin(),
            Feature::SinX2 => (v * DOMAIN).sin(),
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A non-empty set of features, read in [`Feature::ALL`]'s order. Written as its keys joined by
/// commas (`x1,x2,x1sq`); the default is the plane's two coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Features(u8);

impl Default for Features {
    fn default() -> Self {
        Features::PLANE
    }
}

impl Features {
    /// x₁ and x₂: the point itself.
    pub const PLANE: Features = Features(0b11);

    /// The features in the order the first layer reads them.
    pub fn iter(self) -> impl Iterator<Item = Feature> {
        Feature::ALL
            .into_iter()
            .filter(move |f| self.0 & f.bit() != 0)
    }

    /// How many inputs the network reads.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Never true for a parsed set; kept for the `len` convention.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether `feature` is read.
    pub fn contains(self, feature: Feature) -> bool {
        self.0 & feature.bit() != 0
    }

    /// The set from a list of keys (`x1,x2,x1sq`; spaces and repeats allowed, any order).
    ///
    /// # Errors
    ///
    /// A message naming an unknown key and the known ones, or saying the list is empty.
    pub fn parse(text: &str) -> Result<Features, String> {
        let mut bits = 0u8;
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some(feature) = Feature::ALL
                .into_iter()
                .find(|f| f.key().eq_ignore_ascii_case(part))
            else {
                let known: Vec<&str> = Feature::ALL.iter().map(|f| f.key()).collect();
                let shown: String = part.chars().take(24).collect();
                return Err(format!(
                    "\"{shown}\" is not an input feature (known: {})",
                    known.join(", ")
                ));
            };
            bits |= feature.bit();
        }
        if bits == 0 {
            return Err("at least one input feature must be on".into());
        }
        Ok(Features(bits))
    }

    /// The inputs' names as the diagram writes them, in the first layer's order.
    pub fn labels(self) -> Vec<String> {
        self.iter().map(|f| f.label().to_string()).collect()
    }

    /// The inputs the network reads for row-major model coordinates `[n, 2]`: `[n, len]`.
    pub fn map(self, coords: &[f32]) -> Vec<f32> {
        if self == Features::PLANE {
            return coords.to_vec();
        }
        let mut out = Vec::with_capacity(coords.len() / 2 * self.len());
        for point in coords.chunks_exact(2) {
            out.extend(self.iter().map(|f| f.value(point[0], point[1])));
        }
        out
    }
}

impl std::fmt::Display for Features {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<&str> = self.iter().map(Feature::key).collect();
        f.write_str(&keys.join(","))
    }
}

impl From<Features> for String {
    fn from(features: Features) -> String {
        features.to_string()
    }
}

impl TryFrom<String> for Features {
    type Error = String;

    fn try_from(text: String) -> Result<Features, String> {
        Features::parse(&text)
    }
}

impl std::str::FromStr for Features {
    type Err = String;

    fn from_str(text: &str) -> Result<Features, String> {
        Features::parse(text)
    }
}
