//! The end-to-end checks of what a new user does with the controls: each changes something as a
//! person would (a list, a thumbnail, a text field, Back and Forward, a file, a key) and checks
//! that the run changed, not only that the control exists.

use std::path::Path;
use std::thread;
use std::time::Instant;

use super::Report;
use super::checks::{
    REACT, app_now, open_hash, open_running, open_to_epoch, pause, read_app, settled, snap,
    visible_text, wait_for, wait_state,
};
use super::json::{Json, items, json};
use super::webdriver::{Session, millis, poll, poll_every, secs};

pub fn run_all(session: &Session, base: &str, out_dir: &Path, report: &mut Report) {
    report.check("losses", || losses(session, base, out_dir));
    report.check("learning-rate", || learning_rate(session, base));
    report.check("nan-recovery", || nan_recovery(session, base));
    report.check("history", || history(session, base));
    report.check("grow-paused", || grow_paused(session, base));
    report.check("space-key", || space_key(session, base));
    report.check("large-csv", || large_csv(session, base));
    report.check("csv-pause", || csv_pause(session, base));
    report.check("figure3-seeds", || figure3_seeds(session, base, out_dir));
    report.check("curves-hover", || curves_hover(session, base, out_dir));
}

/// `curves-hover`: the pointer over the loss chart reads out the records under it: near its
/// right edge on a paused page, the last epoch and its training loss; at its middle, an earlier
/// epoch; leaving the chart clears it.
fn curves_hover(session: &Session, base: &str, out_dir: &Path) -> Result<String, String> {
    open_to_epoch(session, base, "backend=cpu&grow-every=100", 150.0, secs(60))?;
    let app = pause(session)?;
    let read = |event: &str, at: &str| -> Result<Vec<f64>, String> {
        let before = session.text("return document.getElementById('curves').dataset.hover;")?;
        let script = format!(
            "const c = document.getElementById('curves'); const r = c.getBoundingClientRect();
             c.dispatchEvent(new MouseEvent('{event}', {{clientX: {at}, clientY: r.top + r.height / 2}}));"
        );
        session.execute(&script, vec![])?;
        let text = poll(REACT, || {
            let now = session.text("return document.getElementById('curves').dataset.hover;")?;
            ready!(now != before, now, "#curves' data-hover stayed {before:?} after {event}")
        })?;
        Ok(text.split(' ').filter_map(|n| n.parse().ok()).collect())
    };
    let edge = read("mousemove", "r.right - 10")?;
    let (epoch, loss) = (app.num("epoch"), app.num("loss"));
    fail_if!(
        edge.len() != 3 || edge[0] != epoch || (edge[1] - loss).abs() > 1e-6 * loss,
        "near the right edge the chart read {edge:?}, not epoch {epoch} at loss {loss}"
    );
    snap(session, out_dir, "curves-hover.png")?;
    let middle = read("mousemove", "r.left + r.width / 2")?;
    fail_if!(
        middle.first().is_none_or(|&e| !(1.0..epoch).contains(&e)),
        "at the middle the chart read {middle:?}, not an earlier epoch than {epoch}"
    );
    let left = read("mouseleave", "0")?;
    fail_if!(!left.is_empty(), "leaving the chart kept the read-out {left:?}");
    Ok(format!("at the edge epoch {epoch}, loss {}; at the middle epoch {}", edge[1], middle[0]))
}

/// Sets a control's value and fires `change`, as the browser does when a person picks a value.
pub(super) fn choose(session: &Session, id: &str, value: &str) -> Result<(), String> {
    let found = session.execute(
        "const el = document.getElementById(arguments[0]);
         if (!el) return false;
         el.value = arguments[1];
         el.dispatchEvent(new Event('change', { bubbles: true }));
         return true;",
        vec![id.into(), value.into()],
    )?;
    if found.as_bool() == Some(true) { Ok(()) } else { Err(format!("there is no #{id} control")) }
}

