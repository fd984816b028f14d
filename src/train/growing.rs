//! A growth phase inside a session: starting it (the loss before, the grower), its bounded
//! steps, materialising the plan (surgery on the network and, when carried, on the optimiser's
//! moments) and the loss after.

use super::*;

impl Session {
    /// Counts the time since `t` towards the proposal of the growth phase whose loss before is
    /// being evaluated (as [`Session::start_growth`] counts it when done at once).
    pub(super) fn time_growth(&mut self, t: Instant) {
        if matches!(self.evaluating, Some((_, Measure::Before)) | None)
            && let Some(growth) = &mut self.growth
        {
            growth.timings.propose_ms += t.elapsed().as_secs_f64() * 1e3;
        }
    }

    pub(super) async fn start_growth(&mut self) -> Result<(), EngineError> {
        let started = Instant::now();
        let mlp = match &self.fused {
            Some(fused) => {
                // Growth works on tensors: hand it the current weights (no read back needed).
                self.model = DeviceMlp::upload(&fused.mlp, &self.device);
                fused.mlp.clone()
            }
            None => self.model.download().await?,
        };
        // The loss before: its first run of rows now, the rest (on a large data set) over the
        // next units, as Propose.
        let loss_before = match &mut self.fused {
            Some(fused) => {
                let mut eval = FusedEval::new(false);
                if eval.step(fused) {
                    eval.train_loss(fused, &self.train_labels, self.data.task)
                } else {
                    self.evaluating = Some((eval, Measure::Before));
                    f32::NAN
                }
            }
            None => self.evaluate().await?.train_loss,
        };
        let grower = grower::start(
            GrowthInput {
                mlp: &mlp,
                params: self.model.params.clone(),
                inputs: self.train_inputs.clone(),
                targets: self.train_targets.clone(),
                config: &self.config.growth,
            },
            &mut self.rng,
        );
        let timings = GrowthTimings {
            propose_ms: started.elapsed().as_secs_f64() * 1e3,
            ..GrowthTimings::default()
        };
        self.growth = Some(Growth {
            mlp,
            loss_before,
            timings,
            grower,
        });
        Ok(())
    }

    /// Advances the growth phase by at most `budget` work; returns whether it finished.
    pub(super) async fn growth_work(
        &mut self,
        budget: usize,
        done: &mut Advance,
    ) -> Result<bool, EngineError> {
        let Some(growth) = self.growth.as_mut() else {
            return Ok(false);
        };
        let eta = self.config.growth.budget.units(growth.mlp.n_units()).min(
            self.config
                .train
                .max_units
                .saturating_sub(growth.mlp.n_units()),
        );
        let t = Instant::now();
        let (plan, candidates) = match growth.grower.step(budget) {
            Some((work, part)) => {
                done.work += work;
                growth.timings.add(part, t.elapsed().as_secs_f64() * 1e3);
                return Ok(false);
            }
            None => {
                let part = growth.grower.finish_part();
                let planned = growth.grower.finish(eta, &mut self.rng).await?;
                growth.timings.add(part, t.elapsed().as_secs_f64() * 1e3);
                planned
            }
        };
        done.work += 1;
        let Some(growth) = self.growth.take() else {
            return Ok(false);
        };
        self.materialise(growth, plan, candidates).await
    }

    pub(super) async fn materialise(
        &mut self,
        growth: Growth,
        plan: GrowthPlan,
        candidates: Vec<CandidateScore>,
    ) -> Result<bool, EngineError> {
        let t = Instant::now();
        let mut timings = growth.timings;
        let (grown, lineage) = apply_plan(&growth.mlp, &plan)?;
        let old_shape = growth.mlp.clone();
        self.model = DeviceMlp::upload(&grown, &self.device);
        if let Some(fused) = &mut self.fused {
            let carry = |moments: &Option<Mlp>| -> Result<Option<Mlp>, EngineError> {
                match moments {
                    Some(m) => Ok(Some(apply_plan_with(m, &plan, Surgery::Moments)?.0)),
                    None => Ok(None),
                }
            };
            fused.optimizer = match self.config.train.on_growth {
                OnGrowth::Reset => FusedOptimizer::new(self.config.train.optimizer),
                OnGrowth::Carry => FusedOptimizer {
                    rule: fused.optimizer.rule,
                    first: carry(&fused.optimizer.first)?,
                    second: carry(&fused.optimizer.second)?,
                },
            };
            fused.mlp = grown.clone();
        }
        self.optimizer = match self.config.train.on_growth {
            OnGrowth::Reset => Optimizer::new(self.config.train.optimizer, self.model.params.len()),
            OnGrowth::Carry => self.carried_optimizer(&old_shape, &plan).await?,
        };
        timings.surgery_ms = t.elapsed().as_secs_f64() * 1e3;
        let mut event = GrowthEvent {
            epoch: self.epoch,
            method: self.config.growth.method,
            architecture_before: growth.mlp.architecture(),
            architecture_after: grown.architecture(),
            units_before: growth.mlp.n_units(),
            units_after: grown.n_units(),
            candidates,
            predicted_change: plan.predicted_change(),
            plan,
            lineage,
            loss_before: growth.loss_before,
            loss_after: f32::NAN,
            timings,
        };
        // The old network's tensors and the growth phase's candidates are gone, and the grown
        // network's have new shapes: give their pages back, or a device's memory pool (WebGPU)
        // keeps every size it ever held and grows with each phase.
        drop(growth);
        // The loss after: its first run of rows now; on a large data set the growth is complete
        // once the rest is evaluated over the next units (as Materialise).
        event.loss_after = match &mut self.fused {
            Some(fused) => {
                let mut eval = FusedEval::new(false);
                if !eval.step(fused) {
                    self.evaluating = Some((eval, Measure::After(Box::new(event))));
                    return Ok(false);
                }
                eval.train_loss(fused, &self.train_labels, self.data.task)
            }
            None => self.evaluate().await?.train_loss,
        };
        self.finish_growth(event);
        Ok(true)
    }

    /// Keeps a complete growth's event; the schedule counts epochs from it.
    pub(super) fn finish_growth(&mut self, event: GrowthEvent) {
        self.history.growths.push(event);
        self.epochs_since_growth = 0;
        self.device.memory_cleanup();
    }

    /// Reshapes the optimiser's moments with the plan (parents' moments copied, new ones zero).
    pub(super) async fn carried_optimizer(
        &self,
        old: &Mlp,
        plan: &GrowthPlan,
    ) -> Result<Optimizer, EngineError> {
        let n_old = old.param_matrices().len();
        let mut next = Optimizer::new(self.config.train.optimizer, self.model.params.len());
        next.steps = self.optimizer.steps;
        let zeros = |m: &Matrix| Tensor::<2>::zeros([m.rows, m.cols], &self.device);
        let shapes = old.param_matrices();
        for moments in [&self.optimizer.first, &self.optimizer.second] {
            if moments.iter().all(Option::is_none) {
                continue;
            }
            let tensors: Vec<Tensor<2>> = (0..n_old)
                .map(|i| moments[i].clone().unwrap_or_else(|| zeros(&shapes[i])))
                .collect();
            let values = read_all(tensors).await?;
            let mut fused = old.clone();
            fused.set_param_values(&values)?;
            let (reshaped, _) = apply_plan_with(&fused, plan, Surgery::Moments)?;
            let uploaded = DeviceMlp::upload(&reshaped, &self.device).params;
            let target = if std::ptr::eq(moments, &self.optimizer.first) {
                &mut next.first
            } else {
                &mut next.second
            };
            *target = uploaded.into_iter().map(Some).collect();
        }
        Ok(next)
    }
}
