//! The end-to-end checks that the page's evidence is readable: `first-screen` (at 1400×1000 the
//! two maps, the network diagram, the loss curves and Figure 3 are all in the first screen,
//! measured from the elements' boxes) and `tiny-loss` (once the loss is tiny, the page prints it
//! with significant digits, as `1.3e-8`, never as `0.000`).

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use super::Report;
use super::checks::{open, save, wait_for};
use super::json::Json;
use super::webdriver::{POLL, Session};

/// The screen the first-screen check measures against (CSS pixels).
const SCREEN: (f64, f64) = (1400.0, 1000.0);
/// What must be in it.
const FIRST_SCREEN: [&str; 5] = [
    "heatmap",
    "baseline-heatmap",
    "network",
    "curves",
    "figure3",
];

/// Runs both checks on one browser session.
pub fn run_all(session: &Session, base: &str, out_dir: &Path, report: &mut Report) {
    report.check("first-screen", || first_screen(session, base, out_dir));
    report.check("tiny-loss", || tiny_loss(session, base, out_dir));
}

/// `first-screen`: with the viewport at 1400×1000 the maps, the diagram, the loss curves and
/// Figure 3 lie inside it without scrolling (their boxes, at scroll 0), each drawn at a
/// readable size.
fn first_screen(session: &Session, base: &str, out_dir: &Path) -> Result<String, String> {
    let metrics = Json::obj([
        ("width", SCREEN.0.into()),
        ("height", SCREEN.1.into()),
        ("deviceScaleFactor", 1.0.into()),
        ("mobile", false.into()),
    ]);
    session.cdp("Emulation.setDeviceMetricsOverride", metrics)?;
    let result = measure_first_screen(session, base, out_dir);
    // Later checks get the session's own window again, whatever happened.
    let cleared = session.cdp("Emulation.clearDeviceMetricsOverride", Json::obj([]));
    let detail = result?;
    cleared?;
    Ok(detail)
}

fn measure_first_screen(session: &Session, base: &str, out_dir: &Path) -> Result<String, String> {
    open(session, &format!("{base}index.html#backend=cpu"))?;
    wait_for(
        session,
        "running, epoch >= 1",
        Duration::from_secs(90),
        |a| Ok(a.is("state", "running") && a.num("epoch") >= 1.0),
    )?;
    let ids: Vec<Json> = FIRST_SCREEN.iter().map(|id| Json::from(*id)).collect();
    let boxes = session.execute(
        "window.scrollTo(0, 0);
         return arguments[0].map(id => {
           const e = document.getElementById(id);
           if (!e) return [id, -1, -1, -1, -1];
           const r = e.getBoundingClientRect();
           return [id, r.left, r.top, r.right, r.bottom];
         });",
        vec![ids.into()],
    )?;
    save(out_dir, "first-screen.png", &session.screenshot()?)?;
    let mut seen = Vec::new();
    for entry in boxes.as_array().unwrap_or_default() {
        let part = entry.as_array().unwrap_or_default();
        let id = part.first().and_then(Json::as_str).unwrap_or("?");
        let n = |i: usize| part.get(i).and_then(Json::as_f64).unwrap_or(f64::NAN);
        let (left, top, right, bottom) = (n(1), n(2), n(3), n(4));
        if !(left >= 0.0 && top >= 0.0 && right <= SCREEN.0 && bottom <= SCREEN.1) {
            return Err(format!(
                "#{id} is not inside the first {}×{} screen: left {left:.0}, top {top:.0}, \
                 right {right:.0}, bottom {bottom:.0}",
                SCREEN.0, SCREEN.1
            ));
        }
        if right - left < 150.0 || bottom - top < 100.0 {
            return Err(format!(
                "#{id} is too small to read: {:.0}×{:.0}",
                right - left,
                bottom - top
            ));
        }
        seen.push(format!("#{id} bottom {bottom:.0}"));
    }
    if seen.len() != FIRST_SCREEN.len() {
        return Err(format!("measured {} of the elements: {seen:?}", seen.len()));
    }
    Ok(seen.join(", "))
}

/// `tiny-loss`: two well-separated clusters and a large learning rate drive the training loss
/// below 0.001 within seconds; the metrics line then prints it with three significant digits
/// (the number read from the text agrees with `data-loss`, read in the same moment, to 1 %), and
/// no loss on the page reads as 0.000.
fn tiny_loss(session: &Session, base: &str, out_dir: &Path) -> Result<String, String> {
    open(
        session,
        &format!(
            "{base}index.html#backend=cpu&dataset=gauss&noise=0&optimizer=adam&lr=0.3\
             &layers=4&method=firefly-layers&grow-every=10&max-units=40&speed=max&seeds=1"
        ),
    )?;
    let started = Instant::now();
    let (loss, text) = loop {
        // Both in one script, so from one frame.
        let pair = session.execute(
            "const app = document.getElementById('app');
             const m = document.getElementById('metrics');
             return [app ? app.dataset.loss : '', m ? m.innerText : ''];",
            vec![],
        )?;
        let part = pair.as_array().unwrap_or_default();
        let text = |i: usize| part.get(i).and_then(Json::as_str).unwrap_or_default();
        let loss: f64 = text(0).parse().unwrap_or(f64::NAN);
        if loss > 0.0 && loss < 1e-3 {
            break (loss, text(1).to_string());
        }
        if started.elapsed() > Duration::from_secs(120) {
            return Err(format!(
                "the training loss did not fall between 0 and 0.001 in 120 s: data-loss {:?}",
                text(0)
            ));
        }
        thread::sleep(POLL);
    };
    save(out_dir, "tiny-loss.png", &session.screenshot()?)?;
    let printed = text
        .split("training loss ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .ok_or_else(|| format!("#metrics names no training loss: {text:?}"))?;
    let value: f64 = printed
        .parse()
        .map_err(|_| format!("the training loss {printed:?} is not a number in {text:?}"))?;
    if (value - loss).abs() > 0.01 * loss {
        return Err(format!(
            "data-loss is {loss:e} but #metrics prints {printed:?} ({text:?})"
        ));
    }
    if text.contains("0.000") {
        return Err(format!("#metrics prints a loss as 0.000: {text:?}"));
    }
    Ok(format!("data-loss {loss:e}, printed {printed}: {text}"))
}
