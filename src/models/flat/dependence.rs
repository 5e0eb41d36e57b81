//! Partial dependence of trees summed in tree order: every row's prediction with some columns set
//! to each of many values (a grid), without a walk per (row, tree, value). Each row walks each tree
//! once with the set columns free: a node testing one of them splits the values still going down
//! (the ones its test sends left, the others right), any other node sends them all the row's way,
//! and each leaf reached adds its value to the sums of the values that reach it. Every (row, value)
//! sum still adds the trees' leaves in tree order, so every digit is the predict's of the changed
//! matrix. A block's rows walk a tree together, in the predict walk's lanes, round by round: each
//! (row, grid range) goes its row's own way to a leaf or to a test of a set column, which parts it.

use super::{FlatNode, FlatTree, Rows32, TreeSum};

use crate::models::Prediction;
use ndarray::{Array1, Array2};
use rayon::prelude::*;

/// Which of a [`TreeSum`]'s outputs a caller reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outputs {
    /// Every output: each prediction as `predict` gives it.
    All,
    /// One class's probability, as `Prediction::Values` (one per row): a class's mean is its own
    /// leaves' sum in tree order over the tree count, so it has the bits of that column of `All`
    /// and costs only its own additions. A class past the outputs reads `All`.
    Class(usize),
}

impl TreeSum<'_> {
    /// The prediction of every row of `x` with its columns `cols` set to `values[v]` (one value
    /// per column of `cols`, in that order), for each `v`: equal to predicting each changed matrix
    /// (its `outputs` only).
    pub fn with_columns_set(
        &self,
        x: &Array2<f64>,
        cols: &[usize],
        values: &[Vec<f64>],
        outputs: Outputs,
    ) -> Vec<Prediction> {
        let rows = Rows32::new(x.view());
        // The outputs summed: `width` of each leaf's values from its `first`.
        let (first, width) = match outputs {
            Outputs::Class(c) if c < self.classes => (c, 1),
            _ => (0, self.width()),
        };
        let (n, n_values) = (x.nrows(), values.len());
        // Which of `cols` a design column is, and each set column's values as f32 (as `Rows32`).
        let mut set = vec![None; x.ncols()];
        for (k, &c) in cols.iter().enumerate() {
            set[c] = Some(k);
        }
        let set_values: Vec<Vec<f32>> = (0..cols.len()).map(|k| values.iter().map(|v| v[k] as f32).collect()).collect();
        // With one column the values go in increasing order (NaN last, never `<=`): the values a
        // test sends left are then a prefix.
        let mut order: Vec<u32> = (0..n_values as u32).collect();
        if let [only] = set_values.as_slice() {
            order.sort_by(|&a, &b| {
                let (a, b) = (only[a as usize], only[b as usize]);
                a.is_nan().cmp(&b.is_nan()).then(a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal))
            });
        }
        // Each tree walked as far as a row goes alone: to a leaf or a node testing a set column.
        let stops: Vec<FlatTree> =
            self.trees.par_iter().map(|t| t.stopping_at(|f| set.get(f).is_some_and(Option::is_some))).collect();
        let walk = Walk { sum: self, rows: &rows, set: &set, set_values: &set_values, order: &order, first, width };
        let mut sums = vec![0.0; n * n_values * width];
        // A block of rows at a time, tree by tree, so that a tree's nodes stay in cache.
        sums.par_chunks_mut(BLOCK * n_values * width).enumerate().for_each(|(b, block)| {
            let mut buffers = Buffers::default();
            for (tree, stops) in self.trees.iter().zip(&stops) {
                walk.tree(tree, stops, b * BLOCK, block, &mut buffers);
            }
        });
        // One column's sums are kept in the walk's order (see `Walk::tree`).
        let mut slot: Vec<usize> = (0..n_values).collect();
        if set_values.len() == 1 {
            for (p, &v) in order.iter().enumerate() {
                slot[v as usize] = p;
            }
        }
        (0..n_values)
            .map(|v| {
                let mut at_v = Vec::with_capacity(n * width);
                let s = slot[v];
                for row_sums in sums.chunks(n_values * width) {
                    at_v.extend_from_slice(&row_sums[s * width..(s + 1) * width]);
                }
                if width == self.width() {
                    return self.output(at_v, n);
                }
                self.mean_of(&mut at_v);
                Prediction::Values(Array1::from(at_v))
            })
            .collect()
    }
}

