//! `firefly run`: the page's experiment on this machine — the growing run, its baseline and
//! the seeds of Figure 3 live, trained by the page's own engine ([`Playground`]) an epoch at a
//! time — with a log line per growth and the page's read-outs at the end. Its settings are the
//! page's: one flag per row of the settings table that shapes the runs, named by the row's
//! link key, or a whole link (`--link`).

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Arg, ArgMatches, Args, Command, FromArgMatches};
use firefly_playground::experiment::{PresetMeasure, PresetSeed};
use firefly_playground::grow::Budget;
use firefly_playground::playground::{
    BandPoint, Level, Msg, Playground, RunState, SaveBody, SaveKind, Saves,
};
use firefly_playground::settings::{PageOptions, SETTINGS, Setting, method_label};
use firefly_playground::train::Session;

use crate::cli::{BackendArgs, GrowOnArgs, compute};

#[derive(Args)]
pub(crate) struct RunArgs {
    /// Epochs of the growing run; the baseline and the seeds keep in step [default: enough for
    /// growth to reach Max units at Units per growth, and one interval more].
    #[arg(long)]
    epochs: Option<usize>,
    /// Train on points from a CSV file (`x,y,label` with a header) instead of the generator's,
    /// as the page's Upload CSV does.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Write the run file the page's Save › Run (JSON) writes: open it in the page (Open a run)
    /// to see the networks, maps and charts where the run stopped, and train on from there.
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// Write the metrics the page's Save › Metrics (CSV) writes: every run's records by epoch.
    #[arg(long, value_name = "FILE")]
    metrics: Option<PathBuf>,
    #[command(flatten)]
    settings: RunSettings,
    #[command(flatten)]
    backend: BackendArgs,
    #[command(flatten)]
    grow_on: GrowOnArgs,
}

/// The page's settings of the runs as flags: `--link` first, then one flag per row of the
/// settings table that shapes the runs ([`Setting::shapes_the_runs`]), applied in the table's
/// order through the row itself, so a flag takes what the link and the control take.
pub(crate) struct RunSettings {
    link: Option<String>,
    values: Vec<(&'static Setting, String)>,
}

const LINK: &str = "link";
const HEADING: &str =
    "Settings (each flag is a key of the page's link; the defaults are the page's)";

fn run_settings() -> impl Iterator<Item = &'static Setting> {
    SETTINGS.iter().filter(|s| s.shapes_the_runs())
}

/// A flag's help: the row's own sentence, what it accepts and the page's default.
fn flag_help(setting: &Setting) -> String {
    let accepts = setting
        .accepts()
        .map(|a| format!(" Values: {a}."))
        .unwrap_or_default();
    let default = match setting.default_value() {
        value if value.is_empty() => String::new(),
        value => format!(" [default: {value}]"),
    };
    format!("{}: {}{accepts}{default}", setting.label, setting.help)
}

impl RunSettings {
    /// The page's options: the link's (or the page's defaults), then each flag given.
    pub(crate) fn options(&self) -> Result<PageOptions> {
        let mut options = match &self.link {
            Some(link) => {
                let hash = link.split_once('#').map_or(link.as_str(), |(_, hash)| hash);
                let (options, problems) = firefly_playground::url::parse_hash(hash);
                if let Some(problem) = problems.first() {
                    bail!("--link: {}", problem.message);
                }
                options
            }
            None => PageOptions::default(),
        };
        for (setting, value) in &self.values {
            (setting.set(&mut options, value)).map_err(|e| anyhow!("--{}: {e}", setting.key))?;
        }
        Ok(options)
    }
}

impl Args for RunSettings {
    fn augment_args(command: Command) -> Command {
        let link = Arg::new(LINK)
            .long(LINK)
            .value_name("HASH")
            .help_heading(HEADING)
            .help(
                "The page's settings as in its link (the part after #, or the whole address), \
                 e.g. `dataset=spiral&layers=4,2`; the flags below apply on top of it",
            );
        run_settings().fold(command.arg(link), |command, setting| {
            command.arg(
                Arg::new(setting.key)
                    .long(setting.key)
                    .aliases(setting.aliases)
                    .value_name("VALUE")
                    .help_heading(HEADING)
                    .help(flag_help(setting)),
            )
        })
    }

