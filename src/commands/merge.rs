use super::{finish, EXIT_USAGE};
use runner::cli::MergeArgs;
use runner::plan;
use runner::report;
use runner::report::partial::{join, parse_partial};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// `runner merge`: join shard partials into the report one whole run would have written.
pub fn merge(args: &MergeArgs) -> u8 {
    let started = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let clock = Instant::now();
    let Some(parts) = read_partials(args) else {
        return EXIT_USAGE;
    };
    let (experiment, key, units) = match join(&parts) {
        Ok(j) => j,
        Err(problems) => {
            for p in problems {
                eprintln!("error: {p}");
            }
            return EXIT_USAGE;
        }
    };
    let default = plan::DataMode::default();
    let batch_rows = experiment.batch_rows.unwrap_or(default.batch_rows);
    let mode = plan::DataMode { force: Some(experiment.streamed), batch_rows, ..default };
    let mut plan = match plan::prepare_with(std::path::Path::new(&experiment.file), &experiment.overrides, mode) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_USAGE;
        }
    };
    // The report says why the shards streamed, as one whole run's would.
    if let (Some(stream), Some(why)) = (plan.stream_mut(), experiment.stream_why.clone()) {
        stream.why = why;
    }
    if plan.run_key() != key {
        eprintln!(
            "error: the experiment file {} or its dataset changed since the shards ran; rerun the shards",
            experiment.file
        );
        return EXIT_USAGE;
    }
    // A unit a shard should not hold (another trial, a fold out of range) is never used.
    let foreign: Vec<String> = units.iter().filter_map(|u| plan.owns(u).err()).collect();
    if !foreign.is_empty() {
        for f in foreign {
            eprintln!("error: a partial result holds a unit this experiment does not have: {f}");
        }
        return EXIT_USAGE;
    }
    let _lock = match std::fs::create_dir_all(&args.out)
        .map_err(|e| e.to_string())
        .and_then(|()| report::lock_folder(&args.out))
    {
        Ok(lock) => lock,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    report::remove_temporaries(&args.out);
    let run_info = report::RunInfo {
        runner_version: env!("CARGO_PKG_VERSION"),
        key: plan.run_key(),
        started: report::rfc3339(started),
        seconds: clock.elapsed().as_secs_f64(),
        jobs: 0,
        data_cache: plan.dataset.cache.name(),
    };
    let tracking = match super::mlflow::server_for(&plan, args.mlflow) {
        Ok(t) => t.map(super::mlflow::Tracking::after),
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    // The shards' models stayed in their processes: the explanation refits.
    let kept = runner::after_sweep::kept::BestModels::default();
    match finish(&plan, &units, &kept, run_info, &args.out, tracking, false) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_USAGE
        }
    }
}

/// Every shard's partial.json (a shard's folder names its partial.json), each error printed.
fn read_partials(args: &MergeArgs) -> Option<Vec<(String, report::partial::Partial)>> {
    let mut parts = Vec::new();
    let mut ok = true;
    for path in &args.parts {
        let file = if path.is_dir() { path.join("partial.json") } else { path.clone() };
        let name = file.display().to_string();
        match std::fs::read_to_string(&file).map_err(|e| e.to_string()).and_then(|t| parse_partial(&t)) {
            Ok(p) => parts.push((name, p)),
            Err(e) => {
                eprintln!("error: cannot read partial result {name}: {e}");
                ok = false;
            }
        }
    }
    ok.then_some(parts)
}
