//! `firefly launches`: the kernel launches of a training epoch and of one growth phase per
//! method on burn's wgpu backend, counted by cubecl's profiler. On a GPU a small network's work
//! is bound by its launches (14–22 µs each on an H200), not by arithmetic, so their number is
//! what a change to the growth code should be measured by; it depends on the code and the
//! network, not on the adapter (a software one such as Mesa's lavapipe counts the same).
//!
//! cubecl logs one `| <time> | <kernel> …` line a launch when `CUBECL_DEBUG_LOG` names a file
//! and `CUBECL_DEBUG_OPTION=profile`; it reads them when its runtime starts, so each count is a
//! `firefly run --backend wgpu` of this same binary with them set, and a difference of two runs
//! isolates what is counted: a training epoch is (21 epochs − 11) / 10 of a run without growth,
//! a growth phase a run of 11 epochs that grows once at epoch 10 less the same run without growth
//! (on the GPU, `--grow-on gpu`, and again grown on the CPU, `--grow-on cpu`: what is left on the
//! GPU is what any phase costs around it, as a random split's phase), and a step of N networks
//! trained together a `figure3` of N seeds the same way.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use clap::Args;
use firefly_playground::grow::Method;

use crate::cli::parse_list;

#[derive(Args)]
pub(crate) struct LaunchesArgs {
    /// Starting hidden layer widths, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "16")]
    hidden: Vec<usize>,
    /// Comma-separated growth methods, one growth phase counted each (on the GPU, then grown on
    /// the CPU).
    #[arg(long, value_delimiter = ',', default_value = "firefly,random-split")]
    methods: Vec<String>,
    /// Dataset.
    #[arg(long, default_value = "circle")]
    dataset: String,
    /// Number of points (half for training).
    #[arg(long, default_value_t = 500)]
    points: usize,
    /// Mini-batch size (0: every training point at once).
    #[arg(long, default_value_t = 0)]
    batch: usize,
    /// Comma-separated numbers of networks trained together, as `figure3 --backend wgpu` trains
    /// its seeds: one Figure 3 training step counted for each (1 trains alone).
    #[arg(long, value_delimiter = ',', default_value = "1,10")]
    networks: Vec<u64>,
    /// Comma-separated numbers of seeds of the page's Figure 3 live: one epoch of the page on
    /// its opening experiment's settings counted for each, an epoch a frame (the growing run,
    /// its baseline and the seeds' runs, on the tensor path as on WebGPU).
    #[arg(long, value_delimiter = ',', default_value = "1,2,10")]
    page_seeds: Vec<u64>,
}

pub(crate) fn launches(args: LaunchesArgs) -> Result<()> {
    if !cfg!(feature = "wgpu") {
        bail!(
            "launches counts burn's wgpu backend's kernels and needs the `wgpu` feature: cargo \
             run --release --features wgpu --bin firefly -- launches"
        );
    }
    let methods: Vec<Method> = parse_list(&args.methods, "methods")?;
    let hidden = args
        .hidden
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let count = |method: Method, epochs: usize, grow_on: &str| -> Result<usize> {
        let points = args.points.to_string();
        let batch = args.batch.to_string();
        let epochs = epochs.to_string();
        // The growing run alone: its baseline trains without growth in every counted run, and
        // is taken away with the run of `none` (the epoch's count is halved for it).
        let run = [
            "run",
            "--backend",
            "wgpu",
            "--dataset",
            &args.dataset,
            "--points",
            &points,
            "--batch",
            &batch,
            "--layers",
            &hidden,
            "--grow-every",
            "10",
            "--epochs",
            &epochs,
            "--max-units",
            "2048",
            "--method",
            method.name(),
            "--baseline",
            "none",
            "--seeds",
            "1",
            "--grow-on",
            grow_on,
        ];
        counted_run(&run).with_context(|| format!("firefly {}", run.join(" ")))
    };
    let (short, long) = (
        count(Method::None, 11, "gpu")?,
        count(Method::None, 21, "gpu")?,
    );
    say!(
        "kernel launches on wgpu (cubecl's profiler), {} with {} points, {}, hidden {hidden}",
        args.dataset,
        args.points,
        match args.batch {
            0 => "full batch".to_string(),
            n => format!("batch {n}"),
        }
    );
    let phase = |method: Method, on: &str| format!("a growth phase, {}{on}", method.name());
    let step = |networks: u64| match networks {
        1 => "a Figure 3 step, 1 alone".to_string(),
        n => format!("a Figure 3 step, {n} in a stack"),
    };
    let page = |seeds: u64| match seeds {
        1 => "a page epoch, 1 seed".to_string(),
        n => format!("a page epoch, {n} seeds"),
    };
    // Every label fits its column, the longest included.
    let width = (methods.iter())
        .map(|&m| phase(m, ON_THE_CPU).len())
        .chain(args.networks.iter().map(|&n| step(n).len()))
        .chain(args.page_seeds.iter().map(|&n| page(n).len()))
        .fold("a training epoch".len(), usize::max);
    // Ten epochs of the growing run and ten of its baseline: one network's epoch is a twentieth.
    say!(
        "{:<width$} {:>8}",
        "a training epoch",
        long.saturating_sub(short) as f64 / 20.0
    );
    for &method in &methods {
        for (grow_on, on) in [("gpu", ""), ("cpu", ON_THE_CPU)] {
            let count = count(method, 11, grow_on)?.saturating_sub(short);
            say!("{:<width$} {count:>8}", phase(method, on));
        }
    }
    for &networks in &args.networks {
        say!("{:<width$} {:>8}", step(networks), together(networks)?);
    }
    for &seeds in &args.page_seeds {
        say!("{:<width$} {:>8}", page(seeds), page_epoch(seeds)?);
    }
    Ok(())
}

