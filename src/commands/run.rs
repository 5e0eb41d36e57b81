use super::mlflow::Tracking;
use super::{finish, prepare_all, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use runner::after_sweep::kept::Keeper;
use runner::cli::RunArgs;
use runner::config::PredictionsScope;
use runner::models::Fitted;
use runner::plan::RunPlan;
use runner::protocols::halving;
use runner::report::partial::{parse_shard, Partial, PartialExperiment, ShardId, PARTIAL_KIND};
use runner::report::{self, tracking, write_atomic, TrialLog};
use runner::sweep::{self, UnitFilter};
use runner::trial::{Status, Trial, UnitRecord};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// `runner run`: every experiment, one after the other, each sweep in parallel.
pub fn run(args: &RunArgs) -> u8 {
    let shard = match args.shard.as_deref().map(parse_shard).transpose() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: --shard {e}");
            return EXIT_USAGE;
        }
    };
    let mode = super::data_mode(args.memory_budget, args.batch_rows, args.quiet, &args.cache);
    let Some(mut plans) =
        mode.map_err(|e| eprintln!("error: {e}")).ok().and_then(|m| prepare_all(&args.files, &args.set, m))
    else {
        return EXIT_USAGE;
    };
    // A missing tracking server is a usage error before anything trains.
    if let Some(e) = plans.iter().find_map(|p| super::mlflow::server_for(p, args.mlflow).err()) {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
    if let Some((pass, with)) = args.test_replace_during_pass.as_deref().and_then(|h| h.split_once(':')) {
        let hook = pass.parse().ok().map(|p: usize| (p, std::path::PathBuf::from(with)));
        plans.iter_mut().filter_map(|p| p.stream_mut()).for_each(|s| s.source.replace_during_pass = hook.clone());
    }
    if let (Some(_), Some(p)) = (shard, plans.iter().find(|p| p.halving().is_some())) {
        eprintln!(
            "error: {}: successive halving cannot be sharded: each round needs the previous round's results from every shard; run it whole (it resumes from trials.jsonl)",
            p.experiment.file.display()
        );
        return EXIT_USAGE;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = args.jobs.unwrap_or(cores);
    // Thousands of threads only cost memory: refuse what no machine here could use.
    let most = (cores * 16).max(64);
    if jobs == 0 || jobs > most {
        eprintln!("error: --jobs {jobs} is out of range: this machine has {cores} core(s); give 1 to {most}");
        return EXIT_USAGE;
    }
    // Ctrl-C stops scheduling new units; finished ones are already in trials.jsonl.
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    let mut exit = EXIT_OK;
    let several = plans.len() > 1;
    for plan in &plans {
        let dir = match (&args.out, several) {
            (Some(out), true) => out.join(&plan.experiment.name),
            (out, _) => plan.experiment.report_dir(out.as_deref()),
        };
        let outcome = run_one(plan, &dir, jobs, args, shard, &stop);
        super::finish_cache_writes(std::slice::from_ref(plan));
        match outcome {
            Ok(code) => exit = exit.max(code),
            Err(message) => {
                eprintln!("error: {message}");
                exit = exit.max(EXIT_USAGE);
                // A failed write also stops the sweep: do not start the next experiment.
                if stop.load(Ordering::SeqCst) {
                    return exit;
                }
            }
        }
        if stop.load(Ordering::SeqCst) {
            return EXIT_INTERRUPTED;
        }
    }
    exit
}

fn progress_bar(plan: &RunPlan, todo: usize, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::new(todo as u64);
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    } else {
        bar.set_draw_target(ProgressDrawTarget::stderr());
    }
    // A streamed run's units all finish with its last pass: the bar follows the passes.
    let template = match plan.stream() {
        Some(_) => "{prefix} [{elapsed_precise}] {spinner} {pos}/{len} units; {msg}",
        None => "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} units, ETA {eta} {msg}",
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.set_prefix(plan.experiment.name.clone());
    bar
}

fn run_one(
    plan: &RunPlan,
    dir: &Path,
    jobs: usize,
    args: &RunArgs,
    shard: Option<ShardId>,
    stop: &AtomicBool,
) -> Result<u8, String> {
    let started = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let clock = Instant::now();
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create report folder {}: {e}", dir.display()))?;
    let _lock = report::lock_folder(dir)?;
    report::remove_temporaries(dir);
    let (log, previous) = open_log(plan, dir, args)?;
    let done: HashSet<(String, usize)> = previous.iter().map(|r| (r.trial.clone(), r.fold)).collect();
    let filter = UnitFilter { done: &done, shard: shard.map(|s| (s.index, s.count)) };
    let todo = units_to_do(plan, &filter, &done);
    let bar = progress_bar(plan, todo, args.quiet);
    if !done.is_empty() && !args.quiet {
        let (name, path, n) = (&plan.experiment.name, log.path().display(), done.len());
        eprintln!("{name}: resuming from {path}, {n} unit(s) already done");
    }
    let live = LiveBest::new(plan);
    let tracking = tracking(plan, args, shard)?;
    let finished = tracking.as_ref().map(|t| FinishedTrials::new(plan, t, &previous));
    let keeper = keeps_models(plan, shard).then(|| Keeper::new(plan, &previous));
    let keep = |trial: &Trial, fold: usize, model: Box<dyn Fitted>| {
        if let Some(k) = &keeper {
            k.offer(trial, fold, model);
        }
    };
    let write_error: Mutex<Option<String>> = Mutex::new(None);
    let sink = |r: &UnitRecord| {
        if let Err(e) = log.append(r) {
            if let Ok(mut first) = write_error.lock() {
                first.get_or_insert_with(|| e.to_string());
            }
            stop.store(true, Ordering::SeqCst);
            return;
        }
        if let Some(k) = &keeper {
            k.record(r);
        }
        bar.inc(1);
        if let Some(message) = live.record(r) {
            bar.set_message(message);
        }
        if let Some(f) = &finished {
            f.record(r);
        }
    };
    let passes = PassRate::new(plan);
    let progress = |p: &sweep::PassProgress| bar.set_message(passes.describe(p));
    let mut input = sweep::SweepInput::of(plan);
    input.progress = Some(&progress);
    input.keep = Some(&keep);
    input.order = unit_order(tracking.as_ref());
    let swept = match plan.halving() {
        Some(_) => halving::run_rounds(plan, jobs, &done, stop, &sink, &previous),
        None => sweep::run(&input, jobs, &filter, stop, &sink),
    };
    bar.finish_and_clear();
    let write_error = write_error.lock().ok().and_then(|mut e| e.take());
    let Some(records) = collected(plan, swept.map_err(|e| e.0), previous, write_error, log.path(), stop)? else {
        return Ok(EXIT_INTERRUPTED);
    };
    if let Some(shard) = shard {
        return write_partial(plan, dir, shard, records, &filter);
    }
    let run_info = run_info(plan, started, clock, jobs);
    drop(finished);
    let kept = keeper.map(Keeper::into_best).unwrap_or_default();
    finish(plan, &records, &kept, run_info, dir, tracking, args.quiet)
}

/// Trial by trial when trials are logged live, so their logging overlaps the sweep (#28).
fn unit_order(tracking: Option<&Tracking>) -> sweep::UnitOrder {
    match tracking {
        Some(t) if t.logs_live() => sweep::UnitOrder::TrialMajor,
        _ => sweep::UnitOrder::FoldMajor,
    }
}

/// What report.json's `run` says of this run.
fn run_info(plan: &RunPlan, started: u64, clock: Instant, jobs: usize) -> report::RunInfo {
    report::RunInfo {
        runner_version: env!("CARGO_PKG_VERSION"),
        key: plan.run_key(),
        started: report::rfc3339(started),
        seconds: clock.elapsed().as_secs_f64(),
        jobs,
        data_cache: plan.dataset.cache.name(),
    }
}

/// The sweep's records with the earlier run's, or `None` when it was interrupted (said on
/// stderr). An environment failure (a streamed file that changed) or a failed append to
/// trials.jsonl stops the run: nothing of it is recorded as a trial's failure.
fn collected(
    plan: &RunPlan,
    swept: Result<Vec<UnitRecord>, String>,
    previous: Vec<UnitRecord>,
    write_error: Option<String>,
    log: &Path,
    stop: &AtomicBool,
) -> Result<Option<Vec<UnitRecord>>, String> {
    let mut records = swept?;
    if let Some(e) = write_error {
        return Err(format!(
            "cannot append to {}: {e}. The units recorded before the failure are kept there; \
             free space (or fix the folder) and run the same command again to resume",
            log.display()
        ));
    }
    records.extend(previous);
    if stop.load(Ordering::SeqCst) {
        let (finished, path) = (records.len(), log.display());
        eprintln!(
            "interrupted: {finished} of {} unit(s) finished and saved in {path}; run the same command again to resume",
            plan.units()
        );
        return Ok(None);
    }
    Ok(Some(records))
}

/// Whether the sweep keeps its best trial's fold models for the explanation (which reads the
/// split's folds, in memory): not for halving's subsampled rounds, nor a shard (which does
/// not explain), nor when nothing asks for the best trial's predictions.
fn keeps_models(plan: &RunPlan, shard: Option<ShardId>) -> bool {
    let settings = &plan.experiment.report;
    let wanted = settings.permutation_importance || settings.predictions != PredictionsScope::None;
    wanted && shard.is_none() && plan.halving().is_none() && plan.stream().is_none()
}

/// The MLflow logging of this run, if it logs: trial by trial during the sweep, except for a
/// shard (its merge logs) and halving (trials are summarised by their last round).
fn tracking(plan: &RunPlan, args: &RunArgs, shard: Option<ShardId>) -> Result<Option<Tracking>, String> {
    Ok(super::mlflow::server_for(plan, args.mlflow)?.map(|uri| match (shard, plan.halving()) {
        (None, None) => Tracking::live(uri, &plan.experiment.name, &plan.run_key()),
        _ => Tracking::after(uri),
    }))
}

/// The run's trials.jsonl and the records an earlier run of the same key left in it.
fn open_log(plan: &RunPlan, dir: &Path, args: &RunArgs) -> Result<(TrialLog, Vec<UnitRecord>), String> {
    let log_path = dir.join("trials.jsonl");
    if args.resume && !log_path.exists() {
        return Err(format!("--resume: there is nothing to resume, {} does not exist", log_path.display()));
    }
    let (log, resumed) = TrialLog::open(&log_path, &plan.run_key(), args.fresh, &|r| plan.owns(r))?;
    for w in &resumed.warnings {
        eprintln!("warning: {}", super::shown(w));
    }
    Ok((log, resumed.records))
}

/// The units this run has left: its shard's, less those done (for halving, an upper bound
/// known from the schedule).
fn units_to_do(plan: &RunPlan, filter: &UnitFilter<'_>, done: &HashSet<(String, usize)>) -> usize {
    if plan.halving().is_some() {
        return plan.units().saturating_sub(done.len());
    }
    let folds = plan.split.folds.len();
    (0..plan.trials.len())
        .flat_map(|t| (0..folds).map(move |f| (t, f)))
        .filter(|&(t, f)| filter.in_shard(t, f, folds) && !done.contains(&(plan.trials[t].id.clone(), f)))
        .count()
}

/// A streamed pass on the progress bar: its number, what it is for, and its rows and
/// bytes per second.
struct PassRate {
    rows: usize,
    started: Mutex<(usize, Instant)>,
}

impl PassRate {
    fn new(plan: &RunPlan) -> Self {
        PassRate { rows: plan.dataset.rows(), started: Mutex::new((0, Instant::now())) }
    }

    fn describe(&self, p: &sweep::PassProgress) -> String {
        let Ok(mut started) = self.started.lock() else { return String::new() };
        if started.0 != p.pass {
            *started = (p.pass, Instant::now());
        }
        let seconds = started.1.elapsed().as_secs_f64().max(1e-3);
        let rows = self.rows as f64 * p.batches_done as f64 / p.batches.max(1) as f64;
        format!(
            "pass {} ({}): batch {}/{}, {:.2} M rows/s, {:.0} MiB/s",
            p.pass,
            p.what,
            p.batches_done,
            p.batches,
            rows / seconds / 1e6,
            p.bytes as f64 / seconds / (1 << 20) as f64
        )
    }
}

/// The live "best so far" on the progress bar: the rank metric's mean of each trial whose
/// folds have all finished.
struct LiveBest<'a> {
    plan: &'a RunPlan,
    by_trial: Mutex<BTreeMap<String, Vec<f64>>>,
    best: Mutex<Option<f64>>,
}

