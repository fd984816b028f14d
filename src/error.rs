//! The engine's error type: every fallible engine call returns [`EngineError`].

use crate::data::DataError;

/// What can go wrong in the engine.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// A configuration value is out of range or unknown.
    #[error("{0}")]
    InvalidConfig(String),
    /// The data could not be made or loaded.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Reading tensors back from the device failed.
    #[error("reading from the device failed: {0}")]
    Read(String),
    /// Training produced a non-finite loss (the learning rate is usually too high).
    #[error("the loss became {0}: training diverged; lower the learning rate and reset")]
    Diverged(f32),
    /// An internal consistency check failed (a bug; please report it).
    #[error("internal error: {0}")]
    Internal(String),
}
