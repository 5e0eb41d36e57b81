//! The command line: its clap definitions (also behind `runner completions` and `runner man`) and the commands'
//! pure parts, `compare`, `init` and `schema`, which the binary's `commands/` call.

pub mod compare;
pub mod init;
pub mod schema;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "runner", version, about = "A declarative experiment runner for classical machine learning")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run every trial of each experiment and write its report (the default command).
    Run(RunArgs),
    /// Validate experiment files and their datasets, and print the trial plan. Trains nothing.
    Check(CheckArgs),
    /// List the model kinds with their parameters, defaults and valid ranges.
    Models,
    /// Join the partial results of `run --shard I/N` into one report.
    Merge(MergeArgs),
    /// Compare two report.json files trial by trial; exit 1 on a regression.
    Compare(CompareArgs),
    /// Predict new rows with the model.json a run saved (its refitted best trial).
    Predict(PredictArgs),
    /// Write a commented starting experiment for a data file (task, columns, split, models).
    Init(InitArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) for `runner`.
    Man,
    /// Print the experiment file's JSON Schema (for editors; docs/editors.md).
    Schema,
    /// Log a finished report folder to an MLflow tracking server (what a run could not log).
    MlflowSync(MlflowSyncArgs),
    /// Manage the parsed-data cache (`run` and `check` keep a loaded file's parsed columns there).
    #[command(subcommand)]
    Cache(CacheCommand),
}

#[derive(Subcommand, Debug)]
pub enum CacheCommand {
    /// Remove every entry of the parsed-data cache.
    Clear {
        /// The cache folder (default: $XDG_CACHE_HOME/runner, else ~/.cache/runner).
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
}

/// Where a loaded file's parsed columns are cached (docs/SPEC.md, "Parsed-data cache").
#[derive(Args, Debug, Clone)]
pub struct CacheArgs {
    /// The parsed-data cache folder (default: $XDG_CACHE_HOME/runner, else ~/.cache/runner).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Parse the data file without the parsed-data cache: neither read nor write it.
    #[arg(long, conflicts_with = "cache_dir")]
    pub no_cache: bool,
}

#[derive(Args, Debug)]
pub struct MlflowSyncArgs {
    /// The report folder a run or merge wrote (it holds report.json).
    pub dir: PathBuf,
    /// The tracking server (default: MLFLOW_TRACKING_URI).
    #[arg(long, value_name = "URI")]
    pub uri: Option<String>,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// The data (CSV, Parquet or NDJSON).
    pub data: PathBuf,
    /// The column to predict.
    #[arg(long)]
    pub target: String,
    /// Where to write the experiment (default: stdout). An existing file is not overwritten.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct PredictArgs {
    /// The model.json a run wrote into its report folder.
    pub model: PathBuf,
    /// The rows to predict (CSV, Parquet or NDJSON), with the columns the model was trained on.
    pub data: PathBuf,
    /// Where to write the predictions: CSV, or Parquet for a `.parquet` name (default: CSV on stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write each class's probability (classifiers).
    #[arg(long)]
    pub proba: bool,
    /// A column of the data to label each row with (default: the row number from 1).
    #[arg(long, value_name = "COLUMN")]
    pub id: Option<String>,
    /// A category level not seen in training: an error, or all-zero indicators (`ignore`).
    #[arg(long, value_enum, default_value_t = Unknown::Error)]
    pub unknown: Unknown,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Unknown {
    Error,
    Ignore,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    pub baseline: PathBuf,
    pub candidate: PathBuf,
    /// Relative worsening allowed before a trial counts as a regression (0: exact).
    #[arg(long, default_value_t = 0.0)]
    pub tolerance: f64,
    /// The test metric to compare (default: the baseline's rank_by).
    #[arg(long)]
    pub metric: Option<String>,
    /// Output format.
    #[arg(long, value_parser = ["md", "json"], default_value = "md")]
    pub format: String,
    /// `corrected-t`: count a worse trial as a regression only when the Nadeau–Bengio
    /// corrected resampled t-test of its per-fold scores against the baseline's is significant.
    #[arg(long, value_parser = ["corrected-t"])]
    pub test: Option<String>,
    /// The significance level of `--test` (p below it is significant).
    #[arg(long, default_value_t = 0.05, requires = "test")]
    pub alpha: f64,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// partial.json files (or the shard report folders holding them).
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Where to write the merged report.
    #[arg(long, required = true)]
    pub out: PathBuf,
    /// Log the merged report to the MLflow server in MLFLOW_TRACKING_URI (or `[report] mlflow`).
    #[arg(long)]
    pub mlflow: bool,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Experiment files (TOML).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Log each finished run to the MLflow server in MLFLOW_TRACKING_URI (or `[report] mlflow`).
    #[arg(long)]
    pub mlflow: bool,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Report folder (overrides [report] dir; with several files, one subfolder per experiment).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override a key of the file by its dotted path, e.g. `split.folds=10` or `model.ridge.grid.alpha=[1,10]`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Require finished units to resume from: an error when trials.jsonl is missing. (Resuming
    /// is the default whenever trials.jsonl matches this run.)
    #[arg(long, conflicts_with = "fresh")]
    pub resume: bool,
    /// Discard earlier results in trials.jsonl and start over.
    #[arg(long)]
    pub fresh: bool,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Run only the I-th of N deterministic slices of the (trial, fold) units (1 <= I <= N)
    /// and write partial.json; join the slices with `runner merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// With `[dataset] streaming = "auto"`, stream the data when loading it would take more
    /// memory than this (e.g. 512M, 4G; default: half of this machine's memory).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_budget: Option<u64>,
    /// Rows per streamed batch (for tests of many small batches).
    #[arg(long, hide = true)]
    pub batch_rows: Option<usize>,
    /// Test hook `N:PATH`: during streamed pass N, overwrite the data file in place with
    /// PATH's bytes (for tests of a file that changes mid-run).
    #[arg(long, hide = true, value_name = "N:PATH")]
    pub test_replace_during_pass: Option<String>,
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// A size in bytes: a number with an optional K, M, G or T suffix (powers of 1024; `B`,
/// `iB` and lower case accepted).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let value: f64 = number.parse().map_err(|_| format!("`{s}` is not a size such as 512M or 4G"))?;
    let shift = match unit.trim().to_ascii_uppercase().trim_end_matches('B').trim_end_matches('I') {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("`{s}`: the unit must be K, M, G or T (e.g. 512M)")),
    };
    let bytes = value * (1u64 << shift) as f64;
    if !bytes.is_finite() || bytes < 1.0 {
        return Err(format!("`{s}` is not a positive size"));
    }
    Ok(bytes as u64)
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Override a key of the file by its dotted path.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// As `runner run --memory-budget`: the budget `streaming = "auto"` compares against.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_budget: Option<u64>,
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// `runner FILE...` means `runner run FILE...`.
pub fn normalize_args(mut args: Vec<String>) -> Vec<String> {
    use clap::CommandFactory;
    const FLAGS: &[&str] = &["help", "-h", "--help", "-V", "--version"];
    if let Some(first) = args.get(1) {
        let command = Cli::command();
        let known = FLAGS.contains(&first.as_str()) || command.get_subcommands().any(|c| c.get_name() == first);
        if !known {
            args.insert(1, "run".into());
        }
    }
    args
}
