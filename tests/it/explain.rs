//! Permutation importance: equal to scikit-learn's `permutation_importance` fold by fold
//! (tests/fixtures/importance), and the linear shortcut (a model rebuilt from its fold records'
//! coefficients, each shuffle an O(n) update of the linear predictor) gives the numbers of
//! the general path (refit, then a full predict per shuffle), for every linear head.

use crate::common::*;
use runner::after_sweep::explain::{explain, explain_with, REPEATS};
use runner::config::SampleSize;
use runner::plan::prepare;
use runner::sweep::{run, SweepInput, UnitFilter};
use runner::trial::{unit_seed, SeedStream};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::atomic::AtomicBool;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-3)
}

#[test]
fn the_linear_shortcut_gives_the_refitted_importance() {
    // OLS (identity head), binary logistic (sigmoid), 3-class logistic (softmax), lasso and
    // elastic net (identity, coordinate descent).
    // Cold starts (path = false), so that a refit reproduces the sweep's model exactly.
    for (file, max_samples, overrides) in [
        ("experiments/boston.toml", None, &[][..]),
        ("experiments/breast_cancer.toml", None, &["model.logreg.path=false"][..]),
        ("experiments/iris.toml", Some(SampleSize::Fraction(0.5)), &["model.softmax.path=false"][..]),
        (
            "experiments/diabetes.toml",
            Some(SampleSize::Count(40)),
            &["model.lasso.path=false", "model.enet.path=false"][..],
        ),
    ] {
        let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        let plan = prepare(&root().join(file), &overrides).unwrap_or_else(|e| panic!("{e}"));
        let done = HashSet::new();
        let filter = UnitFilter { done: &done, shard: None };
        let records = run(&SweepInput::of(&plan), 2, &filter, &AtomicBool::new(false), &|_| {}).unwrap();
        for trial in &plan.trials {
            let fast = explain_with(&plan, trial, &records, max_samples, true).unwrap();
            let slow = explain_with(&plan, trial, &records, max_samples, false).unwrap();
            assert_eq!(fast.permutation_importance.len(), slow.permutation_importance.len());
            for (a, b) in fast.permutation_importance.iter().zip(&slow.permutation_importance) {
                assert_eq!(a.feature, b.feature, "{file} {}", trial.id);
                assert!(
                    close(a.mean, b.mean) && close(a.std, b.std),
                    "{file} {} {}: {a:?} vs {b:?}",
                    trial.id,
                    a.feature
                );
            }
            for (a, b) in fast.actual_and_predicted().iter().zip(&slow.actual_and_predicted()) {
                assert!(close(a.1, b.1), "{file} {}", trial.id);
            }
        }
    }
}

#[test]
fn importance_is_scikit_learns_permutation_importance() {
    let path = root().join("tests/fixtures/importance/cases.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(doc["repeats"], REPEATS);
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let files = [("data.csv", case["csv"].as_str().unwrap()), ("exp.toml", case["toml"].as_str().unwrap())];
        let dir = scratch(&files);
        let plan = prepare(&dir.path().join("exp.toml"), &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
        let done = HashSet::new();
        let filter = UnitFilter { done: &done, shard: None };
        let records = run(&SweepInput::of(&plan), 2, &filter, &AtomicBool::new(false), &|_| {}).unwrap();
        let trial = plan.trials.iter().find(|t| t.id == case["trial"]).unwrap();
        let e = explain(&plan, trial, &records, plan.experiment.report.permutation_max_samples).unwrap();
        let folds = case["folds"].as_array().unwrap();
        for (f, fold) in folds.iter().enumerate() {
            // scikit-learn's random_state is the fold's unit seed.
            let seed = unit_seed(plan.experiment.seed, SeedStream::Unit { trial: &trial.id, fold: f });
            assert_eq!(fold["random_state"], seed, "{name} fold {f}");
        }
        let tolerance = case["tolerance"].as_f64().unwrap();
        let mut worst = 0.0f64;
        for fi in &e.permutation_importance {
            let theirs: Vec<f64> = folds.iter().flat_map(|f| floats(&f["importances"][&fi.feature])).collect();
            assert_eq!(fi.drops.len(), theirs.len(), "{name} {}", fi.feature);
            for (k, (a, b)) in fi.drops.iter().zip(&theirs).enumerate() {
                let err = (a - b).abs() / b.abs().max(1.0);
                worst = worst.max(err);
                assert!(
                    err <= tolerance,
                    "{name} {} fold {} repeat {}: {a} vs scikit-learn {b}",
                    fi.feature,
                    k / REPEATS,
                    k % REPEATS
                );
            }
        }
        eprintln!("{name}: largest difference {worst:e}");
    }
}
