//! The end-to-end checks that the page's evidence is readable (`first-screen`, `tiny-loss`) and
//! that its layouts keep it in view (`embed-layout`, `phone-layout`, `slowmo-banner`).

use std::path::Path;
use std::thread;

use super::Report;
use super::checks::{open_hash, open_to_epoch, press_on_body, snap, wait_for, wait_script};
use super::json::{Json, items, json, num_at, str_at};
use super::webdriver::{POLL, Session, poll, secs};

/// The screen the first-screen check measures against (CSS pixels).
const SCREEN: (f64, f64) = (1400.0, 1000.0);
/// What must be in it.
const FIRST_SCREEN: [&str; 5] =
    ["#heatmap", "#baseline-heatmap", "#network", "#curves", "#figure3"];

pub fn run_all(session: &Session, base: &str, out_dir: &Path, report: &mut Report) {
    report.check("first-screen", || {
        with_viewport(session, SCREEN, false, || first_screen(session, base, out_dir))
    });
    report.check("tiny-loss", || tiny_loss(session, base, out_dir));
    report.check("embed-layout", || {
        with_viewport(session, (700.0, 500.0), false, || embed_layout(session, base, out_dir))
    });
    report.check("phone-layout", || {
        with_viewport(session, (390.0, 844.0), true, || phone_layout(session, base, out_dir))
    });
    report.check("slowmo-banner", || {
        with_viewport(session, SCREEN, false, || slowmo_banner(session, base, out_dir))
    });
}

/// Runs `body` with the viewport emulated at `size` (CSS pixels), then gives later checks the
/// session's own window again, whatever happened.
fn with_viewport(
    session: &Session, size: (f64, f64), mobile: bool,
    body: impl FnOnce() -> Result<String, String>,
) -> Result<String, String> {
    emulate(session, size, mobile)?;
    let result = body();
    let cleared = session.cdp("Emulation.clearDeviceMetricsOverride", json!({}));
    let detail = result?;
    cleared?;
    Ok(detail)
}

fn emulate(session: &Session, size: (f64, f64), mobile: bool) -> Result<(), String> {
    let metrics =
        json!({"width": size.0, "height": size.1, "deviceScaleFactor": 1.0, "mobile": mobile});
    session.cdp("Emulation.setDeviceMetricsOverride", metrics).map(drop)
}

/// An element's box at scroll 0: left, top, right, bottom (CSS pixels).
#[derive(Clone, Copy, Debug)]
struct Rect {
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

impl Rect {
    fn width(&self) -> f64 {
        self.right - self.left
    }
    fn height(&self) -> f64 {
        self.bottom - self.top
    }
    fn inside(&self, size: (f64, f64)) -> bool {
        self.left >= 0.0 && self.top >= 0.0 && self.right <= size.0 && self.bottom <= size.1
    }
}

impl std::fmt::Display for Rect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.0}×{:.0} at ({:.0}, {:.0})", self.width(), self.height(), self.left, self.top)
    }
}

/// The boxes of the elements matched by CSS selectors, after scrolling to the top; an element
/// that is missing or not displayed is an error.
fn rects(session: &Session, selectors: &[&str]) -> Result<Vec<Rect>, String> {
    let list: Vec<Json> = selectors.iter().map(|s| Json::from(*s)).collect();
    let boxes = session.execute(
        "window.scrollTo(0, 0);
         return arguments[0].map(css => {
           const e = document.querySelector(css);
           if (!e || e.getClientRects().length === 0) return null;
           const r = e.getBoundingClientRect();
           return [r.left, r.top, r.right, r.bottom];
         });",
        vec![list.into()],
    )?;
    let entries = items(&boxes);
    let rect = |(i, css): (usize, &&str)| {
        let part = entries.get(i).filter(|p| p.is_array());
        let part = part.ok_or_else(|| format!("{css} is missing or not displayed"))?;
        let n = |i: usize| num_at(part, i);
        Ok(Rect { left: n(0), top: n(1), right: n(2), bottom: n(3) })
    };
    selectors.iter().enumerate().map(rect).collect()
}

/// Fails unless every box lies inside the viewport and is at least `min` (width, height).
fn all_inside(
    selectors: &[&str], boxes: &[Rect], size: (f64, f64), min: (f64, f64), when: &str,
) -> Result<(), String> {
    for (css, r) in selectors.iter().zip(boxes) {
        fail_if!(
            !r.inside(size),
            "{when}: {css} is not inside the {}×{} viewport: {r}",
            size.0,
            size.1
        );
        fail_if!(
            r.width() < min.0 || r.height() < min.1,
            "{when}: {css} is too small to read: {r}"
        );
    }
    Ok(())
}

