//! The random baselines of Figure 3: split uniformly chosen units along random directions, or add
//! units with random weights. Both follow the same schedule as Firefly and return a plan.
//!
//! Each draws from the same set as the method it stands in for (see README, "Fair baselines"):
//! - a random split perturbs the unit by the step every splitting method takes
//!   ([`super::split_step`]: ε_max by default, or relative to ‖θ‖), θ ± ε·u with u a random unit
//!   direction over [fan-in; bias];
//! - a random new unit starts exactly where Firefly's new-unit candidates start: δ = (w, b, c) a
//!   random direction with ‖(w, b, c)‖ = 1 over fan-in, bias and out-weights together, and
//!   ε = ε_max, so its out-weights are ε_max·c. Firefly then optimises such a candidate within
//!   ‖δ‖ ≤ 1, |ε| ≤ ε_max; the baseline takes a random point of the same set.

use rand::RngExt;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::{CandidateKind, CandidateScore, GrowthPlan, NewUnitChoice, SplitChoice};
use crate::model::{Mlp, UnitId};

/// The share of ‖θ‖ by which a random split moved each offspring before every splitting method
/// took one rule ([`super::split_step`], default: the absolute ε_max). 0.5 was chosen for random
/// splitting alone among 0.1, 0.3, 0.5, 0.7 and 1 under 300 Adam steps between phases (10 seeds,
/// mean training loss over grown = 1..20: 0.057, 0.030, 0.297 on xor, circle and spiral; the
/// absolute ε_max gave 0.433, 0.040, 0.490). `--split-scale 0.5` gives it to every splitting
/// method (README, "Fair baselines").
pub const RANDOM_SPLIT_SCALE: f32 = 0.5;

fn unit_vector(n: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let v: Vec<f32> = (0..n)
        .map(|_| rng.sample::<f32, _>(StandardNormal))
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.into_iter().map(|x| x / norm).collect()
}

/// Splits `budget` units chosen uniformly without replacement, each along a random unit direction
/// δ by the shared step ε = [`super::split_step`], with halved out-weights.
pub fn random_split(
    mlp: &Mlp,
    budget: usize,
    eps_max: f32,
    split_scale: f32,
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
        plan.splits.push(SplitChoice {
            block: b,
            unit: i,
            eps: super::split_step(&mlp.blocks[b].theta(i), eps_max, split_scale),
            delta: unit_vector(mlp.blocks[b].d_in() + 1, rng),
            score: 0.0,
            keep_parent: false,
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

/// The random baseline of a network with frozen units (continual learning's neighbourhood,
/// spec §8): `budget` candidates drawn uniformly without replacement from the pool Firefly starts
/// from there, a copy of each frozen unit (if `copies`) and `candidates` new units per block,
/// each at ε = `eps_max` along a random unit direction: a copy's δ over [fan-in; bias] (a
/// one-sided split, [`SplitChoice::keep_parent`]), a new unit's over (w, b, c) together. No Step
/// 1, no scores.
pub fn random_copies_and_new(
    mlp: &Mlp,
    frozen: &[UnitId],
    (copies, candidates): (bool, usize),
    budget: usize,
    eps_max: f32,
    rng: &mut ChaCha8Rng,
) -> (GrowthPlan, Vec<CandidateScore>) {
    let mut pool: Vec<(CandidateKind, usize, usize)> = Vec::new();
    for (b, block) in mlp.blocks.iter().enumerate() {
        if copies {
            let frozen_units =
                (0..block.n_units()).filter(|&i| frozen.contains(&block.unit_ids[i]));
            pool.extend(frozen_units.map(|i| (CandidateKind::Split, b, i)));
        }
        pool.extend((0..candidates).map(|j| (CandidateKind::New, b, j)));
    }
    let mut chosen: Vec<usize> = (0..pool.len()).collect();
    chosen.shuffle(rng);
    chosen.truncate(budget);
    chosen.sort_unstable();
    let mut plan = GrowthPlan::default();
    for &c in &chosen {
        let (kind, b, i) = pool[c];
        let d = mlp.blocks[b].d_in() + 1;
        match kind {
            CandidateKind::Split => plan.splits.push(SplitChoice {
                block: b,
                unit: i,
                eps: eps_max,
                delta: unit_vector(d, rng),
                score: 0.0,
                keep_parent: true,
            }),
            _ => {
                let mut fan_in = unit_vector(d + mlp.consumer_width(b), rng);
                let fan_out = fan_in.split_off(d);
                plan.new_units.push(NewUnitChoice {
                    block: b,
                    eps: eps_max,
                    fan_in,
                    fan_out,
                    score: 0.0,
                });
            }
        }
    }
    let scores = pool
        .iter()
        .enumerate()
        .map(|(c, &(kind, block, index))| CandidateScore {
            kind,
            block,
            index,
            unit_id: (kind == CandidateKind::Split).then(|| mlp.blocks[block].unit_ids[index]),
            score: 0.0,
            chosen: chosen.contains(&c),
        })
        .collect();
    (plan, scores)
}
