//! `BaseHistGradientBoosting.fit`: seeds, the validation hold-out, binning, the baseline,
//! then per iteration the gradients, one grown tree per class and early stopping on the
//! validation loss.

use super::binning::{BinMapper, Binned};
use super::grower::{update_raw, Grower, Limits};
use super::histogram::HistogramBuilder;
use super::loss::{self, Loss};
use super::pcg::Pcg64;
use super::splitting::Splitter;
use super::tree::HgbTree;
use crate::models::FitError;
use crate::random::RandomState;
use ndarray::{Array2, Axis};

/// The fit's settings, as scikit-learn's constructor takes them.
pub struct Settings {
    pub learning_rate: f64,
    pub max_iter: usize,
    pub max_leaf_nodes: Option<usize>,
    pub max_depth: Option<usize>,
    pub min_samples_leaf: usize,
    pub l2_regularization: f64,
    pub max_features: f64,
    pub max_bins: usize,
    /// `None` is "auto": on when there are more than 10,000 rows.
    pub early_stopping: Option<bool>,
    pub validation_fraction: f64,
    pub n_iter_no_change: usize,
    pub tol: f64,
    pub random_state: u32,
}

/// A fitted ensemble: `trees[iteration][k]`.
pub struct Boosted {
    pub baseline: Vec<f64>,
    pub trees: Vec<Vec<HgbTree>>,
    /// Per iteration (from the baseline on), the training and validation loss when early
    /// stopping held rows out.
    pub losses: Option<(Vec<f64>, Vec<f64>)>,
    /// Per output, the raw prediction of every row fitted on (hold-out rows too), kept as
    /// boosting added each iteration's leaves: the sums a predict of those rows makes, in its order.
    pub fitted_raw: Vec<Vec<f64>>,
}

/// The features a split may use (`max_features < 1`), drawn from its own `default_rng`.
pub struct FeatureSampler {
    fraction: f64,
    rng: Pcg64,
}

impl FeatureSampler {
    /// The `subsample_mask` of `find_node_split`, or `None` when every feature is used.
    pub fn draw(&mut self, n_features: usize) -> Option<Vec<bool>> {
        if self.fraction >= 1.0 {
            return None;
        }
        let n = ((self.fraction * n_features as f64).ceil() as usize).max(1);
        let mut mask: Vec<bool> = (0..n_features).map(|i| i < n).collect();
        self.rng.shuffle(&mut mask);
        Some(mask)
    }
}

/// The rows early stopping trains and validates on, as `train_test_split` orders them.
fn holdout(s: &Settings, n: usize, classes: Option<&[usize]>, seed: u32) -> Result<(Vec<usize>, Vec<usize>), FitError> {
    use crate::config::{SplitConfig, TestSize};
    let cfg = SplitConfig::Holdout {
        test_size: TestSize::Fraction(s.validation_fraction),
        shuffle: true,
        stratify: classes.is_some(),
    };
    let names: Vec<String> = match classes {
        Some(c) => (0..=c.iter().copied().max().unwrap_or(0)).map(|k| k.to_string()).collect(),
        None => Vec::new(),
    };
    let plan = crate::split::plan_split(&cfg, n, classes.map(|c| (c, names.as_slice())), None, seed)
        .map_err(|e| FitError::Solver(format!("early stopping's validation hold-out: {e}")))?;
    let fold = plan.folds.into_iter().next().ok_or_else(|| FitError::Solver("no validation hold-out".into()))?;
    Ok((fold.train, fold.test))
}

/// `_should_stop`: none of the last `n_iter_no_change` scores beats the one before them by `tol`.
fn should_stop(scores: &[f64], n_iter_no_change: usize, tol: f64) -> bool {
    let reference = n_iter_no_change + 1;
    if scores.len() < reference {
        return false;
    }
    let reference_score = scores[scores.len() - reference] + tol;
    !scores[scores.len() - reference + 1..].iter().any(|&s| s > reference_score)
}

/// The validation rows: binned, their targets, weights and raw predictions.
type Validation = (Binned, Vec<f64>, Option<Vec<f64>>, Vec<Vec<f64>>);

