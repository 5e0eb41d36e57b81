//! Refit, model.json and `runner predict`, through the binary: the predictions of new rows
//! equal those of scikit-learn's refit estimator (fixtures: predict.json and the
//! tests/fixtures/data/*_new.csv files, made by generate.py), and bad input is refused.

use crate::common::{assert_rel, fixture, root, run_ok, runner, scratch};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// An experiment over `dataset` (a path relative to the repository) with `body` appended.
fn experiment(dataset: &str, target: &str, body: &str) -> String {
    let path = root().join(dataset);
    format!(
        "name = \"p\"\nseed = 42\n[dataset]\npath = {:?}\ntarget = \"{target}\"\n{body}",
        path.display().to_string()
    )
}

/// Runs the experiment and returns the report folder (holding model.json).
fn run(toml: &str, extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = scratch(&[("e.toml", toml)]);
    let out = dir.path().join("out");
    let output = runner()
        .arg("run")
        .arg(dir.path().join("e.toml"))
        .arg("-q")
        .arg("--out")
        .arg(&out)
        .args(extra)
        .output()
        .unwrap();
    assert!(output.status.success(), "run failed: {}", String::from_utf8_lossy(&output.stderr));
    (dir, out)
}

/// `runner predict` on `data`; its CSV output as rows of fields.
fn predict(model: &Path, data: &Path, extra: &[&str]) -> Vec<Vec<String>> {
    let output = runner().arg("predict").arg(model).arg(data).args(extra).output().unwrap();
    assert!(output.status.success(), "predict failed: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    text.lines().map(|l| l.split(',').map(str::to_string).collect()).collect()
}

fn column(rows: &[Vec<String>], name: &str) -> Vec<String> {
    let i = rows[0].iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}: {:?}", rows[0]));
    rows[1..].iter().map(|r| r[i].clone()).collect()
}

fn numbers(values: &[String]) -> Vec<f64> {
    values.iter().map(|v| v.parse().unwrap()).collect()
}

fn new_data(name: &str) -> PathBuf {
    root().join("tests/fixtures/data").join(name)
}

/// Regression kinds: the refit model's predictions of new rows at `rel`.
#[test]
fn regression_refits_predict_new_rows_as_scikit_learn() {
    let expected = fixture("predict.json");
    let kfold = "[split]\nmethod = \"kfold\"\nfolds = 5\n";
    let cases = [
        (
            "boston_ols",
            experiment("datasets/boston.csv", "MEDV", "[split]\nmethod = \"holdout\"\ntest_size = 0.3\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n"),
            "boston_new.csv",
            1e-9,
        ),
        (
            "diabetes_ridge",
            experiment("datasets/diabetes.csv", "target", &format!("{kfold}[[model]]\nname = \"r\"\nkind = \"ridge\"\nalpha = 1.0\n")),
            "diabetes_new.csv",
            1e-9,
        ),
        (
            "diabetes_lasso",
            experiment("datasets/diabetes.csv", "target", &format!("{kfold}[[model]]\nname = \"l\"\nkind = \"lasso\"\nalpha = 0.1\ntol = 1e-12\nmax_iter = 100000\n")),
            "diabetes_new.csv",
            1e-8,
        ),
        (
            "diabetes_enet",
            experiment("datasets/diabetes.csv", "target", &format!("[preprocess]\nscale = \"standard\"\n{kfold}[[model]]\nname = \"e\"\nkind = \"elastic_net\"\nalpha = 0.1\nl1_ratio = 0.5\ntol = 1e-12\nmax_iter = 100000\n")),
            "diabetes_new.csv",
            1e-8,
        ),
    ];
    for (name, toml, data, rel) in cases {
        let (_dir, out) = run(&toml, &[]);
        let rows = predict(&out.join("model.json"), &new_data(data), &[]);
        let ours = numbers(&column(&rows, "prediction"));
        assert_rel(&ours, &crate::common::floats(&expected[name]), rel, name);
        assert_eq!(column(&rows, "row")[0], "1", "{name}: rows are numbered from 1");
    }
}

