//! scikit-learn's `HistogramBuilder`: per feature and bin, the float64 sums of the float32
//! gradients (and hessians) of a node's rows, added in row order, and the row count.

use super::binning::Binned;

/// Row × feature cells from which a node's histograms are built in parallel.
const PARALLEL_WORK: usize = 1 << 16;

#[derive(Debug, Clone, Copy, Default)]
pub struct Bin {
    pub sum_gradients: f64,
    pub sum_hessians: f64,
    pub count: u32,
}

/// A node's histograms: `n_bins` entries per feature.
pub type Histograms = Vec<Bin>;

pub struct HistogramBuilder<'a> {
    pub binned: &'a Binned,
    pub n_bins: usize,
    pub gradients: &'a [f32],
    /// `None` when the hessians are constant (then counts stand in for their sums).
    pub hessians: Option<&'a [f32]>,
}

impl HistogramBuilder<'_> {
    /// `compute_histograms_brute` over the rows `samples` (in their order); at the root (every
    /// row, in order) the gradients are read in place, as `_build_histogram_root` does. Features
    /// are independent sums, so they are built in parallel with the same numbers.
    pub fn brute(&self, samples: &[u32]) -> Histograms {
        use rayon::prelude::*;
        let root = samples.len() == self.binned.n;
        let gather = |v: &[f32]| -> Vec<f32> { samples.iter().map(|&s| v[s as usize]).collect() };
        let ordered_g: Vec<f32> = if root { Vec::new() } else { gather(self.gradients) };
        let ordered_h: Option<Vec<f32>> = self.hessians.filter(|_| !root).map(gather);
        let g = if root { self.gradients } else { &ordered_g };
        let h = if root { self.hessians } else { ordered_h.as_deref() };
        let mut hist = vec![Bin::default(); self.binned.n_features * self.n_bins];
        let build = |(f, out): (usize, &mut [Bin])| {
            let column = self.binned.column(f);
            if root {
                accumulate(out, column.iter().copied(), g, h);
            } else {
                accumulate(out, samples.iter().map(|&s| column[s as usize]), g, h);
            }
        };
        if samples.len() * self.binned.n_features >= PARALLEL_WORK {
            hist.par_chunks_mut(self.n_bins).enumerate().for_each(build);
        } else {
            hist.chunks_mut(self.n_bins).enumerate().for_each(build);
        }
        hist
    }
}

/// One feature's histogram: each row's gradient (and hessian) added to its bin, in row order.
/// The two loops keep the hessian test out of the hot loop.
#[inline(always)]
fn accumulate(out: &mut [Bin], bins: impl Iterator<Item = u8>, g: &[f32], h: Option<&[f32]>) {
    match h {
        None => {
            for (b, &gi) in bins.zip(g) {
                let bin = &mut out[usize::from(b)];
                bin.sum_gradients += f64::from(gi);
                bin.count += 1;
            }
        }
        Some(h) => {
            for ((b, &gi), &hi) in bins.zip(g).zip(h) {
                let bin = &mut out[usize::from(b)];
                bin.sum_gradients += f64::from(gi);
                bin.sum_hessians += f64::from(hi);
                bin.count += 1;
            }
        }
    }
}

/// `compute_histograms_subtraction`: `parent - sibling`, in place on the parent's.
pub fn subtract(mut parent: Histograms, sibling: &Histograms) -> Histograms {
    for (a, b) in parent.iter_mut().zip(sibling) {
        a.sum_gradients -= b.sum_gradients;
        a.sum_hessians -= b.sum_hessians;
        a.count -= b.count;
    }
    parent
}
