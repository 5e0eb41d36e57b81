//! model.json: the refitted best trial, with everything `runner predict` needs (input
//! columns, their fitted preprocessing, the model's parameters). Deterministic (no
//! timestamps); floats are written in their shortest form that reads back exactly.
//! docs/MODEL.md describes the format.

use crate::after_sweep::refit::Refit;
use crate::config::Task;
use crate::data::Feature;
use crate::models::flat::FlatTree;
use crate::models::target::with_target;
use crate::models::{Fitted, ModelState};
use crate::plan::RunPlan;
use crate::preprocess::steps::{apply_checked, check_all, names_after, SavedStep};
use crate::preprocess::{apply_saved, SavedColumn, TargetTransform};
use crate::spec::catalog::TaskSupport;
use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The model.json format version this runner writes and reads.
pub const MODEL_SCHEMA_VERSION: u32 = 1;
pub const MODEL_KIND: &str = "runner-model";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    pub schema_version: u32,
    /// Always `runner-model`: tells model.json from report.json.
    pub kind: String,
    pub runner_version: String,
    pub experiment: SavedExperiment,
    pub dataset: SavedDataset,
    pub trial: SavedTrial,
    pub task: Task,
    pub target: SavedTarget,
    /// The input columns a new file must have, in order, with their fitted preprocessing.
    pub inputs: Vec<SavedColumn>,
    /// The model's own steps (`poly`, `standard`, ...), fitted after `inputs`, in order.
    /// Absent in files of models without steps (and in files older than steps).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<SavedStep>,
    /// The design-matrix columns the model's weights index (after one-hot encoding and the steps).
    pub features: Vec<String>,
    #[serde(deserialize_with = "crate::models::read_state", serialize_with = "crate::models::write_state")]
    pub model: ModelState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedExperiment {
    pub name: String,
    pub file: String,
    pub sha256: String,
    pub overrides: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedDataset {
    pub path: String,
    pub sha256: String,
    /// The rows the model learned from.
    pub rows_learned: usize,
    /// `[dataset] missing`: the cell values read as missing, in new files too.
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedTrial {
    pub id: String,
    pub model: String,
    pub kind: String,
    /// The parameters set in the experiment (fixed values and the grid point); the others
    /// took their defaults (`runner models`).
    pub params: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedTarget {
    pub name: String,
    /// Class labels in the order of the model's outputs (empty for regression).
    pub classes: Vec<String>,
    /// A regression model's target transform (`target = "log1p"`), fitted on the rows it
    /// learned from: the model predicts the transformed target, and `runner predict` takes
    /// its predictions back through the inverse. Absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<TargetTransform>,
}

/// model.json's content for `refit`.
pub fn model_file(plan: &RunPlan, refit: &Refit) -> ModelFile {
    let exp = &plan.experiment;
    let trial = plan.trials.iter().find(|t| t.id == refit.trial);
    let config = trial.and_then(|t| exp.models.iter().find(|m| m.name == t.model));
    let mut params: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let given = config
        .into_iter()
        .flat_map(|m| m.fixed.iter())
        .chain(trial.into_iter().flat_map(|t| t.grid.iter().map(|(k, v)| (k, v))));
    for (name, value) in given {
        params.insert(name.clone(), serde_json::to_value(value).unwrap_or(serde_json::Value::Null));
    }
    ModelFile {
        schema_version: MODEL_SCHEMA_VERSION,
        kind: MODEL_KIND.into(),
        runner_version: env!("CARGO_PKG_VERSION").into(),
        experiment: SavedExperiment {
            name: exp.name.clone(),
            file: exp.file.display().to_string(),
            sha256: exp.sha256.clone(),
            overrides: exp.overrides.clone(),
        },
        dataset: SavedDataset {
            path: exp.dataset.path.display().to_string(),
            sha256: plan.dataset.sha256.clone(),
            rows_learned: refit.rows,
            missing: exp.dataset.missing.clone(),
        },
        trial: SavedTrial {
            id: refit.trial.clone(),
            model: trial.map(|t| t.model.clone()).unwrap_or_default(),
            kind: trial.map(|t| t.spec.kind().name().to_string()).unwrap_or_default(),
            params,
        },
        task: plan.dataset.task(),
        target: SavedTarget {
            name: plan.dataset.target_name.clone(),
            classes: plan.dataset.class_names().to_vec(),
            transform: refit.target.clone(),
        },
        inputs: refit.preprocessing.clone(),
        steps: refit.steps.clone(),
        features: refit.features.clone(),
        model: refit.state.clone(),
    }
}

/// A model.json read back: the version is checked before anything else, so a file from
/// another version is refused by name rather than by a missing field.
pub fn parse_model_file(text: &str) -> Result<ModelFile, String> {
    if let Some(file) = parse_forest_lines(text) {
        return Ok(file);
    }
    // A file of this version reads straight into its types (a forest's nodes as a JSON tree
    // would take many times the model's memory); anything else takes the checks below, and
    // their errors.
    let direct = match serde_json::from_str::<ModelFile>(text) {
        Ok(file) if file.kind == MODEL_KIND && file.schema_version == MODEL_SCHEMA_VERSION => return Ok(file),
        other => other,
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    if value.get("kind").and_then(|k| k.as_str()) != Some(MODEL_KIND) {
        return Err(format!(
            "not a runner model file (its `kind` is not \"{MODEL_KIND}\"; report.json is not a model)"
        ));
    }
    match value.get("schema_version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(MODEL_SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(format!(
                "model.json has schema version {v}, but this runner reads version {MODEL_SCHEMA_VERSION}; \
                 refit it with this runner (run the experiment again)"
            ))
        }
        None if value.get("schema_version").is_some() => {
            let found = &value["schema_version"];
            return Err(format!("model.json's schema_version must be a whole number, not {found}"));
        }
        None => return Err("model.json has no schema_version".into()),
    }
    // A read of `value` keeps the last of repeated keys, as before; its error is reported as
    // the direct read's, which names the line and column.
    serde_json::from_value(value).map_err(|e| {
        let located = direct.err().map_or_else(|| e.to_string(), |d| d.to_string());
        format!("model.json is malformed: {located}")
    })
}

/// A forest's file as runner writes it, each tree on a line of its own, read with the trees
/// parsed on every thread: the rest of the file is read once with each tree line replaced by a
/// placeholder, then the tree lines in parallel (each by `FlatTree::from_line` when it is
/// written as runner writes it, else by serde). `None` (the whole file is then read as one)
/// unless the placeholders are exactly the forest's trees, in order, and everything reads:
/// - with a marker string for each line, the file's `model` is a forest whose `trees` are the
///   markers in order (so no tree line stood anywhere else);
/// - with `[]` for each line, the file reads straight as a `ModelFile` (so a key given twice, or
///   a marker copied into the file, leaves the file to the whole file's reading).
///
/// A line break only ever stands between two tokens, so each line starts outside any string,
/// and a line that reads alone as a tree is, in place, the value it replaces.
fn parse_forest_lines(text: &str) -> Option<ModelFile> {
    let lines = tree_lines(text);
    if lines.is_empty() {
        return None;
    }
    let marker = |k: usize| format!("\"\\u0000tree {k}\"");
    let marked: serde_json::Value = serde_json::from_str(&replace_lines(text, &lines, marker)).ok()?;
    let model = marked.get("model")?;
    let trees = model.get("trees")?.as_array()?;
    let in_place = trees.len() == lines.len()
        && trees.iter().enumerate().all(|(k, t)| t.as_str().is_some_and(|t| t == format!("\u{0}tree {k}")));
    if model.get("type")?.as_str()? != "forest" || !in_place {
        return None;
    }
    let mut file: ModelFile = serde_json::from_str(&replace_lines(text, &lines, |_| "[]".into())).ok()?;
    if file.kind != MODEL_KIND || file.schema_version != MODEL_SCHEMA_VERSION {
        return None;
    }
    let ModelState::Forest { trees, .. } = &mut file.model else { return None };
    let tree = |line: &str| FlatTree::from_line(line).or_else(|| serde_json::from_str(line).ok());
    *trees = lines.par_iter().map(|&(a, b)| tree(&text[a..b])).collect::<Option<_>>()?;
    Some(file)
}

/// The byte ranges of the lines that hold one array (JSON whitespace and a trailing comma left
/// out): a forest's trees, as runner writes them.
fn tree_lines(text: &str) -> Vec<(usize, usize)> {
    let blank = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let mut lines = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_start_matches(blank);
        let at = start + line.len() - body.len();
        let body = body.trim_end_matches(blank);
        let body = body.strip_suffix(',').unwrap_or(body);
        if body.len() >= 2 && body.starts_with('[') && body.ends_with(']') {
            lines.push((at, at + body.len()));
        }
        start += line.len();
    }
    lines
}

