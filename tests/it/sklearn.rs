//! runner's numbers against scikit-learn's on the same splits and settings.

use crate::common::*;

#[test]
fn boston_ols_reproduces_the_tutorial() {
    let f = fixture("boston_ols.json");
    let (r, _dir) = run_report(&root().join("experiments/boston.toml"), &[]);
    let ols = trial(&r, "ols");
    let mse = ols["test"]["mse"]["mean"].as_f64().unwrap();
    assert_rel(&[mse], &[f["test_mse"].as_f64().unwrap()], 1e-9, "test mse");
    assert_rel(&[mse], &[21.517444231177247], 1e-9, "the tutorial's test mse");
    assert_rel(
        &[ols["train"]["mse"]["mean"].as_f64().unwrap()],
        &[f["train_mse"].as_f64().unwrap()],
        1e-9,
        "train mse",
    );
    let coefs = ols["coefficients"].as_object().unwrap();
    for (name, want) in f["coefficients"].as_object().unwrap() {
        assert_rel(&[coefs[name].as_f64().unwrap()], &[want.as_f64().unwrap()], 1e-8, name);
    }
    assert_rel(&[coefs["(intercept)"].as_f64().unwrap()], &[f["intercept"].as_f64().unwrap()], 1e-8, "intercept");
    assert_eq!(r["split"]["train_rows"][0], 354);
}

#[test]
fn the_boston_run_prints_the_test_mse() {
    let out = tempfile::tempdir().unwrap();
    let assert = runner().args(["experiments/boston.toml", "--out"]).arg(out.path()).assert().success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    // scikit-learn 1.9.1 prints 21.517444231177183 here; the tutorial says 21.517444231177247.
    assert!(stdout.contains("21.51744423117"), "{stdout}");
}

#[test]
fn ridge_grid_matches_under_5_fold_raw_and_scaled() {
    let f = fixture("boston_ridge.json");
    // With mse alone the sweep takes the ridge shortcut (sufficient statistics); with the
    // default metrics, the ordinary path. Both must equal scikit-learn.
    for (file, key, extra) in [
        ("boston_ridge_raw.toml", "raw", None),
        ("boston_ridge_standard.toml", "standard", None),
        ("boston_ridge_raw.toml", "raw", Some("report.metrics=[\"mse\"]")),
        ("boston_ridge_standard.toml", "standard", Some("report.metrics=[\"mse\"]")),
    ] {
        let args: Vec<&str> = extra.map(|e| vec!["--set", e]).unwrap_or_default();
        let (r, _dir) = run_report(&root().join("tests/fixtures/experiments").join(file), &args);
        for alpha in ["0.01", "0.1", "1", "10", "100"] {
            let ours = floats(&trial(&r, &format!("ridge[alpha={alpha}]"))["test"]["mse"]["folds"]);
            let theirs = floats(&f[key][format!("{:?}", alpha.parse::<f64>().unwrap())]);
            assert_rel(&ours, &theirs, 1e-8, &format!("{key} ridge alpha={alpha} fold mse"));
        }
    }
}

#[test]
fn lasso_and_elastic_net_match_at_tight_tolerance() {
    let f = fixture("diabetes_lasso.json");
    let (r, _dir) = run_report(&root().join("tests/fixtures/experiments/diabetes_lasso.toml"), &[]);
    for alpha in ["0.01", "0.1", "1"] {
        let key = format!("{:?}", alpha.parse::<f64>().unwrap());
        let lasso = floats(&trial(&r, &format!("lasso[alpha={alpha}]"))["test"]["mse"]["folds"]);
        assert_rel(&lasso, &floats(&f["lasso"][&key]), 1e-4, "lasso fold mse");
        let enet = floats(&trial(&r, &format!("enet[alpha={alpha}]"))["test"]["mse"]["folds"]);
        assert_rel(&enet, &floats(&f["elastic_net"][&key]), 1e-4, "elastic net fold mse");
    }
}

fn check_logistic(file: &str, fixture_name: &str, cs: &[&str], key: &str) {
    check_logistic_with(file, fixture_name, cs, key, &[]);
}

fn check_logistic_with(file: &str, fixture_name: &str, cs: &[&str], key: &str, extra: &[&str]) {
    let f = fixture(fixture_name);
    let (r, _dir) = run_report(&root().join("tests/fixtures/experiments").join(file), extra);
    for c in cs {
        let fkey = format!("{:?}", c.parse::<f64>().unwrap());
        let t = trial(&r, &format!("logreg[c={c}]"));
        let reference = if key.is_empty() { &f["c"][&fkey] } else { &f[key][&fkey] };
        let ours_acc = if t["test"]["accuracy"]["folds"].as_array().unwrap().len() == 1 {
            vec![t["test"]["accuracy"]["mean"].as_f64().unwrap()]
        } else {
            floats(&t["test"]["accuracy"]["folds"])
        };
        let theirs_acc = reference["accuracy"]
            .as_array()
            .map(|_| floats(&reference["accuracy"]))
            .unwrap_or_else(|| vec![reference["accuracy"].as_f64().unwrap()]);
        assert_eq!(ours_acc, theirs_acc, "{file} c={c}: accuracy per fold");
        let ours_ll = floats(&t["test"]["log_loss"]["folds"]);
        let theirs_ll = reference["log_loss"]
            .as_array()
            .map(|_| floats(&reference["log_loss"]))
            .unwrap_or_else(|| vec![reference["log_loss"].as_f64().unwrap()]);
        for (a, b) in ours_ll.iter().zip(&theirs_ll) {
            assert!((a - b).abs() < 1e-4, "{file} c={c}: log-loss {a} vs {b}");
        }
    }
}