impl<'a> LiveBest<'a> {
    fn new(plan: &'a RunPlan) -> Self {
        LiveBest { plan, by_trial: Mutex::new(BTreeMap::new()), best: Mutex::new(None) }
    }

    /// Notes a finished unit; the bar's new message when it completes a better trial.
    fn record(&self, r: &UnitRecord) -> Option<String> {
        let (Status::Ok, Some(Some(v))) = (r.status, r.test.get(&self.plan.rank_by)) else { return None };
        let folds = self.plan.split.folds.len();
        let mut by_trial = self.by_trial.lock().ok()?;
        let values = by_trial.entry(r.trial.clone()).or_default();
        values.push(*v);
        if values.len() < folds {
            return None;
        }
        let mean = values.iter().sum::<f64>() / folds as f64;
        let mut best = self.best.lock().ok()?;
        let metric = self.plan.rank_by;
        let better = best.is_none_or(|b| if metric.higher_is_better() { mean > b } else { mean < b });
        better.then(|| {
            *best = Some(mean);
            format!("best {} {}={mean:.6}", r.trial, metric.name())
        })
    }
}

/// Hands each trial to the MLflow logging as its last fold finishes, summarised as the report
/// summarises it (`report::trial_report`), so what is logged early is what the report holds.
struct FinishedTrials<'a> {
    plan: &'a RunPlan,
    tracking: &'a Tracking,
    key: String,
    index: HashMap<&'a str, &'a Trial>,
    folds: Mutex<HashMap<String, BTreeMap<usize, UnitRecord>>>,
}

