//! Nested cross-validation (`[split.outer]`), as scikit-learn's
//! `cross_val_score(GridSearchCV(estimator, grid, cv=inner), X, y, cv=outer)`: for each
//! outer fold, every trial is swept over the inner split of the outer training rows, the
//! trial with the best inner mean (the first in trial order on a tie, as GridSearchCV's
//! `rank_test_score`) is refitted on all the outer training rows and scored on the outer
//! test rows. The outer scores are the honest estimate; the selection never sees them.
//!
//! Runs after the sweep, in `run` and in `merge` (it is not sharded or resumed by unit).
//! Outer fold `o`'s units derive their seeds from `unit_seed(seed, SeedStream::Outer(o))`.

use crate::config::Metric;
use crate::plan::RunPlan;
use crate::preprocess::prepare_fold_steps;
use crate::sweep::unit::{fit_unit, Stage};
use crate::sweep::{self, metric_value, SweepInput, UnitFilter};
use crate::trial::{unit_seed, SeedStream, Status, UnitRecord};
use std::collections::HashSet;
use std::sync::atomic::AtomicBool;

/// One outer fold: the trial the inner search chose, its inner mean, its outer test score.
#[derive(Debug, Clone)]
pub struct OuterFold {
    pub chosen: Option<String>,
    pub inner_mean: Option<f64>,
    pub test: Option<f64>,
    /// Why no trial could be chosen or scored.
    pub reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Nested {
    pub metric: Metric,
    pub folds: Vec<OuterFold>,
}

/// The nested cross-validation of `plan`, on `jobs` threads; `None` without `[split.outer]`.
/// An environment failure stops it whole (it is never an outer fold's failure).
pub fn nested_cv(plan: &RunPlan, jobs: usize) -> Result<Option<Nested>, sweep::EnvironmentError> {
    let Some(nested) = plan.nested() else { return Ok(None) };
    let folds = (0..nested.outer.folds.len()).map(|o| outer_fold(plan, o, jobs)).collect::<Result<_, _>>()?;
    Ok(Some(Nested { metric: plan.rank_by, folds }))
}

fn outer_fold(plan: &RunPlan, o: usize, jobs: usize) -> Result<OuterFold, sweep::EnvironmentError> {
    let Some(nested) = plan.nested() else { return Ok(failed("no nested plan")) };
    let (Some(outer), Some(inner)) = (nested.outer.folds.get(o), nested.inner.get(o)) else {
        return Ok(failed("no such outer fold"));
    };
    let seed = unit_seed(plan.experiment.seed, SeedStream::Outer(o));
    let input = SweepInput {
        dataset: &plan.dataset,
        preprocess: &plan.experiment.preprocess,
        plan: inner,
        trials: &plan.trials,
        metrics: &[plan.rank_by],
        rank_by: plan.rank_by,
        seed,
        shortcuts: true,
        stream: None,
        progress: None,
        keep: None,
        order: sweep::UnitOrder::FoldMajor,
    };
    let done = HashSet::new();
    let filter = UnitFilter { done: &done, shard: None };
    let records = sweep::run(&input, jobs, &filter, &AtomicBool::new(false), &|_| {})?;
    let Some((t, inner_mean)) = best_by_inner_mean(plan, &records, inner.folds.len()) else {
        return Ok(failed("no trial has a score on every inner fold"));
    };
    let trial = &plan.trials[t];
    let chosen = Some(trial.id.clone());
    let scored = prepare_fold_steps(&plan.dataset, &plan.experiment.preprocess, outer, &trial.steps, trial.target)
        .map_err(|e| e.to_string())
        .and_then(|(data, _)| {
            let classes = plan.dataset.class_names();
            let seed = unit_seed(seed, SeedStream::Unit { trial: &trial.id, fold: inner.folds.len() });
            let score = |model: Box<dyn crate::models::Fitted>| {
                metric_value(plan.rank_by, &data.test_y, data.test_w.as_deref(), &model.predict(&data.test_x))
            };
            fit_unit(Stage::Nested, &trial.spec, &data, classes, seed, score).map_err(|e| e.to_string())
        });
    Ok(match scored {
        Ok(v) if v.is_finite() => OuterFold { chosen, inner_mean: Some(inner_mean), test: Some(v), reason: None },
        Ok(_) => OuterFold { chosen, inner_mean: Some(inner_mean), test: None, reason: Some("no finite score".into()) },
        Err(e) => OuterFold { chosen, inner_mean: Some(inner_mean), test: None, reason: Some(e) },
    })
}

fn failed(reason: &str) -> OuterFold {
    OuterFold { chosen: None, inner_mean: None, test: None, reason: Some(reason.into()) }
}

/// The trial (index) with the best mean rank metric over `folds` inner folds, among those
/// ok on all of them with a score that is a number; ties go to the first in trial order.
fn best_by_inner_mean(plan: &RunPlan, records: &[UnitRecord], folds: usize) -> Option<(usize, f64)> {
    let metric = plan.rank_by;
    let mut best: Option<(usize, f64)> = None;
    for (t, trial) in plan.trials.iter().enumerate() {
        let values: Option<Vec<f64>> = (0..folds)
            .map(|f| {
                let r = records.iter().find(|r| r.trial == trial.id && r.fold == f)?;
                (r.status == Status::Ok).then_some(())?;
                r.test.get(&metric).copied().flatten()
            })
            .collect();
        let Some(values) = values else { continue };
        let mean = values.iter().sum::<f64>() / folds as f64;
        // A NaN mean (a fold without rows to score) is no score: it never wins.
        if mean.is_nan() {
            continue;
        }
        let better = best.is_none_or(|(_, b)| if metric.higher_is_better() { mean > b } else { mean < b });
        if better {
            best = Some((t, mean));
        }
    }
    best
}
