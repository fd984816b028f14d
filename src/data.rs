//! Toy data sets in the plane: generation, user-supplied points and CSV import.
//!
//! This module owns everything a network is trained and evaluated on. The six
//! classic problems of TensorFlow Playground (circle, xor, gauss, spiral and the
//! two regression problems) are generated exactly as TensorFlow Playground
//! defines them, with three additions of our own (moons, checkerboard and a
//! three-class spiral). Every data set is produced from a seed with a portable
//! RNG, so the browser and the command line see the same points for the same
//! configuration. It also owns the conversion of points into model inputs
//! (coordinates divided by [`DOMAIN`]) and the evaluation grid used for
//! heat-maps, so the plane-to-input mapping lives in one place.

use std::fmt;
use std::str::FromStr;

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod csv;
mod generators;

use csv::parse_csv;
use generators::{
    gen_checkerboard, gen_circle, gen_gauss, gen_moons, gen_reg_gauss, gen_reg_plane, gen_spiral,
    gen_spiral3, gen_xor,
};

/// Half-width of the plane shown and evaluated: points live in [-DOMAIN, DOMAIN]^2.
pub const DOMAIN: f32 = 6.0;

/// Largest CSV text accepted, in bytes (checked before parsing: 100,000 points of `x,y,label`
/// with generous digits fit).
pub const MAX_CSV_BYTES: usize = 4_000_000;

/// Fewest points a data set may have (generated or loaded).
pub const MIN_POINTS: usize = 4;

/// Most points a data set may have (generated or loaded).
pub const MAX_POINTS: usize = 100_000;

/// Largest allowed `noise` (TensorFlow Playground's slider value divided by 100).
pub const MAX_NOISE: f32 = 0.8;

/// Smallest allowed fraction of points used for training.
pub const MIN_TRAIN_RATIO: f32 = 0.1;

/// Largest allowed fraction of points used for training.
pub const MAX_TRAIN_RATIO: f32 = 0.9;

/// Largest class count inferred from integer labels (labels 0..=9).
pub const MAX_CLASSES: usize = 10;

/// Errors from generating or loading data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    /// A data set name that is not one of [`DatasetKind::ALL`].
    #[error("unknown dataset \"{name}\" (expected one of: {})", valid_names())]
    UnknownDataset {
        /// The name that was asked for.
        name: String,
    },
    /// A configuration value out of range; the message names the field.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// A malformed CSV line (1-based line number in the text).
    #[error("line {line}: {message}")]
    Csv {
        /// 1-based line number in the CSV text.
        line: usize,
        /// What is wrong with the line.
        message: String,
    },
    /// A user point with a non-finite coordinate or label (0-based index).
    #[error("point {index}: {message}")]
    InvalidPoint {
        /// 0-based index of the point in the input slice.
        index: usize,
        /// What is wrong with the point.
        message: String,
    },
    /// No data points at all.
    #[error("no data points")]
    Empty,
    /// Fewer points than [`MIN_POINTS`].
    #[error("too few points: found {found}, need at least {MIN_POINTS}")]
    TooFewPoints {
        /// How many points were given.
        found: usize,
    },
    /// More points than [`MAX_POINTS`].
    #[error("too many points: found more than {MAX_POINTS}")]
    TooManyPoints,
    /// A CSV text longer than [`MAX_CSV_BYTES`].
    #[error(
        "the file has {bytes} bytes, more than the {MAX_CSV_BYTES} allowed; nothing was loaded"
    )]
    TooLarge {
        /// The text's length in bytes.
        bytes: usize,
    },
    /// Classification labels with a single class: a classifier needs two.
    #[error("all points have the same class; a classifier needs at least two classes")]
    OneClass,
    /// Bytes that are not text (an image, a spreadsheet, an archive…).
    #[error(
        "this is not a text file (it looks like an image, a spreadsheet or another binary file); \
         a CSV file is text with the header x,y,label and one point per line"
    )]
    NotText,
}

