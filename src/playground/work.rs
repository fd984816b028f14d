//! `Playground::work`: both runs advanced by a time-boxed amount, kept in step by epochs, at the
//! page's pace, with growth phases spread over frames and a failure turned into a notice.

use web_time::Instant;

use super::{
    Action, Cause, GROWTH_HOLD_S, Level, PACE_AHEAD_S, Playground, explanation, smaller_rate,
    stage_key,
};
use crate::error::EngineError;
use crate::grow::Method;
use crate::train::{Session, Stacked, Stage};

/// The least a frame trains for, in ms, however long drawing takes.
const MIN_TRAINING_MS: f64 = 2.0;

/// The frame a page aims at, in ms, once drawing alone takes three quarters of its own frame
/// (a wide network's map and diagram): 30 frames a second, with room left for the browser's own
/// work, so that a frame still ends within two refreshes.
pub const HALF_RATE_FRAME_MS: f64 = 22.0;

/// What a frame may spend training, in ms, on a backend whose frame is `frame_ms` when drawing
/// costs `draw_ms`: the rest of the frame; and when drawing takes more than three quarters of
/// it, the rest of a [`HALF_RATE_FRAME_MS`] frame, since a 60 Hz frame is out of reach and
/// training would otherwise starve. Never less than 2 ms.
pub fn training_budget_ms(frame_ms: f64, draw_ms: f64) -> f64 {
    let frame = if draw_ms > 0.75 * frame_ms {
        frame_ms.max(HALF_RATE_FRAME_MS)
    } else {
        frame_ms
    };
    (frame - draw_ms).max(MIN_TRAINING_MS)
}

impl Playground {
    /// [`Playground::work`] at the page's pace: while playing, the main run may train
    /// `speed` epochs (the `speed` setting) per second of `elapsed_ms` (the time since the last
    /// call), never more than a quarter second ahead, and waits [`GROWTH_HOLD_S`] after each of
    /// its growths so the diagram can show it. Growth phases, Step and Grow are not paced. Speed
    /// 0 is as fast as the machine goes. The page calls this once per frame.
    pub async fn work_paced(&mut self, budget_ms: f64, elapsed_ms: f64) {
        let speed = self.options.speed as f64;
        self.paced = speed > 0.0;
        if self.paced && self.running {
            let ahead = self.main.epoch() as f64 + speed * PACE_AHEAD_S;
            self.allowance =
                (self.allowance + speed * elapsed_ms.max(0.0) / 1e3).min(ahead.max(self.allowance));
        }
        self.work(budget_ms).await;
        self.paced = false;
    }

