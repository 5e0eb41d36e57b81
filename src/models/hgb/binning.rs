//! scikit-learn's `_BinMapper`: each feature's bin thresholds from the quantiles of (a
//! subsample of) its training values, and the mapping of values to `u8` bins. The last bin
//! (`max_bins`) is kept for missing values. A categorical feature's thresholds are its known
//! codes 0..k-1, so each code is its own bin.

use super::numeric::pairwise_sum;
use super::tree::is_code;
use crate::models::FitError;
use crate::random::RandomState;
use ndarray::{Array2, Axis};
use rayon::prelude::*;

/// `ALMOST_INF`: thresholds are clipped to it (LightGBM's `AvoidInf`).
const ALMOST_INF: f64 = 1e300;
/// Rows the quantiles are computed on at most (`subsample=int(2e5)`).
const SUBSAMPLE: usize = 200_000;

/// Fitted bin thresholds, feature by feature.
#[derive(Debug, Clone)]
pub struct BinMapper {
    /// Per feature, increasing: a value x falls in bin i iff thresholds[i-1] < x <= thresholds[i].
    pub thresholds: Vec<Vec<f64>>,
    /// Per feature, the bins used by non-missing values (`n_bins_non_missing_`).
    pub n_bins_non_missing: Vec<usize>,
    /// The missing-values bin, `max_bins` (`missing_values_bin_idx_`).
    pub missing_bin: u8,
    /// Per feature, whether it is categorical (`is_categorical_`).
    pub categorical: Vec<bool>,
}

/// Values of one feature binned side by side.
const SEARCHES: usize = 8;

/// Features per group of the binned layout at most: a histogram pass over a group reads each
/// row's bins of the group at once and keeps the group's histograms in the L1 cache.
const GROUP_WIDTH: usize = 8;

/// Binned data in groups of up to `GROUP_WIDTH` neighbouring features, each group row by row:
/// group `g` holds `bins[offsets[g] + i * width + lane]`, row i's bin of its `lane`-th feature.
pub struct Binned {
    pub bins: Vec<u8>,
    pub n: usize,
    pub n_features: usize,
    /// The first feature of each group, then `n_features`.
    pub bounds: Vec<usize>,
}

/// One feature's bins inside its group: row i's at `i * width`.
#[derive(Clone, Copy)]
pub struct FeatureBins<'a> {
    bins: &'a [u8],
    width: usize,
}

impl FeatureBins<'_> {
    #[inline(always)]
    pub fn get(&self, i: usize) -> u8 {
        self.bins[i * self.width]
    }

    /// Asks the cache for row i's bin ahead of its `get`.
    #[inline(always)]
    pub fn prefetch(&self, i: usize) {
        super::histogram::prefetch(self.bins, i * self.width);
    }
}

impl Binned {
    /// Groups of nearly equal width (an even count when there are several, so that two threads
    /// share them evenly).
    fn bounds(n_features: usize) -> Vec<usize> {
        let mut groups = n_features.div_ceil(GROUP_WIDTH).max(1);
        if groups > 1 && groups % 2 == 1 {
            groups += 1;
        }
        (0..=groups).map(|g| g * n_features / groups).collect()
    }

    /// Group `g`: its rows' bins.
    pub fn group(&self, g: usize) -> &[u8] {
        &self.bins[self.bounds[g] * self.n..self.bounds[g + 1] * self.n]
    }

    pub fn feature(&self, f: usize) -> FeatureBins<'_> {
        let g = self.bounds.partition_point(|&b| b <= f) - 1;
        let (first, width) = (self.bounds[g], self.bounds[g + 1] - self.bounds[g]);
        FeatureBins { bins: &self.group(g)[f - first..], width }
    }
}

