//! Reports: snapshots of report.md, report.json and an SVG for a fixed small experiment,
//! SVGs that parse as XML, escaping of user data, and `runner compare` with its exit codes.

use crate::common::*;
use serde_json::Value;
use std::path::Path;

fn run_escape() -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    runner()
        .args(["run", "tests/fixtures/experiments/escape.toml", "--quiet", "--jobs", "2", "--out"])
        .arg(out.path())
        .assert()
        .success();
    out
}

fn without_run(text: &str) -> String {
    let mut v: Value = serde_json::from_str(text).unwrap();
    v.as_object_mut().unwrap().remove("run");
    serde_json::to_string_pretty(&v).unwrap()
}

#[test]
fn report_snapshots() {
    let out = run_escape();
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    // The reproducibility table names the runner version; everything else is fixed.
    insta::assert_snapshot!("escape_report_md", md.replace(env!("CARGO_PKG_VERSION"), "<version>"));
    let json = std::fs::read_to_string(out.path().join("report.json")).unwrap();
    insta::assert_snapshot!("escape_report_json", without_run(&json));
    let svg = std::fs::read_to_string(out.path().join("plots/metric_ridge.alpha.svg")).unwrap();
    insta::assert_snapshot!("escape_metric_ridge_alpha_svg", svg);
}

#[test]
fn every_svg_parses_and_user_text_is_escaped() {
    let out = run_escape();
    let plots: Vec<_> = std::fs::read_dir(out.path().join("plots")).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(plots.len() >= 4, "{plots:?}");
    for p in &plots {
        let text = std::fs::read_to_string(p).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(doc.descendants().all(|n| n.tag_name().name() != "script"), "{} has a script element", p.display());
    }
    let importance = std::fs::read_to_string(out.path().join("plots/permutation_importance.svg")).unwrap();
    assert!(importance.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(!md.contains("<script>"), "raw HTML in report.md");
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(md.contains("a\\|b"), "a pipe in a column name must not split a table cell");
    assert!(md.contains("kind\\_\\`tick\\`"));
    for link in [
        "plots/loss_gd.svg",
        "plots/metric_ridge.alpha.svg",
        "plots/predicted_vs_actual.svg",
        "plots/permutation_importance.svg",
    ] {
        assert!(md.contains(link), "report.md does not link {link}");
    }
}

fn write_json(dir: &Path, name: &str, v: &Value) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p
}

#[test]
fn compare_exit_codes() {
    let (base, _d) = run_report(&root().join("tests/fixtures/experiments/boston_ridge_raw.toml"), &[]);
    let dir = tempfile::tempdir().unwrap();
    let b = write_json(dir.path(), "base.json", &base);
    let id = "ridge[alpha=1]";
    let with_mse = |factor: f64| {
        let mut v = base.clone();
        for t in v["trials"].as_array_mut().unwrap() {
            if t["id"] == id {
                let m = t["test"]["mse"]["mean"].as_f64().unwrap();
                t["test"]["mse"]["mean"] = Value::from(m * factor);
            }
        }
        v
    };
    let compare = |cand: &Path, extra: &[&str]| {
        let out = runner().arg("compare").arg(&b).arg(cand).args(extra).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };

    let (code, stdout, _) = compare(&b, &[]);
    assert_eq!(code, Some(0), "equal reports");
    assert!(stdout.contains("| ridge\\[alpha=1\\] | mse |") && stdout.contains("| same |"), "{stdout}");

    let better = write_json(dir.path(), "better.json", &with_mse(0.99));
    let (code, stdout, _) = compare(&better, &[]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("| better |"), "{stdout}");

    let worse = write_json(dir.path(), "worse.json", &with_mse(1.01));
    let (code, stdout, _) = compare(&worse, &[]);
    assert_eq!(code, Some(1), "worse beyond the default (exact) tolerance");
    assert!(stdout.contains("| worse |") && stdout.contains("1 regression(s)"), "{stdout}");
    let (code, stdout, _) = compare(&worse, &["--tolerance", "0.02"]);
    assert_eq!(code, Some(0), "within a 2% tolerance");
    assert!(stdout.contains("| within tolerance |"), "{stdout}");

    let mut missing = base.clone();
    missing["trials"].as_array_mut().unwrap().retain(|t| t["id"] != id);
    let missing = write_json(dir.path(), "missing.json", &missing);
    let (code, stdout, _) = compare(&missing, &[]);
    assert_eq!(code, Some(1), "a missing trial");
    assert!(stdout.contains("| missing |"), "{stdout}");

    let mut changed = base.clone();
    changed["dataset"]["sha256"] = Value::from("0000");
    let changed = write_json(dir.path(), "changed.json", &changed);
    let (code, _, stderr) = compare(&changed, &["--format", "json"]);
    assert_eq!(code, Some(0), "a changed dataset warns but equal metrics pass");
    assert!(stderr.contains("warning: the dataset differs"), "{stderr}");

    let (code, _, stderr) = compare(&dir.path().join("nope.json"), &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("cannot read"), "{stderr}");

    let (code, stdout, _) = compare(&worse, &["--metric", "rmse"]);
    assert_eq!(code, Some(0), "rmse was not changed");
    assert!(stdout.contains("Test `rmse`"), "{stdout}");
}

