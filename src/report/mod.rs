//! The report: plain `Serialize` data built from the sweep's records, and the exporters that
//! render it (JSON, markdown, the terminal leaderboard). Writing files happens in `write`.

mod csv;
mod html;
mod markdown;
pub mod partial;
pub mod plots;
pub mod tracking;
mod text;
mod write;

mod export;
mod model_file;
mod predictions;
mod scored;
mod table;

pub use export::{exporters, render_all, Destination, Exporter, Output};
pub use markdown::md_escape;
pub use model_file::{model_file, parse_model_file, ModelFile, MODEL_SCHEMA_VERSION};
pub use scored::Scored;
pub use table::{CoefficientTable, MetricTable, Named, Summary};
pub use text::leaderboard_text;
pub use write::{lock_folder, read_log, remove_temporaries, write_atomic, FolderLock, Resumed, TrialLog};

use crate::after_sweep::explain::{Explanation, OutOfFold};
use crate::after_sweep::learning::LearningCurve;
use crate::after_sweep::partial::PartialDependence;
use crate::after_sweep::refit::{Refit, RefitFailure};
use crate::config::{Metric, SplitMethod, Task};
use crate::data::Dataset;
use crate::models::LossCurve;
use crate::plan::RunPlan;
use crate::protocols::halving::Round;
use crate::protocols::nested::Nested;
use crate::spec::ParamValue;
use crate::trial::{CoefficientsRecord, Status, Trial, UnitRecord};
use serde::Serialize;
use std::collections::BTreeMap;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub experiment: ExperimentInfo,
    pub dataset: DatasetInfo,
    pub split: SplitInfo,
    pub metrics: Vec<Metric>,
    pub rank_by: Metric,
    pub trials: Vec<TrialReport>,
    pub best: Option<Best>,
    /// Permutation importance (and, for plots, the test predictions) of the best trial.
    pub explanation: Option<Explanation>,
    /// Why there is no explanation although one was asked for (a fit failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation_error: Option<String>,
    /// The refitted tree's or forest's impurity importances (scikit-learn's `feature_importances_`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impurity_importance: Option<ImpurityImportance>,
    /// The refitted best model's partial dependence on its two most important features
    /// (scikit-learn's `partial_dependence`, brute method, default grid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial_dependence: Option<PartialDependence>,
    /// Why there is no partial dependence although the refit and the explanation exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial_dependence_error: Option<String>,
    pub run: RunInfo,
    /// Successive halving (`[search] method = "halving"`): the rounds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub halving: Option<HalvingReport>,
    /// Nested cross-validation (`[split.outer]`): the honest estimate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nested: Option<NestedReport>,
    /// The best trial's learning curve (`[report] learning_curve`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub learning_curve: Option<LearningCurveReport>,
    /// The refitted best trial (`[report] refit`): what it learned from, or why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refit: Option<RefitInfo>,
    /// Out-of-fold predictions for predictions.csv (`[report] predictions`).
    #[serde(skip)]
    pub predictions: Vec<OutOfFold>,
    /// model.json's content, when the refit succeeded.
    #[serde(skip)]
    pub model: Option<ModelFile>,
}

