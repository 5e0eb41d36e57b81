//! The sweep: every (trial, fold) unit, run in parallel on a rayon pool. Results are plain
//! records, handed to a sink as each unit finishes and returned in (trial, fold) order, so
//! nothing depends on thread scheduling.

mod layout;
mod ridge_path;
mod ridge_rows;
mod stats;
mod streamed;
pub mod unit;

pub use streamed::{refit as refit_streamed, PassProgress, Refitted};

use crate::config::{Metric, PreprocessConfig};
use crate::data::Dataset;
use crate::metrics;
use crate::models::{self, FitError, Prediction};
use crate::plan::{RunPlan, StreamPlan};
use crate::preprocess::{prepare_fold, FoldData, FoldTargets};
use crate::split::SplitPlan;
use crate::trial::{unit_seed, CoefficientsRecord, SeedStream, Status, Trial, UnitRecord};
use rayon::prelude::*;
use ridge_path::RidgePath;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use unit::{Stage, UnitError};

/// What the sweep needs: the shared dataset, the fold plan, the trials and the metrics.
pub struct SweepInput<'a> {
    pub dataset: &'a Dataset,
    pub preprocess: &'a PreprocessConfig,
    pub plan: &'a SplitPlan,
    pub trials: &'a [Trial],
    pub metrics: &'a [Metric],
    /// The metric trials are ranked by: a unit without it is failed.
    pub rank_by: Metric,
    /// The experiment seed; each unit's own stream is derived from it, the trial and the fold.
    pub seed: u32,
    /// Score ridge grids from shared sufficient statistics when they qualify
    /// (`ridge_path`); off, every unit takes the ordinary path.
    pub shortcuts: bool,
    /// Set when the data is streamed (`streamed`): the dataset then holds no rows.
    pub stream: Option<&'a StreamPlan>,
    /// Told where each pass over a streamed file is.
    pub progress: Option<&'a (dyn Fn(&PassProgress) + Sync)>,
    /// Handed each fitted unit's model (of a path's, only kernel machines; not the ridge
    /// shortcut's), after its record is made: the run keeps its best trial's (`after_sweep::kept`).
    pub keep: Option<&'a KeepModel<'a>>,
    /// The order units start in (streamed sweeps go pass by pass whatever it says).
    pub order: UnitOrder,
}

/// Where the sweep hands a unit's fitted model: its trial, fold and model.
pub type KeepModel<'a> = dyn Fn(&Trial, usize, Box<dyn models::Fitted>) + Sync + 'a;

impl<'a> SweepInput<'a> {
    /// The sweep's view of a plan (shortcuts on).
    pub fn of(plan: &'a RunPlan) -> Self {
        SweepInput {
            dataset: &plan.dataset,
            preprocess: &plan.experiment.preprocess,
            plan: &plan.split,
            trials: &plan.trials,
            metrics: &plan.metrics,
            rank_by: plan.rank_by,
            seed: plan.experiment.seed,
            shortcuts: true,
            stream: plan.stream(),
            progress: None,
            keep: None,
            order: UnitOrder::FoldMajor,
        }
    }
}

/// The ridge grid's shared statistics, when shortcuts are on and the sweep qualifies.
fn ridge_shortcut<'a>(input: &SweepInput<'a>) -> Option<RidgePath<'a>> {
    let i = input;
    i.shortcuts.then(|| RidgePath::prepare(i.dataset, i.preprocess, &i.plan.folds, i.trials, i.metrics)).flatten()
}

/// Whether ridge trials will be scored from shared statistics (see `ridge_path`).
pub fn ridge_shortcut_applies(input: &SweepInput<'_>) -> bool {
    ridge_shortcut(input).is_some()
}

/// An environment failure during a sweep (a streamed file that changed or could not be
/// read): the run stops (exit 2) and no unit records it, so the same command resumes once
/// the cause is gone.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentError(pub String);

impl std::fmt::Display for EnvironmentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which units a run does: all, minus those already done, restricted to a shard.
pub struct UnitFilter<'a> {
    /// (trial id, fold) pairs finished by an earlier run.
    pub done: &'a HashSet<(String, usize)>,
    /// `(i, n)`: only units whose index `trial * folds + fold` is `i - 1` modulo `n`.
    pub shard: Option<(usize, usize)>,
}

impl UnitFilter<'_> {
    pub fn in_shard(&self, trial: usize, fold: usize, folds: usize) -> bool {
        match self.shard {
            Some((i, n)) => (trial * folds + fold) % n == i - 1,
            None => true,
        }
    }

    fn wants(&self, trial: &Trial, t: usize, fold: usize, folds: usize) -> bool {
        self.in_shard(t, fold, folds) && !self.done.contains(&(trial.id.clone(), fold))
    }
}

