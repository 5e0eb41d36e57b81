use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> Value {
    let path = root().join("tests/fixtures/sklearn").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

pub fn runner() -> Command {
    let mut cmd = Command::cargo_bin("runner").unwrap();
    cmd.current_dir(root()).env("XDG_CACHE_HOME", test_cache_home()).env_remove("RUNNER_CACHE_SIZE");
    cmd
}

/// The parsed-data cache's base folder for every runner the tests start (in cargo's folder for
/// test files, never the user's ~/.cache). Entries are keyed by the binary, so a rebuild never
/// reads an older build's; tests of the cache itself give their own `--cache-dir`.
pub fn test_cache_home() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache")
}

/// Runs an experiment file into a fresh folder and returns its report.json.
pub fn run_report(file: &Path, extra: &[&str]) -> (Value, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let output =
        runner().arg("run").arg(file).arg("--quiet").arg("--out").arg(out.path()).args(extra).output().unwrap();
    assert!(output.status.success(), "runner failed: {}", String::from_utf8_lossy(&output.stderr));
    let text = std::fs::read_to_string(out.path().join("report.json")).unwrap();
    (serde_json::from_str(&text).unwrap(), out)
}

pub fn trial<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["trials"].as_array().unwrap().iter().find(|t| t["id"] == id).unwrap_or_else(|| panic!("no trial {id}"))
}

pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

pub fn assert_rel(ours: &[f64], theirs: &[f64], rel: f64, what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}: lengths differ");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        let err = (a - b).abs() / b.abs().max(1e-300);
        assert!(err <= rel, "{what}[{i}]: ours {a} vs scikit-learn {b} (relative error {err:e} > {rel:e})");
    }
}

/// Writes files into a temporary folder and returns it.
pub fn scratch(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// `runner run FILE -q --out DIR/NAME ARGS...`: the report folder and the process output.
pub fn run_into(file: &Path, dir: &Path, name: &str, args: &[&str]) -> (PathBuf, std::process::Output) {
    let out = dir.join(name);
    let o = runner().arg("run").arg(file).arg("-q").arg("--out").arg(&out).args(args).output().unwrap();
    (out, o)
}

/// [`run_into`], which must succeed; the report folder.
pub fn run_ok(file: &Path, dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let (out, o) = run_into(file, dir, name, args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

/// A report folder's report.json without its `run` facts (timings differ from run to run).
pub fn report_outside_run(dir: &Path) -> Value {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("run");
    v
}
