//! What a session gives out without changing: its network with the weights, predictions at
//! points, the snapshot the page draws (maps, unit thumbnails) and an evaluation of the losses.

use super::*;

impl Session {
    /// The current network with its weights (one read).
    pub async fn network(&self) -> Result<Mlp, EngineError> {
        if let Some(fused) = &self.fused {
            return Ok(fused.mlp.clone());
        }
        self.model.download().await
    }

    /// The network's outputs at row-major model coordinates `[n, 2]` (plane / 6, as
    /// [`Dataset::inputs`]; the run's input features are computed from them; one read).
    pub async fn predict(&self, coords: &[f32]) -> Result<Vec<f32>, EngineError> {
        let inputs = self.config.features.map(coords);
        if let Some(fused) = &self.fused {
            return Ok(fused::forward(
                &fused.mlp,
                &inputs,
                &mut Workspace::default(),
            ));
        }
        let x = self.inputs_tensor(coords);
        let out = forward_with(&self.model.shape, &self.model.params, x);
        let mut read = read_all(vec![out]).await?;
        read.pop()
            .ok_or_else(|| EngineError::Internal("empty read".into()))
    }

    /// What the playground draws, in one batched read: the network with its weights, the output
    /// over a `resolution`² grid of the plane (class probabilities, or the regression value) and
    /// every hidden unit's activation over a coarser `thumb_resolution`² grid.
    pub async fn snapshot(
        &self,
        resolution: usize,
        thumb_resolution: usize,
    ) -> Result<Snapshot, EngineError> {
        if let Some(fused) = &self.fused {
            let mut ws = Workspace::default();
            let features = self.config.features;
            let grid = features.map(&grid_inputs(resolution));
            let out = fused::forward_for_drawing(&fused.mlp, &grid, &mut ws);
            let thumbs = features.map(&grid_inputs(thumb_resolution));
            let (_, units) = fused::forward_with_activations(&fused.mlp, &thumbs, &mut ws);
            return Ok(Snapshot {
                resolution,
                n_outputs: crate::model::n_outputs(self.data.task),
                heat: fused::output_values(&out, self.data.task),
                thumb_resolution,
                units,
                network: fused.mlp.clone(),
                features: self.config.features,
            });
        }
        let shape = &self.model.shape;
        let grid = self.inputs_tensor(&grid_inputs(resolution));
        let out = forward_with(shape, &self.model.params, grid);
        let heat = match self.data.task {
            Task::Classification { .. } => burn::tensor::activation::softmax(out, 1),
            Task::Regression => out,
        };
        let thumbs = self.inputs_tensor(&grid_inputs(thumb_resolution));
        let mut captured = Vec::new();
        forward_hooked(shape, &self.model.params, thumbs, &mut |_, _, _, h| {
            captured.push(h.clone());
            h
        });
        let n_params = self.model.params.len();
        let mut reads = self.model.params.clone();
        reads.push(heat);
        reads.extend(captured);
        let mut values = read_all(reads).await?;
        let units = values.split_off(n_params + 1);
        let heat = values.pop().unwrap_or_default();
        let mut network = shape.clone();
        network.set_param_values(&values)?;
        Ok(Snapshot {
            resolution,
            n_outputs: crate::model::n_outputs(self.data.task),
            heat,
            thumb_resolution,
            units,
            network,
            features: self.config.features,
        })
    }

    /// Evaluates train and test metrics now (one batched read).
    pub async fn evaluate(&self) -> Result<EpochRecord, EngineError> {
        let task = self.data.task;
        if let Some(fused) = &self.fused {
            let mut ws = Workspace::default();
            let train = fused::forward(&fused.mlp, &fused.train_x, &mut ws);
            let test = fused::forward(&fused.mlp, &fused.test_x, &mut ws);
            let (train_loss, train_accuracy) =
                metrics_from_outputs(&train, &self.train_labels, task);
            let (test_loss, test_accuracy) = metrics_from_outputs(&test, &self.test_labels, task);
            return Ok(EpochRecord {
                epoch: self.epoch,
                train_loss,
                test_loss,
                train_accuracy,
                test_accuracy,
                units: fused.mlp.n_units(),
                params: fused.mlp.n_params(),
            });
        }
        let train = forward_with(
            &self.model.shape,
            &self.model.params,
            self.train_inputs.clone(),
        );
        let test = forward_with(
            &self.model.shape,
            &self.model.params,
            self.test_inputs.clone(),
        );
        let read = read_all(vec![train, test]).await?;
        let (train_loss, train_accuracy) = metrics_from_outputs(&read[0], &self.train_labels, task);
        let (test_loss, test_accuracy) = metrics_from_outputs(&read[1], &self.test_labels, task);
        Ok(EpochRecord {
            epoch: self.epoch,
            train_loss,
            test_loss,
            train_accuracy,
            test_accuracy,
            units: self.model.shape.n_units(),
            params: self.model.shape.n_params(),
        })
    }
}
