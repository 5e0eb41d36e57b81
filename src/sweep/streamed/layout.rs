//! What a streamed pass accumulates per block of rows, and how a fold's preprocessing
//! follows from it.
//!
//! Each row becomes a vector `u` of raw parts: a numeric column's value (0 where missing),
//! one indicator per category, and a missing indicator for every column with gaps. Any
//! fold's design row is an affine map of `u` (imputation puts the fold's fill where the
//! missing indicator is 1, scaling divides), so sums of `u` per block give every fold's
//! least-squares statistics exactly, whatever its fill and scale.

use crate::config::{FillValue, Impute, PreprocessConfig, Scale};
use crate::data::{Dataset, Feature};
use crate::preprocess::{minmax_scale, most_frequent, standard_scale, PreprocessError, SavedColumn};
use ndarray::{Array1, Array2};

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

    /// The rows' shifted `u`, one row per batch row.
    pub fn rows(&self, features: &[Feature]) -> Array2<f64> {
        let n = features.first().map_or(0, Feature::len);
        let mut u = Array2::<f64>::zeros((n, self.width));
        for (part, f) in self.parts.iter().zip(features) {
            match (part, f) {
                (Parts::Numeric { value, missing }, Feature::Numeric { values, .. }) => {
                    for (i, &v) in values.iter().enumerate() {
                        if v.is_nan() {
                            u[[i, *value]] = -self.shift[*value];
                            if let Some(m) = missing {
                                u[[i, *m]] = 1.0;
                            }
                        } else {
                            u[[i, *value]] = v - self.shift[*value];
                        }
                    }
                }
                (Parts::Categorical { first, levels, missing }, Feature::Categorical { codes, .. }) => {
                    for (i, c) in codes.iter().enumerate() {
                        match (c, missing) {
                            (Some(c), _) if (*c as usize) < *levels => u[[i, first + *c as usize]] = 1.0,
                            (None, Some(m)) => u[[i, *m]] = 1.0,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        u
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

/// Per-column sums over a block of rows: what imputation and scaling are fitted from.
#[derive(Debug, Clone)]
pub enum ColumnSums {
    /// Over present values, shifted by the column's mean: count, Σ(x−s), Σ(x−s)², min, max.
    Numeric { present: f64, s1: f64, s2: f64, min: f64, max: f64 },
    /// Rows per category.
    Categorical { counts: Vec<f64> },
}

/// A block's rows and column sums.
#[derive(Debug, Clone)]
pub struct BlockColumns {
    pub rows: f64,
    pub columns: Vec<ColumnSums>,
}

impl BlockColumns {
    pub fn zeros(ds: &Dataset) -> BlockColumns {
        let columns = ds
            .columns()
            .iter()
            .map(|c| match c.categories {
                None => {
                    ColumnSums::Numeric { present: 0.0, s1: 0.0, s2: 0.0, min: f64::INFINITY, max: f64::NEG_INFINITY }
                }
                Some(categories) => ColumnSums::Categorical { counts: vec![0.0; categories.len()] },
            })
            .collect();
        BlockColumns { rows: 0.0, columns }
    }

    /// Adds rows `rows` of a batch's features.
    pub fn add_rows(&mut self, features: &[Feature], rows: &[usize], means: &[f64]) {
        self.rows += rows.len() as f64;
        for (j, (sums, f)) in self.columns.iter_mut().zip(features).enumerate() {
            match (sums, f) {
                (ColumnSums::Numeric { present, s1, s2, min, max }, Feature::Numeric { values, .. }) => {
                    for &r in rows {
                        let v = values[r];
                        if !v.is_nan() {
                            let d = v - means[j];
                            *present += 1.0;
                            *s1 += d;
                            *s2 += d * d;
                            *min = min.min(v);
                            *max = max.max(v);
                        }
                    }
                }
                (ColumnSums::Categorical { counts }, Feature::Categorical { codes, .. }) => {
                    for c in rows.iter().filter_map(|&r| codes[r]) {
                        if let Some(n) = counts.get_mut(c as usize) {
                            *n += 1.0;
                        }
                    }
                }
                _ => {}
            }
        }
    }

    pub fn add(&mut self, o: &BlockColumns) {
        self.rows += o.rows;
        for (a, b) in self.columns.iter_mut().zip(&o.columns) {
            match (a, b) {
                (
                    ColumnSums::Numeric { present, s1, s2, min, max },
                    ColumnSums::Numeric { present: p, s1: t1, s2: t2, min: lo, max: hi },
                ) => {
                    *present += p;
                    *s1 += t1;
                    *s2 += t2;
                    *min = min.min(*lo);
                    *max = max.max(*hi);
                }
                (ColumnSums::Categorical { counts }, ColumnSums::Categorical { counts: more }) => {
                    for (c, m) in counts.iter_mut().zip(more) {
                        *c += m;
                    }
                }
                _ => {}
            }
        }
    }
}

/// Every column's preprocessing fitted on a part's sums, as `preprocess::fit_saved` fits it
/// on the part's rows (the same fills, scales and levels, up to rounding).
pub fn fit_preprocessing(
    ds: &Dataset,
    cfg: &PreprocessConfig,
    part: &BlockColumns,
    means: &[f64],
) -> Result<Vec<SavedColumn>, PreprocessError> {
    let columns = ds.columns();
    let mut saved = Vec::with_capacity(columns.len());
    for (j, (c, sums)) in columns.iter().zip(&part.columns).enumerate() {
        let rule = cfg.rule_for(c.name);
        let name = c.name.to_string();
        saved.push(match (c.categories, sums) {
            (None, &ColumnSums::Numeric { present, s1, s2, min, max }) => {
                let fill = match (rule.impute, &rule.fill_value) {
                    (Impute::Mean, _) if present == 0.0 => {
                        return Err(PreprocessError::NothingToImpute { column: name, what: "mean" });
                    }
                    (Impute::Mean, _) => Some(means[j] + s1 / present),
                    (Impute::Constant, Some(FillValue::Number(x))) => Some(*x),
                    _ => None,
                };
                let filled = Filled { rows: part.rows, present, s1, s2, min, max, shift: means[j], fill };
                let (shift, scale) = filled.scale(rule.scale);
                SavedColumn::Numeric { name, impute: rule.impute, fill, shift, scale }
            }
            (Some(categories), ColumnSums::Categorical { counts }) => {
                let fill = match (rule.impute, &rule.fill_value) {
                    (Impute::Mode, _) => most_frequent(counts).map(|c| categories[c].clone()),
                    (Impute::Constant, Some(FillValue::Text(t))) => categories.iter().find(|c| *c == t).cloned(),
                    _ => None,
                };
                let drop_first = cfg.drop_first && categories.len() > 1;
                SavedColumn::Categorical { name, levels: categories.to_vec(), impute: rule.impute, fill, drop_first }
            }
            _ => return Err(PreprocessError::Mismatch { column: name }),
        });
    }
    Ok(saved)
}

/// A numeric column's training values after imputation, as sums.
struct Filled {
    rows: f64,
    present: f64,
    s1: f64,
    s2: f64,
    min: f64,
    max: f64,
    shift: f64,
    fill: Option<f64>,
}

impl Filled {
    /// `preprocess::fit_scale` from the sums: (shift, scale).
    fn scale(&self, scale: Scale) -> (f64, f64) {
        let gaps = self.rows - self.present;
        let (c, n) = match self.fill {
            Some(c) if gaps > 0.0 => (c, self.rows),
            _ => (0.0, self.present),
        };
        let counted_gaps = n - self.present;
        match scale {
            Scale::None => (0.0, 1.0),
            Scale::Standard => {
                let d = c - self.shift;
                let sum = self.s1 + counted_gaps * d;
                let sum_sq = self.s2 + counted_gaps * d * d;
                standard_scale(self.shift + sum / n, (sum_sq - sum * sum / n) / n, n)
            }
            Scale::Minmax if counted_gaps > 0.0 => minmax_scale(self.min.min(c), self.max.max(c)),
            Scale::Minmax => minmax_scale(self.min, self.max),
        }
    }
}
