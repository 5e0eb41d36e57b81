//! Ordinary least squares (minimum-norm, by SVD) and ridge regression (closed form).

use super::linalg::{cholesky_solve, svd};
use super::{center, weighted_center, FitError, FitNote, LinearModel};
use crate::preprocess::{centered_gram, CenteredGram, FoldData, FoldTargets};

use ndarray::{Array1, Array2};

/// `linear_regression`.
/// Its catalog entries (defaults, ranges, help) are in the kind's file.
#[derive(Debug, Clone, PartialEq)]
pub struct OlsParams {
    pub tol: f64,
    pub fit_intercept: bool,
}

/// `ridge`.
/// Its catalog entries (defaults, ranges, help) are in the kind's file.
#[derive(Debug, Clone, PartialEq)]
pub struct RidgeParams {
    pub alpha: f64,
    pub fit_intercept: bool,
}

/// scikit-learn's LinearRegression: centre, then `scipy.linalg.lstsq` (gelsd), whose
/// singular values below `tol` times the largest count as zero. On a rank-deficient X
/// (one-hot with every level, copied columns, p > n) this is the minimum-norm solution,
/// and the model notes the rank. Sample weights `sw` centre on weighted means and rescale
/// the rows by their square roots, as scikit-learn's `fit(X, y, sample_weight)`.
pub fn fit_ols(
    params: &OlsParams,
    x: &Array2<f64>,
    y: &Array1<f64>,
    sw: Option<&[f64]>,
) -> Result<LinearModel, FitError> {
    let (xc, yc, x_mean, y_mean) = match sw {
        Some(w) => weighted_center(x, y, w, params.fit_intercept),
        None => center(x, y, params.fit_intercept),
    };
    least_squares(&xc, &yc, params.tol, &x_mean, y_mean)
}

/// The minimum-norm least-squares fit of centred data, with the intercept restored.
fn least_squares(
    xc: &Array2<f64>,
    yc: &Array1<f64>,
    rcond: f64,
    x_mean: &Array1<f64>,
    y_mean: f64,
) -> Result<LinearModel, FitError> {
    let p = xc.ncols();
    if p == 0 || xc.iter().all(|&v| v == 0.0) {
        return Ok(LinearModel { weights: Array1::zeros(p), intercept: y_mean, notes: Vec::new() });
    }
    let d = svd(xc).ok_or_else(|| FitError::Singular("the SVD of the training matrix failed".into()))?;
    let rank = d.rank(rcond);
    let cut = rcond * d.s[0];
    let w = d.solve(yc, |s| if s > cut { 1.0 / s } else { 0.0 });
    let notes = if rank < p {
        // numpy's matrix_rank: below max(n, p)·ε of the largest, a singular value is rounding.
        let exact = d.rank(f64::EPSILON * xc.nrows().max(p) as f64) < p;
        vec![FitNote::RankDeficient { rank, columns: p, dependent: d.dependent_columns(rank), exact }]
    } else {
        Vec::new()
    };
    let intercept = y_mean - x_mean.dot(&w);
    Ok(LinearModel { weights: w, intercept, notes })
}

