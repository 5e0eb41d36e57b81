//! Issue #11 through the binary: results are never mixed or silently lost.

use crate::common::*;
use serde_json::Value;
use std::path::Path;

/// The report without what may differ between runs of the same experiment: timings, and the
/// experiment file as it was named on the command line.
fn without_run(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("run");
    v["experiment"].as_object_mut().unwrap().remove("file");
    v
}

fn report_at(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

const EXP: &str = "tests/fixtures/experiments/diabetes_lasso.toml";

#[test]
fn corrupt_and_torn_log_lines_are_dropped_and_their_units_rerun() {
    let (whole, _w) = run_report(&root().join(EXP), &[]);
    let out = tempfile::tempdir().unwrap();
    runner().args(["run", EXP, "--quiet", "--out"]).arg(out.path()).assert().success();
    let log = out.path().join("trials.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // A record of a fold that does not exist, one of an unknown trial, a duplicate, and a
    // last line torn inside a UTF-8 character.
    let mut bad_fold: Value = serde_json::from_str(&lines[1]).unwrap();
    bad_fold["fold"] = Value::from(7);
    let mut unknown: Value = serde_json::from_str(&lines[2]).unwrap();
    unknown["trial"] = Value::from("nope[alpha=1]");
    let dropped = lines.remove(3);
    lines.push(bad_fold.to_string());
    lines.push(unknown.to_string());
    lines.push(lines[1].clone());
    let mut bytes = (lines.join("\n") + "\n").into_bytes();
    bytes.extend_from_slice(&dropped.as_bytes()[..20]);
    bytes.extend_from_slice("é".as_bytes().split_at(1).0);
    std::fs::write(&log, bytes).unwrap();
    let rerun = runner().args(["run", EXP, "--quiet", "--out"]).arg(out.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&rerun.stderr);
    assert!(rerun.status.success(), "{stderr}");
    for e in ["fold 8 of 5", "`nope[alpha=1]` is not in this experiment", "recorded twice", "torn last line"] {
        assert!(stderr.contains(e), "expected `{e}` in {stderr}");
    }
    assert_eq!(without_run(whole), without_run(report_at(out.path())));
    // The log was rewritten clean: every line is a whole record of this experiment.
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.ends_with('\n') && !text.contains("nope["), "{text}");
}

#[test]
fn a_second_run_on_the_same_folder_is_refused_while_the_first_holds_it() {
    let out = tempfile::tempdir().unwrap();
    // Hold the lock the way a running runner does.
    std::fs::write(out.path().join(".runner.lock"), "4242").unwrap();
    let held = std::fs::OpenOptions::new().write(true).open(out.path().join(".runner.lock")).unwrap();
    held.try_lock().unwrap();
    let second = runner().args(["run", EXP, "--quiet", "--out"]).arg(out.path()).output().unwrap();
    assert_eq!(second.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("being written by another runner (pid 4242)"), "{stderr}");
    // Once the holder is gone (a killed run included), the folder is free again.
    drop(held);
    runner().args(["run", EXP, "--quiet", "--out"]).arg(out.path()).assert().success();
}

/// A lock path that is a symbolic link, a folder or a hard link is refused: a run never writes
/// (or truncates) through it, and the linked file keeps its content.
#[cfg(unix)]
#[test]
fn a_lock_path_that_is_not_a_plain_file_is_refused_and_its_target_survives() {
    let out = tempfile::tempdir().unwrap();
    let precious = out.path().join("precious.txt");
    std::fs::write(&precious, "keep me").unwrap();
    let lock = out.path().join(".runner.lock");
    std::os::unix::fs::symlink(&precious, &lock).unwrap();
    let refused = |what: &str| {
        let output = runner().args(["run", EXP, "--quiet", "--out"]).arg(out.path()).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(".runner.lock") && stderr.contains(what), "{stderr}");
        assert!(!out.path().join("report.json").exists());
    };
    refused("is not a regular file");
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me");
    std::fs::remove_file(&lock).unwrap();
    std::fs::hard_link(&precious, &lock).unwrap();
    refused("hard links");
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me");
    std::fs::remove_file(&lock).unwrap();
    std::fs::create_dir(&lock).unwrap();
    refused("is not a regular file");
}

#[test]
fn leftover_temporary_files_are_removed() {
    let out = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(out.path().join("plots")).unwrap();
    std::fs::write(out.path().join("report.json.tmp"), "torn").unwrap();
    std::fs::write(out.path().join("plots/loss_x.svg.tmp"), "torn").unwrap();
    runner().args(["run", EXP, "--quiet", "--out"]).arg(out.path()).assert().success();
    assert!(!out.path().join("report.json.tmp").exists());
    assert!(!out.path().join("plots/loss_x.svg.tmp").exists());
}

