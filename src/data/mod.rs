//! Loading: a CSV, Parquet or NDJSON file is read once with polars and turned into a
//! [`Dataset`] of typed feature columns and a target. All data errors name the column and row.
//! `stream` reads it in batches instead, for data bigger than memory.

pub mod stream;

use crate::config::{DatasetConfig, DatasetKey, Experiment, Impute, Key, SplitConfig, SplitKey, Task};
use crate::suggest::suggestion;
use polars::prelude::*;
use sha2::{Digest, Sha256};
use std::path::Path;

/// One feature column as the preprocessing stage sees it.
#[derive(Debug, Clone)]
pub enum Feature {
    /// `NaN` marks a missing value.
    Numeric { name: String, values: Vec<f64> },
    /// Codes index `categories` (sorted); `None` is missing.
    Categorical { name: String, codes: Vec<Option<u32>>, categories: Vec<String> },
}

impl Feature {
    pub fn name(&self) -> &str {
        match self {
            Feature::Numeric { name, .. } | Feature::Categorical { name, .. } => name,
        }
    }

    fn retain_rows(&mut self, keep: &[bool]) {
        match self {
            Feature::Numeric { values, .. } => retain(values, keep),
            Feature::Categorical { codes, .. } => retain(codes, keep),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Feature::Numeric { values, .. } => values.len(),
            Feature::Categorical { codes, .. } => codes.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn is_missing(&self, row: usize) -> bool {
        match self {
            Feature::Numeric { values, .. } => values[row].is_nan(),
            Feature::Categorical { codes, .. } => codes[row].is_none(),
        }
    }
}

fn retain<T>(v: &mut Vec<T>, keep: &[bool]) {
    let mut i = 0;
    v.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}

#[derive(Debug, Clone)]
pub enum Target {
    Regression(Vec<f64>),
    /// `labels[i]` indexes `classes`, which are sorted (numerically when every label is a number).
    Classification {
        labels: Vec<usize>,
        classes: Vec<String>,
    },
}

impl Target {
    pub fn task(&self) -> Task {
        match self {
            Target::Regression(_) => Task::Regression,
            Target::Classification { .. } => Task::Classification,
        }
    }

    /// The class names, sorted; none for regression.
    pub fn class_names(&self) -> &[String] {
        match self {
            Target::Regression(_) => &[],
            Target::Classification { classes, .. } => classes,
        }
    }

    /// The number of classes; 0 for regression.
    pub fn classes(&self) -> usize {
        self.class_names().len()
    }
}

/// The loaded, cleaned dataset every fold indexes into. Loaded once, shared by every trial.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub sha256: String,
    /// Rows in the file.
    pub rows_total: usize,
    pub rows_dropped_target: usize,
    pub rows_dropped_missing: usize,
    pub features: Vec<Feature>,
    pub target_name: String,
    pub target: Target,
    pub split_column: Option<SplitColumn>,
    /// Row number in the file (0-based) of each kept row, for messages.
    pub file_rows: Vec<usize>,
    /// Missing values per feature column before imputation, in feature order.
    pub missing_counts: Vec<usize>,
    /// Set when the file is streamed: then the columns hold no values, and these counts
    /// stand in for what they would give.
    pub streamed: Option<Streamed>,
}

/// A streamed dataset's counts.
#[derive(Debug, Clone)]
pub struct Streamed {
    pub rows: usize,
    /// Rows per class (classification).
    pub class_counts: Vec<usize>,
    /// Bytes in the file.
    pub bytes: u64,
}

impl Dataset {
    pub fn rows(&self) -> usize {
        self.streamed.as_ref().map_or(self.file_rows.len(), |s| s.rows)
    }

    /// The raw parts of a row as a stream accumulates them: a value per numeric column, an
    /// indicator per category, and a missing indicator per column with gaps.
    pub fn raw_parts(&self) -> usize {
        let gaps = self.missing_counts.iter().filter(|&&n| n > 0).count();
        let values: usize = self
            .features
            .iter()
            .map(|f| match f {
                Feature::Numeric { .. } => 1,
                Feature::Categorical { categories, .. } => categories.len(),
            })
            .sum();
        values + gaps
    }