/// penguins: mean/mode imputation, scaling and one-hot fitted on the training rows, then a
/// multinomial logistic regression; the new rows have gaps. Probabilities at 1e-6 (lbfgs
/// at tol 1e-12 on both sides).
#[test]
fn penguins_pipeline_probabilities_equal_scikit_learns() {
    let expected = &fixture("predict.json")["penguins_logistic"];
    let body = "[preprocess]\nimpute = \"mean\"\nscale = \"standard\"\n[preprocess.columns.sex]\nimpute = \"mode\"\n\
                [preprocess.columns.island]\nimpute = \"mode\"\n[split]\nmethod = \"none\"\n\
                [[model]]\nname = \"lr\"\nkind = \"logistic_regression\"\nc = 1.0\ntol = 1e-12\nmax_iter = 100000\n";
    let (_dir, out) = run(&experiment("tests/fixtures/data/penguins_train.csv", "species", body), &[]);
    let rows = predict(&out.join("model.json"), &new_data("penguins_new.csv"), &["--proba"]);
    let classes: Vec<String> =
        expected["classes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().into()).collect();
    for (k, class) in classes.iter().enumerate() {
        let theirs: Vec<f64> = expected["proba"].as_array().unwrap().iter().map(|r| r[k].as_f64().unwrap()).collect();
        let ours = numbers(&column(&rows, &format!("p_{class}")));
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert!((a - b).abs() < 1e-6, "row {i} class {class}: ours {a} vs scikit-learn {b}");
        }
    }
}

#[test]
fn iris_tree_and_breast_cancer_svc_refits_predict_as_scikit_learn() {
    let expected = fixture("predict.json");
    let kfold = "[split]\nmethod = \"kfold\"\nfolds = 5\n";
    let tree =
        format!("task = \"classification\"\n{kfold}[[model]]\nname = \"t\"\nkind = \"decision_tree\"\nmax_depth = 3\n");
    let (_dir, out) = run(&experiment("datasets/iris.csv", "target", &tree), &[]);
    let rows = predict(&out.join("model.json"), &new_data("iris_new.csv"), &["--proba"]);
    let classes = expected["iris_tree"]["classes"].as_array().unwrap();
    for (k, class) in classes.iter().enumerate() {
        let theirs: Vec<f64> =
            expected["iris_tree"]["proba"].as_array().unwrap().iter().map(|r| r[k].as_f64().unwrap()).collect();
        let class = class.as_str().unwrap();
        assert_eq!(numbers(&column(&rows, &format!("p_{class}"))), theirs, "iris tree, class {class}");
    }
    let svc = format!(
        "task = \"classification\"\n[preprocess]\nscale = \"standard\"\n{kfold}[[model]]\nname = \"s\"\nkind = \"svm\"\nc = 1.0\ntol = 1e-6\n"
    );
    let (_dir, out) = run(&experiment("datasets/breast_cancer.csv", "target", &svc), &[]);
    let rows = predict(&out.join("model.json"), &new_data("breast_cancer_new.csv"), &[]);
    let theirs: Vec<String> =
        expected["breast_cancer_svc"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().into()).collect();
    assert_eq!(column(&rows, "prediction"), theirs, "breast_cancer SVC labels");
}

