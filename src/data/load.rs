//! `load`: read → choose columns → infer task → features → keep rows → gaps → target.

use super::cache::{CachedFrame, DataCache, PendingWrite};
use super::cells::{encode, raw_column, RawColumn};
use super::columns::{choose_columns, infer_task};
use super::read::{polars_unreadable, read_checked, release_freed_memory};
use super::rows::{encode_target, gap_counts, keep_rows, read_weights};
use super::split_column::read_split_column;
use super::{DataError, Dataset, Feature, Loaded, Storage};
use crate::config::{Experiment, SplitConfig};

/// Reads and checks the dataset of an experiment. Nothing is trained; every error here
/// stops the run before training (exit 2). The steps: read the file (checking its shape and
/// hashing it), choose the columns, read the target and infer the task, read the features,
/// drop rows, and encode the target.
pub fn load(exp: &Experiment) -> Result<Dataset, DataError> {
    load_cached(exp, None).map(|(dataset, _)| dataset)
}

/// [`load`], taking the parsed file from `cache` when it holds this version of it (and
/// caching it otherwise); with it, the cache entry still being written, if a miss writes one.
pub fn load_cached(exp: &Experiment, cache: Option<&DataCache>) -> Result<(Dataset, Option<PendingWrite>), DataError> {
    let cfg = &exp.dataset;
    let path = &cfg.path;
    let CachedFrame { mut frame, sha256, cache, write } = read_checked(exp, cache)?;
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
    let missing_counts = gap_counts(&features);
    let target = encode_target(cfg, task, target_raw, target_text, &kept.keep)?;
    let weights = match &chosen.weight {
        Some(name) => {
            let raw = raw_column(path, &column(name)?, &cfg.missing, false, 0)?;
            Some(read_weights(path, name, raw, &kept)?)
        }
        None => None,
    };
    let split_column = match &chosen.split {
        Some(name) => {
            let groups = matches!(exp.split, SplitConfig::GroupKFold { .. });
            Some(read_split_column(path, name, &column(name)?, &cfg.missing, &kept.file_rows, groups, 0)?)
        }
        None => None,
    };
    drop(frame);
    release_freed_memory();
    let dataset = Dataset {
        sha256,
        rows_total: n_file,
        rows_dropped_target: kept.dropped_target,
        rows_dropped_missing: kept.dropped_missing,
        target_name: cfg.target.clone(),
        split_column,
        missing_counts,
        storage: Storage::Loaded(Loaded { features, target, file_rows: kept.file_rows, weights }),
        cache,
    };
    Ok((dataset, write))
}
