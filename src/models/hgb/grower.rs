//! scikit-learn's `TreeGrower`: best-first growth from a max-heap of splittable nodes keyed
//! by gain (Python's `heapq`, so equal gains pop in its order), histogram subtraction for
//! the larger child, and shrinkage applied to the leaves at the end.

use super::binning::BinMapper;
use super::histogram::{HistogramBuilder, Histograms, Part, PARALLEL_WORK};
use super::numeric::pairwise_sum;
use super::splitting::{first_best, in_bitset, partition, NodeTotals, SplitInfo, Splitter, NO_SPLIT};
use super::tree::{HgbNode, HgbTree};
use super::FeatureSampler;
use rayon::prelude::*;

/// The limits of one tree (`max_leaf_nodes`, `max_depth`: `None` is unlimited).
pub struct Limits {
    pub max_leaf_nodes: Option<usize>,
    pub max_depth: Option<usize>,
    pub min_samples_leaf: usize,
    pub shrinkage: f64,
}

struct Node {
    depth: usize,
    start: usize,
    stop: usize,
    totals: NodeTotals,
    split: Option<SplitInfo>,
    histograms: Option<Histograms>,
    children: Option<(usize, usize)>,
    is_leaf: bool,
}

pub struct Grower<'a> {
    pub builder: HistogramBuilder<'a>,
    pub splitter: Splitter<'a>,
    pub limits: &'a Limits,
    pub sampler: &'a mut FeatureSampler,
    nodes: Vec<Node>,
    /// `splitter.partition`: every node's rows are a range of it.
    rows: Vec<u32>,
    heap: Vec<usize>,
    n_leaves: usize,
}

impl<'a> Grower<'a> {
    pub fn new(
        builder: HistogramBuilder<'a>,
        splitter: Splitter<'a>,
        limits: &'a Limits,
        sampler: &'a mut FeatureSampler,
    ) -> Self {
        let rows = (0..builder.binned.n as u32).collect();
        Grower { builder, splitter, limits, sampler, nodes: Vec::new(), rows, heap: Vec::new(), n_leaves: 0 }
    }

    /// `grow`: the tree, its leaves (partition range and value) and the partition, for
    /// the training rows' raw predictions. `update`, for a loss that is not differentiable,
    /// gives a leaf's value from its rows before shrinkage (`_update_leaves_values`).
    pub fn grow(mut self, mapper: &BinMapper, update: LeafUpdate<'_>) -> (HgbTree, Vec<(usize, usize, f64)>, Vec<u32>) {
        self.initialize_root();
        while !self.heap.is_empty() {
            self.split_next();
        }
        let shrinkage = self.limits.shrinkage;
        for node in self.nodes.iter_mut().filter(|n| n.is_leaf) {
            node.totals.value = match update {
                Some(f) => shrinkage * f(&self.rows[node.start..node.stop]),
                None => node.totals.value * shrinkage,
            };
        }
        let leaves = self.nodes.iter().filter(|n| n.is_leaf).map(|n| (n.start, n.stop, n.totals.value)).collect();
        let mut out = Vec::with_capacity(self.nodes.len());
        self.fill(0, mapper, &mut out);
        one_code_splits(&mut out);
        (HgbTree { nodes: out }, leaves, self.rows)
    }

    fn initialize_root(&mut self) {
        let n = self.rows.len();
        let histograms = self.builder.brute(&self.rows);
        let (n_bins, first) = (self.splitter.n_bins, histograms.feature(0));
        let sum_gradients = pairwise_sum(&(0..n_bins).map(|b| first.sum_gradients(b)).collect::<Vec<_>>());
        let sum_hessians = if self.splitter.hessians_are_constant {
            // `hessians[0] * n_samples` in float32.
            f64::from(n as f32)
        } else {
            pairwise_sum(&(0..n_bins).map(|b| first.sum_hessians(b)).collect::<Vec<_>>())
        };
        let totals = NodeTotals { n_samples: n, sum_gradients, sum_hessians, value: 0.0 };
        self.nodes.push(Node {
            depth: 0,
            start: 0,
            stop: n,
            totals,
            split: None,
            histograms: None,
            children: None,
            is_leaf: false,
        });
        if n < 2 * self.limits.min_samples_leaf || sum_hessians < self.splitter.min_hessian_to_split {
            self.finalize_leaf(0);
            return;
        }
        self.nodes[0].histograms = Some(histograms);
        self.compute_best_split_and_push(0);
    }

