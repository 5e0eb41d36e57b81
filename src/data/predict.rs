//! The new rows `runner predict` scores, checked against a saved model's inputs.

use super::cells::{level_value, raw_column, row_label, LevelValue, RawColumn};
use super::read::{polars_unreadable, read_file};
use super::{DataError, Feature};
use crate::suggest::suggestion;
use polars::prelude::*;
use std::path::Path;

/// What a saved model expects of one input column of new data.
pub struct InputColumn<'a> {
    pub name: &'a str,
    /// The levels a categorical column was trained on; `None` for a numeric column.
    pub levels: Option<&'a [String]>,
    /// A missing value can be filled (else it is an error naming the cell).
    pub fills_gaps: bool,
}

/// New rows to predict: the input columns in the model's order (categorical codes index
/// the model's levels; a code past them is an unseen level, kept with `ignore_unknown`), and
/// one id per row.
pub struct NewRows {
    pub features: Vec<Feature>,
    pub ids: Vec<String>,
}

/// Reads the rows `runner predict` scores. Every problem names the column and the row: a
/// missing column, a column of the wrong type, a level unseen in training (unless
/// `ignore_unknown`), a gap the model cannot fill.
pub fn load_new_rows(
    path: &Path,
    inputs: &[InputColumn<'_>],
    missing: &[String],
    id: Option<&str>,
    ignore_unknown: bool,
) -> Result<NewRows, DataError> {
    // The id column is echoed as the file wrote it (`007` stays `007`).
    let frame = read_file(path, missing, id.as_slice(), &|| "predict".to_string())?;
    let header: Vec<String> = frame.get_column_names().iter().map(|n| n.to_string()).collect();
    let column = |name: &str| {
        frame.column(name).map_err(|_| DataError::MissingInput {
            columns: format!("`{name}`"),
            path: path.display().to_string(),
            hint: suggestion(name, header.iter().map(String::as_str)),
        })
    };
    // Every absent column is named at once.
    let absent: Vec<&str> = inputs.iter().map(|i| i.name).filter(|n| !header.iter().any(|h| h == n)).collect();
    if let Some(first) = absent.first() {
        return Err(DataError::MissingInput {
            columns: absent.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
            path: path.display().to_string(),
            hint: suggestion(first, header.iter().map(String::as_str)),
        });
    }
    let mut features = Vec::with_capacity(inputs.len());
    for input in inputs {
        let raw = raw_column(path, column(input.name)?, missing, input.levels.is_some(), 0)
            .map_err(|e| for_predict(e, missing))?;
        let feature = match (raw, input.levels) {
            (RawColumn::Numeric { values, .. }, None) => Feature::Numeric { name: input.name.into(), values },
            // A column with no value at all is read as text: every cell is a gap.
            (RawColumn::Text(values), None) if values.iter().all(Option::is_none) => {
                Feature::Numeric { name: input.name.into(), values: vec![f64::NAN; values.len()] }
            }
            (RawColumn::Text(values), None) => return Err(wrong_type(path, input.name, &values, missing)),
            (RawColumn::Text(values), Some(levels)) => {
                let codes = level_codes(path, input.name, &values, levels, ignore_unknown)?;
                Feature::Categorical { name: input.name.into(), codes, categories: levels.to_vec() }
            }
            // A column with no values at all is read as numeric: every cell is a gap.
            (RawColumn::Numeric { values, .. }, Some(levels)) => {
                let codes = vec![None; values.len()];
                Feature::Categorical { name: input.name.into(), codes, categories: levels.to_vec() }
            }
        };
        if !input.fills_gaps {
            if let Some(row) = (0..feature.len()).find(|&r| feature.is_missing(r)) {
                let (column, row) = (input.name.to_string(), row_label(path, row));
                return Err(DataError::UnfillableGap { column, row });
            }
        }
        features.push(feature);
    }
    let ids = match id {
        Some(name) => id_values(path, column(name)?)?,
        None => (1..=frame.height()).map(|r| r.to_string()).collect(),
    };
    Ok(NewRows { features, ids })
}

/// A numeric input holding text: the error names its first text cell.
fn wrong_type(path: &Path, name: &str, values: &[Option<String>], missing: &[String]) -> DataError {
    let (row, value) =
        values.iter().enumerate().find_map(|(i, v)| v.as_ref().map(|v| (i, v.clone()))).unwrap_or_default();
    DataError::WrongType { column: name.to_string(), row: row_label(path, row), value, tokens: tokens(missing) }
}

/// A loader error as a `runner predict` user can act on it: the missing-value tokens are
/// the model's, which only a new run can change, so the advice is to fix the cell.
fn for_predict(e: DataError, missing: &[String]) -> DataError {
    match e {
        DataError::NonNumeric { column, row, value } => {
            DataError::WrongType { column, row, value, tokens: tokens(missing) }
        }
        e => e,
    }
}

/// The missing-value tokens, quoted for a message.
fn tokens(missing: &[String]) -> String {
    if missing.is_empty() {
        return "none".into();
    }
    missing.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
}

/// Each value's index among the trained `levels`; an unseen level is an error, or with
/// `ignore_unknown` the code `levels.len()` (no indicator).
fn level_codes(
    path: &Path,
    name: &str,
    values: &[Option<String>],
    levels: &[String],
    ignore_unknown: bool,
) -> Result<Vec<Option<u32>>, DataError> {
    let index: std::collections::HashMap<&str, u32> =
        levels.iter().enumerate().map(|(i, l)| (l.as_str(), i as u32)).collect();
    let unseen = levels.len() as u32;
    // A cell that is no level's text may still be one's value; the first such level wins.
    let mut values_index: std::collections::HashMap<LevelValue, u32> = std::collections::HashMap::new();
    for (i, l) in levels.iter().enumerate() {
        if let Some(v) = level_value(l) {
            values_index.entry(v).or_insert(i as u32);
        }
    }
    let by_value = |v: &str| level_value(v).and_then(|v| values_index.get(&v).copied());
    let mut codes = Vec::with_capacity(values.len());
    for (row, v) in values.iter().enumerate() {
        codes.push(match v.as_deref().map(|v| index.get(v).copied().or_else(|| by_value(v))) {
            None => None,
            Some(Some(c)) => Some(c),
            Some(None) if ignore_unknown => Some(unseen),
            Some(None) => {
                let value = v.clone().unwrap_or_default();
                let levels = levels.join(", ");
                return Err(DataError::UnseenLevel {
                    column: name.to_string(),
                    row: row_label(path, row),
                    value,
                    levels,
                });
            }
        });
    }
    Ok(codes)
}

/// The `--id` column's values as text (missing ones empty).
fn id_values(path: &Path, col: &Column) -> Result<Vec<String>, DataError> {
    let unreadable = polars_unreadable(path);
    let text = col.as_materialized_series().cast(&DataType::String).map_err(unreadable)?;
    Ok(text.str().map_err(unreadable)?.iter().map(|v| v.unwrap_or("").to_string()).collect())
}
