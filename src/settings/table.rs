//! The rows of the settings table ([`SETTINGS`]), one per setting in the order of the page and
//! of links, with the lists and text forms they share (growth methods, percentages; the starting
//! layers' limits and form are in [`super::layers`]). What a row is and how it is used is in the
//! parent module.

use super::layers::{layers_text, parse_layers};
use super::*;

/// A percentage from a link or a slider as a fraction, kept to a thousandth of a percent so that
/// the link written back reads the same value.
fn percent(x: f64) -> f32 {
    ((x * 1000.0).round() / 1000.0 / 100.0) as f32
}

/// A fraction as the percentage [`percent`] reads back.
fn percent_text(fraction: f32) -> String {
    plain((f64::from(fraction) * 100.0 * 1000.0).round() / 1000.0)
}

const METHODS: &[(&str, &str)] = &[
    ("firefly", "Firefly: split + new"),
    ("firefly-split", "Firefly: split only"),
    ("firefly-new", "Firefly: new only"),
    ("firefly-layers", "Firefly: + layers"),
    ("random-split", "Random split"),
    ("random-new", "Random new"),
    ("exact-split", "Exact splitting"),
    ("none", "No growth"),
];

const BASELINES: &[(&str, &str)] = &[
    ("random-new", "Random new"),
    ("random-split", "Random split"),
    ("exact-split", "Exact splitting"),
    ("firefly-split", "Firefly: split only"),
    ("firefly-new", "Firefly: new only"),
    ("none", "No growth"),
];

/// The readable name of a growth method, as the page shows it.
pub fn method_label(method: Method) -> &'static str {
    METHODS
        .iter()
        .find(|(v, _)| *v == method.name())
        .map_or("?", |(_, l)| l)
}

