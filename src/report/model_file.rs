//! model.json: the refitted best trial, with everything `runner predict` needs (input
//! columns, their fitted preprocessing, the model's parameters). Deterministic (no
//! timestamps); floats are written in their shortest form that reads back exactly.
//! docs/MODEL.md describes the format.

use crate::config::Task;
use crate::models::{Fitted, ModelState};
use crate::plan::RunPlan;
use crate::preprocess::SavedColumn;
use crate::refit::Refit;
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
    /// The design-matrix columns the model's weights index (after one-hot encoding).
    pub features: Vec<String>,
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
        task: plan.dataset.target.task(),
        target: SavedTarget {
            name: plan.dataset.target_name.clone(),
            classes: plan.dataset.target.class_names().to_vec(),
        },
        inputs: refit.preprocessing.clone(),
        features: plan.feature_names.clone(),
        model: refit.state.clone(),
    }
}

/// A model.json read back: the version is checked before anything else, so a file from
/// another version is refused by name rather than by a missing field.
pub fn parse_model_file(text: &str) -> Result<ModelFile, String> {
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
        None => return Err("model.json has no schema_version".into()),
    }
    serde_json::from_value(value).map_err(|e| format!("model.json is malformed: {e}"))
}

impl ModelFile {
    /// The saved model, checked against the saved inputs, features and classes.
    pub fn predictor(&self) -> Result<Box<dyn Fitted>, String> {
        let width: usize = self.inputs.iter().map(SavedColumn::width).sum();
        if width != self.features.len() {
            return Err(format!("the inputs make {width} design columns but `features` lists {}", self.features.len()));
        }
        let classes = match self.task {
            Task::Regression => 0,
            Task::Classification => self.target.classes.len(),
        };
        self.model.clone().into_fitted(width, classes).map_err(|e| format!("model.json's model is malformed: {e}"))
    }
}