/// Issue #24: forests in model.json predict new rows as scikit-learn's refit forest: a
/// balanced random forest's class shares on iris and extra trees' values on diabetes, at 1e-12.
#[test]
fn forest_refits_predict_as_scikit_learn() {
    let expected = fixture("predict.json");
    let kfold = "[split]\nmethod = \"kfold\"\nfolds = 5\n";
    let forest = format!(
        "task = \"classification\"\n{kfold}[[model]]\nname = \"f\"\nkind = \"random_forest\"\nn_estimators = 30\n\
         max_features = \"log2\"\nclass_weight = \"balanced\"\nrandom_state = 5\n"
    );
    let (_dir, out) = run(&experiment("datasets/iris.csv", "target", &forest), &[]);
    let model: Value = serde_json::from_str(&std::fs::read_to_string(out.join("model.json")).unwrap()).unwrap();
    assert_eq!(model["model"]["type"], "forest");
    assert_eq!(model["model"]["trees"].as_array().map(Vec::len), Some(30));
    let rows = predict(&out.join("model.json"), &new_data("iris_new.csv"), &["--proba"]);
    for (k, class) in expected["iris_forest"]["classes"].as_array().unwrap().iter().enumerate() {
        let theirs: Vec<f64> =
            expected["iris_forest"]["proba"].as_array().unwrap().iter().map(|r| r[k].as_f64().unwrap()).collect();
        let class = class.as_str().unwrap();
        let ours = numbers(&column(&rows, &format!("p_{class}")));
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert!((a - b).abs() <= 1e-12, "row {i} class {class}: ours {a} vs scikit-learn {b}");
        }
    }
    let extra = format!(
        "{kfold}[[model]]\nname = \"x\"\nkind = \"extra_trees\"\nn_estimators = 25\nmax_depth = 8\nrandom_state = 11\n"
    );
    let (_dir, out) = run(&experiment("datasets/diabetes.csv", "target", &extra), &[]);
    let rows = predict(&out.join("model.json"), &new_data("diabetes_new.csv"), &[]);
    let ours = numbers(&column(&rows, "prediction"));
    assert_rel(&ours, &crate::common::floats(&expected["diabetes_extra_trees"]), 1e-12, "diabetes extra trees");
    // Each saved tree is checked as a saved decision tree is, named by its place.
    let (model, data) = (out.join("model.json"), new_data("diabetes_new.csv"));
    type Edit = fn(&mut Value);
    let cases: Vec<(&str, Edit, &[&str])> = vec![
        (
            "forest_feature",
            |v| v["model"]["trees"][3][0]["split"]["feature"] = 99.into(),
            &["model.trees[3][0].split.feature is 99, but there are 10 features"],
        ),
        ("forest_empty", |v| v["model"]["trees"] = serde_json::json!([]), &["model.trees is empty"]),
        ("forest_kind", |v| v["trial"]["kind"] = "ridge".into(), &["model.type `forest` is not how a `ridge`"]),
    ];
    for (name, edit, wanted) in cases {
        refused_model(_dir.path(), &model, &data, name, edit, wanted);
    }
}

/// Kinds scikit-learn has no exact twin of (our MLP and gradient-descent trainers): with
/// `method = "none"` the refit is the sweep's own unit, so `runner predict` on the training
/// file gives exactly the predictions predictions.csv holds.
#[test]
fn refits_of_our_own_trainers_predict_what_the_sweep_predicted() {
    let cases = [
        ("datasets/diabetes.csv", "target", "kind = \"mlp\"\nhidden_layers = [8]\nepochs = 30\n"),
        ("datasets/diabetes.csv", "target", "kind = \"linear_gd\"\nepochs = 50\nlearning_rate = 0.1\n"),
        ("datasets/iris.csv", "target", "kind = \"logistic_gd\"\nepochs = 50\nlearning_rate = 0.1\n"),
        ("datasets/wine.csv", "target", "kind = \"mlp\"\nhidden_layers = [6]\nepochs = 20\n"),
    ];
    for (data, target, model) in cases {
        let task = if target == "target" && !data.contains("diabetes") { "task = \"classification\"\n" } else { "" };
        let body = format!(
            "{task}[preprocess]\nscale = \"standard\"\n[split]\nmethod = \"none\"\n[[model]]\nname = \"m\"\n{model}"
        );
        let (_dir, out) = run(&experiment(data, target, &body), &[]);
        let swept = std::fs::read_to_string(out.join("predictions.csv")).unwrap();
        let swept: Vec<Vec<String>> = swept.lines().map(|l| l.split(',').map(str::to_string).collect()).collect();
        let proba = if task.is_empty() { vec![] } else { vec!["--proba"] };
        let rows = predict(&out.join("model.json"), &root().join(data), &proba);
        assert_eq!(column(&rows, "prediction"), column(&swept, "predicted"), "{data} {model}");
        for name in swept[0].iter().filter(|h| h.starts_with("p_")) {
            assert_eq!(column(&rows, name), column(&swept, name), "{data} {model} {name}");
        }
    }
}

fn boston_holdout() -> String {
    experiment(
        "datasets/boston.csv",
        "MEDV",
        "[split]\nmethod = \"holdout\"\ntest_size = 0.3\n[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = [0.1, 1, 10]\n",
    )
}

