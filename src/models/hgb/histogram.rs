//! scikit-learn's `HistogramBuilder`: per feature and bin, the float64 sums of the float32
//! gradients (and hessians) of a node's rows, added in row order, and the row count.
//!
//! The rows are read a group of features at a time (`Binned`'s layout): each row's gradient is
//! converted once and added to every feature of the group, so each bin still adds its rows'
//! values in the node's order (the same sums, bit for bit). A bin is a pair of float64 added
//! in one instruction: (gradients, count) when the hessians are constant, (gradients,
//! hessians) with the counts beside them otherwise.

use super::binning::Binned;
use rayon::prelude::*;

/// Row × feature cells from which a node's histograms are built in parallel.
pub const PARALLEL_WORK: usize = 1 << 16;
/// Bins a feature's histogram holds: every `u8` bin, so a bin indexes it without a check.
const STRIDE: usize = 256;

type Sums = [[f64; 2]; STRIDE];
type Counts = [u32; STRIDE];

/// A node's histograms, `STRIDE` bins per feature.
#[derive(Clone)]
pub struct Histograms {
    /// Per bin, the sum of gradients and the sum of hessians, or the count when the hessians are constant.
    sums: Vec<Sums>,
    /// Per bin, the count, when the hessians vary.
    counts: Option<Vec<Counts>>,
}

/// One feature's histogram.
#[derive(Clone, Copy)]
pub struct FeatureHistogram<'a> {
    sums: &'a Sums,
    counts: Option<&'a Counts>,
}

impl FeatureHistogram<'_> {
    #[inline(always)]
    pub fn sum_gradients(&self, b: usize) -> f64 {
        self.sums[b][0]
    }

    /// The hessians' sum, or with constant hessians the count (as scikit-learn's splitter takes it).
    #[inline(always)]
    pub fn sum_hessians(&self, b: usize) -> f64 {
        self.sums[b][1]
    }

    #[inline(always)]
    pub fn count(&self, b: usize) -> usize {
        match self.counts {
            Some(c) => c[b] as usize,
            None => self.sums[b][1] as usize,
        }
    }
}

impl Histograms {
    pub fn feature(&self, f: usize) -> FeatureHistogram<'_> {
        FeatureHistogram { sums: &self.sums[f], counts: self.counts.as_ref().map(|c| &c[f]) }
    }

    /// Each group's histograms (`bounds`: the groups' first features, then the count), apart.
    pub fn parts(&mut self, bounds: &[usize]) -> Vec<Part<'_>> {
        let mut parts = Vec::with_capacity(bounds.len());
        let (mut s_rest, mut c_rest) = (self.sums.as_mut_slice(), self.counts.as_deref_mut());
        for w in bounds.windows(2) {
            let width = w[1] - w[0];
            let (sums, s_tail) = s_rest.split_at_mut(width);
            let (counts, c_tail) = match c_rest {
                Some(c) => {
                    let (c, tail) = c.split_at_mut(width);
                    (Some(c), Some(tail))
                }
                None => (None, None),
            };
            parts.push(Part { first: w[0], sums, counts });
            (s_rest, c_rest) = (s_tail, c_tail);
        }
        parts
    }
}

/// One group's histograms, borrowed from a node's [`Histograms`].
pub struct Part<'a> {
    /// The group's first feature.
    first: usize,
    sums: &'a mut [Sums],
    counts: Option<&'a mut [Counts]>,
}

impl Part<'_> {
    /// The group's features.
    pub fn features(&self) -> std::ops::Range<usize> {
        self.first..self.first + self.sums.len()
    }

    /// Feature `f` (one of the group's).
    pub fn feature(&self, f: usize) -> FeatureHistogram<'_> {
        let i = f - self.first;
        FeatureHistogram { sums: &self.sums[i], counts: self.counts.as_ref().map(|c| &c[i]) }
    }

    /// `compute_histograms_subtraction`: `self - sibling`, in place.
    pub fn subtract(&mut self, sibling: &Part<'_>) {
        for (a, b) in self.sums.iter_mut().flatten().zip(sibling.sums.iter().flatten()) {
            a[0] -= b[0];
            a[1] -= b[1];
        }
        if let (Some(a), Some(b)) = (self.counts.as_mut(), sibling.counts.as_ref()) {
            for (a, b) in a.iter_mut().flatten().zip(b.iter().flatten()) {
                *a -= b;
            }
        }
    }
}

pub struct HistogramBuilder<'a> {
    pub binned: &'a Binned,
    pub gradients: &'a [f32],
    /// `None` when the hessians are constant (then counts stand in for their sums).
    pub hessians: Option<&'a [f32]>,
}

