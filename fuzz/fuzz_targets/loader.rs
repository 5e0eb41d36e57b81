//! The CSV and NDJSON loaders with header and type inference: the input is the data file
//! (its first byte picks the format), loaded as the experiment below would load it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, bytes)) = data.split_first() else { return };
    let ext = if kind % 2 == 0 { "csv" } else { "ndjson" };
    let dir = std::env::temp_dir().join(format!("runner-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("data.{ext}"));
    if std::fs::write(&path, bytes).is_err() {
        return;
    }
    let toml = format!(
        "name = \"f\"\n[dataset]\npath = \"{}\"\ntarget = \"y\"\n[preprocess]\nimpute = \"mean\"\n[[model]]\nname = \"r\"\nkind = \"ridge\"\n",
        path.display()
    );
    if let Ok(exp) = runner::config::parse_experiment(Path::new("fuzz.toml"), &toml, &[], runner::kinds::KINDS) {
        let _ = runner::data::load(&exp);
    }
});
