//! What a finished report tells an experiment tracker (MLflow): one parent run for the
//! experiment run and one child run per trial, as plain data. It is read from report.json (a
//! compatibility boundary), so `runner mlflow-sync` logs a report written long ago exactly as
//! the run itself would have. Pure: the HTTP client is the binary's (`commands/mlflow.rs`).

use serde_json::Value;

/// The tag that ties MLflow runs to one runner run (report.json's `run.key`): a rerun or a
/// resume of the same experiment, data and version finds its runs instead of logging new ones.
pub const KEY_TAG: &str = "runner_key";
/// A child run's trial id.
pub const TRIAL_TAG: &str = "runner_trial";

#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub key: String,
    pub value: f64,
    pub step: u64,
}

/// One MLflow run's content.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunLog {
    pub name: String,
    pub tags: Vec<(String, String)>,
    pub params: Vec<(String, String)>,
    pub metrics: Vec<Metric>,
    /// The trial failed (MLflow status FAILED rather than FINISHED).
    pub failed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tracked {
    /// The MLflow experiment: the runner experiment's `name`.
    pub experiment: String,
    pub key: String,
    pub parent: RunLog,
    pub trials: Vec<RunLog>,
}

/// MLflow's limits on one `runs/log-batch` request.
const MAX_METRICS: usize = 1000;
const MAX_PARAMS: usize = 100;
const MAX_TAGS: usize = 100;
const MAX_ENTRIES: usize = 1000;
/// MLflow refuses longer param values; a longer one is cut with a marker.
const MAX_PARAM_VALUE: usize = 6000;

/// The runs a report.json describes, or what it lacks.
pub fn from_report(report: &Value) -> Result<Tracked, String> {
    let text = |path: &[&str]| -> Result<String, String> {
        let v = path.iter().try_fold(report, |v, k| v.get(k)).and_then(Value::as_str);
        v.map(str::to_string).ok_or_else(|| format!("report.json has no `{}`", path.join(".")))
    };
    let key = text(&["run", "key"])?;
    let experiment = text(&["experiment", "name"])?;
    let trials = report.get("trials").and_then(Value::as_array).ok_or("report.json has no `trials`")?;
    let children: Vec<RunLog> = trials.iter().map(|t| trial_run(t, &key)).collect::<Result<_, _>>()?;
    let best = report.get("best").and_then(|b| b.get("trial")).and_then(Value::as_str);
    let mut tags = vec![
        (KEY_TAG.to_string(), key.clone()),
        ("runner_version".to_string(), text(&["run", "runner_version"])?),
        ("experiment_sha256".to_string(), text(&["experiment", "sha256"])?),
        ("dataset_sha256".to_string(), text(&["dataset", "sha256"])?),
        ("mlflow.source.name".to_string(), text(&["experiment", "file"])?),
    ];
    if let Some(d) = report.get("experiment").and_then(|e| e.get("description")).and_then(Value::as_str) {
        tags.push(("mlflow.note.content".to_string(), d.to_string()));
    }
    let mut parent = RunLog { name: experiment.clone(), tags, ..RunLog::default() };
    if let Some(best) = best {
        parent.tags.push(("best_trial".to_string(), best.to_string()));
        if let Some(child) = children.iter().find(|c| c.name == best) {
            parent.metrics = child.metrics.iter().filter(|m| !m.key.ends_with("_fold")).cloned().collect();
        }
    }
    parent.params = run_params(report);
    Ok(Tracked { experiment, key, parent, trials: children })
}

/// The experiment-wide settings a reader filters runs by.
fn run_params(report: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut put = |name: &str, v: Option<&Value>| {
        if let Some(v) = v.filter(|v| !v.is_null()) {
            out.push((name.to_string(), param_text(v)));
        }
    };
    put("dataset", report.pointer("/dataset/path"));
    put("target", report.pointer("/dataset/target"));
    put("task", report.pointer("/dataset/task"));
    put("rows_used", report.pointer("/dataset/rows_used"));
    put("split", report.pointer("/split/method"));
    put("rank_by", report.get("rank_by"));
    put("trials", report.get("trials").and_then(Value::as_array).map(|t| Value::from(t.len())).as_ref());
    out
}

