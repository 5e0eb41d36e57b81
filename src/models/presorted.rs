//! A tree's rows kept in each feature's value order, node by node, so that a node's split scans
//! its rows sorted by a feature without sorting them. Only for a tree whose tied rows may go in
//! any order (`tree.rs`: a classifier with whole-number weights, where every sum is exact): the
//! lists order ties by row, where the introsort would order them its own way.
//!
//! Each feature's list holds the tree's rows (those of positive weight) by increasing value; a
//! node owns the same positions `at..at + len` of every list (and of the builder's rows), and
//! its segment of a list is its rows in that feature's order. When the node splits, each list's
//! segment is partitioned stably into the rows that go left, then those that go right, so both
//! children's segments are again sorted. The split feature's own segment is already so divided.

/// Each column's rows by increasing value, computed once per training matrix and shared by
/// every tree grown on it.
pub struct ColumnOrder(Vec<Vec<u32>>);

impl ColumnOrder {
    /// `None` when a value is not finite (an infinite threshold or a NaN does not divide a
    /// sorted list where the scan counts it) or the rows do not fit in `u32`.
    pub fn of(columns: &[Vec<f32>]) -> Option<ColumnOrder> {
        let n = columns.first().map_or(0, Vec::len);
        if u32::try_from(n).is_err() || columns.iter().any(|c| c.iter().any(|v| !v.is_finite())) {
            return None;
        }
        let order = columns
            .iter()
            .map(|column| {
                let mut rows: Vec<u32> = (0..n as u32).collect();
                rows.sort_unstable_by(|&a, &b| column[a as usize].total_cmp(&column[b as usize]));
                rows
            })
            .collect();
        Some(ColumnOrder(order))
    }
}

/// One tree's lists, one per feature, each `len` rows long.
pub struct Lists {
    features: usize,
    len: usize,
    /// Feature `f`'s list at `f * len ..`.
    rows: Vec<u32>,
    /// Whether a row goes left at the split being applied (indexed by row).
    left: Vec<bool>,
    /// The rows going right while a segment is partitioned.
    scratch: Vec<u32>,
}

impl Lists {
    /// The lists of the rows whose weight is not 0, in `order`.
    pub fn new(order: &ColumnOrder, weights: &[f64]) -> Lists {
        let features = order.0.len();
        let len = weights.iter().filter(|&&w| w != 0.0).count();
        // Branch-free (a bootstrap leaves out a third of the rows at random): every row is
        // written, and the next one overwrites it unless it is kept.
        let mut rows = vec![0; features * len + 1];
        let mut k = 0;
        for &r in order.0.iter().flatten() {
            rows[k] = r;
            k += usize::from(weights[r as usize] != 0.0);
        }
        rows.truncate(features * len);
        Lists { features, len, rows, left: vec![false; weights.len()], scratch: Vec::new() }
    }

    /// A node's rows (at `at..at + len` of the lists) sorted by `feature`.
    pub fn segment(&self, feature: usize, at: usize, len: usize) -> &[u32] {
        &self.rows[feature * self.len + at..][..len]
    }

    /// Splits the node at `at..at + len`: the first `pos` rows of `feature`'s segment go left.
    /// Every list's segment is partitioned stably (left rows first); `rows` receives the node's
    /// rows in `feature`'s order.
    pub fn split(&mut self, feature: usize, at: usize, pos: usize, rows: &mut [usize]) {
        let len = rows.len();
        let segment = &self.rows[feature * self.len + at..][..len];
        for (i, (&r, out)) in segment.iter().zip(rows.iter_mut()).enumerate() {
            self.left[r as usize] = i < pos;
            *out = r as usize;
        }
        self.scratch.resize(len, 0);
        for f in 0..self.features {
            if f != feature {
                let segment = &mut self.rows[f * self.len + at..][..len];
                stable_partition(segment, &self.left, &mut self.scratch);
            }
        }
    }
}

