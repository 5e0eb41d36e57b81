//! Turns an experiment file into a [`RunPlan`]: the checked config, the loaded dataset, the
//! fold plan and the trial list. Everything a user can get wrong is caught here, before any
//! training, and reported together.

use crate::config::{
    self, ConfigErrors, Experiment, FillValue, Impute, Key, Metric, MinResources, ModelConfig, ModelKey, PreprocessKey,
    ReportKey, SearchConfig, SearchKey, SplitConfig, SplitKey, Task,
};
use crate::data::{self, DataError, Dataset, Target};
use crate::kinds::spec_of;
use crate::preprocess::feature_names;
use crate::spec::{ParamValue, TaskSupport};
use crate::split::{plan_split, resample, train_sizes, Fold, SplitPlan};
use crate::trial::{expand_trials, Trial};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::Path;

pub mod keep;
mod steps;
pub mod streaming;

pub use streaming::{DataMode, StreamPlan};

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
    /// The best trial's learning-curve training sizes in rows (`[report] learning_curve`).
    pub learning_sizes: Vec<usize>,
    /// Loaded (with its protocols) or streamed.
    pub mode: Mode,
    /// The parsed-data cache entry a miss is writing meanwhile (`finish` before exiting).
    pub cache_write: Option<crate::data::cache::PendingWrite>,
}

/// How a run reads its rows. Nested CV and successive halving need the rows in memory (a
/// stream refuses both, in `streaming::problems`); on loaded data they may run together.
/// A run holds one, so the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Mode {
    Loaded {
        /// Nested cross-validation (`[split.outer]`): the outer folds and, per outer fold,
        /// the inner split of its training rows (dataset row indices).
        nested: Option<NestedPlan>,
        /// `[search] method = "halving"`: the rounds and their subsampled folds.
        halving: Option<HalvingPlan>,
    },
    /// The data is streamed from disk (`dataset` then holds its schema and counts only).
    Streamed(StreamPlan),
}

/// Successive halving's rounds (HalvingGridSearchCV with rows as the resource). The sweep
/// runs over `folds`: fold `r × k + f` is base fold `f` subsampled for round `r`.
pub struct HalvingPlan {
    pub factor: u32,
    pub min_resources: usize,
    pub max_resources: usize,
    /// Rows per round (`n_resources_`).
    pub rounds: Vec<usize>,
    /// Candidates per round (`n_candidates_`): all trials, then ceil(previous / factor).
    pub candidates: Vec<usize>,
    pub folds: SplitPlan,
}

impl HalvingPlan {
    /// Base folds per round.
    pub fn base_folds(&self) -> usize {
        self.folds.folds.len() / self.rounds.len().max(1)
    }
}

/// The folds of a nested cross-validation.
pub struct NestedPlan {
    pub outer: SplitPlan,
    /// `inner[o]`: the inner split of outer fold `o`'s training rows.
    pub inner: Vec<SplitPlan>,
}

impl RunPlan {
    pub fn nested(&self) -> Option<&NestedPlan> {
        match &self.mode {
            Mode::Loaded { nested, .. } => nested.as_ref(),
            Mode::Streamed(_) => None,
        }
    }

    pub fn halving(&self) -> Option<&HalvingPlan> {
        match &self.mode {
            Mode::Loaded { halving, .. } => halving.as_ref(),
            Mode::Streamed(_) => None,
        }
    }

    pub fn stream(&self) -> Option<&StreamPlan> {
        match &self.mode {
            Mode::Streamed(stream) => Some(stream),
            Mode::Loaded { .. } => None,
        }
    }

    pub fn stream_mut(&mut self) -> Option<&mut StreamPlan> {
        match &mut self.mode {
            Mode::Streamed(stream) => Some(stream),
            Mode::Loaded { .. } => None,
        }
    }

    /// The folds the sweep runs over: the split's, or every halving round's.
    pub fn sweep_split(&self) -> &SplitPlan {
        self.halving().map_or(&self.split, |h| &h.folds)
    }

    /// The (trial, fold) units the sweep runs.
    pub fn units(&self) -> usize {
        match self.halving() {
            Some(h) => h.candidates.iter().sum::<usize>() * h.base_folds(),
            None => self.trials.len() * self.split.folds.len(),
        }
    }

