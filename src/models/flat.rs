//! Trees as flat arrays, for prediction: a node is 16 bytes (feature, an f32 threshold,
//! children), the leaves' values sit in one array, and rows are read as f32 once. Splits
//! compare `x as f32 <= t` exactly as the grown tree does (`t` rounded down to the largest f32
//! at most the f64 threshold, which tells every f32 apart the same way), so every leaf, and so
//! every digit, is the grown tree's.
//!
//! model.json's nodes (`{"split": {...}}` / `{"leaf": [...]}`) are read straight into these
//! arrays and written from them ([`FlatTree`]'s `Serialize` and `Deserialize`): no value per
//! node, no vector per leaf.
//!
//! [`TreeSum`] predicts with trees summed in tree order (a forest, or one tree): blocks of rows
//! in parallel, each block tree by tree, several rows walking a tree at once (a leaf steps to
//! itself, so the rows step without a branch on their way and are looked at in turns). For permutation
//! importance, [`Routed`] keeps the leaf each test row reaches in each tree, and a shuffle of
//! one column keeps a row's leaf while its new value stays in the range its path allows; the
//! others walk again from the topmost node on their path that tests a shuffled column.

use super::tree::Node;
use super::Prediction;
use ndarray::{s, Array1, Array2, ArrayView2};
use rayon::prelude::*;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, SerializeStructVariant};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod dependence;
mod line;

pub use dependence::Outputs;

/// No ancestor testing a shuffled column.
const NONE: u32 = u32::MAX;
/// HGB's rows predicted together, tree by tree (`block_rows`): at most `MAX_BLOCK` (4,096 rows as f32 and the part
/// of a deep tree they visit stay in a core's cache while the block walks the tree: 4× fewer
/// cache misses than 256 rows), at least `MIN_BLOCK`, else as many blocks as threads.
const MAX_BLOCK: usize = 4096;
const MIN_BLOCK: usize = 256;
/// A forest's blocks: as many as threads, up to `MAX_TREE_BLOCK` rows. A deep tree's nodes are
/// fetched once per block, and that is most of a walk's cost: blocks of 50,000 rows take a
/// third less time than blocks of 4,096 on a 500-tree forest (bench/forest_predict.sh).
const MAX_TREE_BLOCK: usize = 65536;
/// Rows walking one tree at once (HGB's branching `walk`): independent walks overlap their
/// memory reads (more lanes than registers hold are slower).
const LANES: usize = 8;
/// The same for a forest's branchless walk (`FlatTree::leaves`), whose unchecked steps hold fewer values in
/// registers: 8, 10, 12 and 14 lanes walk a 500-tree forest in 0.50, 0.44, 0.45 and 0.72 s (BENCHMARKS.md).
const TREE_LANES: usize = 10;
/// Steps each lane takes between looks at which lanes have reached their leaf.
const STEPS: usize = 5;

#[derive(Debug, Clone, Copy)]
struct FlatNode {
    /// 0 for a leaf.
    feature: u32,
    /// The largest f32 at most the split's threshold; NaN for a leaf (no value is at most NaN,
    /// so a step from a leaf goes right: to the leaf itself).
    threshold: f32,
    /// A split's children; a leaf's first value in `values`, and the leaf itself.
    left: u32,
    right: u32,
}

/// Equal when every field is the same bits (a leaf's NaN too).
impl PartialEq for FlatNode {
    fn eq(&self, other: &Self) -> bool {
        let bits = |n: &FlatNode| (n.feature, n.threshold.to_bits(), n.left, n.right);
        bits(self) == bits(other)
    }
}

/// One tree's nodes in build order (children after their parent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlatTree {
    nodes: Vec<FlatNode>,
    /// Each split's threshold as grown (what model.json saves); 0 for a leaf.
    thresholds: Vec<f64>,
    /// The leaves' values in node order.
    values: Vec<f64>,
    /// The number of values of a leaf: the first leaf's (`None` before it).
    leaf_len: Option<usize>,
    /// The first leaf with another number of values, and that number (loading refuses it).
    uneven: Option<(usize, usize)>,
    /// One more than the largest split feature and than the largest child: `leaves` walks with
    /// unchecked loads only when a row holds those features and every child is a node.
    columns: usize,
    children: usize,
}