impl BinMapper {
    /// `_BinMapper(n_bins=max_bins + 1, is_categorical, known_categories, random_state=seed)
    /// .fit(x, sample_weight)`: `categories[f] = Some(k)` for a categorical feature of codes
    /// 0..k-1 (`known_categories[f] = np.arange(k)`), or empty when none is.
    pub fn fit(
        x: &Array2<f64>,
        max_bins: usize,
        weights: Option<&[f64]>,
        seed: u32,
        categories: &[Option<usize>],
    ) -> BinMapper {
        let n = x.nrows();
        let mut rows: Vec<usize> = (0..n).collect();
        let mut weights = weights;
        if n > SUBSAMPLE {
            rows = subsample(n, weights, seed);
            weights = None;
        }
        // Each feature's thresholds are its own sort: built in parallel, the same numbers.
        let thresholds: Vec<Vec<f64>> = (0..x.ncols())
            .into_par_iter()
            .map(|f| {
                if let Some(&Some(k)) = categories.get(f) {
                    return (0..k).map(|c| c as f64).collect();
                }
                let col: Vec<f64> = rows.iter().map(|&r| x[[r, f]]).collect();
                let w: Option<Vec<f64>> = weights.map(|w| rows.iter().map(|&r| w[r]).collect());
                find_thresholds(col, w, max_bins)
            })
            .collect();
        let categorical: Vec<bool> = (0..x.ncols()).map(|f| matches!(categories.get(f), Some(Some(_)))).collect();
        let n_bins_non_missing =
            thresholds.iter().zip(&categorical).map(|(t, &c)| if c { t.len() } else { t.len() + 1 }).collect();
        BinMapper { thresholds, n_bins_non_missing, missing_bin: max_bins as u8, categorical }
    }

    /// `_map_to_bins`: a binary search per value, groups of features in parallel (as its
    /// `prange` over features); NaN, and a categorical feature's negative values, go to the
    /// missing bin.
    pub fn transform(&self, x: &Array2<f64>) -> Binned {
        let (n, n_features) = (x.nrows(), x.ncols());
        let bounds = Binned::bounds(n_features);
        let mut bins = vec![0u8; n * n_features];
        let mut parts = Vec::with_capacity(bounds.len());
        let mut rest = bins.as_mut_slice();
        for w in bounds.windows(2) {
            let (part, tail) = rest.split_at_mut((w[1] - w[0]) * n);
            parts.push((w[0], w[1], part));
            rest = tail;
        }
        parts.into_par_iter().for_each(|(first, last, out)| {
            let width = last - first;
            if width == 0 {
                return;
            }
            for (out, rows) in out.chunks_mut(SEARCHES * width).zip(x.axis_chunks_iter(Axis(0), SEARCHES)) {
                for lane in 0..width {
                    let t = &self.thresholds[first + lane];
                    if rows.nrows() == SEARCHES {
                        let v: [f64; SEARCHES] = std::array::from_fn(|k| rows[[k, first + lane]]);
                        for (k, b) in self.bins_of(t, v).into_iter().enumerate() {
                            out[k * width + lane] = b;
                        }
                    } else {
                        for k in 0..rows.nrows() {
                            out[k * width + lane] = self.bins_of(t, [rows[[k, first + lane]]])[0];
                        }
                    }
                }
            }
            // A pass of its own per categorical feature, so the numeric searches stay as they are.
            for lane in (0..width).filter(|&lane| self.categorical[first + lane]) {
                for (i, &v) in x.column(first + lane).iter().enumerate() {
                    if v < 0.0 {
                        out[i * width + lane] = self.missing_bin;
                    }
                }
            }
        });
        Binned { bins, n, n_features, bounds }
    }

    /// Each value's bin: the count of thresholds below it (`t` increasing), the missing bin for
    /// NaN. `N` searches run side by side, so that their loads overlap.
    fn bins_of<const N: usize>(&self, t: &[f64], v: [f64; N]) -> [u8; N] {
        let mut base = [0usize; N];
        let mut size = t.len();
        if size == 0 {
            return v.map(|v| if v.is_nan() { self.missing_bin } else { 0 });
        }
        while size > 1 {
            let half = size / 2;
            for (b, &v) in base.iter_mut().zip(&v) {
                let mid = *b + half;
                *b = if t[mid] < v { mid } else { *b };
            }
            size -= half;
        }
        std::array::from_fn(|k| {
            if v[k].is_nan() {
                self.missing_bin
            } else {
                (base[k] + usize::from(t[base[k]] < v[k])) as u8
            }
        })
    }
}

