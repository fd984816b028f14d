//! A dense row-major `f32` matrix on the host: the storage of every weight of an `Mlp`.

use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// A dense row-major matrix of `f32` on the host.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// `rows * cols` values, row after row.
    pub data: Vec<f32>,
}

impl Matrix {
    /// A matrix of zeros.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Matrix {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// Wraps row-major data; `data.len()` must be `rows * cols`.
    pub fn from_vec(rows: usize, cols: usize, data: Vec<f32>) -> Self {
        assert_eq!(data.len(), rows * cols, "matrix data has the wrong length");
        Matrix { rows, cols, data }
    }

    /// Element at (`r`, `c`).
    pub fn get(&self, r: usize, c: usize) -> f32 {
        self.data[r * self.cols + c]
    }

    /// Sets the element at (`r`, `c`).
    pub fn set(&mut self, r: usize, c: usize, value: f32) {
        self.data[r * self.cols + c] = value;
    }

    /// Row `r` as a slice.
    pub fn row(&self, r: usize) -> &[f32] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// Column `c`, copied.
    pub fn column(&self, c: usize) -> Vec<f32> {
        (0..self.rows).map(|r| self.get(r, c)).collect()
    }

    /// Appends a row (its length must be `cols`).
    pub fn push_row(&mut self, row: &[f32]) {
        assert_eq!(row.len(), self.cols, "row has the wrong length");
        self.data.extend_from_slice(row);
        self.rows += 1;
    }

    /// Appends a column (its length must be `rows`).
    pub fn push_column(&mut self, column: &[f32]) {
        assert_eq!(column.len(), self.rows, "column has the wrong length");
        let mut data = Vec::with_capacity(self.rows * (self.cols + 1));
        for (r, value) in column.iter().enumerate() {
            data.extend_from_slice(self.row(r));
            data.push(*value);
        }
        self.data = data;
        self.cols += 1;
    }

    /// Multiplies row `r` by `factor`.
    pub fn scale_row(&mut self, r: usize, factor: f32) {
        for v in &mut self.data[r * self.cols..(r + 1) * self.cols] {
            *v *= factor;
        }
    }

    pub(super) fn to_tensor(&self, device: &Device) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(self.data.clone(), [self.rows, self.cols]),
            device,
        )
    }
}
