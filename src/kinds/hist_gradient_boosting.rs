//! `hist_gradient_boosting`: scikit-learn's histogram gradient boosting step for step (its
//! math in `models::hgb`).

use crate::spec::CLASS_WEIGHT;
use super::{DataShape, Streamed};
use ndarray::Array2;
use crate::spec::kinds::{POSITIVE, NON_NEGATIVE, ITERATIONS, COUNT, choice, ClassWeight, EarlyStopping, HgbCategorical, HgbLoss};
use crate::spec::value::{params, DefaultValue::*, ParamType};
use crate::models::{hgb, FitError, Fitted, ModelState};
use crate::preprocess::{FoldData, FoldTargets};
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::ModelKind;
use crate::models::hgb::{HgbParams, OnCodes, Ordinal};

params! {
    impl HgbParams {
        loss: HgbLoss = S("auto"), choice::<HgbLoss>(), "auto follows the task; squared_error or absolute_error (regression), log_loss (classification)";
        learning_rate: f64 = F(0.1), POSITIVE, "shrinkage of every leaf value";
        max_iter: usize = I(100), ITERATIONS, "boosting iterations (one tree per class per iteration for > 2 classes)";
        max_leaf_nodes: usize = I(31), COUNT, "leaves per tree at most; 0 = unlimited (sklearn's None); 1 is refused";
        max_depth: usize = I(0), COUNT, "deepest level; 0 = unlimited";
        min_samples_leaf: usize = I(20), ITERATIONS, "rows every leaf keeps";
        l2_regularization: f64 = F(0.0), NON_NEGATIVE, "L2 penalty on leaf values";
        max_features: f64 = F(1.0), ParamType::Float { min: 0.0, max: 1.0, min_exclusive: true }, "share of features each split may use, drawn as scikit-learn draws them";
        max_bins: usize = I(255), ParamType::Int { min: 2, max: 255 }, "bins per feature for non-missing values (quantiles of up to 200,000 training rows)";
        early_stopping: EarlyStopping = S("auto"), choice::<EarlyStopping>(), "stop when the validation loss stops improving; auto: on above 10,000 training rows";
        validation_fraction: f64 = F(0.1), ParamType::Float { min: 0.0, max: 1.0, min_exclusive: true }, "share of training rows held out for early stopping (stratified for classification)";
        n_iter_no_change: usize = I(10), ITERATIONS, "stop when none of the last n_iter_no_change iterations beat the one before them by tol";
        tol: f64 = F(1e-7), NON_NEGATIVE, "the improvement early stopping asks for";
        class_weight: ClassWeight = S("none"), CLASS_WEIGHT, "classification: balanced weighs each class by n / (classes x its count); or a table { label = weight }";
        random_state: u32 = I(0), ParamType::Int { min: 0, max: u32::MAX as i64 }, "sklearn's random_state: the validation hold-out, the binning subsample and the feature draws";
        categorical_features: HgbCategorical = S("one_hot"), choice::<HgbCategorical>(), "one_hot: a categorical column enters as its indicators; from_dtype: as one column of codes, each split sending a set of levels left (sklearn's from_dtype on pandas categoricals; gaps and unseen levels go the missing side)";
    }
}

pub struct Kind;

/// The fit on `x` (the design matrix, or its coded columns, `categories` saying which) and the
/// fold's targets and weights.
fn fit_columns(
    p: &HgbParams,
    x: &Array2<f64>,
    categories: &[Option<usize>],
    data: &FoldData,
    classes: &[String],
) -> Result<Box<dyn Fitted>, FitError> {
    match &data.train_y {
        FoldTargets::Regression(y) => hgb::fit_regressor(p, x, y, data.train_w.as_deref(), categories),
        FoldTargets::Classes(y) => hgb::fit_classifier(p, x, y, classes, data.train_w.as_deref(), categories),
    }
}

