//! Decision trees: scikit-learn's CART reproduced step for step (`BestSplitter` under the
//! `DepthFirstTreeBuilder`), so that a tree equals `DecisionTreeClassifier` /
//! `DecisionTreeRegressor` with the same `random_state`:
//!
//! - features are compared as f32, as scikit-learn converts X;
//! - values closer than 1e-7 are not split apart (`FEATURE_THRESHOLD`), and the threshold is
//!   the midpoint of two neighbours;
//! - features are tried in the order its `rand_r` stream draws them, and a split replaces the
//!   best so far only when strictly better, which is how equal-gain splits are broken;
//! - nodes are built depth first, left child first, sharing one feature array and stream;
//! - a node's rows are sorted by a feature as its introsort sorts them: a plain sort where
//!   that gives the same order (no two values equal; or a classifier with whole-number
//!   weights, whose class counts are exact in any order, so that ties may go either way),
//!   else the introsort itself (the order of tied rows decides the order of sums); where ties
//!   may go either way, a node of many rows reads them in each feature's order from lists
//!   sorted once per forest and partitioned at every split instead (`presorted.rs`);
//! - there, gini's and entropy's class sums (exact integers) are added as one `u64` per row, each
//!   class a field of it (`criterion::PackedClasses`), in one pass per feature that keeps the
//!   candidate splits' sums for the same f64 proxies;
//! - impurities are scikit-learn's, rounding and all (`criterion.rs`): a child inherits the
//!   impurity its parent's split computed, is a leaf when that is at most `EPSILON`, and a
//!   split whose improvement + `EPSILON` is below zero is not made.
//!
//! (linfa-trees, used before, drifted by up to 36 test rows a fold on 10-class data.)

use super::criterion::{Impurity, PackedClasses, PackedScan, ScanSums, SplitCriterion, Stats, Targets, BATCH};
use super::flat::{FlatTree, TreeSum};
use super::introsort::{simultaneous_sort, sort_if_distinct};
use super::presorted::{ColumnOrder, Lists};
use super::{FitError, Fitted, Prediction};
use crate::random::RandomState;
use crate::spec::{ClassWeight, Criterion};
use ndarray::{Array1, Array2};

/// `decision_tree`.
/// Its catalog entries (defaults, ranges, help) are in the kind's file.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeParams {
    pub max_depth: usize,
    pub min_samples_split: usize,
    pub min_samples_leaf: usize,
    pub min_impurity_decrease: f64,
    pub criterion: Criterion,
    pub min_weight_fraction_leaf: f64,
    pub class_weight: ClassWeight,
    pub max_leaf_nodes: usize,
    pub ccp_alpha: f64,
    pub random_state: u32,
}

const FEATURE_THRESHOLD: f64 = 1e-7;
const RAND_R_MAX: u32 = 0x7FFF_FFFF;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Node {
    /// Class fractions, or the mean value.
    Leaf(Vec<f64>),
    /// Rows whose feature (as f32) is at most `threshold` go left.
    Split { feature: usize, threshold: f64, left: usize, right: usize },
}

pub struct Tree {
    /// The nodes, as flat arrays (`flat.rs`).
    flat: FlatTree,
    /// 0 for a regression tree.
    n_classes: usize,
    /// What growing knew of each node (empty for a loaded tree): its impurity importance.
    grown: Vec<GrownNode>,
    /// Columns of the matrix it was grown on.
    n_features: usize,
}

/// A grown node's `weighted_n_node_samples` and `impurity`, as scikit-learn's `Node` keeps them.
#[derive(Debug, Clone, Copy)]
pub(super) struct GrownNode {
    pub(super) weight: f64,
    pub(super) impurity: f64,
}

impl Tree {
    /// A saved tree, checked: split features within `width` and finite thresholds; each
    /// node but the first the child of exactly one earlier node (so every walk ends at a
    /// leaf and every node is reached); finite leaves of `classes` values (one for
    /// regression), a classifier's shares in [0, 1] summing to 1.
    pub fn from_flat(flat: FlatTree, classes: usize, width: usize) -> Result<Tree, String> {
        let n = flat.node_count();
        if n == 0 {
            return Err("model.nodes is empty; a tree has at least one node".into());
        }
        let mut parent = vec![None; n];
        for i in 0..n {
            // Named only on an error: a forest has millions of nodes.
            let at = || format!("model.nodes[{i}]");
            let Some((feature, left, right)) = flat.split(i) else {
                check_leaf(flat.value(i), classes, at)?;
                continue;
            };
            if feature >= width {
                return Err(format!("{}.split.feature is {feature}, but there are {width} features", at()));
            }
            let threshold = flat.threshold(i);
            if !threshold.is_finite() {
                return Err(format!("{}.split.threshold is {threshold}; a threshold is a finite number", at()));
            }
            if left == right {
                return Err(format!("{}.split.left and split.right are both node {left}", at()));
            }
            for (side, child) in [("left", left), ("right", right)] {
                if !(i + 1..n).contains(&child) {
                    return Err(format!(
                        "{}.split.{side} is {child}; a child is a later node (from {} to {})",
                        at(),
                        i + 1,
                        n - 1
                    ));
                }
                if let Some(p) = parent[child].replace(i) {
                    return Err(format!("model.nodes[{child}] is a child of both node {p} and node {i}"));
                }
            }
        }
        if let Some(orphan) = (1..n).find(|&i| parent[i].is_none()) {
            return Err(format!("model.nodes[{orphan}] is no node's child"));
        }
        Ok(Tree { flat, n_classes: classes, grown: Vec::new(), n_features: width })
    }

    pub(super) fn flat(&self) -> &FlatTree {
        &self.flat
    }

    /// Columns of the matrix it predicts from.
    pub(super) fn width(&self) -> usize {
        self.n_features
    }

