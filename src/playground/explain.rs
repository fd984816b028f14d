//! The playground's words for the growth it shows: slow-motion explanations and candidate names
//! (whose unit numbers match the ones drawn in the diagram).

use crate::grow::{CandidateKind, GrowthConfig, GrowthEvent, Method};

/// How the page names a candidate: the unit numbers match the ones drawn in the diagram.
pub fn candidate_name(
    kind: CandidateKind,
    block: usize,
    index: usize,
    unit: Option<crate::model::UnitId>,
) -> String {
    match (kind, unit) {
        (CandidateKind::Split, Some(id)) => format!("split unit {id}"),
        (CandidateKind::Split, None) => format!("split layer {} unit {}", block + 1, index + 1),
        (CandidateKind::New, _) => format!("new unit {} in layer {}", index + 1, block + 1),
        (CandidateKind::Layer, _) => {
            format!("new layer after {}, unit {}", block + 1, index + 1)
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
                            "{}{} {:+.4}",
                            if c.chosen { "✓ " } else { "" },
                            candidate_name(c.kind, c.block, c.index, c.unit_id),
                            c.score
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
