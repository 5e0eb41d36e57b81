//! Turns an experiment file into a [`RunPlan`]: the checked config, the loaded dataset, the
//! fold plan and the trial list. Everything a user can get wrong is caught here, before any
//! training, and reported together.

use crate::config::{self, ConfigErrors, Experiment, Metric, SplitConfig, Task};
use crate::data::{self, DataError, Dataset, Target};
use crate::preprocess::feature_names;
use crate::spec::{spec_of, TaskSupport};
use crate::split::{plan_split, SplitPlan};
use crate::trial::{expand_trials, Trial};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::Path;

pub struct RunPlan {
    pub experiment: Experiment,
    pub dataset: Dataset,
    pub split: SplitPlan,
    pub trials: Vec<Trial>,
    pub metrics: Vec<Metric>,
    pub rank_by: Metric,
    /// Design-matrix column names (after one-hot).
    pub feature_names: Vec<String>,
    /// What the user should know before the run starts (not errors).
    pub warnings: Vec<String>,
}

impl RunPlan {
    pub fn units(&self) -> usize {
        self.trials.len() * self.split.folds.len()
    }

    /// The sweep's view of this plan (shortcuts on).
    pub fn sweep_input(&self) -> crate::sweep::SweepInput<'_> {
        crate::sweep::SweepInput {
            dataset: &self.dataset,
            preprocess: &self.experiment.preprocess,
            plan: &self.split,
            trials: &self.trials,
            metrics: &self.metrics,
            rank_by: self.rank_by,
            seed: self.experiment.seed,
            shortcuts: true,
        }
    }

    /// Whether a stored unit record (from trials.jsonl or a shard) belongs to this plan: a
    /// trial it has and a fold in range.
    pub fn owns(&self, r: &crate::trial::UnitRecord) -> Result<(), String> {
        if !self.trials.iter().any(|t| t.id == r.trial) {
            return Err(format!("trial `{}` is not in this experiment", r.trial));
        }
        let folds = self.split.folds.len();
        if r.fold >= folds {
            return Err(format!("trial `{}` has fold {} of {folds}", r.trial, r.fold + 1));
        }
        Ok(())
    }

    /// What trials.jsonl results are valid for: the experiment text, the overrides, the
    /// data and the runner version.
    pub fn run_key(&self) -> String {
        let mut h = Sha256::new();
        h.update(env!("CARGO_PKG_VERSION"));
        h.update(b"\n");
        h.update(&self.experiment.sha256);
        for o in &self.experiment.overrides {
            h.update(b"\n--set ");
            h.update(o);
        }
        h.update(b"\n");
        h.update(&self.dataset.sha256);
        format!("{:x}", h.finalize())
    }
}

#[derive(Debug)]
pub enum PlanError {
    Read {
        path: String,
        message: String,
    },
    Config(ConfigErrors),
    Data(DataError),
    /// Problems found by checking the config against the data, each a full message.
    Checks(Vec<String>),
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::Read { path, message } => {
                write!(f, "error: cannot read experiment file `{path}`: {message}")
            }
            PlanError::Config(e) => write!(f, "{e}"),
            PlanError::Data(e) => write!(f, "error: {e}"),
            PlanError::Checks(list) => {
                let lines: Vec<String> = list.iter().map(|m| format!("error: {m}")).collect();
                write!(f, "{}", lines.join("\n"))
            }
        }
    }
}

