//! Losses for the gradient-descent trainers, and the fused pass that computes a batch's loss
//! and gradient in one read of its rows. Rows are split into fixed blocks whose partial sums
//! are added in block order, so the result does not depend on the number of threads.

use ndarray::{Array2, ArrayView1};
use rayon::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Loss {
    /// Mean squared error, `mean (z - y)²`.
    Mse,
    /// Mean absolute error, with subgradient 0 at the kink.
    Mae,
    /// Huber with threshold `delta`: quadratic `½r²` inside, linear outside.
    Huber(f64),
    /// Binary cross-entropy of `σ(z)` against `y ∈ {0, 1}`.
    LogLoss,
    /// Multinomial cross-entropy of `softmax(z)` against a class index.
    Softmax,
}

/// A model's parameters: one weight row and intercept per output (one output except softmax).
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// outputs × features
    pub w: Array2<f64>,
    pub b: Vec<f64>,
}

impl Weights {
    pub fn zeros(outputs: usize, features: usize) -> Self {
        Weights { w: Array2::zeros((outputs, features)), b: vec![0.0; outputs] }
    }

    pub fn outputs(&self) -> usize {
        self.b.len()
    }
}

/// The per-row loss and its derivative with respect to each output `z_k`.
/// `target` is the regression value, or the class index as f64.
pub(crate) fn row_loss(loss: Loss, z: &[f64], target: f64, dz: &mut [f64]) -> f64 {
    match loss {
        Loss::Mse => {
            let r = z[0] - target;
            dz[0] = 2.0 * r;
            r * r
        }
        Loss::Mae => {
            let r = z[0] - target;
            dz[0] = if r > 0.0 {
                1.0
            } else if r < 0.0 {
                -1.0
            } else {
                0.0
            };
            r.abs()
        }
        Loss::Huber(delta) => {
            let r = z[0] - target;
            if r.abs() <= delta {
                dz[0] = r;
                0.5 * r * r
            } else {
                dz[0] = delta * r.signum();
                delta * (r.abs() - 0.5 * delta)
            }
        }
        Loss::LogLoss => {
            let z0 = z[0];
            // log(1 + e^z) - y z without overflow, from one exponential e^-|z|.
            let e = (-z0.abs()).exp();
            let softplus = z0.max(0.0) + e.ln_1p();
            let p = if z0 >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
            dz[0] = p - target;
            softplus - target * z0
        }
        Loss::Softmax => {
            let m = z.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            let mut sum = 0.0;
            for (d, &zk) in dz.iter_mut().zip(z) {
                *d = (zk - m).exp();
                sum += *d;
            }
            let class = target as usize;
            for d in dz.iter_mut() {
                *d /= sum;
            }
            dz[class] -= 1.0;
            m + sum.ln() - z[class]
        }
    }
}

const BLOCK_ROWS: usize = 1024;

/// Mean loss and gradient over `rows` of `x` (all rows when `None`), in one pass; with
/// sample weights `sw` (by row of `x`), the weighted mean `Σ sᵢ lossᵢ / Σ sᵢ`, as
/// scikit-learn's `LinearModelLoss` takes it. Returns `(loss, grad)` with `grad` shaped like
/// `weights`. No penalty included.
pub fn loss_and_gradient(
    loss: Loss,
    x: &Array2<f64>,
    y: &[f64],
    rows: Option<&[usize]>,
    sw: Option<&[f64]>,
    weights: &Weights,
) -> (f64, Weights) {
    let mut sums = BlockedSums::new(weights.outputs(), x.ncols());
    match rows {
        Some(rows) => sums.add_weighted(loss, x, y, rows, sw, weights),
        None => sums.add_weighted(loss, x, y, &(0..x.nrows()).collect::<Vec<_>>(), sw, weights),
    }
    sums.mean()
}

/// One block's (summed loss, summed gradient, summed row weight), open to more rows.
type Block = (f64, Weights, f64);

/// The sums of `loss_and_gradient` over rows that may arrive in pieces (a stream's
/// batches): the rows are cut into blocks of `BLOCK_ROWS` in arrival order whatever the
/// pieces, each block summed row by row, the blocks added in order. A stream's training
/// rows thus give the in-memory matrix's sums bit for bit.
pub struct BlockedSums {
    outputs: usize,
    features: usize,
    /// The full blocks so far, added in order.
    done: Option<Block>,
    /// The last block, and its rows so far.
    open: Option<(Block, usize)>,
}