/// The largest f32 `r` with `r <= t`: for any f32 `x`, `x <= r` exactly when `f64(x) <= t`.
fn f32_at_most(t: f64) -> f32 {
    let r = t as f32;
    if f64::from(r) > t {
        r.next_down()
    } else {
        r
    }
}

impl FlatTree {
    /// From grown nodes (children later than their parent, ids below `u32::MAX`).
    pub fn new(nodes: &[Node]) -> FlatTree {
        let mut flat = FlatTree { nodes: Vec::with_capacity(nodes.len()), ..FlatTree::default() };
        flat.thresholds.reserve(nodes.len());
        for node in nodes {
            match node {
                Node::Leaf(values) => {
                    let start = flat.values.len();
                    flat.values.extend_from_slice(values);
                    flat.push_leaf(start);
                }
                Node::Split { feature, threshold, left, right } => {
                    flat.push_split(*feature as u32, *threshold, *left as u32, *right as u32)
                }
            }
        }
        flat
    }

    fn push_split(&mut self, feature: u32, threshold: f64, left: u32, right: u32) {
        self.nodes.push(FlatNode { feature, threshold: f32_at_most(threshold), left, right });
        self.thresholds.push(threshold);
        self.columns = self.columns.max(feature as usize + 1);
        self.children = self.children.max(left.max(right) as usize + 1);
    }

