//! `hist_gradient_boosting`: scikit-learn's HistGradientBoostingRegressor (squared_error)
//! and HistGradientBoostingClassifier (log_loss, binary and multiclass), step for step in
//! its dtypes: float32 gradients and hessians, float64 histogram sums and raw predictions.
//! Categorical columns (`categories`) are split natively, as its `categorical_features`
//! with the columns already ordinal-encoded to the codes 0..k-1.

mod binning;
mod boosting;
mod grower;
mod histogram;
mod loss;
mod numeric;
mod ordinal;
mod pcg;
mod predict;
mod splitting;
mod tree;

pub use boosting::FeatureSampler;
pub use ordinal::{CategoricalColumn, OnCodes, Ordinal};
pub use predict::{Boxes, Coded, Routed};
pub use tree::{HgbNode, HgbTree};

use super::flat::block_rows;
use super::{FitError, Fitted, LossCurve, ModelState, Prediction};
use crate::spec::kinds::{HgbCategorical, HgbLoss};
use crate::spec::{ClassWeight, EarlyStopping};
use boosting::{Boosted, Settings};
use loss::Loss;
use ndarray::{Array1, Array2};
use rayon::prelude::*;

/// `hist_gradient_boosting`.
/// Its catalog entries (defaults, ranges, help) are in the kind's file.
#[derive(Debug, Clone, PartialEq)]
pub struct HgbParams {
    pub loss: HgbLoss,
    pub learning_rate: f64,
    pub max_iter: usize,
    pub max_leaf_nodes: usize,
    pub max_depth: usize,
    pub min_samples_leaf: usize,
    pub l2_regularization: f64,
    pub max_features: f64,
    pub max_bins: usize,
    pub early_stopping: EarlyStopping,
    pub validation_fraction: f64,
    pub n_iter_no_change: usize,
    pub tol: f64,
    pub class_weight: ClassWeight,
    pub random_state: u32,
    pub categorical_features: HgbCategorical,
}

/// A fitted ensemble: `raw = baseline + Σ trees`, then the loss's inverse link.
pub struct HgbModel {
    /// 0 for regression.
    classes: usize,
    baseline: Vec<f64>,
    trees: Vec<Vec<HgbTree>>,
    losses: Option<(Vec<f64>, Vec<f64>)>,
    /// The trees on coded rows (`None` if a feature has too many thresholds for a byte).
    coded: Option<Coded>,
    /// The raw predictions of the rows fitted on, per output (none for a loaded model).
    fitted_raw: Option<Vec<Vec<f64>>>,
}

fn settings(p: &HgbParams) -> Result<Settings, FitError> {
    if p.max_leaf_nodes == 1 {
        return Err(FitError::Solver("max_leaf_nodes = 1 cannot split; use 0 (unlimited) or at least 2".into()));
    }
    Ok(Settings {
        learning_rate: p.learning_rate,
        max_iter: p.max_iter,
        max_leaf_nodes: (p.max_leaf_nodes > 0).then_some(p.max_leaf_nodes),
        max_depth: (p.max_depth > 0).then_some(p.max_depth),
        min_samples_leaf: p.min_samples_leaf,
        l2_regularization: p.l2_regularization,
        max_features: p.max_features,
        max_bins: p.max_bins,
        early_stopping: match p.early_stopping {
            EarlyStopping::Auto => None,
            EarlyStopping::True => Some(true),
            EarlyStopping::False => Some(false),
        },
        validation_fraction: p.validation_fraction,
        n_iter_no_change: p.n_iter_no_change,
        tol: p.tol,
        random_state: p.random_state,
    })
}

fn model(classes: usize, b: Boosted, width: usize) -> Box<dyn Fitted> {
    let coded = Coded::new(classes, &b.trees, &b.baseline, width);
    // A one-code split predicts otherwise than it trained (`grower::one_code_splits`): then
    // the training rows are predicted again, as scikit-learn's `predict` would.
    let one_code =
        b.trees.iter().flatten().flat_map(|t| &t.nodes).any(|n| matches!(n, HgbNode::Category { count: 1, .. }));
    let fitted_raw = (!one_code).then_some(b.fitted_raw);
    Box::new(HgbModel { classes, baseline: b.baseline, trees: b.trees, losses: b.losses, coded, fitted_raw })
}

/// HistGradientBoostingRegressor(loss=squared_error | absolute_error).fit(x, y, sample_weight=sw).
/// `categories` is empty, or per column `Some(k)` for a categorical column of codes 0..k-1
/// (NaN missing; `known_categories = np.arange(k)`, k <= max_bins) and `None` for a numeric one.
pub fn fit_regressor(
    p: &HgbParams,
    x: &Array2<f64>,
    y: &Array1<f64>,
    sw: Option<&[f64]>,
    categories: &[Option<usize>],
) -> Result<Box<dyn Fitted>, FitError> {
    let loss = match p.loss {
        HgbLoss::Auto | HgbLoss::SquaredError => Loss::SquaredError,
        HgbLoss::AbsoluteError => Loss::AbsoluteError,
        HgbLoss::LogLoss => return Err(task_mismatch(p.loss, false)),
    };
    binning::check_categories(x, categories, p.max_bins)?;
    let y = y.to_vec();
    Ok(model(0, boosting::fit(&settings(p)?, x, &y, loss, sw, None, categories)?, x.ncols()))
}

