//! The end-to-end checks against the page contract: `starts`, `grows`, `keyboard`, `buttons`,
//! then where the page computes ([`super::backends`]); and the helpers every check uses to read
//! `#app`'s `data-*` and wait on them. Every wait is bounded and polls every 250 ms; a page that
//! sets `data-state="error"` fails the check at once with its `data-error`.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use super::json::{Json, strings};
use super::webdriver::{Driver, Session, TAB, hold, poll, secs};
use super::{ChromeConfig, Report, backends};

/// The epoch must stay put this long to count as settled (paused) or held (after a step).
const HOLD: Duration = secs(1);
/// How long a reaction to a key or click may take (the page may be busy with an epoch).
pub(super) const REACT: Duration = secs(30);

/// With `builds` (the real site, not the stand-in of `e2e-selftest`), also where the page
/// computes: the checks of its two builds ([`super::backends`]).
pub fn run_all(
    driver: &Driver, chrome: &ChromeConfig, base: &str, out_dir: &Path, report: &mut Report,
    builds: bool,
) {
    let main = chrome.session(driver, true);
    let session = || main.as_ref().map_err(Clone::clone);

    let mut start_units = 0.0;
    report.check("starts", || starts(session()?, base, &mut start_units));
    if report.passed("starts") {
        report.check("grows", || grows(session()?, start_units, out_dir));
        report.check("keyboard", || keyboard(session()?));
        report.check("buttons", || buttons(session()?));
    } else {
        for name in ["grows", "keyboard", "buttons"] {
            report.check(name, || Err("not run: `starts` failed".to_string()));
        }
    }
    if builds {
        backends::run_all(report, driver, chrome, &main, base, out_dir);
    }
}

/// The `data-*` attributes of `<main id="app">` at one moment.
pub(super) struct App(pub(super) Vec<(String, String)>);

/// A page function, `dataOf(element)`: the element's `data-*` attributes as an object, each
/// name without `data-`.
pub(super) const DATA_OF: &str = "const dataOf = (e) => {
       const out = {};
       for (const a of e.attributes) if (a.name.startsWith('data-')) out[a.name.slice(5)] = a.value;
       return out;
     };";

impl App {
    /// The attributes from what [`DATA_OF`] returns; `None` when it is not an object.
    pub(super) fn from_json(value: &Json) -> Option<Self> {
        let pairs = value.as_object()?.iter();
        Some(App(pairs
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect()))
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// An attribute's value; "" when it is missing.
    pub(super) fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or_default()
    }

    pub(super) fn is(&self, name: &str, value: &str) -> bool {
        self.get(name) == Some(value)
    }

    /// A numeric attribute; NaN when missing or not a number (so every comparison fails).
    pub(super) fn num(&self, name: &str) -> f64 {
        self.get(name).and_then(|v| v.trim().parse().ok()).unwrap_or(f64::NAN)
    }

    /// Whether the link's settings (`data-settings`) hold this `key=value` pair.
    pub(super) fn has_setting(&self, pair: &str) -> bool {
        self.get("settings").is_some_and(|s| s.split('&').any(|p| p == pair))
    }

    /// A one-line summary for progress and failure messages (long values cut).
    pub(super) fn summary(&self) -> String {
        let cut = |v: &str| v.chars().take(80).collect::<String>();
        let pairs: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}={:?}", cut(v))).collect();
        pairs.join(" ")
    }
}

/// The `data-*` attributes of the element with this id; `None` when the page has none (yet).
pub(super) fn data_of(session: &Session, id: &str) -> Result<Option<App>, String> {
    let script = format!(
        "{DATA_OF}
         const e = document.getElementById(arguments[0]);
         return e ? dataOf(e) : null;"
    );
    Ok(App::from_json(&session.execute(&script, vec![id.into()])?))
}

/// Reads `#app`'s attributes; `None` when the page has no `#app` (yet).
pub(super) fn read_app(session: &Session) -> Result<Option<App>, String> {
    data_of(session, "app")
}

pub(super) fn app_now(session: &Session) -> Result<App, String> {
    read_app(session)?.ok_or_else(|| "no <main id=\"app\"> on the page".to_string())
}

/// Polls `script` for at most `timeout` until it returns something other than `null` or
/// `false`; returns that value.
pub(super) fn wait_script(
    session: &Session, what: &str, script: &str, timeout: Duration,
) -> Result<Json, String> {
    poll(timeout, || {
        let value = session.script(script)?;
        let waiting = value.is_null() || value.as_bool() == Some(false);
        ready!(!waiting, value, "timed out after {:.0} s waiting for {what}", timeout.as_secs_f64())
    })
}

