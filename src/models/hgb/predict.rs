//! Prediction on coded rows. A split sends a value left when it is at most the split's
//! threshold (NaN: to the side it learned). Each value is replaced once by its code, the count of
//! the thresholds the trees test its feature with that lie below it: then `code(v) <= code(t)`
//! exactly when `v <= t`, so every tree reads one byte per split and reaches the leaf the raw
//! value reaches. Leaves are summed per row in iteration order, so every digit is the raw walk's.
//!
//! For permutation importance and partial dependence, [`Routed`] keeps the leaf each row reaches
//! in each tree: a shuffle of some columns re-routes a row only in the trees whose path to its
//! leaf tests them with a code it no longer satisfies ([`Boxes`]), and a grid of values of one
//! column walks each row once per tree with that column free ([`Coded::dependence`]).

use super::tree::{HgbNode, HgbTree};
use crate::models::Prediction;
use ndarray::Array2;
use rayon::prelude::*;

/// The `feature` of a leaf.
const LEAF: u32 = u32::MAX;
/// The code of NaN; other codes are at most `MISSING - 1`.
const MISSING: u8 = u8::MAX;
/// Rows predicted together, tree by tree.
const BLOCK: usize = 128;

#[derive(Debug, Clone, Copy)]
struct Node {
    /// `LEAF` for a leaf.
    feature: u32,
    /// The threshold's code: rows whose code is at most it go left.
    code: u8,
    missing_left: bool,
    /// A leaf's index among its tree's values, for a leaf.
    left: u32,
    right: u32,
}

#[derive(Debug, Clone)]
struct Tree {
    /// Depth-first, children after their parent (as `HgbTree` keeps them).
    nodes: Vec<Node>,
    values: Vec<f64>,
}

impl Tree {
    /// The leaf node reached from node `at`, the code of feature `f` being `code(f)`.
    #[inline]
    fn descend(&self, mut at: usize, code: impl Fn(usize) -> u8) -> usize {
        loop {
            let n = self.nodes[at];
            if n.feature == LEAF {
                return at;
            }
            let c = code(n.feature as usize);
            let left = if c == MISSING { n.missing_left } else { c <= n.code };
            at = if left { n.left } else { n.right } as usize;
        }
    }

    #[inline]
    fn value(&self, leaf: usize) -> f64 {
        self.values[self.nodes[leaf].left as usize]
    }
}

/// Rows as codes, row-major.
pub struct Codes {
    data: Vec<u8>,
    width: usize,
}

impl Codes {
    fn row(&self, i: usize) -> &[u8] {
        &self.data[i * self.width..(i + 1) * self.width]
    }

    fn rows(&self) -> usize {
        self.data.len() / self.width.max(1)
    }
}

/// A boosted ensemble for coded rows: `baseline[k] + Σ trees` per output, in iteration order.
#[derive(Debug, Clone)]
pub struct Coded {
    /// Per feature, the distinct thresholds the trees test it with, increasing.
    cuts: Vec<Vec<f64>>,
    /// Iteration by iteration, `outputs` trees each: tree `t` adds to output `t % outputs`.
    trees: Vec<Tree>,
    baseline: Vec<f64>,
    /// 0 for regression.
    classes: usize,
}

/// Raw predictions (rows × outputs) through the loss's inverse link: the values, or the
/// probabilities of two classes (sigmoid) or more (softmax).
pub fn head(classes: usize, raw: Array2<f64>) -> Prediction {
    match classes {
        0 => Prediction::Values(raw.column(0).to_owned()),
        2 => Prediction::Probabilities(crate::models::sigmoid_probabilities(raw.column(0).iter().copied())),
        _ => Prediction::Probabilities(crate::models::softmax_rows(raw)),
    }
}

