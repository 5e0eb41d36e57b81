//! SVMs and decision trees against scikit-learn on the same folds.

use crate::common::*;

fn folds(report: &serde_json::Value, id: &str, metric: &str) -> Vec<f64> {
    floats(&trial(report, id)["test"][metric]["folds"])
}

#[test]
fn rbf_svc_accuracy_equals_sklearn_on_breast_cancer_and_wine() {
    let f = fixture("svm_trees.json");
    for ds in ["breast_cancer", "wine"] {
        let (r, _d) = run_report(&root().join(format!("tests/fixtures/experiments/svc_{ds}.toml")), &[]);
        for c in ["0.1", "1", "10"] {
            let key = format!("{:?}", c.parse::<f64>().unwrap());
            assert_eq!(folds(&r, &format!("svc[c={c}]"), "accuracy"), floats(&f["svc"][ds][&key]), "{ds} C={c}");
        }
    }
}

#[test]
fn svr_mse_equals_sklearn() {
    let f = fixture("svm_trees.json");
    let (r, _d) = run_report(&root().join("tests/fixtures/experiments/svr_diabetes.toml"), &[]);
    for c in ["10", "100"] {
        let key = format!("{:?}", c.parse::<f64>().unwrap());
        assert_rel(&folds(&r, &format!("svr[c={c}]"), "mse"), &floats(&f["svr"][&key]), 1e-9, &format!("SVR C={c}"));
    }
}

/// A linear SVR on 366 rows with one 1e6-scale column, unscaled: libsvm crawls (scikit-learn
/// too); max_iter stops it, the trial stays ok and says why, as sklearn's ConvergenceWarning.
#[test]
fn an_unscaled_linear_svr_stops_at_max_iter_with_a_note() {
    let mut csv = String::from("a,big,y\n");
    for i in 0..366 {
        let (a, big) = ((i as f64 * 0.37).sin(), (i as f64 * 1.91).cos() * 1e6);
        csv += &format!("{a},{big},{}\n", a + 2e-6 * big + 0.1 * (i as f64 * 7.3).sin());
    }
    let toml = "name = \"t\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[split]\nmethod = \"kfold\"\nfolds = 2\n\
                [[model]]\nname = \"svr\"\nkind = \"svm\"\nkernel = \"linear\"\nmax_iter = 20000\n";
    let dir = scratch(&[("data.csv", &csv), ("exp.toml", toml)]);
    let (report, _out) = run_report(&dir.path().join("exp.toml"), &[]);
    let trial = &report["trials"][0];
    assert_eq!(trial["status"], "ok", "{trial}");
    let notes = trial["notes"].as_array().expect("notes on the trial");
    assert!(notes.iter().any(|n| n.as_str().unwrap().contains("terminated early")), "{notes:?}");
}

#[test]
fn decision_tree_accuracy_equals_sklearn() {
    // runner's CART follows scikit-learn's splitter step for step (f32 features, its rand_r
    // feature order for random_state = 0), so equal-gain splits break the same way.
    let f = fixture("svm_trees.json");
    for ds in ["iris", "wine"] {
        let (r, _d) = run_report(&root().join(format!("tests/fixtures/experiments/tree_{ds}.toml")), &[]);
        for depth in ["1", "2", "3"] {
            let ours = folds(&r, &format!("tree[max_depth={depth}]"), "accuracy");
            assert_eq!(ours, floats(&f["tree"][ds][depth]), "{ds} depth {depth}");
        }
    }
}

#[test]
fn regression_trees_run_through_the_binary() {
    // Their numbers are checked against DecisionTreeRegressor by the conformance suite.
    let (r, _d) = run_report(
        &root().join("experiments/diabetes.toml"),
        &["--set", "model=[{name = \"t\", kind = \"decision_tree\", max_depth = 3}]"],
    );
    assert_eq!(trial(&r, "t")["status"], "ok");
}

#[test]
fn mlp_runs_through_the_binary_deterministically() {
    let file = root().join("experiments/diabetes_mlp.toml");
    let (mut one, _a) = run_report(&file, &["--jobs", "1"]);
    let (mut two, _b) = run_report(&file, &["--jobs", "2"]);
    one.as_object_mut().unwrap().remove("run");
    two.as_object_mut().unwrap().remove("run");
    assert_eq!(one, two);
    let t = trial(&one, "mlp[hidden_layers=[32,16]]");
    assert_eq!(t["status"], "ok");
    assert_eq!(t["params"]["hidden_layers"], serde_json::json!([32, 16]));
    assert!(t["coefficients"].is_null(), "an MLP has no coefficients");
    assert!(t["loss_curve"][0]["validation"].is_array());
    assert!(one["explanation"]["permutation_importance"].as_array().unwrap().len() == 10);
}

#[test]
fn a_bad_hidden_layer_list_is_a_config_error() {
    let out = runner()
        .args(["check", "experiments/diabetes_mlp.toml", "--set", "model.mlp.grid.hidden_layers=[[8], [0]]"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("[0] is out of range: expected a non-empty list of integers >= 1"), "{stderr}");
}
