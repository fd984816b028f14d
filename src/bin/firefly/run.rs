//! `firefly run`: one training session with growth and a log line per growth.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use firefly_playground::config::RunConfig;
use firefly_playground::data::{DataConfig, Dataset, DatasetKind};
use firefly_playground::grow::{Budget, Method, ScorePath};
use firefly_playground::model::Activation;
use firefly_playground::train::{OnGrowth, Session};

use crate::cli::{BackendArgs, GrowOnArgs, compute, optimizer};

#[derive(Args)]
pub(crate) struct RunArgs {
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
    #[command(flatten)]
    grow_on: GrowOnArgs,
}

pub(crate) fn run(args: RunArgs) -> Result<()> {
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
    session.grow_on(args.grow_on.grow_on());
    say!(
        "{} · {} · start {} · {} train / {} test points · {} ({:?} training, {})",
        session.data().name,
        method,
        session.shape().architecture(),
        session.data().train.len(),
        session.data().test.len(),
        args.backend.backend.name(),
        compute.path,
        args.grow_on.describe(args.backend.backend)
    );
    let mut seen = 0;
    while session.epoch() < args.epochs {
        // One epoch at a time: the run stops at --epochs exactly (a budget of steps ran
        // past it, up to 256 epochs with full batches).
        pollster::block_on(session.run_epochs(1))?;
        for event in &session.history().growths[seen..] {
            let plan = &event.plan;
            let layer_units: usize = plan.new_layers.iter().map(|l| l.units.len()).sum();
            say!(
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
    say!(
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
