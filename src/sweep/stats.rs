//! Sufficient statistics over fold blocks: what the ridge shortcut (from rows in memory)
//! and the streamed sweep (from a pass) accumulate, in one `BlockSums`. A fold's training
//! sums are every other block's, added in block order (`BlockSums::training`); the ridge
//! shortcut's least-squares sums alone are still the total minus the fold's block, which
//! rounds differently, so its numbers stay as they were.

use crate::preprocess::{BlockColumns, CenteredGram};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

/// Every fold block's sums, whichever source they were taken from (the streamed sweep's
/// pass, the ridge shortcut's rows in memory): column sums always, least-squares sums of
/// `u` when asked, rows per class.
pub struct BlockSums {
    pub zero: BlockColumns,
    pub columns: Vec<BlockColumns>,
    pub gram: Option<Vec<BlockStats>>,
    /// Rows per class in each block (classification).
    pub classes: Vec<Vec<usize>>,
}

/// A fold's training sums (its Gram matrix apart: `BlockSums::training_gram`).
pub struct Training {
    pub columns: BlockColumns,
    pub classes: Vec<usize>,
}

impl BlockSums {
    /// A part's training sums: every block but `held_out`, in block order.
    pub fn training(&self, held_out: Option<usize>) -> Training {
        let others = || (0..self.columns.len()).filter(move |&b| Some(b) != held_out);
        let mut columns = self.zero.clone();
        for b in others() {
            columns.add(&self.columns[b]);
        }
        let mut classes = vec![0; self.classes.first().map_or(0, Vec::len)];
        for b in others() {
            for (n, m) in classes.iter_mut().zip(&self.classes[b]) {
                *n += m;
            }
        }
        Training { columns, classes }
    }

    /// A part's least-squares sums (when taken): every block but `held_out`, in block order.
    pub fn training_gram(&self, held_out: Option<usize>) -> Option<BlockStats> {
        let g = self.gram.as_ref()?;
        let mut total = BlockStats::zeros(g.first().map_or(0, |b| b.sx.len()));
        for b in (0..g.len()).filter(|&b| Some(b) != held_out) {
            total.add(&g[b]);
        }
        Some(total)
    }
}

/// Sums over one block of rows, in coordinates shifted by the global means.
#[derive(Debug, Clone)]
pub struct BlockStats {
    pub n: f64,
    pub sx: Array1<f64>,
    pub sy: f64,
    pub syy: f64,
    pub xx: Array2<f64>,
    pub xy: Array1<f64>,
}

impl BlockStats {
    /// The sums of rows `x` (shifted) and targets `y` (shifted).
    pub fn from_rows(x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Self {
        BlockStats {
            n: x.nrows() as f64,
            sx: x.sum_axis(ndarray::Axis(0)),
            sy: y.sum(),
            syy: y.dot(&y),
            xx: x.t().dot(&x),
            xy: x.t().dot(&y),
        }
    }

    pub fn zeros(d: usize) -> Self {
        BlockStats { n: 0.0, sx: Array1::zeros(d), sy: 0.0, syy: 0.0, xx: Array2::zeros((d, d)), xy: Array1::zeros(d) }
    }

    pub fn add(&mut self, o: &BlockStats) {
        self.n += o.n;
        self.sx += &o.sx;
        self.sy += o.sy;
        self.syy += o.syy;
        self.xx += &o.xx;
        self.xy += &o.xy;
    }

    pub fn minus(&self, o: &BlockStats) -> BlockStats {
        BlockStats {
            n: self.n - o.n,
            sx: &self.sx - &o.sx,
            sy: self.sy - o.sy,
            syy: self.syy - o.syy,
            xx: &self.xx - &o.xx,
            xy: &self.xy - &o.xy,
        }
    }

    /// Sum of squared residuals of `ỹ - c0 - v·x̃` over the block.
    pub fn sse(&self, c0: f64, v: &Array1<f64>) -> f64 {
        self.syy - 2.0 * c0 * self.sy - 2.0 * v.dot(&self.xy)
            + self.n * c0 * c0
            + 2.0 * c0 * v.dot(&self.sx)
            + v.dot(&self.xx.dot(v))
    }

    pub fn ss_tot(&self) -> f64 {
        self.syy - self.sy * self.sy / self.n
    }

    /// A fold's training sums in its design space: `z = A·u + o`, `u` accumulated shifted by
    /// `shift_u`, the target by `shift_y`. Without an intercept the sums are not centred.
    pub fn design_gram(
        &self,
        shift_u: &Array1<f64>,
        shift_y: f64,
        map: &(Array2<f64>, Array1<f64>),
        fit_intercept: bool,
    ) -> CenteredGram {
        let (a, o) = map;
        let n = self.n;
        let m = &self.sx / n;
        let ym = self.sy / n;
        let cu = &self.xx - &(outer(&m, &m) * n);
        let cuy = &self.xy - &(&m * (n * ym));
        let (xtx, xty) = match diagonal(a) {
            // A scaling (the maps of columns without gaps or categories): each entry times its
            // two factors, as the products give it, without their p³ work.
            Some(d) => (Array2::from_shape_fn(cu.dim(), |(i, j)| d[i] * cu[[i, j]] * d[j]), &d * &cuy),
            None => (a.dot(&cu).dot(&a.t()), a.dot(&cuy)),
        };
        let x_mean = a.dot(&(&m + shift_u)) + o;
        let y_mean = shift_y + ym;
        if fit_intercept {
            return CenteredGram { x_mean, y_mean, xtx, xty };
        }
        let xtx = xtx + outer(&x_mean, &x_mean) * n;
        let xty = xty + &x_mean * (n * y_mean);
        CenteredGram { x_mean: Array1::zeros(a.nrows()), y_mean: 0.0, xtx, xty }
    }
}

/// The diagonal of a square matrix that has nothing off it, or `None`.
fn diagonal(a: &Array2<f64>) -> Option<Array1<f64>> {
    let off = a.indexed_iter().any(|((i, j), v)| i != j && *v != 0.0);
    (a.is_square() && !off).then(|| a.diag().to_owned())
}

fn outer(a: &Array1<f64>, b: &Array1<f64>) -> Array2<f64> {
    Array2::from_shape_fn((a.len(), b.len()), |(i, j)| a[i] * b[j])
}

/// A design-space linear model `b + w·z`, `z = A·u + o`, as a predictor in the coordinates
/// the sums are taken in: `ỹ ≈ c0 + v·ũ`, `ũ = u − shift_u`, `ỹ = y − shift_y` (what
/// `BlockStats::sse` takes).
pub fn shifted_predictor(
    map: &(Array2<f64>, Array1<f64>),
    shift_u: &Array1<f64>,
    shift_y: f64,
    w: &Array1<f64>,
    b: f64,
) -> (f64, Array1<f64>) {
    let (a, o) = map;
    (b - shift_y + w.dot(&(a.dot(shift_u) + o)), a.t().dot(w))
}