#[test]
fn model_json_is_identical_for_any_jobs_after_resume_and_for_shards_merged_and_the_report_links_it() {
    let dir = scratch(&[("e.toml", &boston_holdout())]);
    let file = dir.path().join("e.toml");
    let run_into = |name: &str, args: &[&str]| run_ok(&file, dir.path(), name, args);
    let one = run_into("one", &["--jobs", "1"]);
    let two = run_into("two", &["--jobs", "2"]);
    let model = std::fs::read_to_string(one.join("model.json")).unwrap();
    assert!(model == std::fs::read_to_string(two.join("model.json")).unwrap(), "--jobs 1 and 2 differ");
    run_into("one", &["--resume"]);
    assert!(model == std::fs::read_to_string(one.join("model.json")).unwrap(), "a resume changed it");
    let parts = [run_into("s1", &["--shard", "1/2"]), run_into("s2", &["--shard", "2/2"])];
    let merged = dir.path().join("merged");
    assert!(runner().arg("merge").args(&parts).arg("--out").arg(&merged).output().unwrap().status.success());
    assert!(model == std::fs::read_to_string(merged.join("model.json")).unwrap(), "merged shards differ");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(one.join("report.json")).unwrap()).unwrap();
    let best = report["best"]["trial"].as_str().unwrap();
    assert_eq!(report["refit"]["trial"], best);
    assert_eq!(report["refit"]["rows"], 354);
    // The holdout refit is the sweep's model: the same test metric.
    let trial = report["trials"].as_array().unwrap().iter().find(|t| t["id"] == best).unwrap();
    let swept = trial["test"]["mse"]["mean"].as_f64().unwrap();
    let refit = report["refit"]["test"]["mse"].as_f64().unwrap();
    assert!((swept - refit).abs() <= 1e-12 * swept, "sweep {swept} vs refit {refit}");
    let md = std::fs::read_to_string(one.join("report.md")).unwrap();
    assert!(md.contains("[model.json](model.json)"), "{md}");
}

#[test]
fn predict_writes_ids_and_parquet_and_refit_false_writes_no_model() {
    let (_dir, out) = run(&boston_holdout(), &[]);
    let model = out.join("model.json");
    let data = root().join("datasets/boston.csv");
    let rows = predict(&model, &data, &["--id", "TAX"]);
    assert_eq!(rows[0], ["TAX", "prediction"]);
    assert_eq!(rows.len(), 507);
    assert_eq!(rows[1][0], "296");
    let parquet = out.join("p.parquet");
    let status = runner().arg("predict").arg(&model).arg(&data).arg("--out").arg(&parquet).output().unwrap().status;
    assert!(status.success());
    assert_eq!(&std::fs::read(&parquet).unwrap()[..4], b"PAR1");
    let (_dir, off) = run(&boston_holdout(), &["--set", "report.refit=false"]);
    assert!(!off.join("model.json").exists());
    let report = std::fs::read_to_string(off.join("report.json")).unwrap();
    assert!(!report.contains("\"refit\""));
}

