//! The page's controls, built from the one settings table: a label, a control with the table's
//! range or choices and help, and listeners that read the value at the edge and send it in a
//! message ([`Msg::Set`] when a value is committed, [`Msg::Preview`] while a slider is dragged).
//! [`write`] puts the settings in force back into every control.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, Event, HtmlCanvasElement, HtmlInputElement, HtmlSelectElement};

use super::dom::{self, by_id, listen, set_attr, set_text};
use super::{Event as PageEvent, Inbox, draw, push};
use crate::data::{DataConfig, Dataset, DatasetKind, Sample, Task};
use crate::playground::{Held, Msg};
use crate::settings::{Group, PageOptions, SETTINGS, Setting, Widget};

/// The container each group's controls go into.
fn container(group: Group) -> Option<&'static str> {
    match group {
        Group::Data => Some("data-settings"),
        Group::Run => Some("run-settings"),
        Group::Toolbar => Some("toolbar-settings"),
        Group::Link => None,
    }
}

fn number_attr(x: f64) -> String {
    let s = format!("{x}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// Creates every control in its container and binds its listeners.
pub fn build(inbox: &Inbox) -> Result<(), JsValue> {
    let document = dom::document()?;
    for setting in SETTINGS {
        let Some(place) = container(setting.group) else {
            continue;
        };
        if setting.widget == Widget::Datasets {
            build_datasets(inbox, setting)?;
            continue;
        }
        if let Widget::Toggles { options } = setting.widget {
            build_toggles(inbox, setting, place, options)?;
            continue;
        }
        let parent: Element = by_id(place)?;
        let label = document.create_element("label")?;
        label.set_attribute("title", setting.help)?;
        let text = document.create_element("span")?;
        text.set_text_content(Some(setting.label));
        let control: Element = match setting.widget {
            Widget::Select { options, .. } => {
                let select = document.create_element("select")?;
                for (value, text) in options {
                    let option = document.create_element("option")?;
                    option.set_attribute("value", value)?;
                    option.set_text_content(Some(text));
                    select.append_child(&option)?;
                }
                select
            }
            _ => {
                let input = document.create_element("input")?;
                match setting.widget {
                    Widget::Range { min, max, step, .. } | Widget::Number { min, max, step } => {
                        let kind = if matches!(setting.widget, Widget::Range { .. }) {
                            "range"
                        } else {
                            "number"
                        };
                        input.set_attribute("type", kind)?;
                        input.set_attribute("min", &number_attr(min))?;
                        input.set_attribute("max", &number_attr(max))?;
                        input.set_attribute("step", &number_attr(step))?;
                    }
                    Widget::Checkbox => input.set_attribute("type", "checkbox")?,
                    _ => {
                        input.set_attribute("type", "text")?;
                        input.set_attribute("spellcheck", "false")?;
                    }
                }
                input
            }
        };
        control.set_id(setting.id);
        control.set_attribute("aria-description", setting.help)?;
        control.set_attribute("data-key", setting.key)?;
        if setting.widget == Widget::Checkbox {
            label.set_class_name("inline");
            label.append_child(&control)?;
            label.append_child(&text)?;
        } else {
            label.append_child(&text)?;
            if let Widget::Range { .. } = setting.widget {
                let out = document.create_element("output")?;
                out.set_id(&format!("{}-out", setting.id));
                label.append_child(&document.create_text_node(" "))?;
                label.append_child(&out)?;
            }
            label.append_child(&control)?;
        }
        parent.append_child(&label)?;
        bind(inbox, setting, &control)?;
    }
    Ok(())
}

/// The value a control holds now, as link text.
fn value_of(setting: &Setting, control: &Element) -> String {
    if let Some(select) = control.dyn_ref::<HtmlSelectElement>() {
        return select.value();
    }
    match control.dyn_ref::<HtmlInputElement>() {
        Some(input) if setting.widget == Widget::Checkbox => {
            if input.checked() { "1" } else { "0" }.to_string()
        }
        Some(input) => input.value(),
        None => String::new(),
    }
}

fn bind(inbox: &Inbox, setting: &'static Setting, control: &Element) -> Result<(), JsValue> {
    let key = setting.key.to_string();
    {
        let (inbox, source, key) = (inbox.clone(), control.clone(), key.clone());
        listen(control, "change", move |_: Event| {
            let value = value_of(setting, &source);
            push(&inbox, PageEvent::App(Msg::Set(key.clone(), value)));
        })?;
    }
    if let Widget::Range { suffix, zero, .. } = setting.widget {
        let (inbox, source) = (inbox.clone(), control.clone());
        let out: Element = by_id(&format!("{}-out", setting.id))?;
        listen(control, "input", move |_: Event| {
            let value = value_of(setting, &source);
            set_text(&out, &range_text(&value, suffix, zero));
            push(&inbox, PageEvent::App(Msg::Preview(key.clone(), value)));
        })?;
    }
    Ok(())
}

/// A row of toggles (the input features): one checkbox per choice in a group labelled by the
/// setting; any change sends the keys of those checked, joined by commas.
fn build_toggles(
    inbox: &Inbox,
    setting: &'static Setting,
    place: &str,
    options: &'static [(&'static str, &'static str)],
) -> Result<(), JsValue> {
    let document = dom::document()?;
    let parent: Element = by_id(place)?;
    let group = document.create_element("div")?;
    group.set_id(setting.id);
    group.set_class_name("toggles");
    group.set_attribute("role", "group")?;
    group.set_attribute("title", setting.help)?;
    group.set_attribute("aria-label", setting.label)?;
    group.set_attribute("data-key", setting.key)?;
    let title = document.create_element("span")?;
    title.set_text_content(Some(setting.label));
    group.append_child(&title)?;
    for (value, text) in options {
        let label = document.create_element("label")?;
        label.set_class_name("toggle");
        let input = document.create_element("input")?;
        input.set_attribute("type", "checkbox")?;
        input.set_id(&format!("{}-{value}", setting.id));
        input.set_attribute("data-value", value)?;
        let name = document.create_element("span")?;
        name.set_text_content(Some(text));
        label.append_child(&input)?;
        label.append_child(&name)?;
        group.append_child(&label)?;
        let (inbox, source) = (inbox.clone(), group.clone());
        listen(&input, "change", move |_: Event| {
            let value = toggles_value(&source);
            push(&inbox, PageEvent::App(Msg::Set(setting.key.into(), value)));
        })?;
    }
    parent.append_child(&group)?;
    Ok(())
}

/// The keys of a toggle group's checked boxes, joined by commas.
fn toggles_value(group: &Element) -> String {
    let mut on = Vec::new();
    if let Ok(boxes) = group.query_selector_all("input[data-value]") {
        for i in 0..boxes.length() {
            if let Some(input) = boxes
                .item(i)
                .and_then(|n| n.dyn_into::<HtmlInputElement>().ok())
                && input.checked()
                && let Some(value) = input.get_attribute("data-value")
            {
                on.push(value);
            }
        }
    }
    on.join(",")
}

fn build_datasets(inbox: &Inbox, setting: &'static Setting) -> Result<(), JsValue> {
    let document = dom::document()?;
    let list: Element = by_id(setting.id)?;
    list.set_attribute("title", setting.help)?;
    for kind in DatasetKind::ALL {
        let button = document.create_element("button")?;
        button.set_attribute("type", "button")?;
        button.set_attribute("role", "radio")?;
        button.set_attribute("aria-checked", "false")?;
        button.set_attribute("data-kind", kind.name())?;
        button.set_attribute("aria-label", &format!("Dataset {}", kind.name()))?;
        let canvas = document
            .create_element("canvas")?
            .dyn_into::<HtmlCanvasElement>()
            .map_err(|_| JsValue::from_str("canvas"))?;
        canvas.set_width(56);
        canvas.set_height(56);
        if let Some((points, task)) = thumbnail_points(kind) {
            draw::thumbnail(&canvas, &points, task)?;
        }
        button.append_child(&canvas)?;
        let label = document.create_element("span")?;
        label.set_text_content(Some(&thumbnail_label(kind)));
        button.append_child(&label)?;
        list.append_child(&button)?;
        let inbox = inbox.clone();
        listen(&button, "click", move |_: Event| {
            push(
                &inbox,
                PageEvent::App(Msg::Set(setting.key.into(), kind.name().into())),
            )
        })?;
    }
    Ok(())
}

/// A dataset's name under its thumbnail: "checkerboard" may break as "checker-board" (a soft
/// hyphen) to fit its narrow button, as "reg-plane" breaks at its hyphen.
fn thumbnail_label(kind: DatasetKind) -> String {
    kind.name().replacen("board", "\u{ad}board", 1)
}

/// Points for a dataset thumbnail (200 points, noise 0, a fixed seed).
fn thumbnail_points(kind: DatasetKind) -> Option<(Vec<Sample>, Task)> {
    let mut config = DataConfig::new(kind);
    config.n_points = 200;
    config.seed = 7;
    let data = Dataset::generate(&config).ok()?;
    let mut points = data.train;
    points.extend(data.test);
    Some((points, data.task))
}

/// Puts every setting in force into its control. A value a select does not list (a learning
/// rate from a link) is added to it as an extra choice, so the control never goes blank. A
/// slider the playground holds (`held`, see `Playground::held`) is disabled, put at the held
/// value, and its read-out and help say what it shows instead; every other one is enabled with
/// its own help.
pub fn write(options: &PageOptions, held: &[Held]) {
    for setting in SETTINGS {
        if container(setting.group).is_none() {
            continue;
        }
        if let Widget::Range { .. } = setting.widget {
            hold(setting, held.iter().find(|h| h.key == setting.key));
        }
        let value = setting.get(options);
        match setting.widget {
            Widget::Datasets => {
                if let Ok(list) = by_id::<Element>(setting.id) {
                    let children = list.children();
                    for i in 0..children.length() {
                        if let Some(child) = children.item(i) {
                            let on = child.get_attribute("data-kind").as_deref() == Some(&value);
                            set_attr(&child, "aria-checked", if on { "true" } else { "false" });
                        }
                    }
                }
            }
            Widget::Select { .. } => {
                if let Ok(select) = by_id::<HtmlSelectElement>(setting.id) {
                    write_select(&select, &value);
                }
            }
            Widget::Checkbox => {
                if let Ok(input) = by_id::<HtmlInputElement>(setting.id) {
                    input.set_checked(value == "1");
                }
            }
            Widget::Toggles { options } => {
                let on: Vec<&str> = value.split(',').map(str::trim).collect();
                for (key, _) in options {
                    if let Ok(input) = by_id::<HtmlInputElement>(&format!("{}-{key}", setting.id)) {
                        input.set_checked(on.contains(key));
                    }
                }
            }
            Widget::Range { suffix, zero, .. } => {
                let held = held.iter().find(|h| h.key == setting.key);
                if let Ok(input) = by_id::<HtmlInputElement>(setting.id) {
                    input.set_value(held.map_or(&value, |h| &h.value));
                }
                if let Ok(out) = by_id::<Element>(&format!("{}-out", setting.id)) {
                    let text =
                        held.map_or_else(|| range_text(&value, suffix, zero), |h| h.text.clone());
                    set_text(&out, &text);
                }
            }
            Widget::Number { .. } | Widget::Text => {
                if let Ok(input) = by_id::<HtmlInputElement>(setting.id)
                    && input.value() != value
                {
                    input.set_value(&value);
                }
            }
            Widget::None => {}
        }
    }
}

/// Disables a slider and gives it (and its label, which shows the tooltip) `held`'s help, or
/// enables it with the setting's own help.
fn hold(setting: &Setting, held: Option<&Held>) {
    let Ok(input) = by_id::<HtmlInputElement>(setting.id) else {
        return;
    };
    input.set_disabled(held.is_some());
    let help = held.map_or(setting.help, |h| h.why.as_str());
    set_attr(&input, "aria-description", help);
    if let Some(label) = input.parent_element() {
        set_attr(&label, "title", help);
    }
}

fn write_select(select: &HtmlSelectElement, value: &str) {
    let options = select.children();
    let mut found = false;
    let mut i = 0;
    while i < options.length() {
        let Some(option) = options.item(i) else {
            break;
        };
        let custom = option.has_attribute("data-custom");
        let matches = option.get_attribute("value").as_deref() == Some(value);
        if custom && !matches {
            option.remove();
            continue;
        }
        found |= matches;
        i += 1;
    }
    if !found
        && let Ok(document) = dom::document()
        && let Ok(option) = document.create_element("option")
    {
        let _ = option.set_attribute("value", value);
        let _ = option.set_attribute("data-custom", "");
        option.set_text_content(Some(&format!("{value} (from the link)")));
        let _ = select.append_child(&option);
    }
    select.set_value(value);
}

/// A slider's value as its label shows it: the widget's word for 0 if it has one, else the
/// number and its unit.
fn range_text(value: &str, suffix: &str, zero: Option<&str>) -> String {
    match zero {
        Some(word) if value.trim() == "0" => word.to_string(),
        _ => format!("{value}{suffix}"),
    }
}
