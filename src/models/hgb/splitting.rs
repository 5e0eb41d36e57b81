//! scikit-learn's `Splitter`: the best (feature, bin) split of a node from its histograms,
//! scanning bins left to right (missing values right) and, for a feature with missing
//! values, right to left (missing values left); and the stable partition of a node's rows.

use super::histogram::FeatureHistogram;

/// The settings every node's search shares.
pub struct Splitter<'a> {
    pub n_bins: usize,
    pub n_bins_non_missing: &'a [usize],
    pub has_missing: &'a [bool],
    pub missing_bin: u8,
    pub l2_regularization: f64,
    pub min_hessian_to_split: f64,
    pub min_samples_leaf: usize,
    pub hessians_are_constant: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct SplitInfo {
    pub gain: f64,
    pub feature: usize,
    pub bin: u8,
    pub missing_go_to_left: bool,
    pub sum_gradient_left: f64,
    pub sum_gradient_right: f64,
    pub sum_hessian_left: f64,
    pub sum_hessian_right: f64,
    pub value_left: f64,
    pub value_right: f64,
}

/// A bin a scan may split at: its gain and the left side's sums.
pub struct Candidate {
    gain: f64,
    bin: usize,
    g_left: f64,
    h_left: f64,
}

/// One node's totals, as `find_node_split` receives them.
pub struct NodeTotals {
    pub n_samples: usize,
    pub sum_gradients: f64,
    pub sum_hessians: f64,
    pub value: f64,
}

/// `compute_node_value` without monotonic bounds.
pub fn node_value(sum_gradient: f64, sum_hessian: f64, l2: f64) -> f64 {
    -sum_gradient / (sum_hessian + l2 + 1e-15)
}

impl Splitter<'_> {
    /// `find_node_split` over the features `features` (of those `allowed`): the first with the
    /// largest gain, if any has a valid split. `hist` gives a feature's histogram.
    pub fn best_in<'h>(
        &self,
        features: std::ops::Range<usize>,
        hist: impl Fn(usize) -> FeatureHistogram<'h>,
        node: &NodeTotals,
        allowed: Option<&[bool]>,
    ) -> Option<SplitInfo> {
        let mut best: Option<SplitInfo> = None;
        let scratch = &mut Vec::with_capacity(256);
        for f in features {
            if allowed.is_some_and(|a| !a[f]) {
                continue;
            }
            let bins = hist(f);
            let mut found = self.scan(f, bins, node, false, -1.0, scratch);
            if self.has_missing[f] {
                let gain = found.map_or(-1.0, |s| s.gain);
                if let Some(s) = self.scan(f, bins, node, true, gain, scratch) {
                    found = Some(s);
                }
            }
            best = first_best([best, found]);
        }
        best
    }

    fn gain(&self, g_left: f64, h_left: f64, g_right: f64, h_right: f64, loss_current: f64) -> f64 {
        let l2 = self.l2_regularization;
        let mut gain = loss_current;
        gain -= node_value(g_left, h_left, l2) * g_left;
        gain -= node_value(g_right, h_right, l2) * g_right;
        gain
    }

    /// `_find_best_bin_to_split_left_to_right` (missing values, if any, go right) and, with
    /// `missing_left`, `_find_best_bin_to_split_right_to_left` (they go left; it must beat
    /// `best_gain`, the first scan's). The near side is the one the scan accumulates.
    fn scan(
        &self,
        f: usize,
        bins: FeatureHistogram<'_>,
        node: &NodeTotals,
        missing_left: bool,
        best_gain: f64,
        scratch: &mut Vec<Candidate>,
    ) -> Option<SplitInfo> {
        let non_missing = self.n_bins_non_missing[f];
        scratch.clear();
        let top = if missing_left {
            self.candidates((0..non_missing - 1).rev().map(|b| (b, b + 1)), bins, node, true, scratch)
        } else {
            let end = non_missing - 1 + usize::from(self.has_missing[f]);
            self.candidates((0..end).map(|b| (b, b)), bins, node, false, scratch)
        };
        // The scan keeps the first bin whose gain beats every gain before it, `best_gain` and 0:
        // the first bin of the largest gain, if that beats both.
        if !(top > best_gain && top > 0.0) {
            return None;
        }
        let c = scratch.iter().find(|c| c.gain == top)?;
        Some(self.info(f, c.gain, c.bin, missing_left, c.g_left, c.h_left, node))
    }

    /// The scan's loop over (split bin, histogram bin) pairs in scan order: the gain of every
    /// bin both of whose sides are large enough, in order, and the largest (NaN passed over;
    /// the loop has no branch on a gain). A bin with no rows and zero sums
    /// leaves the sums as they were, so its gain would repeat the bin's before it (which it
    /// cannot beat) or be skipped with it: it is passed over.
    #[inline(always)]
    fn candidates(
        &self,
        order: impl Iterator<Item = (usize, usize)>,
        bins: FeatureHistogram<'_>,
        node: &NodeTotals,
        missing_left: bool,
        out: &mut Vec<Candidate>,
    ) -> f64 {
        let loss_current = node.value * node.sum_gradients;
        let (mut g_near, mut h_near, mut n_near) = (0.0, 0.0, 0usize);
        let mut top = f64::NEG_INFINITY;
        for (bin_idx, b) in order {
            let (count, g, h) = (bins.count(b), bins.sum_gradients(b), bins.sum_hessians(b));
            if count == 0 && g == 0.0 && h == 0.0 {
                continue;
            }
            n_near += count;
            let n_far = node.n_samples - n_near;
            h_near += h;
            let h_far = node.sum_hessians - h_near;
            g_near += g;
            let g_far = node.sum_gradients - g_near;
            if n_near < self.min_samples_leaf || h_near < self.min_hessian_to_split {
                if n_near >= self.min_samples_leaf && n_far < self.min_samples_leaf {
                    break;
                }
                continue;
            }
            if n_far < self.min_samples_leaf || h_far < self.min_hessian_to_split {
                break;
            }
            let (g_left, h_left, g_right, h_right) =
                if missing_left { (g_far, h_far, g_near, h_near) } else { (g_near, h_near, g_far, h_far) };
            let gain = self.gain(g_left, h_left, g_right, h_right, loss_current);
            out.push(Candidate { gain, bin: bin_idx, g_left, h_left });
            top = if gain > top { gain } else { top };
        }
        top
    }

    #[allow(clippy::too_many_arguments)]
    fn info(
        &self,
        f: usize,
        gain: f64,
        bin: usize,
        missing_left: bool,
        g: f64,
        h: f64,
        node: &NodeTotals,
    ) -> SplitInfo {
        let l2 = self.l2_regularization;
        let (g_right, h_right) = (node.sum_gradients - g, node.sum_hessians - h);
        SplitInfo {
            gain,
            feature: f,
            bin: bin as u8,
            missing_go_to_left: missing_left,
            sum_gradient_left: g,
            sum_gradient_right: g_right,
            sum_hessian_left: h,
            sum_hessian_right: h_right,
            value_left: node_value(g, h, l2),
            value_right: node_value(g_right, h_right, l2),
        }
    }

    /// `sample_goes_left` for a numeric split.
    #[inline(always)]
    pub fn goes_left(&self, split: &SplitInfo, bin: u8) -> bool {
        (split.missing_go_to_left & (bin == self.missing_bin)) | (bin <= split.bin)
    }
}