/// `losses`: the opening page, as a new user watches it: it reports both runs' losses and says
/// what to look for; after 20 s it is still growing (the page plays at 100 epochs a second and
/// waits after each growth, so its 15 growths take about a minute); at 60 s Firefly's training
/// loss is at most the baseline's, as the text says. Screenshots at 10, 20, 30 and 60 s.
fn losses(session: &Session, base: &str, out_dir: &Path) -> Result<String, String> {
    open_hash(session, base, "backend=cpu")?;
    wait_for(session, "both losses", secs(90), |a| {
        Ok(a.num("loss") > 0.0 && a.num("baseline-loss") > 0.0)
    })?;
    let started = Instant::now();
    let look_for = session
        .text("const e = document.getElementById('look-for'); return e ? e.innerText : '';")?;
    fail_if!(
        !look_for.contains("Firefly"),
        "#look-for does not say what to look for: {look_for:?}"
    );
    std::thread::sleep(secs(10).saturating_sub(started.elapsed()));
    snap(session, out_dir, "opening-10s.png")?;
    std::thread::sleep(secs(20).saturating_sub(started.elapsed()));
    let at_20 = app_now(session)?;
    snap(session, out_dir, "opening-20s.png")?;
    let growths = at_20.num("growths");
    fail_if!(
        !(2.0..15.0).contains(&growths) || !at_20.is("state", "running"),
        "after 20 s the opening page should still be growing: {growths} growths, state {:?}",
        at_20.get("state")
    );
    std::thread::sleep(secs(30).saturating_sub(started.elapsed()));
    snap(session, out_dir, "opening-30s.png")?;
    std::thread::sleep(secs(60).saturating_sub(started.elapsed()));
    let at_60 = app_now(session)?;
    snap(session, out_dir, "opening-60s.png")?;
    let (loss, baseline) = (at_60.num("loss"), at_60.num("baseline-loss"));
    fail_if!(
        loss.is_nan() || baseline.is_nan() || loss > baseline,
        "at 60 s Firefly's training loss {loss} is above the baseline's {baseline}"
    );
    // The loss chart shows that gap: on its logarithmic axis the two losses stand at least 5 %
    // of its height apart (on a linear axis to 0.8 they were 0.3 % apart).
    let axis = session.text("return document.getElementById('curves').dataset.logAxis || '';")?;
    let decades: Vec<f64> = axis.split(' ').filter_map(|d| d.parse().ok()).collect();
    let gap = match decades[..] {
        [low, high] if high > low => (baseline / loss).log10() / (high - low),
        _ => return Err(format!("#curves has no logarithmic loss axis: {axis:?}")),
    };
    fail_if!(gap < 0.05, "the loss chart draws the two losses {gap:.3} of its height apart");
    let (growths_60, epoch) = (at_60.num("growths"), at_60.num("epoch"));
    Ok(format!(
        "{growths} growths at 20 s; at 60 s {growths_60} growths, epoch {epoch}, training loss \
         {loss} (Firefly) vs {baseline} (baseline), {gap:.3} of the loss chart apart"
    ))
}

/// `learning-rate`: picking a rate in the list changes the run live and the link, and leaves no
/// notice.
fn learning_rate(session: &Session, base: &str) -> Result<String, String> {
    let epoch = open_to_epoch(session, base, "backend=cpu", 2.0, secs(60))?.num("epoch");
    choose(session, "lr", "0.03")?;
    let app =
        wait_for(session, "lr=0.03 in data-settings", REACT, |a| Ok(a.has_setting("lr=0.03")))?;
    fail_if!(!app.text("error").is_empty(), "a notice appeared: {}", app.text("error"));
    fail_if!(app.num("epoch") < epoch, "changing the learning rate restarted the run");
    let hash = session.text("return location.hash;")?;
    fail_if!(!hash.contains("lr=0.03"), "the link did not follow: {hash}");
    // A rate from a link that the list lacks is shown, and later changes still work.
    open_hash(session, base, "backend=cpu&lr=0.5")?;
    wait_for(session, "running with lr=0.5", secs(60), |a| {
        Ok(a.is("state", "running") && a.has_setting("lr=0.5"))
    })?;
    let shown = session.text("return document.getElementById('lr').value;")?;
    fail_if!(shown != "0.5", "the list shows {shown:?} for lr=0.5");
    choose(session, "lr", "0.3")?;
    wait_for(session, "lr=0.3 in data-settings", REACT, |a| {
        Ok(a.has_setting("lr=0.3") && a.text("error").is_empty())
    })?;
    Ok(format!("lr 0.03 applied live at epoch {epoch}; lr=0.5 shown, then 0.3 applied"))
}