/// `embed-layout`: embedded (`embed=1`) in a 700×500 iframe-sized viewport, both maps and the
/// network diagram lie inside the viewport without scrolling. The backend note is one line
/// with a × that removes it, and the maps move up by its height. A notice longer than the
/// line (a network that starts above Max units) is cut with an ellipsis and carries its full
/// text as a tooltip; focusing it shows the whole text (it grows), and × removes it (paused,
/// so that no growth meets the cap again meanwhile).
fn embed_layout(session: &Session, base: &str, out_dir: &Path) -> Result<String, String> {
    const SIZE: (f64, f64) = (700.0, 500.0);
    const SEEN: [&str; 3] = ["#heatmap", "#baseline-heatmap", "#network"];
    const LINE: f64 = 40.0;
    open_to_epoch(session, base, "embed=1&backend=cpu", 1.0, secs(90))?;
    let before = rects(session, &SEEN)?;
    all_inside(&SEEN, &before, SIZE, (120.0, 100.0), "with the backend note")?;
    snap(session, out_dir, "embed-700x500.png")?;
    let note = rects(session, &["#backend-note"])?[0];
    fail_if!(note.height() > LINE, "the backend note takes more than one line: {note}");
    session.click("#backend-note .dismiss")?;
    let gone = "return document.getElementById('backend-note').hidden;";
    wait_script(session, "the backend note to go", gone, secs(5))?;
    let after = rects(session, &SEEN)?;
    let moved = before[0].top - after[0].top;
    fail_if!(
        moved < note.height() - 1.0,
        "dismissing the {:.0} px backend note moved the maps up by {moved:.0} px only",
        note.height()
    );

    open_to_epoch(session, base, "embed=1&backend=cpu&layers=8&max-units=4", 1.0, secs(90))?;
    let sel = "#notices li[data-cause=unit-cap] span";
    // Waits until the unit-cap notice is there, or with `there` false, gone.
    let notice = |there: bool, what: &str, timeout| {
        let js = format!("return {}document.querySelector('{sel}');", ["!", "!!"][there as usize]);
        wait_script(session, what, &js, timeout)
    };
    notice(true, "the unit-cap notice", secs(10))?;
    let with_notice = rects(session, &SEEN)?;
    all_inside(&SEEN, &with_notice, SIZE, (120.0, 100.0), "with two notices")?;
    let facts = session.execute(
        "const s = document.querySelector(arguments[0]);
         const r = s.getBoundingClientRect();
         return [r.height, s.scrollWidth > s.clientWidth, s.title === s.textContent,
                 getComputedStyle(s).textOverflow];",
        vec![sel.into()],
    )?;
    let line = num_at(&facts, 0);
    let cut = facts.get(1).and_then(Json::as_bool) == Some(true);
    let titled = facts.get(2).and_then(Json::as_bool) == Some(true);
    let overflow = str_at(&facts, 3);
    fail_if!(
        !(line <= LINE && cut && titled && overflow == "ellipsis"),
        "the unit-cap notice is not one cut line with its text as a tooltip: height              {line:.0}, cut {cut}, tooltip {titled}, text-overflow {overflow:?}"
    );
    session.execute("document.querySelector(arguments[0]).focus();", vec![sel.into()])?;
    let height = "return document.querySelector(arguments[0]).getBoundingClientRect().height;";
    let open_height = session.execute(height, vec![sel.into()])?.as_f64().unwrap_or(f64::NAN);
    fail_if!(
        open_height.is_nan() || open_height <= line * 1.5,
        "focusing the unit-cap notice did not show its whole text: {line:.0} px, then              {open_height:.0} px"
    );
    snap(session, out_dir, "embed-notice-open.png")?;
    // Paused first: a scheduled growth that meets the cap raises the notice again.
    session.click("#play")?;
    wait_for(session, "paused", secs(10), |a| Ok(a.is("state", "paused")))?;
    session.click("#notices li[data-cause=unit-cap] .dismiss")?;
    notice(false, "the unit-cap notice to go", secs(5))?;
    let (a, b, network, note) = (before[0], before[1], before[2], note.height());
    Ok(format!(
        "maps {a} and {b}, network {network}; the backend note ({note:.0} px) dismissed: maps up {moved:.0} px; the unit-cap notice {line:.0} px, {open_height:.0} px focused, dismissed"
    ))
}

/// `phone-layout`: on a 390×844 phone the two maps sit side by side (tops within 4 px, no
/// overlap, each at least 120 px wide) in the first screen, so that they can be compared; at
/// 1000 px wide they are side by side as well and larger (the phone shrinks them, it does not
/// stack them).
fn phone_layout(session: &Session, base: &str, out_dir: &Path) -> Result<String, String> {
    const SIZE: (f64, f64) = (390.0, 844.0);
    const MAPS: [&str; 2] = ["#heatmap", "#baseline-heatmap"];
    open_to_epoch(session, base, "backend=cpu", 1.0, secs(90))?;
    let side_by_side = |b: &[Rect], what: &str| -> Result<(), String> {
        let (a, c) = (b[0], b[1]);
        fail_if!(
            (a.top - c.top).abs() > 4.0 || a.right > c.left,
            "{what}: the maps are not side by side: Firefly's {a}, the baseline's {c}"
        );
        Ok(())
    };
    let phone = rects(session, &MAPS)?;
    side_by_side(&phone, "at 390×844")?;
    all_inside(&MAPS, &phone, SIZE, (120.0, 120.0), "at 390×844")?;
    snap(session, out_dir, "phone.png")?;
    emulate(session, (1000.0, 844.0), false)?;
    thread::sleep(POLL);
    let wide = rects(session, &MAPS)?;
    side_by_side(&wide, "at 1000×844")?;
    fail_if!(
        wide[0].width() <= phone[0].width(),
        "the maps did not grow with the screen: {} at 390 px, {} at 1000 px",
        phone[0],
        wide[0]
    );
    Ok(format!(
        "at 390×844: {} and {}; at 1000×844: {} and {}",
        phone[0], phone[1], wide[0], wide[1]
    ))
}

