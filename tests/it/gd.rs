//! The gradient-descent trainers through the binary: convergence to the closed forms,
//! divergence recorded, loss curves in the report.

use crate::common::*;
use serde_json::Value;

fn coefficients(report: &Value, id: &str) -> serde_json::Map<String, Value> {
    trial(report, id)["coefficients"].as_object().unwrap().clone()
}

#[test]
fn full_batch_gd_converges_to_the_ols_coefficients() {
    let (r, _d) = run_report(&root().join("tests/fixtures/experiments/boston_gd_vs_ols.toml"), &[]);
    let ols = coefficients(&r, "ols");
    let gd = coefficients(&r, "gd");
    for (name, want) in &ols {
        assert_rel(&[gd[name].as_f64().unwrap()], &[want.as_f64().unwrap()], 1e-6, name);
    }
}

#[test]
fn logistic_gd_reaches_the_logistic_regression_optimum() {
    let (r, _d) = run_report(&root().join("tests/fixtures/experiments/breast_cancer_gd_vs_lbfgs.toml"), &[]);
    let lbfgs = coefficients(&r, "lbfgs");
    let gd = coefficients(&r, "gd");
    for (name, want) in &lbfgs {
        let (a, b) = (gd[name].as_f64().unwrap(), want.as_f64().unwrap());
        assert!((a - b).abs() < 1e-4, "{name}: gd {a} vs L-BFGS {b}");
    }
}

#[test]
fn the_optimizer_comparison_records_divergence_and_curves() {
    let (r, dir) = run_report(&root().join("experiments/boston_optimizers.toml"), &[]);
    let diverged = trial(&r, "gd[learning_rate=1]");
    assert_eq!(diverged["status"], "diverged");
    assert!(diverged["reason"].as_str().unwrap().contains("diverged at epoch"), "{diverged}");
    let ok = trial(&r, "gd[learning_rate=0.1]");
    assert_eq!(ok["status"], "ok");
    let curve = ok["loss_curve"][0]["train"].as_array().unwrap();
    assert!(curve.len() > 10);
    assert!(curve.first().unwrap().as_f64() > curve.last().unwrap().as_f64());
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("| epochs | final loss |"), "model tables show epochs and the final loss");
    assert!(md.contains("| gd\\[learning\\_rate=1\\] | diverged |"), "{md}");
    // Stochastic trainers are deterministic across thread counts.
    let (one, _a) = run_report(&root().join("experiments/boston_optimizers.toml"), &["--jobs", "1"]);
    let mut one = one;
    let mut r = r;
    one.as_object_mut().unwrap().remove("run");
    r.as_object_mut().unwrap().remove("run");
    assert_eq!(one, r);
}

#[test]
fn early_stopping_records_a_validation_curve() {
    let (r, _d) = run_report(&root().join("experiments/iris_softmax.toml"), &[]);
    let t = trial(&r, "softmax_adam[learning_rate=0.01]");
    assert_eq!(t["status"], "ok");
    let fold = &t["loss_curve"][0];
    assert_eq!(fold["validation"].as_array().unwrap().len(), fold["train"].as_array().unwrap().len());
}