    /// A leaf whose values are `values[start..]`.
    fn push_leaf(&mut self, start: usize) {
        let (i, count) = (self.nodes.len(), self.values.len() - start);
        match self.leaf_len {
            None => self.leaf_len = Some(count),
            Some(len) if len != count && self.uneven.is_none() => self.uneven = Some((i, count)),
            Some(_) => {}
        }
        self.nodes.push(FlatNode { feature: 0, threshold: f32::NAN, left: start as u32, right: i as u32 });
        self.thresholds.push(0.0);
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// A split's (feature, left, right); `None` for a leaf.
    pub fn split(&self, i: usize) -> Option<(usize, usize, usize)> {
        let n = self.nodes[i];
        (!n.threshold.is_nan()).then_some((n.feature as usize, n.left as usize, n.right as usize))
    }

    /// A split's threshold as grown.
    pub fn threshold(&self, i: usize) -> f64 {
        self.thresholds[i]
    }

    /// The values of leaf node `leaf` (those read, up to the first uneven leaf).
    pub fn value(&self, leaf: usize) -> &[f64] {
        let len = match self.uneven {
            Some((i, count)) if i == leaf => count,
            _ => self.leaf_len.unwrap_or(0),
        };
        let start = self.nodes[leaf].left as usize;
        self.values.get(start..start + len).unwrap_or_default()
    }

    /// The leaf node a row reaches from node `at`, its feature `f` being `feature(f)`.
    fn descend(&self, mut at: usize, feature: impl Fn(usize) -> f32) -> usize {
        loop {
            let n = self.nodes[at];
            if n.threshold.is_nan() {
                return at;
            }
            at = if feature(n.feature as usize) <= n.threshold { n.left } else { n.right } as usize;
        }
    }

    /// The `len` values from `start` (a leaf's, as `leaves` gives them).
    fn leaf_values(&self, start: u32, len: usize) -> &[f64] {
        let start = start as usize;
        self.values.get(start..start + len).unwrap_or_default()
    }

    /// Whether node `i` is a leaf.
    fn is_leaf(&self, i: usize) -> bool {
        self.nodes[i].threshold.is_nan()
    }

    /// The leaf node an f32 row reaches.
    pub fn leaf(&self, row: &[f32]) -> usize {
        self.descend(0, |f| row[f])
    }

    /// The first value (in `values`) of the leaf each row of `rows` reaches, into `out` (one per row).
    fn leaves(&self, rows: &Rows32, out: &mut [u32]) {
        self.walk(&rows.data, rows.width, out.len(), |_| 0, |i, leaf| out[i] = leaf.left);
    }

    /// Each of `n` rows of `rows` (`width` values each) walked from node `from(i)` down to its leaf, given to
    /// `reached(i, leaf)` (which may also see a node on the way: the leaf comes last). `TREE_LANES` rows walk at
    /// once, each taking `STEPS` steps before the lanes at a leaf take the next rows: no branch on the side a row
    /// takes (a coin toss to the branch predictor) nor on which lanes are done, and no bounds check (a tenth of
    /// the walk) once `walkable` holds; else each row walks alone, checked.
    fn walk(
        &self,
        rows: &[f32],
        width: usize,
        n: usize,
        from: impl Fn(usize) -> u32,
        mut reached: impl FnMut(usize, FlatNode),
    ) {
        let Some(last) = n.checked_sub(1) else { return };
        if !self.walkable(rows, width, n) || (0..n).any(|i| from(i) as usize >= self.nodes.len()) {
            for i in 0..n {
                reached(i, self.nodes[self.descend(from(i) as usize, |f| rows[i * width + f])]);
            }
            return;
        }
        let mut row: [usize; TREE_LANES] = std::array::from_fn(|k| k.min(last));
        let mut start: [usize; TREE_LANES] = std::array::from_fn(|k| row[k] * width);
        let mut at: [u32; TREE_LANES] = std::array::from_fn(|k| from(row[k]));
        let mut next = TREE_LANES;
        while next < n {
            for _ in 0..STEPS {
                for k in 0..TREE_LANES {
                    // SAFETY (`walkable` and the starts checked above): `at[k]` is a start, a split's child or
                    // a leaf (its own right child), all nodes; a node's feature is below `width`, so the read
                    // is in row `row[k] <= last`.
                    let node = unsafe { *self.nodes.get_unchecked(at[k] as usize) };
                    let x = unsafe { *rows.get_unchecked(start[k] + node.feature as usize) };
                    at[k] = if x <= node.threshold { node.left } else { node.right };
                }
            }
            // A lane hands on where it is and, at a leaf, takes the next row (the last row again past
            // the end: a lane still walking it is finished below).
            for k in 0..TREE_LANES {
                // SAFETY: as above.
                let node = unsafe { *self.nodes.get_unchecked(at[k] as usize) };
                let done = node.threshold.is_nan();
                reached(row[k], node);
                row[k] = if done { next.min(last) } else { row[k] };
                start[k] = row[k] * width;
                at[k] = if done { from(row[k]) } else { at[k] };
                next += usize::from(done);
            }
        }
        for k in 0..TREE_LANES {
            reached(row[k], self.nodes[self.descend(at[k] as usize, |f| rows[start[k] + f])]);
        }
    }

    /// Whether `walk` may walk `n` rows of `rows` (`width` values each) without bounds checks: there is a node 0,
    /// every child is a node, and every feature a split tests (and a leaf's 0) is in each of the rows.
    fn walkable(&self, rows: &[f32], width: usize, n: usize) -> bool {
        let nodes = self.nodes.len();
        nodes > 0 && self.children <= nodes && self.columns <= width && width > 0 && rows.len() >= n * width
    }
}

/// The rows of a block when `n` rows are predicted (see `MAX_BLOCK`).
pub(crate) fn block_rows(n: usize) -> usize {
    n.div_ceil(rayon::current_num_threads()).clamp(MIN_BLOCK, MAX_BLOCK)
}

/// Walks `out.len()` rows down a tree from node 0, `LANES` rows in flight: `step(node, row)` is
/// the next node, `None` at a leaf, whose index goes into `out[row]`. The walks of different
/// rows do not wait for each other, so their memory reads overlap.
pub(crate) fn walk(out: &mut [u32], step: impl Fn(usize, usize) -> Option<u32>) {
    let n = out.len();
    let mut live = n.min(LANES);
    let mut next = live;
    let mut row: [usize; LANES] = std::array::from_fn(|k| k);
    let mut at = [0u32; LANES];
    while live > 0 {
        let mut k = 0;
        while k < live {
            if let Some(child) = step(at[k] as usize, row[k]) {
                at[k] = child;
                k += 1;
                continue;
            }
            out[row[k]] = at[k];
            if next < n {
                (row[k], at[k], next) = (next, 0, next + 1);
                k += 1;
            } else {
                // The last live lane takes this one's place.
                live -= 1;
                (row[k], at[k]) = (row[live], at[live]);
            }
        }
    }
}

/// A matrix's rows as f32 (scikit-learn's `X.astype(float32)`), row-major.
pub struct Rows32 {
    data: Vec<f32>,
    width: usize,
}

impl Rows32 {
    pub fn new(x: ArrayView2<f64>) -> Rows32 {
        Rows32 { data: x.iter().map(|&v| v as f32).collect(), width: x.ncols() }
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.width..(i + 1) * self.width]
    }
}