/// What a phase grown on the CPU adds to its label.
const ON_THE_CPU: &str = ", on the CPU";

/// Launches of one full-batch training step of `networks` Figure 3 runs trained together (a
/// `figure3 --backend wgpu` with one seed a network and no growth: 21 steps less 11, over 10).
fn together(networks: u64) -> Result<f64> {
    let dir = std::env::temp_dir();
    let csv = dir.join(format!("firefly-launches-{}.csv", std::process::id()));
    let summary = dir.join(format!(
        "firefly-launches-{}-summary.csv",
        std::process::id()
    ));
    let (csv_arg, summary_arg) = (csv.display().to_string(), summary.display().to_string());
    let seeds = networks.to_string();
    let per_step = per_unit(|steps| {
        [
            "figure3",
            "--backend",
            "wgpu",
            "--datasets",
            "circle",
            "--methods",
            "random-new",
            "--max-grown",
            "0",
            "--seeds",
            &seeds,
            "--steps",
            steps,
            "--out",
            &csv_arg,
            "--summary",
            &summary_arg,
        ]
        .map(String::from)
        .to_vec()
    });
    let _ = (std::fs::remove_file(&csv), std::fs::remove_file(&summary));
    per_step
}

/// Launches of one epoch of the page with `seeds` seeds on its opening experiment's settings
/// (no growth due), an epoch a frame: (21 epochs − 11) / 10 of `firefly run`.
fn page_epoch(seeds: u64) -> Result<f64> {
    let link = format!("seeds={seeds}&grow-every=1000");
    per_unit(|epochs| {
        [
            "run",
            "--backend",
            "wgpu",
            "--link",
            &link,
            "--epochs",
            epochs,
        ]
        .map(String::from)
        .to_vec()
    })
}

/// Launches of one unit (a step, an epoch) of the run that `args` gives for a number of units:
/// the run of 21 less the run of 11, over 10, so that setup is not counted.
fn per_unit(args: impl Fn(&str) -> Vec<String>) -> Result<f64> {
    let count = |units: &str| -> Result<usize> {
        let run = args(units);
        let run: Vec<&str> = run.iter().map(String::as_str).collect();
        counted_run(&run).with_context(|| format!("firefly {}", run.join(" ")))
    };
    let (short, long) = (count("11")?, count("21")?);
    Ok(long.saturating_sub(short) as f64 / 10.0)
}

/// Runs this binary with `args` under cubecl's profiler and counts the kernels it launched.
fn counted_run(args: &[&str]) -> Result<usize> {
    let log = std::env::temp_dir().join(format!("firefly-launches-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let status = Command::new(std::env::current_exe()?)
        .args(args)
        .env("CUBECL_DEBUG_LOG", &log)
        .env("CUBECL_DEBUG_OPTION", "profile")
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("the run failed ({status})");
    }
    let count = launches_in(&log);
    let _ = std::fs::remove_file(&log);
    count
}

/// Under cubecl's profiler (`CUBECL_DEBUG_LOG` set), waits until its log has stopped growing
/// (unchanged for 300 ms, at most 30 s): cubecl writes the log from a channel on its own, and a
/// process that exits at once loses the lines still queued, so a count would miss some.
pub(crate) fn await_profile_log() {
    let Some(log) = std::env::var_os("CUBECL_DEBUG_LOG") else {
        return;
    };
    let size = || std::fs::metadata(&log).map_or(0, |m| m.len());
    let (mut last, mut still) = (size(), 0);
    let started = std::time::Instant::now();
    while still < 3 && started.elapsed() < std::time::Duration::from_secs(30) {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let now = size();
        still = if now == last { still + 1 } else { 0 };
        last = now;
    }
}

/// The launch lines of a cubecl profile log: `| 1.234ms | KernelName …`.
fn launches_in(log: &Path) -> Result<usize> {
    let text = std::fs::read_to_string(log)
        .with_context(|| format!("cubecl wrote no profile log at {}", log.display()))?;
    let is_launch = |line: &&str| {
        let mut cells = line.split('|').map(str::trim);
        cells.next() == Some("")
            && cells
                .next()
                .is_some_and(|t| t.ends_with('s') && t.starts_with(|c: char| c.is_ascii_digit()))
    };
    Ok(text.lines().filter(is_launch).count())
}