fn valid_names() -> String {
    DatasetKind::ALL
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which toy problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetKind {
    /// A disc of one class inside a ring of the other (TensorFlow Playground).
    Circle,
    /// Four quadrants, same-sign quadrants share a class (TensorFlow Playground).
    Xor,
    /// Two Gaussian blobs around (2, 2) and (-2, -2) (TensorFlow Playground).
    Gauss,
    /// Two interleaved spiral arms (TensorFlow Playground).
    Spiral,
    /// Regression on a tilted plane, label = (x + y) / 10 (TensorFlow Playground).
    RegPlane,
    /// Regression on six signed bumps (TensorFlow Playground).
    RegGauss,
    /// Two interleaved half-moons (ours).
    Moons,
    /// A 4×4 checkerboard of cells of side 3 (ours).
    Checkerboard,
    /// Three interleaved spiral arms, three classes (ours).
    Spiral3,
}

impl DatasetKind {
    /// Every kind, in menu order.
    pub const ALL: [DatasetKind; 9] = [
        DatasetKind::Circle,
        DatasetKind::Xor,
        DatasetKind::Gauss,
        DatasetKind::Spiral,
        DatasetKind::RegPlane,
        DatasetKind::RegGauss,
        DatasetKind::Moons,
        DatasetKind::Checkerboard,
        DatasetKind::Spiral3,
    ];

    /// Short lower-case name used on the command line, in URLs and in files.
    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::Circle => "circle",
            DatasetKind::Xor => "xor",
            DatasetKind::Gauss => "gauss",
            DatasetKind::Spiral => "spiral",
            DatasetKind::RegPlane => "reg-plane",
            DatasetKind::RegGauss => "reg-gauss",
            DatasetKind::Moons => "moons",
            DatasetKind::Checkerboard => "checkerboard",
            DatasetKind::Spiral3 => "spiral3",
        }
    }

    /// The learning task: `Spiral3` has three classes, `RegPlane` and
    /// `RegGauss` are regression, every other kind has two classes.
    pub fn task(self) -> Task {
        match self {
            DatasetKind::RegPlane | DatasetKind::RegGauss => Task::Regression,
            DatasetKind::Spiral3 => Task::Classification { n_classes: 3 },
            _ => Task::Classification { n_classes: 2 },
        }
    }
}

impl FromStr for DatasetKind {
    type Err = DataError;

    /// Parses a name as printed by [`DatasetKind::name`] (case-insensitive,
    /// surrounding whitespace ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        DatasetKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| DataError::UnknownDataset {
                name: wanted.to_string(),
            })
    }
}

impl fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the labels mean, and so what the network's output is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Task {
    /// Labels are class indices `0..n_classes`.
    Classification {
        /// Number of classes (the network's output width).
        n_classes: usize,
    },
    /// Labels are real values (one output).
    Regression,
}

/// One point: position in the plane and its label (class index as f32 for
/// classification, value for regression).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sample {
    /// Horizontal coordinate, in plane units (normally within ±[`DOMAIN`]).
    pub x: f32,
    /// Vertical coordinate, in plane units (normally within ±[`DOMAIN`]).
    pub y: f32,
    /// Class index (as f32) for classification, target value for regression.
    pub label: f32,
}

/// Everything needed to generate a data set reproducibly.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DataConfig {
    /// Which toy problem.
    pub kind: DatasetKind,
    /// Total number of points (train plus test), in `MIN_POINTS..=MAX_POINTS`.
    pub n_points: usize,
    /// TensorFlow Playground's noise slider divided by 100: normally 0 to 0.5,
    /// at most [`MAX_NOISE`].
    pub noise: f32,
    /// Fraction of the points used for training, in 0.1..=0.9.
    pub train_ratio: f32,
    /// Seed of the generator and of the shuffle.
    pub seed: u64,
}