/// The first of the largest gains among splits found in feature order (each group's best, or
/// each feature's): what `find_node_split`'s loop over every feature keeps.
pub fn first_best(found: impl IntoIterator<Item = Option<SplitInfo>>) -> Option<SplitInfo> {
    found
        .into_iter()
        .flatten()
        .fold(None, |best, s| if best.is_none_or(|b: SplitInfo| s.gain > b.gain) { Some(s) } else { best })
}

/// No valid split: gain -1.
pub const NO_SPLIT: SplitInfo = SplitInfo {
    gain: -1.0,
    feature: 0,
    bin: 0,
    missing_go_to_left: false,
    sum_gradient_left: 0.0,
    sum_gradient_right: 0.0,
    sum_hessian_left: 0.0,
    sum_hessian_right: 0.0,
    value_left: 0.0,
    value_right: 0.0,
};

/// Rows of a node partitioned by one task: a larger node's chunks are partitioned in parallel,
/// then their left rows, in chunk order, go before their right rows: the same stable order.
const PARTITION_CHUNK: usize = 1 << 14;

/// `split_indices`: the node's rows, left ones first, each side in its previous order.
/// Returns the position of the first right row.
pub fn partition(rows: &mut [u32], goes_left: impl Fn(u32) -> bool + Sync, prefetch: impl Fn(u32) + Sync) -> usize {
    use rayon::prelude::*;
    if rows.len() < 2 * PARTITION_CHUNK {
        return partition_chunk(rows, &goes_left, &prefetch);
    }
    let lefts: Vec<usize> =
        rows.par_chunks_mut(PARTITION_CHUNK).map(|chunk| partition_chunk(chunk, &goes_left, &prefetch)).collect();
    let mut out = Vec::with_capacity(rows.len());
    for side in [true, false] {
        for (chunk, &n) in rows.chunks(PARTITION_CHUNK).zip(&lefts) {
            out.extend_from_slice(if side { &chunk[..n] } else { &chunk[n..] });
        }
    }
    rows.copy_from_slice(&out);
    lefts.iter().sum()
}

/// `split_indices` of one task's rows.
fn partition_chunk(rows: &mut [u32], goes_left: impl Fn(u32) -> bool, prefetch: impl Fn(u32)) -> usize {
    // Each row is written to both sides and only its side's count moves on: no branch on a
    // side that is as good as random. Left rows move down in place (never past the one being
    // read); right rows wait aside.
    let mut right = vec![0u32; rows.len()];
    let (mut n_left, mut n_right) = (0, 0);
    let last = rows.len().saturating_sub(1);
    for i in 0..rows.len() {
        prefetch(rows[(i + super::histogram::AHEAD).min(last)]);
        let r = rows[i];
        let left = goes_left(r);
        rows[n_left] = r;
        right[n_right] = r;
        n_left += usize::from(left);
        n_right += usize::from(!left);
    }
    rows[n_left..].copy_from_slice(&right[..n_right]);
    n_left
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A node large enough to be partitioned in parallel chunks gives the plain stable partition.
    #[test]
    fn chunked_partition_is_the_stable_partition() {
        let mut rng = crate::random::RandomState::new(7);
        for n in [10, 2 * PARTITION_CHUNK - 1, 2 * PARTITION_CHUNK + 5, 100_000] {
            let rows: Vec<u32> = (0..n as u32).map(|r| r * 3 + 1).collect();
            let left: Vec<bool> = (0..=3 * n).map(|_| rng.next_f64() < 0.3).collect();
            let goes_left = |r: u32| left[r as usize];
            let want: Vec<u32> = rows
                .iter()
                .filter(|&&r| goes_left(r))
                .chain(rows.iter().filter(|&&r| !goes_left(r)))
                .copied()
                .collect();
            let mut got = rows.clone();
            let n_left = partition(&mut got, goes_left, |_| {});
            assert_eq!(got, want, "n {n}");
            assert_eq!(n_left, rows.iter().filter(|&&r| goes_left(r)).count());
        }
    }
}