#[test]
fn plots_of_a_200k_row_run_stay_under_a_megabyte() {
    let mut csv = String::from("a,b,c,y\n");
    for i in 0..200_000u64 {
        // Deterministic, irregular values (a multiplicative hash), no rng needed.
        let h = |k: u64| ((i.wrapping_mul(2654435761).wrapping_add(k * 40503)) % 10007) as f64 / 1000.0;
        let (a, b, c) = (h(1), h(2), h(3));
        csv.push_str(&format!("{a},{b},{c},{}\n", 2.0 * a - b + 0.5 * c + h(4)));
    }
    let toml = "name = \"big\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[split]\nmethod = \"kfold\"\nfolds = 2\n\
                [[model]]\nname = \"gd\"\nkind = \"linear_gd\"\nepochs = 600\nlearning_rate = 0.01\ntol = 0\ngrid.l2 = [0.0, 0.1]\n";
    let dir = scratch(&[("data.csv", &csv), ("exp.toml", toml)]);
    runner()
        .args(["run", "--quiet", "--out"])
        .arg(dir.path().join("out"))
        .arg(dir.path().join("exp.toml"))
        .assert()
        .success();
    let plots = dir.path().join("out/plots");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&plots).unwrap().flatten() {
        let size = entry.metadata().unwrap().len();
        let name = entry.file_name().to_string_lossy().to_string();
        assert!(size <= 1_000_000, "{name} is {size} bytes");
        names.push(name);
    }
    assert!(names.iter().any(|n| n == "predicted_vs_actual.svg"), "{names:?}");
    let svg = std::fs::read_to_string(plots.join("predicted_vs_actual.svg")).unwrap();
    assert!(svg.contains("200000 test rows, binned"));
}

/// predictions.csv's (row → (predicted, probabilities)) from a run's folder.
fn read_predictions(dir: &Path) -> std::collections::BTreeMap<u64, (String, Vec<f64>)> {
    let text = std::fs::read_to_string(dir.join("predictions.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&header[..5], &["row", "fold", "trial", "true", "predicted"]);
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            let probabilities = cells[5..].iter().map(|c| c.parse().unwrap()).collect();
            (cells[0].parse().unwrap(), (cells[4].to_string(), probabilities))
        })
        .collect()
}

#[test]
fn out_of_fold_predictions_equal_scikit_learns_cross_val_predict() {
    let want = fixture("out_of_fold.json");
    let data = root().join("datasets");
    let close = |a: f64, b: f64, rel: f64| (a - b).abs() <= rel * b.abs().max(1e-3);
    let out = tempfile::tempdir().unwrap();
    let run = |name: &str, toml: String| {
        let file = out.path().join(format!("{name}.toml"));
        std::fs::write(&file, toml).unwrap();
        let dir = out.path().join(name);
        runner().args(["run", "--quiet", "--out"]).arg(&dir).arg(&file).assert().success();
        read_predictions(&dir)
    };
    // OLS on the tutorial's holdout: the test rows only.
    let got = run(
        "boston",
        std::fs::read_to_string(root().join("experiments/boston.toml"))
            .unwrap()
            .replace("../datasets/", &format!("{}/", data.display())),
    );
    let rows = want["boston_ols"]["rows"].as_array().unwrap();
    assert_eq!(got.len(), rows.len());
    for (row, p) in rows.iter().zip(want["boston_ols"]["predicted"].as_array().unwrap()) {
        let (ours, _) = &got[&row.as_u64().unwrap()];
        assert!(close(ours.parse().unwrap(), p.as_f64().unwrap(), 1e-9), "boston row {row}: {ours} vs {p}");
    }
    // Ridge under shuffled 5-fold CV: every row once.
    let ridge = format!(
        "name = \"oof-ridge\"\n[dataset]\npath = \"{}/diabetes.csv\"\ntarget = \"target\"\n[split]\nmethod = \"kfold\"\nfolds = 5\nshuffle = true\n\
         [[model]]\nname = \"ridge\"\nkind = \"ridge\"\nalpha = 1.0\n",
        data.display()
    );
    let got = run("ridge", ridge);
    for (k, p) in want["diabetes_ridge"]["predicted"].as_array().unwrap().iter().enumerate() {
        let (ours, _) = &got[&(k as u64 + 1)];
        assert!(close(ours.parse().unwrap(), p.as_f64().unwrap(), 1e-9), "diabetes row {}: {ours} vs {p}", k + 1);
    }
    // Multinomial logistic with standard scaling under StratifiedKFold(5): probabilities.
    let logistic = format!(
        "name = \"oof-iris\"\n[dataset]\npath = \"{}/iris.csv\"\ntarget = \"target\"\n[preprocess]\nscale = \"standard\"\n\
         [split]\nmethod = \"stratified_kfold\"\nfolds = 5\nshuffle = false\n[[model]]\nname = \"softmax\"\nkind = \"logistic_regression\"\ntol = 1e-10\n",
        data.display()
    );
    let got = run("iris", logistic);
    for (k, p) in want["iris_logistic"]["proba"].as_array().unwrap().iter().enumerate() {
        let (_, ours) = &got[&(k as u64 + 1)];
        for (a, b) in ours.iter().zip(p.as_array().unwrap()) {
            assert!((a - b.as_f64().unwrap()).abs() < 1e-6, "iris row {}: {ours:?} vs {p}", k + 1);
        }
    }
}