    /// Whether a stored unit record (from trials.jsonl or a shard) belongs to this plan: a
    /// trial it has and a fold in range.
    pub fn owns(&self, r: &crate::trial::UnitRecord) -> Result<(), String> {
        if !self.trials.iter().any(|t| t.id == r.trial) {
            return Err(format!("trial `{}` is not in this experiment", r.trial));
        }
        let folds = self.sweep_split().folds.len();
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
        // A streamed run's numbers differ from a loaded run's in the last digits, and depend
        // on where its batches end: never mix them.
        if let Some(s) = self.stream() {
            h.update(format!("\nstreamed in batches of {} rows", s.source.batch_rows()));
        }
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

/// Reads, validates and plans one experiment file. Config errors stop before the data is
/// read; the checks of the config against the data are all reported together.
pub fn prepare(file: &Path, overrides: &[String]) -> Result<RunPlan, PlanError> {
    prepare_with(file, overrides, DataMode::default())
}

/// `prepare`, choosing between loading and streaming the data by `mode`.
pub fn prepare_with(file: &Path, overrides: &[String], mode: DataMode) -> Result<RunPlan, PlanError> {
    let text = data::read_experiment_text(file)
        .map_err(|message| PlanError::Read { path: file.display().to_string(), message })?;
    let experiment =
        config::parse_experiment(file, &text, overrides, crate::kinds::CATALOG).map_err(PlanError::Config)?;
    match streaming::choose(&experiment, &mode).map_err(PlanError::Data)? {
        Some(why) => {
            // The parser has bounded the trials by the file's fold count already.
            let trials = trials_of(&experiment)?;
            prepare_streamed(experiment, trials, why, mode)
        }
        None => {
            let (dataset, write) = data::load_cached(&experiment, mode.cache.as_ref()).map_err(PlanError::Data)?;
            let mut plan = prepare_loaded(experiment, dataset)?;
            plan.cache_write = write;
            Ok(plan)
        }
    }
}

/// Every trial of the experiment, each grid point checked into a `ModelSpec`. A point the
/// kind refuses is reported at the parameter its reason starts with (`oob_score needs
/// bootstrap = true`) when the model fixes it, else at the model's grid or its kind.
fn trials_of(experiment: &Experiment) -> Result<Vec<Trial>, PlanError> {
    expand_trials(&experiment.models, experiment.search, experiment.seed).map_err(|e| {
        if !experiment.models.iter().any(|m| m.name == e.model) {
            return PlanError::Checks(vec![format!("{}: {e}", experiment.file.display())]);
        }
        PlanError::Checks(vec![format!(
            "{}: model `{}`: {}",
            refusal_location(experiment, &e.model, &e.message),
            e.model,
            e.message
        )])
    })
}

/// Where a model's refusal is reported: at the parameter its reason starts with (`oob_score
/// needs ...`, `max_features = 50, but ...`) when the model fixes it, at the model's grid when
/// it sweeps it, else at the model's kind.
fn refusal_location(experiment: &Experiment, name: &str, why: &str) -> String {
    let model = experiment.models.iter().find(|m| m.name == name);
    let lead = why.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next().unwrap_or_default();
    let param = model.and_then(|m| spec_of(m.kind).param(lead)).map(|p| p.name);
    let key = match (model, param) {
        (Some(m), Some(p)) if m.fixed.contains_key(p) => Key::Param(name.to_string(), p),
        (Some(m), Some(p)) if m.grid.iter().any(|(axis, _)| axis == p) => Key::Model(name.to_string(), ModelKey::Grid),
        _ => Key::Model(name.to_string(), ModelKey::Kind),
    };
    experiment.location(key).to_string()
}

fn prepare_loaded(experiment: Experiment, dataset: Dataset) -> Result<RunPlan, PlanError> {
    let mut problems = model_task_problems(&experiment, &dataset);
    problems.extend(class_weight_problems(&experiment, &dataset));
    problems.extend(fill_problems(&experiment, &dataset));
    problems.extend(keep::problems(&experiment, &dataset));
    let (metrics, rank_by) = choose_metrics(&experiment, &dataset, &mut problems);
    let split = plan_folds(&experiment, &dataset, &mut problems);
    let learning_sizes = split.as_ref().map(|s| learning_sizes(&experiment, s, &mut problems)).unwrap_or_default();
    let nested = nested_plan(&experiment, &dataset, &mut problems);
    let Some(split) = split.filter(|_| problems.is_empty()) else {
        return Err(PlanError::Checks(problems));
    };
    check_size(&experiment, split.folds.len())?;
    let mut trials = trials_of(&experiment)?;
    let feature_names = feature_names(&dataset, experiment.preprocess.drop_first);
    let mut too_many = weight_problems(&experiment, &trials);
    let train_rows = split.sizes().iter().map(|s| s.0).min().unwrap_or(0);
    let classification = dataset.task() == Task::Classification;
    let (categorical, kept_categorical_gaps) = keep::categorical_columns(&experiment, &dataset);
    let shape = crate::kinds::DataShape {
        width: feature_names.len(),
        train_rows,
        classification,
        categorical: &categorical,
        drop_first: experiment.preprocess.drop_first,
        kept_categorical_gaps: &kept_categorical_gaps,
        steps: false,
    };
    too_many.extend(data_problems(&experiment, &trials, &shape));
    too_many.extend(task_param_problems(&experiment, &trials, classification));
    too_many.extend(steps::step_problems(&experiment, &mut trials, dataset.task(), feature_names.len()));
    too_many.extend(steps::box_cox_problems(&experiment, &trials, &dataset));
    too_many.extend(steps::target_problems(&experiment, &trials, &dataset));
    if !too_many.is_empty() {
        return Err(PlanError::Checks(too_many));
    }
    let train_rows = split.sizes().iter().map(|s| s.0).max().unwrap_or(0);
    let warnings = wide_one_hot_warnings(&dataset, Some((feature_names.len(), train_rows)));
    let halving = halving_plan(&experiment, &dataset, &split, trials.len()).map_err(|e| PlanError::Checks(vec![e]))?;
    Ok(RunPlan {
        experiment,
        dataset,
        split,
        trials,
        metrics,
        rank_by,
        feature_names,
        warnings,
        learning_sizes,
        mode: Mode::Loaded { nested, halving },
        cache_write: None,
    })
}

/// The plan of a streamed run: the scan's schema and counts, fold blocks instead of index
/// lists, and every refusal of what a stream cannot do.
fn prepare_streamed(
    experiment: Experiment,
    trials: Vec<Trial>,
    why: String,
    mode: DataMode,
) -> Result<RunPlan, PlanError> {
    let mut problems = streaming::problems(&experiment, &trials, experiment.report.metrics.as_deref());
    // Half the budget for batches read once and kept (by the scan, then by the passes): the
    // other half is the sums'.
    let keep = mode.memory_budget / 2;
    let scanned =
        data::stream::scan(&experiment, mode.batch_rows, keep, mode.scan_progress).map_err(PlanError::Data)?;
    let mut dataset = scanned.dataset;
    problems.extend(model_task_problems(&experiment, &dataset));
    problems.extend(class_weight_problems(&experiment, &dataset));
    problems.extend(fill_problems(&experiment, &dataset));
    problems.extend(streaming::impute_problems(&experiment, &dataset));
    problems.extend(keep::problems(&experiment, &dataset));
    problems.extend(streaming::step_input_problems(&experiment, &trials, &dataset));
    let (mut metrics, rank_by) = choose_metrics(&experiment, &dataset, &mut problems);
    if experiment.report.metrics.is_none() {
        streaming::streamable_defaults(&mut metrics);
    }
    let split = streaming::plan_blocks(&experiment, &dataset, scanned.labels.as_deref(), &mut problems);
    if let Some(s) = &split {
        problems.extend(streaming::sums_problem(&trials, &dataset, s.folds.len(), mode.batch_rows, mode.memory_budget));
        let drop_first = experiment.preprocess.drop_first;
        problems.extend(streaming::step_sums_problem(&trials, &dataset, drop_first, s.folds.len(), mode.memory_budget));
    }
    let Some(split) = split.filter(|_| problems.is_empty()) else {
        return Err(PlanError::Checks(problems));
    };
    check_size(&experiment, split.folds.len())?;
    // The split is planned: fold ids per row (8 bytes each) are not needed any more; a
    // train/test column (1 byte each) tells the refit which rows it learns from.
    if matches!(dataset.split_column, Some(data::SplitColumn::FoldIds(_))) {
        dataset.split_column = None;
    }
    let feature_names = feature_names(&dataset, experiment.preprocess.drop_first);
    let mut warnings = wide_one_hot_warnings(&dataset, None);
    if experiment.report.permutation_importance || experiment.report.predictions != config::PredictionsScope::None {
        warnings.push(
            "streamed: permutation importance and predictions.csv are skipped (both re-read held-out rows in memory)"
                .into(),
        );
    }
    let stream = StreamPlan {
        source: scanned.source,
        feature_means: scanned.feature_means,
        target_mean: scanned.target_mean,
        why,
        memo: std::sync::OnceLock::new(),
    };
    Ok(RunPlan {
        experiment,
        dataset,
        split,
        trials,
        metrics,
        rank_by,
        feature_names,
        warnings,
        learning_sizes: Vec::new(),
        mode: Mode::Streamed(stream),
        cache_write: None,
    })
}

/// HalvingGridSearchCV's schedule for `candidates` trials over `split`, with the dataset's
/// rows as `max_resources`; each round's folds are the base folds with `int(fraction ×
/// len)` of their training and test rows, drawn as `resample(replace=False,
/// random_state=seed)` draws them.
fn halving_plan(
    experiment: &Experiment,
    dataset: &Dataset,
    split: &SplitPlan,
    candidates: usize,
) -> Result<Option<HalvingPlan>, String> {
    let SearchConfig::Halving { factor, min_resources } = experiment.search else { return Ok(None) };
    let at = experiment.given_at(SearchKey::MinResources).unwrap_or_else(|| experiment.location(SearchKey::Method));
    let k = split.folds.len();
    let max_resources = dataset.rows();
    let f = f64::from(factor);
    let log = |x: f64| (x.ln() / f.ln()).floor() as usize;
    let required = 1 + log(candidates as f64);
    let smallest = 2 * k * dataset.classes().max(1);
    let min_resources = match min_resources {
        MinResources::Smallest => smallest,
        MinResources::Rows(n) => n,
        MinResources::Exhaust => {
            let last = (factor as usize).saturating_pow(required as u32 - 1).max(1);
            smallest.max(max_resources / last)
        }
    };
    if min_resources > max_resources {
        return Err(format!("{at}: [search] min_resources = {min_resources} is more than the {max_resources} rows"));
    }
    first_round_rows(split, min_resources, max_resources).map_err(|why| format!("{at}: {why}"))?;
    let possible = 1 + log((max_resources / min_resources) as f64);
    let n_rounds = possible.min(required);
    let rounds: Vec<usize> =
        (0..n_rounds).map(|r| ((f.powi(r as i32) * min_resources as f64) as usize).min(max_resources)).collect();
    let mut counts = vec![candidates];
    for r in 1..n_rounds {
        counts.push(counts[r - 1].div_ceil(factor as usize));
    }
    let folds = rounds
        .iter()
        .flat_map(|&n| {
            let fraction = n as f64 / max_resources as f64;
            split.folds.iter().map(move |fold| Fold {
                train: resample(&fold.train, (fraction * fold.train.len() as f64) as usize, experiment.seed),
                test: resample(&fold.test, (fraction * fold.test.len() as f64) as usize, experiment.seed),
            })
        })
        .collect();
    let folds = SplitPlan { method: split.method, folds, blocks: None };
    Ok(Some(HalvingPlan { factor, min_resources, max_resources, rounds, candidates: counts, folds }))
}

/// Refuses a first round whose folds would hold no training or no test rows (every score
/// NaN, so its survivors would be arbitrary), as scikit-learn refuses it, naming each fold's
/// rows and the least `min_resources` that gives every fold one of each.
fn first_round_rows(split: &SplitPlan, min_resources: usize, max_resources: usize) -> Result<(), String> {
    let fraction = min_resources as f64 / max_resources as f64;
    let rows = |n: usize, f: f64| (f * n as f64) as usize;
    let empty = split.folds.iter().any(|f| rows(f.train.len(), fraction) == 0 || rows(f.test.len(), fraction) == 0);
    if !empty {
        return Ok(());
    }
    let per_fold: Vec<String> = split
        .folds
        .iter()
        .enumerate()
        .take(5)
        .map(|(i, f)| {
            format!("fold {}: {} train, {} test", i + 1, rows(f.train.len(), fraction), rows(f.test.len(), fraction))
        })
        .chain((split.folds.len() > 5).then(|| format!("{} folds in all", split.folds.len())))
        .collect();
    let smallest = split.folds.iter().flat_map(|f| [f.train.len(), f.test.len()]).min().unwrap_or(1).max(1);
    let least =
        (1..=max_resources).find(|&n| rows(smallest, n as f64 / max_resources as f64) >= 1).unwrap_or(max_resources);
    Err(format!(
        "[search] min_resources = {min_resources} of {max_resources} rows leaves the first round's folds without \
         rows to learn from or score ({}); use min_resources >= {least}",
        per_fold.join("; ")
    ))
}

/// The outer folds of `[split.outer]` over every row, and `[split]` over each outer fold's
/// training rows (its seed too, as scikit-learn's GridSearchCV(cv=KFold(random_state=seed))
/// inside cross_val_score does).
fn nested_plan(experiment: &Experiment, dataset: &Dataset, problems: &mut Vec<String>) -> Option<NestedPlan> {
    let outer_cfg = experiment.outer.as_ref()?;
    let at = |key: Key| experiment.location(key);
    if matches!(experiment.split, SplitConfig::Column { .. } | SplitConfig::GroupKFold { .. } | SplitConfig::None) {
        let method = experiment.split.method().name();
        problems.push(format!(
            "{}: a nested cross-validation's inner split cannot be `{method}`",
            at(SplitKey::Method.into())
        ));
        return None;
    }
    let labels = match &dataset.loaded().target {
        Target::Classification { labels, classes } => Some((labels.as_slice(), classes.as_slice())),
        Target::Regression(_) => None,
    };
    let seed = experiment.seed;
    let outer = plan_split(outer_cfg, dataset.rows(), labels, None, seed)
        .map_err(|e| problems.push(format!("{}: [split.outer]: {e}", at(Key::Outer(SplitKey::Method)))))
        .ok()?;
    let mut inner = Vec::with_capacity(outer.folds.len());
    for (o, fold) in outer.folds.iter().enumerate() {
        let sub: Option<Vec<usize>> = labels.map(|(l, _)| fold.train.iter().map(|&r| l[r]).collect());
        let classes = sub.as_deref().zip(labels.map(|(_, c)| c));
        let plan = plan_split(&experiment.split, fold.train.len(), classes, None, seed)
            .map_err(|e| {
                problems.push(format!("{}: the inner split of outer fold {}: {e}", at(SplitKey::Method.into()), o + 1))
            })
            .ok()?;
        let rows = |idx: &[usize]| idx.iter().map(|&i| fold.train[i]).collect::<Vec<usize>>();
        let folds = plan.folds.iter().map(|f| Fold { train: rows(&f.train), test: rows(&f.test) }).collect();
        inner.push(SplitPlan { method: plan.method, folds, blocks: None });
    }
    Some(NestedPlan { outer, inner })
}

/// `[report] learning_curve` in rows of the first fold's training part, as scikit-learn's
/// `learning_curve` counts them.
fn learning_sizes(experiment: &Experiment, split: &SplitPlan, problems: &mut Vec<String>) -> Vec<usize> {
    let sizes = &experiment.report.learning_curve;
    if sizes.is_empty() {
        return Vec::new();
    }
    let n_max = split.folds.first().map_or(0, |f| f.train.len());
    train_sizes(sizes, n_max).unwrap_or_else(|e| {
        problems.push(format!("{}: learning_curve: {e}", experiment.location(ReportKey::LearningCurve)));
        Vec::new()
    })
}

/// Models whose kind cannot fit the dataset's task.
fn model_task_problems(experiment: &Experiment, dataset: &Dataset) -> Vec<String> {
    let task = dataset.task();
    let mut problems = Vec::new();
    for m in &experiment.models {
        let fits = matches!(
            (spec_of(m.kind).task, task),
            (TaskSupport::Both, _)
                | (TaskSupport::Regression, Task::Regression)
                | (TaskSupport::Classification, Task::Classification)
        );
        if !fits {
            let is = if task == Task::Regression { "a classifier" } else { "a regressor" };
            problems.push(format!(
                "{}: model `{}` (kind {}) is {is}, but the task is {} (target `{}`)",
                experiment.location(Key::Model(m.name.clone(), ModelKey::Kind)),
                m.name,
                m.kind.name(),
                task.name(),
                dataset.target_name
            ));
        }
    }
    problems
}

/// Models whose kind cannot take the dataset's sample weights, at the `[dataset] weight` key
/// (a kind never fits ignoring them).
fn weight_problems(experiment: &Experiment, trials: &[Trial]) -> Vec<String> {
    if experiment.dataset.weight.is_none() {
        return Vec::new();
    }
    let at = experiment.location(config::DatasetKey::Weight);
    let mut problems: Vec<String> = Vec::new();
    for t in trials.iter().filter(|t| !t.spec.sample_weights()) {
        let problem = format!(
            "{at}: model `{}`: `{}` cannot take sample weights ({}); remove the model or the weight column",
            t.model,
            t.spec.kind().name(),
            t.spec.no_sample_weights()
        );
        if !problems.contains(&problem) {
            problems.push(problem);
        }
    }
    problems
}

/// class_weight tables (fixed, or values of a grid axis) that name a class the target does
/// not have, at the key that gives them: the classes are known once the data is read.
fn class_weight_problems(experiment: &Experiment, dataset: &Dataset) -> Vec<String> {
    const NAME: &str = "class_weight";
    let classes = dataset.class_names();
    let mut problems = Vec::new();
    for m in &experiment.models {
        let fixed = m.fixed.get(NAME).map(|v| (v, Key::Param(m.name.clone(), NAME)));
        let axis = m.grid.iter().filter(|(name, _)| name == NAME).flat_map(|(_, values)| values);
        let given = fixed.into_iter().chain(axis.map(|v| (v, Key::Model(m.name.clone(), ModelKey::Grid))));
        for (value, key) in given {
            let ParamValue::Table(entries) = value else { continue };
            for (label, _) in entries.iter().filter(|(label, _)| !classes.contains(label)) {
                let hint = crate::suggest::suggestion(label, classes.iter().map(String::as_str));
                let known =
                    if classes.is_empty() { "none: the task is regression".to_string() } else { classes.join(", ") };
                problems.push(format!(
                    "{}: model `{}`: class_weight names the class `{label}`, which target `{}` does not have{hint} (classes: {known})",
                    experiment.location(key.clone()),
                    m.name,
                    dataset.target_name
                ));
            }
        }
    }
    problems
}

/// Parameters the data refuses (a forest's `max_features` count above the design matrix's
/// columns, its `max_samples` count above a fold's training rows, a criterion of the other
/// task), found once the one-hot columns and the folds are known; the kind's file says. Each is
/// reported at its parameter (or the model's grid, or its kind).
fn data_problems(experiment: &Experiment, trials: &[Trial], shape: &crate::kinds::DataShape) -> Vec<String> {
    let mut problems: Vec<String> = Vec::new();
    for t in trials {
        let Some(why) = t.spec.data_problem(&crate::kinds::DataShape { steps: !t.steps.is_empty(), ..*shape }) else {
            continue;
        };
        let problem = format!("{}: model `{}`: {why}", refusal_location(experiment, &t.model, &why), t.model);
        if !problems.contains(&problem) {
            problems.push(problem);
        }
    }
    problems
}

/// Parameters that do not fit the task (an HGB `loss` of the other task), at the parameter
/// when the model fixes it, else at the model's grid.
fn task_param_problems(experiment: &Experiment, trials: &[Trial], classification: bool) -> Vec<String> {
    let mut problems: Vec<String> = Vec::new();
    for t in trials {
        let Some((param, why)) = t.spec.task_problem(classification) else { continue };
        let fixed = experiment.models.iter().any(|m| m.name == t.model && m.fixed.contains_key(param));
        let key = if fixed { Key::Param(t.model.clone(), param) } else { Key::Model(t.model.clone(), ModelKey::Grid) };
        let problem = format!("{}: model `{}`: {why}", experiment.location(key), t.model);
        if !problems.contains(&problem) {
            problems.push(problem);
        }
    }
    problems
}

/// Columns with gaps whose imputation cannot fill them: a mean of text, a fill value of
/// the wrong type.
fn fill_problems(experiment: &Experiment, dataset: &Dataset) -> Vec<String> {
    let mut problems = Vec::new();
    for (c, &missing) in dataset.columns().iter().zip(&dataset.missing_counts) {
        if missing == 0 {
            continue;
        }
        let preprocess = &experiment.preprocess;
        let name = c.name;
        let rule = preprocess.rule_for(name);
        let location = if preprocess.columns.contains_key(name) {
            experiment.location(Key::Column(name.to_string()))
        } else {
            experiment.location(PreprocessKey::FillValue)
        };
        let categorical = c.categories.is_some();
        match (categorical, rule.impute, &rule.fill_value) {
            (true, Impute::Mean | Impute::Median | Impute::Interpolate, _) => problems.push(format!(
                "{location}: impute = \"{}\" cannot fill the categorical column `{name}`; use \"mode\", \"constant\" or \"drop\"",
                rule.impute.name()
            )),
            (true, Impute::Constant, Some(FillValue::Number(_))) => problems
                .push(format!("{location}: fill_value for column `{name}` must be a string for a categorical column")),
            (false, Impute::Constant, Some(FillValue::Text(_))) => problems
                .push(format!("{location}: fill_value for column `{name}` must be a number for a numeric column")),
            _ => {}
        }
    }
    problems
}

/// The metrics to compute (the rank metric first if not listed) and the rank metric.
fn choose_metrics(experiment: &Experiment, dataset: &Dataset, problems: &mut Vec<String>) -> (Vec<Metric>, Metric) {
    let task = dataset.task();
    let n_classes = dataset.classes();
    let report = &experiment.report;
    let mut metrics = report.metrics.clone().unwrap_or_else(|| {
        let mut d = Metric::defaults_for(task);
        if n_classes > 2 {
            d.retain(|m| *m != Metric::RocAuc);
        }
        d
    });
    let rank_by = report.rank_by.unwrap_or(match task {
        Task::Regression => Metric::Mse,
        Task::Classification => Metric::Accuracy,
    });
    if !metrics.contains(&rank_by) {
        metrics.insert(0, rank_by);
    }
    for m in &metrics {
        if m.task() != task {
            let key = if report.rank_by == Some(*m) { ReportKey::RankBy } else { ReportKey::Metrics };
            problems.push(format!(
                "{}: metric `{}` is for {} but the task is {}",
                experiment.location(key),
                m.name(),
                m.task().name(),
                task.name()
            ));
        }
        if *m == Metric::RocAuc && n_classes > 2 {
            problems.push(format!(
                "{}: roc_auc is defined here for binary targets, but `{}` has {n_classes} classes",
                experiment.location(ReportKey::Metrics),
                dataset.target_name
            ));
        }
    }
    (metrics, rank_by)
}

/// The folds, or a problem saying why the split does not fit the data.
fn plan_folds(experiment: &Experiment, dataset: &Dataset, problems: &mut Vec<String>) -> Option<SplitPlan> {
    let classes = match &dataset.loaded().target {
        Target::Classification { labels, classes } => Some((labels.as_slice(), classes.as_slice())),
        Target::Regression(_) => None,
    };
    let holdout = matches!(experiment.split, SplitConfig::Holdout { .. });
    let needs_classes =
        matches!(experiment.split, SplitConfig::StratifiedKFold { .. } | SplitConfig::Holdout { stratify: true, .. });
    if needs_classes && classes.is_none() {
        problems.push(format!(
            "{}: stratified splits need a classification target, but `{}` is a regression target; use method = \"kfold\", or set task = \"classification\"",
            experiment.location(if holdout { SplitKey::Stratify } else { SplitKey::Method }),
            dataset.target_name,
        ));
        return None;
    }
    match plan_split(&experiment.split, dataset.rows(), classes, dataset.split_column.as_ref(), experiment.seed) {
        Ok(p) => Some(p),
        Err(e) => {
            let key = match experiment.split {
                SplitConfig::Holdout { .. } => SplitKey::TestSize,
                SplitConfig::KFold { .. }
                | SplitConfig::StratifiedKFold { .. }
                | SplitConfig::GroupKFold { .. }
                | SplitConfig::TimeSeries { .. } => SplitKey::Folds,
                SplitConfig::Column { .. } => SplitKey::Column,
                SplitConfig::None => SplitKey::Method,
            };
            problems.push(format!("{}: {e}", experiment.location(key)));
            None
        }
    }
}

/// Refuses a runaway grid before any trial is expanded: the count comes from the axis
/// lengths (the parser has already refused what the file's own fold count rules out).
fn check_size(experiment: &Experiment, folds: usize) -> Result<(), PlanError> {
    let grid_size = |m: &ModelConfig| m.grid.iter().fold(1u128, |n, (_, v)| n.saturating_mul(v.len() as u128));
    let per_model = |m: &ModelConfig| experiment.search.points(grid_size(m), !m.distributions.is_empty());
    let points: u128 = experiment.models.iter().map(per_model).fold(0u128, u128::saturating_add);
    match config::size_problem(points, folds as u128, experiment.max_units) {
        Some(why) => Err(PlanError::Checks(vec![format!("{}: {why}", experiment.file.display())])),
        None => Ok(()),
    }
}

/// Categorical columns with so many levels that one-hot encoding makes the dense design
/// matrix (and permutation importance) expensive. A loaded run's `design` (columns, most
/// training rows of a fold) adds what a fold then costs: its dense matrices, and a linear
/// closed form's `min(n, p)² · max(n, p)` multiply-adds (the Gram or kernel matrix) per fit.
fn wide_one_hot_warnings(ds: &Dataset, design: Option<(usize, usize)>) -> Vec<String> {
    const MANY_LEVELS: usize = 1000;
    let cost = design.map_or(String::new(), |(columns, train_rows)| {
        let (n, p) = (train_rows as f64, columns as f64);
        let flops = n.min(p).powi(2) * n.max(p);
        format!(
            "; each fold holds {:.1} GB of dense matrices, and a linear model's closed form costs about \
             {flops:.1e} multiply-adds per fit ({train_rows} rows × {columns} columns; roughly {:.0} s each at \
             10^10 per second)",
            ds.rows() as f64 * p * 8.0 / 1e9,
            flops / 1e10
        )
    });
    ds.columns()
        .iter()
        .filter_map(|c| match (c.name, c.categories) {
            (name, Some(categories)) if categories.len() > MANY_LEVELS => Some(format!(
                "column `{name}` has {} categories: one-hot encoding makes {} dense columns of {} rows each{cost}; \
                 consider [dataset] exclude, or `permutation_importance = false` in [report]",
                categories.len(),
                categories.len(),
                ds.rows()
            )),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(file: &str, overrides: &[&str], force: Option<bool>) -> RunPlan {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let overrides: Vec<String> = overrides.iter().map(|o| o.to_string()).collect();
        match prepare_with(&file, &overrides, DataMode { force, ..DataMode::default() }) {
            Ok(plan) => plan,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn nested_cv_and_halving_share_a_loaded_plan() {
        let p = plan("experiments/diabetes_nested.toml", &["search.method=\"halving\""], None);
        assert!(matches!(p.mode, Mode::Loaded { nested: Some(_), halving: Some(_) }));
        assert!(p.stream().is_none());
    }

    #[test]
    fn a_streamed_plan_has_neither_nested_cv_nor_halving() {
        let p = plan("experiments/iris.toml", &[], Some(true));
        assert!(matches!(p.mode, Mode::Streamed(_)));
        assert!(p.nested().is_none() && p.halving().is_none());
    }
}