/// A trial's child run from its report as report.json holds it, so a trial logged while the
/// sweep runs is the run `from_report` makes of the finished report.
pub fn trial_log(trial: &super::TrialReport, key: &str) -> Result<RunLog, String> {
    let value = serde_json::to_value(trial).map_err(|e| e.to_string())?;
    trial_run(&value, key)
}

fn trial_run(trial: &Value, key: &str) -> Result<RunLog, String> {
    let id = trial.get("id").and_then(Value::as_str).ok_or("a trial in report.json has no `id`")?;
    let mut params = Vec::new();
    for name in ["model", "kind"] {
        if let Some(v) = trial.get(name) {
            params.push((name.to_string(), param_text(v)));
        }
    }
    if let Some(p) = trial.get("params").and_then(Value::as_object) {
        params.extend(p.iter().map(|(k, v)| (k.clone(), param_text(v))));
    }
    let status = trial.get("status").and_then(Value::as_str).unwrap_or("failed");
    let mut tags = vec![
        (KEY_TAG.to_string(), key.to_string()),
        (TRIAL_TAG.to_string(), id.to_string()),
        ("runner_status".to_string(), status.to_string()),
    ];
    if let Some(reason) = trial.get("reason").and_then(Value::as_str) {
        tags.push(("runner_reason".to_string(), reason.to_string()));
    }
    let mut metrics = Vec::new();
    for side in ["test", "train"] {
        for (name, summary) in trial.get(side).and_then(Value::as_object).into_iter().flatten() {
            metrics.extend(summary_metrics(&format!("{side}_{name}"), summary));
        }
    }
    Ok(RunLog { name: id.to_string(), tags, params, metrics, failed: status != "ok" })
}

/// A metric's mean and std (step 0) and each fold's value as a step of `<key>_fold`. Missing
/// and non-finite values are left out: MLflow's JSON cannot carry them.
fn summary_metrics(key: &str, summary: &Value) -> Vec<Metric> {
    let number = |v: Option<&Value>| v.and_then(Value::as_f64).filter(|x| x.is_finite());
    let mut out = Vec::new();
    if let Some(mean) = number(summary.get("mean")) {
        out.push(Metric { key: key.to_string(), value: mean, step: 0 });
    }
    if let Some(std) = number(summary.get("std")) {
        out.push(Metric { key: format!("{key}_std"), value: std, step: 0 });
    }
    for (fold, v) in summary.get("folds").and_then(Value::as_array).into_iter().flatten().enumerate() {
        if let Some(value) = number(Some(v)) {
            out.push(Metric { key: format!("{key}_fold"), value, step: fold as u64 });
        }
    }
    out
}

/// A param as MLflow shows it: strings as written, everything else as JSON.
fn param_text(v: &Value) -> String {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.len() <= MAX_PARAM_VALUE {
        return text;
    }
    let mut end = MAX_PARAM_VALUE - 3;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// One `runs/log-batch` request's content.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch<'a> {
    pub tags: &'a [(String, String)],
    pub params: &'a [(String, String)],
    pub metrics: &'a [Metric],
}

