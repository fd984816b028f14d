//! The end-to-end checks of course pages: links with presets and hidden controls, the Share
//! dialog, the same growth decisions from a link, the example course page (`example.rs`), the
//! continual mode embedded, the content security policy and messages from another origin.

use std::thread;
use std::time::Duration;

mod example;

use super::Report;
use super::checks::{App, DATA_OF, data_of, open, open_hash, open_running, read_app, wait_for};
use super::json::{Json, items};
use super::page::choose;
use super::webdriver::{Session, hold, millis, poll, poll_last, secs};

/// How long a course-page state may take to appear.
const WAIT: Duration = secs(60);

pub fn run_all(session: &Session, base: &str, report: &mut Report) {
    report.check("course-links", || links(session, base));
    report.check("garbage-link", || garbage_link(session, base));
    report.check("same-decisions", || same_decisions(session, base));
    report.check("course-page", || example::course_page(session, base));
    report.check("csp", || csp(session, base));
    report.check("continual-mode", || continual_mode(session, base));
    report.check("hostile-origin", || hostile_origin(session, base));
}

/// The embedded playground's `#app` attributes, read from inside its iframe (which may be on
/// another origin than the page).
fn inside(session: &Session, frame: &str) -> Result<App, String> {
    session.switch_to_frame(Some(frame))?;
    let app = read_app(session);
    session.switch_to_frame(None)?;
    app?.ok_or_else(|| format!("no #app in {frame}"))
}

/// `hostile-origin`: a page on another origin (`localhost` against `127.0.0.1`) embeds the
/// playground and posts commands: ignored; with `allow-origin` naming it, obeyed.
fn hostile_origin(session: &Session, base: &str) -> Result<String, String> {
    let other = base.replacen("127.0.0.1", "localhost", 1);
    fail_if!(other == base, "the site is not served on 127.0.0.1: {base}");
    let host_origin = other.split('/').take(3).collect::<Vec<_>>().join("/");
    open(session, &format!("{other}course.html"))?;
    wait_course(session, "the course page on localhost", |c| Ok(c.num("ready") >= 2.0))?;
    let embed = |extra: &str| -> Result<(), String> {
        session.execute(
            "document.getElementById('a').src = arguments[0];",
            vec![format!("{base}index.html#seeds=1&autoplay=0&backend=cpu{extra}").into()],
        )?;
        poll(WAIT, || {
            let paused = inside(session, "#a").is_ok_and(|a| a.is("state", "paused"));
            ready!(paused, (), "the cross-origin iframe did not start")
        })
    };
    let post = "const w = document.getElementById('a').contentWindow;
                w.postMessage({type: 'set', settings: {dataset: 'xor'}}, '*');
                w.postMessage({type: 'play'}, '*');";
    // Not allowed: both commands are dropped.
    embed("")?;
    session.script(post)?;
    thread::sleep(millis(1500));
    let ignored = inside(session, "#a")?;
    fail_if!(
        !ignored.is("state", "paused")
            || ignored.num("epoch") != 0.0
            || ignored.text("settings").contains("dataset=xor"),
        "a message from {host_origin} was obeyed: {}",
        ignored.summary()
    );
    // Allowed by the link: obeyed.
    embed(&format!("&allow-origin={host_origin}"))?;
    session.script(post)?;
    let app = poll(WAIT, || {
        let app = inside(session, "#a")?;
        let obeyed = app.is("state", "running")
            && app.num("epoch") > 0.0
            && app.text("settings").contains("dataset=xor");
        ready!(obeyed, app, "with allow-origin the commands were not obeyed: {}", app.summary())
    })?;
    Ok(format!(
        "{host_origin} ignored by a playground on {base}; obeyed with allow-origin (epoch {})",
        app.num("epoch")
    ))
}

/// One task's accuracies from `data-cl` (`task:firefly:fine-tune,…`; a task named by a class
/// split, `spiral3:0+1`, has a colon of its own, so the row is read from the right).
fn accuracy(app: &App, task: &str) -> Option<(String, String)> {
    app.get("cl")?.split(',').find_map(|row| {
        let mut parts = row.rsplitn(3, ':');
        let fine = parts.next()?.to_string();
        let firefly = parts.next()?.to_string();
        (parts.next()? == task).then_some((firefly, fine))
    })
}

