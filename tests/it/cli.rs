//! The command line: check, models, default command, report files, determinism.

use crate::common::*;

#[test]
fn check_prints_the_plan_and_trains_nothing() {
    let out = tempfile::tempdir().unwrap();
    let assert = runner()
        .args(["check", "tests/fixtures/experiments/boston_ridge_raw.toml"])
        .current_dir(root())
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(stdout.contains("5 trial(s) × 5 fold(s) = 25 unit(s)"), "{stdout}");
    assert!(stdout.contains("ridge (ridge): 5 trial(s) over alpha (5 values)"), "{stdout}");
    assert!(!out.path().join("report.json").exists());
}

#[test]
fn models_lists_every_kind_with_ranges() {
    let assert = runner().arg("models").assert().success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    for kind in ["linear_regression", "ridge", "lasso", "elastic_net", "logistic_regression"] {
        assert!(stdout.contains(kind), "{kind} missing from:\n{stdout}");
    }
    assert!(stdout.contains("float in [0, inf)"));
}

#[test]
fn reports_are_written_and_reruns_are_identical_outside_run() {
    let file = root().join("tests/fixtures/experiments/iris_multinomial.toml");
    let (mut a, dir) = run_report(&file, &["--jobs", "1"]);
    let (mut b, _dir2) = run_report(&file, &["--jobs", "2"]);
    a.as_object_mut().unwrap().remove("run");
    b.as_object_mut().unwrap().remove("run");
    assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    for section in
        ["## Dataset", "## Leaderboard", "## Models", "## Best model", "Confusion matrix", "## Reproducibility"]
    {
        assert!(md.contains(section), "report.md lacks {section}");
    }
    assert_eq!(a["dataset"]["sha256"], "7e4e13e60d330d83ae5309b440eb5ececb4b779e925cc621d8f347b1e14eeca3");
    assert_eq!(a["best"]["trial"], "logreg[c=10]");
}

#[test]
fn resume_without_a_log_is_an_error() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("r");
    let assert =
        runner().args(["run", "experiments/boston.toml", "--quiet", "--resume", "--out"]).arg(&dir).assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("nothing to resume"), "{stderr}");
    runner().args(["run", "experiments/boston.toml", "--quiet", "--out"]).arg(&dir).assert().success();
    runner().args(["run", "experiments/boston.toml", "--quiet", "--resume", "--out"]).arg(&dir).assert().success();
}

#[test]
fn completions_and_man_page_are_generated() {
    for (shell, needle) in [("bash", "_runner()"), ("zsh", "#compdef runner"), ("fish", "complete -c runner")] {
        let out = runner().args(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(needle) && text.contains("predict"), "{shell}: {text}");
    }
    let out = runner().arg("man").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(".TH runner 1") && text.contains("predict"), "{text}");
    assert_eq!(runner().args(["completions", "tcsh"]).output().unwrap().status.code(), Some(2));
}

