//! Explaining the best trial: its model on each fold (rebuilt from the fold's record, kept
//! from the sweep, or refitted, deterministically, so all three are the sweep's), then its test predictions and the permutation importance of each
//! feature on the test part are computed as scikit-learn's `permutation_importance` computes
//! them, with the fold's unit seed as `random_state`.

use super::kept::BestModels;
use crate::config::{Metric, SampleSize};
use crate::metrics;
use crate::models::flat::{Routed, TreeSum};
use crate::models::{hgb, Fitted, Head, LinearParts, Prediction};
use crate::plan::RunPlan;
use crate::preprocess::steps::{apply_all, SavedStep};
use crate::preprocess::{prepare_fold, prepare_test_part, FoldData, FoldTargets, TestPart};
use crate::random::RandomState;
use crate::sweep::metric_value;
use crate::sweep::unit::{fit_unit, Stage};
use crate::trial::{unit_seed, SeedStream, Trial, UnitRecord};
use ndarray::{Array1, Array2, Axis};
use rayon::prelude::*;
use serde::Serialize;

/// How many times each feature is shuffled per fold (scikit-learn's default `n_repeats`).
pub const REPEATS: usize = 5;

#[derive(Debug, Clone, Serialize)]
pub struct FeatureImportance {
    pub feature: String,
    /// Mean drop in the test score when the feature is shuffled (positive: the model uses it).
    pub mean: f64,
    pub std: f64,
    /// The drop of each shuffle: fold by fold, `REPEATS` each (scikit-learn's `importances`).
    #[serde(skip)]
    pub drops: Vec<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub trial: String,
    pub metric: Metric,
    pub repeats: usize,
    /// Features in decreasing importance.
    pub permutation_importance: Vec<FeatureImportance>,
    /// The trial's test predictions on every fold (for predictions.csv and the plots).
    #[serde(skip)]
    pub out_of_fold: OutOfFold,
}

impl Explanation {
    /// (actual, predicted) for every test row of every fold; empty for classifiers.
    pub fn actual_and_predicted(&self) -> Vec<(f64, f64)> {
        let mut pairs = Vec::new();
        for (_, truth, prediction) in &self.out_of_fold.folds {
            if let (FoldTargets::Regression(y), Prediction::Values(p)) = (truth, prediction) {
                pairs.extend(y.iter().copied().zip(p.iter().copied()));
            }
        }
        pairs
    }
}

/// Design-matrix columns of each original feature (one-hot groups move together).
pub(crate) fn column_groups(plan: &RunPlan) -> Vec<(String, Vec<usize>)> {
    crate::preprocess::column_spans(&plan.dataset, plan.experiment.preprocess.drop_first)
        .into_iter()
        .map(|s| (s.name, s.columns.collect()))
        .collect()
}

/// The explanation's use of a linear model's parts (rebuilt from a unit record): no refit
/// needed, and a shuffle of feature `j` changes the scores `z` by `W[:, j]·(x_perm − x_j)`,
/// an O(n) update instead of a full predict.
trait Predictor {
    fn predict(&self, z: Array2<f64>) -> Prediction;
    fn predict_labels(&self, z: Array2<f64>) -> Vec<usize>;
}

impl Predictor for LinearParts {
    fn predict(&self, z: Array2<f64>) -> Prediction {
        self.head.apply(z)
    }

    /// For metrics of predicted labels only (accuracy, precision, recall, f1): the class the
    /// probabilities would pick, without computing them, except where two classes are too
    /// close to call from the scores.
    fn predict_labels(&self, z: Array2<f64>) -> Vec<usize> {
        let outputs = z.ncols();
        let mut labels = Vec::with_capacity(z.nrows());
        for row in z.rows() {
            // The largest score and the runner-up's.
            let (mut top, mut second) = (0, f64::NEG_INFINITY);
            for k in 1..outputs {
                if row[k] > row[top] {
                    second = row[top];
                    top = k;
                } else if row[k] > second {
                    second = row[k];
                }
            }
            let close = match outputs {
                1 => row[0].abs() < 1e-6,
                _ => row[top] - second < 1e-9,
            };
            let soft = || match self.head.apply(row.to_owned().insert_axis(Axis(0))) {
                Prediction::Probabilities(p) => metrics::predicted_classes(&p).first().copied(),
                Prediction::Values(_) => None,
            };
            let class = match close.then(soft).flatten() {
                Some(class) => class,
                None if outputs == 1 => usize::from(row[0] > 0.0),
                None => top,
            };
            labels.push(class);
        }
        labels
    }
}

