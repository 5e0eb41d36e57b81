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
/// Paths walked in step by [`Steps::walk`].
const LANES: usize = 8;

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
        let mut values = Vec::new();
        let mut first = Vec::with_capacity(self.trees.len());
        for tree in &self.trees {
            first.push(values.len());
            values.extend_from_slice(&tree.values);
        }
        let leaves = LeafTable { values, first };
        let most = self.trees.iter().map(|t| t.values.len()).max().unwrap_or(0);
        let (ids, raw) = if most <= 1 << 8 {
            let (ids, raw) = self.routes(&codes, &leaves);
            (LeafIds::Byte(ids), raw)
        } else if most <= 1 << 16 {
            let (ids, raw) = self.routes(&codes, &leaves);
            (LeafIds::Short(ids), raw)
        } else {
            let (ids, raw) = self.routes(&codes, &leaves);
            (LeafIds::Word(ids), raw)
        };
        let n = codes.rows();
        let mut columns = vec![0u8; codes.data.len()];
        for (i, row) in codes.data.chunks(codes.width.max(1)).enumerate() {
            for (c, &code) in row.iter().enumerate() {
                columns[c * n + i] = code;
            }
        }
        Routed { coded: self, codes, columns, n, ids, leaves, steps: Steps::new(&self.trees), raw }
    }

    /// Each coded row's leaf in each tree (rows × trees, row-major) and its raw prediction.
    fn routes<L: LeafId>(&self, codes: &Codes, leaves: &LeafTable) -> (Vec<L>, Vec<f64>) {
        let (trees, outputs) = (self.trees.len(), self.outputs());
        if trees == 0 {
            return (Vec::new(), self.baseline.repeat(codes.rows()));
        }
        let mut ids = vec![L::default(); codes.rows() * trees];
        let mut raw = vec![0.0; codes.rows() * outputs];
        let blocks = ids.par_chunks_mut(BLOCK * trees).zip(raw.par_chunks_mut(BLOCK * outputs));
        blocks.enumerate().for_each(|(b, (ids, raw))| {
            for (t, tree) in self.trees.iter().enumerate() {
                for (i, row_ids) in ids.chunks_mut(trees).enumerate() {
                    let row = codes.row(b * BLOCK + i);
                    row_ids[t] = L::new(tree.nodes[tree.descend(0, |f| row[f])].left as usize);
                }
            }
            leaves.sums(self, ids, raw);
        });
        (ids, raw)
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

/// A tree's leaf, as its index among the tree's values, in as few bytes as the largest tree needs.
trait LeafId: Copy + Default + Send + Sync {
    fn new(leaf: usize) -> Self;
    fn get(self) -> usize;
}

macro_rules! leaf_id {
    ($($t:ty),*) => {$(
        impl LeafId for $t {
            #[inline]
            fn new(leaf: usize) -> Self {
                leaf as $t
            }
            #[inline]
            fn get(self) -> usize {
                self as usize
            }
        }
    )*};
}
leaf_id!(u8, u16, u32);

/// Row-major: row i's leaf in tree t at `i * trees + t`, so a row's leaves are one short run of bytes.
enum LeafIds {
    Byte(Vec<u8>),
    Short(Vec<u16>),
    Word(Vec<u32>),
}

/// Every tree's leaf values in one table, tree by tree: tree t's leaf l at `first[t] + l`.
struct LeafTable {
    values: Vec<f64>,
    first: Vec<usize>,
}

impl LeafTable {
    /// The raw predictions (rows × outputs) of rows whose leaves are `ids` (rows × trees): the
    /// baseline, then each tree's leaf value in tree order. Trees outer, rows inner: the rows'
    /// sums are independent chains of additions.
    fn sums<L: LeafId>(&self, coded: &Coded, ids: &[L], out: &mut [f64]) {
        let (trees, outputs) = (coded.trees.len(), coded.outputs());
        for sums in out.chunks_mut(outputs) {
            sums.copy_from_slice(&coded.baseline);
        }
        for (t, &first) in self.first.iter().enumerate() {
            let (k, values) = (t % outputs, &self.values[first..]);
            for (r, row_ids) in ids.chunks(trees).enumerate() {
                out[r * outputs + k] += values[row_ids[t].get()];
            }
        }
    }
}

/// Coded rows routed through every tree.
pub struct Routed<'a> {
    coded: &'a Coded,
    codes: Codes,
    /// The codes column by column: `columns[c * n + i]` is row i's code of column c.
    columns: Vec<u8>,
    n: usize,
    /// Each row's leaf in each tree.
    ids: LeafIds,
    leaves: LeafTable,
    steps: Steps,
    /// The rows' raw predictions (rows × outputs).
    raw: Vec<f64>,
}

