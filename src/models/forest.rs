//! Random forests and extra trees, as scikit-learn 1.9.1's `BaseForest.fit` builds them, so
//! that a forest equals `RandomForest*` / `ExtraTrees*` tree for tree for the same
//! `random_state`:
//!
//! - each tree's seed is `RandomState(random_state).randint(2**31 - 1)`, drawn in estimator
//!   order (`_set_random_states`);
//! - a bootstrap is `randint(0, n, n_samples_bootstrap)` from the tree's own `RandomState`
//!   (or `choice(n, p=w / sum(w))` when the rows carry class weights), and its counts are
//!   the tree's sample weights (`_parallel_build_trees`);
//! - a forest's prediction is the sum of its trees' predictions in estimator order, divided
//!   by the tree count; the out-of-bag prediction of a row sums the trees that did not draw
//!   it (`_compute_oob_predictions`).
//!
//! Trees grow in parallel; every sum is taken in estimator order, so results do not depend
//! on the thread count.

use super::criterion::{Impurity, Targets};
use super::flat::{FlatTree, Rows32, TreeSum};
use super::presorted::ColumnOrder;
use super::tree::{self, Settings, Splitter, Tree};
use super::weights;
use super::{FitError, Fitted, Prediction};
use crate::random::RandomState;
use crate::spec::{ClassWeight, CountOrShare, ForestCriterion};
use ndarray::{Array1, Array2};
use rayon::prelude::*;

/// `random_forest` and `extra_trees` (whose catalog entries differ in `bootstrap`'s default).
/// Its catalog entries (defaults, ranges, help) are in the kind's file.
#[derive(Debug, Clone, PartialEq)]
pub struct ForestParams {
    pub n_estimators: usize,
    pub criterion: ForestCriterion,
    pub max_depth: usize,
    pub min_samples_split: usize,
    pub min_samples_leaf: usize,
    pub min_weight_fraction_leaf: f64,
    pub max_features: CountOrShare,
    pub max_leaf_nodes: usize,
    pub min_impurity_decrease: f64,
    pub bootstrap: bool,
    pub max_samples: CountOrShare,
    pub oob_score: bool,
    pub class_weight: ClassWeight,
    pub ccp_alpha: f64,
    pub random_state: u32,
}

/// scikit-learn's `MAX_INT = np.iinfo(np.int32).max`.
const MAX_INT: u64 = 0x7FFF_FFFF;

pub struct Forest {
    trees: Vec<Tree>,
    /// 0 for regression.
    n_classes: usize,
    /// The out-of-bag prediction of each training row (`oob_score = true`).
    oob: Option<Prediction>,
}

/// The training targets of a forest.
#[derive(Clone, Copy)]
pub enum Task<'a> {
    Classes { y: &'a [usize], classes: &'a [String] },
    Values(&'a [f64]),
}

impl Task<'_> {
    fn targets(&self) -> Targets<'_> {
        match *self {
            Task::Classes { y, classes } => Targets::Classes { y, n_classes: classes.len() },
            Task::Values(y) => Targets::Values(y),
        }
    }
}

