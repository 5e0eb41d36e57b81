use super::{prepare_all, EXIT_OK, EXIT_USAGE};
use runner::cli::CacheArgs;
use runner::config::{SearchConfig, SplitConfig, Task};
use std::path::PathBuf;

/// `runner check`: validate files and datasets, print the plan, train nothing.
pub fn check(files: &[PathBuf], overrides: &[String], memory_budget: Option<u64>, cache: &CacheArgs) -> u8 {
    let mode = super::data_mode(memory_budget, None, false, cache);
    let Some(plans) = mode.map_err(|e| eprintln!("error: {e}")).ok().and_then(|m| prepare_all(files, overrides, m))
    else {
        return EXIT_USAGE;
    };
    for p in &plans {
        println!("{}: ok", p.experiment.file.display());
        print_dataset(p);
        let sizes: Vec<String> = p.split.sizes().iter().map(|(train, test)| format!("{train}/{test}")).collect();
        let repeats = match p.experiment.split {
            SplitConfig::KFold { folds, repeats, .. } | SplitConfig::StratifiedKFold { folds, repeats, .. }
                if repeats > 1 =>
            {
                format!(" ({folds} folds × {repeats} repeats)")
            }
            _ => String::new(),
        };
        println!(
            "  split    {}: {} fold(s){repeats}, train/test rows {}",
            p.split.method,
            p.split.folds.len(),
            sizes.join(", ")
        );
        if let Some(n) = p.nested() {
            let inner: usize = n.inner.iter().map(|i| i.folds.len()).sum();
            println!(
                "  nested   outer {}: {} fold(s); inner {} on each outer training part: {} trial(s) × {inner} inner fold(s) = {} unit(s), plus {} refit(s)",
                n.outer.method,
                n.outer.folds.len(),
                p.split.method,
                p.trials.len(),
                p.trials.len() * inner,
                n.outer.folds.len()
            );
        }
        for m in &p.experiment.models {
            let n = p.trials.iter().filter(|t| t.model == m.name).count();
            let mut axes: Vec<String> = m.grid.iter().map(|(a, v)| format!("{a} ({} values)", v.len())).collect();
            axes.extend(m.distributions.iter().map(|(a, d)| format!("{a} ({})", d.describe())));
            let grid = if axes.is_empty() { String::new() } else { format!(" over {}", axes.join(" × ")) };
            let how = match p.experiment.search {
                SearchConfig::Random { .. } => " sampled (random search)",
                SearchConfig::Halving { .. } => " as candidates of successive halving",
                SearchConfig::Grid => "",
            };
            println!("  model    {} ({}): {n} trial(s){how}{grid}", m.name, m.kind.name());
        }
        let metrics: Vec<&str> = p.metrics.iter().map(|m| m.name()).collect();
        println!("  metrics  {} (ranked by {})", metrics.join(", "), p.rank_by.name());
        match p.halving() {
            Some(h) => {
                let list = |v: &[usize]| v.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ");
                println!(
                    "  plan     successive halving in {} round(s): {} candidate(s) on {} rows, × {} fold(s) = {} unit(s)",
                    h.rounds.len(),
                    list(&h.candidates),
                    list(&h.rounds),
                    p.split.folds.len(),
                    p.units()
                );
            }
            None => println!(
                "  plan     {} trial(s) × {} fold(s) = {} unit(s)",
                p.trials.len(),
                p.split.folds.len(),
                p.units()
            ),
        }
    }
    super::finish_cache_writes(&plans);
    EXIT_OK
}

/// The dataset's lines: its counts, and whether it is loaded or streamed (and why).
fn print_dataset(p: &runner::plan::RunPlan) {
    let ds = &p.dataset;
    println!(
        "  dataset  {}: {} rows ({} used), target `{}` ({}), {} feature columns → {} model inputs",
        p.experiment.dataset.path_as_written,
        ds.rows_total,
        ds.rows(),
        runner::report::printable(&ds.target_name),
        if ds.task() == Task::Regression { "regression" } else { "classification" },
        ds.columns().len(),
        p.feature_names.len()
    );
    match p.stream() {
        Some(s) => println!("  data     streamed from disk in {} batch(es): {}", s.source.batches(), s.why),
        None => match ds.cache {
            runner::data::CacheUse::Hit => println!("  data     loaded into memory, from the parsed-data cache"),
            _ => println!("  data     loaded into memory"),
        },
    }
}
