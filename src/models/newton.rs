//! Newton's method with a Cholesky solve for binary logistic regression, as scikit-learn's
//! `newton-cholesky` solver: a damped Newton step on the Hessian `XᵀDX / n + l2` (a weighted
//! Gram matrix, by blocks of rows and matrix products). With many more rows than columns it
//! needs a handful of passes where L-BFGS needs dozens. A pass with the Hessian costs about two
//! gradient passes at 50 columns (measured), so it is kept while steps keep converging fast
//! (see `KEEP`) and handed along a warm-started path of C values. It is only a
//! preconditioner (the f64 gradient decides convergence), so each block's product is taken
//! in f32, twice as fast, and the blocks are summed in f64 in order.

use super::linalg::cholesky_solve;
use super::loss::dot;
use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array1, Array2};
use rayon::prelude::*;

/// A Hessian is kept while each step divides the largest gradient component by 1 / KEEP or
/// more. 0.15 took the fewest pass-equivalents along the benchmark's C paths on both data sets
/// (BENCHMARKS.md, issue #27); 0.25 kept stale Hessians through 5 to 7 slow steps per C.
const KEEP: f64 = 0.15;

/// Rows per parallel block; blocks are summed in order, so results never depend on threads.
const BLOCK: usize = 4096;

pub struct Newton {
    /// `(w, b)`; `b` is 0 without an intercept.
    pub theta: Vec<f64>,
    /// The last pass's data sums, at `theta`: the next point of a path starts there.
    pub last: DataPass,
    /// The data part of the last Hessian used (`XᵀDX / n`, no penalty), for the next point
    /// of a path.
    pub hessian: Array2<f64>,
    pub iterations: usize,
    /// The largest gradient component at `theta`.
    pub gradient: f64,
    pub converged: bool,
}

/// Where the rows come from: sums over every training row of the log-loss, its gradient and
/// (when asked) the weighted Gram matrix `XᵀDX` over `(w, b)`, each row times its sample
/// weight, and the rows' total weight (their count without sample weights). A matrix in
/// memory, or a pass over a streamed file.
pub trait LogLossSource: Sync {
    fn sums(&self, theta: &[f64], hessian: bool) -> LogLossSums;
}

/// Sums over rows: (Σ loss, Σ gradient, Σ weighted Gram when asked, Σ row weights).
pub type LogLossSums = (f64, Array1<f64>, Option<Array2<f64>>, f64);

/// A pass's data sums at `theta` (Σ loss, Σ gradient, Σ row weights: no penalty, no
/// division). Only the penalty depends on C, so a path's next point, which starts at the
/// previous point's solution over the same rows, takes its first pass from here: the same
/// bits, one pass fewer per point.
#[derive(Debug, Clone)]
pub struct DataPass {
    theta: Vec<f64>,
    loss: f64,
    grad: Array1<f64>,
    total: f64,
}

impl DataPass {
    /// What the sums are divided by: one over the rows' total weight.
    fn inv(&self) -> f64 {
        if self.total > 0.0 {
            1.0 / self.total
        } else {
            1.0
        }
    }
}

/// A training matrix, its 0/1 targets and its rows' sample weights (1 when `None`).
pub struct Matrix<'a> {
    pub x: &'a Array2<f64>,
    pub y: &'a [f64],
    pub sw: Option<&'a [f64]>,
}

impl LogLossSource for Matrix<'_> {
    fn sums(&self, theta: &[f64], hessian: bool) -> LogLossSums {
        let n = self.x.nrows();
        let rows: Vec<usize> = (0..n).collect();
        let (loss, grad, gram) = block_sums((self.x, self.y, self.sw), &rows, theta, hessian);
        let total = self.sw.map_or(n as f64, |w| w.iter().sum());
        (loss, grad, gram, total)
    }
}

/// The sums over `rows` of `x` (targets `y`, sample weights `sw`): blocks of `BLOCK` rows in
/// parallel, added in order.
pub fn block_sums(
    (x, y, sw): (&Array2<f64>, &[f64], Option<&[f64]>),
    rows: &[usize],
    theta: &[f64],
    hessian: bool,
) -> (f64, Array1<f64>, Option<Array2<f64>>) {
    let d = x.ncols();
    // Rows as slices: the dot product and the gradient's update vectorise.
    let x = x.as_standard_layout();
    let cells = x.as_slice().unwrap_or_default();
    let (w, b) = theta.split_at(d);
    let blocks: Vec<(f64, Vec<f64>, Array2<f64>)> = rows
        .par_chunks(BLOCK)
        .map(|rows| {
            let mut weighted = Array2::<f32>::zeros((if hessian { rows.len() } else { 0 }, d + 1));
            let mut grad = vec![0.0; d + 1];
            let mut loss = 0.0;
            for (i, &r) in rows.iter().enumerate() {
                let xi = &cells[r * d..(r + 1) * d];
                let z = b[0] + dot(xi, w);
                let (l, p) = log_loss(z, y[r]);
                let s = sw.map_or(1.0, |w| w[r]);
                loss += if sw.is_some() { s * l } else { l };
                let dz = if sw.is_some() { s * (p - y[r]) } else { p - y[r] };
                for (g, v) in grad[..d].iter_mut().zip(xi) {
                    *g += dz * v;
                }
                grad[d] += dz;
                if hessian {
                    let h = (s * p * (1.0 - p)).sqrt();
                    let mut row = weighted.row_mut(i);
                    for (o, v) in row.iter_mut().zip(xi) {
                        *o = (h * v) as f32;
                    }
                    row[d] = h as f32;
                }
            }
            (loss, grad, upper_gram(&weighted))
        })
        .collect();
    let mut total = (0.0, Array1::zeros(d + 1), Array2::zeros((d + 1, d + 1)));
    for (l, g, h) in blocks {
        total.0 += l;
        total.1 += &Array1::from(g);
        total.2 += &h;
    }
    (total.0, total.1, hessian.then_some(total.2))
}