/// Trees whose leaves are summed in tree order: a forest's mean (`mean`: the sum over the tree
/// count), or one tree's leaf as it is.
pub struct TreeSum<'a> {
    pub trees: Vec<&'a FlatTree>,
    /// 0 for regression.
    pub classes: usize,
    pub mean: bool,
}

impl TreeSum<'_> {
    fn width(&self) -> usize {
        self.classes.max(1)
    }

    /// Adds one tree's leaf to a row's sum (a lone tree's leaf is taken as it is).
    fn add(&self, sum: &mut [f64], leaf: &[f64]) {
        if self.mean {
            for (s, v) in sum.iter_mut().zip(leaf) {
                *s += v;
            }
        } else {
            sum.copy_from_slice(leaf);
        }
    }

    /// Adds each row's leaf (`leaves`, as `FlatTree::leaves` gives them) of `tree` to the row's sum in `sums`, as
    /// `add` does: a mean's one- and two-value leaves (regression, two classes) in loops of their own (a third
    /// of the time of the general one).
    fn add_leaves(&self, tree: &FlatTree, sums: &mut [f64], leaves: &[u32]) {
        match (self.mean, self.width()) {
            (true, 1) => add_each::<1>(&tree.values, sums, leaves),
            (true, 2) => add_each::<2>(&tree.values, sums, leaves),
            (_, width) => {
                for (sum, &leaf) in sums.chunks_mut(width).zip(leaves) {
                    self.add(sum, tree.leaf_values(leaf, width));
                }
            }
        }
    }

    /// Blocks of rows in parallel, each tree by tree; when the blocks are too few to keep every
    /// thread busy, the trees in parallel instead. Either way each row's sum runs in tree order.
    pub fn predict(&self, x: &Array2<f64>) -> Prediction {
        let (n, width) = (x.nrows(), self.width());
        let block_rows = n.div_ceil(rayon::current_num_threads()).clamp(MIN_BLOCK, MAX_TREE_BLOCK);
        if n.div_ceil(block_rows) < rayon::current_num_threads() && self.trees.len() > 1 {
            return self.predict_by_trees(x);
        }
        let mut sums = vec![0.0; n * width];
        sums.par_chunks_mut(block_rows * width).enumerate().for_each(|(b, block)| {
            let start = b * block_rows;
            let rows = Rows32::new(x.slice(s![start..start + block.len() / width, ..]));
            let mut leaves = vec![0u32; block.len() / width];
            for tree in &self.trees {
                tree.leaves(&rows, &mut leaves);
                self.add_leaves(tree, block, &leaves);
            }
        });
        self.output(sums, n)
    }

    /// Each tree's leaves in parallel, then each row's sum in tree order.
    fn predict_by_trees(&self, x: &Array2<f64>) -> Prediction {
        let (n, width) = (x.nrows(), self.width());
        let rows = Rows32::new(x.view());
        let leaves: Vec<Vec<u32>> = self
            .trees
            .par_iter()
            .map(|tree| {
                let mut leaves = vec![0u32; n];
                tree.leaves(&rows, &mut leaves);
                leaves
            })
            .collect();
        let mut sums = vec![0.0; n * width];
        sums.par_chunks_mut(width).enumerate().for_each(|(i, sum)| {
            for (tree, leaves) in self.trees.iter().zip(&leaves) {
                self.add(sum, tree.leaf_values(leaves[i], width));
            }
        });
        self.output(sums, n)
    }
    /// Row sums (`width` each) as the prediction: over the tree count for a mean.
    fn output(&self, mut sums: Vec<f64>, n: usize) -> Prediction {
        self.mean_of(&mut sums);
        if self.classes == 0 {
            return Prediction::Values(Array1::from(sums));
        }
        match Array2::from_shape_vec((n, self.classes), sums) {
            Ok(p) => Prediction::Probabilities(p),
            Err(_) => Prediction::Probabilities(Array2::zeros((n, self.classes))),
        }
    }

    /// Sums over the tree count for a mean (a lone tree's leaf is its prediction).
    fn mean_of(&self, sums: &mut [f64]) {
        if self.mean {
            let n_trees = self.trees.len() as f64;
            for s in sums {
                *s /= n_trees;
            }
        }
    }

    /// The leaf each row of `x` reaches in each tree, for shuffles of its columns.
    pub fn route(&self, x: &Array2<f64>) -> Routed<'_> {
        let rows = Rows32::new(x.view());
        let n = x.nrows();
        let mut leaves = vec![0u32; n * self.trees.len()];
        leaves
            .par_chunks_mut(n.max(1))
            .zip(&self.trees)
            .for_each(|(tree_leaves, tree)| tree.leaves(&rows, tree_leaves));
        Routed { sum: self, rows, leaves, n }
    }
}

