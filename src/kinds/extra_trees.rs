//! `extra_trees`: extremely randomized trees (scikit-learn's ExtraTreesClassifier/Regressor),
//! `random_forest`'s forest with the random splitter and no bootstrap by default.

use super::{random_forest, Streamed};
use crate::models::{tree, FitError, Fitted, ModelState};
use crate::preprocess::FoldData;
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::value::DefaultValue;
use crate::spec::{ModelKind, ParamValues};
use crate::models::forest::ForestParams;

pub struct Kind;

impl super::Kind for Kind {
    type Params = ForestParams;
    const CATALOG: KindSpec = KindSpec {
        kind: ModelKind::ExtraTrees,
        engine: random_forest::ENGINE,
        task: TaskSupport::Both,
        summary: "extremely randomized trees (classifier or regressor), equal to sklearn's ExtraTreesClassifier/Regressor: \
                  one threshold drawn per feature as sklearn's RandomSplitter draws it; no bootstrap by default",
        groups: &[ForestParams::SPECS],
        defaults: &[("bootstrap", DefaultValue::B(false))],
        saves: random_forest::SAVES,
    };

    fn read(values: &ParamValues) -> Result<ForestParams, String> {
        random_forest::read(values)
    }

    fn fit(p: &ForestParams, data: &FoldData, classes: &[String], _: u32) -> Result<Box<dyn Fitted>, FitError> {
        random_forest::fit(p, tree::Splitter::Random, data, classes)
    }

    fn streamed(_: &ForestParams) -> Streamed<'_> {
        Streamed::Refused(random_forest::NOT_STREAMED)
    }

    fn sample_weights(_: &ForestParams) -> bool {
        true
    }

    fn saves(state: &ModelState) -> bool {
        random_forest::saves(state)
    }

    fn data_problem(p: &ForestParams, shape: &super::DataShape) -> Option<String> {
        random_forest::data_problem(p, shape)
    }
}