    /// Rows per class, in class order (empty for regression).
    pub fn class_counts(&self) -> Vec<usize> {
        match (&self.streamed, &self.target) {
            (Some(s), _) => s.class_counts.clone(),
            (None, Target::Classification { labels, classes }) => {
                (0..classes.len()).map(|c| labels.iter().filter(|&&l| l == c).count()).collect()
            }
            (None, Target::Regression(_)) => Vec::new(),
        }
    }
}

/// What a `method = "column"` split column holds, already checked row by row.
#[derive(Debug, Clone)]
pub enum SplitColumn {
    /// `true` where the row is a test row.
    TrainTest(Vec<bool>),
    /// PredefinedSplit fold ids; `-1` keeps a row in every training part.
    FoldIds(Vec<i64>),
    /// `group_kfold`'s groups: each row's index into the sorted distinct groups.
    Groups(Vec<usize>),
}

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{location}: dataset file `{path}` does not exist")]
    NotFound { location: String, path: String },
    #[error("{location}: dataset `{path}` is not a regular file (a folder, FIFO or device); give a CSV, Parquet or NDJSON file")]
    NotAFile { location: String, path: String },
    #[error("dataset `{path}`: {problem}")]
    Malformed { path: String, problem: String },
    #[error("column `{column}` has no values at all (every row is missing): nothing can be learned or imputed from it; leave it out with [dataset] exclude")]
    AllMissing { column: String },
    #[error("{location}: the split column `{column}` is the target; choose another column")]
    SplitIsTarget { location: String, column: String },
    #[error("cannot read dataset `{path}`: {message}")]
    Unreadable { path: String, message: String },
    #[error("dataset `{path}` is empty: it has no header and no rows")]
    Empty { path: String },
    #[error("dataset `{path}` has a header but no data rows")]
    NoRows { path: String },
    #[error("{location}: {what} `{name}` is not a column of `{path}`{hint} (columns: {columns})")]
    UnknownColumn { location: String, what: &'static str, name: String, path: String, hint: String, columns: String },
    #[error("column `{column}`, {row}: `{value}` is not a number (the column's other values are numeric; list its missing-value token in [dataset] missing, or fix the cell)")]
    NonNumeric { column: String, row: String, value: String },
    #[error("column `{column}`, {row}: {value} is not a finite number")]
    NotFinite { column: String, row: String, value: f64 },
    #[error("column `{column}` has a missing value at {row}; choose how to fill it with [preprocess] impute (or [preprocess.columns.{column}] impute = \"mean\", \"median\", \"mode\", \"constant\", \"interpolate\" or \"drop\")")]
    Missing { column: String, row: String },
    #[error("{location}: target `{target}` holds integers; say whether they are classes or quantities with task = \"classification\" or task = \"regression\" in [dataset]")]
    AmbiguousTask { location: String, target: String },
    #[error("{location}: task = \"regression\" needs a numeric target, but `{target}` holds text such as `{example}`")]
    TextTargetForRegression { location: String, target: String, example: String },
    #[error("{location}: task = \"classification\" needs class labels, but target `{target}` holds fractional numbers such as {example}")]
    FractionalClasses { location: String, target: String, example: f64 },
    #[error("every row's target `{target}` is missing")]
    NoTarget { target: String },
    #[error("target `{target}` has a single class `{class}`: classification needs at least two")]
    OneClass { target: String, class: String },
    #[error("group column `{column}` has a missing value at {row}: every row needs a group")]
    MissingGroup { column: String, row: String },
    #[error("split column `{column}`, {row}: `{value}` is neither `train`/`test` nor an integer fold id")]
    BadSplitValue { column: String, row: String, value: String },
    #[error("no feature columns are left after `features` and `exclude`")]
    NoFeatures,
    #[error("{location}: `{column}` is the target or the split column and cannot also be a feature")]
    TargetIsFeature { location: String, column: String },
    #[error("impute = \"drop\" removed every row")]
    AllDropped,
    #[error("the model needs column(s) {columns}, which `{path}` does not have{hint}")]
    MissingInput { columns: String, path: String, hint: String },
    #[error(
        "column `{column}`, {row}: `{value}` is not a number, but the model was trained on numbers in this column; \
         fix the cell, or write a missing value as one of the model's missing-value tokens ({tokens})"
    )]
    WrongType { column: String, row: String, value: String, tokens: String },
    #[error("column `{column}`, {row}: `{value}` is a level the model did not see in training (levels: {levels}); pass --unknown ignore to encode it as all zeros, as scikit-learn's handle_unknown=\"ignore\"")]
    UnseenLevel { column: String, row: String, value: String, levels: String },
    #[error("column `{column}` has a missing value at {row}, and the model was trained without imputation for it (impute = \"error\" or \"drop\"); fill the cell or drop the row")]
    UnfillableGap { column: String, row: String },
}

