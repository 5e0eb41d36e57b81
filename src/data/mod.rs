//! Loading: a CSV, Parquet or NDJSON file is read once with polars and turned into a
//! [`Dataset`] of typed feature columns and a target. All data errors name the column and row.
//! `stream` reads it in batches instead, for data bigger than memory.

pub mod cache;
pub mod stream;

mod cells;
mod columns;
mod experiment;
mod frame_bytes;
mod load;
mod predict;
mod read;
mod rows;
mod shape;
mod split_column;
mod summary;

pub use cells::repeated_level;
pub use experiment::read_experiment_text;
pub use load::{load, load_cached};
pub use predict::{load_new_rows, InputColumn, NewRows};
pub use summary::{summarize_file, ColumnSummary, ColumnValues};

use crate::config::Task;

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

/// The cleaned dataset: its schema and counts, and its rows, held in memory (loaded once,
/// shared by every trial; folds index into it) or read from the file on each pass.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub sha256: String,
    /// Rows in the file.
    pub rows_total: usize,
    pub rows_dropped_target: usize,
    pub rows_dropped_missing: usize,
    pub target_name: String,
    pub split_column: Option<SplitColumn>,
    /// Missing values per feature column before imputation, in feature order.
    pub missing_counts: Vec<usize>,
    pub storage: Storage,
    /// Whether the parsed columns came from the parsed-data cache (`run.data_cache`).
    pub cache: CacheUse,
}

/// Whether a dataset's parsed columns came from the parsed-data cache (`data::cache`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheUse {
    /// No cache: `--no-cache`, a streamed file, or a command that does not cache.
    Off,
    /// Read from the cache: neither parsed nor hashed.
    Hit,
    /// Parsed and hashed (and cached when it could be).
    Miss,
}

impl CacheUse {
    pub fn name(self) -> &'static str {
        match self {
            CacheUse::Off => "off",
            CacheUse::Hit => "hit",
            CacheUse::Miss => "miss",
        }
    }
}

/// Where a dataset's rows are.
#[derive(Debug, Clone)]
pub enum Storage {
    Loaded(Loaded),
    /// A streamed file: its rows are read batch by batch (`stream::StreamSource`).
    Streamed(Streamed),
}

/// The rows in memory.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub features: Vec<Feature>,
    pub target: Target,
    /// Row number in the file (0-based) of each kept row, for messages.
    pub file_rows: Vec<usize>,
    /// Each kept row's sample weight (`[dataset] weight`): non-negative, not all zero.
    pub weights: Option<Vec<f64>>,
}

/// What the scan of a streamed file found: no values, only the schema and counts.
#[derive(Debug, Clone)]
pub struct Streamed {
    pub rows: usize,
    /// Each feature column, in order.
    pub columns: Vec<ColumnSchema>,
    pub task: Task,
    /// The sorted classes (classification).
    pub classes: Vec<String>,
    /// Rows per class (classification).
    pub class_counts: Vec<usize>,
}

/// A streamed feature column: its name and, for a categorical one, its sorted levels.
#[derive(Debug, Clone)]
pub struct ColumnSchema {
    pub name: String,
    pub categories: Option<Vec<String>>,
}

/// A feature column as a stage that needs no values sees it, loaded or streamed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColumnView<'a> {
    pub name: &'a str,
    /// The sorted levels of a categorical column; `None` for a numeric one.
    pub categories: Option<&'a [String]>,
}

impl Feature {
    /// The column without its values.
    pub fn column(&self) -> ColumnView<'_> {
        match self {
            Feature::Numeric { name, .. } => ColumnView { name, categories: None },
            Feature::Categorical { name, categories, .. } => ColumnView { name, categories: Some(categories) },
        }
    }
}

impl Dataset {
    /// Rows used.
    pub fn rows(&self) -> usize {
        match &self.storage {
            Storage::Loaded(l) => l.file_rows.len(),
            Storage::Streamed(s) => s.rows,
        }
    }

    /// The rows in memory. Only a loaded run reads them: `plan::Mode::Streamed` sends the
    /// stages that read rows to the stream and refuses or skips the others, so asking a
    /// streamed dataset is a broken invariant.
    pub fn loaded(&self) -> &Loaded {
        match &self.storage {
            Storage::Loaded(l) => l,
            Storage::Streamed(_) => panic!("a streamed dataset's rows are read from its stream, not held in memory"),
        }
    }