/// The codes of some columns that keep a row in its leaf, per tree and leaf.
pub struct Boxes {
    cols: Vec<usize>,
    /// The trees that test one of the columns.
    testing: Vec<usize>,
    /// Per leaf (of `LeafTable`'s) and column: the codes of the path to the leaf.
    bounds: Vec<Bound>,
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
        let all = Bound { lo: 0, hi: MISSING - 1, missing: true };
        let m = cols.len();
        let mut testing = Vec::new();
        let mut bounds = vec![all; self.leaves.values.len() * m];
        for (t, tree) in self.coded.trees.iter().enumerate() {
            let tests = |n: &Node| n.feature != LEAF && cols.contains(&(n.feature as usize));
            if !tree.nodes.iter().any(tests) {
                continue;
            }
            // Per node and column, the codes of the path to the node.
            let mut b = vec![all; tree.nodes.len() * m];
            for (a, n) in tree.nodes.iter().enumerate() {
                if n.feature == LEAF {
                    let leaf = self.leaves.first[t] + n.left as usize;
                    bounds[leaf * m..(leaf + 1) * m].copy_from_slice(&b[a * m..(a + 1) * m]);
                    continue;
                }
                let (l, r) = (n.left as usize, n.right as usize);
                b.copy_within(a * m..(a + 1) * m, l * m);
                b.copy_within(a * m..(a + 1) * m, r * m);
                if let Some(j) = cols.iter().position(|&c| c == n.feature as usize) {
                    let left = &mut b[l * m + j];
                    left.hi = left.hi.min(n.code);
                    left.missing &= n.missing_left;
                    let right = &mut b[r * m + j];
                    right.lo = right.lo.max(n.code + 1);
                    right.missing &= !n.missing_left;
                }
            }
            testing.push(t);
        }
        Boxes { cols: cols.to_vec(), testing, bounds }
    }

    /// The prediction of rows `rows` (all when `None`) with the columns of `boxes` permuted
    /// among them by `perm` (row `i` takes them from row `perm[i]`): equal to predicting that
    /// matrix; a row is re-routed only in the trees whose path it leaves, and summed again
    /// only when one does.
    pub fn shuffled(&self, boxes: &Boxes, rows: Option<&[usize]>, perm: &[usize]) -> Prediction {
        let raw = match &self.ids {
            LeafIds::Byte(ids) => self.shuffled_raw(ids, boxes, rows, perm),
            LeafIds::Short(ids) => self.shuffled_raw(ids, boxes, rows, perm),
            LeafIds::Word(ids) => self.shuffled_raw(ids, boxes, rows, perm),
        };
        self.coded.prediction(raw)
    }

    /// [`Routed::shuffled`]'s raw predictions, the rows' leaves being `ids`. A row whose
    /// shuffled codes are its own, or that stays in its leaf in every tree, keeps its raw
    /// prediction; the others' leaves are summed again, a block of rows at a time.
    fn shuffled_raw<L: LeafId>(&self, ids: &[L], boxes: &Boxes, rows: Option<&[usize]>, perm: &[usize]) -> Vec<f64> {
        let (trees, outputs) = (self.coded.trees.len(), self.coded.outputs());
        let row = |i: usize| rows.map_or(i, |r| r[i]);
        let mut raw = vec![0.0; perm.len() * outputs];
        raw.par_chunks_mut(BLOCK * outputs).enumerate().for_each(|(b, block)| {
            // The moved rows (their places in the block) and their leaves, re-routed.
            let (mut moved, mut moved_ids) = (Vec::new(), Vec::new());
            let mut work = Reroute { codes: vec![0u8; self.codes.width], failed: vec![0; trees], at: vec![0; trees] };
            for (i, sums) in block.chunks_mut(outputs).enumerate() {
                let (src, from) = (row(b * BLOCK + i), row(perm[b * BLOCK + i]));
                let own = self.codes.row(src);
                // The shuffled codes, from the columns (a row's is a cache miss at a random place).
                if boxes.cols.iter().any(|&c| own[c] != self.columns[c * self.n + from]) {
                    work.codes.copy_from_slice(own);
                    for &c in &boxes.cols {
                        work.codes[c] = self.columns[c * self.n + from];
                    }
                    if self.reroute(boxes, &mut work, &ids[src * trees..(src + 1) * trees], &mut moved_ids) {
                        moved.push(i);
                        continue;
                    }
                }
                sums.copy_from_slice(&self.raw[src * outputs..(src + 1) * outputs]);
            }
            let mut sums = vec![0.0; moved.len() * outputs];
            self.leaves.sums(self.coded, &moved_ids, &mut sums);
            for (&i, s) in moved.iter().zip(sums.chunks(outputs)) {
                block[i * outputs..(i + 1) * outputs].copy_from_slice(s);
            }
        });
        raw
    }

    /// Whether the row of codes `work.codes` (its shuffled columns' changed) leaves a leaf of
    /// `own` (its routed leaves); if so, its leaves with those trees re-routed go onto `out`.
    /// The trees it leaves are found without a branch per tree, then walked down together.
    fn reroute<L: LeafId>(&self, boxes: &Boxes, work: &mut Reroute, own: &[L], out: &mut Vec<L>) -> bool {
        let (m, codes, trees) = (boxes.cols.len(), &work.codes, &self.coded.trees);
        let mut failed = 0;
        for &t in &boxes.testing {
            let at = (self.leaves.first[t] + own[t].get()) * m;
            let kept = boxes.cols.iter().zip(&boxes.bounds[at..at + m]).all(|(&c, b)| b.holds(codes[c]));
            work.failed[failed] = t;
            failed += usize::from(!kept);
        }
        if failed == 0 {
            return false;
        }
        let (failed, at) = (&work.failed[..failed], &mut work.at[..failed]);
        for (a, &t) in at.iter_mut().zip(failed) {
            *a = self.steps.root[t];
        }
        self.steps.walk(codes, at);
        let start = out.len();
        out.extend_from_slice(own);
        for (&t, &node) in failed.iter().zip(at.iter()) {
            out[start + t] = L::new(trees[t].nodes[(node - self.steps.root[t]) as usize].left as usize);
        }
        true
    }
}

