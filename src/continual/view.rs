//! A task's network as the engine's [`Mlp`], so that continual learning trains, grows and
//! evaluates on the engine's own code: the fused training step ([`crate::fused`], with
//! [`crate::fused::freeze`] keeping frozen units as they are), Firefly's grower
//! ([`crate::grow::grower`], whose candidates for frozen units are one-sided copies) and the one
//! surgery ([`crate::grow::apply_plan`]).
//!
//! Task t's view is one dense block whose units are t's mask, in mask order and with their
//! identities, whose output layer is t's head, and whose next unit identity is the continual
//! network's. What the engine changes comes back with [`ContinualNet::write_back`] (trained
//! values) and [`ContinualNet::take_grown`] (a grown view: new units, the mask, the head).

use super::net::{ContinualNet, UnitOrigin};
use crate::data::Task;
use crate::error::EngineError;
use crate::grow::Lineage;
use crate::model::{Block, BlockKind, Matrix, Mlp, UnitId};

/// Task `task`'s network as an engine network, and which of its units are frozen.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskView {
    /// The task.
    pub task: usize,
    /// One dense block (the task's mask) and the task's head as output layer.
    pub mlp: Mlp,
    /// The units of the mask that are frozen (other tasks' units, or all once the task ends).
    pub frozen: Vec<UnitId>,
}

/// How a unit appeared in a growth phase.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Added {
    /// The new unit.
    pub unit: UnitId,
    /// Its origin (new, or a copy of which unit).
    pub origin: UnitOrigin,
}

impl TaskView {
    /// The view without the unit at position `j` (its fan-in column, bias and head row).
    pub fn without(&self, j: usize) -> TaskView {
        let mut out = self.clone();
        let block = &mut out.mlp.blocks[0];
        let d = block.d_in();
        let kept: Vec<usize> = (0..block.n_units()).filter(|&i| i != j).collect();
        let mut fan_in = Matrix::zeros(d, 0);
        let mut head = Matrix::zeros(0, out.mlp.out_weight.cols);
        for &i in &kept {
            fan_in.push_column(&block.fan_in.column(i));
            head.push_row(self.mlp.out_weight.row(i));
        }
        block.fan_in = fan_in;
        block.bias = kept.iter().map(|&i| block.bias[i]).collect();
        block.unit_ids = kept.iter().map(|&i| block.unit_ids[i]).collect();
        out.mlp.out_weight = head;
        let id = self.mlp.blocks[0].unit_ids[j];
        out.frozen.retain(|u| *u != id);
        out
    }

    /// The task's binary mask over its old (frozen) units, chosen greedily: the old unit whose
    /// removal raises `loss` least leaves the view, again and again, while the loss stays within
    /// `tolerance` of the loss with every old unit. Units the task trains always stay, and so
    /// does one unit at least. Returns
    /// the view with the units kept and the units dropped, in the order they left.
    pub fn select_old_units(
        &self,
        tolerance: f32,
        loss: impl Fn(&Mlp) -> f32,
    ) -> (TaskView, Vec<UnitId>) {
        let mut view = self.clone();
        let mut dropped = Vec::new();
        if tolerance <= 0.0 {
            return (view, dropped);
        }
        let limit = loss(&self.mlp) + tolerance;
        loop {
            let ids = &view.mlp.blocks[0].unit_ids;
            if ids.len() <= 1 {
                break; // a mask keeps at least one unit
            }
            let best = (0..ids.len())
                .filter(|&j| view.frozen.contains(&ids[j]))
                .map(|j| (loss(&view.without(j).mlp), j))
                .min_by(|a, b| a.0.total_cmp(&b.0));
            match best {
                Some((l, j)) if l <= limit => {
                    dropped.push(ids[j]);
                    view = view.without(j);
                }
                _ => break,
            }
        }
        (view, dropped)
    }
}

fn internal(message: impl Into<String>) -> EngineError {
    EngineError::Internal(message.into())
}

