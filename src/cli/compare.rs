//! `runner compare`: two reports, trial by trial, on one metric. Pure: JSON values in, a
//! verdict per trial out. A regression is a trial whose metric got worse by more than the
//! relative tolerance, or that is missing or failed in the candidate.

use crate::config::Metric;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Same,
    Better,
    /// Worse, but by no more than the tolerance.
    WithinTolerance,
    Worse,
    /// Worse beyond the tolerance, but the corrected t-test cannot tell it from noise.
    NotSignificant,
    /// In the baseline, not in the candidate (or failed there).
    Missing,
    /// Only in the candidate.
    New,
}

impl Verdict {
    pub fn is_regression(self) -> bool {
        matches!(self, Verdict::Worse | Verdict::Missing)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub trial: String,
    pub baseline: Option<f64>,
    pub candidate: Option<f64>,
    pub delta: Option<f64>,
    /// With `--test corrected-t`: the p-value of the per-fold differences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    pub verdict: Verdict,
}

/// `--test corrected-t --alpha A`: a worse trial is a regression only when the
/// Nadeau–Bengio corrected t-test of its per-fold scores against the baseline's gives
/// p < `alpha`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SignificanceTest {
    pub alpha: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub metric: String,
    pub higher_is_better: bool,
    pub tolerance: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<SignificanceTest>,
    pub rows: Vec<Row>,
    pub warnings: Vec<String>,
    pub regressions: usize,
}

/// A trial's mean test metric: `None` when it failed or has none; an error when the value is
/// there but is not a number (a damaged report must not pass or fail a gate silently).
fn test_mean(trial: &Value, metric: &str, which: &str) -> Result<Option<f64>, String> {
    if trial.get("status").and_then(Value::as_str) != Some("ok") {
        return Ok(None);
    }
    match trial.get("test").and_then(|t| t.get(metric)).and_then(|m| m.get("mean")) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or_else(|| {
            let id = trial.get("id").and_then(Value::as_str).unwrap_or("?");
            format!("the {which} report's trial `{id}` has test {metric} {v}, which is not a number")
        }),
    }
}

/// A trial's per-fold test values of `metric`, when it has every one.
fn test_folds(trial: &Value, metric: &str) -> Option<Vec<f64>> {
    trial.get("test")?.get(metric)?.get("folds")?.as_array()?.iter().map(Value::as_f64).collect()
}

/// The test/train size ratio of the report's first fold (the t-test's overlap correction).
fn test_train_ratio(report: &Value) -> Option<f64> {
    let first = |key: &str| report.pointer(&format!("/split/{key}/0")).and_then(Value::as_f64);
    Some(first("test_rows")? / first("train_rows")?.max(1.0))
}

/// The corrected t-test pairs fold i of one report with fold i of the other: refused unless
/// both split the same way (method, fold count, seed, rows per fold) into at least 2 folds.
fn folds_pair(baseline: &Value, candidate: &Value) -> Result<(), String> {
    let mut differ = Vec::new();
    for key in ["method", "folds", "seed", "train_rows", "test_rows"] {
        let pointer = format!("/split/{key}");
        let (a, b) = (baseline.pointer(&pointer), candidate.pointer(&pointer));
        if a.is_none() || a != b {
            let shown = |v: Option<&Value>| v.map_or("none".to_string(), |v| v.to_string());
            differ.push(format!("{key} {} vs {}", shown(a), shown(b)));
        }
    }
    if !differ.is_empty() {
        return Err(format!(
            "--test corrected-t pairs the reports fold by fold, but their folds differ ({}): rerun one with the \
             other's [split] and seed, or compare without --test",
            differ.join(", ")
        ));
    }
    match baseline.pointer("/split/folds").and_then(Value::as_u64) {
        Some(k) if k >= 2 => Ok(()),
        _ => {
            Err("--test corrected-t needs at least 2 folds per report (a k-fold split); compare without --test".into())
        }
    }
}