    /// scikit-learn's `compute_feature_importances(normalize)`: each split's weighted impurity
    /// decrease, summed by feature in node order, over the root's weight, then normalized by
    /// their sum when it is positive. `None` for a loaded tree.
    pub(super) fn importances(&self) -> Option<Vec<f64>> {
        let root = self.grown.first()?;
        let mut importances = vec![0.0; self.n_features];
        for (i, at) in self.grown.iter().enumerate() {
            if let Some((feature, left, right)) = self.flat.split(i) {
                let (l, r) = (&self.grown[left], &self.grown[right]);
                importances[feature] += at.weight * at.impurity - l.weight * l.impurity - r.weight * r.impurity;
            }
        }
        for v in &mut importances {
            *v /= root.weight;
        }
        let normalizer = numpy_sum(&importances);
        if normalizer > 0.0 {
            for v in &mut importances {
                *v /= normalizer;
            }
        }
        Some(importances)
    }

    /// The tree as a sum of one tree: its leaf as it is.
    fn sum(&self) -> TreeSum<'_> {
        TreeSum { trees: vec![&self.flat], classes: self.n_classes, mean: false }
    }
}

/// A leaf: one finite value (regression), or one share per class in [0, 1] that sum to 1.
/// (`at` names the node, on an error.)
fn check_leaf(values: &[f64], classes: usize, at: impl Fn() -> String) -> Result<(), String> {
    let want = classes.max(1);
    if values.len() != want {
        let what =
            if classes == 0 { "1 value (a regression tree)".to_string() } else { format!("{classes} class shares") };
        return Err(format!("{}.leaf has {} values; a leaf holds {what}", at(), values.len()));
    }
    if values.iter().any(|v| !v.is_finite()) {
        super::state::check_finite(values, &format!("{}.leaf", at()))?;
    }
    if classes > 0 {
        if let Some(k) = values.iter().position(|v| !(0.0..=1.0).contains(v)) {
            return Err(format!("{}.leaf[{k}] is {}; a class share is in [0, 1]", at(), values[k]));
        }
        let sum: f64 = values.iter().sum();
        if (sum - 1.0).abs() > 1e-9 {
            return Err(format!("{}.leaf sums to {sum}; class shares sum to 1", at()));
        }
    }
    Ok(())
}

impl Fitted for Tree {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        self.sum().predict(x)
    }

    fn tree_sum(&self) -> Option<TreeSum<'_>> {
        Some(self.sum())
    }

    fn state(&self) -> Option<super::ModelState> {
        Some(super::ModelState::Tree { classes: self.n_classes, nodes: self.flat.clone() })
    }

    fn impurity_importance(&self) -> Option<Vec<f64>> {
        self.importances()
    }
}

/// How a node's split is chosen: scikit-learn's `BestSplitter` (every threshold of each
/// feature tried) or `RandomSplitter` (one threshold drawn per feature, extra trees).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Splitter {
    Best,
    Random,
}

/// One tree's settings, with the impurity its task uses.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub impurity: Impurity,
    /// 0 = unlimited.
    pub max_depth: usize,
    pub min_samples_split: usize,
    pub min_samples_leaf: usize,
    /// scikit-learn's `min_weight_leaf` share of the total sample weight.
    pub min_weight_fraction_leaf: f64,
    pub min_impurity_decrease: f64,
    /// Features drawn per node (scikit-learn's resolved `max_features_`).
    pub max_features: usize,
    pub splitter: Splitter,
    pub random_state: u32,
    /// 0 = unlimited (depth first); else grown best first (`BestFirstTreeBuilder`).
    pub max_leaf_nodes: usize,
    /// Minimal cost-complexity pruning's alpha (0: none).
    pub ccp_alpha: f64,
}

/// A tree's settings from a params struct with the stopping rules trees and forests share
/// (`TreeParams`, `forest::ForestParams`): one mapping for both.
macro_rules! settings {
    ($params:expr, $impurity:expr, $max_features:expr, $splitter:expr, $random_state:expr) => {
        Settings {
            impurity: $impurity,
            max_depth: $params.max_depth,
            min_samples_split: $params.min_samples_split,
            min_samples_leaf: $params.min_samples_leaf,
            min_weight_fraction_leaf: $params.min_weight_fraction_leaf,
            min_impurity_decrease: $params.min_impurity_decrease,
            max_features: $max_features,
            splitter: $splitter,
            random_state: $random_state,
            max_leaf_nodes: $params.max_leaf_nodes,
            ccp_alpha: $params.ccp_alpha,
        }
    };
}
pub(super) use settings;

impl Settings {
    fn new(params: &TreeParams, classification: bool, n_features: usize) -> Result<Settings, FitError> {
        let impurity = match (classification, params.criterion) {
            (false, Criterion::AbsoluteError) => Impurity::AbsoluteError,
            // A classifier's word on a regression tree is its default, squared error.
            (false, _) => Impurity::SquaredError,
            (true, Criterion::Entropy) => Impurity::Entropy,
            (true, Criterion::Gini) => Impurity::Gini,
            (true, c) => return Err(FitError::Solver(format!("criterion {c} applies to regression only"))),
        };
        Ok(settings!(params, impurity, n_features, Splitter::Best, params.random_state))
    }
}

/// A training matrix as the tree reads it: one f32 column per feature (scikit-learn's X
/// as float32), built once and shared by every tree of a forest.
pub fn columns_of(x: &Array2<f64>) -> Vec<Vec<f32>> {
    x.columns().into_iter().map(|c| c.iter().map(|&v| v as f32).collect()).collect()
}

pub fn fit_classifier(
    params: &TreeParams,
    x: &Array2<f64>,
    y: &[usize],
    classes: &[String],
    sw: Option<&[f64]>,
) -> Result<Box<dyn Fitted>, FitError> {
    let p = Settings::new(params, true, x.ncols())?;
    // `compute_sample_weight(class_weight, y)`: the class counts are unweighted; the sample
    // weights multiply the class factors.
    let weights = super::weights::times_rows(super::weights::per_row(&params.class_weight, y, classes, None), sw);
    let targets = Targets::Classes { y, n_classes: classes.len() };
    let columns = columns_of(x);
    Ok(Box::new(build(&p, &columns, ColumnOrder::of(&columns).as_ref(), targets, weights.as_deref())?))
}

