//! `runner`: config → data → preprocess → split → models → sweep → metrics → report.
//! Only `main`, the data loader and the report writers touch the file system.

use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use runner::cli::{self, Cli, Command, RunArgs};
use runner::config::{self, Format};
use runner::plan::{self, RunPlan};
use runner::report::{self, Exporter, JsonExporter, MarkdownExporter, TrialLog};
use runner::sweep::{self, Status, UnitRecord};
use runner::models;
use std::collections::{BTreeMap, HashSet};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Exit codes, as SPEC.md defines them.
const EXIT_OK: u8 = 0;
const EXIT_ALL_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let args = cli::normalize_args(std::env::args().collect());
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    ExitCode::from(match cli.command {
        Command::Models => {
            print!("{}", models::catalog::render_catalog());
            EXIT_OK
        }
        Command::Check(args) => check(&args.files, &args.set),
        Command::Run(args) => run(&args),
    })
}

/// Plans every file; prints every error of every file. `None` when any failed.
fn prepare_all(files: &[PathBuf], overrides: &[String]) -> Option<Vec<RunPlan>> {
    let mut plans = Vec::new();
    let mut ok = true;
    for f in files {
        match plan::prepare(f, overrides) {
            Ok(p) => plans.push(p),
            Err(e) => {
                eprintln!("{e}");
                ok = false;
            }
        }
    }
    ok.then_some(plans)
}

fn check(files: &[PathBuf], overrides: &[String]) -> u8 {
    let Some(plans) = prepare_all(files, overrides) else {
        return EXIT_USAGE;
    };
    for p in &plans {
        let ds = &p.dataset;
        println!("{}: ok", p.experiment.file.display());
        println!(
            "  dataset  {}: {} rows ({} used), target `{}` ({}), {} feature columns → {} model inputs",
            p.experiment.dataset.path_as_written,
            ds.rows_total,
            ds.rows(),
            ds.target_name,
            if ds.target.task() == config::Task::Regression { "regression" } else { "classification" },
            ds.features.len(),
            p.feature_names.len()
        );
        let sizes: Vec<String> = p.split.folds.iter().map(|f| format!("{}/{}", f.train.len(), f.test.len())).collect();
        println!("  split    {}: {} fold(s), train/test rows {}", p.split.method, p.split.folds.len(), sizes.join(", "));
        for m in &p.experiment.models {
            let n = p.trials.iter().filter(|t| t.model == m.name).count();
            let kind = models::catalog::spec_of(m.kind).name;
            let axes: Vec<String> = m.grid.iter().map(|(a, v)| format!("{a} ({} values)", v.len())).collect();
            let grid = if axes.is_empty() { String::new() } else { format!(" over {}", axes.join(" × ")) };
            println!("  model    {} ({kind}): {n} trial(s){grid}", m.name);
        }
        let metrics: Vec<&str> = p.metrics.iter().map(|m| m.name()).collect();
        println!("  metrics  {} (ranked by {})", metrics.join(", "), p.rank_by.name());
        println!("  plan     {} trial(s) × {} fold(s) = {} unit(s)", p.trials.len(), p.split.folds.len(), p.units());
    }
    EXIT_OK
}

fn progress_bar(plan: &RunPlan, todo: usize, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::new(todo as u64);
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    } else {
        bar.set_draw_target(ProgressDrawTarget::stderr());
    }
    if let Ok(style) = ProgressStyle::with_template("{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} units, ETA {eta} {msg}") {
        bar.set_style(style);
    }
    bar.set_prefix(plan.experiment.name.clone());
    bar
}

fn run(args: &RunArgs) -> u8 {
    let Some(plans) = prepare_all(&args.files, &args.set) else {
        return EXIT_USAGE;
    };
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut exit = EXIT_OK;
    let several = plans.len() > 1;
    for plan in &plans {
        let dir = match (&args.out, several) {
            (Some(out), true) => out.join(&plan.experiment.name),
            (out, _) => plan.experiment.report_dir(out.as_deref()),
        };
        match run_one(plan, &dir, jobs, args) {
            Ok(code) => exit = exit.max(code),
            Err(message) => {
                eprintln!("error: {message}");
                exit = exit.max(EXIT_USAGE);
            }
        }
    }
    exit
}

fn run_one(plan: &RunPlan, dir: &std::path::Path, jobs: usize, args: &RunArgs) -> Result<u8, String> {
    let started = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let clock = Instant::now();
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create report folder {}: {e}", dir.display()))?;
    let (log, previous) = TrialLog::open(&dir.join("trials.jsonl"), &plan.run_key(), args.fresh)?;
    let done: HashSet<(String, usize)> = previous.iter().map(|r| (r.trial.clone(), r.fold)).collect();
    let bar = progress_bar(plan, plan.units() - done.len().min(plan.units()), args.quiet);
    if !done.is_empty() && !args.quiet {
        eprintln!("{}: resuming, {} of {} units already done ({})", plan.experiment.name, done.len(), plan.units(), log.path().display());
    }

    // Live "best so far": the rank metric of each trial whose folds have all finished.
    let folds = plan.split.folds.len();
    let partial: Mutex<BTreeMap<String, Vec<f64>>> = Mutex::new(BTreeMap::new());
    let best: Mutex<Option<(String, f64)>> = Mutex::new(None);
    let sink = |r: &UnitRecord| {
        log.append(r);
        bar.inc(1);
        if let (Status::Ok, Some(Some(v))) = (r.status, r.test.get(&plan.rank_by)) {
            let Ok(mut partial) = partial.lock() else { return };
            let values = partial.entry(r.trial.clone()).or_default();
            values.push(*v);
            if values.len() == folds {
                let mean = values.iter().sum::<f64>() / folds as f64;
                let Ok(mut best) = best.lock() else { return };
                let better = match &*best {
                    None => true,
                    Some((_, b)) => if plan.rank_by.higher_is_better() { mean > *b } else { mean < *b },
                };
                if better {
                    bar.set_message(format!("best {} {}={mean:.6}", r.trial, plan.rank_by.name()));
                    *best = Some((r.trial.clone(), mean));
                }
            }
        }
    };
    let input = sweep::SweepInput {
        dataset: &plan.dataset,
        preprocess: &plan.experiment.preprocess,
        plan: &plan.split,
        trials: &plan.trials,
        metrics: &plan.metrics,
    };
    let mut records = sweep::run(&input, jobs, &done, &sink);
    bar.finish_and_clear();
    records.extend(previous);

    let run_info = report::RunInfo {
        runner_version: env!("CARGO_PKG_VERSION"),
        started: report::rfc3339(started),
        seconds: clock.elapsed().as_secs_f64(),
        jobs,
    };
    let report = report::build(plan, &records, run_info);
    let mut written = Vec::new();
    let exporters: Vec<(Format, Box<dyn Exporter>)> = vec![(Format::Json, Box::new(JsonExporter)), (Format::Md, Box::new(MarkdownExporter))];
    for (format, exporter) in exporters {
        if plan.experiment.report.formats.contains(&format) {
            let path = dir.join(exporter.file_name());
            report::write_atomic(&path, &exporter.render(&report)).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            written.push(path.display().to_string());
        }
    }
    print!("{}", report::leaderboard_text(&report, 20));
    println!("report: {}", written.join(", "));
    let all_failed = report.trials.iter().all(|t| t.status != Status::Ok);
    Ok(if all_failed { EXIT_ALL_FAILED } else { EXIT_OK })
}
