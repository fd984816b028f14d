//! The augmented forward pass over every candidate: the task's mean cross-entropy and, by hand,
//! its gradient in every ε and δ.

use super::{Candidates, CopyMode};
use crate::continual::net::{ContinualNet, cross_entropy, pre_activation};
use crate::error::EngineError;

/// The augmented network's mean cross-entropy for the candidates' task on `inputs: [n, d]` (a
/// copied position reads ½σ(θ·x̃) + ½σ((θ + εδ)·x̃) with [`CopyMode::Add`], σ((θ + εδ)·x̃) with
/// [`CopyMode::Replace`], times its head row), and, if `grad` is given (length [`Candidates::flat_len`]), its gradient with respect to every ε and δ
/// in [`Candidates::flat`]'s layout. The base network is held fixed.
pub fn augmented_loss(
    net: &ContinualNet,
    candidates: &Candidates,
    inputs: &[f32],
    labels: &[f32],
    mut grad: Option<&mut [f32]>,
) -> Result<f32, EngineError> {
    let task = candidates.task;
    let head = net.head(task)?;
    let idx = net.mask_indices(task)?;
    let d = net.n_inputs;
    let p = d + 1;
    let k = head.n_classes();
    let mm = idx.len();
    let n = labels.len();
    if inputs.len() != n * d {
        return Err(EngineError::Internal(
            "inputs and labels differ in length".into(),
        ));
    }
    let slots = candidates.eps_slots();
    if let Some(g) = grad.as_deref_mut() {
        if g.len() != candidates.flat_len() {
            return Err(EngineError::Internal(
                "gradient buffer does not match the candidates".into(),
            ));
        }
        g.fill(0.0);
    }
    let mut copy_at: Vec<Option<usize>> = vec![None; mm];
    for (q, c) in candidates.copies.iter().enumerate() {
        if c.position >= mm || c.delta.len() != p {
            return Err(EngineError::Internal(
                "copy candidate does not fit the mask".into(),
            ));
        }
        copy_at[c.position] = Some(q);
    }
    let act = net.activation;
    let mode = candidates.copy_mode;
    let share = mode.share();
    let in_scale = candidates.fan_in_scale;
    let scale = 1.0 / n.max(1) as f32;
    let n_copies = candidates.copies.len();
    let mut z = vec![0.0f32; mm];
    let mut a = vec![0.0f32; mm];
    let mut nz = vec![0.0f32; candidates.new_units.len()];
    let mut na = vec![0.0f32; candidates.new_units.len()];
    let mut v = vec![0.0f32; n_copies];
    let mut logits = vec![0.0f32; k];
    let mut g_out = vec![0.0f32; k];
    let mut total = 0.0f64;
    for (x, label) in inputs.chunks_exact(d).zip(labels) {
        for m in 0..mm {
            let base = pre_activation(&net.units[idx[m]].theta, x);
            (z[m], a[m]) = match copy_at[m] {
                Some(q) => {
                    let c = &candidates.copies[q];
                    v[q] = pre_activation(&c.delta, x);
                    let moved = base + c.eps * v[q];
                    match mode {
                        CopyMode::Add => (moved, 0.5 * act.value(base) + 0.5 * act.value(moved)),
                        CopyMode::Replace => (moved, act.value(moved)),
                    }
                }
                None => (base, act.value(base)),
            };
        }
        logits.copy_from_slice(&head.bias);
        for (am, w) in a.iter().zip(head.weight.data.chunks_exact(k)) {
            for (o, wk) in logits.iter_mut().zip(w) {
                *o += am * wk;
            }
        }
        for (j, cand) in candidates.new_units.iter().enumerate() {
            nz[j] = in_scale * pre_activation(&cand.fan_in, x);
            na[j] = act.value(nz[j]);
            for (o, c) in logits.iter_mut().zip(&cand.fan_out) {
                *o += cand.eps * na[j] * c;
            }
        }
        total += f64::from(cross_entropy(&logits, *label as usize, scale, &mut g_out));
        let Some(g) = grad.as_deref_mut() else {
            continue;
        };
        for (q, c) in candidates.copies.iter().enumerate() {
            let m = c.position;
            let row = &head.weight.data[m * k..(m + 1) * k];
            let big_g: f32 = row.iter().zip(&g_out).map(|(w, gj)| w * gj).sum();
            let dz = big_g * share * act.derivative(z[m]);
            let s = slots[q];
            g[s] += dz * v[q];
            let gd = &mut g[s + 1..s + 1 + p];
            for (gi, xi) in gd.iter_mut().zip(x) {
                *gi += dz * c.eps * xi;
            }
            gd[d] += dz * c.eps;
        }
        for (j, cand) in candidates.new_units.iter().enumerate() {
            let s = slots[n_copies + j];
            let gc: f32 = cand.fan_out.iter().zip(&g_out).map(|(c, gj)| c * gj).sum();
            g[s] += na[j] * gc;
            let dz = gc * cand.eps * act.derivative(nz[j]) * in_scale;
            let gw = &mut g[s + 1..s + 1 + p];
            for (gi, xi) in gw.iter_mut().zip(x) {
                *gi += dz * xi;
            }
            gw[d] += dz;
            for (gi, gj) in g[s + 1 + p..s + 1 + p + k].iter_mut().zip(&g_out) {
                *gi += cand.eps * na[j] * gj;
            }
        }
    }
    Ok((total * f64::from(scale)) as f32)
}
