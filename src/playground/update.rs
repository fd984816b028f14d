//! `Playground::update`: what each message does to the settings, the data and the runs, and the
//! effects it asks of the page (the link, the controls, a restart).

use super::notice::{size, too_big};
use super::{Action, Cause, Effects, HashWrite, Level, Msg, Opens, Playground, sessions};
use crate::data::{DOMAIN, Dataset, MAX_CSV_BYTES, Sample, Task};
use crate::grow::Method;
use crate::settings::{self, BackendChoice, Effect, PageOptions};
use crate::train::Session;
use crate::url::{parse_hash, to_hash};

impl Playground {
    /// Applies one message and says what the page must do.
    pub fn update(&mut self, msg: Msg) -> Effects {
        let mut fx = Effects::default();
        match msg {
            Msg::TogglePlay => {
                if !self.failed {
                    self.running = !self.running;
                    // Epochs stepped while paused are not owed to the pace.
                    if self.running {
                        self.allowance = self.allowance.max(self.main.epoch() as f64);
                    }
                    self.step_to = None;
                    self.explain = None;
                }
            }
            Msg::Step => {
                if !self.failed {
                    self.running = false;
                    self.explain = None;
                    self.step_to = Some(self.main.epoch() + 1);
                }
            }
            Msg::Grow => self.grow(),
            Msg::Reset => {
                // The networks go back to the settings' size, which may not be the one the
                // backend was last chosen for (a grown network's): the page decides again.
                fx.reload = self.chosen_for_another_network();
                // A reset puts every control back to the settings in force and rewrites the
                // link, so the notices about refused values lose their cause.
                self.notices
                    .retain(|n| !matches!(n.cause, Cause::Link | Cause::Setting(_)));
                self.restart(&mut fx);
                fx.controls = true;
                let hash = to_hash(&self.options);
                if hash != self.hash {
                    self.hash = hash.clone();
                    fx.hash = Some(HashWrite { hash, push: false });
                }
                self.dragging = None;
                self.adjusting = None;
            }
            Msg::Set(key, value) => self.set(&key, &value, false, &mut fx),
            Msg::Preview(key, value) => self.set(&key, &value, true, &mut fx),
            Msg::Link(hash) => {
                let hash = hash.trim_start_matches('#').to_string();
                if hash != self.hash {
                    let (options, problems) = parse_hash(&hash);
                    self.hash = hash;
                    self.dragging = None;
                    self.adjusting = None;
                    self.report_link(&problems);
                    self.apply(options, &mut fx);
                    fx.controls = true;
                }
            }
            Msg::Regenerate(seed) => {
                self.set("data-seed", &seed.to_string(), false, &mut fx);
            }
            Msg::AddPoint(x, y, other) => {
                let label = match (self.data.task, other) {
                    (Task::Classification { .. }, false) => 1.0,
                    (Task::Classification { .. }, true) => 0.0,
                    (Task::Regression, false) => 1.0,
                    (Task::Regression, true) => -1.0,
                };
                let mut data = self.data.clone();
                data.train.push(Sample { x, y, label });
                data.name = "custom".into();
                self.swap_data(data, &mut fx);
            }
            Msg::RemovePoint(x, y) => {
                let mut data = self.data.clone();
                let near = |s: &Sample| (s.x - x).powi(2) + (s.y - y).powi(2) < 0.36;
                let removed = if let Some(i) = data.train.iter().position(near) {
                    data.train.remove(i);
                    true
                } else if let Some(i) = data.test.iter().position(near) {
                    data.test.remove(i);
                    true
                } else {
                    false
                };
                if removed {
                    data.name = "custom".into();
                    self.swap_data(data, &mut fx);
                }
            }
            Msg::CsvLoading(name, bytes) => {
                self.clear(Cause::Data);
                if bytes > MAX_CSV_BYTES as f64 {
                    self.raise(Cause::Data, Level::Error, too_big(&name, bytes));
                } else {
                    self.raise(
                        Cause::Data,
                        Level::Info,
                        format!("Reading {} ({})…", settings::echo(&name), size(bytes)),
                    );
                }
            }
            Msg::Csv(name, text) => self.load_csv(&name, &text, &mut fx),
            Msg::CsvFailed(name, why) => self.raise(
                Cause::Data,
                Level::Error,
                format!("{}: {why}", settings::echo(&name)),
            ),
            Msg::Dismiss(cause) => self.clear(cause),
            Msg::ImportRun(name, text) => return self.open_file(&name, &text),
            Msg::Act(Action::ResetWithRate(lr)) => {
                // The rate first (it restarts nothing by itself), then a reset.
                let mut next = self.update(Msg::Set("lr".into(), lr.to_string()));
                let reset = self.update(Msg::Reset);
                next.restarted |= reset.restarted;
                next.controls |= reset.controls;
                next.hash = reset.hash.or(next.hash);
                return next;
            }
            Msg::ImportFailed(name, why) => self.refuse_file(&name, &why),
        }
        fx
    }

