//! The one surgery that grows a network: [`apply_plan`] materialises a [`GrowthPlan`].
//!
//! The surgery is the materialisation of Firefly's augmented network with the unselected ε set to
//! zero (spec §5), so that "the loss after surgery equals the augmented loss with unselected ε = 0"
//! holds exactly. Its parts, in order:
//! 1. [`insert_layers`]: new residual layers go in first, on the old stream, so that the later
//!    parts widen them like any other residual block.
//! 2. [`split_units`] (fan-in side): a split unit's column becomes θ + εδ and a clone θ − εδ is
//!    appended (a one-sided split keeps the unit and appends θ + εδ: continual learning's
//!    unlocked copy of a frozen unit); a residual unit's fan-out row is halved and copied for
//!    its clone.
//! 3. [`add_units`] (fan-in side): a new unit's column is appended; a new residual unit gets
//!    fan-out ε·c, a new dense unit's ε·c waits for part 4.
//! 4. [`widen_streams`] (stream side), for each dense block's group (the dense block and the
//!    residual blocks that follow it): every consumer row of a split unit is halved and copied;
//!    residual blocks copy their fan-out column for the clone; a new dense unit gets consumer row
//!    ε·c (extended to the consumer's own clones and new units) and zero rows/columns in the
//!    residual blocks.
//!
//! The same parts reshape optimiser moments ([`Surgery::Moments`]): the moments of a split unit
//! are copied to its clone and never halved, and every new entry is zero.

use super::{CandidateKind, GrowthPlan, Lineage, NewLayerChoice};
use crate::error::EngineError;
use crate::model::{Block, BlockKind, Matrix, Mlp};

/// How [`apply_plan_with`] treats values: as weights (the real surgery) or as optimiser moments
/// carried across growth (parents' moments copied, never halved; new entries zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surgery {
    /// Materialise the plan on the network's weights.
    Weights,
    /// Reshape optimiser moments the same way.
    Moments,
}

impl Surgery {
    /// A new entry given by the plan: the values for weights, zeros for moments.
    fn given(self, values: &[f32]) -> Vec<f32> {
        match self {
            Surgery::Weights => values.to_vec(),
            Surgery::Moments => vec![0.0; values.len()],
        }
    }

    /// A new out-weight ε·c: scaled for weights, zeros for moments.
    fn scaled(self, eps: f32, c: &[f32]) -> Vec<f32> {
        match self {
            Surgery::Weights => c.iter().map(|c| eps * c).collect(),
            Surgery::Moments => vec![0.0; c.len()],
        }
    }

    /// A split unit's two offspring θ ± εδ (for moments, θ's moments twice).
    fn offspring(self, theta: Vec<f32>, eps: f32, delta: &[f32]) -> (Vec<f32>, Vec<f32>) {
        match self {
            Surgery::Weights => (
                theta.iter().zip(delta).map(|(t, d)| t + eps * d).collect(),
                theta.iter().zip(delta).map(|(t, d)| t - eps * d).collect(),
            ),
            Surgery::Moments => (theta.clone(), theta),
        }
    }

    /// Halves row `r` (a split unit's out-weights, shared with its clone); moments keep theirs.
    fn halve_row(self, matrix: &mut Matrix, r: usize) {
        if self == Surgery::Weights {
            matrix.scale_row(r, 0.5);
        }
    }
}

/// Applies a plan to a network: the one function that grows a network. Returns the grown network
/// and the lineage of its new units.
pub fn apply_plan(mlp: &Mlp, plan: &GrowthPlan) -> Result<(Mlp, Vec<Lineage>), EngineError> {
    apply_plan_with(mlp, plan, Surgery::Weights)
}

/// [`apply_plan`], or the same reshaping of optimiser moments.
pub fn apply_plan_with(
    mlp: &Mlp,
    plan: &GrowthPlan,
    mode: Surgery,
) -> Result<(Mlp, Vec<Lineage>), EngineError> {
    check_plan(mlp, plan)?;
    let mut out = mlp.clone();
    let mut lineage = Vec::new();
    let index = insert_layers(&mut out, mlp, &plan.new_layers, mode, &mut lineage);
    let mut widened = Widened::new(out.blocks.len());
    split_units(&mut out, plan, &index, mode, &mut widened, &mut lineage);
    add_units(&mut out, plan, &index, mode, &mut widened, &mut lineage);
    widen_streams(&mut out, &widened, mode);
    out.check_shapes()?;
    Ok((out, lineage))
}

/// What the fan-in side did to each block of the grown network, for the stream side: the parent
/// column of each clone, and each new dense unit's out-weights ε·c, in column order.
struct Widened {
    clones: Vec<Vec<usize>>,
    new_outs: Vec<Vec<Vec<f32>>>,
}