/// How a fold's test predictions are made, for the baseline and for each shuffle.
enum FoldModel<'k> {
    /// `z` is the test part's linear predictor; `columns` the test matrix transposed, so
    /// each shuffle reads a column contiguously.
    Linear {
        predictor: LinearParts,
        z: Array2<f64>,
        columns: Array2<f64>,
    },
    Fitted(Box<dyn Fitted>),
    /// The sweep's own model of the fold (`kept::BestModels`).
    Kept(&'k dyn Fitted),
    /// A model with its own steps: the test part goes through them first, so each input
    /// column is shuffled, as scikit-learn's `permutation_importance` of a `Pipeline` does.
    Piped(Vec<SavedStep>, Box<dyn Fitted>),
}

impl FoldModel<'_> {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        match self {
            FoldModel::Linear { predictor, z, .. } => predictor.predict(z.clone()),
            FoldModel::Fitted(model) => model.predict(x),
            FoldModel::Kept(model) => model.predict(x),
            FoldModel::Piped(steps, model) => model.predict(&apply_all(steps, x.clone())),
        }
    }

    /// A tree model's trees, which a shuffle re-routes only where it moves a row.
    fn tree_sum(&self) -> Option<TreeSum<'_>> {
        match self {
            FoldModel::Fitted(model) => model.tree_sum(),
            FoldModel::Kept(model) => model.tree_sum(),
            FoldModel::Linear { .. } | FoldModel::Piped(..) => None,
        }
    }

    /// A boosted ensemble on coded rows, which a shuffle re-routes only where it moves a row.
    fn coded(&self) -> Option<&hgb::Coded> {
        match self {
            FoldModel::Fitted(model) => model.coded(),
            FoldModel::Kept(model) => model.coded(),
            FoldModel::Linear { .. } | FoldModel::Piped(..) => None,
        }
    }
}

/// Explains `trial`: its test predictions and the permutation importance of each feature.
/// Linear kinds are rebuilt from their fold records' coefficients; other kinds take the
/// sweep's models in `kept`, else are refitted (deterministically, so the model equals the
/// sweep's). The error says why a fold's model could not be had (its fit failed).
pub fn explain(
    plan: &RunPlan,
    trial: &Trial,
    records: &[UnitRecord],
    max_samples: Option<SampleSize>,
    kept: &BestModels,
) -> Result<Explanation, String> {
    explain_with(plan, trial, records, max_samples, kept, true)
}

/// [`explain`], with the shortcuts optional (tests compare the paths): the linear one and the
/// trees' (`flat::Routed`: a shuffle re-routes only the rows it moves).
pub fn explain_with(
    plan: &RunPlan,
    trial: &Trial,
    records: &[UnitRecord],
    max_samples: Option<SampleSize>,
    kept: &BestModels,
    shortcuts: bool,
) -> Result<Explanation, String> {
    let metric = plan.rank_by;
    let groups = column_groups(plan);
    let mut drops: Vec<Vec<f64>> = vec![Vec::new(); groups.len()];
    let mut out_of_fold = OutOfFold { trial: trial.id.clone(), folds: Vec::new() };
    for f in 0..plan.split.folds.len() {
        let seed = unit_seed(plan.experiment.seed, SeedStream::Unit { trial: &trial.id, fold: f });
        let n = plan.split.folds[f].test.len();
        // The shuffles are drawn while the fold's model and test part are made.
        let (model, draws) = rayon::join(
            || fold_model(plan, trial, records, f, kept, shortcuts),
            || FoldShuffles::new(seed, n, max_samples),
        );
        let (model, TestPart { x: test_x, y: test_y, w: test_w }) = model?;
        let trees = model.tree_sum().filter(|_| shortcuts);
        let routed = trees.as_ref().map(|t| t.route(&test_x));
        let coded = model.coded().filter(|_| shortcuts).map(|c| c.route(&test_x));
        let base_prediction = coded.as_ref().map_or_else(|| model.predict(&test_x), |c| c.prediction());
        let base = metric_value(metric, &test_y, test_w.as_deref(), &base_prediction);
        out_of_fold.folds.push((file_rows(plan, f), test_y.clone(), base_prediction.clone()));
        let test = (&test_x, &test_y, test_w.as_deref());
        let routed = (routed.as_ref(), coded.as_ref());
        let shuffles = Shuffles { plan, test, model: &model, routed, base, draws: &draws };
        // Every feature is shuffled alike, so the result is the same for any thread count.
        let fold_drops: Vec<Vec<f64>> = groups.par_iter().map(|(_, cols)| shuffles.drops(cols)).collect();
        for (d, fd) in drops.iter_mut().zip(fold_drops) {
            d.extend(fd);
        }
    }
    let mut permutation_importance: Vec<FeatureImportance> = groups
        .into_iter()
        .zip(drops)
        .map(|((feature, _), d)| {
            let (mean, std) = metrics::mean_std(&d);
            FeatureImportance { feature, mean, std, drops: d }
        })
        .collect();
    permutation_importance.sort_by(|a, b| b.mean.total_cmp(&a.mean));
    let trial = trial.id.clone();
    Ok(Explanation { trial, metric, repeats: REPEATS, permutation_importance, out_of_fold })
}

