//! `random_forest`: bagged CART trees (scikit-learn's RandomForestClassifier/Regressor); the
//! forest math is `models::forest`'s, shared with `extra_trees`.

use crate::spec::{CCP_ALPHA, MAX_LEAF_NODES};
use super::Streamed;
use crate::spec::kinds::{NON_NEGATIVE, ITERATIONS, COUNT, BOOL, MIN_WEIGHT_FRACTION, RANDOM_STATE, choice, ForestCriterion, ClassWeight};
use crate::spec::value::{params, DefaultValue::*, ParamType};
use crate::models::{forest, tree, FitError, Fitted, ModelState};
use crate::preprocess::{FoldData, FoldTargets};
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::{CountOrShare, ModelKind, ParamValues};
use crate::models::forest::ForestParams;

params! {
    impl ForestParams {
        n_estimators: usize = I(100), ITERATIONS, "trees in the forest";
        criterion: ForestCriterion = S("auto"), choice::<ForestCriterion>(), "auto: gini for classification, squared_error for regression (sklearn's defaults); log_loss is entropy; friedman_mse is squared_error (as sklearn 1.9.1 maps it); poisson needs targets >= 0 with a positive sum; absolute_error splits around the weighted median (leaves predict it)";
        max_depth: usize = I(0), COUNT, "deepest level; 0 = unlimited";
        min_samples_split: usize = I(2), ParamType::Int { min: 2, max: i64::MAX }, "rows a node needs to be split";
        min_samples_leaf: usize = I(1), ITERATIONS, "rows every leaf keeps";
        min_weight_fraction_leaf: f64 = F(0.0), ParamType::Float { min: 0.0, max: 0.5, min_exclusive: false }, MIN_WEIGHT_FRACTION;
        max_features: CountOrShare = S("auto"), ParamType::CountOrShare(&["auto", "sqrt", "log2", "all"]), "features tried per split: a count, a share of the columns, sqrt, log2 or all; auto: sqrt for classification, all for regression (sklearn's defaults)";
        max_leaf_nodes: usize = I(0), COUNT, MAX_LEAF_NODES;
        min_impurity_decrease: f64 = F(0.0), NON_NEGATIVE, "a split must lower the weighted impurity by at least this (scikit-learn's rule, up to EPSILON)";
        bootstrap: bool = B(true), BOOL, "fit each tree on a bootstrap sample (drawn as sklearn draws it; counts become sample weights)";
        max_samples: CountOrShare = S("all"), ParamType::CountOrShare(&["all"]), "rows drawn per bootstrap: a count, a share of the rows, or all";
        oob_score: bool = B(false), BOOL, "score each row on the trees that did not draw it (sklearn's oob_score_: accuracy or R^2), reported per fold as the trial's oob_score";
        class_weight: ClassWeight = S("none"), ParamType::ChoiceOrWeights(&["none", "balanced", "balanced_subsample"]), "classifiers: balanced weighs each class by n / (k * its count); balanced_subsample does so on each bootstrap; or a table { label = weight }";
        ccp_alpha: f64 = F(0.0), NON_NEGATIVE, CCP_ALPHA;
        random_state: u32 = I(0), RANDOM_STATE, "sklearn's random_state: each tree's seed is drawn from it in order";
    }
}

/// The combinations scikit-learn refuses, and the parts runner does not implement.
fn validate(p: &ForestParams) -> Result<(), String> {
    if p.oob_score && !p.bootstrap {
        return Err("oob_score needs bootstrap = true (out-of-bag rows exist only with a bootstrap)".into());
    }
    if !p.bootstrap && p.max_samples != CountOrShare::Word("all".into()) {
        return Err("max_samples needs bootstrap = true (it sizes the bootstrap sample)".into());
    }
    crate::spec::check_max_leaf_nodes(p.max_leaf_nodes)
}

pub struct Kind;

/// Shared with `extra_trees`.
pub(super) const ENGINE: &str = "runner's CART (scikit-learn's splitters step for step), trees grown in parallel";
pub(super) const SAVES: &str = "a `forest`: each tree's nodes and leaves, as a `tree` saves them";

impl super::Kind for Kind {
    type Params = ForestParams;
    const CATALOG: KindSpec = KindSpec {
        kind: ModelKind::RandomForest,
        engine: ENGINE,
        task: TaskSupport::Both,
        summary: "random forest (classifier or regressor), equal to sklearn's RandomForestClassifier/Regressor tree for tree with the same random_state: \
                  bootstrap samples and tree seeds drawn as sklearn draws them; classifiers predict the mean of the trees' class shares",
        groups: &[ForestParams::SPECS],
        defaults: &[],
        saves: SAVES,
    };

