//! The page's one frame loop, for both modes: once per animation frame it drains the inbox
//! (keeping the page's visibility itself and noting the rest for the crash report), hands each
//! event to the mode, marks `data-visible`, lets the mode work within its time budget and draw
//! while the page is seen, and tells the host page what is due. A mode ([`Mode`]: growth mode's
//! `growth::Growth`, continual mode's `continual::Continual`) keeps what is its own: its page
//! model, its budget and pacing, what it draws.

use wasm_bindgen::prelude::*;

use super::host::{self, Host};
use super::{Event, Inbox, crash, dom};
use crate::playground::HostPage;

/// The host-page edge of a mode's page.
pub type ModeHost<M> = Host<<<M as Mode>::Page as HostPage>::Cursor>;

/// What a frame's work came to.
pub enum Worked {
    /// Nothing moved.
    Nothing,
    /// The runs moved: draw them anew.
    Changed,
    /// The mode stopped and has shown why: the loop ends.
    Stopped,
}

/// A mode of the page, as [`run`] drives it.
pub trait Mode {
    /// The page model the host page talks to.
    type Page: HostPage;

    /// The page model.
    fn page(&self) -> &Self::Page;

    /// The experiment's link, for the crash report.
    fn link(&self) -> String;

    /// Handles one event of the inbox (the loop keeps `PageHidden` and `OnScreen` itself).
    async fn handle(&mut self, event: Event, host: &ModeHost<Self>) -> Result<(), JsValue>;

    /// Once a frame after the events, seen or not; whether it changed what is drawn.
    async fn settle(&mut self) -> Result<bool, JsValue> {
        Ok(false)
    }

    /// A frame while the page is unseen: no work, no drawing, only what must still be written.
    fn unseen(&mut self) -> Result<(), JsValue> {
        Ok(())
    }

    /// A frame's work, within the mode's time budget.
    async fn work(&mut self) -> Result<Worked, JsValue>;

    /// Draws the page and writes its state (`changed`: events or work since the last frame);
    /// `false` holds the frame back, and the host page is not told of it.
    async fn draw(&mut self, changed: bool) -> Result<bool, JsValue>;
}

/// Drives `mode` once per animation frame until it stops or fails (a mode switch reloads the
/// page).
pub async fn run<M: Mode>(mode: &mut M, inbox: &Inbox) -> Result<(), JsValue> {
    let mut host: ModeHost<M> = Host::new();
    let (mut page_hidden, mut on_screen) = (dom::document()?.hidden(), true);
    loop {
        dom::next_frame().await;
        let events: Vec<Event> = inbox.borrow_mut().drain(..).collect();
        let mut changed = !events.is_empty();
        if changed {
            crash::note_link(&mode.link());
        }
        for event in events {
            match event {
                Event::PageHidden(hidden) => page_hidden = hidden,
                Event::OnScreen(seen) => on_screen = seen,
                event => {
                    if !matches!(event, Event::Hover(_) | Event::CurvesHover(_)) {
                        crash::note_event(&event);
                    }
                    mode.handle(event, &host).await?;
                }
            }
        }
        changed |= mode.settle().await?;
        // Unseen (another tab, or scrolled away in a course page): no work, no drawing.
        let visible = !page_hidden && on_screen;
        host::write_visible(visible);
        if !visible {
            mode.unseen()?;
            host.tick(mode.page());
            continue;
        }
        match mode.work().await? {
            Worked::Nothing => {}
            Worked::Changed => changed = true,
            Worked::Stopped => return Ok(()),
        }
        if mode.draw(changed).await? {
            host.tick(mode.page());
        }
    }
}
