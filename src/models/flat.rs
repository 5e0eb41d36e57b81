//! Trees as flat arrays, for prediction: a node is 16 bytes (feature, an f32 threshold,
//! children), a leaf's values sit in one array, and rows are read as f32 once. Splits compare
//! `x as f32 <= t` exactly as the grown tree does (`t` rounded down to the largest f32 at most
//! the f64 threshold, which tells every f32 apart the same way), so every leaf, and so every
//! digit, is the grown tree's.
//!
//! [`TreeSum`] predicts with trees summed in tree order (a forest, or one tree), a block of rows
//! at a time, tree by tree. For permutation importance, [`Routed`] keeps the leaf each test row
//! reaches in each tree, and a shuffle of some columns re-routes a row only from the first node on
//! its path that tests a shuffled column and now sends it the other way: all other rows keep
//! their leaf.

use super::tree::Node;
use super::Prediction;
use ndarray::{Array1, Array2};
use rayon::prelude::*;

mod dependence;

/// The `feature` of a leaf.
const LEAF: u32 = u32::MAX;
/// No ancestor testing a shuffled column.
const NONE: u32 = u32::MAX;
/// Rows predicted together, tree by tree.
const BLOCK: usize = 256;

#[derive(Debug, Clone, Copy)]
struct FlatNode {
    /// `LEAF` for a leaf.
    feature: u32,
    /// The largest f32 at most the split's threshold.
    threshold: f32,
    /// A leaf's index among the leaves for a leaf.
    left: u32,
    right: u32,
}

/// One tree's nodes in build order (children after their parent).
#[derive(Debug, Clone)]
pub struct FlatTree {
    nodes: Vec<FlatNode>,
    /// Each split's threshold as grown (what model.json saves); 0 for a leaf.
    thresholds: Vec<f64>,
    /// The leaves' values, `width` each, in node order.
    values: Vec<f64>,
    width: usize,
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
    /// From checked nodes (children later than their parent, ids below `u32::MAX`), whose leaves
    /// hold `width` values each.
    pub fn new(nodes: &[Node], width: usize) -> FlatTree {
        let mut flat =
            FlatTree { nodes: Vec::with_capacity(nodes.len()), thresholds: Vec::new(), values: Vec::new(), width };
        flat.thresholds.reserve(nodes.len());
        for node in nodes {
            let (node, threshold) = match node {
                Node::Leaf(values) => {
                    let index = (flat.values.len() / width) as u32;
                    flat.values.extend_from_slice(values);
                    (FlatNode { feature: LEAF, threshold: 0.0, left: index, right: 0 }, 0.0)
                }
                Node::Split { feature, threshold, left, right } => {
                    let f32_threshold = f32_at_most(*threshold);
                    (
                        FlatNode {
                            feature: *feature as u32,
                            threshold: f32_threshold,
                            left: *left as u32,
                            right: *right as u32,
                        },
                        *threshold,
                    )
                }
            };
            flat.nodes.push(node);
            flat.thresholds.push(threshold);
        }
        flat
    }

    /// The nodes as they were given.
    pub fn to_nodes(&self) -> Vec<Node> {
        (0..self.nodes.len())
            .map(|i| match self.split(i) {
                Some((feature, left, right)) => Node::Split { feature, threshold: self.thresholds[i], left, right },
                None => Node::Leaf(self.value(i).to_vec()),
            })
            .collect()
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// A split's (feature, left, right); `None` for a leaf.
    pub fn split(&self, i: usize) -> Option<(usize, usize, usize)> {
        let n = self.nodes[i];
        (n.feature != LEAF).then_some((n.feature as usize, n.left as usize, n.right as usize))
    }

    /// The values of leaf node `leaf`.
    pub fn value(&self, leaf: usize) -> &[f64] {
        let at = self.nodes[leaf].left as usize * self.width;
        &self.values[at..at + self.width]
    }

    /// The leaf node a row reaches from node `at`, its feature `f` being `feature(f)`.
    fn descend(&self, mut at: usize, feature: impl Fn(usize) -> f32) -> usize {
        loop {
            let n = self.nodes[at];
            if n.feature == LEAF {
                return at;
            }
            at = if feature(n.feature as usize) <= n.threshold { n.left } else { n.right } as usize;
        }
    }

    /// The leaf node an f32 row reaches.
    pub fn leaf(&self, row: &[f32]) -> usize {
        self.descend(0, |f| row[f])
    }
}

/// A matrix's rows as f32 (scikit-learn's `X.astype(float32)`), row-major.
pub struct Rows32 {
    data: Vec<f32>,
    width: usize,
}

impl Rows32 {
    pub fn new(x: &Array2<f64>) -> Rows32 {
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

    pub fn predict(&self, x: &Array2<f64>) -> Prediction {
        let rows = Rows32::new(x);
        let width = self.width();
        let mut sums = vec![0.0; x.nrows() * width];
        sums.par_chunks_mut(BLOCK * width).enumerate().for_each(|(b, block)| {
            for tree in &self.trees {
                for (k, sum) in block.chunks_mut(width).enumerate() {
                    let row = rows.row(b * BLOCK + k);
                    self.add(sum, tree.value(tree.leaf(row)));
                }
            }
        });
        self.output(sums, x.nrows())
    }

    /// Row sums (`width` each) as the prediction: over the tree count for a mean.
    fn output(&self, mut sums: Vec<f64>, n: usize) -> Prediction {
        if self.mean {
            let n_trees = self.trees.len() as f64;
            for s in &mut sums {
                *s /= n_trees;
            }
        }
        if self.classes == 0 {
            return Prediction::Values(Array1::from(sums));
        }
        match Array2::from_shape_vec((n, self.classes), sums) {
            Ok(p) => Prediction::Probabilities(p),
            Err(_) => Prediction::Probabilities(Array2::zeros((n, self.classes))),
        }
    }

    /// The leaf each row of `x` reaches in each tree, for shuffles of its columns.
    pub fn route(&self, x: &Array2<f64>) -> Routed<'_> {
        let rows = Rows32::new(x);
        let n = x.nrows();
        let mut leaves = vec![0u32; n * self.trees.len()];
        leaves.par_chunks_mut(n.max(1)).zip(&self.trees).for_each(|(tree_leaves, tree)| {
            for (i, leaf) in tree_leaves.iter_mut().enumerate() {
                *leaf = tree.leaf(rows.row(i)) as u32;
            }
        });
        Routed { sum: self, rows, leaves, n }
    }
}

/// A matrix's rows routed through a [`TreeSum`]: each row's leaf in each tree.
pub struct Routed<'a> {
    sum: &'a TreeSum<'a>,
    rows: Rows32,
    /// Tree by tree: `leaves[t * n + i]`.
    leaves: Vec<u32>,
    n: usize,
}

