//! The playground's words for the growth it shows: slow-motion explanations and candidate names
//! (numbered as the diagram numbers units and layers).

use crate::grow::{CandidateKind, CandidateScore, GrowthConfig, GrowthEvent, Method};
use crate::model::UnitId;

/// How the page names hidden layer `block` (counted from 0): `layer 2`, the number the diagram
/// prints above the layer's column (`chart::layout`) and the unit card gives.
fn layer_name(block: usize) -> String {
    format!("layer {}", block + 1)
}

/// How the page names a growth candidate, numbered as the diagram numbers units and layers.
///
/// With `grown` = `None` (a growth in progress) the names follow the network drawn now: split
/// candidates by their unit's number, new units and new layers by their layer's number and their
/// place among that layer's candidates. With the finished growth the names follow the grown
/// network the diagram then shows: layers renumbered after the new layers went in, and every
/// kept candidate with the unit number it has now (`split unit 3 → 3 and 9`,
/// `new unit in layer 2 (candidate 4) → unit 11`). A candidate's own index is never written as a
/// unit number, which the diagram keeps for real units. Where one layer kept several new units
/// their numbers are listed together: a score does not say which unit it became.
pub fn candidate_name(candidate: &CandidateScore, grown: Option<&GrowthEvent>) -> String {
    let c = candidate;
    let Some(event) = grown else {
        return name_before(c.kind, c.block, c.index, c.unit_id);
    };
    let mut new_layers: Vec<usize> = event
        .candidates
        .iter()
        .filter(|c| c.chosen && c.kind == CandidateKind::Layer)
        .map(|c| c.block)
        .collect();
    new_layers.sort_unstable();
    new_layers.dedup();
    // A block's index in the grown network: every new layer inserted before it shifts it.
    let block = c.block + new_layers.iter().filter(|&&a| a < c.block).count();
    let name = name_before(c.kind, block, c.index, c.unit_id);
    if !c.chosen {
        return name;
    }
    let children = |kind: CandidateKind, block: usize| -> Vec<UnitId> {
        event
            .lineage
            .iter()
            .filter(|l| l.kind == kind && l.block == block)
            .map(|l| l.child)
            .collect()
    };
    let became = |ids: Vec<UnitId>| match ids.as_slice() {
        [] => String::new(),
        [one] => format!(" → unit {one}"),
        many => {
            let list: Vec<String> = many.iter().map(UnitId::to_string).collect();
            format!(" → one of units {}", list.join(", "))
        }
    };
    match c.kind {
        CandidateKind::Split => {
            let twin = event
                .lineage
                .iter()
                .find(|l| l.kind == CandidateKind::Split && l.parent == c.unit_id)
                .map(|l| l.child);
            match (c.unit_id, twin) {
                (Some(id), Some(twin)) => format!("{name} → {id} and {twin}"),
                _ => name,
            }
        }
        CandidateKind::New => format!("{name}{}", became(children(c.kind, block))),
        CandidateKind::Layer => format!("{name}{}", became(children(c.kind, block + 1))),
    }
}

/// A candidate's name in the numbering of the network it was proposed for.
fn name_before(kind: CandidateKind, block: usize, index: usize, unit: Option<UnitId>) -> String {
    match (kind, unit) {
        (CandidateKind::Split, Some(id)) => format!("split unit {id}"),
        (CandidateKind::Split, None) => {
            format!(
                "split the unit at place {} of {}",
                index + 1,
                layer_name(block)
            )
        }
        (CandidateKind::New, _) => {
            format!(
                "new unit in {} (candidate {})",
                layer_name(block),
                index + 1
            )
        }
        (CandidateKind::Layer, _) => {
            format!(
                "new layer after {} (candidate {})",
                layer_name(block),
                index + 1
            )
        }
    }
}

/// What slow motion says when it stops at part `key` of a growth (1 propose, 2 optimise, 3 score,
/// 0 finished, with the growth event).
pub fn explanation(g: &GrowthConfig, key: u8, finished: Option<&GrowthEvent>) -> String {
    match key {
        1 => format!(
            "① Propose. The grower built an over-grown neighbour of the network (drawn faint): every hidden unit split into θ ± εδ with halved out-weights, and {} candidate new units per layer with out-weight ε{}. At ε = 0 it computes exactly the old function. Next: ② optimise ε and δ.",
            g.candidates,
            if g.method == Method::FireflyLayers {
                ", and a candidate residual layer after every layer"
            } else {
                ""
            }
        ),
        2 => format!(
            "② Optimise. {} steps of gradient descent moved ε and δ to lower the loss, projecting after every step: |ε| ≤ {} and ‖δ‖ ≤ 1. Next: ③ score every candidate.",
            g.step1_steps, g.eps_max
        ),
        3 => format!(
            "③ Score. Each candidate's effect on the loss was integrated from ε = 0 to its optimised ε ({} points), {}; the ranking is in \"Why these units\". Next: ④ select the best and ⑤ materialise them.",
            g.path_points,
            match g.score {
                crate::grow::ScorePath::Joint =>
                    "all candidates moving together (the scores add up to the loss change)",
                crate::grow::ScorePath::OwnAxis =>
                    "each along its own axis while the others stay at their optimised ε",
            }
        ),
        0 => match finished {
            Some(event) => {
                let mut ranked: Vec<_> = event.candidates.iter().collect();
                ranked.sort_by(|a, b| a.score.total_cmp(&b.score));
                let best: Vec<String> = ranked
                    .iter()
                    .take(3)
                    .map(|c| {
                        format!(
                            "{}{} {}",
                            if c.chosen { "✓ " } else { "" },
                            candidate_name(c, Some(event)),
                            crate::chart::signed(c.score)
                        )
                    })
                    .collect();
                format!(
                    "④ Select and ⑤ materialise. The {} most negative scores were kept and made real ({} → {}); the other candidates vanished. Best scores: {}. Press Play to train on.",
                    event.n_added(),
                    event.architecture_before,
                    event.architecture_after,
                    best.join(" · ")
                )
            }
            None => "Training.".into(),
        },
        _ => "Training.".into(),
    }
}
