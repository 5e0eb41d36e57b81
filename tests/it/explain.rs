//! Permutation importance: the linear shortcut (a model rebuilt from its fold records'
//! coefficients, each shuffle an O(n) update of the linear predictor) gives the numbers of
//! the general path (refit, then a full predict per shuffle), for every linear head.

use crate::common::*;
use runner::after_sweep::explain::explain_with;
use runner::config::SampleSize;
use runner::plan::prepare;
use runner::sweep::{run, SweepInput, UnitFilter};
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