/// `WᵀW` in f64 from the upper triangle of blocks (`W₁ᵀ[W₁ W₂]` and `W₂ᵀW₂` over the two
/// halves of the columns: three quarters of the multiply-adds of the full product, the same
/// sums in the same order), mirrored.
fn upper_gram(weighted: &Array2<f32>) -> Array2<f64> {
    let k = weighted.ncols();
    let mut gram = Array2::<f32>::zeros((k, k));
    for (from, to) in [(0, k / 2), (k / 2, k)] {
        let left = weighted.slice(s![.., from..to]);
        let right = weighted.slice(s![.., from..]);
        general_mat_mul(1.0, &left.t(), &right, 0.0, &mut gram.slice_mut(s![from..to, from..]));
    }
    for i in 0..k {
        for j in 0..i {
            gram[[i, j]] = gram[[j, i]];
        }
    }
    gram.mapv(f64::from)
}

/// The problem: mean log-loss of `x·w + b` against 0/1 targets `y` over `d` features, plus
/// `l2/2 ||w||²`.
pub struct NewtonProblem<'a> {
    pub rows: &'a dyn LogLossSource,
    pub d: usize,
    pub l2: f64,
    pub fit_intercept: bool,
}

impl NewtonProblem<'_> {
    /// One pass at `theta`: its data sums, and the data part of the Hessian over `(w, b)`
    /// (divided by the total) when `hessian` is asked for.
    fn pass(&self, theta: &[f64], hessian: bool) -> (DataPass, Option<Array2<f64>>) {
        let (loss, grad, gram, total) = self.rows.sums(theta, hessian);
        let data = DataPass { theta: theta.to_vec(), loss, grad, total };
        let gram = gram.map(|h| h * data.inv());
        (data, gram)
    }

    /// The mean loss and its gradient at a pass's `theta`, penalty included.
    fn objective(&self, data: &DataPass) -> (f64, Array1<f64>) {
        let (d, theta) = (self.d, &data.theta);
        let inv = data.inv();
        let (mut loss, mut grad) = (data.loss * inv, &data.grad * inv);
        for j in 0..d {
            loss += 0.5 * self.l2 * theta[j] * theta[j];
            grad[j] += self.l2 * theta[j];
        }
        (loss, grad)
    }

    /// Newton iterations from `start` until the largest gradient component is at most
    /// `tol`; `hessian` is a previous data Hessian to start with, `first` a pass already made
    /// (taken when it is at `start`). `None` when the Hessian cannot be factored or no step
    /// helps (the caller takes L-BFGS).
    pub fn minimize(
        &self,
        start: Vec<f64>,
        (hessian, first): (Option<Array2<f64>>, Option<DataPass>),
        tol: f64,
        max_iter: usize,
    ) -> Option<Newton> {
        let d = self.d;
        let free = if self.fit_intercept { d + 1 } else { d };
        let mut hessian = hessian;
        let mut data = match first.filter(|p| p.theta == start) {
            Some(p) => p,
            None => self.pass(&start, false).0,
        };
        let (mut loss, mut grad) = self.objective(&data);
        let mut previous_gmax = f64::INFINITY;
        for iteration in 0..=max_iter {
            let g = grad.slice(s![..free]).to_owned();
            let gmax = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            if gmax <= tol || iteration == max_iter {
                let hessian = match hessian {
                    Some(h) => h,
                    None => self.pass(&data.theta, true).1?,
                };
                let (theta, converged) = (data.theta.clone(), gmax <= tol);
                return Some(Newton { theta, last: data, hessian, iterations: iteration, gradient: gmax, converged });
            }
            // A fresh Hessian when there is none or the last step converged slowly.
            if hessian.is_none() || gmax > KEEP * previous_gmax {
                hessian = self.pass(&data.theta, true).1;
            }
            previous_gmax = gmax;
            let mut h = hessian.as_ref()?.slice(s![..free, ..free]).to_owned();
            for j in 0..d {
                h[[j, j]] += self.l2;
            }
            let step = cholesky_solve(&h, &(-&g))?;
            (data, loss, grad) = self.line_search(&data.theta, &step, loss, g.dot(&step))?;
        }
        None
    }

    /// Backtracking (Armijo) along `step`, each trial one pass that also gives the gradient
    /// the next iteration needs. Near the optimum a step that keeps the loss level to
    /// rounding is taken too, and the gradient test decides. `None` when no step helps.
    fn line_search(
        &self,
        theta: &[f64],
        step: &Array1<f64>,
        loss: f64,
        slope: f64,
    ) -> Option<(DataPass, f64, Array1<f64>)> {
        let mut t = 1.0;
        while t >= 1e-10 {
            let trial: Vec<f64> =
                theta.iter().enumerate().map(|(j, &v)| if j < step.len() { v + t * step[j] } else { v }).collect();
            let data = self.pass(&trial, false).0;
            let (f, grad) = self.objective(&data);
            if f <= loss + 1e-4 * t * slope || f <= loss + 1e-13 * loss.abs() {
                return Some((data, f, grad));
            }
            t *= 0.5;
        }
        None
    }
}