impl BlockedSums {
    pub fn new(outputs: usize, features: usize) -> Self {
        BlockedSums { outputs, features, done: None, open: None }
    }

    fn zero(&self) -> Block {
        (0.0, Weights::zeros(self.outputs, self.features), 0.0)
    }

    /// Adds `rows` of `x` (targets `y`), in order.
    pub fn add(&mut self, loss: Loss, x: &Array2<f64>, y: &[f64], rows: &[usize], weights: &Weights) {
        self.add_weighted(loss, x, y, rows, None, weights);
    }

    /// `add`, each row's loss and gradient times its sample weight in `sw` (by row of `x`).
    pub fn add_weighted(
        &mut self,
        loss: Loss,
        x: &Array2<f64>,
        y: &[f64],
        rows: &[usize],
        sw: Option<&[f64]>,
        weights: &Weights,
    ) {
        let (mut block, filled) = self.open.take().unwrap_or_else(|| (self.zero(), 0));
        let head = rows.len().min(BLOCK_ROWS - filled);
        add_rows(loss, (x, y, sw), &rows[..head], weights, &mut block);
        if filled + head < BLOCK_ROWS {
            self.open = Some((block, filled + head));
            return;
        }
        self.push(block);
        let rest = &rows[head..];
        let full = rest.len() / BLOCK_ROWS * BLOCK_ROWS;
        let blocks: Vec<Block> = rest[..full]
            .par_chunks(BLOCK_ROWS)
            .map(|chunk| {
                let mut block = self.zero();
                add_rows(loss, (x, y, sw), chunk, weights, &mut block);
                block
            })
            .collect();
        blocks.into_iter().for_each(|b| self.push(b));
        if full < rest.len() {
            let mut block = self.zero();
            add_rows(loss, (x, y, sw), &rest[full..], weights, &mut block);
            self.open = Some((block, rest.len() - full));
        }
    }

    fn push(&mut self, (t, g, s): Block) {
        match self.done.as_mut() {
            None => self.done = Some((t, g, s)),
            Some((total, grad, weight)) => {
                *total += t;
                *weight += s;
                grad.w += &g.w;
                for (a, b) in grad.b.iter_mut().zip(&g.b) {
                    *a += b;
                }
            }
        }
    }

    /// The mean loss and gradient over the rows added (weighted by their sample weights).
    pub fn mean(mut self) -> (f64, Weights) {
        if let Some((block, _)) = self.open.take() {
            self.push(block);
        }
        let (total, mut grad, weight) = self.done.take().unwrap_or_else(|| self.zero());
        let inv = if weight > 0.0 { 1.0 / weight } else { 1.0 };
        grad.w *= inv;
        for b in &mut grad.b {
            *b *= inv;
        }
        (total * inv, grad)
    }
}

/// A training matrix, its targets and its rows' sample weights (1 when `None`).
type Rows<'a> = (&'a Array2<f64>, &'a [f64], Option<&'a [f64]>);

/// Adds the loss and gradient of `rows`, one after the other, each times its sample weight,
/// to `block`.
fn add_rows(loss: Loss, (x, y, sw): Rows<'_>, rows: &[usize], weights: &Weights, block: &mut Block) {
    let outputs = weights.outputs();
    let (total, g, weight) = block;
    let mut z = vec![0.0; outputs];
    let mut dz = vec![0.0; outputs];
    for &i in rows {
        let xi: ArrayView1<f64> = x.row(i);
        let xi = xi.as_slice().unwrap_or(&[]);
        for (o, zo) in z.iter_mut().enumerate() {
            let wo = weights.w.row(o);
            *zo = weights.b[o] + dot(xi, wo.as_slice().unwrap_or(&[]));
        }
        let s = sw.map_or(1.0, |w| w[i]);
        *weight += s;
        let row = row_loss(loss, &z, y[i], &mut dz);
        if sw.is_some() {
            dz.iter_mut().for_each(|d| *d *= s);
        }
        *total += if sw.is_some() { s * row } else { row };
        for (o, &d) in dz.iter().enumerate() {
            let mut go = g.w.row_mut(o);
            axpy(d, xi, go.as_slice_mut().unwrap_or(&mut []));
            g.b[o] += d;
        }
    }
}

