#!/usr/bin/env bash
# Issue #24: a 500-tree forest's model.json loads and predicts 100,000 rows in under a second.
# Trains the forest once (bench/forest_predict.toml, refitted on the holdout's training rows of
# bench/data/forest.csv), writes 100,000 new rows of the same 20 features, then times
# `runner predict` (load, check, predict, write the CSV) with /usr/bin/time -v. The same for a
# 200-iteration hist_gradient_boosting model (bench/hgb_predict.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
runner=${RUNNER:-target/release/runner}
python=${PYTHON:-bench/.venv/bin/python}
mkdir -p bench/out
[ -f bench/data/forest.csv ] || "$python" bench/forest.py
[ -f bench/data/forest_new.csv ] || "$python" - <<'PY'
import numpy as np, pandas as pd
X = np.random.RandomState(25).normal(size=(100000, 20))
pd.DataFrame(X, columns=[f"x{j}" for j in range(20)]).to_csv("bench/data/forest_new.csv", index=False, float_format="%.17g")
PY
for model in forest_predict hgb_predict; do
    [ -f bench/out/$model/model.json ] ||
        "$runner" run bench/$model.toml --quiet --fresh --out bench/out/$model >/dev/null
    ls -l bench/out/$model/model.json
    for run in 1 2 3; do
        /usr/bin/time -v -o bench/out/$model.time "$runner" predict bench/out/$model/model.json \
            bench/data/forest_new.csv --out bench/out/$model.csv
        grep -E "Elapsed|User time|System time|Maximum resident" bench/out/$model.time | tr '\n' ' '
        echo
    done
done