/// Runs the units the filter selects on `jobs` threads. `sink` sees each record as it
/// finishes (from worker threads, in any order); the returned records are in (trial, fold)
/// order. Once `stop` is set, units not yet started are skipped. Only a streamed sweep
/// reads the file and can fail as a whole.
pub fn run(
    input: &SweepInput<'_>,
    jobs: usize,
    filter: &UnitFilter<'_>,
    stop: &AtomicBool,
    sink: &(dyn Fn(&UnitRecord) + Sync),
) -> Result<Vec<UnitRecord>, EnvironmentError> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs.max(1)).build();
    if let (Some(stream), Some(blocks)) = (input.stream, input.plan.blocks.as_ref()) {
        let work = || streamed::run(input, stream, blocks, filter, stop, sink);
        return match pool {
            Ok(pool) => pool.install(work),
            Err(_) => work(),
        };
    }
    let work = || {
        let ridge = ridge_shortcut(input);
        let units = Units::new(input, ridge.as_ref(), filter, stop, sink);
        match input.order {
            UnitOrder::FoldMajor => units.fold_major(),
            UnitOrder::TrialMajor => units.trial_major(),
        }
    };
    let records = match pool {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    };
    let mut records = records;
    records.sort_by_key(|(t, r)| (*t, r.fold));
    Ok(records.into_iter().map(|(_, r)| r).collect())
}

/// A fold's matrices, or why they could not be built.
type FoldResult = Result<FoldData, crate::preprocess::PreprocessError>;

/// The order units are started in. Results never depend on it (records are sorted); only
/// when a trial's last fold finishes, and how many folds' matrices are alive at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitOrder {
    /// Fold by fold: one fold's matrices at a time (the least memory).
    FoldMajor,
    /// Trial by trial: every fold's matrices stay alive, and trials finish steadily during
    /// the sweep, so a run that logs each trial as it finishes keeps pace with the sweep.
    TrialMajor,
}

/// One fold's matrices, built by the first trial that needs them; and through each distinct
/// setting of a model's steps, shared by every trial with that setting (a degree × alpha
/// grid transforms each degree once per fold).
struct FoldCache<'a> {
    input: &'a SweepInput<'a>,
    fold: &'a crate::split::Fold,
    names: &'a [String],
    base: OnceLock<FoldResult>,
    stepped: BTreeMap<&'a String, OnceLock<FoldResult>>,
}

impl<'a> FoldCache<'a> {
    fn new(
        input: &'a SweepInput<'a>,
        fold: &'a crate::split::Fold,
        names: &'a [String],
        keys: &'a BTreeSet<String>,
    ) -> Self {
        let stepped = keys.iter().map(|k| (k, OnceLock::new())).collect();
        FoldCache { input, fold, names, base: OnceLock::new(), stepped }
    }

    /// The fold's matrices as trial `t` sees them (through its steps).
    fn get(&self, t: usize) -> &FoldResult {
        let base = || self.base.get_or_init(|| prepare_fold(self.input.dataset, self.input.preprocess, self.fold));
        let trial = &self.input.trials[t];
        match self.stepped.get(&trial.steps_key()) {
            None => base(),
            Some(slot) => slot.get_or_init(|| match base() {
                Ok(d) => d.through_steps(&trial.steps, trial.target, self.names).map(|(d, _)| d),
                Err(e) => Err(e.clone()),
            }),
        }
    }
}

/// The in-memory sweep's units: warm-start paths × folds, each handed to the sink as it
/// finishes.
struct Units<'a, 's> {
    input: &'a SweepInput<'a>,
    ridge: Option<&'a RidgePath<'a>>,
    filter: &'a UnitFilter<'a>,
    stop: &'a AtomicBool,
    sink: &'s (dyn Fn(&UnitRecord) + Sync),
    paths: Vec<Vec<usize>>,
    step_keys: BTreeSet<String>,
    names: Vec<String>,
}

impl<'a, 's> Units<'a, 's> {
    fn new(
        input: &'a SweepInput<'a>,
        ridge: Option<&'a RidgePath<'a>>,
        filter: &'a UnitFilter<'a>,
        stop: &'a AtomicBool,
        sink: &'s (dyn Fn(&UnitRecord) + Sync),
    ) -> Self {
        let paths = crate::trial::paths(input.trials);
        let step_keys = input.trials.iter().filter(|t| t.has_pipeline()).map(Trial::steps_key).collect();
        let names = crate::preprocess::feature_names(input.dataset, input.preprocess.drop_first);
        Units { input, ridge, filter, stop, sink, paths, step_keys, names }
    }

