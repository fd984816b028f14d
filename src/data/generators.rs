//! The data sets' generators: TensorFlow Playground's six problems exactly, plus moons,
//! checkerboard and a three-class spiral, each drawing its points from the given RNG.

use std::f64::consts::PI;

use rand::{Rng, RngExt};

use super::Sample;

/// Uniform value in [a, b).
fn uniform<R: Rng>(rng: &mut R, a: f64, b: f64) -> f64 {
    a + (b - a) * rng.random::<f64>()
}

/// Normal value with the given mean and variance (Marsaglia polar method, one
/// value per call, as TensorFlow Playground does).
fn normal<R: Rng>(rng: &mut R, mean: f64, variance: f64) -> f64 {
    loop {
        let u = uniform(rng, -1.0, 1.0);
        let v = uniform(rng, -1.0, 1.0);
        let s = u * u + v * v;
        if s > 0.0 && s < 1.0 {
            let z = u * (-2.0 * s.ln() / s).sqrt();
            return mean + variance.sqrt() * z;
        }
    }
}

fn sample(x: f64, y: f64, label: f64) -> Sample {
    Sample {
        x: x as f32,
        y: y as f32,
        label: label as f32,
    }
}

/// TensorFlow Playground's ±1 label as a class index: +1 ↦ 1, −1 ↦ 0.
fn class_of(positive: bool) -> f64 {
    if positive { 1.0 } else { 0.0 }
}

/// Sizes of two classes that add up to `n` (the first gets the odd point).
fn halves(n: usize) -> [usize; 2] {
    [n - n / 2, n / 2]
}

pub(super) fn gen_circle<R: Rng>(rng: &mut R, n: usize, noise: f64) -> Vec<Sample> {
    const RADIUS: f64 = 5.0;
    let mut points = Vec::with_capacity(n);
    let [n_pos, n_neg] = halves(n);
    let rings = [(0.0, RADIUS * 0.5, n_pos), (RADIUS * 0.7, RADIUS, n_neg)];
    for (r_min, r_max, count) in rings {
        for _ in 0..count {
            let r = uniform(rng, r_min, r_max);
            let angle = uniform(rng, 0.0, 2.0 * PI);
            let x = r * angle.sin();
            let y = r * angle.cos();
            let noise_x = uniform(rng, -RADIUS, RADIUS) * noise;
            let noise_y = uniform(rng, -RADIUS, RADIUS) * noise;
            let inside = (x + noise_x).hypot(y + noise_y) < RADIUS * 0.5;
            points.push(sample(x, y, class_of(inside)));
        }
    }
    points
}

pub(super) fn gen_xor<R: Rng>(rng: &mut R, n: usize, noise: f64) -> Vec<Sample> {
    const PADDING: f64 = 0.3;
    let mut points = Vec::with_capacity(n);
    for _ in 0..n {
        let mut x = uniform(rng, -5.0, 5.0);
        x += if x > 0.0 { PADDING } else { -PADDING };
        let mut y = uniform(rng, -5.0, 5.0);
        y += if y > 0.0 { PADDING } else { -PADDING };
        let noise_x = uniform(rng, -5.0, 5.0) * noise;
        let noise_y = uniform(rng, -5.0, 5.0) * noise;
        let positive = (x + noise_x) * (y + noise_y) >= 0.0;
        points.push(sample(x, y, class_of(positive)));
    }
    points
}

/// Variance of the gauss blobs: noise 0..0.5 maps linearly onto 0.5..4
/// (unclamped above 0.5, as in TensorFlow Playground).
fn gauss_variance(noise: f64) -> f64 {
    0.5 + (4.0 - 0.5) * (noise / 0.5)
}

pub(super) fn gen_gauss<R: Rng>(rng: &mut R, n: usize, noise: f64) -> Vec<Sample> {
    let variance = gauss_variance(noise);
    let mut points = Vec::with_capacity(n);
    let [n_pos, n_neg] = halves(n);
    for (centre, positive, count) in [(2.0, true, n_pos), (-2.0, false, n_neg)] {
        for _ in 0..count {
            let x = normal(rng, centre, variance);
            let y = normal(rng, centre, variance);
            points.push(sample(x, y, class_of(positive)));
        }
    }
    points
}

pub(super) fn gen_spiral<R: Rng>(rng: &mut R, n: usize, noise: f64) -> Vec<Sample> {
    let mut points = Vec::with_capacity(n);
    let [n_pos, n_neg] = halves(n);
    for (delta, positive, m) in [(0.0, true, n_pos), (PI, false, n_neg)] {
        for i in 0..m {
            let frac = i as f64 / m as f64;
            let r = frac * 5.0;
            let t = 1.75 * frac * 2.0 * PI + delta;
            let x = r * t.sin() + uniform(rng, -1.0, 1.0) * noise;
            let y = r * t.cos() + uniform(rng, -1.0, 1.0) * noise;
            points.push(sample(x, y, class_of(positive)));
        }
    }
    points
}

