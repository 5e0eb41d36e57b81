//! Bad input: each case gives a precise message and exit 2 before training, or a trial
//! failure recorded in the report. None panics.

use crate::common::*;

const SMALL: &str = "x1,x2,y\n1.0,2.0,3.5\n2.0,1.0,4.0\n3.0,4.0,7.5\n4.0,3.0,7.0\n5.0,6.0,11.5\n6.0,5.0,11.0\n";

struct Case {
    name: &'static str,
    toml: &'static str,
    /// Extra files beside the experiment (name, contents); `data.csv` defaults to SMALL.
    files: &'static [(&'static str, &'static str)],
    code: i32,
    expect: &'static [&'static str],
}

const HEAD: &str = "name = \"t\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n";
const MODEL: &str = "[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n";

fn cases() -> Vec<Case> {
    vec![
        Case { name: "malformed toml", toml: "name = \"t\n[dataset]\n", files: &[], code: 2, expect: &["exp.toml:1:10", "invalid TOML"] },
        Case {
            name: "unknown top-level key",
            toml: "\x00no-head\x00name = \"t\"\nsede = 1\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n",
            files: &[],
            code: 2,
            expect: &["exp.toml:2:1", "unknown key `sede` in the top level", "did you mean `seed`?"],
        },
        Case {
            name: "misspelt model parameter",
            toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\nalpah = 1.0\n",
            files: &[],
            code: 2,
            expect: &["exp.toml:8:1", "unknown key `alpah` in [[model]] `r`", "did you mean `alpha`?"],
        },
        Case {
            name: "wrong type",
            toml: "\x00no-head\x00name = \"t\"\nseed = \"x\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n",
            files: &[],
            code: 2,
            expect: &["exp.toml:2:8", "`seed`", "must be an integer, found a string"],
        },
        Case {
            name: "missing dataset file",
            toml: "name = \"t\"\n[dataset]\npath = \"nope.csv\"\ntarget = \"y\"\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n",
            files: &[],
            code: 2,
            expect: &["exp.toml:3:8", "nope.csv", "does not exist"],
        },
        Case {
            name: "missing target column",
            toml: "name = \"t\"\n[dataset]\npath = \"data.csv\"\ntarget = \"yy\"\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n",
            files: &[],
            code: 2,
            expect: &["exp.toml:4:10", "target `yy` is not a column", "did you mean `y`?"],
        },
        Case {
            name: "non-numeric cell",
            toml: "",
            files: &[("data.csv", "x1,x2,y\n1.0,2.0,3.5\n2.0,abc,4.0\n3.0,4.0,7.5\n4.0,3.0,7.0\n")],
            code: 2,
            expect: &["column `x2`", "row 2 (line 3 of the file)", "`abc` is not a number"],
        },
        Case {
            name: "infinite value",
            toml: "",
            files: &[("data.csv", "x1,x2,y\n1.0,2.0,3.5\n2.0,1.0,inf\n3.0,4.0,7.5\n4.0,3.0,7.0\n")],
            code: 2,
            expect: &["column `y`, row 2 (line 3 of the file): inf is not a finite number"],
        },
        Case {
            name: "infinite parameter",
            toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\nalpha = inf\n",
            files: &[],
            code: 2,
            expect: &["exp.toml:8:9", "inf is out of range"],
        },
        Case { name: "empty file", toml: "", files: &[("data.csv", "")], code: 2, expect: &["data.csv", "is empty"] },
        Case { name: "header only", toml: "", files: &[("data.csv", "x1,x2,y\n")], code: 2, expect: &["has a header but no data rows"] },
        Case {
            name: "more folds than rows",
            toml: "[split]\nmethod = \"kfold\"\nfolds = 10\n",
            files: &[],
            code: 2,
            expect: &["exp.toml:7:9", "10 folds need at least 10 rows", "has 6"],
        },
        Case {
            name: "test_size out of range",
            toml: "[split]\ntest_size = 1.5\n",
            files: &[],
            code: 2,
            expect: &["exp.toml:6:13", "fraction strictly between 0 and 1", "1.5"],
        },
        Case {
            name: "duplicate model names",
            toml: "[[model]]\nname = \"ols\"\nkind = \"ridge\"\n",
            files: &[],
            code: 2,
            expect: &["exp.toml:9:8", "duplicate model name `ols`", "line 6"],
        },
        Case {
            name: "unknown model kind",
            toml: "[[model]]\nname = \"r\"\nkind = \"rigde\"\n",
            files: &[],
            code: 2,
            expect: &["exp.toml:7:8", "unknown model kind `rigde`", "did you mean `ridge`?"],
        },
        Case {
            name: "missing value without imputation",
            toml: "",
            files: &[("data.csv", "x1,x2,y\n1.0,2.0,3.5\n2.0,,4.0\n3.0,4.0,7.5\n4.0,3.0,7.0\n")],
            code: 2,
            expect: &["column `x2` has a missing value at row 2 (line 3 of the file)", "impute"],
        },
        Case {
            name: "negative regularization",
            toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = [1, -2]\n",
            files: &[],
            code: 2,
            expect: &["exp.toml:8:18", "-2 is out of range"],
        },
        Case {
            name: "classifier on a regression task",
            toml: "[[model]]\nname = \"lr\"\nkind = \"logistic_regression\"\n",
            files: &[],
            code: 2,
            expect: &["exp.toml:7:8", "model `lr` (kind logistic_regression) is a classifier", "regression"],
        },
        Case {
            name: "unknown split method",
            toml: "[split]\nmethod = \"kfodl\"\n",
            files: &[],
            code: 2,
            expect: &["exp.toml:6:10", "`kfodl` is not", "did you mean `kfold`?"],
        },
        Case {
            name: "key of another split method",
            toml: "[split]\nmethod = \"holdout\"\nfolds = 3\n",
            files: &[],
            code: 2,
            expect: &["exp.toml:7:1", "`folds` in [split] does not apply to method = \"holdout\""],
        },
        Case {
            name: "unknown metric",
            toml: "[report]\nmetrics = [\"mse\", \"rmes\"]\n",
            files: &[],
            code: 2,
            expect: &["unknown metric `rmes`", "did you mean `rmse`?"],
        },
        Case {
            name: "integer target without a task",
            toml: "",
            files: &[("data.csv", "x1,x2,y\n1.0,2.0,3\n2.0,1.0,4\n3.0,4.0,7\n4.0,3.0,7\n")],
            code: 2,
            expect: &["exp.toml:4:10", "target `y` holds integers", "task = \"classification\""],
        },
        Case {
            name: "empty grid axis",
            toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = []\n",
            files: &[],
            code: 2,
            expect: &["exp.toml:8:14", "`grid.alpha`", "is empty"],
        },
        Case {
            name: "malformed logspace",
            toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = { logspace = [1, 2] }\n",
            files: &[],
            code: 2,
            expect: &["`grid.alpha.logspace`", "array of three numbers"],
        },
        Case {
            name: "unknown grid parameter",
            toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.aplha = [1]\n",
            files: &[],
            code: 2,
            expect: &["exp.toml:8:6", "unknown parameter `aplha`", "did you mean `alpha`?"],
        },
        Case {
            name: "missing name",
            toml: "\x00no-head\x00[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n",
            files: &[],
            code: 2,
            expect: &["missing the required key `name`"],
        },
        Case {
            name: "constant imputation without a fill value",
            toml: "[preprocess]\nimpute = \"constant\"\n",
            files: &[],
            code: 2,
            expect: &["exp.toml:6:10", "needs a `fill_value`"],
        },
        Case {
            name: "stratified split of a regression target",
            toml: "[split]\nmethod = \"stratified_kfold\"\nfolds = 2\n",
            files: &[],
            code: 2,
            expect: &["stratified splits need a classification target"],
        },
        Case {
            name: "unsupported dataset format",
            toml: "\x00no-head\x00name = \"t\"\n[dataset]\npath = \"data.xlsx\"\ntarget = \"y\"\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n",
            files: &[],
            code: 2,
            expect: &["exp.toml:3:8", "must end in .csv, .parquet, .ndjson or .jsonl"],
        },
        Case {
            name: "single class in a training fold",
            toml: "\x00no-head\x00name = \"t\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[split]\nmethod = \"kfold\"\nfolds = 2\n[[model]]\nname = \"lr\"\nkind = \"logistic_regression\"\n",
            files: &[("data.csv", "x,y\n1,a\n2,a\n3,a\n4,b\n5,b\n6,b\n")],
            code: 1,
            expect: &["failed: lr: fold 1: the training part holds a single class (`b`)"],
        },
    ]
}

