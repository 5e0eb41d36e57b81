"""Writes the svm and svr benchmarks' data (issue #26) when missing: bench/data/svm/classification.csv
and regression.csv, 4,000 rows × 20 features each, from numpy's RandomState(26). Features on
different scales (the runs standardise them); the targets are non-linear in them, with noise,
so the rbf kernel's gamma matters. Six decimals: runner and pandas parse exactly these values.

    python bench/svm_data.py
"""
import os

import numpy as np
import pandas as pd

ROWS, FEATURES = 4000, 20
folder = "bench/data/svm"
if not os.path.exists(f"{folder}/regression.csv"):
    rng = np.random.RandomState(26)
    X = rng.normal(size=(ROWS, FEATURES)) * (1.0 + np.arange(FEATURES) % 7)
    z = X / (1.0 + np.arange(FEATURES) % 7)
    signal = z[:, 0] * z[:, 1] + np.sin(2 * z[:, 2]) + 0.5 * z[:, 3] ** 2 + 0.3 * z[:, 4:10].sum(axis=1)
    columns = [f"x{j}" for j in range(FEATURES)]
    os.makedirs(folder, exist_ok=True)
    cls = pd.DataFrame(X, columns=columns)
    cls["label"] = (signal + rng.normal(size=ROWS) > np.median(signal)).astype(int)
    cls.to_csv(f"{folder}/classification.csv", index=False, float_format="%.6f")
    reg = pd.DataFrame(X, columns=columns)
    reg["y"] = signal + 0.5 * rng.normal(size=ROWS)
    reg.to_csv(f"{folder}/regression.csv", index=False, float_format="%.6f")
