//! Ordinary least squares and ridge from a fold's streamed sums: the design-space Gram
//! matrix follows from the `u`-space sums by the fold's affine map, and the solve is the
//! in-memory ridge's own (`solve_ridge`), or a minimum-norm least-squares solve.

use super::super::stats::BlockStats;
use crate::models::linalg::svd;
use crate::models::{solve_ridge, FitError, FitNote, LinearModel};
use crate::preprocess::CenteredGram;
use ndarray::{Array1, Array2};

/// A fold's training sums in its design space: `z = A·u + o`, `u` accumulated shifted by
/// `shift_u`, the target by `shift_y`. Without an intercept the sums are not centred.
pub fn design_gram(
    train: &BlockStats,
    shift_u: &Array1<f64>,
    shift_y: f64,
    map: &(Array2<f64>, Array1<f64>),
    fit_intercept: bool,
) -> CenteredGram {
    let (a, o) = map;
    let n = train.n;
    let m = &train.sx / n;
    let ym = train.sy / n;
    let cu = &train.xx - &(outer(&m, &m) * n);
    let cuy = &train.xy - &(&m * (n * ym));
    let xtx = a.dot(&cu).dot(&a.t());
    let xty = a.dot(&cuy);
    let x_mean = a.dot(&(&m + shift_u)) + o;
    let y_mean = shift_y + ym;
    if fit_intercept {
        return CenteredGram { x_mean, y_mean, xtx, xty };
    }
    let xtx = xtx + outer(&x_mean, &x_mean) * n;
    let xty = xty + &x_mean * (n * y_mean);
    CenteredGram { x_mean: Array1::zeros(a.nrows()), y_mean: 0.0, xtx, xty }
}

/// Ridge from the statistics: Cholesky as in memory; when it fails, the eigenvalues of the
/// Gram matrix (scikit-learn's svd fallback, `s/(s² + α)` with `s² = λ`).
pub fn ridge(gram: &CenteredGram, alpha: f64) -> Result<LinearModel, FitError> {
    if alpha == 0.0 {
        return least_squares(gram, 1e-15 * gram.xtx.nrows().max(1) as f64);
    }
    solve_ridge(gram, alpha).or_else(|_| {
        let d = svd(&gram.xtx).ok_or_else(|| FitError::Singular("the eigenvalues of XᵀX failed".into()))?;
        let w = d.solve(&gram.xty, |l| if l > 1e-30 { 1.0 / (l + alpha) } else { 0.0 });
        let intercept = gram.y_mean - gram.x_mean.dot(&w);
        Ok(LinearModel { weights: w, intercept, notes: vec![FitNote::IllConditioned] })
    })
}

/// The minimum-norm least-squares solution from `XᵀX`, `Xᵀy`: the eigenvectors of `XᵀX`
/// (its singular vectors, by the same QR and one-sided Jacobi as the in-memory SVD) whose
/// eigenvalue exceeds `rcond²` of the largest, the in-memory rule on singular values
/// (`rcond` as lstsq's `cond`; at least 1e-7, below which `XᵀX` cannot tell a small
/// eigenvalue from rounding).
pub fn least_squares(gram: &CenteredGram, rcond: f64) -> Result<LinearModel, FitError> {
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

fn outer(a: &Array1<f64>, b: &Array1<f64>) -> Array2<f64> {
    Array2::from_shape_fn((a.len(), b.len()), |(i, j)| a[i] * b[j])
}