/// A full disk, simulated by a file-size limit: the failed append is an error (exit 2) that
/// says what was kept, and once there is room the same command resumes to the whole report.
#[cfg(unix)]
#[test]
fn a_failed_log_write_is_an_error_and_the_run_resumes_after() {
    use std::os::unix::process::CommandExt;
    let (whole, _w) = run_report(&root().join(EXP), &[]);
    let out = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("runner");
    let mut cmd = std::process::Command::new(&bin);
    // No cache: the file size limit is for trials.jsonl.
    cmd.current_dir(root()).args(["run", EXP, "--quiet", "--no-cache", "--jobs", "1", "--out"]).arg(out.path());
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit { rlim_cur: 6000, rlim_max: 6000 };
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
            Ok(())
        });
    }
    let failed = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot append to") && stderr.contains("run the same command again to resume"), "{stderr}");
    assert!(!out.path().join("report.json").exists());
    runner().args(["run", EXP, "--quiet", "--out"]).arg(out.path()).assert().success();
    assert_eq!(without_run(whole), without_run(report_at(out.path())));
}

#[test]
fn merge_refuses_a_unit_the_experiment_does_not_have() {
    let parts = tempfile::tempdir().unwrap();
    for i in 1..=2 {
        runner()
            .args(["run", EXP, "--quiet", "--shard", &format!("{i}/2"), "--out"])
            .arg(parts.path().join(format!("s{i}")))
            .assert()
            .success();
    }
    let p1 = parts.path().join("s1/partial.json");
    let mut part: Value = serde_json::from_str(&std::fs::read_to_string(&p1).unwrap()).unwrap();
    part["units"][0]["fold"] = Value::from(9);
    std::fs::write(&p1, part.to_string()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let merged =
        runner().arg("merge").arg(&p1).arg(parts.path().join("s2")).arg("--out").arg(out.path()).output().unwrap();
    assert_eq!(merged.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&merged.stderr).contains("fold 10 of 5"));
    // Another schema version, or one that is not a number, is refused by name.
    for (version, wanted) in [(Value::from(2), "schema version 2"), (Value::from("1"), "must be a whole number")] {
        part["schema_version"] = version;
        std::fs::write(&p1, part.to_string()).unwrap();
        let merged =
            runner().arg("merge").arg(&p1).arg(parts.path().join("s2")).arg("--out").arg(out.path()).output().unwrap();
        let stderr = String::from_utf8_lossy(&merged.stderr);
        assert_eq!(merged.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(wanted) && stderr.contains("partial.json"), "{stderr}");
    }
}

#[test]
fn compare_refuses_what_it_cannot_compare() {
    let dir = scratch(&[
        ("empty.json", "{\"rank_by\": \"mse\", \"trials\": []}"),
        ("a.json", "{\"rank_by\": \"mse\", \"trials\": [{\"id\": \"t\", \"status\": \"ok\", \"test\": {\"mse\": {\"mean\": 1.0}}}]}"),
        ("b.json", "{\"rank_by\": \"mse\", \"trials\": [{\"id\": \"t\", \"status\": \"ok\", \"test\": {\"mse\": {\"mean\": \"abc\"}}}]}"),
    ]);
    let run = |a: &str, b: &str| runner().current_dir(dir.path()).args(["compare", a, b]).output().unwrap();
    let empty = run("empty.json", "a.json");
    assert_eq!(empty.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("nothing to compare"));
    let garbled = run("a.json", "b.json");
    assert_eq!(garbled.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&garbled.stderr).contains("\"abc\", which is not a number"));
}

