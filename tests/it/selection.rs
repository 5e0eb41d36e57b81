//! Model selection and evaluation protocols: learning curves against scikit-learn's
//! `learning_curve` (learning_curve.json, made by generate.py).

use crate::common::{assert_rel, fixture, report_outside_run, root, run_into, run_ok, run_report, scratch};
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

/// A trial's full parameter value (ids show it shortened), by its id.
fn param(report: &Value, id: &Value, axis: &str) -> f64 {
    crate::common::trial(report, id.as_str().unwrap())["params"][axis].as_f64().unwrap()
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

fn diabetes_ridge(alpha: &str) -> String {
    experiment(
        "datasets/diabetes.csv",
        "target",
        &format!(
            "[preprocess]\nscale = \"standard\"\n[split]\nmethod = \"kfold\"\nfolds = 5\nrepeats = 3\n\
             [[model]]\nname = \"r\"\nkind = \"ridge\"\n{alpha}\n"
        ),
    )
}

/// Each trial's p-value against the best equals the corrected t-test computed with scipy
/// from scikit-learn's fold scores (corrected_t.json).
#[test]
fn corrected_t_test_p_values_equal_the_reference() {
    let expected = fixture("corrected_t.json");
    let dir = scratch(&[("e.toml", &diabetes_ridge("grid.alpha = [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]"))]);
    let (report, _out) = run_report(&dir.path().join("e.toml"), &[]);
    assert_eq!(report["best"]["trial"], "r[alpha=10]");
    for (alpha, p) in expected["p"].as_object().unwrap() {
        let alpha = alpha.trim_end_matches(".0");
        let trial = crate::common::trial(&report, &format!("r[alpha={alpha}]"));
        let ours = trial["vs_best"]["p_value"].as_f64().unwrap();
        assert_rel(&[ours], &[p.as_f64().unwrap()], 1e-9, &format!("p of alpha {alpha}"));
        assert_eq!(trial["vs_best"]["indistinguishable"], p.as_f64().unwrap() >= 0.05);
    }
    let md = std::fs::read_to_string(_out.path().join("report.md")).unwrap();
    assert!(md.contains("≈ best") && md.contains("p vs best"), "{md}");
}

/// `compare --test corrected-t`: a worse candidate is a regression only when the per-fold
/// differences are significant.
#[test]
fn compare_with_the_corrected_t_test_ignores_noise() {
    let dir = scratch(&[("e.toml", &diabetes_ridge("alpha = 10.0"))]);
    let file = dir.path().join("e.toml");
    let run = |name: &str, set: &[&str]| run_ok(&file, dir.path(), name, set).join("report.json");
    let base = run("base", &[]);
    let slightly = run("a100", &["--set", "model.r.alpha=100"]);
    let clearly = run("a1000", &["--set", "model.r.alpha=1000"]);
    let compare = |cand: &std::path::Path, test: bool| {
        let mut cmd = crate::common::runner();
        cmd.arg("compare").arg(&base).arg(cand);
        if test {
            cmd.args(["--test", "corrected-t", "--alpha", "0.05"]);
        }
        let o = cmd.output().unwrap();
        (o.status.code(), String::from_utf8_lossy(&o.stdout).to_string())
    };
    assert_eq!(compare(&slightly, false).0, Some(1), "worse without a test");
    let (code, out) = compare(&slightly, true);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("not significant") && out.contains("| p |"), "{out}");
    let (code, out) = compare(&clearly, true);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("| worse |"), "{out}");
    // Folds that hold other rows cannot be paired: refused, never a silent other test.
    let refused = |cand: &std::path::Path, expect: &str| {
        let o = crate::common::runner()
            .arg("compare")
            .arg(&base)
            .arg(cand)
            .args(["--test", "corrected-t"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("folds differ") && err.contains(expect), "{err}");
    };
    refused(&run("ten", &["--set", "split.folds=10", "--set", "split.repeats=1"]), "folds 15 vs 10");
    refused(&run("seed", &["--set", "seed=1"]), "seed 0 vs 1");
}

