//! scikit-learn's `Splitter`: the best (feature, bin) split of a node from its histograms,
//! scanning bins left to right (missing values right) and, for a feature with missing
//! values, right to left (missing values left); for a categorical feature, the categories
//! ordered by their smoothed gradient ratio and scanned from both ends to the middle; and
//! the stable partition of a node's rows.

use super::histogram::FeatureHistogram;

/// The settings every node's search shares.
pub struct Splitter<'a> {
    pub n_bins: usize,
    pub n_bins_non_missing: &'a [usize],
    pub has_missing: &'a [bool],
    /// Per feature, whether it is categorical (its bins are its codes).
    pub categorical: &'a [bool],
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
    /// A categorical split's bins going left (`left_cat_bitset`, the missing bin included
    /// when missing values go left); `None` for a numeric split.
    pub left_bins: Option<Bitset>,
}

/// A set of bins, bin b at bit b % 64 of word b / 64 (`_bitset.pyx`'s eight `uint32` words).
pub type Bitset = [u64; 4];

/// Whether `bin` is in `set` (`in_bitset`).
#[inline(always)]
pub fn in_bitset(set: &Bitset, bin: u8) -> bool {
    (set[usize::from(bin >> 6)] >> (bin & 63)) & 1 == 1
}

/// `MIN_CAT_SUPPORT`: the hessian (scaled to counts) a category needs to take part in a
/// categorical scan, and the smoothing added to its hessian in its ratio (LightGBM's `cat_smooth`).
const MIN_CAT_SUPPORT: f64 = 10.0;

/// `categorical_info`: a category's bin and its ratio, sum_gradients / (sum_hessians + MIN_CAT_SUPPORT).
#[derive(Clone, Copy)]
struct CatInfo {
    bin: usize,
    value: f64,
}

/// The scratch space of one group's searches.
#[derive(Default)]
struct Scratch {
    candidates: Vec<Candidate>,
    cats: Vec<CatInfo>,
    merge: Vec<CatInfo>,
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
        let scratch = &mut Scratch { candidates: Vec::with_capacity(256), ..Scratch::default() };
        for f in features {
            if allowed.is_some_and(|a| !a[f]) {
                continue;
            }
            let bins = hist(f);
            if self.categorical[f] {
                best = first_best([best, self.category(f, bins, node, scratch)]);
                continue;
            }
            let mut found = self.scan(f, bins, node, false, -1.0, &mut scratch.candidates);
            if self.has_missing[f] {
                let gain = found.map_or(-1.0, |s| s.gain);
                if let Some(s) = self.scan(f, bins, node, true, gain, &mut scratch.candidates) {
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
            left_bins: None,
        }
    }

    /// `_find_best_bin_to_split_category`: the categories (and the missing bin, when the
    /// feature has missing values) of enough support, sorted by their ratio as `qsort` with
    /// `compare_cat_infos` does, then scanned from each end up to the middle; the first
    /// largest gain wins and its side's categories go left.
    fn category(&self, f: usize, bins: FeatureHistogram<'_>, node: &NodeTotals, s: &mut Scratch) -> Option<SplitInfo> {
        let support_factor = node.n_samples as f64 / node.sum_hessians;
        let missing = self.has_missing[f].then_some(usize::from(self.missing_bin));
        s.cats.clear();
        for bin in (0..self.n_bins_non_missing[f]).chain(missing) {
            // With constant hessians this is the count, as scikit-learn takes it.
            let h = bins.sum_hessians(bin);
            if h * support_factor >= MIN_CAT_SUPPORT {
                s.cats.push(CatInfo { bin, value: bins.sum_gradients(bin) / (h + MIN_CAT_SUPPORT) });
            }
        }
        let n_used = s.cats.len();
        if n_used <= 1 {
            return None;
        }
        glibc_msort(&mut s.cats, &mut s.merge);
        let loss_current = node.value * node.sum_gradients;
        // (gain, position in the order, left sums, scanned from the start)
        let mut best: Option<(f64, usize, f64, f64, bool)> = None;
        let mut best_gain = -1.0;
        for forward in [true, false] {
            let middle = if forward { n_used.div_ceil(2) } else { n_used.div_ceil(2) - 1 };
            let (mut g_left, mut h_left, mut n_left) = (0.0, 0.0, 0usize);
            for i in 0..middle {
                let at = if forward { i } else { n_used - 1 - i };
                let bin = s.cats[at].bin;
                n_left += bins.count(bin);
                let n_right = node.n_samples - n_left;
                h_left += bins.sum_hessians(bin);
                let h_right = node.sum_hessians - h_left;
                g_left += bins.sum_gradients(bin);
                let g_right = node.sum_gradients - g_left;
                if n_left < self.min_samples_leaf || h_left < self.min_hessian_to_split {
                    continue;
                }
                if n_right < self.min_samples_leaf || h_right < self.min_hessian_to_split {
                    break;
                }
                let gain = self.gain(g_left, h_left, g_right, h_right, loss_current);
                if gain > best_gain && gain > 0.0 {
                    best_gain = gain;
                    best = Some((gain, at, g_left, h_left, forward));
                }
            }
        }
        let (gain, at, g, h, forward) = best?;
        let mut left_bins: Bitset = [0; 4];
        let side = if forward { &s.cats[..=at] } else { &s.cats[at..] };
        for c in side {
            left_bins[c.bin >> 6] |= 1 << (c.bin & 63);
        }
        let missing_left = in_bitset(&left_bins, self.missing_bin);
        let info = self.info(f, gain, 0, self.has_missing[f] && missing_left, g, h, node);
        Some(SplitInfo { left_bins: Some(left_bins), ..info })
    }

    /// `sample_goes_left` for a numeric split (a categorical one's is `in_bitset`).
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
    left_bins: None,
};

/// glibc 2.36's `qsort` of `categorical_info`s: a top-down merge sort (`msort_with_tmp`; the
/// halves are n / 2 and the rest) that takes the first half's element only when
/// `compare_cat_infos` (-1 if a < b, else 1) returns -1, so that equal ratios end up in
/// reverse bin order.
fn glibc_msort(v: &mut [CatInfo], tmp: &mut Vec<CatInfo>) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    glibc_msort(&mut v[..n1], tmp);
    glibc_msort(&mut v[n1..], tmp);
    tmp.clear();
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < n {
        if v[i].value < v[j].value {
            tmp.push(v[i]);
            i += 1;
        } else {
            tmp.push(v[j]);
            j += 1;
        }
    }
    // What is left of the first half follows; the second half's rest is in place already.
    tmp.extend_from_slice(&v[i..n1]);
    v[..tmp.len()].copy_from_slice(tmp);
}

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

    /// `qsort` with `compare_cat_infos` as glibc sorts (the fixture generator checks libc's on
    /// this machine): increasing ratios, equal ones in reverse bin order.
    #[test]
    fn categories_sort_as_glibc_qsort() {
        let mut rng = crate::random::RandomState::new(3);
        for n in [2, 3, 7, 40, 256] {
            let mut cats: Vec<CatInfo> =
                (0..n).map(|bin| CatInfo { bin, value: (rng.next_f64() * 4.0).floor() / 3.0 }).collect();
            let mut want = cats.clone();
            want.sort_by(|a, b| a.value.total_cmp(&b.value).then(b.bin.cmp(&a.bin)));
            glibc_msort(&mut cats, &mut Vec::new());
            let order = |v: &[CatInfo]| v.iter().map(|c| c.bin).collect::<Vec<_>>();
            assert_eq!(order(&cats), order(&want), "{n}");
        }
    }

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
