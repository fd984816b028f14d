//! The command line of `cargo xtask bench` and the setups it measures: our page at the given
//! hash and at TensorFlow Playground's largest network, each beside an optional page to compare
//! with.

/// Our page's setup: circle, hidden layers 4 and 2, tanh, Adam, batch 10, learning rate 0.03,
/// 500 points at a 50 % training share (250 training points), no growth in either run
/// (`method=none` and `baseline=none`; `grow-every` is capped by the settings table, so it cannot
/// switch growth off by itself), one network of each (`seeds=1`), on the CPU backend, at the
/// fastest pace (`speed=0`: the page's default plays 100 epochs a second, which would measure
/// the pace, not the page).
pub const DEFAULT_HASH: &str = "backend=cpu&layers=4,2&method=none&baseline=none&grow-every=100\
                                &lr=0.03&optimizer=adam&batch=10&dataset=circle&activation=tanh\
                                &points=500&ratio=50&seeds=1&speed=0";
/// What the growing setup changes in the hash: Figure 3 live over 5 seeds of Firefly against 5
/// of random new units, one unit per growth every 100 epochs, room for 256 units, so growth
/// phases of every run fall in the window.
pub const GROWING: [(&str, &str); 6] = [
    ("seeds", "5"),
    ("method", "firefly"),
    ("baseline", "random-new"),
    ("grow-every", "100"),
    ("per-growth", "1"),
    ("max-units", "256"),
];
/// TensorFlow Playground's largest network: six hidden layers of eight units.
pub const LARGE_LAYERS: &str = "8,8,8,8,8,8";
pub const DEFAULT_SECONDS: f64 = 10.0;
const MAX_SECONDS: f64 = 3600.0;
/// Our link key for the hidden layers, and TensorFlow Playground's.
const OUR_LAYERS_KEY: &str = "layers";
const THEIR_LAYERS_KEY: &str = "networkShape";

#[derive(Clone, Debug, PartialEq, clap::Args)]
pub struct Options {
    /// Another playground to measure in the same session, with the ratio ours/theirs
    /// (TensorFlow Playground: started with its play button, epochs from #iter-number); at most
    /// twice, one per setup; given once, the large setup gets its networkShape=8,8,8,8,8,8
    #[arg(long, value_name = "URL", value_parser = compare_url)]
    pub compare: Vec<String>,
    /// Seconds measured per page, after the warm-up
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SECONDS, value_parser = seconds,
          allow_negative_numbers = true)]
    pub seconds: f64,
    /// Our page's hash (the `#` is optional; default: the setup above)
    #[arg(long, default_value = DEFAULT_HASH, value_parser = hash, hide_default_value = true)]
    pub hash: String,
}

/// One column pair of the table: our page at these layers, and the page it is compared with.
#[derive(Clone, Debug, PartialEq)]
pub struct Setup {
    /// The hidden layers, as the link writes them (`4,2`).
    pub layers: String,
    /// Our page's hash for this setup, without `#`.
    pub hash: String,
    pub compare: Option<String>,
}

impl Options {
    /// Refuses what the flags alone cannot: a third `--compare`.
    pub fn check(&self) -> Result<(), String> {
        fail_if!(
            self.compare.len() > 2,
            "`bench --compare` at most twice: one URL per setup (4,2 and 8,8,8,8,8,8)"
        );
        Ok(())
    }

    /// The setups in table order: the hash as given, then TensorFlow Playground's largest
    /// network (`layers=8,8,8,8,8,8`), then the hash with growth on ([`GROWING`]; nothing to
    /// compare it with). The second compare URL is the second `--compare`, else
    /// the first with its `networkShape` replaced; without either there is none.
    pub fn setups(&self) -> Vec<Setup> {
        let large_compare = match self.compare.as_slice() {
            [_, second] => Some(second.clone()),
            [first] => with_param(first, THEIR_LAYERS_KEY, LARGE_LAYERS),
            _ => None,
        };
        let layers = param(&self.hash, OUR_LAYERS_KEY).unwrap_or("default");
        let setup = |layers: String, hash, compare| Setup { layers, hash, compare };
        vec![
            setup(layers.to_string(), self.hash.clone(), self.compare.first().cloned()),
            setup(
                LARGE_LAYERS.to_string(),
                set_param(&self.hash, OUR_LAYERS_KEY, LARGE_LAYERS),
                large_compare,
            ),
            setup(format!("{layers} growing"), growing(&self.hash), None),
        ]
    }
}

