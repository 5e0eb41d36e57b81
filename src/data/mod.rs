//! Loading: a CSV, Parquet or NDJSON file is read once with polars and turned into a
//! [`Dataset`] of typed feature columns and a target. All data errors name the column and row.
//! `stream` reads it in batches instead, for data bigger than memory.

pub mod stream;

mod cells;
mod columns;
mod experiment;
mod load;
mod predict;
mod read;
mod rows;
mod shape;
mod split_column;
mod summary;

pub use cells::repeated_level;
pub use experiment::read_experiment_text;
pub use load::load;
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
