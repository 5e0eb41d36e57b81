#!/usr/bin/env bash
# The streamed logistic benchmark (issue #27; numbers in BENCHMARKS.md): bench/stream_logistic.toml
# (L-BFGS, tol 1e-10, 5 folds, the default report) on the first 288 rows of breast_cancer.csv,
# streamed and loaded, each run three times; user+sys CPU and wall from /usr/bin/time.
#
#   bench/stream_logistic.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/data bench/out
head -n 289 datasets/breast_cancer.csv > bench/data/cancer288.csv
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release
for mode in true false; do
  for k in 1 2 3; do
    /usr/bin/time -f "streaming=$mode: %e s wall, %U+%S s CPU" "$bin/runner" run bench/stream_logistic.toml \
      --quiet --fresh --set "dataset.path=\"$(realpath bench/data/cancer288.csv)\"" --set "dataset.streaming=$mode" \
      --out "bench/out/stream_logistic_$mode" >/dev/null
  done
done