/// A raw column as read from the file, before it becomes a feature or the target.
enum RawColumn {
    Numeric { values: Vec<f64>, integer: bool },
    Text(Vec<Option<String>>),
}

/// A polars error as a runner user can act on it: polars' advice names its Python API
/// (`infer_schema_length`, `schema_overrides`, `ignore_errors`, ...), which runner has no
/// setting for, so the advice is cut and only what went wrong is kept.
pub(crate) fn polars_message(e: &PolarsError) -> String {
    let text = e.to_string();
    let text = text.split("You might want to try").next().unwrap_or("");
    const PYTHON: [&str; 8] = [
        "infer_schema",
        "schema_overrides",
        "ignore_errors",
        "null_values",
        "truncate_ragged_lines",
        "try_parse_dates",
        "pl.",
        "=True",
    ];
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let kept: Vec<&str> = lines.into_iter().filter(|l| !PYTHON.iter().any(|p| l.contains(p))).collect();
    match kept.join(" ") {
        t if t.is_empty() => "polars could not read it".into(),
        t => t,
    }
}

/// A polars error on `path` as a data error.
fn polars_unreadable(path: &Path) -> impl Fn(PolarsError) -> DataError + Copy + '_ {
    move |e| DataError::Unreadable { path: path.display().to_string(), message: polars_message(&e) }
}

fn row_label(path: &Path, row: usize) -> String {
    let is_csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        format!("row {} (line {} of the file)", row + 1, row + 2)
    } else {
        format!("row {}", row + 1)
    }
}

/// `read_frame`, with a panic inside polars turned into an error: polars 0.55 panics on some
/// inputs (an NDJSON integer too large for i64 is inferred as Int128, which it then refuses;
/// found by fuzzing). The default panic message is silenced meanwhile; nothing else runs then.
fn read_frame_guarded(path: &Path, missing: &[String], all_text: bool, text: &[&str]) -> PolarsResult<DataFrame> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(|| read_frame(path, missing, all_text, text));
    std::panic::set_hook(hook);
    result.unwrap_or_else(|panic| {
        let what = crate::panic::message(panic.as_ref(), "polars stopped on this file");
        Err(PolarsError::ComputeError(format!("the file could not be parsed ({what})").into()))
    })
}

/// The file as a frame; a CSV's `text` columns are read as the file wrote them.
fn read_frame(path: &Path, missing: &[String], all_text: bool, text: &[&str]) -> PolarsResult<DataFrame> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "parquet" => ParquetReader::new(std::fs::File::open(path)?).finish(),
        "ndjson" | "jsonl" => {
            JsonReader::new(std::fs::File::open(path)?).with_json_format(JsonFormat::JsonLines).finish()
        }
        _ => {
            let frame = read_csv(path, missing, all_text, text)?;
            spell_booleans_as_written(path, missing, all_text, text, frame)
        }
    }
}

fn read_csv(path: &Path, missing: &[String], all_text: bool, text: &[&str]) -> PolarsResult<DataFrame> {
    let tokens: Vec<PlSmallStr> = missing.iter().filter(|t| !t.is_empty()).map(|t| t.as_str().into()).collect();
    let missing_is_null = missing.iter().any(|t| t.is_empty());
    let as_text = (!text.is_empty()).then(|| {
        std::sync::Arc::new(text.iter().map(|n| Field::new((*n).into(), DataType::String)).collect::<Schema>())
    });
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(if all_text { 0 } else { 1000 }))
        .with_schema_overwrite(as_text)
        .map_parse_options(|p| {
            p.with_null_values((!tokens.is_empty()).then(|| NullValues::AllColumns(tokens.clone())))
                .with_missing_is_null(missing_is_null)
        })
        .try_into_reader_with_file_path(Some(path.to_path_buf()))?
        .finish()
}

