//! The settings of a page embedded in a course page that are not plain values: which host
//! origins may drive it (`allow-origin`) and which controls a link hides (`<key>_hide=1`).

use super::{Group, PageOptions, SETTINGS, echo, find};

/// The most origins `allow-origin` may list.
pub const MAX_ORIGINS: usize = 16;

/// Parses `allow-origin`: comma-separated `scheme://host[:port]` origins, or `*`.
pub fn parse_origins(text: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let origin = part.trim_end_matches('/');
        let valid = origin == "*"
            || origin.split_once("://").is_some_and(|(scheme, host)| {
                matches!(scheme, "http" | "https")
                    && !host.is_empty()
                    && !host.contains(['/', '?', '#', '@', ' '])
            });
        if !valid {
            return Err(format!(
                "\"{}\" is not an origin like https://example.org or *",
                echo(part)
            ));
        }
        if !out.iter().any(|o| o == origin) {
            out.push(origin.to_ascii_lowercase());
        }
    }
    if out.len() > MAX_ORIGINS {
        return Err(format!("at most {MAX_ORIGINS} origins"));
    }
    Ok(out)
}

/// Whether a message from `origin` may drive a page at `own` with these options.
pub fn origin_allowed(options: &PageOptions, origin: &str, own: &str) -> bool {
    origin == own
        || options
            .allow_origins
            .iter()
            .any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
}

/// The suffix of a link key that hides a control: `grow_hide=1`.
pub const HIDE_SUFFIX: &str = "_hide";

/// Controls of the page that are not settings, by link key and element id; they can be hidden
/// like any setting's control.
pub const PAGE_CONTROLS: &[(&str, &str)] = &[
    ("play", "play"),
    ("step", "step"),
    ("grow", "grow"),
    ("reset", "reset"),
    ("regenerate", "regenerate"),
    ("csv", "csv"),
    ("share", "share"),
    ("export", "export-row"),
    ("import", "import"),
];

/// Every control a link can hide: each setting that has one, then [`PAGE_CONTROLS`]; as
/// `(key, element id)`.
pub fn hideable() -> impl Iterator<Item = (&'static str, &'static str)> {
    SETTINGS
        .iter()
        .filter(|s| s.group != Group::Link && !s.id.is_empty())
        .map(|s| (s.key, s.id))
        .chain(PAGE_CONTROLS.iter().copied())
}

/// Sets or clears `<key>_hide`; `key` is a setting's key (or alias) or a page control's.
pub fn set_hidden(options: &mut PageOptions, key: &str, value: &str) -> Result<(), String> {
    let canonical = find(key).map(|s| s.key).unwrap_or(key).to_string();
    let Some((key, _)) = hideable().find(|(k, _)| *k == canonical) else {
        return Err(format!(
            "\"{}\" is not a control that can be hidden",
            echo(key)
        ));
    };
    let hide = match value.trim().to_ascii_lowercase().as_str() {
        "" | "1" | "true" | "on" | "yes" => true,
        "0" | "false" | "off" | "no" => false,
        _ => {
            return Err(format!(
                "{key}{HIDE_SUFFIX}: expected 1 or 0, got \"{}\"",
                echo(value)
            ));
        }
    };
    let mut hidden: Vec<&'static str> = options
        .hidden
        .iter()
        .copied()
        .filter(|k| *k != key)
        .collect();
    if hide {
        hidden.push(key);
    }
    options.hidden = hideable()
        .map(|(k, _)| k)
        .filter(|k| hidden.contains(k))
        .collect();
    Ok(())
}
