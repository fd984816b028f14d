//! Course pages: presets, hidden controls, embed and autoplay in links, the host-page API
//! (good and bad payloads through `Playground::command`, its events), and a run exported and
//! imported back.

use firefly_playground::playground::{
    Command, EPOCH_EVENT_MS, EventCursor, HostEvent, HostPage, ModeStatus, Msg, Opens, Playground,
    RunExport, RunFile, RunState, RunStatus, Value, csv, parse_command,
};
use firefly_playground::presets::{CHOICES, OPENING, PRESETS};
use firefly_playground::settings::{self, PageOptions, origin_allowed, parse_origins, preset};
use firefly_playground::url::{parse_hash, to_hash};

use crate::playground::{page, settle, train_to};
use crate::support::block;

#[test]
fn every_preset_is_valid_distinct_and_listed() {
    let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
    let listed: Vec<&str> = CHOICES.iter().skip(2).map(|(v, _)| *v).collect();
    assert_eq!(
        names, listed,
        "the Experiment list names every preset in order"
    );
    assert_eq!(CHOICES[0].0, "", "Custom comes first");
    assert_eq!(CHOICES[1].0, OPENING, "then the opening experiment");
    let mut seen: Vec<PageOptions> = Vec::new();
    for preset in PRESETS {
        let options = preset::options(preset).expect(preset.name);
        assert_ne!(
            options,
            PageOptions::default(),
            "{} differs from the defaults",
            preset.name
        );
        assert!(
            !seen.contains(&options),
            "{} is not another preset",
            preset.name
        );
        assert_eq!(preset::current(&options).map(|p| p.name), Some(preset.name));
        assert!(
            preset.look_for.len() > 80,
            "{} says what to look for",
            preset.name
        );
        let label = CHOICES
            .iter()
            .find(|(v, _)| *v == preset.name)
            .map(|(_, l)| *l);
        assert_eq!(label, Some(preset.label));
        seen.push(options);
    }
    assert!(preset::current(&PageOptions::default()).is_none());
}

/// The page opens on the opening experiment, and the Experiment list says so (not Custom); a
/// change of the runs' settings makes it Custom, and choosing the opening experiment puts them
/// back, keeping the number of seeds and the page's own settings.
#[test]
fn the_experiment_list_names_the_opening_and_leads_back_to_it() {
    let experiment = settings::find("preset").expect("the Experiment setting");
    let mut options = PageOptions::default();
    assert_eq!(experiment.get(&options), OPENING);
    let (linked, problems) = parse_hash("preset=opening");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(linked, options, "a link may name it");
    assert_eq!(to_hash(&options), "", "the default page's link stays empty");

    for (key, value) in [
        ("lr", "0.03"),
        ("seeds", "2"),
        ("speed", "10"),
        ("dataset", "xor"),
    ] {
        settings::find(key)
            .unwrap()
            .set(&mut options, value)
            .unwrap();
    }
    assert_eq!(experiment.get(&options), "", "Custom");
    experiment.set(&mut options, OPENING).unwrap();
    assert_eq!(experiment.get(&options), OPENING);
    let opening = PageOptions::default();
    assert_eq!(
        (&options.config, options.baseline),
        (&opening.config, opening.baseline)
    );
    assert_eq!(
        (options.seeds, options.speed),
        (2, 10),
        "the page's own settings stay"
    );
    let mut page = Playground::new(options, crate::support::device()).expect("page");
    assert!(
        page.what_to_look_for()
            .starts_with("Both networks start from one hidden unit")
    );
    page.update(Msg::Set("preset".into(), "split-vs-random-spiral".into()));
    assert_eq!(experiment.get(page.options()), "split-vs-random-spiral");
    page.update(Msg::Set("preset".into(), OPENING.into()));
    assert!(settings::preset::is_opening(page.options()));
}

#[test]
fn a_preset_link_is_short_and_other_keys_apply_on_top() {
    let preset = &PRESETS[0];
    let (options, problems) = parse_hash(&format!("preset={}", preset.name));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(options, preset::options(preset).unwrap());
    assert_eq!(to_hash(&options), format!("preset={}", preset.name));

    // The number of seeds and the page's settings keep the preset; a setting of the runs makes
    // the experiment Custom.
    let (options, _) = parse_hash(&format!("preset={}&seeds=1", preset.name));
    assert_eq!(preset::current(&options).map(|p| p.name), Some(preset.name));
    assert_eq!(to_hash(&options), format!("preset={}&seeds=1", preset.name));
    let (options, _) = parse_hash(&format!("preset={}&test=1&embed=1", preset.name));
    assert_eq!(
        to_hash(&options),
        format!("preset={}&test=1&embed=1", preset.name)
    );
    let (options, _) = parse_hash(&format!("preset={}&lr=0.03", preset.name));
    assert!(preset::current(&options).is_none());
    assert_eq!(options.config.train.learning_rate, 0.03);
    assert_eq!(
        options.config.data.kind,
        preset::options(preset).unwrap().config.data.kind
    );
    let (again, problems) = parse_hash(&to_hash(&options));
    assert!(problems.is_empty());
    assert_eq!(again, options, "a Custom link round-trips");

    let (_, problems) = parse_hash("preset=nonsense");
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].message.contains("split-vs-random-spiral"),
        "{}",
        problems[0].message
    );
}

#[test]
fn choosing_a_preset_restarts_and_says_what_to_look_for() {
    let mut p = page("");
    let preset = &PRESETS[1];
    let fx = p.update(Msg::Set("preset".into(), preset.name.into()));
    assert!(fx.restarted);
    assert_eq!(p.what_to_look_for(), preset.look_for);
    assert_eq!(p.main().config().growth.method.name(), "firefly-layers");
    assert_eq!(
        fx.hash.map(|h| h.hash),
        Some(format!("preset={}", preset.name))
    );
    // A live setting leaves the preset without a restart.
    let fx = p.update(Msg::Set("lr".into(), "0.1".into()));
    assert!(!fx.restarted, "the learning rate stays live");
    assert_ne!(p.what_to_look_for(), preset.look_for);
    assert!(!p.settings_hash().contains("preset="));
}

#[test]
fn links_hide_controls_by_key() {
    let (options, problems) = parse_hash("grow_hide=1&seed_hide=1&interval_hide=1&dataset_hide=0");
    assert!(problems.is_empty(), "{problems:?}");
    // In the order of the page; an alias names its setting.
    assert_eq!(options.hidden, vec!["grow-every", "seed", "grow"]);
    assert_eq!(
        to_hash(&options),
        "grow-every_hide=1&seed_hide=1&grow_hide=1"
    );
    assert_eq!(parse_hash(&to_hash(&options)).0, options);
    let (options, problems) = parse_hash("backend_hide=1&nothing_hide=1&grow_hide=maybe");
    assert!(options.hidden.is_empty());
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems[0].message.contains("backend"));
    assert!(problems[2].message.contains("maybe"));
    // Every hideable control is a real setting with a control, or a page control.
    for (key, id) in settings::hideable() {
        assert!(!key.is_empty() && !id.is_empty());
    }
}

