//! Prediction on coded rows. A split sends a value left when it is at most the split's
//! threshold (NaN: to the side it learned). Each value is replaced once by its code, the count of
//! the thresholds the trees test its feature with that lie below it: then `code(v) <= code(t)`
//! exactly when `v <= t`, so every tree reads one byte per split and reaches the leaf the raw
//! value reaches. Leaves are summed per row in iteration order, so every digit is the raw walk's.
//!
//! For permutation importance and partial dependence, [`Routed`] keeps the leaf each row reaches
//! in each tree: a shuffle of some columns re-routes a row only in the trees whose path to its
//! leaf tests them with a code it no longer satisfies ([`Boxes`]; it walks down from the first
//! node of that path testing them, and is summed again from its partial sum at the last
//! multiple of `MARK` trees before the first tree it leaves), and a grid of values of one
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
/// Moved rows summed again together ([`LeafTable::add_one`]).
const RESUM_LANES: usize = 4;
/// Trees between a routed row's saved partial sums ([`Routed`]'s `marks`).
const MARK: usize = 8;
/// No node: a leaf whose path tests none of a shuffle's columns.
const NONE: u32 = u32::MAX;

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
    /// fitted model has at most `max_bins - 1` of them), a threshold is NaN or a tree holds a
    /// categorical split (codes order values, not sets: those trees walk the raw values).
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
        let trees = trees.iter().flatten().map(|t| compile(t, &cuts)).collect::<Option<_>>()?;
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
        let (ids, raw, marks) = if most <= 1 << 8 {
            let (ids, raw, marks) = self.routes(&codes, &leaves);
            (LeafIds::Byte(ids), raw, marks)
        } else if most <= 1 << 16 {
            let (ids, raw, marks) = self.routes(&codes, &leaves);
            (LeafIds::Short(ids), raw, marks)
        } else {
            let (ids, raw, marks) = self.routes(&codes, &leaves);
            (LeafIds::Word(ids), raw, marks)
        };
        let n = codes.rows();
        let mut columns = vec![0u8; codes.data.len()];
        for (i, row) in codes.data.chunks(codes.width.max(1)).enumerate() {
            for (c, &code) in row.iter().enumerate() {
                columns[c * n + i] = code;
            }
        }
        Routed { coded: self, codes, columns, n, ids, leaves, steps: Steps::new(&self.trees), raw, marks }
    }

    /// Each coded row's leaf in each tree (rows × trees, row-major), its raw prediction and its
    /// partial sums every `MARK` trees (rows × marks × outputs).
    fn routes<L: LeafId>(&self, codes: &Codes, leaves: &LeafTable) -> (Vec<L>, Vec<f64>, Vec<f64>) {
        let (trees, outputs) = (self.trees.len(), self.outputs());
        if trees == 0 {
            return (Vec::new(), self.baseline.repeat(codes.rows()), Vec::new());
        }
        let mut ids = vec![L::default(); codes.rows() * trees];
        let mut raw = vec![0.0; codes.rows() * outputs];
        let per = trees.div_ceil(MARK) * outputs;
        let mut marks = vec![0.0; codes.rows() * per];
        let blocks = ids.par_chunks_mut(BLOCK * trees).zip(raw.par_chunks_mut(BLOCK * outputs));
        blocks.zip(marks.par_chunks_mut(BLOCK * per)).enumerate().for_each(|(b, ((ids, raw), marks))| {
            for (t, tree) in self.trees.iter().enumerate() {
                for (i, row_ids) in ids.chunks_mut(trees).enumerate() {
                    let row = codes.row(b * BLOCK + i);
                    row_ids[t] = L::new(tree.nodes[tree.descend(0, |f| row[f])].left as usize);
                }
            }
            for sums in raw.chunks_mut(outputs) {
                sums.copy_from_slice(&self.baseline);
            }
            let (from, order): (Vec<usize>, Vec<usize>) = (0..raw.len() / outputs).map(|i| (0, i)).unzip();
            leaves.add(self, (ids, &order), &from, raw, Some(marks));
        });
        (ids, raw, marks)
    }
}