/// The trial's model on fold `f` and the fold's test part. A linear model is rebuilt from
/// its record and a kept one taken as it is: both need only the test part; another is
/// refitted on the training part.
fn fold_model<'k>(
    plan: &RunPlan,
    trial: &Trial,
    records: &[UnitRecord],
    f: usize,
    kept: &'k BestModels,
    linear_shortcut: bool,
) -> Result<(FoldModel<'k>, TestPart), String> {
    let classes = plan.dataset.class_names();
    let fold = plan.split.folds.get(f).ok_or("no such fold")?;
    let record = records.iter().find(|r| r.trial == trial.id && r.fold == f);
    let preprocess = &plan.experiment.preprocess;
    let test_part = || prepare_test_part(&plan.dataset, preprocess, fold).map_err(|e| e.to_string());
    // A model's steps come between the test part and its coefficients: it is refitted.
    let linear_shortcut = linear_shortcut && !trial.has_pipeline();
    match record.and_then(|r| r.coefficients.as_ref()?.parts(classes.len())).filter(|_| linear_shortcut) {
        Some(predictor) => {
            let test = test_part()?;
            let z = predictor.scores(&test.x);
            let columns = crate::linalg::transposed(test.x.view());
            Ok((FoldModel::Linear { z, columns, predictor }, test))
        }
        // A kept model of a trial with steps would need its fold's fitted steps too: refitted.
        None if trial.steps.is_empty() && kept.get(&trial.id, f).is_some() => {
            let model = kept.get(&trial.id, f).ok_or("no kept model")?;
            Ok((FoldModel::Kept(model), test_part()?))
        }
        None => {
            let data: FoldData = prepare_fold(&plan.dataset, preprocess, fold).map_err(|e| e.to_string())?;
            let seed = unit_seed(plan.experiment.seed, SeedStream::Unit { trial: &trial.id, fold: f });
            if trial.has_pipeline() {
                let (stepped, steps) =
                    data.through_steps(&trial.steps, trial.target, &plan.feature_names).map_err(|e| e.to_string())?;
                let model =
                    fit_unit(Stage::Explain, &trial.spec, &stepped, classes, seed, |m| m).map_err(|e| e.to_string())?;
                return Ok((
                    FoldModel::Piped(steps, model),
                    TestPart { x: data.test_x, y: data.test_y, w: data.test_w },
                ));
            }
            let model =
                fit_unit(Stage::Explain, &trial.spec, &data, classes, seed, |m| m).map_err(|e| e.to_string())?;
            Ok((FoldModel::Fitted(model), TestPart { x: data.test_x, y: data.test_y, w: data.test_w }))
        }
    }
}

/// A trial's out-of-fold predictions, as scikit-learn's `cross_val_predict` gives them:
/// every fold's test rows, predicted by the model fitted on that fold's training part.
#[derive(Debug, Clone)]
pub struct OutOfFold {
    pub trial: String,
    /// Per fold: the test rows (row numbers in the file, from 0), their targets and the
    /// prediction.
    pub folds: Vec<(Vec<usize>, FoldTargets, Prediction)>,
}

/// The file's row numbers (from 0) of fold `f`'s test part.
fn file_rows(plan: &RunPlan, f: usize) -> Vec<usize> {
    plan.split.folds[f].test.iter().map(|&r| plan.dataset.loaded().file_rows[r]).collect()
}

