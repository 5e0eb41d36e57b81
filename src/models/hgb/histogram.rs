//! scikit-learn's `HistogramBuilder`: per feature and bin, the float64 sums of the float32
//! gradients (and hessians) of a node's rows, added in row order, and the row count.

use super::binning::Binned;

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
    /// `compute_histograms_brute` over the rows `samples` (in their order).
    pub fn brute(&self, samples: &[u32]) -> Histograms {
        let n_features = self.binned.n_features;
        let mut hist = vec![Bin::default(); n_features * self.n_bins];
        for f in 0..n_features {
            let column = self.binned.column(f);
            let out = &mut hist[f * self.n_bins..(f + 1) * self.n_bins];
            for &s in samples {
                let s = s as usize;
                let bin = &mut out[column[s] as usize];
                bin.sum_gradients += f64::from(self.gradients[s]);
                if let Some(h) = self.hessians {
                    bin.sum_hessians += f64::from(h[s]);
                }
                bin.count += 1;
            }
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
