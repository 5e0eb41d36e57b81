use super::{mean_of, ranked, std_of, Exporter, Report, TrialReport};
use crate::config::Metric;
use crate::trial::Status;
use serde_json::Value;
use std::fmt::Write;

/// `report.md`: dataset summary, leaderboard, a table per model, the best model's
/// coefficients, failures and the facts needed to reproduce the run.
pub struct MarkdownExporter;

/// Escapes user data (column names, class labels, reasons) for a markdown table cell.
pub fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' | '`' | '*' | '_' | '[' | ']' | '\\' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A readable number: four decimals, or scientific notation for very small or large values.
pub fn num(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x.abs() >= 1e-3 && x.abs() < 1e6 {
        format!("{x:.4}")
    } else {
        format!("{x:.4e}")
    }
}

fn mean_pm_std(side: &serde_json::Map<String, Value>, m: Metric) -> String {
    match (mean_of(side, m), std_of(side, m)) {
        (Some(mean), Some(std)) => format!("{} ± {}", num(mean), num(std)),
        _ => "–".into(),
    }
}

/// Epochs run and the final training loss, averaged over folds ("–" without a curve).
fn curve_summary(t: &TrialReport) -> (String, String) {
    let Some(Value::Array(folds)) = &t.loss_curve else {
        return ("–".into(), "–".into());
    };
    let trains: Vec<&Vec<Value>> = folds.iter().filter_map(|f| f.get("train").and_then(Value::as_array)).collect();
    if trains.is_empty() {
        return ("–".into(), "–".into());
    }
    let n = trains.len() as f64;
    let epochs = trains.iter().map(|c| c.len() as f64).sum::<f64>() / n;
    let last = trains.iter().filter_map(|c| c.last().and_then(Value::as_f64)).sum::<f64>() / n;
    (format!("{}", epochs.round()), num(last))
}

fn direction(m: Metric) -> &'static str {
    if m.higher_is_better() {
        "higher is better"
    } else {
        "lower is better"
    }
}

/// A large relative gap between train and test suggests overfitting.
pub fn overfits(t: &TrialReport, m: Metric) -> bool {
    match (mean_of(&t.train, m), mean_of(&t.test, m)) {
        (Some(train), Some(test)) => {
            let (good, bad) = if m.higher_is_better() { (train, test) } else { (test, train) };
            // For losses: test much larger than train. For scores: train much larger than test.
            if m.higher_is_better() {
                good - bad > 0.1 * good.abs().max(1e-12)
            } else {
                good > 1.5 * bad.max(1e-12) && good - bad > 1e-9
            }
        }
        _ => false,
    }
}

impl Exporter for MarkdownExporter {
    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn render(&self, r: &Report) -> Vec<u8> {
        let mut s = String::new();
        let _ = render(&mut s, r);
        s.into_bytes()
    }
}

fn render(s: &mut String, r: &Report) -> std::fmt::Result {
    writeln!(s, "# Experiment `{}`\n", md_escape(&r.experiment.name))?;
    if let Some(d) = &r.experiment.description {
        writeln!(s, "{}\n", md_escape(d))?;
    }

    let d = &r.dataset;
    writeln!(s, "## Dataset\n")?;
    writeln!(s, "| | |\n|---|---|")?;
    writeln!(s, "| file | {} |", md_escape(&d.path))?;
    writeln!(
        s,
        "| target | {} ({}) |",
        md_escape(&d.target),
        if d.classes.is_some() { "classification" } else { "regression" }
    )?;
    writeln!(s, "| rows in file | {} |", d.rows)?;
    writeln!(s, "| rows used | {} |", d.rows_used)?;
    writeln!(
        s,
        "| rows dropped | {} ({} missing target, {} by impute = \"drop\") |",
        d.rows_dropped, d.rows_dropped_missing_target, d.rows_dropped_missing_features
    )?;
    writeln!(s, "| feature columns | {} → {} model inputs |", d.columns.len(), d.features.len())?;
    writeln!(s)?;
    let with_missing: Vec<_> = d.columns.iter().filter(|c| c.missing > 0).collect();
    if !with_missing.is_empty() {
        writeln!(s, "Missing values (imputed per fold from the training rows only):\n")?;
        writeln!(s, "| column | missing | imputed with |\n|---|---:|---|")?;
        for c in with_missing {
            let how =
                serde_json::to_value(c.impute).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
            writeln!(s, "| {} | {} | {} |", md_escape(&c.name), c.missing, how)?;
        }
        writeln!(s)?;
    }
    if !d.constant_columns.is_empty() {
        let names: Vec<String> = d.constant_columns.iter().map(|c| format!("`{}`", md_escape(c))).collect();
        writeln!(
            s,
            "Constant on some fold's training rows (kept; scaling leaves them unscaled, as scikit-learn does): {}.\n",
            names.join(", ")
        )?;
    }
    if let Some(classes) = &d.classes {
        writeln!(s, "Class balance:\n")?;
        writeln!(s, "| class | rows | share |\n|---|---:|---:|")?;
        for c in classes {
            writeln!(
                s,
                "| {} | {} | {:.1}% |",
                md_escape(&c.class),
                c.rows,
                100.0 * c.rows as f64 / d.rows_used as f64
            )?;
        }
        writeln!(s)?;
    }

    let sp = &r.split;
    writeln!(s, "## Split\n")?;
    let sizes: Vec<String> = sp.train_rows.iter().zip(&sp.test_rows).map(|(a, b)| format!("{a}/{b}")).collect();
    writeln!(
        s,
        "`{}`, {} fold(s), seed {}; train/test rows per fold: {}.",
        sp.method,
        sp.folds,
        sp.seed,
        sizes.join(", ")
    )?;
    if sp.trains_on_test_rows {
        writeln!(
            s,
            "\n**Note:** `method = \"none\"` trains and tests on all rows: test metrics are training metrics."
        )?;
    }
    writeln!(s)?;

    writeln!(s, "## Leaderboard\n")?;
    writeln!(s, "Ranked by test `{}` ({}); mean ± std over folds.\n", r.rank_by.name(), direction(r.rank_by))?;
    let mut header = "| rank | trial |".to_string();
    let mut rule = "|---:|---|".to_string();
    for m in &r.metrics {
        let _ = write!(header, " test {} |", m.name());
        rule.push_str("---|");
    }
    let _ = write!(header, " train {} | overfit? |", r.rank_by.name());
    rule.push_str("---|---|");
    writeln!(s, "{header}\n{rule}")?;
    for (rank, &i) in ranked(&r.trials, r.rank_by).iter().enumerate() {
        let t = &r.trials[i];
        write!(s, "| {} | {} |", rank + 1, md_escape(&t.id))?;
        for &m in &r.metrics {
            write!(s, " {} |", mean_pm_std(&t.test, m))?;
        }
        let flag = if overfits(t, r.rank_by) { "yes" } else { "" };
        writeln!(s, " {} | {} |", mean_pm_std(&t.train, r.rank_by), flag)?;
    }
    writeln!(s)?;

    writeln!(s, "## Models\n")?;
    let mut models: Vec<&str> = Vec::new();
    for t in &r.trials {
        if !models.contains(&t.model.as_str()) {
            models.push(&t.model);
        }
    }
    for model in models {
        let rows: Vec<&TrialReport> = r.trials.iter().filter(|t| t.model == model).collect();
        let kind =
            serde_json::to_value(rows[0].kind).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
        writeln!(s, "### {} (`{}`)\n", md_escape(model), kind)?;
        let axes: Vec<String> = rows[0].params.keys().cloned().collect();
        let mut header = String::from("|");
        let mut rule = String::from("|");
        for a in &axes {
            let _ = write!(header, " {} |", md_escape(a));
            rule.push_str("---|");
        }
        let _ = write!(header, " test {} | train {} |", r.rank_by.name(), r.rank_by.name());
        rule.push_str("---|---|");
        let iterative = rows.iter().any(|t| t.loss_curve.is_some());
        if iterative {
            header.push_str(" epochs | final loss |");
            rule.push_str("---:|---:|");
        }
        header.push_str(" status |");
        rule.push_str("---|");
        writeln!(s, "{header}\n{rule}")?;
        for t in rows {
            write!(s, "|")?;
            for a in &axes {
                write!(s, " {} |", t.params.get(a).map(|v| v.to_string()).unwrap_or_default())?;
            }
            let status = match t.status {
                Status::Ok => "ok",
                Status::Failed => "failed",
                Status::Diverged => "diverged",
            };
            write!(s, " {} | {} |", mean_pm_std(&t.test, r.rank_by), mean_pm_std(&t.train, r.rank_by))?;
            if iterative {
                let (epochs, final_loss) = curve_summary(t);
                write!(s, " {epochs} | {final_loss} |")?;
            }
            writeln!(s, " {status} |")?;
        }
        writeln!(s)?;
    }

    if let Some(best) = &r.best {
        writeln!(s, "## Best model: `{}`\n", md_escape(&best.trial))?;
        writeln!(s, "Test {} = {} (mean over folds).\n", best.metric.name(), best.value)?;
        if let Some(t) = r.trials.iter().find(|t| t.id == best.trial) {
            match &t.coefficients {
                Some(Value::Object(map)) if map.values().all(Value::is_number) => {
                    writeln!(s, "Coefficients (mean over folds):\n\n| feature | coefficient |\n|---|---:|")?;
                    for (k, v) in map {
                        writeln!(s, "| {} | {} |", md_escape(k), v.as_f64().map(num).unwrap_or_default())?;
                    }
                    writeln!(s)?;
                }
                Some(Value::Object(per_class)) => {
                    let classes: Vec<&String> = per_class.keys().collect();
                    writeln!(s, "Coefficients per class (mean over folds):\n")?;
                    let mut header = "| feature |".to_string();
                    let mut rule = "|---|".to_string();
                    for c in &classes {
                        let _ = write!(header, " {} |", md_escape(c));
                        rule.push_str("---:|");
                    }
                    writeln!(s, "{header}\n{rule}")?;
                    let features: Vec<String> = per_class
                        .values()
                        .next()
                        .and_then(Value::as_object)
                        .map(|m| m.keys().cloned().collect())
                        .unwrap_or_default();
                    for f in features {
                        write!(s, "| {} |", md_escape(&f))?;
                        for c in &classes {
                            let v = per_class[*c].get(&f).and_then(Value::as_f64).map(num).unwrap_or_default();
                            write!(s, " {v} |")?;
                        }
                        writeln!(s)?;
                    }
                    writeln!(s)?;
                }
                _ => {}
            }
            if let (Some(cm), Some(classes)) = (&t.confusion_matrix, &r.dataset.classes) {
                writeln!(s, "Confusion matrix (test rows, summed over folds; rows are true classes):\n")?;
                let mut header = "| true \\\\ predicted |".to_string();
                let mut rule = "|---|".to_string();
                for c in classes {
                    let _ = write!(header, " {} |", md_escape(&c.class));
                    rule.push_str("---:|");
                }
                writeln!(s, "{header}\n{rule}")?;
                for (c, row) in classes.iter().zip(cm) {
                    let cells: Vec<String> = row.iter().map(|n| n.to_string()).collect();
                    writeln!(s, "| {} | {} |", md_escape(&c.class), cells.join(" | "))?;
                }
                writeln!(s)?;
            }
        }
    }

    if let Some(e) = &r.explanation {
        writeln!(s, "## Permutation importance\n")?;
        writeln!(
            s,
            "How much the test {} of `{}` worsens when one feature's test values are shuffled ({} shuffles per fold, seeded; mean ± std). One-hot columns of a feature are shuffled together.\n",
            e.metric.name(),
            md_escape(&e.trial),
            e.repeats
        )?;
        writeln!(s, "| feature | importance | ± std |\n|---|---:|---:|")?;
        for f in &e.permutation_importance {
            writeln!(s, "| {} | {} | {} |", md_escape(&f.feature), num(f.mean), num(f.std))?;
        }
        writeln!(s)?;
    }

    if !r.plots.is_empty() {
        writeln!(s, "## Plots\n")?;
        for p in &r.plots {
            writeln!(s, "- [{}](plots/{})", md_escape(p), p)?;
        }
        writeln!(s)?;
    }

    let failures: Vec<&TrialReport> = r.trials.iter().filter(|t| t.status != Status::Ok).collect();
    if !failures.is_empty() {
        writeln!(s, "## Failed and diverged trials\n")?;
        writeln!(s, "| trial | status | reason |\n|---|---|---|")?;
        for t in failures {
            let status = if t.status == Status::Diverged { "diverged" } else { "failed" };
            writeln!(s, "| {} | {} | {} |", md_escape(&t.id), status, md_escape(t.reason.as_deref().unwrap_or("")))?;
        }
        writeln!(s)?;
    }

    let noted: Vec<&TrialReport> = r.trials.iter().filter(|t| !t.notes.is_empty()).collect();
    if !noted.is_empty() {
        writeln!(s, "## Warnings\n")?;
        writeln!(s, "| trial | warning |\n|---|---|")?;
        for t in noted {
            for note in &t.notes {
                writeln!(s, "| {} | {} |", md_escape(&t.id), md_escape(note))?;
            }
        }
        writeln!(s)?;
    }

    writeln!(s, "## Reproducibility\n")?;
    writeln!(s, "| | |\n|---|---|")?;
    writeln!(s, "| runner | {} |", r.run.runner_version)?;
    writeln!(s, "| experiment | {} (sha256 `{}`) |", md_escape(&r.experiment.file), r.experiment.sha256)?;
    writeln!(s, "| dataset | {} (sha256 `{}`) |", md_escape(&r.dataset.path), r.dataset.sha256)?;
    writeln!(s, "| seed | {} |", r.split.seed)?;
    let overrides = if r.experiment.overrides.is_empty() {
        "none".to_string()
    } else {
        r.experiment.overrides.iter().map(|o| format!("`--set {}`", o.replace('`', "'"))).collect::<Vec<_>>().join(", ")
    };
    writeln!(s, "| overrides | {} |", md_escape_keep_code(&overrides))?;
    Ok(())
}

fn md_escape_keep_code(s: &str) -> String {
    s.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markdown_and_html() {
        assert_eq!(md_escape("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(md_escape("a|b`c"), "a\\|b\\`c");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(21.517444231177247), "21.5174");
        assert_eq!(num(0.00001234), "1.2340e-5");
        assert_eq!(num(0.0), "0");
    }
}