impl TreeSum<'_> {
    /// [`TreeSum::add`] of one leaf (its `width` values summed) to each of consecutive sums
    /// (`width` each), the one- and two-value leaves (regression, one or two classes) in vector
    /// lanes: the same additions.
    fn add_to_each(&self, sums: &mut [f64], leaf: &[f64], width: usize) {
        match (self.mean, leaf) {
            (true, &[a]) => sums.iter_mut().for_each(|s| *s += a),
            (true, &[a, b]) => {
                let pattern = [a, b, a, b];
                let mut quads = sums.chunks_exact_mut(4);
                for quad in &mut quads {
                    for (s, v) in quad.iter_mut().zip(pattern) {
                        *s += v;
                    }
                }
                for (s, v) in quads.into_remainder().iter_mut().zip(pattern) {
                    *s += v;
                }
            }
            _ => sums.chunks_exact_mut(width).for_each(|s| self.add(s, leaf)),
        }
    }
}

/// Rows walked together, tree by tree (their sums stay in a core's cache).
const BLOCK: usize = 128;

/// What every block's walk shares.
struct Walk<'a> {
    sum: &'a TreeSum<'a>,
    rows: &'a Rows32,
    /// Per design column: its index among the set columns.
    set: &'a [Option<usize>],
    /// Per set column: its value at each grid point.
    set_values: &'a [Vec<f32>],
    /// The grid points in the order the walks start from.
    order: &'a [u32],
    /// The outputs summed: `width` of each leaf's values from its `first`.
    first: usize,
    width: usize,
}

/// A row of the block walking from a node, for the grid points `lo..hi` of its order.
#[derive(Debug, Clone, Copy)]
struct Frame {
    row: u32,
    node: u32,
    lo: u32,
    hi: u32,
}

/// A block's buffers, kept from tree to tree.
#[derive(Default)]
struct Buffers {
    frames: Vec<Frame>,
    next: Vec<Frame>,
    /// The frames' rows, one after another (as the lane walk reads them).
    rows: Vec<f32>,
    /// The node each frame's row stops at (as `stops` has it).
    reached: Vec<FlatNode>,
    /// The values (`width`) of the leaf each frame reaches (zeros at a stop).
    values: Vec<f64>,
    /// Several columns: each row's order of the grid points (partitioned as the walk goes).
    orders: Vec<u32>,
}

/// A stop's `left` in [`FlatTree::stopping_at`] (a leaf's is the index of its first value).
const STOP: u32 = u32::MAX;

impl FlatTree {
    /// This tree with each split testing a column `stop` holds for made a leaf (its own right
    /// child, its `left` [`STOP`]): a lane walk on it ends where a row's own way ends. Only the
    /// walk reads it (no values).
    fn stopping_at(&self, stop: impl Fn(usize) -> bool) -> FlatTree {
        let stopped = |(i, n): (usize, &FlatNode)| match !n.threshold.is_nan() && stop(n.feature as usize) {
            true => FlatNode { threshold: f32::NAN, left: STOP, right: i as u32, ..*n },
            false => *n,
        };
        let nodes = self.nodes.iter().enumerate().map(stopped).collect();
        FlatTree { nodes, columns: self.columns, children: self.children, ..FlatTree::default() }
    }
}

