//! Streaming's reader and sweep: the input is a CSV (after a first byte that picks the batch
//! size, 1 to 8 rows), planned streamed and swept with a ridge grid and two epochs of
//! gradient descent, as `runner run` would. Nothing may panic or hang; errors are fine.
#![no_main]
use libfuzzer_sys::fuzz_target;
use runner::plan::{prepare_with, DataMode};
use runner::sweep::{run, SweepInput, UnitFilter};
use std::collections::HashSet;
use std::sync::atomic::AtomicBool;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, bytes)) = data.split_first() else { return };
    let dir = std::env::temp_dir().join(format!("runner-fuzz-stream-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let (csv, toml) = (dir.join("data.csv"), dir.join("e.toml"));
    let experiment = "name = \"f\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\ntask = \"regression\"\n\
        [preprocess]\nimpute = \"mean\"\nscale = \"standard\"\n[split]\nmethod = \"kfold\"\nfolds = 2\n\
        [[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = [0.0, 1.0]\n\
        [[model]]\nname = \"g\"\nkind = \"linear_gd\"\nepochs = 2\n";
    if std::fs::write(&csv, bytes).is_err() || std::fs::write(&toml, experiment).is_err() {
        return;
    }
    let mode = DataMode { force: Some(true), batch_rows: usize::from(kind % 8) + 1, ..DataMode::default() };
    if let Ok(plan) = prepare_with(&toml, &[], mode) {
        let done = HashSet::new();
        let filter = UnitFilter { done: &done, shard: None };
        let _ = run(&SweepInput::of(&plan), 1, &filter, &AtomicBool::new(false), &|_| {});
    }
});
