//! Ordinary least squares (linfa-linear) and ridge regression (closed form).

use super::linalg::cholesky_solve;
use super::{FitError, LinearModel};
use crate::models::catalog::Params;
use linfa::traits::Fit;
use ndarray::{Array1, Array2, Axis};

pub fn fit_ols(params: &Params, x: &Array2<f64>, y: &Array1<f64>) -> Result<LinearModel, FitError> {
    let dataset = linfa::DatasetBase::new(x.view(), y.view());
    let model = linfa_linear::LinearRegression::new()
        .with_intercept(params.bool("fit_intercept"))
        .fit(&dataset)
        .map_err(|e| FitError::Singular(e.to_string()))?;
    Ok(LinearModel { weights: model.params().clone(), intercept: model.intercept() })
}

/// scikit-learn's Ridge with the Cholesky solver: centre X and y (so the intercept is not
/// penalised), solve `(XcᵀXc + αI) w = Xcᵀyc`, then `b = ȳ - x̄·w`.
pub fn fit_ridge(params: &Params, x: &Array2<f64>, y: &Array1<f64>) -> Result<LinearModel, FitError> {
    let alpha = params.f64("alpha");
    let fit_intercept = params.bool("fit_intercept");
    let (x_mean, y_mean) = if fit_intercept {
        (x.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(x.ncols())), y.mean().unwrap_or(0.0))
    } else {
        (Array1::zeros(x.ncols()), 0.0)
    };
    let xc = x - &x_mean;
    let yc = y - y_mean;
    let mut gram = xc.t().dot(&xc);
    for i in 0..gram.nrows() {
        gram[[i, i]] += alpha;
    }
    let xty = xc.t().dot(&yc);
    let w = cholesky_solve(&gram, &xty).ok_or_else(|| {
        FitError::Singular(format!("XᵀX + {alpha}·I is not positive definite (linearly dependent features?)"))
    })?;
    let intercept = if fit_intercept { y_mean - x_mean.dot(&w) } else { 0.0 };
    Ok(LinearModel { weights: w, intercept })
}