    fn wants(&self, t: usize, f: usize) -> bool {
        self.filter.wants(&self.input.trials[t], t, f, self.input.plan.folds.len())
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn cache(&'a self, f: usize) -> FoldCache<'a> {
        FoldCache::new(self.input, &self.input.plan.folds[f], &self.names, &self.step_keys)
    }

    /// One path on one fold; a path runs whole (its warm starts need every point), and only
    /// the units this run wants are kept.
    fn path_on(&self, path: &[usize], f: usize, cache: &FoldCache<'_>) -> Vec<(usize, UnitRecord)> {
        if self.stopped() || !path.iter().any(|&t| self.wants(t, f)) {
            return Vec::new();
        }
        let records = path_records(self.input, self.ridge, path, f, |t| cache.get(t));
        let kept = records.into_iter().filter(|(t, _)| self.wants(*t, f));
        kept.map(|(t, record)| {
            let record = note_missing_metrics(require_rank_metric(record, self.input.rank_by));
            (self.sink)(&record);
            (t, record)
        })
        .collect()
    }

    /// Fold by fold; each fold's matrices are dropped once its units are done.
    fn fold_major(&'a self) -> Vec<(usize, UnitRecord)> {
        let per_fold = (0..self.input.plan.folds.len()).into_par_iter().map(|f| {
            if self.stopped() || !self.paths.iter().flatten().any(|&t| self.wants(t, f)) {
                return Vec::new();
            }
            let cache = self.cache(f);
            self.paths.par_iter().flat_map_iter(|path| self.path_on(path, f, &cache)).collect::<Vec<_>>()
        });
        per_fold.collect::<Vec<_>>().into_iter().flatten().collect()
    }

    /// Path by path, every fold's matrices alive for the whole sweep.
    fn trial_major(&'a self) -> Vec<(usize, UnitRecord)> {
        let caches: Vec<FoldCache<'_>> = (0..self.input.plan.folds.len()).map(|f| self.cache(f)).collect();
        let per_path = self.paths.par_iter().map(|path| {
            let folds = (0..caches.len()).into_par_iter();
            folds.flat_map_iter(|f| self.path_on(path, f, &caches[f])).collect::<Vec<_>>()
        });
        per_path.collect::<Vec<_>>().into_iter().flatten().collect()
    }
}

/// The records of one path (or single trial) on fold `f`, by trial index. `fold_data(t)`:
/// the fold's matrices as trial `t` sees them (through its steps).
fn path_records<'d>(
    input: &SweepInput<'_>,
    ridge: Option<&RidgePath<'_>>,
    path: &[usize],
    f: usize,
    fold_data: impl Fn(usize) -> &'d FoldResult,
) -> Vec<(usize, UnitRecord)> {
    match path {
        [t] => vec![(*t, single_unit(input, ridge, *t, f, || fold_data(*t)))],
        // A path's trials share their steps (`trial::paths`).
        _ => match fold_data(path[0]) {
            Ok(data) => path.iter().copied().zip(run_path(input, path, f, data)).collect(),
            Err(e) => path.iter().map(|&t| (t, failed(&input.trials[t], f, e.to_string()))).collect(),
        },
    }
}

/// One trial on one fold: the ridge shortcut when it applies, else a fit. The shortcut's
/// Cholesky can fail where the ordinary path's SVD fallback succeeds: then the unit takes
/// the ordinary path.
fn single_unit<'d>(
    input: &SweepInput<'_>,
    ridge: Option<&RidgePath<'_>>,
    t: usize,
    f: usize,
    fold_data: impl Fn() -> &'d FoldResult,
) -> UnitRecord {
    let trial = &input.trials[t];
    let shortcut = ridge.and_then(|path| path.unit(trial, f, input.metrics));
    if let Some(s) = shortcut {
        return UnitRecord { test: s.test, train: s.train, coefficients: Some(s.coefficients), ..ok(trial, f) };
    }
    match fold_data() {
        Ok(data) => run_unit(input, trial, f, data),
        Err(e) => failed(trial, f, e.to_string()),
    }
}