/// `figure3-seeds`: the Seeds slider restarts with that many seeds of each run, every seed
/// trains and grows in step with the first, and the link follows.
fn figure3_seeds(session: &Session, base: &str, out_dir: &Path) -> Result<String, String> {
    open_hash(session, base, "backend=cpu&seeds=1&grow-every=3")?;
    wait_for(session, "one seed running", secs(60), |a| {
        Ok(a.is("state", "running") && a.num("seeds") == 1.0 && a.num("epoch") >= 2.0)
    })?;
    choose(session, "seeds", "3")?;
    let app = wait_for(session, "3 seeds, every one at epoch 7 and grown", secs(60), |a| {
        Ok(a.num("seeds") == 3.0
            && a.has_setting("seeds=3")
            && a.num("slowest-epoch") >= 7.0
            && a.num("growths") >= 2.0)
    })?;
    let hash = session.text("return location.hash;")?;
    fail_if!(!hash.contains("seeds=3"), "the link did not follow: {hash}");
    snap(session, out_dir, "figure3-seeds.png")?;
    let (epoch, slowest, growths) =
        (app.num("epoch"), app.num("slowest-epoch"), app.num("growths"));
    Ok(format!("3 seeds: epoch {epoch}, slowest seed at epoch {slowest}, {growths} growths"))
}

/// `probe`: `backend=probe` times training steps and a growth phase of the page's network on
/// the CPU and on the browser's WebGPU adapter (here SwiftShader, in software), runs each part
/// where a round (the steps between two growths, then a growth) is shortest and says every figure.
pub fn probe(session: &Session, base: &str) -> Result<String, String> {
    open_hash(session, base, "backend=probe&seeds=1")?;
    let app = wait_for(session, "the probe's figures and a running page", secs(120), |a| {
        Ok(a.is("state", "running")
            && a.num("probe-cpu-ms") > 0.0
            && a.num("probe-webgpu-ms") > 0.0
            && a.num("probe-grow-cpu-ms") > 0.0
            && a.num("probe-grow-webgpu-ms") > 0.0)
    })?;
    let (cpu, gpu) = (app.num("probe-cpu-ms"), app.num("probe-webgpu-ms"));
    let (grow_cpu, grow_gpu) = (app.num("probe-grow-cpu-ms"), app.num("probe-grow-webgpu-ms"));
    let steps = app.num("probe-steps");
    let rounds = [
        ("cpu", steps * cpu + grow_cpu),
        ("cpu+webgpu", steps * cpu + grow_gpu),
        ("webgpu", steps * gpu + grow_gpu),
    ];
    // The shortest round; the first of equals.
    let expected = rounds.into_iter().min_by(|a, b| a.1.total_cmp(&b.1)).unwrap_or(rounds[0]);
    fail_if!(
        !app.is("backend", expected.0),
        "rounds of {steps} steps and a growth take {rounds:?} ms but the page chose {:?}",
        app.get("backend")
    );
    let note = session.text(
        "const e = document.getElementById('backend-note'); return e && !e.hidden ? e.innerText : '';",
    )?;
    for part in ["probe", "ms on the CPU", "a growth phase takes", "A round of"] {
        fail_if!(
            !note.contains(part),
            "the note does not give the probe's figures ({part:?}): {note:?}"
        );
    }
    Ok(format!(
        "per step cpu {cpu} ms, webgpu {gpu} ms; per growth cpu {grow_cpu} ms, webgpu {grow_gpu} ms: chose {}",
        expected.0
    ))
}