/// Reads, validates and plans one experiment file.
pub fn prepare(file: &Path, overrides: &[String]) -> Result<RunPlan, PlanError> {
    let bytes = std::fs::read(file)
        .map_err(|e| PlanError::Read { path: file.display().to_string(), message: e.to_string() })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = valid.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        PlanError::Read {
            path: file.display().to_string(),
            message: format!("byte {column} of line {line} is not UTF-8 (the file must be UTF-8 text)"),
        }
    })?;
    let experiment = config::parse_experiment(file, &text, overrides).map_err(PlanError::Config)?;
    let dataset = data::load(&experiment).map_err(PlanError::Data)?;
    let task = dataset.target.task();
    let mut problems = Vec::new();

    for m in &experiment.models {
        let spec = spec_of(m.kind);
        let fits = matches!(
            (spec.task, task),
            (TaskSupport::Both, _)
                | (TaskSupport::Regression, Task::Regression)
                | (TaskSupport::Classification, Task::Classification)
        );
        if !fits {
            let (is, task_name) = match task {
                Task::Regression => ("a classifier", "regression"),
                Task::Classification => ("a regressor", "classification"),
            };
            problems.push(format!(
                "{}: model `{}` (kind {}) is {is}, but the task is {task_name} (target `{}`)",
                experiment.location(&format!("model.{}.kind", m.name)),
                m.name,
                spec.name(),
                dataset.target_name
            ));
        }
    }

    let n_classes = match &dataset.target {
        Target::Classification { classes, .. } => classes.len(),
        Target::Regression(_) => 0,
    };
    let mut metrics = experiment.report.metrics.clone().unwrap_or_else(|| {
        let mut d = Metric::defaults_for(task);
        if n_classes > 2 {
            d.retain(|m| *m != Metric::RocAuc);
        }
        d
    });
    let rank_by = experiment.report.rank_by.unwrap_or(match task {
        Task::Regression => Metric::Mse,
        Task::Classification => Metric::Accuracy,
    });
    if !metrics.contains(&rank_by) {
        metrics.insert(0, rank_by);
    }
    for m in &metrics {
        if m.task() != task {
            let key = if experiment.report.rank_by == Some(*m) { "report.rank_by" } else { "report.metrics" };
            problems.push(format!(
                "{}: metric `{}` is for {} but the task is {}",
                experiment.location(key),
                m.name(),
                if m.task() == Task::Regression { "regression" } else { "classification" },
                if task == Task::Regression { "regression" } else { "classification" }
            ));
        }
        if *m == Metric::RocAuc && n_classes > 2 {
            problems.push(format!(
                "{}: roc_auc is defined here for binary targets, but `{}` has {n_classes} classes",
                experiment.location("report.metrics"),
                dataset.target_name
            ));
        }
    }

    let classes = match &dataset.target {
        Target::Classification { labels, classes } => Some((labels.as_slice(), classes.as_slice())),
        Target::Regression(_) => None,
    };
    let needs_classes =
        matches!(experiment.split, SplitConfig::StratifiedKFold { .. } | SplitConfig::Holdout { stratify: true, .. });
    let split = if needs_classes && classes.is_none() {
        problems.push(format!(
            "{}: stratified splits need a classification target, but `{}` is {}; use method = \"kfold\", or set task = \"classification\"",
            experiment.location(if matches!(experiment.split, SplitConfig::Holdout { .. }) { "split.stratify" } else { "split.method" }),
            dataset.target_name,
            "a regression target"
        ));
        None
    } else {
        match plan_split(&experiment.split, dataset.rows(), classes, dataset.split_column.as_ref(), experiment.seed) {
            Ok(p) => Some(p),
            Err(e) => {
                let key = match experiment.split {
                    SplitConfig::Holdout { .. } => "split.test_size",
                    SplitConfig::KFold { .. } | SplitConfig::StratifiedKFold { .. } => "split.folds",
                    SplitConfig::Column { .. } => "split.column",
                    SplitConfig::None => "",
                };
                problems.push(format!("{}: {e}", experiment.location(key)));
                None
            }
        }
    };
    let Some(split) = split.filter(|_| problems.is_empty()) else {
        return Err(PlanError::Checks(problems));
    };
    // Count before expanding: a runaway grid is refused before anything is allocated.
    let points: u128 = experiment
        .models
        .iter()
        .map(|m| m.grid.iter().fold(1u128, |n, (_, v)| n.saturating_mul(v.len() as u128)))
        .fold(0u128, u128::saturating_add);
    let units = points.saturating_mul(split.folds.len() as u128);
    if units > u128::from(experiment.max_units) {
        return Err(PlanError::Checks(vec![format!(
            "{}: the grids plan {units} units ({points} trials × {} folds), more than max_units = {}; \
             narrow the grids, or raise `max_units` at the top of the file",
            experiment.file.display(),
            split.folds.len(),
            experiment.max_units
        )]));
    }
    let trials = expand_trials(&experiment.models)
        .map_err(|e| PlanError::Checks(vec![format!("{}: {e}", experiment.file.display())]))?;
    let feature_names = feature_names(&dataset, experiment.preprocess.drop_first);
    let warnings = wide_one_hot_warnings(&dataset);
    Ok(RunPlan { experiment, dataset, split, trials, metrics, rank_by, feature_names, warnings })
}

/// Categorical columns with so many levels that one-hot encoding makes the dense design
/// matrix (and permutation importance) expensive.
fn wide_one_hot_warnings(ds: &Dataset) -> Vec<String> {
    const MANY_LEVELS: usize = 1000;
    ds.features
        .iter()
        .filter_map(|f| match f {
            crate::data::Feature::Categorical { name, categories, .. } if categories.len() > MANY_LEVELS => {
                Some(format!(
                    "column `{name}` has {} categories: one-hot encoding makes {} dense columns of {} rows each; \
                 consider [dataset] exclude, or `permutation_importance = false` in [report]",
                    categories.len(),
                    categories.len(),
                    ds.rows()
                ))
            }
            _ => None,
        })
        .collect()
}
