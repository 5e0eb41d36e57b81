//! Loading and cleaning through the binary: Parquet and NDJSON, imputation of every kind,
//! dropped rows, `method = "none"`, several experiments in one run, Ctrl-C.

use crate::common::*;
use serde_json::Value;
use std::time::{Duration, Instant};

#[test]
fn parquet_and_ndjson_give_the_csv_results() {
    let file = root().join("tests/fixtures/experiments/iris_multinomial.toml");
    let (csv, _a) = run_report(&file, &["--set", "dataset.path=\"../../../datasets/iris.csv\""]);
    for path in ["../data/iris.parquet", "../data/iris.ndjson"] {
        let (other, _b) = run_report(&file, &["--set", &format!("dataset.path=\"{path}\"")]);
        assert_eq!(other["trials"], csv["trials"], "{path}");
        assert_eq!(other["dataset"]["features"], csv["dataset"]["features"]);
    }
}

#[test]
fn every_imputation_and_dropped_rows_are_reported() {
    let data = "a,b,c,d,kind,y\n\
                1.0,10,5,1,u,1.5\n\
                2.0,,6,2,v,2.5\n\
                ,30,,3,,3.0\n\
                4.0,40,8,,u,\n\
                5.0,50,9,5,v,5.5\n\
                6.0,60,10,6,u,6.0\n\
                7.0,70,11,7,v,7.5\n\
                8.0,80,12,8,u,8.0\n";
    let toml = "name = \"impute\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n\
                [preprocess]\nimpute = \"median\"\n\
                [preprocess.columns.b]\nimpute = \"constant\"\nfill_value = 0\n\
                [preprocess.columns.c]\nimpute = \"interpolate\"\n\
                [preprocess.columns.d]\nimpute = \"drop\"\n\
                [preprocess.columns.kind]\nimpute = \"mode\"\n\
                [split]\nmethod = \"none\"\n\
                [[model]]\nname = \"r\"\nkind = \"ridge\"\nalpha = 0.1\n";
    let dir = scratch(&[("exp.toml", toml), ("data.csv", data)]);
    runner().current_dir(dir.path()).args(["exp.toml", "-q", "--out", "out"]).assert().success();
    let r: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/report.json")).unwrap()).unwrap();
    let d = &r["dataset"];
    assert_eq!(d["rows"], 8);
    assert_eq!(d["rows_dropped_missing_target"], 1, "the row with no y");
    assert_eq!(d["rows_dropped_missing_features"], 0, "the row missing d also had no y");
    assert_eq!(d["rows_used"], 7);
    let missing: Vec<(String, u64, String)> = d["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (c["name"].as_str().unwrap().into(), c["missing"].as_u64().unwrap(), c["impute"].as_str().unwrap().into())
        })
        .collect();
    assert_eq!(
        missing,
        vec![
            ("a".into(), 1, "median".into()),
            ("b".into(), 1, "constant".into()),
            ("c".into(), 1, "interpolate".into()),
            ("d".into(), 0, "drop".into()),
            ("kind".into(), 1, "mode".into()),
        ]
    );
    assert_eq!(d["features"], serde_json::json!(["a", "b", "c", "d", "kind_u", "kind_v"]));
    assert_eq!(r["split"]["trains_on_test_rows"], true);
    assert_eq!(trial(&r, "r")["status"], "ok");
    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(md.contains("trains and tests on all rows"));
    assert!(md.contains("| c | 1 | interpolate |"), "{md}");
}

#[test]
fn several_experiments_run_in_one_invocation() {
    let out = tempfile::tempdir().unwrap();
    runner()
        .args(["experiments/boston.toml", "experiments/iris.toml", "--quiet", "--out"])
        .arg(out.path())
        .assert()
        .success();
    assert!(out.path().join("boston-linear/report.json").exists());
    assert!(out.path().join("iris-multinomial/report.json").exists());
}

#[test]
fn ctrl_c_keeps_finished_units_and_says_how_to_resume() {
    let file = root().join("tests/fixtures/experiments/breast_cancer_long.toml");
    let out = tempfile::tempdir().unwrap();
    let log = out.path().join("trials.jsonl");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("runner"))
        .current_dir(root())
        .env("XDG_CACHE_HOME", test_cache_home())
        .arg("run")
        .arg(&file)
        .args(["--quiet", "--jobs", "1", "--out"])
        .arg(out.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_to_string(&log).map(|t| t.lines().count()).unwrap_or(0) < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted:") && stderr.contains("run the same command again to resume"), "{stderr}");
    assert!(!out.path().join("report.json").exists(), "an interrupted run writes no report");
    runner().arg("run").arg(&file).args(["--quiet", "--out"]).arg(out.path()).assert().success();
}