/// `continual-mode`: tasks one after another; Firefly's accuracy on the first task does not
/// move once it is frozen; the mode list goes back to growth.
fn continual_mode(session: &Session, base: &str) -> Result<String, String> {
    // Speed paces the training steps (a full-batch step is an epoch here): at 10 a second the
    // first block has taken a few dozen steps after 2 s; Fastest then runs the sequence out.
    open_hash(session, base, "mode=continual&sequence=circle,xor,spiral&backend=cpu&speed=10")?;
    let step_now = || -> Result<f64, String> {
        let progress = session.text("return document.getElementById('progress').innerText;")?;
        let step = progress.split("step ").nth(1).and_then(|s| s.split(' ').next());
        Ok(step.and_then(|s| s.parse().ok()).unwrap_or(-1.0))
    };
    thread::sleep(millis(2000));
    let badge = session.text("return document.getElementById('backend-badge').innerText;")?;
    fail_if!(badge != "CPU", "the toolbar's badge reads {badge:?}, not CPU");
    let slow = step_now()?;
    fail_if!(!(1.0..=40.0).contains(&slow), "at speed 10 the first block took {slow} steps in 2 s");
    choose(session, "speed", "0")?;
    let first = wait_for(session, "the first task learnt", WAIT, |a| {
        Ok(a.num("tasks-done") >= 1.0 && accuracy(a, "circle").is_some_and(|(_, f)| !f.is_empty()))
    })?;
    let (firefly_then, fine_then) = accuracy(&first, "circle").unwrap_or_default();
    let done =
        wait_for(session, "all three tasks learnt", secs(120), |a| Ok(a.is("state", "finished")))?;
    let (firefly_now, fine_now) = accuracy(&done, "circle").unwrap_or_default();
    fail_if!(
        firefly_now != firefly_then,
        "Firefly's circle accuracy moved after later tasks: {firefly_then} → {firefly_now}"
    );
    let strip = session.text("return document.getElementById('task-strip').innerText;")?;
    fail_if!(
        strip.matches('✓').count() != 3,
        "the task strip does not show three tasks done: {strip:?}"
    );
    // The maps take the row the hidden panels leave, and their captions say how many units the
    // spiral's head reads: Firefly's mask leaves some old units out.
    let layout = session.script(
        "return [document.getElementById('heatmap').getBoundingClientRect().width, \
         document.getElementById('main-arch').innerText, \
         document.getElementById('baseline-arch').innerText, \
         document.getElementById('progress').innerText, \
         document.getElementById('epoch-out').getBoundingClientRect().width];",
    )?;
    let (width, main, baseline) = (
        layout.get(0).and_then(Json::as_f64).unwrap_or_default(),
        layout.get(1).and_then(Json::as_str).unwrap_or_default().to_string(),
        layout.get(2).and_then(Json::as_str).unwrap_or_default().to_string(),
    );
    let reads = |caption: &str| -> Option<(f64, f64)> {
        let rest = caption.strip_prefix("spiral · reads ")?;
        let (m, n) = rest.strip_suffix(" units")?.split_once(" of ")?;
        Some((m.parse().ok()?, n.parse().ok()?))
    };
    fail_if!(width < 250.0, "in continual mode the maps are {width} px wide");
    let progress = layout.get(3).and_then(Json::as_str).unwrap_or_default();
    let epochs_shown = layout.get(4).and_then(Json::as_f64).unwrap_or_default();
    fail_if!(
        progress != "All 3 tasks learnt" || epochs_shown > 0.0,
        "the toolbar should say where the tasks are, not count epochs: {progress:?}"
    );
    fail_if!(
        !reads(&main).is_some_and(|(m, n)| m < n) || !reads(&baseline).is_some_and(|(m, n)| m == n),
        "the captions do not show Firefly's mask: {main:?}, {baseline:?}"
    );
    choose(session, "mode", "grow")?;
    let back = wait_for(session, "growth mode again", WAIT, |a| {
        Ok(a.get("mode").is_none() && a.num("epoch") >= 2.0)
    })?;
    let hosted = continual_host(session, base)?;
    let (units, epoch) = (done.num("units"), back.num("epoch"));
    Ok(format!(
        "speed 10: {slow} steps in 2 s, then Fastest; circle: Firefly {firefly_then} → {firefly_now}, fine-tuning {fine_then} → {fine_now}; {units} units; maps {width} px, \"{main}\" / \"{baseline}\"; back to growth at epoch {epoch}; {hosted}"
    ))
}