/// Every refusal exits 2 with a message naming the problem (and the column and row).
#[test]
fn predict_refuses_bad_input_with_a_clear_error() {
    let body = "[preprocess]\nimpute = \"mean\"\n[preprocess.columns.sex]\nimpute = \"mode\"\n[preprocess.columns.island]\nimpute = \"error\"\n\
                [split]\nmethod = \"none\"\n[[model]]\nname = \"lr\"\nkind = \"logistic_regression\"\n";
    let (dir, out) = run(&experiment("tests/fixtures/data/penguins_train.csv", "species", body), &[]);
    let model = out.join("model.json");
    let header = "island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year";
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        ("missing.csv", "island,bill_length_mm\nDream,40\n".into(), vec!["bill_depth_mm", "does not have"]),
        (
            "typo.csv",
            format!("{}\nDream,40,18,190,3800,male,2008\n", header.replace("year", "yaer")),
            vec!["`year`", "did you mean `yaer`"],
        ),
        (
            "text.csv",
            format!("{header}\nDream,40,18,190,3800,male,2008\nDream,long,long,long,long,male,2008\n"),
            vec!["`bill_length_mm`", "row 2", "`long`"],
        ),
        (
            "unseen.csv",
            format!("{header}\nDream,40,18,190,3800,male,2008\nAtlantis,40,18,190,3800,male,2008\n"),
            vec!["`island`", "row 2", "`Atlantis`", "--unknown ignore"],
        ),
        (
            "gap.csv",
            format!("{header}\nDream,40,18,190,3800,male,2008\n,40,18,190,3800,male,2008\n"),
            vec!["`island`", "missing value", "row 2"],
        ),
        ("empty.csv", String::new(), vec!["empty"]),
        ("header_only.csv", format!("{header}\n"), vec!["no data rows"]),
    ];
    for (name, text, wanted) in &cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let output = runner().arg("predict").arg(&model).arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        for w in wanted {
            assert!(stderr.contains(w), "{name}: `{w}` not in: {stderr}");
        }
    }
    // --unknown ignore: the unseen level gets all-zero indicators and the row a prediction.
    let rows = predict(&model, &dir.path().join("unseen.csv"), &["--unknown", "ignore", "--proba"]);
    assert_eq!(rows.len(), 3);
    // Another schema version, another file kind, a malformed model: refused by name.
    let text = std::fs::read_to_string(&model).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["schema_version"] = 2.into();
    let mut tree_out_of_range: Value = serde_json::from_str(&text).unwrap();
    tree_out_of_range["model"]["weights"][0] = serde_json::json!([1.0]);
    let models = [
        ("v2.json", v.to_string(), "schema version 2"),
        ("report.json", std::fs::read_to_string(out.join("report.json")).unwrap(), "not a runner model file"),
        ("bad.json", tree_out_of_range.to_string(), "malformed"),
        ("garbage.json", "{".into(), "not valid JSON"),
    ];
    let data = dir.path().join("unseen.csv");
    for (name, text, wanted) in models {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let output = runner().arg("predict").arg(&path).arg(&data).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(wanted), "{name}: `{wanted}` not in: {stderr}");
    }
    let regression = run(&boston_holdout(), &[]);
    let output = runner()
        .arg("predict")
        .arg(regression.1.join("model.json"))
        .arg(root().join("datasets/boston.csv"))
        .arg("--proba")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--proba is for classifiers"));
}

/// `runner predict` on `model` with an edited copy of model.json: exit 2 with `wanted`.
fn refused_model(dir: &Path, model: &Path, data: &Path, name: &str, edit: impl Fn(&mut Value), wanted: &[&str]) {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(model).unwrap()).unwrap();
    edit(&mut v);
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, v.to_string()).unwrap();
    let output = runner().arg("predict").arg(&path).arg(data).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
    for w in wanted {
        assert!(stderr.contains(w), "{name}: `{w}` not in: {stderr}");
    }
}