/// Polls `#app` for at most `timeout` until `done` holds. Fails at once when the page reports
/// an error, or when `done` returns an error (a state that can no longer succeed).
pub(super) fn wait_for(
    session: &Session, what: &str, timeout: Duration,
    mut done: impl FnMut(&App) -> Result<bool, String>,
) -> Result<App, String> {
    poll(timeout, || {
        let last = match read_app(session) {
            Ok(Some(app)) => {
                fail_if!(
                    app.is("state", "error"),
                    "the page reports data-state=error: {}",
                    app.get("error").unwrap_or("(no data-error)")
                );
                if done(&app)? {
                    return Ok(Ok(app));
                }
                app.summary()
            }
            Ok(None) => "no <main id=\"app\"> on the page".to_string(),
            Err(e) => format!("reading the page failed: {e}"),
        };
        Ok(Err(format!(
            "timed out after {:.0} s waiting for {what}; last seen: {last}",
            timeout.as_secs_f64()
        )))
    })
}

/// [`open_hash`] and waits (≤ `timeout`) until the page runs at epoch `epochs` or later.
pub(super) fn open_to_epoch(
    session: &Session, base: &str, hash: &str, epochs: f64, timeout: Duration,
) -> Result<App, String> {
    open_hash(session, base, hash)?;
    wait_for(session, &format!("running, epoch >= {epochs}"), timeout, |a| {
        Ok(a.is("state", "running") && a.num("epoch") >= epochs)
    })
}

/// Waits (≤ [`REACT`]) until `data-state` is `state`; `after` names what should have done it.
pub(super) fn wait_state(session: &Session, state: &str, after: &str) -> Result<App, String> {
    let what = format!("data-state={state} after {after}");
    wait_for(session, &what, REACT, |a| Ok(a.is("state", state)))
}

/// Clicks Pause (`#play`) and waits until the page is paused and its epoch has settled.
pub(super) fn pause(session: &Session) -> Result<App, String> {
    session.click("#play")?;
    wait_state(session, "paused", "Pause")?;
    settled(session)
}

/// Checks for `duration` (polling) that `holds` stays true; the error names what changed.
fn holds_for(
    session: &Session, what: &str, duration: Duration, holds: impl Fn(&App) -> bool,
) -> Result<App, String> {
    hold(
        duration,
        || app_now(session),
        |a| {
            fail_if!(!holds(a), "{what} did not hold: {}", a.summary());
            Ok(())
        },
    )
}

/// Waits until the epoch has not changed for [`HOLD`] (≤ 15 s) and returns that state.
pub(super) fn settled(session: &Session) -> Result<App, String> {
    let started = Instant::now();
    loop {
        let epoch = app_now(session)?.num("epoch");
        match holds_for(session, "a settled epoch", HOLD, |a| a.num("epoch") == epoch) {
            Ok(app) => return Ok(app),
            Err(e) if started.elapsed() > secs(15) => {
                return Err(format!("the epoch kept changing while paused: {e}"));
            }
            Err(_) => {}
        }
    }
}

/// Loads `url` as a new document (through about:blank, since a hash-only change of the same
/// page would not reload it).
pub(super) fn open(session: &Session, url: &str) -> Result<(), String> {
    session.navigate("about:blank")?;
    println!("    opening {url}");
    session.navigate(url)
}

pub(super) fn open_hash(session: &Session, base: &str, hash: &str) -> Result<(), String> {
    open(session, &format!("{base}index.html#{hash}"))
}

/// [`open_hash`] and waits (≤ 60 s) until the page runs.
pub(super) fn open_running(session: &Session, base: &str, hash: &str) -> Result<App, String> {
    open_hash(session, base, hash)?;
    wait_for(session, "running", secs(60), |a| Ok(a.is("state", "running")))
}

/// The text of the element `css` matches while it is displayed (nothing hides it or an
/// ancestor, its box has a size, it is not `visibility: hidden`); `None` otherwise.
pub(super) fn visible_text(session: &Session, css: &str) -> Result<Option<String>, String> {
    let value = session.execute(
        "const n = document.querySelector(arguments[0]);
         if (!n || n.closest('[hidden]')) return null;
         const r = n.getBoundingClientRect();
         const hidden = getComputedStyle(n).visibility === 'hidden';
         return r.width > 0 && r.height > 0 && !hidden ? n.innerText : null;",
        vec![css.into()],
    )?;
    Ok(value.as_str().map(str::to_string))
}

/// Moves the focus back to the page body, then presses `key`.
pub(super) fn press_on_body(session: &Session, key: &str) -> Result<(), String> {
    session.script(
        "const a = document.activeElement;
         if (a && a !== document.body && typeof a.blur === 'function') a.blur();",
    )?;
    session.press(key)
}

