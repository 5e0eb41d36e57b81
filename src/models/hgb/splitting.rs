//! scikit-learn's `Splitter`: the best (feature, bin) split of a node from its histograms,
//! scanning bins left to right (missing values right) and, for a feature with missing
//! values, right to left (missing values left); and the stable partition of a node's rows.

use super::histogram::{Bin, Histograms};

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
    /// `find_node_split`: the first feature (of those `allowed`) with the largest gain;
    /// gain -1 when no feature has a valid split.
    pub fn find_node_split(&self, hist: &Histograms, node: &NodeTotals, allowed: Option<&[bool]>) -> SplitInfo {
        let mut best: Option<SplitInfo> = None;
        let n_features = self.n_bins_non_missing.len();
        for f in 0..n_features {
            if allowed.is_some_and(|a| !a[f]) {
                continue;
            }
            let bins = &hist[f * self.n_bins..(f + 1) * self.n_bins];
            let mut found = self.scan(f, bins, node, false, -1.0);
            if self.has_missing[f] {
                let gain = found.map_or(-1.0, |s| s.gain);
                if let Some(s) = self.scan(f, bins, node, true, gain) {
                    found = Some(s);
                }
            }
            if let Some(s) = found {
                if best.is_none_or(|b| s.gain > b.gain) {
                    best = Some(s);
                }
            }
        }
        best.unwrap_or(SplitInfo {
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
        })
    }

    fn hessian_of(&self, b: &Bin) -> f64 {
        if self.hessians_are_constant {
            f64::from(b.count)
        } else {
            b.sum_hessians
        }
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
    fn scan(&self, f: usize, bins: &[Bin], node: &NodeTotals, missing_left: bool, best_gain: f64) -> Option<SplitInfo> {
        let non_missing = self.n_bins_non_missing[f];
        let order: Box<dyn Iterator<Item = (usize, &Bin)>> = if missing_left {
            Box::new((0..non_missing - 1).rev().map(|b| (b, &bins[b + 1])))
        } else {
            let end = non_missing - 1 + usize::from(self.has_missing[f]);
            Box::new(bins.iter().enumerate().take(end))
        };
        let loss_current = node.value * node.sum_gradients;
        let (mut g_near, mut h_near, mut n_near) = (0.0, 0.0, 0usize);
        let mut best: Option<(f64, usize, f64, f64)> = None;
        for (bin_idx, b) in order {
            n_near += b.count as usize;
            let n_far = node.n_samples - n_near;
            h_near += self.hessian_of(b);
            let h_far = node.sum_hessians - h_near;
            g_near += b.sum_gradients;
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
            if gain > best.map_or(best_gain, |b| b.0) && gain > 0.0 {
                best = Some((gain, bin_idx, g_left, h_left));
            }
        }
        best.map(|(gain, bin, g, h)| self.info(f, gain, bin, missing_left, g, h, node))
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
    pub fn goes_left(&self, split: &SplitInfo, bin: u8) -> bool {
        (split.missing_go_to_left && bin == self.missing_bin) || bin <= split.bin
    }
}

/// `split_indices`: the node's rows, left ones first, each side in its previous order.
/// Returns the position of the first right row.
pub fn partition(rows: &mut [u32], goes_left: impl Fn(u32) -> bool) -> usize {
    // Left rows move down in place (never past the one being read); right rows wait aside.
    let mut right = Vec::with_capacity(rows.len());
    let mut n_left = 0;
    for i in 0..rows.len() {
        let r = rows[i];
        if goes_left(r) {
            rows[n_left] = r;
            n_left += 1;
        } else {
            right.push(r);
        }
    }
    rows[n_left..].copy_from_slice(&right);
    n_left
}
