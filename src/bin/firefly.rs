//! `firefly`: the native command line for experiments.
//!
//! - `firefly figure3 --datasets circle,xor,gauss,spiral --seeds 10 --max-grown 20 --out fig3.csv`
//!   runs the Figure 3 protocol, writes one CSV row per (dataset, method, candidates, seed, grown)
//!   and a summary CSV by units actually grown, shows a progress bar and prints mean ± std per
//!   method by units grown, how often a phase grew nothing, and panel (b)'s ordering in m'.
//! - `firefly growth-time --widths 8,16,32,64,128,256,512` times one growth phase per method on a
//!   network of each width (Figure 4(b)) and prints where Firefly becomes cheaper than exact
//!   splitting.
//! - `firefly run --dataset spiral --method firefly` runs one session with a per-growth log.
//! - `firefly continual --sequence circle,xor,spiral --seeds 5 --out cl.csv` learns the tasks one
//!   after another with Firefly growth and the baselines (spec §8), writes one CSV row per (method,
//!   seed, task learnt, task evaluated) and prints the average accuracy after each task.
//!
//! `figure3`, `growth-time` and `run` take `--backend flex|wgpu`: burn's Flex CPU backend (the
//! default; training in the fused host step) or burn's wgpu backend on the machine's GPU
//! (Vulkan, Metal, DX12 or GL; training as tensors on the device), which needs a build with
//! `--features wgpu`. `continual` computes in host loops and takes no backend. Flags are parsed
//! by clap; values are then validated by the engine, whose messages name the field.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::io::Write;
    use std::path::PathBuf;
    use std::process::ExitCode;
    use std::sync::Mutex;

    use anyhow::{Context, Result, bail};
    use burn::tensor::Device;
    use clap::{Args, Parser, Subcommand};
    use firefly_playground::config::RunConfig;
    use firefly_playground::data::{DataConfig, Dataset, DatasetKind};
    use firefly_playground::experiment::{self, Figure3Config, GrowthTimeConfig, Row};
    use firefly_playground::grow::{Budget, Method, ScorePath};
    use firefly_playground::model::Activation;
    use firefly_playground::optim::OptimizerKind;
    use firefly_playground::train::{OnGrowth, Session, TrainPath};
    use indicatif::{ProgressBar, ProgressStyle};

    #[derive(Parser)]
    #[command(
        name = "firefly",
        version,
        about = "Grow small networks with Firefly neural architecture descent"
    )]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Subcommand)]
    enum Command {
        /// Run the Figure 3 protocol: training loss vs units grown, Firefly against baselines.
        Figure3(Figure3Args),
        /// Time one growth phase per method against the network's width (Figure 4(b)).
        GrowthTime(GrowthTimeArgs),
        /// Run one training session with growth and print a log line per growth.
        Run(RunArgs),
        /// Continual learning (Figure 2): tasks one after another, Firefly growth against
        /// fine-tuning, a network per task and random growth. Computes in plain host loops on
        /// the CPU (no burn device), so it takes no --backend.
        Continual(ContinualArgs),
        /// Measure the page's presets and opening experiment over seeds: each one's growing run
        /// against its baseline, as the page trains them, and whether its claim holds.
        Presets(PresetsArgs),
    }

    /// Where the maths runs.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
    enum Backend {
        /// burn's Flex CPU backend; training in the fused host step.
        Flex,
        /// burn's wgpu backend on the machine's GPU (Vulkan, Metal, DX12 or GL); training as
        /// burn tensors on the device. Needs a build with `--features wgpu`.
        Wgpu,
    }

    impl Backend {
        fn name(self) -> &'static str {
            match self {
                Backend::Flex => "flex",
                Backend::Wgpu => "wgpu",
            }
        }
    }

    #[derive(Args)]
    struct BackendArgs {
        /// Where the maths runs: flex (burn's CPU backend, training in the fused host step) or
        /// wgpu (burn's wgpu backend on the GPU, training as tensors on it; needs `cargo build
        /// --release --features wgpu`).
        #[arg(long, value_enum, default_value_t = Backend::Flex)]
        backend: Backend,
    }

    /// A device and the training path that goes with it.
    struct Compute {
        device: Device,
        path: TrainPath,
    }

    /// The device `--backend` names; for wgpu, the adapter is named on stderr.
    fn compute(backend: Backend) -> Result<Compute> {
        match backend {
            Backend::Flex => Ok(Compute {
                device: Device::flex(),
                path: TrainPath::Fused,
            }),
            Backend::Wgpu => wgpu_device().map(|device| Compute {
                device,
                path: TrainPath::Tensor,
            }),
        }
    }

    /// burn's wgpu device on the best adapter (Vulkan first; `CUBECL_WGPU_DEFAULT_DEVICE` picks
    /// another).
    #[cfg(feature = "wgpu")]
    fn wgpu_device() -> Result<Device> {
        let (device, setup) = Device::wgpu_options().init_with_setup().map_err(|e| {
            anyhow::anyhow!(
                "--backend wgpu: no usable GPU adapter ({e}). wgpu looks for Vulkan, then DX12, \
                 then OpenGL (Metal on macOS); install the GPU's Vulkan driver and loader \
                 (libvulkan1), or use --backend flex"
            )
        })?;
        let info = setup.adapter.get_info();
        let software = info.device_type == burn::tensor::wgpu::wgpu::DeviceType::Cpu
            || ["llvmpipe", "lavapipe", "swiftshader", "software"]
                .iter()
                .any(|s| info.name.to_ascii_lowercase().contains(s));
        let driver: Vec<&str> = [info.driver.trim(), info.driver_info.trim()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        eprintln!(
            "wgpu: {} ({:?}, {:?}; driver {}){}",
            info.name.trim(),
            info.backend,
            info.device_type,
            driver.join(" "),
            if software {
                " — a software adapter: the numbers hold, the speed says nothing about a GPU"
            } else {
                ""
            }
        );
        Ok(device)
    }

    #[cfg(not(feature = "wgpu"))]
    fn wgpu_device() -> Result<Device> {
        bail!(
            "--backend wgpu needs the `wgpu` feature, which this build lacks. Build and run with \
             it: cargo run --release --features wgpu --bin firefly -- … --backend wgpu \
             (or cargo build --release --features wgpu, then target/release/firefly)"
        )
    }

    #[derive(Args)]
    struct PresetsArgs {
        /// Comma-separated preset names, `opening` for the opening experiment [default: all].
        #[arg(long, value_delimiter = ',')]
        names: Option<Vec<String>>,
        /// Seeds 1..=seeds.
        #[arg(long, default_value_t = 10)]
        seeds: u64,
        /// Epochs to train (default: each claim's).
        #[arg(long)]
        epochs: Option<usize>,
        /// Measure this link's settings (over the opening experiment) instead of the presets,
        /// e.g. `dataset=xor&method=firefly-split&baseline=random-split`.
        #[arg(long)]
        link: Option<String>,
    }

    #[derive(Args)]
    struct Figure3Args {
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
        /// Worker threads (default: available cores; they share one device).
        #[arg(long)]
        jobs: Option<usize>,
        #[command(flatten)]
        backend: BackendArgs,
    }

    #[derive(Args)]
    struct GrowthTimeArgs {
        /// Comma-separated widths of the hidden layer(s), 1 to 1024 (over 256, a 256-wide
        /// network's units are split until the layer is that wide).
        #[arg(long, value_delimiter = ',', default_value = "8,16,32,64,128,256,512")]
        widths: Vec<usize>,
        /// Comma-separated methods to time.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "firefly,exact-split,random-split"
        )]
        methods: Vec<String>,
        /// Hidden layers, each of the given width (with 2, exact splitting's matrices are
        /// (width + 1)² for the second layer).
        #[arg(long, default_value_t = 1)]
        layers: usize,
        /// Points generated (half for training).
        #[arg(long, default_value_t = 2000)]
        points: usize,
        /// Growth phases timed per width and method (the median is kept).
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// Dataset.
        #[arg(long, default_value = "circle")]
        dataset: String,
        /// Where to write the CSV.
        #[arg(long, default_value = "growth-time.csv")]
        out: PathBuf,
        #[command(flatten)]
        backend: BackendArgs,
    }

    #[derive(Args)]
    struct RunArgs {
        /// Dataset name.
        #[arg(long, default_value = "circle")]
        dataset: String,
        /// Load points from a CSV file (`x,y,label` with header) instead of a generator.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Growth method.
        #[arg(long, default_value = "firefly")]
        method: String,
        /// Starting hidden layer widths, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "2")]
        hidden: Vec<usize>,
        /// Hidden activation (tanh, relu, sigmoid, softplus).
        #[arg(long, default_value = "tanh")]
        activation: String,
        /// Epochs to train.
        #[arg(long, default_value_t = 200)]
        epochs: usize,
        /// Grow every this many epochs.
        #[arg(long, default_value_t = 20)]
        grow_every: usize,
        /// Units added per growth.
        #[arg(long, default_value_t = 1)]
        units_per_growth: usize,
        /// New-unit candidates per layer (m').
        #[arg(long, default_value_t = 10)]
        candidates: usize,
        /// ε_max.
        #[arg(long, default_value_t = 0.1)]
        eps_max: f32,
        /// Every splitting method's step relative to the unit's norm: ε = max(scale·‖θ‖, ε_max);
        /// 0 is the absolute ε_max.
        #[arg(long, default_value_t = firefly_playground::grow::SPLIT_SCALE)]
        split_scale: f32,
        /// Firefly's Step-2 scores: joint (every ε along α·ε̂) or own-axis (each candidate along
        /// its own axis while the others stay at ε̂, the paper's definition).
        #[arg(long, default_value_t = ScorePath::default())]
        score: ScorePath,
        /// Learning rate.
        #[arg(long, default_value_t = 0.01)]
        lr: f32,
        /// Optimiser (adam, sgd: momentum 0.9).
        #[arg(long, default_value = "adam")]
        optimizer: String,
        /// With --optimizer sgd: Nesterov momentum.
        #[arg(long)]
        nesterov: bool,
        /// Keep optimiser moments across growth instead of resetting them.
        #[arg(long)]
        carry: bool,
        /// Mini-batch size (0: full batch).
        #[arg(long, default_value_t = 10)]
        batch: usize,
        /// Number of points.
        #[arg(long, default_value_t = 500)]
        points: usize,
        /// Noise (0 to 0.8, TensorFlow Playground's slider / 100).
        #[arg(long, default_value_t = 0.0)]
        noise: f32,
        /// Share of points used for training.
        #[arg(long, default_value_t = 0.5)]
        train_ratio: f32,
        /// Never grow beyond this many hidden units.
        #[arg(long, default_value_t = 32)]
        max_units: usize,
        /// Seed of data, weights and growth.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        backend: BackendArgs,
    }

    pub fn main() -> ExitCode {
        let cli = match Cli::try_parse() {
            Ok(cli) => cli,
            Err(e) => {
                let _ = e.print();
                return if e.use_stderr() {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
        };
        let result = match cli.command {
            Command::Figure3(args) => figure3(args),
            Command::GrowthTime(args) => growth_time(args),
            Command::Run(args) => run(args),
            Command::Continual(args) => continual(args),
            Command::Presets(args) => presets(args),
        };
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        }
    }

    fn parse_list<T: std::str::FromStr>(values: &[String], what: &str) -> Result<Vec<T>>
    where
        T::Err: std::fmt::Display,
    {
        values
            .iter()
            .filter(|v| !v.trim().is_empty())
            .map(|v| v.parse::<T>().map_err(|e| anyhow::anyhow!("--{what}: {e}")))
            .collect()
    }

    /// The optimiser named by `--optimizer` and `--nesterov`.
    fn optimizer(name: &str, nesterov: bool) -> Result<OptimizerKind> {
        let kind: OptimizerKind = name.parse()?;
        match (kind, nesterov) {
            (OptimizerKind::Sgd, true) => Ok(OptimizerKind::Nesterov),
            (OptimizerKind::Adam, true) => bail!("--nesterov applies to --optimizer sgd, not adam"),
            (kind, _) => Ok(kind),
        }
    }

    fn figure3(args: Figure3Args) -> Result<()> {
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
        let threads = args
            .jobs
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
                    let device = compute.device.clone();
                    loop {
                        let next = queue.lock().ok().and_then(|mut q| q.next());
                        let Some((index, job)) = next else { break };
                        if failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                            break;
                        }
                        match pollster::block_on(experiment::run_job(job, &config, &device)) {
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
        let rows: Vec<Row> = results.into_iter().flat_map(|(_, r)| r).collect();
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
        print!("{}", experiment::figure3_report(&rows));
        println!(
            "wrote {} rows to {} and the summary by units grown to {}",
            rows.len(),
            args.out.display(),
            summary.display()
        );
        Ok(())
    }

    fn presets(args: PresetsArgs) -> Result<()> {
        use firefly_playground::presets::{self, Claim, Expect};
        use firefly_playground::settings::PageOptions;
        let opening = firefly_playground::playground::OPENING_CLAIM;
        let mut chosen: Vec<(String, PageOptions, Claim)> = Vec::new();
        let all = args.names.is_none();
        let wanted = |name: &str| {
            args.names
                .as_ref()
                .is_none_or(|n| n.iter().any(|w| w == name))
        };
        if let Some(link) = &args.link {
            let (options, problems) = firefly_playground::url::parse_hash(link);
            if let Some(p) = problems.first() {
                bail!("--link: {}", p.message);
            }
            chosen.push((link.clone(), options, opening));
        } else if wanted("opening") {
            chosen.push(("opening".into(), PageOptions::default(), opening));
        }
        for p in presets::PRESETS.iter().filter(|_| args.link.is_none()) {
            if wanted(p.name) {
                chosen.push((
                    p.name.to_string(),
                    firefly_playground::settings::preset::options(p)
                        .map_err(|e| anyhow::anyhow!(e))?,
                    p.claim,
                ));
            }
        }
        if args.link.is_none()
            && (chosen.is_empty()
                || (!all && chosen.len() != args.names.as_ref().map_or(0, Vec::len)))
        {
            let names: Vec<&str> = presets::PRESETS.iter().map(|p| p.name).collect();
            bail!("--names: expected opening or one of {}", names.join(", "));
        }
        let device = Device::flex();
        for (name, options, claim) in chosen {
            let epochs = args.epochs.unwrap_or(claim.epochs);
            let started = std::time::Instant::now();
            let m = pollster::block_on(experiment::measure_preset(
                &options, args.seeds, epochs, &device,
            ))?;
            let (a, b) = m.means();
            let (d, se) = m.difference();
            let ahead = m.main_ahead();
            println!(
                "{name}: {} vs {} over {epochs} epochs, mean training loss {a:.4} vs {b:.4}, \
                 difference {d:+.4} ± {se:.4} (s.e.); growing run ahead on {ahead}/{} seeds; \
                 claim ({}): {} ({:.1} s)",
                options.config.growth.method,
                options.baseline,
                m.seeds.len(),
                match claim.expect {
                    Expect::MainAhead(k) => format!("growing run ahead on ≥ {k}/10"),
                    Expect::BaselineAhead(k) => format!("baseline ahead on ≥ {k}/10"),
                    Expect::Close(t) => format!("difference within ±{t}"),
                },
                if m.holds(claim.expect) {
                    "holds"
                } else {
                    "FAILS"
                },
                started.elapsed().as_secs_f64()
            );
            for s in &m.seeds {
                println!(
                    "  seed {:>2}: mean {:.4} vs {:.4}, last {:.2e} vs {:.2e}, units {} vs {}",
                    s.seed, s.main, s.baseline, s.main_last, s.baseline_last, s.units.0, s.units.1
                );
            }
        }
        Ok(())
    }

    fn growth_time(args: GrowthTimeArgs) -> Result<()> {
        let config = GrowthTimeConfig {
            widths: args.widths.clone(),
            methods: parse_list(&args.methods, "methods")?,
            layers: args.layers,
            points: args.points,
            repeats: args.repeats,
            dataset: args.dataset.parse()?,
            ..GrowthTimeConfig::default()
        };
        config.validate()?;
        let Compute { device, path } = compute(args.backend.backend)?;
        let config = GrowthTimeConfig { path, ..config };
        let started = std::time::Instant::now();
        let mut rows = Vec::new();
        println!(
            "one growth phase, median of {} (ms); {} hidden layer(s) of the given width, {} \
             points ({} for training); on {}",
            config.repeats,
            config.layers,
            config.points,
            config.points / 2,
            args.backend.backend.name()
        );
        print!("{:>6}", "width");
        for m in &config.methods {
            print!(" {:>14}", m.name());
        }
        println!();
        for &width in &config.widths {
            print!("{width:>6}");
            for &method in &config.methods {
                let row =
                    pollster::block_on(experiment::time_growth(width, method, &config, &device))
                        .with_context(|| format!("{method} at width {width}"))?;
                print!(" {:>14.1}", row.ms);
                let _ = std::io::stdout().flush();
                rows.push(row);
            }
            println!();
        }
        let file = std::fs::File::create(&args.out)
            .with_context(|| format!("cannot write {}", args.out.display()))?;
        experiment::write_growth_time_csv(&rows, file)?;
        let timed = |m: Method| config.methods.contains(&m);
        if timed(Method::Firefly) && timed(Method::ExactSplit) {
            let largest = config.widths.iter().max().copied().unwrap_or(0);
            match experiment::crossover(&rows, Method::Firefly, Method::ExactSplit) {
                Some(w) => println!(
                    "Firefly's phase is cheaper than exact splitting's from width {w} on \
                     (of the widths timed)"
                ),
                None => println!(
                    "Firefly's phase does not become cheaper than exact splitting's within the \
                     widths timed (up to {largest})"
                ),
            }
        }
        println!(
            "wrote {} rows to {} in {:.1} s",
            rows.len(),
            args.out.display(),
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    fn run(args: RunArgs) -> Result<()> {
        let method: Method = args.method.parse()?;
        let activation: Activation = args.activation.parse()?;
        let optimizer = optimizer(&args.optimizer, args.nesterov)?;
        let mut config = RunConfig {
            seed: args.seed,
            ..RunConfig::default()
        };
        let kind: DatasetKind = args.dataset.parse()?;
        config.data = DataConfig {
            kind,
            n_points: args.points,
            noise: args.noise,
            train_ratio: args.train_ratio,
            seed: args.seed,
        };
        config.model.hidden = args.hidden.clone();
        config.model.activation = activation;
        config.train.optimizer = optimizer;
        config.train.learning_rate = args.lr;
        config.train.batch_size = args.batch;
        config.train.epochs_per_growth = args.grow_every;
        config.train.max_units = args.max_units;
        config.train.on_growth = if args.carry {
            OnGrowth::Carry
        } else {
            OnGrowth::Reset
        };
        config.growth.method = method;
        config.growth.budget = Budget::Count(args.units_per_growth);
        config.growth.candidates = args.candidates;
        config.growth.eps_max = args.eps_max;
        config.growth.split_scale = args.split_scale;
        config.growth.score = args.score;
        config.validate()?;
        let data = match &args.csv {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("csv");
                Dataset::from_csv(name, &text, args.train_ratio, args.seed)
                    .with_context(|| format!("{}", path.display()))?
            }
            None => Dataset::generate(&config.data)?,
        };
        let compute = compute(args.backend.backend)?;
        let started = std::time::Instant::now();
        let mut session = Session::with_path(config, data, compute.device, compute.path)?;
        println!(
            "{} · {} · start {} · {} train / {} test points · {} ({:?} training)",
            session.data().name,
            method,
            session.shape().architecture(),
            session.data().train.len(),
            session.data().test.len(),
            args.backend.backend.name(),
            compute.path
        );
        let mut seen = 0;
        while session.epoch() < args.epochs {
            // One epoch at a time: the run stops at --epochs exactly (a budget of steps ran
            // past it, up to 256 epochs with full batches).
            pollster::block_on(session.run_epochs(1))?;
            for event in &session.history().growths[seen..] {
                let plan = &event.plan;
                let layer_units: usize = plan.new_layers.iter().map(|l| l.units.len()).sum();
                println!(
                    "epoch {:>5}  grow {} → {}  loss {:.4} → {:.4} (predicted {:+.4})  {:.1} ms  \
                     [{} split, {} new, {} layer]",
                    event.epoch,
                    event.architecture_before,
                    event.architecture_after,
                    event.loss_before,
                    event.loss_after,
                    event.predicted_change,
                    event.timings.total_ms(),
                    plan.splits.len(),
                    plan.new_units.len(),
                    layer_units
                );
            }
            seen = session.history().growths.len();
        }
        let last = pollster::block_on(session.evaluate())?;
        println!(
            "epoch {:>5}  {}  train loss {:.4}  test loss {:.4}{}  ({:.2} s)",
            last.epoch,
            session.shape().architecture(),
            last.train_loss,
            last.test_loss,
            last.test_accuracy.map_or(String::new(), |a| format!(
                "  test accuracy {:.1} %",
                a * 100.0
            )),
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    #[derive(Args)]
    struct ContinualArgs {
        /// Comma-separated tasks, in order (classification data sets); `spiral3:0+1` keeps
        /// classes 0 and 1 of a data set (a class-incremental split, at least two classes).
        #[arg(long, value_delimiter = ',', default_value = "circle,xor,spiral")]
        sequence: Vec<String>,
        /// Comma-separated methods (firefly, firefly-new, random, fine-tune, separate).
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
        /// How a chosen unlocked copy joins its task: `add` (beside the frozen original, each
        /// with half its head row) or `replace` (in the original's place, whole row).
        #[arg(long, default_value = "add")]
        copies: String,
        /// New-unit candidates read σ(w·x̃) with ‖w‖ ≤ 1 instead of a fan-in scaled to the mean
        /// norm of the frozen units whose copies they compete with.
        #[arg(long)]
        unit_fan_in: bool,
        /// Width of the fine-tuning network (default: start + units per task × tasks).
        #[arg(long)]
        fine_tune_units: Option<usize>,
        /// Width of each per-task network (default: start + units per task).
        #[arg(long)]
        task_units: Option<usize>,
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
    }

    fn continual(args: ContinualArgs) -> Result<()> {
        use firefly_playground::continual::experiment::{self as cl, ContinualRow};
        use firefly_playground::continual::{
            ContinualConfig, ContinualMethod, CopyMode, GrowthSettings, TaskSpec,
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
                copies: args.copies.parse::<CopyMode>()?,
                relative_fan_in: !args.unit_fan_in,
                ..GrowthSettings::default()
            },
            fine_tune_units: args.fine_tune_units,
            task_network_units: args.task_units,
            ..ContinualConfig::default()
        };
        base.set_tasks(&tasks);
        base.validate()?;
        if methods.is_empty() || args.seeds == 0 {
            bail!("give at least one method and one seed");
        }
        let jobs = cl::jobs(&base, &methods, args.seeds);
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
                        let rows = cl::run_job(job)
                            .map_err(|e| anyhow::anyhow!("{} seed {}: {e}", job.method, job.seed));
                        bar.set_message(format!("{} seed {}", job.method, job.seed));
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
            rows.extend(job_rows);
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
        print!("{}", cl::format_table(&rows, &names));
        if choices.iter().any(|(_, c)| c.phases > 0) {
            println!(
                "\nunits chosen in the growth phases after the first task (copies {}, {} fan-in), all seeds",
                base.growth.copies,
                if base.growth.relative_fan_in {
                    "relative"
                } else {
                    "unit"
                }
            );
            for (method, c) in &choices {
                println!(
                    "{:<12} {} phases: {} unlocked copies, {} new units",
                    method.name(),
                    c.phases,
                    c.copies,
                    c.new_units
                );
            }
        }
        println!(
            "wrote {} rows to {} ({} runs in {:.1} s on {threads} threads)",
            rows.len(),
            args.out.display(),
            jobs.len(),
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }
}