/// A random search draws what scikit-learn's `ParameterSampler(axes, n_iter, random_state)`
/// draws (random_search.json): scipy's uniform, loguniform and randint from numpy's
/// RandomState, lists by `randint(len)`, and lists-only grids by sample_without_replacement.
#[test]
fn random_search_draws_equal_parameter_samplers() {
    use runner::config::{Distribution, ModelConfig};
    use runner::spec::{ModelKind, ParamValue};
    let value = |v: &Value| match v {
        Value::String(s) => ParamValue::Str(s.clone()),
        v if v.is_i64() => ParamValue::Int(v.as_i64().unwrap()),
        v => ParamValue::Float(v.as_f64().unwrap()),
    };
    for case in fixture("random_search.json")["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let mut grid = Vec::new();
        let mut distributions = Vec::new();
        for (axis, spec) in case["axes"].as_object().unwrap() {
            let ends = |k: &str| spec[k].as_array().map(|a| (a[0].as_f64().unwrap(), a[1].as_f64().unwrap()));
            if let Some(values) = spec.as_array() {
                grid.push((axis.clone(), values.iter().map(value).collect()));
            } else if let Some((low, high)) = ends("loguniform") {
                distributions.push((axis.clone(), Distribution::LogUniform { low, high }));
            } else if let Some((low, high)) = ends("uniform") {
                distributions.push((axis.clone(), Distribution::Uniform { low, high }));
            } else if let Some((low, high)) = ends("randint") {
                distributions.push((axis.clone(), Distribution::RandInt { low: low as i64, high: high as i64 }));
            }
        }
        grid.sort_by(|a: &(String, Vec<ParamValue>), b| a.0.cmp(&b.0));
        distributions.sort_by(|a, b| a.0.cmp(&b.0));
        let m = ModelConfig {
            name: "m".into(),
            kind: ModelKind::Ridge,
            steps: Vec::new(),
            fixed: Default::default(),
            grid,
            distributions,
        };
        let n = case["n"].as_u64().unwrap() as usize;
        let ours = runner::trial::sample_points(&m, n, case["seed"].as_u64().unwrap() as u32);
        let theirs = case["draws"].as_array().unwrap();
        assert_eq!(ours.len(), theirs.len(), "{name}: draws");
        for (i, (point, want)) in ours.iter().zip(theirs).enumerate() {
            for (axis, v) in point {
                let w = value(&want[axis]);
                let same = match (v, &w) {
                    (ParamValue::Float(a), ParamValue::Float(b)) => (a - b).abs() <= 1e-15 * b.abs(),
                    (ParamValue::Float(a), ParamValue::Int(b)) => *a == *b as f64,
                    _ => *v == w,
                };
                assert!(same, "{name}: draw {i}, {axis}: ours {v} vs scikit-learn {w}");
            }
        }
    }
}

/// A random search's trials are fixed by the seed, and a nested CV runs after the sweep:
/// --jobs 1 and 2 and a merged pair of shards give the same report.json (outside `run`).
#[test]
fn random_search_is_identical_for_any_jobs_and_for_shards_merged() {
    let toml = experiment(
        "datasets/diabetes.csv",
        "target",
        "[preprocess]\nscale = \"standard\"\n[split]\nmethod = \"kfold\"\nfolds = 3\n[split.outer]\nmethod = \"kfold\"\nfolds = 3\n\
         [search]\nmethod = \"random\"\nn_trials = 6\n\
         [report]\npermutation_importance = false\n[[model]]\nname = \"en\"\nkind = \"elastic_net\"\n\
         grid.alpha = { loguniform = [0.001, 1] }\ngrid.l1_ratio = [0.2, 0.8]\n",
    );
    let dir = scratch(&[("e.toml", &toml)]);
    let file = dir.path().join("e.toml");
    let run = |name: &str, args: &[&str]| run_ok(&file, dir.path(), name, args);
    let without_run = |dir: &std::path::Path| report_outside_run(dir);
    let one = without_run(&run("one", &["--jobs", "1"]));
    assert_eq!(one["trials"].as_array().unwrap().len(), 6);
    assert_eq!(one["nested"]["folds"].as_array().unwrap().len(), 3);
    assert_eq!(one, without_run(&run("two", &["--jobs", "2"])));
    let parts = [run("s1", &["--shard", "1/2"]), run("s2", &["--shard", "2/2"])];
    let merged = dir.path().join("merged");
    let o = crate::common::runner().arg("merge").args(&parts).arg("--out").arg(&merged).output().unwrap();
    assert!(o.status.success());
    assert_eq!(one, without_run(&merged));
}

