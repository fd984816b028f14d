//! `firefly continual`: the tasks learnt one after another, Firefly growth against the baselines.

use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{BackendArgs, compute, optimizer, parse_list};

#[derive(Args)]
pub(crate) struct ContinualArgs {
    /// Comma-separated tasks, in order (classification data sets); `spiral3:0+1` keeps
    /// classes 0 and 1 of a data set (a class-incremental split, at least two classes).
    #[arg(long, value_delimiter = ',', default_value = "circle,xor,spiral")]
    sequence: Vec<String>,
    /// Comma-separated methods (firefly, firefly-new, random, fine-tune, ewc, separate).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "firefly,firefly-new,random,fine-tune,separate"
    )]
    methods: Vec<String>,
    /// Number of seeds (0..seeds).
    #[arg(long, default_value_t = 5)]
    seeds: u64,
    /// Units the growing methods start the first task with.
    #[arg(long, default_value_t = 1)]
    start_units: usize,
    /// Growth budget: at most this many units added per task.
    #[arg(long, default_value_t = 8)]
    units_per_task: usize,
    /// Units per growth phase.
    #[arg(long, default_value_t = 1)]
    units_per_phase: usize,
    /// Full-batch optimiser steps per training block (every method trains the same steps
    /// per task).
    #[arg(long, default_value_t = 300)]
    steps: usize,
    /// Optimiser of the training blocks (adam, sgd: momentum 0.9).
    #[arg(long, default_value = "adam")]
    optimizer: String,
    /// With --optimizer sgd: Nesterov momentum.
    #[arg(long)]
    nesterov: bool,
    /// The optimiser's learning rate.
    #[arg(long, default_value_t = 0.01)]
    lr: f32,
    /// New-unit candidates per growth phase (m').
    #[arg(long, default_value_t = 10)]
    candidates: usize,
    /// ε_max.
    #[arg(long, default_value_t = 0.1)]
    eps_max: f32,
    /// New-unit candidates read σ(w·x̃) with ‖w‖ ≤ 1 instead of a fan-in scaled to the mean
    /// norm of the frozen units whose copies they compete with.
    #[arg(long)]
    unit_fan_in: bool,
    /// Width of the fine-tuning and EWC network (default: start + units per task × tasks).
    #[arg(long)]
    fine_tune_units: Option<usize>,
    /// Width of each per-task network (default: start + units per task). Several,
    /// comma-separated, run `separate` once per width, named `separate-<width>`.
    #[arg(long, value_delimiter = ',')]
    task_units: Vec<usize>,
    /// EWC's penalty strength λ (method ewc). Several, comma-separated, run `ewc` once per
    /// value, named `ewc-<λ>`.
    #[arg(long, value_delimiter = ',', default_value = "1000")]
    ewc_lambda: Vec<f32>,
    /// Mask selection: old units leave a new task's mask while its training loss stays within
    /// this many nats of the loss with all of them (0: every task reads every old unit).
    #[arg(long, default_value_t = firefly_playground::continual::config::DEFAULT_MASK_TOLERANCE)]
    mask_tolerance: f32,
    /// Points per task.
    #[arg(long, default_value_t = 500)]
    points: usize,
    /// Noise (0 to 0.8).
    #[arg(long, default_value_t = 0.0)]
    noise: f32,
    /// Where to write the CSV.
    #[arg(long, default_value = "cl.csv")]
    out: PathBuf,
    /// Worker threads (default: available cores).
    #[arg(long)]
    jobs: Option<usize>,
    #[command(flatten)]
    backend: BackendArgs,
}

