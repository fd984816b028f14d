//! The starting layers' setting: its limits (how many layers, how wide, how many weights between
//! hidden layers and units in all), how a link's or a field's `4,2` is read, and how it is
//! written back.

use super::echo;

/// The starting layers as a link writes them (`4,2`).
pub(super) fn layers_text(hidden: &[usize]) -> String {
    hidden
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The most hidden layers a starting network may have.
pub const MAX_LAYERS: usize = 8;
/// The widest starting layer (the engine's limit).
pub const MAX_WIDTH: usize = crate::model::MAX_WIDTH;
/// The most weights between a starting network's hidden layers: every network of 64 units a
/// layer the page ever offered fits (four layers of 64 have 12,288), and so does one layer of
/// 1,024 before narrow ones; two wide layers in a row would make each CPU training step, in
/// WebAssembly, longer than a frame.
pub const MAX_HIDDEN_WEIGHTS: usize = 16_384;
/// The most hidden units a network may have in all (the top of Max units, and of a starting
/// network).
pub const MAX_TOTAL_UNITS: usize = 2048;

/// Parses hidden-layer widths such as `4,2`.
pub fn parse_layers(text: &str) -> Result<Vec<usize>, String> {
    let widths: Result<Vec<usize>, _> = text
        .split([',', ' ', '-'])
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse::<usize>())
        .collect();
    let between = |w: &[usize]| w.windows(2).map(|p| p[0] * p[1]).sum::<usize>();
    match widths {
        Ok(w) if between(&w) > MAX_HIDDEN_WEIGHTS => Err(format!(
            "Starting layers: \"{}\" has {} weights between hidden layers; at most \
             {MAX_HIDDEN_WEIGHTS} (a wide layer goes with narrow ones)",
            echo(text),
            between(&w)
        )),
        Ok(w) if w.iter().sum::<usize>() > MAX_TOTAL_UNITS => Err(format!(
            "Starting layers: \"{}\" has {} hidden units; at most {MAX_TOTAL_UNITS} in all",
            echo(text),
            w.iter().sum::<usize>()
        )),
        Ok(w)
            if !w.is_empty()
                && w.len() <= MAX_LAYERS
                && w.iter().all(|u| (1..=MAX_WIDTH).contains(u)) =>
        {
            Ok(w)
        }
        _ => Err(format!(
            "Starting layers: \"{}\" should be 1 to {MAX_LAYERS} widths of 1 to {MAX_WIDTH} units, e.g. 4,2",
            echo(text)
        )),
    }
}
