"""Issue #24's HGB benchmark, the Python side: HistGradientBoostingRegressor(max_iter=200,
early_stopping=False) or LightGBM's LGBMRegressor with the same settings as far as they map
(num_leaves 31, learning_rate 0.1, 200 rounds, min_data_in_leaf 20, max_bin 255, lambda_l2 0,
min_sum_hessian_in_leaf 1e-3, no bagging or feature sampling), inside cross_validate on the
same shuffled 5 folds as bench/hgb.toml, on bench/data/regression.csv. Both use their OpenMP
threads on the machine's cores. Writes the fold MSEs.

    python bench/hgb.py sklearn|lightgbm OUT.json
"""
import json
import sys
import time

import pandas as pd
from sklearn.model_selection import KFold, cross_validate

which, out = sys.argv[1], sys.argv[2]
start = time.time()
df = pd.read_csv("bench/data/regression.csv")
X, y = df.drop(columns=["y"]), df["y"]
if which == "sklearn":
    from sklearn.ensemble import HistGradientBoostingRegressor
    model = HistGradientBoostingRegressor(max_iter=200, early_stopping=False, random_state=0)
else:
    from lightgbm import LGBMRegressor
    model = LGBMRegressor(n_estimators=200, num_leaves=31, learning_rate=0.1, min_child_samples=20, max_bin=255,
                          reg_lambda=0.0, min_child_weight=1e-3, subsample=1.0, colsample_bytree=1.0,
                          random_state=0, verbose=-1)
scores = cross_validate(model, X, y, cv=KFold(5, shuffle=True, random_state=0), scoring="neg_mean_squared_error")
json.dump({"mse": (-scores["test_score"]).tolist(), "seconds": time.time() - start}, open(out, "w"))