impl Coded {
    /// `None` when a feature is tested with more distinct thresholds than a byte codes (a
    /// fitted model has at most `max_bins - 1` of them) or a threshold is NaN.
    pub fn new(classes: usize, trees: &[Vec<HgbTree>], baseline: &[f64], width: usize) -> Option<Coded> {
        let mut cuts: Vec<Vec<f64>> = vec![Vec::new(); width];
        for tree in trees.iter().flatten() {
            for node in &tree.nodes {
                if let HgbNode::Split { feature, threshold, .. } = node {
                    cuts.get_mut(*feature)?.push(*threshold);
                }
            }
        }
        for c in &mut cuts {
            if c.iter().any(|t| t.is_nan()) {
                return None;
            }
            c.sort_by(f64::total_cmp);
            c.dedup_by(|a, b| a == b);
            if c.len() >= usize::from(MISSING) {
                return None;
            }
        }
        let trees = trees.iter().flatten().map(|t| compile(t, &cuts)).collect();
        Some(Coded { cuts, trees, baseline: baseline.to_vec(), classes })
    }

    fn outputs(&self) -> usize {
        self.baseline.len()
    }

    /// Raw predictions (rows × outputs, row-major) as the model's prediction.
    fn prediction(&self, raw: Vec<f64>) -> Prediction {
        let n = raw.len() / self.outputs().max(1);
        head(self.classes, Array2::from_shape_vec((n, self.outputs()), raw).unwrap_or_else(|_| Array2::zeros((0, 1))))
    }

    /// The model's prediction of the rows of `x`.
    pub fn predict(&self, x: &Array2<f64>) -> Prediction {
        self.prediction(self.raw(&self.encode(x)))
    }

    /// The code of `v` for feature `f`.
    fn code(&self, f: usize, v: f64) -> u8 {
        if v.is_nan() {
            MISSING
        } else {
            self.cuts[f].partition_point(|&t| t < v) as u8
        }
    }

    /// The rows of `x` as codes.
    fn encode(&self, x: &Array2<f64>) -> Codes {
        let width = x.ncols();
        let mut data = vec![0u8; x.nrows() * width];
        data.par_chunks_mut(width.max(1) * BLOCK).enumerate().for_each(|(b, out)| {
            for (i, codes) in out.chunks_mut(width).enumerate() {
                let row = x.row(b * BLOCK + i);
                for (f, c) in codes.iter_mut().enumerate() {
                    *c = self.code(f, row[f]);
                }
            }
        });
        Codes { data, width }
    }

    /// The raw predictions of coded rows (rows × outputs, row-major).
    fn raw(&self, codes: &Codes) -> Vec<f64> {
        let outputs = self.outputs();
        let mut raw = vec![0.0; codes.rows() * outputs];
        raw.par_chunks_mut(BLOCK * outputs).enumerate().for_each(|(b, block)| {
            for sums in block.chunks_mut(outputs) {
                sums.copy_from_slice(&self.baseline);
            }
            for (t, tree) in self.trees.iter().enumerate() {
                let k = t % outputs;
                for (i, sums) in block.chunks_mut(outputs).enumerate() {
                    let row = codes.row(b * BLOCK + i);
                    sums[k] += tree.value(tree.descend(0, |f| row[f]));
                }
            }
        });
        raw
    }

    /// The leaf each row of `x` reaches in each tree, and its raw prediction.
    pub fn route(&self, x: &Array2<f64>) -> Routed<'_> {
        let codes = self.encode(x);
        let n = codes.rows();
        let mut leaves = vec![0u32; n * self.trees.len()];
        leaves.par_chunks_mut(n.max(1)).zip(self.trees.par_iter()).for_each(|(out, tree)| {
            for (i, leaf) in out.iter_mut().enumerate() {
                let row = codes.row(i);
                *leaf = tree.descend(0, |f| row[f]) as u32;
            }
        });
        let outputs = self.outputs();
        let mut raw = vec![0.0; n * outputs];
        raw.par_chunks_mut(BLOCK * outputs).enumerate().for_each(|(b, block)| {
            for sums in block.chunks_mut(outputs) {
                sums.copy_from_slice(&self.baseline);
            }
            for (t, tree) in self.trees.iter().enumerate() {
                let leaves = &leaves[t * n + b * BLOCK..];
                for (sums, &leaf) in block.chunks_mut(outputs).zip(leaves) {
                    sums[t % outputs] += tree.value(leaf as usize);
                }
            }
        });
        Routed { coded: self, codes, leaves, raw, n }
    }
}

