//! Ordinary least squares (linfa-linear) and ridge regression (closed form).

use super::linalg::cholesky_solve;
use super::{FitError, LinearModel};
use crate::models::catalog::Params;
use crate::preprocess::{centered_gram, CenteredGram, FoldData, Targets};
use linfa::traits::Fit;
use ndarray::{Array1, Array2};

pub fn fit_ols(params: &Params, x: &Array2<f64>, y: &Array1<f64>) -> Result<LinearModel, FitError> {
    let dataset = linfa::DatasetBase::new(x.view(), y.view());
    let model = linfa_linear::LinearRegression::new()
        .with_intercept(params.bool("fit_intercept"))
        .fit(&dataset)
        .map_err(|e| FitError::Singular(e.to_string()))?;
    Ok(LinearModel { weights: model.params().clone(), intercept: model.intercept() })
}

/// scikit-learn's Ridge with the Cholesky solver: centre X and y (so the intercept is not
/// penalised), solve `(XcᵀXc + αI) w = Xcᵀyc`, then `b = ȳ - x̄·w`. With an intercept, the
/// fold's shared centred Gram matrix is used, so a grid of alphas costs one pass over the data.
pub fn fit_ridge(params: &Params, data: &FoldData) -> Result<LinearModel, FitError> {
    let alpha = params.f64("alpha");
    let (x, Targets::Regression(y)) = (&data.train_x, &data.train_y) else {
        return Err(FitError::Solver("ridge needs a regression target".into()));
    };
    let own;
    let stats = match (params.bool("fit_intercept"), data.centered_gram()) {
        (true, Some(shared)) => shared,
        _ => {
            own = centered_gram(x, y, false);
            &own
        }
    };
    solve_ridge(stats, alpha)
}

/// The ridge solution from sufficient statistics.
pub fn solve_ridge(stats: &CenteredGram, alpha: f64) -> Result<LinearModel, FitError> {
    let mut gram = stats.xtx.clone();
    for i in 0..gram.nrows() {
        gram[[i, i]] += alpha;
    }
    let w = cholesky_solve(&gram, &stats.xty).ok_or_else(|| {
        FitError::Singular(format!("XᵀX + {alpha}·I is not positive definite (linearly dependent features?)"))
    })?;
    let intercept = stats.y_mean - stats.x_mean.dot(&w);
    Ok(LinearModel { weights: w, intercept })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Axis;

    /// The shared-statistics path equals the textbook path: centre, Gram, solve.
    #[test]
    fn ridge_from_shared_statistics_equals_the_direct_solution() {
        let n = 9000; // more than two Gram blocks
        let x = Array2::from_shape_fn((n, 3), |(i, j)| ((i * 7 + j * 3) % 23) as f64 + j as f64 * 100.0);
        let y = Array1::from_shape_fn(n, |i| (i % 17) as f64 * 0.5 + x[[i, 0]] - 0.1 * x[[i, 2]]);
        let stats = centered_gram(&x, &y, true);
        let shared = solve_ridge(&stats, 2.5).unwrap();
        let mean = x.mean_axis(Axis(0)).unwrap();
        let xc = &x - &mean;
        let yc = &y - y.mean().unwrap();
        let mut a = xc.t().dot(&xc);
        for i in 0..3 {
            a[[i, i]] += 2.5;
        }
        let w = cholesky_solve(&a, &xc.t().dot(&yc)).unwrap();
        for (p, q) in shared.weights.iter().zip(&w) {
            assert!((p - q).abs() <= 1e-12 * q.abs().max(1.0), "{p} vs {q}");
        }
        let b = y.mean().unwrap() - mean.dot(&w);
        assert!((shared.intercept - b).abs() <= 1e-12 * b.abs().max(1.0));
    }
}