impl ContinualNet {
    /// Task `task`'s [`TaskView`].
    pub fn view(&self, task: usize) -> Result<TaskView, EngineError> {
        let head = self.head(task)?;
        let idx = self.mask_indices(task)?;
        let d = self.n_inputs;
        let mut fan_in = Matrix::zeros(d, idx.len());
        let mut bias = Vec::with_capacity(idx.len());
        for (j, &u) in idx.iter().enumerate() {
            let theta = &self.units[u].theta;
            for (r, w) in theta[..d].iter().enumerate() {
                fan_in.set(r, j, *w);
            }
            bias.push(theta[d]);
        }
        let frozen = idx
            .iter()
            .filter(|&&u| self.units[u].frozen)
            .map(|&u| self.units[u].id)
            .collect();
        let mlp = Mlp {
            activation: self.activation,
            task: Task::Classification {
                n_classes: head.n_classes(),
            },
            n_inputs: d,
            blocks: vec![Block {
                kind: BlockKind::Dense,
                fan_in,
                bias,
                fan_out: None,
                unit_ids: head.units.clone(),
            }],
            out_weight: head.weight.clone(),
            out_bias: head.bias.clone(),
            next_unit_id: self.next_unit_id,
        };
        mlp.check_shapes()?;
        Ok(TaskView { task, mlp, frozen })
    }

    /// Writes a view's trained values back: θ of its units that are not frozen, and the head
    /// unless it is frozen. The view must have the mask's units (see [`Self::take_grown`]).
    pub fn write_back(&mut self, view: &TaskView) -> Result<(), EngineError> {
        let block = view
            .mlp
            .blocks
            .first()
            .ok_or_else(|| internal("empty task view"))?;
        if self.head(view.task)?.units != block.unit_ids {
            return Err(internal("the task view does not match the task's mask"));
        }
        for (j, id) in block.unit_ids.iter().enumerate() {
            let u = self
                .index_of(*id)
                .ok_or_else(|| internal("view of a missing unit"))?;
            if !self.units[u].frozen {
                self.units[u].theta = block.theta(j);
            }
        }
        let head = &mut self.heads[view.task];
        if !head.frozen {
            head.weight = view.mlp.out_weight.clone();
            head.bias = view.mlp.out_bias.clone();
        }
        Ok(())
    }

    /// Takes in a view grown by the engine's surgery: its units the network does not have yet
    /// become the task's (a copy of its parent when `lineage` names a frozen parent, otherwise
    /// new), its mask and head become the task's, and its other units' trained values are
    /// written back. Frozen units and other tasks are untouched (the surgery keeps a frozen
    /// unit's column when it copies it). Returns the units added, in the view's order.
    pub fn take_grown(
        &mut self,
        grown: &TaskView,
        lineage: &[Lineage],
    ) -> Result<Vec<Added>, EngineError> {
        let block = grown
            .mlp
            .blocks
            .first()
            .ok_or_else(|| internal("empty task view"))?;
        if grown.mlp.blocks.len() != 1 || self.head(grown.task)?.frozen {
            return Err(internal(
                "a grown view must be one block of a task in training",
            ));
        }
        let mut added = Vec::new();
        for (j, id) in block.unit_ids.iter().enumerate() {
            if self.index_of(*id).is_some() {
                continue;
            }
            let parent = lineage
                .iter()
                .find(|l| l.child == *id)
                .and_then(|l| l.parent);
            let origin = match parent {
                Some(parent) if self.unit(parent).is_some_and(|p| p.frozen) => {
                    UnitOrigin::Copy { parent }
                }
                _ => UnitOrigin::New,
            };
            if *id < self.next_unit_id {
                return Err(internal(format!("grown unit {id} reuses an identity")));
            }
            self.next_unit_id = *id + 1;
            self.units.push(super::net::Unit {
                id: *id,
                theta: block.theta(j),
                owner: grown.task,
                origin,
                frozen: false,
            });
            added.push(Added { unit: *id, origin });
        }
        self.next_unit_id = self.next_unit_id.max(grown.mlp.next_unit_id);
        self.heads[grown.task].units = block.unit_ids.clone();
        self.write_back(grown)?;
        Ok(added)
    }
}