#[test]
fn binary_logistic_matches_on_breast_cancer() {
    check_logistic("breast_cancer_logistic.toml", "breast_cancer_logistic.json", &["0.01", "0.1", "1", "10"], "folds");
}

#[test]
fn linfa_logistic_solver_matches_too() {
    let linfa = ["--set", "model.logreg.solver=\"linfa\""];
    check_logistic_with(
        "breast_cancer_logistic.toml",
        "breast_cancer_logistic.json",
        &["0.01", "0.1", "1", "10"],
        "folds",
        &linfa,
    );
    check_logistic_with("iris_multinomial.toml", "iris_multinomial.json", &["0.1", "1", "10"], "folds", &linfa);
}

#[test]
fn multinomial_logistic_matches_on_iris() {
    check_logistic("iris_multinomial.toml", "iris_multinomial.json", &["0.1", "1", "10"], "folds");
}

#[test]
fn penguins_imputation_and_one_hot_match_on_a_column_split() {
    check_logistic("penguins_column.toml", "penguins_logistic.json", &["0.1", "1"], "");
}

/// `runner run` (split "none", raw columns) of one `[[model]]` on a neighbors_bayes training
/// file, then `runner predict` of the new rows with the saved model.json: the CSV rows.
fn fit_and_predict(train: &str, target: &str, model: &str, proba: bool) -> Vec<Vec<String>> {
    let dir = root().join("tests/fixtures/neighbors_bayes");
    let toml = format!(
        "name = \"nb\"\nseed = 1\n[dataset]\npath = {:?}\ntarget = \"{target}\"\n[split]\nmethod = \"none\"\n\
         [[model]]\nname = \"m\"\n{model}",
        dir.join(train).display().to_string()
    );
    let scratch = scratch(&[("e.toml", &toml)]);
    let out = scratch.path().join("out");
    let run = runner().arg("run").arg(scratch.path().join("e.toml")).arg("-q").arg("--out").arg(&out).output().unwrap();
    assert!(run.status.success(), "{model}: {}", String::from_utf8_lossy(&run.stderr));
    let mut predict = runner();
    predict.arg("predict").arg(out.join("model.json")).arg(dir.join("new.csv"));
    if proba {
        predict.arg("--proba");
    }
    let output = predict.output().unwrap();
    assert!(output.status.success(), "{model}: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    text.lines().skip(1).map(|l| l.split(',').skip(1).map(str::to_string).collect()).collect()
}

/// A classifier's predicted labels equal scikit-learn's, and its probabilities to 1e-12.
fn check_classes(case: &serde_json::Value, rows: &[Vec<String>], what: &str) {
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0], case["prediction"][i].as_str().unwrap(), "{what}: row {i}");
        for (c, p) in row[1..].iter().enumerate() {
            let want = case["proba"][i][c].as_f64().unwrap();
            let got: f64 = p.parse().unwrap();
            assert!((got - want).abs() <= 1e-12, "{what}: row {i} class {c}: {got} vs {want}");
        }
    }
}

#[test]
fn knn_predicts_as_scikit_learns_k_neighbors_brute() {
    let f = fixture("../neighbors_bayes/knn.json");
    for case in f["cases"].as_array().unwrap() {
        let (k, weights, p) = (&case["n_neighbors"], case["weights"].as_str().unwrap(), &case["p"]);
        let model = format!("kind = \"knn\"\nn_neighbors = {k}\nweights = \"{weights}\"\np = {p}\n");
        let what = format!("{} {model}", case["task"]);
        if case["task"] == "classification" {
            check_classes(case, &fit_and_predict("class_train.csv", "label", &model, true), &what);
            continue;
        }
        let rows = fit_and_predict("value_train.csv", "value", &model, false);
        for (i, row) in rows.iter().enumerate() {
            // Exactly: the neighbours, their order and numpy's sums are scikit-learn's.
            assert_eq!(row[0].parse::<f64>().unwrap(), case["prediction"][i].as_f64().unwrap(), "{what}: row {i}");
        }
    }
}

#[test]
fn naive_bayes_predicts_as_scikit_learns_gaussian_nb() {
    let f = fixture("../neighbors_bayes/naive_bayes.json");
    for case in f["cases"].as_array().unwrap() {
        let model =
            format!("kind = \"naive_bayes\"\nvar_smoothing = {}\npriors = {}\n", case["var_smoothing"], case["priors"]);
        check_classes(case, &fit_and_predict("class_train.csv", "label", &model, true), &model);
    }
}