/// Fits a random forest (`Splitter::Best`) or extra trees (`Splitter::Random`), each row
/// weighing `sw` (scikit-learn's `sample_weight`: it weighs the bootstrap's draw, whose counts
/// are then a tree's weights, or the rows themselves without a bootstrap).
pub fn fit(
    params: &ForestParams,
    splitter: Splitter,
    x: &Array2<f64>,
    task: Task<'_>,
    sw: Option<&[f64]>,
) -> Result<Forest, FitError> {
    let (n, width) = (x.nrows(), x.ncols());
    let classification = matches!(task, Task::Classes { .. });
    let settings = settings(params, splitter, classification, width)?;
    if let (Impurity::Poisson, Task::Values(y)) = (settings.impurity, task) {
        if y.iter().any(|&v| v < 0.0) {
            return Err(FitError::Solver(
                "criterion poisson: some targets are negative, which Poisson regression does not allow".into(),
            ));
        }
        if tree::numpy_sum(y) <= 0.0 {
            return Err(FitError::Solver(
                "criterion poisson: the targets' sum is not positive, which Poisson regression needs".into(),
            ));
        }
    }
    // `_validate_y_class_weight`: "balanced" (and "balanced_subsample" without a bootstrap)
    // weighs the rows once; "balanced_subsample" with a bootstrap weighs each tree's draw.
    let row_weights = match (task, &params.class_weight) {
        (Task::Values(_), ClassWeight::None) => None,
        (Task::Values(_), _) => return Err(FitError::Solver("class_weight applies to classification only".into())),
        (Task::Classes { .. }, ClassWeight::BalancedSubsample) if params.bootstrap => None,
        (Task::Classes { y, classes }, ClassWeight::BalancedSubsample) => {
            weights::per_row(&ClassWeight::Balanced, y, classes, None)
        }
        (Task::Classes { y, classes }, class_weight) => weights::per_row(class_weight, y, classes, None),
    };
    let row_weights = weights::times_rows(row_weights, sw);
    let n_bootstrap = params.bootstrap.then(|| bootstrap_size(&params.max_samples, n, row_weights.as_deref()));
    let count_too_large = matches!(params.max_samples, CountOrShare::Count(_));
    if let Some(k) = n_bootstrap.filter(|&k| count_too_large && k > n) {
        // A count above the rows (scikit-learn 1.9.1 would draw it); the plan refuses it for
        // the folds, this is for smaller fits (learning curves, inner folds). A share of the
        // weights' sum may exceed the rows, as in scikit-learn.
        return Err(FitError::Solver(format!("max_samples = {k} is more than the {n} training rows")));
    }
    let mut rs = RandomState::new(params.random_state);
    let seeds: Vec<u32> = (0..params.n_estimators).map(|_| rs.randint(0, MAX_INT) as u32).collect();
    let columns = tree::columns_of(x);
    // Only a best-split classifier's trees may read their rows' order from it (`tree::build`).
    let order = (classification && splitter == Splitter::Best).then(|| ColumnOrder::of(&columns)).flatten();
    let grow =
        Grow { settings, columns: &columns, order: order.as_ref(), task, params, row_weights: row_weights.as_deref() };
    let grown: Vec<Result<Grown, FitError>> = seeds.par_iter().map(|&seed| grow.tree(seed, n, n_bootstrap)).collect();
    let (trees, counts): (Vec<Tree>, Vec<Option<Vec<f64>>>) = grown.into_iter().collect::<Result<_, _>>()?;
    let n_classes = match task {
        Task::Classes { classes, .. } => classes.len(),
        Task::Values(_) => 0,
    };
    let mut forest = Forest { trees, n_classes, oob: None };
    if params.oob_score {
        forest.oob = Some(forest.out_of_bag(x, &counts));
    }
    Ok(forest)
}

/// A grown tree, and its bootstrap counts when the out-of-bag rows are wanted.
type Grown = (Tree, Option<Vec<f64>>);

/// What every tree of a forest shares.
struct Grow<'a> {
    settings: Settings,
    columns: &'a [Vec<f32>],
    order: Option<&'a ColumnOrder>,
    task: Task<'a>,
    params: &'a ForestParams,
    row_weights: Option<&'a [f64]>,
}

impl Grow<'_> {
    /// `_parallel_build_trees` for the tree seeded `seed`: on a bootstrap of `n_draws` rows
    /// (its counts, times the draw's balanced class weights for "balanced_subsample", as the
    /// sample weights), or on every row with the forest's row weights.
    fn tree(&self, seed: u32, n: usize, n_draws: Option<usize>) -> Result<Grown, FitError> {
        let settings = Settings { random_state: seed, ..self.settings };
        let Some(n_draws) = n_draws else {
            return Ok((
                tree::build(&settings, self.columns, self.order, self.task.targets(), self.row_weights)?,
                None,
            ));
        };
        let indices = bootstrap(seed, n, n_draws, self.row_weights);
        let mut counts = vec![0.0f64; n];
        for &i in &indices {
            counts[i] += 1.0;
        }
        let mut weights = counts.clone();
        // Only the out-of-bag prediction needs the counts once the tree is grown.
        let kept = self.params.oob_score.then_some(counts);
        if let (Task::Classes { y, classes }, ClassWeight::BalancedSubsample) = (self.task, &self.params.class_weight) {
            let per_row = weights::per_row(&ClassWeight::Balanced, y, classes, Some(&indices));
            for (w, c) in weights.iter_mut().zip(per_row.unwrap_or_default()) {
                *w *= c;
            }
        }
        Ok((tree::build(&settings, self.columns, self.order, self.task.targets(), Some(&weights))?, kept))
    }
}

