//! Firefly Playground's engine: small networks that grow while they train, by Firefly neural
//! architecture descent (Wu, Liu, Stone, Liu, NeurIPS 2020).
//!
//! Reading order: [`data`] (toy problems) → [`model`] (the growable network) → [`grow`] (plans,
//! surgery, Firefly, baselines) → [`optim`] → [`train`] (sessions) → [`experiment`] (Figure 3) →
//! [`config`], [`settings`] (the one settings table), [`url`], [`playground`] (the page's state and
//! its `update`, without the page). The browser UI lives in `ui` (wasm32 only) and drives the engine. Every engine function takes a burn [`burn::tensor::Device`] and never touches the
//! browser; device reads are asynchronous and live in [`readback`]. See ARCHITECTURE.md.

pub mod chart;
pub mod config;
pub mod continual;
pub mod data;
pub mod error;
pub mod experiment;
pub mod features;
pub mod fused;
pub mod grow;
pub mod model;
pub mod optim;
pub mod playground;
pub mod presets;
pub mod probe;
pub mod readback;
pub mod settings;
pub mod train;
pub mod url;

#[cfg(target_arch = "wasm32")]
pub mod ui;

pub use config::{RunConfig, TrainConfig};
pub use error::EngineError;
pub use train::Session;