/// A loss for the other task (the plan refuses it before training; kept for library callers).
fn task_mismatch(loss: HgbLoss, classification: bool) -> FitError {
    FitError::Solver(loss.task_problem(classification).unwrap_or_default())
}

/// HistGradientBoostingClassifier(loss="log_loss").fit(x, y, sample_weight=sw): every class
/// must have training rows; class weights multiply the sample weights (`_finalize_sample_weight`).
/// `categories` as for [`fit_regressor`].
pub fn fit_classifier(
    p: &HgbParams,
    x: &Array2<f64>,
    y: &[usize],
    class_names: &[String],
    sw: Option<&[f64]>,
    categories: &[Option<usize>],
) -> Result<Box<dyn Fitted>, FitError> {
    if p.loss.task_problem(true).is_some() {
        return Err(task_mismatch(p.loss, true));
    }
    let k = class_names.len();
    super::logistic::check_classes(y, class_names)?;
    binning::check_categories(x, categories, p.max_bins)?;
    let loss = if k == 2 { Loss::Binomial } else { Loss::Multinomial(k) };
    let weights = super::weights::times_rows(super::weights::per_row(&p.class_weight, y, class_names, None), sw);
    let targets: Vec<f64> = y.iter().map(|&c| c as f64).collect();
    Ok(model(k, boosting::fit(&settings(p)?, x, &targets, loss, weights.as_deref(), Some(y), categories)?, x.ncols()))
}

impl HgbModel {
    /// A saved ensemble, checked: one baseline and one tree per output and iteration, each
    /// tree valid for `width` features.
    pub fn from_state(
        classes: usize,
        baseline: Vec<f64>,
        trees: Vec<Vec<HgbTree>>,
        width: usize,
    ) -> Result<Self, String> {
        let outputs = if classes > 2 { classes } else { 1 };
        if baseline.len() != outputs || baseline.iter().any(|b| !b.is_finite()) {
            return Err(format!("model.baseline must hold {outputs} finite values, found {}", baseline.len()));
        }
        for (i, iteration) in trees.iter().enumerate() {
            if iteration.len() != outputs {
                return Err(format!("model.trees[{i}] has {} trees, expected {outputs}", iteration.len()));
            }
            for (k, t) in iteration.iter().enumerate() {
                t.check(width, &format!("model.trees[{i}][{k}]"))?;
            }
        }
        let coded = Coded::new(classes, &trees, &baseline, width);
        Ok(HgbModel { classes, baseline, trees, losses: None, coded, fitted_raw: None })
    }

    /// `_raw_predict`: per output, the baseline plus each iteration's tree in turn. Blocks of
    /// rows in parallel, each iteration by iteration, so each row sums in that order.
    fn raw(&self, x: &Array2<f64>) -> Array2<f64> {
        let (n, outputs, block_rows) = (x.nrows(), self.baseline.len(), block_rows(x.nrows()));
        let mut raw = vec![0.0; n * outputs];
        raw.par_chunks_mut(block_rows * outputs).enumerate().for_each(|(b, block)| {
            let start = b * block_rows;
            let rows = x.slice(ndarray::s![start..start + block.len() / outputs, ..]);
            for sum in block.chunks_mut(outputs) {
                sum.copy_from_slice(&self.baseline);
            }
            let mut leaves = vec![0u32; rows.nrows()];
            for iteration in &self.trees {
                for (k, tree) in iteration.iter().enumerate() {
                    tree.leaves(rows, &mut leaves);
                    for (sum, &leaf) in block.chunks_mut(outputs).zip(&leaves) {
                        sum[k] += tree.value(leaf as usize);
                    }
                }
            }
        });
        Array2::from_shape_vec((n, outputs), raw).unwrap_or_else(|_| Array2::zeros((n, outputs)))
    }
}

impl Fitted for HgbModel {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        match &self.coded {
            Some(coded) => coded.predict(x),
            None => predict::head(self.classes, self.raw(x)),
        }
    }

    fn coded(&self) -> Option<&Coded> {
        self.coded.as_ref()
    }

    fn fitted_prediction(&self) -> Option<Prediction> {
        let raw = self.fitted_raw.as_ref()?;
        let n = raw.first().map_or(0, Vec::len);
        Some(predict::head(self.classes, Array2::from_shape_fn((n, raw.len()), |(i, k)| raw[k][i])))
    }

    fn loss_curve(&self) -> Option<LossCurve> {
        self.losses.as_ref().map(|(train, val)| LossCurve { train: train.clone(), validation: Some(val.clone()) })
    }

    fn state(&self) -> Option<ModelState> {
        Some(ModelState::Hgb {
            classes: self.classes,
            categorical: Vec::new(),
            baseline: self.baseline.clone(),
            trees: self.trees.clone(),
        })
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_categorical;