    /// Each feature column's name and levels, in order.
    pub fn columns(&self) -> Vec<ColumnView<'_>> {
        match &self.storage {
            Storage::Loaded(l) => l.features.iter().map(Feature::column).collect(),
            Storage::Streamed(s) => {
                s.columns.iter().map(|c| ColumnView { name: &c.name, categories: c.categories.as_deref() }).collect()
            }
        }
    }

    pub fn task(&self) -> Task {
        match &self.storage {
            Storage::Loaded(l) => l.target.task(),
            Storage::Streamed(s) => s.task,
        }
    }

    /// The class names, sorted; none for regression.
    pub fn class_names(&self) -> &[String] {
        match &self.storage {
            Storage::Loaded(l) => l.target.class_names(),
            Storage::Streamed(s) => &s.classes,
        }
    }

    /// The number of classes; 0 for regression.
    pub fn classes(&self) -> usize {
        self.class_names().len()
    }

    /// The raw parts of a row as a stream accumulates them: a value per numeric column, an
    /// indicator per category, and a missing indicator per column with gaps.
    pub fn raw_parts(&self) -> usize {
        let gaps = self.missing_counts.iter().filter(|&&n| n > 0).count();
        let values: usize = self.columns().iter().map(|c| c.categories.map_or(1, <[String]>::len)).sum();
        values + gaps
    }

    /// Rows per class, in class order (empty for regression).
    pub fn class_counts(&self) -> Vec<usize> {
        match &self.storage {
            Storage::Streamed(s) => s.class_counts.clone(),
            Storage::Loaded(Loaded { target: Target::Classification { labels, classes }, .. }) => {
                (0..classes.len()).map(|c| labels.iter().filter(|&&l| l == c).count()).collect()
            }
            Storage::Loaded(Loaded { target: Target::Regression(_), .. }) => Vec::new(),
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
    /// `known`: the did-you-mean and the header's columns, rendered once (keeps the error small).
    #[error("{location}: {what} `{name}` is not a column of `{path}`{known}")]
    UnknownColumn { location: String, what: &'static str, name: String, path: String, known: String },
    #[error("column `{column}`, {row}: `{value}` is not a number (the column's other values are numeric; list its missing-value token in [dataset] missing, or fix the cell)")]
    NonNumeric { column: String, row: String, value: String },
    #[error("column `{column}`, {row}: {value} is not a finite number")]
    NotFinite { column: String, row: String, value: f64 },
    #[error("column `{column}` has a missing value at {row}; choose how to fill it with [preprocess] impute (or [preprocess.columns.{column}] impute = \"mean\", \"median\", \"mode\", \"constant\", \"interpolate\", \"drop\", or \"keep\" for hist_gradient_boosting)")]
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
    #[error("{location}: `{column}` is the target, the split or the weight column and cannot also be a feature")]
    TargetIsFeature { location: String, column: String },
    #[error("{location}: the weight column `{column}` is the target or the split column; choose another column")]
    WeightIsTarget { location: String, column: String },
    #[error("weight column `{column}`, {row}: {problem}; a sample weight is a non-negative number")]
    BadWeight { column: String, row: String, problem: String },
    #[error("weight column `{column}`: every row used weighs 0, so nothing can be learned or scored")]
    ZeroWeights { column: String },
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
    #[error("column `{column}` has a missing value at {row}, and the model was trained without imputation for it (impute = \"error\" or \"drop\", or \"keep\" on a categorical column); fill the cell or drop the row")]
    UnfillableGap { column: String, row: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(storage: Storage) -> Dataset {
        Dataset {
            sha256: String::new(),
            rows_total: 3,
            rows_dropped_target: 1,
            rows_dropped_missing: 0,
            target_name: "y".into(),
            split_column: None,
            missing_counts: vec![0, 1],
            storage,
            cache: CacheUse::Off,
        }
    }

    fn levels() -> Vec<String> {
        vec!["a".into(), "b".into()]
    }

    fn loaded() -> Dataset {
        let features = vec![
            Feature::Numeric { name: "x".into(), values: vec![1.0, 2.0] },
            Feature::Categorical { name: "c".into(), codes: vec![Some(1), None], categories: levels() },
        ];
        let target = Target::Classification { labels: vec![0, 1], classes: vec!["no".into(), "yes".into()] };
        dataset(Storage::Loaded(Loaded { features, target, file_rows: vec![0, 2], weights: None }))
    }

    fn streamed() -> Dataset {
        let columns = vec![
            ColumnSchema { name: "x".into(), categories: None },
            ColumnSchema { name: "c".into(), categories: Some(levels()) },
        ];
        let classes = vec!["no".into(), "yes".into()];
        dataset(Storage::Streamed(Streamed {
            rows: 2,
            columns,
            task: Task::Classification,
            classes,
            class_counts: vec![1, 1],
        }))
    }

    #[test]
    fn loaded_and_streamed_rows_show_one_schema() {
        let (loaded, streamed) = (loaded(), streamed());
        let levels = levels();
        let want = [ColumnView { name: "x", categories: None }, ColumnView { name: "c", categories: Some(&levels) }];
        for ds in [&loaded, &streamed] {
            assert_eq!(ds.columns(), want);
            assert_eq!(
                (ds.rows(), ds.task(), ds.classes(), ds.class_counts()),
                (2, Task::Classification, 2, vec![1, 1])
            );
            // x, two levels of c, and c's missing indicator.
            assert_eq!(ds.raw_parts(), 4);
        }
        assert_eq!(loaded.loaded().file_rows, [0, 2]);
    }

    #[test]
    #[should_panic(expected = "read from its stream")]
    fn a_streamed_dataset_lends_no_rows() {
        streamed().loaded();
    }
}