    /// Advances both runs for at most about `budget_ms` of work (it stops before a unit as long
    /// as the last would pass the budget): the main run while playing (or until a step or a
    /// growth asked for while paused is done), the baseline kept in step by epochs.
    /// Growth phases of both runs are spread over frames. Not paced: see
    /// [`Playground::work_paced`].
    pub async fn work(&mut self, budget_ms: f64) {
        if self.failed {
            return;
        }
        let start = Instant::now();
        loop {
            let unit = Instant::now();
            let result = self.work_unit().await;
            match result {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    self.fail(e);
                    return;
                }
            }
            // Stop before a unit like the last would run past the budget (the first unit of a
            // frame always runs).
            let last = unit.elapsed().as_secs_f64() * 1e3;
            if start.elapsed().as_secs_f64() * 1e3 + last > budget_ms {
                return;
            }
        }
    }

    fn fail(&mut self, e: EngineError) {
        self.running = false;
        self.step_to = None;
        self.grow_to = None;
        self.failed = true;
        let lr = self.options.config.train.learning_rate;
        let (text, action) = match e {
            EngineError::Diverged(value) => (
                format!(
                    "The loss became {value}: training diverged at learning rate {lr}. Choose a smaller learning rate, then press Reset."
                ),
                smaller_rate(lr).map(Action::ResetWithRate),
            ),
            other => (format!("The run stopped: {other}"), None),
        };
        self.raise(Cause::Run, Level::Error, text);
        if let Some(notice) = self.notices.last_mut() {
            notice.action = action;
        }
    }

    /// One unit of work for whichever run needs it; `false` when there is nothing to do.
    async fn work_unit(&mut self) -> Result<bool, EngineError> {
        let (main_target, baseline_target) = self.grow_to.unwrap_or((None, None));
        let growing = |s: &Session| matches!(s.stage(), Stage::Growing(_));
        let main_growths = self.main.history().growths.len();
        let baseline_growths = self.baseline.history().growths.len();
        let main_grow_pending = main_target.is_some_and(|t| main_growths < t);
        let baseline_grow_pending = baseline_target.is_some_and(|t| baseline_growths < t);

        let baseline_due = self.baseline.epoch() < self.main.epoch()
            || growing(&self.baseline)
            || baseline_grow_pending;
        if baseline_due {
            self.baseline.advance(1).await?;
            return Ok(true);
        }
        let target = self.main.epoch();
        if self.seed_epoch_stacked(target).await? {
            return Ok(true);
        }
        let behind = |s: &Session| s.epoch() < target || growing(s) || s.growth_requested();
        if (self.seeds.iter()).any(|p| behind(&p.baseline) || behind(&p.main)) {
            // A seed trains alone: every seed holds its own network.
            self.unstack();
            for pair in &mut self.seeds {
                for s in [&mut pair.baseline, &mut pair.main] {
                    if behind(s) {
                        s.advance(1).await?;
                        return Ok(true);
                    }
                }
            }
        }
        let step_pending = self.step_to.is_some_and(|t| self.main.epoch() < t);
        let in_pace = !self.paced || (self.main.epoch() as f64) < self.allowance.floor();
        let main_due =
            (self.running && in_pace) || step_pending || main_grow_pending || growing(&self.main);
        if !main_due {
            self.step_to = None;
            self.grow_to = None;
            return Ok(false);
        }
        self.main.advance(1).await?;
        self.check_unit_cap();
        let key = stage_key(self.main.stage());
        if key != self.last_stage {
            let finished_growth = key == 0;
            self.last_stage = key;
            if finished_growth && self.paced {
                // Training waits while the page shows the growth.
                self.allowance =
                    self.main.epoch() as f64 - self.options.speed as f64 * GROWTH_HOLD_S;
            }
            if self.options.slow_motion {
                // Slow motion waits for Play after each part, also within a Grow press.
                self.explain = Some(explanation(
                    &self.options.config.growth,
                    key,
                    finished_growth
                        .then(|| self.main.history().growths.last())
                        .flatten(),
                ));
                self.running = false;
                self.step_to = None;
                self.grow_to = None;
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// One epoch of every seed's runs in one stack, when each is behind the main run's `target`
    /// epoch and all of them can train it together ([`Stacked`]: a growth due, mini-batches or
    /// the fused CPU step train each alone). Returns whether it trained. A stack that no longer
    /// fits is given back; one whose seeds have caught up with the main run stays.
    async fn seed_epoch_stacked(&mut self, target: usize) -> Result<bool, EngineError> {
        let mut sessions = seed_sessions(&mut self.seeds);
        if let Some(stack) = self.seed_stack.take_if(|stack| !stack.fits(&sessions)) {
            stack.dissolve(&mut sessions);
        }
        if !sessions.iter().all(|s| s.epoch() < target) {
            return Ok(false);
        }
        if self.seed_stack.is_none() {
            self.seed_stack = Stacked::form(&sessions);
        }
        let Some(stack) = &mut self.seed_stack else {
            return Ok(false);
        };
        stack.epochs(&mut sessions, 1).await.map_err(|(_, e)| e)?;
        Ok(true)
    }

    /// Shows the unit-cap notice once a growing run can grow no more.
    fn check_unit_cap(&mut self) {
        let cap = self.options.config.train.max_units;
        let at_cap = |s: &Session| s.config().growth.method != Method::None && s.n_units() >= cap;
        let shown = self.notices.iter().any(|n| n.cause == Cause::UnitCap);
        if (at_cap(&self.main) || at_cap(&self.baseline)) != shown {
            self.note_unit_cap();
        }
    }
}

/// Every seed's runs, baseline then main, seed by seed: the members of the seeds' stack.
pub(super) fn seed_sessions(seeds: &mut [super::Pair]) -> Vec<&mut Session> {
    (seeds.iter_mut())
        .flat_map(|p| [&mut p.baseline, &mut p.main])
        .collect()
}
