#!/usr/bin/env bash
# runner against scikit-learn on the same work, one after the other, in one invocation.
# Prints wall time, peak RSS, the ratio and whether the fold metrics agree. See BENCHMARKS.md.
#
#   bench/run.sh            # the regularization workloads, default [report]
#   bench/run.sh svm mlp    # any of: ridge, ridge_stripped, lasso, enet, logistic, logistic_cv, logistic_mc, svm, svr, mlp
set -euo pipefail
cd "$(dirname "$0")/.."
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(ridge ridge_stripped lasso enet logistic logistic_cv logistic_mc)

venv=bench/.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet scikit-learn pandas
fi
cargo build --release --quiet
[ -f bench/data/classification.csv ] || cargo run --release --quiet --example gen_bench_data -- bench/data
[ -f bench/data/small/classification.csv ] || cargo run --release --quiet --example gen_bench_data -- bench/data/small 5000
[ -f bench/data/svm/regression.csv ] || "$venv/bin/python" bench/svm_data.py
[ -f bench/data/mc/classification.csv ] || "$venv/bin/python" bench/mc_data.py
mkdir -p bench/out

for w in "${workloads[@]}"; do
  echo "== $w: runner" >&2
  /usr/bin/time -v -o "bench/out/$w.runner.time" target/release/runner run "bench/$w.toml" --quiet --fresh --out "bench/out/$w" >/dev/null
  echo "== $w: scikit-learn" >&2
  /usr/bin/time -v -o "bench/out/$w.sklearn.time" "$venv/bin/python" bench/sklearn_bench.py "$w" "bench/out/$w.sklearn.json"
done

# The tutorial's run, end to end (report writing included).
: > bench/out/boston.times
for _ in $(seq 10); do
  start=$(date +%s.%N)
  target/release/runner experiments/boston.toml --quiet --out bench/out/boston >/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc >> bench/out/boston.times
done

"$venv/bin/python" bench/compare.py "${workloads[@]}"
