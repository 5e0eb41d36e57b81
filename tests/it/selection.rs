//! Model selection and evaluation protocols: learning curves against scikit-learn's
//! `learning_curve` (learning_curve.json, made by generate.py).

use crate::common::{assert_rel, fixture, root, run_report, scratch};
use serde_json::Value;

fn experiment(dataset: &str, target: &str, body: &str) -> String {
    let path = root().join(dataset).display().to_string();
    format!("name = \"lc\"\nseed = 0\n[dataset]\npath = {path:?}\ntarget = \"{target}\"\n{body}")
}

/// (rows, train scores by size × fold, test scores) of a report's learning curve.
fn curve(report: &Value) -> (Vec<u64>, Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let lc = &report["learning_curve"];
    let side = |name: &str| -> Vec<Vec<f64>> {
        lc[name]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["folds"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect())
            .collect()
    };
    (lc["sizes"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect(), side("train"), side("test"))
}

fn check(name: &str, toml: &str, rel: f64) {
    let expected = &fixture("learning_curve.json")[name];
    let dir = scratch(&[("e.toml", toml)]);
    let (report, _out) = run_report(&dir.path().join("e.toml"), &[]);
    let (rows, train, test) = curve(&report);
    let want_rows: Vec<u64> = expected["rows"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(rows, want_rows, "{name}: training sizes");
    for (i, (ours, theirs)) in train.iter().zip(expected["train"].as_array().unwrap()).enumerate() {
        assert_rel(ours, &crate::common::floats(theirs), rel, &format!("{name} train, size {}", rows[i]));
    }
    for (i, (ours, theirs)) in test.iter().zip(expected["test"].as_array().unwrap()).enumerate() {
        assert_rel(ours, &crate::common::floats(theirs), rel, &format!("{name} test, size {}", rows[i]));
    }
}

const SIZES: &str = "learning_curve = [0.1, 0.325, 0.55, 0.775, 1.0]\n";

#[test]
fn learning_curves_equal_scikit_learns() {
    let ridge = |shuffle: bool| {
        experiment(
            "datasets/diabetes.csv",
            "target",
            &format!(
                "[preprocess]\nscale = \"standard\"\n[split]\nmethod = \"kfold\"\nfolds = 5\nshuffle = true\n\
                 [report]\n{SIZES}learning_curve_shuffle = {shuffle}\n[[model]]\nname = \"r\"\nkind = \"ridge\"\nalpha = 1.0\n"
            ),
        )
    };
    check("ridge", &ridge(false), 1e-9);
    check("ridge_shuffled", &ridge(true), 1e-9);
    let logistic = experiment(
        "datasets/breast_cancer.csv",
        "target",
        &format!(
            "task = \"classification\"\n[preprocess]\nscale = \"standard\"\n[split]\nmethod = \"stratified_kfold\"\nfolds = 5\nshuffle = true\n\
             [report]\nmetrics = [\"accuracy\"]\n{SIZES}[[model]]\nname = \"lr\"\nkind = \"logistic_regression\"\nc = 1.0\ntol = 1e-10\nmax_iter = 100000\n"
        ),
    );
    check("logistic", &logistic, 0.0);
}