/// The library's check of `categories` (the user layer checks before): one entry per column
/// or none, at most `max_bins` codes, and a categorical column's values NaN or its codes.
pub fn check_categories(x: &Array2<f64>, categories: &[Option<usize>], max_bins: usize) -> Result<(), FitError> {
    if !categories.is_empty() && categories.len() != x.ncols() {
        return Err(FitError::Solver(format!(
            "categories has {} entries for {} columns; give one per column or none",
            categories.len(),
            x.ncols()
        )));
    }
    for (f, k) in categories.iter().enumerate().filter_map(|(f, k)| Some((f, (*k)?))) {
        if k > max_bins {
            return Err(FitError::Solver(format!(
                "categorical column {f} has {k} categories, more than max_bins = {max_bins}"
            )));
        }
        if let Some(v) = x.column(f).iter().find(|&&v| !v.is_nan() && !is_code(v, k)) {
            return Err(FitError::Solver(format!(
                "categorical column {f} holds {v}; its values are the codes 0 to {} or NaN",
                k as i64 - 1
            )));
        }
    }
    Ok(())
}

/// The rows the quantiles come from: `RandomState(seed).choice(n, 200000, p, replace=True)`.
fn subsample(n: usize, weights: Option<&[f64]>, seed: u32) -> Vec<usize> {
    let mut rng = RandomState::new(seed);
    match weights {
        None => (0..SUBSAMPLE).map(|_| rng.randint(0, n as u64) as usize).collect(),
        Some(w) => weighted_choice(w, &mut rng),
    }
}

/// Legacy `RandomState.choice(n, 200000, p=w / w.sum(), replace=True)`.
fn weighted_choice(w: &[f64], rng: &mut RandomState) -> Vec<usize> {
    let total = pairwise_sum(w);
    let mut cdf: Vec<f64> = Vec::with_capacity(w.len());
    let mut acc = 0.0;
    for &v in w {
        acc += v / total;
        cdf.push(acc);
    }
    let last = cdf[cdf.len() - 1];
    cdf.iter_mut().for_each(|c| *c /= last);
    (0..SUBSAMPLE)
        .map(|_| {
            let u = rng.next_f64();
            cdf.partition_point(|&c| c <= u).min(w.len() - 1)
        })
        .collect()
}

/// `_find_binning_thresholds` of one column.
fn find_thresholds(col: Vec<f64>, weights: Option<Vec<f64>>, max_bins: usize) -> Vec<f64> {
    let (values, weights): (Vec<f64>, Option<Vec<f64>>) = match weights {
        None => {
            let mut values: Vec<f64> = col.into_iter().filter(|v| !v.is_nan()).collect();
            // Values equal under `total_cmp` have the same bits: any sort gives the stable one's order.
            values.sort_unstable_by(f64::total_cmp);
            (values, None)
        }
        Some(w) => {
            let mut pairs: Vec<(f64, f64)> = col.into_iter().zip(w).filter(|(v, w)| !v.is_nan() && *w != 0.0).collect();
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (values, w) = pairs.into_iter().unzip();
            (values, Some(w))
        }
    };
    let mut distinct = values.clone();
    distinct.dedup();
    if distinct.len() <= 1 {
        return Vec::new();
    }
    let mut t: Vec<f64> = if distinct.len() <= max_bins {
        distinct.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect()
    } else {
        let ranks = percentile_ranks(max_bins);
        match &weights {
            Some(w) => weighted_percentiles(&values, w, &ranks),
            None => ranks.iter().map(|&p| averaged_inverted_cdf(&values, p)).collect(),
        }
    };
    t.dedup();
    t.iter_mut().for_each(|v| *v = v.min(ALMOST_INF));
    t
}

