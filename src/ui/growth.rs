//! The page in growth mode, as the frame loop ([`super::frame`]) drives it: each event goes to
//! [`Playground`]'s `update` (or its host-page `command`) and the [`Effects`] are carried out
//! (the link, the controls); a frame trains both runs for what the backend's frame budget
//! leaves after drawing (a moving average of the draw's cost; a 30 Hz frame once drawing takes
//! three quarters of a 60 Hz one, [`crate::playground::training_budget_ms`]), paced by the time played; on
//! WebGPU a [`GpuGuard`] saves the runs' last good state and moves them to the CPU if the device
//! is lost.

use burn::tensor::Device;
use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlElement};

use super::dom::{self, by_id};
use super::frame::{Mode, ModeHost, Worked};
use super::view::{self, Ui, View};
use super::{Event, carry, controls, crash, device, host};
use crate::playground::{Effects, Msg, Playground, RunState};
use crate::settings;
use crate::train::TrainPath;

/// Growth mode: the playground, its view, and what pacing the frames needs.
pub struct Growth {
    playground: Playground,
    view: View,
    backend: device::Backend,
    /// On WebGPU: the watch on the device and the last good state to go back to if it is lost.
    gpu: Option<GpuGuard>,
    /// What drawing a frame costs (a moving average), so training takes the rest of the frame.
    draw_ms: f64,
    /// When the runs last worked: the pace lends epochs by the time played.
    worked_at: f64,
    memory_at: f64,
    /// The widest layer at which the page decides its backend again ([`carry`]), while it may.
    decide_again_at: Option<usize>,
    /// The browser may move the page: the runs are saved and carried over a reload at the next
    /// moment they can be put back.
    carrying: bool,
}

impl Growth {
    /// Growth mode on `backend`; `watch` is the watch on the WebGPU device, if the runs use one;
    /// `decide_again_at`: the widest layer at which a growing network has outgrown the choice.
    pub fn new(
        playground: Playground,
        view: View,
        backend: device::Backend,
        watch: Option<device::GpuWatch>,
        decide_again_at: Option<usize>,
    ) -> Self {
        if let (Some(at), Ok(root)) = (decide_again_at, by_id::<Element>("app")) {
            dom::set_attr(&root, "data-decide-again-at", &at.to_string());
        }
        Growth {
            playground,
            view,
            backend,
            gpu: watch.map(GpuGuard::new),
            draw_ms: 4.0,
            worked_at: dom::now(),
            memory_at: f64::NEG_INFINITY,
            decide_again_at,
            carrying: false,
        }
    }

    /// The main network has reached the width at which its backend was to be chosen again:
    /// unless the browser could only answer the same ([`device::may_choose_otherwise`]), saves
    /// the runs for the next page ([`carry`]) and reloads, which decides for the grown network.
    async fn decide_again(&mut self) -> Result<(), JsValue> {
        if !self.carrying {
            // A network no starting setting could have (wider than 1,024 units, or more than 8
            // layers) is not probed: the page keeps its choice.
            let options = self.playground.options();
            let grown = crate::probe::grown_config(&options.config, self.playground.main().shape());
            if grown.is_none() || !device::may_choose_otherwise().await {
                self.decide_again_at = None;
                return Ok(());
            }
            self.carrying = true;
        }
        // Just after a growth phase the runs cannot be put back yet; a later frame tries again.
        let Ok(state) = self.playground.save_state().await else {
            return Ok(());
        };
        self.decide_again_at = None;
        match carry::store(&self.playground.settings_hash(), state) {
            Ok(()) => dom::window()?.location().reload()?,
            Err(e) => web_sys::console::warn_1(
                &format!("the page keeps its backend: the runs cannot be carried ({e})").into(),
            ),
        }
        Ok(())
    }
}

impl Mode for Growth {
    type Page = Playground;

    fn page(&self) -> &Playground {
        &self.playground
    }

    fn link(&self) -> String {
        self.playground.settings_hash()
    }

    async fn handle(&mut self, event: Event, host: &ModeHost<Self>) -> Result<(), JsValue> {
        if !matches!(event, Event::Hover(_) | Event::CurvesHover(_))
            && let Some(guard) = &mut self.gpu
        {
            guard.dirty = true;
        }
        handle(event, &mut self.playground, &mut self.view, host).await
    }