    fn read(values: &ParamValues) -> Result<ForestParams, String> {
        read(values)
    }

    fn fit(p: &ForestParams, data: &FoldData, classes: &[String], _: u32) -> Result<Box<dyn Fitted>, FitError> {
        fit(p, tree::Splitter::Best, data, classes)
    }

    fn streamed(_: &ForestParams) -> Streamed<'_> {
        Streamed::Refused(NOT_STREAMED)
    }

    fn sample_weights(_: &ForestParams) -> bool {
        true
    }

    fn saves(state: &ModelState) -> bool {
        saves(state)
    }

    fn data_problem(p: &ForestParams, shape: &super::DataShape) -> Option<String> {
        data_problem(p, shape)
    }
}

pub(super) const NOT_STREAMED: &str =
    "a forest's trees each draw their own sample of the training rows and split them in memory; use streaming = false";

/// A forest's parameters, with their combinations checked.
pub(super) fn read(values: &ParamValues) -> Result<ForestParams, String> {
    let p = ForestParams::read(values)?;
    validate(&p).map(|()| p)
}

/// A forest grown with `splitter`, by the fold's task.
pub(super) fn fit(
    p: &ForestParams,
    splitter: tree::Splitter,
    data: &FoldData,
    classes: &[String],
) -> Result<Box<dyn Fitted>, FitError> {
    let y_values;
    let task = match &data.train_y {
        FoldTargets::Classes(y) => forest::Task::Classes { y, classes },
        FoldTargets::Regression(y) => {
            y_values = y.to_vec();
            forest::Task::Values(&y_values)
        }
    };
    Ok(Box::new(forest::fit(p, splitter, &data.train_x, task, data.train_w.as_deref())?))
}

pub(super) fn saves(state: &ModelState) -> bool {
    matches!(state, ModelState::Forest { .. })
}

/// What scikit-learn refuses at `fit` once the data is known, refused before training: a
/// `max_features` count above the design matrix's columns ("max_features must be in (0,
/// n_features]"), a `max_samples` count above a fold's training rows ("max_samples must be <=
/// n_samples"), a criterion of the other task.
pub(super) fn data_problem(p: &ForestParams, shape: &super::DataShape) -> Option<String> {
    let (width, rows) = (shape.width, shape.train_rows);
    if let CountOrShare::Count(k) = p.max_features {
        if k > width {
            return Some(format!(
                "max_features = {k}, but the design matrix has {width} columns; use at most {width}, a share (0.5), \"sqrt\" or \"all\""
            ));
        }
    }
    if let (CountOrShare::Count(k), true) = (&p.max_samples, p.bootstrap) {
        if *k > rows {
            return Some(format!(
                "max_samples = {k}, but the smallest training part of the split has {rows} rows; use at most {rows} or a share (0.8)"
            ));
        }
    }
    let regression_only = matches!(
        p.criterion,
        ForestCriterion::SquaredError
            | ForestCriterion::FriedmanMse
            | ForestCriterion::Poisson
            | ForestCriterion::AbsoluteError
    );
    let classification_only =
        matches!(p.criterion, ForestCriterion::Gini | ForestCriterion::Entropy | ForestCriterion::LogLoss);
    criterion_problem(p.criterion.into(), regression_only, classification_only, shape.classification)
}

