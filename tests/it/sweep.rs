//! The sweep engine through the binary: determinism across --jobs, shards + merge,
//! resume after kill -9, overrides, and refusing to mix results.

use crate::common::*;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

fn without_run(mut v: Value) -> String {
    v.as_object_mut().unwrap().remove("run");
    serde_json::to_string_pretty(&v).unwrap()
}

fn read_report(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

#[test]
fn reports_are_byte_identical_for_any_jobs() {
    let file = root().join("tests/fixtures/experiments/diabetes_lasso.toml");
    let (one, _a) = run_report(&file, &["--jobs", "1"]);
    let (two, _b) = run_report(&file, &["--jobs", "2"]);
    let (eight, _c) = run_report(&file, &["--jobs", "8"]);
    assert_eq!(without_run(one.clone()), without_run(two));
    assert_eq!(without_run(one), without_run(eight));
}

#[test]
fn three_shards_merged_equal_one_whole_run() {
    let file = root().join("tests/fixtures/experiments/boston_ridge_standard.toml");
    let (whole, _w) = run_report(&file, &[]);
    let parts = tempfile::tempdir().unwrap();
    for i in 1..=3 {
        runner()
            .arg("run")
            .arg(&file)
            .args(["--quiet", "--shard", &format!("{i}/3"), "--out"])
            .arg(parts.path().join(format!("s{i}")))
            .assert()
            .success();
    }
    let out = tempfile::tempdir().unwrap();
    let mut merge = runner();
    merge.arg("merge");
    for i in 1..=3 {
        merge.arg(parts.path().join(format!("s{i}/partial.json")));
    }
    merge.arg("--out").arg(out.path()).assert().success();
    assert_eq!(without_run(whole), without_run(read_report(out.path())));

    // A missing shard and a shard given twice are refused, naming them.
    let bad = runner()
        .arg("merge")
        .arg(parts.path().join("s1"))
        .arg(parts.path().join("s1"))
        .arg("--out")
        .arg(out.path().join("bad"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("shard 1/3 is given twice"), "{stderr}");
    assert!(stderr.contains("shards missing: 2/3, 3/3"), "{stderr}");
}

#[test]
fn a_killed_run_resumes_to_the_same_report() {
    let file = root().join("tests/fixtures/experiments/breast_cancer_long.toml");
    let (whole, _w) = run_report(&file, &["--jobs", "2"]);
    let out = tempfile::tempdir().unwrap();
    let log = out.path().join("trials.jsonl");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("runner"))
        .current_dir(root())
        .env("XDG_CACHE_HOME", test_cache_home())
        .arg("run")
        .arg(&file)
        .args(["--quiet", "--jobs", "2", "--out"])
        .arg(out.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let lines = std::fs::read_to_string(&log).map(|t| t.lines().count()).unwrap_or(0);
        if lines > 10 || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done_before = std::fs::read_to_string(&log).unwrap().lines().count() - 1;
    assert!(done_before < 150, "the run finished before it could be killed");
    let rerun = runner().arg("run").arg(&file).args(["--jobs", "2", "--out"]).arg(out.path()).output().unwrap();
    assert!(rerun.status.success(), "{}", String::from_utf8_lossy(&rerun.stderr));
    assert!(String::from_utf8_lossy(&rerun.stderr).contains("resuming"));
    assert_eq!(without_run(whole), without_run(read_report(out.path())));
}

#[test]
fn overrides_change_the_run_and_are_recorded() {
    let file = root().join("tests/fixtures/experiments/boston_ridge_raw.toml");
    let (r, _d) = run_report(&file, &["--set", "split.folds=3", "--set", "model.ridge.grid.alpha=[1,10]"]);
    assert_eq!(r["split"]["folds"], 3);
    assert_eq!(r["trials"].as_array().unwrap().len(), 2);
    assert_eq!(r["experiment"]["overrides"], serde_json::json!(["split.folds=3", "model.ridge.grid.alpha=[1,10]"]));
    let md = std::fs::read_to_string(_d.path().join("report.md")).unwrap();
    assert!(md.contains("--set split.folds=3"));

    let bad = runner()
        .arg("check")
        .arg(&file)
        .args(["--set", "model.rigde.alpha=1", "--set", "split.folds=1"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("--set model.rigde.alpha=1: no [[model]] named `rigde`, did you mean `ridge`?"),
        "{stderr}"
    );
    assert!(stderr.contains("--set split.folds=1: `folds` in [split] must be between 2"), "{stderr}");
}

#[test]
fn changed_data_is_refused_until_fresh() {
    let dir = scratch(&[
        ("exp.toml", "name = \"t\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n"),
        ("data.csv", "x,y\n1,2.0\n2,4.1\n3,6.2\n4,7.9\n5,10.1\n6,12.0\n7,14.2\n8,15.9\n"),
    ]);
    runner().current_dir(dir.path()).args(["exp.toml", "-q", "--out", "out"]).assert().success();
    std::fs::write(dir.path().join("data.csv"), "x,y\n1,2.0\n2,4.1\n3,6.2\n4,7.9\n5,10.1\n6,12.0\n7,14.2\n8,16.0\n")
        .unwrap();
    let out = runner().current_dir(dir.path()).args(["exp.toml", "-q", "--out", "out"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("holds results of a different experiment or dataset"), "{stderr}");
    assert!(stderr.contains("--fresh"), "{stderr}");
    runner().current_dir(dir.path()).args(["exp.toml", "-q", "--fresh", "--out", "out"]).assert().success();
}

/// Starting units trial by trial (as a run that logs to MLflow does) or fold by fold gives
/// the same records, with steps, warm-start paths, a shard and units already done.
#[test]
fn trial_major_and_fold_major_units_give_the_same_records() {
    use runner::sweep::{run, SweepInput, UnitFilter, UnitOrder};
    use std::collections::HashSet;
    use std::sync::atomic::AtomicBool;
    for file in ["experiments/boston_poly.toml", "tests/fixtures/experiments/diabetes_lasso.toml"] {
        let plan = runner::plan::prepare(&root().join(file), &[]).unwrap_or_else(|e| panic!("{e}"));
        let done: HashSet<(String, usize)> = [(plan.trials[1].id.clone(), 0)].into_iter().collect();
        for shard in [None, Some((2, 3))] {
            let filter = UnitFilter { done: &done, shard };
            let records = |order| {
                let input = SweepInput { order, ..SweepInput::of(&plan) };
                run(&input, 2, &filter, &AtomicBool::new(false), &|_| {}).unwrap()
            };
            let (fold_major, trial_major) = (records(UnitOrder::FoldMajor), records(UnitOrder::TrialMajor));
            assert!(!fold_major.is_empty(), "{file}");
            assert_eq!(fold_major, trial_major, "{file} shard {shard:?}");
        }
    }
}

/// Issue #24: a forest and an HGB experiment (each best trial saved, the default report with
/// its importance and partial dependence) write the same report.json (outside `run`),
/// model.json and predictions.csv for --jobs 1 and 2, after a resume from a log cut short,
/// and for two shards merged.
#[test]
fn forest_and_hgb_outputs_are_identical_for_any_jobs_after_resume_and_for_merged_shards() {
    let kinds = [
        (
            "datasets/iris.csv",
            "classification",
            "kind = \"random_forest\"\nn_estimators = 20\ngrid.max_features = [\"sqrt\", 1.0]",
        ),
        (
            "datasets/diabetes.csv",
            "regression",
            "kind = \"hist_gradient_boosting\"\nmax_iter = 20\ngrid.max_leaf_nodes = [7, 15]",
        ),
    ];
    for (data, task, model) in kinds {
        let toml = format!(
            "name = \"d\"\nseed = 3\n[dataset]\npath = \"{}\"\ntarget = \"target\"\ntask = \"{task}\"\n[split]\nmethod = \"kfold\"\n\
             folds = 3\nshuffle = true\n[[model]]\nname = \"m\"\nrandom_state = 5\n{model}\n",
            root().join(data).display()
        );
        let dir = scratch(&[("e.toml", &toml)]);
        let file = dir.path().join("e.toml");
        let one = run_ok(&file, dir.path(), "one", &["--jobs", "1"]);
        let two = run_ok(&file, dir.path(), "two", &["--jobs", "2"]);
        // A resume that finds three of the six units done.
        let cut = dir.path().join("cut");
        std::fs::create_dir(&cut).unwrap();
        let log = std::fs::read_to_string(one.join("trials.jsonl")).unwrap();
        let kept: Vec<&str> = log.lines().take(4).collect();
        std::fs::write(cut.join("trials.jsonl"), kept.join("\n") + "\n").unwrap();
        run_ok(&file, dir.path(), "cut", &["--jobs", "2", "--resume"]);
        let parts = [
            run_ok(&file, dir.path(), "s1", &["--shard", "1/2"]),
            run_ok(&file, dir.path(), "s2", &["--shard", "2/2"]),
        ];
        let merged = dir.path().join("merged");
        assert!(runner().arg("merge").args(&parts).arg("--out").arg(&merged).output().unwrap().status.success());
        let report = report_outside_run(&one);
        assert!(report["impurity_importance"].is_object() || data.contains("diabetes"), "{data}");
        assert!(report["partial_dependence"].is_object(), "{data}");
        for other in [&two, &cut, &merged] {
            assert_eq!(report, report_outside_run(other), "{data}: {}", other.display());
            for name in ["model.json", "predictions.csv"] {
                let same = std::fs::read(one.join(name)).unwrap() == std::fs::read(other.join(name)).unwrap();
                assert!(same, "{data}: {name} of {} differs", other.display());
            }
        }
    }
}