/// One tree's settings from the forest's (`random_state` is set per tree).
fn settings(
    params: &ForestParams,
    splitter: Splitter,
    classification: bool,
    width: usize,
) -> Result<Settings, FitError> {
    let impurity = match (classification, params.criterion) {
        (true, ForestCriterion::Auto | ForestCriterion::Gini) => Impurity::Gini,
        (true, ForestCriterion::Entropy | ForestCriterion::LogLoss) => Impurity::Entropy,
        (false, ForestCriterion::Auto | ForestCriterion::SquaredError | ForestCriterion::FriedmanMse) => {
            Impurity::SquaredError
        }
        (false, ForestCriterion::Poisson) => Impurity::Poisson,
        (false, ForestCriterion::AbsoluteError) => Impurity::AbsoluteError,
        (_, c) => {
            let task = if classification { "classification" } else { "regression" };
            return Err(FitError::Solver(format!("criterion {c} does not apply to {task}")));
        }
    };
    let max_features = max_features(&params.max_features, classification, width)?;
    Ok(tree::settings!(params, impurity, max_features, splitter, 0))
}

/// scikit-learn's `max_features_`: `auto` is the task's default (sqrt for a classifier, all
/// for a regressor).
fn max_features(given: &CountOrShare, classification: bool, width: usize) -> Result<usize, FitError> {
    let w = width as f64;
    let k = match given {
        CountOrShare::Word(word) => match word.as_str() {
            "auto" if !classification => width,
            "auto" | "sqrt" => (w.sqrt() as usize).max(1),
            "log2" => (w.log2() as usize).max(1),
            _ => width,
        },
        CountOrShare::Count(k) => *k,
        CountOrShare::Share(f) => ((f * w) as usize).max(1),
    };
    if k > width {
        return Err(FitError::Solver(format!(
            "max_features is {k}, but the design matrix has {width} columns; use at most {width}, a share, sqrt or all"
        )));
    }
    Ok(k)
}

/// `_get_n_samples_bootstrap`: all rows, a count, or a share of the rows (of their total
/// weight when they carry class weights), at least one.
fn bootstrap_size(max_samples: &CountOrShare, n: usize, weights: Option<&[f64]>) -> usize {
    match max_samples {
        CountOrShare::Count(k) => *k,
        CountOrShare::Share(f) => {
            let total = weights.map_or(n as f64, tree::numpy_sum);
            ((f * total) as usize).max(1)
        }
        CountOrShare::Word(_) => n,
    }
}

/// `_generate_sample_indices`: `randint(0, n, draws)`, or with row weights
/// `choice(n, draws, p=w / sum(w))` (numpy's cumulative sums and right-sided search).
fn bootstrap(seed: u32, n: usize, draws: usize, weights: Option<&[f64]>) -> Vec<usize> {
    let mut rs = RandomState::new(seed);
    let Some(w) = weights else {
        return (0..draws).map(|_| rs.randint(0, n as u64) as usize).collect();
    };
    let total = tree::numpy_sum(w);
    let mut cdf = Vec::with_capacity(n);
    let mut acc = 0.0;
    for v in w {
        acc += v / total;
        cdf.push(acc);
    }
    let last = acc;
    for c in &mut cdf {
        *c /= last;
    }
    (0..draws)
        .map(|_| {
            let u = rs.next_f64();
            cdf.partition_point(|&c| c <= u).min(n - 1)
        })
        .collect()
}

impl Forest {
    /// A saved forest, each tree checked as a saved tree is.
    pub fn from_trees(trees: Vec<FlatTree>, classes: usize, width: usize) -> Result<Forest, String> {
        if trees.is_empty() {
            return Err("model.trees is empty; a forest has at least one tree".into());
        }
        // Checked in parallel; the first problem in tree order is the one reported.
        let checked: Vec<Result<Tree, String>> = trees
            .into_par_iter()
            .enumerate()
            .map(|(t, flat)| {
                Tree::from_flat(flat, classes, width)
                    .map_err(|e| e.replace("model.nodes", &format!("model.trees[{t}]")))
            })
            .collect();
        let trees = checked.into_iter().collect::<Result<Vec<Tree>, String>>()?;
        Ok(Forest { trees, n_classes: classes, oob: None })
    }

