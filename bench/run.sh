#!/usr/bin/env bash
# runner against scikit-learn on the same work, one after the other, in one invocation.
# Each workload runs twice on each side: cold (runner's first run, with an empty parsed-data cache
# of its own) and warm (a rerun with another grid on the same file, which reads the cache);
# scikit-learn runs the same two grids. Prints one markdown table: wall time, peak RSS, the
# speed-up and whether the fold metrics agree, cold and warm. See BENCHMARKS.md.
#
#   bench/run.sh            # the issue's workloads: ridge, ridge_stripped, lasso, enet, logistic, logistic_cv, logistic_mc
#   bench/run.sh svm mlp    # any of: ridge, ridge_stripped, lasso, enet, logistic, logistic_cv, logistic_mc, svm, svr, mlp
set -euo pipefail
cd "$(dirname "$0")/.."
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(ridge ridge_stripped lasso enet logistic logistic_cv logistic_mc)

# The warm run's other grid, as --set overrides (scikit-learn's side: bench/sklearn_bench.py's
# "warm" grids, the same values). Workloads without one run cold only.
declare -A warm=(
  [ridge]='model.ridge.grid.alpha={ logspace = [-2, 4, 10] }'
  [ridge_stripped]='model.ridge.grid.alpha={ logspace = [-2, 4, 10] }'
  [lasso]='model.lasso.grid.alpha={ logspace = [-4, 0, 20] }'
  [enet]='model.enet.grid.l1_ratio=[0.3, 0.6, 0.9]'
  [logistic]='model.logreg.grid.c=[0.03, 0.3, 3, 30]'
  [logistic_cv]='model.logreg.grid.c=[0.03, 0.3, 3, 30]'
  [logistic_mc]='model.logreg.grid.c=[0.03, 0.3, 3, 30]'
)

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
runner="${CARGO_TARGET_DIR:-target}/release/runner"
caches=$(mktemp -d)
trap 'rm -rf "$caches"' EXIT

timed() { /usr/bin/time -v -o "$1" "${@:2}"; }

for w in "${workloads[@]}"; do
  # An empty cache folder of its own: the cold run parses (and writes the cache), the warm one reads it.
  cache="$caches/$w"
  mkdir -p "$cache"
  rm -rf "bench/out/$w.warm"*
  echo "== $w: runner, cold" >&2
  timed "bench/out/$w.runner.time" "$runner" run "bench/$w.toml" --quiet --fresh \
    --cache-dir "$cache" --out "bench/out/$w" >/dev/null
  echo "== $w: scikit-learn" >&2
  timed "bench/out/$w.sklearn.time" "$venv/bin/python" bench/sklearn_bench.py "$w" "bench/out/$w.sklearn.json"
  if [ -n "${warm[$w]:-}" ]; then
    echo "== $w: runner, warm (${warm[$w]})" >&2
    timed "bench/out/$w.warm.runner.time" "$runner" run "bench/$w.toml" --quiet --fresh \
      --cache-dir "$cache" --set "${warm[$w]}" --out "bench/out/$w.warm" >/dev/null
    echo "== $w: scikit-learn, warm grid" >&2
    timed "bench/out/$w.warm.sklearn.time" "$venv/bin/python" bench/sklearn_bench.py "$w" \
      "bench/out/$w.warm.sklearn.json" warm
  fi
done

# The tutorial's run, end to end (report writing included).
: > bench/out/boston.times
for _ in $(seq 10); do
  start=$(date +%s.%N)
  "$runner" experiments/boston.toml --quiet --out bench/out/boston >/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc >> bench/out/boston.times
done

"$venv/bin/python" bench/compare.py "${workloads[@]}"
