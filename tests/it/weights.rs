//! Issue #25's weights: class_weight tables by class label, checked against the data's
//! classes before training (the sklearn numbers are the conformance suite's `weights*` cases).

use crate::common::*;
use runner::plan::{prepare_with, DataMode, PlanError, RunPlan};
use runner::sweep::{run, SweepInput, UnitFilter};
use runner::trial::UnitRecord;
use std::collections::HashSet;
use std::sync::atomic::AtomicBool;

fn sweep_all(plan: &RunPlan) -> Vec<UnitRecord> {
    let done = HashSet::new();
    let filter = UnitFilter { done: &done, shard: None };
    run(&SweepInput::of(plan), 1, &filter, &AtomicBool::new(false), &|_| {}).unwrap()
}

/// 12 rows, two classes, the second rare.
const CLASSES: &str =
    "x1,x2,y\n1,2,no\n2,1,no\n3,4,no\n4,3,no\n5,6,no\n6,5,no\n7,8,no\n8,7,no\n9,1,yes\n1,9,no\n2,8,yes\n3,7,no\n";

fn plan(model: &str) -> Result<RunPlan, String> {
    let toml = format!(
        "name = \"w\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[split]\nmethod = \"kfold\"\nfolds = 2\n[[model]]\nname = \"m\"\n{model}"
    );
    let dir = scratch(&[("data.csv", CLASSES), ("exp.toml", &toml)]);
    prepare_with(&dir.path().join("exp.toml"), &[], DataMode::default()).map_err(|e| match e {
        PlanError::Checks(_) | PlanError::Config(_) => e.to_string(),
        other => panic!("not a config or plan error: {other}"),
    })
}

/// The error of a plan that must fail.
fn refused(model: &str) -> String {
    match plan(model) {
        Ok(_) => panic!("planned without an error: {model}"),
        Err(e) => e,
    }
}

#[test]
fn a_class_weight_table_is_a_parameter_and_a_grid_value() {
    let p = plan("kind = \"logistic_regression\"\nclass_weight = { yes = 3.0, no = 1 }\n").unwrap();
    let given = serde_json::to_string(&p.experiment.models[0].fixed["class_weight"]).unwrap();
    assert_eq!(given, r#"{"no":1.0,"yes":3.0}"#);
    let p = plan("kind = \"decision_tree\"\ngrid.class_weight = [\"balanced\", { yes = 5 }]\n").unwrap();
    let ids: Vec<&str> = p.trials.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["m[class_weight=balanced]", "m[class_weight={yes=5}]"]);
}

#[test]
fn a_class_weight_for_an_unknown_class_is_refused_at_its_key() {
    let e = refused("kind = \"svm\"\nclass_weight = { yes = 3.0, maybe = 2.0 }\n");
    assert!(e.contains("exp.toml:11:16"), "{e}");
    assert!(
        e.contains("class_weight names the class `maybe`, which target `y` does not have (classes: no, yes)"),
        "{e}"
    );
    let e = refused("kind = \"random_forest\"\ngrid.class_weight = [{ yess = 2 }]\n");
    assert!(e.contains("exp.toml:11:"), "{e}");
    assert!(e.contains("`yess`") && e.contains("did you mean `yes`?"), "{e}");
}

#[test]
fn a_class_weight_table_needs_positive_numbers() {
    let e = refused("kind = \"logistic_gd\"\nclass_weight = { yes = -1 }\n");
    assert!(e.contains("exp.toml:11:16") && e.contains("the weight of `yes` is -1: expected a positive number"), "{e}");
    let e = refused("kind = \"hist_gradient_boosting\"\nclass_weight = { yes = \"a lot\" }\n");
    assert!(e.contains("exp.toml:11:16") && e.contains("a table of positive weights by class label"), "{e}");
    let e = refused("kind = \"decision_tree\"\nclass_weight = \"balanced_subsample\"\n");
    assert!(e.contains("`balanced_subsample` is not one of none, balanced"), "{e}");
}

#[test]
fn linfa_takes_no_class_weights() {
    let e = refused("kind = \"logistic_regression\"\nsolver = \"linfa\"\nclass_weight = \"balanced\"\n");
    assert!(e.contains("solver = \"linfa\" takes no class or sample weights"), "{e}");
}

/// The same data with each `yes` row written twice fits as a table weighing `yes` 2:
/// logistic regression (Newton and L-BFGS) and full-batch logistic_gd minimise the same
/// weighted objective (scikit-learn's `class_weight` is a per-row weight).
#[test]
fn a_class_weight_of_two_is_a_row_written_twice() {
    // Features near unit scale, unscaled: a scaler would see the repeated rows.
    let small: String = CLASSES
        .lines()
        .enumerate()
        .map(|(i, l)| match (i, l.split(',').collect::<Vec<_>>().as_slice()) {
            (0, _) => format!("{l}\n"),
            (_, [a, b, y]) => {
                format!("{},{},{y}\n", (a.parse::<f64>().unwrap() - 5.0) / 3.0, (b.parse::<f64>().unwrap() - 5.0) / 3.0)
            }
            _ => unreachable!(),
        })
        .collect();
    let doubled: String = small
        .lines()
        .flat_map(|l| if l.ends_with(",yes") { vec![l, l] } else { vec![l] })
        .map(|l| format!("{l}\n"))
        .collect();
    for (kind, extra) in [
        ("logistic_regression", "tol = 1e-12\n"),
        ("logistic_regression", "solver = \"lbfgs\"\ntol = 1e-12\n"),
        ("logistic_gd", "learning_rate = 0.5\nepochs = 20000\ntol = 0\n"),
    ] {
        let fit = |data: &str, weights: &str| {
            let toml = format!(
                "name = \"w\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[split]\nmethod = \"none\"\n[report]\nmetrics = [\"accuracy\"]\n[[model]]\nname = \"m\"\nkind = \"{kind}\"\n{extra}{weights}"
            );
            let dir = scratch(&[("data.csv", data), ("exp.toml", &toml)]);
            let plan = prepare_with(&dir.path().join("exp.toml"), &[], DataMode::default()).unwrap();
            let records = sweep_all(&plan);
            records[0].coefficients.clone().expect("coefficients")
        };
        let (weighted, repeated) = (fit(&small, "class_weight = { yes = 2 }\n"), fit(&doubled, ""));
        let ours: Vec<f64> = weighted.weights.iter().flatten().chain(&weighted.intercepts).copied().collect();
        let theirs: Vec<f64> = repeated.weights.iter().flatten().chain(&repeated.intercepts).copied().collect();
        for (a, b) in ours.iter().zip(&theirs) {
            assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{kind} {extra}: {ours:?} vs {theirs:?}");
        }
    }
}