pub(super) fn gen_reg_plane<R: Rng>(rng: &mut R, n: usize, noise: f64) -> Vec<Sample> {
    const RADIUS: f64 = 6.0;
    let mut points = Vec::with_capacity(n);
    for _ in 0..n {
        let x = uniform(rng, -RADIUS, RADIUS);
        let y = uniform(rng, -RADIUS, RADIUS);
        let noise_x = uniform(rng, -RADIUS, RADIUS) * noise;
        let noise_y = uniform(rng, -RADIUS, RADIUS) * noise;
        let label = ((x + noise_x) + (y + noise_y)) / 10.0;
        points.push(sample(x, y, label));
    }
    points
}

/// Centres and signs of the six bumps of reg-gauss.
const REG_GAUSS_CENTRES: [(f64, f64, f64); 6] = [
    (-4.0, 2.5, 1.0),
    (0.0, 2.5, -1.0),
    (4.0, 2.5, 1.0),
    (-4.0, -2.5, -1.0),
    (0.0, -2.5, 1.0),
    (4.0, -2.5, -1.0),
];

/// The reg-gauss value at (x, y): the signed bump value of largest magnitude
/// (the first wins ties), each bump being `sign · clamp(1 − d/2, 0, 1)`.
fn reg_gauss_label(x: f64, y: f64) -> f64 {
    let mut label: f64 = 0.0;
    for (cx, cy, sign) in REG_GAUSS_CENTRES {
        let d = (x - cx).hypot(y - cy);
        let value = sign * (1.0 - d / 2.0).clamp(0.0, 1.0);
        if value.abs() > label.abs() {
            label = value;
        }
    }
    label
}

pub(super) fn gen_reg_gauss<R: Rng>(rng: &mut R, n: usize, noise: f64) -> Vec<Sample> {
    const RADIUS: f64 = 6.0;
    let mut points = Vec::with_capacity(n);
    for _ in 0..n {
        let x = uniform(rng, -RADIUS, RADIUS);
        let y = uniform(rng, -RADIUS, RADIUS);
        let noise_x = uniform(rng, -RADIUS, RADIUS) * noise;
        let noise_y = uniform(rng, -RADIUS, RADIUS) * noise;
        let label = reg_gauss_label(x + noise_x, y + noise_y);
        points.push(sample(x, y, label));
    }
    points
}

/// Two half-moons (ours). Class 1: `(cos t, sin t)`; class 0:
/// `(1 − cos t, 0.5 − sin t)`, with `t ~ U(0, π)`; both are centred and
/// scaled into the plane by `x' = (x − 0.5)·3.5`, `y' = (y − 0.25)·3.5`, then
/// each coordinate gets `U(−1, 1)·noise·3.5` added.
pub(super) fn gen_moons<R: Rng>(rng: &mut R, n: usize, noise: f64) -> Vec<Sample> {
    const SCALE: f64 = 3.5;
    let mut points = Vec::with_capacity(n);
    let [n_upper, n_lower] = halves(n);
    for (upper, count) in [(true, n_upper), (false, n_lower)] {
        for _ in 0..count {
            let t = uniform(rng, 0.0, PI);
            let (x, y) = if upper {
                (t.cos(), t.sin())
            } else {
                (1.0 - t.cos(), 0.5 - t.sin())
            };
            let x = (x - 0.5) * SCALE + uniform(rng, -1.0, 1.0) * noise * SCALE;
            let y = (y - 0.25) * SCALE + uniform(rng, -1.0, 1.0) * noise * SCALE;
            points.push(sample(x, y, class_of(upper)));
        }
    }
    points
}

/// A 4×4 checkerboard over the plane (ours): cells of side 3, class 1 where
/// `floor((x+ηx)/3) + floor((y+ηy)/3)` is even, with `ηx, ηy ~ U(−3, 3)·noise`.
pub(super) fn gen_checkerboard<R: Rng>(rng: &mut R, n: usize, noise: f64) -> Vec<Sample> {
    const RADIUS: f64 = 6.0;
    const CELL: f64 = 3.0;
    let mut points = Vec::with_capacity(n);
    for _ in 0..n {
        let x = uniform(rng, -RADIUS, RADIUS);
        let y = uniform(rng, -RADIUS, RADIUS);
        let noise_x = uniform(rng, -CELL, CELL) * noise;
        let noise_y = uniform(rng, -CELL, CELL) * noise;
        let cells = ((x + noise_x) / CELL).floor() + ((y + noise_y) / CELL).floor();
        let even = cells.rem_euclid(2.0) == 0.0;
        points.push(sample(x, y, class_of(even)));
    }
    points
}

/// Three spiral arms (ours): class `k` has `n / 3` points (the first `n % 3`
/// classes one more), `r = i/m·5`, `t = 1.25·i/m·2π + 2πk/3`, position noise
/// `U(−1, 1)·noise` on each coordinate.
pub(super) fn gen_spiral3<R: Rng>(rng: &mut R, n: usize, noise: f64) -> Vec<Sample> {
    let mut points = Vec::with_capacity(n);
    for k in 0..3 {
        let m = n / 3 + usize::from(k < n % 3);
        let delta = 2.0 * PI * k as f64 / 3.0;
        for i in 0..m {
            let frac = i as f64 / m as f64;
            let r = frac * 5.0;
            let t = 1.25 * frac * 2.0 * PI + delta;
            let x = r * t.sin() + uniform(rng, -1.0, 1.0) * noise;
            let y = r * t.cos() + uniform(rng, -1.0, 1.0) * noise;
            points.push(sample(x, y, k as f64));
        }
    }
    points
}