impl DataConfig {
    /// Defaults for `kind`: 500 points (1200 for the regression kinds), no
    /// noise, half the points for training, seed 0.
    pub fn new(kind: DatasetKind) -> Self {
        let n_points = match kind.task() {
            Task::Regression => 1200,
            Task::Classification { .. } => 500,
        };
        DataConfig {
            kind,
            n_points,
            noise: 0.0,
            train_ratio: 0.5,
            seed: 0,
        }
    }

    /// Checks every field: `n_points` in 4..=100000, `noise` finite in
    /// [0, 0.8], `train_ratio` finite in [0.1, 0.9].
    ///
    /// # Errors
    ///
    /// [`DataError::InvalidConfig`] whose message names the first bad field.
    pub fn validate(&self) -> Result<(), DataError> {
        if !(MIN_POINTS..=MAX_POINTS).contains(&self.n_points) {
            return Err(DataError::InvalidConfig(format!(
                "n_points must be between {MIN_POINTS} and {MAX_POINTS}, got {}",
                self.n_points
            )));
        }
        if !self.noise.is_finite() || !(0.0..=MAX_NOISE).contains(&self.noise) {
            return Err(DataError::InvalidConfig(format!(
                "noise must be a finite number in [0, {MAX_NOISE}], got {}",
                self.noise
            )));
        }
        check_train_ratio(self.train_ratio)
    }
}

fn check_train_ratio(train_ratio: f32) -> Result<(), DataError> {
    if !train_ratio.is_finite() || !(MIN_TRAIN_RATIO..=MAX_TRAIN_RATIO).contains(&train_ratio) {
        return Err(DataError::InvalidConfig(format!(
            "train_ratio must be a finite number in [{MIN_TRAIN_RATIO}, {MAX_TRAIN_RATIO}], got {train_ratio}"
        )));
    }
    Ok(())
}

/// A labelled point set split into training and test points.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Dataset {
    /// Display name: the kind's name for generated data, the caller's for user data.
    pub name: String,
    /// Classification (with its class count) or regression.
    pub task: Task,
    /// Training points.
    pub train: Vec<Sample>,
    /// Held-out test points.
    pub test: Vec<Sample>,
}

impl Dataset {
    /// Generates the data set described by `config` (validated first).
    ///
    /// All `n_points` points are generated in a fixed order with
    /// `ChaCha8Rng::seed_from_u64(seed)`, shuffled (Fisher–Yates) with the same
    /// generator, and the first `round(n_points · train_ratio)` become the
    /// training split (kept within `1..n_points` so neither split is empty).
    /// Two-class kinds with a per-class count put `n_points - n_points / 2`
    /// points in the first class and `n_points / 2` in the second.
    ///
    /// # Errors
    ///
    /// [`DataError::InvalidConfig`] when `config` fails [`DataConfig::validate`].
    pub fn generate(config: &DataConfig) -> Result<Dataset, DataError> {
        config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let n = config.n_points;
        let noise = f64::from(config.noise);
        let mut points = match config.kind {
            DatasetKind::Circle => gen_circle(&mut rng, n, noise),
            DatasetKind::Xor => gen_xor(&mut rng, n, noise),
            DatasetKind::Gauss => gen_gauss(&mut rng, n, noise),
            DatasetKind::Spiral => gen_spiral(&mut rng, n, noise),
            DatasetKind::RegPlane => gen_reg_plane(&mut rng, n, noise),
            DatasetKind::RegGauss => gen_reg_gauss(&mut rng, n, noise),
            DatasetKind::Moons => gen_moons(&mut rng, n, noise),
            DatasetKind::Checkerboard => gen_checkerboard(&mut rng, n, noise),
            DatasetKind::Spiral3 => gen_spiral3(&mut rng, n, noise),
        };
        shuffle(&mut points, &mut rng);
        let (train, test) = split(points, config.train_ratio);
        Ok(Dataset {
            name: config.kind.name().to_string(),
            task: config.kind.task(),
            train,
            test,
        })
    }