/// `np.linspace(0, 100, max_bins + 1)[1:-1]`.
fn percentile_ranks(max_bins: usize) -> Vec<f64> {
    let step = 100.0 / max_bins as f64;
    (1..max_bins).map(|i| i as f64 * step).collect()
}

/// `np.percentile(sorted, p, method="averaged_inverted_cdf")` of sorted values.
fn averaged_inverted_cdf(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    let virtual_index = n as f64 * (p / 100.0) - 1.0;
    if virtual_index >= (n - 1) as f64 {
        return sorted[n - 1];
    }
    if virtual_index < 0.0 {
        return sorted[0];
    }
    let previous = virtual_index.floor();
    let (a, b) = (sorted[previous as usize], sorted[previous as usize + 1]);
    if virtual_index - previous == 0.0 {
        // numpy's _lerp at t = 0.5: b - (b - a) * 0.5.
        b - (b - a) * 0.5
    } else {
        b
    }
}

/// scikit-learn's `_weighted_percentile(values, weights, p, average=True)` of sorted values
/// with positive weights.
fn weighted_percentiles(sorted: &[f64], w: &[f64], ranks: &[f64]) -> Vec<f64> {
    let mut cdf = Vec::with_capacity(w.len());
    let mut acc = 0.0;
    for &v in w {
        acc += v;
        cdf.push(acc);
    }
    let total = acc;
    let max_idx = sorted.len() - 1;
    ranks
        .iter()
        .map(|&p| {
            let adjusted = p / 100.0 * total;
            let i = cdf.partition_point(|&c| c < adjusted).min(max_idx);
            if cdf[i] - adjusted > f64::EPSILON {
                sorted[i]
            } else {
                (sorted[i] + sorted[(i + 1).min(max_idx)]) / 2.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_distinct_values_split_at_midpoints() {
        let t = find_thresholds(vec![3.0, 1.0, 1.0, 2.0, f64::NAN], None, 255);
        assert_eq!(t, vec![1.5, 2.5]);
    }

    #[test]
    fn the_binning_subsample_is_numpys_choice() {
        // np.random.RandomState(7).choice(300000, 200000, replace=True), and with p = w / w.sum()
        let plain = subsample(300_000, None, 7);
        assert_eq!((&plain[..4], plain[SUBSAMPLE - 1]), (&[61615, 189636, 49689, 10742][..], 29173));
        let w: Vec<f64> = (1..=300_000).map(f64::from).collect();
        let weighted = subsample(300_000, Some(&w), 7);
        assert_eq!((&weighted[..4], weighted[SUBSAMPLE - 1]), (&[82871, 264938, 198637, 255170][..], 31835));
    }

    /// Side-by-side searches give `partition_point`'s count of thresholds below each value.
    #[test]
    fn interleaved_searches_count_the_thresholds_below() {
        let mapper =
            BinMapper { thresholds: vec![], n_bins_non_missing: vec![], missing_bin: 255, categorical: vec![] };
        for len in [0, 1, 2, 3, 7, 254] {
            let t: Vec<f64> = (0..len).map(|i| f64::from(i) * 0.5 - 3.0).collect();
            let values = [-4.0, -3.0, -2.9, 0.0, 0.25, 100.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 1.5];
            for v in values.windows(8) {
                let v: [f64; 8] = v.try_into().expect("8");
                let want = v.map(|v| if v.is_nan() { 255 } else { t.partition_point(|&th| th < v) as u8 });
                assert_eq!(mapper.bins_of(&t, v), want, "{len} thresholds");
            }
        }
    }

    #[test]
    fn averaged_inverted_cdf_matches_numpy() {
        // np.percentile([1, 2, 3, 4], [25, 50, 60], method="averaged_inverted_cdf")
        let v = [1.0, 2.0, 3.0, 4.0];
        let got: Vec<f64> = [25.0, 50.0, 60.0].iter().map(|&p| averaged_inverted_cdf(&v, p)).collect();
        assert_eq!(got, vec![1.5, 2.5, 3.0]);
    }
}