/// `text` with each of `lines` replaced by `by(k)`.
fn replace_lines(text: &str, lines: &[(usize, usize)], by: impl Fn(usize) -> String) -> String {
    let mut out = String::new();
    let mut from = 0;
    for (k, &(a, b)) in lines.iter().enumerate() {
        out.push_str(&text[from..a]);
        out.push_str(&by(k));
        from = b;
    }
    out.push_str(&text[from..]);
    out
}

impl ModelFile {
    /// The saved model, checked against the saved inputs, features and classes: every shape
    /// and every value must be one a refit could have written.
    pub fn predictor(&self) -> Result<Box<dyn Fitted>, String> {
        self.check_values().map_err(|e| format!("model.json is malformed: {e}"))?;
        let classes = match self.task {
            Task::Regression => 0,
            Task::Classification => self.target.classes.len(),
        };
        let kind = crate::kinds::kind_spec(&self.trial.kind).ok_or("trial.kind is not a model kind")?.kind;
        let model = crate::kinds::load(kind, self.model.clone(), self.features.len(), classes)
            .map_err(|e| format!("model.json is malformed: {e}"))?;
        Ok(with_target(model, self.target.transform.as_ref()))
    }

    /// New rows' columns through the saved preprocessing and steps: the model's matrix.
    pub fn design(&self, features: &[Feature]) -> Result<Array2<f64>, String> {
        let x = apply_saved(&self.inputs, features).map_err(|e| e.to_string())?;
        let names: Vec<String> = self.inputs.iter().flat_map(SavedColumn::feature_names).collect();
        apply_checked(&self.steps, x, &names)
    }

