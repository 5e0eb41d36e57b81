//! The rows used (a target, no gap in an `impute = "drop"` column), each feature's gaps, and
//! the encoded target.

use super::cells::{encode, row_label, RawColumn};
use super::{retain, DataError, Feature, Target};
use crate::config::{DatasetConfig, Experiment, Impute, Task};
use std::path::Path;

/// Which file rows are used: those with a target, minus those `impute = "drop"` removes.
pub(super) struct KeptRows {
    pub(super) keep: Vec<bool>,
    pub(super) file_rows: Vec<usize>,
    pub(super) dropped_target: usize,
    pub(super) dropped_missing: usize,
}

/// What the row checks read of one feature column, over the whole file (loaded or scanned).
pub(super) struct ColumnCount<'a> {
    pub(super) name: &'a str,
    /// Values present in the file's rows.
    pub(super) present: usize,
    /// The file row of the first gap among the rows used.
    pub(super) first_gap: Option<usize>,
}

/// The row checks, in this order: some row has a target, every feature column has a value,
/// some row is left after dropping, and no `impute = "error"` column has a gap in a row used.
pub(super) fn check_rows(
    exp: &Experiment,
    rows_total: usize,
    dropped_target: usize,
    kept: usize,
    columns: &[ColumnCount<'_>],
) -> Result<(), DataError> {
    if dropped_target == rows_total {
        return Err(DataError::NoTarget { target: exp.dataset.target.clone() });
    }
    if let Some(c) = columns.iter().find(|c| c.present == 0) {
        return Err(DataError::AllMissing { column: c.name.to_string() });
    }
    if kept == 0 {
        return Err(DataError::AllDropped);
    }
    for c in columns {
        if let (Some(row), Impute::Error) = (c.first_gap, exp.preprocess.rule_for(c.name).impute) {
            return Err(DataError::Missing { column: c.name.to_string(), row: row_label(&exp.dataset.path, row) });
        }
    }
    Ok(())
}

/// The sorted classes of a classification target: at least two.
pub(super) fn check_classes(target: &str, classes: &[String]) -> Result<(), DataError> {
    if classes.len() < 2 {
        let class = classes.first().cloned().unwrap_or_default();
        return Err(DataError::OneClass { target: target.to_string(), class });
    }
    Ok(())
}

/// Drops rows without a target and, for `impute = "drop"` columns, rows with a gap, after
/// the row checks; the features keep only the rows used.
pub(super) fn keep_rows(exp: &Experiment, target: &RawColumn, features: &mut [Feature]) -> Result<KeptRows, DataError> {
    let mut keep = target.present();
    let n_file = keep.len();
    let dropped_target = keep.iter().filter(|k| !**k).count();
    for f in features.iter().filter(|f| exp.preprocess.rule_for(f.name()).impute == Impute::Drop) {
        for (row, k) in keep.iter_mut().enumerate() {
            *k &= !f.is_missing(row);
        }
    }
    let kept = keep.iter().filter(|k| **k).count();
    let columns: Vec<ColumnCount<'_>> = features
        .iter()
        .map(|f| ColumnCount {
            name: f.name(),
            present: (0..n_file).filter(|&r| !f.is_missing(r)).count(),
            first_gap: (0..n_file).find(|&r| keep[r] && f.is_missing(r)),
        })
        .collect();
    check_rows(exp, n_file, dropped_target, kept, &columns)?;
    for f in features.iter_mut() {
        f.retain_rows(&keep);
    }
    let file_rows = (0..n_file).filter(|&i| keep[i]).collect();
    Ok(KeptRows { keep, file_rows, dropped_target, dropped_missing: n_file - kept - dropped_target })
}

/// Each feature's gaps among the rows used.
pub(super) fn gap_counts(features: &[Feature]) -> Vec<usize> {
    features.iter().map(|f| (0..f.len()).filter(|&r| f.is_missing(r)).count()).collect()
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
            check_classes(&cfg.target, &classes)?;
            Ok(Target::Classification { labels: codes.into_iter().map(|c| c.unwrap_or(0) as usize).collect(), classes })
        }
    }
}

/// The sample weights of the rows used, from the weight column's cells in the file's rows:
/// each a number (not text, not a gap), none negative, not all zero.
pub(super) fn read_weights(path: &Path, column: &str, raw: RawColumn, kept: &KeptRows) -> Result<Vec<f64>, DataError> {
    let bad = |row: usize, problem: String| DataError::BadWeight {
        column: column.to_string(),
        row: row_label(path, row),
        problem,
    };
    let values = match raw {
        RawColumn::Numeric { values, .. } => values,
        RawColumn::Text(cells) => {
            let rows = kept.file_rows.iter();
            return match rows.filter_map(|&r| cells[r].as_ref().map(|c| (r, c))).next() {
                Some((row, cell)) => Err(bad(row, format!("`{cell}` is not a number"))),
                None => Err(bad(kept.file_rows[0], "the weight is missing".into())),
            };
        }
    };
    let mut weights = Vec::with_capacity(kept.file_rows.len());
    for &row in &kept.file_rows {
        let w = values[row];
        if w.is_nan() {
            return Err(bad(row, "the weight is missing".into()));
        }
        if w < 0.0 {
            return Err(bad(row, format!("{w} is negative")));
        }
        weights.push(w);
    }
    if weights.iter().all(|&w| w == 0.0) {
        return Err(DataError::ZeroWeights { column: column.to_string() });
    }
    Ok(weights)
}