pub fn fit_regressor(
    params: &TreeParams,
    x: &Array2<f64>,
    y: &Array1<f64>,
    sw: Option<&[f64]>,
) -> Result<Box<dyn Fitted>, FitError> {
    if params.class_weight != ClassWeight::None {
        return Err(FitError::Solver("class_weight applies to classification only".into()));
    }
    let p = Settings::new(params, false, x.ncols())?;
    let y = y.to_vec();
    Ok(Box::new(build(&p, &columns_of(x), None, Targets::Values(&y), sw)?))
}

/// numpy's `np.sum` of a float64 array: the first value plus the pairwise sum of the rest.
pub fn numpy_sum(a: &[f64]) -> f64 {
    fn pairwise(a: &[f64]) -> f64 {
        let n = a.len();
        if n < 8 {
            return a.iter().fold(0.0, |s, v| s + v);
        }
        if n <= 128 {
            let mut r: [f64; 8] = a[..8].try_into().unwrap_or([0.0; 8]);
            let mut i = 8;
            while i < n - n % 8 {
                for (j, rj) in r.iter_mut().enumerate() {
                    *rj += a[i + j];
                }
                i += 8;
            }
            let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for v in &a[i..] {
                res += v;
            }
            return res;
        }
        let half = n / 2;
        let half = half - half % 8;
        pairwise(&a[..half]) + pairwise(&a[half..])
    }
    match a.split_first() {
        None => 0.0,
        Some((first, rest)) => first + pairwise(rest),
    }
}

struct Builder<'a> {
    columns: &'a [Vec<f32>],
    criterion: SplitCriterion<'a>,
    params: &'a Settings,
    /// scikit-learn's `min_weight_leaf`.
    min_weight_leaf: f64,
    features: Vec<usize>,
    /// scikit-learn's `constant_features`: where known-constant features are kept between
    /// nodes, so the feature array is restored exactly as scikit-learn restores it.
    constant_features: Vec<usize>,
    rand_r: u32,
    nodes: Vec<Node>,
    grown: Vec<GrownNode>,
    /// Every node's value, kept when the tree is to be pruned (a pruned split becomes a leaf).
    values: Vec<Vec<f64>>,
    /// A node's values of the feature being tried, sorted (reused from feature to feature).
    sorted: Vec<f32>,
    /// The sort's (value, row) keys and its radix passes' other buffer (reused).
    keys: Vec<u64>,
    scratch: Vec<u64>,
    /// Whether the order of rows of equal value is immaterial: class counts of whole-number
    /// weights are exact sums in any order, so any sorted order grows the same tree.
    any_order: bool,
    /// Where the order is immaterial, the rows in each feature's order node by node (nodes
    /// of `PRESORTED_FROM` rows or more read them instead of sorting), and a node's rows in
    /// one feature's order (reused from feature to feature).
    lists: Option<Lists>,
    in_order: Vec<usize>,
    /// Where the order is immaterial and the class sums fit (gini or entropy), every row's weight
    /// packed by class: the split scan and the node sums add integers.
    packed: Option<PackedClasses>,
}

/// From this many rows on, a node reads its rows in a feature's order from the presorted
/// lists (which it then partitions, every feature's); smaller nodes sort the features they try.
const PRESORTED_FROM: usize = 64;

struct Split {
    feature: usize,
    threshold: f64,
    pos: usize,
}

/// A node waiting on the stack: its rows `start..end`, depth, parent (and side), the
/// features known constant on its path, and the impurity its parent's split gave it.
struct Pending {
    start: usize,
    end: usize,
    depth: usize,
    parent: Option<(usize, bool)>,
    known_constants: usize,
    impurity: Option<f64>,
}

/// A node just added: its id, its value (a leaf's, should the node end as one) and, for a
/// split, where its rows divide and what its children inherit.
struct Added {
    id: usize,
    value: Vec<f64>,
    split: Option<ChildSplit>,
}

struct ChildSplit {
    /// The first row of the right child.
    mid: usize,
    impurity_left: f64,
    impurity_right: f64,
    improvement: f64,
    /// Features known constant for the children.
    constants: usize,
}

/// A node on the best-first frontier.
struct Record {
    node: Pending,
    added: Added,
}

/// scikit-learn's best-first frontier: a `std::vector` kept a max-heap by improvement with
/// libstdc++'s `push_heap` / `pop_heap`, whose order among equal improvements is reproduced
/// here. Leaves are pushed too (improvement 0), as they shape the heap.
#[derive(Default)]
struct Frontier {
    heap: Vec<(f64, usize)>,
    records: Vec<Option<Record>>,
}

impl Frontier {
    fn record(node: Pending, added: Added) -> Record {
        Record { node, added }
    }

    fn push(&mut self, record: Record) {
        let improvement = record.added.split.as_ref().map_or(0.0, |s| s.improvement);
        self.records.push(Some(record));
        self.heap.push((improvement, self.records.len() - 1));
        let hole = self.heap.len() - 1;
        let value = self.heap[hole];
        self.sift_up(hole, 0, value);
    }

    /// libstdc++'s `__push_heap`: `value` moves up from `hole` while its parent is smaller.
    fn sift_up(&mut self, mut hole: usize, top: usize, value: (f64, usize)) {
        while hole > top {
            let parent = (hole - 1) / 2;
            if self.heap[parent].0.partial_cmp(&value.0) != Some(std::cmp::Ordering::Less) {
                break;
            }
            self.heap[hole] = self.heap[parent];
            hole = parent;
        }
        self.heap[hole] = value;
    }

    /// `pop_heap` then `back()` and `pop_back()`: the largest improvement (libstdc++'s
    /// `__adjust_heap` choosing among equals).
    fn pop(&mut self) -> Option<Record> {
        let len = self.heap.len();
        if len > 1 {
            let value = self.heap[len - 1];
            self.heap[len - 1] = self.heap[0];
            let n = len - 1;
            let (mut hole, mut second) = (0, 0);
            while second < (n - 1) / 2 {
                second = 2 * (second + 1);
                if self.heap[second].0 < self.heap[second - 1].0 {
                    second -= 1;
                }
                self.heap[hole] = self.heap[second];
                hole = second;
            }
            if n.is_multiple_of(2) && second == (n - 2) / 2 {
                second = 2 * (second + 1);
                self.heap[hole] = self.heap[second - 1];
                hole = second - 1;
            }
            self.sift_up(hole, 0, value);
        }
        let (_, at) = self.heap.pop()?;
        self.records[at].take()
    }
}