    /// `_compute_oob_predictions`: each row's summed predictions over the trees whose
    /// bootstrap left it out (in estimator order), divided by their count (1 when none).
    fn out_of_bag(&self, x: &Array2<f64>, counts: &[Option<Vec<f64>>]) -> Prediction {
        let width = self.n_classes.max(1);
        let x32 = Rows32::new(x.view());
        let rows: Vec<(Vec<f64>, usize)> = (0..x.nrows())
            .into_par_iter()
            .map(|r| {
                let mut sum = vec![0.0; width];
                let mut seen = 0;
                for (tree, c) in self.trees.iter().zip(counts) {
                    if c.as_ref().is_some_and(|c| c[r] == 0.0) {
                        let flat = tree.flat();
                        add(&mut sum, flat.value(flat.leaf(x32.row(r))));
                        seen += 1;
                    }
                }
                (sum, seen.max(1))
            })
            .collect();
        let n = x.nrows();
        if self.n_classes == 0 {
            return Prediction::Values(Array1::from_iter(rows.into_iter().map(|(s, d)| s[0] / d as f64)));
        }
        let mut p = Array2::<f64>::zeros((n, self.n_classes));
        for (i, (sum, d)) in rows.into_iter().enumerate() {
            for (c, v) in sum.into_iter().enumerate() {
                p[[i, c]] = v / d as f64;
            }
        }
        Prediction::Probabilities(p)
    }

    /// The trees summed in tree order, over their count.
    fn sum(&self) -> TreeSum<'_> {
        TreeSum { trees: self.trees.iter().map(Tree::flat).collect(), classes: self.n_classes, mean: true }
    }
}

fn add(sum: &mut [f64], leaf: &[f64]) {
    for (s, v) in sum.iter_mut().zip(leaf) {
        *s += v;
    }
}

