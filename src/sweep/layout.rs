//! What a streamed pass accumulates per block of rows, and how a fold's preprocessing
//! follows from it.
//!
//! Each row becomes a vector `u` of raw parts: a numeric column's value (0 where missing),
//! one indicator per category, and a missing indicator for every column with gaps. Any
//! fold's design row is an affine map of `u` (imputation puts the fold's fill where the
//! missing indicator is 1, scaling divides), so sums of `u` per block give every fold's
//! least-squares statistics exactly, whatever its fill and scale.

use crate::data::{Dataset, Feature};
use crate::preprocess::SavedColumn;
use ndarray::{Array1, Array2};
use rayon::prelude::*;

/// Rows of `u` filled at a time (one piece of parallel work).
const FILL_BLOCK: usize = 2048;

/// Where a feature's parts sit in `u`.
#[derive(Debug, Clone)]
enum Parts {
    Numeric { value: usize, missing: Option<usize> },
    Categorical { first: usize, levels: usize, missing: Option<usize> },
}

/// The layout of `u` and the shifts subtracted from it.
#[derive(Debug, Clone)]
pub struct Layout {
    parts: Vec<Parts>,
    pub width: usize,
    /// Subtracted from each part while accumulating (numeric values: the column's mean).
    pub shift: Array1<f64>,
}

impl Layout {
    pub fn new(ds: &Dataset, means: &[f64]) -> Layout {
        let columns = ds.columns();
        let mut parts = Vec::with_capacity(columns.len());
        let mut shift = Vec::new();
        for (j, c) in columns.iter().enumerate() {
            let gaps = ds.missing_counts[j] > 0;
            match c.categories {
                None => {
                    let value = shift.len();
                    shift.push(means[j]);
                    let missing = gaps.then(|| {
                        shift.push(0.0);
                        value + 1
                    });
                    parts.push(Parts::Numeric { value, missing });
                }
                Some(categories) => {
                    let first = shift.len();
                    shift.extend(std::iter::repeat_n(0.0, categories.len()));
                    let missing = gaps.then(|| {
                        shift.push(0.0);
                        first + categories.len()
                    });
                    parts.push(Parts::Categorical { first, levels: categories.len(), missing });
                }
            }
        }
        debug_assert_eq!(shift.len(), ds.raw_parts());
        Layout { parts, width: shift.len(), shift: Array1::from(shift) }
    }

    /// The shifted `u` of a batch's rows `order`, row `i` of it from batch row `order[i]`:
    /// filled in blocks of rows (in parallel), part by part within a block, so that the
    /// strided writes of one part stay in cache.
    pub fn rows(&self, features: &[Feature], order: &[usize]) -> Array2<f64> {
        let mut u = Array2::<f64>::zeros((order.len(), self.width));
        let width = self.width.max(1);
        if let Some(data) = u.as_slice_mut() {
            data.par_chunks_mut(FILL_BLOCK * width)
                .zip(order.par_chunks(FILL_BLOCK))
                .for_each(|(out, rows)| self.fill(features, rows, out, width));
        }
        u
    }

    /// One block of `rows`' parts into `out` (rows of `width`, zeroed).
    fn fill(&self, features: &[Feature], rows: &[usize], out: &mut [f64], width: usize) {
        for (part, f) in self.parts.iter().zip(features) {
            let cells = out.chunks_mut(width).zip(rows);
            match (part, f) {
                (Parts::Numeric { value, missing }, Feature::Numeric { values, .. }) => {
                    let shift = self.shift[*value];
                    for (u, &r) in cells {
                        let v = values[r];
                        if v.is_nan() {
                            u[*value] = -shift;
                            if let Some(m) = missing {
                                u[*m] = 1.0;
                            }
                        } else {
                            u[*value] = v - shift;
                        }
                    }
                }
                (Parts::Categorical { first, levels, missing }, Feature::Categorical { codes, .. }) => {
                    for (u, &r) in cells {
                        match (codes[r], missing) {
                            (Some(c), _) if (c as usize) < *levels => u[first + c as usize] = 1.0,
                            (None, Some(m)) => u[*m] = 1.0,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// The affine map from raw (unshifted) `u` to a fold's design row, `z = A·u + o`,
    /// under that fold's preprocessing.
    pub fn design_map(&self, saved: &[SavedColumn]) -> (Array2<f64>, Array1<f64>) {
        let width: usize = saved.iter().map(SavedColumn::width).sum();
        let mut a = Array2::<f64>::zeros((width, self.width));
        let mut o = Array1::<f64>::zeros(width);
        let mut j = 0;
        for (part, s) in self.parts.iter().zip(saved) {
            match (part, s) {
                (Parts::Numeric { value, missing }, SavedColumn::Numeric { fill, shift, scale, .. }) => {
                    a[[j, *value]] = 1.0 / scale;
                    if let (Some(m), Some(c)) = (missing, fill) {
                        a[[j, *m]] = c / scale;
                    }
                    o[j] = -shift / scale;
                }
                (
                    Parts::Categorical { first, missing, .. },
                    SavedColumn::Categorical { levels, fill, drop_first, .. },
                ) => {
                    let skip = usize::from(*drop_first);
                    let fill_level = fill.as_ref().and_then(|l| levels.iter().position(|x| x == l));
                    for l in skip..levels.len() {
                        a[[j + l - skip, first + l]] = 1.0;
                        if let (Some(m), Some(f)) = (missing, fill_level) {
                            if f == l {
                                a[[j + l - skip, *m]] = 1.0;
                            }
                        }
                    }
                }
                _ => {}
            }
            j += s.width();
        }
        (a, o)
    }
}
