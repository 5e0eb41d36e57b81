#!/usr/bin/env bash
# Issue #25's pipeline benchmark in one invocation: runner's poly -> standard -> ridge grid
# (bench/pipeline.toml, degree 1-3 × 10 alphas, 5 folds, 50,000 × 20; pipeline_d4.toml: degree
# 1-4 on 10 of the features) then scikit-learn's GridSearchCV over the same Pipeline (n_jobs=2).
# Wall time, user+sys CPU and peak RSS from /usr/bin/time -v; fold mse and chosen parameters compared.
#
#   bench/pipeline.sh                 # both workloads
#   bench/pipeline.sh pipeline_d4     # one of: pipeline, pipeline_d4
set -euo pipefail
cd "$(dirname "$0")/.."
runner=${RUNNER:-target/release/runner}
python=${PYTHON:-bench/.venv/bin/python}
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(pipeline pipeline_d4)
mkdir -p bench/out
"$python" bench/pipeline_data.py
for w in "${workloads[@]}"; do
  /usr/bin/time -v -o "bench/out/$w.runner.time" "$runner" run "bench/$w.toml" --quiet --fresh --no-cache --out "bench/out/$w" >/dev/null
  /usr/bin/time -v -o "bench/out/$w.sklearn.time" "$python" bench/pipeline_bench.py "$w" "bench/out/$w.sklearn.json"
  for side in runner sklearn; do
    awk -v w="$w" -v s="$side" -F': ' '/Elapsed/ {wall=$2} /User time/ {u=$2} /System time/ {k=$2}
      /Maximum resident/ {printf "%-12s %-8s wall %s  cpu %.1f s  peak RSS %.0f MiB\n", w, s, wall, u + k, $2 / 1024}' \
      "bench/out/$w.$side.time"
  done
  "$python" bench/pipeline_bench.py compare "bench/out/$w/report.json" "bench/out/$w.sklearn.json"
done