    fn augment_args_for_update(command: Command) -> Command {
        Self::augment_args(command)
    }
}

impl FromArgMatches for RunSettings {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let given = |key: &str| matches.get_one::<String>(key).cloned();
        Ok(RunSettings {
            link: given(LINK),
            values: run_settings()
                .filter_map(|setting| Some((setting, given(setting.key)?)))
                .collect(),
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

/// Enough epochs for growth to take the network from its starting units to Max units at Units
/// per growth (a fraction counts as one unit a phase), and one interval more.
fn default_epochs(options: &PageOptions) -> usize {
    let config = &options.config;
    let start: usize = config.model.hidden.iter().sum();
    let per_growth = match config.growth.budget {
        Budget::Count(n) => n.max(1),
        Budget::Ratio(_) => 1,
    };
    let growths = config
        .train
        .max_units
        .saturating_sub(start)
        .div_ceil(per_growth);
    config.train.epochs_per_growth.saturating_mul(growths + 1)
}

pub(crate) fn run(args: RunArgs) -> Result<()> {
    let options = args.settings.options()?;
    let epochs = args.epochs.unwrap_or_else(|| default_epochs(&options));
    // The files are made before training, so that a path that cannot be written stops the
    // command at once instead of after the run.
    let mut outputs = Vec::new();
    for (flag, kind, path) in [
        ("--save", SaveKind::Json, &args.save),
        ("--metrics", SaveKind::Csv, &args.metrics),
    ] {
        if let Some(path) = path {
            let file = std::fs::File::create(path)
                .with_context(|| format!("{flag}: cannot write {}", path.display()))?;
            outputs.push((kind, (flag, file)));
        }
    }
    let compute = compute(args.backend.backend)?;
    let started = std::time::Instant::now();
    let mut page = Playground::new_on(options, compute.device, compute.path)
        .map_err(|e| anyhow!("the settings: {e}"))?;
    if let Some(path) = &args.csv {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--csv: cannot read {}", path.display()))?;
        let name = path
            .file_name()
            .map_or("data.csv".into(), |n| n.to_string_lossy());
        page.update(Msg::Csv(name.into_owned(), text));
        if let Some(error) = page.notices().iter().find(|n| n.level == Level::Error) {
            bail!("--csv: {}", error.text);
        }
    }
    page.grow_on(args.grow_on.grow_on());
    let seeds = page.options().seeds;
    say!(
        "{} · {} vs {} · start {} · {} train / {} test points · {seeds} seed{} · {epochs} epochs · \
         {} ({:?} training, {})",
        page.data().name,
        method_label(page.main().config().growth.method),
        method_label(page.baseline().config().growth.method),
        page.main().shape().architecture(),
        page.data().train.len(),
        page.data().test.len(),
        if seeds == 1 { "" } else { "s" },
        args.backend.backend.name(),
        compute.path,
        args.grow_on.describe(args.backend.backend)
    );
    let mut logged = [0, 0];
    while page.main().epoch() < epochs {
        page.update(Msg::Step);
        while page.busy() {
            pollster::block_on(page.work(f64::INFINITY));
        }
        if page.state() == RunState::Error {
            let notices: Vec<&str> = page.notices().iter().map(|n| n.text.as_str()).collect();
            bail!(
                "the runs stopped at epoch {}: {}",
                page.main().epoch(),
                notices.join(" ")
            );
        }
        for (run, logged) in [page.main(), page.baseline()].into_iter().zip(&mut logged) {
            log_growths(run, *logged)?;
            *logged = run.history().growths.len();
        }
    }
    for run in [page.main(), page.baseline()] {
        let last = pollster::block_on(run.evaluate())?;
        say!(
            "epoch {:>5}  {:<21}  {}  train loss {:.4}  test loss {:.4}{}",
            last.epoch,
            method_label(run.config().growth.method),
            run.shape().architecture(),
            last.train_loss,
            last.test_loss,
            last.test_accuracy.map_or(String::new(), |a| format!(
                "  test accuracy {:.1} %",
                a * 100.0
            ))
        );
    }
    print_figure3(&page)?;
    print_paired(&mut page, epochs)?;
    finish(&page, outputs, started)
}

/// Figure 3 live's table: each run's training loss at the end of each phase by hidden units,
/// mean ± sd over the seeds (nothing before the first record).
fn print_figure3(page: &Playground) -> Result<()> {
    let seeds = page.options().seeds;
    let (main, baseline) = page.figure3();
    if main.is_empty() {
        return Ok(());
    }
    say!(
        "Figure 3 live, training loss at the end of each phase{}:",
        if seeds == 1 {
            String::new()
        } else {
            format!(" (mean ± sd over {seeds} seeds)")
        }
    );
    let band = |point: Option<&BandPoint>| match point {
        None => "—".to_string(),
        Some(p) if seeds == 1 => format!("{:.4}", p.mean),
        Some(p) if p.n < seeds => format!(
            "{:.4} ± {:.4} ({} seeds)",
            p.mean,
            (p.high - p.low) / 2.0,
            p.n
        ),
        Some(p) => format!("{:.4} ± {:.4}", p.mean, (p.high - p.low) / 2.0),
    };
    let labels = [page.main(), page.baseline()].map(|r| method_label(r.config().growth.method));
    say!("  units  {:<28}  {}", labels[0], labels[1]);
    for point in &main {
        let other = baseline.iter().find(|b| b.units == point.units);
        say!(
            "  {:>5}  {:<28}  {}",
            point.units,
            band(Some(point)),
            band(other)
        );
    }
    Ok(())
}

/// With several seeds, the runs compared seed by seed as the page's claims are: by their mean
/// training loss over the epochs trained, and how many seeds the growing run is ahead on.
fn print_paired(page: &mut Playground, epochs: usize) -> Result<()> {
    let seeds = page.options().seeds;
    if seeds < 2 || epochs == 0 {
        return Ok(());
    }
    page.unstack();
    let first = page.options().config.seed;
    let mut measure = PresetMeasure {
        epochs,
        seeds: Vec::new(),
    };
    for (k, (main, baseline)) in page.main_seeds().zip(page.baseline_seeds()).enumerate() {
        let seed = first.wrapping_add(k as u64);
        measure.seeds.push(pollster::block_on(PresetSeed::of(
            seed, main, baseline, epochs,
        ))?);
    }
    let (a, b) = measure.means();
    let (d, se) = measure.difference();
    say!(
        "paired by seed: mean training loss over the {epochs} epochs {a:.4} vs {b:.4}, difference \
         {d:+.4} ± {se:.4} (s.e.); the growing run ahead on {}/{seeds} seeds",
        measure.main_ahead()
    );
    Ok(())
}

/// The page's notices, the files asked for and the time taken.
fn finish(
    page: &Playground,
    outputs: Vec<(SaveKind, (&str, std::fs::File))>,
    started: std::time::Instant,
) -> Result<()> {
    for notice in page.notices() {
        say!("note: {}", notice.text);
    }
    for (kind, file) in outputs {
        save(page, kind, file)?;
    }
    say!("({:.2} s)", started.elapsed().as_secs_f64());
    Ok(())
}

/// A line for each growth of `run` after its first `logged`.
fn log_growths(run: &Session, logged: usize) -> Result<()> {
    for event in &run.history().growths[logged..] {
        let plan = &event.plan;
        let layer_units: usize = plan.new_layers.iter().map(|l| l.units.len()).sum();
        say!(
            "epoch {:>5}  {:<21}  grow {} → {}  loss {:.4} → {:.4} (predicted {:+.4})  {:.1} ms  \
             [{} split, {} new, {} layer]",
            event.epoch,
            method_label(run.config().growth.method),
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
    Ok(())
}

/// Writes the file the page's Save of `kind` writes into `file`, made for `flag`.
fn save(page: &Playground, kind: SaveKind, (flag, mut file): (&str, std::fs::File)) -> Result<()> {
    use std::io::Write as _;
    let saved = pollster::block_on(page.save_file(kind)).map_err(|e| anyhow!("{flag}: {e}"))?;
    let SaveBody::Text(text) = saved.body else {
        bail!("{flag}: the page saves no text for it");
    };
    file.write_all(text.as_bytes())
        .with_context(|| format!("{flag}: cannot write"))
}