    /// Builds a data set from user points, shuffled with `seed` and split by
    /// `train_ratio` like [`Dataset::generate`].
    ///
    /// Label rules (the same as for [`Dataset::from_csv`]):
    /// - every label is −1 or +1: two-class classification with −1 ↦ class 0
    ///   and +1 ↦ class 1 (TensorFlow Playground's convention);
    /// - otherwise, every label is a non-negative integer below 10:
    ///   classification with `n_classes = max label + 1`;
    /// - otherwise: regression, values kept as they are.
    ///
    /// Coordinates may be any finite numbers. Between 4 and 100000 points are
    /// accepted.
    ///
    /// # Errors
    ///
    /// - [`DataError::InvalidConfig`]: `train_ratio` is not in [0.1, 0.9];
    /// - [`DataError::InvalidPoint`]: a coordinate or label is NaN or infinite;
    /// - [`DataError::Empty`], [`DataError::TooFewPoints`],
    ///   [`DataError::TooManyPoints`]: the point count is out of range;
    /// - [`DataError::OneClass`]: classification labels that all name the same
    ///   class (a classifier needs two).
    pub fn from_points(
        name: &str,
        points: &[Sample],
        train_ratio: f32,
        seed: u64,
    ) -> Result<Dataset, DataError> {
        check_train_ratio(train_ratio)?;
        for (index, p) in points.iter().enumerate() {
            for (column, value) in [("x", p.x), ("y", p.y), ("label", p.label)] {
                if !value.is_finite() {
                    return Err(DataError::InvalidPoint {
                        index,
                        message: format!("{column} = {value} is not a finite number"),
                    });
                }
            }
        }
        check_count(points.len())?;
        let (task, mut points) = apply_label_rules(points)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        shuffle(&mut points, &mut rng);
        let (train, test) = split(points, train_ratio);
        Ok(Dataset {
            name: name.to_string(),
            task,
            train,
            test,
        })
    }

    /// Loads CSV text whose first line is the header `x,y,label` (names
    /// checked case-insensitively, surrounding whitespace trimmed), then one
    /// point per line. Label rules, shuffling and splitting are those of
    /// [`Dataset::from_points`].
    ///
    /// Blank lines are skipped. Nothing is loaded partially: any bad row
    /// fails the whole text.
    ///
    /// # Errors
    ///
    /// - [`DataError::Csv`] naming the 1-based line: a wrong header, a row
    ///   without exactly three fields, a field that is not a number, or a NaN
    ///   or infinite value;
    /// - [`DataError::Empty`]: no data rows;
    /// - otherwise the errors of [`Dataset::from_points`].
    pub fn from_csv(
        name: &str,
        text: &str,
        train_ratio: f32,
        seed: u64,
    ) -> Result<Dataset, DataError> {
        check_train_ratio(train_ratio)?;
        if text.len() > MAX_CSV_BYTES {
            return Err(DataError::TooLarge { bytes: text.len() });
        }
        let points = parse_csv(text)?;
        Dataset::from_points(name, &points, train_ratio, seed)
    }

    /// Width of the network's output: the class count for classification, 1
    /// for regression.
    pub fn n_classes(&self) -> usize {
        match self.task {
            Task::Classification { n_classes } => n_classes,
            Task::Regression => 1,
        }
    }

    /// Total number of points (train plus test).
    pub fn len(&self) -> usize {
        self.train.len() + self.test.len()
    }

    /// Whether there are no points at all.
    pub fn is_empty(&self) -> bool {
        self.train.is_empty() && self.test.is_empty()
    }

    /// Model inputs of a split: flat row-major `[n, 2]` with coordinates
    /// divided by [`DOMAIN`] (so the plane maps to [-1, 1]^2).
    pub fn inputs(samples: &[Sample]) -> Vec<f32> {
        samples
            .iter()
            .flat_map(|s| [s.x / DOMAIN, s.y / DOMAIN])
            .collect()
    }

