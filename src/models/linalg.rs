//! The small dense linear algebra the closed-form models need.

use linfa_linalg::svd::{SvdSort, SVD};
use ndarray::{Array1, Array2};

/// A compact singular value decomposition `x = u · diag(s) · vt`, largest value first.
pub struct Svd {
    pub u: Array2<f64>,
    pub s: Array1<f64>,
    pub vt: Array2<f64>,
}

/// The SVD of a finite, non-empty matrix (linfa-linalg's Golub–Kahan); `None` otherwise.
pub fn svd(x: &Array2<f64>) -> Option<Svd> {
    // linfa-linalg's iteration has no cap, so never hand it a NaN.
    if x.is_empty() || !x.iter().all(|v| v.is_finite()) {
        return None;
    }
    let (u, s, vt) = x.svd(true, true).ok()?.sort_svd_desc();
    Some(Svd { u: u?, s, vt: vt? })
}

impl Svd {
    /// `Σᵢ f(sᵢ) vᵢ (uᵢ·y)`: with `f(s) = 1/s` above a cut-off the minimum-norm least-squares
    /// solution, with `f(s) = s/(s² + α)` ridge's.
    pub fn solve(&self, y: &Array1<f64>, f: impl Fn(f64) -> f64) -> Array1<f64> {
        let uty = self.u.t().dot(y);
        let d = Array1::from_iter(self.s.iter().zip(&uty).map(|(&s, &c)| f(s) * c));
        self.vt.t().dot(&d)
    }

    /// How many singular values exceed `rcond` times the largest (LAPACK gelsd's rank).
    pub fn rank(&self, rcond: f64) -> usize {
        let cut = rcond * self.s.first().copied().unwrap_or(0.0);
        self.s.iter().filter(|&&s| s > cut).count()
    }

    /// Columns that take part in a linear dependency: those with weight in a right singular
    /// vector beyond `rank`, or all of them when the matrix is wider than it is tall.
    pub fn dependent_columns(&self, rank: usize) -> Vec<usize> {
        let p = self.vt.ncols();
        let mut involved = vec![self.vt.nrows() < p; p];
        for v in self.vt.rows().into_iter().skip(rank) {
            for (j, &c) in v.iter().enumerate() {
                involved[j] |= c.abs() > 1e-8;
            }
        }
        (0..p).filter(|&j| involved[j]).collect()
    }
}

/// Solves `a x = b` for a symmetric positive-definite `a` by Cholesky; `None` when `a` is
/// not positive definite (a singular system).
pub fn cholesky_solve(a: &Array2<f64>, b: &Array1<f64>) -> Option<Array1<f64>> {
    let n = a.nrows();
    let mut l = Array2::<f64>::zeros((n, n));
    for j in 0..n {
        let mut d = a[[j, j]];
        for k in 0..j {
            d -= l[[j, k]] * l[[j, k]];
        }
        // A pivot lost to rounding relative to its diagonal means the matrix is singular.
        if d <= a[[j, j]] * 16.0 * n as f64 * f64::EPSILON || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        l[[j, j]] = d;
        for i in j + 1..n {
            let mut s = a[[i, j]];
            for k in 0..j {
                s -= l[[i, k]] * l[[j, k]];
            }
            l[[i, j]] = s / d;
        }
    }
    // Forward then back substitution.
    let mut z = Array1::<f64>::zeros(n);
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[[i, k]] * z[k];
        }
        z[i] = s / l[[i, i]];
    }
    let mut x = Array1::<f64>::zeros(n);
    for i in (0..n).rev() {
        let mut s = z[i];
        for k in i + 1..n {
            s -= l[[k, i]] * x[k];
        }
        x[i] = s / l[[i, i]];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn solves_a_positive_definite_system() {
        let a = array![[4.0, 2.0], [2.0, 3.0]];
        let x = cholesky_solve(&a, &array![2.0, 1.0]).unwrap();
        assert!((a.dot(&x) - array![2.0, 1.0]).iter().all(|e| e.abs() < 1e-12));
    }

    #[test]
    fn minimum_norm_solution_splits_weight_between_copies() {
        // Two equal columns: every w with w0 + w1 = 2 fits; the shortest is (1, 1).
        let x = array![[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]];
        let d = svd(&x).unwrap();
        let rank = d.rank(1e-12);
        assert_eq!(rank, 1);
        let w = d.solve(&array![2.0, 4.0, 6.0], |s| if s > 1e-12 * 3.0 { 1.0 / s } else { 0.0 });
        assert!((w[0] - 1.0).abs() < 1e-12 && (w[1] - 1.0).abs() < 1e-12, "{w}");
        assert_eq!(d.dependent_columns(rank), vec![0, 1]);
    }

    #[test]
    fn rejects_a_singular_system() {
        assert!(cholesky_solve(&array![[1.0, 1.0], [1.0, 1.0]], &array![1.0, 1.0]).is_none());
    }
}
