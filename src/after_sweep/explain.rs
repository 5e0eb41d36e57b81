//! Explaining the best trial: it is refitted on each fold (deterministically, so the result
//! equals the sweep's), then its test predictions and the permutation importance of each
//! feature on the test part are computed with a seeded generator.

use crate::config::{Metric, SampleSize};
use crate::metrics;
use crate::models::{Fitted, Head, Prediction};
use crate::plan::RunPlan;
use crate::preprocess::{prepare_fold, prepare_test_part, FoldData, FoldTargets, TestPart};
use crate::random::RandomState;
use crate::sweep::metric_value;
use crate::sweep::unit::{fit_unit, Stage};
use crate::trial::{unit_seed, SeedStream, Trial, UnitRecord};
use ndarray::{Array2, Axis};
use rayon::prelude::*;
use serde::Serialize;

/// How many times each feature is shuffled per fold.
pub const REPEATS: usize = 5;

#[derive(Debug, Clone, Serialize)]
pub struct FeatureImportance {
    pub feature: String,
    /// Mean drop in the test score when the feature is shuffled (positive: the model uses it).
    pub mean: f64,
    pub std: f64,
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
fn column_groups(plan: &RunPlan) -> Vec<(String, Vec<usize>)> {
    let mut groups = Vec::new();
    let mut j = 0;
    for c in plan.dataset.columns() {
        let width = match c.categories {
            None => 1,
            Some(categories) => {
                categories.len() - usize::from(plan.experiment.preprocess.drop_first && categories.len() > 1)
            }
        };
        groups.push((c.name.to_string(), (j..j + width).collect()));
        j += width;
    }
    groups
}

/// A model's linear predictor `z = x·Wᵀ + b` and the head that turns it into a prediction,
/// rebuilt from a unit record's coefficients: no refit needed, and a shuffle of one feature
/// changes `z` by `W[:, j]·(x_perm − x_j)`, an O(n) update instead of a full predict.
struct LinearPredictor {
    /// outputs × design-matrix columns.
    weights: Array2<f64>,
    intercepts: Vec<f64>,
    head: Head,
}

impl LinearPredictor {
    /// The predictor of a linear model's fold, from its record (of `classes` classes, 0 for
    /// regression); `None` for a model that records no coefficients.
    fn from_record(record: &UnitRecord, classes: usize) -> Option<LinearPredictor> {
        let c = record.coefficients.as_ref()?;
        let outputs = c.weights.len();
        let d = c.weights.first()?.len();
        let head = Head::of(classes, outputs)?;
        let weights = Array2::from_shape_vec((outputs, d), c.weights.concat()).ok()?;
        Some(LinearPredictor { weights, intercepts: c.intercepts.clone(), head })
    }

    fn linear(&self, x: &Array2<f64>) -> Array2<f64> {
        x.dot(&self.weights.t()) + &ndarray::ArrayView1::from(self.intercepts.as_slice())
    }

    fn predict(&self, z: Array2<f64>) -> Prediction {
        self.head.apply(z)
    }

    /// For metrics of predicted labels only (accuracy, precision, recall, f1): one-hot rows of
    /// the class the probabilities would pick, without computing them, except where two
    /// classes are too close to call from the scores.
    fn predict_labels(&self, z: Array2<f64>) -> Prediction {
        let outputs = z.ncols();
        let classes = if outputs == 1 { 2 } else { outputs };
        let mut hard = Array2::<f64>::zeros((z.nrows(), classes));
        for (i, row) in z.rows().into_iter().enumerate() {
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
            let class = if close {
                let soft = self.head.apply(row.to_owned().insert_axis(Axis(0)));
                let Prediction::Probabilities(p) = soft else { return self.predict(z) };
                metrics::predicted_classes(&p)[0]
            } else if outputs == 1 {
                usize::from(row[0] > 0.0)
            } else {
                top
            };
            hard[[i, class]] = 1.0;
        }
        Prediction::Probabilities(hard)
    }
}

/// How a fold's test predictions are made, for the baseline and for each shuffle.
enum FoldModel {
    /// `z` is the test part's linear predictor; `columns` the test matrix transposed, so
    /// each shuffle reads a column contiguously.
    Linear {
        predictor: LinearPredictor,
        z: Array2<f64>,
        columns: Array2<f64>,
    },
    Fitted(Box<dyn Fitted>),
}

impl FoldModel {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        match self {
            FoldModel::Linear { predictor, z, .. } => predictor.predict(z.clone()),
            FoldModel::Fitted(model) => model.predict(x),
        }
    }
}

