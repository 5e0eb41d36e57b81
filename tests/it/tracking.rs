//! MLflow logging against a local fake of its REST API (the real server is checked by
//! scale-out/tracking-local.sh), and DVC's metrics.json.

use crate::common::runner;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the fake answers.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Healthy,
    /// Every call fails with HTTP 500.
    Broken,
    /// Every call takes 3 s.
    Slow,
    /// Calls after the first n fail with HTTP 503 (a server stopped halfway).
    StopsAfter(usize),
}

#[derive(Default)]
struct State {
    requests: usize,
    experiments: Vec<String>,
    /// run id, tags, status, deleted
    runs: Vec<Run>,
    params: usize,
    metrics: usize,
    artifacts: Vec<String>,
    /// Each call's endpoint, in order; a child's `runs/create` as `runs/create child`.
    calls: Vec<String>,
}

struct Fake {
    uri: String,
    state: Arc<Mutex<State>>,
    mode: Arc<Mutex<Mode>>,
}

impl Fake {
    fn start(mode: Mode) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let uri = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let mode = Arc::new(Mutex::new(mode));
        let (s, m) = (Arc::clone(&state), Arc::clone(&mode));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (s, m) = (Arc::clone(&s), Arc::clone(&m));
                std::thread::spawn(move || serve(stream, &s, &m));
            }
        });
        Fake { uri, state, mode }
    }

    fn live_runs(&self) -> Vec<(Vec<(String, String)>, String)> {
        let st = self.state.lock().unwrap();
        st.runs.iter().filter(|r| !r.3).map(|r| (r.1.clone(), r.2.clone())).collect()
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>, mode: &Mutex<Mode>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut length = 0;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let n = {
        let mut st = state.lock().unwrap();
        st.requests += 1;
        st.requests
    };
    let current = *mode.lock().unwrap();
    let (status, answer) = match current {
        Mode::Broken => (500, json!({"error_code": "INTERNAL_ERROR", "message": "database is locked"})),
        Mode::StopsAfter(k) if n > k => (503, json!({"message": "stopped"})),
        Mode::Slow => {
            std::thread::sleep(Duration::from_secs(3));
            (200, json!({}))
        }
        _ => answer(method, target, &serde_json::from_slice(&body).unwrap_or(Value::Null), state),
    };
    let text = answer.to_string();
    let reason = if status == 200 { "OK" } else { "Error" };
    let head = format!("HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", text.len());
    let mut stream = stream;
    let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(text.as_bytes()));
}

