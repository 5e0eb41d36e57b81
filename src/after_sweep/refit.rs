//! After the sweep: the best trial fitted once more, with its preprocessing, on the rows the
//! split lets it learn from, as scikit-learn's `GridSearchCV(refit=True)` does. The result is
//! plain data that model.json saves and `runner predict` applies to new rows.
//!
//! - `holdout`, `column` with train/test values, and `none`: the (only) fold's training
//!   part with the seed of the sweep's unit, so the model and its test metrics equal the
//!   sweep's (for `none`, the training part is every row);
//! - k-fold variants (repeated, grouped), time series and `column` with fold ids: every row, with the seed of (trial, fold =
//!   number of folds), one past the sweep's.

use crate::config::{Metric, SplitMethod};
use crate::data::SplitColumn;
use crate::models::ModelState;
use crate::plan::RunPlan;
use crate::preprocess::steps::SavedStep;
use crate::preprocess::{fit_saved, prepare_fold_steps, SavedColumn, TargetTransform};
use crate::split::Fold;
use crate::sweep::unit::{fit_unit, Stage};
use crate::sweep::{metric_value, EnvironmentError, Refitted, SweepInput};
use crate::trial::{unit_seed, SeedStream, Trial};

/// The refitted best trial.
#[derive(Debug, Clone)]
pub struct Refit {
    pub trial: String,
    /// Rows it learned from.
    pub rows: usize,
    /// True when it learned from a holdout split's training part, not from every row.
    pub training_part_only: bool,
    pub preprocessing: Vec<SavedColumn>,
    /// The model's own steps, fitted on the same rows after `preprocessing`.
    pub steps: Vec<SavedStep>,
    /// The columns the model takes: `preprocessing`'s, through `steps`.
    pub features: Vec<String>,
    /// The regression target's transform, fitted on the same rows (`target = "log1p"`).
    pub target: Option<TargetTransform>,
    pub state: ModelState,
    /// The single fold's test metrics (holdout-like splits and `none`); they equal the sweep's.
    pub test: Vec<(Metric, Option<f64>)>,
    /// The refitted model's impurity importances by design-matrix column (trees and forests).
    pub impurity_importance: Option<Vec<f64>>,
}

/// Why the best trial could not be refitted.
#[derive(Debug, Clone)]
pub struct RefitFailure {
    pub trial: String,
    pub reason: String,
}

/// Whether the refit learns from the (only) fold's training part, not every row.
fn single_fold(plan: &RunPlan) -> bool {
    match plan.split.method {
        SplitMethod::Holdout | SplitMethod::None => true,
        SplitMethod::Column => matches!(plan.dataset.split_column, Some(SplitColumn::TrainTest(_))),
        SplitMethod::Kfold | SplitMethod::StratifiedKfold | SplitMethod::GroupKfold | SplitMethod::Timeseries => false,
    }
}

/// The rows the refit learns from and is tested on, and the fold its seed is derived from.
pub(crate) fn refit_fold(plan: &RunPlan) -> (Fold, usize) {
    match plan.split.folds.first() {
        Some(fold) if single_fold(plan) => (fold.clone(), 0),
        _ => (Fold { train: (0..plan.dataset.rows()).collect(), test: Vec::new() }, plan.split.folds.len()),
    }
}

/// Fits `trial` on the refit rows. The inner error says why it could not be fitted; the
/// outer one is the environment's failure (a streamed file that changed), which stops the run.
pub fn refit(plan: &RunPlan, trial: &Trial) -> Result<Result<Refit, RefitFailure>, EnvironmentError> {
    let refitted = if plan.stream().is_some() { refit_streamed(plan, trial)? } else { refit_rows(plan, trial) };
    Ok(refitted.map_err(|reason| RefitFailure { trial: trial.id.clone(), reason }))
}

/// The refit over a stream: the same rows and seed as `refit_rows` chooses.
fn refit_streamed(plan: &RunPlan, trial: &Trial) -> Result<Result<Refit, String>, EnvironmentError> {
    let (Some(stream), Some(blocks)) = (plan.stream(), &plan.split.blocks) else {
        return Ok(Err("the stream's fold blocks are missing".into()));
    };
    let Some(t) = plan.trials.iter().position(|x| x.id == trial.id) else {
        return Ok(Err("the trial is not in the plan".into()));
    };
    let (held_out, seed_fold) = if single_fold(plan) { (Some(0), 0) } else { (None, blocks.folds) };
    let refitted = crate::sweep::refit_streamed(&SweepInput::of(plan), stream, blocks, t, held_out, seed_fold)?;
    Ok(refitted.and_then(|r| saved_refit(plan, trial, r, held_out.is_some())))
}

/// The streamed refit as model.json saves it.
fn saved_refit(plan: &RunPlan, trial: &Trial, r: Refitted, training_part_only: bool) -> Result<Refit, String> {
    let state = r.model.state().ok_or_else(|| format!("{} cannot be saved", trial.spec.kind().name()))?;
    let test = match r.test {
        Some(values) => plan.metrics.iter().map(|&m| (m, values.get(&m).copied().flatten())).collect(),
        None => Vec::new(),
    };
    let (rows, preprocessing, steps) = (r.rows, r.preprocessing, r.steps);
    let features = r.features.unwrap_or_else(|| plan.feature_names.clone());
    let impurity_importance = r.model.impurity_importance();
    Ok(Refit {
        trial: trial.id.clone(),
        rows,
        training_part_only,
        preprocessing,
        steps,
        features,
        target: None,
        state,
        test,
        impurity_importance,
    })
}

fn refit_rows(plan: &RunPlan, trial: &Trial) -> Result<Refit, String> {
    let (fold, seed_fold) = refit_fold(plan);
    let training_part_only = fold.train.len() < plan.dataset.rows();
    let cfg = &plan.experiment.preprocess;
    let (data, steps) =
        prepare_fold_steps(&plan.dataset, cfg, &fold, &trial.steps, trial.target).map_err(|e| e.to_string())?;
    let preprocessing = fit_saved(&plan.dataset, cfg, &fold.train).map_err(|e| e.to_string())?;
    let seed = unit_seed(plan.experiment.seed, SeedStream::Unit { trial: &trial.id, fold: seed_fold });
    let classes = plan.dataset.class_names();
    let saved = |model: Box<dyn crate::models::Fitted>| {
        let test = if !fold.test.is_empty() {
            let prediction = model.predict(&data.test_x);
            let value = |m: Metric| {
                Some(metric_value(m, &data.test_y, data.test_w.as_deref(), &prediction)).filter(|v| v.is_finite())
            };
            plan.metrics.iter().map(|&m| (m, value(m))).collect()
        } else {
            Vec::new()
        };
        (model.state(), test, model.impurity_importance())
    };
    let (state, test, impurity_importance) =
        fit_unit(Stage::Refit, &trial.spec, &data, classes, seed, saved).map_err(|e| e.to_string())?;
    let state = state.ok_or_else(|| format!("{} cannot be saved", trial.spec.kind().name()))?;
    let features = data.names.clone().unwrap_or_else(|| plan.feature_names.clone());
    let rows = fold.train.len();
    Ok(Refit {
        trial: trial.id.clone(),
        rows,
        training_part_only,
        preprocessing,
        steps,
        features,
        target: data.target.as_ref().map(|t| t.transform.clone()),
        state,
        test,
        impurity_importance,
    })
}
