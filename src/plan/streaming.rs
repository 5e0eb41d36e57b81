//! Streaming's side of planning: whether the data is streamed (`[dataset] streaming`,
//! `--memory-budget`), what a streamed run cannot do (each refusal says why), and the fold
//! blocks that stand in for index lists.

use crate::config::{
    DatasetKey, Experiment, Impute, Key, Metric, ModelKey, ReportKey, SearchConfig, SearchKey, SplitConfig, SplitKey,
    Streaming, Task,
};
use crate::data::stream::{self, StreamSource};
use crate::data::{DataError, Dataset};
use crate::kinds::{ModelSpec, Streamed};
use crate::preprocess::steps::{fit_all, split_from_sums};
use crate::preprocess::{fold_dependence, FromSums, StepSpec, TargetFunc};
use crate::split::{fold_blocks, Fold, SplitPlan, MAX_FOLDS};
use crate::trial::Trial;

/// How `prepare` chooses between loading the data and streaming it.
#[derive(Debug, Clone)]
pub struct DataMode {
    /// `"auto"` streams when the data would take more memory than this (bytes).
    pub memory_budget: u64,
    /// Set by `merge`, which replays the mode its shards ran in.
    pub force: Option<bool>,
    /// Rows per streamed batch (the default, except in tests of many small batches).
    pub batch_rows: usize,
    /// Told (batches read, batches) during the scan, the first pass over a streamed file.
    pub scan_progress: Option<fn(usize, usize)>,
    /// The parsed-data cache a loaded file is read through (none by default).
    pub cache: Option<crate::data::cache::DataCache>,
}

impl Default for DataMode {
    fn default() -> Self {
        DataMode {
            memory_budget: u64::MAX,
            force: None,
            batch_rows: stream::BATCH_ROWS,
            scan_progress: None,
            cache: None,
        }
    }
}

/// What a streamed sweep needs besides the plan's schema and fold blocks.
pub struct StreamPlan {
    pub source: StreamSource,
    /// Each numeric feature's mean and the regression target's (shifts for accumulation).
    pub feature_means: Vec<f64>,
    pub target_mean: f64,
    /// Why the data is streamed, for `runner check` and the report.
    pub why: String,
    /// What the sweep's passes learned that a later stage reuses instead of reading the
    /// file again: the per-block sums, which give the refit's closed forms. Filled by the
    /// sweep (which owns the type); empty after a merge, when the refit reads the file.
    pub memo: std::sync::OnceLock<std::sync::Arc<dyn std::any::Any + Send + Sync>>,
}

/// Bytes a loaded run holds per value: the dataset, polars' frame while loading, and the
/// fold matrices built from them.
const BYTES_PER_VALUE: u64 = 8 * 3;

/// Whether to stream, and why (`None`: load it).
pub fn choose(exp: &Experiment, mode: &DataMode) -> Result<Option<String>, DataError> {
    match (mode.force, exp.dataset.streaming) {
        (Some(true), _) => return Ok(Some("the shards were streamed".into())),
        (Some(false), _) | (None, Streaming::Never) => return Ok(None),
        (None, Streaming::Always) => return Ok(Some("[dataset] streaming = true".into())),
        (None, Streaming::Auto) => {}
    }
    let Some((rows, columns)) = stream::estimate(&exp.dataset.path)? else { return Ok(None) };
    let need = rows as u64 * columns as u64 * BYTES_PER_VALUE;
    Ok((need > mode.memory_budget).then(|| {
        format!(
            "streaming = \"auto\": about {rows} rows × {columns} columns would take about {} in memory, over the memory budget of {}",
            show_bytes(need),
            show_bytes(mode.memory_budget)
        )
    }))
}

pub fn show_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Why a streamed sweep cannot train `spec`, if it cannot (the kind's file says).
pub fn kind_refusal(spec: &ModelSpec) -> Option<&'static str> {
    match spec.streamed() {
        Streamed::Refused(why) => Some(why),
        Streamed::LeastSquares(_)
        | Streamed::Ridge(_)
        | Streamed::LinearDescent(..)
        | Streamed::Logistic(_)
        | Streamed::LogisticDescent(..) => None,
    }
}

