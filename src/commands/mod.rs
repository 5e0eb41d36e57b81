//! The commands' actions: the only place besides the loaders and report writers that does I/O.

mod cache;
mod check;
mod compare;
mod init;
mod merge;
mod mlflow;
mod predict;
mod run;

pub use cache::cache;
pub use check::check;
pub use compare::compare;
pub use init::init;
pub use merge::merge;
pub use mlflow::mlflow_sync;
pub use predict::predict;
pub use run::run;

use rayon::prelude::*;
use runner::after_sweep::explain;
use runner::after_sweep::kept::BestModels;
use runner::after_sweep::learning;
use runner::after_sweep::partial;
use runner::after_sweep::refit;
use runner::config::PredictionsScope;
use runner::plan::{self, RunPlan};
use runner::protocols::halving;
use runner::protocols::nested;
use runner::report::{self, write_atomic, Destination, Output, Report};
use runner::trial::{Status, UnitRecord};
use std::path::{Path, PathBuf};

/// Exit codes, as SPEC.md defines them.
pub const EXIT_OK: u8 = 0;
pub const EXIT_ALL_FAILED: u8 = 1;
/// `compare` found a regression.
pub const EXIT_REGRESSION: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
/// Interrupted by Ctrl-C (128 + SIGINT), finished units kept.
pub const EXIT_INTERRUPTED: u8 = 130;

/// How plans choose between loading and streaming: `--memory-budget`, else half of this
/// machine's memory; and the parsed-data cache a loaded file is read through.
fn data_mode(
    memory_budget: Option<u64>,
    batch_rows: Option<usize>,
    quiet: bool,
    cache: &runner::cli::CacheArgs,
) -> Result<plan::DataMode, String> {
    use std::io::IsTerminal;
    let budget = memory_budget.unwrap_or_else(|| physical_memory().map_or(u64::MAX, |m| m / 2));
    let default = plan::DataMode::default();
    let scan_progress = (!quiet && std::io::stderr().is_terminal()).then_some(show_scan as fn(usize, usize));
    Ok(plan::DataMode {
        memory_budget: budget,
        batch_rows: batch_rows.unwrap_or(default.batch_rows),
        scan_progress,
        cache: cache::data_cache(cache)?,
        ..default
    })
}

/// The scan of a streamed file (before any progress bar exists) on one stderr line, cleared
/// when it ends.
fn show_scan(done: usize, batches: usize) {
    if done < batches {
        eprint!("\rscanning the data file (first pass): batch {done}/{batches}");
    } else {
        eprint!("\r\x1b[2K");
    }
}

