//! `elastic_net`: coordinate descent on the L1 + L2 penalised least squares, warm-started
//! along alpha.

use super::{saves_linear, values, Streamed, CD_ENGINE, SAVES_LINEAR};
use crate::spec::kinds::{POSITIVE, UNIT, ITERATIONS, BOOL, CD_TOL, CD_PATH};
use crate::spec::value::{params, DefaultValue::*};
use crate::models::{elasticnet, FitError, Fitted, ModelState};
use crate::preprocess::FoldData;
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::ModelKind;
use crate::models::elasticnet::ElasticNetParams;

params! {
    impl ElasticNetParams {
        alpha: f64 = F(1.0), POSITIVE, "penalty strength";
        l1_ratio: f64 = F(0.5), UNIT, "share of the L1 penalty";
        max_iter: usize = I(1000), ITERATIONS, "coordinate-descent sweeps";
        tol: f64 = F(1e-4), POSITIVE, CD_TOL;
        fit_intercept: bool = B(true), BOOL, "fit an unpenalised intercept";
        path: bool = B(true), BOOL, CD_PATH;
    }
}

pub struct Kind;

/// Coordinate descent's refusal, shared with `lasso`.
pub(super) const NOT_STREAMED: &str =
    "coordinate descent needs the training matrix in memory; use ridge, or streaming = false";

impl super::Kind for Kind {
    type Params = ElasticNetParams;
    const CATALOG: KindSpec = KindSpec {
        kind: ModelKind::ElasticNet,
        engine: CD_ENGINE,
        task: TaskSupport::Regression,
        summary: "min 1/(2n) ||y - Xw||^2 + alpha (l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||^2), as sklearn.linear_model.ElasticNet",
        groups: &[ElasticNetParams::SPECS],
        defaults: &[],
        saves: SAVES_LINEAR,
    };

    fn fit(p: &ElasticNetParams, data: &FoldData, _: &[String], _: u32) -> Result<Box<dyn Fitted>, FitError> {
        values(data, ModelKind::ElasticNet)?;
        Ok(Box::new(elasticnet::fit(p, data)?))
    }

    fn streamed(_: &ElasticNetParams) -> Streamed<'_> {
        Streamed::Refused(NOT_STREAMED)
    }

    /// `Lasso`/`ElasticNet.fit(X, y, sample_weight)`: see `elasticnet::fit_path`.
    fn sample_weights(_: &ElasticNetParams) -> bool {
        true
    }

    fn saves(state: &ModelState) -> bool {
        saves_linear(state)
    }

    fn path_axis(p: &mut ElasticNetParams) -> Option<f64> {
        let at = p.path.then_some(-p.alpha);
        p.alpha = 0.0;
        at
    }

    fn fit_path(
        points: &[&ElasticNetParams],
        data: &FoldData,
        _: &[String],
    ) -> Option<Vec<Result<Box<dyn Fitted>, FitError>>> {
        values(data, ModelKind::ElasticNet).ok()?;
        Some(path(points, data))
    }
}

/// The elastic-net path solver's models, boxed (`lasso`'s too).
pub(super) fn path(points: &[&ElasticNetParams], data: &FoldData) -> Vec<Result<Box<dyn Fitted>, FitError>> {
    let models = elasticnet::fit_path(points, data);
    models.into_iter().map(|m| m.map(|m| Box::new(m) as Box<dyn Fitted>)).collect()
}