/// Waits for an event from iframe `frame` (in `window.clEvents`, the events the test page has
/// heard from the playgrounds) whose fields have the values `fields` names.
fn continual_event(
    session: &Session, what: &str, frame: &str, fields: &[(&str, &str)],
) -> Result<Json, String> {
    poll(WAIT, || {
        let events = session.script("return window.clEvents || [];")?;
        let found = items(&events).iter().find(|e| {
            let is = |k: &str, v: &str| e.get(k).and_then(Json::as_str) == Some(v);
            is("frame", frame) && fields.iter().all(|(k, v)| is(k, v))
        });
        Ok(found.cloned().ok_or(format!("timed out waiting for {what} from iframe {frame}")))
    })
}

/// The continual mode in a course page: iframe a learns circle → xor and is paused, asked for
/// `grow` (refused with an error event) and `export` by `postMessage`; iframe b (opened paused),
/// scrolled out of view and told to play, does not train until it is back in view; the exported
/// run, imported into iframe b (on another sequence), shows the same link, task and accuracies.
fn continual_host(session: &Session, base: &str) -> Result<String, String> {
    open(session, &format!("{base}course.html"))?;
    wait_course(session, "two ready events", |c| Ok(c.num("ready") >= 2.0))?;
    session.script("window.clEvents = [];
         window.addEventListener('message', (e) => {
           const d = e.data; if (!d || typeof d.type !== 'string') return;
           const frame = ['a', 'b'].find((n) => document.getElementById(n).contentWindow === e.source);
           if (d.type === 'export') window.clExport = d.run;
           window.clEvents.push({ frame, type: d.type, state: d.state || null,
             command: d.command || null, message: d.message || null,
             mode: d.run ? d.run.mode || null : null });
         });
         // A query string makes these full loads, not a change of the hash.
         document.getElementById('a').src =
           'index.html?continual#mode=continual&sequence=circle,xor&embed=1&backend=cpu&speed=0';
         document.getElementById('b').src =
           'index.html?continual#mode=continual&sequence=xor,circle&seed=7&embed=1&autoplay=0&backend=cpu';",
    )?;
    for frame in ["a", "b"] {
        continual_event(session, "a ready event", frame, &[("type", "ready")])?;
    }
    let post = |frame: &str, message: &str| {
        session.script(&format!(
                "document.getElementById('{frame}').contentWindow.postMessage({message}, location.origin);"
            ),
        )
    };
    poll(WAIT, || {
        let done = frame_attr(session, "a", "data-tasks-done")?;
        ready!(
            done.parse::<f64>().unwrap_or(0.0) >= 1.0,
            (),
            "iframe a did not learn its first task"
        )
    })?;
    post("a", "{type: 'pause'}")?;
    let paused = [("type", "progress"), ("state", "paused")];
    continual_event(session, "a progress event, paused", "a", &paused)?;
    fail_if!(frame_attr(session, "a", "data-state")? != "paused", "iframe a did not pause");
    let cl = frame_attr(session, "a", "data-cl")?;
    thread::sleep(millis(1000));
    fail_if!(frame_attr(session, "a", "data-cl")? != cl, "paused, iframe a trained on");
    post("a", "{type: 'grow'}")?;
    let refused = [("type", "error"), ("command", "grow")];
    let refused = continual_event(session, "an error event for grow", "a", &refused)?;
    post("a", "{type: 'export'}")?;
    let exported = [("type", "export"), ("mode", "continual")];
    continual_event(session, "an export event", "a", &exported)?;
    // Scrolled out of view and told to play, b (opened paused) does not train; back in view,
    // it does (as in growth mode).
    scroll_away(session, "b")?;
    post("b", "{type: 'play'}")?;
    let playing = [("type", "progress"), ("state", "running")];
    continual_event(session, "b playing out of view", "b", &playing)?;
    let parked = frame_attr(session, "b", "data-loss")?;
    thread::sleep(millis(1200));
    let still = frame_attr(session, "b", "data-loss")?;
    fail_if!(
        still != parked || frame_attr(session, "b", "data-state")? != "running",
        "out of view, playing iframe b trained on (loss {parked} → {still}) or is not running"
    );
    scroll_back(session, "b", "data-loss", &still)?;
    session.script("document.getElementById('b').contentWindow.postMessage({type: 'import', run: window.clExport}, location.origin);",
    )?;
    let (a, _) = frames(session)?;
    let (link, task) = (a.text("settings"), a.text("task"));
    poll(secs(20), || {
        let (_, b) = frames(session)?;
        let (b_link, b_task, b_cl) = (b.text("settings"), b.text("task"), b.text("cl"));
        let b_state = b.text("state");
        // The run's keys come with the import; each page keeps its own layout and autoplay.
        let run_keys = |l: &str| -> Vec<String> {
            l.split('&')
                .filter(|kv| {
                    let key = kv.split('=').next().unwrap_or_default();
                    ["mode", "sequence", "seed", "data-seed", "activation"].contains(&key)
                })
                .map(str::to_string)
                .collect()
        };
        let shown = run_keys(b_link) == run_keys(link)
            && b_task == task
            && b_cl == cl
            && b_state == "paused";
        ready!(
            shown,
            (),
            "iframe b shows {b_link}, task {b_task}, {b_cl}, {b_state}; the export was {link}, task {task}, {cl}"
        )
    })?;
    Ok(format!(
        "in a course page: paused by a message, grow refused ({}), exported at task {task} ({cl}) and imported into the other iframe",
        refused.get("message").and_then(Json::as_str).unwrap_or_default()
    ))
}

