//! `ridge`: least squares with an L2 penalty, in closed form.

use super::{saves_linear, values, Streamed, SAVES_LINEAR};
use crate::spec::kinds::{NON_NEGATIVE, BOOL};
use crate::spec::value::{params, DefaultValue::*};
use crate::models::{linear, FitError, Fitted, ModelState};
use crate::preprocess::FoldData;
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::ModelKind;
use crate::models::linear::RidgeParams;

params! {
    impl RidgeParams {
        alpha: f64 = F(1.0), NON_NEGATIVE, "L2 strength";
        fit_intercept: bool = B(true), BOOL, "fit an unpenalised intercept";
    }
}

pub struct Kind;

impl super::Kind for Kind {
    type Params = RidgeParams;
    const CATALOG: KindSpec = KindSpec {
        kind: ModelKind::Ridge,
        engine: "closed form (Cholesky of the centred Gram matrix, the n × n dual when p > n; SVD when ill-conditioned)",
        task: TaskSupport::Regression,
        summary: "min ||y - Xw||^2 + alpha ||w||^2, as sklearn.linear_model.Ridge; alpha = 0 is minimum-norm least squares",
        groups: &[RidgeParams::SPECS],
        defaults: &[],
        saves: SAVES_LINEAR,
    };

    fn fit(p: &RidgeParams, data: &FoldData, _: &[String], _: u32) -> Result<Box<dyn Fitted>, FitError> {
        values(data, ModelKind::Ridge)?;
        Ok(Box::new(linear::fit_ridge(p, data)?))
    }

    fn streamed(p: &RidgeParams) -> Streamed<'_> {
        Streamed::Ridge(p)
    }

    fn sample_weights(_: &RidgeParams) -> bool {
        true
    }

    fn saves(state: &ModelState) -> bool {
        saves_linear(state)
    }
}