/// polars reads `True`, `TRUE` and `true` as one boolean, which prints as `true`. A class
/// label or level is echoed as the file wrote it, so a boolean column that spells each
/// truth value one way is read again as that text (one spelled several ways stays boolean).
fn spell_booleans_as_written(
    path: &Path,
    missing: &[String],
    all_text: bool,
    text: &[&str],
    mut frame: DataFrame,
) -> PolarsResult<DataFrame> {
    let booleans: Vec<String> =
        frame.columns().iter().filter(|c| c.dtype() == &DataType::Boolean).map(|c| c.name().to_string()).collect();
    if booleans.is_empty() {
        return Ok(frame);
    }
    let names: Vec<&str> = text.iter().copied().chain(booleans.iter().map(String::as_str)).collect();
    let spelled = read_csv(path, missing, all_text, &names)?;
    for name in &booleans {
        let written = spelled.column(name)?;
        let mut spelling: [Option<&str>; 2] = [None, None];
        let one_way = frame.column(name)?.bool()?.iter().zip(written.str()?.iter()).all(|(b, t)| match (b, t) {
            (Some(b), Some(t)) => *spelling[usize::from(b)].get_or_insert(t) == t,
            (b, t) => b.is_none() && t.is_none(),
        });
        if one_way {
            frame.replace(name, written.clone())?;
        }
    }
    Ok(frame)
}

fn is_number(s: &str) -> bool {
    s.trim().parse::<f64>().is_ok()
}

/// Turns a polars column into a raw column. A text column whose values are mostly numbers is
/// a numeric column with a bad cell: that is an error naming the cell, not a category.
/// `first_row` is the file row of the column's first value (a streamed batch starts past 0).
fn raw_column(
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
            Ok(RawColumn::Numeric { values: ca.iter().map(|v| v.unwrap_or(f64::NAN)).collect(), integer })
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
fn level_spelling(cell: String) -> String {
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
enum LevelValue {
    Number(u64),
    Truth(bool),
}

fn level_value(s: &str) -> Option<LevelValue> {
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
fn sorted_categories<'a>(values: impl Iterator<Item = &'a String>) -> Vec<String> {
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

fn encode(values: &[Option<String>]) -> (Vec<Option<u32>>, Vec<String>) {
    let categories = sorted_categories(values.iter().flatten());
    let index: std::collections::HashMap<&str, u32> =
        categories.iter().enumerate().map(|(i, c)| (c.as_str(), i as u32)).collect();
    let codes = values.iter().map(|v| v.as_ref().map(|v| index[v.as_str()])).collect();
    (codes, categories)
}

fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}

/// The experiment file's text; the message says what is wrong (unreadable, not UTF-8).
pub fn read_experiment_text(file: &Path) -> Result<String, String> {
    let bytes = std::fs::read(file).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = valid.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        format!("byte {column} of line {line} is not UTF-8 (the file must be UTF-8 text)")
    })
}

/// Reads and checks the dataset of an experiment. Nothing is trained; every error here
/// stops the run before training (exit 2). The steps: read the file (checking its shape and
/// hashing it), choose the columns, read the target and infer the task, read the features,
/// drop rows, and encode the target.
pub fn load(exp: &Experiment) -> Result<Dataset, DataError> {
    let cfg = &exp.dataset;
    let path = &cfg.path;
    let (mut frame, sha256) = read_checked(exp)?;
    let header: Vec<String> = frame.get_column_names().iter().map(|n| n.to_string()).collect();
    let n_file = frame.height();
    let chosen = choose_columns(exp, &header)?;
    // Columns are taken out of the frame as they are converted, so the file's values are
    // never held twice over.
    let mut column = |name: &str| frame.drop_in_place(name).map_err(polars_unreadable(path));
    let target_raw = raw_column(path, &column(&cfg.target)?, &cfg.missing, false, 0)?;
    let (task, target_text) = infer_task(exp, &target_raw)?;
    let mut features = Vec::with_capacity(chosen.features.len());
    for name in &chosen.features {
        let raw = raw_column(path, &column(name)?, &cfg.missing, cfg.categorical.contains(name), 0)?;
        features.push(match raw {
            RawColumn::Numeric { values, .. } => Feature::Numeric { name: name.clone(), values },
            RawColumn::Text(values) => {
                let (codes, categories) = encode(&values);
                Feature::Categorical { name: name.clone(), codes, categories }
            }
        });
    }
    let kept = keep_rows(exp, &target_raw, &mut features)?;
    let missing_counts = check_gaps(exp, &features, &kept.file_rows)?;
    let target = encode_target(cfg, task, target_raw, target_text, &kept.keep)?;
    let split_column = match &chosen.split {
        Some(name) => {
            let groups = matches!(exp.split, SplitConfig::GroupKFold { .. });
            Some(read_split_column(path, name, &column(name)?, &cfg.missing, &kept.file_rows, groups)?)
        }
        None => None,
    };
    drop(frame);
    release_freed_memory();
    Ok(Dataset {
        sha256,
        rows_total: n_file,
        rows_dropped_target: kept.dropped_target,
        rows_dropped_missing: kept.dropped_missing,
        features,
        target_name: cfg.target.clone(),
        target,
        split_column,
        file_rows: kept.file_rows,
        missing_counts,
        streamed: None,
    })
}

