//! The playground's URL hash: the whole experiment as `key=value&…`, so a link reproduces a run.
//!
//! Parsing is two-step, as for every input here: [`parse_hash`] splits the raw text and reads each
//! known key into a [`PageOptions`] (starting from the defaults), collecting a message for every
//! unknown key or bad value instead of failing; then [`RunConfig::validate`] checks the result.
//! A bad link therefore still opens the playground, with the problems listed. [`to_hash`] writes
//! the options back (keys at their default are left out).

use crate::config::RunConfig;
use crate::data::DatasetKind;
use crate::grow::{Budget, Method};
use crate::model::Activation;
use crate::optim::OptimizerKind;
use crate::train::OnGrowth;

/// Which compute backend the page should use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendChoice {
    /// WebGPU when the browser has an adapter, else the CPU.
    Auto,
    /// Always burn's CPU backend.
    Cpu,
}

/// Everything the URL can set.
#[derive(Clone, Debug, PartialEq)]
pub struct PageOptions {
    /// The main run (its growth method is the one being shown).
    pub config: RunConfig,
    /// The growth method of the comparison run.
    pub baseline: Method,
    /// Backend choice.
    pub backend: BackendChoice,
    /// Run the speed benchmark instead of the playground.
    pub bench: bool,
    /// Show test points on the maps.
    pub show_test: bool,
    /// Show the sign of the output instead of its confidence.
    pub discretize: bool,
    /// Pause after every part of a growth phase, with an explanation.
    pub slow_motion: bool,
}

impl Default for PageOptions {
    fn default() -> Self {
        let mut config = RunConfig::default();
        config.train.max_units = 24;
        PageOptions {
            config,
            baseline: Method::RandomNew,
            backend: BackendChoice::Auto,
            bench: false,
            show_test: false,
            discretize: false,
            slow_motion: false,
        }
    }
}

fn parse_value<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, String> {
    value
        .trim()
        .parse::<T>()
        .map_err(|_| format!("{key}: \"{value}\" is not a valid value"))
}

fn parse_flag(key: &str, value: &str) -> Result<bool, String> {
    match value {
        "" | "1" | "true" | "on" => Ok(true),
        "0" | "false" | "off" => Ok(false),
        _ => Err(format!("{key}: expected true or false, got \"{value}\"")),
    }
}

/// Parses hidden-layer widths such as `4,2`.
pub fn parse_layers(text: &str) -> Result<Vec<usize>, String> {
    let widths: Result<Vec<usize>, _> = text
        .split([',', ' ', '-'])
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse::<usize>())
        .collect();
    match widths {
        Ok(w) if !w.is_empty() && w.len() <= 8 && w.iter().all(|u| (1..=64).contains(u)) => Ok(w),
        _ => Err(format!(
            "layers: \"{text}\" should be 1 to 8 widths of 1 to 64 units, e.g. 4,2"
        )),
    }
}

/// Reads a URL hash (with or without the leading `#`). Returns the options and one message per
/// problem; a key with a problem keeps its default.
pub fn parse_hash(hash: &str) -> (PageOptions, Vec<String>) {
    let mut options = PageOptions::default();
    let mut problems = Vec::new();
    let text = hash.trim_start_matches('#');
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if let Err(problem) = apply(&mut options, key, value) {
            problems.push(problem);
        }
    }
    if let Err(e) = options.config.validate() {
        problems.push(e.to_string());
        options.config = PageOptions::default().config;
    }
    (options, problems)
}