/// `log(1 + e^z) - y z` and `σ(z)`, without overflow.
fn log_loss(z: f64, y: f64) -> (f64, f64) {
    let e = (-z.abs()).exp();
    let p = if z >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
    (z.max(0.0) + e.ln_1p() - y * z, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: usize, cols: usize) -> Array2<f64> {
        let mut v = 0.3f64;
        Array2::from_shape_fn((rows, cols), |_| {
            v = (v * 7.3 + 0.37) % 1.0;
            v - 0.5
        })
    }

    #[test]
    fn the_upper_triangle_gives_the_full_products_sums_bit_for_bit() {
        for cols in [1, 2, 7, 51] {
            let w = matrix(300, cols).mapv(|v| v as f32);
            assert_eq!(upper_gram(&w), w.t().dot(&w).mapv(f64::from), "{cols} columns");
        }
    }

    /// A source that counts its passes.
    struct Counted<'a>(Matrix<'a>, std::sync::atomic::AtomicUsize);

    impl LogLossSource for Counted<'_> {
        fn sums(&self, theta: &[f64], hessian: bool) -> LogLossSums {
            self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.0.sums(theta, hessian)
        }
    }

    #[test]
    fn a_path_point_takes_the_previous_points_last_pass_and_ends_where_a_fresh_pass_would() {
        let x = matrix(3000, 5);
        let y: Vec<f64> = x
            .rows()
            .into_iter()
            .enumerate()
            .map(|(i, r)| (r[0] + r[1] + (i % 7) as f64 / 7.0 > 0.4) as u8 as f64)
            .collect();
        let rows = Counted(Matrix { x: &x, y: &y, sw: None }, 0.into());
        let passes = || rows.1.load(std::sync::atomic::Ordering::Relaxed);
        let at = |c: f64| NewtonProblem { rows: &rows, d: 5, l2: 1.0 / (c * 3000.0), fit_intercept: true };
        let first = at(0.1).minimize(vec![0.0; 6], (None, None), 1e-10, 100).unwrap();
        let hessian = || Some(first.hessian.clone());
        let before = passes();
        let carried = at(1.0).minimize(first.theta.clone(), (hessian(), Some(first.last.clone())), 1e-10, 100).unwrap();
        let (with, before) = (passes() - before, passes());
        let fresh = at(1.0).minimize(first.theta.clone(), (hessian(), None), 1e-10, 100).unwrap();
        assert_eq!((carried.theta, carried.iterations), (fresh.theta, fresh.iterations));
        assert_eq!(with + 1, passes() - before);
        // A pass at another point is not taken.
        let before = passes();
        at(1.0).minimize(vec![0.0; 6], (hessian(), Some(first.last.clone())), 1e-10, 100).unwrap();
        let (elsewhere, before) = (passes() - before, passes());
        at(1.0).minimize(vec![0.0; 6], (hessian(), None), 1e-10, 100).unwrap();
        assert_eq!(elsewhere, passes() - before);
    }

    #[test]
    fn block_sums_read_any_memory_layout_alike() {
        let x = matrix(5000, 6);
        let columns = x.t().as_standard_layout().into_owned();
        let x_f = columns.t().to_owned();
        assert!(x_f.as_slice().is_none());
        let y: Vec<f64> = (0..5000).map(|i| (i % 3 == 0) as u8 as f64).collect();
        let rows: Vec<usize> = (0..5000).rev().step_by(2).collect();
        let theta = [0.1, -0.2, 0.3, 0.0, 0.5, -0.1, 0.2];
        let a = block_sums((&x, &y, None), &rows, &theta, true);
        let b = block_sums((&x_f, &y, None), &rows, &theta, true);
        assert_eq!((a.0, &a.1, &a.2), (b.0, &b.1, &b.2));
    }
}