/// Grows one tree on `columns` (see [`columns_of`]). `weights`: each row's sample weight;
/// rows of weight 0 are left out, as scikit-learn's splitter leaves them out. `order`: the
/// columns' `ColumnOrder`, from which a tree whose tied rows may go in any order reads its
/// large nodes' rows in order instead of sorting them (the same tree, sooner).
pub fn build(
    params: &Settings,
    columns: &[Vec<f32>],
    order: Option<&ColumnOrder>,
    targets: Targets<'_>,
    weights: Option<&[f64]>,
) -> Result<Tree, FitError> {
    let n_rows = match targets {
        Targets::Classes { y, .. } => y.len(),
        Targets::Values(y) => y.len(),
    };
    let ones;
    let (weights, min_weight_leaf) = match weights {
        Some(w) => (w, params.min_weight_fraction_leaf * numpy_sum(w)),
        None => {
            ones = vec![1.0; n_rows];
            (ones.as_slice(), params.min_weight_fraction_leaf * n_rows as f64)
        }
    };
    let mut samples: Vec<usize> = (0..n_rows).filter(|&r| weights[r] != 0.0).collect();
    if samples.is_empty() {
        return Err(FitError::Solver("a tree needs at least one training row of positive weight".into()));
    }
    let n_classes = match targets {
        Targets::Classes { n_classes, .. } => n_classes,
        Targets::Values(_) => 0,
    };
    let n_total = weights.iter().fold(0.0, |s, w| s + w);
    // (A NaN, which the introsort leaves where its comparisons put it, makes the order count.)
    let any_order = matches!(targets, Targets::Classes { .. })
        && n_total < 2f64.powi(53)
        && weights.iter().all(|w| w.fract() == 0.0 && *w >= 0.0)
        && columns.iter().all(|c| !c.iter().any(|v| v.is_nan()));
    let last_median = std::cell::Cell::new(f64::NAN);
    let criterion = SplitCriterion { impurity: params.impurity, targets, weights, n_total, last_median };
    let mut builder = Builder::new(params, columns, order, criterion, min_weight_leaf, any_order);
    match params.max_leaf_nodes {
        0 => builder.grow(&mut samples),
        leaves => builder.grow_best_first(&mut samples, leaves),
    }
    let (nodes, grown) = if params.ccp_alpha > 0.0 {
        super::prune::prune(&builder.nodes, &builder.grown, &builder.values, params.ccp_alpha)
    } else {
        (builder.nodes, builder.grown)
    };
    let flat = FlatTree::new(&nodes);
    Ok(Tree { flat, n_classes, grown, n_features: columns.len() })
}

impl<'a> Builder<'a> {
    /// A builder before the root (`any_order`: whether the order of tied rows is immaterial).
    fn new(
        params: &'a Settings,
        columns: &'a [Vec<f32>],
        order: Option<&ColumnOrder>,
        criterion: SplitCriterion<'a>,
        min_weight_leaf: f64,
        any_order: bool,
    ) -> Builder<'a> {
        let best = params.splitter == Splitter::Best;
        let weights = criterion.weights;
        let packed = (any_order && best).then(|| PackedClasses::of(&criterion)).flatten();
        Builder {
            columns,
            criterion,
            params,
            min_weight_leaf,
            features: (0..columns.len()).collect(),
            constant_features: vec![0; columns.len()],
            // scikit-learn: `rand_r_state = random_state.randint(0, RAND_R_MAX)`.
            rand_r: RandomState::new(params.random_state).randint(0, u64::from(RAND_R_MAX)) as u32,
            nodes: Vec::new(),
            grown: Vec::new(),
            values: Vec::new(),
            sorted: Vec::new(),
            keys: Vec::new(),
            scratch: Vec::new(),
            any_order,
            lists: order.filter(|_| any_order && best).map(|o| Lists::new(o, weights)),
            in_order: Vec::new(),
            packed,
        }
    }
}

/// Whether a feature whose smallest and largest values on a node's rows are `first` and `last`
/// is constant there (`feature_values[end - 1] <= feature_values[start] + FEATURE_THRESHOLD`).
fn is_constant(first: f32, last: f32) -> bool {
    f64::from(last) <= f64::from(first) + FEATURE_THRESHOLD
}

/// scikit-learn's `partition_samples_final`: rows at or below the threshold to the front,
/// by swapping from the back (so the order within each side is scikit-learn's). Returns the
/// count of rows that went left.
fn partition(rows: &mut [usize], column: &[f32], threshold: f64) -> usize {
    let (mut start, mut end) = (0, rows.len());
    while start < end {
        if f64::from(column[rows[start]]) <= threshold {
            start += 1;
        } else {
            end -= 1;
            rows.swap(start, end);
        }
    }
    end
}