/// A criterion word that does not apply to the task (trees and forests).
pub(super) fn criterion_problem(
    criterion: &str,
    regression_only: bool,
    classification_only: bool,
    classification: bool,
) -> Option<String> {
    if classification && regression_only {
        return Some(format!("criterion {criterion} applies to regression; a classifier uses gini or entropy"));
    }
    if !classification && classification_only {
        return Some(format!(
            "criterion {criterion} applies to classification; a regressor uses squared_error, poisson or absolute_error"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::kinds::ModelSpec;
    use crate::spec::{CountOrShare, ModelKind, ParamValue};

    fn forest(kind: ModelKind, given: &[(&str, ParamValue)]) -> Result<ModelSpec, String> {
        ModelSpec::check(kind, &given.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn forests_refuse_what_scikit_learn_refuses_and_what_runner_lacks() {
        let (t, f) = (ParamValue::Bool(true), ParamValue::Bool(false));
        let refused = [
            (
                ModelKind::RandomForest,
                vec![("oob_score", t.clone()), ("bootstrap", f.clone())],
                "oob_score needs bootstrap",
            ),
            (ModelKind::ExtraTrees, vec![("oob_score", t.clone())], "oob_score needs bootstrap"),
            (ModelKind::ExtraTrees, vec![("max_samples", ParamValue::Float(0.5))], "max_samples needs bootstrap"),
            (ModelKind::RandomForest, vec![("max_leaf_nodes", ParamValue::Int(1))], "at least 2 leaves"),
            (ModelKind::DecisionTree, vec![("max_leaf_nodes", ParamValue::Int(1))], "at least 2 leaves"),
            (ModelKind::RandomForest, vec![("ccp_alpha", ParamValue::Float(-0.1))], "out of range"),
            (ModelKind::RandomForest, vec![("max_features", ParamValue::Int(0))], "out of range"),
            (ModelKind::RandomForest, vec![("max_features", ParamValue::Float(1.5))], "out of range"),
            (ModelKind::RandomForest, vec![("max_features", ParamValue::Str("sqr".into()))], "did you mean `sqrt`"),
            (
                ModelKind::RandomForest,
                vec![("class_weight", ParamValue::Str("balance".into()))],
                "did you mean `balanced`",
            ),
        ];
        for (kind, given, wanted) in refused {
            let e = forest(kind, &given).unwrap_err();
            assert!(e.contains(wanted), "{given:?}: {e}");
        }
        let e = forest(ModelKind::DecisionTree, &[("class_weight", ParamValue::Str("balanced_subsample".into()))]);
        assert!(e.unwrap_err().contains("not one of none, balanced"));
    }

    #[test]
    fn a_count_and_a_share_of_columns_are_told_apart() {
        let read = |v: ParamValue| match forest(ModelKind::RandomForest, &[("max_features", v)]) {
            Ok(ModelSpec::RandomForest(p)) => p.max_features,
            other => panic!("{other:?}"),
        };
        assert_eq!(read(ParamValue::Int(1)), CountOrShare::Count(1));
        assert_eq!(read(ParamValue::Float(1.0)), CountOrShare::Share(1.0));
        assert_eq!(read(ParamValue::Str("log2".into())), CountOrShare::Word("log2".into()));
        let Ok(ModelSpec::ExtraTrees(p)) = forest(ModelKind::ExtraTrees, &[]) else { panic!() };
        assert!(!p.bootstrap, "extra trees draw no bootstrap by default");
    }

    #[test]
    fn what_the_data_refuses_is_a_problem_of_both_forests() {
        let shape = |width, train_rows, classification| crate::kinds::DataShape {
            width,
            train_rows,
            classification,
            categorical: &[],
            drop_first: false,
            kept_categorical_gaps: &[],
            steps: false,
        };
        for kind in [ModelKind::RandomForest, ModelKind::ExtraTrees] {
            let spec = forest(kind, &[("max_features", ParamValue::Int(5))]).unwrap();
            assert_eq!(spec.data_problem(&shape(5, 10, true)), None);
            let e = spec.data_problem(&shape(4, 10, true)).unwrap_or_default();
            assert!(e.starts_with("max_features = 5, but the design matrix has 4 columns"), "{e}");
            let given = [("max_samples", ParamValue::Int(40)), ("bootstrap", ParamValue::Bool(true))];
            let spec = forest(kind, &given).unwrap();
            assert_eq!(spec.data_problem(&shape(3, 40, false)), None);
            let e = spec.data_problem(&shape(3, 39, false)).unwrap_or_default();
            assert!(e.starts_with("max_samples = 40, but the smallest training part of the split has 39 rows"), "{e}");
            let spec = forest(kind, &[("criterion", ParamValue::Str("absolute_error".into()))]).unwrap();
            assert_eq!(spec.data_problem(&shape(3, 40, false)), None);
            let e = spec.data_problem(&shape(3, 40, true)).unwrap_or_default();
            assert!(e.starts_with("criterion absolute_error applies to regression"), "{e}");
            let spec = forest(kind, &[("criterion", ParamValue::Str("log_loss".into()))]).unwrap();
            let e = spec.data_problem(&shape(3, 40, false)).unwrap_or_default();
            assert!(e.starts_with("criterion log_loss applies to classification"), "{e}");
        }
        let tree = |c: &str| forest(ModelKind::DecisionTree, &[("criterion", ParamValue::Str(c.into()))]).unwrap();
        assert_eq!(tree("gini").data_problem(&shape(0, 0, false)), None, "a regression tree's default word");
        assert_eq!(tree("absolute_error").data_problem(&shape(3, 10, false)), None);
        let e = tree("absolute_error").data_problem(&shape(3, 10, true)).unwrap_or_default();
        assert!(e.starts_with("criterion absolute_error applies to regression"), "{e}");
    }
}
