//! The small dense linear algebra the closed-form models need.

use ndarray::{s, Array1, Array2, ArrayView2, Axis};

/// `a`ᵀ in standard layout, copied in square tiles so that reads and writes both stay in cache
/// (`as_standard_layout` of a transposed view walks a whole row's stride for every value).
pub fn transposed(a: ArrayView2<f64>) -> Array2<f64> {
    const TILE: usize = 32;
    let (n, m) = a.dim();
    let Some(src) = a.as_slice() else { return a.t().as_standard_layout().into_owned() };
    let mut out = vec![0.0; n * m];
    for i0 in (0..n).step_by(TILE) {
        for j0 in (0..m).step_by(TILE) {
            for i in i0..(i0 + TILE).min(n) {
                for j in j0..(j0 + TILE).min(m) {
                    out[j * n + i] = src[i * m + j];
                }
            }
        }
    }
    Array2::from_shape_vec((m, n), out).expect("m × n values")
}

/// A compact singular value decomposition `x = u · diag(s) · vt`, largest value first.
pub struct Svd {
    pub u: Array2<f64>,
    pub s: Array1<f64>,
    pub vt: Array2<f64>,
}

/// The SVD of a finite, non-empty matrix: Householder QR, then one-sided Jacobi on R, which
/// is accurate to rounding in every singular value (linfa-linalg 0.2.1's Golub–Kahan lost
/// 1e-4 of the minimum-norm solution on a 5 × 20 matrix, found by the conformance suite).
pub fn svd(x: &Array2<f64>) -> Option<Svd> {
    if x.is_empty() || !x.iter().all(|v| v.is_finite()) {
        return None;
    }
    if x.nrows() < x.ncols() {
        // xᵀ = U S Vᵀ, so x = V S Uᵀ.
        let t = svd(&x.t().to_owned())?;
        return Some(Svd { u: t.vt.reversed_axes(), s: t.s, vt: t.u.reversed_axes() });
    }
    let (q, r) = householder_qr(x);
    let (ur, s, v) = jacobi(r);
    let mut order: Vec<usize> = (0..s.len()).collect();
    order.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
    let u = q.dot(&ur.select(Axis(1), &order));
    Some(Svd { u, s: s.select(Axis(0), &order), vt: v.select(Axis(1), &order).reversed_axes() })
}

/// Thin QR of a tall matrix by Householder reflections: `x = q r`, `q` m × k orthonormal.
fn householder_qr(x: &Array2<f64>) -> (Array2<f64>, Array2<f64>) {
    let (m, k) = x.dim();
    let mut a = x.to_owned();
    let mut reflectors = Vec::with_capacity(k);
    for j in 0..k {
        let mut v = a.slice(s![j.., j]).to_owned();
        let norm = v.dot(&v).sqrt();
        if norm == 0.0 {
            reflectors.push(None);
            continue;
        }
        v[0] += if v[0] >= 0.0 { norm } else { -norm };
        let vv = v.dot(&v);
        for c in j..k {
            let proj = 2.0 * v.dot(&a.slice(s![j.., c])) / vv;
            a.slice_mut(s![j.., c]).scaled_add(-proj, &v);
        }
        reflectors.push(Some((v, vv)));
    }
    let r = Array2::from_shape_fn((k, k), |(i, c)| if i <= c { a[[i, c]] } else { 0.0 });
    let mut q = Array2::<f64>::eye(m).slice(s![.., ..k]).to_owned();
    for (j, h) in reflectors.iter().enumerate().rev() {
        let Some((v, vv)) = h else { continue };
        for c in 0..k {
            let proj = 2.0 * v.dot(&q.slice(s![j.., c])) / vv;
            q.slice_mut(s![j.., c]).scaled_add(-proj, v);
        }
    }
    (q, r)
}