impl Walk<'_> {
    /// Adds one tree's leaves to the sums of the block's rows from row `start` (`width` per grid
    /// point: with one column in the walk's order, so the points reaching a leaf have consecutive
    /// sums; with several, grid point by grid point). Every frame's row walks its own way in lanes
    /// (`stops`, the tree ending at the set columns' tests) to a leaf, which adds its value to the
    /// frame's sums, or to a test of a set column, which parts the frame's grid points in two frames.
    fn tree(&self, tree: &FlatTree, stops: &FlatTree, start: usize, sums: &mut [f64], buf: &mut Buffers) {
        let n_values = self.order.len();
        let per_row = (n_values * self.width).max(1);
        let m = sums.len() / per_row;
        let single = self.set_values.len() == 1;
        // (One column's walk only reads the order; several columns' reorder it, row by row.)
        if !single {
            buf.orders.clear();
            (0..m).for_each(|_| buf.orders.extend_from_slice(self.order));
        }
        buf.frames.clear();
        buf.frames.extend((0..m as u32).map(|row| Frame { row, node: 0, lo: 0, hi: n_values as u32 }));
        while !buf.frames.is_empty() {
            buf.rows.clear();
            for f in &buf.frames {
                buf.rows.extend_from_slice(self.rows.row(start + f.row as usize));
            }
            let unwalked = FlatNode { feature: 0, threshold: f32::NAN, left: STOP, right: 0 };
            buf.reached.resize(buf.frames.len(), unwalked);
            let (frames, reached) = (&buf.frames, &mut buf.reached);
            stops.walk(&buf.rows, self.rows.width, frames.len(), |i| frames[i].node, |i, n| reached[i] = n);
            // The leaves' values first, in a loop of loads that do not wait for one another.
            buf.values.clear();
            for n in &buf.reached {
                let start = if n.left == STOP { None } else { Some(n.left as usize + self.first) };
                let value = |k| start.and_then(|s| tree.values.get(s + k)).copied().unwrap_or(0.0);
                buf.values.extend((0..self.width).map(value));
            }
            buf.next.clear();
            let leaves = buf.values.chunks_exact(self.width);
            for ((&f, n), value) in buf.frames.iter().zip(&buf.reached).zip(leaves) {
                let row_sums = &mut sums[f.row as usize * per_row..][..per_row];
                let order = (!single).then(|| &mut buf.orders[f.row as usize * n_values..][..n_values]);
                let leaf = (n.left != STOP).then_some(value);
                self.reach(tree, (n.right as usize, leaf), f, row_sums, order, &mut buf.next);
            }
            std::mem::swap(&mut buf.frames, &mut buf.next);
        }
    }

    /// Frame `f` at node `at` (a leaf, with its `value`, or a test of a set column): the leaf's
    /// value added to the frame's grid points' sums (`order`: the row's own order with several
    /// columns), or the frames the test's sides take pushed on `next`.
    fn reach(
        &self,
        tree: &FlatTree,
        (at, leaf): (usize, Option<&[f64]>),
        f: Frame,
        sums: &mut [f64],
        order: Option<&mut [u32]>,
        next: &mut Vec<Frame>,
    ) {
        let (lo, hi, width) = (f.lo as usize, f.hi as usize, self.width);
        if let Some(value) = leaf {
            match order {
                None => self.sum.add_to_each(&mut sums[lo * width..hi * width], value, width),
                Some(order) => {
                    for &v in &order[lo..hi] {
                        self.sum.add(&mut sums[v as usize * width..][..width], value);
                    }
                }
            }
            return;
        }
        let node = tree.nodes[at];
        let Some(k) = self.set[node.feature as usize] else {
            unreachable!("a walk stops only at leaves and at tests of set columns")
        };
        let column = &self.set_values[k];
        let goes_left = |v: &u32| column[*v as usize] <= node.threshold;
        let mid = match order {
            None => lo + self.order[lo..hi].partition_point(goes_left),
            Some(order) => lo + partition(&mut order[lo..hi], goes_left),
        };
        if lo < mid {
            next.push(Frame { node: node.left, hi: mid as u32, ..f });
        }
        if mid < hi {
            next.push(Frame { node: node.right, lo: mid as u32, ..f });
        }
    }
}

/// Moves the items `left` holds for to the front; returns their count.
fn partition(items: &mut [u32], left: impl Fn(&u32) -> bool) -> usize {
    let mut mid = 0;
    for i in 0..items.len() {
        if left(&items[i]) {
            items.swap(mid, i);
            mid += 1;
        }
    }
    mid
}

