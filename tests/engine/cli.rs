//! `firefly run` takes the page's settings as flags from the settings table: one flag per row
//! that shapes the runs, named by its link key, taking what the link takes, and it trains what
//! the page trains.

use firefly_playground::experiment::{PresetMeasure, PresetSeed};
use firefly_playground::playground::{Msg, Playground};
use firefly_playground::settings::SETTINGS;

use crate::support::{block, device};

/// Runs `firefly` with `args`: its exit success, stdout and stderr.
fn firefly(args: &[&str]) -> (bool, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_firefly"))
        .args(args)
        .output()
        .expect("firefly runs");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (
        output.status.success(),
        text(&output.stdout),
        text(&output.stderr),
    )
}

/// A run's output without what depends on the clock: each growth's and the run's time.
fn untimed(output: &str) -> String {
    (output.lines())
        .filter(|l| !(l.starts_with('(') && l.ends_with(" s)")))
        .map(|l| match l.find(" ms  [") {
            Some(end) => {
                let start = l[..end].rfind(')').map_or(end, |p| p + 1);
                format!("{}{}", &l[..start], &l[end + 3..])
            }
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A newcomer who adds a row to the table gets its flag: `firefly run --help` lists every
/// setting that shapes the runs as `--<key>` with the page's default, and no setting of the
/// page's drawing or loading (speed, backend, embed …), whose keys mean nothing to a run.
#[test]
fn the_runs_flags_are_the_rows_of_the_settings_table() {
    let (ok, help, _) = firefly(&["run", "--help"]);
    assert!(ok, "{help}");
    let runs: Vec<_> = SETTINGS.iter().filter(|s| s.shapes_the_runs()).collect();
    assert!(
        runs.len() >= 20,
        "only {} settings shape the runs",
        runs.len()
    );
    for setting in SETTINGS {
        let flag = format!("--{} <VALUE>", setting.key);
        let listed = help.contains(&flag);
        assert_eq!(
            listed,
            setting.shapes_the_runs(),
            "{flag} listed: {listed}\n{help}"
        );
        if listed {
            let default = format!("[default: {}]", setting.default_value());
            let entry = &help[help.find(&flag).unwrap_or(0)..];
            let entry = &entry[..entry[1..].find("\n      --").map_or(entry.len(), |e| e + 1)];
            assert!(entry.contains(setting.label), "{entry}");
            assert!(
                setting.default_value().is_empty() || entry.contains(&default),
                "{entry} lacks {default}"
            );
        }
    }
    for page_only in ["speed", "backend", "embed", "test", "mode"] {
        let setting = firefly_playground::settings::find(page_only).expect("a setting");
        assert!(!setting.shapes_the_runs(), "{page_only}");
    }
}

/// A flag is its key in a link: the same run either way, and a different run from the one
/// without it. A bad value stops the command with a message that names the flag, as the page's
/// notice names the setting.
#[test]
fn a_flag_sets_what_its_link_key_sets() {
    let base = [
        "run",
        "--seeds",
        "2",
        "--grow-every",
        "15",
        "--max-units",
        "3",
    ];
    let with = |extra: &[&str]| {
        let (ok, out, err) = firefly(&[&base[..], extra].concat());
        assert!(ok, "{extra:?}: {err}");
        untimed(&out)
    };
    let plain = with(&[]);
    let flags = with(&["--lr", "0.03", "--dataset", "xor", "--per-growth", "2"]);
    let link = with(&[
        "--link",
        "https://example.org/#lr=0.03&dataset=xor&per-growth=2",
    ]);
    assert_eq!(flags, link);
    assert_ne!(flags, plain);
    assert!(flags.starts_with("xor · "), "{flags}");
    // 1 unit, then 3 after one growth of 2 units: the cap.
    assert!(flags.contains("grow 2-1-2 → 2-3-2"), "{flags}");
    // A flag applies on top of the link, as a link's key applies on top of its preset.
    let over = with(&[
        "--link",
        "dataset=spiral&lr=0.03&per-growth=2",
        "--dataset",
        "xor",
    ]);
    assert_eq!(over, flags);

    let (ok, out, err) = firefly(&["run", "--batch", "500"]);
    assert!(!ok && out.is_empty(), "{out}");
    assert_eq!(
        err.trim(),
        "error: --batch: Batch size: 500 is outside 0 to 100"
    );
    let (ok, _, err) = firefly(&["run", "--link", "seeds=2&lr=abc"]);
    assert!(
        !ok && err.contains("--link: Learning rate: \"abc\""),
        "{err}"
    );
    let (ok, _, err) = firefly(&["run", "--speed", "10"]);
    assert!(!ok && err.contains("--speed"), "{err}");
}

/// `firefly run` trains what the page trains: the final losses it prints for both runs are those
/// of the page's engine built from the same link and stepped as many epochs, and Figure 3 live
/// averages every seed.
#[test]
fn the_command_line_run_is_the_pages_run() {
    let link = "seeds=3&grow-every=20&max-units=4&dataset=moons";
    let (ok, out, err) = firefly(&["run", "--link", link, "--epochs", "70"]);
    assert!(ok, "{err}");
    let mut page = Playground::from_hash(link, device()).expect("the page starts");
    for _ in 0..70 {
        page.update(Msg::Step);
        while page.busy() {
            block(page.work(f64::INFINITY));
        }
    }
    for run in [page.main(), page.baseline()] {
        let last = block(run.evaluate()).expect("evaluates");
        let line = format!(
            "{}  train loss {:.4}  test loss {:.4}",
            run.shape().architecture(),
            last.train_loss,
            last.test_loss
        );
        assert!(out.contains(&line), "{line:?} not in\n{out}");
        assert_eq!(last.epoch, 70);
    }
    // Three growths of each run (at 20, 40, 60), a line each.
    assert_eq!(out.matches("  grow ").count(), 6, "{out}");
    assert!(out.contains("(mean ± sd over 3 seeds)"), "{out}");
    let (main, _) = page.figure3();
    let last = main.last().expect("a point");
    assert_eq!((last.units, last.n), (4, 3));
    assert!(
        out.contains(&format!("{:>7}  {:.4} ± ", 4, last.mean)),
        "{out}"
    );
    // The seeds compared pair by pair, as the page's claims are.
    let pairs = page.main_seeds().zip(page.baseline_seeds()).enumerate();
    let seeds: Vec<_> = pairs
        .map(|(k, (m, b))| block(PresetSeed::of(1 + k as u64, m, b, 70)).expect("compared"))
        .collect();
    let measure = PresetMeasure { epochs: 70, seeds };
    let ((a, b), (d, se)) = (measure.means(), measure.difference());
    let line = format!(
        "paired by seed: mean training loss over the 70 epochs {a:.4} vs {b:.4}, difference \
         {d:+.4} ± {se:.4} (s.e.); the growing run ahead on {}/3 seeds",
        measure.main_ahead()
    );
    assert!(out.contains(&line), "{line:?} not in\n{out}");
}

/// `--save` writes the page's run file and `--metrics` its metrics: the run file opens in the
/// page (Open a run) where the command line stopped, both runs, every seed and its settings.
#[test]
fn a_run_saved_by_the_command_line_opens_in_the_page() {
    use firefly_playground::playground::RunFile;
    let dir = std::env::temp_dir().join(format!("firefly-cli-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let (json, csv) = (dir.join("run.json"), dir.join("run.csv"));
    let link = "seeds=2&grow-every=20&max-units=3&dataset=xor";
    let (ok, out, err) = firefly(&[
        "run",
        "--link",
        link,
        "--epochs",
        "50",
        "--save",
        &json.display().to_string(),
        "--metrics",
        &csv.display().to_string(),
    ]);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&json).expect("the run file");
    let run = RunFile::from_text(&text)
        .and_then(RunFile::growth)
        .expect("a growth run file");
    let mut page = Playground::from_hash("", device()).expect("the page starts");
    page.import(run).expect("the page opens it");
    assert_eq!(page.options().seeds, 2);
    assert_eq!(page.data().name, "xor");
    for run in [page.main(), page.baseline()] {
        assert_eq!(run.epoch(), 50);
        let line = format!("{}  train loss", run.shape().architecture());
        assert!(out.contains(&line), "{line:?} not in\n{out}");
    }
    let metrics = std::fs::read_to_string(&csv).expect("the metrics");
    let rows: Vec<&str> = metrics.lines().collect();
    assert!(
        rows[0].starts_with("role,index,seed,method,epoch,train_loss"),
        "{}",
        rows[0]
    );
    for run in ["main,0,", "main,1,", "baseline,0,", "baseline,1,"] {
        assert!(rows.iter().any(|r| r.starts_with(run)), "no {run} rows");
    }
    // A path that cannot be written stops the command before it trains.
    let (ok, out, err) = firefly(&[
        "run",
        "--save",
        &dir.join("no/such/run.json").display().to_string(),
    ]);
    assert!(
        !ok && out.is_empty() && err.starts_with("error: --save: cannot write"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