/// `decide-again`: a probed network that grows to twice its width reloads the page, which
/// probes the grown network and carries every run on from where it was (its epoch, its units).
pub fn decide_again(session: &Session, base: &str, out_dir: &Path) -> Result<String, String> {
    let hash = "backend=probe&seeds=1&layers=32&per-growth=16&grow-every=3&max-units=200&batch=0";
    open_hash(session, base, hash)?;
    wait_for(session, "the probe's choice for 32 units a layer", secs(120), |a| {
        Ok(a.is("state", "running") && a.num("decide-again-at") == 64.0)
    })?;
    let again = wait_for(session, "the choice made again at 64 units", secs(180), |a| {
        Ok(a.is("state", "running") && a.num("decide-again-at") == 128.0)
    })?;
    let note = visible_text(session, "#backend-note")?.unwrap_or_default();
    snap(session, out_dir, "decide-again.png")?;
    let carried_from = note
        .split("carry on from epoch ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<f64>().ok());
    let Some(epoch) = carried_from.filter(|_| note.contains("grew to 64 units a layer")) else {
        return Err(format!("the note does not say why the page chose again: {note:?}"));
    };
    // Two growths of 16 (at epochs 3 and 6) made 64 units; the reload lost neither.
    fail_if!(
        epoch < 6.0 || again.num("epoch") < epoch || again.num("units") < 64.0,
        "the runs did not carry on from the grown network: carried from epoch {epoch}, now {}",
        again.summary()
    );
    fail_if!(
        again.num("probe-grow-cpu-ms").is_nan() || !note.contains("A probe of this network"),
        "the grown network was not probed: {}",
        again.summary()
    );
    Ok(format!(
        "reloaded at 64 units from epoch {epoch}; now epoch {}, {} units, on {}",
        again.num("epoch"),
        again.num("units"),
        again.text("backend")
    ))
}

/// `nan-recovery`: a diverged run says so; a smaller rate and Reset train again.
fn nan_recovery(session: &Session, base: &str) -> Result<String, String> {
    open_hash(session, base, "backend=cpu&lr=10&optimizer=sgd&dataset=reg-plane")?;
    let error: String = poll(secs(60), || {
        Ok(match read_app(session)? {
            Some(app) if app.is("state", "error") => Ok(app.text("error").into()),
            _ => Err("lr=10 with SGD did not diverge within 60 s".into()),
        })
    })?;
    fail_if!(
        !error.contains("smaller learning rate"),
        "the notice does not say what to do: {error:?}"
    );
    choose(session, "lr", "0.1")?;
    session.click("#reset")?;
    // The page handles the click at its next frame; until then it still shows the error.
    poll(REACT, || {
        let error = read_app(session)?.is_some_and(|a| a.is("state", "error"));
        ready!(!error, (), "the page still reports the error after Reset")
    })?;
    let app = wait_for(
        session,
        "training again after Reset",
        secs(60),
        // 0.1 is the default rate, so the link no longer names one.
        |a| {
            Ok(a.is("state", "running")
                && a.num("epoch") >= 3.0
                && !a.text("settings").contains("lr="))
        },
    )?;
    fail_if!(!app.text("error").is_empty(), "the old notice stayed: {}", app.text("error"));
    // Diverge again and take the notice's one-click way out, as often as it takes.
    open_hash(session, base, "backend=cpu&lr=10&optimizer=sgd&dataset=reg-plane")?;
    let mut rates = Vec::new();
    poll(secs(60), || {
        let app = app_now(session)?;
        if app.is("state", "running") && app.num("epoch") >= 20.0 {
            return Ok(Ok(()));
        }
        if app.is("state", "error") {
            let label = session.text(
                "const b = document.querySelector('#notices button.act');
                 if (!b) return ''; const t = b.textContent; b.click(); return t;",
            )?;
            fail_if!(
                label.is_empty(),
                "the divergence notice has no button to reset with a smaller rate"
            );
            rates.push(label);
            // The page resets at its next frame; give it a moment before looking again.
            thread::sleep(millis(600));
        }
        let why = format!("the one-click reset did not recover: {rates:?}");
        if rates.len() > 4 {
            return Err(why);
        }
        Ok(Err(why))
    })?;
    let settings = read_app(session)?.and_then(|a| a.get("settings").map(str::to_string));
    let (epoch, rates, settings) =
        (app.num("epoch"), rates.join(", "), settings.unwrap_or_default());
    Ok(format!("diverged ({error}); recovered to epoch {epoch}; one-click: {rates} → {settings}"))
}

/// `history`: settings add history entries; Back and Forward bring them back; a pasted link in
/// the same tab applies. Neither run grows here, so the unit count shows the layers in force.
fn history(session: &Session, base: &str) -> Result<String, String> {
    open_running(session, base, "backend=cpu&method=none&baseline=none")?;
    session.click("#datasets button[data-kind=xor]")?;
    wait_for(session, "dataset=xor", REACT, |a| Ok(a.has_setting("dataset=xor")))?;
    choose(session, "layers", "3")?;
    let app = wait_for(session, "layers=3", REACT, |a| Ok(a.has_setting("layers=3")))?;
    let units = app.num("units");
    session.script("history.back(); return null;")?;
    let back = wait_for(session, "Back: xor without layers=3", REACT, |a| {
        Ok(a.has_setting("dataset=xor") && !a.has_setting("layers=3"))
    })?;
    fail_if!(
        back.num("units") == units,
        "Back changed the link but not the network ({} units)",
        back.num("units")
    );
    session.script("history.forward(); return null;")?;
    wait_for(session, "Forward: layers=3 again", REACT, |a| {
        Ok(a.has_setting("layers=3") && a.num("units") == units)
    })?;
    session.script(
        "location.hash = '#backend=cpu&method=none&baseline=none&dataset=spiral&layers=5'; return null;",
    )?;
    wait_for(session, "the pasted link applied", REACT, |a| {
        Ok(a.has_setting("dataset=spiral") && a.has_setting("layers=5") && a.num("units") == 5.0)
    })?;
    Ok("Back, Forward and a pasted link change the run".into())
}

/// `grow-paused`: Grow while paused grows the main run and its baseline, without training.
fn grow_paused(session: &Session, base: &str) -> Result<String, String> {
    open_to_epoch(session, base, "backend=cpu&grow-every=100", 1.0, secs(60))?;
    let app = pause(session)?;
    let (epoch, growths, baseline) =
        (app.num("epoch"), app.num("growths"), app.num("baseline-growths"));
    session.click("#grow")?;
    let app = wait_for(session, "both runs grown once", secs(60), |a| {
        Ok(a.num("growths") >= growths + 1.0 && a.num("baseline-growths") >= baseline + 1.0)
    })?;
    let app = settled(session).unwrap_or(app);
    fail_if!(
        app.num("epoch") != epoch || !app.is("state", "paused"),
        "growing while paused trained or resumed: {}",
        app.summary()
    );
    let (now, baseline_now) = (app.num("growths"), app.num("baseline-growths"));
    Ok(format!(
        "growths {growths} -> {now}, baseline {baseline} -> {baseline_now}, still paused at epoch {epoch}"
    ))
}

/// `space-key`: after clicking Step (the focus stays on that button), Space plays instead of
/// stepping again.
fn space_key(session: &Session, base: &str) -> Result<String, String> {
    open_to_epoch(session, base, "backend=cpu&grow-every=100", 1.0, secs(60))?;
    session.click("#step")?;
    wait_state(session, "paused", "Step")?;
    settled(session)?;
    let focused = session.text("return document.activeElement && document.activeElement.id;")?;
    session.press(" ")?;
    wait_state(session, "running", "Space")?;
    Ok(format!("Space with the focus on #{focused} played"))
}

/// Gives the page's Upload CSV control a generated file `name` of `rows` points on a circle
/// of `radius`, `step` radians apart (the first `outside` of them moved outside the plane
/// shown), as a person choosing a file would.
pub(super) fn upload_csv(
    session: &Session, name: &str, rows: usize, outside: usize, (radius, step): (f64, f64),
) -> Result<(), String> {
    let args = items(&json!([rows, outside, name, radius, step])).to_vec();
    let script = "const [rows, outside, name, radius, step] = arguments;
         const parts = ['x,y,label\\n'];
         for (let i = 0; i < rows; i++) {
           const t = i * step;
           const far = i < outside ? 7 : 0;
           parts.push(`${(Math.sin(t) * radius + far).toFixed(4)},${(Math.cos(t) * radius).toFixed(4)},${i % 2}\\n`);
         }
         const file = new File(parts, name, { type: 'text/csv' });
         const input = document.getElementById('csv');
         const dt = new DataTransfer();
         dt.items.add(file);
         input.files = dt.files;
         input.dispatchEvent(new Event('change', { bubbles: true }));
         return file.size;";
    session.execute(script, args).map(drop)
}

/// How long Pause may take to show, from the click to `data-state="paused"`: the page answers a
/// click within 100 ms, at the documented limit of 100,000 points too.
const PAUSE_MS: f64 = 100.0;
/// The longest the page may keep its main thread busy at once while the clicks are measured. A
/// click waits for the task under way, so a task longer than about 85 ms lets some click miss
/// [`PAUSE_MS`] even if the ten clicks measured do not land in it; the bound is 150 ms, a margin
/// for this shared 2-core machine, where other builds stretch the page's 20–40 ms frames to
/// 50–105 ms (before the work was split into runs of rows, tasks of 200–250 ms).
const LONG_TASK_MS: f64 = 150.0;
/// Pause clicks while training, then while growing.
const TRAINING_TRIALS: usize = 4;
const TRIALS: usize = 10;

/// `csv-pause`: at the documented limit (100,000 points, half of them for training) the page
/// answers Pause as a person feels it: from the click's own time stamp (when the browser took
/// the input, so a frame still running counts) to `data-state="paused"`, under [`PAUSE_MS`],
/// while training and while a growth phase is under way; then the epoch stays put for a
/// second. No task of the page meanwhile is longer than [`LONG_TASK_MS`]. Reports every figure,
/// the longest task and the epochs a second trained at the limit.
fn csv_pause(session: &Session, base: &str) -> Result<String, String> {
    open_running(session, base, "backend=cpu")?;
    upload_csv(session, "limit.csv", 100_000, 0, (5.0, 0.001))?;
    wait_for(session, "100,000 points loaded and training", secs(60), |a| {
        Ok(a.num("points") == 100_000.0 && a.num("epoch") >= 1.0)
    })?;
    // The click's time stamp, and when data-state first says paused after it.
    session.script(
        "const app = document.getElementById('app');
         const w = window.__pause = { clicked: null, dispatched: null, paused: null };
         document.getElementById('play').addEventListener('click', (e) => {
           if (app.dataset.state !== 'running') return;
           w.clicked = e.timeStamp; w.dispatched = performance.now(); w.paused = null;
         }, true);
         new MutationObserver(() => {
           if (w.clicked !== null && w.paused === null && app.dataset.state === 'paused')
             w.paused = performance.now();
         }).observe(app, { attributes: true, attributeFilter: ['data-state'] });
         // The longest task the page ran meanwhile (a frame's work and drawing).
         window.__longest = 0;
         new PerformanceObserver((list) => {
           for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration);
         }).observe({ type: 'longtask' });
         return null;"
    )?;
    let mut figures = Vec::new();
    // Epochs and seconds trained in the trials without a growth.
    let (mut epochs, mut seconds) = (0.0, 0.0);
    // The main run's growths before Grow was pressed.
    let mut grown_before = f64::NAN;
    for trial in 0..TRIALS {
        let mut app = app_now(session)?;
        if !app.is("state", "running") {
            session.click("#play")?;
            app = wait_state(session, "running", "Play")?;
        }
        // The later trials pause in the middle of a growth phase of every run (the heaviest
        // work; at this size a phase of the five seeds of each run takes minutes).
        let growing = trial >= TRAINING_TRIALS;
        if trial == TRAINING_TRIALS {
            grown_before = app.num("growths");
            session.click("#grow")?;
        }
        let started = Instant::now();
        // Clicks at varied moments of the frames.
        thread::sleep(millis(700 + 137 * trial as u64));
        if !growing {
            let now = read_app(session)?.map_or(f64::NAN, |a| a.num("epoch"));
            epochs += now - app.num("epoch");
            seconds += started.elapsed().as_secs_f64();
        }
        session.script("window.__pause.clicked = null; return null;")?;
        session.click("#play")?;
        let every = millis(20);
        let (clicked, dispatched, paused) = poll_every(every, secs(20), || {
            let w = session.script("return window.__pause;")?;
            let at = |k: &str| w.get(k).and_then(Json::as_f64);
            Ok(match (at("clicked"), at("dispatched"), at("paused")) {
                (Some(c), Some(d), Some(p)) => Ok((c, d, p)),
                _ => Err(format!("Pause did not show within 20 s: {w:?}")),
            })
        })?;
        let held = settled(session)?;
        // Still growing when paused: the main run has not finished the growth asked for.
        let what = match (growing, held.num("growths") == grown_before) {
            (false, _) => "training",
            (true, true) => "growing",
            (true, false) => "just grown",
        };
        let (took, waited) = (paused - clicked, dispatched - clicked);
        figures.push((took, format!("{what} {took:.0} ms (click waited {waited:.0} ms)")));
        fail_if!(!held.is("state", "paused"), "after Pause the page says {}", held.summary());
    }
    let worst = figures.iter().map(|f| f.0).fold(0.0, f64::max);
    let all: Vec<&str> = figures.iter().map(|f| f.1.as_str()).collect();
    let longest = session.script("return window.__longest;")?.as_f64().unwrap_or(f64::NAN);
    let (rate, all) = (epochs / seconds, all.join(", "));
    let summary = format!(
        "100,000 points, {rate:.1} epochs/s; Pause showed in {all} (worst {worst:.0} ms); the epoch then held; longest task meanwhile {longest:.0} ms"
    );
    fail_if!(worst >= PAUSE_MS, "Pause took {worst:.0} ms, more than {PAUSE_MS} ms: {summary}");
    fail_if!(
        longest >= LONG_TASK_MS,
        "a task kept the page busy {longest:.0} ms (at most {LONG_TASK_MS} ms): {summary}"
    );
    Ok(summary)
}