/// Moves the rows marked in `left` to the front and the others after them, each in order
/// (`scratch` at least as long as `rows`). Branch-free: every row is written to both places.
fn stable_partition(rows: &mut [u32], left: &[bool], scratch: &mut [u32]) {
    let (mut l, mut r) = (0, 0);
    for i in 0..rows.len() {
        let row = rows[i];
        let goes_left = left[row as usize];
        // `l <= i`: the slot is read already.
        rows[l] = row;
        scratch[r] = row;
        l += usize::from(goes_left);
        r += usize::from(!goes_left);
    }
    rows[l..].copy_from_slice(&scratch[..r]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Segments stay sorted by their feature and hold the same rows in every list, split after
    /// split; rows of weight 0 are left out.
    #[test]
    fn split_segments_stay_sorted_and_hold_the_nodes_rows() {
        let mut rs = crate::random::RandomState::new(4);
        let columns: Vec<Vec<f32>> =
            (0..3).map(|_| (0..50).map(|_| (rs.next_f64() * 10.0).floor() as f32).collect()).collect();
        let weights: Vec<f64> = (0..50).map(|r| if r % 7 == 3 { 0.0 } else { 1.0 }).collect();
        let mut lists = Lists::new(&ColumnOrder::of(&columns).unwrap(), &weights);
        assert_eq!(lists.len, 43);
        let sorted = |lists: &Lists, f: usize, at: usize, len: usize| {
            let s = lists.segment(f, at, len);
            s.windows(2).all(|w| columns[f][w[0] as usize] <= columns[f][w[1] as usize])
        };
        let set = |lists: &Lists, f: usize, at: usize, len: usize| {
            let mut s = lists.segment(f, at, len).to_vec();
            s.sort_unstable();
            s
        };
        // Split the root by feature 0 at 20, then its right child (23 rows) by feature 2 at 9.
        let mut rows = vec![0; 43];
        lists.split(0, 0, 20, &mut rows);
        assert_eq!(rows, lists.segment(0, 0, 43).iter().map(|&r| r as usize).collect::<Vec<_>>());
        let mut right = vec![0; 23];
        lists.split(2, 20, 9, &mut right);
        for (at, len) in [(0, 20), (20, 9), (29, 14)] {
            for f in 0..3 {
                assert!(sorted(&lists, f, at, len), "feature {f} at {at}");
                assert_eq!(set(&lists, f, at, len), set(&lists, 0, at, len));
            }
        }
        assert!(set(&lists, 1, 0, 43).iter().all(|&r| weights[r as usize] == 1.0));
        assert!(ColumnOrder::of(&[vec![1.0, f32::INFINITY]]).is_none());
    }

    /// A classifier of whole-number weights grown from the lists is the tree grown by sorting
    /// every node: same nodes, thresholds, leaves and importances. Tied values, bootstrap-like
    /// counts (zeros among them), both criteria, depth first and best first, pruning, leaf sizes.
    #[test]
    fn a_tree_grown_from_the_lists_is_the_sorted_one() {
        use crate::models::criterion::{Impurity, Targets};
        use crate::models::tree::{build, Settings, Splitter};
        let mut rs = crate::random::RandomState::new(8);
        let n = 900;
        let levels = [1e9, 40.0, 6.0, 2.0, 300.0];
        let columns: Vec<Vec<f32>> =
            levels.iter().map(|l| (0..n).map(|_| ((rs.next_f64() * l).floor() / l - 0.5) as f32).collect()).collect();
        let y: Vec<usize> = (0..n)
            .map(|r| {
                let s = columns[0][r] + columns[1][r] * columns[2][r] + columns[4][r] + rs.next_f64() as f32 - 0.5;
                usize::from(s > 0.0) + usize::from(s > 0.4)
            })
            .collect();
        let weights: Vec<f64> = (0..n).map(|_| rs.randint(0, 4) as f64).collect();
        let order = ColumnOrder::of(&columns).unwrap();
        let settings = |impurity, max_features, min_samples_leaf, max_leaf_nodes, ccp_alpha| Settings {
            impurity,
            max_depth: 0,
            min_samples_split: 2,
            min_samples_leaf,
            min_weight_fraction_leaf: 0.0,
            min_impurity_decrease: 0.0,
            max_features,
            splitter: Splitter::Best,
            random_state: 5,
            max_leaf_nodes,
            ccp_alpha,
        };
        for (impurity, max_features, leaf, leaves, alpha) in [
            (Impurity::Gini, 2, 1, 0, 0.0),
            (Impurity::Entropy, 5, 1, 0, 0.0),
            (Impurity::Gini, 3, 7, 0, 0.0),
            (Impurity::Gini, 2, 1, 40, 0.0),
            (Impurity::Entropy, 2, 2, 0, 0.002),
        ] {
            let p = settings(impurity, max_features, leaf, leaves, alpha);
            for w in [None, Some(&weights[..])] {
                let targets = || Targets::Classes { y: &y, n_classes: 3 };
                let listed = build(&p, &columns, Some(&order), targets(), w).unwrap();
                let sorted = build(&p, &columns, None, targets(), w).unwrap();
                assert!(listed.flat().node_count() > 50);
                assert_eq!(listed.flat(), sorted.flat(), "{p:?}");
                assert_eq!(listed.importances(), sorted.importances(), "{p:?}");
            }
        }
    }
}
