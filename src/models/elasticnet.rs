//! Lasso and elastic net by linfa-elasticnet's coordinate descent, which minimises
//! scikit-learn's objective `1/(2n) ||y - Xw||² + α (ρ ||w||₁ + (1-ρ)/2 ||w||²)`.

use super::catalog::{ModelKind, Params};
use super::{FitError, LinearModel};
use linfa::traits::Fit;
use ndarray::{Array1, Array2};

pub fn fit(kind: ModelKind, params: &Params, x: &Array2<f64>, y: &Array1<f64>) -> Result<LinearModel, FitError> {
    let l1_ratio = if kind == ModelKind::Lasso { 1.0 } else { params.f64("l1_ratio") };
    let max_iter = u32::try_from(params.usize("max_iter")).unwrap_or(u32::MAX);
    let dataset = linfa::DatasetBase::new(x.view(), y.view());
    let model = linfa_elasticnet::ElasticNet::params()
        .penalty(params.f64("alpha"))
        .l1_ratio(l1_ratio)
        .with_intercept(params.bool("fit_intercept"))
        .max_iterations(max_iter)
        .tolerance(params.f64("tol"))
        .fit(&dataset)
        .map_err(|e| FitError::Solver(format!("coordinate descent failed: {e}")))?;
    Ok(LinearModel { weights: model.hyperplane().clone(), intercept: model.intercept() })
}