/// Adds `values[leaf..leaf + W]` to each row's `W` sums (nothing for a leaf past the values, as `leaf_values`).
fn add_each<const W: usize>(values: &[f64], sums: &mut [f64], leaves: &[u32]) {
    for (sum, &leaf) in sums.chunks_exact_mut(W).zip(leaves) {
        let leaf = leaf as usize;
        if let Some(v) = values.get(leaf..leaf + W) {
            for (s, v) in sum.iter_mut().zip(v) {
                *s += v;
            }
        }
    }
}

/// A matrix's rows routed through a [`TreeSum`]: each row's leaf in each tree.
pub struct Routed<'a> {
    sum: &'a TreeSum<'a>,
    rows: Rows32,
    /// Tree by tree, `leaves[t * n + i]`: the first value (in the tree's `values`) of the leaf.
    leaves: Vec<u32>,
    n: usize,
}

/// For each tree and leaf (by its first value), the topmost strict ancestor that tests one of some columns (`NONE` if
/// none) and, when the columns are one, the values of it (as f32) that keep a row on the node's
/// path: `lo < x <= hi` (for several columns the range is empty); and for each tree, the routed
/// rows whose leaf has such an ancestor (the only ones a shuffle of those columns can move).
pub struct Ancestors {
    columns: Vec<bool>,
    /// The one shuffled column.
    single: Option<usize>,
    top: Vec<Vec<u32>>,
    range: Vec<Vec<(f32, f32)>>,
    movable: Vec<Vec<u32>>,
}

