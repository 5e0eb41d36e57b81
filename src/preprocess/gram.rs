//! A regression training part's centred Gram matrix: the sufficient statistics ridge (and
//! the lasso/elastic-net paths) solve from.

use ndarray::{Array1, Array2, Axis};
use rayon::prelude::*;

/// Sufficient statistics of a regression training part: column means, the mean target,
/// `XcᵀXc` and `Xcᵀyc` with `Xc`, `yc` centred.
#[derive(Debug, Clone)]
pub struct CenteredGram {
    pub x_mean: Array1<f64>,
    pub y_mean: f64,
    pub xtx: Array2<f64>,
    pub xty: Array1<f64>,
}

const GRAM_BLOCK: usize = 4096;

/// `CenteredGram` of `x`, `y` (uncentred when `center` is false), in one pass over row
/// blocks whose partial sums are added in block order (deterministic for any thread count).
pub fn centered_gram(x: &Array2<f64>, y: &Array1<f64>, center: bool) -> CenteredGram {
    let (n, d) = x.dim();
    let (x_mean, y_mean) = if center && n > 0 {
        (x.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(d)), y.mean().unwrap_or(0.0))
    } else {
        (Array1::zeros(d), 0.0)
    };
    let blocks: Vec<(Array2<f64>, Array1<f64>)> = (0..n.div_ceil(GRAM_BLOCK))
        .into_par_iter()
        .map(|b| {
            let rows = b * GRAM_BLOCK..((b + 1) * GRAM_BLOCK).min(n);
            let xc = &x.slice(ndarray::s![rows.clone(), ..]) - &x_mean;
            let yc = &y.slice(ndarray::s![rows]) - y_mean;
            (xc.t().dot(&xc), xc.t().dot(&yc))
        })
        .collect();
    let mut xtx = Array2::zeros((d, d));
    let mut xty = Array1::zeros(d);
    for (g, v) in blocks {
        xtx += &g;
        xty += &v;
    }
    CenteredGram { x_mean, y_mean, xtx, xty }
}