#[test]
fn autoplay_off_opens_paused_and_embed_is_a_page_setting() {
    let p = page("autoplay=0&embed=1");
    assert_eq!(p.state(), RunState::Paused);
    assert!(p.options().embed);
    assert_eq!(page("").state(), RunState::Running);
    let mut p = page("");
    let fx = p.update(Msg::Set("embed".into(), "1".into()));
    assert!(!fx.restarted, "embed changes the layout only");
    assert_eq!(fx.hash.map(|h| h.hash), Some("embed=1".into()));
}

#[test]
fn allowed_origins_are_parsed_and_checked() {
    assert_eq!(
        parse_origins("https://course.example.org, http://127.0.0.1:8000/").unwrap(),
        vec!["https://course.example.org", "http://127.0.0.1:8000"]
    );
    assert!(parse_origins("javascript:alert(1)").is_err());
    assert!(parse_origins("https://a.org/path").is_err());
    assert!(parse_origins("https://").is_err());
    let (options, problems) = parse_hash("allow-origin=https://course.example.org");
    assert!(problems.is_empty());
    let own = "http://127.0.0.1:8080";
    assert!(origin_allowed(&options, own, own));
    assert!(origin_allowed(&options, "https://course.example.org", own));
    assert!(!origin_allowed(&options, "https://evil.example", own));
    assert!(!origin_allowed(
        &PageOptions::default(),
        "https://course.example.org",
        own
    ));
    let (any, _) = parse_hash("allow-origin=*");
    assert!(origin_allowed(&any, "https://anyone.example", own));
}

fn command(json: &str) -> Result<Command, String> {
    parse_command(json, 1 << 20)
}