    /// Labels of a split: class indices (as f32) or regression values.
    pub fn labels(samples: &[Sample]) -> Vec<f32> {
        samples.iter().map(|s| s.label).collect()
    }
}

/// Evaluation grid for heat-maps: `resolution × resolution` cell centres over
/// [-DOMAIN, DOMAIN]^2, row-major from the top-left (y decreasing down the
/// rows, x increasing along a row), already divided by [`DOMAIN`] like
/// [`Dataset::inputs`]: flat `[resolution², 2]`. A resolution of 0 gives an
/// empty vector.
pub fn grid_inputs(resolution: usize) -> Vec<f32> {
    let res = resolution as f32;
    let centre = |i: usize| -1.0 + (i as f32 + 0.5) * 2.0 / res;
    let mut out = Vec::with_capacity(resolution * resolution * 2);
    for row in 0..resolution {
        let y = -centre(row);
        for col in 0..resolution {
            out.push(centre(col));
            out.push(y);
        }
    }
    out
}

fn check_count(n: usize) -> Result<(), DataError> {
    if n == 0 {
        Err(DataError::Empty)
    } else if n < MIN_POINTS {
        Err(DataError::TooFewPoints { found: n })
    } else if n > MAX_POINTS {
        Err(DataError::TooManyPoints)
    } else {
        Ok(())
    }
}

/// Applies the label rules of [`Dataset::from_points`], returning the task and
/// the points with their labels mapped to class indices where needed.
fn apply_label_rules(points: &[Sample]) -> Result<(Task, Vec<Sample>), DataError> {
    let all_pm_one = points.iter().all(|p| p.label == -1.0 || p.label == 1.0);
    let all_small_ints = points
        .iter()
        .all(|p| p.label >= 0.0 && p.label < MAX_CLASSES as f32 && p.label.fract() == 0.0);
    let (task, mapped): (Task, Vec<Sample>) = if all_pm_one {
        let mapped = points
            .iter()
            .map(|p| Sample {
                label: if p.label > 0.0 { 1.0 } else { 0.0 },
                ..*p
            })
            .collect();
        (Task::Classification { n_classes: 2 }, mapped)
    } else if all_small_ints {
        let max = points.iter().fold(0.0_f32, |m, p| m.max(p.label));
        let n_classes = max as usize + 1;
        // Normalise -0.0 to 0.0 so class indices compare and print cleanly.
        let mapped = points
            .iter()
            .map(|p| Sample {
                label: p.label + 0.0,
                ..*p
            })
            .collect();
        (Task::Classification { n_classes }, mapped)
    } else {
        (Task::Regression, points.to_vec())
    };
    if let Task::Classification { .. } = task
        && let Some(first) = mapped.first()
        && mapped.iter().all(|p| p.label == first.label)
    {
        return Err(DataError::OneClass);
    }
    Ok((task, mapped))
}

/// Fisher–Yates shuffle driven by `rng` (portable: indices are drawn with
/// rand's `usize` sampler, which gives the same values on 32- and 64-bit).
fn shuffle<R: Rng>(points: &mut [Sample], rng: &mut R) {
    for i in (1..points.len()).rev() {
        let j = rng.random_range(0..=i);
        points.swap(i, j);
    }
}

/// First `round(n · ratio)` points for training (at least one, and at least
/// one left for testing when there are two or more), the rest for testing.
fn split(mut points: Vec<Sample>, train_ratio: f32) -> (Vec<Sample>, Vec<Sample>) {
    let n = points.len();
    let mut n_train = (n as f64 * f64::from(train_ratio)).round() as usize;
    if n >= 2 {
        n_train = n_train.clamp(1, n - 1);
    } else {
        n_train = n;
    }
    let test = points.split_off(n_train);
    (points, test)
}