/// `tree`'s nodes with their thresholds as codes among `cuts`.
fn compile(tree: &HgbTree, cuts: &[Vec<f64>]) -> Tree {
    let mut values = Vec::new();
    let nodes = tree
        .nodes
        .iter()
        .map(|node| match node {
            HgbNode::Leaf(v) => {
                values.push(*v);
                Node { feature: LEAF, code: 0, missing_left: false, left: (values.len() - 1) as u32, right: 0 }
            }
            HgbNode::Split { feature, threshold, missing_left, left, right, .. } => Node {
                feature: *feature as u32,
                code: cuts[*feature].partition_point(|&t| t < *threshold) as u8,
                missing_left: *missing_left,
                left: *left as u32,
                right: *right as u32,
            },
        })
        .collect();
    Tree { nodes, values }
}

/// Coded rows routed through every tree.
pub struct Routed<'a> {
    coded: &'a Coded,
    codes: Codes,
    /// Tree-major: `leaves[t * n + i]` is row i's leaf node in tree t.
    leaves: Vec<u32>,
    /// The rows' raw predictions (rows × outputs).
    raw: Vec<f64>,
    n: usize,
}

/// The codes of some columns that keep a row on its path, per tree and node.
pub struct Boxes {
    /// Per feature, whether it is one of the columns.
    shuffled: Vec<bool>,
    cols: Vec<usize>,
    /// The trees that test one of the columns.
    testing: Vec<usize>,
    /// Per tree (of `testing`), per node and column: the codes of the path to the node.
    bounds: Vec<Vec<Bound>>,
}

/// Non-missing codes `lo..=hi` and, if `missing`, NaN.
#[derive(Debug, Clone, Copy)]
struct Bound {
    lo: u8,
    hi: u8,
    missing: bool,
}

impl Bound {
    #[inline]
    fn holds(self, c: u8) -> bool {
        if c == MISSING {
            self.missing
        } else {
            self.lo <= c && c <= self.hi
        }
    }
}