/// The refit, as report.json and report.md show it.
#[derive(Debug, Clone, Serialize)]
pub struct RefitInfo {
    pub trial: String,
    /// Rows the model learned from.
    pub rows: usize,
    /// `training part` (holdout-like splits) or `all rows`.
    pub learned_from: &'static str,
    /// The refitted model's test metrics (holdout-like splits and `none`): equal to the sweep's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<Named<Option<f64>>>,
    /// Why the refit failed (no model.json is written then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// scikit-learn's `feature_importances_` of the refitted best trial: each design-matrix
/// column's share of the weighted impurity decrease of its splits, largest first.
#[derive(Debug, Clone, Serialize)]
pub struct ImpurityImportance {
    pub trial: String,
    pub features: Vec<ColumnImportance>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnImportance {
    pub feature: String,
    pub importance: f64,
}

fn impurity_importance(plan: &RunPlan, refit: &Refit) -> Option<ImpurityImportance> {
    let values = refit.impurity_importance.as_ref()?;
    let mut features: Vec<ColumnImportance> = plan
        .feature_names
        .iter()
        .zip(values)
        .map(|(f, &importance)| ColumnImportance { feature: f.clone(), importance })
        .collect();
    features.sort_by(|a, b| b.importance.total_cmp(&a.importance));
    Some(ImpurityImportance { trial: refit.trial.clone(), features })
}

/// Nested cross-validation: per outer fold the trial the inner search chose and its outer
/// test score; `test` summarises them (the estimate free of selection bias).
#[derive(Debug, Clone, Serialize)]
pub struct NestedReport {
    pub outer: SplitMethod,
    pub inner: SplitMethod,
    pub metric: Metric,
    pub test: Summary,
    pub folds: Vec<NestedFoldReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NestedFoldReport {
    pub chosen: Option<String>,
    pub inner_mean: Option<f64>,
    pub test: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

fn nested_report(plan: &RunPlan, n: Nested) -> NestedReport {
    let outer = plan.nested().map_or(SplitMethod::Kfold, |p| p.outer.method);
    let test = summary(n.folds.iter().map(|f| f.test).collect());
    let folds = n
        .folds
        .into_iter()
        .map(|f| NestedFoldReport { chosen: f.chosen, inner_mean: f.inner_mean, test: f.test, reason: f.reason })
        .collect();
    NestedReport { outer, inner: plan.split.method, metric: n.metric, test, folds }
}

/// The best trial's rank metric against training rows: a summary over folds per size.
#[derive(Debug, Clone, Serialize)]
pub struct LearningCurveReport {
    pub trial: String,
    pub metric: Metric,
    /// Training rows, ascending.
    pub sizes: Vec<usize>,
    pub train: Vec<Summary>,
    pub test: Vec<Summary>,
    /// Why fits failed (their points are null): each distinct reason once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
}

/// What the commands compute after the sweep (each trains): about the best trial, and the
/// nested cross-validation.
#[derive(Debug, Clone, Default)]
pub struct AfterSweep {
    /// Successive halving's rounds.
    pub halving: Option<Vec<Round>>,
    pub nested: Option<Nested>,
    pub explanation: Option<Explanation>,
    /// Why the explanation asked for could not be computed.
    pub explanation_error: Option<String>,
    pub predictions: Vec<OutOfFold>,
    pub learning_curve: Option<LearningCurve>,
    pub refit: Option<Result<Refit, RefitFailure>>,
    pub partial_dependence: Option<Result<PartialDependence, String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExperimentInfo {
    pub name: String,
    pub description: Option<String>,
    pub file: String,
    pub sha256: String,
    pub overrides: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnInfo {
    pub name: String,
    /// `numeric` or `categorical`.
    pub kind: &'static str,
    pub missing: usize,
    pub impute: crate::config::Impute,
    pub scale: crate::config::Scale,
    /// Categories of a categorical column, sorted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatasetInfo {
    pub path: String,
    pub sha256: String,
    pub rows: usize,
    pub rows_used: usize,
    pub rows_dropped: usize,
    pub rows_dropped_missing_target: usize,
    pub rows_dropped_missing_features: usize,
    pub target: String,
    pub task: Task,
    /// Model input columns, after one-hot encoding.
    pub features: Vec<String>,
    pub columns: Vec<ColumnInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<ClassCount>>,
    /// Numeric columns constant on some fold's training rows: scaling leaves them unscaled
    /// (scale 1), as scikit-learn's scalers do.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub constant_columns: Vec<String>,
    /// Set when the file was streamed from disk: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub streamed: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClassCount {
    pub class: String,
    pub rows: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SplitInfo {
    pub method: SplitMethod,
    pub folds: usize,
    pub seed: u32,
    pub train_rows: Vec<usize>,
    pub test_rows: Vec<usize>,
    /// `method = "none"`: the test metrics are measured on the training rows.
    pub trains_on_test_rows: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrialReport {
    pub id: String,
    pub model: String,
    pub kind: crate::spec::ModelKind,
    /// The grid point's swept parameters, in axis order.
    pub params: Named<ParamValue>,
    pub status: Status,
    pub reason: Option<String>,
    pub test: MetricTable,
    pub train: MetricTable,
    /// Mean over folds, by feature name (`(intercept)` last); per class for multinomial models.
    pub coefficients: Option<CoefficientTable>,
    /// Test-part confusion matrix summed over folds, `[true][predicted]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confusion_matrix: Option<Vec<Vec<usize>>>,
    /// Per fold that ran (a diverged fold has none).
    pub loss_curve: Option<Vec<LossCurve>>,
    /// Warnings about folds that fitted (rank deficiency, non-convergence), `fold k: …`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// A forest's `oob_score_` per fold (`oob_score = true`): accuracy or R^2 of the out-of-bag
    /// predictions of the fold's training rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oob_score: Option<Summary>,
    /// The corrected resampled t-test of this trial against the best one on the same folds
    /// (rank metric); absent for the best trial, one fold, or missing fold values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vs_best: Option<VsBest>,
    /// Successive halving: the round (from 0) whose folds these metrics come from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub halving_round: Option<usize>,
}

/// Marks each trial (in plan order) with the last halving round it ran.
pub fn set_halving_rounds(trials: &mut [TrialReport], last_rounds: &[usize]) {
    for (t, &round) in trials.iter_mut().zip(last_rounds) {
        t.halving_round = Some(round);
    }
}

/// Successive halving's schedule and, per round, what it scored and kept.
#[derive(Debug, Clone, Serialize)]
pub struct HalvingReport {
    pub factor: u32,
    pub min_resources: usize,
    pub max_resources: usize,
    pub rounds: Vec<RoundReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoundReport {
    pub rows: usize,
    pub candidates: Vec<String>,
    pub kept: Vec<String>,
}

fn halving_report(plan: &RunPlan, rounds: Vec<Round>) -> Option<HalvingReport> {
    let h = plan.halving()?;
    let rounds =
        rounds.into_iter().map(|r| RoundReport { rows: r.rows, candidates: r.candidates, kept: r.kept }).collect();
    Some(HalvingReport { factor: h.factor, min_resources: h.min_resources, max_resources: h.max_resources, rounds })
}

/// Whether a trial is distinguishable from the best one (Nadeau–Bengio corrected t-test).
#[derive(Debug, Clone, Serialize)]
pub struct VsBest {
    pub p_value: f64,
    /// p >= 0.05: the folds do not tell this trial from the best.
    pub indistinguishable: bool,
}

/// The level below which a trial counts as distinguishable from the best.
pub const T_TEST_ALPHA: f64 = 0.05;

/// Every ok trial's corrected t-test against the best trial on the rank metric.
fn compare_with_best(plan: &RunPlan, trials: &mut [TrialReport], best: Option<&Best>) {
    let Some(best) = best else { return };
    let folds = |t: &TrialReport| -> Option<Vec<f64>> { t.test.get(best.metric)?.folds.iter().copied().collect() };
    let Some(reference) = trials.iter().find(|t| t.id == best.trial).and_then(folds) else { return };
    let Some(&(train, test)) = plan.split.sizes().first() else { return };
    let ratio = test as f64 / train.max(1) as f64;
    for t in trials.iter_mut().filter(|t| t.id != best.trial && t.status == Status::Ok) {
        let p = folds(t).and_then(|f| crate::metrics::corrected_t_test(&reference, &f, ratio));
        t.vs_best = p.map(|p_value| VsBest { p_value, indistinguishable: p_value >= T_TEST_ALPHA });
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Best {
    pub trial: String,
    pub metric: Metric,
    pub value: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub runner_version: &'static str,
    /// What the results are valid for (`RunPlan::run_key`); ties tracker runs to this run.
    pub key: String,
    pub started: String,
    pub seconds: f64,
    pub jobs: usize,
    /// Whether the data's parsed columns came from the parsed-data cache: "hit", "miss" or "off".
    pub data_cache: &'static str,
}

fn summary(values: Vec<Option<f64>>) -> Summary {
    let all: Option<Vec<f64>> = values.iter().copied().collect();
    let (mean, std) = match all {
        Some(v) if !v.is_empty() => {
            let (m, s) = crate::metrics::mean_std(&v);
            (Some(m), Some(s))
        }
        _ => (None, None),
    };
    Summary { mean, std, folds: values }
}

fn dataset_info(plan: &RunPlan) -> DatasetInfo {
    let ds: &Dataset = &plan.dataset;
    let exp = &plan.experiment;
    let columns = ds
        .columns()
        .iter()
        .zip(&ds.missing_counts)
        .map(|(c, &missing)| {
            let rule = exp.preprocess.rule_for(c.name);
            let (kind, categories) = match c.categories {
                None => ("numeric", None),
                Some(categories) => ("categorical", Some(categories.to_vec())),
            };
            ColumnInfo { name: c.name.to_string(), kind, missing, impute: rule.impute, scale: rule.scale, categories }
        })
        .collect();
    let classes = match ds.task() {
        Task::Classification => Some(
            ds.class_names()
                .iter()
                .zip(ds.class_counts())
                .map(|(name, rows)| ClassCount { class: name.clone(), rows })
                .collect(),
        ),
        Task::Regression => None,
    };
    DatasetInfo {
        path: exp.dataset.path_as_written.clone(),
        sha256: ds.sha256.clone(),
        rows: ds.rows_total,
        rows_used: ds.rows(),
        rows_dropped: ds.rows_dropped_target + ds.rows_dropped_missing,
        rows_dropped_missing_target: ds.rows_dropped_target,
        rows_dropped_missing_features: ds.rows_dropped_missing,
        target: ds.target_name.clone(),
        task: ds.task(),
        features: plan.feature_names.clone(),
        columns,
        classes,
        constant_columns: crate::preprocess::constant_columns(ds, &plan.split.folds),
        streamed: plan.stream().map(|s| s.why.clone()),
    }
}

fn coefficient_table(plan: &RunPlan, records: &[&UnitRecord]) -> Option<CoefficientTable> {
    let coefs: Vec<_> = records.iter().map(|r| r.coefficients.as_ref()).collect::<Option<Vec<_>>>()?;
    let first = coefs.first()?;
    let n = coefs.len() as f64;
    // Every fold's columns by name (a model's steps name their own), in first-seen order; a
    // column a fold does not have weighs 0 there.
    let names_of = |c: &CoefficientsRecord| c.features.clone().unwrap_or_else(|| plan.feature_names.clone());
    let mut names: Vec<String> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for c in &coefs {
        for name in names_of(c) {
            if !index.contains_key(&name) {
                index.insert(name.clone(), names.len());
                names.push(name);
            }
        }
    }
    // Mean weights of output `k` by feature name, the intercept last.
    let named_row = |k: usize| -> Named<f64> {
        let mut sums = vec![0.0; names.len()];
        for c in &coefs {
            for (name, w) in names_of(c).iter().zip(&c.weights[k]) {
                if let Some(&j) = index.get(name) {
                    sums[j] += w;
                }
            }
        }
        let intercept = coefs.iter().map(|c| c.intercepts[k]).sum::<f64>() / n;
        let mut row: Vec<(String, f64)> = names.iter().cloned().zip(sums.iter().map(|s| s / n)).collect();
        row.push(("(intercept)".into(), intercept));
        Named(row)
    };
    if first.weights.len() == 1 {
        return Some(CoefficientTable::Single(named_row(0)));
    }
    let classes = plan.dataset.class_names();
    let rows = classes.iter().enumerate().take(first.weights.len()).map(|(k, c)| (c.clone(), named_row(k)));
    Some(CoefficientTable::PerClass(Named(rows.collect())))
}

/// Each distinct note once, prefixed with the folds it came from (`folds 1, 3: …`).
fn fold_notes(recs: &[&UnitRecord]) -> Vec<String> {
    let mut by_note: Vec<(&str, Vec<String>)> = Vec::new();
    for r in recs {
        for n in &r.notes {
            match by_note.iter_mut().find(|(text, _)| text == n) {
                Some((_, folds)) => folds.push((r.fold + 1).to_string()),
                None => by_note.push((n, vec![(r.fold + 1).to_string()])),
            }
        }
    }
    by_note
        .into_iter()
        .map(|(text, folds)| {
            let label = if folds.len() == 1 { "fold" } else { "folds" };
            format!("{label} {}: {text}", folds.join(", "))
        })
        .collect()
}

/// The test-part confusion matrices of the folds, summed.
fn summed_confusion(recs: &[&UnitRecord]) -> Option<Vec<Vec<usize>>> {
    let mut matrices = recs.iter().filter_map(|r| r.confusion.as_ref());
    let mut sum = matrices.next()?.clone();
    for m in matrices {
        for (row_sum, row) in sum.iter_mut().zip(m) {
            for (x, y) in row_sum.iter_mut().zip(row) {
                *x += y;
            }
        }
    }
    Some(sum)
}

/// A trial's status: the first fold that did not end ok decides, and missing folds fail it.
fn trial_status(recs: &[&UnitRecord], n_folds: usize) -> (Status, Option<String>) {
    match recs.iter().find(|r| r.status != Status::Ok) {
        Some(r) => (r.status, Some(format!("fold {}: {}", r.fold + 1, r.reason.clone().unwrap_or_default()))),
        None if recs.len() < n_folds => (Status::Failed, Some(format!("only {} of {n_folds} folds ran", recs.len()))),
        None => (Status::Ok, None),
    }
}

/// One trial's report from its fold records (sorted by fold, one each). `summarize` makes every
/// trial's; a run that logs to MLflow as it goes makes each one as its last fold finishes.
pub fn trial_report(plan: &RunPlan, t: &Trial, recs: &[&UnitRecord]) -> TrialReport {
    let (status, reason) = trial_status(recs, plan.split.folds.len());
    let ok = status == Status::Ok;
    let side = |pick: fn(&UnitRecord) -> &BTreeMap<Metric, Option<f64>>| -> MetricTable {
        let metrics = if ok { plan.metrics.as_slice() } else { &[] };
        MetricTable(
            metrics
                .iter()
                .map(|m| (*m, summary(recs.iter().map(|r| pick(r).get(m).copied().flatten()).collect())))
                .collect(),
        )
    };
    let curves: Vec<LossCurve> = recs.iter().filter_map(|r| r.loss_curve.clone()).collect();
    TrialReport {
        id: t.id.clone(),
        model: t.model.clone(),
        kind: t.spec.kind(),
        params: Named(t.grid.clone()),
        status,
        reason,
        test: side(|r| &r.test),
        train: side(|r| &r.train),
        coefficients: if ok { coefficient_table(plan, recs) } else { None },
        confusion_matrix: if ok { summed_confusion(recs) } else { None },
        loss_curve: (!curves.is_empty()).then_some(curves),
        notes: fold_notes(recs),
        oob_score: recs
            .iter()
            .any(|r| r.oob_score.is_some())
            .then(|| summary(recs.iter().map(|r| r.oob_score).collect())),
        vs_best: None,
        halving_round: None,
    }
}

/// Every trial's summary over its folds, from the unit records (any order). Pure: the same
/// records give the same trials, whatever order the units finished in.
pub fn summarize(plan: &RunPlan, records: &[UnitRecord]) -> Vec<TrialReport> {
    let mut by_trial: BTreeMap<&str, Vec<&UnitRecord>> = BTreeMap::new();
    for r in records {
        by_trial.entry(r.trial.as_str()).or_default().push(r);
    }
    plan.trials
        .iter()
        .map(|t| {
            let mut recs = by_trial.remove(t.id.as_str()).unwrap_or_default();
            recs.sort_by_key(|r| r.fold);
            recs.dedup_by_key(|r| r.fold);
            trial_report(plan, t, &recs)
        })
        .collect()
}

/// The report: the trials' summaries, the best trial's explanation (computed by the
/// command, see `explain`) and the run's facts. Pure.
pub fn build(plan: &RunPlan, mut trials: Vec<TrialReport>, work: AfterSweep, run: RunInfo) -> Report {
    let exp = &plan.experiment;
    let best = best_trial(&trials, plan.rank_by);
    compare_with_best(plan, &mut trials, best.as_ref());
    let AfterSweep {
        halving,
        nested,
        explanation,
        explanation_error,
        predictions,
        learning_curve,
        refit,
        partial_dependence,
    } = work;
    let (partial_dependence, partial_dependence_error) = match partial_dependence {
        Some(Ok(p)) => (Some(p), None),
        Some(Err(e)) => (None, Some(e)),
        None => (None, None),
    };
    let halving = halving.and_then(|rounds| halving_report(plan, rounds));
    let nested = nested.map(|n| nested_report(plan, n));
    let learning_curve = learning_curve.map(|lc| LearningCurveReport {
        trial: lc.trial,
        metric: lc.metric,
        sizes: lc.sizes,
        train: lc.train.into_iter().map(summary).collect(),
        test: lc.test.into_iter().map(summary).collect(),
        failures: lc.failures,
    });
    let refitted = refit.as_ref().and_then(|r| r.as_ref().ok());
    let model = refitted.map(|r| model_file(plan, r));
    let impurity_importance = refitted.and_then(|r| impurity_importance(plan, r));
    let refit = refit.map(refit_info);
    Report {
        schema_version: SCHEMA_VERSION,
        experiment: ExperimentInfo {
            name: exp.name.clone(),
            description: exp.description.clone(),
            file: exp.file.display().to_string(),
            sha256: exp.sha256.clone(),
            overrides: exp.overrides.clone(),
        },
        dataset: dataset_info(plan),
        split: SplitInfo {
            method: plan.split.method,
            folds: plan.split.folds.len(),
            seed: exp.seed,
            train_rows: plan.split.sizes().iter().map(|s| s.0).collect(),
            test_rows: plan.split.sizes().iter().map(|s| s.1).collect(),
            trains_on_test_rows: plan.split.method == SplitMethod::None,
        },
        metrics: plan.metrics.clone(),
        rank_by: plan.rank_by,
        explanation,
        explanation_error,
        impurity_importance,
        partial_dependence,
        partial_dependence_error,
        trials,
        best,
        run,
        halving,
        nested,
        learning_curve,
        refit,
        predictions,
        model,
    }
}

fn refit_info(refit: Result<Refit, RefitFailure>) -> RefitInfo {
    match refit {
        Ok(r) => RefitInfo {
            trial: r.trial,
            rows: r.rows,
            learned_from: if r.training_part_only { "training part" } else { "all rows" },
            test: (!r.test.is_empty()).then(|| Named(r.test.iter().map(|(m, v)| (m.name().to_string(), *v)).collect())),
            error: None,
        },
        Err(RefitFailure { trial, reason }) => {
            RefitInfo { trial, rows: 0, learned_from: "", test: None, error: Some(reason) }
        }
    }
}

/// The best ok trial by the rank metric's test mean.
pub fn best_trial(trials: &[TrialReport], metric: Metric) -> Option<Best> {
    let i = *ranked(trials, metric).first()?;
    let value = trials[i].test.mean(metric)?;
    Some(Best { trial: trials[i].id.clone(), metric, value })
}

/// Indices of the ok trials with a value for `metric` (NaN is none: it would sort first),
/// best first; ties keep file order.
pub fn ranked(trials: &[TrialReport], metric: Metric) -> Vec<usize> {
    let mut idx: Vec<(usize, f64)> = trials
        .iter()
        .enumerate()
        .filter(|(_, t)| t.status == Status::Ok)
        .filter_map(|(i, t)| t.test.mean(metric).filter(|v| !v.is_nan()).map(|v| (i, v)))
        .collect();
    // Successive halving: trials that reached a later round (on more rows) rank first.
    let round = |i: usize| std::cmp::Reverse(trials[i].halving_round.unwrap_or(0));
    idx.sort_by(|a, b| round(a.0).cmp(&round(b.0)).then(crate::metrics::rank_order(metric, a.1, b.1)));
    idx.into_iter().map(|(i, _)| i).collect()
}

/// User text (a column name, a class label) with control characters written as escapes
/// (`\n`, `\u{1b}`): XML forbids most of them (an SVG with one is not a document), they break
/// markdown tables, and they move a terminal's cursor.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    s.chars().map(|c| if c.is_control() { c.escape_debug().to_string() } else { c.to_string() }).collect()
}

/// Seconds since the epoch as an RFC 3339 UTC timestamp.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
    }
}