/// The rows a histogram pass reads: every row in order (the root) or a node's.
#[derive(Clone, Copy)]
enum Rows<'a> {
    All,
    Node(&'a [u32]),
}

/// A node's rows with their gradients (and hessians) in the node's order, for every group's pass.
pub struct NodeRows<'a> {
    rows: Rows<'a>,
    g: std::borrow::Cow<'a, [f32]>,
    h: Option<std::borrow::Cow<'a, [f32]>>,
}

impl NodeRows<'_> {
    /// The histogram passes' work: row × feature cells.
    pub fn cells(&self, n_features: usize) -> usize {
        self.g.len() * n_features
    }
}

impl HistogramBuilder<'_> {
    /// The rows `samples` (in their order); at the root (every row, in order) the gradients
    /// are read in place, as `_build_histogram_root` does; below, they are gathered in the
    /// node's order once.
    pub fn node<'s>(&'s self, samples: &'s [u32]) -> NodeRows<'s> {
        use std::borrow::Cow;
        if samples.len() == self.binned.n {
            return NodeRows { rows: Rows::All, g: Cow::Borrowed(self.gradients), h: self.hessians.map(Cow::Borrowed) };
        }
        let gather = |v: &[f32]| -> Cow<'_, [f32]> { Cow::Owned(samples.iter().map(|&s| v[s as usize]).collect()) };
        NodeRows { rows: Rows::Node(samples), g: gather(self.gradients), h: self.hessians.map(gather) }
    }

    /// Histograms with every bin zero.
    pub fn zeroed(&self) -> Histograms {
        let n_features = self.binned.n_features;
        Histograms {
            sums: vec![[[0.0; 2]; STRIDE]; n_features],
            counts: self.hessians.map(|_| vec![[0u32; STRIDE]; n_features]),
        }
    }

    /// Adds the node's rows to a group's (zeroed) histograms: `compute_histograms_brute` of its features.
    pub fn fill(&self, node: &NodeRows<'_>, part: &mut Part<'_>) {
        let g = self.binned.bounds.partition_point(|&b| b <= part.first) - 1;
        group(self.binned.group(g), node.rows, &node.g, node.h.as_deref(), &mut *part.sums, part.counts.as_deref_mut());
    }

    /// `compute_histograms_brute` over the rows `samples`. Groups of features are independent
    /// sums, so they are built in parallel with the same numbers.
    pub fn brute(&self, samples: &[u32]) -> Histograms {
        let node = self.node(samples);
        let mut hist = self.zeroed();
        let parts = hist.parts(&self.binned.bounds);
        let build = |mut part: Part<'_>| self.fill(&node, &mut part);
        if node.cells(self.binned.n_features) >= PARALLEL_WORK {
            parts.into_par_iter().for_each(build);
        } else {
            parts.into_iter().for_each(build);
        }
        hist
    }
}

/// One group's histograms, dispatched on its width (at most 8 features).
fn group(bins: &[u8], rows: Rows<'_>, g: &[f32], h: Option<&[f32]>, s: &mut [Sums], c: Option<&mut [Counts]>) {
    match s.len() {
        1 => fill::<1>(bins, rows, g, h, s, c),
        2 => fill::<2>(bins, rows, g, h, s, c),
        3 => fill::<3>(bins, rows, g, h, s, c),
        4 => fill::<4>(bins, rows, g, h, s, c),
        5 => fill::<5>(bins, rows, g, h, s, c),
        6 => fill::<6>(bins, rows, g, h, s, c),
        7 => fill::<7>(bins, rows, g, h, s, c),
        8 => fill::<8>(bins, rows, g, h, s, c),
        _ => {}
    }
}

/// The histograms of a group of `W` features: row by row in the given order, each row's values
/// added to its bin of every feature of the group.
fn fill<const W: usize>(
    bins: &[u8],
    rows: Rows<'_>,
    g: &[f32],
    h: Option<&[f32]>,
    s: &mut [Sums],
    c: Option<&mut [Counts]>,
) {
    let (Ok(s), (bins, _)) = (<&mut [Sums; W]>::try_from(s), bins.as_chunks::<W>()) else { return };
    match (rows, h, c) {
        (Rows::All, None, _) => bins.iter().zip(g).for_each(|(row, &gi)| add(s, row, [f64::from(gi), 1.0])),
        (Rows::Node(samples), None, _) => ahead(samples).zip(g).for_each(|((i, next), &gi)| {
            prefetch(bins, next);
            add(s, &bins[i], [f64::from(gi), 1.0]);
        }),
        (rows, Some(h), Some(c)) => {
            let Ok(c) = <&mut [Counts; W]>::try_from(c) else { return };
            let mut each = |row: &[u8; W], gi: f32, hi: f32| {
                add(s, row, [f64::from(gi), f64::from(hi)]);
                for (lane, &b) in c.iter_mut().zip(row) {
                    lane[usize::from(b)] += 1;
                }
            };
            match rows {
                Rows::All => bins.iter().zip(g).zip(h).for_each(|((row, &gi), &hi)| each(row, gi, hi)),
                Rows::Node(samples) => ahead(samples).zip(g).zip(h).for_each(|(((i, next), &gi), &hi)| {
                    prefetch(bins, next);
                    each(&bins[i], gi, hi);
                }),
            }
        }
        (_, Some(_), None) => {}
    }
}

