#!/usr/bin/env bash
# Speed-up of one sweep (bench/jobs.toml: 200 trials × 5 folds) with --jobs 1 and --jobs 2,
# and the reports' equality outside `run`. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
mkdir -p bench/out
for j in 1 2; do
  /usr/bin/time -f "%e" -o "bench/out/jobs$j.time" target/release/runner run bench/jobs.toml --quiet --fresh --jobs "$j" --out "bench/out/jobs$j" >/dev/null
done
t1=$(cat bench/out/jobs1.time); t2=$(cat bench/out/jobs2.time)
same=$(python3 -c "import json;a,b=[json.load(open(f'bench/out/jobs{j}/report.json')) for j in (1,2)];a.pop('run');b.pop('run');print('identical' if a==b else 'DIFFERENT')")
echo "| jobs | wall |"
echo "|---:|---:|"
echo "| 1 | ${t1} s |"
echo "| 2 | ${t2} s |"
echo "speed-up: $(echo "scale=2; $t1 / $t2" | bc)×, reports outside run: $same"