pub(crate) fn continual(args: ContinualArgs) -> Result<()> {
    use firefly_playground::continual::experiment::{self as cl, ContinualRow};
    use firefly_playground::continual::{
        ContinualConfig, ContinualMethod, GrowthSettings, TaskSpec, config::DEFAULT_EWC_LAMBDA,
    };
    let methods: Vec<ContinualMethod> = parse_list(&args.methods, "methods")?;
    let tasks: Vec<TaskSpec> = parse_list(&args.sequence, "sequence")?;
    let mut base = ContinualConfig {
        n_points: args.points,
        noise: args.noise,
        start_units: args.start_units,
        units_per_task: args.units_per_task,
        units_per_phase: args.units_per_phase,
        steps_per_phase: args.steps,
        optimizer: optimizer(&args.optimizer, args.nesterov)?,
        learning_rate: args.lr,
        growth: GrowthSettings {
            candidates: args.candidates,
            eps_max: args.eps_max,
            relative_fan_in: !args.unit_fan_in,
            ..GrowthSettings::default()
        },
        mask_tolerance: args.mask_tolerance,
        fine_tune_units: args.fine_tune_units,
        task_network_units: args.task_units.first().copied(),
        ewc_lambda: args
            .ewc_lambda
            .first()
            .copied()
            .unwrap_or(DEFAULT_EWC_LAMBDA),
        ..ContinualConfig::default()
    };
    base.set_tasks(&tasks);
    base.validate()?;
    if methods.is_empty() || args.seeds == 0 {
        bail!("give at least one method and one seed");
    }
    // One job per (method variant, seed); a variant is a method with one of several per-task
    // widths or EWC strengths, its rows named after it.
    let mut variants: Vec<(String, ContinualMethod, ContinualConfig)> = Vec::new();
    for &method in &methods {
        match method {
            ContinualMethod::Separate if args.task_units.len() > 1 => {
                for &w in &args.task_units {
                    let config = ContinualConfig {
                        task_network_units: Some(w),
                        ..base.clone()
                    };
                    variants.push((format!("separate-{w}"), method, config));
                }
            }
            ContinualMethod::Ewc if args.ewc_lambda.len() > 1 => {
                for &lambda in &args.ewc_lambda {
                    let config = ContinualConfig {
                        ewc_lambda: lambda,
                        ..base.clone()
                    };
                    variants.push((format!("ewc-{lambda}"), method, config));
                }
            }
            _ => variants.push((method.name().to_string(), method, base.clone())),
        }
    }
    // Training is the fused CPU step on either backend; growth phases run on the device.
    let device = compute(args.backend.backend)?.device;
    let mut jobs = Vec::new();
    let mut labels = Vec::new();
    for (label, method, config) in &variants {
        config.validate()?;
        for job in cl::jobs(config, &[*method], args.seeds) {
            labels.push(label.clone());
            jobs.push(job);
        }
    }
    let threads = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, jobs.len());
    let bar = ProgressBar::new(jobs.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} runs  {elapsed_precise} {msg}")
            .context("progress bar template")?,
    );
    let started = std::time::Instant::now();
    let queue = Mutex::new(jobs.iter().enumerate());
    type Job = Result<(Vec<ContinualRow>, cl::Choices)>;
    let results: Mutex<Vec<(usize, Job)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().ok().and_then(|mut q| q.next());
                    let Some((index, job)) = next else { break };
                    let rows = cl::run_job(job, &device)
                        .map_err(|e| anyhow::anyhow!("{} seed {}: {e}", labels[index], job.seed));
                    bar.set_message(format!("{} seed {}", labels[index], job.seed));
                    bar.inc(1);
                    if let Ok(mut r) = results.lock() {
                        r.push((index, rows));
                    }
                }
            });
        }
    });
    bar.finish_and_clear();
    let mut results = results
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a worker panicked"))?;
    results.sort_by_key(|(i, _)| *i);
    let mut rows = Vec::new();
    let mut choices: Vec<(ContinualMethod, cl::Choices)> = Vec::new();
    for (i, r) in results {
        let (job_rows, job_choices) = r?;
        rows.extend(job_rows.into_iter().map(|row| ContinualRow {
            method: labels[i].clone(),
            ..row
        }));
        let method = jobs[i].method;
        if method.grows() {
            match choices.iter_mut().find(|(m, _)| *m == method) {
                Some((_, c)) => c.add(job_choices),
                None => choices.push((method, job_choices)),
            }
        }
    }
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    cl::write_csv(&rows, file)?;
    let names = base.task_names();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    say_part!("{}", cl::format_table(&rows, &names));
    if choices.iter().any(|(_, c)| c.phases > 0) {
        say!(
            "\nunits chosen in the growth phases after the first task ({} fan-in), all seeds",
            if base.growth.relative_fan_in {
                "relative"
            } else {
                "unit"
            }
        );
        for (method, c) in &choices {
            say!(
                "{:<12} {} phases: {} unlocked copies, {} new units",
                method.name(),
                c.phases,
                c.copies,
                c.new_units
            );
        }
    }
    let paired = cl::format_paired(&rows, ContinualMethod::Firefly.name());
    if !paired.is_empty() {
        say_part!("\n{paired}");
    }
    say!(
        "wrote {} rows to {} ({} runs in {:.1} s on {threads} threads)",
        rows.len(),
        args.out.display(),
        jobs.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
