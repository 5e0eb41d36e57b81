"""Issue #24's forest benchmark, scikit-learn's side: writes bench/data/forest.csv (20,000 ×
20, two classes from a non-linear rule with noise) when missing, then times
RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=2) inside cross_validate on
the same stratified 5 folds as bench/forest.toml, and writes the fold accuracies.

    python bench/forest.py OUT.json   # (no OUT.json: only write the data)
"""
import json
import os
import sys
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_validate

path = "bench/data/forest.csv"
if not os.path.exists(path):
    rng = np.random.RandomState(24)
    X = rng.normal(size=(20000, 20))
    score = X[:, 0] * X[:, 1] + np.sin(2 * X[:, 2]) + X[:, 3:8].sum(axis=1) * 0.3 + rng.normal(size=20000) * 0.8
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(20)])
    df["label"] = np.where(score > np.median(score), "yes", "no")
    os.makedirs("bench/data", exist_ok=True)
    df.to_csv(path, index=False, float_format="%.17g")
if len(sys.argv) < 2:
    sys.exit(0)
start = time.time()
df = pd.read_csv(path)
X, y = df.drop(columns=["label"]), df["label"]
cv = StratifiedKFold(5, shuffle=True, random_state=0)
scores = cross_validate(RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=2), X, y, cv=cv,
                        scoring="accuracy")
json.dump({"accuracy": scores["test_score"].tolist(), "seconds": time.time() - start}, open(sys.argv[1], "w"))
