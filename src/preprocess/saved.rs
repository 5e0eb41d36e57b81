//! A column's fitted preprocessing as model.json saves it: fitted on a model's training rows
//! (`fit_saved`) and applied to new rows (`apply_saved`).

use super::encode::{design_matrix, one_hot_names, ColumnTransform};
use super::impute::{fit_category_fill, fit_fill_always, NumericFill};
use super::scale::fit_scale;
use super::PreprocessError;
use crate::config::{Impute, PreprocessConfig};
use crate::data::{Dataset, Feature};
use ndarray::Array2;

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
            SavedColumn::Numeric { impute, fill, .. } => {
                fill.is_some() || matches!(impute, Impute::Interpolate | Impute::Keep)
            }
            // A kept categorical gap gets no indicator, as an unseen level: `categorical_features =
            // "from_dtype"` sends both the missing side.
            SavedColumn::Categorical { impute, .. } => !matches!(impute, Impute::Error | Impute::Drop),
        }
    }

    /// Whether its gaps stay NaN in the design (`impute = "keep"`).
    pub fn keeps_gaps(&self) -> bool {
        match self {
            SavedColumn::Numeric { impute, .. } | SavedColumn::Categorical { impute, .. } => *impute == Impute::Keep,
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
