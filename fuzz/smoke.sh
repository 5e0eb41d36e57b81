#!/usr/bin/env bash
# A ~105 s fuzz smoke run of every target (15 s each), from the committed seeds. Not part of
# CI (it needs the nightly toolchain and cargo-fuzz); see docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
for target in experiment loader compare trials_log model_file stream init; do
  mkdir -p "fuzz/corpus/$target"
  cargo +nightly fuzz run "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time=15 -rss_limit_mb=2048 -timeout=10
done