/// `_check_early_stopping_loss`: the negated training and validation losses.
fn record(
    loss: Loss,
    scores: &mut (Vec<f64>, Vec<f64>),
    (y, w): (&[f64], Option<&[f64]>),
    raw: &[Vec<f64>],
    validation: &Option<Validation>,
) {
    if let Some((_, y_val, w_val, raw_val)) = validation {
        scores.0.push(-loss.mean(y, raw, w));
        scores.1.push(-loss.mean(y_val, raw_val, w_val.as_deref()));
    }
}

/// Adds one iteration's trees to the validation rows' raw predictions.
fn add_iteration(raw: &mut [Vec<f64>], binned: &Binned, iteration: &[HgbTree], missing_bin: u8) {
    let features: Vec<_> = (0..binned.n_features).map(|f| binned.feature(f)).collect();
    for (k, tree) in iteration.iter().enumerate() {
        for (i, r) in raw[k].iter_mut().enumerate() {
            *r += tree.predict_binned(|f| features[f].get(i), missing_bin);
        }
    }
}

/// scikit-learn's `Splitter` for one tree of this fit.
fn splitter<'a>(s: &Settings, mapper: &'a BinMapper, has_missing: &'a [bool], constant: bool) -> Splitter<'a> {
    Splitter {
        n_bins: s.max_bins + 1,
        n_bins_non_missing: &mapper.n_bins_non_missing,
        has_missing,
        categorical: &mapper.categorical,
        missing_bin: mapper.missing_bin,
        l2_regularization: s.l2_regularization,
        min_hessian_to_split: 1e-3,
        min_samples_leaf: s.min_samples_leaf,
        hessians_are_constant: constant,
    }
}