/// A model.json whose values training could never give is refused, naming the field: the
/// preprocessing, the classes, the inputs and features, and each model type's parameters.
#[test]
fn predict_refuses_model_values_that_training_could_not_give() {
    let body = "[preprocess]\nimpute = \"mean\"\nscale = \"standard\"\n[preprocess.columns.sex]\nimpute = \"mode\"\n\
                [preprocess.columns.island]\nimpute = \"mode\"\n[split]\nmethod = \"none\"\n\
                [[model]]\nname = \"lr\"\nkind = \"logistic_regression\"\n";
    let (dir, out) = run(&experiment("tests/fixtures/data/penguins_train.csv", "species", body), &[]);
    let (model, data, d) = (out.join("model.json"), new_data("penguins_new.csv"), dir.path());
    type Edit = fn(&mut Value);
    let cases: Vec<(&str, Edit, &[&str])> = vec![
        ("scale0", |v| v["inputs"][1]["scale"] = 0.into(), &["inputs[1].scale is 0", "positive"]),
        ("scale_neg", |v| v["inputs"][1]["scale"] = (-2.0).into(), &["inputs[1].scale is -2"]),
        ("fill_gone", |v| v["inputs"][1]["fill"] = Value::Null, &["inputs[1].fill is missing", "\"mean\""]),
        ("classes", |v| v["target"]["classes"][1] = v["target"]["classes"][0].clone(), &["target.classes[1] repeats"]),
        ("one_class", |v| v["target"]["classes"] = serde_json::json!(["A"]), &["target.classes has 1 label"]),
        ("inputs", |v| v["inputs"][2]["name"] = v["inputs"][1]["name"].clone(), &["inputs[2].name", "repeats"]),
        (
            "levels",
            |v| v["inputs"][0]["levels"][1] = v["inputs"][0]["levels"][0].clone(),
            &["inputs[0].levels[1] repeats"],
        ),
        (
            "level_fill",
            |v| v["inputs"][0]["fill"] = "Atlantis".into(),
            &["inputs[0].fill `Atlantis` is not one of its levels"],
        ),
        ("features", |v| v["features"][0] = "nope".into(), &["features[0] is `nope`"]),
        ("sha", |v| v["dataset"]["sha256"] = "abc".into(), &["dataset.sha256 is `abc`"]),
        ("kind", |v| v["trial"]["kind"] = "ridge".into(), &["trial.kind `ridge` does not do classification"]),
        (
            "kind_type",
            |v| v["trial"]["kind"] = "decision_tree".into(),
            &["model.type `linear` is not how a `decision_tree`"],
        ),
        (
            "head",
            |v| v["model"]["head"] = "sigmoid".into(),
            &["model.head `sigmoid` does not fit a target of 3 classes"],
        ),
        ("version", |v| v["schema_version"] = "1".into(), &["schema_version must be a whole number"]),
    ];
    for (name, edit, wanted) in cases {
        refused_model(d, &model, &data, name, edit, wanted);
    }
    let tree = "[split]\nmethod = \"none\"\n[[model]]\nname = \"t\"\nkind = \"decision_tree\"\nmax_depth = 2\n";
    let (_t, out) = run(&experiment("datasets/iris.csv", "target", tree), &[]);
    let (model, data) = (out.join("model.json"), root().join("datasets/iris.csv"));
    let leaf =
        |v: &Value| v["model"]["nodes"].as_array().unwrap().iter().position(|n| n.get("leaf").is_some()).unwrap();
    let nodes: Vec<Corruption> = vec![
        (
            "leaf_range",
            Box::new(move |v| {
                let i = leaf(v);
                v["model"]["nodes"][i]["leaf"] = serde_json::json!([1.5, -0.5, 0.0])
            }),
            &["model.nodes[", "].leaf[0] is 1.5", "in [0, 1]"],
        ),
        (
            "leaf_sum",
            Box::new(move |v| {
                let i = leaf(v);
                v["model"]["nodes"][i]["leaf"] = serde_json::json!([0.5, 0.1, 0.1])
            }),
            &["].leaf sums to 0.7"],
        ),
        (
            "leaf_len",
            Box::new(move |v| {
                let i = leaf(v);
                v["model"]["nodes"][i]["leaf"] = serde_json::json!([0.5, 0.5])
            }),
            &["].leaf has 2 values; a leaf holds 3 class shares"],
        ),
        (
            "shared",
            Box::new(|v| v["model"]["nodes"][0]["split"]["right"] = v["model"]["nodes"][0]["split"]["left"].clone()),
            &["model.nodes[0].split.left and split.right are both node"],
        ),
    ];
    for (name, edit, wanted) in nodes {
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
        edit(&mut v);
        refused_model(d, &model, &data, name, |w| *w = v.clone(), wanted);
    }
    let svm =
        "[preprocess]\nscale = \"standard\"\n[split]\nmethod = \"none\"\n[[model]]\nname = \"s\"\nkind = \"svm\"\n";
    let (_s, out) = run(&experiment("datasets/iris.csv", "target", svm), &[]);
    let model = out.join("model.json");
    let gamma: Edit = |v| v["model"]["machines"][0]["machine"]["gamma"] = (-1.0).into();
    refused_model(d, &model, &data, "gamma", gamma, &["model.machines[0].machine.gamma is -1"]);
    let pair: Edit = |v| v["model"]["machines"][1] = v["model"]["machines"][0].clone();
    refused_model(d, &model, &data, "pair", pair, &["model.machines[1] repeats the pair of classes (0, 1)"]);
}

