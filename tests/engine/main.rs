//! The engine's integration tests, in one binary (every extra test binary links burn again).
//!
//! Each module checks behaviour against an oracle: hand-derived values, finite differences, the
//! unmodified network, or a golden run recorded natively.
#![cfg(not(target_arch = "wasm32"))]
// A failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chart;
mod claims;
mod cli;
mod continual;
mod continual_ewc;
mod course;
mod data;
mod experiment;
mod explain;
mod features;
mod fused;
mod fuzz;
mod golden;
mod grow;
mod large_data;
mod model;
mod optim;
mod paths;
mod playground;
mod robust;
mod stacked;
mod support;
mod tidy;
mod train;
mod url;
#[cfg(feature = "wgpu")]
mod wgpu;
