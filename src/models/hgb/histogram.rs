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
    /// `compute_histograms_brute` over the rows `samples` (in their order). Features are
    /// independent sums, so they are built in parallel with the same numbers.
    pub fn brute(&self, samples: &[u32]) -> Histograms {
        use rayon::prelude::*;
        let ordered_g: Vec<f32> = samples.iter().map(|&s| self.gradients[s as usize]).collect();
        let ordered_h: Option<Vec<f32>> = self.hessians.map(|h| samples.iter().map(|&s| h[s as usize]).collect());
        let mut hist = vec![Bin::default(); self.binned.n_features * self.n_bins];
        let build = |(f, out): (usize, &mut [Bin])| {
            let column = self.binned.column(f);
            for (i, &s) in samples.iter().enumerate() {
                let bin = &mut out[usize::from(column[s as usize])];
                bin.sum_gradients += f64::from(ordered_g[i]);
                if let Some(h) = &ordered_h {
                    bin.sum_hessians += f64::from(h[i]);
                }
                bin.count += 1;
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

/// `compute_histograms_subtraction`: `parent - sibling`, in place on the parent's.
pub fn subtract(mut parent: Histograms, sibling: &Histograms) -> Histograms {
    for (a, b) in parent.iter_mut().zip(sibling) {
        a.sum_gradients -= b.sum_gradients;
        a.sum_hessians -= b.sum_hessians;
        a.count -= b.count;
    }
    parent
}