/// The trials of one warm-start path on one fold, fitted in path order (see
/// `trial::paths`): a record for each.
fn run_path(input: &SweepInput<'_>, path: &[usize], fold: usize, data: &FoldData) -> Vec<UnitRecord> {
    let trials: Vec<&Trial> = path.iter().map(|&t| &input.trials[t]).collect();
    let outcome = unit::guarded(Stage::Sweep, || {
        let specs: Vec<&crate::kinds::ModelSpec> = trials.iter().map(|t| &t.spec).collect();
        let transform = data.target.as_ref().map(|t| &t.transform);
        let fitted = crate::kinds::fit_path(&specs, data, input.dataset.class_names());
        let fitted: Vec<_> = fitted.into_iter().map(|m| m.map(|m| models::target::with_target(m, transform))).collect();
        // The path's linear models score both parts with one matrix product each.
        let ok: Vec<&dyn models::Fitted> = fitted.iter().filter_map(|m| m.as_deref().ok()).collect();
        let mut test = models::predict_many(&ok, &data.test_x).into_iter();
        let mut train = models::predict_many(&ok, &data.train_x).into_iter();
        let missing = FitError::Solver("a prediction is missing".into());
        let predicted: Vec<_> = fitted
            .iter()
            .map(|m| match (m, test.next(), train.next()) {
                (Ok(model), Some(test), Some(train)) => Ok(Predicted { model: model.as_ref(), test, train }),
                (Ok(_), _, _) => Err(&missing),
                (Err(e), _, _) => Err(e),
            })
            .collect();
        // Each point is scored on its own (a fold's last path would leave a core idle otherwise).
        let scored = trials.par_iter().zip(predicted);
        let records = scored.map(|(trial, p)| record_of(input, trial, fold, data, p)).collect::<Vec<_>>();
        // A kernel machine of a path is the one its trial fits alone, bit for bit (a warm-started
        // point is not): kept as a lone unit's, the explanation need not refit it.
        if let Some(keep) = input.keep {
            let machines = fitted.into_iter().zip(&trials).filter_map(|(m, t)| Some((m.ok()?, t)));
            machines.filter(|(m, _)| m.kernel_model().is_some()).for_each(|(m, t)| keep(t, fold, m));
        }
        records
    });
    outcome.unwrap_or_else(|what| {
        trials.iter().map(|t| failed(t, fold, format!("internal error in the trainer: {what}"))).collect()
    })
}

/// An ok record with nothing measured yet.
fn ok(trial: &Trial, fold: usize) -> UnitRecord {
    UnitRecord {
        trial: trial.id.clone(),
        fold,
        status: Status::Ok,
        reason: None,
        test: BTreeMap::new(),
        train: BTreeMap::new(),
        coefficients: None,
        confusion: None,
        loss_curve: None,
        notes: Vec::new(),
        oob_score: None,
    }
}

fn failed(trial: &Trial, fold: usize, reason: String) -> UnitRecord {
    UnitRecord { status: Status::Failed, reason: Some(reason), ..ok(trial, fold) }
}

/// Every requested metric without a value gets a note saying so: a null in the report
/// always has a reason beside it.
fn note_missing_metrics(mut record: UnitRecord) -> UnitRecord {
    if record.status != Status::Ok {
        return record;
    }
    for (side, values) in [("test", &record.test), ("train", &record.train)] {
        for (m, v) in values {
            if v.is_none() {
                record.notes.push(format!(
                    "{side} {} is undefined on this fold (one class or one row) or not a finite number",
                    m.name()
                ));
            }
        }
    }
    record
}

/// A unit whose ranking metric could not be computed is not ok: it could be neither ranked
/// nor trusted (a NaN prediction, an overflow).
fn require_rank_metric(record: UnitRecord, rank_by: Metric) -> UnitRecord {
    if record.status != Status::Ok || record.test.get(&rank_by).is_some_and(Option::is_some) {
        return record;
    }
    let reason = format!(
        "the test {} is not a finite number on this fold (non-finite predictions, or a value too large for f64)",
        rank_by.name()
    );
    UnitRecord { status: Status::Failed, reason: Some(reason), ..record }
}

fn run_unit(input: &SweepInput<'_>, trial: &Trial, fold: usize, data: &FoldData) -> UnitRecord {
    let seed = unit_seed(input.seed, SeedStream::Unit { trial: &trial.id, fold });
    let classes = input.dataset.class_names();
    let outcome = unit::fit_unit(Stage::Sweep, &trial.spec, data, classes, seed, |model| {
        // The training rows' prediction as the fit kept it, if it did: the same bits.
        let train = model.fitted_prediction().unwrap_or_else(|| model.predict(&data.train_x));
        let test = model.predict(&data.test_x);
        let record = record_of(input, trial, fold, data, Ok(Predicted { model: model.as_ref(), test, train }));
        if let Some(keep) = input.keep {
            keep(trial, fold, model);
        }
        record
    });
    match outcome {
        Ok(record) => record,
        Err(UnitError::Fit(e)) => record_of(input, trial, fold, data, Err(&e)),
        Err(panic) => failed(trial, fold, panic.to_string()),
    }
}