/// Explains `trial`: its test predictions and the permutation importance of each feature.
/// Linear kinds are rebuilt from their fold records' coefficients; other kinds are refitted
/// (deterministically, so the model equals the sweep's). The error says why a fold's model
/// could not be had (its fit failed).
pub fn explain(
    plan: &RunPlan,
    trial: &Trial,
    records: &[UnitRecord],
    max_samples: Option<SampleSize>,
) -> Result<Explanation, String> {
    explain_with(plan, trial, records, max_samples, true)
}

/// [`explain`], with the linear shortcut optional (tests compare the two paths).
pub fn explain_with(
    plan: &RunPlan,
    trial: &Trial,
    records: &[UnitRecord],
    max_samples: Option<SampleSize>,
    linear_shortcut: bool,
) -> Result<Explanation, String> {
    let metric = plan.rank_by;
    let classes = plan.dataset.class_names();
    let groups = column_groups(plan);
    let mut drops: Vec<Vec<f64>> = vec![Vec::new(); groups.len()];
    let mut out_of_fold = OutOfFold { trial: trial.id.clone(), folds: Vec::new() };
    for f in 0..plan.split.folds.len() {
        let (model, TestPart { x: test_x, y: test_y, w: test_w }) =
            fold_model(plan, trial, records, f, classes, linear_shortcut)?;
        let base_prediction = model.predict(&test_x);
        let base = metric_value(metric, &test_y, test_w.as_deref(), &base_prediction);
        out_of_fold.folds.push((file_rows(plan, f), test_y.clone(), base_prediction.clone()));
        let test = (&test_x, &test_y, test_w.as_deref());
        let shuffles = Shuffles { plan, trial, fold: f, test, model: &model, base, max_samples };
        // Each feature has its own seeded stream, so the result is the same for any thread count.
        let fold_drops: Vec<Vec<f64>> =
            groups.par_iter().map(|(feature, cols)| shuffles.drops(feature, cols)).collect();
        for (d, fd) in drops.iter_mut().zip(fold_drops) {
            d.extend(fd);
        }
    }
    let mut permutation_importance: Vec<FeatureImportance> = groups
        .into_iter()
        .zip(drops)
        .map(|((feature, _), d)| {
            let (mean, std) = metrics::mean_std(&d);
            FeatureImportance { feature, mean, std }
        })
        .collect();
    permutation_importance.sort_by(|a, b| b.mean.total_cmp(&a.mean));
    let trial = trial.id.clone();
    Ok(Explanation { trial, metric, repeats: REPEATS, permutation_importance, out_of_fold })
}