/// `large-csv`: a 99,000-point file loads within seconds while frames keep coming, says how many
/// points lie outside the plane, and a 5 MB file is refused at once.
fn large_csv(session: &Session, base: &str) -> Result<String, String> {
    open_running(session, base, "backend=cpu")?;
    // Record the longest gap between animation frames from now on.
    session.script(
        "window.__gaps = { last: performance.now(), max: 0 };
         const tick = (t) => { const g = window.__gaps; g.max = Math.max(g.max, t - g.last);
           g.last = t; requestAnimationFrame(tick); };
         requestAnimationFrame(tick);
         return null;",
    )?;
    let upload = |rows, outside, name| upload_csv(session, name, rows, outside, (5.0, 0.001));
    let started = Instant::now();
    upload(99_000, 3, "big.csv")?;
    let app =
        wait_for(session, "99,000 points loaded", secs(60), |a| Ok(a.num("points") == 99_000.0))?;
    let loaded = started.elapsed().as_secs_f64();
    fail_if!(
        !app.text("notices").contains("3 of 99000 points"),
        "no notice about the points outside the plane: {}",
        app.text("notices")
    );
    // The page says the points are the person's own, and the Share dialog that the link does
    // not carry them.
    fail_if!(
        !app.is("custom-data", "1"),
        "data-custom-data is {:?} after the upload",
        app.get("custom-data")
    );
    session.click("#share")?;
    thread::sleep(millis(300));
    let hint = session
        .text("const e = document.getElementById('share-hint'); return e ? e.innerText : '';")?;
    session.click("#share-close")?;
    fail_if!(
        !hint.contains("not your points"),
        "the Share dialog claims the data travels: {hint:?}"
    );
    // Training on the large data keeps frames coming.
    session.script("window.__gaps.max = 0; return null;")?;
    thread::sleep(secs(3));
    let gap = session.script("return window.__gaps.max;")?.as_f64().unwrap_or(f64::NAN);
    fail_if!(
        gap.is_nan() || gap >= 1000.0,
        "a frame took {gap:.0} ms while training on 99,000 points"
    );
    // Over the limit: refused before it is read.
    let started = Instant::now();
    upload(250_000, 0, "huge.csv")?;
    wait_for(session, "the 5 MB file refused", secs(10), |a| {
        Ok(a.text("error").contains("nothing was loaded"))
    })?;
    let refused = started.elapsed().as_secs_f64();
    fail_if!(
        read_app(session)?.is_some_and(|a| a.num("points") != 99_000.0),
        "the refused file replaced the data"
    );
    Ok(format!(
        "99,000 points loaded in {loaded:.1} s, shown as your own (the Share dialog says they are not in the link); longest frame gap while training {gap:.0} ms; 5 MB file refused in {refused:.1} s"
    ))
}
