//! Per-fold preprocessing: imputation, scaling and one-hot encoding fitted on the training
//! rows only, then applied to both sides. Produces the design matrices a model trains on.

use crate::config::{FillValue, Impute, PreprocessConfig, Scale};
use crate::data::{Dataset, Feature, Storage, Target};
use crate::split::Fold;
use ndarray::{Array1, Array2, Axis};
use rayon::prelude::*;
use std::sync::OnceLock;

/// The targets of one side of a fold.
#[derive(Debug, Clone)]
pub enum Targets {
    Regression(Array1<f64>),
    /// Class indices into the dataset's sorted classes.
    Classes(Vec<usize>),
}

impl Targets {
    /// The targets of `rows`, in that order.
    pub fn select(&self, rows: &[usize]) -> Targets {
        match self {
            Targets::Regression(y) => Targets::Regression(rows.iter().map(|&r| y[r]).collect()),
            Targets::Classes(c) => Targets::Classes(rows.iter().map(|&r| c[r]).collect()),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Targets::Regression(y) => y.len(),
            Targets::Classes(c) => c.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One fold's train and test matrices, ready for a model. Column `j` of both matrices is
/// `feature_names(dataset, drop_first)[j]`.
#[derive(Debug, Clone)]
pub struct FoldData {
    pub train_x: Array2<f64>,
    pub train_y: Targets,
    pub test_x: Array2<f64>,
    pub test_y: Targets,
    pub n_classes: usize,
    /// The training part's centred Gram matrix, computed once and shared by every trial of
    /// the fold that needs it (a ridge grid solves all its alphas from it).
    gram: OnceLock<CenteredGram>,
}

/// Sufficient statistics of a regression training part: column means, the mean target,
/// `XcᵀXc` and `Xcᵀyc` with `Xc`, `yc` centred.
#[derive(Debug, Clone)]
pub struct CenteredGram {
    pub x_mean: Array1<f64>,
    pub y_mean: f64,
    pub xtx: Array2<f64>,
    pub xty: Array1<f64>,
}

const GRAM_BLOCK: usize = 4096;

/// `CenteredGram` of `x`, `y` (uncentred when `center` is false), in one pass over row
/// blocks whose partial sums are added in block order (deterministic for any thread count).
pub fn centered_gram(x: &Array2<f64>, y: &Array1<f64>, center: bool) -> CenteredGram {
    let (n, d) = x.dim();
    let (x_mean, y_mean) = if center && n > 0 {
        (x.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(d)), y.mean().unwrap_or(0.0))
    } else {
        (Array1::zeros(d), 0.0)
    };
    let blocks: Vec<(Array2<f64>, Array1<f64>)> = (0..n.div_ceil(GRAM_BLOCK))
        .into_par_iter()
        .map(|b| {
            let rows = b * GRAM_BLOCK..((b + 1) * GRAM_BLOCK).min(n);
            let xc = &x.slice(ndarray::s![rows.clone(), ..]) - &x_mean;
            let yc = &y.slice(ndarray::s![rows]) - y_mean;
            (xc.t().dot(&xc), xc.t().dot(&yc))
        })
        .collect();
    let mut xtx = Array2::zeros((d, d));
    let mut xty = Array1::zeros(d);
    for (g, v) in blocks {
        xtx += &g;
        xty += &v;
    }
    CenteredGram { x_mean, y_mean, xtx, xty }
}

impl FoldData {
    /// The centred Gram statistics of the training part (regression targets only).
    pub fn centered_gram(&self) -> Option<&CenteredGram> {
        let Targets::Regression(y) = &self.train_y else { return None };
        Some(self.gram.get_or_init(|| centered_gram(&self.train_x, y, true)))
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PreprocessError {
    #[error("column `{column}` has no values in this fold's training rows to compute its {what} from")]
    NothingToImpute { column: String, what: &'static str },
    #[error("column `{column}` has no value in the new rows, so there is nothing to interpolate its gaps from (the model fills them by interpolating between the file's own values of the column); give rows with values, or fill the cells")]
    NothingToInterpolate { column: String },
    #[error("column `{column}` is not of the kind the model was trained on")]
    Mismatch { column: String },
}

/// The names of the design-matrix columns: numeric columns keep their name, categorical
/// ones become `name_category` indicators (the first dropped with `drop_first`).
pub fn feature_names(ds: &Dataset, drop_first: bool) -> Vec<String> {
    let mut names = Vec::new();
    for c in ds.columns() {
        match c.categories {
            None => names.push(c.name.to_string()),
            Some(categories) => names.extend(one_hot_names(c.name, categories, drop_first && categories.len() > 1)),
        }
    }
    names
}

/// A categorical column's indicator names, `name_level`, the first left out with `drop_first`.
fn one_hot_names<'a>(name: &'a str, levels: &'a [String], drop_first: bool) -> impl Iterator<Item = String> + 'a {
    levels.iter().skip(usize::from(drop_first)).map(move |c| format!("{name}_{c}"))
}

/// Builds one fold's matrices. Statistics come from `fold.train` only.
pub fn prepare_fold(ds: &Dataset, cfg: &PreprocessConfig, fold: &Fold) -> Result<FoldData, PreprocessError> {
    let width = feature_names(ds, cfg.drop_first).len();
    // First fit every column's transform on the training rows, then fill both matrices
    // row by row (contiguous writes, parallel over row blocks).
    let transforms = fit_transforms(ds, cfg, fold)?;
    let train_x = design_matrix(&transforms, &fold.train, width);
    let test_x = design_matrix(&transforms, &fold.test, width);
    let (train_y, test_y, n_classes) = (targets(ds, &fold.train), targets(ds, &fold.test), ds.classes());
    Ok(FoldData { train_x, train_y, test_x, test_y, n_classes, gram: OnceLock::new() })
}

/// Only the test part of a fold (the transforms still fitted on its training rows): what
/// explaining a model rebuilt from its coefficients needs.
pub fn prepare_test_part(
    ds: &Dataset,
    cfg: &PreprocessConfig,
    fold: &Fold,
) -> Result<(Array2<f64>, Targets), PreprocessError> {
    let transforms = fit_transforms(ds, cfg, fold)?;
    let width = feature_names(ds, cfg.drop_first).len();
    Ok((design_matrix(&transforms, &fold.test, width), targets(ds, &fold.test)))
}

/// The target on `rows`.
fn targets(ds: &Dataset, rows: &[usize]) -> Targets {
    match &ds.loaded().target {
        Target::Regression(y) => Targets::Regression(rows.iter().map(|&r| y[r]).collect()),
        Target::Classification { labels, .. } => Targets::Classes(rows.iter().map(|&r| labels[r]).collect()),
    }
}

/// Every column's imputation and scaling, fitted on the fold's training rows.
fn fit_transforms<'a>(
    ds: &'a Dataset,
    cfg: &PreprocessConfig,
    fold: &Fold,
) -> Result<Vec<ColumnTransform<'a>>, PreprocessError> {
    let features = &ds.loaded().features;
    let mut transforms = Vec::with_capacity(features.len());
    let mut j = 0;
    for f in features {
        let rule = cfg.rule_for(f.name());
        match f {
            Feature::Numeric { name, values } => {
                let fill = fit_fill(name, values, &fold.train, rule.impute, rule.fill_value.as_ref())?;
                let filled = |r: usize| if values[r].is_nan() { fill.value_at(r) } else { values[r] };
                let (shift, scale) = fit_scale(fold.train.iter().map(|&r| filled(r)), rule.scale);
                transforms.push(ColumnTransform::Numeric { values, fill, shift, scale, column: j });
                j += 1;
            }
            Feature::Categorical { codes, categories, .. } => {
                let fill = fit_category_fill(codes, categories, &fold.train, rule.impute, rule.fill_value.as_ref());
                let skip = usize::from(cfg.drop_first && categories.len() > 1);
                transforms.push(ColumnTransform::OneHot { codes, fill, skip, levels: categories.len(), column: j });
                j += categories.len() - skip;
            }
        }
    }
    Ok(transforms)
}

/// One feature column's fitted transform, writing into design-matrix columns from `column`.
enum ColumnTransform<'a> {
    Numeric {
        values: &'a [f64],
        fill: NumericFill,
        shift: f64,
        scale: f64,
        column: usize,
    },
    /// Codes at or past `levels` (a level unseen in training) get no indicator.
    OneHot {
        codes: &'a [Option<u32>],
        fill: Option<u32>,
        skip: usize,
        levels: usize,
        column: usize,
    },
}

const FILL_BLOCK: usize = 2048;

fn design_matrix(transforms: &[ColumnTransform<'_>], rows: &[usize], width: usize) -> Array2<f64> {
    let mut x = Array2::<f64>::zeros((rows.len(), width));
    let Some(data) = x.as_slice_mut() else { return x };
    data.par_chunks_mut(FILL_BLOCK * width.max(1)).enumerate().for_each(|(block, out)| {
        for (k, row_out) in out.chunks_mut(width.max(1)).enumerate() {
            let r = rows[block * FILL_BLOCK + k];
            for t in transforms {
                match t {
                    ColumnTransform::Numeric { values, fill, shift, scale, column } => {
                        let v = if values[r].is_nan() { fill.value_at(r) } else { values[r] };
                        row_out[*column] = (v - shift) / scale;
                    }
                    ColumnTransform::OneHot { codes, fill, skip, levels, column } => {
                        if let Some(c) = codes[r].or(*fill) {
                            let c = c as usize;
                            if c >= *skip && c < *levels {
                                row_out[column + c - skip] = 1.0;
                            }
                        }
                    }
                }
            }
        }
    });
    x
}

/// One input column's preprocessing fitted on a model's training rows, as model.json saves
/// it and `runner predict` applies it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SavedColumn {
    /// `(value - shift) / scale`, a gap first filled with `fill` (`impute` says how it was
    /// learned; without a fill, a gap is an error, or is interpolated within the new data).
    Numeric { name: String, impute: Impute, fill: Option<f64>, shift: f64, scale: f64 },
    /// One indicator per level (the first left out with `drop_first`); a gap takes `fill`.
    Categorical { name: String, levels: Vec<String>, impute: Impute, fill: Option<String>, drop_first: bool },
}

impl SavedColumn {
    pub fn name(&self) -> &str {
        match self {
            SavedColumn::Numeric { name, .. } | SavedColumn::Categorical { name, .. } => name,
        }
    }

    /// Whether a missing value can be filled (else it is an error naming the cell).
    pub fn fills_gaps(&self) -> bool {
        match self {
            SavedColumn::Numeric { impute, fill, .. } => fill.is_some() || *impute == Impute::Interpolate,
            SavedColumn::Categorical { impute, .. } => !matches!(impute, Impute::Error | Impute::Drop),
        }
    }

    /// The values a fit on real rows gives: a finite fill and shift, a positive finite scale,
    /// a fill exactly when `impute` learns one, unique levels that hold the fill. `at` is the
    /// column's place in model.json (`inputs[2]`), which the message names.
    pub fn check(&self, at: &str) -> Result<(), String> {
        let learns_fill =
            |impute: &Impute| matches!(impute, Impute::Mean | Impute::Median | Impute::Mode | Impute::Constant);
        match self {
            SavedColumn::Numeric { impute, fill, shift, scale, .. } => {
                if !(scale.is_finite() && *scale > 0.0) {
                    return Err(format!("{at}.scale is {scale}; a fitted scale is a positive finite number"));
                }
                if !shift.is_finite() {
                    return Err(format!("{at}.shift is {shift}; a fitted shift is a finite number"));
                }
                match fill {
                    Some(v) if !v.is_finite() => Err(format!("{at}.fill is {v}; a fill is a finite number")),
                    Some(_) if !learns_fill(impute) => {
                        Err(format!("{at}.fill is set, but impute = \"{}\" learns no fill", impute.name()))
                    }
                    None if learns_fill(impute) => {
                        Err(format!("{at}.fill is missing; impute = \"{}\" learns one", impute.name()))
                    }
                    _ => Ok(()),
                }
            }
            SavedColumn::Categorical { levels, impute, fill, drop_first, .. } => {
                if levels.is_empty() {
                    return Err(format!("{at}.levels is empty; a categorical column has at least one level"));
                }
                if let Some((i, level)) = crate::data::repeated_level(levels) {
                    return Err(format!("{at}.levels[{i}] repeats the level `{level}`"));
                }
                if *drop_first && levels.len() < 2 {
                    return Err(format!("{at}.drop_first is true, but the column has a single level"));
                }
                match fill {
                    Some(f) if !levels.contains(f) => Err(format!("{at}.fill `{f}` is not one of its levels")),
                    Some(_) if !matches!(impute, Impute::Mode | Impute::Constant) => {
                        Err(format!("{at}.fill is set, but impute = \"{}\" learns no fill", impute.name()))
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    /// The names of the design-matrix columns it writes (as `feature_names`).
    pub fn feature_names(&self) -> Vec<String> {
        match self {
            SavedColumn::Numeric { name, .. } => vec![name.clone()],
            SavedColumn::Categorical { name, levels, drop_first, .. } => {
                one_hot_names(name, levels, *drop_first).collect()
            }
        }
    }

    /// The design-matrix columns it writes.
    pub fn width(&self) -> usize {
        match self {
            SavedColumn::Numeric { .. } => 1,
            SavedColumn::Categorical { levels, drop_first, .. } => {
                levels.len().saturating_sub(usize::from(*drop_first))
            }
        }
    }
}

/// Every column's preprocessing fitted on `rows`: what the refitted model saves. The same
/// statistics as `prepare_fold` uses on those rows; a fill is learned even for a column
/// without gaps, since new data may have them.
pub fn fit_saved(ds: &Dataset, cfg: &PreprocessConfig, rows: &[usize]) -> Result<Vec<SavedColumn>, PreprocessError> {
    let features = &ds.loaded().features;
    let mut saved = Vec::with_capacity(features.len());
    for f in features {
        let rule = cfg.rule_for(f.name());
        saved.push(match f {
            Feature::Numeric { name, values } => {
                let fill = fit_fill_always(name, values, rows, rule.impute, rule.fill_value.as_ref())?;
                let filled = |r: usize| if values[r].is_nan() { fill.value_at(r) } else { values[r] };
                let (shift, scale) = fit_scale(rows.iter().map(|&r| filled(r)), rule.scale);
                let fill = match fill {
                    NumericFill::Value(v) => Some(v),
                    NumericFill::None | NumericFill::Interpolate(_) => None,
                };
                SavedColumn::Numeric { name: name.clone(), impute: rule.impute, fill, shift, scale }
            }
            Feature::Categorical { name, codes, categories } => {
                let fill = fit_category_fill(codes, categories, rows, rule.impute, rule.fill_value.as_ref());
                SavedColumn::Categorical {
                    name: name.clone(),
                    levels: categories.clone(),
                    impute: rule.impute,
                    fill: fill.and_then(|c| categories.get(c as usize).cloned()),
                    drop_first: cfg.drop_first && categories.len() > 1,
                }
            }
        });
    }
    Ok(saved)
}

/// The design matrix of new rows under saved preprocessing. `features` are the new data's
/// columns in saved order; categorical codes index the saved levels (a code past them is a
/// level unseen in training, which gets no indicator).
pub fn apply_saved(saved: &[SavedColumn], features: &[Feature]) -> Result<Array2<f64>, PreprocessError> {
    let mut transforms = Vec::with_capacity(saved.len());
    let mut j = 0;
    for (s, f) in saved.iter().zip(features) {
        transforms.push(match (s, f) {
            (SavedColumn::Numeric { fill, shift, scale, impute, name }, Feature::Numeric { values, .. }) => {
                let fill = match (fill, impute) {
                    (Some(v), _) => NumericFill::Value(*v),
                    (None, Impute::Interpolate) if values.iter().all(|v| v.is_nan()) && !values.is_empty() => {
                        return Err(PreprocessError::NothingToInterpolate { column: name.clone() })
                    }
                    (None, Impute::Interpolate) => {
                        let all: Vec<usize> = (0..values.len()).collect();
                        fit_fill_always(name, values, &all, Impute::Interpolate, None)?
                    }
                    (None, _) => NumericFill::None,
                };
                ColumnTransform::Numeric { values, fill, shift: *shift, scale: *scale, column: j }
            }
            (SavedColumn::Categorical { levels, fill, drop_first, .. }, Feature::Categorical { codes, .. }) => {
                let fill = fill.as_ref().and_then(|l| levels.iter().position(|x| x == l)).map(|c| c as u32);
                let skip = usize::from(*drop_first);
                ColumnTransform::OneHot { codes, fill, skip, levels: levels.len(), column: j }
            }
            _ => return Err(PreprocessError::Mismatch { column: s.name().to_string() }),
        });
        j += s.width();
    }
    let rows: Vec<usize> = (0..features.first().map_or(0, Feature::len)).collect();
    Ok(design_matrix(&transforms, &rows, j))
}

/// How missing numeric values of one column are filled in a fold.
enum NumericFill {
    None,
    Value(f64),
    /// Train rows with a value, in file order: (dataset row, value).
    Interpolate(Vec<(usize, f64)>),
}

impl NumericFill {
    fn value_at(&self, row: usize) -> f64 {
        match self {
            NumericFill::None => f64::NAN,
            NumericFill::Value(v) => *v,
            NumericFill::Interpolate(points) => interpolate(points, row),
        }
    }
}

/// Linear interpolation by row position between the nearest known rows; the nearest value
/// beyond either end.
fn interpolate(points: &[(usize, f64)], row: usize) -> f64 {
    let after = points.partition_point(|(r, _)| *r < row);
    match (after.checked_sub(1).map(|i| points[i]), points.get(after)) {
        (Some((r0, v0)), Some(&(r1, v1))) => v0 + (v1 - v0) * (row - r0) as f64 / (r1 - r0) as f64,
        (Some((_, v)), None) | (None, Some(&(_, v))) => v,
        (None, None) => f64::NAN,
    }
}

fn fit_fill(
    name: &str,
    values: &[f64],
    train: &[usize],
    impute: Impute,
    fill: Option<&FillValue>,
) -> Result<NumericFill, PreprocessError> {
    // The fill is fitted whenever the column has a gap anywhere: a gap that only the test
    // rows hold must be filled too (from the training rows, as SimpleImputer does).
    if !values.iter().any(|v| v.is_nan()) {
        return Ok(NumericFill::None);
    }
    fit_fill_always(name, values, train, impute, fill)
}

/// The fill of a column from its training rows, whether or not the column has gaps (a
/// saved model fills the gaps of data it has not seen).
fn fit_fill_always(
    name: &str,
    values: &[f64],
    train: &[usize],
    impute: Impute,
    fill: Option<&FillValue>,
) -> Result<NumericFill, PreprocessError> {
    let mut known: Vec<f64> = train.iter().map(|&r| values[r]).filter(|v| !v.is_nan()).collect();
    let nothing = |what| PreprocessError::NothingToImpute { column: name.to_string(), what };
    Ok(match impute {
        Impute::Error | Impute::Drop => NumericFill::None,
        Impute::Mean => {
            if known.is_empty() {
                return Err(nothing("mean"));
            }
            NumericFill::Value(known.iter().sum::<f64>() / known.len() as f64)
        }
        Impute::Median => {
            if known.is_empty() {
                return Err(nothing("median"));
            }
            known.sort_by(f64::total_cmp);
            let m = known.len() / 2;
            NumericFill::Value(if known.len() % 2 == 1 { known[m] } else { (known[m - 1] + known[m]) / 2.0 })
        }
        Impute::Mode => {
            if known.is_empty() {
                return Err(nothing("mode"));
            }
            known.sort_by(f64::total_cmp);
            // Most frequent; ties go to the smallest value, as in scikit-learn.
            let (mut best, mut best_count) = (known[0], 0);
            let mut i = 0;
            while i < known.len() {
                let run = known[i..].iter().take_while(|v| **v == known[i]).count();
                if run > best_count {
                    best = known[i];
                    best_count = run;
                }
                i += run;
            }
            NumericFill::Value(best)
        }
        Impute::Constant => match fill {
            Some(FillValue::Number(x)) => NumericFill::Value(*x),
            _ => NumericFill::None,
        },
        Impute::Interpolate => {
            let mut points: Vec<(usize, f64)> =
                train.iter().map(|&r| (r, values[r])).filter(|(_, v)| !v.is_nan()).collect();
            if points.is_empty() {
                return Err(nothing("interpolation"));
            }
            points.sort_by_key(|(r, _)| *r);
            NumericFill::Interpolate(points)
        }
    })
}

fn fit_category_fill(
    codes: &[Option<u32>],
    categories: &[String],
    train: &[usize],
    impute: Impute,
    fill: Option<&FillValue>,
) -> Option<u32> {
    match impute {
        Impute::Mode => {
            let mut counts = vec![0usize; categories.len()];
            for &r in train {
                if let Some(c) = codes[r] {
                    counts[c as usize] += 1;
                }
            }
            most_frequent(&counts).map(|c| c as u32)
        }
        // An unseen fill value has no indicator column: the row gets all zeros.
        Impute::Constant => match fill {
            Some(FillValue::Text(t)) => categories.iter().position(|c| c == t).map(|c| c as u32),
            _ => None,
        },
        _ => None,
    }
}

/// `(shift, scale)` so that the scaled value is `(x - shift) / scale`. A column that is
/// constant on the training rows keeps scale 1, as scikit-learn's scalers do (so it becomes
/// 0 under standard scaling); `constant_columns` lists them for the report.
fn fit_scale(train_values: impl Iterator<Item = f64> + Clone, scale: Scale) -> (f64, f64) {
    match scale {
        Scale::None => (0.0, 1.0),
        Scale::Standard => {
            let n = train_values.clone().count() as f64;
            let mean = train_values.clone().sum::<f64>() / n;
            // StandardScaler's two-pass variance with its rounding correction.
            let (sum_sq, correction) =
                train_values.fold((0.0, 0.0), |(sq, c), v| (sq + (v - mean) * (v - mean), c + (v - mean)));
            let var = (sum_sq - correction * correction / n) / n;
            standard_scale(mean, var, n)
        }
        Scale::Minmax => {
            let (lo, hi) = train_values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
            minmax_scale(lo, hi)
        }
    }
}

/// StandardScaler's (shift, scale) from a column's mean and population variance over `n`
/// rows: sklearn's `_is_constant_feature` and `_handle_zeros_in_scale` give scale 1.
pub fn standard_scale(mean: f64, var: f64, n: f64) -> (f64, f64) {
    let constant = var <= n * f64::EPSILON * var + (n * mean * f64::EPSILON).powi(2);
    let std = var.max(0.0).sqrt();
    (mean, if constant || std < 10.0 * f64::EPSILON || !std.is_finite() { 1.0 } else { std })
}

/// MinMaxScaler's (shift, scale) from a column's least and greatest value.
pub fn minmax_scale(lo: f64, hi: f64) -> (f64, f64) {
    let range = hi - lo;
    (lo, if range < 10.0 * f64::EPSILON || !range.is_finite() { 1.0 } else { range })
}

/// The most frequent category by its count (`None` when every count is 0); ties go to the
/// first in sorted order, as scikit-learn's most_frequent.
pub fn most_frequent<T: PartialOrd + Default>(counts: &[T]) -> Option<usize> {
    let best = counts.iter().enumerate().fold(None, |best: Option<(usize, &T)>, (c, n)| match best {
        Some((_, bn)) if bn >= n => best,
        _ if *n > T::default() => Some((c, n)),
        _ => best,
    });
    best.map(|(c, _)| c)
}

/// Numeric columns that are constant on some fold's training rows (ignoring gaps): scaling
/// leaves them unscaled, as scikit-learn does, and the report names them.
pub fn constant_columns(ds: &Dataset, folds: &[Fold]) -> Vec<String> {
    // A stream holds no values to compare.
    let Storage::Loaded(rows) = &ds.storage else { return Vec::new() };
    rows.features
        .iter()
        .filter_map(|f| match f {
            Feature::Numeric { name, values } => Some((name, values)),
            Feature::Categorical { .. } => None,
        })
        .filter(|(_, values)| {
            folds.iter().any(|fold| {
                let mut known = fold.train.iter().map(|&r| values[r]).filter(|v| !v.is_nan());
                let first = known.next();
                first.is_some_and(|x| known.all(|v| v == x))
            })
        })
        .map(|(name, _)| name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_linearly_between_known_rows() {
        let points = vec![(0, 1.0), (4, 5.0)];
        assert_eq!(interpolate(&points, 2), 3.0);
        assert_eq!(interpolate(&points, 6), 5.0);
    }

    #[test]
    fn standard_scaling_uses_population_std() {
        let (shift, scale) = fit_scale([1.0, 2.0, 3.0].into_iter(), Scale::Standard);
        assert_eq!(shift, 2.0);
        assert!((scale - (2.0f64 / 3.0).sqrt()).abs() < 1e-15);
    }

    #[test]
    fn constant_training_column_keeps_scale_one() {
        assert_eq!(fit_scale([2.0, 2.0].into_iter(), Scale::Minmax), (2.0, 1.0));
        assert_eq!(fit_scale([0.5, 0.5, 0.5].into_iter(), Scale::Standard), (0.5, 1.0));
    }

    #[test]
    fn mode_breaks_ties_toward_the_smallest_value() {
        let values = vec![3.0, 1.0, 3.0, 1.0, f64::NAN];
        let fill = fit_fill("x", &values, &[0, 1, 2, 3, 4], Impute::Mode, None).unwrap();
        assert_eq!(fill.value_at(4), 1.0);
    }
}