/// The file read into a frame, with its sha256, once its shape is known to be sound.
fn read_checked(exp: &Experiment) -> Result<(DataFrame, String), DataError> {
    read_file(&exp.dataset.path, &exp.dataset.missing, &[], &|| exp.location(DatasetKey::Path))
}

/// `path` read into a frame with `missing` as the missing-value tokens; `location` names
/// where the path came from, for the errors.
fn read_file(
    path: &Path,
    missing: &[String],
    text: &[&str],
    location: &dyn Fn() -> String,
) -> Result<(DataFrame, String), DataError> {
    check_path(path, location)?;
    let shown = || path.display().to_string();
    let unreadable = |e: std::io::Error| DataError::Unreadable { path: shown(), message: e.to_string() };
    // The hash and polars' read are two reads: both must see one version of the file.
    let before = stream::stamp(path);
    // The shape check (and the hash, in the same pass) comes before polars reads the file:
    // polars 0.55's CSV parser reads out of bounds on some malformed files (an unclosed quote
    // after a ragged row, found by fuzzing), so it only ever sees files whose shape is sound.
    let (sha256, shape_problem) = scan_file(path).map_err(unreadable)?;
    if let Some(problem) = shape_problem {
        return Err(DataError::Malformed { path: shown(), problem });
    }
    // Fast path: polars infers the types. If a cell defeats inference, re-read as text so
    // that our own parser can name the bad cell.
    let frame =
        read_frame_guarded(path, missing, false, text).or_else(|_| read_frame_guarded(path, missing, true, text));
    let frame = frame.map_err(polars_unreadable(path))?;
    if before.is_none() || stream::stamp(path) != before {
        let message = "the file changed while it was being read (its size, times or identity differ from when \
                       reading began); run the same command again once it stays unchanged";
        return Err(DataError::Unreadable { path: shown(), message: message.into() });
    }
    if frame.height() == 0 {
        return Err(DataError::NoRows { path: shown() });
    }
    Ok((frame, sha256))
}

/// A data file that exists, is a regular file and is not blank.
fn check_path(path: &Path, location: &dyn Fn() -> String) -> Result<(), DataError> {
    let shown = || path.display().to_string();
    if !path.exists() {
        return Err(DataError::NotFound { location: location(), path: shown() });
    }
    // A FIFO or /dev/zero would be read forever.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return Err(DataError::NotAFile { location: location(), path: shown() });
    }
    let unreadable = |e: std::io::Error| DataError::Unreadable { path: shown(), message: e.to_string() };
    if is_blank(path).map_err(unreadable)? {
        return Err(DataError::Empty { path: shown() });
    }
    Ok(())
}

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
    let (frame, _) = read_file(path, &missing, &[], &|| "init".to_string())?;
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
    let (frame, _) = read_file(path, missing, id.as_slice(), &|| "predict".to_string())?;
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

/// The feature columns (in order, each once) and the split column the file names.
struct ChosenColumns {
    features: Vec<String>,
    split: Option<String>,
}

