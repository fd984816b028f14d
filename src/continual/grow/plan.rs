//! The choice of a growth phase: the plan from the scores (or at random), and its application to
//! the network (copies and new units owned by the task, heads updated).

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{Candidates, CopyMode};
use crate::continual::net::{ContinualNet, UnitOrigin};
use crate::error::EngineError;
use crate::grow::select_top;
use crate::model::UnitId;

/// A candidate as the scores and the diagram name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum CandidateRef {
    /// Unlocked copy of `unit`, at `position` in the task's mask.
    Copy {
        /// The frozen unit.
        unit: UnitId,
        /// Its mask position.
        position: usize,
    },
    /// New-unit candidate number `index`.
    New {
        /// Index among the phase's new-unit candidates.
        index: usize,
    },
}

/// One candidate's score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoredCandidate {
    /// Which candidate.
    pub candidate: CandidateRef,
    /// Predicted loss change ε̂·s (0 for random growth, which does not score).
    pub score: f32,
    /// Whether it was kept.
    pub chosen: bool,
}

/// A chosen copy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CopyChoice {
    /// Mask position of the frozen unit (in the mask the plan was made for).
    pub position: usize,
    /// The frozen unit.
    pub unit: UnitId,
    /// ε̂.
    pub eps: f32,
    /// δ̂, length `n_inputs + 1`.
    pub delta: Vec<f32>,
    /// Predicted loss change.
    pub score: f32,
}

/// A chosen new unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewChoice {
    /// ε̂.
    pub eps: f32,
    /// S·w over [fan-in; bias]: the unit's θ.
    pub fan_in: Vec<f32>,
    /// c, one per class.
    pub fan_out: Vec<f32>,
    /// Predicted loss change.
    pub score: f32,
}

/// What a growth phase decided for task `task`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContinualPlan {
    /// The task that grows.
    pub task: usize,
    /// How the copies join the task (plans written before this field existed replaced).
    #[serde(default = "CopyMode::before_the_field")]
    pub copy_mode: CopyMode,
    /// Unlocked copies.
    pub copies: Vec<CopyChoice>,
    /// New units.
    pub new_units: Vec<NewChoice>,
}

impl ContinualPlan {
    /// Units the plan adds.
    pub fn n_added(&self) -> usize {
        self.copies.len() + self.new_units.len()
    }

    /// Σ of the chosen scores.
    pub fn predicted_change(&self) -> f32 {
        self.copies.iter().map(|c| c.score).sum::<f32>()
            + self.new_units.iter().map(|n| n.score).sum::<f32>()
    }
}

/// Turns chosen candidate indices (copies first, then new units) into a plan.
fn plan_of(candidates: &Candidates, chosen: &[usize], scores: &[f32]) -> ContinualPlan {
    let n_copies = candidates.copies.len();
    let mut plan = ContinualPlan {
        task: candidates.task,
        copy_mode: candidates.copy_mode,
        ..ContinualPlan::default()
    };
    for &i in chosen {
        let score = scores.get(i).copied().unwrap_or(0.0);
        if i < n_copies {
            let c = &candidates.copies[i];
            plan.copies.push(CopyChoice {
                position: c.position,
                unit: c.unit,
                eps: c.eps,
                delta: c.delta.clone(),
                score,
            });
        } else if let Some(n) = candidates.new_units.get(i - n_copies) {
            plan.new_units.push(NewChoice {
                eps: n.eps,
                fan_in: n
                    .fan_in
                    .iter()
                    .map(|w| candidates.fan_in_scale * w)
                    .collect(),
                fan_out: n.fan_out.clone(),
                score,
            });
        }
    }
    plan
}

fn refs(candidates: &Candidates) -> Vec<CandidateRef> {
    candidates
        .copies
        .iter()
        .map(|c| CandidateRef::Copy {
            unit: c.unit,
            position: c.position,
        })
        .chain((0..candidates.new_units.len()).map(|index| CandidateRef::New { index }))
        .collect()
}