/// Nested CV equals `cross_validate(GridSearchCV(...), cv=outer)`: the parameter each outer
/// fold chose, its inner best score and its outer test score (nested.json).
#[test]
fn nested_cross_validation_equals_scikit_learns() {
    let expected = fixture("nested.json");
    let ridge = experiment(
        "datasets/diabetes.csv",
        "target",
        "[preprocess]\nscale = \"standard\"\n[split]\nmethod = \"kfold\"\nfolds = 3\nshuffle = true\n\
         [split.outer]\nmethod = \"kfold\"\nfolds = 5\nshuffle = true\n\
         [[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = { logspace = [-2, 3, 6] }\n",
    );
    let logistic = experiment(
        "datasets/breast_cancer.csv",
        "target",
        "task = \"classification\"\n[preprocess]\nscale = \"standard\"\n\
         [split]\nmethod = \"stratified_kfold\"\nfolds = 3\nshuffle = true\n\
         [split.outer]\nmethod = \"stratified_kfold\"\nfolds = 5\nshuffle = true\n\
         [report]\nmetrics = [\"accuracy\"]\npermutation_importance = false\n\
         [[model]]\nname = \"lr\"\nkind = \"logistic_regression\"\ntol = 1e-10\nmax_iter = 100000\ngrid.c = [0.01, 0.1, 1.0, 10.0]\n",
    );
    for (name, toml, axis, rel) in [("ridge", ridge, "alpha", 1e-9), ("logistic", logistic, "c", 1e-12)] {
        let want = &expected[name];
        let dir = scratch(&[("e.toml", &toml)]);
        let (report, _out) = run_report(&dir.path().join("e.toml"), &[]);
        let folds = report["nested"]["folds"].as_array().unwrap();
        let chosen: Vec<f64> = folds.iter().map(|f| param(&report, &f["chosen"], axis)).collect();
        assert_rel(&chosen, &crate::common::floats(&want["chosen"]), 1e-12, &format!("{name}: chosen {axis}"));
        let field = |k: &str| folds.iter().map(|f| f[k].as_f64().unwrap()).collect::<Vec<f64>>();
        assert_rel(&field("inner_mean"), &crate::common::floats(&want["inner"]), rel, &format!("{name}: inner best"));
        assert_rel(&field("test"), &crate::common::floats(&want["test"]), rel, &format!("{name}: outer test"));
        let mean = crate::common::floats(&want["test"]).iter().sum::<f64>() / 5.0;
        assert_rel(&[report["nested"]["test"]["mean"].as_f64().unwrap()], &[mean], 1e-9, "the estimate");
    }
}