/// Checks every column the experiment names against the header and picks the features.
fn choose_columns(exp: &Experiment, header: &[String]) -> Result<ChosenColumns, DataError> {
    let cfg = &exp.dataset;
    let unknown = |key: Key, what: &'static str, name: &str| DataError::UnknownColumn {
        location: exp.location(key),
        what,
        name: name.to_string(),
        path: cfg.path.display().to_string(),
        hint: suggestion(name, header.iter().map(String::as_str)),
        columns: header.join(", "),
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
            .filter(|h| **h != cfg.target && Some(*h) != split.as_ref() && !cfg.exclude.contains(h))
            .cloned()
            .collect::<Vec<String>>(),
    };
    let mut seen = std::collections::HashSet::new();
    let features: Vec<String> = listed.into_iter().filter(|f| seen.insert(f.clone())).collect();
    if features.is_empty() {
        return Err(DataError::NoFeatures);
    }
    if let Some(split) = split.as_ref().filter(|s| features.contains(s)) {
        return Err(DataError::TargetIsFeature { location: exp.location(DatasetKey::Features), column: split.clone() });
    }
    Ok(ChosenColumns { features, split })
}

/// The task (given, or inferred from the target's values) and, for classification, the
/// target as text labels.
fn infer_task(exp: &Experiment, target: &RawColumn) -> Result<(Task, Vec<Option<String>>), DataError> {
    let cfg = &exp.dataset;
    let location = exp.location(DatasetKey::Target);
    match (target, cfg.task) {
        (RawColumn::Text(values), Some(Task::Regression)) => {
            let example = values.iter().flatten().next().cloned().unwrap_or_default();
            Err(DataError::TextTargetForRegression { location, target: cfg.target.clone(), example })
        }
        (RawColumn::Text(values), _) => Ok((Task::Classification, values.clone())),
        (RawColumn::Numeric { integer: true, .. }, None) => {
            Err(DataError::AmbiguousTask { location, target: cfg.target.clone() })
        }
        (RawColumn::Numeric { values, .. }, Some(Task::Classification)) => {
            if let Some(x) = values.iter().find(|x| !x.is_nan() && x.fract() != 0.0) {
                return Err(DataError::FractionalClasses { location, target: cfg.target.clone(), example: *x });
            }
            Ok((Task::Classification, values.iter().map(|x| (!x.is_nan()).then(|| format_number(*x))).collect()))
        }
        (RawColumn::Numeric { .. }, _) => Ok((Task::Regression, Vec::new())),
    }
}

/// Which file rows are used: those with a target, minus those `impute = "drop"` removes.
struct KeptRows {
    keep: Vec<bool>,
    file_rows: Vec<usize>,
    dropped_target: usize,
    dropped_missing: usize,
}

/// Drops rows without a target and, for `impute = "drop"` columns, rows with a gap; the
/// features keep only the rows used.
fn keep_rows(exp: &Experiment, target: &RawColumn, features: &mut [Feature]) -> Result<KeptRows, DataError> {
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
fn check_gaps(exp: &Experiment, features: &[Feature], file_rows: &[usize]) -> Result<Vec<usize>, DataError> {
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
fn encode_target(
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

/// Hands memory freed after parsing back to the operating system. glibc keeps freed heap
/// pages for reuse; after a load they would otherwise count against every fold's matrices.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the kernel; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Whether the file holds nothing but white space (read in small pieces).
fn is_blank(path: &Path) -> std::io::Result<bool> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = [0u8; 8192];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(true);
        }
        if !buf[..n].iter().all(u8::is_ascii_whitespace) {
            return Ok(false);
        }
    }
}

/// The file's sha256 and, for a CSV, the first problem with its shape: a header that is not
/// UTF-8 or names a column twice, or a row with more or fewer fields than the header (which
/// polars would pad or refuse without naming the row). One pass, quote-aware.
fn scan_file(path: &Path) -> std::io::Result<(String, Option<String>)> {
    scan_file_marking(path, None).map(|s| (s.sha256, s.problem))
}

/// What one raw pass over a file finds.
struct FileScan {
    sha256: String,
    problem: Option<String>,
    /// A CSV's byte offsets of its first data record and of every `every`-th one after it.
    record_starts: Vec<u64>,
}