/// The trial's model on fold `f` and the fold's test part. A linear model is rebuilt from
/// its record and needs only the test part; another is refitted on the training part.
fn fold_model(
    plan: &RunPlan,
    trial: &Trial,
    records: &[UnitRecord],
    f: usize,
    classes: &[String],
    linear_shortcut: bool,
) -> Result<(FoldModel, TestPart), String> {
    let fold = plan.split.folds.get(f).ok_or("no such fold")?;
    let record = records.iter().find(|r| r.trial == trial.id && r.fold == f);
    let preprocess = &plan.experiment.preprocess;
    match record.and_then(|r| LinearPredictor::from_record(r, classes.len())).filter(|_| linear_shortcut) {
        Some(predictor) => {
            let test = prepare_test_part(&plan.dataset, preprocess, fold).map_err(|e| e.to_string())?;
            let z = predictor.linear(&test.x);
            let columns = test.x.t().as_standard_layout().into_owned();
            Ok((FoldModel::Linear { z, columns, predictor }, test))
        }
        None => {
            let data: FoldData = prepare_fold(&plan.dataset, preprocess, fold).map_err(|e| e.to_string())?;
            let seed = unit_seed(plan.experiment.seed, SeedStream::Unit { trial: &trial.id, fold: f });
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

/// The out-of-fold predictions of `trial`, from its records (linear kinds) or refits.
pub fn out_of_fold(plan: &RunPlan, trial: &Trial, records: &[UnitRecord]) -> Option<OutOfFold> {
    let classes = plan.dataset.class_names();
    let folds = (0..plan.split.folds.len())
        .map(|f| {
            let (model, test) = fold_model(plan, trial, records, f, classes, true).ok()?;
            Some((file_rows(plan, f), test.y, model.predict(&test.x)))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(OutOfFold { trial: trial.id.clone(), folds })
}

/// One fold's shuffles of each feature group.
struct Shuffles<'a> {
    plan: &'a RunPlan,
    trial: &'a Trial,
    fold: usize,
    /// The fold's test matrix, targets and sample weights.
    test: (&'a Array2<f64>, &'a FoldTargets, Option<&'a [f64]>),
    model: &'a FoldModel,
    base: f64,
    max_samples: Option<SampleSize>,
}

impl Shuffles<'_> {
    /// The score drop of each of the `REPEATS` shuffles of the columns `cols`.
    fn drops(&self, feature: &str, cols: &[usize]) -> Vec<f64> {
        let (plan, x) = (self.plan, self.test.0);
        let stream = SeedStream::Permutation { trial: &self.trial.id, feature, fold: self.fold };
        let mut rng = RandomState::new(unit_seed(plan.experiment.seed, stream));
        let n = x.nrows();
        let m = match self.max_samples {
            Some(SampleSize::Count(c)) => c.clamp(1, n),
            Some(SampleSize::Fraction(f)) => ((f * n as f64) as usize).clamp(1, n),
            None => n,
        };
        let metric = plan.rank_by;
        // One copy of the test matrix per feature, its shuffled columns rewritten each repeat.
        let mut buffer = None;
        (0..REPEATS)
            .map(|_| {
                // scikit-learn draws the rows first (without replacement), then shuffles.
                let rows: Option<Vec<usize>> = (m < n).then(|| {
                    let mut r = rng.permutation(n)[..m].to_vec();
                    r.sort_unstable();
                    r
                });
                let perm = rng.permutation(m);
                let (y, prediction) = self.shuffled_prediction(rows.as_deref(), &perm, cols, &mut buffer);
                // permutation_importance's sample_weight, drawn with the rows.
                let w = self.test.2.map(|w| rows.as_ref().map_or(w.to_vec(), |r| r.iter().map(|&i| w[i]).collect()));
                let s = metric_value(metric, &y, w.as_deref(), &prediction);
                if metric.higher_is_better() {
                    self.base - s
                } else {
                    s - self.base
                }
            })
            .collect()
    }

    /// The targets of `rows` (all when `None`) and the prediction with the columns `cols`
    /// permuted by `perm` among them.
    fn shuffled_prediction(
        &self,
        rows: Option<&[usize]>,
        perm: &[usize],
        cols: &[usize],
        buffer: &mut Option<Array2<f64>>,
    ) -> (FoldTargets, Prediction) {
        let x = self.test.0;
        let row = |i: usize| rows.map_or(i, |r| r[i]);
        let y = match rows {
            Some(r) => self.test.1.select(r),
            None => self.test.1.clone(),
        };
        let prediction = match self.model {
            FoldModel::Linear { predictor, z, columns } => {
                let mut z = match rows {
                    Some(r) => z.select(Axis(0), r),
                    None => z.clone(),
                };
                let outputs = z.ncols();
                let Some(z_flat) = z.as_slice_mut() else { return (y, predictor.predict(z)) };
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
                    let w = predictor.weights.column(c);
                    for (i, &p) in perm.iter().enumerate() {
                        let delta = column[p] - column[i];
                        for (k, wk) in w.iter().enumerate() {
                            z_flat[i * outputs + k] += wk * delta;
                        }
                    }
                }
                if matches!(self.plan.rank_by, Metric::Accuracy | Metric::Precision | Metric::Recall | Metric::F1) {
                    predictor.predict_labels(z)
                } else {
                    predictor.predict(z)
                }
            }
            FoldModel::Fitted(model) => {
                let shuffled = match rows {
                    Some(r) => buffer.insert(x.select(Axis(0), r)),
                    None => buffer.get_or_insert_with(|| x.clone()),
                };
                for &c in cols {
                    for (i, &p) in perm.iter().enumerate() {
                        shuffled[[i, c]] = x[[row(p), c]];
                    }
                }
                model.predict(shuffled)
            }
        };
        (y, prediction)
    }
}
