//! Logging a finished report to an MLflow tracking server over its REST API
//! (https://mlflow.org/docs/latest/api_reference/rest-api.html): one parent run per runner
//! run, one child per trial, found again by their `runner_key` tag so that a rerun, a resume
//! or `runner mlflow-sync` never logs a run twice. What is logged is `report::tracking`'s.

use super::{EXIT_ALL_FAILED, EXIT_OK, EXIT_USAGE};
use runner::cli::MlflowSyncArgs;
use runner::plan::RunPlan;
use runner::report::tracking::{self, Batch, RunLog, Tracked, KEY_TAG, TRIAL_TAG};
use runner::report::Report;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Child runs are logged by this many connections at once.
const CONNECTIONS: usize = 4;
/// The report files a parent run carries as artifacts, when the run wrote them.
const ARTIFACTS: [&str; 4] = ["report.html", "report.json", "model.json", "metrics.json"];

/// An MLflow tracking server and how to authenticate to it, as MLflow's own clients read
/// the environment: `MLFLOW_TRACKING_TOKEN` (bearer), `MLFLOW_TRACKING_USERNAME` and
/// `_PASSWORD` (basic), `MLFLOW_TRACKING_INSECURE_TLS`, `MLFLOW_TRACKING_SERVER_CERT_PATH` and
/// `MLFLOW_HTTP_REQUEST_TIMEOUT` (seconds, 120 by default).
pub struct Server {
    base: String,
    agent: ureq::Agent,
    auth: Option<String>,
}

/// What a call to [`log`] did.
pub struct Logged {
    pub experiment_id: String,
    pub parent_run_id: String,
    /// The report's trials, each a child run now (some may have been logged before: while
    /// the sweep ran, or by an earlier logging).
    pub trials: usize,
    /// The report's runs were all there already.
    pub already: bool,
}

/// The run's state on the server: its id and MLflow status.
struct Existing {
    id: String,
    status: String,
}

