//! A growth phase inside a session: starting it (the loss before, the grower), its bounded
//! steps, materialising the plan (surgery on the network and, when carried, on the optimiser's
//! moments) and the loss after.

use super::*;
use crate::model::{Targets, inputs_tensor, is_cpu};

/// The width from which a Firefly growth phase ran faster on a GPU than on the CPU: on an NVIDIA
/// H200 against its 16-core host, 216 ms on the CPU against 452 ms at width 16, and the GPU
/// 2.2× faster at 128 (README "Where each part runs, and why").
pub const CPU_GROWTH_BELOW: usize = 128;

/// Where a session's growth phases run ([`Session::grow_on`]). Training stays on the session's
/// device; a phase grown elsewhere takes the network there as tensors with the training rows,
/// and the plan (host data) comes back to the one surgery.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GrowOn {
    /// On the session's device (what a session does unless told otherwise).
    Device,
    /// On the CPU (burn's Flex backend).
    Cpu,
    /// On the CPU while the widest hidden layer is under [`CPU_GROWTH_BELOW`] units, where a
    /// phase is faster there, else on the session's device. The command line's default.
    #[default]
    Auto,
}

impl GrowOn {
    /// Whether a phase of a network whose widest hidden layer has `widest` units moves to the
    /// CPU from the session's device (never when that device is the CPU).
    pub fn moves_to_cpu(self, widest: usize, device_is_cpu: bool) -> bool {
        !device_is_cpu
            && match self {
                GrowOn::Device => false,
                GrowOn::Cpu => true,
                GrowOn::Auto => widest < CPU_GROWTH_BELOW,
            }
    }
}

impl Session {
    /// Where the next growth phases run (the default: the session's device).
    pub fn grow_on(&mut self, grow_on: GrowOn) {
        self.grow_on = grow_on;
    }

    /// Whether the next growth phase runs on the CPU: the session's device is the CPU, or
    /// [`GrowOn`] moves the phase there.
    pub fn grows_on_cpu(&self) -> bool {
        is_cpu(&self.device) || self.moves_to_cpu()
    }

    fn moves_to_cpu(&self) -> bool {
        (self.grow_on).moves_to_cpu(self.shape().widest_layer(), is_cpu(&self.device))
    }

    /// Counts the time since `t` towards the proposal of the growth phase whose loss before is
    /// being evaluated (as [`Session::start_growth`] counts it when done at once).
    pub(super) fn time_growth(&mut self, t: Instant) {
        if matches!(self.evaluating, Some(Measure::Before) | None)
            && let Some(growth) = &mut self.growth
        {
            growth.timings.propose_ms += t.elapsed().as_secs_f64() * 1e3;
        }
    }

    pub(super) async fn start_growth(&mut self) -> Result<(), EngineError> {
        let started = Instant::now();
        let (mlp, params) = self.path.for_growth(&self.rows).await?;
        // The loss before: now, or (on a large data set) over the next units, as Propose.
        let loss_before = self.train_loss_or_begin(Measure::Before).await?;
        let rows = (
            self.rows.train_inputs.clone(),
            self.rows.train_targets.clone(),
        );
        let mut input = GrowthInput::new(&mlp, params, rows, &self.config.growth);
        if self.moves_to_cpu() {
            let (cpu, rows) = (Device::flex(), &self.rows);
            let inputs = inputs_tensor(&rows.train_x, rows.features.len(), &cpu);
            input = input.moved((inputs, Targets::new(&rows.train_labels, rows.task, &cpu)));
        }
        let grower = grower::start(input, &mut self.rng);
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
        let carry = (self.config.train.on_growth == OnGrowth::Carry).then_some(&plan);
        self.path.grown(&growth.mlp, &grown, carry).await?;
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
        // The loss after: now, or (on a large data set) the growth is complete once it is
        // evaluated over the next units (as Materialise).
        if !self.path.evaluation_fits(&self.rows, false) {
            self.path.begin_evaluation(false);
            self.evaluating = Some(Measure::After(Box::new(event)));
            return Ok(false);
        }
        event.loss_after = self.evaluate().await?.train_loss;
        self.finish_growth(event);
        Ok(true)
    }

    /// The training loss now, or, when it takes more than one unit of work, not a number while
    /// an evaluation for `measure` begins over the next units.
    async fn train_loss_or_begin(&mut self, measure: Measure) -> Result<f32, EngineError> {
        if self.path.evaluation_fits(&self.rows, false) {
            return Ok(self.evaluate().await?.train_loss);
        }
        self.path.begin_evaluation(false);
        self.evaluating = Some(measure);
        Ok(f32::NAN)
    }

    /// Keeps a complete growth's event; the schedule counts epochs from it.
    pub(super) fn finish_growth(&mut self, event: GrowthEvent) {
        self.history.growths.push(event);
        self.epochs_since_growth = 0;
        self.device.memory_cleanup();
    }
}
