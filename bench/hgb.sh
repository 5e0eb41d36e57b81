#!/usr/bin/env bash
# Issue #24's HGB benchmark in one invocation: runner's hist_gradient_boosting (200 iterations,
# early stopping off, 5 folds, default report; then with permutation importance off), then
# scikit-learn's HistGradientBoostingRegressor and LightGBM in cross_validate on the same folds
# (bench/hgb.py). Wall and CPU time and peak RSS from /usr/bin/time -v; fold MSEs side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
runner=${RUNNER:-target/release/runner}
python=${PYTHON:-bench/.venv/bin/python}
mkdir -p bench/out
[ -f bench/data/regression.csv ] || cargo run --release --quiet --example gen_bench_data -- bench/data
/usr/bin/time -v -o bench/out/hgb.runner.time "$runner" run bench/hgb.toml --quiet --fresh --out bench/out/hgb >/dev/null
/usr/bin/time -v -o bench/out/hgb_stripped.runner.time "$runner" run bench/hgb.toml --quiet --fresh \
  --set report.permutation_importance=false --out bench/out/hgb_stripped >/dev/null
/usr/bin/time -v -o bench/out/hgb.sklearn.time "$python" bench/hgb.py sklearn bench/out/hgb.sklearn.json
/usr/bin/time -v -o bench/out/hgb.lightgbm.time "$python" bench/hgb.py lightgbm bench/out/hgb.lightgbm.json
"$python" - <<'PY'
import json, re
def time_of(path):
    text = open(path).read()
    wall = re.search(r"Elapsed \(wall clock\) time.*: (.*)", text).group(1)
    seconds = sum(float(p) * 60 ** i for i, p in enumerate(reversed(wall.split(":"))))
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", text).group(1)) for k in ("User", "System"))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024
    return seconds, cpu, rss
sk = time_of("bench/out/hgb.sklearn.time")
theirs = json.load(open("bench/out/hgb.sklearn.json"))["mse"]
lgb = json.load(open("bench/out/hgb.lightgbm.json"))["mse"]
for name, path in [("runner", "hgb.runner"), ("runner, no importance", "hgb_stripped.runner"),
                   ("scikit-learn", "hgb.sklearn"), ("LightGBM", "hgb.lightgbm")]:
    wall, cpu, rss = time_of(f"bench/out/{path}.time")
    print(f"{name:24} wall {wall:7.2f} s  cpu {cpu:7.2f} s  {rss:6.0f} MiB  (scikit-learn cpu / this cpu: {sk[1] / cpu:.2f}x)")
ours = json.load(open("bench/out/hgb/report.json"))["trials"][0]["test"]["mse"]["folds"]
worst = max(abs(a - b) / b for a, b in zip(ours, theirs))
print("fold MSE runner      ", ours)
print("fold MSE scikit-learn", theirs, f"max rel. diff {worst:.1e}")
print("fold MSE LightGBM    ", lgb)
PY
