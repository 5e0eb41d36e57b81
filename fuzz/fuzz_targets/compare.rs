//! `runner compare`'s report reader: two reports separated by a NUL byte.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut halves = data.splitn(2, |&b| b == 0);
    let (Some(a), Some(b)) = (halves.next(), halves.next()) else { return };
    let (Ok(a), Ok(b)) = (serde_json::from_slice(a), serde_json::from_slice(b)) else { return };
    if let Ok(c) = runner::cli::compare::compare(&a, &b, 0.01, None, Some(runner::cli::compare::SignificanceTest { alpha: 0.05 })) {
        let _ = runner::cli::compare::render_markdown(&c);
    }
});