/// Gaps and levels as new files write them: a one-row request with an empty numeric cell is
/// filled; with `interpolate` there is nothing to interpolate from; `2007.0` is the level
/// `2007`; labels and ids are echoed as the files wrote them (`True`, `007`).
#[test]
fn predict_fills_lone_gaps_matches_levels_by_value_and_echoes_labels() {
    let mut csv = String::from("id,year,x,z,ok\n");
    for i in 0..16 {
        let year = if i % 2 == 0 { "2007.0" } else { "2008.0" };
        let ok = if (i * 7) % 3 == 0 { "True" } else { "False" };
        csv.push_str(&format!("{i},{year},{},{},{ok}\n", i as f64 * 0.5, (i * i) % 5));
    }
    let toml =
        "name = \"g\"\n[dataset]\npath = \"data.csv\"\ntarget = \"ok\"\ncategorical = [\"year\"]\nexclude = [\"id\"]\n\
                [preprocess]\nimpute = \"mean\"\n[preprocess.columns.x]\nimpute = \"interpolate\"\n\
                [split]\nmethod = \"none\"\n[[model]]\nname = \"lr\"\nkind = \"logistic_regression\"\n";
    let dir = scratch(&[("e.toml", toml), ("data.csv", &csv)]);
    let out = dir.path().join("out");
    let status =
        runner().arg("run").arg(dir.path().join("e.toml")).args(["-q", "--out"]).arg(&out).output().unwrap().status;
    assert!(status.success());
    let model: Value = serde_json::from_str(&std::fs::read_to_string(out.join("model.json")).unwrap()).unwrap();
    assert_eq!(model["inputs"][0]["levels"], serde_json::json!(["2007", "2008"]), "float-written levels");
    assert_eq!(model["target"]["classes"], serde_json::json!(["False", "True"]), "labels as written");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let one = write("one.csv", "id,year,x,z\n007,2007.0,1.5,\n");
    let rows = predict(&out.join("model.json"), &one, &["--id", "id"]);
    assert_eq!(rows[1][0], "007", "{rows:?}");
    assert!(rows[1][1] == "True" || rows[1][1] == "False", "{rows:?}");
    let as_int = predict(&out.join("model.json"), &write("int.csv", "year,x,z\n2007,1.5,1\n"), &[]);
    let as_float = predict(&out.join("model.json"), &write("float.csv", "year,x,z\n2.007e3,1.5,1\n"), &[]);
    assert_eq!(as_int, as_float);
    let lone = write("lone.csv", "year,x,z\n2008,,1\n2007,,2\n");
    let output = runner().arg("predict").arg(out.join("model.json")).arg(&lone).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("column `x` has no value in the new rows, so there is nothing to interpolate"), "{stderr}");
    let text = write("text.csv", "year,x,z\n2008,1,1\n2007,2,?\n2007,2,3\n");
    let output = runner().arg("predict").arg(out.join("model.json")).arg(&text).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`?` is not a number") && stderr.contains("missing-value tokens"), "{stderr}");
    assert!(!stderr.contains("[dataset] missing"), "{stderr}");
}

#[test]
fn hist_gradient_boosting_refit_predicts_iris_as_scikit_learn() {
    let expected = &fixture("hgb.json")["iris_predict"];
    let body = "[split]\nmethod = \"none\"\n[[model]]\nname = \"h\"\nkind = \"hist_gradient_boosting\"\n\
                max_iter = 20\nmin_samples_leaf = 10\nearly_stopping = false\n";
    let (_dir, out) = run(&experiment("datasets/iris.csv", "target", body), &[]);
    let rows = predict(&out.join("model.json"), &new_data("iris_new.csv"), &["--proba"]);
    for (k, class) in expected["classes"].as_array().unwrap().iter().enumerate() {
        let class = class.as_str().unwrap();
        let theirs: Vec<f64> = expected["proba"].as_array().unwrap().iter().map(|r| r[k].as_f64().unwrap()).collect();
        for (i, (a, b)) in numbers(&column(&rows, &format!("p_{class}"))).iter().zip(&theirs).enumerate() {
            assert!((a - b).abs() < 1e-12, "row {i} class {class}: ours {a} vs scikit-learn {b}");
        }
    }
}