/// `slowmo-banner`: at 1400×1000 with slow motion on, a growth stops at its first part and
/// the page explains it; the explanation shows, and the network diagram moves by at most 8 px
/// and stays inside the first screen.
fn slowmo_banner(session: &Session, base: &str, out_dir: &Path) -> Result<String, String> {
    open_to_epoch(session, base, "backend=cpu&slowmo=1", 1.0, secs(90))?;
    let before = rects(session, &["#network"])?[0];
    press_on_body(session, "g")?;
    let shown = "const e = document.getElementById('explain');
                 return !e.hidden && e.textContent.length > 0;";
    wait_script(session, "the slow-motion explanation", shown, secs(30))?;
    let explain = rects(session, &["#explain"])?[0];
    let after = rects(session, &["#network"])?[0];
    snap(session, out_dir, "slowmo-banner.png")?;
    fail_if!(
        !after.inside(SCREEN) || (after.top - before.top).abs() > 8.0,
        "the explanation ({explain}) moved the diagram from {before} to {after}"
    );
    Ok(format!("explanation {explain}; diagram {before}, then {after}"))
}

/// `first-screen`: with the viewport at 1400×1000 the maps, the diagram, the loss curves and
/// Figure 3 lie inside it without scrolling (their boxes, at scroll 0), each drawn at a
/// readable size (150×100 at least), and every data set's name fits under its thumbnail.
fn first_screen(session: &Session, base: &str, out_dir: &Path) -> Result<String, String> {
    open_to_epoch(session, base, "backend=cpu", 1.0, secs(90))?;
    let boxes = rects(session, &FIRST_SCREEN)?;
    snap(session, out_dir, "first-screen.png")?;
    all_inside(&FIRST_SCREEN, &boxes, SCREEN, (150.0, 100.0), "the first screen")?;
    // Every data set's name fits under its thumbnail ("checkerboard" was cut to "checkerboarc").
    let cut = session.text(
        "return [...document.querySelectorAll('#datasets button span')]
           .filter(s => s.getBoundingClientRect().width > s.parentElement.clientWidth)
           .map(s => s.innerText).join(', ');",
    )?;
    fail_if!(!cut.is_empty(), "data set names wider than their buttons: {cut}");
    let seen: Vec<String> = FIRST_SCREEN
        .iter()
        .zip(&boxes)
        .map(|(css, r)| format!("{css} bottom {:.0}", r.bottom))
        .collect();
    Ok(seen.join(", "))
}

/// `tiny-loss`: two well-separated clusters and a large learning rate drive the training loss
/// below 0.001 within seconds; the metrics line then prints it with three significant digits
/// (the number read from the text agrees with `data-loss`, read in the same moment, to 1 %), and
/// no loss on the page reads as 0.000.
fn tiny_loss(session: &Session, base: &str, out_dir: &Path) -> Result<String, String> {
    open_hash(
        session,
        base,
        "backend=cpu&dataset=gauss&noise=0&optimizer=adam&lr=0.3\
             &layers=4&method=firefly-layers&grow-every=10&max-units=40&speed=max&seeds=1",
    )?;
    let (loss, text) = poll(secs(120), || {
        // Both in one script, so from one frame.
        let pair = session.script(
            "const app = document.getElementById('app');
             const m = document.getElementById('metrics');
             return [app ? app.dataset.loss : '', m ? m.innerText : ''];",
        )?;
        let loss: f64 = str_at(&pair, 0).parse().unwrap_or(f64::NAN);
        ready!(
            loss > 0.0 && loss < 1e-3,
            (loss, str_at(&pair, 1).to_string()),
            "the training loss did not fall between 0 and 0.001 in 120 s: data-loss {:?}",
            str_at(&pair, 0)
        )
    })?;
    snap(session, out_dir, "tiny-loss.png")?;
    let printed = text
        .split("training loss ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .ok_or_else(|| format!("#metrics names no training loss: {text:?}"))?;
    let value: f64 = printed
        .parse()
        .map_err(|_| format!("the training loss {printed:?} is not a number in {text:?}"))?;
    fail_if!(
        (value - loss).abs() > 0.01 * loss,
        "data-loss is {loss:e} but #metrics prints {printed:?} ({text:?})"
    );
    fail_if!(text.contains("0.000"), "#metrics prints a loss as 0.000: {text:?}");
    Ok(format!("data-loss {loss:e}, printed {printed}: {text}"))
}
