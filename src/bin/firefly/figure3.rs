//! `firefly figure3`: the Figure 3 protocol with a progress bar, its CSVs and its report.

use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use clap::Args;
use firefly_playground::experiment::{self, Figure3Config, Job, Row};
use firefly_playground::grow::{Method, ScorePath};
use firefly_playground::train::TrainPath;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{BackendArgs, GrowOnArgs, compute, optimizer, parse_list};

#[derive(Args)]
pub(crate) struct Figure3Args {
    /// Comma-separated datasets (circle, xor, gauss, spiral, moons, checkerboard, spiral3).
    #[arg(long, value_delimiter = ',', default_value = "circle,xor,gauss,spiral")]
    datasets: Vec<String>,
    /// Comma-separated methods [default: firefly, firefly-split, firefly-new, random-split,
    /// random-new, exact-split; with several --candidates: firefly].
    #[arg(long, value_delimiter = ',')]
    methods: Option<Vec<String>>,
    /// Comma-separated numbers of new-unit candidates m' (panel b): the Firefly methods with
    /// new units or layers run once per m'; split-only Firefly and the baselines run once.
    #[arg(long, value_delimiter = ',', default_value = "10")]
    candidates: Vec<usize>,
    /// Number of seeds (0..seeds).
    #[arg(long, default_value_t = 10)]
    seeds: u64,
    /// Units grown per run.
    #[arg(long, default_value_t = 20)]
    max_grown: usize,
    /// Full-batch optimiser steps between growth phases.
    #[arg(long, default_value_t = experiment::PROTOCOL_STEPS)]
    steps: usize,
    /// Optimiser between growth phases: sgd (momentum 0.9, the protocol's) or adam.
    #[arg(long, default_value_t = experiment::PROTOCOL_OPTIMIZER.name().to_string())]
    optimizer: String,
    /// With --optimizer sgd: Nesterov momentum.
    #[arg(long)]
    nesterov: bool,
    /// Learning rate between growth phases.
    #[arg(long, default_value_t = experiment::PROTOCOL_LR)]
    lr: f32,
    /// Every splitting method's step relative to the unit's norm: ε = max(scale·‖θ‖, ε_max);
    /// 0 is the absolute ε_max.
    #[arg(long, default_value_t = firefly_playground::grow::SPLIT_SCALE)]
    split_scale: f32,
    /// Firefly's Step-2 scores: joint (every ε along α·ε̂, integrated gradients) or own-axis
    /// (each candidate along its own axis while the others stay at ε̂, the paper's definition).
    #[arg(long, default_value_t = ScorePath::default())]
    score: ScorePath,
    /// Where to write the CSV.
    #[arg(long, default_value = "fig3.csv")]
    out: PathBuf,
    /// Where to write the summary CSV (default: the --out file with `-summary` added).
    #[arg(long)]
    summary: Option<PathBuf>,
    /// Worker threads on the CPU (default: available cores). With --backend wgpu the jobs run
    /// in step on the one device, their training stacked (unless --alone), and their growth
    /// phases on these threads when every job grows on the CPU (see --grow-on).
    #[arg(long)]
    jobs: Option<usize>,
    /// With --backend wgpu: train every job alone on --jobs threads, not all in one stack (to
    /// measure what the stack saves; the rows are the same within float rounding).
    #[arg(long)]
    alone: bool,
    #[command(flatten)]
    backend: BackendArgs,
    #[command(flatten)]
    grow_on: GrowOnArgs,
}

