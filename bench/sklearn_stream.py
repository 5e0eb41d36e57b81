"""The scikit-learn side of the streaming benchmark: the ridge grid of bench/stream_ridge.toml
(10 alphas, KFold(5, shuffle, random_state=0)) with GridSearchCV on the Parquet file read
into memory by pandas, and the fold MSEs compared with runner's report.json.

    python bench/sklearn_stream.py FILE.parquet [RUNNER_REPORT.json]
"""
import json
import sys

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold

df = pd.read_parquet(sys.argv[1])
X, y = df.drop(columns=["y"]), df["y"]
del df
alphas = np.logspace(-3, 3, 10)
search = GridSearchCV(Ridge(), {"alpha": alphas}, cv=KFold(5, shuffle=True, random_state=0),
                      scoring="neg_mean_squared_error", n_jobs=2, refit=True)
search.fit(X, y)
mse = [[-search.cv_results_[f"split{k}_test_score"][i] for k in range(5)] for i in range(len(alphas))]
print(f"best alpha {search.best_params_['alpha']:.6g}, mean test mse {-search.best_score_:.12g}")
if len(sys.argv) > 2:
    report = json.load(open(sys.argv[2]))
    ours = [t["test"]["mse"]["folds"] for t in report["trials"]]
    worst = max(abs(a - b) / abs(b) for r, s in zip(ours, mse) for a, b in zip(r, s))
    print(f"fold MSE max relative difference, runner vs scikit-learn: {worst:.2e}")
