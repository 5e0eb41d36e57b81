//! Cell conversion: a polars column as a raw column of numbers or text, categorical levels
//! as the file wrote them, and the sorted categories; shared by loading, streaming and predict.

use super::read::polars_unreadable;
use super::DataError;
use polars::prelude::*;
use std::path::Path;

/// A raw column as read from the file, before it becomes a feature or the target.
pub(super) enum RawColumn {
    Numeric { values: Vec<f64>, integer: bool },
    Text(Vec<Option<String>>),
}

impl RawColumn {
    /// Whether each cell holds a value.
    pub(super) fn present(&self) -> Vec<bool> {
        match self {
            RawColumn::Numeric { values, .. } => values.iter().map(|v| !v.is_nan()).collect(),
            RawColumn::Text(values) => values.iter().map(Option::is_some).collect(),
        }
    }

    /// The values as class labels (numbers as `format_number` writes them).
    pub(super) fn labels(&self) -> Vec<Option<String>> {
        match self {
            RawColumn::Text(values) => values.clone(),
            RawColumn::Numeric { values, .. } => {
                values.iter().map(|x| (!x.is_nan()).then(|| format_number(*x))).collect()
            }
        }
    }
}

pub(super) fn row_label(path: &Path, row: usize) -> String {
    let is_csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        format!("row {} (line {} of the file)", row + 1, row + 2)
    } else {
        format!("row {}", row + 1)
    }
}

pub(super) fn is_number(s: &str) -> bool {
    s.trim().parse::<f64>().is_ok()
}

/// Turns a polars column into a raw column. A text column whose values are mostly numbers is
/// a numeric column with a bad cell: that is an error naming the cell, not a category.
/// `first_row` is the file row of the column's first value (a streamed batch starts past 0).
pub(super) fn raw_column(
    path: &Path,
    col: &Column,
    missing: &[String],
    categorical: bool,
    first_row: usize,
) -> Result<RawColumn, DataError> {
    let raw = raw_column_values(path, col, missing, categorical, first_row)?;
    // inf is parsed as a number but would poison every statistic: refuse it, naming the cell.
    if let RawColumn::Numeric { values, .. } = &raw {
        if let Some((row, &value)) = values.iter().enumerate().find(|(_, v)| v.is_infinite()) {
            return Err(DataError::NotFinite {
                column: col.name().to_string(),
                row: row_label(path, first_row + row),
                value,
            });
        }
    }
    Ok(raw)
}

fn raw_column_values(
    path: &Path,
    col: &Column,
    missing: &[String],
    categorical: bool,
    first_row: usize,
) -> Result<RawColumn, DataError> {
    let name = col.name().to_string();
    let s = col.as_materialized_series();
    let unreadable = polars_unreadable(path);
    match s.dtype() {
        DataType::String => {
            let ca = s.str().map_err(unreadable)?;
            let values: Vec<Option<String>> =
                ca.iter().map(|v| v.filter(|x| !missing.iter().any(|m| m == x)).map(str::to_string)).collect();
            if categorical {
                return Ok(RawColumn::Text(values.into_iter().map(|v| v.map(level_spelling)).collect()));
            }
            let present: Vec<(usize, &String)> =
                values.iter().enumerate().filter_map(|(i, v)| v.as_ref().map(|v| (i, v))).collect();
            let numeric = present.iter().filter(|(_, v)| is_number(v)).count();
            if numeric > 0 && numeric * 2 >= present.len() {
                let mut out = Vec::with_capacity(values.len());
                for (i, v) in values.iter().enumerate() {
                    match v {
                        None => out.push(f64::NAN),
                        Some(v) => match v.trim().parse::<f64>() {
                            Ok(x) => out.push(x),
                            Err(_) => {
                                return Err(DataError::NonNumeric {
                                    column: name,
                                    row: row_label(path, first_row + i),
                                    value: v.clone(),
                                })
                            }
                        },
                    }
                }
                let integer = out.iter().all(|x| x.is_nan() || x.fract() == 0.0);
                return Ok(RawColumn::Numeric { values: out, integer });
            }
            Ok(RawColumn::Text(values))
        }
        DataType::Boolean => {
            let ca = s.bool().map_err(unreadable)?;
            Ok(RawColumn::Text(ca.iter().map(|v| v.map(|b| b.to_string())).collect()))
        }
        dt if dt.is_primitive_numeric() => {
            let integer = dt.is_integer();
            if categorical {
                let cast = s.cast(&DataType::String).map_err(unreadable)?;
                let ca = cast.str().map_err(unreadable)?;
                return Ok(RawColumn::Text(ca.iter().map(|v| v.map(|v| level_spelling(v.to_string()))).collect()));
            }
            let cast = s.cast(&DataType::Float64).map_err(unreadable)?;
            let ca = cast.f64().map_err(unreadable)?;
            let values = if ca.null_count() == 0 {
                // No gaps: the values as they lie, chunk by chunk (a streamed pass converts
                // every batch, and this copy is most of it).
                let mut values = Vec::with_capacity(ca.len());
                ca.downcast_iter().for_each(|chunk| values.extend_from_slice(chunk.values()));
                values
            } else {
                ca.iter().map(|v| v.unwrap_or(f64::NAN)).collect()
            };
            Ok(RawColumn::Numeric { values, integer })
        }
        DataType::Null => Ok(RawColumn::Numeric { values: vec![f64::NAN; s.len()], integer: false }),
        other => Err(DataError::Unreadable {
            path: path.display().to_string(),
            message: format!("column `{name}` has type {other}, which runner does not read"),
        }),
    }
}

