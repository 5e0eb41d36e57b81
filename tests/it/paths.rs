//! Warm-start paths (lasso and elastic net along alpha, logistic regression along C): the
//! same numbers as cold starts to the solver's tolerance, and the same records whatever
//! slice of the units a run does (shards, resume).

use crate::common::*;
use runner::config::Metric;
use runner::plan::{prepare, RunPlan};
use runner::sweep::{run, SweepInput, UnitFilter};
use runner::trial::UnitRecord;
use std::collections::HashSet;
use std::sync::atomic::AtomicBool;

fn plan(file: &str, overrides: &[&str]) -> RunPlan {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    prepare(&root().join(file), &overrides).unwrap_or_else(|e| panic!("{e}"))
}

fn sweep(plan: &RunPlan, done: &HashSet<(String, usize)>, shard: Option<(usize, usize)>) -> Vec<UnitRecord> {
    run(&SweepInput::of(plan), 2, &UnitFilter { done, shard }, &AtomicBool::new(false), &|_| {}).unwrap()
}

#[test]
fn warm_starts_agree_with_cold_starts_to_the_tolerance() {
    let cases: [(&str, &[&str], &[&str], Metric); 2] = [
        (
            "experiments/diabetes.toml",
            &["model.lasso.tol=1e-12", "model.enet.tol=1e-12"],
            &["model.lasso.tol=1e-12", "model.enet.tol=1e-12", "model.lasso.path=false", "model.enet.path=false"],
            Metric::Mse,
        ),
        (
            "experiments/breast_cancer.toml",
            &["model.logreg.tol=1e-10"],
            &["model.logreg.tol=1e-10", "model.logreg.path=false"],
            Metric::LogLoss,
        ),
    ];
    for (file, warm, cold, metric) in cases {
        let none = HashSet::new();
        let warm = sweep(&plan(file, warm), &none, None);
        let cold = sweep(&plan(file, cold), &none, None);
        assert_eq!(warm.len(), cold.len());
        for (a, b) in warm.iter().zip(&cold) {
            let (x, y) = (a.test[&metric].unwrap(), b.test[&metric].unwrap());
            assert!((x - y).abs() <= 1e-6 * y.abs(), "{file} {} fold {}: {x} vs {y}", a.trial, a.fold);
        }
    }
}

#[test]
fn a_path_gives_the_same_records_in_shards_and_after_a_resume() {
    let p = plan("experiments/diabetes.toml", &[]);
    let none = HashSet::new();
    let whole = sweep(&p, &none, None);
    let mut sharded: Vec<UnitRecord> = (1..=3).flat_map(|i| sweep(&p, &none, Some((i, 3)))).collect();
    let order = |r: &UnitRecord| (p.trials.iter().position(|t| t.id == r.trial), r.fold);
    sharded.sort_by_key(order);
    assert_eq!(sharded, whole);
    // Resume with every other unit done: the rest are the whole run's records.
    let done: HashSet<(String, usize)> = whole.iter().step_by(2).map(|r| (r.trial.clone(), r.fold)).collect();
    let rest = sweep(&p, &done, None);
    let expected: Vec<UnitRecord> = whole.iter().skip(1).step_by(2).cloned().collect();
    assert_eq!(rest, expected);
}

#[test]
fn newton_cholesky_and_lbfgs_reach_the_same_logistic_fit() {
    let none = HashSet::new();
    let base = ["model.logreg.tol=1e-10", "model.logreg.path=false"];
    let newton = sweep(
        &plan("experiments/breast_cancer.toml", &[&base[..], &["model.logreg.solver=newton_cholesky"]].concat()),
        &none,
        None,
    );
    let lbfgs = sweep(
        &plan("experiments/breast_cancer.toml", &[&base[..], &["model.logreg.solver=lbfgs"]].concat()),
        &none,
        None,
    );
    for (a, b) in newton.iter().zip(&lbfgs) {
        let (x, y) = (a.test[&Metric::LogLoss].unwrap(), b.test[&Metric::LogLoss].unwrap());
        assert!((x - y).abs() <= 1e-7 * y.abs(), "{} fold {}: {x} vs {y}", a.trial, a.fold);
        assert_eq!(a.test[&Metric::Accuracy], b.test[&Metric::Accuracy]);
    }
}