    /// The root's best split, its groups of features scanned in parallel.
    fn compute_best_split_and_push(&mut self, id: usize) {
        let allowed = self.sampler.draw(self.splitter.n_bins_non_missing.len());
        let node = &self.nodes[id];
        let Some(hist) = node.histograms.as_ref() else { return };
        let splitter = &self.splitter;
        let found: Vec<Option<SplitInfo>> = (self.builder.binned.bounds.par_windows(2))
            .map(|w| splitter.best_in(w[0]..w[1], |f| hist.feature(f), &node.totals, allowed.as_deref()))
            .collect();
        self.push_split(id, first_best(found).unwrap_or(NO_SPLIT));
    }

    fn push_split(&mut self, id: usize, split: SplitInfo) {
        self.nodes[id].split = Some(split);
        if split.gain <= 0.0 {
            self.finalize_leaf(id);
        } else {
            self.heap_push(id);
        }
    }

    /// The smaller child's histograms (a pass over its rows), the larger one's (`parent` minus
    /// them, in place) and the best split of each child `wanted` (its totals and allowed
    /// features), group by group in parallel: a group's passes, subtraction and scans are its own.
    fn children_splits(
        &self,
        small_rows: &[u32],
        parent: &mut Histograms,
        small_is_left: bool,
        wanted: [Option<Wanted<'_>>; 2],
    ) -> (Histograms, [SplitInfo; 2]) {
        let (builder, splitter) = (&self.builder, &self.splitter);
        let node = builder.node(small_rows);
        let mut small = builder.zeroed();
        let bounds = &builder.binned.bounds;
        let pairs: Vec<(Part<'_>, Part<'_>)> = small.parts(bounds).into_iter().zip(parent.parts(bounds)).collect();
        let each = |(mut s, mut l): (Part<'_>, Part<'_>)| -> [Option<SplitInfo>; 2] {
            builder.fill(&node, &mut s);
            l.subtract(&s);
            let sides = if small_is_left { [&s, &l] } else { [&l, &s] };
            std::array::from_fn(|c| {
                let (part, want) = (sides[c], wanted[c]);
                want.and_then(|(totals, allowed)| {
                    splitter.best_in(part.features(), |f| part.feature(f), totals, allowed)
                })
            })
        };
        let n_features = builder.binned.n_features;
        let scans = wanted.iter().flatten().count() * n_features * splitter.n_bins;
        let found: Vec<[Option<SplitInfo>; 2]> = if node.cells(n_features) + scans >= PARALLEL_WORK {
            pairs.into_par_iter().map(each).collect()
        } else {
            pairs.into_iter().map(each).collect()
        };
        let best = |c: usize| first_best(found.iter().map(|f| f[c])).unwrap_or(NO_SPLIT);
        (small, [best(0), best(1)])
    }

    fn finalize_leaf(&mut self, id: usize) {
        self.nodes[id].is_leaf = true;
        self.nodes[id].histograms = None;
        self.n_leaves += 1;
    }

    fn split_next(&mut self) {
        let id = self.heap_pop();
        let Some(mut split) = self.nodes[id].split else { return };
        let (start, stop, depth) = (self.nodes[id].start, self.nodes[id].stop, self.nodes[id].depth + 1);
        let column = self.builder.binned.feature(split.feature);
        let splitter = &self.splitter;
        let prefetch = |r: u32| column.prefetch(r as usize);
        let right_pos = match &split.left_bins {
            None => {
                partition(&mut self.rows[start..stop], |r| splitter.goes_left(&split, column.get(r as usize)), prefetch)
            }
            Some(set) => partition(&mut self.rows[start..stop], |r| in_bitset(set, column.get(r as usize)), prefetch),
        };
        let n_leaf_nodes = self.n_leaves + self.heap.len() + 2;
        let (n_left, n_right) = (right_pos, stop - start - right_pos);
        if !self.splitter.has_missing[split.feature] {
            split.missing_go_to_left = n_left > n_right;
            self.nodes[id].split = Some(split);
        }
        let left = self.child(
            depth,
            start,
            start + right_pos,
            split.sum_gradient_left,
            split.sum_hessian_left,
            split.value_left,
        );
        let right = self.child(
            depth,
            start + right_pos,
            stop,
            split.sum_gradient_right,
            split.sum_hessian_right,
            split.value_right,
        );
        self.nodes[id].children = Some((left, right));
        let parent_hist = self.nodes[id].histograms.take();
        if self.limited(left, right, depth, n_leaf_nodes) {
            return;
        }
        let (split_left, split_right) = (!self.nodes[left].is_leaf, !self.nodes[right].is_leaf);
        if !(split_left || split_right) {
            return;
        }
        let n_features = self.splitter.n_bins_non_missing.len();
        let allowed_left = if split_left { self.sampler.draw(n_features) } else { None };
        let allowed_right = if split_right { self.sampler.draw(n_features) } else { None };
        let small_is_left = n_left < n_right;
        let (small, large) = if small_is_left { (left, right) } else { (right, left) };
        let Some(mut parent_hist) = parent_hist else { return };
        let wanted = [
            split_left.then(|| (&self.nodes[left].totals, allowed_left.as_deref())),
            split_right.then(|| (&self.nodes[right].totals, allowed_right.as_deref())),
        ];
        let small_rows = &self.rows[self.nodes[small].start..self.nodes[small].stop];
        let (small_hist, [found_left, found_right]) =
            self.children_splits(small_rows, &mut parent_hist, small_is_left, wanted);
        self.nodes[large].histograms = Some(parent_hist);
        self.nodes[small].histograms = Some(small_hist);
        if split_left {
            self.push_split(left, found_left);
        }
        if split_right {
            self.push_split(right, found_right);
        }
        for child in [left, right] {
            if self.nodes[child].is_leaf {
                self.nodes[child].histograms = None;
            }
        }
    }

    /// Makes leaves of what the limits stop: every node when the leaf count is reached (true), both
    /// children at the depth limit (true), else each child too small to split.
    fn limited(&mut self, left: usize, right: usize, depth: usize, n_leaf_nodes: usize) -> bool {
        if self.limits.max_leaf_nodes == Some(n_leaf_nodes) {
            self.finalize_leaf(left);
            self.finalize_leaf(right);
            while let Some(rest) = self.heap.pop() {
                self.finalize_leaf(rest);
            }
            return true;
        }
        if self.limits.max_depth == Some(depth) {
            self.finalize_leaf(left);
            self.finalize_leaf(right);
            return true;
        }
        for child in [left, right] {
            if self.nodes[child].totals.n_samples < 2 * self.limits.min_samples_leaf {
                self.finalize_leaf(child);
            }
        }
        false
    }

    fn child(&mut self, depth: usize, start: usize, stop: usize, g: f64, h: f64, value: f64) -> usize {
        let totals = NodeTotals { n_samples: stop - start, sum_gradients: g, sum_hessians: h, value };
        self.nodes.push(Node {
            depth,
            start,
            stop,
            totals,
            split: None,
            histograms: None,
            children: None,
            is_leaf: false,
        });
        self.nodes.len() - 1
    }

    /// heapq's `a < b`: the larger gain comes first.
    fn before(&self, a: usize, b: usize) -> bool {
        let gain = |id: usize| self.nodes[id].split.map_or(-1.0, |s| s.gain);
        gain(a) > gain(b)
    }

    /// `heapq.heappush`.
    fn heap_push(&mut self, id: usize) {
        self.heap.push(id);
        let end = self.heap.len() - 1;
        self.sift_down(0, end);
    }

    /// `heapq.heappop`.
    fn heap_pop(&mut self) -> usize {
        let last = self.heap.pop().unwrap_or(0);
        if self.heap.is_empty() {
            return last;
        }
        let top = std::mem::replace(&mut self.heap[0], last);
        self.sift_up(0);
        top
    }

    fn sift_down(&mut self, start: usize, mut pos: usize) {
        let item = self.heap[pos];
        while pos > start {
            let parent_pos = (pos - 1) >> 1;
            let parent = self.heap[parent_pos];
            if self.before(item, parent) {
                self.heap[pos] = parent;
                pos = parent_pos;
                continue;
            }
            break;
        }
        self.heap[pos] = item;
    }

    fn sift_up(&mut self, mut pos: usize) {
        let end = self.heap.len();
        let start = pos;
        let item = self.heap[pos];
        let mut child = 2 * pos + 1;
        while child < end {
            let right = child + 1;
            if right < end && !self.before(self.heap[child], self.heap[right]) {
                child = right;
            }
            self.heap[pos] = self.heap[child];
            pos = child;
            child = 2 * pos + 1;
        }
        self.heap[pos] = item;
        self.sift_down(start, pos);
    }

    /// `_fill_predictor_arrays`: nodes in depth-first order, left subtree first.
    fn fill(&self, id: usize, mapper: &BinMapper, out: &mut Vec<HgbNode>) {
        let node = &self.nodes[id];
        let at = out.len();
        match (node.is_leaf, node.split, node.children) {
            (false, Some(split), Some((left, right))) => {
                out.push(HgbNode::Leaf(0.0));
                self.fill(left, mapper, out);
                let right_at = out.len();
                self.fill(right, mapper, out);
                out[at] = split_node(&split, mapper, at + 1, right_at);
            }
            _ => out.push(HgbNode::Leaf(node.totals.value)),
        }
    }
}

/// A split's node. A numeric one's threshold is its bin's upper threshold (infinite for the
/// last non-missing bin); a categorical one's codes going left are its bins' known categories
/// (`set_raw_bitset_from_binned_bitset`; the missing bin is none of them).
fn split_node(split: &SplitInfo, mapper: &BinMapper, left: usize, right: usize) -> HgbNode {
    let f = split.feature;
    let missing_left = split.missing_go_to_left;
    if let Some(set) = &split.left_bins {
        let categories = &mapper.thresholds[f];
        let mut left_codes: Vec<usize> =
            (0..categories.len()).filter(|&b| in_bitset(set, b as u8)).map(|b| categories[b] as usize).collect();
        left_codes.sort_unstable();
        return HgbNode::Category { feature: f, count: categories.len(), left_codes, missing_left, left, right };
    }
    let threshold = if usize::from(split.bin) == mapper.n_bins_non_missing[f] - 1 {
        f64::INFINITY
    } else {
        mapper.thresholds[f][usize::from(split.bin)]
    };
    HgbNode::Split { feature: f, threshold, bin: split.bin, missing_left, left, right }
}

/// scikit-learn 1.9.1's `_fill_predictor_arrays` takes a split on a feature of one code (its
/// bin 0 is its last non-missing bin) for a split on NaN: it gets no bitset of its own and
/// predicts with the tree's first, that of the first other categorical split in depth-first
/// order (empty if none). Only code 0 is known, so the split sends it left iff that set holds 0,
/// whichever side it went to in training (which the training rows' predictions keep).
fn one_code_splits(nodes: &mut [HgbNode]) {
    let zero_left = nodes
        .iter()
        .find_map(|n| match n {
            HgbNode::Category { count, left_codes, .. } if *count != 1 => Some(left_codes.first() == Some(&0)),
            _ => None,
        })
        .unwrap_or(false);
    for node in nodes {
        if let HgbNode::Category { count: 1, left_codes, .. } = node {
            *left_codes = if zero_left { vec![0] } else { Vec::new() };
        }
    }
}

/// A child to find a split for: its totals and the features it may split on (`None`: all).
type Wanted<'a> = (&'a NodeTotals, Option<&'a [bool]>);

/// `_update_raw_predictions`: each training row gets its leaf's value added.
pub fn update_raw(raw: &mut [f64], rows: &[u32], leaves: &[(usize, usize, f64)]) {
    for &(start, stop, value) in leaves {
        for &r in &rows[start..stop] {
            raw[r as usize] += value;
        }
    }
}

/// A non-differentiable loss's leaf value from the leaf's rows (absolute_error: the residuals' median).
pub type LeafUpdate<'a> = Option<&'a dyn Fn(&[u32]) -> f64>;