fn trials(report: &Value, which: &str) -> Result<Vec<(String, Value)>, String> {
    let list = report
        .get("trials")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("the {which} report has no `trials` list"))?;
    Ok(list.iter().filter_map(|t| Some((t.get("id")?.as_str()?.to_string(), t.clone()))).collect())
}

pub fn compare(
    baseline: &Value,
    candidate: &Value,
    tolerance: f64,
    metric: Option<&str>,
    test: Option<SignificanceTest>,
) -> Result<Comparison, String> {
    let metric = match metric {
        Some(m) => m.to_string(),
        None => baseline
            .get("rank_by")
            .and_then(Value::as_str)
            .ok_or("the baseline report has no `rank_by`; pass --metric")?
            .to_string(),
    };
    let parsed = Metric::from_name(&metric).ok_or_else(|| format!("unknown metric `{metric}`"))?;
    let higher = parsed.higher_is_better();
    let base = trials(baseline, "baseline")?;
    let cand = trials(candidate, "candidate")?;
    if base.is_empty() {
        return Err("the baseline report has no trials: there is nothing to compare against".into());
    }
    let mut warnings = Vec::new();
    for (what, key) in [("dataset", "/dataset/sha256"), ("experiment file", "/experiment/sha256")] {
        let (a, b) = (baseline.pointer(key), candidate.pointer(key));
        if a != b {
            warnings.push(format!("the {what} differs between the reports (sha256 {} vs {})", short(a), short(b)));
        }
    }
    if test.is_some() {
        folds_pair(baseline, candidate)?;
    }
    let ratio = test_train_ratio(baseline);
    let mut rows = Vec::new();
    for (id, bt) in &base {
        let b = test_mean(bt, &metric, "baseline")?;
        let ct = cand.iter().find(|(cid, _)| cid == id).map(|(_, ct)| ct);
        let c = match ct {
            Some(ct) => test_mean(ct, &metric, "candidate")?,
            None => None,
        };
        let p_value = match (test, ct, ratio) {
            (Some(_), Some(ct), Some(ratio)) => test_folds(bt, &metric)
                .zip(test_folds(ct, &metric))
                .and_then(|(b, c)| crate::metrics::corrected_t_test(&b, &c, ratio)),
            _ => None,
        };
        let not_significant = test.zip(p_value).is_some_and(|(t, p)| p >= t.alpha);
        let verdict = verdict(b, c, higher, tolerance, not_significant);
        let delta = b.zip(c).map(|(b, c)| c - b);
        rows.push(Row { trial: id.clone(), baseline: b, candidate: c, delta, p_value, verdict });
    }
    for (id, ct) in &cand {
        if !base.iter().any(|(bid, _)| bid == id) {
            rows.push(Row {
                trial: id.clone(),
                baseline: None,
                candidate: test_mean(ct, &metric, "candidate")?,
                delta: None,
                p_value: None,
                verdict: Verdict::New,
            });
        }
    }
    let unpaired = rows.iter().filter(|r| r.verdict == Verdict::Worse && r.p_value.is_none()).count();
    if test.is_some() && unpaired > 0 {
        warnings.push(format!(
            "{unpaired} worse trial(s) lack a score on every fold in one of the reports: judged by the tolerance alone"
        ));
    }
    let regressions = rows.iter().filter(|r| r.verdict.is_regression()).count();
    Ok(Comparison { metric, higher_is_better: higher, tolerance, test, rows, warnings, regressions })
}

/// A trial's verdict from its baseline and candidate means.
fn verdict(b: Option<f64>, c: Option<f64>, higher: bool, tolerance: f64, not_significant: bool) -> Verdict {
    match (b, c) {
        (_, None) => Verdict::Missing,
        (None, Some(_)) => Verdict::Better,
        (Some(b), Some(c)) => {
            let worse_by = if higher { b - c } else { c - b };
            if worse_by == 0.0 {
                Verdict::Same
            } else if worse_by < 0.0 {
                Verdict::Better
            } else if worse_by <= tolerance * b.abs() {
                Verdict::WithinTolerance
            } else if not_significant {
                Verdict::NotSignificant
            } else {
                Verdict::Worse
            }
        }
    }
}

