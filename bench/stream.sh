#!/usr/bin/env bash
# The streaming benchmark (issue #16; numbers in BENCHMARKS.md): Parquet files of 2M and 20M
# rows × 50 features (seeded, written by gen_bench_data, not committed; the 20M file is 7.9 GB),
# polars reading each alone, runner's streamed ridge grid (10 alphas × 5-fold, default
# report) on both, scikit-learn's GridSearchCV on the 2M file in memory, and one mini-batch
# linear_gd run on the 20M file. Wall time and peak RSS from /usr/bin/time -v.
#
#   bench/stream.sh [DIR]     # DIR holds 2m/ and 20m/ (default bench/data/stream)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-bench/data/stream}
venv=bench/.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet scikit-learn pandas pyarrow
fi
cargo build --release --quiet --examples
cargo build --release --quiet
for size in 2m:2000000 20m:20000000; do
  name=${size%%:*} rows=${size##*:}
  [ -f "$dir/$name/regression.parquet" ] || target/release/examples/gen_bench_data "$dir/$name" "$rows" parquet
done
mkdir -p bench/out
timed() { local label=$1; shift; /usr/bin/time -v -o "bench/out/$label.time" "$@"; grep -E "Elapsed|Maximum resident" "bench/out/$label.time" | sed "s/^/$label: /"; }
for name in 2m 20m; do
  file=$dir/$name/regression.parquet
  target/release/examples/polars_read "$file"
  timed "stream_ridge_$name" target/release/runner run bench/stream_ridge.toml --quiet --fresh \
    --set "dataset.path=\"$(realpath "$file")\"" --out "bench/out/stream_ridge_$name" >/dev/null
done
timed sklearn_ridge_2m "$venv/bin/python" bench/sklearn_stream.py "$dir/2m/regression.parquet" bench/out/stream_ridge_2m/report.json
timed stream_gd_20m target/release/runner run bench/stream_gd.toml --quiet --fresh \
  --set "dataset.path=\"$(realpath "$dir/20m/regression.parquet")\"" --out bench/out/stream_gd_20m >/dev/null
grep -h "epochs\|sgd" bench/out/stream_gd_20m/report.md | head -5
