//! `runner init`: a commented starting experiment for a data file, from a summary of its
//! columns. Pure: the summary in, TOML text out (the command reads the file and writes).

use crate::data::ColumnSummary;
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

/// Classes, when the target is text or a few whole numbers (at most 20 and under 5% of the
/// rows); otherwise regression.
fn is_classification(target: &ColumnSummary, rows: usize) -> bool {
    !target.numeric || (target.integer && target.distinct <= 20 && target.distinct * 20 < rows.max(1))
}

/// A text column whose every value differs (an id, a name) teaches nothing.
fn looks_like_an_id(c: &ColumnSummary, rows: usize) -> bool {
    !c.numeric && c.distinct + c.missing == rows && rows > 20
}

/// The experiment file's text.
pub fn experiment_toml(input: &InitInput<'_>) -> String {
    let classification = is_classification(input.target, input.rows);
    let mut out = String::new();
    let _ =
        writeln!(out, "# Written by `runner init` for {} ({} rows). Check it, then run it:", input.path, input.rows);
    let _ = writeln!(out, "#   runner check THIS.toml && runner THIS.toml");
    let _ = writeln!(out, "name = {:?}\nseed = 0\n", input.name);
    dataset_section(&mut out, input, classification);
    preprocess_section(&mut out, input);
    split_section(&mut out, input, classification);
    models_section(&mut out, input, classification);
    out
}

fn dataset_section(out: &mut String, input: &InitInput<'_>, classification: bool) {
    let t = input.target;
    let _ = writeln!(out, "[dataset]\npath = {:?}\ntarget = {:?}", input.path, t.name);
    let why = match (classification, t.numeric) {
        (true, false) => format!("the target holds text ({} classes)", t.distinct),
        (true, true) => format!("the target holds {} distinct whole numbers", t.distinct),
        (false, _) => "the target holds numbers".to_string(),
    };
    let task = if classification { "classification" } else { "regression" };
    let _ = writeln!(out, "task = \"{task}\"  # {why}");
    if t.missing > 0 {
        let _ = writeln!(out, "# {} row(s) without a target are dropped.", t.missing);
    }
    let text: Vec<&str> = input.features.iter().filter(|c| !c.numeric).map(|c| c.name.as_str()).collect();
    if !text.is_empty() {
        let _ = writeln!(out, "# Text columns are one-hot encoded: {}.", text.join(", "));
    }
    let ids: Vec<&str> =
        input.features.iter().filter(|c| looks_like_an_id(c, input.rows)).map(|c| c.name.as_str()).collect();
    if !ids.is_empty() {
        let _ = writeln!(out, "exclude = {ids:?}  # every value differs: an identifier, not a feature");
    }
    let _ = writeln!(out);
}

fn preprocess_section(out: &mut String, input: &InitInput<'_>) {
    let gaps: Vec<&ColumnSummary> = input.features.iter().filter(|c| c.missing > 0).collect();
    let _ = writeln!(out, "[preprocess]");
    if gaps.iter().any(|c| c.numeric) {
        let _ = writeln!(out, "impute = \"median\"  # numeric gaps, filled from each training part");
    }
    let _ = writeln!(out, "scale = \"standard\"  # fitted on each training part only");
    for c in gaps.iter().filter(|c| !c.numeric) {
        let _ = writeln!(out, "\n[preprocess.columns.{:?}]\nimpute = \"mode\"  # {} missing", c.name, c.missing);
    }
    let _ = writeln!(out);
}

fn split_section(out: &mut String, input: &InitInput<'_>, classification: bool) {
    let folds = input.rows.clamp(2, 5);
    let _ = writeln!(out, "[split]");
    if classification && input.target.rarest >= folds {
        let _ = writeln!(out, "method = \"stratified_kfold\"  # keeps the class balance in every fold");
    } else {
        let _ = writeln!(out, "method = \"kfold\"");
    }
    let _ = writeln!(out, "folds = {folds}\nshuffle = true\n");
}

fn models_section(out: &mut String, input: &InitInput<'_>, classification: bool) {
    let small = input.rows <= 5000;
    let models: Vec<&str> = if classification {
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
    let _ = writeln!(out, "# `runner models` lists every kind and parameter.");
    for m in models {
        let _ = writeln!(out, "[[model]]\n{m}\n");
    }
}