    /// The GPU went (or reported an error nobody caught): moves every run to the CPU and carries
    /// on from the last good state. Also writes the memory in use, every second.
    async fn settle(&mut self) -> Result<bool, JsValue> {
        let mut changed = false;
        if let Some(why) = self
            .gpu
            .as_ref()
            .and_then(|g| g.watch.lost().map(str::to_string))
        {
            let playground = &mut self.playground;
            let saved = self.gpu.take().and_then(|g| g.saved);
            crash::note_event(&format!("GPU lost: {why}"));
            let lost_at = playground.main().epoch();
            let fx = playground.relocate(Device::flex(), TrainPath::Fused, saved, &why);
            self.backend = device::Backend::Cpu;
            let resumed = playground.main().epoch();
            let note = format!("Running on the CPU backend: the GPU was lost at epoch {lost_at}.");
            self.view = View::new(Ui::find()?, self.backend, Some(&note));
            apply(fx, playground, &mut self.view)?;
            self.view.forget();
            let root: Element = by_id("app")?;
            dom::set_attr(&root, "data-gpu-lost", &lost_at.to_string());
            dom::set_attr(&root, "data-gpu-resumed", &resumed.to_string());
            changed = true;
        }
        if let Some(at) = self.decide_again_at
            && self.gpu.as_ref().is_none_or(|g| g.watch.lost().is_none())
            && self.playground.main().shape().widest_layer() >= at
        {
            self.decide_again().await?;
        }
        if dom::now() - self.memory_at > 1000.0 {
            self.memory_at = dom::now();
            view::write_memory();
        }
        Ok(changed)
    }

    async fn work(&mut self) -> Result<Worked, JsValue> {
        let playground = &mut self.playground;
        if playground.state() != RunState::Running && !playground.busy() {
            return Ok(Worked::Nothing);
        }
        let budget =
            crate::playground::training_budget_ms(self.backend.frame_budget_ms(), self.draw_ms);
        let now = dom::now();
        playground.work_paced(budget, now - self.worked_at).await;
        self.worked_at = now;
        Ok(Worked::Changed)
    }

    async fn draw(&mut self, changed: bool) -> Result<bool, JsValue> {
        if let Some(guard) = &mut self.gpu
            && guard.hold_frame(&self.playground)
        {
            // The device went during this frame's work (the next frame moves the runs), or a
            // run failed on it and its loss is likely on its way: draw nothing from it now.
            return Ok(false);
        }
        let start = dom::now();
        self.view.frame(&self.playground, changed).await;
        if changed {
            self.draw_ms = 0.8 * self.draw_ms + 0.2 * (dom::now() - start);
        }
        if let Some(guard) = &mut self.gpu {
            guard.save(&self.playground).await;
        }
        Ok(true)
    }
}

/// What growth mode keeps while the runs compute on WebGPU: the watch on the device, the last
/// good state (every run's network and history, saved after each epoch and after each change
/// of the person's, at most every [`GpuGuard::SAVE_MS`]) and how long a failure has waited for
/// the loss that may explain it.
struct GpuGuard {
    watch: device::GpuWatch,
    saved: Option<crate::playground::SavedState>,
    /// Something changed since the last save (an epoch, a growth, the person's input).
    dirty: bool,
    saved_at: f64,
    saved_key: (usize, usize, usize),
    held: u32,
}

impl GpuGuard {
    /// The shortest time between two saves (each reads every network back from the GPU).
    const SAVE_MS: f64 = 500.0;
    /// How many frames a run's failure waits for the device's loss before it is shown.
    const HOLD_FRAMES: u32 = 30;

    fn new(watch: device::GpuWatch) -> Self {
        GpuGuard {
            watch,
            saved: None,
            dirty: true,
            saved_at: f64::NEG_INFINITY,
            saved_key: (usize::MAX, 0, 0),
            held: 0,
        }
    }

    /// Whether to hold back the frame: the device is lost (reads from it fail), or a run
    /// failed while the device still looks good (for at most [`GpuGuard::HOLD_FRAMES`]).
    fn hold_frame(&mut self, playground: &Playground) -> bool {
        if self.watch.lost().is_some() {
            return true;
        }
        if playground.state() != RunState::Error {
            self.held = 0;
            return false;
        }
        self.held = self.held.saturating_add(1);
        self.held <= Self::HOLD_FRAMES
    }