/// Fits the ensemble. `y` is the target (a class index as a float for classifiers),
/// `classes` each row's class when the split must be stratified, `categories` each
/// categorical column's code count (empty when there is none; checked by the caller).
pub fn fit(
    s: &Settings,
    x: &Array2<f64>,
    y: &[f64],
    loss: Loss,
    weights: Option<&[f64]>,
    classes: Option<&[usize]>,
    categories: &[Option<usize>],
) -> Result<Boosted, FitError> {
    let mut rng = RandomState::new(s.random_state);
    let random_seed = rng.randint(0, u64::from(u32::MAX)) as u32;
    let feature_seed = rng.randint(0, u64::from(u32::MAX)) as u32;
    let mut sampler = FeatureSampler { fraction: s.max_features, rng: Pcg64::new(feature_seed) };
    let early = s.early_stopping.unwrap_or(x.nrows() > 10_000);
    let (train, val) =
        if early { holdout(s, x.nrows(), classes, random_seed)? } else { ((0..x.nrows()).collect(), vec![]) };
    let pick = |rows: &[usize]| -> Vec<f64> { rows.iter().map(|&r| y[r]).collect() };
    // Without a hold-out every row trains: the matrix is borrowed, not copied.
    let x_train =
        if early { std::borrow::Cow::Owned(x.select(Axis(0), &train)) } else { std::borrow::Cow::Borrowed(x) };
    let y_train = if early { pick(&train) } else { y.to_vec() };
    let w_train: Option<Vec<f64>> =
        weights.map(|w| if early { train.iter().map(|&r| w[r]).collect() } else { w.to_vec() });
    let (mapper, binned, has_missing) = bin(s, &x_train, w_train.as_deref(), random_seed, categories);
    let baseline = loss.baseline(&y_train, w_train.as_deref());
    let n = y_train.len();
    let mut raw: Vec<Vec<f64>> = baseline.iter().map(|&b| vec![b; n]).collect();
    let mut validation = early.then(|| {
        let x_val = x.select(Axis(0), &val);
        let w_val: Option<Vec<f64>> = weights.map(|w| val.iter().map(|&r| w[r]).collect());
        let raw_val: Vec<Vec<f64>> = baseline.iter().map(|&b| vec![b; val.len()]).collect();
        (mapper.transform(&x_val), pick(&val), w_val, raw_val)
    });
    let mut scores: (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    let train_part = (y_train.as_slice(), w_train.as_deref());
    record(loss, &mut scores, train_part, &raw, &validation);
    let constant = loss.constant_hessian(w_train.is_some());
    let mut g = vec![vec![0f32; n]; loss.n_trees()];
    let mut h = vec![vec![if constant { 1f32 } else { 0f32 }; n]; loss.n_trees()];
    let limits = Limits {
        max_leaf_nodes: s.max_leaf_nodes,
        max_depth: s.max_depth,
        min_samples_leaf: s.min_samples_leaf,
        shrinkage: s.learning_rate,
    };
    let mut trees = Vec::new();
    for _ in 0..s.max_iter {
        loss.gradients(&y_train, &raw, w_train.as_deref(), &mut g, &mut h);
        let mut iteration = Vec::with_capacity(loss.n_trees());
        for k in 0..loss.n_trees() {
            let builder = HistogramBuilder {
                binned: &binned,
                gradients: &g[k],
                hessians: (!constant).then_some(h[k].as_slice()),
            };
            let splitter = splitter(s, &mapper, &has_missing, constant);
            let residual_median = |rows: &[u32]| {
                let residuals = rows.iter().map(|&r| y_train[r as usize] - raw[k][r as usize]).collect();
                let w: Option<Vec<f64>> = w_train.as_ref().map(|w| rows.iter().map(|&r| w[r as usize]).collect());
                loss::median(residuals, w.as_deref())
            };
            let update: super::grower::LeafUpdate<'_> = (!loss.differentiable()).then_some(&residual_median);
            let (tree, leaves, rows) = Grower::new(builder, splitter, &limits, &mut sampler).grow(&mapper, update);
            update_raw(&mut raw[k], &rows, &leaves);
            iteration.push(tree);
        }
        if let Some((binned_val, _, _, raw_val)) = validation.as_mut() {
            add_iteration(raw_val, binned_val, &iteration, mapper.missing_bin);
        }
        trees.push(iteration);
        record(loss, &mut scores, train_part, &raw, &validation);
        if early && should_stop(&scores.1, s.n_iter_no_change, s.tol) {
            break;
        }
    }
    let losses = early.then(|| (scores.0.iter().map(|v| -v).collect(), scores.1.iter().map(|v| -v).collect()));
    let fitted_raw = every_rows_raw(x.nrows(), (&train, raw), (&val, validation.map(|v| v.3)));
    Ok(Boosted { baseline, trees, losses, fitted_raw })
}

/// The training rows' bin mapper, their bins and which features have missing values.
fn bin(
    s: &Settings,
    x: &Array2<f64>,
    w: Option<&[f64]>,
    seed: u32,
    categories: &[Option<usize>],
) -> (BinMapper, Binned, Vec<bool>) {
    let mapper = BinMapper::fit(x, s.max_bins, w, seed, categories);
    let binned = mapper.transform(x);
    let has_missing = features_with_missing(&binned, &mapper, x.ncols());
    (mapper, binned, has_missing)
}

/// Which features have a missing value among the binned training rows.
fn features_with_missing(binned: &Binned, mapper: &BinMapper, features: usize) -> Vec<bool> {
    (0..features)
        .map(|f| {
            let bins = binned.feature(f);
            (0..binned.n).any(|i| bins.get(i) == mapper.missing_bin)
        })
        .collect()
}

/// Every row's raw prediction as boosting left it, the held-out rows' included (the sums a
/// predict would add, in the same order).
fn every_rows_raw(
    n: usize,
    (train, raw): (&[usize], Vec<Vec<f64>>),
    (val, raw_val): (&[usize], Option<Vec<Vec<f64>>>),
) -> Vec<Vec<f64>> {
    let Some(raw_val) = raw_val else {
        return raw;
    };
    (0..raw.len())
        .map(|k| {
            let mut all = vec![0.0; n];
            train.iter().zip(&raw[k]).chain(val.iter().zip(&raw_val[k])).for_each(|(&r, &v)| all[r] = v);
            all
        })
        .collect()
}