    fn grow(&mut self) {
        if self.failed {
            return;
        }
        let main = self
            .main
            .can_grow()
            .then(|| self.main.history().growths.len() + 1);
        let baseline = self
            .baseline
            .can_grow()
            .then(|| self.baseline.history().growths.len() + 1);
        if main.is_some() {
            self.main.request_growth();
        }
        if baseline.is_some() {
            self.baseline.request_growth();
        }
        self.unstack();
        for pair in &mut self.seeds {
            pair.main.request_growth();
            pair.baseline.request_growth();
        }
        if main.is_none() && baseline.is_none() {
            self.note_unit_cap();
            if self.options.config.growth.method == Method::None
                && self.options.baseline == Method::None
            {
                self.raise(
                    Cause::UnitCap,
                    Level::Info,
                    "Neither run's method grows: choose a growth method.".into(),
                );
            }
            return;
        }
        self.grow_to = Some((main, baseline));
        self.explain = None;
    }

    /// Raises or clears the unit-cap notice from the runs' state.
    pub(super) fn note_unit_cap(&mut self) {
        let cap = self.options.config.train.max_units;
        let at_cap = |s: &Session| s.config().growth.method != Method::None && s.n_units() >= cap;
        let who = match (at_cap(&self.main), at_cap(&self.baseline)) {
            (true, true) => "Both networks have",
            (true, false) => "The growing network has",
            (false, true) => "The baseline network has",
            (false, false) => {
                self.clear(Cause::UnitCap);
                return;
            }
        };
        let started_above = [&self.main, &self.baseline]
            .into_iter()
            .filter(|s| s.history().growths.is_empty())
            .map(Session::n_units)
            .max()
            .filter(|&n| n > cap);
        let text = match started_above {
            Some(n) => format!(
                "The networks start with {n} hidden units, more than Max units ({cap}): they will not grow. Raise Max units above {n} to let them grow."
            ),
            None => format!(
                "{who} reached the unit cap ({cap} hidden units): growth has stopped and training goes on. Raise Max units to let it grow further."
            ),
        };
        self.raise(Cause::UnitCap, Level::Info, text);
    }

    fn set(&mut self, key: &str, value: &str, preview: bool, fx: &mut Effects) {
        let Some(setting) = settings::find(key) else {
            let mut next = self.options.clone();
            match settings::set_key(&mut next, key, value) {
                // `<key>_hide`: only the page changes.
                Ok(_) => {
                    self.options = next;
                    self.write_link(false, fx);
                    fx.controls = true;
                }
                Err(message) => self.raise(Cause::Link, Level::Error, message),
            }
            return;
        };
        let mut next = self.options.clone();
        if let Err(message) = setting.set(&mut next, value) {
            self.raise(Cause::Setting(setting.key), Level::Error, message);
            if !preview {
                fx.controls = true;
            }
            return;
        }
        self.clear(Cause::Setting(setting.key));
        let hash = to_hash(&next);
        // The first preview of a drag adds a history entry; the rest of the drag and the value
        // it is let go at replace it, and so do further changes of the same setting.
        let push = self.dragging != Some(setting.key) && self.adjusting != Some(setting.key);
        self.dragging = preview.then_some(setting.key);
        self.adjusting = Some(setting.key);
        if hash != self.hash {
            self.hash = hash.clone();
            fx.hash = Some(HashWrite { hash, push });
        }
        if !preview {
            if setting.key == "dataset"
                && self.custom_data
                && settings::changed(&self.options, &next).is_empty()
            {
                // The data set already chosen, clicked while the person's own points are
                // shown: back to generated points.
                self.custom_data = false;
                self.clear(Cause::Points);
                self.restart(fx);
                return;
            }
            self.apply(next, fx);
        }
    }

    /// Writes the link for the options in force, if it changed.
    pub(super) fn write_link(&mut self, push: bool, fx: &mut Effects) {
        let hash = to_hash(&self.options);
        if hash != self.hash {
            self.hash = hash.clone();
            fx.hash = Some(HashWrite { hash, push });
        }
    }