impl super::Kind for Kind {
    type Params = HgbParams;
    const CATALOG: KindSpec = KindSpec {
        kind: ModelKind::HistGradientBoosting,
        engine: "runner's histogram gradient boosting: scikit-learn's binning, best-first grower and losses, step for step",
        task: TaskSupport::Both,
        summary: "histogram-based gradient boosting, equal to sklearn's HistGradientBoostingRegressor (squared_error) / \
                  HistGradientBoostingClassifier (log_loss) with the same random_state",
        groups: &[HgbParams::SPECS],
        defaults: &[],
        saves: "an `hgb` model: the baseline, every tree's nodes (numeric splits: feature, threshold, bin, the side of missing values; categorical splits: the codes going left) and leaf values, and the categorical columns' coding under from_dtype",
    };

    fn fit(p: &HgbParams, data: &FoldData, classes: &[String], _: u32) -> Result<Box<dyn Fitted>, FitError> {
        if p.categorical_features == HgbCategorical::OneHot || data.categorical.is_empty() {
            return fit_columns(p, &data.train_x, &[], data, classes);
        }
        let ordinal = Ordinal::fit(&data.categorical, &data.train_x);
        if let Some(e) = ordinal.too_many_levels(p.max_bins) {
            return Err(e);
        }
        let model = fit_columns(p, &ordinal.transform(&data.train_x), &ordinal.categories(), data, classes)?;
        Ok(Box::new(OnCodes { ordinal, model }))
    }

    fn data_problem(p: &HgbParams, shape: &DataShape) -> Option<String> {
        let from_dtype = p.categorical_features == HgbCategorical::FromDtype;
        let first = shape.categorical.first()?;
        if from_dtype && shape.steps {
            return Some(format!(
                "categorical_features = \"from_dtype\" codes the categorical columns (`{first}`) of the design matrix, \
                 but the model's steps make new columns; remove the steps or use categorical_features = \"one_hot\""
            ));
        }
        if from_dtype && shape.drop_first {
            return Some(format!(
                "categorical_features = \"from_dtype\" reads each categorical column's level (`{first}`) from its \
                 indicators, and [preprocess.one_hot] drop_first = true drops one; set drop_first = false"
            ));
        }
        let gaps = shape.kept_categorical_gaps.first().filter(|_| !from_dtype)?;
        Some(format!(
            "categorical_features = \"one_hot\" gives the gaps impute = \"keep\" keeps in the categorical column \
             `{gaps}` no indicator; use categorical_features = \"from_dtype\" (they go the missing side of each \
             split) or fill the column"
        ))
    }

    fn streamed(_: &HgbParams) -> Streamed<'_> {
        Streamed::Refused(
            "gradient boosting bins every column and revisits every training row in each iteration; use streaming = false",
        )
    }

    fn task_problem(p: &HgbParams, classification: bool) -> Option<(&'static str, String)> {
        p.loss.task_problem(classification).map(|why| ("loss", why))
    }

    fn sample_weights(_: &HgbParams) -> bool {
        true
    }

    fn saves(state: &ModelState) -> bool {
        matches!(state, ModelState::Hgb { .. })
    }
}

#[cfg(test)]
mod tests {
    use crate::kinds::ModelSpec;
    use crate::spec::{EarlyStopping, ModelKind, ParamValue};
    use std::collections::BTreeMap;

    #[test]
    fn early_stopping_takes_a_boolean_or_auto() {
        let check = |v: ParamValue| {
            let given = BTreeMap::from([("early_stopping".to_string(), v)]);
            match ModelSpec::check(ModelKind::HistGradientBoosting, &given) {
                Ok(ModelSpec::HistGradientBoosting(p)) => Ok(p.early_stopping),
                Ok(other) => panic!("{other:?}"),
                Err(e) => Err(e),
            }
        };
        assert_eq!(check(ParamValue::Bool(true)), Ok(EarlyStopping::True));
        assert_eq!(check(ParamValue::Str("auto".into())), Ok(EarlyStopping::Auto));
        assert!(check(ParamValue::Str("sometimes".into())).is_err());
    }
}
