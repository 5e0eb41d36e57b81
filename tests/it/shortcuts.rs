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

/// A smooth table (deterministic, no two columns dependent, all values positive, so log1p
/// takes them) whose target has squares and a product in it.
fn curved_table(rows: usize) -> String {
    let mut csv = String::from("a,b,c,y\n");
    for i in 0..rows {
        let t = i as f64;
        let (a, b, c) = (2.0 + (0.37 * t).sin(), 3.0 + 1.5 * (0.11 * t + 1.0).cos(), 1.0 + (t * 0.73).sin().abs());
        let y = a * a - 2.0 * a * b + 0.5 * c + 0.1 * (1.3 * t).sin();
        csv.push_str(&format!("{a},{b},{c},{y}\n"));
    }
    csv
}

/// The sweep of `model` (a `[[model]]` body) on `curved_table`, with shortcuts on or off, and
/// how many units were fitted (the shortcut fits no model it could hand over).
fn sweep_model(model: &str, preprocess: &str, shortcuts: bool) -> (Vec<UnitRecord>, usize) {
    let toml = format!(
        "name = \"s\"\nseed = 3\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n{preprocess}\n[split]\n\
         method = \"kfold\"\nfolds = 5\nshuffle = true\n[[model]]\nname = \"m\"\nkind = \"ridge\"\n{model}\n\
         [report]\nmetrics = [\"mse\", \"mae\", \"r2\"]\n"
    );
    let dir = scratch(&[("data.csv", &curved_table(150)), ("exp.toml", &toml)]);
    let plan = prepare(&dir.path().join("exp.toml"), &[]).unwrap_or_else(|e| panic!("{e}\n{toml}"));
    let fitted = std::sync::atomic::AtomicUsize::new(0);
    let keep = |_: &runner::trial::Trial, _: usize, _: Box<dyn runner::models::Fitted>| {
        fitted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    };
    let input = SweepInput { shortcuts, keep: Some(&keep), ..SweepInput::of(&plan) };
    let done = HashSet::new();
    let records = run(&input, 2, &UnitFilter { done: &done, shard: None }, &AtomicBool::new(false), &|_| {}).unwrap();
    (records, fitted.into_inner())
}

/// Issue #25: a ridge whose steps are fixed row functions (poly, log1p) then at most one
/// scaler fitted from sums (standard, minmax, maxabs) takes the block-sum shortcut, one set of
/// sums per step setting, and gives the ordinary path's numbers (each fold's matrices through
/// its fitted steps): every metric to 1e-10, the coefficients to 1e-8 of the largest, the same
/// feature names. Other shapes, a scaled `[preprocess]` before the steps and a target
/// transform take the ordinary path.
#[test]
fn the_ridge_shortcut_takes_row_functions_then_a_scaler() {
    let taken = [
        "steps = [\"poly\", \"standard\"]\npoly.include_bias = false\ngrid.\"poly.degree\" = [1, 2, 3]",
        "steps = [\"log1p\", \"poly\", \"minmax\"]\nlog1p.columns = [\"a\", \"c\"]",
        "steps = [\"poly\", \"maxabs\"]\npoly.interaction_only = true\npoly.degree = 3",
        "steps = [\"standard\"]\nstandard.with_mean = false",
        "steps = [\"poly\"]",
    ];
    for model in taken {
        let model = format!("{model}\ngrid.alpha = [0.01, 1, 100]");
        let (fast, fitted) = sweep_model(&model, "", true);
        assert_eq!(fitted, 0, "{model}: the shortcut did not take every unit");
        let (slow, fitted) = sweep_model(&model, "", false);
        assert_eq!(fitted, slow.len());
        for (a, b) in fast.iter().zip(&slow) {
            assert_eq!((&a.trial, a.fold, a.status), (&b.trial, b.fold, b.status));
            for (side_a, side_b) in [(&a.test, &b.test), (&a.train, &b.train)] {
                for (m, va) in side_a {
                    let vb = side_b[m].unwrap();
                    assert!(
                        close(va.unwrap(), vb, 1e-10),
                        "{model}: {} fold {} {m:?}: {va:?} vs {vb}",
                        a.trial,
                        a.fold
                    );
                }
            }
            let (ca, cb) = (a.coefficients.as_ref().unwrap(), b.coefficients.as_ref().unwrap());
            assert_eq!(ca.features, cb.features);
            let largest = cb.weights[0].iter().fold(0.0f64, |m, w| m.max(w.abs()));
            for (wa, wb) in ca.weights[0].iter().zip(&cb.weights[0]) {
                assert!((wa - wb).abs() <= 1e-8 * largest, "{model}: {} fold {}: {wa} vs {wb}", a.trial, a.fold);
            }
            assert!(close(ca.intercepts[0], cb.intercepts[0], 1e-8), "{model}: {} intercept", a.trial);
        }
    }
    let ordinary = [
        ("steps = [\"standard\", \"poly\"]", ""),
        ("steps = [\"robust\"]", ""),
        ("steps = [\"poly\", \"standard\", \"minmax\"]", ""),
        ("steps = [\"poly\"]", "[preprocess]\nscale = \"standard\""),
        ("steps = [\"poly\"]\ntarget = \"power\"", ""),
        ("steps = [\"poly\"]\nalpha = 0.0", ""),
    ];
    for (model, preprocess) in ordinary {
        let (records, fitted) = sweep_model(model, preprocess, true);
        assert_eq!(fitted, records.len(), "{model} {preprocess}: the shortcut took a unit");
    }
}