impl Routed<'_> {
    /// The ancestors that test any of `cols` (columns of the routed matrix).
    pub fn ancestors(&self, cols: &[usize]) -> Ancestors {
        let mut columns = vec![false; self.rows.width];
        for &c in cols {
            columns[c] = true;
        }
        let single = match cols {
            [c] => Some(*c),
            _ => None,
        };
        let mut ancestors = Ancestors { columns, single, top: Vec::new(), range: Vec::new(), movable: Vec::new() };
        for (t, tree) in self.sum.trees.iter().enumerate() {
            let mut top = vec![NONE; tree.node_count()];
            let mut range = vec![(f32::NEG_INFINITY, f32::INFINITY); tree.node_count()];
            for a in 0..tree.node_count() {
                let Some((feature, l, r)) = tree.split(a) else { continue };
                let ((lo, hi), thr) = (range[a], tree.nodes[a].threshold);
                let (above, on_left, on_right) = match (ancestors.columns[feature], single) {
                    (false, _) => (top[a], (lo, hi), (lo, hi)),
                    (true, Some(_)) => {
                        (if top[a] == NONE { a as u32 } else { top[a] }, (lo, hi.min(thr)), (lo.max(thr), hi))
                    }
                    (true, None) => (if top[a] == NONE { a as u32 } else { top[a] }, EMPTY, EMPTY),
                };
                (top[l], range[l], top[r], range[r]) = (above, on_left, above, on_right);
            }
            // By each leaf's first value, as the routed rows hold their leaves.
            let mut top_at = vec![NONE; tree.values.len() + 1];
            let mut range_at = vec![EMPTY; tree.values.len() + 1];
            for a in (0..tree.node_count()).filter(|&a| tree.is_leaf(a)) {
                let start = (tree.nodes[a].left as usize).min(tree.values.len());
                (top_at[start], range_at[start]) = (top[a], range[a]);
            }
            let leaves = &self.leaves[t * self.n..(t + 1) * self.n];
            ancestors
                .movable
                .push((0..self.n as u32).filter(|&i| top_at[leaves[i as usize] as usize] != NONE).collect());
            ancestors.top.push(top_at);
            ancestors.range.push(range_at);
        }
        ancestors
    }

    /// The prediction of rows `rows` (all when `None`) of the routed matrix with the columns of
    /// `ancestors` permuted among them by `perm` (row `i` takes them from row `perm[i]`): equal
    /// to predicting that matrix. Tree by tree, each row takes its routed leaf, but a movable row
    /// whose shuffled value leaves its leaf's range (or any movable row, for several columns)
    /// walks again from the topmost node on its path that tests a shuffled column, `TREE_LANES` rows
    /// at once; the leaves' values are added to the rows' sums in tree order.
    pub fn shuffled(&self, ancestors: &Ancestors, rows: Option<&[usize]>, perm: &[usize]) -> Prediction {
        let sum = self.sum;
        let (width, n_cols) = (sum.width(), self.rows.width);
        let row = |i: usize| rows.map_or(i, |r| r[i]);
        // Where each routed row is scored (`NONE`: not scored).
        let position: Option<Vec<u32>> = rows.map(|r| {
            let mut p = vec![NONE; self.n];
            for (i, &routed) in r.iter().enumerate() {
                p[routed] = i as u32;
            }
            p
        });
        let shuffled_cols: Vec<usize> = (0..n_cols).filter(|&c| ancestors.columns[c]).collect();
        // The one shuffled column's value each scored row takes.
        let incoming: Option<Vec<f32>> =
            ancestors.single.map(|c| (0..perm.len()).map(|i| self.rows.row(row(perm[i]))[c]).collect());
        let mut sums = vec![0.0; perm.len() * width];
        let mut leaf_of = vec![0u32; perm.len()];
        // The rows to walk again: their scored index, their shuffled row, and where they start.
        let (mut moved, mut walked, mut at) = (Vec::new(), Vec::new(), Vec::new());
        for (t, tree) in sum.trees.iter().enumerate() {
            let leaves = &self.leaves[t * self.n..(t + 1) * self.n];
            for (i, leaf) in leaf_of.iter_mut().enumerate() {
                *leaf = leaves[row(i)];
            }
            let (top, range) = (&ancestors.top[t], &ancestors.range[t]);
            moved.clear();
            walked.clear();
            at.clear();
            for &r in &ancestors.movable[t] {
                let i = match &position {
                    None if (r as usize) < perm.len() => r as usize,
                    Some(p) if p[r as usize] != NONE => p[r as usize] as usize,
                    _ => continue,
                };
                let leaf = leaves[r as usize] as usize;
                if let Some(incoming) = &incoming {
                    let ((lo, hi), x) = (range[leaf], incoming[i]);
                    if lo < x && x <= hi {
                        continue;
                    }
                }
                let (own, other) = (self.rows.row(r as usize), self.rows.row(row(perm[i])));
                walked.extend_from_slice(own);
                let shuffled_row = &mut walked[moved.len() * n_cols..];
                for &c in &shuffled_cols {
                    shuffled_row[c] = other[c];
                }
                moved.push(i);
                at.push(top[leaf]);
            }
            tree.walk(&walked, n_cols, at.len(), |j| at[j], |j, leaf| leaf_of[moved[j]] = leaf.left);
            sum.add_leaves(tree, &mut sums, &leaf_of);
        }
        sum.output(sums, perm.len())
    }
}

/// No value is in it.
const EMPTY: (f32, f32) = (f32::INFINITY, f32::NEG_INFINITY);

/// Written as model.json has always held a tree's nodes (`Node`'s form), from the arrays.
impl Serialize for FlatTree {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.nodes.len()))?;
        for i in 0..self.nodes.len() {
            seq.serialize_element(&SavedNode(self, i))?;
        }
        seq.end()
    }
}

/// Node `.1` of a tree, serialized as `Node` is.
struct SavedNode<'a>(&'a FlatTree, usize);

impl Serialize for SavedNode<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (tree, i) = (self.0, self.1);
        let Some((feature, left, right)) = tree.split(i) else {
            return s.serialize_newtype_variant("Node", 0, "leaf", tree.value(i));
        };
        let mut split = s.serialize_struct_variant("Node", 1, "split", 4)?;
        split.serialize_field("feature", &feature)?;
        split.serialize_field("threshold", &tree.thresholds[i])?;
        split.serialize_field("left", &left)?;
        split.serialize_field("right", &right)?;
        split.end()
    }
}

/// Read as `Vec<Node>` would be, straight into the arrays. Shapes are checked here (a key of
/// each node, whole numbers that fit); what the nodes say is checked when a model is loaded
/// (`Tree::from_flat`).
impl<'de> Deserialize<'de> for FlatTree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(NodesVisitor)
    }
}

struct NodesVisitor;

