//! `firefly presets`: the page's presets and opening experiment measured over seeds.

use anyhow::{Result, bail};
use burn::tensor::Device;
use clap::Args;
use firefly_playground::experiment;
use firefly_playground::presets::CLAIM_SEEDS;

#[derive(Args)]
pub(crate) struct PresetsArgs {
    /// Comma-separated preset names, `opening` for the opening experiment [default: all].
    #[arg(long, value_delimiter = ',')]
    names: Option<Vec<String>>,
    /// Seeds 1..=seeds (the claims are stated over 10).
    #[arg(long, default_value_t = CLAIM_SEEDS)]
    seeds: u64,
    /// Epochs to train (default: each claim's).
    #[arg(long)]
    epochs: Option<usize>,
    /// Measure this link's settings (over the opening experiment) instead of the presets,
    /// e.g. `dataset=xor&method=firefly-split&baseline=random-split`.
    #[arg(long)]
    link: Option<String>,
}

pub(crate) fn presets(args: PresetsArgs) -> Result<()> {
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
                firefly_playground::settings::preset::options(p).map_err(|e| anyhow::anyhow!(e))?,
                p.claim,
            ));
        }
    }
    if args.link.is_none()
        && (chosen.is_empty() || (!all && chosen.len() != args.names.as_ref().map_or(0, Vec::len)))
    {
        let names: Vec<&str> = presets::PRESETS.iter().map(|p| p.name).collect();
        bail!("--names: expected opening or one of {}", names.join(", "));
    }
    if args.seeds == 0 {
        bail!("--seeds: at least 1 (the claims are stated over {CLAIM_SEEDS})");
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
        say!(
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
            match m.holds(claim.expect) {
                Some(true) => "holds".to_string(),
                Some(false) => "FAILS".to_string(),
                None => format!("not checked: it is stated over {CLAIM_SEEDS} seeds"),
            },
            started.elapsed().as_secs_f64()
        );
        for s in &m.seeds {
            say!(
                "  seed {:>2}: mean {:.4} vs {:.4}, last {:.2e} vs {:.2e}, units {} vs {}",
                s.seed,
                s.main,
                s.baseline,
                s.main_last,
                s.baseline_last,
                s.units.0,
                s.units.1
            );
        }
    }
    Ok(())
}