/// `scan_file`, also marking where every `every`-th CSV record starts (streaming's batches).
fn scan_file_marking(path: &Path, every: Option<usize>) -> std::io::Result<FileScan> {
    use std::io::Read;
    let is_csv = !matches!(
        path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref(),
        Some("parquet" | "ndjson" | "jsonl")
    );
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut shape = CsvShape { mark_every: every, ..CsvShape::default() };
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        if is_csv && shape.problem.is_none() {
            shape.feed(&buf[..n]);
        }
    }
    if is_csv && shape.problem.is_none() {
        if shape.in_quotes {
            shape.problem = Some(format!("a quote opened in row {} is never closed", shape.record + 1));
        } else {
            shape.end_record();
        }
    }
    Ok(FileScan { sha256: format!("{:x}", hasher.finalize()), problem: shape.problem, record_starts: shape.starts })
}

/// Field counts of CSV records, fed in pieces.
#[derive(Default)]
struct CsvShape {
    in_quotes: bool,
    /// A quote just closed quoting: another one right after is an escaped quote.
    just_closed: bool,
    field_bytes: usize,
    fields: usize,
    record_bytes: usize,
    header: Vec<u8>,
    expected: Option<usize>,
    record: usize,
    problem: Option<String>,
    /// Bytes fed so far.
    pos: u64,
    mark_every: Option<usize>,
    starts: Vec<u64>,
}

impl CsvShape {
    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && self.problem.is_none() {
            bytes = self.feed_plain_lines(bytes);
            // Byte by byte up to the next line end: the header, a line with quotes, a line
            // the read buffer cut.
            let end = memchr::memchr(b'\n', bytes).map_or(bytes.len(), |e| e + 1);
            self.feed_bytes(&bytes[..end]);
            bytes = &bytes[end..];
        }
    }

    /// The fast path, for whole lines without a quote once the header is known: a line's
    /// field count is its commas + 1, found by vectorised scans instead of the byte-by-byte
    /// state machine (which gives the same counts). Returns the bytes it did not take.
    fn feed_plain_lines<'b>(&mut self, mut bytes: &'b [u8]) -> &'b [u8] {
        let at_line_start = |s: &Self| s.fields == 0 && s.field_bytes == 0 && s.record_bytes == 0;
        while self.expected.is_some() && !self.in_quotes && !self.just_closed && at_line_start(self) {
            let Some(end) = memchr::memchr(b'\n', bytes) else { break };
            let line = &bytes[..end];
            if memchr::memchr(b'"', line).is_some() {
                break;
            }
            self.fields += memchr::memchr_iter(b',', line).count();
            self.record_bytes += line.len() - memchr::memchr_iter(b'\r', line).count();
            self.pos += end as u64 + 1;
            self.end_record();
            bytes = &bytes[end + 1..];
            if self.problem.is_some() {
                return &[];
            }
        }
        bytes
    }

    fn feed_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.pos += 1;
            match b {
                // As polars reads it: a quote opens quoting only at a field's start; inside
                // quotes a quote closes it, and `""` reopens it at once (an escaped quote).
                b'"' if self.in_quotes => {
                    self.in_quotes = false;
                    self.just_closed = true;
                }
                b'"' if self.field_bytes == 0 || self.just_closed => {
                    self.in_quotes = true;
                    self.just_closed = false;
                }
                b',' if !self.in_quotes => {
                    self.fields += 1;
                    self.field_bytes = 0;
                    self.just_closed = false;
                    self.keep(b);
                    continue;
                }
                b'\n' if !self.in_quotes => {
                    self.end_record();
                    if self.problem.is_some() {
                        return;
                    }
                    continue;
                }
                // RFC 4180: after a closing quote comes a comma, a line end or `""`. polars 0.55
                // reads out of bounds on text there (found by fuzzing), so it is refused.
                _ if self.just_closed && b != b'\r' => {
                    self.problem =
                        Some(format!("row {} has text after a closing quote; quote the whole field", self.record + 1));
                    return;
                }
                _ => {}
            }
            self.field_bytes += 1;
            self.keep(b);
        }
    }

    /// Counts a byte of the record (and keeps the header's bytes).
    fn keep(&mut self, b: u8) {
        if b != b'\r' {
            self.record_bytes += 1;
        }
        if self.expected.is_none() {
            self.header.push(b);
        }
    }

    fn end_record(&mut self) {
        let fields = self.fields + 1;
        let blank = self.record_bytes == 0;
        self.fields = 0;
        self.record_bytes = 0;
        self.field_bytes = 0;
        self.just_closed = false;
        if blank {
            return;
        }
        match self.expected {
            None => {
                self.expected = Some(fields);
                self.problem = header_problem(&self.header);
                if self.mark_every.is_some() {
                    self.starts.push(self.pos);
                }
            }
            Some(want) if want != fields => {
                let row = self.record + 1;
                self.problem = Some(format!(
                    "row {row} (line {} of the file) has {fields} field(s), but the header has {want}",
                    row + 1
                ));
            }
            Some(_) => {
                self.record += 1;
                if self.mark_every.is_some_and(|every| self.record % every == 0) {
                    self.starts.push(self.pos);
                }
            }
        }
    }
}