/// One-sided (Hestenes) Jacobi on a square matrix: rotate column pairs until all are
/// orthogonal; then `a = u · diag(s) · vᵀ` with `s` the column norms.
fn jacobi(mut a: Array2<f64>) -> (Array2<f64>, Array1<f64>, Array2<f64>) {
    let k = a.ncols();
    let mut v = Array2::<f64>::eye(k);
    for _sweep in 0..80 {
        let mut rotated = false;
        for i in 0..k {
            for j in i + 1..k {
                let (ci, cj) = (a.column(i), a.column(j));
                let (alpha, beta, gamma) = (ci.dot(&ci), cj.dot(&cj), ci.dot(&cj));
                if gamma == 0.0 || gamma.abs() <= f64::EPSILON * (alpha * beta).sqrt() {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let c = 1.0 / (1.0 + t * t).sqrt();
                rotate(&mut a, i, j, c, c * t);
                rotate(&mut v, i, j, c, c * t);
            }
        }
        if !rotated {
            break;
        }
    }
    let s = Array1::from_iter(a.columns().into_iter().map(|c| c.dot(&c).sqrt()));
    let mut u = a;
    for (mut col, &sv) in u.columns_mut().into_iter().zip(&s) {
        if sv > 0.0 {
            col /= sv;
        }
    }
    (u, s, v)
}

/// Columns i and j of `m` ← (c·mᵢ − s·mⱼ, s·mᵢ + c·mⱼ).
fn rotate(m: &mut Array2<f64>, i: usize, j: usize, c: f64, s: f64) {
    for r in 0..m.nrows() {
        let (x, y) = (m[[r, i]], m[[r, j]]);
        m[[r, i]] = c * x - s * y;
        m[[r, j]] = s * x + c * y;
    }
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
/// not positive definite (a singular system) or too ill-conditioned for 8 accurate digits.
pub fn cholesky_solve(a: &Array2<f64>, b: &Array1<f64>) -> Option<Array1<f64>> {
    let n = a.nrows();
    // L row-major in one slice: each inner product runs over two contiguous row prefixes
    // (the O(n³) part; indexing a 2-D array there cost 10× more), in the same order.
    let mut flat = vec![0.0f64; n * n];
    let minus_dot = |start: f64, x: &[f64], y: &[f64]| x.iter().zip(y).fold(start, |s, (p, q)| s - p * q);
    for j in 0..n {
        let (head, tail) = flat.split_at_mut((j + 1) * n);
        let row_j = &mut head[j * n..];
        let d = minus_dot(a[[j, j]], &row_j[..j], &row_j[..j]);
        // A pivot lost to rounding relative to its diagonal means the matrix is singular.
        if d <= a[[j, j]] * 16.0 * n as f64 * f64::EPSILON || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        row_j[j] = d;
        let row_j = &row_j[..j];
        for (i, row_i) in (j + 1..n).zip(tail.chunks_exact_mut(n)) {
            row_i[j] = minus_dot(a[[i, j]], &row_i[..j], row_j) / d;
        }
    }
    let l = Array2::from_shape_vec((n, n), flat).ok()?;
    // A condition number above ~1e8 (estimated by the squared ratio of L's diagonal) would
    // cost more than 8 digits: the caller solves by SVD instead.
    let (lo, hi) = (0..n).fold((f64::INFINITY, 0.0f64), |(lo, hi), j| (lo.min(l[[j, j]]), hi.max(l[[j, j]])));
    if n > 0 && (hi / lo).powi(2) > 1e8 {
        return None;
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
    fn transposes_any_shape_exactly() {
        for (n, m) in [(0, 3), (1, 1), (5, 3), (33, 70), (100, 31)] {
            let a = Array2::from_shape_fn((n, m), |(i, j)| (i * 1000 + j) as f64 + 0.5);
            assert_eq!(transposed(a.view()), a.t());
            assert_eq!(transposed(a.t()), a, "a view that is not in standard layout");
        }
    }

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
    fn wide_and_tall_decompositions_reconstruct_the_matrix() {
        let tall = Array2::from_shape_fn((7, 3), |(i, j)| ((i * 5 + j * 3) % 11) as f64 - 4.0 + j as f64);
        for x in [tall.clone(), tall.t().to_owned()] {
            let d = svd(&x).unwrap();
            let back = d.u.dot(&Array2::from_diag(&d.s)).dot(&d.vt);
            assert!((back - &x).iter().all(|e| e.abs() < 1e-12), "{x}");
        }
    }

    #[test]
    fn rejects_a_singular_system() {
        assert!(cholesky_solve(&array![[1.0, 1.0], [1.0, 1.0]], &array![1.0, 1.0]).is_none());
    }
}
