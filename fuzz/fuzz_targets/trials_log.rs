//! The trials.jsonl resume reader: any bytes as a log of a run with key `k` whose
//! experiment has trials `a` and `b` with three folds.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let owns = |r: &runner::trial::UnitRecord| {
        if (r.trial == "a" || r.trial == "b") && r.fold < 3 { Ok(()) } else { Err("foreign".to_string()) }
    };
    let _ = runner::report::read_log(Path::new("trials.jsonl"), data, "k", &owns);
});