/// The subset of MLflow's API runner calls, with the state it keeps.
fn answer(method: &str, target: &str, body: &Value, state: &Mutex<State>) -> (u16, Value) {
    let mut st = state.lock().unwrap();
    let path = target.split('?').next().unwrap_or("");
    let tags = |v: &Value| -> Vec<(String, String)> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|t| (t["key"].as_str().unwrap().into(), t["value"].as_str().unwrap().into()))
            .collect()
    };
    let run_json = |r: &(String, Vec<(String, String)>, String, bool)| {
        let t: Vec<Value> = r.1.iter().map(|(k, v)| json!({"key": k, "value": v})).collect();
        json!({"info": {"run_id": r.0, "status": r.2, "artifact_uri": format!("mlflow-artifacts:/1/{}/artifacts", r.0)},
               "data": {"tags": t, "metrics": []}})
    };
    let child = body["tags"].as_array().is_some_and(|t| t.iter().any(|t| t["key"] == "mlflow.parentRunId"));
    let call = path.trim_start_matches("/api/2.0/mlflow/").to_string();
    st.calls.push(if child { format!("{call} child") } else { call });
    match (method, path) {
        ("GET", "/api/2.0/mlflow/experiments/get-by-name") if st.experiments.is_empty() => {
            (404, json!({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no such experiment"}))
        }
        ("GET", "/api/2.0/mlflow/experiments/get-by-name") => (200, json!({"experiment": {"experiment_id": "1"}})),
        ("POST", "/api/2.0/mlflow/experiments/create") => {
            st.experiments.push(body["name"].as_str().unwrap().into());
            (200, json!({"experiment_id": "1"}))
        }
        ("POST", "/api/2.0/mlflow/runs/search") => {
            let key = body["filter"].as_str().unwrap().split('\'').nth(1).unwrap().to_string();
            let runs: Vec<Value> = st
                .runs
                .iter()
                .filter(|r| !r.3 && r.1.iter().any(|(k, v)| k == "runner_key" && *v == key))
                .map(run_json)
                .collect();
            (200, json!({"runs": runs}))
        }
        ("POST", "/api/2.0/mlflow/runs/create") => {
            let id = format!("r{}", st.runs.len());
            st.runs.push((id.clone(), tags(&body["tags"]), "RUNNING".into(), false));
            (200, json!({"run": run_json(st.runs.last().unwrap())}))
        }
        ("POST", "/api/2.0/mlflow/runs/log-batch") => {
            st.params += body["params"].as_array().map_or(0, Vec::len);
            st.metrics += body["metrics"].as_array().map_or(0, Vec::len);
            (200, json!({}))
        }
        ("POST", "/api/2.0/mlflow/runs/update") | ("POST", "/api/2.0/mlflow/runs/delete") => {
            let id = body["run_id"].as_str().unwrap();
            let delete = path.ends_with("delete");
            let status = body["status"].as_str().map(str::to_string);
            if let Some(r) = st.runs.iter_mut().find(|r| r.0 == id) {
                r.3 |= delete;
                r.2 = status.unwrap_or(r.2.clone());
            }
            (200, json!({}))
        }
        ("GET", "/api/2.0/mlflow/runs/get") => {
            let id = target.split("run_id=").nth(1).unwrap_or("").to_string();
            let run = st.runs.iter().find(|r| r.0 == id).map(run_json).unwrap_or(Value::Null);
            (200, json!({"run": run}))
        }
        ("PUT", p) if p.starts_with("/api/2.0/mlflow-artifacts/artifacts/") => {
            st.artifacts.push(p.rsplit("/artifacts/").next().unwrap_or("").into());
            (200, json!({}))
        }
        _ => (404, json!({"error_code": "ENDPOINT_NOT_FOUND", "message": target})),
    }
}

/// boston_ridge: several ridge trials on 5 folds; returns (exit code, stderr, report folder).
fn run_tracked(uri: &str, out: &std::path::Path, extra: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = runner();
    cmd.args(["run", "experiments/boston_ridge.toml", "--quiet", "--mlflow", "--out"]).arg(out);
    cmd.env("MLFLOW_TRACKING_URI", uri).env_remove("MLFLOW_TRACKING_TOKEN");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn trials_in(out: &std::path::Path) -> usize {
    let report: Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    report["trials"].as_array().unwrap().len()
}

#[test]
fn a_run_logs_one_parent_and_one_child_per_trial_in_few_requests_and_a_rerun_adds_nothing() {
    let fake = Fake::start(Mode::Healthy);
    let out = tempfile::tempdir().unwrap();
    let (code, stderr) = run_tracked(&fake.uri, out.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("mlflow: http://"), "{stderr}");
    let trials = trials_in(out.path());
    let runs = fake.live_runs();
    assert_eq!(runs.len(), trials + 1);
    assert!(runs.iter().all(|(_, status)| status == "FINISHED"), "every run is closed");
    let children = runs.iter().filter(|(t, _)| t.iter().any(|(k, _)| k == "mlflow.parentRunId")).count();
    assert_eq!(children, trials);
    let st = fake.state.lock().unwrap();
    assert_eq!(st.experiments, ["boston-regularized"]);
    // Create, one batch and a status per trial, plus a handful for the experiment and parent.
    assert!(st.requests <= 3 * trials + st.artifacts.len() + 10, "{} requests for {trials} trials", st.requests);
    assert!(st.artifacts.contains(&"report.json".to_string()) && st.artifacts.contains(&"report.html".to_string()));
    assert!(st.metrics > 0 && st.params > 0);
    let before = st.runs.len();
    drop(st);
    let (code, stderr) = run_tracked(&fake.uri, out.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("already logged"), "{stderr}");
    assert_eq!(fake.state.lock().unwrap().runs.len(), before, "a rerun of the same experiment logs nothing new");
}

#[test]
fn report_files_are_the_same_with_tracking_on_or_off() {
    let fake = Fake::start(Mode::Healthy);
    let (on, off) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    assert_eq!(run_tracked(&fake.uri, on.path(), &[]).0, 0);
    let plain = runner().args(["run", "experiments/boston_ridge.toml", "--quiet", "--out"]).arg(off.path()).output();
    assert!(plain.unwrap().status.success());
    let strip = |dir: &std::path::Path| {
        let mut v: Value = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
        v.as_object_mut().unwrap().remove("run");
        v
    };
    assert_eq!(strip(on.path()), strip(off.path()));
    for name in ["model.json", "metrics.json", "predictions.csv"] {
        assert_eq!(
            std::fs::read(on.path().join(name)).unwrap(),
            std::fs::read(off.path().join(name)).unwrap(),
            "{name}"
        );
    }
}

fn assert_costs_no_result(mode: Mode, env: &[(&str, &str)], says: &str) {
    let fake = Fake::start(mode);
    let out = tempfile::tempdir().unwrap();
    let (code, stderr) = run_tracked(&fake.uri, out.path(), env);
    assert_eq!(code, 0, "{stderr}");
    assert!(out.path().join("report.json").exists() && out.path().join("model.json").exists());
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.starts_with("warning: MLflow at")).collect();
    assert_eq!(warnings.len(), 1, "one warning: {stderr}");
    assert!(warnings[0].contains(&fake.uri) && warnings[0].contains(says), "{stderr}");
    assert!(stderr.contains("runner mlflow-sync"), "{stderr}");
}

#[test]
fn a_server_that_answers_500_costs_no_result_and_warns_once() {
    assert_costs_no_result(Mode::Broken, &[], "HTTP 500: database is locked");
}

#[test]
fn a_slow_server_times_out_and_costs_no_result() {
    assert_costs_no_result(Mode::Slow, &[("MLFLOW_HTTP_REQUEST_TIMEOUT", "0.5")], "experiments/get-by-name");
}

#[test]
fn a_server_that_is_down_costs_no_result() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = tempfile::tempdir().unwrap();
    let uri = format!("http://127.0.0.1:{port}");
    let (code, stderr) = run_tracked(&uri, out.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(out.path().join("report.json").exists());
    assert!(stderr.contains(&format!("warning: MLflow at {uri}")), "{stderr}");
}

#[test]
fn a_server_stopped_halfway_is_completed_by_mlflow_sync_without_duplicates() {
    let fake = Fake::start(Mode::StopsAfter(20));
    let out = tempfile::tempdir().unwrap();
    let (code, stderr) = run_tracked(&fake.uri, out.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("HTTP 503"), "{stderr}");
    *fake.mode.lock().unwrap() = Mode::Healthy;
    let sync = runner().args(["mlflow-sync"]).arg(out.path()).args(["--uri", &fake.uri]).output().unwrap();
    assert!(sync.status.success(), "{}", String::from_utf8_lossy(&sync.stderr));
    let trials = trials_in(out.path());
    let runs = fake.live_runs();
    let mut ids: Vec<String> =
        runs.iter().filter_map(|(t, _)| t.iter().find(|(k, _)| k == "runner_trial").map(|(_, v)| v.clone())).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((ids.len(), runs.len()), (trials, trials + 1), "each trial once, one parent");
    assert!(runs.iter().all(|(_, s)| s == "FINISHED"));
}

#[test]
fn mlflow_without_a_server_address_is_a_usage_error_before_training() {
    let out = tempfile::tempdir().unwrap();
    let o = runner()
        .args(["run", "experiments/boston.toml", "--quiet", "--mlflow", "--out"])
        .arg(out.path())
        .env_remove("MLFLOW_TRACKING_URI")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("MLFLOW_TRACKING_URI, which is not set"));
    assert!(!out.path().join("trials.jsonl").exists(), "nothing trained");
}

#[test]
fn metrics_json_holds_the_best_trials_test_metrics_and_each_trials_means() {
    let out = tempfile::tempdir().unwrap();
    let o = runner().args(["run", "experiments/boston_ridge.toml", "--quiet", "--out"]).arg(out.path()).output();
    assert!(o.unwrap().status.success());
    let report: Value = serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let metrics: Value = serde_json::from_slice(&std::fs::read(out.path().join("metrics.json")).unwrap()).unwrap();
    let best = report["best"]["trial"].as_str().unwrap();
    let trial = report["trials"].as_array().unwrap().iter().find(|t| t["id"] == best).unwrap();
    assert_eq!(metrics["best"]["mse"], trial["test"]["mse"]["mean"]);
    assert_eq!(metrics["best"]["mse_std"], trial["test"]["mse"]["std"]);
    assert_eq!(metrics["trials"][best]["r2"], trial["test"]["r2"]["mean"]);
}

#[test]
fn trials_are_logged_while_the_sweep_runs_and_the_finished_report_only_completes_them() {
    let fake = Fake::start(Mode::Healthy);
    let out = tempfile::tempdir().unwrap();
    let (code, stderr) = run_tracked(&fake.uri, out.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let trials = trials_in(out.path());
    let st = fake.state.lock().unwrap();
    let lookups: Vec<usize> =
        st.calls.iter().enumerate().filter(|(_, c)| *c == "experiments/get-by-name").map(|(i, _)| i).collect();
    assert_eq!(lookups.len(), 2, "one lookup while the sweep runs, one for the finished report: {:?}", st.calls);
    let children: Vec<usize> =
        st.calls.iter().enumerate().filter(|(_, c)| *c == "runs/create child").map(|(i, _)| i).collect();
    assert_eq!(children.len(), trials);
    assert!(children.iter().all(|&i| i < lookups[1]), "every child is logged before the report is: {:?}", st.calls);
}

/// A run the fake server holds: id, tags, status, deleted.
type Run = (String, Vec<(String, String)>, String, bool);
