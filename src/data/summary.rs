//! `runner init`'s summary of a data file's columns.

use super::cells::{raw_column, RawColumn};
use super::read::read_file;
use super::DataError;
use std::path::Path;

/// One column of a file, as `runner init` describes it.
#[derive(Debug, Clone)]
pub struct ColumnSummary {
    pub name: String,
    pub values: ColumnValues,
    pub missing: usize,
    /// Distinct present values.
    pub distinct: usize,
    /// The smallest count of a present value (class balance for a target).
    pub rarest: usize,
}

/// What a column holds, as `runner init` reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValues {
    /// Numbers. `whole`: every present value is a whole number (`3` or `3.0`); `row_numbers`: the
    /// column is the row number, 0..n or 1..n in order.
    Numeric {
        whole: bool,
        row_numbers: bool,
    },
    Text,
    /// Mostly numbers, but the cell at `row` holds `value`: the loader refuses it as numbers,
    /// so it can only be read as categories.
    Mixed {
        row: String,
        value: String,
    },
    /// A type the loader does not read (a date, a list): the message says which.
    Unreadable(String),
}

/// A file's rows and columns, read with the default missing-value tokens.
pub fn summarize_file(path: &Path) -> Result<(usize, Vec<ColumnSummary>), DataError> {
    let missing: Vec<String> = ["", "NA", "NaN", "null"].map(String::from).to_vec();
    let frame = read_file(path, &missing, &[], &|| "init".to_string())?;
    let mut columns = Vec::with_capacity(frame.width());
    for col in frame.columns() {
        let (values, keys): (ColumnValues, Vec<Option<String>>) = match raw_column(path, col, &missing, false, 0) {
            Ok(RawColumn::Numeric { values, .. }) => {
                let whole = values.iter().all(|x| x.is_nan() || x.fract() == 0.0);
                let row_numbers =
                    [0.0, 1.0].iter().any(|&first| values.iter().enumerate().all(|(i, &x)| x == first + i as f64));
                let keys = values.iter().map(|v| (!v.is_nan()).then(|| v.to_string())).collect();
                (ColumnValues::Numeric { whole, row_numbers }, keys)
            }
            Ok(RawColumn::Text(keys)) => (ColumnValues::Text, keys),
            Err(DataError::NonNumeric { row, value, .. }) => match raw_column(path, col, &missing, true, 0)? {
                RawColumn::Text(keys) => (ColumnValues::Mixed { row, value }, keys),
                RawColumn::Numeric { .. } => (ColumnValues::Unreadable("numbers and text".into()), Vec::new()),
            },
            Err(DataError::Unreadable { message, .. }) => (ColumnValues::Unreadable(message), Vec::new()),
            Err(e) => return Err(e),
        };
        let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for k in keys.iter().flatten() {
            *counts.entry(k.as_str()).or_default() += 1;
        }
        columns.push(ColumnSummary {
            name: col.name().to_string(),
            values,
            missing: keys.iter().filter(|k| k.is_none()).count(),
            distinct: counts.len(),
            rarest: counts.values().copied().min().unwrap_or(0),
        });
    }
    Ok((frame.height(), columns))
}