impl Widened {
    fn new(n_blocks: usize) -> Self {
        Widened {
            clones: vec![Vec::new(); n_blocks],
            new_outs: vec![Vec::new(); n_blocks],
        }
    }
}

/// Part 1: inserts each new residual layer after its block, on the old stream. Returns each old
/// block's index in the grown network.
fn insert_layers(
    out: &mut Mlp,
    mlp: &Mlp,
    new_layers: &[NewLayerChoice],
    mode: Surgery,
    lineage: &mut Vec<Lineage>,
) -> Vec<usize> {
    let mut layers: Vec<&NewLayerChoice> = new_layers.iter().collect();
    layers.sort_by_key(|l| l.after_block);
    for layer in layers.iter().rev() {
        let d = mlp.blocks[layer.after_block].d_out();
        let m = layer.units.len();
        let mut fan_in = Matrix::zeros(d, 0);
        let mut fan_out = Matrix::zeros(0, d);
        let mut bias = Vec::with_capacity(m);
        let mut ids = Vec::with_capacity(m);
        for unit in &layer.units {
            let w = mode.given(&unit.fan_in);
            fan_in.push_column(&w[..d]);
            bias.push(w[d]);
            fan_out.push_row(&mode.scaled(unit.eps, &unit.fan_out));
            ids.push(out.fresh_unit_id());
        }
        out.blocks.insert(
            layer.after_block + 1,
            Block {
                kind: BlockKind::Residual,
                fan_in,
                bias,
                fan_out: Some(fan_out),
                unit_ids: ids,
            },
        );
    }
    let index: Vec<usize> = (0..mlp.blocks.len())
        .map(|b| b + layers.iter().filter(|l| l.after_block < b).count())
        .collect();
    for layer in &layers {
        let nb = index[layer.after_block] + 1;
        lineage.extend(out.blocks[nb].unit_ids.iter().map(|&id| Lineage {
            child: id,
            parent: None,
            kind: CandidateKind::Layer,
            block: nb,
        }));
    }
    index
}

/// Part 2: each split unit becomes θ + εδ, and its clone θ − εδ is appended to the block (a
/// one-sided split, [`super::SplitChoice::keep_parent`], keeps the unit and appends θ + εδ); a
/// residual unit's fan-out row is halved and shared with the clone.
fn split_units(
    out: &mut Mlp,
    plan: &GrowthPlan,
    index: &[usize],
    mode: Surgery,
    widened: &mut Widened,
    lineage: &mut Vec<Lineage>,
) {
    for s in &plan.splits {
        let nb = index[s.block];
        let parent_id = out.blocks[nb].unit_ids[s.unit];
        let clone_id = out.fresh_unit_id();
        let block = &mut out.blocks[nb];
        let d = block.d_in();
        let (plus, minus) = mode.offspring(block.theta(s.unit), s.eps, &s.delta);
        // A one-sided split leaves the unit as it is and appends θ + εδ.
        let clone = if s.keep_parent {
            plus
        } else {
            for (r, v) in plus[..d].iter().enumerate() {
                block.fan_in.set(r, s.unit, *v);
            }
            block.bias[s.unit] = plus[d];
            minus
        };
        block.fan_in.push_column(&clone[..d]);
        block.bias.push(clone[d]);
        block.unit_ids.push(clone_id);
        if let Some(fan_out) = &mut block.fan_out {
            mode.halve_row(fan_out, s.unit);
            let row = fan_out.row(s.unit).to_vec();
            fan_out.push_row(&row);
        }
        widened.clones[nb].push(s.unit);
        lineage.push(Lineage {
            child: clone_id,
            parent: Some(parent_id),
            kind: CandidateKind::Split,
            block: nb,
        });
    }
}

/// Part 3: each new unit's fan-in column is appended to its block; a residual unit's fan-out
/// row ε·c goes in now, a dense unit's waits for [`widen_streams`].
fn add_units(
    out: &mut Mlp,
    plan: &GrowthPlan,
    index: &[usize],
    mode: Surgery,
    widened: &mut Widened,
    lineage: &mut Vec<Lineage>,
) {
    for u in &plan.new_units {
        let nb = index[u.block];
        let id = out.fresh_unit_id();
        let block = &mut out.blocks[nb];
        let d = block.d_in();
        let w = mode.given(&u.fan_in);
        block.fan_in.push_column(&w[..d]);
        block.bias.push(w[d]);
        block.unit_ids.push(id);
        let c = mode.scaled(u.eps, &u.fan_out);
        match &mut block.fan_out {
            Some(fan_out) => fan_out.push_row(&c),
            None => widened.new_outs[nb].push(c),
        }
        lineage.push(Lineage {
            child: id,
            parent: None,
            kind: CandidateKind::New,
            block: nb,
        });
    }
}