/// `tree`'s nodes with their thresholds as codes among `cuts` (`None` for a categorical split).
fn compile(tree: &HgbTree, cuts: &[Vec<f64>]) -> Option<Tree> {
    let mut values = Vec::new();
    let nodes = tree
        .nodes
        .iter()
        .map(|node| match node {
            HgbNode::Leaf(v) => {
                values.push(*v);
                Some(Node { feature: LEAF, code: 0, missing_left: false, left: (values.len() - 1) as u32, right: 0 })
            }
            HgbNode::Split { feature, threshold, missing_left, left, right, .. } => Some(Node {
                feature: *feature as u32,
                code: cuts[*feature].partition_point(|&t| t < *threshold) as u8,
                missing_left: *missing_left,
                left: *left as u32,
                right: *right as u32,
            }),
            HgbNode::Category { .. } => None,
        })
        .collect::<Option<_>>()?;
    Some(Tree { nodes, values })
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
    /// Adds to `out` (rows × outputs, each row's sums after its first `from[r]` trees, `from`
    /// increasing) the leaf values of the rows whose leaves are `ids`' rows `order` (rows ×
    /// trees) of the trees after those, in tree order: every row's sums are the baseline plus its leaves in tree
    /// order, as a full walk adds them. Trees outer, rows inner: the rows' sums are independent
    /// chains of additions, and the rows tree t adds to are the first ones. With `marks` (rows ×
    /// `MARK`-tree marks × outputs), each row's sums before every `MARK`-th tree are saved there.
    fn add<L: LeafId>(
        &self,
        coded: &Coded,
        ids: (&[L], &[usize]),
        from: &[usize],
        out: &mut [f64],
        mut marks: Option<&mut [f64]>,
    ) {
        let (trees, outputs) = (coded.trees.len(), coded.outputs());
        let (ids, order) = ids;
        let per = trees.div_ceil(MARK) * outputs;
        let mut active = 0;
        for (t, &first) in self.first.iter().enumerate().skip(from.first().copied().unwrap_or(trees)) {
            while active < from.len() && from[active] <= t {
                active += 1;
            }
            if let (Some(marks), 0) = (marks.as_deref_mut(), t % MARK) {
                for (r, sums) in out.chunks(outputs).enumerate() {
                    marks[r * per + t / MARK * outputs..][..outputs].copy_from_slice(sums);
                }
            }
            let (k, values) = (t % outputs, &self.values[first..]);
            for (r, &i) in order[..active].iter().enumerate() {
                out[r * outputs + k] += values[ids[i * trees + t].get()];
            }
        }
    }

    /// [`LeafTable::add`] for one output, in place: `block[moved[j]]`, the sum of its first
    /// `from[j]` trees, takes the leaves `ids[j * trees..]` of the trees after those, in tree order.
    /// The rows go `RESUM_LANES` at a time in the order `order` (by `from`), their sums held in
    /// registers: independent chains, each row's additions the same and in the same order.
    fn add_one<L: LeafId>(&self, block: &mut [f64], rows: (&[usize], &[L], &[usize]), from: &[usize]) {
        let ((moved, ids, order), trees) = (rows, self.first.len());
        for group in order.chunks(RESUM_LANES) {
            // Lanes past the group's end start at `trees`: they add nothing.
            let rows: [usize; RESUM_LANES] = std::array::from_fn(|k| group.get(k).copied().unwrap_or(group[0]));
            let starts: [usize; RESUM_LANES] = std::array::from_fn(|k| group.get(k).map_or(trees, |&j| from[j]));
            let leaves: [&[L]; RESUM_LANES] = std::array::from_fn(|k| &ids[rows[k] * trees..][..trees]);
            let mut sums: [f64; RESUM_LANES] = std::array::from_fn(|k| block[moved[rows[k]]]);
            for (t, &first) in self.first.iter().enumerate().skip(starts[0]) {
                let values = &self.values[first..];
                for k in 0..RESUM_LANES {
                    if t >= starts[k] {
                        sums[k] += values[leaves[k][t].get()];
                    }
                }
            }
            for (k, &j) in group.iter().enumerate() {
                block[moved[j]] = sums[k];
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
    /// Each row's sums before tree 0, `MARK`, 2 `MARK`, ... (rows × marks × outputs): a row
    /// moved first in tree t is summed again from the mark at or before t.
    marks: Vec<f64>,
}

/// The codes of some columns that keep a row in its leaf, per tree and leaf.
pub struct Boxes {
    cols: Vec<usize>,
    /// Per leaf (of `LeafTable`'s) and column: the codes of the path to the leaf.
    bounds: Vec<Bound>,
    /// Per leaf: the first node (in `Steps`) of its path that tests one of the columns, or
    /// `NONE`; a row moved out of the leaf takes the path down to that node still.
    entry: Vec<u32>,
    /// Per leaf: its tree.
    tree: Vec<u32>,
    /// Per routed row `i`, `leaves[start[i]..start[i + 1]]`: its leaves whose path tests one
    /// of the columns, in tree order (a shuffle moves a row only out of those).
    start: Vec<usize>,
    leaves: Vec<u32>,
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

    /// The paths' bounds on the columns `cols`, and each routed row's leaves whose path tests them.
    pub fn boxes(&self, cols: &[usize]) -> Boxes {
        let all = Bound { lo: 0, hi: MISSING - 1, missing: true };
        let m = cols.len();
        let leaves = self.leaves.values.len();
        let (mut bounds, mut entry, mut tree_of) = (vec![all; leaves * m], vec![NONE; leaves], vec![0; leaves]);
        for (t, tree) in self.coded.trees.iter().enumerate() {
            tree_of[self.leaves.first[t]..][..tree.values.len()].fill(t as u32);
            let tests = |n: &Node| n.feature != LEAF && cols.contains(&(n.feature as usize));
            if !tree.nodes.iter().any(tests) {
                continue;
            }
            // Per node and column, the codes of the path to the node; per node, its path's first
            // node testing a column.
            let (mut b, mut e) = (vec![all; tree.nodes.len() * m], vec![NONE; tree.nodes.len()]);
            for (a, n) in tree.nodes.iter().enumerate() {
                if n.feature == LEAF {
                    let leaf = self.leaves.first[t] + n.left as usize;
                    bounds[leaf * m..(leaf + 1) * m].copy_from_slice(&b[a * m..(a + 1) * m]);
                    entry[leaf] = if e[a] == NONE { NONE } else { self.steps.root[t] + e[a] };
                    continue;
                }
                let (l, r) = (n.left as usize, n.right as usize);
                b.copy_within(a * m..(a + 1) * m, l * m);
                b.copy_within(a * m..(a + 1) * m, r * m);
                let j = cols.iter().position(|&c| c == n.feature as usize);
                (e[l], e[r]) = match (e[a], j) {
                    (NONE, Some(_)) => (a as u32, a as u32),
                    (first, _) => (first, first),
                };
                if let Some(j) = j {
                    let left = &mut b[l * m + j];
                    left.hi = left.hi.min(n.code);
                    left.missing &= n.missing_left;
                    let right = &mut b[r * m + j];
                    right.lo = right.lo.max(n.code + 1);
                    right.missing &= !n.missing_left;
                }
            }
        }
        let (start, leaves) = match &self.ids {
            LeafIds::Byte(ids) => self.tested_leaves(ids, &entry),
            LeafIds::Short(ids) => self.tested_leaves(ids, &entry),
            LeafIds::Word(ids) => self.tested_leaves(ids, &entry),
        };
        Boxes { cols: cols.to_vec(), bounds, entry, tree: tree_of, start, leaves }
    }

    /// Per routed row (their leaves being `ids`), its leaves whose `entry` is a node, in tree
    /// order: `leaves[start[i]..start[i + 1]]` for row i.
    fn tested_leaves<L: LeafId>(&self, ids: &[L], entry: &[u32]) -> (Vec<usize>, Vec<u32>) {
        let trees = self.coded.trees.len();
        let testing: Vec<usize> = (0..trees)
            .filter(|&t| entry[self.leaves.first[t]..][..self.coded.trees[t].values.len()].iter().any(|&e| e != NONE))
            .collect();
        let (mut start, mut leaves) = (Vec::with_capacity(self.n + 1), Vec::new());
        start.push(0);
        for i in 0..self.n {
            let row = &ids[i * trees..(i + 1) * trees];
            for &t in &testing {
                let leaf = self.leaves.first[t] + row[t].get();
                if entry[leaf] != NONE {
                    leaves.push(leaf as u32);
                }
            }
            start.push(leaves.len());
        }
        (start, leaves)
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
    /// prediction; the others' leaves are summed again from the mark before the first tree
    /// they leave, a block of rows at a time.
    fn shuffled_raw<L: LeafId>(&self, ids: &[L], boxes: &Boxes, rows: Option<&[usize]>, perm: &[usize]) -> Vec<f64> {
        let (trees, outputs) = (self.coded.trees.len(), self.coded.outputs());
        let per = trees.div_ceil(MARK) * outputs;
        let row = |i: usize| rows.map_or(i, |r| r[i]);
        let mut raw = vec![0.0; perm.len() * outputs];
        raw.par_chunks_mut(BLOCK * outputs).enumerate().for_each(|(b, block)| {
            // The moved rows (their places in the block), their leaves, re-routed, and the first
            // tree each is summed again from.
            let (mut moved, mut moved_ids, mut from) = (Vec::new(), Vec::new(), Vec::new());
            let mut work = Reroute { codes: vec![0u8; self.codes.width], failed: vec![0; trees], at: vec![0; trees] };
            for (i, sums) in block.chunks_mut(outputs).enumerate() {
                let (src, from_row) = (row(b * BLOCK + i), row(perm[b * BLOCK + i]));
                let own = self.codes.row(src);
                // A row with no leaf whose path tests the columns, or with its own codes, stays.
                let tested = boxes.start[src] < boxes.start[src + 1];
                // The shuffled codes, from the columns (a row's is a cache miss at a random place).
                if tested && boxes.cols.iter().any(|&c| own[c] != self.columns[c * self.n + from_row]) {
                    work.codes.copy_from_slice(own);
                    for &c in &boxes.cols {
                        work.codes[c] = self.columns[c * self.n + from_row];
                    }
                    let own_ids = &ids[src * trees..(src + 1) * trees];
                    if let Some(t) = self.reroute(boxes, &mut work, src, own_ids, &mut moved_ids) {
                        let mark = &self.marks[src * per + t / MARK * outputs..][..outputs];
                        set(sums, mark);
                        moved.push(i);
                        from.push(t / MARK * MARK);
                        continue;
                    }
                }
                set(sums, &self.raw[src * outputs..(src + 1) * outputs]);
            }
            self.resum(block, &moved, &moved_ids, &from);
        });
        raw
    }

    /// Sums again the moved rows of a block of raw predictions (at places `moved` in `block`,
    /// their sums there those of their first `from` trees), their leaves being `ids`: in the
    /// order of `from`, so that each tree adds to a run of rows from the first.
    fn resum<L: LeafId>(&self, block: &mut [f64], moved: &[usize], ids: &[L], from: &[usize]) {
        let outputs = self.coded.outputs();
        let mut order: Vec<usize> = (0..moved.len()).collect();
        order.sort_by_key(|&j| from[j]);
        if outputs == 1 {
            return self.leaves.add_one(block, (moved, ids, &order), from);
        }
        let sorted_from: Vec<usize> = order.iter().map(|&j| from[j]).collect();
        let mut sums = Vec::with_capacity(order.len() * outputs);
        for &j in &order {
            sums.extend_from_slice(&block[moved[j] * outputs..(moved[j] + 1) * outputs]);
        }
        self.leaves.add(self.coded, (ids, &order), &sorted_from, &mut sums, None);
        for (&j, s) in order.iter().zip(sums.chunks(outputs)) {
            block[moved[j] * outputs..(moved[j] + 1) * outputs].copy_from_slice(s);
        }
    }

    /// Whether the row `src` with codes `work.codes` (its shuffled columns' changed) leaves a
    /// leaf of `own` (its routed leaves); if so, its leaves with those trees re-routed go onto
    /// `out` and the first tree it leaves its leaf in is returned. Only the leaves whose path
    /// tests the columns are checked, without a branch per leaf; the trees it leaves are walked
    /// down together from the first node of the path that tests one of them.
    fn reroute<L: LeafId>(
        &self,
        boxes: &Boxes,
        work: &mut Reroute,
        src: usize,
        own: &[L],
        out: &mut Vec<L>,
    ) -> Option<usize> {
        let (m, codes, trees) = (boxes.cols.len(), &work.codes, &self.coded.trees);
        let mut failed = 0;
        for &leaf in &boxes.leaves[boxes.start[src]..boxes.start[src + 1]] {
            let at = leaf as usize * m;
            let kept = boxes.cols.iter().zip(&boxes.bounds[at..at + m]).all(|(&c, b)| b.holds(codes[c]));
            work.failed[failed] = leaf as usize;
            failed += usize::from(!kept);
        }
        if failed == 0 {
            return None;
        }
        let (failed, at) = (&work.failed[..failed], &mut work.at[..failed]);
        for (a, &leaf) in at.iter_mut().zip(failed) {
            *a = boxes.entry[leaf];
        }
        self.steps.walk(codes, at);
        let start = out.len();
        out.extend_from_slice(own);
        for (&leaf, &node) in failed.iter().zip(at.iter()) {
            let t = boxes.tree[leaf] as usize;
            out[start + t] = L::new(trees[t].nodes[(node - self.steps.root[t]) as usize].left as usize);
        }
        Some(boxes.tree[failed[0]] as usize)
    }
}

/// `dst.copy_from_slice(src)`, without a call to `memcpy` for one output (every row of a shuffle
/// takes its sums so).
#[inline]
fn set(dst: &mut [f64], src: &[f64]) {
    if let ([d], [s]) = (&mut *dst, src) {
        *d = *s;
    } else {
        dst.copy_from_slice(src);
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