/// A named corruption of a model file, and what the refusal must say.
type Corruption = (&'static str, Box<dyn Fn(&mut Value)>, &'static [&'static str]);

/// Issue #24: a hist_gradient_boosting model trained under `impute = "keep"` saves the kept gaps
/// (`"impute": "keep"`), and `runner predict` reads a gap (a `[dataset] missing` token) as NaN and
/// predicts each row with gaps as the run's refit did (numeric gaps, and a categorical column's
/// under `categorical_features = "from_dtype"`); a model trained without `keep` still
/// refuses a gap, naming it.
#[test]
fn predict_of_kept_gaps_equals_the_runs_refit() {
    let mut csv = String::from("a,b,c,d,y,k\n");
    for i in 0..60 {
        let (a, b, c) = (i as f64 * 0.37 % 5.0, (i * i) % 11, (i as f64 * 1.7).sin());
        let a = if i % 7 == 3 { "?".to_string() } else { a.to_string() };
        let b = if i % 5 == 1 { String::new() } else { b.to_string() };
        let d = if i % 9 == 4 { "" } else { ["red", "green", "blue", "grey"][(i * 7) % 4] };
        let y = if (i * 13) % 7 < 3 { "no" } else { "yes" };
        csv.push_str(&format!("{a},{b},{c},{d},{y},{}\n", i as f64 * 0.5 + c));
    }
    let dir = scratch(&[("data.csv", &csv)]);
    for (target, exclude, proba) in [("y", "k", true), ("k", "y", false)] {
        let toml = format!(
            "name = \"g\"\n[dataset]\npath = \"data.csv\"\ntarget = \"{target}\"\nexclude = [\"{exclude}\"]\n\
             missing = [\"\", \"?\"]\n[preprocess]\nimpute = \"keep\"\n[split]\nmethod = \"none\"\n\
             [[model]]\nname = \"h\"\nkind = \"hist_gradient_boosting\"\nmax_iter = 15\nmin_samples_leaf = 4\n\
             categorical_features = \"from_dtype\"\n"
        );
        std::fs::write(dir.path().join("e.toml"), toml).unwrap();
        let out = dir.path().join(format!("out_{target}"));
        let run = runner().arg("run").arg(dir.path().join("e.toml")).args(["-q", "--out"]).arg(&out).output().unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let model: Value = serde_json::from_str(&std::fs::read_to_string(out.join("model.json")).unwrap()).unwrap();
        assert_eq!(model["inputs"][0]["impute"], "keep");
        assert_eq!(model["model"]["categorical"][0]["name"], "d", "{}", model["model"]);
        let md = std::fs::read_to_string(out.join("report.md")).unwrap();
        assert!(md.contains("Missing values (kept as NaN: each split sends them to its learned side):"), "{md}");
        assert!(md.contains("| a | 9 | keep (left as NaN) |"), "{md}");
        let swept = std::fs::read_to_string(out.join("predictions.csv")).unwrap();
        let swept: Vec<Vec<String>> = swept.lines().map(|l| l.split(',').map(str::to_string).collect()).collect();
        let rows =
            predict(&out.join("model.json"), &dir.path().join("data.csv"), if proba { &["--proba"] } else { &[] });
        assert_eq!(column(&rows, "prediction"), column(&swept, "predicted"), "target {target}");
        for name in swept[0].iter().filter(|h| h.starts_with("p_")) {
            assert_eq!(column(&rows, name), column(&swept, name), "{name}");
        }
    }
    // Without `keep` (no gap in training), a gap in the new rows is refused, located.
    std::fs::write(dir.path().join("full.csv"), "a,b,c,y\n1,2,0.5,no\n2,3,0.1,yes\n3,1,0.7,no\n4,5,0.2,yes\n").unwrap();
    let toml = "name = \"f\"\n[dataset]\npath = \"full.csv\"\ntarget = \"y\"\n[split]\nmethod = \"none\"\n\
                [[model]]\nname = \"h\"\nkind = \"hist_gradient_boosting\"\nmax_iter = 3\nmin_samples_leaf = 1\n";
    std::fs::write(dir.path().join("f.toml"), toml).unwrap();
    let out = dir.path().join("out_full");
    assert!(runner()
        .arg("run")
        .arg(dir.path().join("f.toml"))
        .args(["-q", "--out"])
        .arg(&out)
        .output()
        .unwrap()
        .status
        .success());
    std::fs::write(dir.path().join("gap.csv"), "a,b,c\n1,,0.5\n").unwrap();
    let output = runner().arg("predict").arg(out.join("model.json")).arg(dir.path().join("gap.csv")).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("column `b` has a missing value at row 1") && stderr.contains("without imputation"),
        "{stderr}"
    );
}