/// Why the experiment's split is not streamed, if it is not.
fn split_refusal(exp: &Experiment) -> Option<String> {
    let at = |key: SplitKey| exp.location(key);
    match &exp.split {
        SplitConfig::KFold { folds, repeats: 1, .. } | SplitConfig::StratifiedKFold { folds, repeats: 1, .. }
            if *folds > MAX_FOLDS =>
        {
            Some(format!(
                "{}: {folds} folds are not streamed: a streamed row's fold is one byte, so at most {MAX_FOLDS} folds; use fewer folds, or streaming = false",
                at(SplitKey::Folds)
            ))
        }
        SplitConfig::Holdout { .. } | SplitConfig::Column { .. } => None,
        SplitConfig::KFold { repeats: 1, .. } | SplitConfig::StratifiedKFold { repeats: 1, .. } => None,
        SplitConfig::KFold { .. } | SplitConfig::StratifiedKFold { .. } => Some(format!(
            "{}: repeated k-fold is not streamed (each repeat would need its own fold byte per row); use repeats = 1, or streaming = false",
            at(SplitKey::Repeats)
        )),
        other => Some(format!(
            "{}: split method `{}` is not streamed: streaming supports holdout, kfold, stratified_kfold and column",
            at(SplitKey::Method),
            other.method()
        )),
    }
}

