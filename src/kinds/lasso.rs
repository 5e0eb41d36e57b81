//! `lasso`: an elastic net with l1_ratio 1.

use super::{elastic_net, saves_linear, values, Streamed, CD_ENGINE, SAVES_LINEAR};
use crate::models::{elasticnet, FitError, Fitted, ModelState};
use crate::preprocess::FoldData;
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::{ElasticNetParams, LassoParams, ModelKind, ParamValues};

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

    fn read(values: &ParamValues) -> Result<LassoParams, String> {
        LassoParams::read(values)
    }

    fn fit(p: &LassoParams, data: &FoldData, _: &[String], _: u32) -> Result<Box<dyn Fitted>, FitError> {
        values(data, ModelKind::Lasso)?;
        Ok(Box::new(elasticnet::fit(&p.into(), data)?))
    }

    fn streamed(_: &LassoParams) -> Streamed<'_> {
        Streamed::Refused(elastic_net::NOT_STREAMED)
    }

    fn saves(state: &ModelState) -> bool {
        saves_linear(state)
    }

    fn load(state: ModelState, width: usize, classes: usize) -> Result<Box<dyn Fitted>, String> {
        state.into_fitted(width, classes)
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
