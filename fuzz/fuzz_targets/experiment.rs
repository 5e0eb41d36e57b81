//! The experiment-file parser with `--set` overrides: the input is the file, then zero or
//! more overrides, each after a line `--set`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.split("\n--set\n");
    let file = parts.next().unwrap_or("");
    let overrides: Vec<String> = parts.map(str::to_string).collect();
    let _ = runner::config::parse_experiment(Path::new("fuzz.toml"), file, &overrides, runner::kinds::KINDS);
});