fn short(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).map_or("none".into(), |s| s.chars().take(12).collect())
}

/// The markdown table.
pub fn render_markdown(c: &Comparison) -> String {
    let mut out = String::new();
    for w in &c.warnings {
        out.push_str(&format!("> warning: {w}\n"));
    }
    if !c.warnings.is_empty() {
        out.push('\n');
    }
    let dir = if c.higher_is_better { "higher is better" } else { "lower is better" };
    out.push_str(&format!("Test `{}` ({dir}), relative tolerance {}", c.metric, c.tolerance));
    match c.test {
        Some(t) => out.push_str(&format!(
            "; a worse trial is a regression only when the corrected resampled t-test of its fold scores gives p < {}.\n\n",
            t.alpha
        )),
        None => out.push_str(".\n\n"),
    }
    let p_column = c.test.is_some();
    out.push_str("| trial | metric | baseline | candidate | delta |");
    out.push_str(if p_column { " p |" } else { "" });
    out.push_str(" verdict |\n|---|---|---:|---:|---:|");
    out.push_str(if p_column { "---:|" } else { "" });
    out.push_str("---|\n");
    let f = |v: Option<f64>| v.map_or("–".to_string(), |x| x.to_string());
    for r in &c.rows {
        let verdict =
            serde_json::to_value(r.verdict).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
        let trial = crate::report::md_escape(&r.trial);
        let p = if p_column { format!(" {} |", f(r.p_value)) } else { String::new() };
        out.push_str(&format!(
            "| {trial} | {} | {} | {} | {} |{p} {} |\n",
            c.metric,
            f(r.baseline),
            f(r.candidate),
            f(r.delta),
            verdict.replace('_', " ")
        ));
    }
    out.push_str(&format!(
        "\n{} trial(s) compared, {} regression(s).\n",
        c.rows.iter().filter(|r| r.verdict != Verdict::New).count(),
        c.regressions
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(trials: Vec<(&str, Option<f64>)>, data: &str) -> Value {
        json!({
            "rank_by": "mse",
            "dataset": { "sha256": data },
            "experiment": { "sha256": "e" },
            "trials": trials.into_iter().map(|(id, v)| match v {
                Some(v) => json!({ "id": id, "status": "ok", "test": { "mse": { "mean": v } } }),
                None => json!({ "id": id, "status": "failed", "test": {} }),
            }).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn verdicts_follow_the_metric_direction_and_tolerance() {
        let base = report(
            vec![("a", Some(10.0)), ("b", Some(10.0)), ("c", Some(10.0)), ("d", Some(10.0)), ("e", Some(1.0))],
            "x",
        );
        let cand = report(
            vec![
                ("a", Some(10.0)),
                ("b", Some(9.0)),
                ("c", Some(10.05)),
                ("d", Some(12.0)),
                ("e", None),
                ("f", Some(3.0)),
            ],
            "x",
        );
        let c = compare(&base, &cand, 0.01, None, None).unwrap();
        let v: Vec<Verdict> = c.rows.iter().map(|r| r.verdict).collect();
        assert_eq!(
            v,
            vec![
                Verdict::Same,
                Verdict::Better,
                Verdict::WithinTolerance,
                Verdict::Worse,
                Verdict::Missing,
                Verdict::New
            ]
        );
        assert_eq!(c.regressions, 2);
        assert!(c.warnings.is_empty());
    }

    #[test]
    fn exact_by_default_and_warns_on_changed_data() {
        let c =
            compare(&report(vec![("a", Some(1.0))], "x"), &report(vec![("a", Some(1.0000001))], "y"), 0.0, None, None)
                .unwrap();
        assert_eq!(c.rows[0].verdict, Verdict::Worse);
        assert!(c.warnings[0].contains("dataset differs"));
    }
}