impl<'de> Visitor<'de> for NodesVisitor {
    type Value = FlatTree;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of tree nodes")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FlatTree, A::Error> {
        let mut tree = FlatTree::default();
        while seq.next_element_seed(NodeSeed(&mut tree))?.is_some() {}
        Ok(tree)
    }
}

/// One node, `{"leaf": [...]}` or `{"split": {...}}`, appended to a tree.
struct NodeSeed<'a>(&'a mut FlatTree);

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum NodeKey {
    Leaf,
    Split,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Split {
    feature: u64,
    threshold: f64,
    left: u64,
    right: u64,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a node: {\"leaf\": [...]} or {\"split\": {...}}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let tree = self.0;
        let i = tree.nodes.len();
        // Node ids, features and value offsets are u32s; `LEAF` is none of them.
        let fits = |v: u64, what: &str| -> Result<u32, A::Error> {
            u32::try_from(v).ok().filter(|&v| v < u32::MAX).ok_or_else(|| {
                de::Error::custom(format!("node {i}: {what} is {v}, more than a tree holds (below {})", u32::MAX))
            })
        };
        fits(i as u64, "the node count")?;
        match map.next_key::<NodeKey>()? {
            None => return Err(de::Error::invalid_length(0, &ONE_KEY)),
            Some(NodeKey::Leaf) => {
                let start = tree.values.len();
                fits(start as u64, "the leaf values' count")?;
                map.next_value_seed(LeafSeed(&mut tree.values))?;
                fits(tree.values.len() as u64, "the leaf values' count")?;
                tree.push_leaf(start);
            }
            Some(NodeKey::Split) => {
                let s: Split = map.next_value()?;
                let (feature, left, right) =
                    (fits(s.feature, "split.feature")?, fits(s.left, "split.left")?, fits(s.right, "split.right")?);
                tree.push_split(feature, s.threshold, left, right);
            }
        }
        match map.next_key::<de::IgnoredAny>()? {
            Some(_) => Err(de::Error::invalid_length(2, &ONE_KEY)),
            None => Ok(()),
        }
    }
}

/// What a node is, for errors.
const ONE_KEY: &str = "a node with one key, leaf or split";

/// A leaf's values, appended to the tree's.
struct LeafSeed<'a>(&'a mut Vec<f64>);

