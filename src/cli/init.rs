//! `runner init`: a commented starting experiment for a data file, from a summary of its
//! columns. Pure: the summary in, TOML text out (the command reads the file and writes), or
//! the reason no experiment can be made from the file.

use crate::data::{ColumnSummary, ColumnValues};
use std::fmt::Write;

/// What the file says about the task and the columns.
pub struct InitInput<'a> {
    pub name: &'a str,
    /// The data path as the experiment file should write it (relative to that file).
    pub path: &'a str,
    pub target: &'a ColumnSummary,
    pub features: &'a [ColumnSummary],
    pub rows: usize,
}

/// A text column with more levels than this is not one-hot encoded by a starting experiment:
/// every level is a column of every model's design matrix.
const MAX_LEVELS: usize = 100;

/// Classes, when the target is text or a few whole numbers (at most 10, or at most 20 and
/// under 5% of the rows); otherwise regression. `3.0` counts as a whole number (pandas writes
/// integer columns with gaps that way).
fn is_classification(target: &ColumnSummary, rows: usize) -> bool {
    match target.values {
        ColumnValues::Numeric { whole, .. } => {
            whole && target.distinct <= 20 && (target.distinct <= 10 || target.distinct * 20 < rows)
        }
        _ => true,
    }
}

/// Why a column is left out of the features, if it is.
fn exclusion(c: &ColumnSummary, rows: usize) -> Option<String> {
    let present = rows - c.missing.min(rows);
    let lower = c.name.trim().to_ascii_lowercase();
    // Rdatasets calls the row names `rownames`; pandas' index has no name (read back as
    // `Unnamed: 0`), and R's read.csv calls it `X`.
    if lower == "rownames" || lower.is_empty() || lower.starts_with("unnamed: ") {
        return Some("row names, not a measurement (on data sorted by class they give the answer away)".into());
    }
    let index_like = c.name == "X"
        || ["id", "index", "idx", "row", "rownum", "row_number", "row_id", "no"].contains(&lower.as_str());
    match &c.values {
        ColumnValues::Unreadable(why) => return Some(format!("not read: {why}")),
        ColumnValues::Numeric { row_numbers: true, .. } if index_like => {
            return Some("the row numbers (on data sorted by class they give the answer away)".into())
        }
        _ if present == 0 => return Some("no values".into()),
        ColumnValues::Numeric { .. } => return None,
        ColumnValues::Text | ColumnValues::Mixed { .. } => {}
    }
    if c.distinct == present && rows > 20 {
        Some("every value differs: an identifier, not a feature".into())
    } else if c.distinct > 20 && c.distinct * 2 > present {
        Some(format!("{} distinct values in {present} rows: near-unique text (a name, a timestamp)", c.distinct))
    } else if c.distinct > MAX_LEVELS {
        Some(format!("{} levels: one-hot encoding would add {0} columns to every model", c.distinct))
    } else {
        None
    }
}

/// `s` as a TOML basic string: quotes, backslashes and control characters escaped, and
/// invisible characters (zero-width, bidirectional marks) written as `\uXXXX` so that a
/// comment shows them; the string reads back as `s`.
pub fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || is_invisible(c) => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Format characters that print as nothing or reorder the text around them.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// The columns, each with the reason it is left out (if it is).
struct Plan<'a> {
    kept: Vec<&'a ColumnSummary>,
    excluded: Vec<(&'a ColumnSummary, String)>,
    classification: bool,
    /// Rows with a target.
    rows: usize,
}

