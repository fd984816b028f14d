//! `course-page`: the example course page (`www/course.html`) followed as written. Two embedded
//! playgrounds driven through `postMessage`; each sentence and button checked by its effect on
//! both (captions, Play, Grow, Pause, Step, data set, Reset, out of view, export and import).

use super::*;
use crate::e2e::json::strings;

/// Polls both playgrounds (and the course page, which must report no refused command) until
/// `done` holds.
fn wait_frames(
    session: &Session, what: &str, mut done: impl FnMut(&App, &App) -> bool,
) -> Result<(App, App), String> {
    poll(WAIT, || {
        let c = course(session)?;
        fail_if!(c.num("errors") > 0.0, "a playground refused a command: {}", c.summary());
        let (a, b) = frames(session)?;
        ready!(
            done(&a, &b),
            (a, b),
            "timed out waiting for {what}; left: {}; right: {}",
            a.summary(),
            b.summary()
        )
    })
}

/// Checks that both playgrounds stay as `same` says for a second and a quarter (a paused page's
/// epoch holds).
fn hold_frames(
    session: &Session, what: &str, same: impl Fn(&App, &App) -> bool,
) -> Result<(App, App), String> {
    hold(
        millis(1250),
        || frames(session),
        |(a, b)| {
            fail_if!(
                !same(a, b),
                "{what} did not hold: left {}; right {}",
                a.summary(),
                b.summary()
            );
            Ok(())
        },
    )
}

fn caption(session: &Session, frame: &str) -> Result<String, String> {
    session.text(&format!("return document.getElementById('status-{frame}').textContent;"))
}

/// Waits until both captions contain every piece `parts` gives for them.
fn captions_say(
    session: &Session, what: &str, parts: impl Fn(&str) -> Vec<String>,
) -> Result<(String, String), String> {
    poll(WAIT, || {
        let (a, b) = (caption(session, "a")?, caption(session, "b")?);
        let says = |frame: &str, c: &str| parts(frame).iter().all(|p| c.contains(p.as_str()));
        ready!(
            says("a", &a) && says("b", &b),
            (a, b),
            "the captions do not say {what} ({:?} / {:?}): {a:?} / {b:?}",
            parts("a"),
            parts("b")
        )
    })
}

/// The course page's log, oldest first.
fn log_lines(session: &Session) -> Result<Vec<String>, String> {
    let lines = session.script(
        "return [...document.querySelectorAll('#log li')].map((li) => li.textContent).reverse();",
    )?;
    Ok(strings(&lines).into_iter().map(str::to_string).collect())
}

/// A growth as the log words it: `(frame, run, before, after)`, `after` `None` for a growth
/// that found nothing (the architecture kept).
type Logged = (String, String, String, Option<String>);

/// Reads the log's growth lines: `a: main grew 2-8-2 → 2-9-2`, or `b: main found nothing worth
/// growing (2-1-2 kept)`. A line that says a run grew must name two different architectures.
fn logged_growths(lines: &[String]) -> Result<Vec<Logged>, String> {
    let mut out = Vec::new();
    for line in lines {
        let split = line.split_once(": ").and_then(|(f, rest)| Some((f, rest.split_once(' ')?)));
        let Some((frame, (run, rest))) = split else { continue };
        if let Some(arrow) = rest.strip_prefix("grew ") {
            let (before, after) = arrow
                .split_once(" → ")
                .ok_or_else(|| format!("a growth line without an arrow: {line:?}"))?;
            fail_if!(
                before == after,
                "the log calls a growth that added nothing a growth: {line:?}"
            );
            out.push((frame.into(), run.into(), before.into(), Some(after.into())));
        } else if let Some(kept) = rest.strip_prefix("found nothing worth growing (") {
            let arch = kept.trim_end_matches(" kept)");
            out.push((frame.into(), run.into(), arch.into(), None));
        }
    }
    Ok(out)
}

/// The units of both runs and their growths, per iframe: `[units, baseline units, growths,
/// baseline growths]`.
fn growth_counts(app: &App) -> [f64; 4] {
    ["units", "baseline-units", "growths", "baseline-growths"].map(|k| app.num(k))
}