pub(super) fn save(out_dir: &Path, name: &str, bytes: &[u8]) -> Result<(), String> {
    let path = out_dir.join(name);
    fs::write(&path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))?;
    println!("    saved {}", path.display());
    Ok(())
}

/// Saves a screenshot of the viewport as `name`.
pub(super) fn snap(session: &Session, out_dir: &Path, name: &str) -> Result<(), String> {
    save(out_dir, name, &session.screenshot()?)
}

/// `starts`: the page runs on the CPU by itself and trains.
fn starts(session: &Session, base: &str, start_units: &mut f64) -> Result<String, String> {
    let started = Instant::now();
    open_hash(session, base, "backend=cpu&grow-every=3&max-units=200")?;
    let app = wait_for(session, "data-state=running and data-backend=cpu", secs(60), |a| {
        Ok(a.is("state", "running") && a.is("backend", "cpu"))
    })?;
    *start_units = app.num("units");
    println!("    running after {:.1} s: {}", started.elapsed().as_secs_f64(), app.summary());
    let app = wait_for(session, "data-epoch >= 2", secs(60), |a| Ok(a.num("epoch") >= 2.0))?;
    let (epoch, seconds) = (app.num("epoch"), started.elapsed().as_secs_f64());
    Ok(format!("running on cpu, epoch {epoch} after {seconds:.1} s"))
}

/// `grows`: growth phases happen on their own, add units and lineage; screenshots.
fn grows(session: &Session, start_units: f64, out_dir: &Path) -> Result<String, String> {
    let app = wait_for(
        session,
        &format!("data-growths >= 1, data-units > {start_units} and data-lineage >= 1"),
        secs(120),
        |a| Ok(a.num("growths") >= 1.0 && a.num("units") > start_units && a.num("lineage") >= 1.0),
    )?;
    println!("    grown: {}", app.summary());
    let element = |id: &str, name: &str| {
        let png = session
            .element_screenshot(&format!("#{id}"))
            .map_err(|e| format!("screenshot of #{id}: {e}"))?;
        save(out_dir, name, &png)
    };
    // The diagram first, while the split animation is still running.
    element("network", "network-mid-split.png")?;
    snap(session, out_dir, "running.png")?;
    for id in ["heatmap", "network", "why", "curves", "figure3"] {
        element(id, &format!("{id}.png"))?;
    }
    session.script("window.scrollTo(0, document.body.scrollHeight); return null;")?;
    snap(session, out_dir, "lower-panels.png")?;
    session.script("window.scrollTo(0, 0); return null;")?;
    let (units, growths, lineage) = (app.num("units"), app.num("growths"), app.num("lineage"));
    Ok(format!("units {start_units} -> {units}, growths {growths}, lineage {lineage}"))
}

/// Whether `#shortcuts` has the `hidden` attribute; an error when it is missing.
fn shortcuts_hidden(session: &Session) -> Result<bool, String> {
    session
        .script(
            "const s = document.getElementById('shortcuts');
             return s ? s.hasAttribute('hidden') : null;",
        )?
        .as_bool()
        .ok_or_else(|| "there is no #shortcuts element".to_string())
}

