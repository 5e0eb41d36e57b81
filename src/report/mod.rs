//! The report: plain `Serialize` data built from the sweep's records, and the exporters that
//! render it (JSON, markdown, the terminal leaderboard). Writing files happens in `write`.

mod json;
mod markdown;
pub mod partial;
pub mod plots;
mod text;
mod write;

pub use json::JsonExporter;
pub use markdown::{md_escape, MarkdownExporter};
pub use text::leaderboard_text;
pub use write::{lock_folder, read_log, remove_temporaries, write_atomic, FolderLock, Resumed, TrialLog};

use crate::config::{Metric, Task};
use crate::data::{Dataset, Feature, Target};
use crate::plan::RunPlan;
use crate::trial::{Status, UnitRecord};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub const SCHEMA_VERSION: u32 = 1;

/// Renders a report to the bytes of one file.
pub trait Exporter {
    fn file_name(&self) -> &'static str;
    fn render(&self, report: &Report) -> Vec<u8>;
}

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
    pub explanation: Option<crate::explain::Explanation>,
    pub run: RunInfo,
    /// File names under `plots/` that report.md links to (set by the writer).
    #[serde(skip)]
    pub plots: Vec<String>,
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
}

#[derive(Debug, Clone, Serialize)]
pub struct ClassCount {
    pub class: String,
    pub rows: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SplitInfo {
    pub method: &'static str,
    pub folds: usize,
    pub seed: u32,
    pub train_rows: Vec<usize>,
    pub test_rows: Vec<usize>,
    /// `method = "none"`: the test metrics are measured on the training rows.
    pub trains_on_test_rows: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricSummary {
    pub mean: Option<f64>,
    pub std: Option<f64>,
    pub folds: Vec<Option<f64>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrialReport {
    pub id: String,
    pub model: String,
    pub kind: crate::spec::ModelKind,
    pub params: Map<String, Value>,
    pub status: Status,
    pub reason: Option<String>,
    pub test: Map<String, Value>,
    pub train: Map<String, Value>,
    /// Mean over folds, by feature name (`(intercept)` last); per class for multinomial models.
    pub coefficients: Option<Value>,
    /// Test-part confusion matrix summed over folds, `[true][predicted]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confusion_matrix: Option<Vec<Vec<usize>>>,
    pub loss_curve: Option<Value>,
    /// Warnings about folds that fitted (rank deficiency, non-convergence), `fold k: …`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
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
    pub started: String,
    pub seconds: f64,
    pub jobs: usize,
}

fn summary(values: Vec<Option<f64>>) -> MetricSummary {
    let all: Option<Vec<f64>> = values.iter().copied().collect();
    let (mean, std) = match all {
        Some(v) if !v.is_empty() => {
            let (m, s) = crate::metrics::mean_std(&v);
            (Some(m), Some(s))
        }
        _ => (None, None),
    };
    MetricSummary { mean, std, folds: values }
}

fn dataset_info(plan: &RunPlan) -> DatasetInfo {
    let ds: &Dataset = &plan.dataset;
    let exp = &plan.experiment;
    let columns = ds
        .features
        .iter()
        .zip(&ds.missing_counts)
        .map(|(f, &missing)| {
            let rule = exp.preprocess.rule_for(f.name());
            let (kind, categories) = match f {
                Feature::Numeric { .. } => ("numeric", None),
                Feature::Categorical { categories, .. } => ("categorical", Some(categories.clone())),
            };
            ColumnInfo { name: f.name().to_string(), kind, missing, impute: rule.impute, scale: rule.scale, categories }
        })
        .collect();
    let classes = match &ds.target {
        Target::Classification { labels, classes } => Some(
            classes
                .iter()
                .enumerate()
                .map(|(c, name)| ClassCount { class: name.clone(), rows: labels.iter().filter(|&&l| l == c).count() })
                .collect(),
        ),
        Target::Regression(_) => None,
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
        task: ds.target.task(),
        features: plan.feature_names.clone(),
        columns,
        classes,
        constant_columns: crate::preprocess::constant_columns(ds, &plan.split.folds),
    }
}

fn coefficients_value(plan: &RunPlan, records: &[&UnitRecord]) -> Option<Value> {
    let coefs: Vec<_> = records.iter().map(|r| r.coefficients.as_ref()).collect::<Option<Vec<_>>>()?;
    let first = coefs.first()?;
    let n = coefs.len() as f64;
    let mean_row = |k: usize| -> (Vec<f64>, f64) {
        let width = first.weights[k].len();
        let w = (0..width).map(|j| coefs.iter().map(|c| c.weights[k][j]).sum::<f64>() / n).collect();
        let b = coefs.iter().map(|c| c.intercepts[k]).sum::<f64>() / n;
        (w, b)
    };
    let named = |(w, b): (Vec<f64>, f64)| -> Value {
        let mut m = Map::new();
        for (name, v) in plan.feature_names.iter().zip(w) {
            m.insert(name.clone(), Value::from(v));
        }
        m.insert("(intercept)".into(), Value::from(b));
        Value::Object(m)
    };
    if first.weights.len() == 1 {
        Some(named(mean_row(0)))
    } else {
        let classes = match &plan.dataset.target {
            Target::Classification { classes, .. } => classes.clone(),
            Target::Regression(_) => Vec::new(),
        };
        let mut m = Map::new();
        for (k, class) in classes.iter().enumerate().take(first.weights.len()) {
            m.insert(class.clone(), named(mean_row(k)));
        }
        Some(Value::Object(m))
    }
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

/// Builds the report from every unit record (any order). Pure: the same records give the
/// same report, whatever order the units finished in.
pub fn build(plan: &RunPlan, records: &[UnitRecord], run: RunInfo) -> Report {
    let exp = &plan.experiment;
    let n_folds = plan.split.folds.len();
    let mut by_trial: BTreeMap<&str, Vec<&UnitRecord>> = BTreeMap::new();
    for r in records {
        by_trial.entry(r.trial.as_str()).or_default().push(r);
    }
    let mut trials = Vec::new();
    for t in &plan.trials {
        let mut recs = by_trial.remove(t.id.as_str()).unwrap_or_default();
        recs.sort_by_key(|r| r.fold);
        recs.dedup_by_key(|r| r.fold);
        let params: Map<String, Value> =
            t.grid.iter().map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or(Value::Null))).collect();
        let bad = recs.iter().find(|r| r.status != Status::Ok);
        let (status, reason) = match bad {
            Some(r) => (r.status, Some(format!("fold {}: {}", r.fold + 1, r.reason.clone().unwrap_or_default()))),
            None if recs.len() < n_folds => {
                (Status::Failed, Some(format!("only {} of {n_folds} folds ran", recs.len())))
            }
            None => (Status::Ok, None),
        };
        let side = |pick: fn(&UnitRecord) -> &BTreeMap<Metric, Option<f64>>| -> Map<String, Value> {
            if status != Status::Ok {
                return Map::new();
            }
            plan.metrics
                .iter()
                .map(|m| {
                    let values: Vec<Option<f64>> = recs.iter().map(|r| pick(r).get(m).copied().flatten()).collect();
                    (m.name().to_string(), serde_json::to_value(summary(values)).unwrap_or(Value::Null))
                })
                .collect()
        };
        let test = side(|r| &r.test);
        let train = side(|r| &r.train);
        let (coefficients, confusion_matrix) = if status == Status::Ok {
            let confusion = recs.iter().filter_map(|r| r.confusion.as_ref()).fold(None::<Vec<Vec<usize>>>, |acc, m| {
                Some(match acc {
                    None => m.clone(),
                    Some(mut a) => {
                        for (ra, rm) in a.iter_mut().zip(m) {
                            for (x, y) in ra.iter_mut().zip(rm) {
                                *x += y;
                            }
                        }
                        a
                    }
                })
            });
            (coefficients_value(plan, &recs), confusion)
        } else {
            (None, None)
        };
        // Loss curves per fold, for the folds that ran (a diverged fold has none).
        let curves: Vec<Value> = recs
            .iter()
            .filter_map(|r| r.loss_curve.as_ref())
            .map(|c| serde_json::to_value(c).unwrap_or(Value::Null))
            .collect();
        let loss_curve = (!curves.is_empty()).then(|| Value::Array(curves));
        let notes = fold_notes(&recs);
        trials.push(TrialReport {
            id: t.id.clone(),
            model: t.model.clone(),
            kind: t.spec.kind(),
            params,
            status,
            reason,
            test,
            train,
            coefficients,
            confusion_matrix,
            loss_curve,
            notes,
        });
    }
    let best = ranked(&trials, plan.rank_by).first().and_then(|&i| {
        mean_of(&trials[i].test, plan.rank_by).map(|value| Best {
            trial: trials[i].id.clone(),
            metric: plan.rank_by,
            value,
        })
    });
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
            folds: n_folds,
            seed: exp.seed,
            train_rows: plan.split.folds.iter().map(|f| f.train.len()).collect(),
            test_rows: plan.split.folds.iter().map(|f| f.test.len()).collect(),
            trains_on_test_rows: plan.split.method == "none",
        },
        metrics: plan.metrics.clone(),
        rank_by: plan.rank_by,
        explanation: best
            .as_ref()
            .filter(|_| exp.report.permutation_importance)
            .and_then(|b| plan.trials.iter().find(|t| t.id == b.trial))
            .and_then(|t| crate::explain::explain(plan, t)),
        trials,
        best,
        run,
        plots: Vec::new(),
    }
}

/// The mean of a metric in a trial's metric map.
pub fn mean_of(side: &Map<String, Value>, metric: Metric) -> Option<f64> {
    side.get(metric.name())?.get("mean")?.as_f64()
}

pub fn std_of(side: &Map<String, Value>, metric: Metric) -> Option<f64> {
    side.get(metric.name())?.get("std")?.as_f64()
}

/// Indices of the ok trials with a value for `metric`, best first; ties keep file order.
pub fn ranked(trials: &[TrialReport], metric: Metric) -> Vec<usize> {
    let mut idx: Vec<(usize, f64)> = trials
        .iter()
        .enumerate()
        .filter(|(_, t)| t.status == Status::Ok)
        .filter_map(|(i, t)| mean_of(&t.test, metric).map(|v| (i, v)))
        .collect();
    idx.sort_by(|a, b| {
        let ord = a.1.total_cmp(&b.1);
        if metric.higher_is_better() {
            ord.reverse()
        } else {
            ord
        }
    });
    idx.into_iter().map(|(i, _)| i).collect()
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
