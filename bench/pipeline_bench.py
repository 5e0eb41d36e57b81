"""The scikit-learn side of the pipeline benchmark (issue #25, bench/pipeline.toml and
pipeline_d4.toml): GridSearchCV(Pipeline([PolynomialFeatures(include_bias=False), StandardScaler(),
Ridge()]), poly__degree × ridge__alpha, KFold(5, shuffle=True, random_state=0), n_jobs=2, refit=True),
on the same CSV and columns. Writes every trial's fold mse and the chosen parameters; `compare`
prints the agreement with runner's report.json.

    python bench/pipeline_bench.py pipeline|pipeline_d4 OUT.json
    python bench/pipeline_bench.py compare REPORT.json SKLEARN.json
"""
import json
import sys

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler


def run(workload, out):
    df = pd.read_csv("bench/data/pipeline/regression.csv")
    features = [f"x{j}" for j in range(10 if workload == "pipeline_d4" else 20)]
    degrees = [1, 2, 3, 4] if workload == "pipeline_d4" else [1, 2, 3]
    pipe = Pipeline([("poly", PolynomialFeatures(include_bias=False)), ("scale", StandardScaler()), ("ridge", Ridge())])
    grid = {"poly__degree": degrees, "ridge__alpha": np.logspace(-3, 3, 10)}
    search = GridSearchCV(pipe, grid, cv=KFold(5, shuffle=True, random_state=0), scoring="neg_mean_squared_error",
                          n_jobs=2)
    search.fit(df[features], df["y"])
    r = search.cv_results_
    trials = [{"degree": int(p["poly__degree"]), "alpha": float(p["ridge__alpha"]),
               "mse": [-float(r[f"split{k}_test_score"][i]) for k in range(5)]} for i, p in enumerate(r["params"])]
    best = {"degree": int(search.best_params_["poly__degree"]), "alpha": float(search.best_params_["ridge__alpha"])}
    with open(out, "w") as f:
        json.dump({"trials": trials, "best": best}, f)


def compare(report_path, sklearn_path):
    report, theirs = json.load(open(report_path)), json.load(open(sklearn_path))

    def key(degree, alpha):
        return degree, float(f"{alpha:.12g}")

    ours = {key(t["params"]["poly.degree"], t["params"]["alpha"]): t for t in report["trials"]}
    worst = 0.0
    for t in theirs["trials"]:
        folds = ours[key(t["degree"], t["alpha"])]["test"]["mse"]["folds"]
        worst = max(worst, max(abs(a - b) / b for a, b in zip(folds, t["mse"])))
    best = next(t for t in report["trials"] if t["id"] == report["best"]["trial"])["params"]
    same = key(best["poly.degree"], best["alpha"]) == key(theirs["best"]["degree"], theirs["best"]["alpha"])
    print(f"{len(theirs['trials'])} trials: fold mse max rel. diff {worst:.1e}" + (" ✓" if worst <= 1e-8 else " ✗")
          + f"; chosen degree {best['poly.degree']}, alpha {best['alpha']:.4g}" + (" equal ✓" if same else
          f" vs scikit-learn's {theirs['best']} ✗"))


if __name__ == "__main__":
    if sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        run(sys.argv[1], sys.argv[2])