fn apply(o: &mut PageOptions, key: &str, value: &str) -> Result<(), String> {
    let c = &mut o.config;
    match key {
        "dataset" => c.data.kind = parse_value::<DatasetKind>(key, value)?,
        "noise" => c.data.noise = parse_value::<f32>(key, value)? / 100.0,
        "ratio" => c.data.train_ratio = parse_value::<f32>(key, value)? / 100.0,
        "points" => c.data.n_points = parse_value(key, value)?,
        "batch" => c.train.batch_size = parse_value(key, value)?,
        "seed" => {
            c.seed = parse_value(key, value)?;
            c.data.seed = c.seed;
        }
        "layers" => c.model.hidden = parse_layers(value)?,
        "activation" => c.model.activation = parse_value::<Activation>(key, value)?,
        "lr" => c.train.learning_rate = parse_value(key, value)?,
        "optimizer" => c.train.optimizer = parse_value::<OptimizerKind>(key, value)?,
        "method" => c.growth.method = parse_value::<Method>(key, value)?,
        "baseline" => o.baseline = parse_value::<Method>(key, value)?,
        "grow-every" => c.train.epochs_per_growth = parse_value(key, value)?,
        "per-growth" => c.growth.budget = Budget::Count(parse_value(key, value)?),
        "candidates" => c.growth.candidates = parse_value(key, value)?,
        "eps" => c.growth.eps_max = parse_value(key, value)?,
        "max-units" => c.train.max_units = parse_value(key, value)?,
        "on-growth" => {
            c.train.on_growth = match value {
                "reset" => OnGrowth::Reset,
                "carry" => OnGrowth::Carry,
                _ => {
                    return Err(format!(
                        "on-growth: expected reset or carry, got \"{value}\""
                    ));
                }
            }
        }
        "backend" => {
            o.backend = match value {
                "cpu" => BackendChoice::Cpu,
                "auto" | "webgpu" => BackendChoice::Auto,
                _ => return Err(format!("backend: expected cpu or auto, got \"{value}\"")),
            }
        }
        "bench" => o.bench = parse_flag(key, value)?,
        "test" => o.show_test = parse_flag(key, value)?,
        "discretize" => o.discretize = parse_flag(key, value)?,
        "slowmo" => o.slow_motion = parse_flag(key, value)?,
        _ => return Err(format!("unknown setting \"{key}\" in the link")),
    }
    Ok(())
}

/// Writes the options as a URL hash (without `#`); settings at their default are left out.
pub fn to_hash(o: &PageOptions) -> String {
    let d = PageOptions::default();
    let (c, dc) = (&o.config, &d.config);
    let mut parts: Vec<String> = Vec::new();
    let mut put = |key: &str, value: String, default: String| {
        if value != default {
            parts.push(format!("{key}={value}"));
        }
    };
    let layers = |h: &[usize]| {
        h.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    put(
        "dataset",
        c.data.kind.name().into(),
        dc.data.kind.name().into(),
    );
    put(
        "noise",
        format!("{}", (c.data.noise * 100.0).round()),
        format!("{}", (dc.data.noise * 100.0).round()),
    );
    put(
        "ratio",
        format!("{}", (c.data.train_ratio * 100.0).round()),
        format!("{}", (dc.data.train_ratio * 100.0).round()),
    );
    put(
        "points",
        c.data.n_points.to_string(),
        dc.data.n_points.to_string(),
    );
    put(
        "batch",
        c.train.batch_size.to_string(),
        dc.train.batch_size.to_string(),
    );
    put("seed", c.seed.to_string(), dc.seed.to_string());
    put("layers", layers(&c.model.hidden), layers(&dc.model.hidden));
    put(
        "activation",
        c.model.activation.name().into(),
        dc.model.activation.name().into(),
    );
    put(
        "lr",
        c.train.learning_rate.to_string(),
        dc.train.learning_rate.to_string(),
    );
    put(
        "optimizer",
        c.train.optimizer.name().into(),
        dc.train.optimizer.name().into(),
    );
    put(
        "method",
        c.growth.method.name().into(),
        dc.growth.method.name().into(),
    );
    put(
        "baseline",
        o.baseline.name().into(),
        d.baseline.name().into(),
    );
    put(
        "grow-every",
        c.train.epochs_per_growth.to_string(),
        dc.train.epochs_per_growth.to_string(),
    );
    let count = |b: Budget| match b {
        Budget::Count(n) => n.to_string(),
        Budget::Ratio(r) => r.to_string(),
    };
    put(
        "per-growth",
        count(c.growth.budget),
        count(dc.growth.budget),
    );
    put(
        "candidates",
        c.growth.candidates.to_string(),
        dc.growth.candidates.to_string(),
    );
    put(
        "eps",
        c.growth.eps_max.to_string(),
        dc.growth.eps_max.to_string(),
    );
    put(
        "max-units",
        c.train.max_units.to_string(),
        dc.train.max_units.to_string(),
    );
    let on = |g: OnGrowth| match g {
        OnGrowth::Reset => "reset".to_string(),
        OnGrowth::Carry => "carry".to_string(),
    };
    put("on-growth", on(c.train.on_growth), on(dc.train.on_growth));
    if o.backend == BackendChoice::Cpu {
        parts.push("backend=cpu".into());
    }
    for (key, on) in [
        ("bench", o.bench),
        ("test", o.show_test),
        ("discretize", o.discretize),
        ("slowmo", o.slow_motion),
    ] {
        if on {
            parts.push(format!("{key}=1"));
        }
    }
    parts.join("&")
}
