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

/// 8 rows with a sample-weight column `w`.
const WEIGHTED: &str =
    "x1,x2,w,y\n1,2,1,1.5\n2,1,2,2.5\n3,4,0.5,3.1\n4,3,1,4.2\n5,6,3,5.0\n6,5,1,6.3\n7,8,2,7.1\n8,7,1,8.4\n";

fn weighted_plan(csv: &str, model: &str, extra: &str) -> Result<RunPlan, String> {
    let toml = format!(
        "name = \"w\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\ntask = \"regression\"\nweight = \"w\"\n{extra}[split]\nmethod = \"kfold\"\nfolds = 2\n[[model]]\nname = \"m\"\n{model}"
    );
    let dir = scratch(&[("data.csv", csv), ("exp.toml", &toml)]);
    prepare_with(&dir.path().join("exp.toml"), &[], DataMode::default()).map_err(|e| e.to_string())
}

#[test]
fn the_weight_column_is_read_and_is_not_a_feature() {
    let p = weighted_plan(WEIGHTED, "kind = \"ridge\"\n", "").unwrap();
    assert_eq!(p.feature_names, ["x1", "x2"]);
    assert_eq!(p.dataset.loaded().weights.as_deref(), Some(&[1.0, 2.0, 0.5, 1.0, 3.0, 1.0, 2.0, 1.0][..]));
}

#[test]
fn a_bad_weight_is_a_data_error_naming_column_and_row() {
    let with = |cell: &str| WEIGHTED.replace("3,4,0.5,3.1", &format!("3,4,{cell},3.1"));
    let e = weighted_plan(&with("-1"), "kind = \"ridge\"\n", "").err().expect("refused");
    assert!(e.contains("weight column `w`, row 3 (line 4 of the file): -1 is negative"), "{e}");
    let e = weighted_plan(&with(""), "kind = \"ridge\"\n", "").err().expect("refused");
    assert!(e.contains("weight column `w`, row 3 (line 4 of the file): the weight is missing"), "{e}");
    let e = weighted_plan(&with("heavy"), "kind = \"ridge\"\n", "").err().expect("refused");
    assert!(e.contains("column `w`") && e.contains("`heavy` is not a number"), "{e}");
    let zeros = "x1,w,y\n1,0,1.0\n2,0,2.0\n3,0,3.5\n4,0,4.0\n";
    let e = weighted_plan(zeros, "kind = \"ridge\"\n", "").err().expect("refused");
    assert!(e.contains("weight column `w`: every row used weighs 0"), "{e}");
    let e =
        weighted_plan(&WEIGHTED.replace("x1,x2,w,y", "x1,x2,v,y"), "kind = \"ridge\"\n", "").err().expect("refused");
    assert!(e.contains("exp.toml:6:10: weight column `w` is not a column"), "{e}");
}

#[test]
fn a_kind_that_cannot_take_weights_is_refused_at_the_weight_key() {
    let e = weighted_plan(WEIGHTED, "kind = \"knn\"\n", "").err().expect("refused");
    assert!(e.contains("exp.toml:6:10: model `m`: `knn` cannot take sample weights"), "{e}");
    // It says why: scikit-learn's twin has no sample_weight either.
    assert!(e.contains("KNeighbors* fit takes no sample_weight"), "{e}");
    let linfa = "kind = \"logistic_regression\"\nsolver = \"linfa\"\n";
    let classes =
        WEIGHTED.replace("1.5\n", "0\n").replace("2.5\n", "1\n").replace("3.1\n", "0\n").replace("4.2\n", "1\n");
    let classes =
        classes.replace("5.0\n", "0\n").replace("6.3\n", "1\n").replace("7.1\n", "0\n").replace("8.4\n", "1\n");
    let toml = format!("name = \"w\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\ntask = \"classification\"\nweight = \"w\"\n[split]\nmethod = \"kfold\"\nfolds = 2\n[[model]]\nname = \"m\"\n{linfa}");
    let dir = scratch(&[("data.csv", &classes), ("exp.toml", &toml)]);
    let e = prepare_with(&dir.path().join("exp.toml"), &[], DataMode::default()).err().expect("refused").to_string();
    assert!(e.contains("linfa-logistic takes no row weights"), "{e}");
}

#[test]
fn streaming_refuses_sample_weights_with_the_reason() {
    let e = weighted_plan(WEIGHTED, "kind = \"ridge\"\n", "streaming = true\n").err().expect("refused");
    assert!(e.contains("exp.toml:6:10: sample weights are not streamed"), "{e}");
}