/// The choices, or why no experiment can be made from the file.
fn plan<'a>(input: &InitInput<'a>) -> Result<Plan<'a>, String> {
    let t = input.target;
    let target = toml_string(&t.name);
    let rows = input.rows - t.missing.min(input.rows);
    match &t.values {
        ColumnValues::Unreadable(why) => return Err(format!("the target {target} cannot be read: {why}")),
        ColumnValues::Mixed { row, value } => {
            return Err(format!(
                "the target {target} holds numbers, but {row} holds {}: fix that cell, or list it as a \
                 missing-value token in the experiment's [dataset] missing",
                toml_string(value)
            ))
        }
        _ => {}
    }
    if rows == 0 {
        return Err(format!("the target {target} has no values"));
    }
    if rows < 2 {
        return Err(format!("only 1 row has a target ({target}): cross-validation needs at least 2"));
    }
    if t.distinct < 2 {
        return Err(format!("the target {target} holds one value in every row: there is nothing to predict"));
    }
    let text_target = !matches!(t.values, ColumnValues::Numeric { .. });
    if text_target && (t.distinct > MAX_LEVELS || (t.distinct > 20 && t.distinct * 2 > rows)) {
        return Err(format!(
            "the target {target} holds {} distinct text values in {rows} rows: too many classes to learn from",
            t.distinct
        ));
    }
    if input.features.is_empty() {
        return Err(format!("the file has no column besides the target {target}"));
    }
    let (mut kept, mut excluded) = (Vec::new(), Vec::new());
    for c in input.features {
        match exclusion(c, input.rows) {
            Some(why) => excluded.push((c, why)),
            None => kept.push(c),
        }
    }
    if kept.is_empty() {
        let why: Vec<String> = excluded.iter().map(|(c, why)| format!("{}: {why}", toml_string(&c.name))).collect();
        return Err(format!("no column is left to learn from ({})", why.join("; ")));
    }
    Ok(Plan { kept, excluded, classification: is_classification(t, rows), rows })
}

/// The experiment file's text, or why none can be written (the file passes `runner check`).
pub fn experiment_toml(input: &InitInput<'_>) -> Result<String, String> {
    let plan = plan(input)?;
    let mut out = String::new();
    let path = toml_string(input.path);
    let _ = writeln!(out, "# Written by `runner init` for {path} ({} rows). Check it, then run it:", input.rows);
    let _ = writeln!(out, "#   runner check THIS.toml && runner THIS.toml");
    let _ = writeln!(out, "name = {}\nseed = 0\n", toml_string(input.name));
    dataset_section(&mut out, input, &plan);
    preprocess_section(&mut out, &plan);
    split_section(&mut out, input, &plan);
    models_section(&mut out, &plan);
    Ok(out)
}

/// A multi-line array of names, each with its comment.
fn commented_list(out: &mut String, key: &str, items: &[(&ColumnSummary, String)]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "{key} = [");
    for (c, why) in items {
        let _ = writeln!(out, "  {},  # {why}", toml_string(&c.name));
    }
    let _ = writeln!(out, "]");
}

fn dataset_section(out: &mut String, input: &InitInput<'_>, plan: &Plan<'_>) {
    let t = input.target;
    let _ = writeln!(out, "[dataset]\npath = {}\ntarget = {}", toml_string(input.path), toml_string(&t.name));
    let why = match (plan.classification, &t.values) {
        (true, ColumnValues::Numeric { .. }) => {
            format!("the target holds {} distinct whole numbers; write \"regression\" if they are amounts", t.distinct)
        }
        (true, _) => format!("the target holds text ({} classes)", t.distinct),
        (false, _) => "the target holds numbers".to_string(),
    };
    let task = if plan.classification { "classification" } else { "regression" };
    let _ = writeln!(out, "task = \"{task}\"  # {why}");
    if t.missing > 0 {
        let _ = writeln!(out, "# {} row(s) without a target are dropped.", t.missing);
    }
    let text: Vec<String> = plan
        .kept
        .iter()
        .filter(|c| !matches!(c.values, ColumnValues::Numeric { .. }))
        .map(|c| toml_string(&c.name))
        .collect();
    if !text.is_empty() {
        let _ =
            writeln!(out, "# Text columns are one-hot encoded (hgb takes them as level codes): {}.", text.join(", "));
    }
    let mixed: Vec<(&ColumnSummary, String)> = plan
        .kept
        .iter()
        .filter_map(|c| match &c.values {
            ColumnValues::Mixed { row, value } => {
                Some((*c, format!("numbers, but {row} holds {}: read as categories", toml_string(value))))
            }
            _ => None,
        })
        .collect();
    commented_list(out, "categorical", &mixed);
    commented_list(out, "exclude", &plan.excluded);
    let _ = writeln!(out);
}