/// scikit-learn's Ridge: centre X and y (so the intercept is not penalised), solve
/// `(XcᵀXc + αI) w = Xcᵀyc` by Cholesky, then `b = ȳ - x̄·w`. With an intercept the fold's
/// shared centred Gram matrix is used, so a grid of alphas costs one pass over the data.
/// When Cholesky fails (α lost in rounding), the SVD of Xc solves it, as scikit-learn falls
/// back to its svd solver. `alpha = 0` is ordinary least squares (minimum-norm).
pub fn fit_ridge(params: &RidgeParams, data: &FoldData) -> Result<LinearModel, FitError> {
    let RidgeParams { alpha, fit_intercept } = *params;
    let (x, FoldTargets::Regression(y)) = (&data.train_x, &data.train_y) else {
        return Err(FitError::Solver("ridge needs a regression target".into()));
    };
    if let Some(w) = &data.train_w {
        return weighted_ridge(x, y, w, alpha, fit_intercept);
    }
    if alpha == 0.0 {
        let (xc, yc, x_mean, y_mean) = center(x, y, fit_intercept);
        let rcond = f64::EPSILON * xc.nrows().max(xc.ncols()) as f64;
        return least_squares(&xc, &yc, rcond, &x_mean, y_mean);
    }
    if x.ncols() > x.nrows() {
        return ridge_dual(x, y, alpha, fit_intercept);
    }
    let own;
    let stats = match (fit_intercept, data.centered_gram()) {
        (true, Some(shared)) => shared,
        _ => {
            own = centered_gram(x, y, false);
            &own
        }
    };
    match solve_ridge(stats, alpha) {
        Ok(model) => Ok(model),
        Err(_) => ridge_by_svd(x, y, alpha, fit_intercept),
    }
}

/// Ridge with sample weights, as scikit-learn's `Ridge.fit(X, y, sample_weight)`: X and y
/// centred on their weighted means and rescaled by `sqrt(w)` (`weighted_center`), then the
/// unweighted solvers on those rows (minimum-norm least squares for alpha = 0, the dual when
/// p > n, Cholesky of the Gram matrix, the SVD when Cholesky fails), the intercept from the
/// weighted means. The fold's shared (unweighted) Gram matrix is not used.
fn weighted_ridge(
    x: &Array2<f64>,
    y: &Array1<f64>,
    w: &[f64],
    alpha: f64,
    fit_intercept: bool,
) -> Result<LinearModel, FitError> {
    let (xs, ys, x_mean, y_mean) = weighted_center(x, y, w, fit_intercept);
    let with_means = |m: LinearModel| {
        let intercept = y_mean - x_mean.dot(&m.weights);
        LinearModel { intercept, ..m }
    };
    if alpha == 0.0 {
        let rcond = f64::EPSILON * xs.nrows().max(xs.ncols()) as f64;
        return least_squares(&xs, &ys, rcond, &x_mean, y_mean);
    }
    if xs.ncols() > xs.nrows() {
        return ridge_dual(&xs, &ys, alpha, false).map(with_means);
    }
    match solve_ridge(&centered_gram(&xs, &ys, false), alpha) {
        Ok(model) => Ok(with_means(model)),
        Err(_) => ridge_by_svd(&xs, &ys, alpha, false).map(with_means),
    }
}

/// The ridge solution from sufficient statistics; `Err` when Cholesky fails.
pub fn solve_ridge(stats: &CenteredGram, alpha: f64) -> Result<LinearModel, FitError> {
    let mut gram = stats.xtx.clone();
    for i in 0..gram.nrows() {
        gram[[i, i]] += alpha;
    }
    let w = cholesky_solve(&gram, &stats.xty).ok_or_else(|| {
        FitError::Singular(format!("XᵀX + {alpha}·I is not positive definite (linearly dependent features?)"))
    })?;
    let intercept = stats.y_mean - stats.x_mean.dot(&w);
    Ok(LinearModel { weights: w, intercept, notes: Vec::new() })
}

/// Ridge with more columns than rows, in the dual (scikit-learn's `_solve_cholesky_kernel`):
/// `w = Xcᵀ (XcXcᵀ + αI)⁻¹ yc`, an n × n solve instead of a p × p one.
fn ridge_dual(x: &Array2<f64>, y: &Array1<f64>, alpha: f64, fit_intercept: bool) -> Result<LinearModel, FitError> {
    let (xc, yc, x_mean, y_mean) = center(x, y, fit_intercept);
    let mut kernel = xc.dot(&xc.t());
    for i in 0..kernel.nrows() {
        kernel[[i, i]] += alpha;
    }
    let Some(dual) = cholesky_solve(&kernel, &yc) else {
        return ridge_by_svd(x, y, alpha, fit_intercept);
    };
    let w = xc.t().dot(&dual);
    let intercept = y_mean - x_mean.dot(&w);
    Ok(LinearModel { weights: w, intercept, notes: Vec::new() })
}