impl<'a> FinishedTrials<'a> {
    fn new(plan: &'a RunPlan, tracking: &'a Tracking, previous: &[UnitRecord]) -> Self {
        let index = plan.trials.iter().map(|t| (t.id.as_str(), t)).collect();
        let this = FinishedTrials { plan, tracking, key: plan.run_key(), index, folds: Mutex::new(HashMap::new()) };
        previous.iter().for_each(|r| this.record(r));
        this
    }

    fn record(&self, r: &UnitRecord) {
        let Some(trial) = self.index.get(r.trial.as_str()) else { return };
        let Ok(mut folds) = self.folds.lock() else { return };
        let done = folds.entry(r.trial.clone()).or_default();
        done.insert(r.fold, r.clone());
        if done.len() < self.plan.split.folds.len() {
            return;
        }
        let Some(done) = folds.remove(&r.trial) else { return };
        drop(folds);
        let records: Vec<&UnitRecord> = done.values().collect();
        if let Ok(run) = tracking::trial_log(&report::trial_report(self.plan, trial, &records), &self.key) {
            self.tracking.trial_done(run);
        }
    }
}

/// `--shard I/N`: the shard's unit records, in (trial, fold) order, as partial.json.
fn write_partial(
    plan: &RunPlan,
    dir: &Path,
    shard: ShardId,
    records: Vec<UnitRecord>,
    filter: &UnitFilter<'_>,
) -> Result<u8, String> {
    let folds = plan.split.folds.len();
    let index: BTreeMap<&str, usize> = plan.trials.iter().enumerate().map(|(i, t)| (t.id.as_str(), i)).collect();
    let mut units: Vec<UnitRecord> = records
        .into_iter()
        .filter(|r| index.get(r.trial.as_str()).is_some_and(|&t| filter.in_shard(t, r.fold, folds)))
        .collect();
    units.sort_by_key(|r| (index.get(r.trial.as_str()).copied(), r.fold));
    units.dedup_by(|a, b| a.trial == b.trial && a.fold == b.fold);
    let part = Partial {
        schema_version: report::SCHEMA_VERSION,
        kind: PARTIAL_KIND.into(),
        run_key: plan.run_key(),
        experiment: PartialExperiment {
            name: plan.experiment.name.clone(),
            file: plan.experiment.file.display().to_string(),
            overrides: plan.experiment.overrides.clone(),
            streamed: plan.stream().is_some(),
            stream_why: plan.stream().map(|s| s.why.clone()),
            batch_rows: plan.stream().map(|s| s.source.batch_rows()),
        },
        shard,
        total_units: plan.units(),
        units,
    };
    let path = dir.join("partial.json");
    let mut bytes = serde_json::to_vec_pretty(&part).map_err(|e| e.to_string())?;
    bytes.push(b'\n');
    write_atomic(&path, &bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let (name, n) = (&plan.experiment.name, part.units.len());
    println!("{name}: shard {}/{}: {n} unit(s) written to {}", shard.index, shard.count, path.display());
    Ok(EXIT_OK)
}