/// The out-of-fold predictions of `trial`, from its records (linear kinds), the sweep's kept
/// models or refits.
pub fn out_of_fold(plan: &RunPlan, trial: &Trial, records: &[UnitRecord], kept: &BestModels) -> Option<OutOfFold> {
    let folds = (0..plan.split.folds.len())
        .map(|f| {
            let (model, test) = fold_model(plan, trial, records, f, kept, true).ok()?;
            Some((file_rows(plan, f), test.y, model.predict(&test.x)))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(OutOfFold { trial: trial.id.clone(), folds })
}

/// One fold's shuffles as scikit-learn's `permutation_importance(random_state=seed)` draws
/// them: one `random_seed = randint(2**31)`, then `RandomState(random_seed)` afresh for every
/// column, so every column gets the same rows and permutations, drawn here once per fold.
pub struct FoldShuffles {
    /// The test rows scored (`max_samples` of them, in scikit-learn's order); all when `None`.
    rows: Option<Vec<usize>>,
    /// Per repeat, where each scored row's shuffled value comes from. scikit-learn shuffles its
    /// index in place and re-indexes the column it already shuffled, so repeat k's map is the
    /// composition of the first k shuffles.
    sources: Vec<Vec<usize>>,
}

impl FoldShuffles {
    pub fn new(random_state: u32, n: usize, max_samples: Option<SampleSize>) -> FoldShuffles {
        // `random_state.randint(np.iinfo(np.int32).max + 1)`: below 2**31, so it fits a u32.
        let random_seed = RandomState::new(random_state).randint(0, 1 << 31) as u32;
        let mut rng = RandomState::new(random_seed);
        let m = match max_samples {
            Some(SampleSize::Count(c)) => c.clamp(1, n),
            Some(SampleSize::Fraction(f)) => ((f * n as f64) as usize).clamp(1, n),
            None => n,
        };
        let rows = (m < n).then(|| rng.sample_without_replacement(n, m));
        let mut index: Vec<usize> = (0..m).collect();
        let mut source = index.clone();
        let sources = (0..REPEATS)
            .map(|_| {
                rng.shuffle(&mut index);
                source = index.iter().map(|&i| source[i]).collect();
                source.clone()
            })
            .collect();
        FoldShuffles { rows, sources }
    }
}

/// One fold's shuffles of each feature group.
struct Shuffles<'a> {
    plan: &'a RunPlan,
    /// The fold's test matrix, targets and sample weights.
    test: (&'a Array2<f64>, &'a FoldTargets, Option<&'a [f64]>),
    model: &'a FoldModel<'a>,
    /// The test rows' leaves, for a tree model or a boosted one with the shortcut.
    routed: (Option<&'a Routed<'a>>, Option<&'a hgb::Routed<'a>>),
    base: f64,
    draws: &'a FoldShuffles,
}

impl Shuffles<'_> {
    /// The score drop of each of the `REPEATS` shuffles of the columns `cols`.
    fn drops(&self, cols: &[usize]) -> Vec<f64> {
        let metric = self.plan.rank_by;
        let rows = self.draws.rows.as_deref();
        // The scored rows' targets, the same for every repeat.
        let y = match rows {
            Some(r) => std::borrow::Cow::Owned(self.test.1.select(r)),
            None => std::borrow::Cow::Borrowed(self.test.1),
        };
        // permutation_importance's sample_weight, drawn with the rows.
        let w: Option<Vec<f64>> = self.test.2.map(|w| rows.map_or(w.to_vec(), |r| r.iter().map(|&i| w[i]).collect()));
        // One buffer per feature, rewritten each repeat: a copy of the test matrix with its shuffled
        // columns, or a linear model's scores.
        let mut buffer = None;
        let ancestors = self.routed.0.map(|r| (r, r.ancestors(cols)));
        let boxes = self.routed.1.map(|r| (r, r.boxes(cols)));
        self.draws
            .sources
            .iter()
            .map(|perm| {
                let shuffled = match (&ancestors, &boxes) {
                    (Some((routed, ancestors)), _) => Shuffled::Prediction(routed.shuffled(ancestors, rows, perm)),
                    (None, Some((routed, boxes))) => Shuffled::Prediction(routed.shuffled(boxes, rows, perm)),
                    (None, None) => self.shuffled_prediction(rows, perm, cols, y.as_ref(), &mut buffer),
                };
                let s = match shuffled {
                    Shuffled::Prediction(p) => metric_value(metric, y.as_ref(), w.as_deref(), &p),
                    Shuffled::Values(z, y) => match (y.as_slice(), z.as_slice()) {
                        (Some(y), Some(p)) => metrics::regression(metric, y, p, w.as_deref()),
                        _ => metrics::regression(metric, &y.to_vec(), &z.column(0).to_vec(), w.as_deref()),
                    },
                    Shuffled::Labels(labels, y) => {
                        metrics::of_labels(metric, y, &labels, self.plan.dataset.classes(), w.as_deref())
                    }
                };
                if metric.higher_is_better() {
                    self.base - s
                } else {
                    s - self.base
                }
            })
            .collect()
    }

    /// The prediction of `rows` (all when `None`) with the columns `cols` permuted by `perm`
    /// among them; `y` their targets.
    fn shuffled_prediction<'b>(
        &self,
        rows: Option<&[usize]>,
        perm: &[usize],
        cols: &[usize],
        y: &'b FoldTargets,
        buffer: &'b mut Option<Array2<f64>>,
    ) -> Shuffled<'b> {
        let x = self.test.0;
        let row = |i: usize| rows.map_or(i, |r| r[i]);
        match self.model {
            FoldModel::Linear { predictor, z, columns } => {
                // The scores are copied into the buffer the previous repeat left (no new matrix).
                let mut z = match (rows, buffer.take()) {
                    (Some(r), _) => z.select(Axis(0), r),
                    (None, Some(mut b)) if b.dim() == z.dim() => {
                        b.assign(z);
                        b
                    }
                    (None, _) => z.clone(),
                };
                let Some(z_flat) = z.as_slice_mut() else { return Shuffled::Prediction(predictor.predict(z)) };
                for &c in cols {
                    let all = columns.row(c);
                    let gathered: Vec<f64>;
                    let column = match (rows, all.as_slice()) {
                        (None, Some(all)) => all,
                        _ => {
                            gathered = (0..perm.len()).map(|i| all[row(i)]).collect();
                            &gathered
                        }
                    };
                    let delta = perm.iter().zip(column).map(|(&p, &xi)| column[p] - xi);
                    predictor.shift_scores(z_flat, c, delta);
                }
                let labels =
                    matches!(self.plan.rank_by, Metric::Accuracy | Metric::Precision | Metric::Recall | Metric::F1);
                match y {
                    FoldTargets::Classes(y) if labels => Shuffled::Labels(predictor.predict_labels(z), y),
                    // A regressor's prediction is its one column of scores: scored where it lies.
                    FoldTargets::Regression(y) if predictor.head == Head::Identity && z.ncols() == 1 => {
                        Shuffled::Values(buffer.insert(z), y)
                    }
                    _ => Shuffled::Prediction(predictor.predict(z)),
                }
            }
            FoldModel::Fitted(_) | FoldModel::Kept(_) | FoldModel::Piped(..) => {
                let shuffled = match rows {
                    Some(r) => buffer.insert(x.select(Axis(0), r)),
                    None => buffer.get_or_insert_with(|| x.clone()),
                };
                for &c in cols {
                    for (i, &p) in perm.iter().enumerate() {
                        shuffled[[i, c]] = x[[row(p), c]];
                    }
                }
                Shuffled::Prediction(self.model.predict(shuffled))
            }
        }
    }
}