/// scikit-learn's `_solve_svd`: `w = V diag(s/(s² + α)) Uᵀ yc`, singular values ≤ 1e-15 dropped.
pub fn ridge_by_svd(
    x: &Array2<f64>,
    y: &Array1<f64>,
    alpha: f64,
    fit_intercept: bool,
) -> Result<LinearModel, FitError> {
    let (xc, yc, x_mean, y_mean) = center(x, y, fit_intercept);
    let d = svd(&xc).ok_or_else(|| FitError::Singular("the SVD of the training matrix failed".into()))?;
    let w = d.solve(&yc, |s| if s > 1e-15 { s / (s * s + alpha) } else { 0.0 });
    let intercept = y_mean - x_mean.dot(&w);
    Ok(LinearModel { weights: w, intercept, notes: vec![FitNote::IllConditioned] })
}

/// Ridge from a part's sums (the streamed sweep): Cholesky as `fit_ridge`; when it fails, the eigenvalues of the
/// Gram matrix (scikit-learn's svd fallback, `s/(s² + α)` with `s² = λ`).
pub fn ridge_from_gram(gram: &CenteredGram, alpha: f64) -> Result<LinearModel, FitError> {
    if alpha == 0.0 {
        return least_squares_from_gram(gram, 1e-15 * gram.xtx.nrows().max(1) as f64);
    }
    solve_ridge(gram, alpha).or_else(|_| {
        let d = svd(&gram.xtx).ok_or_else(|| FitError::Singular("the eigenvalues of XᵀX failed".into()))?;
        let w = d.solve(&gram.xty, |l| if l > 1e-30 { 1.0 / (l + alpha) } else { 0.0 });
        let intercept = gram.y_mean - gram.x_mean.dot(&w);
        Ok(LinearModel { weights: w, intercept, notes: vec![FitNote::IllConditioned] })
    })
}

/// The minimum-norm least-squares solution from a part's sums `XᵀX`, `Xᵀy` (the streamed
/// sweep's OLS): the eigenvectors of `XᵀX`
/// (its singular vectors, by the same QR and one-sided Jacobi as the in-memory SVD) whose
/// eigenvalue exceeds `rcond²` of the largest, the in-memory rule on singular values
/// (`rcond` as lstsq's `cond`; at least 1e-7, below which `XᵀX` cannot tell a small
/// eigenvalue from rounding).
pub fn least_squares_from_gram(gram: &CenteredGram, rcond: f64) -> Result<LinearModel, FitError> {
    let p = gram.xtx.nrows();
    if p == 0 || gram.xtx.iter().all(|&v| v == 0.0) {
        return Ok(LinearModel { weights: Array1::zeros(p), intercept: gram.y_mean, notes: Vec::new() });
    }
    let e = svd(&gram.xtx).ok_or_else(|| FitError::Singular("the eigenvalues of XᵀX failed".into()))?;
    let cut = rcond.max(1e-7).powi(2) * e.s[0];
    let rank = e.s.iter().filter(|&&l| l > cut).count();
    let w = e.solve(&gram.xty, |l| if l > cut { 1.0 / l } else { 0.0 });
    let notes = if rank < p {
        // XᵀX cannot tell an eigenvalue below 1e-14 of the largest from rounding.
        let exact = e.s.iter().any(|&l| l <= 1e-14 * e.s[0]);
        vec![FitNote::RankDeficient { rank, columns: p, dependent: e.dependent_columns(rank), exact }]
    } else {
        Vec::new()
    };
    let intercept = gram.y_mean - gram.x_mean.dot(&w);
    Ok(LinearModel { weights: w, intercept, notes })
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