impl Builder<'_> {
    /// Depth-first growth: a node, then its left subtree, then its right one
    /// (`DepthFirstTreeBuilder.build`).
    fn grow(&mut self, samples: &mut [usize]) {
        let root = Pending { start: 0, end: samples.len(), depth: 0, parent: None, known_constants: 0, impurity: None };
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            let added = self.add_node(samples, &node);
            let Some(split) = added.split else { continue };
            let child = |start, end, is_left, impurity| Pending {
                start,
                end,
                depth: node.depth + 1,
                parent: Some((added.id, is_left)),
                known_constants: split.constants,
                impurity: Some(impurity),
            };
            stack.push(child(split.mid, node.end, false, split.impurity_right));
            stack.push(child(node.start, split.mid, true, split.impurity_left));
        }
    }

    /// Best-first growth (`BestFirstTreeBuilder.build`): each node's split is found when the
    /// node is added, and the frontier node of largest improvement is expanded next, its
    /// children added left then right, until `max_leaf_nodes - 1` nodes are split; the nodes
    /// left on the frontier become leaves. No constant features are carried between nodes.
    fn grow_best_first(&mut self, samples: &mut [usize], max_leaf_nodes: usize) {
        let mut split_budget = max_leaf_nodes - 1;
        let root = Pending { start: 0, end: samples.len(), depth: 0, parent: None, known_constants: 0, impurity: None };
        let mut frontier = Frontier::default();
        let added = self.add_node(samples, &root);
        frontier.push(Frontier::record(root, added));
        while let Some(record) = frontier.pop() {
            let Some(split) = record.added.split else { continue };
            if split_budget == 0 {
                self.nodes[record.added.id] = Node::Leaf(record.added.value);
                continue;
            }
            split_budget -= 1;
            let node = record.node;
            let child = |start, end, is_left, impurity| Pending {
                start,
                end,
                depth: node.depth + 1,
                parent: Some((record.added.id, is_left)),
                known_constants: 0,
                impurity: Some(impurity),
            };
            let left = child(node.start, split.mid, true, split.impurity_left);
            let right = child(split.mid, node.end, false, split.impurity_right);
            let added_left = self.add_node(samples, &left);
            let added_right = self.add_node(samples, &right);
            frontier.push(Frontier::record(left, added_left));
            frontier.push(Frontier::record(right, added_right));
        }
    }

    /// Examines a node (its sums, impurity, the leaf rules and its best split, which leaves
    /// its rows partitioned), adds it (a split, or a leaf) and links it to its parent.
    fn add_node(&mut self, samples: &mut [usize], node: &Pending) -> Added {
        let (start, end) = (node.start, node.end);
        let stats = match &self.packed {
            Some(packed) => packed.stats(&samples[start..end]),
            None => self.criterion.node_stats(&samples[start..end]),
        };
        let impurity = node.impurity.unwrap_or_else(|| self.criterion.node_impurity(&stats, &samples[start..end]));
        let (n, p) = (end - start, self.params);
        let too_small = (p.max_depth > 0 && node.depth >= p.max_depth)
            || n < p.min_samples_split
            || n < 2 * p.min_samples_leaf
            || stats.n < 2.0 * self.min_weight_leaf;
        // scikit-learn's rules: impurity 0 up to rounding is a leaf, and so is a split
        // that improves by less than min_impurity_decrease up to rounding.
        let mut split = None;
        if !too_small && impurity > f64::EPSILON {
            let (best, constants) = self.split(&mut samples[start..end], start, &stats, node.known_constants);
            split = best.and_then(|s| {
                let children = self.criterion.children(&stats, &samples[start..end], s.pos, impurity);
                let decrease = p.min_impurity_decrease;
                (children.improvement + f64::EPSILON >= decrease).then_some((s, children, constants))
            });
        }
        let id = self.nodes.len();
        self.grown.push(GrownNode { weight: stats.n, impurity });
        if let Some((parent, is_left)) = node.parent {
            if let Node::Split { left, right, .. } = &mut self.nodes[parent] {
                *(if is_left { left } else { right }) = id;
            }
        }
        let value = self.criterion.node_value(&stats);
        if self.params.ccp_alpha > 0.0 {
            self.values.push(value.clone());
        }
        let Some((s, children, constants)) = split else {
            self.nodes.push(Node::Leaf(value.clone()));
            return Added { id, value, split: None };
        };
        self.nodes.push(Node::Split { feature: s.feature, threshold: s.threshold, left: 0, right: 0 });
        let split = ChildSplit {
            mid: start + s.pos,
            impurity_left: children.impurity_left,
            impurity_right: children.impurity_right,
            improvement: children.improvement,
            constants,
        };
        Added { id, value, split: Some(split) }
    }

    /// sklearn's `our_rand_r`.
    fn rand_r(&mut self) -> u32 {
        if self.rand_r == 0 {
            self.rand_r = 1;
        }
        self.rand_r ^= self.rand_r << 13;
        self.rand_r ^= self.rand_r >> 17;
        self.rand_r ^= self.rand_r << 5;
        self.rand_r % (RAND_R_MAX + 1)
    }

    /// sklearn's `rand_int(low, high)`.
    fn rand_int(&mut self, low: usize, high: usize) -> usize {
        low + self.rand_r() as usize % (high - low)
    }

    /// `node_split_best` / `node_split_random`: draws up to `max_features` features in
    /// random order (tracking constant ones as scikit-learn does), keeps the strictly best
    /// split and leaves the rows partitioned by it. Returns the split (its `pos` relative to
    /// the node) and the count of features known constant for the children. `at`: where the
    /// node's rows start (in the presorted lists too).
    fn split(&mut self, rows: &mut [usize], at: usize, node: &Stats, known_constants: usize) -> (Option<Split>, usize) {
        // Whether this node reads its rows' order from the presorted lists (and partitions them).
        let presorted = (self.lists.is_some() && rows.len() >= PRESORTED_FROM).then_some(at);
        let n_features = self.features.len();
        let max_features = self.params.max_features;
        let (mut f_i, mut visited, mut found_constants, mut drawn_constants) = (n_features, 0, 0, 0);
        let mut total_constants = known_constants;
        let mut best: Option<(f64, Split)> = None;
        // The random splitter's rows are partitioned by the last feature it drew.
        let mut last_feature = None;
        while f_i > total_constants && (visited < max_features || visited <= found_constants + drawn_constants) {
            visited += 1;
            let mut f_j = self.rand_int(drawn_constants, f_i - found_constants);
            if f_j < known_constants {
                self.features.swap(f_j, drawn_constants);
                drawn_constants += 1;
                continue;
            }
            f_j += found_constants;
            let feature = self.features[f_j];
            last_feature = Some(feature);
            let candidate = match self.params.splitter {
                Splitter::Best => self.best_of(feature, rows, presorted, node),
                Splitter::Random => self.random_of(feature, rows, node),
            };
            let Some(candidate) = candidate else {
                self.features.swap(f_j, total_constants);
                found_constants += 1;
                total_constants += 1;
                continue;
            };
            f_i -= 1;
            self.features.swap(f_i, f_j);
            if let Some((proxy, split)) = candidate {
                if proxy > best.as_ref().map_or(f64::NEG_INFINITY, |(b, _)| *b) {
                    best = Some((proxy, split));
                }
            }
        }
        if let Some((_, s)) = &best {
            if let (Some(at), Some(lists)) = (presorted, &mut self.lists) {
                // The rows at or below the threshold are the first `pos` in the feature's order.
                lists.split(s.feature, at, s.pos, rows);
            } else if self.params.splitter == Splitter::Best || last_feature != Some(s.feature) {
                partition(rows, &self.columns[s.feature], s.threshold);
            }
        }
        self.features[..known_constants].copy_from_slice(&self.constant_features[..known_constants]);
        let found = known_constants..known_constants + found_constants;
        self.constant_features[found.clone()].copy_from_slice(&self.features[found]);
        (best.map(|(_, s)| s), total_constants)
    }

    /// The best split of one feature (`None`: the feature is constant on these rows). The rows
    /// are sorted by it, or (`presorted`: where the node starts in the lists) read in its order.
    fn best_of(
        &mut self,
        feature: usize,
        rows: &mut [usize],
        presorted: Option<usize>,
        node: &Stats,
    ) -> Option<Option<(f64, Split)>> {
        let column = &self.columns[feature];
        if let (Some(at), Some(lists), Some(packed)) = (presorted, &self.lists, &self.packed) {
            // The fused scan reads the segment as it is: no copy of its rows or values.
            let segment = lists.segment(feature, at, rows.len());
            let value = |i: usize| column[segment[i] as usize];
            if is_constant(value(0), value(segment.len() - 1)) {
                return None;
            }
            let at = |i: usize| (column[segment[i] as usize], segment[i] as usize);
            return Some(self.scan_packed(packed, node, feature, segment.len(), at));
        }
        // The builder's one buffer of feature values (scikit-learn's `feature_values`).
        let mut sorted = std::mem::take(&mut self.sorted);
        let mut in_order = std::mem::take(&mut self.in_order);
        let scanned: &[usize] = match (presorted, &self.lists) {
            (Some(at), Some(lists)) => {
                let segment = lists.segment(feature, at, rows.len());
                in_order.clear();
                in_order.extend(segment.iter().map(|&r| r as usize));
                sorted.clear();
                sorted.extend(segment.iter().map(|&r| column[r as usize]));
                &in_order
            }
            _ => {
                // A plain sort where it gives the introsort's order (row indices fit its keys' 32 bits).
                let small = self.columns.first().is_none_or(|c| c.len() <= u32::MAX as usize);
                let any_order = self.any_order;
                if !(small && sort_if_distinct(column, rows, &mut sorted, &mut self.keys, &mut self.scratch, any_order))
                {
                    sorted.clear();
                    sorted.extend(rows.iter().map(|&r| column[r]));
                    simultaneous_sort(&mut sorted, rows);
                }
                rows
            }
        };
        let constant = is_constant(sorted[0], sorted[sorted.len() - 1]);
        let best = (!constant).then(|| match &self.packed {
            Some(packed) => self.scan_packed(packed, node, feature, sorted.len(), |i| (sorted[i], scanned[i])),
            None => self.scan(feature, scanned, &sorted, node),
        });
        self.sorted = sorted;
        self.in_order = in_order;
        best
    }

    /// `node_split_random`'s step for one feature: a threshold drawn uniformly between the
    /// feature's min and max on these rows (`rand_uniform`), the rows partitioned by it.
    /// `None`: the feature is constant on these rows.
    fn random_of(&mut self, feature: usize, rows: &mut [usize], node: &Stats) -> Option<Option<(f64, Split)>> {
        let column = &self.columns[feature];
        let (mut min, mut max) = (column[rows[0]], column[rows[0]]);
        for &r in &rows[1..] {
            let v = column[r];
            if v < min {
                min = v;
            } else if v > max {
                max = v;
            }
        }
        if f64::from(max) <= f64::from(min) + FEATURE_THRESHOLD {
            return None;
        }
        let (low, high) = (f64::from(min), f64::from(max));
        let mut threshold = (high - low) * f64::from(self.rand_r()) / f64::from(RAND_R_MAX) + low;
        if threshold == high {
            threshold = low;
        }
        let pos = partition(rows, column, threshold);
        let leaf = self.params.min_samples_leaf;
        if pos < leaf || rows.len() - pos < leaf {
            return Some(None);
        }
        let errors = self.criterion.reset(rows);
        let left = self.criterion.update(self.criterion.empty(), node, rows, 0, pos);
        let right = self.criterion.right_of(node, &left);
        if left.n < self.min_weight_leaf || right.n < self.min_weight_leaf {
            return Some(None);
        }
        Some(Some((self.criterion.proxy(&left, &right, errors.as_ref(), pos), Split { feature, threshold, pos })))
    }

    /// Every split position of one sorted feature; the best (first on ties). Gini and entropy
    /// of few classes scan on fixed-size arrays (the same operations, no allocation or dispatch).
    fn scan(&self, feature: usize, rows: &[usize], sorted: &[f32], node: &Stats) -> Option<(f64, Split)> {
        let c = &self.criterion;
        if let Some(sums) = c.class_scan::<2>(node) {
            self.scan_with(sums, feature, rows, sorted)
        } else if let Some(sums) = c.class_scan::<4>(node) {
            self.scan_with(sums, feature, rows, sorted)
        } else if let Some(sums) = c.class_scan::<8>(node) {
            self.scan_with(sums, feature, rows, sorted)
        } else {
            self.scan_with(c.general_scan(node, rows), feature, rows, sorted)
        }
    }

    /// [`Self::scan`] on packed class sums (`at(i)`: the `i`th row in the feature's order and its
    /// value), over arrays `K` wide as [`Self::scan`] chooses them.
    fn scan_packed(
        &self,
        packed: &PackedClasses,
        node: &Stats,
        feature: usize,
        n: usize,
        at: impl Fn(usize) -> (f32, usize),
    ) -> Option<(f64, Split)> {
        let impurity = self.params.impurity;
        match packed.width() {
            2 => self.scan_fused(packed.scan::<2>(impurity, node), packed, feature, n, at),
            3 | 4 => self.scan_fused(packed.scan::<4>(impurity, node), packed, feature, n, at),
            _ => self.scan_fused(packed.scan::<8>(impurity, node), packed, feature, n, at),
        }
    }

    /// [`Self::scan_with`] fused into one pass: each row's packed weight added to the left sums,
    /// a split kept where the next value differs (the same positions, the same leaf and weight
    /// rules), and the kept splits' proxies compared in position order, a batch at a time.
    fn scan_fused<const K: usize>(
        &self,
        sums: PackedScan<'_, K>,
        packed: &PackedClasses,
        feature: usize,
        n: usize,
        at: impl Fn(usize) -> (f32, usize),
    ) -> Option<(f64, Split)> {
        let leaf = self.params.min_samples_leaf;
        let weighed = self.min_weight_leaf > 0.0;
        let mut best: Option<(f64, Split)> = None;
        let (mut kept, mut kept_at, mut len, mut proxies) = ([0u64; BATCH], [0usize; BATCH], 0, [0.0; BATCH]);
        let mut take_best = |kept: &[u64], kept_at: &[usize], proxies: &mut [f64; BATCH]| {
            sums.proxies(kept, proxies);
            keep_best(&mut best, proxies, kept_at, feature, |p| f64::from(at(p).0));
        };
        let (mut acc, (mut value, mut row)) = (0u64, at(0));
        for p in 1..n {
            acc += packed.of_row(row);
            let (next, next_row) = at(p);
            // Whole weights: no side weighs below 0, so a `min_weight_leaf` of 0 holds everywhere.
            if f64::from(next) > f64::from(value) + FEATURE_THRESHOLD
                && p >= leaf
                && n - p >= leaf
                && (!weighed || sums.sides_weigh(acc, self.min_weight_leaf))
            {
                (kept[len], kept_at[len]) = (acc, p);
                len += 1;
                if len == BATCH {
                    take_best(&kept, &kept_at, &mut proxies);
                    len = 0;
                }
            }
            (value, row) = (next, next_row);
        }
        take_best(&kept[..len], &kept_at[..len], &mut proxies);
        best
    }

    /// [`Self::scan`] on one kind of running sums.
    fn scan_with(
        &self,
        mut sums: impl ScanSums,
        feature: usize,
        rows: &[usize],
        sorted: &[f32],
    ) -> Option<(f64, Split)> {
        let value = |p: usize| f64::from(sorted[p]);
        let n = rows.len();
        let leaf = self.params.min_samples_leaf;
        let mut moved = 0;
        let mut best: Option<(f64, Split)> = None;
        // The kept splits' positions; their proxies are computed a batch at a time and
        // compared in position order, as one at a time.
        let (mut kept, mut len, mut proxies) = ([0; BATCH], 0, [0.0; BATCH]);
        let mut p = 0;
        while p < n {
            while p + 1 < n && value(p + 1) <= value(p) + FEATURE_THRESHOLD {
                p += 1;
            }
            p += 1;
            if p < n && p >= leaf && n - p >= leaf {
                sums.move_to(rows, moved, p);
                moved = p;
                let (left_n, right_n) = sums.sides();
                if left_n >= self.min_weight_leaf && right_n >= self.min_weight_leaf {
                    sums.keep(len, p);
                    kept[len] = p;
                    len += 1;
                }
            }
            if len == BATCH || (p >= n && len > 0) {
                sums.proxies(len, &mut proxies);
                keep_best(&mut best, &proxies, &kept[..len], feature, value);
                len = 0;
            }
        }
        best
    }
}