/// Every setting, in the order of the page and of links.
pub static SETTINGS: &[Setting] = &[
    // First: a link's other keys apply on top of the preset.
    Setting {
        key: "preset",
        aliases: &[],
        id: "preset",
        label: "Experiment",
        help: "A ready-made experiment with a paragraph on what to look for; changing a setting of the run makes it your own (Custom), and choosing the opening one puts the run's settings back as the page opened.",
        group: Group::Run,
        widget: Widget::Select {
            options: crate::presets::CHOICES,
            custom: None,
        },
        effect: Effect::NewData,
        get: |o| preset::current_name(o).to_string(),
        put: |s, o, v| preset::choose(o, v).map_err(|e| format!("{}: {e}", s.label)),
    },
    Setting {
        key: "dataset",
        aliases: &[],
        id: "datasets",
        label: "Dataset",
        help: "The toy problem both networks learn.",
        group: Group::Data,
        widget: Widget::Datasets,
        effect: Effect::NewData,
        get: |o| o.config.data.kind.name().into(),
        put: |s, o, v| {
            o.config.data.kind = s.named(v)?;
            Ok(())
        },
    },
    Setting {
        key: "noise",
        aliases: &[],
        id: "noise",
        label: "Noise",
        help: "How far points scatter from the pattern (TensorFlow Playground's noise).",
        group: Group::Data,
        widget: Widget::Range {
            min: 0.0,
            max: 50.0,
            step: 5.0,
            suffix: "",
            zero: None,
        },
        effect: Effect::NewData,
        get: |o| percent_text(o.config.data.noise),
        put: |s, o, v| {
            o.config.data.noise = percent(s.number(v)?);
            Ok(())
        },
    },
    Setting {
        key: "ratio",
        aliases: &[],
        id: "ratio",
        label: "Training share",
        help: "The share of points used for training; the rest are test points.",
        group: Group::Data,
        widget: Widget::Range {
            min: 10.0,
            max: 90.0,
            step: 10.0,
            suffix: " %",
            zero: None,
        },
        effect: Effect::NewData,
        get: |o| percent_text(o.config.data.train_ratio),
        put: |s, o, v| {
            o.config.data.train_ratio = percent(s.number(v)?);
            Ok(())
        },
    },
    Setting {
        key: "points",
        aliases: &[],
        id: "points",
        label: "Points",
        help: "How many points the generator makes (training and test together).",
        group: Group::Data,
        widget: Widget::Range {
            min: 50.0,
            max: 2000.0,
            step: 50.0,
            suffix: "",
            zero: None,
        },
        effect: Effect::NewData,
        get: |o| o.config.data.n_points.to_string(),
        put: |s, o, v| {
            o.config.data.n_points = s.count(v)?;
            Ok(())
        },
    },
    Setting {
        key: "batch",
        aliases: &[],
        id: "batch",
        label: "Batch size",
        help: "Points per gradient step; 0: all the training points in every step (full batch, as the Figure 3 protocol trains).",
        group: Group::Data,
        widget: Widget::Range {
            min: 0.0,
            max: 100.0,
            step: 1.0,
            suffix: "",
            zero: Some("all"),
        },
        effect: Effect::Restart,
        get: |o| o.config.train.batch_size.to_string(),
        put: |s, o, v| {
            o.config.train.batch_size = s.count(v)?;
            Ok(())
        },
    },
    Setting {
        key: "features",
        aliases: &[],
        id: "features",
        label: "Features",
        help: "What the first layer reads of each point: x₁ and x₂ themselves, their squares and product (on the same scale, x/6), and sin x₁, sin x₂ as TensorFlow Playground computes them. At least one must be on.",
        group: Group::Run,
        widget: Widget::Toggles {
            options: &[
                ("x1", "x₁"),
                ("x2", "x₂"),
                ("x1sq", "x₁²"),
                ("x2sq", "x₂²"),
                ("x1x2", "x₁x₂"),
                ("sinx1", "sin x₁"),
                ("sinx2", "sin x₂"),
            ],
        },
        effect: Effect::Restart,
        get: |o| o.config.features.to_string(),
        put: |s, o, v| {
            let features = Features::parse(v).map_err(|e| format!("{}: {e}", s.label))?;
            o.config.features = features;
            o.config.model.n_inputs = features.len();
            Ok(())
        },
    },
    Setting {
        key: "layers",
        aliases: &[],
        id: "layers",
        label: "Starting layers",
        help: "Units per hidden layer of the starting network, e.g. 4,2.",
        group: Group::Run,
        widget: Widget::Text,
        effect: Effect::Restart,
        get: |o| layers_text(&o.config.model.hidden),
        put: |_, o, v| {
            o.config.model.hidden = parse_layers(v)?;
            Ok(())
        },
    },
    Setting {
        key: "activation",
        aliases: &[],
        id: "activation",
        label: "Activation",
        help: "The hidden units' nonlinearity.",
        group: Group::Run,
        widget: Widget::Select {
            options: &[
                ("tanh", "Tanh"),
                ("relu", "ReLU"),
                ("sigmoid", "Sigmoid"),
                ("softplus", "Softplus"),
            ],
            custom: None,
        },
        effect: Effect::Restart,
        get: |o| o.config.model.activation.name().into(),
        put: |s, o, v| {
            o.config.model.activation = s.named::<Activation>(v)?;
            Ok(())
        },
    },
    Setting {
        key: "lr",
        aliases: &[],
        id: "lr",
        label: "Learning rate",
        help: "Step size of the optimiser; changes take effect at once, without a reset.",
        group: Group::Run,
        widget: Widget::Select {
            options: &[
                ("0.0001", "0.0001"),
                ("0.001", "0.001"),
                ("0.003", "0.003"),
                ("0.01", "0.01"),
                ("0.03", "0.03"),
                ("0.1", "0.1"),
                ("0.3", "0.3"),
                ("1", "1"),
                ("3", "3"),
                ("10", "10"),
            ],
            custom: Some((0.0, 10.0)),
        },
        effect: Effect::Live,
        get: |o| o.config.train.learning_rate.to_string(),
        put: |s, o, v| {
            o.config.train.learning_rate = s.number(v)? as f32;
            Ok(())
        },
    },
    Setting {
        key: "optimizer",
        aliases: &[],
        id: "optimizer",
        label: "Optimiser",
        help: "Adam, or SGD with momentum 0.9 (plain or Nesterov).",
        group: Group::Run,
        widget: Widget::Select {
            options: &[
                ("adam", "Adam"),
                ("sgd", "SGD (momentum)"),
                ("nesterov", "SGD (Nesterov)"),
            ],
            custom: None,
        },
        effect: Effect::Restart,
        get: |o| o.config.train.optimizer.name().into(),
        put: |s, o, v| {
            o.config.train.optimizer = s.named::<OptimizerKind>(v)?;
            Ok(())
        },
    },
    Setting {
        key: "regularization",
        aliases: &[],
        id: "regularization",
        label: "Regularization",
        help: "A penalty on the weights (not the biases) while training, as in TensorFlow Playground: L1 adds rate·Σ|w|, L2 adds rate·½Σw². The losses shown are the data loss alone.",
        group: Group::Run,
        widget: Widget::Select {
            options: &[("none", "None"), ("l1", "L1"), ("l2", "L2")],
            custom: None,
        },
        effect: Effect::Restart,
        get: |o| o.config.train.regularization.name().into(),
        put: |s, o, v| {
            o.config.train.regularization = s.named::<Regularization>(v)?;
            Ok(())
        },
    },
    Setting {
        key: "reg-rate",
        aliases: &[],
        id: "reg-rate",
        label: "Regularization rate",
        help: "How strongly the penalty pulls the weights towards zero.",
        group: Group::Run,
        widget: Widget::Select {
            options: &[
                ("0", "0"),
                ("0.001", "0.001"),
                ("0.003", "0.003"),
                ("0.01", "0.01"),
                ("0.03", "0.03"),
                ("0.1", "0.1"),
                ("0.3", "0.3"),
                ("1", "1"),
                ("3", "3"),
                ("10", "10"),
            ],
            custom: None,
        },
        effect: Effect::Restart,
        get: |o| o.config.train.regularization_rate.to_string(),
        put: |s, o, v| {
            const RATES: [f32; 10] = [0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0];
            let rate = s.number(v)? as f32;
            match RATES
                .iter()
                .find(|r| (**r - rate).abs() <= 1e-6 * r.max(1e-3))
            {
                Some(r) => {
                    o.config.train.regularization_rate = *r;
                    Ok(())
                }
                None => Err(format!(
                    "{}: {} is not one of 0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10",
                    s.label,
                    echo(v)
                )),
            }
        },
    },
    Setting {
        key: "method",
        aliases: &[],
        id: "method",
        label: "Growth",
        help: "How the main network grows.",
        group: Group::Run,
        widget: Widget::Select {
            options: METHODS,
            custom: None,
        },
        effect: Effect::Restart,
        get: |o| o.config.growth.method.name().into(),
        put: |s, o, v| {
            o.config.growth.method = s.named::<Method>(v)?;
            Ok(())
        },
    },
    Setting {
        key: "baseline",
        aliases: &[],
        id: "baseline",
        label: "Compared with",
        help: "How the second network, on the same data and seed, grows.",
        group: Group::Run,
        widget: Widget::Select {
            options: BASELINES,
            custom: None,
        },
        effect: Effect::Restart,
        get: |o| o.baseline.name().into(),
        put: |s, o, v| {
            o.baseline = s.named::<Method>(v)?;
            Ok(())
        },
    },
    Setting {
        key: "grow-every",
        aliases: &["interval"],
        id: "interval",
        label: "Grow every (epochs)",
        help: "Epochs of training between growth phases (the Figure 3 protocol: 300).",
        group: Group::Run,
        widget: Widget::Range {
            min: 1.0,
            max: 1000.0,
            step: 1.0,
            suffix: "",
            zero: None,
        },
        effect: Effect::Live,
        get: |o| o.config.train.epochs_per_growth.to_string(),
        put: |s, o, v| {
            o.config.train.epochs_per_growth = s.count(v)?;
            Ok(())
        },
    },
    Setting {
        key: "per-growth",
        aliases: &[],
        id: "per-growth",
        label: "Units per growth",
        help: "How many units one growth phase adds (η).",
        group: Group::Run,
        widget: Widget::Number {
            min: 1.0,
            max: 16.0,
            step: 1.0,
        },
        effect: Effect::Restart,
        get: |o| match o.config.growth.budget {
            Budget::Count(n) => n.to_string(),
            Budget::Ratio(r) => r.to_string(),
        },
        put: |s, o, v| {
            o.config.growth.budget = Budget::Count(s.count(v)?);
            Ok(())
        },
    },
    Setting {
        key: "candidates",
        aliases: &[],
        id: "candidates",
        label: "Candidates m′",
        help: "New-unit candidates per layer that Firefly considers in each growth.",
        group: Group::Run,
        widget: Widget::Number {
            min: 1.0,
            max: 100.0,
            step: 1.0,
        },
        effect: Effect::Restart,
        get: |o| o.config.growth.candidates.to_string(),
        put: |s, o, v| {
            o.config.growth.candidates = s.count(v)?;
            Ok(())
        },
    },
    Setting {
        key: "eps",
        aliases: &[],
        id: "eps",
        label: "ε max",
        help: "Bound on every ε: how far a candidate may move the network in one growth.",
        group: Group::Run,
        widget: Widget::Number {
            min: 0.001,
            max: 2.0,
            step: 0.001,
        },
        effect: Effect::Restart,
        get: |o| o.config.growth.eps_max.to_string(),
        put: |s, o, v| {
            o.config.growth.eps_max = s.number(v)? as f32;
            Ok(())
        },
    },
    Setting {
        key: "score",
        aliases: &[],
        id: "score",
        label: "Scores",
        help: "How Firefly scores a candidate: along the joint path, all candidates growing together (the scores add up to the loss change), or along the candidate's own axis while the others stay grown (the paper's definition).",
        group: Group::Run,
        widget: Widget::Select {
            options: &[("joint", "Joint path"), ("own-axis", "Own axis")],
            custom: None,
        },
        effect: Effect::Restart,
        get: |o| o.config.growth.score.name().into(),
        put: |s, o, v| {
            o.config.growth.score = s.named::<ScorePath>(v)?;
            Ok(())
        },
    },
    Setting {
        key: "max-units",
        aliases: &[],
        id: "max-units",
        label: "Max units",
        help: "Growth stops when a network has this many hidden units; raising it lets growth go on.",
        group: Group::Run,
        widget: Widget::Number {
            min: 1.0,
            max: MAX_TOTAL_UNITS as f64,
            step: 1.0,
        },
        effect: Effect::Live,
        get: |o| o.config.train.max_units.to_string(),
        put: |s, o, v| {
            o.config.train.max_units = s.count(v)?;
            Ok(())
        },
    },
    Setting {
        key: "on-growth",
        aliases: &[],
        id: "on-growth",
        label: "On growth",
        help: "Whether the optimiser forgets its moments when the network grows.",
        group: Group::Run,
        widget: Widget::Select {
            options: &[("reset", "Reset optimiser"), ("carry", "Carry moments")],
            custom: None,
        },
        effect: Effect::Restart,
        get: |o| o.config.train.on_growth.name().into(),
        put: |s, o, v| {
            o.config.train.on_growth = s.named::<OnGrowth>(v)?;
            Ok(())
        },
    },
    Setting {
        key: "seed",
        aliases: &[],
        id: "seed",
        label: "Seed",
        help: "Seed of the data, the starting weights, the batch order and the candidates.",
        group: Group::Run,
        widget: Widget::Number {
            min: 0.0,
            max: 4_294_967_295.0,
            step: 1.0,
        },
        effect: Effect::NewData,
        get: |o| o.config.seed.to_string(),
        put: |s, o, v| {
            let seed = s.count(v)? as u64;
            o.config.seed = seed;
            o.config.data.seed = seed;
            Ok(())
        },
    },
    Setting {
        key: "seeds",
        aliases: &[],
        id: "seeds",
        label: "Seeds",
        help: "Figure 3 over seeds: this many seeds of each run train at once, from the seed up, on the same data; Figure 3 shows their mean and a band of one standard deviation. The maps and the diagram show the first seed. 1 trains one network of each.",
        group: Group::Run,
        widget: Widget::Range {
            min: 1.0,
            max: MAX_SEEDS as f64,
            step: 1.0,
            suffix: "",
            zero: None,
        },
        effect: Effect::Restart,
        get: |o| o.seeds.to_string(),
        put: |s, o, v| {
            o.seeds = s.count(v)?;
            Ok(())
        },
    },
    Setting {
        key: "data-seed",
        aliases: &[],
        id: "",
        label: "Data seed",
        help: "Which points the generator draws (Regenerate picks a new one).",
        group: Group::Link,
        widget: Widget::Number {
            min: 0.0,
            max: 4_294_967_295.0,
            step: 1.0,
        },
        effect: Effect::NewData,
        get: |o| o.config.data.seed.to_string(),
        put: |s, o, v| {
            o.config.data.seed = s.count(v)? as u64;
            Ok(())
        },
    },
    Setting {
        key: "test",
        aliases: &[],
        id: "show-test",
        label: "Show test data",
        help: "Draw the test points (outlined) on the maps.",
        group: Group::Data,
        widget: Widget::Checkbox,
        effect: Effect::View,
        get: |o| u8::from(o.show_test).to_string(),
        put: |s, o, v| {
            o.show_test = s.flag(v)?;
            Ok(())
        },
    },
    Setting {
        key: "discretize",
        aliases: &[],
        id: "discretize",
        label: "Discretize output",
        help: "Colour the maps by the predicted class only, without confidence.",
        group: Group::Data,
        widget: Widget::Checkbox,
        effect: Effect::View,
        get: |o| u8::from(o.discretize).to_string(),
        put: |s, o, v| {
            o.discretize = s.flag(v)?;
            Ok(())
        },
    },
    Setting {
        key: "speed",
        aliases: &[],
        id: "speed",
        label: "Speed",
        help: "Epochs per second while playing (each epoch is one pass over the training points). Growth waits a moment after each growth so you can see it. Fastest trains as fast as this computer can.",
        group: Group::Toolbar,
        widget: Widget::Select {
            options: &[
                ("10", "10 epochs/s"),
                ("30", "30 epochs/s"),
                ("100", "100 epochs/s"),
                ("300", "300 epochs/s"),
                ("1000", "1000 epochs/s"),
                ("0", "Fastest"),
            ],
            custom: None,
        },
        effect: Effect::View,
        get: |o| o.speed.to_string(),
        put: |s, o, v| {
            let v = v.trim();
            let v = if v.eq_ignore_ascii_case("max") || v.eq_ignore_ascii_case("fastest") {
                "0"
            } else {
                v
            };
            const SPEEDS: [u32; 6] = [10, 30, 100, 300, 1000, 0];
            match v.parse::<u32>() {
                Ok(value) if SPEEDS.contains(&value) => {
                    o.speed = value;
                    Ok(())
                }
                _ => Err(format!(
                    "{}: \"{}\" is not one of 10, 30, 100, 300, 1000 (epochs/s) or 0 (fastest)",
                    s.label,
                    echo(v)
                )),
            }
        },
    },
    Setting {
        key: "slowmo",
        aliases: &[],
        id: "slowmo",
        label: "Slow motion",
        help: "Pause after each part of a growth and explain it.",
        group: Group::Toolbar,
        widget: Widget::Checkbox,
        effect: Effect::View,
        get: |o| u8::from(o.slow_motion).to_string(),
        put: |s, o, v| {
            o.slow_motion = s.flag(v)?;
            Ok(())
        },
    },
    Setting {
        key: "backend",
        aliases: &[],
        id: "",
        label: "Backend",
        help: "auto (on a hardware WebGPU adapter a short probe of this network picks the faster of WebGPU and the CPU; otherwise the CPU), cpu, webgpu (any adapter, a software one too), or probe (run the probe on any adapter).",
        group: Group::Link,
        widget: Widget::Select {
            options: &[
                ("auto", "Automatic"),
                ("cpu", "CPU"),
                ("webgpu", "WebGPU"),
                ("probe", "Probe"),
            ],
            custom: None,
        },
        effect: Effect::Reload,
        get: |o| match o.backend {
            BackendChoice::Auto => "auto".into(),
            BackendChoice::Cpu => "cpu".into(),
            BackendChoice::WebGpu => "webgpu".into(),
            BackendChoice::Probe => "probe".into(),
        },
        put: |s, o, v| {
            o.backend = match v.trim().to_ascii_lowercase().as_str() {
                "cpu" => BackendChoice::Cpu,
                "auto" => BackendChoice::Auto,
                "webgpu" => BackendChoice::WebGpu,
                "probe" => BackendChoice::Probe,
                _ => {
                    return Err(format!(
                        "{}: expected auto, webgpu, cpu or probe, got \"{}\"",
                        s.label,
                        echo(v)
                    ));
                }
            };
            Ok(())
        },
    },
    Setting {
        key: "mode",
        aliases: &[],
        id: "mode",
        label: "Mode",
        help: "Growth on one data set, or continual learning: tasks one after another, Firefly growing for each while the units of old tasks stay frozen, beside one network fine-tuned on every task.",
        group: Group::Toolbar,
        widget: Widget::Select {
            options: &[("grow", "Growth"), ("continual", "Continual learning")],
            custom: None,
        },
        effect: Effect::Reload,
        get: |o| if o.continual { "continual" } else { "grow" }.into(),
        put: |s, o, v| {
            o.continual = match v.trim() {
                "grow" => false,
                "continual" => true,
                _ => {
                    return Err(format!(
                        "{}: expected grow or continual, got \"{}\"",
                        s.label,
                        echo(v)
                    ));
                }
            };
            Ok(())
        },
    },
    Setting {
        key: "sequence",
        aliases: &[],
        id: "",
        label: "Task sequence",
        help: "The continual mode's tasks in order, 2 to 6 classification data sets, e.g. circle,xor,spiral, or class splits of one, e.g. spiral3:0+1,spiral3:1+2.",
        group: Group::Link,
        widget: Widget::Text,
        effect: Effect::Reload,
        get: |o| {
            o.sequence
                .iter()
                .map(TaskSpec::name)
                .collect::<Vec<_>>()
                .join(",")
        },
        put: |s, o, v| {
            let kinds: Vec<TaskSpec> = v
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once(':') {
                    // A whole data set: named like the data set setting's values.
                    None => s.named::<DatasetKind>(p).map(|kind| TaskSpec {
                        kind,
                        classes: Vec::new(),
                    }),
                    Some(_) => p
                        .parse::<TaskSpec>()
                        .map_err(|e| format!("{}: {e}", s.label)),
                })
                .collect::<Result<_, _>>()?;
            if !(2..=6).contains(&kinds.len()) {
                return Err(format!("{}: 2 to 6 tasks, got {}", s.label, kinds.len()));
            }
            if let Some(k) = kinds
                .iter()
                .find(|k| !matches!(k.kind.task(), crate::data::Task::Classification { .. }))
            {
                return Err(format!(
                    "{}: {} is a regression task; continual learning needs classification",
                    s.label,
                    k.name()
                ));
            }
            o.sequence = kinds;
            Ok(())
        },
    },
    Setting {
        key: "embed",
        aliases: &[],
        id: "",
        label: "Embedded",
        help: "The compact layout for an iframe: no header or footer text, the panels of controls folded.",
        group: Group::Link,
        widget: Widget::Checkbox,
        effect: Effect::View,
        get: |o| u8::from(o.embed).to_string(),
        put: |s, o, v| {
            o.embed = s.flag(v)?;
            Ok(())
        },
    },
    Setting {
        key: "autoplay",
        aliases: &[],
        id: "",
        label: "Autoplay",
        help: "1: training starts when the page opens; 0: the page opens paused.",
        group: Group::Link,
        widget: Widget::Checkbox,
        effect: Effect::View,
        get: |o| u8::from(o.autoplay).to_string(),
        put: |s, o, v| {
            o.autoplay = s.flag(v)?;
            Ok(())
        },
    },
    Setting {
        key: "allow-origin",
        aliases: &[],
        id: "",
        label: "Allowed host origins",
        help: "Origins (e.g. https://course.example.org, comma-separated, or *) whose postMessage commands the page obeys; its own origin is always allowed.",
        group: Group::Link,
        widget: Widget::Text,
        effect: Effect::View,
        get: |o| o.allow_origins.join(","),
        put: |s, o, v| {
            o.allow_origins = parse_origins(v).map_err(|e| format!("{}: {e}", s.label))?;
            Ok(())
        },
    },
];
