//! `lasso`: an elastic net with l1_ratio 1.

use super::{elastic_net, saves_linear, values, Streamed, CD_ENGINE, SAVES_LINEAR};
use crate::spec::kinds::{POSITIVE, ITERATIONS, BOOL, CD_TOL, CD_PATH};
use crate::spec::value::{params, DefaultValue::*};
use crate::models::{elasticnet, FitError, Fitted, ModelState};
use crate::preprocess::FoldData;
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::ModelKind;
use crate::models::elasticnet::ElasticNetParams;

params! {
    /// `lasso`: an elastic net with l1_ratio 1.
    LassoParams {
        alpha: f64 = F(1.0), POSITIVE, "L1 strength";
        max_iter: usize = I(1000), ITERATIONS, "coordinate-descent sweeps";
        tol: f64 = F(1e-4), POSITIVE, CD_TOL;
        fit_intercept: bool = B(true), BOOL, "fit an unpenalised intercept";
        path: bool = B(true), BOOL, CD_PATH;
    }
}

impl From<&LassoParams> for ElasticNetParams {
    fn from(p: &LassoParams) -> Self {
        let LassoParams { alpha, max_iter, tol, fit_intercept, path } = *p;
        ElasticNetParams { alpha, l1_ratio: 1.0, max_iter, tol, fit_intercept, path }
    }
}

pub struct Kind;

impl super::Kind for Kind {
    type Params = LassoParams;
    const CATALOG: KindSpec = KindSpec {
        kind: ModelKind::Lasso,
        engine: CD_ENGINE,
        task: TaskSupport::Regression,
        summary: "min 1/(2n) ||y - Xw||^2 + alpha ||w||_1, as sklearn.linear_model.Lasso",
        groups: &[LassoParams::SPECS],
        defaults: &[],
        saves: SAVES_LINEAR,
    };

    fn fit(p: &LassoParams, data: &FoldData, _: &[String], _: u32) -> Result<Box<dyn Fitted>, FitError> {
        values(data, ModelKind::Lasso)?;
        Ok(Box::new(elasticnet::fit(&p.into(), data)?))
    }

    fn streamed(_: &LassoParams) -> Streamed<'_> {
        Streamed::Refused(elastic_net::NOT_STREAMED)
    }

    /// `Lasso`/`ElasticNet.fit(X, y, sample_weight)`: see `elasticnet::fit_path`.
    fn sample_weights(_: &LassoParams) -> bool {
        true
    }

    fn saves(state: &ModelState) -> bool {
        saves_linear(state)
    }

    fn path_axis(p: &mut LassoParams) -> Option<f64> {
        let at = p.path.then_some(-p.alpha);
        p.alpha = 0.0;
        at
    }

    fn fit_path(points: &[&LassoParams], data: &FoldData, _: &[String]) -> Option<Vec<Result<Box<dyn Fitted>, FitError>>> {
        values(data, ModelKind::Lasso).ok()?;
        let points: Vec<ElasticNetParams> = points.iter().map(|&p| p.into()).collect();
        Some(elastic_net::path(&points.iter().collect::<Vec<_>>(), data))
    }
}