/// Takes into `best` the first split of largest proxy among the kept positions (in position
/// order, as one at a time), each threshold the midpoint of its two sorted `value`s.
fn keep_best(
    best: &mut Option<(f64, Split)>,
    proxies: &[f64],
    positions: &[usize],
    feature: usize,
    value: impl Fn(usize) -> f64,
) {
    for (&proxy, &p) in proxies.iter().zip(positions) {
        // scikit-learn's best starts at -inf: a split of proxy -inf is never taken.
        if proxy > best.as_ref().map_or(f64::NEG_INFINITY, |(b, _)| *b) {
            // The split's left side ends at `p - 1`, the last of its equal values.
            let threshold = value(p - 1) / 2.0 + value(p) / 2.0;
            *best = Some((proxy, Split { feature, threshold, pos: p }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Columns with ties (a few levels), one constant, one of large values; classes from a noisy
    /// sum of them.
    fn data(seed: u32, n: usize, n_classes: usize) -> (Vec<Vec<f32>>, Vec<usize>) {
        let mut rs = RandomState::new(seed);
        let levels = [1e9, 7.0, 1.0, 3.0, 1e9];
        let columns: Vec<Vec<f32>> = levels
            .iter()
            .enumerate()
            .map(|(f, l)| {
                (0..n).map(|_| ((rs.next_f64() * l).floor() / l) as f32 * if f == 4 { 1e6 } else { 1.0 }).collect()
            })
            .collect();
        let y = (0..n)
            .map(|r| {
                let s = f64::from(columns[0][r] + columns[1][r]) + f64::from(columns[4][r]) / 1e6 + rs.next_f64();
                ((s / 3.0 * n_classes as f64) as usize).min(n_classes - 1)
            })
            .collect();
        (columns, y)
    }

    fn settings(impurity: Impurity, min_samples_leaf: usize, min_weight_fraction_leaf: f64) -> Settings {
        Settings {
            impurity,
            max_depth: 0,
            min_samples_split: 2,
            min_samples_leaf,
            min_weight_fraction_leaf,
            min_impurity_decrease: 0.0,
            max_features: 3,
            splitter: Splitter::Best,
            random_state: 3,
            max_leaf_nodes: 0,
            ccp_alpha: 0.0,
        }
    }

    fn criterion<'a>(impurity: Impurity, y: &'a [usize], n_classes: usize, weights: &'a [f64]) -> SplitCriterion<'a> {
        let n_total = weights.iter().fold(0.0, |s, w| s + w);
        let targets = Targets::Classes { y, n_classes };
        SplitCriterion { impurity, targets, weights, n_total, last_median: std::cell::Cell::new(f64::NAN) }
    }

    /// (classes, criterion, min_samples_leaf, min_weight_fraction_leaf, largest weight): 2, 3 and 5
    /// classes, bootstrap-like counts (zeros among them) up to large ones, leaf sizes and weights.
    const CASES: [(usize, Impurity, usize, f64, u64); 6] = [
        (2, Impurity::Gini, 1, 0.0, 4),
        (2, Impurity::Entropy, 3, 0.0, 1_000_000),
        (3, Impurity::Gini, 1, 0.05, 4),
        (3, Impurity::Entropy, 5, 0.0, 2_000),
        (5, Impurity::Gini, 2, 0.01, 7),
        (5, Impurity::Entropy, 1, 0.0, 1),
    ];

    fn split_key(s: Option<(f64, Split)>) -> Option<(u64, usize, u64, usize)> {
        s.map(|(proxy, s)| (proxy.to_bits(), s.feature, s.threshold.to_bits(), s.pos))
    }

    /// The packed scan finds the f64 scan's split (feature, threshold, position and proxy, to the
    /// bit) and the packed node sums are the f64 ones, on whole nodes and on parts of them.
    #[test]
    fn the_packed_scan_finds_the_f64_scans_split() {
        for (seed, &(n_classes, impurity, leaf, fraction, max_w)) in CASES.iter().enumerate() {
            let (columns, y) = data(seed as u32, 400, n_classes);
            let mut rs = RandomState::new(seed as u32 + 10);
            let weights: Vec<f64> = (0..400).map(|_| rs.randint(0, max_w + 1) as f64).collect();
            let p = settings(impurity, leaf, fraction);
            let min_weight_leaf = fraction * numpy_sum(&weights);
            let builder =
                Builder::new(&p, &columns, None, criterion(impurity, &y, n_classes, &weights), min_weight_leaf, true);
            let packed = builder.packed.as_ref().expect("the sums fit");
            let all: Vec<usize> = (0..400).filter(|&r| weights[r] != 0.0).collect();
            let (mut found, mut tried) = (0, 0);
            for node_rows in [all.clone(), all[..all.len() / 3].to_vec(), all.iter().step_by(7).copied().collect()] {
                let node = builder.criterion.node_stats(&node_rows);
                let fused = packed.stats(&node_rows);
                assert_eq!((node.n.to_bits(), &node.sums), (fused.n.to_bits(), &fused.sums));
                for (f, column) in columns.iter().enumerate() {
                    let mut rows = node_rows.clone();
                    let mut sorted: Vec<f32> = rows.iter().map(|&r| column[r]).collect();
                    simultaneous_sort(&mut sorted, &mut rows);
                    let f64_scan = split_key(builder.scan(f, &rows, &sorted, &node));
                    let packed_scan =
                        split_key(builder.scan_packed(packed, &node, f, rows.len(), |i| (sorted[i], rows[i])));
                    assert_eq!(f64_scan, packed_scan, "case {seed}, feature {f}");
                    found += usize::from(f64_scan.is_some());
                    tried += 1;
                }
            }
            // The constant column finds none; the others do.
            assert!(found >= tried * 2 / 3, "case {seed}: {found} of {tried}");
        }
    }

    /// Trees grown on packed sums (their scans fused, reading the presorted lists where nodes are
    /// large) are those grown on f64 sums: same nodes, weights and impurities.
    #[test]
    fn packed_sums_grow_the_f64_sums_tree() {
        for (seed, &(n_classes, impurity, leaf, fraction, max_w)) in CASES.iter().enumerate() {
            let (columns, y) = data(seed as u32 + 20, 900, n_classes);
            let mut rs = RandomState::new(seed as u32 + 30);
            let weights: Vec<f64> = (0..900).map(|_| rs.randint(0, max_w + 1) as f64).collect();
            let p = settings(impurity, leaf, fraction);
            let order = ColumnOrder::of(&columns);
            let min_weight_leaf = fraction * numpy_sum(&weights);
            let grown = |packed: bool| {
                let c = criterion(impurity, &y, n_classes, &weights);
                let mut builder = Builder::new(&p, &columns, order.as_ref(), c, min_weight_leaf, true);
                assert!(builder.packed.is_some());
                if !packed {
                    builder.packed = None;
                }
                let mut samples: Vec<usize> = (0..900).filter(|&r| weights[r] != 0.0).collect();
                builder.grow(&mut samples);
                let grown: Vec<_> = builder.grown.iter().map(|g| (g.weight.to_bits(), g.impurity.to_bits())).collect();
                (builder.nodes, grown)
            };
            let (with, without) = (grown(true), grown(false));
            assert!(with.0.len() > 20, "case {seed}: {} nodes", with.0.len());
            assert_eq!(with, without, "case {seed}");
        }
    }

    /// No packing where a sum could carry into the next field, weights are not whole, there are
    /// more than 8 classes, or the criterion is not gini or entropy.
    #[test]
    fn sums_that_may_not_fit_are_not_packed() {
        let y: Vec<usize> = (0..9).collect();
        let packs = |impurity, n_classes, weights: &[f64]| {
            PackedClasses::of(&criterion(impurity, &y, n_classes, weights)).is_some()
        };
        let ones = [1.0; 9];
        assert!(packs(Impurity::Gini, 9 - 1, &ones[..8]));
        assert!(!packs(Impurity::Gini, 9, &ones));
        assert!(!packs(Impurity::SquaredError, 2, &ones[..2]));
        assert!(!packs(Impurity::Gini, 2, &[1.5, 1.0]));
        // Two classes: 32 bits a field; five: 12.
        assert!(packs(Impurity::Entropy, 2, &[4_294_967_294.0, 1.0]));
        assert!(!packs(Impurity::Entropy, 2, &[4_294_967_295.0, 1.0]));
        assert!(packs(Impurity::Gini, 5, &[4000.0, 95.0, 0.0, 0.0, 0.0]));
        assert!(!packs(Impurity::Gini, 5, &[4000.0, 96.0, 0.0, 0.0, 0.0]));
    }
}