#[test]
fn predictions_csv_follows_the_scope_and_not_the_thread_count() {
    let out = tempfile::tempdir().unwrap();
    let run = |name: &str, args: &[&str]| {
        let dir = out.path().join(name);
        runner().args(["run", "experiments/diabetes.toml", "--quiet", "--out"]).arg(&dir).args(args).assert().success();
        dir
    };
    let one = run("one", &["--jobs", "1", "--set", "report.predictions=all"]);
    let two = run("two", &["--jobs", "2", "--set", "report.predictions=all"]);
    let text = std::fs::read(one.join("predictions.csv")).unwrap();
    assert_eq!(text, std::fs::read(two.join("predictions.csv")).unwrap());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(one.join("report.json")).unwrap()).unwrap();
    let trials = report["trials"].as_array().unwrap().len();
    let rows = report["dataset"]["rows_used"].as_u64().unwrap() as usize;
    assert_eq!(String::from_utf8(text).unwrap().lines().count(), 1 + trials * rows);
    let none = run("none", &["--set", "report.predictions=none"]);
    assert!(!none.join("predictions.csv").exists());
    let best = run("best", &[]);
    let best_text = std::fs::read_to_string(best.join("predictions.csv")).unwrap();
    assert_eq!(best_text.lines().count(), 1 + rows);
}

/// report.html is one self-contained page: the plots inline, nothing from the network, a
/// hostile column name shown as text, and a single script (ours, for sorting tables).
#[test]
fn html_report_is_self_contained_and_escapes_user_text() {
    let out = run_escape();
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<script").count(), 1, "only runner's own script");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the hostile column name is text");
    for remote in ["src=\"http", "href=\"http", "@import", "url(", "<link", "<iframe"] {
        assert!(!html.contains(remote), "report.html loads {remote}");
    }
    assert!(html.matches("<svg").count() >= 4, "plots are inlined");
    assert!(html.contains("<table>") && html.contains("Leaderboard"));
}

/// Control characters and `<&>` in column names and class labels: every SVG is still XML,
/// and report.md, report.html and the terminal show them as escapes.
#[test]
fn control_characters_in_names_and_labels_are_escaped_in_every_report() {
    let mut data = String::from("\"bell\u{7}<&>\",\"esc\u{1b}[31m\",\"nl\ny\"\n");
    for i in 0..40 {
        let class = ["a\u{1}<b>", "c&\u{8}d", "e\u{1b}f"][i % 3];
        data.push_str(&format!("{},{},\"{class}\"\n", i % 3 * 2 + i % 5, (i * 7) % 11));
    }
    let toml =
        "name = \"ctl\"\n[dataset]\npath = \"data.csv\"\ntarget = \"nl\\ny\"\n[split]\nmethod = \"kfold\"\nfolds = 2\n\
        [[model]]\nname = \"tree\"\nkind = \"decision_tree\"\nmax_depth = 2\n";
    let dir = scratch(&[("data.csv", &data), ("e.toml", toml)]);
    let out = dir.path().join("out");
    let run = runner().arg("run").arg(dir.path().join("e.toml")).arg("--out").arg(&out).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let control = |s: &str| s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'));
    assert!(!control(&String::from_utf8_lossy(&run.stdout)), "terminal output holds control characters");
    let plots: Vec<_> = std::fs::read_dir(out.join("plots")).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(plots.iter().any(|p| p.ends_with("confusion_matrix.svg")), "{plots:?}");
    for p in &plots {
        let text = std::fs::read_to_string(p).unwrap();
        roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(!control(&text), "{}", p.display());
    }
    let svg = std::fs::read_to_string(out.join("plots/confusion_matrix.svg")).unwrap();
    assert!(svg.contains("a\\u{1}&lt;b&gt;"), "{svg}");
    for name in ["report.md", "report.html"] {
        let text = std::fs::read_to_string(out.join(name)).unwrap();
        assert!(!control(&text), "{name} holds control characters");
        assert!(!text.contains("<b>"), "{name} holds raw markup");
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("bell\\u{7}&lt;&amp;&gt;"), "{html}");
}
