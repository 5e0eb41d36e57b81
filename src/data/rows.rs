//! The rows used (a target, no gap in an `impute = "drop"` column), each feature's gaps, and
//! the encoded target.

use super::cells::{encode, row_label, RawColumn};
use super::{retain, DataError, Feature, Target};
use crate::config::{DatasetConfig, Experiment, Impute, Task};

/// Which file rows are used: those with a target, minus those `impute = "drop"` removes.
pub(super) struct KeptRows {
    pub(super) keep: Vec<bool>,
    pub(super) file_rows: Vec<usize>,
    pub(super) dropped_target: usize,
    pub(super) dropped_missing: usize,
}

/// Drops rows without a target and, for `impute = "drop"` columns, rows with a gap; the
/// features keep only the rows used.
pub(super) fn keep_rows(exp: &Experiment, target: &RawColumn, features: &mut [Feature]) -> Result<KeptRows, DataError> {
    let mut keep: Vec<bool> = match target {
        RawColumn::Numeric { values, .. } => values.iter().map(|v| !v.is_nan()).collect(),
        RawColumn::Text(values) => values.iter().map(Option::is_some).collect(),
    };
    let n_file = keep.len();
    let dropped_target = keep.iter().filter(|k| !**k).count();
    if dropped_target == n_file {
        return Err(DataError::NoTarget { target: exp.dataset.target.clone() });
    }
    for f in features.iter() {
        if (0..f.len()).all(|r| f.is_missing(r)) {
            return Err(DataError::AllMissing { column: f.name().to_string() });
        }
        if exp.preprocess.rule_for(f.name()).impute == Impute::Drop {
            for (row, k) in keep.iter_mut().enumerate() {
                if f.is_missing(row) {
                    *k = false;
                }
            }
        }
    }
    let dropped_missing = keep.iter().filter(|k| !**k).count() - dropped_target;
    if keep.iter().all(|k| !*k) {
        return Err(DataError::AllDropped);
    }
    for f in features.iter_mut() {
        f.retain_rows(&keep);
    }
    let file_rows = (0..n_file).filter(|&i| keep[i]).collect();
    Ok(KeptRows { keep, file_rows, dropped_target, dropped_missing })
}

/// Each feature's gaps after dropping; a gap in an `impute = "error"` column is an error
/// naming its row.
pub(super) fn check_gaps(exp: &Experiment, features: &[Feature], file_rows: &[usize]) -> Result<Vec<usize>, DataError> {
    let mut missing_counts = Vec::with_capacity(features.len());
    for f in features {
        let first = (0..file_rows.len()).find(|&r| f.is_missing(r));
        missing_counts.push((0..file_rows.len()).filter(|&r| f.is_missing(r)).count());
        if let (Some(r), Impute::Error) = (first, exp.preprocess.rule_for(f.name()).impute) {
            let row = row_label(&exp.dataset.path, file_rows[r]);
            return Err(DataError::Missing { column: f.name().to_string(), row });
        }
    }
    Ok(missing_counts)
}

/// The target on the rows used: values, or class indices into the sorted labels.
pub(super) fn encode_target(
    cfg: &DatasetConfig,
    task: Task,
    raw: RawColumn,
    mut text: Vec<Option<String>>,
    keep: &[bool],
) -> Result<Target, DataError> {
    match (task, raw) {
        (Task::Regression, RawColumn::Numeric { mut values, .. }) => {
            retain(&mut values, keep);
            Ok(Target::Regression(values))
        }
        _ => {
            retain(&mut text, keep);
            let (codes, classes) = encode(&text);
            if classes.len() < 2 {
                let class = classes.first().cloned().unwrap_or_default();
                return Err(DataError::OneClass { target: cfg.target.clone(), class });
            }
            Ok(Target::Classification { labels: codes.into_iter().map(|c| c.unwrap_or(0) as usize).collect(), classes })
        }
    }
}