/// `csp`: the page declares `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'`, has no
/// inline script, and trains, grows, draws the candidate bars and opens the Share dialog with no
/// violation of it, storing nothing in the browser.
fn csp(session: &Session, base: &str) -> Result<String, String> {
    open_hash(session, base, "backend=cpu&seeds=1&grow-every=2")?;
    let app = wait_for(session, "two growths", WAIT, |a| Ok(a.num("growths") >= 2.0))?;
    let policy = session.text(
        "const m = document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]');
         return m ? m.content : '';",
    )?;
    let wanted = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'";
    fail_if!(policy != wanted, "the page's policy is {policy:?}");
    let inline = session.script("return document.querySelectorAll('script:not([src])').length;")?;
    fail_if!(inline.as_f64() != Some(0.0), "{inline:?} inline scripts in the page");
    // The Share dialog writes its link and snippet (no style attribute, no inline script).
    session.script("document.getElementById('share').click();")?;
    let link = share_link(session, |l| !l.is_empty())?;
    fail_if!(link.is_empty(), "the Share dialog wrote no link");
    session.script("document.getElementById('share-close').click();")?;
    let app = read_app(session)?.unwrap_or(app);
    let violations = app.num("csp-violations");
    fail_if!(
        violations > 0.0,
        "{violations} violations of the policy, the last: {}",
        app.text("csp-last")
    );
    // Nothing stored that nobody asked for: no cookie, web storage, database, cache or worker.
    let stored = session.text(
        "return (async () => {
           const idb = indexedDB.databases ? (await indexedDB.databases()).length : 0;
           const cached = self.caches ? (await caches.keys()).length : 0;
           const workers = navigator.serviceWorker
             ? (await navigator.serviceWorker.getRegistrations()).length : 0;
           return [localStorage.length, sessionStorage.length, document.cookie.length, idb,
                   cached, workers].join(',');
         })();",
    )?;
    fail_if!(
        stored != "0,0,0,0,0,0",
        "the page stored something (localStorage, sessionStorage, cookie bytes, IndexedDB, caches, service workers): {stored}"
    );
    Ok(format!(
        "{policy}: no inline script, 0 violations after {} growths; nothing stored (no cookie, web storage, IndexedDB, cache or service worker)",
        app.num("growths")
    ))
}

/// Polls the Share dialog's link until `done` holds, for at most 10 s (the page handles a
/// click on its next frame); returns the link then.
fn share_link(session: &Session, done: impl Fn(&str) -> bool) -> Result<String, String> {
    let js = "return document.getElementById('share-link').value;";
    poll_last(secs(10), || session.text(js), |t| done(t))
}

/// Scrolls iframe `frame` out of view and waits (≤ 10 s) until it notices.
fn scroll_away(session: &Session, frame: &str) -> Result<(), String> {
    session.script(&format!("document.getElementById('{frame}').style.marginTop = '6000px';"))?;
    poll(secs(10), || {
        let hidden = frame_attr(session, frame, "data-visible")? == "0";
        ready!(hidden, (), "iframe {frame} never noticed it was out of view")
    })
}

/// Scrolls iframe `frame` back into view and waits (≤ 20 s) until its `attr` is no longer
/// `still` (it trains again).
fn scroll_back(session: &Session, frame: &str, attr: &str, still: &str) -> Result<(), String> {
    session.script(&format!("document.getElementById('{frame}').style.marginTop = '0';"))?;
    poll(secs(20), || {
        let moved = frame_attr(session, frame, attr)? != still;
        ready!(moved, (), "back in view, iframe {frame} did not train on")
    })
}