    /// Everything outside `model`: the provenance, the target's classes, the inputs and the
    /// features they make. Each problem names its field (`inputs[2].scale`).
    fn check_values(&self) -> Result<(), String> {
        for (at, hash) in [("experiment.sha256", &self.experiment.sha256), ("dataset.sha256", &self.dataset.sha256)] {
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("{at} is `{hash}`, not a sha256 (64 hexadecimal digits)"));
            }
        }
        if self.dataset.rows_learned == 0 {
            return Err("dataset.rows_learned is 0; a model learns from at least one row".into());
        }
        self.check_trial()?;
        self.check_classes()?;
        if self.inputs.is_empty() {
            return Err("inputs is empty; a model has at least one input column".into());
        }
        let mut names = std::collections::HashSet::new();
        for (i, input) in self.inputs.iter().enumerate() {
            if !names.insert(input.name()) {
                return Err(format!("inputs[{i}].name `{}` repeats an earlier input", input.name()));
            }
            if input.name() == self.target.name {
                return Err(format!("inputs[{i}] is the target `{}`", self.target.name));
            }
            input.check(&format!("inputs[{i}]"))?;
        }
        self.check_kept_gaps()?;
        self.check_features()
    }

    /// An input under `impute = "keep"` feeds NaN to the model: only a kind that takes NaN
    /// (hist_gradient_boosting), without steps, can have been trained so.
    fn check_kept_gaps(&self) -> Result<(), String> {
        let Some(i) = self.inputs.iter().position(SavedColumn::keeps_gaps) else { return Ok(()) };
        let kind = &self.trial.kind;
        if !crate::kinds::kind_spec(kind).is_some_and(|s| crate::plan::keep::takes_nan(s.kind)) {
            return Err(format!("inputs[{i}].impute is \"keep\", but a `{kind}` model cannot take NaN"));
        }
        if !self.steps.is_empty() {
            return Err(format!("inputs[{i}].impute is \"keep\", but the model's steps cannot take NaN"));
        }
        Ok(())
    }

    /// `trial.kind` is a model kind, for this task, saved as this `model.type`.
    fn check_trial(&self) -> Result<(), String> {
        let kind = &self.trial.kind;
        let Some(spec) = crate::kinds::kind_spec(kind) else {
            let hint = crate::suggest::suggestion(kind, crate::kinds::KINDS.iter().map(|k| k.name()));
            return Err(format!("trial.kind `{kind}` is not a model kind{hint}"));
        };
        let for_task = match spec.task {
            TaskSupport::Both => true,
            TaskSupport::Regression => self.task == Task::Regression,
            TaskSupport::Classification => self.task == Task::Classification,
        };
        if !for_task {
            return Err(format!("trial.kind `{kind}` does not do {}", self.task.name()));
        }
        if !crate::kinds::saves(spec.kind, &self.model) {
            return Err(format!("model.type `{}` is not how a `{kind}` model is saved", self.model.type_name()));
        }
        Ok(())
    }

    /// Classification: at least two distinct class labels; regression: none.
    fn check_classes(&self) -> Result<(), String> {
        let classes = &self.target.classes;
        if let Some(t) = &self.target.transform {
            if self.task != Task::Regression {
                return Err("target.transform is set, but only a regression target is transformed".into());
            }
            t.check().map_err(|e| format!("target.transform: {e}"))?;
        }
        match self.task {
            Task::Regression if !classes.is_empty() => {
                Err("target.classes must be empty for a regression model".into())
            }
            Task::Classification if classes.len() < 2 => {
                Err(format!("target.classes has {} label(s); a classifier has at least two", classes.len()))
            }
            _ => match crate::data::repeated_level(classes) {
                Some((i, label)) => Err(format!("target.classes[{i}] repeats the class `{label}`")),
                None => Ok(()),
            },
        }
    }

    /// `features` are the design-matrix columns the inputs make, in order.
    fn check_features(&self) -> Result<(), String> {
        let made: Vec<String> = self.inputs.iter().flat_map(SavedColumn::feature_names).collect();
        check_all(&self.steps, &made, "steps")?;
        let made = names_after(&self.steps, &made);
        if made.len() != self.features.len() {
            return Err(format!(
                "the inputs make {} design columns but `features` lists {}",
                made.len(),
                self.features.len()
            ));
        }
        match made.iter().zip(&self.features).position(|(a, b)| a != b) {
            Some(j) => Err(format!("features[{j}] is `{}`, but the inputs make `{}` there", self.features[j], made[j])),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A forest's file as the exporter writes it (one tree a line), with `params` and `trees` given.
    fn forest_file(params: &str, trees: &str) -> String {
        let hash = "0".repeat(64);
        format!(
            r#"{{
  "schema_version": 1,
  "kind": "runner-model",
  "runner_version": "0.1.0",
  "experiment": {{"name": "t", "file": "t.toml", "sha256": "{hash}", "overrides": []}},
  "dataset": {{"path": "d.csv", "sha256": "{hash}", "rows_learned": 4, "missing": []}},
  "trial": {{"id": "f", "model": "f", "kind": "random_forest", "params": {params}}},
  "task": "regression",
  "target": {{"name": "y", "classes": []}},
  "inputs": [{{"type": "numeric", "name": "x0", "impute": "error", "fill": null, "shift": 0.0, "scale": 1.0}}],
  "features": ["x0"],
  "model": {{
    "type": "forest",
    "classes": 0,
    {trees}
  }}
}}
"#
        )
    }

    const TREE_0: &str =
        r#"[{"split":{"feature":0,"threshold":0.5,"left":1,"right":2}},{"leaf":[1.0]},{"leaf":[2.0]}]"#;
    const TREE_1: &str = r#"[{"leaf":[3.0]}]"#;

    #[test]
    fn a_forests_tree_lines_read_in_parallel_as_the_whole_file_reads() {
        let text = forest_file("{}", &format!("\"trees\": [\n      {TREE_0},\n      {TREE_1}\n    ]"));
        let whole: ModelFile = serde_json::from_str(&text).unwrap();
        assert_eq!(parse_forest_lines(&text), Some(whole.clone()));
        assert!(matches!(&whole.model, ModelState::Forest { trees, .. } if trees.len() == 2));
        // Tree-like lines that are not exactly the forest's trees, or a key twice: the whole file is
        // read (or refused) as one, as before.
        let elsewhere = forest_file(&format!("{{\"p\":\n{TREE_1}\n}}"), &format!("\"trees\": [\n{TREE_0}\n]"));
        let duplicate = forest_file("{}", &format!("\"trees\": [],\n\"trees\": [\n{TREE_0}\n]"));
        let marker =
            forest_file(&format!("{{\"p\":\n{TREE_1}\n}}"), &format!("\"trees\": [\n{TREE_0},\n\"\\u0000tree 1\"]"));
        for (name, text, reads) in
            [("elsewhere", elsewhere, true), ("duplicate", duplicate, true), ("marker", marker, false)]
        {
            assert_eq!(parse_forest_lines(&text), None, "{name}");
            assert_eq!(parse_model_file(&text).is_ok(), reads, "{name}");
        }
    }

    /// A value of the wrong type (a negative child index, a null leaf) is refused with its line
    /// and column in the file.
    #[test]
    fn a_mistyped_value_is_refused_at_its_line_and_column() {
        let negative = TREE_0.replace("\"left\":1", "\"left\":-1");
        let null_leaf = TREE_1.replace("3.0", "null");
        for (tree, what) in [(negative, "integer `-1`"), (null_leaf, "null")] {
            let text = forest_file("{}", &format!("\"trees\": [\n      {tree}\n    ]"));
            let e = parse_model_file(&text).unwrap_err();
            assert!(
                e.starts_with("model.json is malformed: ") && e.contains(what) && e.contains(" at line 16 column"),
                "{e}"
            );
        }
    }

    #[test]
    fn kept_gaps_load_only_for_a_kind_that_takes_nan() {
        let text = forest_file("{}", &format!("\"trees\": [\n      {TREE_0}\n    ]"));
        let kept = text.replace("\"impute\": \"error\"", "\"impute\": \"keep\"");
        assert!(parse_model_file(&text).unwrap().predictor().is_ok());
        let error = parse_model_file(&kept).unwrap().predictor().err().unwrap();
        assert!(error.contains("inputs[0].impute is \"keep\", but a `random_forest` model cannot take NaN"), "{error}");
    }
}
