//! The small dense linear algebra the closed-form models need.

use ndarray::{Array1, Array2};

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
    fn rejects_a_singular_system() {
        assert!(cholesky_solve(&array![[1.0, 1.0], [1.0, 1.0]], &array![1.0, 1.0]).is_none());
    }
}
