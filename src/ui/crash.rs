//! The crash panel: when the playground panics, the page shows what happened and a report to
//! copy (the message, the experiment's link, the last things that happened, the browser)
//! instead of freezing. The panel's buttons are plain JavaScript (`www/loading.js`), so they
//! work after the wasm module has stopped.

use std::cell::RefCell;
use std::collections::VecDeque;

use super::dom::{self, by_id, set_attr};
use web_sys::{Element, HtmlElement, HtmlTextAreaElement};

/// How many recent events the report keeps.
const RECENT: usize = 20;
/// The longest line of one event in the report.
const LINE: usize = 160;

thread_local! {
    static EVENTS: RefCell<VecDeque<String>> = const { RefCell::new(VecDeque::new()) };
    static LINK: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Remembers one event for the report (cut to a line).
pub fn note_event(event: &impl std::fmt::Debug) {
    let mut line = format!("{event:?}");
    if line.len() > LINE {
        let mut cut = LINE;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push('…');
    }
    EVENTS.with(|e| {
        if let Ok(mut events) = e.try_borrow_mut() {
            if events.len() == RECENT {
                events.pop_front();
            }
            events.push_back(format!("{:.0} ms: {line}", dom::now()));
        }
    });
}

/// Remembers the experiment's link (each frame).
pub fn note_link(link: &str) {
    LINK.with(|l| {
        if let Ok(mut current) = l.try_borrow_mut()
            && *current != link
        {
            link.clone_into(&mut current);
        }
    });
}

/// The report: what stopped, the link, the recent events, the browser.
pub fn report(message: &str) -> String {
    let link = LINK.with(|l| l.try_borrow().map(|s| s.clone()).unwrap_or_default());
    let events = EVENTS.with(|e| {
        e.try_borrow()
            .map(|v| v.iter().cloned().collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    });
    let window = dom::window().ok();
    let agent = window
        .as_ref()
        .and_then(|w| w.navigator().user_agent().ok())
        .unwrap_or_default();
    let page = window
        .as_ref()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default();
    format!(
        "Firefly Playground {}\n{message}\n\nsettings: #{link}\npage: {page}\nbrowser: {agent}\n\nlast events:\n{events}\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// Shows the crash panel with `message` and its report.
pub fn show(message: &str) {
    if let Ok(root) = by_id::<Element>("app") {
        set_attr(&root, "data-state", "error");
        set_attr(&root, "data-error", message);
    }
    if let Ok(text) = by_id::<Element>("crash-message") {
        text.set_text_content(Some(message));
    }
    if let Ok(area) = by_id::<HtmlTextAreaElement>("crash-report") {
        area.set_value(&report(message));
    }
    if let Ok(panel) = by_id::<HtmlElement>("crash") {
        dom::set_hidden(&panel, false);
        panel.scroll_into_view();
    }
}