#[test]
fn host_commands_parse_or_say_why() {
    assert_eq!(command(r#"{"type":"play"}"#), Ok(Command::Play));
    let set =
        command(r#"{"type":"set","settings":{"lr":0.1,"test":true,"dataset":"xor"}}"#).unwrap();
    let Command::Set { settings } = &set else {
        panic!("{set:?}")
    };
    assert_eq!(settings["lr"], Value::Number(0.1));
    assert_eq!(settings["test"].text(), "1");
    for bad in [
        r#"{"type":"fly"}"#,
        r#"{"type":"set"}"#,
        r#"{"type":"play","extra":1}"#,
        r#"{"type":"set","settings":{"lr":[1]}}"#,
        "not json",
        "",
    ] {
        assert!(command(bad).is_err(), "{bad} is refused");
    }
    assert!(
        parse_command(
            &format!("{{\"type\":\"play\",\"x\":\"{}\"}}", "a".repeat(100)),
            64
        )
        .unwrap_err()
        .contains("at most 64")
    );
}

#[test]
fn a_set_applies_whole_or_not_at_all() {
    let mut p = page("");
    let before = (p.options().clone(), p.settings_hash());
    let bad = command(r#"{"type":"set","settings":{"dataset":"xor","lr":"fast"}}"#).unwrap();
    let err = p.command(bad).unwrap_err();
    assert!(
        err.contains("Learning rate") && err.contains("fast"),
        "{err}"
    );
    assert_eq!(
        (p.options().clone(), p.settings_hash()),
        before,
        "nothing changed"
    );
    let unknown = command(r#"{"type":"set","settings":{"velocity":"11"}}"#).unwrap();
    assert!(p.command(unknown).unwrap_err().contains("velocity"));

    let good = command(
        r#"{"type":"set","settings":{"dataset":"xor","lr":0.03,"grow_hide":1,"preset":"how-many-candidates"}}"#,
    )
    .unwrap();
    let fx = p.command(good).unwrap();
    assert!(fx.restarted && fx.controls);
    // The preset applies first and the other values on top of it.
    assert_eq!(p.options().config.data.kind.name(), "xor");
    assert_eq!(p.options().config.train.learning_rate, 0.03);
    assert_eq!(p.options().config.growth.candidates, 1);
    assert_eq!(p.options().hidden, vec!["grow"]);
    assert_eq!(p.main().config().data.kind.name(), "xor");
}

#[test]
fn play_pause_step_and_grow_from_the_host() {
    let mut p = page("layers=2&seeds=1");
    p.command(Command::Pause).unwrap();
    assert_eq!(p.state(), RunState::Paused);
    p.command(Command::Pause).unwrap();
    assert_eq!(p.state(), RunState::Paused, "pause is not a toggle");
    p.command(Command::Step).unwrap();
    settle(&mut p);
    assert_eq!(p.main().epoch(), 1);
    p.command(Command::Grow).unwrap();
    settle(&mut p);
    assert_eq!(p.main().history().growths.len(), 1);
    p.command(Command::Play).unwrap();
    p.command(Command::Play).unwrap();
    assert_eq!(p.state(), RunState::Running, "play is not a toggle");
    // A diverged run refuses play until reset.
    let mut p = page("lr=10&optimizer=sgd&layers=8,8&seeds=1");
    let mut guard = 0;
    while p.state() != RunState::Error && guard < 2000 {
        block(p.work(20.0));
        guard += 1;
    }
    if p.state() == RunState::Error {
        assert!(p.command(Command::Play).is_err());
        p.command(Command::Reset).unwrap();
        assert_ne!(p.state(), RunState::Error);
    }
}

/// The epochs a growth-mode run's status reports.
fn epoch_of(status: &RunStatus) -> usize {
    match status.mode {
        ModeStatus::Growth { epoch, .. } => epoch,
        ModeStatus::Continual { .. } => panic!("a continual status in growth mode"),
    }
}

/// The keys of a run's status in an event's JSON, sorted.
fn status_keys(event: &HostEvent, run: &str) -> Vec<String> {
    let json = serde_json::to_value(event).expect("event JSON");
    let mut keys: Vec<String> = json[run]
        .as_object()
        .expect("a status")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

#[test]
fn events_report_each_growth_once_and_throttle_epochs() {
    let mut p = page("layers=2&grow-every=2&seeds=1");
    let mut cursor = EventCursor::default();
    let first = p.host_events(&mut cursor, -EPOCH_EVENT_MS);
    assert!(first.iter().all(|e| !matches!(e, HostEvent::Grew { .. })));
    let opening = first.iter().find(|e| matches!(e, HostEvent::Epoch { .. }));
    let opening = opening.expect("the host hears the runs' state as the page opens");
    // Each run's fields, as README's host-page API lists them, in one flat object.
    let keys = "architecture epoch growths method test_accuracy test_loss train_loss units";
    for run in ["main", "baseline"] {
        assert_eq!(status_keys(opening, run).join(" "), keys, "{run}");
    }
    p.update(Msg::TogglePlay);
    step_to(&mut p, 7);
    let events = p.host_events(&mut cursor, 1.0);
    let grew = |events: &[HostEvent], who: &str| {
        events
            .iter()
            .filter(|e| matches!(e, HostEvent::Grew { run, .. } if *run == who))
            .count()
    };
    assert_eq!(grew(&events, "main"), p.main().history().growths.len());
    assert_eq!(
        grew(&events, "baseline"),
        p.baseline().history().growths.len()
    );
    assert!(grew(&events, "main") >= 3);
    assert!(events.iter().any(|e| matches!(e, HostEvent::Epoch { .. })));
    // Too soon after that epoch event: none, though the runs moved.
    step_to(&mut p, 8);
    let soon = p.host_events(&mut cursor, 2.0);
    assert!(!soon.iter().any(|e| matches!(e, HostEvent::Epoch { .. })));
    step_to(&mut p, 9);
    let later = p.host_events(&mut cursor, 1.0 + EPOCH_EVENT_MS);
    let epoch = later.iter().find_map(|e| match e {
        HostEvent::Epoch { main, .. } => Some(epoch_of(main)),
        _ => None,
    });
    assert_eq!(epoch, Some(p.main().epoch()));
    assert_eq!(
        grew(&soon, "main") + grew(&later, "main"),
        p.main().history().growths.len() - grew(&events, "main")
    );
    // Settings changed: one `settings` event with the new link.
    p.update(Msg::Set("lr".into(), "0.03".into()));
    let changed = p.host_events(&mut cursor, 1.0 + 2.0 * EPOCH_EVENT_MS);
    assert!(
        changed
            .iter()
            .any(|e| matches!(e, HostEvent::Settings { link } if link.contains("lr=0.03")))
    );
    let json = serde_json::to_value(&later).unwrap();
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .all(|e| e["type"].is_string())
    );
    let ready = serde_json::to_value(p.ready_event()).unwrap();
    assert_eq!(ready["type"], "ready");
    assert_eq!(ready["settings"]["lr"], "0.03");
}

/// Steps (paused) until the main run has trained `epochs` epochs, whatever the machine's speed.
fn step_to(p: &mut Playground, epochs: usize) {
    while p.main().epoch() < epochs {
        p.update(Msg::Step);
        settle(p);
    }
}

fn exported(p: &Playground) -> RunExport {
    block(p.export()).expect("export")
}

#[test]
fn an_exported_run_imports_back_to_the_same_history() {
    let mut p = page("layers=2&grow-every=3&seeds=2&dataset=xor");
    train_to(&mut p, 10);
    p.update(Msg::AddPoint(0.5, 0.5, false));
    train_to(&mut p, 11);
    let run = exported(&p);
    assert_eq!(run.runs.len(), 4);
    let text = serde_json::to_string(&run).unwrap();
    // The host page's `export` gets the same run.
    let answer = block(p.export_event()).expect("export event");
    assert_eq!(
        answer,
        HostEvent::Export {
            run: Box::new(run.clone())
        }
    );

    let mut q = page("");
    let fx = q.update(Msg::ImportRun("run.json".into(), text.clone()));
    assert!(fx.restarted, "{:?}", q.notices());
    assert_eq!(q.state(), RunState::Paused);
    assert_eq!(q.options(), p.options());
    assert_eq!(q.data(), p.data(), "the person's own points come back");
    let pairs = q
        .main_seeds()
        .zip(p.main_seeds())
        .chain(q.baseline_seeds().zip(p.baseline_seeds()));
    for (a, b) in pairs {
        assert_eq!(a.history(), b.history());
        assert_eq!(a.epoch(), b.epoch());
        assert_eq!(block(a.network()).unwrap(), block(b.network()).unwrap());
    }
    assert_eq!(exported(&q), run, "export ∘ import is the identity");
    // It trains on from there.
    q.update(Msg::TogglePlay);
    let target = q.main().epoch() + 2;
    train_to(&mut q, target);
    assert!(q.main().history().epochs.len() > p.main().history().epochs.len());

    let table = csv(&run);
    let rows: usize = run.runs.iter().map(|r| r.history.epochs.len()).sum();
    assert_eq!(table.lines().count(), rows + 1);
    assert!(table.starts_with("role,index,seed,method,epoch,train_loss"));
}

/// A run saved right after a growth, before the next epoch is recorded (Grow while paused, or a
/// Save at the growth point), opens again: its last record has the units before the growth and
/// its network the units after.
#[test]
fn a_run_saved_right_after_a_growth_imports() {
    // Stepped while paused: trained by time, a fast machine's last slice of work could end on
    // the scheduled growth at epoch 300, and the Grow below would then be the second growth
    // since the last record.
    let mut p = page("layers=2&seeds=1&dataset=xor&autoplay=0");
    step_to(&mut p, 4);
    let units = p.main().n_units();
    p.update(Msg::Grow);
    settle(&mut p);
    assert!(p.main().n_units() > units, "Grow while paused grew");
    let last = p.main().history().epochs.last().unwrap();
    assert_eq!(last.units, units, "no epoch recorded since the growth");
    let run = exported(&p);
    let mut q = page("");
    let fx = q.update(Msg::ImportRun(
        "run.json".into(),
        serde_json::to_string(&run).unwrap(),
    ));
    assert!(fx.restarted, "refused: {:?}", q.notices());
    assert_eq!(q.main().n_units(), p.main().n_units());
    assert_eq!(exported(&q), run);
}

#[test]
fn a_bad_run_file_is_refused_and_changes_nothing() {
    let mut p = page("layers=2&grow-every=3&seeds=1");
    train_to(&mut p, 4);
    let run = exported(&p);
    let mut q = page("dataset=xor&seeds=1");
    train_to(&mut q, 2);
    let before = (
        q.options().clone(),
        q.main().history().clone(),
        q.data().clone(),
    );
    let text = serde_json::to_string(&run).unwrap();
    let mut tampered_weights = run.clone();
    tampered_weights.runs[0].network.out_weight.data.pop();
    let mut tampered_units = run.clone();
    let n = tampered_units.runs[1].network.blocks[0].unit_ids.len();
    tampered_units.runs[1].network.blocks[0].unit_ids = vec![7; n];
    let mut wrong_seeds = run.clone();
    wrong_seeds.runs.pop();
    let mut bad_label = run.clone();
    bad_label.data.train[0].label = 7.0;
    let mut nan = run.clone();
    nan.runs[0].network.out_bias[0] = f32::NAN;
    let cases = [
        ("truncated", text[..text.len() / 2].to_string()),
        (
            "other format",
            text.replace("firefly-playground-run", "something-else"),
        ),
        (
            "newer version",
            text.replace("\"version\":1", "\"version\":2"),
        ),
        (
            "bad link",
            text.replacen(
                &format!("\"link\":\"{}", run.link),
                "\"link\":\"lr=banana&",
                1,
            ),
        ),
        ("weights", serde_json::to_string(&tampered_weights).unwrap()),
        ("unit ids", serde_json::to_string(&tampered_units).unwrap()),
        ("runs", serde_json::to_string(&wrong_seeds).unwrap()),
        ("label", serde_json::to_string(&bad_label).unwrap()),
        ("nan", serde_json::to_string(&nan).unwrap_or_default()),
    ];
    for (what, text) in cases {
        let fx = q.update(Msg::ImportRun("run.json".into(), text));
        assert!(!fx.restarted, "{what} is refused");
        let notice = q
            .notices()
            .last()
            .map(|n| n.text.clone())
            .unwrap_or_default();
        assert!(notice.starts_with("run.json: "), "{what}: {notice}");
        assert_eq!(
            (
                q.options().clone(),
                q.main().history().clone(),
                q.data().clone()
            ),
            before,
            "{what} changed nothing"
        );
    }
}

#[test]
fn same_link_same_first_growth_decisions_with_a_preset() {
    let decide = || {
        let mut p = page(&format!("preset={}&seeds=1", PRESETS[0].name));
        p.update(Msg::TogglePlay);
        p.update(Msg::Grow);
        settle(&mut p);
        let g = p.main().history().growths[0].clone();
        (g.plan, g.candidates)
    };
    assert_eq!(decide(), decide());
}

#[test]
fn the_share_dialog_builds_a_link_and_an_escaped_iframe() {
    use firefly_playground::url::{iframe_snippet, share_link};
    let (mut options, _) = parse_hash("preset=lone-unit-split&grow_hide=1");
    options.embed = true;
    let link = share_link("https://example.org/course/index.html#old=1", &options);
    assert_eq!(
        link,
        "https://example.org/course/index.html#preset=lone-unit-split&embed=1&grow_hide=1"
    );
    assert_eq!(parse_hash(link.split_once('#').unwrap().1).0, options);
    let snippet = iframe_snippet(&link);
    assert!(snippet.contains("src=\"https://example.org/course/index.html#preset=lone-unit-split&amp;embed=1&amp;grow_hide=1\""));
    assert!(iframe_snippet("x\"><script>").contains("x&quot;&gt;&lt;script&gt;"));
    assert_eq!(
        share_link("https://e.org/", &PageOptions::default()),
        "https://e.org/"
    );
}

#[test]
fn the_continual_mode_keeps_old_tasks_and_shows_fine_tuning_forget() {
    use firefly_playground::playground::continual::{ContinualPage, TaskState};
    let (options, problems) = parse_hash("mode=continual&sequence=circle,xor,spiral&seed=3");
    assert!(problems.is_empty(), "{problems:?}");
    assert!(options.continual);
    let mut page = ContinualPage::new(&options).unwrap();
    assert_eq!(page.strip()[0].1, TaskState::Current);
    assert_eq!(page.strip()[2].1, TaskState::Next);
    assert_eq!(
        page.progress(),
        "Task 1 of 3 (circle) · training block 1 of 9, step 0 of 300"
    );
    let mut said = std::collections::BTreeSet::new();
    let mut after_first: Option<(f32, f32)> = None;
    let mut guard = 0;
    while !page.finished() {
        page.work(500).unwrap();
        said.insert(
            page.progress()
                .split(" · ")
                .nth(1)
                .unwrap_or("")
                .split(' ')
                .next()
                .unwrap_or("")
                .to_string(),
        );
        // Fine-tuning may finish a task first, then waits for Firefly.
        assert!(page.fine_tune().table().len() <= page.firefly().table().len() + 1);
        if after_first.is_none()
            && page.firefly().table().len() == 1
            && page.fine_tune().table().len() == 1
        {
            let rows = page.rows().unwrap();
            after_first = Some((rows[0].firefly, rows[0].fine_tune.unwrap()));
        }
        guard += 1;
        assert!(guard < 100_000);
    }
    let (firefly_then, fine_then) = after_first.expect("both finished the first task");
    assert!(
        said.contains("training") && said.contains("growth"),
        "{said:?}"
    );
    assert_eq!(page.progress(), "All 3 tasks learnt");
    let rows = page.rows().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(page.strip().iter().all(|(_, s)| *s == TaskState::Done));
    // Firefly's first task is frozen: the same accuracy, exactly.
    assert_eq!(rows[0].firefly, firefly_then);
    // Fine-tuning forgets it.
    let fine_now = rows[0].fine_tune.unwrap();
    assert!(
        fine_now < fine_then - 0.05,
        "fine-tuning kept circle: {fine_then} → {fine_now}"
    );
    // The captions name the task shown and how many units its head reads: Firefly's spiral
    // reads the units its mask kept, fine-tuning's every unit.
    let net = page.firefly().net();
    let reads = net.heads[2].units.len();
    assert!(
        reads < net.n_units(),
        "spiral's mask left out some old units"
    );
    assert_eq!(
        page.map_caption(page.firefly()),
        format!("spiral · reads {reads} of {} units", net.n_units())
    );
    let n = page.fine_tune().net().n_units();
    assert_eq!(
        page.map_caption(page.fine_tune()),
        format!("spiral · reads {n} of {n} units")
    );
    // The maps are probabilities.
    let heat = ContinualPage::heat(page.firefly(), 2, 10).unwrap();
    assert_eq!(heat.len(), 100 * 2);
    assert!(heat.chunks(2).all(|c| ((c[0] + c[1]) - 1.0).abs() < 1e-5));

    for bad in [
        "sequence=circle",
        "sequence=circle,reg-plane",
        "sequence=circle,nothing",
        "mode=both",
    ] {
        let (_, problems) = parse_hash(bad);
        assert_eq!(problems.len(), 1, "{bad} is refused");
    }
}

#[test]
fn a_link_carries_class_splits_of_the_three_class_spiral_into_the_page() {
    use firefly_playground::playground::continual::{ContinualPage, TaskState};
    use firefly_playground::url::to_hash;
    let (options, problems) =
        parse_hash("mode=continual&sequence=spiral3:0%2B1,spiral3:1%2B2&seed=2");
    assert!(problems.is_empty(), "{problems:?}");
    let names: Vec<String> = options.sequence.iter().map(|t| t.name()).collect();
    assert_eq!(names, ["spiral3:0+1", "spiral3:1+2"]);
    // The link written back names the splits and reads back the same.
    let hash = to_hash(&options);
    let (again, problems) = parse_hash(&hash);
    assert!(problems.is_empty(), "{hash}: {problems:?}");
    assert_eq!(again.sequence, options.sequence, "{hash}");
    // An unescaped + (as typed into a link) reads the same.
    let (typed, problems) = parse_hash("mode=continual&sequence=spiral3:0+1,spiral3:1+2");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(typed.sequence, options.sequence);

    let mut page = ContinualPage::new(&options).unwrap();
    let strip: Vec<String> = page.strip().into_iter().map(|(n, _)| n).collect();
    assert_eq!(strip, names);
    // Each task is a two-class problem on its own classes' points.
    for (t, classes) in [[0.0, 1.0], [0.0, 1.0]].iter().enumerate() {
        let data = page.firefly().data(t).unwrap();
        let mut labels = firefly_playground::data::Dataset::labels(&data.train);
        labels.sort_by(f32::total_cmp);
        labels.dedup();
        assert_eq!(&labels, classes, "task {t}");
    }
    run_to_first_task_end(&mut page);
    let rows = page.rows().unwrap();
    assert_eq!(rows[0].task, "spiral3:0+1");
    assert!(
        rows[0].firefly > 0.8,
        "first split learnt: {}",
        rows[0].firefly
    );
    assert_eq!(page.strip()[0].1, TaskState::Done);

    for (bad, says) in [
        ("sequence=spiral3:2,spiral3:0+1", "at least two"),
        ("sequence=spiral3:0+7,circle", "spiral3"),
        ("sequence=spiral3:a+b,circle", "classes are numbers"),
        ("sequence=circle:0+1%2B2,xor", "circle"),
    ] {
        let (_, problems) = parse_hash(bad);
        assert_eq!(problems.len(), 1, "{bad} is refused");
        let message = &problems[0].message;
        assert!(
            message.starts_with("Task sequence") && message.contains(says),
            "{bad}: {message}"
        );
    }
}

/// Plays a continual page until both runs have finished their first task.
fn run_to_first_task_end(page: &mut firefly_playground::playground::continual::ContinualPage) {
    page.set_running(true);
    let mut guard = 0;
    while page.firefly().table().is_empty() || page.fine_tune().table().is_empty() {
        page.work(500).unwrap();
        guard += 1;
        assert!(guard < 10_000);
    }
}

/// A continual page at its first task's end and a little into the second (paused).
fn continual_page_into_second_task(
    hash: &str,
) -> firefly_playground::playground::continual::ContinualPage {
    use firefly_playground::playground::continual::ContinualPage;
    let (options, problems) = parse_hash(hash);
    assert!(problems.is_empty(), "{problems:?}");
    let mut page = ContinualPage::new(&options).unwrap();
    run_to_first_task_end(&mut page);
    // Into the second task's first growth phase, so that both runs carry state of two tasks.
    page.work(700).unwrap();
    page.set_running(false);
    page
}

/// Every task's logits (on a grid and on its test points) of both runs, as bits.
fn continual_outputs(
    page: &firefly_playground::playground::continual::ContinualPage,
) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    for run in [page.firefly(), page.fine_tune()] {
        for task in 0..run.net().heads.len() {
            let mut inputs = firefly_playground::data::grid_inputs(20);
            inputs.extend(firefly_playground::data::Dataset::inputs(
                &run.data(task).unwrap().test,
            ));
            let logits = run.logits(task, &inputs).unwrap();
            out.push(logits.iter().map(|v| v.to_bits()).collect());
        }
    }
    out
}

#[test]
fn save_writes_each_mode_s_run_file_and_continual_mode_offers_only_json() {
    use firefly_playground::playground::continual::ContinualPage;
    use firefly_playground::playground::{SaveBody, SaveKind, Saves};
    // Growth mode: every kind, named after the data set and both methods.
    let mut p = page("dataset=xor&seeds=1");
    train_to(&mut p, 2);
    assert_eq!(<Playground as Saves>::KINDS.len(), 3);
    let stem = "firefly-xor-firefly-vs-random-new";
    let json = block(p.save_file(SaveKind::Json)).expect("json");
    assert_eq!(
        (json.name.as_str(), json.mime),
        (&*format!("{stem}.json"), "application/json")
    );
    let SaveBody::Text(text) = json.body else {
        panic!("a run file is text")
    };
    let mut q = page("");
    q.open(RunFile::from_text(&text).expect("a run file"))
        .expect("the saved file opens");
    assert_eq!(exported(&q), exported(&p));
    let table = block(p.save_file(SaveKind::Csv)).expect("csv");
    assert_eq!(table.name, format!("{stem}.csv"));
    assert_eq!(table.body, SaveBody::Text(csv(&exported(&p))));
    let png = block(p.save_file(SaveKind::Png)).expect("png");
    assert_eq!((png.mime, png.body), ("image/png", SaveBody::Picture));

    // Continual mode: the run file alone; the other kinds are refused, not saved.
    let page = continual_page_into_second_task("mode=continual&sequence=spiral3:0+1,xor&seed=3");
    assert_eq!(<ContinualPage as Saves>::KINDS, [SaveKind::Json]);
    let json = block(page.save_file(SaveKind::Json)).expect("json");
    assert_eq!(json.name, "firefly-continual-spiral3_0_1-xor.json");
    let SaveBody::Text(text) = json.body else {
        panic!("a run file is text")
    };
    let (options, _) = parse_hash("mode=continual");
    let mut opened = ContinualPage::new(&options).unwrap();
    opened.open_file("cl.json", &text);
    assert_eq!(opened.export(), page.export());
    for kind in [SaveKind::Csv, SaveKind::Png] {
        assert!(block(page.save_file(kind)).is_err(), "{kind:?}");
    }
}

#[test]
fn a_continual_run_exports_and_imports_to_bit_identical_outputs() {
    use firefly_playground::playground::continual::ContinualPage;
    use firefly_playground::playground::{CONTINUAL_MODE, RunFile};
    let page = continual_page_into_second_task("mode=continual&sequence=circle,xor&seed=3");
    assert_eq!(page.firefly().task(), 1);
    assert!(!page.firefly().net().heads[0].units.is_empty());
    let export = page.export();
    assert_eq!(export.mode, CONTINUAL_MODE);
    let text = serde_json::to_string(&export).unwrap();

    // Open a run: into a page on another sequence and seed.
    let (other, _) = parse_hash("mode=continual&sequence=spiral,moons,xor&seed=9&autoplay=1");
    let mut opened = ContinualPage::new(&other).unwrap();
    opened.open_file("cl.json", &text);
    let notice = opened.notice().unwrap();
    assert_eq!(
        notice.level,
        firefly_playground::playground::Level::Info,
        "{}",
        notice.text
    );
    assert_eq!(continual_outputs(&opened), continual_outputs(&page));
    for (a, b) in [
        (opened.firefly(), page.firefly()),
        (opened.fine_tune(), page.fine_tune()),
    ] {
        assert_eq!(a.net(), b.net(), "masks, heads, owners and frozen flags");
        assert_eq!(a.table(), b.table(), "accuracies so far");
        assert_eq!(a.task(), b.task());
        assert_eq!(a.accuracies().unwrap(), b.accuracies().unwrap());
    }
    assert_eq!(opened.options().sequence, page.options().sequence);
    assert_eq!(opened.link(), page.link());
    assert_eq!(opened.state_name(), "paused");
    // Reset starts the imported sequence again.
    opened.reset().unwrap();
    assert_eq!(opened.firefly().task(), 0);
    assert_eq!(
        opened.firefly().config().sequence,
        page.firefly().config().sequence
    );

    // The host's import and export, through the same parsing as a posted message.
    let mut hosted = ContinualPage::new(&other).unwrap();
    let message = format!("{{\"type\":\"import\",\"run\":{text}}}");
    let command = parse_command(&message, 1 << 24).unwrap();
    let Command::Import { run } = &command else {
        panic!("not an import")
    };
    assert!(matches!(**run, RunFile::Continual(_)));
    assert_eq!(hosted.command(command), Ok(()));
    assert_eq!(continual_outputs(&hosted), continual_outputs(&page));
    assert_eq!(hosted.command(Command::Export), Ok(()), "nothing changes");
    let answer = block(hosted.export_event()).unwrap();
    let json = serde_json::to_value(&answer).unwrap();
    assert_eq!(json["type"], "export");
    assert_eq!(json["run"]["mode"], "continual");
    assert_eq!(json["run"], serde_json::to_value(&export).unwrap());

    // A growth-mode page says where a continual file opens, and changes nothing.
    let mut q = page_of_growth_mode();
    let before = q.options().clone();
    let fx = q.update(Msg::ImportRun("cl.json".into(), text));
    assert!(!fx.restarted);
    let said = q
        .notices()
        .last()
        .map(|n| n.text.clone())
        .unwrap_or_default();
    assert!(
        said.starts_with("cl.json: ") && said.contains("continual"),
        "{said}"
    );
    assert_eq!(q.options(), &before);
}

fn page_of_growth_mode() -> Playground {
    page("seeds=1&points=100&autoplay=0")
}

#[test]
fn a_tampered_continual_run_file_is_refused_and_changes_nothing() {
    use firefly_playground::playground::ContinualExport;
    let source = continual_page_into_second_task("mode=continual&sequence=circle,xor&seed=5");
    let good = source.export();
    let text = serde_json::to_string(&good).unwrap();
    let edit = |f: &dyn Fn(&mut ContinualExport)| {
        let mut run = good.clone();
        f(&mut run);
        serde_json::to_string(&run).unwrap()
    };
    let weight = good.firefly.net.heads[0].weight.data[0];
    let growth = serde_json::to_string(&exported(&page_of_growth_mode())).unwrap();
    let cases: Vec<(&str, String)> = vec![
        ("truncated", text[..text.len() / 2].to_string()),
        (
            "a mask one unit short",
            edit(&|r| {
                r.firefly.net.heads[0].units.pop();
            }),
        ),
        (
            "an empty mask",
            edit(&|r| {
                r.firefly.net.heads[0].units.clear();
                r.firefly.net.heads[0].weight = firefly_playground::model::Matrix::zeros(0, 2);
            }),
        ),
        (
            "a mask one unit long",
            edit(&|r| {
                let id = r.firefly.net.units.last().unwrap().id;
                r.fine_tune.net.heads[1].units.push(id);
            }),
        ),
        (
            "a non-finite weight",
            text.replacen(&format!("{weight}"), "1e39", 1),
        ),
        (
            "a weight that is not a number",
            edit(&|r| {
                r.firefly.net.units[0].theta[0] = f32::NAN;
            }),
        ),
        (
            "an unknown task",
            text.replacen("\"sequence\":[\"circle\"", "\"sequence\":[\"banana\"", 1),
        ),
        (
            "a head of a task past the sequence",
            edit(&|r| r.firefly.net.heads[1].task = 7),
        ),
        (
            "a unit owned by an unknown task",
            edit(&|r| r.firefly.net.units[0].owner = 9),
        ),
        (
            "a current task past the sequence",
            edit(&|r| r.fine_tune.task = 7),
        ),
        (
            "an accuracy above 1",
            edit(&|r| r.firefly.table[0].accuracy[0] = 1.5),
        ),
        (
            "runs not made from the link",
            edit(&|r| r.firefly.config.seed += 1),
        ),
        (
            "the runs swapped",
            edit(&|r| std::mem::swap(&mut r.firefly, &mut r.fine_tune)),
        ),
        (
            "a link of the growth mode",
            edit(&|r| r.link = "dataset=xor".into()),
        ),
        (
            "a bad link",
            edit(&|r| r.link = "mode=continual&lr=banana".into()),
        ),
        (
            "another mode",
            text.replacen("\"mode\":\"continual\"", "\"mode\":\"both\"", 1),
        ),
        ("another version", edit(&|r| r.version = 3)),
        (
            "a file written before continual learning grew on the engine's grower",
            edit(&|r| r.version = 1),
        ),
        ("a growth-mode run file", growth),
        ("an unknown field", text.replacen("{", "{\"extra\":1,", 1)),
    ];
    let (options, _) = parse_hash("mode=continual&sequence=spiral,xor&seed=1");
    let mut page = firefly_playground::playground::continual::ContinualPage::new(&options).unwrap();
    page.set_running(true);
    page.work(300).unwrap();
    page.set_running(false);
    let before = (
        page.firefly().state(),
        page.fine_tune().state(),
        page.options().clone(),
        continual_outputs(&page),
    );
    for (what, text) in cases {
        page.dismiss(firefly_playground::playground::Cause::Import);
        page.open_file("cl.json", &text);
        let notice = page.notice().cloned().expect("a notice");
        assert_eq!(
            notice.level,
            firefly_playground::playground::Level::Error,
            "{what} is refused: {}",
            notice.text
        );
        assert!(
            notice.text.starts_with("cl.json: ") && notice.text.len() < 400,
            "{what}: {}",
            notice.text
        );
        let after = (
            page.firefly().state(),
            page.fine_tune().state(),
            page.options().clone(),
            continual_outputs(&page),
        );
        assert!(after == before, "{what} changed nothing");
        // The host's import says the same, as an error.
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
            let message = serde_json::json!({"type": "import", "run": value}).to_string();
            let refused =
                parse_command(&message, 1 << 24).and_then(|c| page.command(c).map(|_| ()));
            assert!(refused.is_err(), "{what} is refused from the host");
        }
    }
    // A file of the first version says why it cannot be read, and what to do instead.
    page.open_file("cl.json", &edit(&|r| r.version = 1));
    let notice = page.notice().expect("a notice").text.clone();
    assert!(
        notice.contains("version 1") && notice.contains("open their link"),
        "{notice}"
    );
    // And the good file still opens.
    page.open_file("cl.json", &text);
    assert_eq!(
        page.notice().unwrap().level,
        firefly_playground::playground::Level::Info
    );
    assert_eq!(continual_outputs(&page), continual_outputs(&source));
}

#[test]
fn host_commands_drive_the_continual_mode() {
    use firefly_playground::continual::ContinualStage;
    use firefly_playground::playground::continual::{ContinualCursor, ContinualPage};
    let (options, _) = parse_hash("mode=continual&sequence=circle,xor&seed=2&autoplay=0");
    let mut page = ContinualPage::new(&options).unwrap();
    assert_eq!(
        page.map_caption(page.firefly()),
        "circle · reads 1 of 1 unit",
        "one unit, in the singular"
    );
    assert!(ContinualPage::diagram_caption(page.firefly()).starts_with("1 hidden unit, coloured"));
    let mut cursor = ContinualCursor::default();
    let ready = serde_json::to_value(page.ready_event()).unwrap();
    assert_eq!(ready["type"], "ready");
    assert_eq!(ready["settings"]["sequence"], "circle,xor");
    let first = page.host_events(&mut cursor, 0.0);
    assert_eq!(first.len(), 1, "one progress event at the start");
    let json = serde_json::to_value(&first[0]).unwrap();
    assert_eq!(json["type"], "progress");
    assert_eq!(json["state"], "paused");
    assert_eq!(json["sequence"], serde_json::json!(["circle", "xor"]));
    assert_eq!(json["firefly"]["method"], "firefly");
    assert_eq!(json["fine_tune"]["method"], "fine-tune");
    let keys = "accuracy growths method params stage tasks_done train_loss units";
    for run in ["firefly", "fine_tune"] {
        assert_eq!(status_keys(&first[0], run).join(" "), keys, "{run}");
    }
    assert!(
        page.host_events(&mut cursor, 1000.0).is_empty(),
        "nothing moved"
    );

    // Paused: work does nothing.
    let stage = page.firefly().stage();
    page.work(100).unwrap();
    assert_eq!(page.firefly().stage(), stage);

    // Step: one block's worth of work, then paused.
    assert_eq!(
        page.command(parse_command(r#"{"type":"step"}"#, 1024).unwrap()),
        Ok(())
    );
    assert!(!page.running());
    let ContinualStage::Training { phase, step, .. } = page.firefly().stage() else {
        panic!("{:?}", page.firefly().stage())
    };
    assert!(
        phase == 1 || step > 0,
        "step moved Firefly: {:?}",
        page.firefly().stage()
    );
    let moved = page.host_events(&mut cursor, 2000.0);
    assert_eq!(moved.len(), 1);

    // Play, then pause.
    assert_eq!(page.command(Command::Play), Ok(()));
    assert!(page.running());
    assert_eq!(page.state_name(), "running");
    page.work(200).unwrap();
    assert_eq!(page.command(Command::Pause), Ok(()));
    assert!(!page.running());
    let paused = page.firefly().state();
    page.work(200).unwrap();
    assert_eq!(page.firefly().state(), paused, "pause holds");
    // Events within 250 ms of the last are held back, then one comes.
    assert!(
        page.host_events(&mut cursor, 2000.0 + EPOCH_EVENT_MS - 1.0)
            .is_empty()
    );
    assert_eq!(
        page.host_events(&mut cursor, 2000.0 + EPOCH_EVENT_MS).len(),
        1
    );

    // set and grow are refused with a reason, and change nothing.
    for refused in [
        r#"{"type":"set","settings":{"seed":4}}"#,
        r#"{"type":"grow"}"#,
    ] {
        let e = page
            .command(parse_command(refused, 1024).unwrap())
            .unwrap_err();
        assert!(e.contains("continual mode"), "{e}");
        assert_eq!(page.firefly().state(), paused);
    }

    // Played to the end: a task-done event per task and run, each once.
    page.command(Command::Play).unwrap();
    let mut done = Vec::new();
    let mut t = 3000.0;
    let mut guard = 0;
    while !page.finished() {
        page.work(500).unwrap();
        t += 10.0;
        for event in page.host_events(&mut cursor, t) {
            if let Ok(v) = serde_json::to_value(&event)
                && v["type"] == "task-done"
            {
                done.push((
                    v["run"].as_str().unwrap_or("").to_string(),
                    v["record"]["after_task"].as_u64(),
                ));
            }
        }
        guard += 1;
        assert!(guard < 10_000);
    }
    for event in page.host_events(&mut cursor, t + 1000.0) {
        if let Ok(v) = serde_json::to_value(&event)
            && v["type"] == "task-done"
        {
            done.push((
                v["run"].as_str().unwrap_or("").to_string(),
                v["record"]["after_task"].as_u64(),
            ));
        }
    }
    done.sort();
    assert_eq!(
        done,
        vec![
            ("fine-tune".to_string(), Some(0)),
            ("fine-tune".to_string(), Some(1)),
            ("firefly".to_string(), Some(0)),
            ("firefly".to_string(), Some(1)),
        ]
    );
    assert_eq!(page.state_name(), "finished");
    assert!(page.command(Command::Play).unwrap_err().contains("reset"));
    assert!(page.command(Command::Step).unwrap_err().contains("reset"));

    // Reset starts again, paused (the link does not autoplay).
    assert_eq!(page.command(Command::Reset), Ok(()));
    assert_eq!(page.firefly().task(), 0);
    assert!(page.firefly().table().is_empty());
    assert!(!page.running());
    let after_reset = page.host_events(&mut cursor, t + 5000.0);
    assert_eq!(after_reset.len(), 1);
}

#[test]
fn object_messages_are_bounded_like_text_messages() {
    let value = serde_json::json!({"type": "play", "x": "a".repeat(100)});
    let size = value.to_string().len();
    let refused = Command::from_posted_object(value.clone(), size - 1).unwrap_err();
    assert!(
        refused.contains(&format!("at most {}", size - 1)),
        "{refused}"
    );
    // Within the limit it is read as any command is (here: an unknown field).
    let read = Command::from_posted_object(value, size).unwrap_err();
    assert!(read.contains("unknown field"), "{read}");
    assert_eq!(
        Command::from_posted_object(serde_json::json!({"type": "pause"}), 64),
        Ok(Command::Pause)
    );
    // A deep or wide object is measured without being written out whole.
    let wide = serde_json::json!({"type": "import", "run": vec!["x".repeat(1000); 10_000]});
    let e = Command::from_posted_object(wide, 1 << 20).unwrap_err();
    assert!(e.contains(&format!("at most {}", 1 << 20)), "{e}");
}

#[test]
fn a_host_set_after_pause_leaves_the_playground_paused() {
    // The course page's "Pause both", then "Both on XOR": the new data restarts both runs, and
    // the playground stays paused until "Play both".
    let mut p = page("preset=lone-unit-split&seeds=1&embed=1");
    assert_eq!(p.state(), RunState::Running);
    p.command(command(r#"{"type":"pause"}"#).unwrap()).unwrap();
    p.command(command(r#"{"type":"set","settings":{"dataset":"xor"}}"#).unwrap())
        .unwrap();
    assert_eq!(p.options().config.data.kind.name(), "xor");
    assert_eq!(p.state(), RunState::Paused);
    p.command(command(r#"{"type":"play"}"#).unwrap()).unwrap();
    assert_eq!(p.state(), RunState::Running);
}

#[test]
fn a_bad_sequence_in_a_continual_link_is_named() {
    use firefly_playground::playground::continual::ContinualPage;
    let (options, problems) = parse_hash("mode=continual&sequence=circle,nope");
    assert!(options.continual);
    let mut page = ContinualPage::new(&options).unwrap();
    assert!(page.notice().is_none());
    page.report_link(&problems);
    let notice = page.notice().expect("the link's problem is shown");
    assert!(notice.text.contains("nope"), "{}", notice.text);
    // The default sequence runs meanwhile.
    assert_eq!(page.options().sequence, PageOptions::default().sequence);
}

/// Continual mode's messages go through one `update`, as growth mode's do: each changes what it
/// says, and growth mode's own messages change nothing.
#[test]
fn continual_mode_takes_the_pages_messages_through_update() {
    use firefly_playground::playground::continual::ContinualPage;
    use firefly_playground::playground::{Cause, Level, Msg};
    let (options, problems) = parse_hash("mode=continual&sequence=circle,nope&autoplay=0");
    let mut page = ContinualPage::new(&options).unwrap();
    page.report_link(&problems);
    let looks = |p: &ContinualPage| (p.running(), p.firefly().state(), p.notices().len());
    let start = looks(&page);
    assert!(!start.0, "autoplay=0 opens paused");
    page.update(Msg::Grow).unwrap();
    page.update(Msg::AddPoint(1.0, 1.0, false)).unwrap();
    assert!(
        looks(&page) == start,
        "growth mode's messages do nothing here"
    );
    page.update(Msg::TogglePlay).unwrap();
    assert!(page.running());
    page.update(Msg::Step).unwrap();
    assert!(!page.running(), "Step pauses");
    assert_ne!(page.firefly().state(), start.1, "and trains one block");
    page.update(Msg::ImportFailed("cl.json".into(), "too large".into()))
        .unwrap();
    let refused = page.notice().expect("the refusal is shown");
    assert_eq!(
        (refused.cause, refused.level),
        (Cause::Import, Level::Error)
    );
    assert_eq!(page.notices().len(), 2, "beside the link's notice");
    page.update(Msg::Dismiss(Cause::Import)).unwrap();
    assert_eq!(page.notice().map(|n| n.cause), Some(Cause::Link));
    page.update(Msg::Reset).unwrap();
    assert!(page.notices().is_empty() && !page.running());
    assert!(
        page.firefly().state() == start.1,
        "Reset starts the same run again"
    );
}

#[test]
fn the_epoch_event_follows_pause_step_and_a_growth_while_paused() {
    // The course page's captions come from `epoch` events: Pause changes no epoch, and a growth
    // while paused no epoch either, yet the host hears of both, with the data the runs train on.
    let mut p = page("preset=lone-unit-split&seeds=1&embed=1");
    let mut cursor = EventCursor::default();
    let mut t = 0.0;
    let mut next = |p: &Playground| {
        t += EPOCH_EVENT_MS;
        p.host_events(&mut cursor, t)
            .into_iter()
            .find_map(|e| match e {
                HostEvent::Epoch {
                    state, data, main, ..
                } => Some((state, data, epoch_of(&main), main.growths)),
                _ => None,
            })
    };
    assert_eq!(next(&p), Some(("running", "circle".to_string(), 0, 0)));
    assert_eq!(next(&p), None, "nothing changed");
    p.command(Command::Pause).unwrap();
    assert_eq!(next(&p), Some(("paused", "circle".to_string(), 0, 0)));
    p.command(Command::Grow).unwrap();
    settle(&mut p);
    assert_eq!(next(&p), Some(("paused", "circle".to_string(), 0, 1)));
    p.command(Command::Step).unwrap();
    settle(&mut p);
    assert_eq!(next(&p), Some(("paused", "circle".to_string(), 1, 1)));
    p.command(command(r#"{"type":"set","settings":{"dataset":"xor"}}"#).unwrap())
        .unwrap();
    assert_eq!(next(&p), Some(("paused", "xor".to_string(), 0, 0)));
}

#[test]
fn continual_mode_takes_speed_at_once_and_reports_the_steps_it_paces() {
    use firefly_playground::playground::continual::ContinualPage;
    let (options, _) = parse_hash("mode=continual&sequence=circle,xor&seed=2");
    let mut page = ContinualPage::new(&options).unwrap();
    page.set_running(true);
    // A chunk of training reports its steps (what Speed counts); one that reaches a growth
    // phase stops there.
    assert_eq!(page.work(20).unwrap(), 20);
    let mut slow = options.clone();
    firefly_playground::settings::set_key(&mut slow, "speed", "10").unwrap();
    page.set_view_options(slow).unwrap();
    assert!(page.link().contains("speed=10"), "{}", page.link());
    assert_eq!(
        page.firefly().stage(),
        ContinualPage::new(&options)
            .map(|mut p| {
                p.set_running(true);
                p.work(20).unwrap();
                p.firefly().stage()
            })
            .unwrap(),
        "the runs go on as they were"
    );
    // A setting that changes the runs is refused and changes nothing.
    let mut reseeded = page.options().clone();
    firefly_playground::settings::set_key(&mut reseeded, "seed", "9").unwrap();
    let before = page.link();
    assert!(page.set_view_options(reseeded).is_err());
    assert_eq!(page.link(), before);
}