impl Routed<'_> {
    /// The prediction of the routed rows.
    pub fn prediction(&self) -> Prediction {
        self.coded.prediction(self.raw.clone())
    }

    /// The paths' bounds on the columns `cols`.
    pub fn boxes(&self, cols: &[usize]) -> Boxes {
        let mut shuffled = vec![false; self.codes.width];
        for &c in cols {
            shuffled[c] = true;
        }
        let all = Bound { lo: 0, hi: MISSING - 1, missing: true };
        let m = cols.len();
        let mut testing = Vec::new();
        let mut bounds = Vec::new();
        for (t, tree) in self.coded.trees.iter().enumerate() {
            let tests = |n: &Node| n.feature != LEAF && shuffled.get(n.feature as usize) == Some(&true);
            if !tree.nodes.iter().any(tests) {
                continue;
            }
            let mut b = vec![all; tree.nodes.len() * m];
            for (a, n) in tree.nodes.iter().enumerate() {
                if n.feature == LEAF {
                    continue;
                }
                let (l, r) = (n.left as usize, n.right as usize);
                b.copy_within(a * m..(a + 1) * m, l * m);
                b.copy_within(a * m..(a + 1) * m, r * m);
                if let Some(j) = cols.iter().position(|&c| c == n.feature as usize) {
                    let (left, right) = (&mut b[l * m + j], n.code);
                    left.hi = left.hi.min(right);
                    left.missing &= n.missing_left;
                    let right_bound = &mut b[r * m + j];
                    right_bound.lo = right_bound.lo.max(n.code + 1);
                    right_bound.missing &= !n.missing_left;
                }
            }
            testing.push(t);
            bounds.push(b);
        }
        Boxes { shuffled, cols: cols.to_vec(), testing, bounds }
    }

    /// The prediction of rows `rows` (all when `None`) with the columns of `boxes` permuted
    /// among them by `perm` (row `i` takes them from row `perm[i]`): equal to predicting that
    /// matrix; a row is re-routed only in the trees whose path it leaves, and summed again
    /// only when one does.
    pub fn shuffled(&self, boxes: &Boxes, rows: Option<&[usize]>, perm: &[usize]) -> Prediction {
        let coded = self.coded;
        let outputs = coded.outputs();
        let m = boxes.cols.len();
        let row = |i: usize| rows.map_or(i, |r| r[i]);
        let mut raw = vec![0.0; perm.len() * outputs];
        raw.par_chunks_mut(BLOCK * outputs).enumerate().for_each(|(b, block)| {
            let mut moved: Vec<(usize, usize)> = Vec::new();
            for (i, sums) in block.chunks_mut(outputs).enumerate() {
                let i = b * BLOCK + i;
                let (src, from) = (row(i), row(perm[i]));
                let (own, other) = (self.codes.row(src), self.codes.row(from));
                moved.clear();
                for (&t, bounds) in boxes.testing.iter().zip(&boxes.bounds) {
                    let leaf = self.leaves[t * self.n + src] as usize;
                    let kept = boxes.cols.iter().enumerate().all(|(j, &c)| bounds[leaf * m + j].holds(other[c]));
                    if !kept {
                        let code = |f: usize| if boxes.shuffled[f] { other[f] } else { own[f] };
                        moved.push((t, coded.trees[t].descend(0, code)));
                    }
                }
                if moved.is_empty() {
                    sums.copy_from_slice(&self.raw[src * outputs..(src + 1) * outputs]);
                    continue;
                }
                sums.copy_from_slice(&coded.baseline);
                let mut next = moved.iter().peekable();
                for (t, tree) in coded.trees.iter().enumerate() {
                    let leaf = match next.peek() {
                        Some(&&(at, leaf)) if at == t => {
                            next.next();
                            leaf
                        }
                        _ => self.leaves[t * self.n + src] as usize,
                    };
                    sums[t % outputs] += tree.value(leaf);
                }
            }
        });
        coded.prediction(raw)
    }
}

impl Coded {
    /// The predictions (one per value) of the rows of `x` with column `col` set to each of
    /// `values`: each row walks each tree testing `col` once, with that column free, and takes
    /// the leaf of each value's code from the intervals found; values of one code are one.
    pub fn dependence(&self, x: &Array2<f64>, col: usize, values: &[f64]) -> Vec<Prediction> {
        let codes = self.encode(x);
        let outputs = self.outputs();
        let value_codes: Vec<u8> = values.iter().map(|&v| self.code(col, v)).collect();
        let mut distinct = value_codes.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let tests: Vec<bool> =
            self.trees.iter().map(|t| t.nodes.iter().any(|n| n.feature != LEAF && n.feature as usize == col)).collect();
        // Per distinct code, the raw predictions (rows × outputs), filled a block of rows at a time.
        let mut raw: Vec<Vec<f64>> = vec![vec![0.0; codes.rows() * outputs]; distinct.len()];
        let mut chunks: Vec<_> = raw.iter_mut().map(|r| r.chunks_mut(BLOCK * outputs)).collect();
        let blocks: Vec<Vec<&mut [f64]>> =
            (0..codes.rows().div_ceil(BLOCK)).map(|_| chunks.iter_mut().filter_map(Iterator::next).collect()).collect();
        let free = FreeColumn { col, codes: &distinct, tests: &tests };
        blocks.into_par_iter().enumerate().for_each(|(b, mut out)| self.dependence_block(&codes, b, &free, &mut out));
        let mut raw: Vec<Option<Vec<f64>>> = raw.into_iter().map(Some).collect();
        let mut last_use = vec![0; distinct.len()];
        for (g, c) in value_codes.iter().enumerate() {
            last_use[distinct.partition_point(|d| d < c)] = g;
        }
        value_codes
            .iter()
            .enumerate()
            .map(|(g, c)| {
                let d = distinct.partition_point(|x| x < c);
                let r = if last_use[d] == g { raw[d].take() } else { raw[d].clone() };
                self.prediction(r.unwrap_or_default())
            })
            .collect()
    }