/// `runner compare … | head -1`: a closed stdout ends the program quietly.
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_quietly() {
    let bin = assert_cmd::cargo::cargo_bin("runner");
    let out = std::process::Command::new("sh")
        .current_dir(root())
        .arg("-c")
        .arg(format!("'{}' models | head -c 1 > /dev/null", bin.display()))
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// r2 on a one-row test part is undefined (NaN in scikit-learn): null, with the reason noted.
#[test]
fn undefined_metrics_are_null_with_a_reason() {
    let toml = "name = \"t\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[split]\ntest_size = 1\n\
                [report]\nmetrics = [\"mse\", \"r2\"]\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n";
    let dir = scratch(&[("exp.toml", toml), ("data.csv", "x,y\n1,2.5\n2,3.5\n3,5.5\n4,4.5\n5,6.5\n")]);
    let (report, _out) = run_report(&dir.path().join("exp.toml"), &[]);
    let t = &report["trials"][0];
    assert_eq!(t["status"], "ok");
    assert!(t["test"]["r2"]["folds"][0].is_null(), "{t}");
    assert!(t["notes"][0].as_str().unwrap().contains("test r2 is undefined"), "{t}");
}

/// logistic_gd with a learning rate of 1e10: judged against the loss before the first step.
#[test]
fn an_exploding_classifier_is_diverged() {
    let toml = "name = \"t\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[[model]]\nname = \"g\"\nkind = \"logistic_gd\"\nlearning_rate = 1e10\n";
    let csv = "x1,x2,y\n1,5,a\n2,3,b\n3,8,a\n4,1,b\n5,2,a\n6,9,b\n7,4,a\n8,7,b\n";
    let dir = scratch(&[("exp.toml", toml), ("data.csv", csv)]);
    let out = runner().current_dir(dir.path()).args(["run", "exp.toml", "--quiet", "--out", "out"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/report.json")).unwrap()).unwrap();
    assert_eq!(report["trials"][0]["status"], "diverged", "{report}");
}

/// A categorical column of thousands of levels is warned about before anything runs.
#[test]
fn a_very_wide_one_hot_is_warned_about() {
    let mut csv = String::from("c,y\n");
    for i in 0..1200 {
        csv.push_str(&format!("level{i},{}.5\n", i % 7));
    }
    let toml =
        "name = \"t\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[[model]]\nname = \"r\"\nkind = \"ridge\"\n";
    let dir = scratch(&[("exp.toml", toml), ("data.csv", &csv)]);
    let out = runner().current_dir(dir.path()).args(["check", "exp.toml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("column `c` has 1200 categories"));
}

/// x and x² of large x (NIST Pontius) are badly scaled, not dependent: the note says so and
/// what to do, on the terminal too; a copied column is dependent; scaled, neither is noted.
#[test]
fn ill_conditioned_columns_are_not_called_dependent_and_the_warning_reaches_the_terminal() {
    let mut csv = String::from("x,x2,twice,y\n");
    for i in 0..40 {
        let x = 150000.0 * f64::from(i % 20 + 1);
        let y = 6.7e-4 + 7.3e-7 * x - 3.2e-15 * x * x + (f64::from(i)).sin() * 1e-4;
        csv.push_str(&format!("{x},{},{},{y}\n", x * x, 2.0 * x));
    }
    let run = |features: &str, preprocess: &str| {
        let toml = format!(
            "name = \"p\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\nfeatures = {features}\n{preprocess}\
             [split]\nmethod = \"none\"\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n"
        );
        let dir = scratch(&[("e.toml", &toml), ("data.csv", &csv)]);
        let out = runner().current_dir(dir.path()).args(["run", "e.toml", "-q", "--out", "out"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let badly_scaled = run("[\"x\", \"x2\"]", "");
    for w in ["warning: trial `ols`", "ill-conditioned, not rank-deficient", "scale the features", "set tol = 0"] {
        assert!(badly_scaled.contains(w), "`{w}` not in {badly_scaled}");
    }
    assert!(!badly_scaled.contains("linearly dependent"), "{badly_scaled}");
    let copied = run("[\"x\", \"twice\"]", "");
    assert!(copied.contains("columns x, twice are linearly dependent"), "{copied}");
    let scaled = run("[\"x\", \"x2\"]", "[preprocess]\nscale = \"standard\"\n");
    assert!(!scaled.contains("warning"), "{scaled}");
}

/// A sweep of thousands of trials keeps report.md, report.html and the plots small: the
/// tables show the top rows and say how many are not shown; report.json has every trial.
#[test]
fn reports_of_big_sweeps_stay_bounded() {
    let toml =
        "name = \"big\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[split]\nmethod = \"kfold\"\nfolds = 2\n\
                [report]\npermutation_importance = false\n\
                [[model]]\nname = \"r\"\nkind = \"lasso\"\ngrid.alpha = { logspace = [-3, 1, 60] }\n\
                grid.tol = { logspace = [-6, -2, 50] }\n";
    let data = "x1,x2,y\n1.0,2.0,3.5\n2.0,1.0,4.0\n3.0,4.0,7.5\n4.0,3.0,7.0\n5.0,6.0,11.5\n6.0,5.0,11.0\n";
    let dir = scratch(&[("e.toml", toml), ("data.csv", data)]);
    let out = run_ok(&dir.path().join("e.toml"), dir.path(), "out", &[]);
    let report = report_at(&out);
    assert_eq!(report["trials"].as_array().unwrap().len(), 3000);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("2950 more not shown: the first 50 of 3000 ranked trials"), "{md}");
    assert!(md.contains("2950 more not shown: the first 50 of 3000 grid points of this model"), "{md}");
    assert!(md.len() < 100_000, "report.md has {} bytes", md.len());
    let html = std::fs::metadata(out.join("report.html")).unwrap().len();
    assert!(html < 1_000_000, "report.html has {html} bytes");
    for plot in std::fs::read_dir(out.join("plots")).unwrap() {
        let plot = plot.unwrap();
        let size = plot.metadata().unwrap().len();
        assert!(size < 400_000, "{:?} has {size} bytes", plot.file_name());
    }
}

/// `RUNNER_TEST_PANIC=<stage>` makes that stage's trainer panic: the run still finishes (exit 0),
/// writes every report file, and the stage's result is missing. Returns the report.json and report.md text.
fn run_with_panic(file: &Path, stage: &str, files: &[&str]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = runner()
        .arg("run")
        .arg(file)
        .arg("-q")
        .arg("--out")
        .arg(&out)
        .env("RUNNER_TEST_PANIC", stage)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{stage}: {}", String::from_utf8_lossy(&o.stderr));
    for f in files {
        assert!(out.join(f).exists(), "{stage}: no {f}");
    }
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap();
    (read("report.json"), read("report.md"))
}

const REPORT_FILES: [&str; 5] = ["report.json", "report.md", "report.html", "predictions.csv", "trials.jsonl"];

#[test]
fn a_trainer_panic_in_the_refit_is_recorded_and_the_run_finishes() {
    let file = root().join("experiments/boston_learning.toml");
    let (json, md) = run_with_panic(&file, "refit", &REPORT_FILES);
    let reason = "internal error in the trainer: test panic in the refit";
    let report: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["refit"]["error"], reason, "{}", report["refit"]);
    assert!(md.contains(reason));
}

#[test]
fn a_trainer_panic_in_nested_cv_is_an_outer_folds_recorded_failure() {
    let file = root().join("experiments/diabetes_nested.toml");
    let (json, _) = run_with_panic(&file, "nested", &REPORT_FILES);
    let report: Value = serde_json::from_str(&json).unwrap();
    let folds = report["nested"]["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 5);
    for f in folds {
        assert_eq!(f["reason"], "internal error in the trainer: test panic in the nested", "{f}");
    }
}

#[test]
fn a_trainer_panic_in_a_learning_curve_empties_its_points_and_records_why() {
    let file = root().join("experiments/boston_learning.toml");
    let (json, md) = run_with_panic(&file, "learning", &REPORT_FILES);
    let report: Value = serde_json::from_str(&json).unwrap();
    let test = &report["learning_curve"]["test"];
    let points = test.as_array().unwrap().iter().flat_map(|s| s["folds"].as_array().unwrap().iter());
    assert!(points.clone().count() == 25 && points.clone().all(Value::is_null), "{test}");
    let reason = "internal error in the trainer: test panic in the learning";
    assert_eq!(report["learning_curve"]["failures"], serde_json::json!([reason]));
    assert!(md.contains(reason));
}

#[test]
fn a_trainer_panic_in_the_explanation_leaves_it_out_with_its_reason() {
    let data = root().join("datasets/wine.csv");
    // Halving's subsampled rounds keep no fold models, so the explanation refits them.
    let text = format!(
        "name = \"tree\"\n[dataset]\npath = {:?}\ntarget = \"target\"\n[split]\nmethod = \"kfold\"\nfolds = 3\n\
         [search]\nmethod = \"halving\"\n[[model]]\nname = \"tree\"\nkind = \"decision_tree\"\n",
        data.to_str().unwrap()
    );
    let dir = scratch(&[("tree.toml", &text)]);
    // Out-of-fold predictions need the same fits: no predictions.csv.
    let files = ["report.json", "report.md", "report.html", "model.json", "trials.jsonl"];
    let (json, md) = run_with_panic(&dir.path().join("tree.toml"), "explain", &files);
    let report: Value = serde_json::from_str(&json).unwrap();
    assert!(report["explanation"].is_null(), "{}", report["explanation"]);
    let reason = "internal error in the trainer: test panic in the explain";
    assert_eq!(report["explanation_error"], reason);
    assert!(md.contains(reason));
    assert_eq!(report["trials"][0]["status"], "ok");
}

#[test]
fn a_trainer_panic_in_every_sweep_unit_fails_each_and_exits_1_with_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let file = root().join("experiments/diabetes_halving.toml");
    let o = runner().arg("run").arg(&file).arg("-q").arg("--out").arg(&out).env("RUNNER_TEST_PANIC", "sweep").output();
    let o = o.unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let report = report_outside_run(&out);
    let trials = report["trials"].as_array().unwrap();
    assert!(trials.iter().all(|t| t["status"] == "failed"), "{trials:?}");
    assert!(std::fs::read_to_string(out.join("trials.jsonl")).unwrap().contains("test panic in the sweep"));
    assert!(out.join("report.md").exists() && out.join("report.html").exists());
}
