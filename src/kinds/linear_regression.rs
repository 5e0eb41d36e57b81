//! `linear_regression`: ordinary least squares, the minimum-norm solution by SVD.

use super::{saves_linear, values, Streamed, SAVES_LINEAR};
use crate::spec::kinds::{NON_NEGATIVE, BOOL};
use crate::spec::value::{params, DefaultValue::*};
use crate::models::{linear, FitError, Fitted, ModelState};
use crate::preprocess::FoldData;
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::ModelKind;
use crate::models::linear::OlsParams;

params! {
    impl OlsParams {
        tol: f64 = F(1e-6), NON_NEGATIVE, "singular values below tol x the largest count as zero (sklearn's tol, scipy's lstsq cond)";
        fit_intercept: bool = B(true), BOOL, "fit an unpenalised intercept";
    }
}

pub struct Kind;

impl super::Kind for Kind {
    type Params = OlsParams;
    const CATALOG: KindSpec = KindSpec {
        kind: ModelKind::LinearRegression,
        engine: "minimum-norm least squares by SVD (scipy's lstsq)",
        task: TaskSupport::Regression,
        summary: "min ||y - Xw||^2, the minimum-norm solution when X is rank deficient, as sklearn.linear_model.LinearRegression",
        groups: &[OlsParams::SPECS],
        defaults: &[],
        saves: SAVES_LINEAR,
    };

    fn fit(p: &OlsParams, data: &FoldData, _: &[String], _: u32) -> Result<Box<dyn Fitted>, FitError> {
        let y = values(data, ModelKind::LinearRegression)?;
        Ok(Box::new(linear::fit_ols(p, &data.train_x, y, data.train_w.as_deref())?))
    }

    fn streamed(p: &OlsParams) -> Streamed<'_> {
        Streamed::LeastSquares(p)
    }

    fn sample_weights(_: &OlsParams) -> bool {
        true
    }

    fn saves(state: &ModelState) -> bool {
        saves_linear(state)
    }
}