/// Mean loss over `rows` without the gradient (weighted by `sw` when given).
pub fn mean_loss(loss: Loss, x: &Array2<f64>, y: &[f64], rows: &[usize], sw: Option<&[f64]>, weights: &Weights) -> f64 {
    let mut z = vec![0.0; weights.outputs()];
    let mut dz = vec![0.0; weights.outputs()];
    let (mut total, mut weight) = (0.0, 0.0);
    for &i in rows {
        let xi = x.row(i);
        for (o, zo) in z.iter_mut().enumerate() {
            *zo = weights.b[o] + xi.dot(&weights.w.row(o));
        }
        let s = sw.map_or(1.0, |w| w[i]);
        let row = row_loss(loss, &z, y[i], &mut dz);
        total += if sw.is_some() { s * row } else { row };
        weight += s;
    }
    total / if weight > 0.0 { weight } else { 1.0 }
}

#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    // Four accumulators let the compiler vectorise; the order is fixed, so results are too.
    // Whole chunks of four carry no bounds checks, so the loop is two packed multiply-adds.
    let b = &b[..a.len()];
    let ((ac, ar), (bc, br)) = (a.as_chunks::<4>(), b.as_chunks::<4>());
    let mut acc = [0.0; 4];
    for (x, y) in ac.iter().zip(bc) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in ar.iter().zip(br) {
        s += x * y;
    }
    s
}

#[inline]
fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    for (yj, xj) in y.iter_mut().zip(x) {
        *yj += alpha * xj;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Central finite differences of the mean loss, against the analytic gradient.
    fn check_gradient(loss: Loss, y: &[f64], outputs: usize) {
        let x = array![[0.5, -1.2, 2.0], [1.5, 0.3, -0.7], [-0.4, 0.9, 0.1], [2.2, -0.5, 1.3]];
        let mut weights = Weights::zeros(outputs, 3);
        for (k, v) in weights.w.iter_mut().enumerate() {
            *v = 0.3 * (k as f64) - 0.45;
        }
        for (k, b) in weights.b.iter_mut().enumerate() {
            *b = 0.1 * k as f64 - 0.05;
        }
        let all: Vec<usize> = (0..4).collect();
        let (_, grad) = loss_and_gradient(loss, &x, y, None, None, &weights);
        let h = 1e-6;
        for o in 0..outputs {
            for j in 0..3 {
                let mut plus = weights.clone();
                plus.w[[o, j]] += h;
                let mut minus = weights.clone();
                minus.w[[o, j]] -= h;
                let numeric = (mean_loss(loss, &x, y, &all, None, &plus) - mean_loss(loss, &x, y, &all, None, &minus))
                    / (2.0 * h);
                assert!(
                    (numeric - grad.w[[o, j]]).abs() < 1e-6,
                    "{loss:?} w[{o},{j}]: numeric {numeric} vs {}",
                    grad.w[[o, j]]
                );
            }
            let mut plus = weights.clone();
            plus.b[o] += h;
            let mut minus = weights.clone();
            minus.b[o] -= h;
            let numeric =
                (mean_loss(loss, &x, y, &all, None, &plus) - mean_loss(loss, &x, y, &all, None, &minus)) / (2.0 * h);
            assert!((numeric - grad.b[o]).abs() < 1e-6, "{loss:?} b[{o}]: numeric {numeric} vs {}", grad.b[o]);
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let reg = [1.0, -2.0, 0.5, 3.0];
        check_gradient(Loss::Mse, &reg, 1);
        check_gradient(Loss::Mae, &reg, 1); // no residual sits on the kink at these weights
        check_gradient(Loss::Huber(1.0), &reg, 1);
        check_gradient(Loss::Huber(0.1), &reg, 1);
        check_gradient(Loss::LogLoss, &[0.0, 1.0, 1.0, 0.0], 1);
        check_gradient(Loss::Softmax, &[0.0, 2.0, 1.0, 2.0], 3);
    }

    #[test]
    fn block_reduction_is_independent_of_threads() {
        let n = 3000;
        let x = Array2::from_shape_fn((n, 4), |(i, j)| ((i * 7 + j * 13) % 17) as f64 / 17.0 - 0.5);
        let y: Vec<f64> = (0..n).map(|i| (i % 5) as f64).collect();
        let w = Weights { w: array![[0.1, -0.2, 0.3, 0.05]], b: vec![0.2] };
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| loss_and_gradient(Loss::Mse, &x, &y, None, None, &w));
        let four = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap()
            .install(|| loss_and_gradient(Loss::Mse, &x, &y, None, None, &w));
        assert_eq!(one, four);
    }
}
