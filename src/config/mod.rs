//! The experiment file: raw TOML (with spans) is validated into a checked [`Experiment`]
//! before any data is read. Every problem is collected, not just the first.

mod dataset;
pub mod diag;
pub mod grid;
mod key;
mod model;
mod parse;
mod preprocess;
pub mod reader;
mod report;
mod search;
mod split;

pub use dataset::DatasetKey;
pub use grid::{expand_axis, AxisSpec, Distribution};
pub use key::{Key, Location, Locations};
pub use model::ModelKey;
pub use parse::{parse_experiment, ConfigErrors, TopKey};
pub use preprocess::{ColumnKey, OneHotKey, PreprocessKey};
pub use report::ReportKey;
pub use search::{SearchKey, SearchMethod};
pub use split::SplitKey;

use crate::spec::{ModelKind, ParamValue};
use std::collections::BTreeMap;
use std::path::PathBuf;
use strum::VariantArray;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Task {
    Regression,
    Classification,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Impute {
    Error,
    Drop,
    Mean,
    Median,
    Mode,
    Constant,
    Interpolate,
    /// A numeric gap stays NaN in the design, for the kinds that take NaN natively.
    Keep,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, strum::IntoStaticStr, strum::VariantArray, strum::Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Scale {
    None,
    Standard,
    Minmax,
}

/// The word the experiment file and the report use for each value of a config enum.
macro_rules! named {
    ($($ty:ty),*) => {$(
        impl $ty {
            pub fn name(self) -> &'static str {
                self.into()
            }
        }
    )*};
}
named!(Task, Impute, Scale, SplitMethod, Metric, Format, PredictionsScope);

/// How one feature column is cleaned: the file-wide `[preprocess]` settings with any
/// `[preprocess.columns.NAME]` override applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnRule {
    pub impute: Impute,
    pub fill_value: Option<FillValue>,
    pub scale: Scale,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FillValue {
    Number(f64),
    Text(String),
}

#[derive(Debug, Clone)]
pub struct DatasetConfig {
    /// As written in the file.
    pub path_as_written: String,
    /// Resolved against the experiment file's directory.
    pub path: PathBuf,
    pub target: String,
    pub task: Option<Task>,
    pub features: Option<Vec<String>>,
    pub exclude: Vec<String>,
    pub categorical: Vec<String>,
    pub missing: Vec<String>,
    /// The sample-weight column, when given (not a feature).
    pub weight: Option<String>,
    /// Whether the sweep streams the file from disk instead of loading it.
    pub streaming: Streaming,
}

/// `[dataset] streaming`: `true`, `false`, or `"auto"` (stream when the data would not fit
/// in the memory budget).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Streaming {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone)]
pub struct PreprocessConfig {
    pub default_rule: ColumnRule,
    pub columns: BTreeMap<String, ColumnRule>,
    pub drop_first: bool,
}

impl PreprocessConfig {
    pub fn rule_for(&self, column: &str) -> &ColumnRule {
        self.columns.get(column).unwrap_or(&self.default_rule)
    }

    /// Every column is scaled (so advice to scale the features would not apply).
    pub fn scales_every_column(&self) -> bool {
        std::iter::once(&self.default_rule).chain(self.columns.values()).all(|r| r.scale != Scale::None)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TestSize {
    Fraction(f64),
    Count(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub enum SplitConfig {
    Holdout {
        test_size: TestSize,
        shuffle: bool,
        stratify: bool,
    },
    /// `repeats` > 1 is scikit-learn's RepeatedKFold (each repeat reshuffles).
    KFold {
        folds: usize,
        shuffle: bool,
        repeats: usize,
    },
    /// `repeats` > 1 is RepeatedStratifiedKFold.
    StratifiedKFold {
        folds: usize,
        shuffle: bool,
        repeats: usize,
    },
    /// GroupKFold: the rows of one `group` value are all on one side.
    GroupKFold {
        folds: usize,
        group: String,
        shuffle: bool,
    },
    /// TimeSeriesSplit: train on the past, test on the next `test_size` rows.
    TimeSeries {
        folds: usize,
        test_size: Option<usize>,
        max_train_size: Option<usize>,
        gap: usize,
    },
    Column {
        column: String,
    },
    None,
}

/// A split's method, as `[split] method` names it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, strum::IntoStaticStr, strum::VariantArray, strum::Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SplitMethod {
    Holdout,
    Kfold,
    StratifiedKfold,
    GroupKfold,
    Timeseries,
    Column,
    None,
}

impl SplitConfig {
    /// The folds the split makes as far as the file tells (a `column` split's count is in
    /// the data: at least one).
    pub fn least_folds(&self) -> usize {
        match self {
            SplitConfig::KFold { folds, repeats, .. } | SplitConfig::StratifiedKFold { folds, repeats, .. } => {
                folds.saturating_mul(*repeats)
            }
            SplitConfig::GroupKFold { folds, .. } | SplitConfig::TimeSeries { folds, .. } => *folds,
            SplitConfig::Holdout { .. } | SplitConfig::Column { .. } | SplitConfig::None => 1,
        }
    }

    pub fn method(&self) -> SplitMethod {
        match self {
            SplitConfig::Holdout { .. } => SplitMethod::Holdout,
            SplitConfig::KFold { .. } => SplitMethod::Kfold,
            SplitConfig::StratifiedKFold { .. } => SplitMethod::StratifiedKfold,
            SplitConfig::GroupKFold { .. } => SplitMethod::GroupKfold,
            SplitConfig::TimeSeries { .. } => SplitMethod::Timeseries,
            SplitConfig::Column { .. } => SplitMethod::Column,
            SplitConfig::None => SplitMethod::None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ModelConfig {
    pub name: String,
    pub kind: ModelKind,
    /// The model's own preprocessing steps, in the order written (`steps = ["poly", "standard"]`).
    pub steps: Vec<String>,
    /// Fixed parameters by name: the kind's (`alpha`) and its steps' (`poly.include_bias`).
    pub fixed: BTreeMap<String, ParamValue>,
    /// Grid axes in name order (as scikit-learn's ParameterGrid sorts them); the last varies fastest.
    pub grid: Vec<(String, Vec<ParamValue>)>,
    /// Random-search axes (`{ loguniform = [a, b] }`, ...) in name order; only with
    /// `[search] method = "random"`.
    pub distributions: Vec<(String, Distribution)>,
}

/// How each model's trials are chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SearchConfig {
    /// Every point of the cartesian grid.
    Grid,
    /// `n_trials` points per model, drawn from the seed as scikit-learn's ParameterSampler.
    Random { n_trials: usize },
    /// Successive halving over the grid, as HalvingGridSearchCV: rows are the resource.
    Halving { factor: u32, min_resources: MinResources },
}

impl SearchConfig {
    /// The trials a model with a grid of `grid_size` points (and distribution axes or not)
    /// plans under this search: every point, or `n_trials` draws (at most the grid's
    /// distinct points when every axis is a list).
    pub fn points(self, grid_size: u128, has_distributions: bool) -> u128 {
        match self {
            SearchConfig::Grid | SearchConfig::Halving { .. } => grid_size,
            SearchConfig::Random { n_trials } if has_distributions => n_trials as u128,
            SearchConfig::Random { n_trials } => grid_size.min(n_trials as u128),
        }
    }
}

/// The size guard's refusal when `points` trials × `folds` folds is more than `max_units`.
pub fn size_problem(points: u128, folds: u128, max_units: u64) -> Option<String> {
    let units = points.saturating_mul(folds);
    (units > u128::from(max_units)).then(|| {
        format!(
            "the grids plan {units} units ({points} trials × {folds} folds), more than max_units = {max_units}; \
             narrow the grids, or raise `max_units` at the top of the file"
        )
    })
}

/// HalvingGridSearchCV's `min_resources`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MinResources {
    /// As many rows as lets the last round use (nearly) all of them.
    Exhaust,
    /// 2 × folds (× classes for a classifier).
    Smallest,
    Rows(usize),
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Metric {
    Mse,
    Rmse,
    Mae,
    R2,
    Accuracy,
    Precision,
    Recall,
    F1,
    LogLoss,
    RocAuc,
}

impl Metric {
    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::VARIANTS.iter().copied().find(|m| m.name() == name)
    }

    pub fn task(self) -> Task {
        match self {
            Metric::Mse | Metric::Rmse | Metric::Mae | Metric::R2 => Task::Regression,
            _ => Task::Classification,
        }
    }

    /// Whether a larger value is better (accuracy) or worse (mse).
    pub fn higher_is_better(self) -> bool {
        matches!(self, Metric::R2 | Metric::Accuracy | Metric::Precision | Metric::Recall | Metric::F1 | Metric::RocAuc)
    }

    pub fn defaults_for(task: Task) -> Vec<Metric> {
        match task {
            Task::Regression => vec![Metric::Mse, Metric::Rmse, Metric::Mae, Metric::R2],
            Task::Classification => {
                vec![Metric::Accuracy, Metric::Precision, Metric::Recall, Metric::F1, Metric::LogLoss, Metric::RocAuc]
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum Format {
    Md,
    Json,
    Svg,
    /// report.html: one self-contained page (inline SVG, no network).
    Html,
}

/// Which trials' out-of-fold predictions go to predictions.csv.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, strum::IntoStaticStr, strum::VariantArray, strum::Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum PredictionsScope {
    Best,
    All,
    None,
}

/// How many rows a learning-curve point or a permutation's shuffle uses: a count, or a
/// share of the rows there are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SampleSize {
    Count(usize),
    Fraction(f64),
}

#[derive(Debug, Clone)]
pub struct ReportConfig {
    pub dir: Option<PathBuf>,
    pub formats: Vec<Format>,
    pub metrics: Option<Vec<Metric>>,
    pub rank_by: Option<Metric>,
    /// Compute the best trial's permutation importance (refits it on every fold).
    pub permutation_importance: bool,
    /// Test rows each shuffle scores (scikit-learn's `max_samples`); all when `None`.
    pub permutation_max_samples: Option<SampleSize>,
    /// Out-of-fold predictions written to predictions.csv.
    pub predictions: PredictionsScope,
    /// Refit the best trial on the rows the split lets it learn from and save model.json.
    pub refit: bool,
    /// Training sizes of the best trial's learning curve; empty: none.
    pub learning_curve: Vec<SampleSize>,
    /// Permute each fold's training part (from the seed) before taking its first rows, as
    /// `learning_curve(shuffle=True, random_state=seed)`.
    pub learning_curve_shuffle: bool,
    /// The MLflow tracking server the run is logged to (docs/tracking.md).
    pub mlflow: Option<String>,
}

/// A checked experiment: everything the later stages need, with every value validated.
#[derive(Debug, Clone)]
pub struct Experiment {
    pub name: String,
    pub description: Option<String>,
    pub seed: u32,
    /// The most (trial, fold) units a run may plan; a guard against runaway grids.
    pub max_units: u64,
    /// The experiment file as given on the command line.
    pub file: PathBuf,
    pub sha256: String,
    pub overrides: Vec<String>,
    pub dataset: DatasetConfig,
    pub preprocess: PreprocessConfig,
    pub split: SplitConfig,
    /// `[split.outer]`: nested cross-validation's outer split; `split` is then the inner one.
    pub outer: Option<SplitConfig>,
    pub models: Vec<ModelConfig>,
    pub search: SearchConfig,
    pub report: ReportConfig,
    /// `file:line:column` of every key read (and, for a key left out, of its table), for
    /// errors found once the data is read.
    pub locations: Locations,
}

impl Experiment {
    /// Where a key sits in the file (or the table it was left out of, else the file), for
    /// errors found after the data is read.
    pub fn location(&self, key: impl Into<Key>) -> String {
        self.locations.get(&key.into()).map_or_else(|| self.file.display().to_string(), |l| l.at.clone())
    }

    /// Where a key the file gives sits; `None` when the file leaves it out.
    pub fn given_at(&self, key: impl Into<Key>) -> Option<String> {
        self.locations.get(&key.into()).filter(|l| l.given).map(|l| l.at.clone())
    }
}

impl Experiment {
    /// The report folder: `--out`, else `[report] dir`, else `reports/<name>`.
    pub fn report_dir(&self, out: Option<&std::path::Path>) -> PathBuf {
        match (out, &self.report.dir) {
            (Some(out), _) => out.to_path_buf(),
            (None, Some(dir)) => dir.clone(),
            (None, None) => PathBuf::from("reports").join(&self.name),
        }
    }
}

#[cfg(test)]
mod test_support {
    use super::diag::Diagnostic;

    pub const HEAD: &str = "name = \"t\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n";
    pub const MODEL: &str = "[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n";

    pub fn parse(text: &str) -> Result<super::Experiment, Vec<Diagnostic>> {
        super::parse_experiment(std::path::Path::new("exp.toml"), text, &[], crate::kinds::CATALOG).map_err(|e| e.0)
    }

    /// Each error as `file:line:column: message`.
    pub fn errors(text: &str) -> Vec<String> {
        match parse(text) {
            Ok(_) => panic!("parsed without an error:\n{text}"),
            Err(e) => e.iter().map(ToString::to_string).collect(),
        }
    }
}

#[cfg(test)]
mod declarations {
    use super::reader::{declared, words, KeyDecl, KeyDefault, Section, Ty};
    use super::*;

    fn decls<K: Section>() -> Vec<KeyDecl> {
        K::ALL.iter().map(|k| k.decl()).collect()
    }

    /// Every section's declarations, by the table header docs/SPEC.md writes them under.
    fn sections() -> Vec<(&'static str, Vec<KeyDecl>)> {
        vec![
            ("", decls::<TopKey>()),
            ("dataset", decls::<DatasetKey>()),
            ("preprocess", decls::<PreprocessKey>()),
            ("preprocess.one_hot", decls::<OneHotKey>()),
            ("split", decls::<SplitKey>()),
            ("search", decls::<SearchKey>()),
            ("report", decls::<ReportKey>()),
            ("model", decls::<ModelKey>()),
        ]
    }

    #[test]
    fn every_declared_default_reads_as_its_type() {
        for (section, decls) in sections() {
            for d in decls {
                let ok = match (d.ty, d.default) {
                    (_, KeyDefault::Required | KeyDefault::Absent) => true,
                    (Ty::Int { min, max }, KeyDefault::Num(i)) => (min..=max).contains(&i),
                    (Ty::Bool, KeyDefault::Flag(_)) => true,
                    (Ty::Choice(w), KeyDefault::Word(x)) => w().contains(&x),
                    (Ty::ChoiceList { words, .. }, KeyDefault::Words(l)) => l.iter().all(|x| words().contains(x)),
                    (Ty::StrList, KeyDefault::Words(_)) => true,
                    (Ty::Streaming, KeyDefault::Word(x)) => x == "auto",
                    (Ty::MinResources, KeyDefault::Word(x)) => ["exhaust", "smallest"].contains(&x),
                    _ => false,
                };
                assert!(ok, "[{section}] `{}`: default {:?} is not a {:?}", d.name, d.default, d.ty);
            }
        }
        assert_eq!(declared::<i64, _>(SplitKey::Folds), Some(5));
        assert_eq!(words::<SearchMethod>(), ["grid", "random", "halving"]);
    }

    /// What a comment in docs/SPEC.md may say for a declared default.
    fn phrases(d: KeyDefault, value: &str) -> Vec<String> {
        match d {
            KeyDefault::Num(i) => vec![format!("default {i}")],
            KeyDefault::Flag(b) => vec![format!("default {b}")],
            KeyDefault::Word(w) => {
                vec![format!("default \"{w}\""), format!("\"{w}\" (default"), format!("\"{w}\" (the default")]
            }
            KeyDefault::Words(l) => {
                let quoted: Vec<String> = l.iter().map(|w| format!("\"{w}\"")).collect();
                let literal = format!("[{}]", quoted.join(", "));
                let mut p = vec![format!("default {}", quoted.join(", "))];
                if value == literal {
                    p.push("default all".into());
                }
                p
            }
            KeyDefault::Required | KeyDefault::Absent => Vec::new(),
        }
    }

    /// Wherever the annotated examples in docs/SPEC.md state a declared key's default, it is
    /// the declared one.
    #[test]
    fn the_spec_states_the_declared_defaults() {
        let spec = include_str!("../../docs/SPEC.md");
        let sections = sections();
        let (mut header, mut in_toml, mut checked) = (String::new(), false, 0);
        for line in spec.lines() {
            if line.starts_with("```") {
                in_toml = line == "```toml";
                header.clear();
                continue;
            }
            let line = line.trim();
            if !in_toml || line.starts_with('#') {
                continue;
            }
            if line.starts_with('[') {
                header = line.trim_matches(|c| c == '[' || c == ']').split(' ').next().unwrap_or("").into();
                header = header.trim_end_matches(']').to_string();
                continue;
            }
            let Some((assign, comment)) = line.split_once(" #") else { continue };
            let Some((key, value)) = assign.split_once('=') else { continue };
            let (key, value) = (key.trim(), value.trim());
            let Some((_, decls)) = sections.iter().find(|(s, _)| *s == header) else { continue };
            let Some(d) = decls.iter().find(|d| d.name == key) else { continue };
            let said = phrases(d.default, value);
            if comment.contains("default") && !said.is_empty() {
                assert!(
                    said.iter().any(|p| comment.contains(p.as_str())),
                    "docs/SPEC.md: `{key}` under [{header}] says `{comment}`, but the declared default is {:?}",
                    d.default
                );
                checked += 1;
            }
        }
        assert!(checked >= 15, "only {checked} defaults found in docs/SPEC.md");
    }
}