#[cfg(test)]
mod tests {
    use super::Outputs;
    use crate::models::forest::{self, Task};
    use crate::models::tree::Splitter;
    use crate::models::{Fitted, Prediction};
    use crate::random::RandomState;
    use ndarray::Array2;

    /// Setting one column or two to each of a grid of values (repeated values, values beyond the
    /// data, NaN) gives the bits of predicting each changed matrix: forests and extra trees, both
    /// tasks (two classes and three), and a best-first forest; each class's probability alone
    /// (`Outputs::Class`) gives the bits of its column.
    #[test]
    fn set_columns_predict_as_the_changed_matrix_does() {
        use crate::kinds::ModelSpec;
        use crate::spec::ModelKind;
        use crate::spec::ParamValue::{Int, Str};
        let mut rs = RandomState::new(7);
        let x = Array2::from_shape_fn((120, 4), |(_, j)| (rs.next_f64() * 6.0).floor() / [1.0, 3.0, 7.0, 2.0][j]);
        let y: Vec<usize> =
            x.rows().into_iter().map(|r| usize::from(r[0] + r[1] > 3.0) + usize::from(r[2] > 0.4)).collect();
        let y2: Vec<usize> = y.iter().map(|&c| c.min(1)).collect();
        let v: Vec<f64> = x.rows().into_iter().map(|r| r[0] * r[1] - r[3]).collect();
        let classes = ["a".to_string(), "b".to_string(), "c".to_string()];
        let grid = [-1.0, 0.0, 0.5, 2.0, 0.5, 1.0 / 3.0, 4.0, 9.0, f64::NAN];
        let settings: [Vec<(String, crate::spec::ParamValue)>; 2] = [
            vec![("n_estimators".into(), Int(6))],
            vec![
                ("n_estimators".into(), Int(3)),
                ("max_leaf_nodes".into(), Int(8)),
                ("max_features".into(), Str("all".into())),
            ],
        ];
        for given in settings {
            let Ok(ModelSpec::RandomForest(p)) =
                ModelSpec::check(ModelKind::RandomForest, &given.into_iter().collect())
            else {
                panic!()
            };
            for splitter in [Splitter::Best, Splitter::Random] {
                let two = [Task::Classes { y: &y2, classes: &classes[..2] }];
                for task in [Task::Classes { y: &y, classes: &classes }, Task::Values(&v)].into_iter().chain(two) {
                    let forest = forest::fit(&p, splitter, &x, task, None).unwrap();
                    let trees = forest.tree_sum().unwrap();
                    for cols in [&[0][..], &[1, 3], &[]] {
                        let values: Vec<Vec<f64>> = grid
                            .iter()
                            .enumerate()
                            .map(|(g, &a)| cols.iter().map(|&c| a + (c * g) as f64).collect())
                            .collect();
                        let fast = trees.with_columns_set(&x, cols, &values, Outputs::All);
                        // Each class alone: the bits of its column (every class, not only the positive one).
                        let alone: Vec<Vec<Prediction>> = (0..trees.classes)
                            .map(|c| trees.with_columns_set(&x, cols, &values, Outputs::Class(c)))
                            .collect();
                        for (g, (at, prediction)) in values.iter().zip(&fast).enumerate() {
                            let mut changed = x.clone();
                            for (&c, &a) in cols.iter().zip(at) {
                                changed.column_mut(c).fill(a);
                            }
                            let whole = forest.predict(&changed);
                            assert_eq!(format!("{prediction:?}"), format!("{whole:?}"));
                            for (c, class) in alone.iter().enumerate() {
                                let (Prediction::Values(one), Prediction::Probabilities(p)) = (&class[g], &whole)
                                else {
                                    panic!("one class's values expected")
                                };
                                let bits = |v: &f64| v.to_bits();
                                assert_eq!(
                                    one.iter().map(bits).collect::<Vec<_>>(),
                                    p.column(c).iter().map(bits).collect::<Vec<_>>()
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
