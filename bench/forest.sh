#!/usr/bin/env bash
# Issue #24's forest benchmark in one invocation: runner's random_forest (100 trees, 5 folds,
# default report) then scikit-learn's RandomForestClassifier(n_jobs=2) in cross_validate on
# the same folds. Wall time and peak RSS from /usr/bin/time -v; fold accuracies side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
runner=${RUNNER:-target/release/runner}
python=${PYTHON:-bench/.venv/bin/python}
mkdir -p bench/out
[ -f bench/data/forest.csv ] || "$python" bench/forest.py
/usr/bin/time -v -o bench/out/forest.runner.time "$runner" run bench/forest.toml --quiet --fresh --out bench/out/forest >/dev/null
/usr/bin/time -v -o bench/out/forest.sklearn.time "$python" bench/forest.py bench/out/forest.sklearn.json
"$python" - <<'PY'
import json, re
def time_of(path):
    text = open(path).read()
    wall = re.search(r"Elapsed \(wall clock\) time.*: (.*)", text).group(1)
    parts = [float(p) for p in wall.split(":")]
    seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024
    return seconds, rss
r, s = time_of("bench/out/forest.runner.time"), time_of("bench/out/forest.sklearn.time")
ours = json.load(open("bench/out/forest/report.json"))["trials"][0]["test"]["accuracy"]["folds"]
theirs = json.load(open("bench/out/forest.sklearn.json"))["accuracy"]
print(f"runner   {r[0]:7.2f} s  {r[1]:7.0f} MiB")
print(f"sklearn  {s[0]:7.2f} s  {s[1]:7.0f} MiB  ({s[0] / r[0]:.2f}x)")
print("fold accuracies equal:", ours == theirs, ours, theirs)
PY
