//! The notices list, drawn the same way in both modes of the page: each notice with its text,
//! its button (if it has one) and a close button, and `data-error` / `data-notices` on `#app`.

use web_sys::{Element, HtmlElement};

use crate::playground::{Level, Notice};
use crate::ui::dom::{self, set_attr, set_hidden};

/// What the list shows: each notice's cause name and its text with its action.
pub type Shown = Vec<(String, String)>;

/// Writes `notices` into `list` and their texts into `root`'s `data-error` (errors) and
/// `data-notices` (all), joined by " | "; the list is rebuilt only when they changed since
/// `shown`.
pub fn render(root: &Element, list: &HtmlElement, notices: &[Notice], shown: &mut Shown) {
    let texts = |keep: fn(&Notice) -> bool| {
        notices
            .iter()
            .filter(|n| keep(n))
            .map(|n| n.text.as_str())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    set_attr(root, "data-error", &texts(|n| n.level == Level::Error));
    set_attr(root, "data-notices", &texts(|_| true));
    let now: Shown = notices
        .iter()
        .map(|n| (n.cause.name(), format!("{}{:?}", n.text, n.action)))
        .collect();
    if now == *shown {
        return;
    }
    list.set_inner_html("");
    let Ok(document) = dom::document() else {
        return;
    };
    for n in notices {
        let Ok(li) = document.create_element("li") else {
            continue;
        };
        li.set_class_name(match n.level {
            Level::Error => "error",
            Level::Info => "info",
        });
        let _ = li.set_attribute("data-cause", &n.cause.name());
        if let Ok(span) = document.create_element("span") {
            span.set_text_content(Some(&n.text));
            // The embedded layout cuts a notice to one line: the tooltip and the focus (a tap or
            // Tab) show the whole text.
            let _ = span.set_attribute("title", &n.text);
            let _ = span.set_attribute("tabindex", "0");
            let _ = li.append_child(&span);
        }
        if let Some(action) = n.action
            && let Ok(button) = document.create_element("button")
        {
            let _ = button.set_attribute("type", "button");
            let _ = button.set_attribute("class", "act");
            let _ = button.set_attribute("data-act", &n.cause.name());
            button.set_text_content(Some(&action.label()));
            let _ = li.append_child(&button);
        }
        if let Ok(button) = document.create_element("button") {
            let _ = button.set_attribute("type", "button");
            let _ = button.set_attribute("class", "dismiss");
            let _ = button.set_attribute("data-dismiss", &n.cause.name());
            let _ = button.set_attribute("aria-label", "Dismiss this notice");
            button.set_text_content(Some("×"));
            let _ = li.append_child(&button);
        }
        let _ = list.append_child(&li);
    }
    set_hidden(list, now.is_empty());
    *shown = now;
}