fn physical_memory() -> Option<u64> {
    #[cfg(unix)]
    {
        // SAFETY: sysconf reads a system constant; it takes no pointers.
        let (pages, size) = unsafe { (libc::sysconf(libc::_SC_PHYS_PAGES), libc::sysconf(libc::_SC_PAGESIZE)) };
        (pages > 0 && size > 0).then(|| pages as u64 * size as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// A message for the terminal: each line with its control characters as escapes (a column
/// name or a cell can hold an escape sequence that would move the cursor or recolour it).
fn shown(message: &str) -> String {
    message.lines().map(|l| runner::report::printable(l).into_owned()).collect::<Vec<_>>().join("\n")
}

/// Plans every file; prints every error of every file. `None` when any failed.
fn prepare_all(files: &[PathBuf], overrides: &[String], mode: plan::DataMode) -> Option<Vec<RunPlan>> {
    let mut plans = Vec::new();
    let mut ok = true;
    for f in files {
        match plan::prepare_with(f, overrides, mode.clone()) {
            Ok(p) => {
                for w in &p.warnings {
                    eprintln!("warning: {}: {}", f.display(), shown(w));
                }
                plans.push(p)
            }
            Err(e) => {
                eprintln!("{}", shown(&e.to_string()));
                ok = false;
            }
        }
    }
    ok.then_some(plans)
}

/// Waits for the parsed-data cache entries still being written (`plan.cache_write`) and
/// prints why any could not be (the run went on without it).
fn finish_cache_writes(plans: &[RunPlan]) {
    for p in plans {
        if let Some(w) = p.cache_write.as_ref().and_then(|w| w.finish()) {
            eprintln!("warning: {}: {}", p.experiment.file.display(), shown(&w));
        }
    }
}

/// The last stages of a run or a merge: summarize the records, explain the best trial (with
/// the fold models the sweep `kept` of it, refitting the others) and refit it, build the
/// report and export it.
fn finish(
    plan: &RunPlan,
    records: &[UnitRecord],
    kept: &BestModels,
    run: report::RunInfo,
    dir: &Path,
    tracking: Option<mlflow::Tracking>,
    quiet: bool,
) -> Result<u8, String> {
    let stages = Stages::new(quiet);
    // Successive halving: each trial is summarised by its last round, folds as the split's.
    let rounds = halving::rounds(plan, records);
    let last_rounds = halving::last_rounds(plan, records);
    let records = &halving::last_round_records(plan, records);
    let mut trials = report::summarize(plan, records);
    if plan.halving().is_some() {
        report::set_halving_rounds(&mut trials, &last_rounds);
    }
    let best = report::best_trial(&trials, plan.rank_by).and_then(|b| plan.trials.iter().find(|t| t.id == b.trial));
    let settings = &plan.experiment.report;
    // A stream keeps no rows to re-score or to list predictions of.
    let in_memory = plan.stream().is_none();
    let explain = || {
        best.filter(|_| settings.permutation_importance && in_memory)
            .map(|t| explain::explain(plan, t, records, settings.permutation_max_samples, kept))
    };
    let refit = || best.filter(|_| settings.refit).map(|t| refit::refit(plan, t)).transpose();
    if let Some(t) = best {
        stages.show(&format!("explaining and refitting the best trial, {}", t.id));
    }
    // Both are pure and independent: run together, each one's serial parts overlap the other.
    let (explained, refit) = rayon::join(explain, refit);
    let (explanation, explanation_error) = match explained {
        Some(Ok(e)) => (Some(e), None),
        Some(Err(reason)) => (None, Some(reason)),
        None => (None, None),
    };
    stages.show("predictions, learning curve, nested cross-validation");
    // The best trial's predictions come with its explanation when there is one.
    let predictions = match (settings.predictions, &explanation) {
        (PredictionsScope::Best, Some(e)) => vec![e.out_of_fold.clone()],
        _ if in_memory => out_of_fold(plan, &trials, records, kept),
        _ => Vec::new(),
    };
    let learning_curve = best.and_then(|t| learning::learning_curve(plan, t));
    // An environment failure (a streamed file that changed) stops the run: no report.
    let refit = refit.map_err(|e| e.0)?;
    let nested = nested::nested_cv(plan, run.jobs).map_err(|e| e.0)?;
    let halving = plan.halving().is_some().then_some(rounds);
    stages.show("partial dependence");
    let partial_dependence = match (&refit, &explanation) {
        (Some(Ok(r)), Some(e)) => partial::partial_dependence(plan, r, e),
        _ => None,
    };
    let work = report::AfterSweep {
        halving,
        nested,
        explanation,
        explanation_error,
        predictions,
        learning_curve,
        refit,
        partial_dependence,
    };
    stages.show("writing the report");
    let report = report::build(plan, trials, work, run);
    let code = write_report(plan, &report, dir)?;
    drop(stages);
    if let Some(tracking) = tracking {
        tracking.log_finished(&report, dir);
    }
    Ok(code)
}

/// What the terminal shows between the sweep's bar and the report: the stage at work and how
/// long it has run, so a long explanation does not look like a hang.
struct Stages(Option<indicatif::ProgressBar>);

impl Stages {
    fn new(quiet: bool) -> Self {
        use std::io::IsTerminal;
        if quiet || !std::io::stderr().is_terminal() {
            return Stages(None);
        }
        let spinner = indicatif::ProgressBar::new_spinner();
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
            spinner.set_style(style);
        }
        spinner.enable_steady_tick(std::time::Duration::from_millis(120));
        Stages(Some(spinner))
    }

    fn show(&self, stage: &str) {
        if let Some(spinner) = &self.0 {
            spinner.set_message(stage.to_string());
        }
    }
}

impl Drop for Stages {
    fn drop(&mut self) {
        if let Some(spinner) = &self.0 {
            spinner.finish_and_clear();
        }
    }
}

/// The out-of-fold predictions `[report] predictions` asks for: the best trial's, every ok
/// trial's, or none.
fn out_of_fold(
    plan: &RunPlan,
    trials: &[report::TrialReport],
    records: &[UnitRecord],
    kept: &BestModels,
) -> Vec<explain::OutOfFold> {
    let best = report::best_trial(trials, plan.rank_by);
    let ids: Vec<&str> = match plan.experiment.report.predictions {
        PredictionsScope::None => Vec::new(),
        PredictionsScope::Best => best.as_ref().map(|b| b.trial.as_str()).into_iter().collect(),
        PredictionsScope::All => trials.iter().filter(|t| t.status == Status::Ok).map(|t| t.id.as_str()).collect(),
    };
    let wanted = plan.trials.iter().filter(|t| ids.contains(&t.id.as_str()));
    wanted.filter_map(|t| explain::out_of_fold(plan, t, records, kept)).collect()
}

/// The leaderboard's `best:` line in bold, on a terminal only and unless `NO_COLOR` is set
/// (https://no-color.org); files and pipes get plain text.
fn highlight_best(text: &str) -> String {
    use std::io::IsTerminal;
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    if !colour {
        return text.to_string();
    }
    text.lines()
        .map(|l| if l.starts_with("best: ") { format!("\x1b[1m{l}\x1b[0m\n") } else { format!("{l}\n") })
        .collect()
}

/// The trials' notes (a rank warning, a solver stopped short) on the terminal as well as in
/// report.md: the first few trials' notes, then how many more trials have some.
fn warn_notes(report: &Report) {
    const SHOWN: usize = 5;
    let noted: Vec<&report::TrialReport> = report.trials.iter().filter(|t| !t.notes.is_empty()).collect();
    for t in noted.iter().take(SHOWN) {
        for note in &t.notes {
            eprintln!("warning: trial `{}`: {note}", t.id);
        }
    }
    if noted.len() > SHOWN {
        eprintln!("warning: {} more trials have warnings; report.md lists them all", noted.len() - SHOWN);
    }
}

/// Runs the exporters `[report] formats` asks for, writes their files and prints the rest.
fn write_report(plan: &RunPlan, report: &Report, dir: &Path) -> Result<u8, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create report folder {}: {e}", dir.display()))?;
    let outputs = report::render_all(report, &report::exporters(&plan.experiment.report.formats));
    let files: Vec<(&String, &Output)> = outputs
        .iter()
        .filter_map(|o| match &o.destination {
            Destination::File(name) => Some((name, o)),
            Destination::Stdout => None,
        })
        .collect();
    // The files are written (each synced) in parallel; the first failure in order is reported.
    let results: Vec<Result<(), String>> = files
        .par_iter()
        .map(|(name, output)| {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            write_atomic(&path, &output.bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
        })
        .collect();
    results.into_iter().collect::<Result<(), String>>()?;
    let plots = files.iter().filter(|(name, _)| name.starts_with("plots/")).count();
    let mut written: Vec<String> = files
        .iter()
        .filter(|(name, _)| !name.starts_with("plots/"))
        .map(|(name, _)| dir.join(name).display().to_string())
        .collect();
    if plots > 0 {
        written
            .insert(0, format!("{} ({plots} plot{})", dir.join("plots").display(), if plots == 1 { "" } else { "s" }));
    }
    for output in outputs.iter().filter(|o| o.destination == Destination::Stdout) {
        print!("{}", highlight_best(&String::from_utf8_lossy(&output.bytes)));
    }
    println!("report: {}", written.join(", "));
    warn_notes(report);
    let all_failed = report.trials.iter().all(|t| t.status != Status::Ok);
    Ok(if all_failed { EXIT_ALL_FAILED } else { EXIT_OK })
}