/// Every tree's nodes in one array for walking several paths at once: children by their index
/// in it, and a leaf its own child, so a walk needs no branch per node.
struct Steps {
    steps: Vec<Step>,
    /// Each tree's first node.
    root: Vec<u32>,
}

#[derive(Debug, Clone, Copy)]
struct Step {
    feature: u32,
    code: u8,
    missing_left: bool,
    left: u32,
    right: u32,
}

impl Steps {
    fn new(trees: &[Tree]) -> Steps {
        let (mut steps, mut root) = (Vec::new(), Vec::with_capacity(trees.len()));
        for tree in trees {
            let base = steps.len() as u32;
            root.push(base);
            steps.extend(tree.nodes.iter().enumerate().map(|(a, n)| match n.feature {
                LEAF => {
                    Step { feature: 0, code: 0, missing_left: false, left: base + a as u32, right: base + a as u32 }
                }
                f => Step {
                    feature: f,
                    code: n.code,
                    missing_left: n.missing_left,
                    left: base + n.left,
                    right: base + n.right,
                },
            }));
        }
        Steps { steps, root }
    }

    /// Walks each node of `at` down to its leaf, the row's codes being `codes`, `LANES` paths
    /// in step: their reads overlap, and which side each takes costs no branch.
    fn walk(&self, codes: &[u8], at: &mut [u32]) {
        for lanes in at.chunks_mut(LANES) {
            loop {
                let mut moved = false;
                for a in lanes.iter_mut() {
                    let s = self.steps[*a as usize];
                    let c = codes[s.feature as usize];
                    let next = if (c <= s.code) | ((c == MISSING) & s.missing_left) { s.left } else { s.right };
                    moved |= next != *a;
                    *a = next;
                }
                if !moved {
                    break;
                }
            }
        }
    }
}

/// A block's scratch space for [`Routed::reroute`]: a row's codes, the trees it leaves its
/// leaf in and their new leaves.
struct Reroute {
    codes: Vec<u8>,
    failed: Vec<usize>,
    at: Vec<u32>,
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
    /// the `d`-th code, summed tree by tree in iteration order, a row at a time (its sums for
    /// every code side by side, so each tree adds to one short contiguous run).
    fn dependence_block(&self, codes: &Codes, b: usize, free: &FreeColumn<'_>, out: &mut [&mut [f64]]) {
        let outputs = self.outputs();
        let u = free.codes.len();
        let rows = b * BLOCK..((b + 1) * BLOCK).min(codes.rows());
        // acc[k * u + d]: the row's output k for the d-th code.
        let (mut acc, mut stack) = (vec![0.0; outputs * u], Vec::new());
        for (r, i) in rows.enumerate() {
            let row = codes.row(i);
            for (k, a) in acc.chunks_mut(u.max(1)).enumerate() {
                a.fill(self.baseline[k]);
            }
            for (t, tree) in self.trees.iter().enumerate() {
                let sums = &mut acc[(t % outputs) * u..][..u];
                if free.tests[t] {
                    free.walk(tree, row, sums, &mut stack);
                } else {
                    let v = tree.value(tree.descend(0, |f| row[f]));
                    for s in sums {
                        *s += v;
                    }
                }
            }
            for (d, o) in out.iter_mut().enumerate() {
                for k in 0..outputs {
                    o[r * outputs + k] = acc[k * u + d];
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
    /// Adds the leaf value of `row` in `tree` for each of the codes to `sums`: a depth-first
    /// walk following the row except at splits on the column, where each side takes its codes.
    fn walk(&self, tree: &Tree, row: &[u8], sums: &mut [f64], stack: &mut Vec<(usize, usize, usize)>) {
        // (node, the range of `codes` reaching it)
        stack.clear();
        stack.push((0, 0, self.codes.len()));
        while let Some((mut at, lo, hi)) = stack.pop() {
            loop {
                let n = tree.nodes[at];
                if n.feature == LEAF {
                    let v = tree.value(at);
                    for s in &mut sums[lo..hi] {
                        *s += v;
                    }
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
