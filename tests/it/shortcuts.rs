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

/// A column that varies by 1e-7 around 1e6 is not constant to StandardScaler (its rule,
/// `preprocess::standard_scale`, is the shortcut's too): it is scaled to unit variance on
/// both paths, and y follows it. (The shortcut once had its own rule, `std <= 1e-12·rms`,
/// which left this column unscaled and gave other numbers than the ordinary path.)
#[test]
fn the_shortcut_scales_a_nearly_constant_column_as_standard_scaler_does() {
    let mut csv = String::from("x1,x2,y\n");
    for i in 0..60 {
        let wiggle = ((i * 7) % 5) as f64;
        let x2 = ((i * 13) % 11) as f64;
        csv.push_str(&format!("{},{x2},{}\n", 1e6 + 1e-7 * wiggle, 3.0 * wiggle + x2 + 0.01 * (i % 3) as f64));
    }
    let toml = "name = \"t\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\ntask = \"regression\"\n\
                [preprocess]\nscale = \"standard\"\n[split]\nmethod = \"kfold\"\nfolds = 3\n\
                [[model]]\nname = \"ridge\"\nkind = \"ridge\"\nalpha = 1.0\n[report]\nmetrics = [\"mse\", \"r2\"]\n";
    let dir = scratch(&[("data.csv", &csv), ("exp.toml", toml)]);
    let plan = prepare(&dir.path().join("exp.toml"), &[]).unwrap_or_else(|e| panic!("{e}"));
    let (fast, engaged) = sweep(&plan, true);
    let (slow, _) = sweep(&plan, false);
    assert!(engaged, "the shortcut did not apply");
    for (a, b) in fast.iter().zip(&slow) {
        let (r2a, r2b) = (a.test[&runner::config::Metric::R2].unwrap(), b.test[&runner::config::Metric::R2].unwrap());
        assert!(r2b > 0.99, "the ordinary path scales x1 and fits y: r2 {r2b}");
        // x1's 1e-7 steps are ~860 ulps of 1e6: sums and rows round them apart at 1e-6.
        assert!(close(r2a, r2b, 1e-5), "fold {}: shortcut r2 {r2a} vs ordinary {r2b}", a.fold);
    }
}
