//! `firefly`: the native command line for experiments.
//!
//! - `firefly figure3 --datasets circle,xor,gauss,spiral --seeds 10 --max-grown 20 --out fig3.csv`
//!   runs the Figure 3 protocol, writes one CSV row per (dataset, method, candidates, seed, grown)
//!   and a summary CSV by units actually grown, shows a progress bar and prints mean ± std per
//!   method by units grown, how often a phase grew nothing, and panel (b)'s ordering in m'.
//! - `firefly growth-time --widths 8,16,32,64,128,256,512` times one growth phase per method on a
//!   network of each width (Figure 4(b)) and prints where Firefly becomes cheaper than exact
//!   splitting.
//! - `firefly run --dataset spiral --layers 4,2` runs the page's experiment (the growing run, its
//!   baseline, Figure 3 live's seeds) with a per-growth log; its flags are the page's settings,
//!   one per row of the settings table that shapes the runs, named by its link key.
//! - `firefly launches --hidden 16` counts the kernel launches of a training epoch and of a
//!   growth phase per method on burn's wgpu backend (a build with `--features wgpu`).
//! - `firefly continual --sequence circle,xor,spiral --seeds 5 --out cl.csv` learns the tasks one
//!   after another with Firefly growth and the baselines (spec §8), writes one CSV row per (method,
//!   seed, task learnt, task evaluated) and prints the average accuracy after each task.
//!
//! `figure3`, `growth-time`, `run` and `continual` take `--backend flex|wgpu`: burn's Flex CPU
//! backend (the default; training in the fused host step) or burn's wgpu backend on the
//! machine's GPU (Vulkan, Metal, DX12 or GL; training as tensors on the device), which needs a
//! build with `--features wgpu`. On wgpu, `figure3` and `run` grow on the CPU while the widest
//! layer is under 128 units, where a phase is faster there (`--grow-on auto|cpu|gpu`).
//! `continual` trains with the fused CPU step on either and grows on the backend named;
//! `launches` always counts on wgpu. Flags are parsed
//! by clap; values are then validated by the engine (`run`'s by the settings table), whose
//! messages name the field.

/// `println!` that hands a failed write back (`?`) instead of panicking: output read by a
/// program that stops early (`firefly run | head`) ends the command quietly ([`cli::main`]).
#[cfg(not(target_arch = "wasm32"))]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

/// [`say!`] without the line's end (`print!`).
#[cfg(not(target_arch = "wasm32"))]
macro_rules! say_part {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)?
    }};
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod cli;
#[cfg(not(target_arch = "wasm32"))]
mod continual;
#[cfg(not(target_arch = "wasm32"))]
mod figure3;
#[cfg(not(target_arch = "wasm32"))]
mod growth_time;
#[cfg(not(target_arch = "wasm32"))]
mod launches;
#[cfg(not(target_arch = "wasm32"))]
mod presets;
#[cfg(not(target_arch = "wasm32"))]
mod run;