impl Existing {
    fn done(&self) -> bool {
        matches!(self.status.as_str(), "FINISHED" | "FAILED" | "KILLED")
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Server {
    pub fn connect(uri: &str) -> Result<Server, String> {
        let base = uri.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(format!("MLflow tracking URI `{uri}` is not an http:// or https:// server address"));
        }
        let seconds = match env("MLFLOW_HTTP_REQUEST_TIMEOUT") {
            Some(s) => s
                .parse::<f64>()
                .ok()
                .filter(|s| *s > 0.0)
                .ok_or_else(|| format!("MLFLOW_HTTP_REQUEST_TIMEOUT=`{s}` is not a positive number of seconds"))?,
            None => 120.0,
        };
        let insecure = env("MLFLOW_TRACKING_INSECURE_TLS").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let mut tls = ureq::tls::TlsConfig::builder().disable_verification(insecure);
        if let Some(path) = env("MLFLOW_TRACKING_SERVER_CERT_PATH") {
            let pem = std::fs::read(&path).map_err(|e| format!("MLFLOW_TRACKING_SERVER_CERT_PATH {path}: {e}"))?;
            let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(format!("MLFLOW_TRACKING_SERVER_CERT_PATH {path} holds no PEM certificate"));
            }
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs_f64(seconds)))
            .http_status_as_error(false)
            .tls_config(tls.build())
            .build()
            .into();
        let auth = match (env("MLFLOW_TRACKING_TOKEN"), env("MLFLOW_TRACKING_USERNAME")) {
            (Some(token), _) => Some(format!("Bearer {token}")),
            (None, Some(user)) => {
                let pass = env("MLFLOW_TRACKING_PASSWORD").unwrap_or_default();
                {
                    use base64::Engine;
                    Some(format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
                    ))
                }
            }
            (None, None) => None,
        };
        Ok(Server { base, agent, auth })
    }

    /// One REST call; `Ok(None)` when the server says the resource does not exist.
    fn call(&self, method: &str, endpoint: &str, body: &Value) -> Result<Option<Value>, String> {
        let url = format!("{}/api/2.0/mlflow/{endpoint}", self.base);
        let response = match method {
            "GET" => {
                let mut request = self.agent.get(&url);
                for (k, v) in body.as_object().into_iter().flatten() {
                    request = request.query(k, v.as_str().unwrap_or_default());
                }
                self.authorised(request).call()
            }
            _ => {
                let request = self.agent.post(&url).header("Content-Type", "application/json");
                self.authorised(request).send(body.to_string().as_bytes())
            }
        };
        self.answer(endpoint, response)
    }

    fn authorised<B>(&self, r: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.auth {
            Some(a) => r.header("Authorization", a),
            None => r,
        }
    }

    fn answer(
        &self,
        endpoint: &str,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Option<Value>, String> {
        let mut response = response.map_err(|e| format!("MLflow at {}: {endpoint}: {e}", self.base))?;
        let status = response.status();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.as_u16() == 404 && value.get("error_code").and_then(Value::as_str) == Some("RESOURCE_DOES_NOT_EXIST")
        {
            return Ok(None);
        }
        if !status.is_success() {
            let message = value.get("message").and_then(Value::as_str).unwrap_or(text.trim());
            let message: String = message.chars().take(300).collect();
            return Err(format!("MLflow at {}: {endpoint} returned HTTP {}: {message}", self.base, status.as_u16()));
        }
        Ok(Some(value))
    }

    fn post(&self, endpoint: &str, body: Value) -> Result<Value, String> {
        self.call("POST", endpoint, &body)?.ok_or_else(|| format!("MLflow at {}: {endpoint}: not found", self.base))
    }

    /// Uploads one artifact file through the server's artifact proxy.
    fn upload(&self, artifact_uri: &str, name: &str, bytes: &[u8]) -> Result<(), String> {
        let Some(path) = artifact_uri.strip_prefix("mlflow-artifacts:/") else {
            return Err(format!(
                "MLflow at {}: the run's artifacts go to `{artifact_uri}`, which runner cannot write over HTTP; serve artifacts through the server (`mlflow server --serve-artifacts`, the default)",
                self.base
            ));
        };
        let url = format!("{}/api/2.0/mlflow-artifacts/artifacts/{}/{name}", self.base, path.trim_matches('/'));
        let request = self.agent.put(&url).header("Content-Type", "application/octet-stream");
        let response = self.authorised(request).send(bytes);
        self.answer(&format!("artifacts/{name}"), response).map(|_| ())
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Logs the report in `dir` (its report.json already parsed as `report`) to the server at
/// `uri`: the experiment (created when missing), the parent run, a child per trial not yet
/// logged, the parent's metrics and artifacts, then the parent's status.
pub fn log(uri: &str, report: &Value, dir: &Path) -> Result<Logged, String> {
    let tracked = tracking::from_report(report)?;
    let server = Server::connect(uri)?;
    let experiment_id = experiment_id(&server, &tracked.experiment)?;
    let (parent, children) = existing_runs(&server, &experiment_id, &tracked.key)?;
    if let Some(p) = parent.as_ref().filter(|p| p.done()) {
        let parent_run_id = p.id.clone();
        return Ok(Logged { experiment_id, parent_run_id, trials: tracked.trials.len(), already: true });
    }
    let parent_run_id = match parent {
        Some(p) => p.id,
        None => create_run(&server, &experiment_id, &tracked.parent, None)?,
    };
    log_trials(&server, &experiment_id, &parent_run_id, &tracked, &children)?;
    finish_parent(&server, &parent_run_id, &tracked.parent, dir)?;
    Ok(Logged { experiment_id, parent_run_id, trials: tracked.trials.len(), already: false })
}

fn experiment_id(server: &Server, name: &str) -> Result<String, String> {
    let id = |v: &Value, pointer: &str| v.pointer(pointer).and_then(Value::as_str).map(str::to_string);
    let found = server.call("GET", "experiments/get-by-name", &json!({ "experiment_name": name }))?;
    if let Some(e) = found.as_ref().and_then(|v| id(v, "/experiment/experiment_id")) {
        return Ok(e);
    }
    // MLflow 3's UI opens an experiment of this kind on its model-training pages, not GenAI's.
    let kind = json!([{ "key": "mlflow.experimentKind", "value": "custom_model_development" }]);
    let created = server.post("experiments/create", json!({ "name": name, "tags": kind }))?;
    id(&created, "/experiment_id").ok_or_else(|| format!("MLflow at {}: experiments/create gave no id", server.base))
}

/// The runs already logged under `key`: the parent, and the children by trial id.
fn existing_runs(
    server: &Server,
    experiment_id: &str,
    key: &str,
) -> Result<(Option<Existing>, HashMap<String, Existing>), String> {
    let mut parent = None;
    let mut children = HashMap::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({
            "experiment_ids": [experiment_id],
            "filter": format!("tags.{KEY_TAG} = '{key}'"),
            "max_results": 1000,
        });
        if let Some(t) = &token {
            body["page_token"] = json!(t);
        }
        let page = server.post("runs/search", body)?;
        for run in page.get("runs").and_then(Value::as_array).into_iter().flatten() {
            let text = |p: &str| run.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
            let existing = Existing { id: text("/info/run_id"), status: text("/info/status") };
            let tags = run.pointer("/data/tags").and_then(Value::as_array);
            let trial = tags.into_iter().flatten().find(|t| t.get("key").and_then(Value::as_str) == Some(TRIAL_TAG));
            match trial.and_then(|t| t.get("value")).and_then(Value::as_str) {
                Some(id) => drop(children.insert(id.to_string(), existing)),
                None => parent = Some(existing),
            }
        }
        token = page.get("next_page_token").and_then(Value::as_str).filter(|t| !t.is_empty()).map(str::to_string);
        if token.is_none() {
            return Ok((parent, children));
        }
    }
}

/// Creates a run with its tags; a child also names its parent.
fn create_run(server: &Server, experiment_id: &str, run: &RunLog, parent: Option<&str>) -> Result<String, String> {
    let mut tags: Vec<Value> = run.tags.iter().map(|(k, v)| json!({ "key": k, "value": v })).collect();
    if let Some(p) = parent {
        tags.push(json!({ "key": "mlflow.parentRunId", "value": p }));
    }
    let body = json!({
        "experiment_id": experiment_id,
        "run_name": run.name,
        "start_time": now_ms(),
        "tags": tags,
    });
    let created = server.post("runs/create", body)?;
    created
        .pointer("/run/info/run_id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("MLflow at {}: runs/create gave no run id", server.base))
}

fn log_batch(server: &Server, run_id: &str, batch: &Batch) -> Result<(), String> {
    let pairs =
        |p: &[(String, String)]| -> Vec<Value> { p.iter().map(|(k, v)| json!({"key": k, "value": v})).collect() };
    let timestamp = now_ms();
    let metrics: Vec<Value> = batch
        .metrics
        .iter()
        .map(|m| json!({ "key": m.key, "value": m.value, "timestamp": timestamp, "step": m.step }))
        .collect();
    let body =
        json!({ "run_id": run_id, "metrics": metrics, "params": pairs(batch.params), "tags": pairs(batch.tags) });
    server.post("runs/log-batch", body).map(|_| ())
}

fn set_status(server: &Server, run_id: &str, failed: bool) -> Result<(), String> {
    let status = if failed { "FAILED" } else { "FINISHED" };
    server.post("runs/update", json!({ "run_id": run_id, "status": status, "end_time": now_ms() })).map(|_| ())
}

/// One child run per trial not yet logged, over a few connections at once. A child left
/// running by an interrupted logging is deleted and logged again, so none is half there.
fn log_trials(
    server: &Server,
    experiment_id: &str,
    parent_id: &str,
    tracked: &Tracked,
    children: &HashMap<String, Existing>,
) -> Result<(), String> {
    let todo: Vec<&RunLog> =
        tracked.trials.iter().filter(|t| !children.get(&t.name).is_some_and(Existing::done)).collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let first_error = Mutex::new(None);
    let one = |trial: &RunLog| log_child(server, experiment_id, parent_id, trial, children.get(&trial.name));
    std::thread::scope(|s| {
        for _ in 0..CONNECTIONS.min(todo.len()) {
            s.spawn(|| {
                while !failed.load(Ordering::SeqCst) {
                    let Some(trial) = todo.get(next.fetch_add(1, Ordering::SeqCst)) else { return };
                    if let Err(e) = one(trial) {
                        failed.store(true, Ordering::SeqCst);
                        first_error.lock().map(|mut f| f.get_or_insert(e).clone()).ok();
                    }
                }
            });
        }
    });
    match first_error.into_inner().ok().flatten() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// One trial's child run: created, its batches, then its status. A child left running by an
/// interrupted logging (`stale`) is deleted first, so none is half there.
fn log_child(
    server: &Server,
    experiment_id: &str,
    parent_id: &str,
    trial: &RunLog,
    stale: Option<&Existing>,
) -> Result<(), String> {
    if let Some(stale) = stale {
        server.post("runs/delete", json!({ "run_id": stale.id }))?;
    }
    let id = create_run(server, experiment_id, trial, Some(parent_id))?;
    for batch in tracking::batches(&[], &trial.params, &trial.metrics) {
        log_batch(server, &id, &batch)?;
    }
    set_status(server, &id, trial.failed)
}

/// Logs trials while the sweep runs, each as its last fold finishes, so that the server's
/// time overlaps the sweep's. It only saves time: the logging of the finished report (`log`)
/// finds these runs by `runner_key` and logs what is missing, so a failure here is silent
/// and is reported there, once.
pub struct LiveLog {
    trials: Option<mpsc::Sender<RunLog>>,
    worker: Option<std::thread::JoinHandle<()>>,
}

impl LiveLog {
    pub fn start(uri: &str, experiment: &str, key: &str) -> LiveLog {
        let (sender, receiver) = mpsc::channel();
        let (uri, experiment, key) = (uri.to_string(), experiment.to_string(), key.to_string());
        let worker = std::thread::spawn(move || drop(log_live(&uri, &experiment, &key, receiver)));
        LiveLog { trials: Some(sender), worker: Some(worker) }
    }

    /// Queues a finished trial's child run.
    pub fn send(&self, trial: RunLog) {
        if let Some(t) = &self.trials {
            let _ = t.send(trial);
        }
    }

    /// Waits until the trials sent so far are logged (or the logging gave up).
    pub fn finish(mut self) {
        drop(self.trials.take());
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// The parent (made with its key, to be completed by `finish_parent`), then the children as
/// they come, over a few connections; the first failure stops it.
fn log_live(uri: &str, experiment: &str, key: &str, trials: mpsc::Receiver<RunLog>) -> Result<(), String> {
    let server = Server::connect(uri)?;
    let experiment_id = experiment_id(&server, experiment)?;
    let (parent, children) = existing_runs(&server, &experiment_id, key)?;
    let parent_id = match parent {
        Some(p) if p.done() => return Ok(()),
        Some(p) => p.id,
        None => {
            let run = RunLog {
                name: experiment.to_string(),
                tags: vec![(KEY_TAG.to_string(), key.to_string())],
                ..RunLog::default()
            };
            create_run(&server, &experiment_id, &run, None)?
        }
    };
    let queue = Mutex::new(trials);
    let failed = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..CONNECTIONS {
            s.spawn(|| {
                while !failed.load(Ordering::SeqCst) {
                    let Some(trial) = queue.lock().ok().and_then(|q| q.recv().ok()) else { return };
                    let stale = children.get(&trial.name);
                    if stale.is_some_and(Existing::done) {
                        continue;
                    }
                    if log_child(&server, &experiment_id, &parent_id, &trial, stale).is_err() {
                        failed.store(true, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    Ok(())
}

/// The parent's tags and params, the best trial's metrics not logged yet, the artifacts, and its
/// status last: a parent marked finished has everything.
fn finish_parent(server: &Server, run_id: &str, parent: &RunLog, dir: &Path) -> Result<(), String> {
    let run = server.call("GET", "runs/get", &json!({ "run_id": run_id }))?.unwrap_or(Value::Null);
    let logged: Vec<&str> = run
        .pointer("/run/data/metrics")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("key").and_then(Value::as_str))
        .collect();
    let metrics: Vec<tracking::Metric> =
        parent.metrics.iter().filter(|m| !logged.contains(&m.key.as_str())).cloned().collect();
    // Tags again: a parent made while the sweep ran has only its key.
    for batch in tracking::batches(&parent.tags, &parent.params, &metrics) {
        log_batch(server, run_id, &batch)?;
    }
    let artifact_uri = run.pointer("/run/info/artifact_uri").and_then(Value::as_str).unwrap_or_default();
    for (name, bytes) in artifacts(dir) {
        server.upload(artifact_uri, &name, &bytes)?;
    }
    set_status(server, run_id, false)
}

/// The report files to attach, by their name under the run's artifacts.
fn artifacts(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut names: Vec<String> = ARTIFACTS.iter().map(|s| s.to_string()).collect();
    if let Ok(plots) = std::fs::read_dir(dir.join("plots")) {
        let mut svgs: Vec<String> = plots
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".svg"))
            .collect();
        svgs.sort();
        names.extend(svgs.into_iter().map(|n| format!("plots/{n}")));
    }
    names.into_iter().filter_map(|n| std::fs::read(dir.join(&n)).ok().map(|b| (n, b))).collect()
}

/// The server a run logs to: `[report] mlflow`, or `MLFLOW_TRACKING_URI` under `--mlflow`.
pub fn server_for(plan: &RunPlan, opted_in: bool) -> Result<Option<String>, String> {
    if let Some(uri) = &plan.experiment.report.mlflow {
        return Ok(Some(uri.clone()));
    }
    if !opted_in {
        return Ok(None);
    }
    let uri = env("MLFLOW_TRACKING_URI").ok_or(
        "--mlflow logs to the server in MLFLOW_TRACKING_URI, which is not set; set it, or `mlflow` in [report]",
    )?;
    Server::connect(&uri).map(|_| Some(uri))
}

/// Where a run's report is logged, with the logging that ran during the sweep, if any.
pub struct Tracking {
    uri: String,
    live: Option<LiveLog>,
}

impl Tracking {
    /// Logs only the finished report (a merge).
    pub fn after(uri: String) -> Tracking {
        Tracking { uri, live: None }
    }

    /// Also logs each trial as it finishes, while the sweep runs.
    pub fn live(uri: String, experiment: &str, key: &str) -> Tracking {
        let live = LiveLog::start(&uri, experiment, key);
        Tracking { uri, live: Some(live) }
    }

    /// Whether trials are logged during the sweep.
    pub fn logs_live(&self) -> bool {
        self.live.is_some()
    }

    /// A trial whose folds have all finished.
    pub fn trial_done(&self, run: RunLog) {
        if let Some(live) = &self.live {
            live.send(run);
        }
    }

    /// Logs the finished report: what the sweep's logging left undone, the parent's summary,
    /// artifacts and status. A failure costs no result: it is one warning that says how to
    /// log the report later.
    pub fn log_finished(self, report: &Report, dir: &Path) {
        if let Some(live) = self.live {
            live.finish();
        }
        log_report(&self.uri, report, dir);
    }
}

fn log_report(uri: &str, report: &Report, dir: &Path) {
    let logged = serde_json::to_value(report).map_err(|e| e.to_string()).and_then(|v| log(uri, &v, dir));
    match logged {
        Ok(l) => say_logged(uri, &l),
        Err(e) => eprintln!(
            "warning: {e}\nwarning: the report is written but not fully logged; log it later with `runner mlflow-sync {} --uri {uri}`",
            dir.display()
        ),
    }
}

fn say_logged(uri: &str, l: &Logged) {
    // MLflow 3's UI opens on its GenAI pages unless the link asks for model training.
    let link = format!(
        "{}/#/experiments/{}/runs/{}?workflowType=machine_learning",
        uri.trim_end_matches('/'),
        l.experiment_id,
        l.parent_run_id
    );
    if l.already {
        eprintln!("mlflow: already logged as {link}");
    } else {
        eprintln!("mlflow: {link} ({} trial runs)", l.trials);
    }
}

/// `runner mlflow-sync DIR`: logs a report folder written earlier (a run whose server was
/// down, or one run without tracking); what is already on the server is not logged again.
pub fn mlflow_sync(args: &MlflowSyncArgs) -> u8 {
    let Some(uri) = args.uri.clone().or_else(|| env("MLFLOW_TRACKING_URI")) else {
        eprintln!("error: give the tracking server with --uri or MLFLOW_TRACKING_URI");
        return EXIT_USAGE;
    };
    let path = args.dir.join("report.json");
    let report = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
        .and_then(|t| {
            serde_json::from_str::<Value>(&t).map_err(|e| format!("{} is not a report.json: {e}", path.display()))
        })
        .and_then(|v| tracking::from_report(&v).map(|_| v));
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    match log(&uri, &report, &args.dir) {
        Ok(l) => {
            say_logged(&uri, &l);
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_ALL_FAILED
        }
    }
}
