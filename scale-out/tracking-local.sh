#!/usr/bin/env bash
# Checks docs/tracking.md and docs/dvc.md with the real tools: it installs mlflow and dvc into a
# virtual environment, starts `mlflow server` on localhost with its default SQLite store, runs
# two experiments (one killed and resumed, one logged while the server is down and synced
# afterwards), reads everything back with MLflow's Python client, then runs a DVC repository
# through `dvc exp run` twice with a changed parameter and checks `dvc metrics diff`.
# Not part of CI (it installs Python packages and starts a server); run it on a machine with
# python3, git and cargo:
#
#     bash scale-out/tracking-local.sh        (RUNNER=path/to/runner VENV=dir skip the build and the install)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK=$(mktemp -d)
VENV=${VENV:-$WORK/venv}
PORT=${PORT:-5077}
URI=http://127.0.0.1:$PORT
if [ ! -x "$VENV/bin/mlflow" ] || [ ! -x "$VENV/bin/dvc" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q mlflow dvc
fi
if [ -z "${RUNNER:-}" ]; then
  cargo build --release -q
  RUNNER=$ROOT/target/release/runner
fi

start_server() {
  (cd "$WORK" && "$VENV/bin/mlflow" server --host 127.0.0.1 --port "$PORT" >>"$WORK/server.log" 2>&1 &)
  for _ in $(seq 120); do curl -fs "$URI/health" >/dev/null 2>&1 && return; sleep 0.5; done
  echo "mlflow server did not start; see $WORK/server.log" >&2
  exit 1
}
stop_server() {
  pkill -f "mlflow server --host 127.0.0.1 --port $PORT" || true
  pkill -f "uvicorn.*$PORT" || true
  sleep 2
}
trap stop_server EXIT

echo "== 1. boston_ridge, logged as it finishes"
start_server
export MLFLOW_TRACKING_URI=$URI
"$RUNNER" run experiments/boston_ridge.toml --quiet --mlflow --out "$WORK/ridge" >/dev/null
echo "== 2. diabetes, killed mid-sweep, then resumed (logged once, by the resumed run)"
timeout -s KILL 1 "$RUNNER" run experiments/diabetes.toml --quiet --mlflow --jobs 1 --out "$WORK/diabetes" >/dev/null 2>&1 || true
"$RUNNER" run experiments/diabetes.toml --quiet --mlflow --out "$WORK/diabetes" >/dev/null
echo "== 2b. the same command again: nothing new is logged"
"$RUNNER" run experiments/diabetes.toml --quiet --mlflow --out "$WORK/diabetes" >/dev/null 2>"$WORK/again.err"
grep -q "already logged" "$WORK/again.err"
echo "== 3. iris while the server is down: the run finishes, warns once; mlflow-sync logs it later"
stop_server
"$RUNNER" run experiments/iris.toml --quiet --mlflow --out "$WORK/iris" >/dev/null 2>"$WORK/iris.err"
grep -c "^warning: MLflow at" "$WORK/iris.err" | grep -qx 1
test -f "$WORK/iris/report.json"
start_server
"$RUNNER" mlflow-sync "$WORK/iris"
"$RUNNER" mlflow-sync "$WORK/iris"

echo "== 4. reading it all back with MLflow's client"
"$VENV/bin/python" - "$WORK" <<'PY'
import json, sys, mlflow
from collections import Counter
work = sys.argv[1]
client = mlflow.MlflowClient()
for folder in ["ridge", "diabetes", "iris"]:
    report = json.load(open(f"{work}/{folder}/report.json"))
    name, key = report["experiment"]["name"], report["run"]["key"]
    exp = client.get_experiment_by_name(name)
    assert exp is not None, name
    runs = client.search_runs([exp.experiment_id], f"tags.runner_key = '{key}'", max_results=5000)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1, f"{name}: {len(parents)} parents"
    parent = parents[0]
    assert parent.info.status == "FINISHED"
    trials = {t["id"]: t for t in report["trials"]}
    seen = Counter(r.data.tags["runner_trial"] for r in children)
    assert set(seen) == set(trials) and max(seen.values()) == 1, f"{name}: duplicates or missing {seen}"
    assert all(r.data.tags["mlflow.parentRunId"] == parent.info.run_id for r in children)
    best = trials[report["best"]["trial"]]
    rank = report["rank_by"]
    assert parent.data.metrics[f"test_{rank}"] == best["test"][rank]["mean"]
    for r in children:
        t = trials[r.data.tags["runner_trial"]]
        assert r.info.status == ("FINISHED" if t["status"] == "ok" else "FAILED")
        for k, v in t["params"].items():
            assert k in r.data.params, (k, r.data.params)
        if t["status"] == "ok":
            history = client.get_metric_history(r.info.run_id, f"test_{rank}_fold")
            assert [m.value for m in sorted(history, key=lambda m: m.step)] == t["test"][rank]["folds"]
            assert r.data.metrics[f"test_{rank}"] == t["test"][rank]["mean"]
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"report.json", "report.html", "model.json"} <= artifacts, artifacts
    plots = client.list_artifacts(parent.info.run_id, "plots")
    print(f"{name}: 1 parent ({parent.info.status}), {len(children)} child runs = {len(trials)} trials, "
          f"{len(artifacts)} artifacts + {len(plots)} plots, best {report['best']['trial']} "
          f"test_{rank} {parent.data.metrics[f'test_{rank}']}")
print("mlflow: ok")
PY

echo "== 5. DVC: dvc exp run twice with a changed parameter, then dvc metrics diff"
REPO=$WORK/dvc-repo
mkdir -p "$REPO/data"
cp datasets/boston.csv "$REPO/data/"
sed 's#\.\./datasets/boston.csv#data/boston.csv#' experiments/boston_ridge.toml > "$REPO/boston.toml"
cp docs/dvc.yaml.example "$REPO/dvc.yaml"
cd "$REPO"
export PATH=$(dirname "$RUNNER"):$VENV/bin:$PATH
git init -q && git config user.email ci@example.com && git config user.name ci
dvc init -q
git add -A && git commit -qm "experiment"
dvc exp run -q >/dev/null
git add -A && git commit -qm "baseline" >/dev/null
dvc metrics show
dvc exp run -q --set-param boston.toml:split.folds=10 >/dev/null
dvc params diff
dvc metrics diff | tee "$WORK/diff.txt"
grep -q "best.mse" "$WORK/diff.txt"
dvc plots show -o "$WORK/dvc-plots" >/dev/null && test -f "$WORK/dvc-plots/index.html"
echo "dvc: ok"
echo "all checks passed (work folder $WORK)"