/// Clicks Grow both and waits (`what`) until both runs of both playgrounds have grown.
fn grow_both(session: &Session, what: &str) -> Result<(App, App), String> {
    let (a, b) = frames(session)?;
    let before = [growth_counts(&a), growth_counts(&b)];
    session.click("#grow-both")?;
    wait_frames(session, what, |a, b| {
        [growth_counts(a), growth_counts(b)]
            .iter()
            .zip(&before)
            .all(|(now, was)| now[2] > was[2] && now[3] > was[3])
    })
}

/// `course-page`: every sentence and button of the example course page, by its effect. The
/// text's setup (what each side compares, on which data, from how many units, growing every 300
/// epochs up to 24 and 16 units); captions that leave "Loading…" and say what each playground
/// shows and where it stands; Play both (both epochs advance); Grow both a few times after Play
/// (neither is at its cap, every network's units grow, the log calls a growth that added
/// nothing so); Pause both (both epochs hold); Step both while paused (each exactly one
/// epoch); Both on XOR after Pause (both on xor and still paused); Grow both while paused; a
/// growth that added nothing logged as such; Reset both (epoch 0, the starting networks, still paused); a playground scrolled out of view
/// stops; Show the left run on the right (the same epoch, loss and link, paused).
pub(super) fn course_page(session: &Session, base: &str) -> Result<String, String> {
    let mut said = Vec::new();
    open(session, &format!("{base}course.html"))?;
    wait_course(session, "two ready events", |c| Ok(c.num("ready") >= 2.0))?;

    // The text: left, splitting only (Firefly against random) on the spiral; right, Firefly
    // splitting against Firefly's new units from a single unit on the circle; growth every 300
    // epochs up to 24 and 16 units. The captions leave "Loading…" and say the same, paused.
    let shows = |frame: &str| match frame {
        "a" => "firefly-split vs random-split on spiral".to_string(),
        _ => "firefly-split vs firefly-new on circle".to_string(),
    };
    let (a, b) =
        wait_frames(session, "both playgrounds paused", both(|x| x.is("state", "paused")))?;
    captions_say(session, "what each shows, paused", |f| {
        vec![shows(f), "paused · epoch 0".into()]
    })?;
    for (frame, method, baseline, cap) in
        [("a", "firefly-split", "random-split", "24"), ("b", "firefly-split", "firefly-new", "16")]
    {
        let got = ["method", "baseline", "interval", "max-units"]
            .map(|id| frame_read(session, frame, id, None))
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        fail_if!(
            got != [method, baseline, "300", cap],
            "iframe {frame} runs {got:?}; the text says {method} against {baseline}, growing every 300 epochs up to {cap} units"
        );
    }
    fail_if!(
        b.num("units") != 1.0 || b.num("baseline-units") != 1.0,
        "the right playground does not start from a single unit: {}",
        b.summary()
    );
    said.push(format!(
        "setup as the text says (left {} units, right 1), captions say what each shows",
        a.num("units")
    ));

    // Play both: both epochs advance, and the captions say so.
    session.click("#play-both")?;
    let (a, b) = wait_frames(
        session,
        "both training",
        both(|x| x.is("state", "running") && x.num("epoch") >= 100.0),
    )?;
    captions_say(session, "running", |f| vec![shows(f), "running · epoch".into()])?;
    wait_course(session, "epoch events from both", |c| {
        Ok(c.num("epoch-a") >= 2.0 && c.num("epoch-b") >= 2.0)
    })?;
    said.push(format!("Play both: epochs {} and {}", a.num("epoch"), b.num("epoch")));

    // Grow both a few times after Play: neither playground is at its cap, each press grows both
    // runs of both, and every network ends with more units.
    let caps = [24.0, 16.0];
    for (frame, app, cap) in [("a", &a, caps[0]), ("b", &b, caps[1])] {
        fail_if!(
            app.num("units") >= cap || app.num("baseline-units") >= cap,
            "iframe {frame} is at its cap of {cap} units after Play, so Grow both adds nothing: {}",
            app.summary()
        );
    }
    let start = [growth_counts(&a), growth_counts(&b)];
    for press in 0..3 {
        grow_both(session, &format!("Grow both, press {}", press + 1))?;
    }
    let (a, b) = frames(session)?;
    let end = [growth_counts(&a), growth_counts(&b)];
    for (i, frame) in ["a", "b"].iter().enumerate() {
        for (k, run) in [(0, "main"), (1, "baseline")] {
            fail_if!(
                end[i][k] <= start[i][k],
                "Grow both three times left iframe {frame}'s {run} network at {} units",
                end[i][k]
            );
        }
    }
    // The log: every growth heard, worded as what it did.
    let logged = wait_log(session, &a, &b)?;
    let units = |i: usize, k: usize| format!("{}→{}", start[i][k], end[i][k]);
    let (a_main, a_base, b_main, b_base) = (units(0, 0), units(0, 1), units(1, 0), units(1, 1));
    let count = logged.len();
    said.push(format!(
        "Grow both ×3 after Play: units {a_main} / {a_base} left, {b_main} / {b_base} right, {count} growths logged as they went"
    ));

    // Pause both: both stop, and the captions say so.
    session.click("#pause-both")?;
    let (a, b) = wait_frames(session, "both paused", both(|x| x.is("state", "paused")))?;
    let (ea, eb) = (a.num("epoch"), b.num("epoch"));
    // Both at their paused epoch plus `n`, and the captions that say so.
    let at = |n: f64| move |a: &App, b: &App| a.num("epoch") == ea + n && b.num("epoch") == eb + n;
    let caption = |n: f64| {
        move |f: &str| vec![format!("paused · epoch {}", if f == "a" { ea } else { eb } + n)]
    };
    hold_frames(session, "the epochs after Pause both", at(0.0))?;
    captions_say(session, "paused", caption(0.0))?;
    said.push(format!("Pause both: held at epochs {ea} and {eb}"));

    // Step both while paused: exactly one epoch each, still paused.
    session.click("#step-both")?;
    wait_frames(session, "one epoch stepped by both", |a, b| {
        at(1.0)(a, b) && a.is("state", "paused") && b.is("state", "paused")
    })?;
    hold_frames(session, "one epoch after Step both", at(1.0))?;
    captions_say(session, "the stepped epoch", caption(1.0))?;
    said.push(format!("Step both: {ea}→{} and {eb}→{}", ea + 1.0, eb + 1.0));

    // Both on XOR after Pause both: both on xor, both still paused at epoch 0.
    session.click("#xor-both")?;
    wait_course(session, "both on xor", |c| {
        Ok(c.text("link-a").contains("dataset=xor") && c.text("link-b").contains("dataset=xor"))
    })?;
    wait_frames(
        session,
        "both on xor at epoch 0",
        both(|x| x.text("settings").contains("dataset=xor") && x.num("epoch") == 0.0),
    )?;
    let paused_at_0 = || both(|x| x.is("state", "paused") && x.num("epoch") == 0.0);
    hold_frames(session, "paused at epoch 0 on xor", paused_at_0())?;
    captions_say(session, "xor, paused", |_| vec!["on xor · paused · epoch 0".into()])?;
    said.push("Both on XOR after Pause: xor, still paused at epoch 0".into());

    // Grow both while paused: both runs of both grow (or the log says a run found nothing).
    let (a, b) = grow_both(session, "Grow both while paused")?;
    let logged = wait_log(session, &a, &b)?;
    let nothing: Vec<String> = logged
        .iter()
        .rev()
        .take(4)
        .filter(|g| g.3.is_none())
        .map(|g| format!("{} {} kept {}", g.0, g.1, g.2))
        .collect();
    let grew = match nothing.is_empty() {
        true => "all four grew".to_string(),
        false => format!("logged as nothing added: {}", nothing.join(", ")),
    };
    said.push(format!("Grow both while paused on xor: {grew}"));

    // A growth that added nothing, as a playground reports one (the right one's split-only
    // Firefly does on xor once trained, which no fixed number of clicks reaches): the log says
    // it found nothing, not that it grew.
    session.script(
        "const b = document.getElementById('b').contentWindow;
         const growth = { architecture_before: '2-1-2', architecture_after: '2-1-2' };
         window.dispatchEvent(new MessageEvent('message', {
           data: { type: 'grew', run: 'main', growth }, origin: location.origin, source: b }));",
    )?;
    let last = log_lines(session)?.pop().unwrap_or_default();
    fail_if!(
        last != "b: main found nothing worth growing (2-1-2 kept)",
        "a growth that added nothing is logged as {last:?}"
    );
    said.push(format!("a growth that added nothing: {last:?}"));

    // Reset both: epoch 0 and the starting networks (8 units left, 1 right), still paused.
    session.click("#step-both")?;
    wait_frames(session, "a step before Reset", both(|x| x.num("epoch") == 1.0))?;
    session.click("#reset-both")?;
    let reset = both(|x| x.num("epoch") == 0.0 && x.num("growths") == 0.0);
    wait_frames(session, "both reset", reset)?;
    let (a, b) = hold_frames(session, "epoch 0 after Reset both", paused_at_0())?;
    fail_if!(
        a.num("units") != 8.0 || b.num("units") != 1.0 || b.num("baseline-units") != 1.0,
        "Reset both did not bring the starting networks back: left {}; right {}",
        a.summary(),
        b.summary()
    );
    captions_say(session, "epoch 0 after Reset", |_| vec!["paused · epoch 0".into()])?;
    said.push("Reset both: epoch 0, the starting networks, paused".into());

    // Play both again; scrolled out of view, a playground stops training; back in view, it goes
    // on.
    session.click("#play-both")?;
    wait_frames(session, "both training again", both(|x| x.num("epoch") >= 2.0))?;
    scroll_away(session, "a")?;
    let parked = frame_attr(session, "a", "data-epoch")?;
    thread::sleep(millis(1200));
    let still = frame_attr(session, "a", "data-epoch")?;
    fail_if!(still != parked, "out of view, iframe a trained on: epoch {parked} → {still}");
    scroll_back(session, "a", "data-epoch", &still)?;
    said.push("out of view: held, then resumed".into());

    // Show the left run on the right: the same epoch and loss, paused, and the caption says
    // what it now shows.
    session.click("#copy-a-to-b")?;
    let c = wait_course(session, "the left run exported", |c| {
        Ok(c.get("exported-epoch").is_some_and(|e| !e.is_empty()))
    })?;
    let (epoch, loss) = (c.text("exported-epoch").to_string(), c.text("exported-loss").to_string());
    poll(secs(20), || {
        let (_, b) = frames(session)?;
        let (e, l, s) = (b.text("epoch"), b.text("loss"), b.text("state"));
        // The page writes the f32 loss, the export its value widened to f64: compare as f32.
        let same_loss = match (l.parse::<f32>(), loss.parse::<f64>()) {
            (Ok(a), Ok(b)) => a == b as f32,
            _ => false,
        };
        ready!(
            e == epoch && same_loss && s == "paused",
            (),
            "iframe b shows epoch {e}, loss {l}, {s}; the export was epoch {epoch}, loss {loss}"
        )
    })?;
    let (a, b) = frames(session)?;
    let (a_link, b_link) = (a.text("settings"), b.text("settings"));
    fail_if!(a_link != b_link, "after the import iframe b has {b_link}, the export {a_link}");
    let (_, right) = captions_say(session, "the left run on the right", |f| {
        if f == "b" {
            vec![
                // The left playground has been on xor since Both on XOR.
                "firefly-split vs random-split on xor · paused".into(),
                format!("epoch {epoch}"),
            ]
        } else {
            Vec::new()
        }
    })?;
    said.push(format!(
        "the left run on the right: epoch {epoch}, loss {loss}, paused; caption {right:?}"
    ));
    Ok(said.join("; "))
}

/// Waits until the log has heard every growth the playgrounds made (as many growth lines per
/// iframe and run as its growths since its last start, counted from the end of the log), each
/// worded as what it did; returns the growth lines.
fn wait_log(session: &Session, a: &App, b: &App) -> Result<Vec<Logged>, String> {
    poll(secs(10), || {
        let logged = logged_growths(&log_lines(session)?)?;
        let count = |frame: &str, run: &str| {
            logged.iter().filter(|g| g.0 == frame && g.1 == run).count() as f64
        };
        let heard = [("a", a), ("b", b)].iter().all(|(f, app)| {
            count(f, "main") >= app.num("growths")
                && count(f, "baseline") >= app.num("baseline-growths")
        });
        ready!(
            heard,
            logged,
            "the log did not list every growth: {logged:?}; left {}; right {}",
            a.summary(),
            b.summary()
        )
    })
}