/// A categorical cell as a level: a whole number written with a zero fraction (`2007.0`, as
/// pandas writes an integer column with gaps and as a float column reads) is the level
/// `2007`, so a column read as floats in one file and as integers in another has the same
/// levels. Decided cell by cell, so a streamed batch encodes as the whole file does.
pub(super) fn level_spelling(cell: String) -> String {
    let digits = cell.strip_prefix('-').unwrap_or(&cell);
    match digits.split_once('.') {
        Some((whole, fraction))
            if !whole.is_empty()
                && whole.bytes().all(|b| b.is_ascii_digit())
                && !fraction.is_empty()
                && fraction.bytes().all(|b| b == b'0') =>
        {
            let keep = cell.len() - fraction.len() - 1;
            cell[..keep].to_string()
        }
        _ => cell,
    }
}

/// A level's value beside its text: a number (`2.0070e3` is `2007`, as scikit-learn's
/// OneHotEncoder compares a numeric column's values) or a truth value (`True` is `true`, as
/// polars and pandas read them).
#[derive(PartialEq, Eq, Hash)]
pub(super) enum LevelValue {
    Number(u64),
    Truth(bool),
}

pub(super) fn level_value(s: &str) -> Option<LevelValue> {
    match s.trim().parse::<f64>() {
        // + 0.0 makes -0 and 0 one value.
        Ok(x) if !x.is_nan() => Some(LevelValue::Number((x + 0.0).to_bits())),
        Ok(_) => None,
        Err(_) => ["false", "true"].iter().position(|t| s.eq_ignore_ascii_case(t)).map(|t| LevelValue::Truth(t == 1)),
    }
}

/// The first level that repeats an earlier one, with its index: two levels that are the
/// same text (training gives each level once).
pub fn repeated_level(levels: &[String]) -> Option<(usize, &str)> {
    let mut seen = std::collections::HashSet::new();
    levels.iter().enumerate().find(|(_, l)| !seen.insert(l.as_str())).map(|(i, l)| (i, l.as_str()))
}

/// Sorted distinct labels: numerically when every label is a number, else as text.
pub(super) fn sorted_categories<'a>(values: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut cats: Vec<String> = values.cloned().collect();
    cats.sort();
    cats.dedup();
    if cats.iter().all(|c| is_number(c)) {
        cats.sort_by(|a, b| {
            let (x, y) = (a.trim().parse::<f64>().unwrap_or(0.0), b.trim().parse::<f64>().unwrap_or(0.0));
            x.total_cmp(&y)
        });
    }
    cats
}

pub(super) fn encode(values: &[Option<String>]) -> (Vec<Option<u32>>, Vec<String>) {
    let categories = sorted_categories(values.iter().flatten());
    let index: std::collections::HashMap<&str, u32> =
        categories.iter().enumerate().map(|(i, c)| (c.as_str(), i as u32)).collect();
    let codes = values.iter().map(|v| v.as_ref().map(|v| index[v.as_str()])).collect();
    (codes, categories)
}

pub(super) fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}
