//! The `data-*` attributes of `#app` the view writes each frame: the page's state for tests,
//! host pages and people reading the DOM.

use super::*;

impl View {
    pub(super) fn write_state(&mut self, p: &Playground) {
        let root = &self.ui.root;
        let state = p.state();
        set_attr(root, "data-state", state.name());
        set_attr(root, "data-backend", self.backend.name());
        set_attr(root, "data-epoch", &p.main().epoch().to_string());
        set_attr(
            root,
            "data-baseline-epoch",
            &p.baseline().epoch().to_string(),
        );
        set_attr(root, "data-units", &p.main().n_units().to_string());
        set_attr(
            root,
            "data-baseline-units",
            &p.baseline().n_units().to_string(),
        );
        set_attr(
            root,
            "data-growths",
            &p.main().history().growths.len().to_string(),
        );
        set_attr(
            root,
            "data-baseline-growths",
            &p.baseline().history().growths.len().to_string(),
        );
        set_attr(
            root,
            "data-lineage",
            &p.main().history().n_lineage().to_string(),
        );
        let loss = |s: &Session| {
            s.history()
                .epochs
                .last()
                .map_or(String::new(), |r| r.train_loss.to_string())
        };
        set_attr(root, "data-loss", &loss(p.main()));
        set_attr(root, "data-baseline-loss", &loss(p.baseline()));
        // Under each map: that run's test and training loss, in significant digits, and both
        // in full on the element.
        for (line, s) in [
            (&self.ui.main_loss, p.main()),
            (&self.ui.baseline_loss, p.baseline()),
        ] {
            let last = s.history().epochs.last();
            set_text(
                line,
                &chart::loss_line(last.map(|r| (r.test_loss, r.train_loss))),
            );
            let full = |f: fn(&crate::train::EpochRecord) -> f32| {
                last.map_or(String::new(), |r| f(r).to_string())
            };
            set_attr(line, "data-test-loss", &full(|r| r.test_loss));
            set_attr(line, "data-train-loss", &full(|r| r.train_loss));
        }
        // Controls that stand for something else now (the Points slider on the person's data).
        let held = p.held();
        if held != self.held_shown {
            controls::write(p.options(), &held);
            self.held_shown = held;
        }
        set_attr(root, "data-settings", &p.settings_hash());
        set_attr(root, "data-points", &p.data().len().to_string());
        // The person's own points: no generated data set is the one shown.
        set_attr(
            root,
            "data-custom-data",
            if p.custom_data() { "1" } else { "0" },
        );
        set_attr(root, "data-seeds", &p.options().seeds.to_string());
        set_attr(root, "data-slowest-epoch", &p.slowest_epoch().to_string());
        set_attr(root, "data-steps", &p.steps_trained().to_string());
        set_attr(
            root,
            "data-seed-epochs-stacked",
            &p.seed_epochs_stacked().to_string(),
        );
        if self.first_epoch_ms.is_none() && p.main().epoch() >= 1 {
            let at = now();
            self.first_epoch_ms = Some(at);
            set_attr(root, "data-first-epoch-ms", &format!("{at:.0}"));
        }
        if let Some(g) = p.main().history().growths.first() {
            // The first growth's decisions, for checking that a link reproduces them.
            let chosen: Vec<String> = g
                .candidates
                .iter()
                .filter(|c| c.chosen)
                .map(|c| format!("{:?} {}:{} {:e}", c.kind, c.block, c.index, c.score))
                .collect();
            set_attr(
                root,
                "data-first-growth",
                &format!(
                    "{} → {}: {}",
                    g.architecture_before,
                    g.architecture_after,
                    chosen.join(", ")
                ),
            );
        } else {
            set_attr(root, "data-first-growth", "");
        }
        if let Some(g) = p.main().history().growths.last() {
            let t = &g.timings;
            set_attr(
                root,
                "data-growth-timings",
                &format!(
                    "{{\"propose\":{:.2},\"step1\":{:.2},\"step2\":{:.2},\"surgery\":{:.2}}}",
                    t.propose_ms, t.step1_ms, t.step2_ms, t.surgery_ms
                ),
            );
        }
        super::notices::render(root, &self.ui.notices, p.notices(), &mut self.notices_shown);
        match p.explanation() {
            Some(text) => {
                set_text(&self.ui.explain, text);
                set_hidden(&self.ui.explain, false);
            }
            None => set_hidden(&self.ui.explain, true),
        }
        set_text(&self.ui.epoch, &p.main().epoch().to_string());
        let stage = |s: &Session| match s.stage() {
            Stage::Training => None,
            Stage::Growing(GrowthStage::Propose) => Some("proposing candidates".to_string()),
            Stage::Growing(GrowthStage::Optimise { done, total }) => {
                Some(format!("optimising ε, δ {done}/{total}"))
            }
            Stage::Growing(GrowthStage::Score { done, total }) => {
                Some(format!("scoring {done}/{total}"))
            }
            Stage::Growing(GrowthStage::Materialise) => Some("materialising".into()),
        };
        let progress = match (stage(p.main()), stage(p.baseline())) {
            (Some(m), _) => format!("growing: {m}"),
            (None, Some(b)) => format!("baseline growing: {b}"),
            (None, None) => String::new(),
        };
        set_text(&self.ui.progress, &progress);
        let playing = state == crate::playground::RunState::Running;
        set_text(&self.ui.play, if playing { "Pause" } else { "Play" });
        set_attr(
            &self.ui.play,
            "aria-label",
            if playing { "Pause" } else { "Play" },
        );
        set_text(&self.ui.badge, self.backend.label());
        set_attr(
            &self.ui.badge,
            "class",
            &format!("badge {}", self.backend.name()),
        );
    }
}
