//! `decision_tree`: CART, scikit-learn's best splitter step for step.

use super::Streamed;
use crate::models::{tree, FitError, Fitted, ModelState};
use crate::preprocess::{FoldData, FoldTargets};
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::{ModelKind, ParamValues, TreeParams};

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
        TreeParams::read(values)
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

    fn sample_weights(_: &TreeParams) -> bool {
        true
    }

    fn saves(state: &ModelState) -> bool {
        matches!(state, ModelState::Tree { .. })
    }

    fn load(state: ModelState, width: usize, classes: usize) -> Result<Box<dyn Fitted>, String> {
        state.into_fitted(width, classes)
    }
}
