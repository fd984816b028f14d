//! The random baselines of Figure 3: split uniformly chosen units along random directions, or add
//! units with random weights. Both follow the same schedule as Firefly and return a plan.

use rand::RngExt;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::{
    CandidateKind, CandidateScore, GrowthPlan, NewUnitChoice, SplitChoice, consumer_width,
};
use crate::model::Mlp;

fn unit_vector(n: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let v: Vec<f32> = (0..n)
        .map(|_| rng.sample::<f32, _>(StandardNormal))
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.into_iter().map(|x| x / norm).collect()
}

/// Splits `budget` units chosen uniformly without replacement, each along a random unit direction
/// scaled by `eps_max`, with halved out-weights.
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
        plan.splits.push(SplitChoice {
            block: b,
            unit: i,
            eps: eps_max,
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

/// Adds `budget` units to uniformly chosen blocks: a random unit-norm fan-in scaled to the block's
/// mean unit norm, and out-weights ε_max·(random sign).
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
        let block = &mlp.blocks[b];
        let mean_norm = if block.n_units() == 0 {
            1.0
        } else {
            (0..block.n_units())
                .map(|i| block.theta(i).iter().map(|v| v * v).sum::<f32>().sqrt())
                .sum::<f32>()
                / block.n_units() as f32
        };
        let fan_in = unit_vector(block.d_in() + 1, rng)
            .into_iter()
            .map(|v| v * mean_norm)
            .collect();
        let fan_out = (0..consumer_width(mlp, b))
            .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
            .collect();
        plan.new_units.push(NewUnitChoice {
            block: b,
            eps: eps_max,
            fan_in,
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