#[test]
fn every_bad_input_gets_a_precise_message_and_no_panic() {
    let cases = cases();
    assert!(cases.len() >= 25);
    for case in cases {
        let toml = if let Some(rest) = case.toml.strip_prefix("\x00no-head\x00") {
            rest.to_string()
        } else if case.toml.starts_with("name = ") {
            case.toml.to_string()
        } else {
            let model = if case.toml.contains("[[model]]") && !case.name.starts_with("duplicate") { "" } else { MODEL };
            format!("{HEAD}{}{model}", case.toml)
        };
        // Models go last in the file so that line numbers in `expect` stay simple.
        let toml = if case.name.starts_with("duplicate") { format!("{HEAD}{MODEL}{}", case.toml) } else { toml };
        let mut files: Vec<(&str, &str)> = vec![("exp.toml", &toml)];
        if !case.files.iter().any(|(n, _)| *n == "data.csv") {
            files.push(("data.csv", SMALL));
        }
        files.extend(case.files.iter().copied());
        let dir = scratch(&files);
        let out =
            runner().current_dir(dir.path()).args(["run", "exp.toml", "--quiet", "--out", "out"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let all = format!("{stderr}{stdout}");
        assert_eq!(out.status.code(), Some(case.code), "{}: exit code; output:\n{all}", case.name);
        assert!(!all.contains("panicked"), "{}: panicked:\n{all}", case.name);
        for e in case.expect {
            assert!(all.contains(e), "{}: expected `{e}` in:\n{all}", case.name);
        }
        if case.code == 2 {
            assert!(
                !dir.path().join("out").exists(),
                "{}: a config or data error must stop before any report is written",
                case.name
            );
        }
    }
}

#[test]
fn every_config_error_is_reported_at_once() {
    let toml = "name = \"t\"\nseed = -1\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\ntsk = \"regression\"\n[split]\ntest_size = 2.5\n[[model]]\nname = \"r\"\nkind = \"ridge\"\nalpah = 1\n";
    let dir = scratch(&[("exp.toml", toml), ("data.csv", SMALL)]);
    let out = runner().current_dir(dir.path()).args(["check", "exp.toml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for e in [
        "exp.toml:2:8",
        "exp.toml:6:1",
        "did you mean `task`?",
        "exp.toml:8:13",
        "exp.toml:12:1",
        "did you mean `alpha`?",
    ] {
        assert!(stderr.contains(e), "expected `{e}` in:\n{stderr}");
    }
    assert_eq!(stderr.lines().filter(|l| l.starts_with("error:")).count(), 4, "{stderr}");
}

#[test]
fn a_failed_trial_is_recorded_and_the_sweep_goes_on() {
    // (x·y)^500 overflows f64: the SVR's predictions are not finite, so its mse is not either.
    let toml = format!("{HEAD}[[model]]\nname = \"r0\"\nkind = \"svm\"\nkernel = \"poly\"\ndegree = 500\n[[model]]\nname = \"r1\"\nkind = \"ridge\"\nalpha = 1\n");
    let dir = scratch(&[
        ("exp.toml", &toml),
        ("data.csv", "x1,x2,y\n1.0,2.0,3.5\n2.0,4.0,4.0\n3.0,6.0,7.5\n4.0,8.0,7.0\n5.0,10.0,11.5\n6.0,12.0,11.0\n"),
    ]);
    runner().current_dir(dir.path()).args(["exp.toml", "-q", "--out", "out"]).assert().success();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/report.json")).unwrap()).unwrap();
    let r0 = trial(&report, "r0");
    assert_eq!(r0["status"], "failed");
    assert!(r0["reason"].as_str().unwrap().contains("not a finite number"), "{r0}");
    assert_eq!(trial(&report, "r1")["status"], "ok");
    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(md.contains("## Failed and diverged trials"));
}