impl Fitted for Forest {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        self.sum().predict(x)
    }

    fn tree_sum(&self) -> Option<TreeSum<'_>> {
        Some(self.sum())
    }

    fn out_of_bag(&self) -> Option<Prediction> {
        self.oob.clone()
    }

    /// `BaseForest.feature_importances_`: the mean of the normalized importances of the trees
    /// with more than one node (summed in estimator order), over its sum; zeros when none.
    fn impurity_importance(&self) -> Option<Vec<f64>> {
        let split = self.trees.iter().filter(|t| t.flat().node_count() > 1);
        let per_tree: Vec<Vec<f64>> = split.map(|t| t.importances()).collect::<Option<_>>()?;
        let width = self.trees.first()?.width();
        let Some(first) = per_tree.first() else { return Some(vec![0.0; width]) };
        let mut mean = first.clone();
        for importances in &per_tree[1..] {
            add(&mut mean, importances);
        }
        for v in &mut mean {
            *v /= per_tree.len() as f64;
        }
        let total = tree::numpy_sum(&mean);
        Some(mean.into_iter().map(|v| v / total).collect())
    }

    fn state(&self) -> Option<super::ModelState> {
        let trees = self.trees.iter().map(|t| t.flat().clone()).collect();
        Some(super::ModelState::Forest { classes: self.n_classes, trees })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::ModelSpec;
    use crate::spec::ModelKind;

    fn params(given: &[(&str, crate::spec::ParamValue)]) -> ForestParams {
        let given = given.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        match ModelSpec::check(ModelKind::RandomForest, &given) {
            Ok(ModelSpec::RandomForest(p)) => p,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn max_features_resolves_as_scikit_learn_does() {
        let word = |w: &str| CountOrShare::Word(w.into());
        assert_eq!(max_features(&word("auto"), true, 20).ok(), Some(4));
        assert_eq!(max_features(&word("auto"), false, 20).ok(), Some(20));
        assert_eq!(max_features(&word("log2"), true, 20).ok(), Some(4));
        assert_eq!(max_features(&word("sqrt"), true, 1).ok(), Some(1));
        assert_eq!(max_features(&CountOrShare::Share(0.01), true, 20).ok(), Some(1));
        assert_eq!(max_features(&CountOrShare::Share(0.55), true, 20).ok(), Some(11));
        let e = max_features(&CountOrShare::Count(21), true, 20).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("max_features is 21, but the design matrix has 20 columns"), "{e}");
        assert_eq!(bootstrap_size(&CountOrShare::Share(0.7), 81, None), 56);
        assert_eq!(bootstrap_size(&CountOrShare::Share(0.001), 81, None), 1);
    }

    /// Trees grow on any number of threads; the forest is the same to the bit.
    #[test]
    fn a_forest_does_not_depend_on_the_thread_count() {
        let mut rs = RandomState::new(3);
        let x = Array2::from_shape_fn((60, 4), |_| rs.next_f64());
        let y: Vec<usize> = x.rows().into_iter().map(|r| usize::from(r[0] + r[1] > 1.0)).collect();
        let p = params(&[
            ("n_estimators", crate::spec::ParamValue::Int(12)),
            ("oob_score", crate::spec::ParamValue::Bool(true)),
        ]);
        let classes = ["0".to_string(), "1".to_string()];
        let fit_on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let forest =
                pool.install(|| fit(&p, Splitter::Best, &x, Task::Classes { y: &y, classes: &classes }, None).unwrap());
            let Prediction::Probabilities(proba) = pool.install(|| forest.predict(&x)) else { panic!() };
            (proba, forest.state(), format!("{:?}", forest.oob))
        };
        assert_eq!(fit_on(1), fit_on(3));
    }

    /// Shuffled columns through `flat::Routed` give the bits a full predict of the shuffled
    /// matrix gives: forests and extra trees, both tasks (two classes and three), best-first and pruned trees, one
    /// column or several, all rows or some.
    #[test]
    fn a_routed_shuffle_predicts_as_the_shuffled_matrix_does() {
        use crate::spec::ParamValue::{Float, Int, Str};
        let mut rs = RandomState::new(5);
        let x = Array2::from_shape_fn((150, 5), |(_, j)| (rs.next_f64() * 8.0).floor() / [1.0, 3.0, 7.0, 1.0, 2.0][j]);
        let y: Vec<usize> =
            x.rows().into_iter().map(|r| usize::from(r[0] + r[1] > 4.0) + usize::from(r[2] > 0.5)).collect();
        let y2: Vec<usize> = y.iter().map(|&c| c.min(1)).collect();
        let v: Vec<f64> = x.rows().into_iter().map(|r| r[0] * r[1] - r[3]).collect();
        let classes = ["a".to_string(), "b".to_string(), "c".to_string()];
        let settings: [&[(&str, crate::spec::ParamValue)]; 3] = [
            &[("n_estimators", Int(7))],
            &[("n_estimators", Int(4)), ("max_leaf_nodes", Int(9)), ("max_features", Str("all".into()))],
            &[("n_estimators", Int(3)), ("ccp_alpha", Float(0.01))],
        ];
        let test = x.slice(ndarray::s![..60, ..]).to_owned();
        let perm = RandomState::new(9).permutation(40);
        let some: Vec<usize> = (0..40).map(|i| (i * 7) % 60).collect();
        for given in settings {
            let p = params(given);
            for splitter in [Splitter::Best, Splitter::Random] {
                let two = [Task::Classes { y: &y2, classes: &classes[..2] }];
                for task in [Task::Classes { y: &y, classes: &classes }, Task::Values(&v)].into_iter().chain(two) {
                    let forest = fit(&p, splitter, &x, task, None).unwrap();
                    let trees = forest.tree_sum().unwrap();
                    let routed = trees.route(&test);
                    for cols in [&[0][..], &[1, 2], &[4]] {
                        let ancestors = routed.ancestors(cols);
                        for rows in [None, Some(&some[..])] {
                            let picked: Vec<usize> = (0..40).map(|i| rows.map_or(i, |r| r[i])).collect();
                            let mut shuffled = test.select(ndarray::Axis(0), &picked);
                            for &c in cols {
                                for (i, &q) in perm.iter().enumerate() {
                                    shuffled[[i, c]] = test[[picked[q], c]];
                                }
                            }
                            let fast = routed.shuffled(&ancestors, rows, &perm);
                            assert_eq!(format!("{fast:?}"), format!("{:?}", forest.predict(&shuffled)));
                        }
                    }
                }
            }
        }
    }
}