    /// Rows `b * BLOCK..` of [`Coded::dependence`]: `out[d]` those rows' raw predictions for
    /// the `d`-th code, summed tree by tree in iteration order.
    fn dependence_block(&self, codes: &Codes, b: usize, free: &FreeColumn<'_>, out: &mut [&mut [f64]]) {
        let outputs = self.outputs();
        let u = free.codes.len();
        let rows = b * BLOCK..((b + 1) * BLOCK).min(codes.rows());
        let width = rows.len();
        // acc[(d * outputs + k) * width + i]: a code's output k of row i, contiguous in i.
        let mut acc = vec![0.0; u * outputs * width];
        for (c, a) in acc.chunks_mut(width).enumerate() {
            a.fill(self.baseline[c % outputs]);
        }
        let (mut column, mut fixed, mut stack) = (vec![0.0; u], vec![0.0; width], Vec::new());
        for (t, tree) in self.trees.iter().enumerate() {
            let k = t % outputs;
            if free.tests[t] {
                for (r, i) in rows.clone().enumerate() {
                    free.walk(tree, codes.row(i), &mut column, &mut stack);
                    for (d, v) in column.iter().enumerate() {
                        acc[(d * outputs + k) * width + r] += v;
                    }
                }
                continue;
            }
            for (i, v) in rows.clone().zip(fixed.iter_mut()) {
                let row = codes.row(i);
                *v = tree.value(tree.descend(0, |f| row[f]));
            }
            for d in 0..u {
                for (s, v) in acc[(d * outputs + k) * width..][..width].iter_mut().zip(&fixed) {
                    *s += v;
                }
            }
        }
        for (d, o) in out.iter_mut().enumerate() {
            for (i, sums) in o.chunks_mut(outputs).enumerate() {
                for (k, s) in sums.iter_mut().enumerate() {
                    *s = acc[(d * outputs + k) * width + i];
                }
            }
        }
    }
}

/// A column whose codes `codes` (increasing, NaN's last) are tried at once, and the trees that
/// test it.
struct FreeColumn<'a> {
    col: usize,
    codes: &'a [u8],
    tests: &'a [bool],
}

impl FreeColumn<'_> {
    /// The leaf value of `row` in `tree` for each of the codes, into `out`: a depth-first walk
    /// following the row except at splits on the column, where each side takes its codes.
    fn walk(&self, tree: &Tree, row: &[u8], out: &mut [f64], stack: &mut Vec<(usize, usize, usize)>) {
        // (node, the range of `codes` reaching it)
        stack.clear();
        stack.push((0, 0, self.codes.len()));
        while let Some((mut at, lo, hi)) = stack.pop() {
            loop {
                let n = tree.nodes[at];
                if n.feature == LEAF {
                    out[lo..hi].fill(tree.value(at));
                    break;
                }
                if n.feature as usize != self.col {
                    let c = row[n.feature as usize];
                    let left = if c == MISSING { n.missing_left } else { c <= n.code };
                    at = if left { n.left } else { n.right } as usize;
                    continue;
                }
                let codes = &self.codes[lo..hi];
                let split = lo + codes.partition_point(|&c| c != MISSING && c <= n.code);
                let end = if codes.last() == Some(&MISSING) { hi - 1 } else { hi };
                let (left, right) = (n.left as usize, n.right as usize);
                if end < hi {
                    stack.push((if n.missing_left { left } else { right }, end, hi));
                }
                if split < end {
                    stack.push((right, split, end));
                }
                if lo < split {
                    stack.push((left, lo, split));
                }
                break;
            }
        }
    }
}