    /// Makes `next` the options in force, doing what the changed settings need.
    pub(super) fn apply(&mut self, next: PageOptions, fx: &mut Effects) {
        let changed = settings::changed(&self.options, &next);
        let strongest = |e: Effect| changed.iter().any(|s| s.effect == e);
        let old = std::mem::replace(&mut self.options, next);
        // Under `auto` the backend was chosen for the network at hand: a narrow one on the CPU
        // without the WebGPU code, a wide one by the probe. A restart with another network
        // decides again.
        let restarts = strongest(Effect::NewData) || strongest(Effect::Restart);
        if strongest(Effect::Reload) || (restarts && self.chosen_for_another_network()) {
            fx.reload = true;
        }
        if strongest(Effect::NewData) {
            self.custom_data = false;
            self.restart(fx);
        } else if strongest(Effect::Restart) {
            self.restart(fx);
        } else if strongest(Effect::Live) {
            self.unstack();
            let train = self.options.config.train.clone();
            let result = self.sessions_mut().try_for_each(|s| s.set_live(&train));
            if let Err(e) = result {
                self.options = old;
                self.raise(Cause::Run, Level::Error, e.to_string());
                fx.controls = true;
                return;
            }
            if self.notices.iter().any(|n| n.cause == Cause::UnitCap) {
                self.note_unit_cap();
            }
        }
    }

    /// Whether, under `auto`, the backend was chosen for another network than the settings'
    /// (the other side of 64 units a layer, or another wide width,
    /// [`crate::probe::auto_decides_for`]), so that starting the settings' network decides again.
    fn chosen_for_another_network(&self) -> bool {
        self.options.backend == BackendChoice::Auto
            && crate::probe::auto_decides_for(&self.options.config) != self.backend_chosen_for
    }

    /// Starts both runs again from the options (new data unless the data is the person's own).
    pub(super) fn restart(&mut self, fx: &mut Effects) {
        if !self.custom_data {
            match Dataset::generate(&self.options.config.data) {
                Ok(data) => {
                    self.data = data;
                    self.data_version += 1;
                    self.clear(Cause::Points);
                }
                Err(e) => {
                    self.raise(Cause::Data, Level::Error, e.to_string());
                    return;
                }
            }
        }
        match sessions(
            &self.options,
            &self.data,
            &self.device,
            (self.path, self.grow_on),
        ) {
            Ok((main, baseline, seeds)) => {
                self.seed_stack = None;
                self.main = main;
                self.baseline = baseline;
                self.seeds = seeds;
                // A paused page stays paused (Reset, r, or a setting that restarts); a run that
                // had stopped on a failure plays again, since it was not paused by the person.
                self.running = self.running || self.failed;
                self.failed = false;
                self.step_to = None;
                self.grow_to = None;
                self.explain = None;
                self.last_stage = 0;
                self.allowance = 0.0;
                self.clear(Cause::Run);
                self.clear(Cause::UnitCap);
                fx.restarted = true;
            }
            Err(problem) => self.raise(Cause::Run, Level::Error, problem),
        }
    }

    fn swap_data(&mut self, data: Dataset, fx: &mut Effects) {
        self.unstack();
        self.custom_data = true;
        let result = self
            .main
            .replace_data(data.clone())
            .and_then(|_| self.baseline.replace_data(data.clone()))
            .and_then(|_| {
                self.seeds.iter_mut().try_for_each(|p| {
                    p.main.replace_data(data.clone())?;
                    p.baseline.replace_data(data.clone())
                })
            });
        self.data = data;
        self.data_version += 1;
        if result.is_err() {
            self.restart(fx);
        }
    }

    fn load_csv(&mut self, name: &str, text: &str, fx: &mut Effects) {
        let shown = settings::echo(name);
        let ratio = self.options.config.data.train_ratio;
        match Dataset::from_csv(name, text, ratio, self.options.config.seed) {
            Ok(data) => {
                self.clear(Cause::Data);
                let outside = data
                    .train
                    .iter()
                    .chain(&data.test)
                    .filter(|p| p.x.abs() > DOMAIN || p.y.abs() > DOMAIN)
                    .count();
                let total = data.len();
                if outside > 0 {
                    self.raise(
                        Cause::Points,
                        Level::Info,
                        format!(
                            "{shown}: {outside} of {total} points lie outside the plane shown (−{DOMAIN} to {DOMAIN} on both axes); they are trained on but not drawn."
                        ),
                    );
                } else {
                    self.clear(Cause::Points);
                }
                self.custom_data = true;
                if data.task == self.data.task {
                    self.swap_data(data, fx);
                } else {
                    self.data = data;
                    self.data_version += 1;
                    self.restart(fx);
                }
            }
            Err(e) => self.raise(Cause::Data, Level::Error, format!("{shown}: {e}")),
        }
    }
}
