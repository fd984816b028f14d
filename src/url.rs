//! The playground's URL hash: the whole experiment as `key=value&…`, so a link reproduces a run.
//! Every key comes from the one settings table ([`crate::settings::SETTINGS`]).
//!
//! [`parse_hash`] reads each known key in the table's order (the last of repeated keys wins),
//! starting from the defaults. A bad value or an unknown key becomes a [`Problem`] that names it;
//! every other value still applies. [`to_hash`] writes the options back, leaving out settings at
//! their default, so `parse_hash(to_hash(o)) == o`. While the options are a preset, the link is
//! `preset=NAME` and the settings that differ from it. `<key>_hide=1` hides a control
//! ([`crate::settings::set_hidden`]).

pub use crate::settings::{BackendChoice, PageOptions, parse_layers};
use crate::settings::{HIDE_SUFFIX, SETTINGS, echo, set_hidden};

/// One value of a link that was not applied, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The setting's link key, or `None` for an unknown key.
    pub key: Option<&'static str>,
    /// One line, naming the setting and the value (shortened).
    pub message: String,
}

/// Decodes `%XX` escapes (a pasted link may carry `%2C` for a comma); anything malformed is kept
/// as it is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// Reads a URL hash (with or without the leading `#`). Returns the options and one problem per
/// value that was not applied; those settings keep their defaults.
pub fn parse_hash(hash: &str) -> (PageOptions, Vec<Problem>) {
    let mut options = PageOptions::default();
    let mut problems = Vec::new();
    let text = hash.trim().trim_start_matches('#');
    let mut values: Vec<Option<String>> = vec![None; SETTINGS.len()];
    let mut hides: Vec<(String, String)> = Vec::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(key);
        let key = key.trim();
        match SETTINGS.iter().position(|s| s.answers_to(key)) {
            Some(i) => values[i] = Some(percent_decode(value)),
            None if key.ends_with(HIDE_SUFFIX) => {
                hides.push((key.to_string(), percent_decode(value)));
            }
            None => problems.push(Problem {
                key: None,
                message: format!("unknown setting \"{}\"", echo(key)),
            }),
        }
    }
    for (key, value) in hides {
        let stem = key.trim_end_matches(HIDE_SUFFIX);
        if let Err(message) = set_hidden(&mut options, stem, &value) {
            problems.push(Problem { key: None, message });
        }
    }
    for (setting, value) in SETTINGS.iter().zip(values) {
        let Some(value) = value else { continue };
        if let Err(message) = setting.set(&mut options, &value) {
            problems.push(Problem {
                key: Some(setting.key),
                message,
            });
        }
    }
    (options, problems)
}

/// Writes the options as a URL hash (without `#`); settings at their default (or at the
/// preset's value, while the options are a preset) are left out.
pub fn to_hash(options: &PageOptions) -> String {
    let preset = crate::settings::preset::current(options);
    let base = preset
        .and_then(|p| crate::settings::preset::options(p).ok())
        .unwrap_or_default();
    let mut parts: Vec<String> = preset
        .map(|p| format!("preset={}", p.name))
        .into_iter()
        .collect();
    parts.extend(
        SETTINGS
            .iter()
            .filter(|s| s.key != "preset")
            .filter_map(|s| {
                let value = s.get(options);
                (value != s.get(&base)).then(|| format!("{}={}", s.key, encode(&value)))
            }),
    );
    parts.extend(options.hidden.iter().map(|k| format!("{k}{HIDE_SUFFIX}=1")));
    parts.join("&")
}

/// Escapes what would break a `key=value&…` hash (`%`, `&`, `=`, `#`, spaces).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '%' | '&' | '=' | '#' | ' ' => out.push_str(&format!("%{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A link to the experiment: the page's address (without its hash) and the options' hash.
pub fn share_link(page: &str, options: &PageOptions) -> String {
    let page = page.split('#').next().unwrap_or(page);
    let hash = to_hash(options);
    if hash.is_empty() {
        page.to_string()
    } else {
        format!("{page}#{hash}")
    }
}

/// The `<iframe>` snippet that embeds `link` in a course page.
pub fn iframe_snippet(link: &str) -> String {
    let escaped = link
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<iframe src=\"{escaped}\" title=\"Firefly Playground\" width=\"100%\" height=\"900\" style=\"border:0\" loading=\"lazy\"></iframe>"
    )
}