/// A row weighing 2 fits and scores as the row written twice (same folds: the copies sit
/// in the same test block), for ridge, OLS, a tree, lasso, elastic net, full-batch linear_gd
/// and an MLP.
#[test]
fn a_weight_of_two_is_a_row_written_twice() {
    let csv = "x1,x2,w,y\n1,2,1,1.5\n2,1,2,2.5\n3,4,1,3.1\n4,3,1,4.2\n5,6,2,5.0\n6,5,1,6.3\n";
    let twice = "x1,x2,y\n1,2,1.5\n2,1,2.5\n2,1,2.5\n3,4,3.1\n4,3,4.2\n5,6,5.0\n5,6,5.0\n6,5,6.3\n";
    let split = "[split]\nmethod = \"none\"\n[report]\nmetrics = [\"mse\", \"mae\", \"r2\"]\n";
    let models = [
        "kind = \"ridge\"\nalpha = 0.3\n",
        "kind = \"linear_regression\"\n",
        "kind = \"decision_tree\"\n",
        "kind = \"lasso\"\nalpha = 0.1\ntol = 1e-14\nmax_iter = 100000\n",
        "kind = \"elastic_net\"\nalpha = 0.1\nl1_ratio = 0.4\ntol = 1e-14\nmax_iter = 100000\n",
        "kind = \"linear_gd\"\noptimizer = \"gd\"\nlearning_rate = 0.01\nepochs = 3000\ntol = 0\nl2 = 0.1\n",
        "kind = \"mlp\"\nhidden_layers = [4]\nactivation = \"tanh\"\noptimizer = \"gd\"\nlearning_rate = 0.01\nepochs = 200\ntol = 0\n",
    ];
    for model in models {
        let toml = |weight: &str| {
            format!("name = \"w\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\ntask = \"regression\"\n{weight}{split}[[model]]\nname = \"m\"\n{model}")
        };
        let (a, b) = (
            scratch(&[("data.csv", csv), ("exp.toml", &toml("weight = \"w\"\n"))]),
            scratch(&[("data.csv", twice), ("exp.toml", &toml(""))]),
        );
        let plan_a = prepare_with(&a.path().join("exp.toml"), &[], DataMode::default()).unwrap();
        let plan_b = prepare_with(&b.path().join("exp.toml"), &[], DataMode::default()).unwrap();
        let (ra, rb) = (&sweep_all(&plan_a)[0], &sweep_all(&plan_b)[0]);
        for (m, v) in &ra.test {
            let (ours, theirs) = (v.unwrap(), rb.test[m].unwrap());
            assert!((ours - theirs).abs() <= 1e-10 * theirs.abs().max(1.0), "{model} {m:?}: {ours} vs {theirs}");
        }
        if let (Some(ca), Some(cb)) = (&ra.coefficients, &rb.coefficients) {
            let (a, b): (Vec<f64>, Vec<f64>) = (
                ca.weights.iter().flatten().chain(&ca.intercepts).copied().collect(),
                cb.weights.iter().flatten().chain(&cb.intercepts).copied().collect(),
            );
            assert_rel(&a, &b, 1e-10, model);
        }
    }
}

/// svm takes sample weights as libsvm does (each row's C times its weight): a row of weight 0
/// is a row left out, so a weighted run scores as the run without those rows (gamma fixed,
/// as "scale" is taken over every row).
#[test]
fn an_svm_row_of_weight_zero_is_a_row_left_out() {
    let rows: Vec<(f64, f64, u8)> =
        (0..30).map(|r| (f64::from(r % 7), f64::from((r * 5) % 11), u8::from(r % 7 + (r * 5) % 11 > 8))).collect();
    let weighted: String =
        rows.iter().enumerate().map(|(r, (a, b, y))| format!("{a},{b},{},{y}\n", u8::from(r % 4 != 0))).collect();
    let kept: String =
        rows.iter().enumerate().filter(|(r, _)| r % 4 != 0).map(|(_, (a, b, y))| format!("{a},{b},{y}\n")).collect();
    let split = "[split]\nmethod = \"none\"\n[report]\nmetrics = [\"accuracy\"]\n";
    for kind in ["kind = \"svm\"\ngamma = 0.2\nc = 3.0\n", "kind = \"svm\"\nkernel = \"linear\"\n"] {
        let toml = |weight: &str| {
            format!("name = \"w\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\ntask = \"classification\"\n{weight}{split}[[model]]\nname = \"m\"\n{kind}")
        };
        let (a, b) = (
            scratch(&[("data.csv", &format!("x1,x2,w,y\n{weighted}")), ("exp.toml", &toml("weight = \"w\"\n"))]),
            scratch(&[("data.csv", &format!("x1,x2,y\n{kept}")), ("exp.toml", &toml(""))]),
        );
        let plan_a = prepare_with(&a.path().join("exp.toml"), &[], DataMode::default()).unwrap();
        let plan_b = prepare_with(&b.path().join("exp.toml"), &[], DataMode::default()).unwrap();
        let (ra, rb) = (&sweep_all(&plan_a)[0], &sweep_all(&plan_b)[0]);
        assert_eq!(ra.status, rb.status, "{kind}");
        assert_eq!(ra.train, rb.train, "{kind}");
    }
}