/// The hash with every [`GROWING`] pair set (replaced where present, appended otherwise).
pub fn growing(hash: &str) -> String {
    GROWING.iter().fold(hash.to_string(), |text, (key, value)| set_param(&text, key, value))
}

/// `text` with `key=value`: replaced where the key is present, appended otherwise.
fn set_param(text: &str, key: &str, value: &str) -> String {
    with_param(text, key, value).unwrap_or_else(|| format!("{text}&{key}={value}"))
}

/// A positive number of seconds, at most [`MAX_SECONDS`].
fn seconds(value: &str) -> Result<f64, String> {
    match value.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= MAX_SECONDS => Ok(s),
        _ => Err(format!("a number of seconds above 0 and at most {MAX_SECONDS}")),
    }
}

fn compare_url(value: &str) -> Result<String, String> {
    let value = value.trim();
    let rest = value.strip_prefix("http://").or_else(|| value.strip_prefix("https://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(value.to_string()),
        _ => Err("an http:// or https:// URL".to_string()),
    }
}

/// Our page's hash without its `#`, not empty.
fn hash(value: &str) -> Result<String, String> {
    let hash = value.trim().trim_start_matches('#');
    fail_if!(hash.is_empty(), "a non-empty hash such as layers=4,2&lr=0.03");
    Ok(hash.to_string())
}

/// The byte range of the value of `key=` in a `key=value&…` text (a hash, or a URL whose query
/// or hash holds the pairs): the key must start the text or follow `&`, `#` or `?`.
fn param_range(text: &str, key: &str) -> Option<(usize, usize)> {
    let needle = format!("{key}=");
    let mut from = 0;
    while let Some(found) = text[from..].find(&needle) {
        let start = from + found;
        let boundary = start == 0 || matches!(text.as_bytes()[start - 1], b'&' | b'#' | b'?');
        let value_start = start + needle.len();
        if boundary {
            let end = text[value_start..].find(['&', '#']).map_or(text.len(), |i| value_start + i);
            return Some((value_start, end));
        }
        from = value_start;
    }
    None
}

fn param<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    param_range(text, key).map(|(start, end)| &text[start..end])
}

