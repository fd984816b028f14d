//! Exact splitting steepest descent (Liu et al., 2019), the second-order baseline.
//!
//! For unit i with pre-activation z_i, input x̃ = [x; 1] and G_i = ∂L/∂a_i (the gradient of the
//! mean loss with respect to the unit's activation, per point), the splitting matrix is
//! S_i = Σ_points G_i σ''(z_i) x̃ x̃ᵀ. Splitting along ±ε·v changes the loss by ≈ ½ε²·vᵀS_i v, so
//! the best direction is the eigenvector of the smallest eigenvalue λ_i, and the units with the
//! most negative λ_i split first (only when λ_i < 0). ReLU uses a softplus(β = 3) surrogate for σ''
//! ([`crate::model::Activation::second_derivative`]). The small symmetric eigenproblems are solved
//! by nalgebra.

use burn::tensor::Tensor;
use nalgebra::{DMatrix, SymmetricEigen};

use super::{CandidateKind, CandidateScore, GrowthPlan, SplitChoice, select_top};
use crate::error::EngineError;
use crate::model::{Mlp, Targets, forward_hooked, loss};
use crate::readback::read_all;

/// One unit's splitting analysis.
#[derive(Clone, Debug, PartialEq)]
pub struct SplitAnalysis {
    /// Block index.
    pub block: usize,
    /// Unit index.
    pub unit: usize,
    /// Smallest eigenvalue of the splitting matrix.
    pub min_eigenvalue: f32,
    /// Its unit eigenvector over [fan-in; bias].
    pub direction: Vec<f32>,
}

/// Computes every unit's splitting matrix and its smallest eigenpair (one batched read).
pub async fn analyse(
    mlp: &Mlp,
    params: &[Tensor<2>],
    inputs: Tensor<2>,
    targets: &Targets,
) -> Result<Vec<SplitAnalysis>, EngineError> {
    let mut reads: Vec<Tensor<2>> = Vec::new();
    for capture in 0..mlp.blocks.len() {
        let mut leaf: Option<Tensor<2>> = None;
        let mut captured: Vec<Tensor<2>> = Vec::new();
        let out = forward_hooked(mlp, params, inputs.clone(), &mut |b, z, x, h| {
            if b == capture {
                let h = h.autodiff().require_grad();
                leaf = Some(h.clone());
                captured.push(z.clone());
                captured.push(x.clone());
                h
            } else {
                h
            }
        });
        let grads = loss(out, targets).backward();
        let leaf = leaf.ok_or_else(|| EngineError::Internal("no activation captured".into()))?;
        let g = leaf
            .grad(&grads)
            .unwrap_or_else(|| leaf.clone().without_autodiff().zeros_like());
        reads.extend(captured);
        reads.push(g);
    }
    let host = read_all(reads).await?;
    let activation = mlp.activation;
    let mut out = Vec::new();
    for (b, block) in mlp.blocks.iter().enumerate() {
        let (z, x, g) = (&host[3 * b], &host[3 * b + 1], &host[3 * b + 2]);
        let d = block.d_in();
        let m = block.n_units();
        let n = x.len() / d.max(1);
        for i in 0..m {
            let mut s = DMatrix::<f64>::zeros(d + 1, d + 1);
            for p in 0..n {
                let coef = g[p * m + i] as f64 * activation.second_derivative(z[p * m + i]) as f64;
                if coef == 0.0 {
                    continue;
                }
                let xt: Vec<f64> = x[p * d..(p + 1) * d]
                    .iter()
                    .map(|v| *v as f64)
                    .chain(std::iter::once(1.0))
                    .collect();
                for r in 0..=d {
                    for c in 0..=d {
                        s[(r, c)] += coef * xt[r] * xt[c];
                    }
                }
            }
            let eigen = SymmetricEigen::new(s);
            let (k, lambda) =
                eigen
                    .eigenvalues
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f64::INFINITY),
                        |best, (k, v)| {
                            if *v < best.1 { (k, *v) } else { best }
                        },
                    );
            out.push(SplitAnalysis {
                block: b,
                unit: i,
                min_eigenvalue: lambda as f32,
                direction: eigen
                    .eigenvectors
                    .column(k)
                    .iter()
                    .map(|v| *v as f32)
                    .collect(),
            });
        }
    }
    Ok(out)
}

/// Plans the `budget` splits with the most negative predicted change, each along ±ε·v with v the
/// unit eigenvector of the smallest eigenvalue λ and ε the shared step of every splitting
/// method ([`super::split_step`]). Each candidate's score is the second-order predicted change
/// ½ε²λ.
pub async fn exact_split(
    mlp: &Mlp,
    params: &[Tensor<2>],
    inputs: Tensor<2>,
    targets: &Targets,
    budget: usize,
    eps_max: f32,
    split_scale: f32,
) -> Result<(GrowthPlan, Vec<CandidateScore>), EngineError> {
    let analyses = analyse(mlp, params, inputs, targets).await?;
    let scored: Vec<(f32, usize)> = analyses
        .iter()
        .enumerate()
        .map(|(k, a)| {
            let eps = super::split_step(&mlp.blocks[a.block].theta(a.unit), eps_max, split_scale);
            (0.5 * eps * eps * a.min_eigenvalue, k)
        })
        .collect();
    let chosen = select_top(&scored, budget, 0, |_| None);
    let mut plan = GrowthPlan::default();
    for &c in &chosen {
        let a = &analyses[c];
        plan.splits.push(SplitChoice {
            block: a.block,
            unit: a.unit,
            eps: super::split_step(&mlp.blocks[a.block].theta(a.unit), eps_max, split_scale),
            delta: a.direction.clone(),
            score: scored[c].0,
            keep_parent: false,
        });
    }
    let scores = analyses
        .iter()
        .enumerate()
        .map(|(k, a)| CandidateScore {
            kind: CandidateKind::Split,
            block: a.block,
            index: a.unit,
            unit_id: Some(mlp.blocks[a.block].unit_ids[a.unit]),
            score: scored[k].0,
            chosen: chosen.contains(&k),
        })
        .collect();
    Ok((plan, scores))
}
