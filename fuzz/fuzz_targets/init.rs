//! `runner init` on a fuzzed CSV (after a first byte that picks the target column): the
//! experiment it writes must parse and pass the checks `runner check` makes
//! (`plan::prepare`), or init must refuse with a reason. Nothing may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use runner::cli::init::{experiment_toml, InitInput};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else { return };
    let dir = std::env::temp_dir().join(format!("runner-fuzz-init-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let (csv, toml) = (dir.join("data.csv"), dir.join("e.toml"));
    if std::fs::write(&csv, bytes).is_err() {
        return;
    }
    let Ok((rows, columns)) = runner::data::summarize_file(&csv) else { return };
    if columns.is_empty() {
        return;
    }
    let t = usize::from(pick) % columns.len();
    let features: Vec<_> = columns.iter().enumerate().filter(|(i, _)| *i != t).map(|(_, c)| c.clone()).collect();
    let input = InitInput { name: "fuzz", path: "data.csv", target: &columns[t], features: &features, rows };
    let Ok(text) = experiment_toml(&input) else { return };
    if std::fs::write(&toml, &text).is_err() {
        return;
    }
    if let Err(e) = runner::plan::prepare(&toml, &[]) {
        panic!("runner init wrote an experiment that fails runner check:\n{e}\n---\n{text}");
    }
});