/// `runner init` on every dataset in datasets/: the file it writes passes `runner check` and
/// runs; the task and split follow the data; bad input is refused.
#[test]
fn init_writes_an_experiment_that_checks_and_runs_for_every_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("boston", "MEDV", "regression"),
        ("breast_cancer", "target", "classification"),
        ("circles", "ring", "classification"),
        ("diabetes", "target", "regression"),
        ("iris", "target", "classification"),
        ("penguins", "species", "classification"),
        ("wine", "target", "classification"),
    ];
    for (name, target, task) in cases {
        let data = root().join("datasets").join(format!("{name}.csv"));
        let file = dir.path().join(format!("{name}.toml"));
        let out = runner().arg("init").arg(&data).args(["--target", target, "--out"]).arg(&file).output().unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(&format!("task = \"{task}\"")), "{name}: {text}");
        // Issue #24: a forest and gradient boosting among the starting models.
        for kind in ["random_forest", "hist_gradient_boosting"] {
            assert!(text.contains(&format!("kind = \"{kind}\"")), "{name}: {text}");
        }
        let check = runner().arg("check").arg(&file).output().unwrap();
        assert!(check.status.success(), "{name}: {}", String::from_utf8_lossy(&check.stderr));
        let run = runner()
            .arg("run")
            .arg(&file)
            .args(["-q", "--set", "report.permutation_importance=false", "--set", "report.formats=[\"json\"]", "--out"])
            .arg(dir.path().join(format!("out-{name}")))
            .output()
            .unwrap();
        assert!(run.status.success(), "{name}: {}", String::from_utf8_lossy(&run.stderr));
    }
    let penguins = std::fs::read_to_string(dir.path().join("penguins.toml")).unwrap();
    assert!(penguins.contains("impute = \"mode\"") && penguins.contains("stratified_kfold"), "{penguins}");
    // A typo'd target, and an existing --out, are refused (exit 2).
    let data = root().join("datasets/iris.csv");
    let typo = runner().arg("init").arg(&data).args(["--target", "traget"]).output().unwrap();
    assert_eq!(typo.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&typo.stderr).contains("did you mean `target`"));
    let again = runner()
        .arg("init")
        .arg(&data)
        .args(["--target", "target", "--out"])
        .arg(dir.path().join("iris.toml"))
        .output();
    assert_eq!(again.unwrap().status.code(), Some(2));
}

/// The committed schema is what `runner schema` prints; every example validates against
/// it, and a typo'd key or a wrongly typed value does not.
#[test]
fn the_schema_is_current_and_validates_the_examples() {
    let out = runner().arg("schema").output().unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    let committed = std::fs::read_to_string(root().join("docs/experiment.schema.json")).unwrap();
    assert!(
        printed == committed,
        "docs/experiment.schema.json is stale: run `runner schema > docs/experiment.schema.json`"
    );
    let schema: serde_json::Value = serde_json::from_str(&committed).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let as_json = |text: &str| -> serde_json::Value { toml::from_str(text).unwrap() };
    let mut files: Vec<_> = std::fs::read_dir(root().join("experiments")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 15);
    for f in &files {
        let doc = as_json(&std::fs::read_to_string(f).unwrap());
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", f.display());
    }
    let base = "name = \"t\"\n[dataset]\npath = \"d.csv\"\ntarget = \"y\"\n";
    for bad in [
        format!("{base}[[model]]\nname = \"r\"\nkind = \"ridge\"\nalpah = 1.0\n"),
        format!("{base}[[model]]\nname = \"r\"\nkind = \"ridge\"\nalpha = \"big\"\n"),
        format!(
            "{base}[split]\nmethod = \"kfold\"\nfodls = 3\n[[model]]\nname = \"o\"\nkind = \"linear_regression\"\n"
        ),
        format!("seed = \"x\"\n{base}[[model]]\nname = \"o\"\nkind = \"linear_regression\"\n"),
    ] {
        assert!(!validator.is_valid(&as_json(&bad)), "accepted:\n{bad}");
    }
}

/// Every example in experiments/ passes `runner check`'s checks (config and data, the plan
/// built), beyond the schema's shape: a new example is covered by being in the folder.
#[test]
fn every_example_experiment_plans() {
    let mut files: Vec<_> = std::fs::read_dir(root().join("experiments")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for kind in ["forest", "hgb"] {
        assert!(files.iter().any(|f| f.to_string_lossy().ends_with(&format!("_{kind}.toml"))), "no *_{kind}.toml");
    }
    for f in &files {
        if let Err(e) = runner::plan::prepare(f, &[]) {
            panic!("{}: {e:?}", f.display());
        }
    }
}

/// Piped output has no colour codes (colour is for terminals only, and never with NO_COLOR).
#[test]
fn piped_output_is_plain_text() {
    let out = tempfile::tempdir().unwrap();
    let run = runner().args(["run", "experiments/boston.toml", "--quiet", "--out"]).arg(out.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("best: ols, test mse 21.51744423117"), "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "escape codes in piped output: {stdout:?}");
}
