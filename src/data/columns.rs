//! Which columns are features, the target and the split column, and the task the target's
//! values give.

use super::cells::RawColumn;
use super::DataError;
use crate::config::{DatasetKey, Experiment, Key, SplitConfig, SplitKey, Task};
use crate::suggest::suggestion;

/// The feature columns (in order, each once) and the split column the file names.
pub(super) struct ChosenColumns {
    pub(super) features: Vec<String>,
    pub(super) split: Option<String>,
    /// The sample-weight column (`[dataset] weight`), never a feature.
    pub(super) weight: Option<String>,
}

/// Checks every column the experiment names against the header and picks the features.
pub(super) fn choose_columns(exp: &Experiment, header: &[String]) -> Result<ChosenColumns, DataError> {
    let cfg = &exp.dataset;
    let unknown = |key: Key, what: &'static str, name: &str| DataError::UnknownColumn {
        location: exp.location(key),
        what,
        name: name.to_string(),
        path: cfg.path.display().to_string(),
        known: format!("{} (columns: {})", suggestion(name, header.iter().map(String::as_str)), header.join(", ")),
    };
    let has = |name: &str| header.iter().any(|h| h == name);
    if !has(&cfg.target) {
        return Err(unknown(DatasetKey::Target.into(), "target", &cfg.target));
    }
    let split = match &exp.split {
        SplitConfig::Column { column } if *column == cfg.target => {
            return Err(DataError::SplitIsTarget { location: exp.location(SplitKey::Column), column: column.clone() });
        }
        SplitConfig::Column { column } if !has(column) => {
            return Err(unknown(SplitKey::Column.into(), "split column", column))
        }
        SplitConfig::Column { column } => Some(column.clone()),
        SplitConfig::GroupKFold { group, .. } if *group == cfg.target => {
            return Err(DataError::SplitIsTarget { location: exp.location(SplitKey::Group), column: group.clone() });
        }
        SplitConfig::GroupKFold { group, .. } if !has(group) => {
            return Err(unknown(SplitKey::Group.into(), "group column", group))
        }
        SplitConfig::GroupKFold { group, .. } => Some(group.clone()),
        _ => None,
    };
    let weight = cfg.weight.clone();
    if let Some(w) = &weight {
        if !has(w) {
            return Err(unknown(DatasetKey::Weight.into(), "weight column", w));
        }
        if *w == cfg.target || Some(w) == split.as_ref() {
            return Err(DataError::WeightIsTarget { location: exp.location(DatasetKey::Weight), column: w.clone() });
        }
    }
    for (key, list) in [
        (DatasetKey::Features, cfg.features.as_deref().unwrap_or(&[])),
        (DatasetKey::Exclude, &cfg.exclude),
        (DatasetKey::Categorical, &cfg.categorical),
    ] {
        if let Some(bad) = list.iter().find(|c| !has(c)) {
            return Err(unknown(key.into(), "column", bad));
        }
    }
    if let Some(col) = exp.preprocess.columns.keys().find(|c| !has(c)) {
        return Err(unknown(Key::Column(col.clone()), "column", col));
    }
    let listed = match &cfg.features {
        Some(list) if list.contains(&cfg.target) => {
            let location = exp.location(DatasetKey::Features);
            return Err(DataError::TargetIsFeature { location, column: cfg.target.clone() });
        }
        Some(list) => list.iter().filter(|c| !cfg.exclude.contains(c)).cloned().collect(),
        None => header
            .iter()
            .filter(|h| {
                **h != cfg.target
                    && Some(*h) != split.as_ref()
                    && Some(*h) != weight.as_ref()
                    && !cfg.exclude.contains(h)
            })
            .cloned()
            .collect::<Vec<String>>(),
    };
    let mut seen = std::collections::HashSet::new();
    let features: Vec<String> = listed.into_iter().filter(|f| seen.insert(f.clone())).collect();
    if features.is_empty() {
        return Err(DataError::NoFeatures);
    }
    if let Some(taken) = split.iter().chain(&weight).find(|s| features.contains(s)) {
        return Err(DataError::TargetIsFeature { location: exp.location(DatasetKey::Features), column: taken.clone() });
    }
    Ok(ChosenColumns { features, split, weight })
}

/// What the task checks read of a target's values, over the whole file (loaded or scanned).
pub(super) enum TargetValues {
    /// No value at all: the row checks refuse it (every target missing), whatever the task.
    Empty,
    /// Text labels; `example` is the first present one.
    Text { example: String },
    /// Numbers: whether all are whole, and the first that is not.
    Numbers { integer: bool, fractional: Option<f64> },
}

impl TargetValues {
    pub(super) fn of(raw: &RawColumn) -> TargetValues {
        if !raw.present().contains(&true) {
            return TargetValues::Empty;
        }
        match raw {
            RawColumn::Text(values) => {
                TargetValues::Text { example: values.iter().flatten().next().cloned().unwrap_or_default() }
            }
            RawColumn::Numeric { values, integer } => TargetValues::Numbers {
                integer: *integer,
                fractional: values.iter().copied().find(|x| !x.is_nan() && x.fract() != 0.0),
            },
        }
    }
}

/// The task, given or inferred from the target's values; refuses text for regression,
/// integers with no task given, and fractional numbers as classes.
pub(super) fn decide_task(exp: &Experiment, values: TargetValues) -> Result<Task, DataError> {
    let (location, target) = (exp.location(DatasetKey::Target), exp.dataset.target.clone());
    match (values, exp.dataset.task) {
        (TargetValues::Empty, task) => Ok(task.unwrap_or(Task::Classification)),
        (TargetValues::Text { example }, Some(Task::Regression)) => {
            Err(DataError::TextTargetForRegression { location, target, example })
        }
        (TargetValues::Text { .. }, _) => Ok(Task::Classification),
        (TargetValues::Numbers { integer: true, .. }, None) => Err(DataError::AmbiguousTask { location, target }),
        (TargetValues::Numbers { fractional: Some(example), .. }, Some(Task::Classification)) => {
            Err(DataError::FractionalClasses { location, target, example })
        }
        (TargetValues::Numbers { .. }, Some(Task::Classification)) => Ok(Task::Classification),
        (TargetValues::Numbers { .. }, _) => Ok(Task::Regression),
    }
}

/// The task (given, or inferred from the target's values) and, for classification, the
/// target as text labels.
pub(super) fn infer_task(exp: &Experiment, target: &RawColumn) -> Result<(Task, Vec<Option<String>>), DataError> {
    match decide_task(exp, TargetValues::of(target))? {
        Task::Classification => Ok((Task::Classification, target.labels())),
        Task::Regression => Ok((Task::Regression, Vec::new())),
    }
}
