//! The ridge shortcut (fold statistics as total minus block) gives the same numbers as the
//! ordinary path (fold matrices, per-fold Gram).

use crate::common::*;
use runner::plan::{prepare, RunPlan};
use runner::sweep::{ridge_shortcut_applies, run, SweepInput, UnitFilter};
use runner::trial::UnitRecord;
use std::collections::HashSet;
use std::sync::atomic::AtomicBool;

fn sweep(plan: &RunPlan, shortcuts: bool) -> (Vec<UnitRecord>, bool) {
    let input = SweepInput { shortcuts, ..SweepInput::of(plan) };
    let engaged = ridge_shortcut_applies(&input);
    let done = HashSet::new();
    let records = run(&input, 2, &UnitFilter { done: &done, shard: None }, &AtomicBool::new(false), &|_| {}).unwrap();
    (records, engaged && shortcuts)
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-6)
}

#[test]
fn the_ridge_shortcut_equals_the_ordinary_path() {
    let cases: [(&str, &[&str]); 4] = [
        ("tests/fixtures/experiments/ridge_shortcut.toml", &[]),
        ("tests/fixtures/experiments/boston_ridge_raw.toml", &["report.metrics=[\"mse\", \"r2\"]"]),
        ("tests/fixtures/experiments/boston_ridge_standard.toml", &["report.metrics=[\"rmse\"]"]),
        ("tests/fixtures/experiments/boston_ridge_standard.toml", &["report.metrics=[\"mae\", \"mse\", \"r2\"]"]),
    ];
    for (file, overrides) in cases {
        let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        let plan = prepare(&root().join(file), &overrides).unwrap_or_else(|e| panic!("{e}"));
        let (fast, engaged) = sweep(&plan, true);
        let (slow, _) = sweep(&plan, false);
        assert!(engaged, "{file}: the shortcut did not apply");
        assert_eq!(fast.len(), slow.len());
        for (a, b) in fast.iter().zip(&slow) {
            assert_eq!((&a.trial, a.fold, a.status), (&b.trial, b.fold, b.status));
            for (side_a, side_b) in [(&a.test, &b.test), (&a.train, &b.train)] {
                for (m, va) in side_a {
                    let vb = side_b[m].unwrap();
                    assert!(close(va.unwrap(), vb, 1e-10), "{file} {} fold {} {m:?}: {va:?} vs {vb}", a.trial, a.fold);
                }
            }
            let (ca, cb) = (a.coefficients.as_ref().unwrap(), b.coefficients.as_ref().unwrap());
            for (wa, wb) in ca.weights[0].iter().chain(&ca.intercepts).zip(cb.weights[0].iter().chain(&cb.intercepts)) {
                assert!(close(*wa, *wb, 1e-8), "{file} {} fold {}: coefficient {wa} vs {wb}", a.trial, a.fold);
            }
        }
    }
}

#[test]
fn the_shortcut_takes_the_default_metrics_and_stands_aside_for_minmax_scaling() {
    let file = root().join("tests/fixtures/experiments/boston_ridge_raw.toml");
    let plan = prepare(&file, &[]).unwrap();
    assert!(sweep(&plan, true).1, "default metrics (mae included)");
    // Min-max scaling's range is not in the sufficient statistics: the ordinary path.
    let plan = prepare(&file, &["preprocess.scale=minmax".to_string()]).unwrap();
    assert!(!sweep(&plan, true).1);
}