/// Whether the element with this id is laid out (not hidden by itself or an ancestor).
fn shown(session: &Session, id: &str) -> Result<bool, String> {
    let v = session.execute(
        "const e = document.getElementById(arguments[0]);
         return !!e && e.getClientRects().length > 0;",
        vec![id.into()],
    )?;
    Ok(v.as_bool() == Some(true))
}

/// `course-links`: `preset`, `<key>_hide` and `autoplay=0` in a link; the Share dialog builds a
/// link (and an iframe snippet) that reopens the same experiment.
fn links(session: &Session, base: &str) -> Result<String, String> {
    let hash =
        "preset=lone-unit-split&seeds=1&grow_hide=1&seed_hide=1&csv_hide=1&autoplay=0&backend=cpu";
    open_hash(session, base, hash)?;
    let app = wait_for(session, "paused (autoplay=0)", WAIT, |a| Ok(a.is("state", "paused")))?;
    thread::sleep(millis(800));
    let epoch = read_app(session)?.map_or(-1.0, |a| a.num("epoch"));
    fail_if!(epoch != 0.0, "autoplay=0 still trained: epoch {epoch}");
    for id in ["grow", "seed", "csv"] {
        fail_if!(shown(session, id)?, "#{id} is shown though the link hides it");
    }
    for id in ["play", "step", "lr", "preset"] {
        fail_if!(!shown(session, id)?, "#{id} is hidden though the link does not hide it");
    }
    let preset = session.text("return document.getElementById('preset').value;")?;
    fail_if!(preset != "lone-unit-split", "the Experiment list shows {preset:?}");
    let look = session.text("return document.getElementById('look-for').innerText;")?;
    fail_if!(
        !look.starts_with("Both networks start from one unit"),
        "#look-for is not the preset's paragraph: {look:?}"
    );
    let settings = app.text("settings").to_string();

    // Share: the link, then the compact layout ticked.
    session.click("#share")?;
    let link = share_link(session, |l| !l.is_empty())?;
    fail_if!(
        !link.contains("preset=lone-unit-split") || !link.contains("grow_hide=1"),
        "the Share link lost the experiment: {link}"
    );
    session.script("const e = document.getElementById('share-embed'); e.click();")?;
    let link = share_link(session, |l| l.contains("embed=1"))?;
    let snippet = session.text("return document.getElementById('share-iframe').value;")?;
    fail_if!(
        !link.contains("embed=1")
            || !snippet.contains("&amp;embed=1")
            || !snippet.starts_with("<iframe"),
        "ticking the compact layout did not reach the link and snippet: {link} / {snippet}"
    );
    // The copied link reopens the same experiment, embedded.
    open(session, &link)?;
    let again = wait_for(session, "the shared link open", WAIT, |a| Ok(a.is("state", "paused")))?;
    let got = again.text("settings");
    let embedded =
        session.script("return document.getElementById('app').classList.contains('embed');")?;
    fail_if!(embedded.as_bool() != Some(true), "the shared link did not open the compact layout");
    fail_if!(
        shown(session, "run-panel")? || !shown(session, "controls-toggle")?,
        "embedded, the controls are not folded behind the Controls button"
    );
    session.click("#controls-toggle")?;
    fail_if!(!shown(session, "lr")?, "the Controls button did not unfold the controls");
    fn same(s: &str) -> Vec<&str> {
        let mut parts: Vec<&str> = s.split('&').filter(|p| *p != "embed=1").collect();
        parts.sort_unstable();
        parts
    }
    fail_if!(same(got) != same(&settings), "the shared link opened {got}, not {settings} + embed");
    Ok(format!("hidden: grow, seed, csv; paused at epoch 0; shared link reopened {got}"))
}

/// `garbage-link`: a link full of nonsense still starts the playground, names each bad part in a
/// notice, and applies the rest.
fn garbage_link(session: &Session, base: &str) -> Result<String, String> {
    let hash = "%%%&=&lr=banana&preset=nope&grow_hide=maybe&%E2%82&dataset=xor&backend=cpu&seeds=1";
    open_hash(session, base, hash)?;
    let app = wait_for(session, "running despite the link", WAIT, |a| Ok(a.num("epoch") >= 2.0))?;
    let notices = app.text("notices");
    for part in ["banana", "nope", "maybe"] {
        fail_if!(!notices.contains(part), "no notice names {part:?}: {notices}");
    }
    fail_if!(
        !app.text("settings").contains("dataset=xor"),
        "the good part of the link was not applied: {}",
        app.summary()
    );
    Ok(format!("running at epoch {} on xor; notices: {notices}", app.num("epoch")))
}

