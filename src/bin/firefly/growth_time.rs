//! `firefly growth-time`: one growth phase per method timed against the network's width.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use firefly_playground::experiment::{self, GrowthTimeConfig};
use firefly_playground::grow::Method;

use crate::cli::{BackendArgs, Compute, compute, parse_list};

#[derive(Args)]
pub(crate) struct GrowthTimeArgs {
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

pub(crate) fn growth_time(args: GrowthTimeArgs) -> Result<()> {
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
    say!(
        "one growth phase, median of {} (ms); {} hidden layer(s) of the given width, {} \
         points ({} for training); on {}",
        config.repeats,
        config.layers,
        config.points,
        config.points / 2,
        args.backend.backend.name()
    );
    say_part!("{:>6}", "width");
    for m in &config.methods {
        say_part!(" {:>14}", m.name());
    }
    say!();
    for &width in &config.widths {
        say_part!("{width:>6}");
        for &method in &config.methods {
            let row = pollster::block_on(experiment::time_growth(width, method, &config, &device))
                .with_context(|| format!("{method} at width {width}"))?;
            say_part!(" {:>14.1}", row.ms);
            let _ = std::io::stdout().flush();
            rows.push(row);
        }
        say!();
    }
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    experiment::write_growth_time_csv(&rows, file)?;
    let timed = |m: Method| config.methods.contains(&m);
    if timed(Method::Firefly) && timed(Method::ExactSplit) {
        let largest = config.widths.iter().max().copied().unwrap_or(0);
        match experiment::crossover(&rows, Method::Firefly, Method::ExactSplit) {
            Some(w) => say!(
                "Firefly's phase is cheaper than exact splitting's from width {w} on \
                 (of the widths timed)"
            ),
            None => say!(
                "Firefly's phase does not become cheaper than exact splitting's within the \
                 widths timed (up to {largest})"
            ),
        }
    }
    say!(
        "wrote {} rows to {} in {:.1} s",
        rows.len(),
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
