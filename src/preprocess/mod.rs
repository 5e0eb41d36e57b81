//! Per-fold preprocessing: imputation, scaling and one-hot encoding fitted on the training
//! rows only, then applied to both sides. Produces the design matrices a model trains on.
//!
//! `impute` (fills), `scale` (standard and min-max, from rows or from sums), `encode` (one-hot
//! names and the design-matrix fill), `saved` (a column's fitted preprocessing as model.json
//! holds it), `sums` (per-block column sums and the preprocessing fitted from them, for the
//! streamed sweep and the ridge shortcut), `gram` (a training part's centred Gram matrix).

mod encode;
mod gram;
mod impute;
mod saved;
mod scale;
pub mod steps;
mod sums;

pub use gram::{centered_gram, CenteredGram};
pub use impute::{median_of_sorted, most_frequent};
pub use saved::{apply_saved, fit_saved, SavedColumn};
pub use scale::{minmax_scale, standard_scale, ScaleSums};
pub use steps::target::{self, TargetFunc, TargetTransform};
pub use steps::{FromSums, SavedStep, StepSpec};
pub use sums::{fit_from_sums, fold_dependence, BlockColumns, ColumnSums};

use crate::config::PreprocessConfig;
use crate::data::{Dataset, Feature, Storage, Target};
use crate::split::Fold;
use encode::{design_matrix, one_hot_names, ColumnTransform};
use impute::{fit_category_fill, fit_fill, NumericFill};
use ndarray::{Array1, Array2};
use scale::fit_scale;
use std::sync::OnceLock;

/// The targets of one side of a fold.
#[derive(Debug, Clone)]
pub enum FoldTargets {
    Regression(Array1<f64>),
    /// Class indices into the dataset's sorted classes.
    Classes(Vec<usize>),
}

impl FoldTargets {
    /// The targets of `rows`, in that order.
    pub fn select(&self, rows: &[usize]) -> FoldTargets {
        match self {
            FoldTargets::Regression(y) => FoldTargets::Regression(rows.iter().map(|&r| y[r]).collect()),
            FoldTargets::Classes(c) => FoldTargets::Classes(rows.iter().map(|&r| c[r]).collect()),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            FoldTargets::Regression(y) => y.len(),
            FoldTargets::Classes(c) => c.len(),
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
    pub train_y: FoldTargets,
    pub test_x: Array2<f64>,
    pub test_y: FoldTargets,
    /// The sample weights of the training and test rows (`[dataset] weight`), for the
    /// kinds that fit with them and for the metrics; `None`: every row weighs 1.
    pub train_w: Option<Vec<f64>>,
    pub test_w: Option<Vec<f64>>,
    pub n_classes: usize,
    /// The columns' names when a model's steps made them; `None`: `feature_names(dataset, drop_first)`.
    pub names: Option<Vec<String>>,
    /// A regression model's target transform fitted on the training targets: `train_y` is
    /// then the transformed targets the model fits, and this holds the original ones.
    pub target: Option<FoldTarget>,
    /// Each categorical column's indicator columns, in column order (empty once a model's
    /// steps made the columns): what `categorical_features = "from_dtype"` codes back.
    pub categorical: Vec<ColumnSpan>,
    /// The training part's centred Gram matrix, computed once and shared by every trial of
    /// the fold that needs it (a ridge grid solves all its alphas from it).
    gram: OnceLock<CenteredGram>,
}

/// A dataset column's place in the design matrix: `columns` holds its indicators (a
/// categorical column, `categorical`) or its one value.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSpan {
    pub name: String,
    pub columns: std::ops::Range<usize>,
    pub categorical: bool,
}

/// Every dataset column's span of design-matrix columns, in order.
pub fn column_spans(ds: &Dataset, drop_first: bool) -> Vec<ColumnSpan> {
    let mut j = 0;
    ds.columns()
        .iter()
        .map(|c| {
            let width = c.categories.map_or(1, |levels| levels.len() - usize::from(drop_first && levels.len() > 1));
            let columns = j..j + width;
            j += width;
            ColumnSpan { name: c.name.to_string(), columns, categorical: c.categories.is_some() }
        })
        .collect()
}

/// A fold's fitted target transform and its training targets on the original scale.
#[derive(Debug, Clone)]
pub struct FoldTarget {
    pub transform: TargetTransform,
    pub train_y: FoldTargets,
}

impl FoldData {
    /// The centred Gram statistics of the training part (regression targets only, unweighted
    /// rows: the weighted fits centre their own).
    pub fn centered_gram(&self) -> Option<&CenteredGram> {
        let FoldTargets::Regression(y) = &self.train_y else { return None };
        if self.train_w.is_some() {
            return None;
        }
        Some(self.gram.get_or_init(|| centered_gram(&self.train_x, y, true)))
    }
}

impl FoldData {
    /// The training targets on the original scale, as the metrics take them.
    pub fn scored_train_y(&self) -> &FoldTargets {
        self.target.as_ref().map_or(&self.train_y, |t| &t.train_y)
    }