pub(crate) fn figure3(args: Figure3Args) -> Result<()> {
    let methods = match &args.methods {
        Some(methods) => parse_list(methods, "methods")?,
        None if args.candidates.len() > 1 => vec![Method::Firefly],
        None => Figure3Config::default().methods,
    };
    let config = Figure3Config {
        datasets: parse_list(&args.datasets, "datasets")?,
        methods,
        candidates: args.candidates.clone(),
        seeds: args.seeds,
        max_grown: args.max_grown,
        steps_per_phase: args.steps,
        optimizer: optimizer(&args.optimizer, args.nesterov)?,
        learning_rate: args.lr,
        split_scale: args.split_scale,
        score: args.score,
        path: TrainPath::Fused,
        grow_on: args.grow_on.grow_on(),
    };
    config.validate()?;
    if config.candidates.contains(&0) {
        bail!("--candidates: every count must be at least 1");
    }
    let compute = compute(args.backend.backend)?;
    let config = Figure3Config {
        path: compute.path,
        ..config
    };
    let jobs = config.jobs();
    let rows = match config.path {
        // On a GPU the jobs run in step, their training stacked: a step launches the same
        // kernels for one job or all of them.
        TrainPath::Tensor if !args.alone => {
            eprintln!(
                "figure3: {} jobs in step on wgpu, trained in one stack; {} (--grow-on), on \
                 --jobs CPU threads when every job grows there",
                jobs.len(),
                args.grow_on.describe(args.backend.backend)
            );
            in_step(&jobs, &config, &compute.device, args.jobs)?
        }
        _ => threaded(&jobs, &config, &compute.device, args.jobs)?,
    };
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    experiment::write_csv(&rows, file)?;
    let summary = args.summary.clone().unwrap_or_else(|| {
        let stem = args
            .out
            .file_stem()
            .map_or("fig3".into(), |s| s.to_string_lossy());
        args.out.with_file_name(format!("{stem}-summary.csv"))
    });
    let file = std::fs::File::create(&summary)
        .with_context(|| format!("cannot write {}", summary.display()))?;
    experiment::write_summary_csv(&rows, file)?;
    say_part!("{}", experiment::figure3_report(&rows));
    say!(
        "wrote {} rows to {} and the summary by units grown to {}",
        rows.len(),
        args.out.display(),
        summary.display()
    );
    Ok(())
}

/// Runs the jobs on worker threads (default: one a core), each job alone.
fn threaded(
    jobs: &[Job],
    config: &Figure3Config,
    device: &Device,
    threads: Option<usize>,
) -> Result<Vec<Row>> {
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, jobs.len().max(1));
    let bar = ProgressBar::new(jobs.len() as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} runs  {elapsed_precise} (eta {eta}) {msg}",
        )
        .context("progress bar template")?,
    );
    let queue = Mutex::new(jobs.iter().enumerate());
    let results: Mutex<Vec<(usize, Vec<Row>)>> = Mutex::new(Vec::new());
    let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let device = device.clone();
                loop {
                    let next = queue.lock().ok().and_then(|mut q| q.next());
                    let Some((index, job)) = next else { break };
                    if failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                        break;
                    }
                    match pollster::block_on(experiment::run_job(job, config, &device)) {
                        Ok(rows) => {
                            if let Ok(mut r) = results.lock() {
                                r.push((index, rows));
                            }
                            bar.set_message(format!(
                                "{} {} seed {}",
                                job.dataset, job.method, job.seed
                            ));
                            bar.inc(1);
                        }
                        Err(e) => {
                            if let Ok(mut f) = failure.lock() {
                                *f = Some(anyhow::anyhow!(
                                    "{} {} seed {}: {e}",
                                    job.dataset,
                                    job.method,
                                    job.seed
                                ));
                            }
                        }
                    }
                }
            });
        }
    });
    bar.finish_and_clear();
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    let mut results = results
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a worker panicked"))?;
    results.sort_by_key(|(i, _)| *i);
    Ok(results.into_iter().flat_map(|(_, r)| r).collect())
}

/// Runs every job in step on one device (`experiment::run_jobs_together`), a phase at a time.
fn in_step(
    jobs: &[Job],
    config: &Figure3Config,
    device: &Device,
    threads: Option<usize>,
) -> Result<Vec<Row>> {
    let threads =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let bar = ProgressBar::new(config.max_grown as u64 + 1);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} phases of {msg} runs in step  {elapsed_precise} (eta {eta})",
        )
        .context("progress bar template")?,
    );
    bar.set_message(jobs.len().to_string());
    let mut tick = |_| bar.inc(1);
    let run = experiment::run_jobs_together(jobs, config, device, threads, &mut tick);
    let rows = pollster::block_on(run).map_err(|(i, e)| {
        let job = &jobs[i];
        anyhow::anyhow!("{} {} seed {}: {e}", job.dataset, job.method, job.seed)
    });
    bar.finish_and_clear();
    Ok(rows?.into_iter().flatten().collect())
}