/// A control of the page: its key, the key's name in messages, and its button.
type Control = (&'static str, &'static str, &'static str);

/// Drives the controls by their keys (with the focus on the page body) or, without `keys`, by
/// clicks: reset while running (the epoch drops), pause, step exactly one epoch and stay
/// paused, grow by exactly one phase, then `while_paused`, then resume. Reset comes first so
/// the main run is young and far from any unit cap when `grow` is pressed.
fn exercise(
    session: &Session, keys: bool, while_paused: &dyn Fn() -> Result<(), String>,
) -> Result<(), String> {
    const TOGGLE: Control = (" ", "Space", "#play");
    const STEP: Control = ("s", "s", "#step");
    const GROW: Control = ("g", "g", "#grow");
    const RESET: Control = ("r", "r", "#reset");
    const RESET_FROM: f64 = 20.0;
    // Presses the key or clicks the button; returns its name for messages.
    let press = |(key, name, button): Control| match keys {
        true => press_on_body(session, key).map(|()| name),
        false => session.click(button).map(|()| button),
    };
    // Presses the play/pause control when the page is paused, and waits for it to run.
    let resume_if_paused = || {
        if app_now(session)?.is("state", "paused") {
            wait_state(session, "running", press(TOGGLE)?)?;
        }
        Ok::<_, String>(())
    };
    // An earlier check may have left the page paused: the toggle must then resume it.
    resume_if_paused()?;
    // Reset from far enough into the run that the replay up to `before` (100 epochs/s, a growth
    // every 3) stays below it for several polls: from epoch 3 the replay passed it within one
    // poll and a working reset went unseen.
    let app = wait_for(session, &format!("running with data-epoch >= {RESET_FROM}"), REACT, |a| {
        Ok(a.is("state", "running") && a.num("epoch") >= RESET_FROM)
    })?;
    let before = app.num("epoch");
    let reset = press(RESET)?;
    let app = wait_for(session, &format!("data-epoch < {before} after {reset}"), REACT, |a| {
        Ok(a.num("epoch") < before)
    })?;
    println!("    {reset} reset: epoch {before} -> {}", app.num("epoch"));

    // The contract leaves open whether reset pauses; pausing below needs a running page.
    resume_if_paused()?;
    let toggle = press(TOGGLE)?;
    wait_state(session, "paused", toggle)?;
    let epoch = settled(session)?.num("epoch");
    println!("    {toggle} paused at epoch {epoch}");

    let (step, next) = (press(STEP)?, epoch + 1.0);
    wait_for(session, &format!("data-epoch = {next} after {step}"), REACT, |a| {
        let now = a.num("epoch");
        fail_if!(now > next, "{step} went from epoch {epoch} to {now}, not one epoch");
        Ok(now == next)
    })?;
    let what = format!("epoch {next} and paused for 1 s after {step}");
    holds_for(session, &what, HOLD, |a| a.num("epoch") == next && a.is("state", "paused"))?;
    println!("    {step} stepped to epoch {next}");

    let app = app_now(session)?;
    let (growths, units) = (app.num("growths"), app.num("units"));
    let grew = press(GROW)?;
    let app =
        wait_for(session, &format!("data-growths = {} after {grew}", growths + 1.0), REACT, |a| {
            Ok(a.num("growths") >= growths + 1.0)
        })?;
    let (now, units_now) = (app.num("growths"), app.num("units"));
    fail_if!(now != growths + 1.0, "{grew} took growths from {growths} to {now}, not by one");
    println!("    {grew} grew: growths {growths} -> {now}, units {units} -> {units_now}");

    while_paused()?;

    let app = wait_state(session, "running", press(TOGGLE)?)?;
    println!("    {toggle} resumed at epoch {}", app.num("epoch"));
    Ok(())
}

/// `keyboard`: Tab reaches a visible control; Space, `s`, `g`, `r` and `?` do what the
/// contract says (with the focus on the page body).
fn keyboard(session: &Session) -> Result<String, String> {
    // Tab first, while nothing has had the focus yet.
    press_on_body(session, TAB)?;
    let focused = session.text(
        "const a = document.activeElement;
         if (!a || a === document.body || a === document.documentElement) return 'body';
         const r = a.getBoundingClientRect();
         const s = getComputedStyle(a);
         const what = a.tagName.toLowerCase() + (a.id ? '#' + a.id : '');
         const visible = r.width > 0 && r.height > 0 && s.visibility !== 'hidden'
           && s.display !== 'none' && !a.closest('[hidden]');
         return (visible ? 'visible ' : 'invisible ') + what;",
    )?;
    fail_if!(
        !focused.starts_with("visible "),
        "Tab did not move the focus to a visible control (focus: {focused})"
    );
    println!("    Tab focused {}", &focused["visible ".len()..]);

    let shortcut_sheet = || {
        fail_if!(!shortcuts_hidden(session)?, "#shortcuts is open before `?` was pressed");
        for (hidden, what) in [(false, "open"), (true, "closed")] {
            press_on_body(session, "?")?;
            poll(secs(10), || {
                let done = shortcuts_hidden(session)? == hidden;
                ready!(done, (), "#shortcuts did not become {what} within 10 s")
            })?;
        }
        println!("    ? opened and closed #shortcuts");
        Ok(())
    };
    exercise(session, true, &shortcut_sheet)?;
    Ok("Tab, r, Space, s, g, ?, Space all work".to_string())
}

/// `buttons`: the controls and canvases exist, and #reset, #play, #step and #grow work on
/// click.
fn buttons(session: &Session) -> Result<String, String> {
    let missing = session.script(
        "return ['play', 'step', 'grow', 'reset', 'heatmap', 'network', 'curves', 'figure3']
           .filter(id => {
             const e = document.getElementById(id);
             if (!e) return true;
             return ['heatmap', 'network', 'curves', 'figure3'].includes(id)
               ? e.tagName !== 'CANVAS' : false;
           });",
    )?;
    let missing = strings(&missing);
    fail_if!(!missing.is_empty(), "missing (or not a canvas): #{}", missing.join(", #"));
    exercise(session, false, &|| Ok(()))?;
    Ok("controls and canvases present; #reset, #play, #step, #grow work".to_string())
}
