//! A `method = "column"` split column or a `group_kfold` group column, checked row by row.

use super::cells::{encode, raw_column, row_label, RawColumn};
use super::{DataError, SplitColumn};
use polars::prelude::*;
use std::path::Path;

/// The split column on the rows used: train/test tags or fold ids, or with `groups` the group
/// of each row. `file_rows` are positions in `col`, whose first value is file row `first_row`
/// (a streamed batch starts past 0).
pub(super) fn read_split_column(
    path: &Path,
    name: &str,
    col: &Column,
    missing: &[String],
    file_rows: &[usize],
    groups: bool,
    first_row: usize,
) -> Result<SplitColumn, DataError> {
    // Read as text; a column with no values at all comes back numeric, all missing.
    let values: Vec<Option<String>> = match raw_column(path, col, missing, true, 0)? {
        RawColumn::Text(values) => file_rows.iter().map(|&r| values[r].clone()).collect(),
        RawColumn::Numeric { .. } => vec![None; file_rows.len()],
    };
    let bad = |i: usize, v: &str| DataError::BadSplitValue {
        column: name.to_string(),
        row: row_label(path, first_row + file_rows[i]),
        value: v.to_string(),
    };
    if groups {
        if let Some(i) = values.iter().position(Option::is_none) {
            return Err(DataError::MissingGroup {
                column: name.to_string(),
                row: row_label(path, first_row + file_rows[i]),
            });
        }
        let (codes, _) = encode(&values);
        return Ok(SplitColumn::Groups(codes.into_iter().map(|c| c.unwrap_or(0) as usize).collect()));
    }
    let first = values.iter().flatten().next().map(|s| s.trim().to_ascii_lowercase());
    if matches!(first.as_deref(), Some("train" | "test")) {
        let mut is_test = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            match v.as_deref().map(|s| s.trim().to_ascii_lowercase()) {
                Some(s) if s == "train" => is_test.push(false),
                Some(s) if s == "test" => is_test.push(true),
                other => return Err(bad(i, other.as_deref().unwrap_or("(missing)"))),
            }
        }
        Ok(SplitColumn::TrainTest(is_test))
    } else {
        let mut ids = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            match v.as_deref().and_then(|s| s.trim().parse::<i64>().ok()) {
                Some(id) => ids.push(id),
                None => return Err(bad(i, v.as_deref().unwrap_or("(missing)"))),
            }
        }
        Ok(SplitColumn::FoldIds(ids))
    }
}