/// `same-decisions`: a run set up with the controls, and its link opened afresh, make the same
/// first growth decisions. On the way, the Experiment list names the opening experiment on a page
/// just opened (not Custom), and choosing it after a preset puts the opening's runs back.
fn same_decisions(session: &Session, base: &str) -> Result<String, String> {
    let experiment = || session.text("return document.getElementById('preset').value;");
    open_running(session, base, "backend=cpu&seeds=1")?;
    let opened = experiment()?;
    fail_if!(opened != "opening", "a page just opened lists the experiment {opened:?}");
    choose(session, "preset", "firefly-vs-exact")?;
    let first = wait_for(session, "a first growth after choosing the preset", WAIT, |a| {
        Ok(a.text("settings").contains("preset=firefly-vs-exact") && a.num("growths") >= 1.0)
    })?;
    let decision = first.text("first-growth").to_string();
    fail_if!(decision.is_empty(), "no data-first-growth after a growth");
    let hash = session.text("return location.hash;")?;
    open(session, &format!("{base}index.html{hash}"))?;
    let again =
        wait_for(session, "a first growth from the link", WAIT, |a| Ok(a.num("growths") >= 1.0))?;
    let replayed = again.text("first-growth");
    fail_if!(replayed != decision, "the link grew {replayed:?}, the run it came from {decision:?}");

    choose(session, "preset", "opening")?;
    let back = wait_for(session, "the opening's runs after choosing it", WAIT, |a| {
        Ok(!a.text("settings").contains("preset=") && a.num("units") == 1.0)
    })?;
    let look = session.text("return document.getElementById('look-for').innerText;")?;
    fail_if!(
        experiment()? != "opening" || !look.starts_with("Both networks start from one hidden unit"),
        "choosing the opening experiment left the list at {:?} and #look-for at {look:?}",
        experiment()?
    );
    Ok(format!("{hash}: both chose {decision}; the opening back as {}", back.text("settings")))
}

fn course(session: &Session) -> Result<App, String> {
    data_of(session, "course")?.ok_or_else(|| "no <main id=\"course\"> on the page".to_string())
}

/// Both embedded playgrounds' `#app` attributes at one moment (the iframes are on the page's
/// origin).
fn frames(session: &Session) -> Result<(App, App), String> {
    let value = session.script(&format!(
        "{DATA_OF}
         const read = (id) => {{
           const f = document.getElementById(id);
           const app = f && f.contentDocument && f.contentDocument.getElementById('app');
           return app ? dataOf(app) : {{}};
         }};
         return [read('a'), read('b')];"
    ))?;
    fail_if!(!value.is_array(), "the course page has no iframes");
    let app = |i: usize| App::from_json(&value[i]).unwrap_or(App(Vec::new()));
    Ok((app(0), app(1)))
}

/// A condition on both playgrounds: `each` holds for the left one and for the right one.
fn both(each: impl Fn(&App) -> bool) -> impl Fn(&App, &App) -> bool {
    move |a, b| each(a) && each(b)
}

/// In the same-origin iframe `frame`, attribute `attr` of the element `id`, or its value
/// without `attr`; "" when either is missing.
fn frame_read(
    session: &Session, frame: &str, id: &str, attr: Option<&str>,
) -> Result<String, String> {
    let value = session.execute(
        "const [frame, id, attr] = arguments;
         const f = document.getElementById(frame);
         const e = f && f.contentDocument && f.contentDocument.getElementById(id);
         return !e ? '' : attr ? (e.getAttribute(attr) || '') : String(e.value);",
        vec![frame.into(), id.into(), attr.into()],
    )?;
    Ok(value.as_str().unwrap_or_default().to_string())
}

fn frame_attr(session: &Session, frame: &str, name: &str) -> Result<String, String> {
    frame_read(session, frame, "app", Some(name))
}

/// Polls the course page (which must report no refused command) until `done` holds.
fn wait_course(
    session: &Session, what: &str, mut done: impl FnMut(&App) -> Result<bool, String>,
) -> Result<App, String> {
    poll(WAIT, || {
        let app = course(session)?;
        fail_if!(app.num("errors") > 0.0, "a playground refused a command: {}", app.summary());
        ready!(done(&app)?, app, "timed out waiting for {what}; last seen: {}", app.summary())
    })
}
