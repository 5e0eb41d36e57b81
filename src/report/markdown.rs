//! `report.md`: dataset summary, leaderboard, a table per model, the best model's
//! coefficients, failures and the facts needed to reproduce the run.

use super::{ranked, CoefficientTable, MetricTable, Named, Report, Summary, TrialReport};
use crate::config::Metric;
use crate::spec::ParamValue;
use crate::trial::Status;
use std::fmt::{Result, Write};

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
            c if c.is_control() => out.extend(c.escape_debug()),
            _ => out.push(c),
        }
    }
    out
}

/// User text as an inline code span, shown exactly: the fence is longer than any run of
/// backticks inside, and nothing is escaped (markdown escapes are literal in code spans).
pub fn md_code(s: &str) -> String {
    let flat = super::printable(&s.replace(['\n', '\r'], " ")).into_owned();
    let longest = flat.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if flat.starts_with('`') || flat.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{flat}{pad}{fence}")
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

fn mean_pm_std(side: &MetricTable, m: Metric) -> String {
    side.get(m).map_or_else(|| "–".into(), summary_pm)
}

/// A summary over folds as `mean ± std` ("–" when a fold has no value).
fn summary_pm(s: &Summary) -> String {
    match (s.mean, s.std) {
        (Some(mean), Some(std)) => pm(mean, std),
        _ => "–".into(),
    }
}

/// `mean ± std`: the mean as `num` gives it, the std to two significant digits (its
/// spread's precision), so a cell stays short.
fn pm(mean: f64, std: f64) -> String {
    format!("{} ± {}", num(mean), spread(std))
}

/// A spread to two significant digits: fixed-point from 1e-3 (`0.011`, `0.0021`, `13`),
/// a short exponent form below and from 1e6 (`5.2e-5`).
fn spread(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || !x.is_finite() {
        num(x)
    } else if (1e-3..1e6).contains(&a) {
        let decimals = (1 - a.log10().floor() as i32).max(0) as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{x:.1e}")
    }
}

/// Epochs run and the final training loss, averaged over folds ("–" without a curve).
fn curve_summary(t: &TrialReport) -> (String, String) {
    let Some(folds) = t.loss_curve.as_ref().filter(|f| !f.is_empty()) else {
        return ("–".into(), "–".into());
    };
    let n = folds.len() as f64;
    let epochs = folds.iter().map(|c| c.train.len() as f64).sum::<f64>() / n;
    let last = folds.iter().filter_map(|c| c.train.last()).sum::<f64>() / n;
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
    match (t.train.mean(m), t.test.mean(m)) {
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

/// The whole document; `plots` are the file names under `plots/` to link, and
/// `predictions` says whether predictions.csv was written.
pub fn render(r: &Report, plots: &[&str], predictions: bool) -> String {
    let mut s = String::new();
    let sections: [&dyn Fn(&mut String) -> Result; 17] = [
        &|s| title(s, r),
        &|s| dataset(s, r),
        &|s| split(s, r),
        &|s| leaderboard(s, r),
        &|s| halving(s, r),
        &|s| nested(s, r),
        &|s| models(s, r),
        &|s| best(s, r),
        &|s| importance(s, r),
        &|s| impurity_importance(s, r),
        &|s| learning_curve(s, r),
        &|s| partial_dependence(s, r),
        &|s| plot_links(s, plots),
        &|s| prediction_link(s, r, predictions),
        &|s| saved_model(s, r),
        &|s| failures_and_warnings(s, r),
        &|s| reproducibility(s, r),
    ];
    for section in sections {
        // Writing to a String cannot fail.
        let _ = section(&mut s);
    }
    s
}

fn title(s: &mut String, r: &Report) -> Result {
    writeln!(s, "# Experiment {}\n", md_code(&r.experiment.name))?;
    if let Some(d) = &r.experiment.description {
        writeln!(s, "{}\n", md_escape(d))?;
    }
    Ok(())
}

fn dataset(s: &mut String, r: &Report) -> Result {
    let d = &r.dataset;
    writeln!(s, "## Dataset\n")?;
    writeln!(s, "| | |\n|---|---|")?;
    writeln!(s, "| file | {} |", md_escape(&d.path))?;
    writeln!(s, "| target | {} ({}) |", md_escape(&d.target), d.task.name())?;
    writeln!(s, "| rows in file | {} |", d.rows)?;
    writeln!(s, "| rows used | {} |", d.rows_used)?;
    writeln!(
        s,
        "| rows dropped | {} ({} missing target, {} by impute = \"drop\") |",
        d.rows_dropped, d.rows_dropped_missing_target, d.rows_dropped_missing_features
    )?;
    writeln!(s, "| feature columns | {} → {} model inputs |", d.columns.len(), d.features.len())?;
    if let Some(why) = &d.streamed {
        writeln!(s, "| read | streamed from disk ({}) |", md_escape(why))?;
    }
    writeln!(s)?;
    let with_missing: Vec<_> = d.columns.iter().filter(|c| c.missing > 0).collect();
    if !with_missing.is_empty() {
        // A kept gap is not imputed: the trees send NaN to each split's learned side.
        let kept = with_missing.iter().filter(|c| c.impute == crate::config::Impute::Keep).count();
        let heading = match kept {
            0 => "Missing values (imputed per fold from the training rows only):",
            k if k == with_missing.len() => "Missing values (kept as NaN: each split sends them to its learned side):",
            _ => "Missing values (imputed per fold from the training rows only, or kept as NaN):",
        };
        writeln!(s, "{heading}\n")?;
        writeln!(s, "| column | missing | imputed with |\n|---|---:|---|")?;
        for c in with_missing {
            let how = if c.impute == crate::config::Impute::Keep { "keep (left as NaN)" } else { c.impute.name() };
            writeln!(s, "| {} | {} | {how} |", md_escape(&c.name), c.missing)?;
        }
        writeln!(s)?;
    }
    if !d.constant_columns.is_empty() {
        let names: Vec<String> = d.constant_columns.iter().map(|c| md_code(c)).collect();
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
            let share = 100.0 * c.rows as f64 / d.rows_used as f64;
            writeln!(s, "| {} | {} | {share:.1}% |", md_escape(&c.class), c.rows)?;
        }
        writeln!(s)?;
    }
    Ok(())
}

fn split(s: &mut String, r: &Report) -> Result {
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
    writeln!(s)
}

fn leaderboard(s: &mut String, r: &Report) -> Result {
    writeln!(s, "## Leaderboard\n")?;
    writeln!(s, "Ranked by test `{}` ({}); mean ± std over folds.\n", r.rank_by.name(), direction(r.rank_by))?;
    let mut header = "| rank | trial |".to_string();
    let mut rule = "|---:|---|".to_string();
    for m in &r.metrics {
        write!(header, " test {} |", m.name())?;
        rule.push_str("---|");
    }
    write!(header, " train {} | overfit? |", r.rank_by.name())?;
    rule.push_str("---|---|");
    let tested = r.trials.iter().any(|t| t.vs_best.is_some());
    if tested {
        header.push_str(" p vs best |");
        rule.push_str("---:|");
    }
    writeln!(s, "{header}\n{rule}")?;
    let order = ranked(&r.trials, r.rank_by);
    for (rank, &i) in order.iter().take(MAX_ROWS).enumerate() {
        let t = &r.trials[i];
        write!(s, "| {} | {} |", rank + 1, md_escape(&t.id))?;
        for &m in &r.metrics {
            write!(s, " {} |", mean_pm_std(&t.test, m))?;
        }
        let flag = if overfits(t, r.rank_by) { "yes" } else { "" };
        write!(s, " {} | {} |", mean_pm_std(&t.train, r.rank_by), flag)?;
        if tested {
            let p = match &t.vs_best {
                Some(v) if v.indistinguishable => format!("{} ≈ best", num(v.p_value)),
                Some(v) => num(v.p_value),
                None if rank == 0 => "best".to_string(),
                None => String::new(),
            };
            write!(s, " {p} |")?;
        }
        writeln!(s)?;
    }
    omitted(s, order.len(), "ranked trials")?;
    if tested {
        writeln!(
            s,
            "\n`p vs best`: the Nadeau–Bengio corrected resampled t-test of each trial's fold scores against the best trial's; \
             `≈ best` marks p ≥ {}, where the folds cannot tell the two apart.",
            super::T_TEST_ALPHA
        )?;
    }
    writeln!(s)
}

/// Model names in file order.
pub(super) fn model_names(r: &Report) -> Vec<&str> {
    let mut models: Vec<&str> = Vec::new();
    for t in &r.trials {
        if !models.contains(&t.model.as_str()) {
            models.push(&t.model);
        }
    }
    models
}

fn models(s: &mut String, r: &Report) -> Result {
    writeln!(s, "## Models\n")?;
    for model in model_names(r) {
        let rows: Vec<&TrialReport> = r.trials.iter().filter(|t| t.model == model).collect();
        writeln!(s, "### {} (`{}`)\n", md_escape(model), rows[0].kind.name())?;
        model_table(s, r, &rows)?;
    }
    Ok(())
}

/// One model's trials: its grid axes, the rank metric, training curves and status.
fn model_table(s: &mut String, r: &Report, rows: &[&TrialReport]) -> Result {
    let axes: Vec<&str> = rows[0].params.names().collect();
    let mut header = String::from("|");
    let mut rule = String::from("|");
    for a in &axes {
        write!(header, " {} |", md_escape(a))?;
        rule.push_str("---|");
    }
    write!(header, " test {} | train {} |", r.rank_by.name(), r.rank_by.name())?;
    rule.push_str("---|---|");
    let iterative = rows.iter().any(|t| t.loss_curve.is_some());
    if iterative {
        header.push_str(" epochs | final loss |");
        rule.push_str("---:|---:|");
    }
    let out_of_bag = rows.iter().any(|t| t.oob_score.is_some());
    if out_of_bag {
        header.push_str(" oob score |");
        rule.push_str("---|");
    }
    header.push_str(" status |");
    rule.push_str("---|");
    writeln!(s, "{header}\n{rule}")?;
    for t in rows.iter().take(MAX_ROWS) {
        write!(s, "|")?;
        for a in &axes {
            write!(s, " {} |", t.params.get(a).map(ParamValue::json).unwrap_or_default())?;
        }
        write!(s, " {} | {} |", mean_pm_std(&t.test, r.rank_by), mean_pm_std(&t.train, r.rank_by))?;
        if iterative {
            let (epochs, final_loss) = curve_summary(t);
            write!(s, " {epochs} | {final_loss} |")?;
        }
        if out_of_bag {
            write!(s, " {} |", t.oob_score.as_ref().map(summary_pm).unwrap_or_default())?;
        }
        writeln!(s, " {} |", t.status.name())?;
    }
    omitted(s, rows.len(), "grid points of this model, in grid order")?;
    writeln!(s)
}

/// At most this many rows in each of the document's per-trial tables: a sweep of a million
/// trials keeps report.md (and report.html) small; report.json has every row.
const MAX_ROWS: usize = 50;

/// The line under a table that shows the first [`MAX_ROWS`] of `total` rows.
fn omitted(s: &mut String, total: usize, what: &str) -> Result {
    if total > MAX_ROWS {
        writeln!(
            s,
            "\n{} more not shown: the first {MAX_ROWS} of {total} {what}; report.json has all.",
            total - MAX_ROWS
        )?;
    }
    Ok(())
}

fn best(s: &mut String, r: &Report) -> Result {
    let Some(best) = &r.best else { return Ok(()) };
    writeln!(s, "## Best model: {}\n", md_code(&best.trial))?;
    writeln!(s, "Test {} = {} (mean over folds).\n", best.metric.name(), best.value)?;
    let Some(t) = r.trials.iter().find(|t| t.id == best.trial) else { return Ok(()) };
    match &t.coefficients {
        Some(CoefficientTable::Single(weights)) => {
            writeln!(s, "Coefficients (mean over folds):\n\n| feature | coefficient |\n|---|---:|")?;
            for (k, v) in &weights.0 {
                writeln!(s, "| {} | {} |", md_escape(k), num(*v))?;
            }
            writeln!(s)?;
        }
        Some(CoefficientTable::PerClass(per_class)) => coefficients_per_class(s, per_class)?,
        None => {}
    }
    if let (Some(cm), Some(classes)) = (&t.confusion_matrix, &r.dataset.classes) {
        writeln!(s, "Confusion matrix (test rows, summed over folds; rows are true classes):\n")?;
        let mut header = "| true \\\\ predicted |".to_string();
        let mut rule = "|---|".to_string();
        for c in classes {
            write!(header, " {} |", md_escape(&c.class))?;
            rule.push_str("---:|");
        }
        writeln!(s, "{header}\n{rule}")?;
        for (c, row) in classes.iter().zip(cm) {
            let cells: Vec<String> = row.iter().map(|n| n.to_string()).collect();
            writeln!(s, "| {} | {} |", md_escape(&c.class), cells.join(" | "))?;
        }
        writeln!(s)?;
    }
    Ok(())
}

fn coefficients_per_class(s: &mut String, per_class: &Named<Named<f64>>) -> Result {
    writeln!(s, "Coefficients per class (mean over folds):\n")?;
    let mut header = "| feature |".to_string();
    let mut rule = "|---|".to_string();
    for class in per_class.names() {
        write!(header, " {} |", md_escape(class))?;
        rule.push_str("---:|");
    }
    writeln!(s, "{header}\n{rule}")?;
    let features: Vec<&str> = per_class.0.first().map(|(_, row)| row.names().collect()).unwrap_or_default();
    for f in features {
        write!(s, "| {} |", md_escape(f))?;
        for (_, row) in &per_class.0 {
            write!(s, " {} |", row.get(f).copied().map(num).unwrap_or_default())?;
        }
        writeln!(s)?;
    }
    writeln!(s)
}

fn importance(s: &mut String, r: &Report) -> Result {
    let Some(e) = &r.explanation else {
        return match &r.explanation_error {
            Some(reason) => writeln!(s, "## Permutation importance\n\nNot computed: {}\n", md_escape(reason)),
            None => Ok(()),
        };
    };
    writeln!(s, "## Permutation importance\n")?;
    writeln!(
        s,
        "How much the test {} of {} worsens when one feature's test values are shuffled ({} shuffles per fold, seeded; mean ± std). One-hot columns of a feature are shuffled together.\n",
        e.metric.name(),
        md_code(&e.trial),
        e.repeats
    )?;
    writeln!(s, "| feature | importance | ± std |\n|---|---:|---:|")?;
    for f in &e.permutation_importance {
        writeln!(s, "| {} | {} | {} |", md_escape(&f.feature), num(f.mean), num(f.std))?;
    }
    writeln!(s)
}

/// The refitted tree's or forest's `feature_importances_`.
fn impurity_importance(s: &mut String, r: &Report) -> Result {
    let Some(i) = &r.impurity_importance else { return Ok(()) };
    writeln!(s, "## Impurity importance\n")?;
    writeln!(
        s,
        "Each column's share of the weighted impurity decrease of the splits on it, in {} refitted (scikit-learn's `feature_importances_`; biased towards columns with many distinct values).\n",
        md_code(&i.trial)
    )?;
    writeln!(s, "| feature | importance |\n|---|---:|")?;
    for f in &i.features {
        writeln!(s, "| {} | {} |", md_escape(&f.feature), num(f.importance))?;
    }
    writeln!(s)
}

/// The survivors a halving round names (report.json lists them all).
const KEPT_SHOWN: usize = 10;

/// Successive halving: each round's rows, what it scored and what it kept.
fn halving(s: &mut String, r: &Report) -> Result {
    let Some(h) = &r.halving else { return Ok(()) };
    writeln!(s, "## Successive halving\n")?;
    writeln!(
        s,
        "Factor {}, {} to {} rows (as scikit-learn's HalvingGridSearchCV). Each round scores its candidates on every fold, subsampled to its rows, and keeps the best 1/{}; the leaderboard shows each trial's last round, later rounds first.\n",
        h.factor, h.min_resources, h.max_resources, h.factor
    )?;
    writeln!(s, "| round | rows | candidates | kept |\n|---:|---:|---:|---|")?;
    for (i, round) in h.rounds.iter().enumerate() {
        let mut kept: Vec<String> = round.kept.iter().take(KEPT_SHOWN).map(|k| md_code(k)).collect();
        if round.kept.len() > KEPT_SHOWN {
            kept.push(format!("and {} more", round.kept.len() - KEPT_SHOWN));
        }
        writeln!(s, "| {} | {} | {} | {} |", i + 1, round.rows, round.candidates.len(), kept.join(", "))?;
    }
    writeln!(s)
}

/// Nested cross-validation: the honest estimate, and what each outer fold chose.
fn nested(s: &mut String, r: &Report) -> Result {
    let Some(n) = &r.nested else { return Ok(()) };
    let metric = n.metric.name();
    writeln!(s, "## Nested cross-validation\n")?;
    let estimate = match (n.test.mean, n.test.std) {
        (Some(m), Some(sd)) => pm(m, sd),
        _ => "n/a (an outer fold has no score)".to_string(),
    };
    writeln!(
        s,
        "Test {metric} **{estimate}** over {} outer `{}` folds: each chose its trial by an inner `{}` search on its training rows alone, so this estimate is free of the selection bias of the leaderboard's best score (scikit-learn's `cross_val_score(GridSearchCV(...), cv=outer)`).\n",
        n.folds.len(),
        n.outer.name(),
        n.inner.name()
    )?;
    writeln!(s, "| outer fold | chosen trial | inner {metric} | outer test {metric} |\n|---:|---|---:|---:|")?;
    let shown = |v: Option<f64>| v.map_or("n/a".to_string(), num);
    for (i, f) in n.folds.iter().enumerate() {
        let chosen = f.chosen.as_deref().map_or_else(|| md_escape(f.reason.as_deref().unwrap_or("")), md_code);
        writeln!(s, "| {} | {chosen} | {} | {} |", i + 1, shown(f.inner_mean), shown(f.test))?;
    }
    writeln!(s)
}

/// The best trial's train and test metric by training rows, as scikit-learn's
/// `learning_curve`: where the test line still falls, more data would help.
fn learning_curve(s: &mut String, r: &Report) -> Result {
    let Some(lc) = &r.learning_curve else { return Ok(()) };
    let metric = lc.metric.name();
    writeln!(s, "## Learning curve\n")?;
    writeln!(
        s,
        "{} fitted on the first rows of each fold's training part (mean ± std over {} fold(s)); plot: `plots/learning_curve.svg`.\n",
        md_code(&lc.trial),
        lc.train.first().map_or(0, |t| t.folds.len())
    )?;
    writeln!(s, "| training rows | train {metric} | ± std | test {metric} | ± std |\n|---:|---:|---:|---:|---:|")?;
    let shown = |v: Option<f64>| v.map_or("n/a".to_string(), num);
    for ((n, train), test) in lc.sizes.iter().zip(&lc.train).zip(&lc.test) {
        let cells = [shown(train.mean), shown(train.std), shown(test.mean), shown(test.std)];
        writeln!(s, "| {n} | {} |", cells.join(" | "))?;
    }
    for reason in &lc.failures {
        writeln!(s, "\nA fit failed (its points are n/a): {}", md_escape(reason))?;
    }
    writeln!(s)
}

/// The refitted best model's partial dependence (scikit-learn's `partial_dependence`).
fn partial_dependence(s: &mut String, r: &Report) -> Result {
    if let Some(e) = &r.partial_dependence_error {
        return writeln!(s, "## Partial dependence\n\nNot computed: {}\n", md_escape(e));
    }
    let Some(pd) = &r.partial_dependence else { return Ok(()) };
    writeln!(s, "## Partial dependence\n")?;
    writeln!(
        s,
        "The {} of {} refitted, averaged over its training rows while one feature is set to each grid value (scikit-learn's `partial_dependence`, brute method: the distinct values, or 100 points between the 5th and 95th percentiles); plots: `plots/partial_dependence_*.svg`.\n",
        md_escape(&pd.response),
        md_code(&pd.trial)
    )?;
    writeln!(s, "| feature | grid points | from | to | average from | to |\n|---|---:|---:|---:|---:|---:|")?;
    for f in &pd.features {
        let Some(why) = &f.skipped else {
            let ends =
                |v: &[f64]| (v.first().copied().map_or("n/a".into(), num), v.last().copied().map_or("n/a".into(), num));
            let (g0, g1) = ends(&f.grid);
            let (a0, a1) = f.curves.first().map_or(("n/a".into(), "n/a".into()), |c| ends(&c.average));
            writeln!(s, "| {} | {} | {g0} | {g1} | {a0} | {a1} |", md_escape(&f.feature), f.grid.len())?;
            continue;
        };
        writeln!(s, "| {} | skipped: {} | | | | |", md_escape(&f.feature), md_escape(why))?;
    }
    writeln!(s)
}

fn plot_links(s: &mut String, plots: &[&str]) -> Result {
    if plots.is_empty() {
        return Ok(());
    }
    writeln!(s, "## Plots\n")?;
    for p in plots {
        writeln!(s, "- [{}](plots/{})", md_escape(p), p)?;
    }
    writeln!(s)
}

fn prediction_link(s: &mut String, r: &Report, written: bool) -> Result {
    if !written {
        return Ok(());
    }
    let trials: Vec<String> = r.predictions.iter().map(|p| md_code(&p.trial)).collect();
    writeln!(
        s,
        "## Out-of-fold predictions
"
    )?;
    writeln!(
        s,
        "[predictions.csv](predictions.csv): every test row of every fold, predicted by the model fitted on that fold's training part (as scikit-learn's `cross_val_predict`), for {}.
",
        trials.join(", ")
    )
}

/// The refitted best trial and how to use it.
fn saved_model(s: &mut String, r: &Report) -> Result {
    let Some(refit) = &r.refit else { return Ok(()) };
    writeln!(s, "## Saved model\n")?;
    if let Some(reason) = &refit.error {
        return writeln!(s, "The best trial {} could not be refitted: {}\n", md_code(&refit.trial), md_escape(reason));
    }
    let rows = match refit.learned_from {
        "training part" => format!("the {} rows of the training part", refit.rows),
        _ => format!("all {} rows", refit.rows),
    };
    writeln!(
        s,
        "The best trial {} was refitted on {rows} and saved in [model.json](model.json).",
        md_code(&refit.trial)
    )?;
    if let Some(test) = &refit.test {
        let values: Vec<String> =
            test.0.iter().map(|(m, v)| format!("{m} {}", v.map_or("n/a".to_string(), num))).collect();
        writeln!(s, "Its test metrics (equal to the sweep's): {}.", values.join(", "))?;
    }
    writeln!(
        s,
        "Predict new rows with `runner predict model.json NEW_DATA.csv` (add `--proba` for class probabilities).\n"
    )
}

fn failures_and_warnings(s: &mut String, r: &Report) -> Result {
    let failures: Vec<&TrialReport> = r.trials.iter().filter(|t| t.status != Status::Ok).collect();
    if !failures.is_empty() {
        writeln!(s, "## Failed and diverged trials\n")?;
        writeln!(s, "| trial | status | reason |\n|---|---|---|")?;
        for t in failures.iter().take(MAX_ROWS) {
            let reason = md_escape(t.reason.as_deref().unwrap_or(""));
            writeln!(s, "| {} | {} | {reason} |", md_escape(&t.id), t.status.name())?;
        }
        omitted(s, failures.len(), "failed and diverged trials")?;
        writeln!(s)?;
    }
    let notes: Vec<(&str, &String)> =
        r.trials.iter().flat_map(|t| t.notes.iter().map(move |n| (t.id.as_str(), n))).collect();
    if !notes.is_empty() {
        writeln!(s, "## Warnings\n")?;
        writeln!(s, "| trial | warning |\n|---|---|")?;
        for (id, note) in notes.iter().take(MAX_ROWS) {
            writeln!(s, "| {} | {} |", md_escape(id), md_escape(note))?;
        }
        omitted(s, notes.len(), "warnings")?;
        writeln!(s)?;
    }
    Ok(())
}

fn reproducibility(s: &mut String, r: &Report) -> Result {
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
    writeln!(s, "| overrides | {} |", md_escape_keep_code(&overrides))
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
    fn code_spans_show_user_text_exactly() {
        assert_eq!(md_code("ridge[alpha=0.1]"), "`ridge[alpha=0.1]`");
        assert_eq!(md_code("a`b"), "``a`b``");
        assert_eq!(md_code("`x"), "`` `x ``");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(21.517444231177247), "21.5174");
        assert_eq!(num(0.00001234), "1.2340e-5");
        assert_eq!(num(0.0), "0");
    }

    #[test]
    fn a_spread_has_two_significant_digits_and_no_long_exponent() {
        assert_eq!(pm(0.98837, 0.010834), "0.9884 ± 0.011");
        assert_eq!(pm(0.0263, 0.00214), "0.0263 ± 0.0021");
        assert_eq!(pm(3.5192e-4, 5.2495e-5), "3.5192e-4 ± 5.2e-5");
        assert_eq!(pm(11.0366, 7.2769), "11.0366 ± 7.3");
        assert_eq!(pm(2154.2, 123.6), "2154.2000 ± 124");
        assert_eq!(pm(21.5174, 0.0), "21.5174 ± 0");
        assert_eq!(spread(2.5e7), "2.5e7");
    }
}
