//! `decision_tree`: CART, scikit-learn's best splitter step for step.

use crate::spec::{ParamValues, CCP_ALPHA, MAX_LEAF_NODES};
use crate::spec::CLASS_WEIGHT;
use super::Streamed;
use crate::spec::kinds::{NON_NEGATIVE, ITERATIONS, COUNT, MIN_WEIGHT_FRACTION, RANDOM_STATE, choice, Criterion, ClassWeight};
use crate::spec::value::{params, DefaultValue::*, ParamType};
use crate::models::{tree, FitError, Fitted, ModelState};
use crate::preprocess::{FoldData, FoldTargets};
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::ModelKind;
use crate::models::tree::TreeParams;

params! {
    impl TreeParams {
        max_depth: usize = I(0), COUNT, "deepest level; 0 = unlimited";
        min_samples_split: usize = I(2), ParamType::Int { min: 2, max: i64::MAX }, "rows a node needs to be split";
        min_samples_leaf: usize = I(1), ITERATIONS, "rows every leaf keeps";
        min_impurity_decrease: f64 = F(0.0), NON_NEGATIVE, "a split must lower the weighted impurity by at least this (scikit-learn's rule, up to EPSILON)";
        criterion: Criterion = S("gini"), choice::<Criterion>(), "split quality: gini or entropy for a classifier; squared_error (also what a regression tree does with gini or entropy) or absolute_error (leaves predict the weighted median) for a regressor";
        min_weight_fraction_leaf: f64 = F(0.0), ParamType::Float { min: 0.0, max: 0.5, min_exclusive: false }, MIN_WEIGHT_FRACTION;
        class_weight: ClassWeight = S("none"), CLASS_WEIGHT, "classifiers: balanced weighs each class by n / (k * its count), as sklearn's class_weight=\"balanced\"; or a table { label = weight }";
        max_leaf_nodes: usize = I(0), COUNT, MAX_LEAF_NODES;
        ccp_alpha: f64 = F(0.0), NON_NEGATIVE, CCP_ALPHA;
        random_state: u32 = I(0), RANDOM_STATE, "sklearn's random_state: the order features are tried in, which breaks ties between equal splits";
    }
}

pub struct Kind;

impl super::Kind for Kind {
    type Params = TreeParams;
    const CATALOG: KindSpec = KindSpec {
        kind: ModelKind::DecisionTree,
        engine: "runner's CART: scikit-learn's best splitter and depth-first builder, step for step",
        task: TaskSupport::Both,
        summary: "decision tree (classifier or regressor), equal to sklearn's DecisionTreeClassifier/Regressor with the same random_state; \
                  classifiers predict the class shares of their leaf",
        groups: &[TreeParams::SPECS],
        defaults: &[],
        saves: "a `tree`: its nodes (feature, threshold, children) and leaves (class shares or the mean value)",
    };

    fn read(values: &ParamValues) -> Result<TreeParams, String> {
        let p = TreeParams::read(values)?;
        crate::spec::check_max_leaf_nodes(p.max_leaf_nodes).map(|()| p)
    }

    fn fit(p: &TreeParams, data: &FoldData, classes: &[String], _: u32) -> Result<Box<dyn Fitted>, FitError> {
        match &data.train_y {
            FoldTargets::Regression(y) => tree::fit_regressor(p, &data.train_x, y, data.train_w.as_deref()),
            FoldTargets::Classes(y) => tree::fit_classifier(p, &data.train_x, y, classes, data.train_w.as_deref()),
        }
    }

    fn streamed(_: &TreeParams) -> Streamed<'_> {
        Streamed::Refused("tree growing sorts every column's training rows; use streaming = false")
    }

    /// A regression criterion on a classifier (a classifier's word on a regressor is the
    /// default, squared error, as `criterion`'s default is gini).
    fn data_problem(p: &TreeParams, shape: &super::DataShape) -> Option<String> {
        let regression_only = matches!(p.criterion, Criterion::SquaredError | Criterion::AbsoluteError);
        super::random_forest::criterion_problem(p.criterion.into(), regression_only, false, shape.classification)
    }

    fn sample_weights(_: &TreeParams) -> bool {
        true
    }

    fn saves(state: &ModelState) -> bool {
        matches!(state, ModelState::Tree { .. })
    }
}