/// A run's content cut into requests within MLflow's limits (1,000 metrics, 100 params and 100
/// tags per request, 1,000 entries in all), in order: params first, then metrics.
pub fn batches<'a>(
    tags: &'a [(String, String)],
    params: &'a [(String, String)],
    metrics: &'a [Metric],
) -> Vec<Batch<'a>> {
    let mut out = Vec::new();
    let mut tags = tags.chunks(MAX_TAGS);
    for params in params.chunks(MAX_PARAMS) {
        out.push(Batch { tags: tags.next().unwrap_or(&[]), params, metrics: &[] });
    }
    for tags in tags {
        out.push(Batch { tags, params: &[], metrics: &[] });
    }
    let room = |b: &Batch| MAX_ENTRIES - b.tags.len() - b.params.len();
    let mut rest = metrics;
    if let Some(last) = out.last_mut() {
        let take = room(last).min(MAX_METRICS).min(rest.len());
        last.metrics = &rest[..take];
        rest = &rest[take..];
    }
    out.extend(rest.chunks(MAX_METRICS).map(|metrics| Batch { metrics, ..Batch::default() }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report() -> Value {
        json!({
            "experiment": {"name": "boston", "file": "b.toml", "sha256": "e1", "description": "OLS"},
            "dataset": {"path": "b.csv", "sha256": "d1", "target": "MEDV", "task": "regression", "rows_used": 506},
            "split": {"method": "kfold"},
            "rank_by": "mse",
            "best": {"trial": "ridge[alpha=1]", "metric": "mse", "value": 2.0},
            "trials": [
                {"id": "ridge[alpha=1]", "model": "ridge", "kind": "ridge", "params": {"alpha": 1.0},
                 "status": "ok", "reason": null,
                 "test": {"mse": {"mean": 2.0, "std": 0.5, "folds": [1.5, 2.5]}},
                 "train": {"mse": {"mean": 1.0, "std": 0.0, "folds": [1.0, 1.0]}}},
                {"id": "mlp[h=[8, 4]]", "model": "mlp", "kind": "mlp", "params": {"hidden_layers": [8, 4]},
                 "status": "diverged", "reason": "loss is NaN", "test": {}, "train": {}}
            ],
            "run": {"runner_version": "0.1.0", "key": "k1"}
        })
    }

    #[test]
    fn a_trial_becomes_a_child_with_means_stds_and_fold_steps() {
        let t = from_report(&report()).unwrap();
        assert_eq!((t.experiment.as_str(), t.key.as_str()), ("boston", "k1"));
        let ok = &t.trials[0];
        assert_eq!(
            ok.params,
            [("model", "ridge"), ("kind", "ridge"), ("alpha", "1.0")].map(|(a, b)| (a.into(), b.into()))
        );
        let folds: Vec<_> = ok.metrics.iter().filter(|m| m.key == "test_mse_fold").map(|m| (m.step, m.value)).collect();
        assert_eq!(folds, [(0, 1.5), (1, 2.5)]);
        assert!(ok.metrics.contains(&Metric { key: "test_mse_std".into(), value: 0.5, step: 0 }));
        assert!(!ok.failed);
        let failed = &t.trials[1];
        assert!(failed.failed && failed.metrics.is_empty());
        assert!(failed.tags.contains(&("runner_reason".into(), "loss is NaN".into())));
        assert_eq!(failed.params[2], ("hidden_layers".into(), "[8,4]".into()));
    }

    #[test]
    fn the_parent_carries_the_best_trials_summaries_and_the_key() {
        let t = from_report(&report()).unwrap();
        let keys: Vec<&str> = t.parent.metrics.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(keys, ["test_mse", "test_mse_std", "train_mse", "train_mse_std"]);
        assert!(t.parent.tags.contains(&(KEY_TAG.into(), "k1".into())));
        assert!(t.parent.tags.contains(&("best_trial".into(), "ridge[alpha=1]".into())));
        assert!(t.parent.params.contains(&("trials".into(), "2".into())));
    }

    #[test]
    fn a_report_without_a_run_key_is_refused_by_name() {
        let mut r = report();
        r["run"].as_object_mut().unwrap().remove("key");
        assert_eq!(from_report(&r).unwrap_err(), "report.json has no `run.key`");
    }

    #[test]
    fn batches_stay_within_mlflows_limits_and_keep_everything_in_order() {
        let tags: Vec<(String, String)> = (0..150).map(|i| (format!("t{i}"), String::new())).collect();
        let params: Vec<(String, String)> = (0..250).map(|i| (format!("p{i}"), String::new())).collect();
        let metrics: Vec<Metric> = (0..2500).map(|i| Metric { key: "m".into(), value: 0.0, step: i }).collect();
        let b = batches(&tags, &params, &metrics);
        for x in &b {
            assert!(x.tags.len() <= 100 && x.params.len() <= 100 && x.metrics.len() <= 1000);
            assert!(x.tags.len() + x.params.len() + x.metrics.len() <= 1000);
        }
        let steps: Vec<u64> = b.iter().flat_map(|x| x.metrics.iter().map(|m| m.step)).collect();
        assert_eq!(steps, (0..2500).collect::<Vec<_>>());
        assert_eq!(b.iter().map(|x| x.params.len()).sum::<usize>(), 250);
        assert_eq!(b.iter().map(|x| x.tags.len()).sum::<usize>(), 150);
        assert_eq!(batches(&[], &[], &[]), Vec::<Batch>::new());
    }

    #[test]
    fn long_param_values_are_cut_at_a_character_boundary() {
        let v = Value::String("é".repeat(4000));
        let t = param_text(&v);
        assert!(t.len() <= 6000 && t.ends_with("..."));
    }
}