/// Rows ahead of the one being read that a node's pass asks the cache for: a node's rows are
/// scattered, so each would otherwise wait for its line.
pub const AHEAD: usize = 24;

/// Each row of `rows` with the row `AHEAD` places later (the last row near the end).
pub fn ahead(rows: &[u32]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let last = rows.len().saturating_sub(1);
    rows.iter().enumerate().map(move |(k, &r)| (r as usize, rows[(k + AHEAD).min(last)] as usize))
}

/// Asks for the cache line of `items[i]` (a hint: reads nothing, changes no result).
#[inline(always)]
pub fn prefetch<T>(items: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch never faults or reads into the program, whatever the address;
        // `wrapping_add` computes it without claiming it is in bounds.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(items.as_ptr().wrapping_add(i).cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (items, i);
}

/// One row's pair added to its bin of each feature.
#[inline(always)]
fn add<const W: usize>(s: &mut [Sums; W], row: &[u8; W], pair: [f64; 2]) {
    for (lane, &b) in s.iter_mut().zip(row) {
        let bin = &mut lane[usize::from(b)];
        bin[0] += pair[0];
        bin[1] += pair[1];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::hgb::binning::BinMapper;
    use ndarray::Array2;

    /// The plain per-feature loop scikit-learn runs (`_build_histogram*`): each row's values
    /// added to its bin in the given order, one feature at a time.
    fn plain(binned: &Binned, rows: &[u32], g: &[f32], h: Option<&[f32]>, f: usize) -> Vec<(f64, f64, usize)> {
        let column = binned.feature(f);
        let mut out = vec![(0.0, 0.0, 0); STRIDE];
        for &r in rows {
            let bin = &mut out[usize::from(column.get(r as usize))];
            bin.0 += f64::from(g[r as usize]);
            bin.1 += h.map_or(1.0, |h| f64::from(h[r as usize]));
            bin.2 += 1;
        }
        out
    }

    /// Every group width, the root and a node's rows, with and without hessians, serial and
    /// parallel: the bits of the plain loop.
    #[test]
    fn grouped_histograms_add_the_plain_loops_bits() {
        let mut rng = crate::random::RandomState::new(3);
        for (n, n_features) in [(300, 1), (300, 5), (5_000, 13), (9_000, 50)] {
            let x = Array2::from_shape_fn((n, n_features), |(i, f)| {
                if (i + f) % 17 == 0 {
                    f64::NAN
                } else {
                    rng.next_f64() * (f + 1) as f64
                }
            });
            let mapper = BinMapper::fit(&x, 255, None, 0, &[]);
            let binned = mapper.transform(&x);
            let g: Vec<f32> = (0..n).map(|_| (rng.next_f64() * 2.0 - 1.0) as f32 * 1e3).collect();
            let h: Vec<f32> = (0..n).map(|_| rng.next_f64() as f32).collect();
            let node: Vec<u32> = (0..n as u32).filter(|i| i % 3 != 1).collect();
            let all: Vec<u32> = (0..n as u32).collect();
            for hessians in [None, Some(h.as_slice())] {
                let builder = HistogramBuilder { binned: &binned, gradients: &g, hessians };
                for rows in [&all, &node] {
                    let hist = builder.brute(rows);
                    for f in 0..n_features {
                        let got = hist.feature(f);
                        let want = plain(&binned, rows, &g, hessians, f);
                        for (b, w) in want.iter().enumerate() {
                            let pair = (got.sum_gradients(b).to_bits(), got.sum_hessians(b).to_bits());
                            assert_eq!(pair, (w.0.to_bits(), w.1.to_bits()), "n {n}, feature {f}, bin {b}");
                            assert_eq!(got.count(b), w.2);
                        }
                    }
                }
            }
        }
    }
}