/// Successive halving equals HalvingGridSearchCV (halving.json): the rows and candidates of
/// each round, each round's candidates in evaluation order, and the trial it ends on.
#[test]
fn successive_halving_equals_scikit_learns() {
    let expected = fixture("halving.json");
    let ridge = experiment(
        "datasets/diabetes.csv",
        "target",
        "[preprocess]\nscale = \"standard\"\n[split]\nmethod = \"kfold\"\nfolds = 5\nshuffle = true\n\
         [search]\nmethod = \"halving\"\nfactor = 3\n[report]\npermutation_importance = false\n\
         [[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = { logspace = [-3, 3, 13] }\n",
    );
    let logistic = experiment(
        "datasets/breast_cancer.csv",
        "target",
        "task = \"classification\"\n[preprocess]\nscale = \"standard\"\n\
         [split]\nmethod = \"stratified_kfold\"\nfolds = 3\nshuffle = true\n\
         [search]\nmethod = \"halving\"\nfactor = 2\nmin_resources = \"smallest\"\n\
         [report]\nmetrics = [\"accuracy\"]\npermutation_importance = false\n\
         [[model]]\nname = \"lr\"\nkind = \"logistic_regression\"\ntol = 1e-10\nmax_iter = 100000\ngrid.c = { logspace = [-3, 2, 12] }\n",
    );
    for (name, toml, axis) in [("ridge", ridge, "alpha"), ("logistic", logistic, "c")] {
        let want = &expected[name];
        let dir = scratch(&[("e.toml", &toml)]);
        let (report, _out) = run_report(&dir.path().join("e.toml"), &[]);
        let h = &report["halving"];
        let value = |id: &Value| param(&report, id, axis);
        let rounds = h["rounds"].as_array().unwrap();
        let rows: Vec<u64> = rounds.iter().map(|r| r["rows"].as_u64().unwrap()).collect();
        let counts: Vec<u64> = rounds.iter().map(|r| r["candidates"].as_array().unwrap().len() as u64).collect();
        let as_u64 = |v: &Value| v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect::<Vec<_>>();
        assert_eq!(rows, as_u64(&want["rows"]), "{name}: rows per round");
        assert_eq!(counts, as_u64(&want["candidates"]), "{name}: candidates per round");
        assert_eq!(h["min_resources"], want["min_resources"], "{name}: min_resources");
        for (r, (ours, theirs)) in rounds.iter().zip(want["rounds"].as_array().unwrap()).enumerate() {
            let ours: Vec<f64> = ours["candidates"].as_array().unwrap().iter().map(value).collect();
            assert_rel(&ours, &crate::common::floats(theirs), 1e-12, &format!("{name}: round {r}'s candidates"));
        }
        assert_rel(
            &[value(&report["best"]["trial"])],
            &[want["best"].as_f64().unwrap()],
            1e-12,
            &format!("{name}: best"),
        );
    }
}

/// A halving run is identical for --jobs 1 and 2 and when resumed mid-round from a cut
/// trials.jsonl; --shard is refused with the reason.
#[test]
fn halving_is_identical_for_any_jobs_and_after_a_mid_round_resume() {
    let toml = experiment(
        "datasets/diabetes.csv",
        "target",
        "[preprocess]\nscale = \"standard\"\n[split]\nmethod = \"kfold\"\nfolds = 3\n[search]\nmethod = \"halving\"\n\
         [report]\npermutation_importance = false\n[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = { logspace = [-3, 3, 9] }\n",
    );
    let dir = scratch(&[("e.toml", &toml)]);
    let file = dir.path().join("e.toml");
    let run = |name: &str, args: &[&str]| run_into(&file, dir.path(), name, args);
    let without_run = |dir: &std::path::Path| report_outside_run(dir);
    let (one, o) = run("one", &["--jobs", "1"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let first = without_run(&one);
    let (two, _) = run("two", &["--jobs", "2"]);
    assert_eq!(first, without_run(&two));
    // Keep the header and the first 30 units (27 of round 0 and 3 of round 1), then resume.
    let log = std::fs::read_to_string(one.join("trials.jsonl")).unwrap();
    let cut: Vec<&str> = log.lines().take(31).collect();
    let resumed = dir.path().join("resumed");
    std::fs::create_dir_all(&resumed).unwrap();
    std::fs::write(resumed.join("trials.jsonl"), cut.join("\n") + "\n").unwrap();
    let (_, o) = run("resumed", &["--jobs", "2"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(first, without_run(&resumed));
    let (_, o) = run("shard", &["--shard", "1/2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("successive halving cannot be sharded"));
}
