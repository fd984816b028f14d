//! The end-to-end checks of long runs: a page growing to its unit cap (255 growth phases of
//! each run, by random growth: a Firefly phase at 200 units spends about 0.4 s optimising its
//! candidates, too long for CI) and training on keeps a flat memory, and 100 resets leave no DOM nodes or heap
//! behind. Memory is read from `#app` (`data-wasm-bytes`, `data-js-heap`, written each second).

use std::thread;
use std::time::{Duration, Instant};

use super::Report;
use super::checks::{App, open, read_app, wait_for};
use super::webdriver::Session;

/// Runs every check of this file on one browser session.
pub fn run_all(session: &Session, base: &str, report: &mut Report) {
    report.check("long-run", || long_run(session, base));
}

fn mb(bytes: f64) -> f64 {
    bytes / 1e6
}

/// Memory as the page last wrote it: (wasm bytes, JS heap bytes, DOM nodes).
fn memory(session: &Session) -> Result<(f64, f64, f64), String> {
    // Let the page write its once-a-second figures after what just happened.
    thread::sleep(Duration::from_millis(1200));
    let app: App = read_app(session)?.ok_or("no #app")?;
    let nodes = session
        .execute("return document.getElementsByTagName('*').length;", vec![])?
        .as_f64()
        .unwrap_or(0.0);
    Ok((app.num("wasm-bytes"), app.num("js-heap"), nodes))
}

/// `long-run`: growth to the unit cap then training on, and 100 resets, with flat memory.
fn long_run(session: &Session, base: &str) -> Result<String, String> {
    open(
        session,
        &format!(
            "{base}index.html#backend=cpu&seeds=1&layers=1&grow-every=1&max-units=256&method=random-new&baseline=random-split"
        ),
    )?;
    wait_for(session, "20 growths", Duration::from_secs(120), |a| {
        Ok(a.num("growths") >= 20.0 && a.num("wasm-bytes") > 0.0)
    })?;
    let before = memory(session)?;
    let started = Instant::now();
    let capped = wait_for(
        session,
        "255 growths (the unit cap)",
        Duration::from_secs(240),
        |a| Ok(a.num("growths") >= 255.0 && a.num("baseline-growths") >= 255.0),
    )?;
    let growing = started.elapsed().as_secs_f64();
    let at_cap = memory(session)?;
    // Training goes on at the cap.
    let epoch = capped.num("epoch");
    thread::sleep(Duration::from_secs(8));
    let after = memory(session)?;
    let app = read_app(session)?.ok_or("no #app")?;
    if app.num("epoch") <= epoch || !app.is("state", "running") {
        return Err(format!(
            "training stopped at the unit cap: {}",
            app.summary()
        ));
    }
    // Growing to 256 units raises the working set once (the maps evaluate every unit over the
    // grid, and wasm memory never shrinks); after that, training on must not add to it.
    let grew = |a: f64, b: f64| b - a;
    if grew(at_cap.0, after.0) > 4e6 || grew(at_cap.1, after.1) > 16e6 || after.2 > at_cap.2 + 20.0
    {
        return Err(format!(
            "memory grew while training on at the cap: wasm {:.1} → {:.1} MB, JS heap {:.1} → {:.1} MB, DOM nodes {} → {}",
            mb(at_cap.0),
            mb(after.0),
            mb(at_cap.1),
            mb(after.1),
            at_cap.2,
            after.2
        ));
    }

    // 100 resets, a frame or two apart.
    let resets_before = memory(session)?;
    for _ in 0..100 {
        session.execute("document.getElementById('reset').click();", vec![])?;
        thread::sleep(Duration::from_millis(40));
    }
    let resets_after = memory(session)?;
    if grew(resets_before.0, resets_after.0) > 4e6
        || grew(resets_before.1, resets_after.1) > 16e6
        || resets_after.2 > resets_before.2 + 20.0
    {
        return Err(format!(
            "100 resets left memory behind: wasm {:.1} → {:.1} MB, JS heap {:.1} → {:.1} MB, DOM nodes {} → {}",
            mb(resets_before.0),
            mb(resets_after.0),
            mb(resets_before.1),
            mb(resets_after.1),
            resets_before.2,
            resets_after.2
        ));
    }
    Ok(format!(
        "255 growths of each run in {growing:.0} s (wasm {:.1} MB at 20 growths, {:.1} MB at the cap); training on 8 s: wasm {:.1} → {:.1} MB, JS heap {:.1} → {:.1} MB, DOM nodes {} → {}; 100 resets: wasm {:.1} → {:.1} MB, JS heap {:.1} → {:.1} MB, DOM nodes {} → {}",
        mb(before.0),
        mb(at_cap.0),
        mb(at_cap.0),
        mb(after.0),
        mb(at_cap.1),
        mb(after.1),
        at_cap.2,
        after.2,
        mb(resets_before.0),
        mb(resets_after.0),
        mb(resets_before.1),
        mb(resets_after.1),
        resets_before.2,
        resets_after.2
    ))
}