/// Everything in the experiment a streamed run cannot do, each with its reason.
pub fn problems(exp: &Experiment, trials: &[Trial], explicit_metrics: Option<&[Metric]>) -> Vec<String> {
    let mut out: Vec<String> = split_refusal(exp).into_iter().collect();
    let at = |key: Key| exp.location(key);
    if exp.dataset.weight.is_some() {
        out.push(format!(
            "{}: sample weights are not streamed (the streamed sums and solvers take unweighted rows); use streaming = false",
            at(DatasetKey::Weight.into())
        ));
    }
    if exp.outer.is_some() {
        out.push(format!(
            "{}: nested cross-validation is not streamed; use streaming = false",
            at(SplitKey::Outer.into())
        ));
    }
    if matches!(exp.search, SearchConfig::Halving { .. }) {
        out.push(format!(
            "{}: successive halving is not streamed; use method = \"grid\" or \"random\"",
            at(SearchKey::Method.into())
        ));
    }
    if !exp.report.learning_curve.is_empty() {
        out.push(format!(
            "{}: learning curves are not streamed; remove learning_curve",
            at(ReportKey::LearningCurve.into())
        ));
    }
    for m in explicit_metrics.unwrap_or(&[]) {
        if *m == Metric::RocAuc {
            out.push(format!(
                "{}: roc_auc ranks every test row's score, which a stream does not keep; use accuracy, f1 or log_loss",
                at(ReportKey::Metrics.into())
            ));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for t in trials {
        if let Some(why) = kind_refusal(&t.spec) {
            if seen.insert(t.model.clone()) {
                out.push(format!(
                    "{}: model `{}` ({}) is not streamed: {why}",
                    at(Key::Model(t.model.clone(), ModelKey::Kind)),
                    t.model,
                    t.spec.kind().name()
                ));
            }
        }
        for (step, why) in step_refusals(t) {
            if seen.insert(format!("{}.steps.{step}", t.model)) {
                out.push(format!(
                    "{}: model `{}`: step `{step}` is not streamed: {why}; use streaming = false",
                    at(Key::Model(t.model.clone(), ModelKey::Steps)),
                    t.model,
                ));
            }
        }
        if t.target != TargetFunc::None && seen.insert(format!("{}.target", t.model)) {
            out.push(format!(
                "{}: model `{}`: target = \"{}\" is not streamed: predictions and metrics are taken back on the \
                 original scale row by row, which the streamed sums do not hold; use streaming = false",
                at(Key::Param(t.model.clone(), "target")),
                t.model,
                t.target.as_ref(),
            ));
        }
    }
    out
}

/// The steps of `t` a streamed sweep cannot take, each with its reason. Steps stream for the
/// closed forms (linear_regression, ridge) when they are row functions (`poly`, `log1p`: summed
/// per fold block as they are read) then at most one scaler (fitted from those sums); the
/// input they take must be the same in every fold (`step_input_problems`).
/// A kind that is not streamed at all has its own refusal, enough for its steps too.
fn step_refusals(t: &Trial) -> Vec<(&'static str, &'static str)> {
    let closed = is_closed_form(&t.spec);
    if (closed && split_from_sums(&t.steps).is_some()) || kind_refusal(&t.spec).is_some() {
        return Vec::new();
    }
    let last = t.steps.len().saturating_sub(1);
    let mut out = Vec::new();
    for (i, step) in t.steps.iter().enumerate() {
        let why = match step.from_sums() {
            FromSums::Rows => rows_refusal(step).unwrap_or("it is fitted on the training values themselves"),
            _ if !closed => {
                "the streamed gradient descent and logistic regression build each batch's design from \
                 [preprocess] alone (not yet its model steps; steps stream for linear_regression and ridge)"
            }
            FromSums::Scaler if i < last => {
                "a scaler streams only as the last step, after the row functions poly and log1p: a step after \
                 it would take a design fitted per fold, which per-block sums cannot give"
            }
            FromSums::Scaler | FromSums::RowFunction => continue,
        };
        out.push((step.name(), why));
    }
    out
}

fn is_closed_form(spec: &ModelSpec) -> bool {
    matches!(spec.streamed(), Streamed::LeastSquares(_) | Streamed::Ridge(_))
}

/// Why a step that is fitted on the training values themselves is not streamed (`None`: a
/// step fitted from sums).
fn rows_refusal(step: &StepSpec) -> Option<&'static str> {
    Some(match step {
        StepSpec::Robust(_) => "its median and quantiles need every training value of a column, which sums cannot give",
        StepSpec::Power(_) => "its maximum-likelihood lambda is searched over every training value of a column",
        StepSpec::Spline(_) => "its knots need each column's range or quantiles before its bases could be summed",
        StepSpec::Pca(_) => "its components come from the SVD of the training matrix held in memory",
        StepSpec::SelectKBest(_) => {
            "its F scores need the design's sums against the target before the kept columns are known (not yet)"
        }
        StepSpec::Poly(_) | StepSpec::Log1p(_) | StepSpec::Standard(_) | StepSpec::Minmax(_) | StepSpec::Maxabs(_) => {
            return None;
        }
    })
}

/// Streamed models whose steps would take a `[preprocess]` design that differs between folds
/// (a column with gaps, a scaled numeric column): the steps' columns are then no fixed
/// function of a row, and their sums are not taken once for every fold.
pub fn step_input_problems(exp: &Experiment, trials: &[Trial], dataset: &Dataset) -> Vec<String> {
    let Some(why) = fold_dependence(dataset, &exp.preprocess) else { return Vec::new() };
    let models: std::collections::BTreeSet<&str> = trials
        .iter()
        .filter(|t| !t.steps.is_empty() && kind_refusal(&t.spec).is_none() && step_refusals(t).is_empty())
        .map(|t| t.model.as_str())
        .collect();
    models
        .into_iter()
        .map(|m| {
            format!(
                "{}: model `{m}`: steps are not streamed over this [preprocess]: {why}, so the steps' input differs \
                 between folds and their columns are not summed once for every fold; use scale = \"none\" (a \
                 `standard` step streams), impute = \"drop\", or streaming = false",
                exp.location(Key::Model(m.to_string(), ModelKey::Steps)),
            )
        })
        .collect()
}

/// The streamed model steps' per-block sums, `(folds + 1) × width²` floats for each distinct
/// step setting of a closed form (its width: the columns its row functions make), 8 bytes
/// each, when they exceed the memory budget: refused before any pass, with the numbers.
pub fn step_sums_problem(
    trials: &[Trial],
    dataset: &Dataset,
    drop_first: bool,
    folds: usize,
    budget: u64,
) -> Option<String> {
    let names = crate::preprocess::feature_names(dataset, drop_first);
    let mut widths = std::collections::BTreeMap::new();
    for t in trials.iter().filter(|t| !t.steps.is_empty() && is_closed_form(&t.spec)) {
        let Some((fixed, _)) = split_from_sums(&t.steps) else { continue };
        let none = ndarray::Array2::zeros((0, names.len()));
        let width = fit_all(fixed, none, None, &names).map_or(0, |(_, x)| x.ncols() as u64);
        widths.entry(t.steps_key()).or_insert((t, width));
    }
    let floats = widths
        .values()
        .fold(0u64, |n, (_, w)| n.saturating_add((folds as u64 + 1).saturating_mul(w.saturating_mul(*w))));
    let need = floats.saturating_mul(8);
    let (t, widest) = widths.values().max_by_key(|(_, w)| *w)?;
    (need > budget).then(|| {
        format!(
            "model `{}` ({}), streamed with its steps, needs (folds + 1) × width² × 8 bytes for the per-block sums of each step setting's columns: {need} bytes ({}) for {} setting(s) of up to {widest} columns, over the memory budget of {budget} bytes ({}): use a lower degree, fewer folds, or raise --memory-budget",
            t.model,
            t.spec.kind().name(),
            show_bytes(need),
            widths.len(),
            show_bytes(budget)
        )
    })
}

/// Imputations a stream cannot fit in one pass.
pub fn impute_problems(exp: &Experiment, dataset: &Dataset) -> Vec<String> {
    let mut out = Vec::new();
    for (c, &gaps) in dataset.columns().iter().zip(&dataset.missing_counts) {
        let rule = exp.preprocess.rule_for(c.name);
        let why = match (c.categories, rule.impute) {
            (_, Impute::Median) => "the median needs every training value sorted; use mean, or streaming = false",
            (_, Impute::Interpolate) => {
                "interpolation needs the neighbouring rows in memory; use mean, or streaming = false"
            }
            (None, Impute::Mode) => {
                "the mode of a numeric column needs a count per distinct value; use mean, or streaming = false"
            }
            (_, Impute::Keep) => {
                "the streamed trainers (linear models) cannot take NaN, and hist_gradient_boosting, which can, \
                 needs the rows in memory: streaming = false"
            }
            _ => continue,
        };
        if gaps > 0 || rule.impute == Impute::Keep {
            out.push(format!("column `{}`: impute = \"{}\" is not streamed: {why}", c.name, rule.impute.name()));
        }
    }
    out
}

/// The closed forms' (without steps) per-block sums (`(folds + 1) × parts²` floats) and a batch's raw parts
/// (`batch rows × parts`), 8 bytes each, when they exceed the memory budget: refused
/// before any pass, with the numbers.
pub fn sums_problem(
    trials: &[Trial],
    dataset: &Dataset,
    folds: usize,
    batch_rows: usize,
    budget: u64,
) -> Option<String> {
    let closed = trials.iter().find(|t| t.steps.is_empty() && is_closed_form(&t.spec))?;
    let parts = dataset.raw_parts() as u64;
    let batch = batch_rows.min(dataset.rows()) as u64;
    let floats = (folds as u64 + 1).saturating_mul(parts).saturating_add(batch).saturating_mul(parts);
    let need = floats.saturating_mul(8);
    (need > budget).then(|| {
        format!(
            "model `{}` ({}), streamed, needs ((folds + 1) × parts + batch rows) × parts × 8 = ({} × {parts} + {batch}) × {parts} × 8 = {need} bytes ({}) for its per-block sums, over the memory budget of {budget} bytes ({}); parts are the numeric columns, every category of a categorical column and a gap indicator per column with gaps: drop or bin a categorical column with many levels, use fewer folds, or raise --memory-budget",
            closed.model,
            closed.spec.kind().name(),
            folds + 1,
            show_bytes(need),
            show_bytes(budget)
        )
    })
}

/// Default metrics a stream cannot compute are left out (roc_auc); none is the rank metric.
pub fn streamable_defaults(metrics: &mut Vec<Metric>) {
    metrics.retain(|m| *m != Metric::RocAuc);
}

/// The fold blocks of a streamed dataset, as a `SplitPlan` whose folds list no rows.
pub fn plan_blocks(
    exp: &Experiment,
    dataset: &Dataset,
    labels: Option<&[u32]>,
    problems: &mut Vec<String>,
) -> Option<SplitPlan> {
    let classes = match (dataset.task(), labels) {
        (Task::Classification, Some(l)) => Some((l, dataset.class_names())),
        _ => None,
    };
    // `problems` already refused a split that is not streamed: one reason is enough.
    if split_refusal(exp).is_some() {
        return None;
    }
    let needs_classes =
        matches!(exp.split, SplitConfig::StratifiedKFold { .. } | SplitConfig::Holdout { stratify: true, .. });
    if needs_classes && dataset.task() != Task::Classification {
        problems.push(format!(
            "{}: stratified splits need a classification target, but `{}` is a regression target",
            exp.location(SplitKey::Method),
            dataset.target_name
        ));
        return None;
    }
    match fold_blocks(&exp.split, dataset.rows(), classes, dataset.split_column.as_ref(), exp.seed) {
        Ok(blocks) => {
            let folds = vec![Fold { train: Vec::new(), test: Vec::new() }; blocks.folds];
            Some(SplitPlan { method: exp.split.method(), folds, blocks: Some(blocks) })
        }
        Err(e) => {
            problems.push(format!("{}: {e}", exp.location(SplitKey::Method)));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Halving and a nested cross-validation are refused at the key that asks for them.
    #[test]
    fn the_protocol_refusals_are_located() {
        let text = "name = \"t\"\n[dataset]\npath = \"d.csv\"\ntarget = \"y\"\n[split]\nmethod = \"kfold\"\n\
                    [split.outer]\nmethod = \"kfold\"\n[search]\nmethod = \"halving\"\n\
                    [[model]]\nname = \"r\"\nkind = \"ridge\"\n";
        let exp = crate::config::parse_experiment(std::path::Path::new("exp.toml"), text, &[], crate::kinds::CATALOG)
            .unwrap();
        let problems = problems(&exp, &[], None);
        assert_eq!(
            problems,
            [
                "exp.toml:7:1: nested cross-validation is not streamed; use streaming = false",
                "exp.toml:10:10: successive halving is not streamed; use method = \"grid\" or \"random\"",
            ]
        );
    }

    /// The problems of a ridge (or `kind`) with `steps` and a degree grid.
    fn step_problems_of(kind: &str, steps: &str) -> Vec<String> {
        let grid = if steps.contains("poly") { "grid.\"poly.degree\" = [1, 2]\n" } else { "" };
        let text = format!(
            "name = \"t\"\n[dataset]\npath = \"d.csv\"\ntarget = \"y\"\n\
             [[model]]\nname = \"r\"\nkind = \"{kind}\"\nsteps = {steps}\n{grid}"
        );
        let exp = crate::config::parse_experiment(std::path::Path::new("exp.toml"), &text, &[], crate::kinds::CATALOG)
            .unwrap();
        let trials = crate::trial::expand_trials(&exp.models, exp.search, exp.seed).unwrap();
        problems(&exp, &trials, None)
    }

    /// Row functions then one scaler stream for the closed forms; a step fitted on the values
    /// themselves, a scaler before another step, and any step of gradient descent are refused
    /// at the `steps` key with the reason.
    #[test]
    fn steps_stream_for_closed_forms_and_the_others_are_refused_at_their_key() {
        for ok in [r#"["poly"]"#, r#"["poly", "standard"]"#, r#"["poly", "log1p", "maxabs"]"#, r#"["minmax"]"#] {
            assert_eq!(step_problems_of("ridge", ok), Vec::<String>::new(), "{ok}");
            assert_eq!(step_problems_of("linear_regression", ok), Vec::<String>::new(), "{ok}");
        }
        let robust = step_problems_of("ridge", r#"["poly", "robust"]"#);
        assert_eq!(robust.len(), 1, "{robust:?}");
        assert!(
            robust[0].starts_with("exp.toml:8:9: model `r`: step `robust` is not streamed: its median and quantiles"),
            "{robust:?}"
        );
        let scaler_first = step_problems_of("ridge", r#"["standard", "poly"]"#);
        assert_eq!(scaler_first.len(), 1, "{scaler_first:?}");
        assert!(scaler_first[0].contains("step `standard` is not streamed: a scaler streams only as the last step"));
        let gd = step_problems_of("linear_gd", r#"["poly", "pca"]"#);
        assert_eq!(gd.len(), 2, "{gd:?}");
        assert!(gd[0].contains("step `poly` is not streamed: the streamed gradient descent"), "{gd:?}");
        assert!(gd[1].contains("step `pca` is not streamed: its components come from the SVD"), "{gd:?}");
    }

    #[test]
    fn a_target_transform_is_refused_at_its_key() {
        let text = "name = \"t\"\n[dataset]\npath = \"d.csv\"\ntarget = \"y\"\n\
                    [[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.target = [\"none\", \"log1p\"]\n";
        let exp = crate::config::parse_experiment(std::path::Path::new("exp.toml"), text, &[], crate::kinds::CATALOG)
            .unwrap();
        let trials = crate::trial::expand_trials(&exp.models, exp.search, exp.seed).unwrap();
        let problems = problems(&exp, &trials, None);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("exp.toml:8:6: model `r`: target = \"log1p\" is not streamed"), "{problems:?}");
    }
}