pub fn with_param(text: &str, key: &str, value: &str) -> Option<String> {
    param_range(text, key).map(|(start, end)| format!("{}{value}{}", &text[..start], &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Bench {
        #[command(flatten)]
        options: Options,
    }

    fn parse(args: &[&str]) -> Result<Options, String> {
        use clap::Parser as _;
        let bench =
            Bench::try_parse_from([&["bench"], args].concat()).map_err(|e| e.to_string())?;
        bench.options.check()?;
        Ok(bench.options)
    }

    const TF: &str =
        "http://127.0.0.1:8091/#activation=tanh&batchSize=10&networkShape=4,2&seed=0.5";

    #[test]
    fn defaults() {
        let options = parse(&[]).unwrap();
        assert_eq!(options.compare, Vec::<String>::new());
        assert_eq!(options.seconds, 10.0);
        assert_eq!(options.hash, DEFAULT_HASH);
        let setups = options.setups();
        assert_eq!(setups.len(), 3);
        assert_eq!(setups[0].layers, "4,2");
        assert_eq!(setups[2].layers, "4,2 growing");
        let grow = &setups[2].hash;
        for pair in [
            "method=firefly",
            "baseline=random-new",
            "grow-every=100",
            "per-growth=1",
            "max-units=256",
            "layers=4,2",
        ] {
            assert!(grow.contains(pair), "{pair} in {grow}");
        }
        assert!(!grow.contains("method=none") && !grow.contains("baseline=none"));
        assert_eq!(
            growing("lr=0.1"),
            "lr=0.1&seeds=5&method=firefly&baseline=random-new&grow-every=100&per-growth=1\
             &max-units=256"
        );
        assert!(grow.contains("seeds=5") && !grow.contains("seeds=1"));
        assert_eq!(setups[0].hash, DEFAULT_HASH);
        assert_eq!(setups[1].layers, "8,8,8,8,8,8");
        assert!(setups[1].hash.contains("&layers=8,8,8,8,8,8&"));
        assert!(!setups[1].hash.contains("4,2"));
        assert!(setups.iter().all(|s| s.compare.is_none()));
    }

    #[test]
    fn reads_every_flag_in_both_forms() {
        let options =
            parse(&["--seconds", "2.5", "--hash=#layers=3&lr=0.1", "--compare", TF]).unwrap();
        assert_eq!(options.seconds, 2.5);
        assert_eq!(options.hash, "layers=3&lr=0.1");
        assert_eq!(options.compare, vec![TF.to_string()]);
        let setups = options.setups();
        assert_eq!(setups[0].layers, "3");
        assert_eq!(setups[1].hash, "layers=8,8,8,8,8,8&lr=0.1");
        assert_eq!(setups[0].compare.as_deref(), Some(TF));
        assert_eq!(
            setups[1].compare.as_deref(),
            Some(
                "http://127.0.0.1:8091/#activation=tanh&batchSize=10&networkShape=8,8,8,8,8,8&seed=0.5"
            )
        );
    }

    #[test]
    fn second_compare_url_is_taken_as_given() {
        let options = parse(&["--compare", TF, "--compare=http://other/x"]).unwrap();
        let setups = options.setups();
        assert_eq!(setups[0].compare.as_deref(), Some(TF));
        assert_eq!(setups[1].compare.as_deref(), Some("http://other/x"));
        // No networkShape to replace, and no second URL: the large setup compares with nothing.
        let options = parse(&["--compare", "http://other/x"]).unwrap();
        assert_eq!(options.setups()[1].compare, None);
    }

    #[test]
    fn a_hash_without_layers_gets_them_appended() {
        let setups = parse(&["--hash", "lr=0.1"]).unwrap().setups();
        assert_eq!(setups[0].layers, "default");
        assert_eq!(setups[1].hash, "lr=0.1&layers=8,8,8,8,8,8");
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        let error = |args: &[&str]| parse(args).unwrap_err();
        assert!(error(&["--speed", "3"]).contains("unexpected argument '--speed'"));
        assert!(error(&["fast"]).contains("unexpected argument 'fast'"));
        assert!(error(&["--seconds"]).contains("a value is required for '--seconds <N>'"));
        for bad in ["0", "-1", "abc", "NaN", "inf", "4000"] {
            assert!(error(&["--seconds", bad]).contains("above 0"), "{bad}");
        }
        assert!(
            error(&["--seconds", "1", "--seconds", "2"]).contains("cannot be used multiple times")
        );
        assert!(error(&["--compare", "127.0.0.1:8091"]).contains("http:// or https:// URL"));
        assert!(error(&["--compare", "http://"]).contains("http:// or https:// URL"));
        assert!(
            error(&["--compare", TF, "--compare", TF, "--compare", TF]).contains("at most twice")
        );
        assert!(error(&["--hash", "#"]).contains("non-empty hash"));
        assert!(error(&["--hash=a", "--hash=b"]).contains("cannot be used multiple times"));
    }

    #[test]
    fn params_match_whole_keys_only() {
        assert_eq!(param("xlayers=1&layers=2", "layers"), Some("2"));
        assert_eq!(param("http://h/?a=1#layers=4,2&b=3", "layers"), Some("4,2"));
        assert_eq!(param("a=1", "layers"), None);
        assert_eq!(with_param("a=1&layers=4,2", "layers", "8").as_deref(), Some("a=1&layers=8"));
        assert_eq!(with_param("a=1", "layers", "8"), None);
    }
}