/// Part 4: for each dense block that gained units, the residual blocks on its stream and its
/// consumer (the next dense block, or the output layer) read the new units.
fn widen_streams(out: &mut Mlp, widened: &Widened, mode: Surgery) {
    let n = out.blocks.len();
    for g in 0..n {
        let (clones, new_outs) = (&widened.clones[g], &widened.new_outs[g]);
        if out.blocks[g].kind != BlockKind::Dense || (clones.is_empty() && new_outs.is_empty()) {
            continue;
        }
        let mut b = g + 1;
        while b < n && out.blocks[b].kind == BlockKind::Residual {
            widen_residual(&mut out.blocks[b], clones, new_outs.len(), mode);
            b += 1;
        }
        // The consumer's own clones and new units (a dense block's new units all wait in
        // `new_outs`), whose entries extend the new units' rows ε·c.
        let (consumer_clones, consumer_new): (&[usize], usize) = if b < n {
            (&widened.clones[b], widened.new_outs[b].len())
        } else {
            (&[], 0)
        };
        let matrix = if b < n {
            &mut out.blocks[b].fan_in
        } else {
            &mut out.out_weight
        };
        for &parent in clones {
            mode.halve_row(matrix, parent);
            let row = matrix.row(parent).to_vec();
            matrix.push_row(&row);
        }
        for c in new_outs {
            let mut row = c.clone();
            row.extend(consumer_clones.iter().map(|&p| c[p]));
            row.extend(std::iter::repeat_n(0.0, consumer_new));
            matrix.push_row(&row);
        }
    }
}

/// A residual block on a widened stream: a split unit's row of its fan-in is halved and copied
/// (both offspring feed it), its fan-out column copied; new units get zero rows and columns.
fn widen_residual(block: &mut Block, clones: &[usize], n_new: usize, mode: Surgery) {
    for &parent in clones {
        mode.halve_row(&mut block.fan_in, parent);
        let row = block.fan_in.row(parent).to_vec();
        block.fan_in.push_row(&row);
        if let Some(fan_out) = &mut block.fan_out {
            let col = fan_out.column(parent);
            fan_out.push_column(&col);
        }
    }
    for _ in 0..n_new {
        let cols = block.fan_in.cols;
        block.fan_in.push_row(&vec![0.0; cols]);
        if let Some(fan_out) = &mut block.fan_out {
            let rows = fan_out.rows;
            fan_out.push_column(&vec![0.0; rows]);
        }
    }
}

fn invalid(message: String) -> EngineError {
    EngineError::Internal(format!("invalid growth plan: {message}"))
}

/// Checks that a plan fits the network it is applied to: blocks and units exist, no unit splits
/// twice, every vector has its block's length, new layers have units and distinct positions.
fn check_plan(mlp: &Mlp, plan: &GrowthPlan) -> Result<(), EngineError> {
    let n_blocks = mlp.blocks.len();
    let mut seen = Vec::new();
    for s in &plan.splits {
        let block = mlp
            .blocks
            .get(s.block)
            .ok_or_else(|| invalid(format!("split names block {}", s.block)))?;
        if s.unit >= block.n_units() {
            return Err(invalid(format!(
                "split names unit {} of block {}",
                s.unit, s.block
            )));
        }
        if s.delta.len() != block.d_in() + 1 {
            return Err(invalid("split direction has the wrong length".into()));
        }
        if seen.contains(&(s.block, s.unit)) {
            return Err(invalid(format!(
                "unit {} of block {} split twice",
                s.unit, s.block
            )));
        }
        seen.push((s.block, s.unit));
    }
    for u in &plan.new_units {
        if u.block >= n_blocks {
            return Err(invalid(format!("new unit names block {}", u.block)));
        }
        if u.fan_in.len() != mlp.blocks[u.block].d_in() + 1
            || u.fan_out.len() != mlp.consumer_width(u.block)
        {
            return Err(invalid("new unit weights have the wrong length".into()));
        }
    }
    let mut positions = Vec::new();
    for l in &plan.new_layers {
        if l.after_block >= n_blocks || l.units.is_empty() || positions.contains(&l.after_block) {
            return Err(invalid(format!(
                "bad new layer after block {}",
                l.after_block
            )));
        }
        positions.push(l.after_block);
        let d = mlp.blocks[l.after_block].d_out();
        if l.units
            .iter()
            .any(|u| u.fan_in.len() != d + 1 || u.fan_out.len() != d)
        {
            return Err(invalid("new layer weights have the wrong length".into()));
        }
    }
    Ok(())
}
