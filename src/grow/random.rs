//! The random baselines of Figure 3: split uniformly chosen units along random directions, or add
//! units with random weights. Both follow the same schedule as Firefly and return a plan.
//!
//! Each is as strong as we could honestly make it (measured with `firefly figure3`, see README):
//! - a random split perturbs the unit on the scale of its own weights, θ ± ε·u with
//!   ε = max([`RANDOM_SPLIT_SCALE`]·‖θ‖, ε_max) and u a random unit direction over [fan-in; bias]
//!   (with the absolute ε_max that Firefly's splits are held to, the two offspring of a trained
//!   unit are almost the same unit and the split does next to nothing);
//! - a random new unit starts exactly where Firefly's new-unit candidates start: δ = (w, b, c) a
//!   random direction with ‖(w, b, c)‖ = 1 over fan-in, bias and out-weights together, and
//!   ε = ε_max, so its out-weights are ε_max·c. Firefly then optimises such a candidate within
//!   ‖δ‖ ≤ 1, |ε| ≤ ε_max; the baseline takes a random point of the same set.

use rand::RngExt;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::{CandidateKind, CandidateScore, GrowthPlan, NewUnitChoice, SplitChoice};
use crate::model::Mlp;

/// A random split moves each offspring by this share of the unit's norm ‖θ‖ (θ = [fan-in; bias]).
/// Chosen among 0.1, 0.3, 0.5, 0.7 and 1 by the Figure 3 protocol (10 seeds, mean training loss
/// over grown = 1..20): 0.5 has the lowest sum over xor, circle and spiral (0.057, 0.030, 0.297;
/// 0.3: 0.085, 0.030, 0.290; 0.7: 0.053, 0.034, 0.315); the absolute ε_max = 0.1 gave 0.433,
/// 0.040, 0.490.
pub const RANDOM_SPLIT_SCALE: f32 = 0.5;

fn unit_vector(n: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let v: Vec<f32> = (0..n)
        .map(|_| rng.sample::<f32, _>(StandardNormal))
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.into_iter().map(|x| x / norm).collect()
}

/// Splits `budget` units chosen uniformly without replacement, each along a random unit direction
/// δ with ε = max([`RANDOM_SPLIT_SCALE`]·‖θ‖, `eps_max`), with halved out-weights.
pub fn random_split(
    mlp: &Mlp,
    budget: usize,
    eps_max: f32,
    rng: &mut ChaCha8Rng,
) -> (GrowthPlan, Vec<CandidateScore>) {
    let mut units: Vec<(usize, usize)> = mlp
        .blocks
        .iter()
        .enumerate()
        .flat_map(|(b, block)| (0..block.n_units()).map(move |i| (b, i)))
        .collect();
    units.shuffle(rng);
    units.truncate(budget);
    let mut plan = GrowthPlan::default();
    let mut scores = Vec::new();
    for (b, i) in units {
        let norm = mlp.blocks[b]
            .theta(i)
            .iter()
            .map(|v| v * v)
            .sum::<f32>()
            .sqrt();
        plan.splits.push(SplitChoice {
            block: b,
            unit: i,
            eps: (RANDOM_SPLIT_SCALE * norm).max(eps_max),
            delta: unit_vector(mlp.blocks[b].d_in() + 1, rng),
            score: 0.0,
        });
        scores.push(CandidateScore {
            kind: CandidateKind::Split,
            block: b,
            index: i,
            unit_id: Some(mlp.blocks[b].unit_ids[i]),
            score: 0.0,
            chosen: true,
        });
    }
    (plan, scores)
}

/// Adds `budget` units to uniformly chosen blocks, each as Firefly's new-unit candidates start: a
/// random direction (w, b, c) with unit norm over fan-in, bias and out-weights together, and
/// ε = `eps_max` (out-weights ε_max·c).
pub fn random_new(
    mlp: &Mlp,
    budget: usize,
    eps_max: f32,
    rng: &mut ChaCha8Rng,
) -> (GrowthPlan, Vec<CandidateScore>) {
    let mut plan = GrowthPlan::default();
    let mut scores = Vec::new();
    for index in 0..budget {
        let b = rng.random_range(0..mlp.blocks.len());
        let d = mlp.blocks[b].d_in() + 1;
        let mut delta = unit_vector(d + mlp.consumer_width(b), rng);
        let fan_out = delta.split_off(d);
        plan.new_units.push(NewUnitChoice {
            block: b,
            eps: eps_max,
            fan_in: delta,
            fan_out,
            score: 0.0,
        });
        scores.push(CandidateScore {
            kind: CandidateKind::New,
            block: b,
            index,
            unit_id: None,
            score: 0.0,
            chosen: true,
        });
    }
    (plan, scores)
}
