"""The other side of bench/hgb.sh: the same 5 folds of bench/data/regression.csv with
scikit-learn's HistGradientBoostingRegressor (OpenMP on both cores) or LightGBM (2 threads),
200 iterations, early stopping off, otherwise scikit-learn's defaults as far as they map.

    python bench/hgb_bench.py sklearn|lightgbm OUT.json
"""
import json
import sys

import pandas as pd
from sklearn.model_selection import KFold, cross_validate

tool, out = sys.argv[1], sys.argv[2]
df = pd.read_csv("bench/data/regression.csv")
X, y = df.drop(columns=["y"]).values, df["y"].values
if tool == "sklearn":
    from sklearn.ensemble import HistGradientBoostingRegressor
    model = HistGradientBoostingRegressor(max_iter=200, early_stopping=False, random_state=0)
else:
    from lightgbm import LGBMRegressor
    # num_leaves 31, min_child_samples 20, max_bin 255, lr 0.1, lambda 0 as scikit-learn's; no bagging.
    model = LGBMRegressor(n_estimators=200, learning_rate=0.1, num_leaves=31, min_child_samples=20, max_bin=255,
                          reg_lambda=0.0, min_child_weight=1e-3, n_jobs=2, verbose=-1, random_state=0)
scores = cross_validate(model, X, y, cv=KFold(5, shuffle=True, random_state=0), scoring="neg_mean_squared_error")
with open(out, "w") as f:
    json.dump({"mse": (-scores["test_score"]).tolist()}, f)
