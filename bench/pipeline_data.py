"""Writes the pipeline benchmark's data (issue #25) when missing: bench/data/pipeline/regression.csv,
50,000 rows × 20 features from numpy's RandomState(25). The target has squares, products and a
cube of the features plus noise, so the polynomial degree matters. Six decimals: runner and pandas
parse exactly these values.

    python bench/pipeline_data.py
"""
import os

import numpy as np
import pandas as pd

ROWS, FEATURES = 50_000, 20
folder = "bench/data/pipeline"
if not os.path.exists(f"{folder}/regression.csv"):
    rng = np.random.RandomState(25)
    X = rng.normal(size=(ROWS, FEATURES))
    y = (X[:, :5].sum(axis=1) + 0.5 * X[:, 0] * X[:, 1] - 0.3 * X[:, 2] ** 2 + 0.1 * X[:, 3] ** 3
         + 0.05 * X[:, 4] * X[:, 5] * X[:, 6] + rng.normal(scale=0.5, size=ROWS))
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(FEATURES)])
    df["y"] = y
    os.makedirs(folder, exist_ok=True)
    df.to_csv(f"{folder}/regression.csv", index=False, float_format="%.6f")