/// Ranks candidates by score and keeps at most `budget` (the most negative, never one ≥ 0):
/// the plan and every candidate's score, chosen ones marked.
pub fn select(
    candidates: &Candidates,
    scores: &[f32],
    budget: usize,
) -> (ContinualPlan, Vec<ScoredCandidate>) {
    let keyed: Vec<(f32, usize)> = scores.iter().copied().zip(0..).collect();
    let chosen = select_top(&keyed, budget, 0, |_| None);
    let plan = plan_of(candidates, &chosen, scores);
    let scored = refs(candidates)
        .into_iter()
        .enumerate()
        .map(|(i, candidate)| ScoredCandidate {
            candidate,
            score: scores.get(i).copied().unwrap_or(0.0),
            chosen: chosen.contains(&i),
        })
        .collect();
    (plan, scored)
}

/// Random growth with the same budget: `budget` candidates drawn uniformly without replacement
/// from the same pool Firefly starts from, each at ε = ε_max (no Step 1, no scores).
pub fn random_plan(
    candidates: &Candidates,
    budget: usize,
    eps_max: f32,
    rng: &mut ChaCha8Rng,
) -> (ContinualPlan, Vec<ScoredCandidate>) {
    let n = candidates.len();
    let mut chosen: Vec<usize> = (0..n).collect();
    chosen.shuffle(rng);
    chosen.truncate(budget);
    let mut at_bound = candidates.clone();
    for c in &mut at_bound.copies {
        c.eps = eps_max;
    }
    for c in &mut at_bound.new_units {
        c.eps = eps_max;
    }
    let plan = plan_of(&at_bound, &chosen, &[]);
    let scored = refs(candidates)
        .into_iter()
        .enumerate()
        .map(|(i, candidate)| ScoredCandidate {
            candidate,
            score: 0.0,
            chosen: chosen.contains(&i),
        })
        .collect();
    (plan, scored)
}

/// How a unit appeared in a growth phase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Added {
    /// The new unit.
    pub unit: UnitId,
    /// Its origin (new, or a copy of which unit).
    pub origin: UnitOrigin,
}

/// Materialises a plan on task `plan.task`: chosen copies become trainable units θ + ε̂δ̂ owned by
/// the task, appended to its mask with half their original's head row while the original keeps
/// the other half ([`CopyMode::Add`]), or in their original's place with its whole row
/// ([`CopyMode::Replace`]); chosen new units get fan-in w and a head row ε̂·c appended. Other
/// tasks' masks and heads are untouched.
pub fn apply_plan(net: &mut ContinualNet, plan: &ContinualPlan) -> Result<Vec<Added>, EngineError> {
    let task = plan.task;
    let p = net.n_inputs + 1;
    let head = net.head(task)?;
    if head.frozen {
        return Err(EngineError::Internal(format!("task {task} is frozen")));
    }
    let k = head.n_classes();
    for (i, c) in plan.copies.iter().enumerate() {
        if head.units.get(c.position) != Some(&c.unit)
            || c.delta.len() != p
            || plan.copies[..i].iter().any(|o| o.position == c.position)
        {
            return Err(EngineError::Internal(
                "copy choice does not fit the mask".into(),
            ));
        }
    }
    if plan
        .new_units
        .iter()
        .any(|u| u.fan_in.len() != p || u.fan_out.len() != k)
    {
        return Err(EngineError::Internal("new unit has the wrong shape".into()));
    }
    let mut added = Vec::with_capacity(plan.n_added());
    for c in &plan.copies {
        let parent = net
            .unit(c.unit)
            .ok_or_else(|| EngineError::Internal("copy of a missing unit".into()))?;
        let theta = parent
            .theta
            .iter()
            .zip(&c.delta)
            .map(|(t, d)| t + c.eps * d)
            .collect();
        let origin = UnitOrigin::Copy { parent: c.unit };
        let id = net.add_unit(theta, task, origin);
        let head = &mut net.heads[task];
        match plan.copy_mode {
            CopyMode::Add => {
                let row = &mut head.weight.data[c.position * k..(c.position + 1) * k];
                for w in row.iter_mut() {
                    *w *= 0.5;
                }
                let half = row.to_vec();
                head.units.push(id);
                head.weight.push_row(&half);
            }
            CopyMode::Replace => head.units[c.position] = id,
        }
        added.push(Added { unit: id, origin });
    }
    for u in &plan.new_units {
        let id = net.add_unit(u.fan_in.clone(), task, UnitOrigin::New);
        let row: Vec<f32> = u.fan_out.iter().map(|c| u.eps * c).collect();
        let head = &mut net.heads[task];
        head.units.push(id);
        head.weight.push_row(&row);
        added.push(Added {
            unit: id,
            origin: UnitOrigin::New,
        });
    }
    Ok(added)
}
