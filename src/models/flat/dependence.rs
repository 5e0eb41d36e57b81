//! Partial dependence of trees summed in tree order: every row's prediction with some columns set
//! to each of many values (a grid), without a walk per (row, tree, value). Each row walks each tree
//! once with the set columns free: a node testing one of them splits the values still going down
//! (the ones its test sends left, the others right), any other node sends them all the row's way,
//! and each leaf reached adds its value to the sums of the values that reach it. Every (row, value)
//! sum still adds the trees' leaves in tree order, so every digit is the predict's of the changed
//! matrix.

use super::{FlatTree, Rows32, TreeSum};

/// A node still to walk and the grid points (a range of the order) that reach it.
type Frame = (usize, usize, usize);
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
        let walk = Walk { sum: self, set: &set, set_values: &set_values, order: &order, first, width };
        let mut sums = vec![0.0; n * n_values * width];
        // A block of rows at a time, tree by tree, so that a tree's nodes stay in cache.
        sums.par_chunks_mut(BLOCK * n_values * width).enumerate().for_each(|(b, block)| {
            let mut order = order.clone();
            let mut stack = Vec::new();
            for tree in &self.trees {
                for (k, row_sums) in block.chunks_mut(n_values * width).enumerate() {
                    walk.tree(tree, rows.row(b * BLOCK + k), row_sums, &mut order, &mut stack);
                }
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

/// Rows walked together, tree by tree.
const BLOCK: usize = 32;

/// What every row's walk shares.
struct Walk<'a> {
    sum: &'a TreeSum<'a>,
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

impl Walk<'_> {
    /// Adds one tree's leaves to one row's sums (`width` per grid point: with one column in the
    /// walk's order, so the points reaching a leaf have consecutive sums; with several, grid point
    /// by grid point); `order` and `stack` are the walk's buffers.
    fn tree(&self, tree: &FlatTree, row: &[f32], sums: &mut [f64], order: &mut [u32], stack: &mut Vec<Frame>) {
        let width = self.width;
        let single = self.set_values.len() == 1;
        // (One column's walk only reads the order; several columns' reorder it.)
        if !single {
            order.copy_from_slice(self.order);
        }
        stack.push((0, 0, order.len()));
        while let Some((mut at, lo, hi)) = stack.pop() {
            // Down the row's own way until a leaf or a node testing a set column.
            let (node, k) = loop {
                let node = tree.nodes[at];
                if tree.is_leaf(at) {
                    break (node, None);
                }
                let f = node.feature as usize;
                match self.set[f] {
                    Some(k) => break (node, Some(k)),
                    None => at = if row[f] <= node.threshold { node.left } else { node.right } as usize,
                }
            };
            let Some(k) = k else {
                let value = tree.value(at).get(self.first..self.first + width).unwrap_or_default();
                if single {
                    self.sum.add_to_each(&mut sums[lo * width..hi * width], value, width);
                    continue;
                }
                for &v in &order[lo..hi] {
                    let v = v as usize;
                    self.sum.add(&mut sums[v * width..(v + 1) * width], value);
                }
                continue;
            };
            let column = &self.set_values[k];
            let goes_left = |v: &u32| column[*v as usize] <= node.threshold;
            let mid = if single {
                lo + order[lo..hi].partition_point(goes_left)
            } else {
                lo + partition(&mut order[lo..hi], goes_left)
            };
            if mid < hi {
                stack.push((node.right as usize, mid, hi));
            }
            if lo < mid {
                stack.push((node.left as usize, lo, mid));
            }
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
