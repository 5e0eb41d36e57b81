"""Writes issue #27's second logistic benchmark data when missing: bench/data/mc/classification.csv,
scikit-learn's make_classification(n_samples=200000, n_features=50, random_state=0): 2 informative
columns, 2 redundant ones (linear combinations of those), 46 of noise; labels "pos" (class 1) and
"neg". Values are written exactly (shortest round-trip), so runner and pandas read the same numbers.

    python bench/mc_data.py
"""
import os

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification

folder = "bench/data/mc"
if not os.path.exists(f"{folder}/classification.csv"):
    X, y = make_classification(n_samples=200000, n_features=50, random_state=0)
    os.makedirs(folder, exist_ok=True)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    df["label"] = np.where(y == 1, "pos", "neg")
    df.to_csv(f"{folder}/classification.csv", index=False)
