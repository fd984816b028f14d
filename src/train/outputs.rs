//! What a session gives out without changing: its network with the weights, predictions at
//! points, the snapshot the page draws (maps, unit thumbnails) and an evaluation of the losses.

use super::*;

impl Session {
    /// The current network with its weights (one read).
    pub async fn network(&self) -> Result<Mlp, EngineError> {
        self.path.network().await
    }

    /// The network's outputs at row-major model coordinates `[n, 2]` (plane / 6, as
    /// [`Dataset::inputs`]; the run's input features are computed from them; one read).
    pub async fn predict(&self, coords: &[f32]) -> Result<Vec<f32>, EngineError> {
        self.path.predict(&self.rows, coords).await
    }

    /// What the playground draws, in one batched read: the network with its weights, the output
    /// over a `resolution`² grid of the plane (class probabilities, or the regression value) and
    /// every hidden unit's activation over a coarser `thumb_resolution`² grid.
    pub async fn snapshot(
        &self,
        resolution: usize,
        thumb_resolution: usize,
    ) -> Result<Snapshot, EngineError> {
        self.path
            .snapshot(&self.rows, resolution, thumb_resolution)
            .await
    }

    /// Evaluates train and test metrics now (one batched read).
    pub async fn evaluate(&self) -> Result<EpochRecord, EngineError> {
        self.path.evaluate(&self.rows, self.epoch).await
    }
}