/// A shuffle's outcome: the prediction, a linear regressor's scores (n × 1, its prediction's
/// values) with the regression targets, or (a linear classifier scored by a metric of labels)
/// the predicted classes alone with the true ones. Each carries the targets it is scored
/// against, so no pairing of outcome and task is left unscored.
enum Shuffled<'b> {
    Prediction(Prediction),
    Values(&'b Array2<f64>, &'b Array1<f64>),
    Labels(Vec<usize>, &'b [usize]),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffles_are_scikit_learns() {
        // The shuffled column after each repeat of scikit-learn's `_calculate_permutation_scores`
        // (as positions among the scored rows), and `_generate_indices`' rows.
        let all = FoldShuffles::new(0, 8, None);
        assert_eq!(all.rows, None);
        assert_eq!(
            all.sources,
            [
                [1, 6, 5, 7, 0, 2, 3, 4],
                [6, 7, 1, 2, 5, 0, 4, 3],
                [1, 7, 6, 2, 3, 0, 5, 4],
                [2, 4, 6, 1, 3, 0, 7, 5],
                [7, 4, 5, 2, 1, 3, 0, 6]
            ]
        );
        let some = FoldShuffles::new(12345, 10, Some(SampleSize::Count(4)));
        assert_eq!(some.rows, Some(vec![4, 5, 3, 2]));
        assert_eq!(some.sources, [[3, 0, 1, 2], [1, 2, 3, 0], [1, 0, 2, 3], [0, 1, 2, 3], [2, 3, 1, 0]]);
        // Under 1 % of the rows: tracking selection.
        let few = FoldShuffles::new(7, 300, Some(SampleSize::Count(2)));
        assert_eq!(few.rows, Some(vec![223, 233]));
        assert_eq!(few.sources, [[1, 0], [0, 1], [1, 0], [1, 0], [0, 1]]);
    }
}
