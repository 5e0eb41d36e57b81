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
