#!/usr/bin/env bash
# hist_gradient_boosting against scikit-learn's HGB and LightGBM on the same 5 folds of
# 200,000 × 50 (BENCHMARKS.md): wall time, peak RSS and the fold MSEs, one after the other.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-bench/.venv/bin/python}   # scikit-learn, pandas and lightgbm
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet
[ -f bench/data/regression.csv ] || cargo run --release --quiet --example gen_bench_data -- bench/data
mkdir -p bench/out
/usr/bin/time -v -o bench/out/hgb.runner.time "$target/release/runner" run bench/hgb.toml --quiet --fresh --out bench/out/hgb >/dev/null
/usr/bin/time -v -o bench/out/hgb.sklearn.time "$py" bench/hgb_bench.py sklearn bench/out/hgb.sklearn.json
/usr/bin/time -v -o bench/out/hgb.lightgbm.time "$py" bench/hgb_bench.py lightgbm bench/out/hgb.lightgbm.json
"$py" - <<'PY'
import json, re
def t(path):
    text = open(path).read()
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", text)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    return int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3)), rss / 1024
ours = json.load(open("bench/out/hgb/report.json"))["trials"][0]["test"]["mse"]["folds"]
print("| tool | wall | peak RSS | fold MSE | vs runner |")
print("|---|---:|---:|---|---|")
for tool in ("runner", "sklearn", "lightgbm"):
    wall, rss = t(f"bench/out/hgb.{tool}.time")
    mse = ours if tool == "runner" else json.load(open(f"bench/out/hgb.{tool}.json"))["mse"]
    diff = max(abs(a - b) / b for a, b in zip(mse, ours))
    print(f"| {tool} | {wall:.1f} s | {rss:.0f} MiB | {', '.join(f'{m:.6f}' for m in mse)} | max rel. diff {diff:.1e} |")
PY