/// For each tree and node, the nearest strict ancestor that tests one of some columns (`NONE`
/// if none) and whether the node lies left of it; and for each tree, the routed rows whose leaf
/// has such an ancestor (the only ones a shuffle of those columns can move).
pub struct Ancestors {
    columns: Vec<bool>,
    up: Vec<Vec<u32>>,
    left: Vec<Vec<bool>>,
    movable: Vec<Vec<u32>>,
}

impl Routed<'_> {
    /// The ancestors that test any of `cols` (columns of the routed matrix).
    pub fn ancestors(&self, cols: &[usize]) -> Ancestors {
        let mut columns = vec![false; self.rows.width];
        for &c in cols {
            columns[c] = true;
        }
        let mut ancestors = Ancestors { columns, up: Vec::new(), left: Vec::new(), movable: Vec::new() };
        for (t, tree) in self.sum.trees.iter().enumerate() {
            let mut up = vec![NONE; tree.node_count()];
            let mut left = vec![false; tree.node_count()];
            for a in 0..tree.node_count() {
                let Some((feature, l, r)) = tree.split(a) else { continue };
                let (above, on_left, on_right) =
                    if ancestors.columns[feature] { (a as u32, true, false) } else { (up[a], left[a], left[a]) };
                (up[l], left[l], up[r], left[r]) = (above, on_left, above, on_right);
            }
            let leaves = &self.leaves[t * self.n..(t + 1) * self.n];
            ancestors.movable.push((0..self.n as u32).filter(|&i| up[leaves[i as usize] as usize] != NONE).collect());
            ancestors.up.push(up);
            ancestors.left.push(left);
        }
        ancestors
    }

    /// The prediction of rows `rows` (all when `None`) of the routed matrix with the columns of
    /// `ancestors` permuted among them by `perm` (row `i` takes them from row `perm[i]`): equal
    /// to predicting that matrix, re-routing a row only below the first node on its path that
    /// now sends it the other way. Tree by tree, each row takes its routed leaf, but for the
    /// movable rows, and the leaves' values are added to the rows' sums in tree order.
    pub fn shuffled(&self, ancestors: &Ancestors, rows: Option<&[usize]>, perm: &[usize]) -> Prediction {
        let sum = self.sum;
        let width = sum.width();
        let row = |i: usize| rows.map_or(i, |r| r[i]);
        // Where each routed row is scored (`NONE`: not scored).
        let position: Option<Vec<u32>> = rows.map(|r| {
            let mut p = vec![NONE; self.n];
            for (i, &routed) in r.iter().enumerate() {
                p[routed] = i as u32;
            }
            p
        });
        let mut sums = vec![0.0; perm.len() * width];
        let mut leaf_of = vec![0u32; perm.len()];
        for (t, tree) in sum.trees.iter().enumerate() {
            let leaves = &self.leaves[t * self.n..(t + 1) * self.n];
            for (i, leaf) in leaf_of.iter_mut().enumerate() {
                *leaf = leaves[row(i)];
            }
            let (up, left) = (&ancestors.up[t], &ancestors.left[t]);
            for &r in &ancestors.movable[t] {
                let i = match &position {
                    None if (r as usize) < perm.len() => r as usize,
                    Some(p) if p[r as usize] != NONE => p[r as usize] as usize,
                    _ => continue,
                };
                let (own, other) = (self.rows.row(r as usize), self.rows.row(row(perm[i])));
                let feature = |f: usize| if ancestors.columns[f] { other[f] } else { own[f] };
                // The topmost node on the path whose test of a shuffled column now goes the other way.
                let base = leaves[r as usize] as usize;
                let (mut at, mut top) = (base, None);
                while up[at] != NONE {
                    let a = up[at] as usize;
                    if let Some((f, _, _)) = tree.split(a) {
                        if (feature(f) <= tree.nodes[a].threshold) != left[at] {
                            top = Some(a);
                        }
                    }
                    at = a;
                }
                if let Some(a) = top {
                    leaf_of[i] = tree.descend(a, feature) as u32;
                }
            }
            for (s, &leaf) in sums.chunks_mut(width).zip(&leaf_of) {
                sum.add(s, tree.value(leaf as usize));
            }
        }
        sum.output(sums, perm.len())
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
}