/// A header that is not UTF-8, or that names a column twice (polars would rename one).
fn header_problem(header: &[u8]) -> Option<String> {
    let Ok(text) = std::str::from_utf8(header) else {
        return Some("the header is not valid UTF-8; save the file as UTF-8".into());
    };
    let names: Vec<&str> = text.trim_end_matches('\r').split(',').map(|n| n.trim().trim_matches('"')).collect();
    for (j, name) in names.iter().enumerate() {
        if let Some(first) = names[..j].iter().position(|n| n == name) {
            return Some(format!(
                "the header names column `{name}` twice (columns {} and {}); rename one",
                first + 1,
                j + 1
            ));
        }
    }
    None
}

/// The split column: train/test tags or fold ids, or with `groups` the group of each row.
fn read_split_column(
    path: &Path,
    name: &str,
    col: &Column,
    missing: &[String],
    file_rows: &[usize],
    groups: bool,
) -> Result<SplitColumn, DataError> {
    read_split_values(path, name, col, missing, file_rows, groups, 0)
}

/// `read_split_column` of a batch whose first row is file row `first_row`; `kept` are
/// positions in the batch.
fn read_split_values(
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

#[cfg(test)]
mod tests {
    use super::CsvShape;

    #[test]
    fn polars_advice_for_its_python_api_never_reaches_a_user() {
        use polars::prelude::*;
        // Whole numbers, then a decimal past the inference rows: polars' advice names
        // infer_schema_length and schema_overrides.
        let csv = b"x\n1\n2\n1.5\n".to_vec();
        let e = CsvReadOptions::default()
            .with_infer_schema_length(Some(1))
            .into_reader_with_file_handle(std::io::Cursor::new(csv))
            .finish()
            .unwrap_err();
        assert!(e.to_string().contains("infer_schema_length"), "{e}");
        let shown = super::polars_message(&e);
        for python in ["infer_schema_length", "schema_overrides", "ignore_errors", "You might want"] {
            assert!(!shown.contains(python), "{shown}");
        }
        assert!(shown.contains("1.5"), "{shown}");
    }

    /// The verdict of the shape check: the problem, if any, and the records counted.
    fn verdict(shape: CsvShape) -> (Option<String>, usize, bool) {
        (shape.problem, shape.record, shape.in_quotes)
    }

    #[test]
    fn the_fast_path_gives_the_byte_by_byte_verdict_at_every_buffer_split() {
        let files = [
            "a,b,c\n1,2,3\n4,5,6\n",
            "a,b\r\n1,2\r\n3,4\r\n",
            "a,b\n1,2\n3\n4,5\n",
            "a,b\n\"x,y\",2\n\"p\"\"q\",3\n",
            "a,b\n\"multi\nline\",2\n5,6\n",
            "a,b\n\"x\"y,2\n",
            "a,a\n1,2\n",
            "a,b\n1,2,3\n",
            "a,b\n\n1,2\n\n",
            "a,b\n\"open,2\n",
        ];
        for text in files {
            let bytes = text.as_bytes();
            let mut reference = CsvShape::default();
            reference.feed_bytes(bytes);
            let want = verdict(reference);
            for split in 1..=bytes.len() {
                let mut shape = CsvShape::default();
                for chunk in bytes.chunks(split) {
                    if shape.problem.is_none() {
                        shape.feed(chunk);
                    }
                }
                assert_eq!(verdict(shape), want, "{text:?} in pieces of {split}");
            }
        }
    }
}