fn preprocess_section(out: &mut String, plan: &Plan<'_>) {
    let is_numeric = |c: &ColumnSummary| matches!(c.values, ColumnValues::Numeric { .. });
    let gaps: Vec<&ColumnSummary> = plan.kept.iter().copied().filter(|c| c.missing > 0).collect();
    let _ = writeln!(out, "[preprocess]");
    if gaps.iter().any(|c| is_numeric(c)) {
        let _ = writeln!(out, "impute = \"median\"  # numeric gaps, filled from each training part");
    }
    let _ = writeln!(out, "scale = \"standard\"  # fitted on each training part only");
    for c in gaps.iter().filter(|c| !is_numeric(c)) {
        let name = toml_string(&c.name);
        let _ = writeln!(out, "\n[preprocess.columns.{name}]\nimpute = \"mode\"  # {} missing", c.missing);
    }
    let _ = writeln!(out);
}

fn split_section(out: &mut String, input: &InitInput<'_>, plan: &Plan<'_>) {
    let folds = plan.rows.clamp(2, 5);
    let _ = writeln!(out, "[split]");
    if plan.classification && input.target.rarest >= folds {
        let _ = writeln!(out, "method = \"stratified_kfold\"  # keeps the class balance in every fold");
    } else {
        let _ = writeln!(out, "method = \"kfold\"");
    }
    let _ = writeln!(out, "folds = {folds}\nshuffle = true\n");
}

fn models_section(out: &mut String, plan: &Plan<'_>) {
    // A kernel machine's fit grows with the square of the rows: 15 fits on 3,921 rows took
    // 86 s of a starting experiment's 89.
    let small = plan.rows <= 2000;
    let mut models: Vec<&str> = if plan.classification {
        let mut m = vec![
            "name = \"logistic\"\nkind = \"logistic_regression\"\ngrid.c = { logspace = [-3, 3, 7] }",
            "name = \"tree\"\nkind = \"decision_tree\"\ngrid.max_depth = [2, 4, 8]",
        ];
        if small {
            m.push("name = \"svm\"\nkind = \"svm\"\ngrid.c = [0.1, 1, 10]");
        }
        m
    } else {
        vec![
            "name = \"ols\"\nkind = \"linear_regression\"",
            "name = \"ridge\"\nkind = \"ridge\"\ngrid.alpha = { logspace = [-3, 3, 7] }",
            "name = \"lasso\"\nkind = \"lasso\"\ngrid.alpha = { logspace = [-3, 1, 5] }",
            "name = \"tree\"\nkind = \"decision_tree\"\ngrid.max_depth = [2, 4, 8]",
        ]
    };
    // The ensembles people reach for first on tables, with scikit-learn's defaults.
    models.push("name = \"forest\"\nkind = \"random_forest\"\nn_estimators = 100");
    if plan.kept.iter().any(|c| !matches!(c.values, ColumnValues::Numeric { .. })) {
        models.push(
            "name = \"hgb\"\nkind = \"hist_gradient_boosting\"\n\
             categorical_features = \"from_dtype\"  # each categorical column one feature, split by sets of levels\n\
             grid.learning_rate = [0.05, 0.1]",
        );
    } else {
        models.push("name = \"hgb\"\nkind = \"hist_gradient_boosting\"\ngrid.learning_rate = [0.05, 0.1]");
    }
    let _ = writeln!(out, "# `runner models` lists every kind and parameter.");
    if plan.classification && !small {
        let _ = writeln!(out, "# No svm: on more than 2,000 rows its fits would take most of the run.");
    }
    for m in models {
        let _ = writeln!(out, "[[model]]\n{m}\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_as_toml_reads_them() {
        for name in ["a\n[report]\nx = 1", "e\u{301}", "zero\u{200B}width", "tab\tbell\u{7}", "q\"b\\", "\u{202E}rtl"] {
            let text = format!("k = {}  # {}\n", toml_string(name), toml_string(name));
            let parsed: toml::Table = toml::from_str(&text).unwrap();
            assert_eq!(parsed["k"].as_str(), Some(name), "{text}");
        }
    }
}
