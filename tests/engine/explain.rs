//! Candidate names: the "why these units" panel numbers units and layers as the diagram does,
//! before a growth (the network drawn while it runs) and after it (the grown network).

use firefly_playground::grow::{
    CandidateKind, CandidateScore, GrowthEvent, GrowthPlan, GrowthTimings, Lineage, Method,
};
use firefly_playground::playground::candidate_name;

fn candidate(
    kind: CandidateKind,
    block: usize,
    index: usize,
    unit_id: Option<u64>,
    chosen: bool,
) -> CandidateScore {
    CandidateScore {
        kind,
        block,
        index,
        unit_id,
        score: -0.01,
        chosen,
    }
}

fn born(child: u64, parent: Option<u64>, kind: CandidateKind, block: usize) -> Lineage {
    Lineage {
        child,
        parent,
        kind,
        block,
    }
}

/// A growth of `2-3-2-2` (units 0–2 in layer 1, 3–4 in layer 2) that split unit 3, added one
/// new unit to layer 2 and a new layer after layer 1: `2-3-1r-3-2`, the old layer 2 now
/// layer 3.
fn growth() -> GrowthEvent {
    use CandidateKind::{Layer, New, Split};
    GrowthEvent {
        epoch: 20,
        method: Method::FireflyLayers,
        architecture_before: "2-3-2-2".into(),
        architecture_after: "2-3-1r-4-2".into(),
        units_before: 5,
        units_after: 8,
        candidates: vec![
            candidate(Split, 1, 0, Some(3), true),
            candidate(Split, 0, 0, Some(0), false),
            candidate(New, 1, 4, None, true),
            candidate(New, 1, 0, None, false),
            candidate(Layer, 0, 1, None, true),
            candidate(New, 0, 2, None, false),
        ],
        plan: GrowthPlan::default(),
        lineage: vec![
            born(7, None, Layer, 1),
            born(8, Some(3), Split, 2),
            born(9, None, New, 2),
        ],
        loss_before: 0.5,
        loss_after: 0.4,
        predicted_change: -0.1,
        timings: GrowthTimings::default(),
    }
}

#[test]
fn after_a_growth_names_follow_the_grown_network_in_the_diagram() {
    let event = growth();
    let names: Vec<String> = event
        .candidates
        .iter()
        .map(|c| candidate_name(c, Some(&event)))
        .collect();
    assert_eq!(
        names,
        [
            "split unit 3 → 3 and 8",
            "split unit 0",
            "new unit in layer 3 (candidate 5) → unit 9",
            "new unit in layer 3 (candidate 1)",
            "new layer after layer 1 (candidate 2) → unit 7",
            "new unit in layer 1 (candidate 3)",
        ]
    );
}

#[test]
fn during_a_growth_names_follow_the_network_drawn_now() {
    let event = growth();
    let names: Vec<String> = event
        .candidates
        .iter()
        .map(|c| candidate_name(c, None))
        .collect();
    assert_eq!(names[0], "split unit 3");
    assert_eq!(names[2], "new unit in layer 2 (candidate 5)");
    assert_eq!(names[4], "new layer after layer 1 (candidate 2)");
}

#[test]
fn several_new_units_in_one_layer_are_listed_together() {
    let mut event = growth();
    event.candidates[3].chosen = true;
    event.lineage.push(born(10, None, CandidateKind::New, 2));
    assert_eq!(
        candidate_name(&event.candidates[3], Some(&event)),
        "new unit in layer 3 (candidate 1) → one of units 9, 10"
    );
}