    /// This fold through a model's target transform and steps (`names`: the columns of
    /// `self`), each fitted on the training part only: the new matrices (with their own Gram,
    /// computed when asked) and the fitted steps. The target is transformed first, so the
    /// steps see it as TransformedTargetRegressor's inner Pipeline does. Without either, a copy.
    pub fn through_steps(
        &self,
        steps: &[steps::StepSpec],
        func: TargetFunc,
        names: &[String],
    ) -> Result<(FoldData, Vec<steps::SavedStep>), PreprocessError> {
        let target = match &self.train_y {
            FoldTargets::Regression(y) => target::fit(func, y.view())
                .map_err(|e| PreprocessError::Step(format!("the target transform: {e}")))?
                .map(|transform| FoldTarget { transform, train_y: self.train_y.clone() }),
            FoldTargets::Classes(_) => None,
        };
        let train_y = match (&target, &self.train_y) {
            (Some(t), FoldTargets::Regression(y)) => FoldTargets::Regression(t.transform.forward(y.view())),
            _ => self.train_y.clone(),
        };
        let classes: Option<Array1<f64>> = match &train_y {
            FoldTargets::Classes(c) => Some(c.iter().map(|&k| k as f64).collect()),
            FoldTargets::Regression(_) => None,
        };
        let y = match &train_y {
            FoldTargets::Regression(y) => Some(y.view()),
            FoldTargets::Classes(_) => classes.as_ref().map(|c| c.view()),
        };
        let (saved, train_x) = steps::fit_all(steps, self.train_x.clone(), y, names).map_err(PreprocessError::Step)?;
        // A test value a step refuses fails the unit, as scikit-learn's ValueError would.
        let test_x = steps::apply_checked(&saved, self.test_x.clone(), names).map_err(PreprocessError::Step)?;
        let names = (!steps.is_empty()).then(|| steps::names_after(&saved, names));
        let data = FoldData {
            train_x,
            train_y,
            test_x,
            test_y: self.test_y.clone(),
            train_w: self.train_w.clone(),
            test_w: self.test_w.clone(),
            n_classes: self.n_classes,
            names,
            target,
            categorical: if steps.is_empty() { self.categorical.clone() } else { Vec::new() },
            gram: OnceLock::new(),
        };
        Ok((data, saved))
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum PreprocessError {
    #[error("column `{column}` has no values in this fold's training rows to compute its {what} from")]
    NothingToImpute { column: String, what: &'static str },
    #[error("column `{column}` has no value in the new rows, so there is nothing to interpolate its gaps from (the model fills them by interpolating between the file's own values of the column); give rows with values, or fill the cells")]
    NothingToInterpolate { column: String },
    #[error("column `{column}` is not of the kind the model was trained on")]
    Mismatch { column: String },
    /// A model step that could not be fitted on a fold's training rows.
    #[error("{0}")]
    Step(String),
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

/// Builds one fold's matrices. Statistics come from `fold.train` only.
pub fn prepare_fold(ds: &Dataset, cfg: &PreprocessConfig, fold: &Fold) -> Result<FoldData, PreprocessError> {
    let width = feature_names(ds, cfg.drop_first).len();
    // First fit every column's transform on the training rows, then fill both matrices
    // row by row (contiguous writes, parallel over row blocks).
    let transforms = fit_transforms(ds, cfg, fold)?;
    let train_x = design_matrix(&transforms, &fold.train, width);
    let test_x = design_matrix(&transforms, &fold.test, width);
    let (train_y, test_y, n_classes) = (targets(ds, &fold.train), targets(ds, &fold.test), ds.classes());
    let (train_w, test_w) = (weights(ds, &fold.train), weights(ds, &fold.test));
    let names = None;
    Ok(FoldData {
        train_x,
        train_y,
        test_x,
        test_y,
        train_w,
        test_w,
        n_classes,
        names,
        target: None,
        categorical: column_spans(ds, cfg.drop_first).into_iter().filter(|s| s.categorical).collect(),
        gram: OnceLock::new(),
    })
}

/// [`prepare_fold`], then through a model's target transform and `steps` (fitted on the
/// training part): what a stage that fits one trial on one fold trains on, and the fitted
/// steps (empty without).
pub fn prepare_fold_steps(
    ds: &Dataset,
    cfg: &PreprocessConfig,
    fold: &Fold,
    steps: &[steps::StepSpec],
    func: TargetFunc,
) -> Result<(FoldData, Vec<steps::SavedStep>), PreprocessError> {
    let data = prepare_fold(ds, cfg, fold)?;
    if steps.is_empty() && func == TargetFunc::None {
        return Ok((data, Vec::new()));
    }
    data.through_steps(steps, func, &feature_names(ds, cfg.drop_first))
}

/// A fold's test part: its matrix, targets and sample weights.
pub struct TestPart {
    pub x: Array2<f64>,
    pub y: FoldTargets,
    pub w: Option<Vec<f64>>,
}

/// Only the test part of a fold (the transforms still fitted on its training rows): what
/// explaining a model rebuilt from its coefficients needs.
pub fn prepare_test_part(ds: &Dataset, cfg: &PreprocessConfig, fold: &Fold) -> Result<TestPart, PreprocessError> {
    let transforms = fit_transforms(ds, cfg, fold)?;
    let width = feature_names(ds, cfg.drop_first).len();
    Ok(TestPart {
        x: design_matrix(&transforms, &fold.test, width),
        y: targets(ds, &fold.test),
        w: weights(ds, &fold.test),
    })
}

/// The sample weights of `rows`, when the dataset has a weight column.
fn weights(ds: &Dataset, rows: &[usize]) -> Option<Vec<f64>> {
    let w = ds.loaded().weights.as_ref()?;
    Some(rows.iter().map(|&r| w[r]).collect())
}

/// The target on `rows`.
fn targets(ds: &Dataset, rows: &[usize]) -> FoldTargets {
    match &ds.loaded().target {
        Target::Regression(y) => FoldTargets::Regression(rows.iter().map(|&r| y[r]).collect()),
        Target::Classification { labels, .. } => FoldTargets::Classes(rows.iter().map(|&r| labels[r]).collect()),
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
    for (i, f) in features.iter().enumerate() {
        let rule = cfg.rule_for(f.name());
        match f {
            Feature::Numeric { name, values } => {
                // The load counted each column's gaps: one without any needs no fill, nor a scan for one.
                let fill = match ds.missing_counts.get(i) {
                    Some(0) => NumericFill::None,
                    _ => fit_fill(name, values, &fold.train, rule.impute, rule.fill_value.as_ref())?,
                };
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