/// A fitted unit and its predictions of the fold's test and training parts.
struct Predicted<'m> {
    model: &'m dyn models::Fitted,
    test: Prediction,
    train: Prediction,
}

/// A unit's record from its fit: both sides scored, or why it failed.
fn record_of(
    input: &SweepInput<'_>,
    trial: &Trial,
    fold: usize,
    data: &FoldData,
    predicted: Result<Predicted<'_>, &FitError>,
) -> UnitRecord {
    let Predicted { model, test: test_prediction, train: train_prediction } = match predicted {
        Ok(p) => p,
        Err(e @ FitError::Diverged { .. }) => {
            return UnitRecord { status: Status::Diverged, ..failed(trial, fold, e.to_string()) };
        }
        Err(e) => return failed(trial, fold, e.to_string()),
    };
    let (test, train) = rayon::join(
        || score(input.metrics, &data.test_y, data.test_w.as_deref(), &test_prediction),
        || score(input.metrics, data.scored_train_y(), data.train_w.as_deref(), &train_prediction),
    );
    let confusion = match (&data.test_y, &test_prediction) {
        (FoldTargets::Classes(y), Prediction::Probabilities(p)) => {
            Some(metrics::confusion_matrix(y, &metrics::predicted_classes(p), data.n_classes))
        }
        _ => None,
    };
    let names = match &data.names {
        Some(names) => names.clone(),
        None => crate::preprocess::feature_names(input.dataset, input.preprocess.drop_first),
    };
    let scaled = input.preprocess.scales_every_column() && trial.steps.is_empty();
    let notes: Vec<String> = model.notes().iter().map(|n| n.describe(&names, scaled)).collect();
    UnitRecord {
        test,
        train,
        coefficients: model.linear().map(|l| CoefficientsRecord { features: data.names.clone(), ..l.into() }),
        confusion,
        loss_curve: model.loss_curve(),
        notes,
        oob_score: out_of_bag_score(data.scored_train_y(), model.out_of_bag()),
        ..ok(trial, fold)
    }
}

/// A forest's `oob_score_`, as scikit-learn scores its out-of-bag predictions: accuracy of
/// the most probable class, or R^2.
fn out_of_bag_score(y: &FoldTargets, oob: Option<Prediction>) -> Option<f64> {
    match (y, oob?) {
        (FoldTargets::Classes(y), Prediction::Probabilities(p)) => {
            Some(metrics::classification(Metric::Accuracy, y, &p, None))
        }
        (FoldTargets::Regression(y), Prediction::Values(v)) => {
            Some(metrics::regression(Metric::R2, &y.to_vec(), &v.to_vec(), None))
        }
        _ => None,
    }
}

fn score(
    metrics_wanted: &[Metric],
    y: &FoldTargets,
    w: Option<&[f64]>,
    prediction: &Prediction,
) -> BTreeMap<Metric, Option<f64>> {
    let values: Vec<f64> = match (y, prediction) {
        // Every regression metric reads one pass's sums: taken once, not once per metric (the
        // same sums, added in the same order, so the same bits).
        (FoldTargets::Regression(y), Prediction::Values(p)) => {
            let sums = match (y.as_slice(), p.as_slice()) {
                (Some(y), Some(p)) => metrics::RegressionSums::of(y, p, w),
                _ => metrics::RegressionSums::of(&y.to_vec(), &p.to_vec(), w),
            };
            metrics_wanted.iter().map(|&m| sums.value(m)).collect()
        }
        (FoldTargets::Classes(y), Prediction::Probabilities(p)) => {
            metrics::classification_many(metrics_wanted, y, p, w)
        }
        _ => metrics_wanted.iter().map(|&m| metric_value(m, y, w, prediction)).collect(),
    };
    metrics_wanted.iter().zip(values).map(|(&m, v)| (m, v.is_finite().then_some(v))).collect()
}

/// One metric of a prediction, each row weighing `w` (1 without); NaN when the metric does
/// not apply.
pub fn metric_value(metric: Metric, y: &FoldTargets, w: Option<&[f64]>, prediction: &Prediction) -> f64 {
    match (y, prediction) {
        (FoldTargets::Regression(y), Prediction::Values(p)) => match (y.as_slice(), p.as_slice()) {
            (Some(y), Some(p)) => metrics::regression(metric, y, p, w),
            _ => metrics::regression(metric, &y.to_vec(), &p.to_vec(), w),
        },
        (FoldTargets::Classes(y), Prediction::Probabilities(p)) => metrics::classification(metric, y, p, w),
        _ => f64::NAN,
    }
}