impl<'de> DeserializeSeed<'de> for LeafSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for LeafSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a leaf's list of numbers")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<f64>()? {
            self.0.push(v);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_f32_threshold_splits_every_f32_as_the_f64_one_does() {
        for t in [0.1, -0.1, 1e-40, -1e-40, 3.4e38, 1e39, -1e39, 0.0, 1.0, 16777217.0] {
            let r = f32_at_most(t);
            for x in [r, r.next_up(), r.next_down(), t as f32, (t as f32).next_up(), f32::INFINITY, f32::NEG_INFINITY] {
                assert_eq!(x <= r, f64::from(x) <= t, "t = {t}, x = {x}");
            }
        }
    }

    #[test]
    fn nodes_read_and_write_as_model_json_always_held_them() {
        let nodes = vec![
            Node::Split { feature: 1, threshold: 0.1, left: 1, right: 2 },
            Node::Leaf(vec![0.25, 0.75]),
            Node::Split { feature: 0, threshold: -3.5, left: 3, right: 4 },
            Node::Leaf(vec![1.0, 0.0]),
            Node::Leaf(vec![0.0, 1.0]),
        ];
        let flat = FlatTree::new(&nodes);
        let text = serde_json::to_string(&flat).unwrap();
        assert_eq!(text, serde_json::to_string(&nodes).unwrap());
        let back: FlatTree = serde_json::from_str(&text).unwrap();
        assert_eq!(back, flat);
        assert_eq!(back.value(4), [0.0, 1.0]);
        let bad = [
            (r#"[{"leaf":[1.0],"split":{}}]"#, "one key"),
            (r#"[{}]"#, "one key"),
            (r#"[{"branch":[1.0]}]"#, "unknown variant `branch`"),
            (r#"[{"leaf":1.0}]"#, "a leaf's list of numbers"),
            (r#"[{"split":{"feature":4294967295,"threshold":0.5,"left":1,"right":2}}]"#, "node 0: split.feature is"),
            (r#"[{"split":{"feature":0,"threshold":0.5,"left":1,"right":2,"x":1}}]"#, "unknown field `x`"),
            (r#"[{"split":{"feature":0,"left":1,"right":2}}]"#, "missing field `threshold`"),
        ];
        for (text, wanted) in bad {
            let e = serde_json::from_str::<FlatTree>(text).unwrap_err().to_string();
            assert!(e.contains(wanted), "{text}: {e}");
        }
        // A leaf with another number of values than the first is refused on load, by name.
        let text =
            r#"[{"split":{"feature":0,"threshold":0.5,"left":1,"right":2}},{"leaf":[0.5,0.5]},{"leaf":[1,0,0]}]"#;
        let uneven: FlatTree = serde_json::from_str(text).unwrap();
        let e = crate::models::tree::Tree::from_flat(uneven, 2, 1).err().unwrap();
        assert!(e.contains("model.nodes[2].leaf has 3 values"), "{e}");
    }

    /// A tree of `depth` levels at most, stopping at random below the root, on features 0..3.
    fn grow(rs: &mut crate::random::RandomState, nodes: &mut Vec<Node>, depth: usize) -> usize {
        let at = nodes.len();
        if depth == 0 || (at > 0 && rs.next_f64() < 0.15) {
            nodes.push(Node::Leaf(vec![at as f64]));
            return at;
        }
        let (feature, threshold) = (rs.randint(0, 3) as usize, rs.next_f64() - 0.5);
        nodes.push(Node::Split { feature, threshold, left: 0, right: 0 });
        let left = grow(rs, nodes, depth - 1);
        let right = grow(rs, nodes, depth - 1);
        nodes[at] = Node::Split { feature, threshold, left, right };
        at
    }

    #[test]
    fn rows_walking_a_tree_together_reach_the_leaves_they_reach_alone() {
        let mut rs = crate::random::RandomState::new(7);
        let mut nodes = Vec::new();
        grow(&mut rs, &mut nodes, 12);
        let tree = FlatTree::new(&nodes);
        assert!(tree.node_count() > 100, "{} nodes", tree.node_count());
        for n in [0, 1, 7, 8, 9, 10, 11, 21, 300] {
            let x =
                Array2::from_shape_fn((n, 3), |(i, j)| if (i + j) % 11 == 0 { f64::NAN } else { rs.next_f64() - 0.5 });
            let rows = Rows32::new(x.view());
            let mut leaves = vec![0u32; n];
            tree.leaves(&rows, &mut leaves);
            let alone: Vec<u32> = (0..n).map(|i| tree.nodes[tree.leaf(rows.row(i))].left).collect();
            assert_eq!(leaves, alone, "{n} rows");
        }
        // Rows without a feature the tree tests, or no rows' worth of values: no unchecked walk.
        let rows = [0.0; 6];
        assert_eq!((tree.columns, tree.children), (3, tree.node_count()));
        assert!(tree.walkable(&rows, 3, 2));
        assert!(
            !tree.walkable(&rows, 2, 3) && !tree.walkable(&rows, 3, 3) && !FlatTree::default().walkable(&rows, 2, 3)
        );
    }

    #[test]
    fn rows_walking_from_given_nodes_together_reach_the_leaves_they_reach_alone() {
        let mut rs = crate::random::RandomState::new(11);
        let mut nodes = Vec::new();
        grow(&mut rs, &mut nodes, 12);
        let tree = FlatTree::new(&nodes);
        for n in [0, 1, 7, 8, 9, 300] {
            let rows: Vec<f32> =
                (0..n * 3).map(|i| if i % 13 == 0 { f32::NAN } else { rs.next_f64() as f32 - 0.5 }).collect();
            let at: Vec<u32> = (0..n).map(|_| rs.randint(0, nodes.len() as u64) as u32).collect();
            let alone: Vec<u32> =
                at.iter().enumerate().map(|(i, &a)| tree.descend(a as usize, |f| rows[i * 3 + f]) as u32).collect();
            let mut together = vec![u32::MAX; n];
            tree.walk(&rows, 3, n, |i| at[i], |i, leaf| together[i] = leaf.right);
            assert_eq!(together, alone, "{n} rows");
            // A start that is not a node: every row walks alone, checked (it panics, as an index would).
            if n > 0 {
                let mut bad = at.clone();
                bad[n - 1] = nodes.len() as u32;
                let walked = std::panic::catch_unwind(|| tree.walk(&rows, 3, n, |i| bad[i], |_, _| {}));
                assert!(walked.is_err());
            }
        }
    }
}