    /// Saves the runs when something changed and the last save is old enough; a save that
    /// fails (a read on a device going away, a run just grown) keeps the previous one.
    async fn save(&mut self, playground: &Playground) {
        let main = playground.main();
        let key = (
            main.epoch(),
            main.history().growths.len(),
            playground.baseline().epoch(),
        );
        if key != self.saved_key {
            self.dirty = true;
        }
        if !self.dirty || dom::now() - self.saved_at < Self::SAVE_MS || self.watch.lost().is_some()
        {
            return;
        }
        self.saved_at = dom::now();
        if let Ok(state) = playground.save_state().await
            && self.watch.lost().is_none()
        {
            self.saved = Some(state);
            self.saved_key = key;
            self.dirty = false;
        }
    }
}

async fn handle(
    event: Event,
    playground: &mut Playground,
    view: &mut View,
    host: &host::Host<crate::playground::EventCursor>,
) -> Result<(), JsValue> {
    match event {
        Event::App(msg) => {
            let fx = playground.update(msg);
            apply(fx, playground, view)?;
        }
        Event::Toggle(key) => {
            if let Some(setting) = settings::find(key) {
                let on = setting.get(playground.options()) == "1";
                let msg = Msg::Set(key.into(), if on { "0" } else { "1" }.into());
                let fx = playground.update(msg);
                apply(fx, playground, view)?;
            }
        }
        Event::Hover(position) => view.hover(position, playground),
        Event::CurvesHover(x) => view.hover_curves(x, playground),
        Event::FocusUnit(delta) => view.move_focus(delta, playground),
        Event::BlurDiagram => view.blur(playground),
        Event::ToggleShortcuts => {
            let open = view.ui.shortcuts.hidden();
            dom::set_hidden(&view.ui.shortcuts, !open);
            if open && let Ok(close) = by_id::<HtmlElement>("shortcuts-close") {
                let _ = close.focus();
            }
        }
        Event::CloseShortcuts => dom::set_hidden(&view.ui.shortcuts, true),
        Event::HostMessage { origin, command } => {
            let Some(command) = host.accept(playground.options(), &origin, command) else {
                return Ok(());
            };
            let name = command.name();
            if command == crate::playground::Command::Export {
                host.export(&*playground).await;
                return Ok(());
            }
            match playground.command(command) {
                Ok(fx) => apply(fx, playground, view)?,
                Err(message) => host.refuse(playground.options(), Some(name), message),
            }
        }
        Event::Share(open) => host::share(open, playground.options(), playground.custom_data())?,
        Event::ShareChanged => host::share(true, playground.options(), playground.custom_data())?,
        Event::Save(kind) => {
            if let Err(e) = host::save(kind, playground).await {
                web_sys::console::error_1(&e);
            }
        }
        Event::ImportFailed(name, why) => {
            let fx = playground.update(Msg::ImportFailed(name, why));
            apply(fx, playground, view)?;
        }
        Event::Act(cause) => {
            let action = playground
                .notices()
                .iter()
                .find(|n| n.cause == cause)
                .and_then(|n| n.action);
            if let Some(action) = action {
                let fx = playground.update(Msg::Act(action));
                apply(fx, playground, view)?;
            }
        }
        Event::PageHidden(_) | Event::OnScreen(_) => {}
    }
    Ok(())
}

/// Carries out what an update asks of the page.
fn apply(fx: Effects, playground: &Playground, view: &mut View) -> Result<(), JsValue> {
    if let Some(write) = fx.hash {
        let window = dom::window()?;
        let history = window.history()?;
        let url = format!("#{}", write.hash);
        // An empty hash still needs a URL that drops the old one.
        let url = if write.hash.is_empty() {
            let location = window.location();
            format!("{}{}", location.pathname()?, location.search()?)
        } else {
            url
        };
        if write.push {
            history.push_state_with_url(&JsValue::NULL, "", Some(&url))?;
        } else {
            history.replace_state_with_url(&JsValue::NULL, "", Some(&url))?;
        }
    }
    if fx.controls {
        controls::write(playground.options(), &playground.held());
        host::write_layout(playground.options());
    }
    if fx.restarted {
        view.forget();
    }
    if fx.reload {
        dom::window()?.location().reload()?;
    }
    Ok(())
}
