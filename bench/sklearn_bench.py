"""The scikit-learn side of the benchmark: the same work as bench/WORKLOAD.toml (CSV loading,
the same folds, the same preprocessing), with the tool a scikit-learn user would pick for it:
GridSearchCV for ridge and for a scaled logistic pipeline, LassoCV, ElasticNetCV and
LogisticRegressionCV for regularization paths.

    python bench/sklearn_bench.py ridge|ridge_stripped|lasso|enet|logistic|logistic_cv|logistic_mc|svm|svr|mlp OUT.json [warm]

With `warm`, the grid of bench/run.sh's warm run (its --set overrides, the same values).
"""
import json
import sys

import numpy as np
import pandas as pd
from sklearn.linear_model import ElasticNetCV, LassoCV, LogisticRegression, LogisticRegressionCV, Ridge
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

workload, out = sys.argv[1], sys.argv[2]
warm = sys.argv[3:] == ["warm"]
if workload in ("ridge", "ridge_stripped"):
    df = pd.read_csv("bench/data/regression.csv")
    X, y = df.drop(columns=["y"]), df["y"]
    alphas = np.logspace(-2, 4, 10) if warm else np.logspace(-3, 3, 10)
    search = GridSearchCV(Ridge(), {"alpha": alphas}, cv=KFold(5, shuffle=True, random_state=0),
                          scoring="neg_mean_squared_error", n_jobs=2, refit=False)
    search.fit(X, y)
    # Keyed by position in the grid: runner prints 10.0 as "10", Python as "10.0".
    result = {"mse": [[-search.cv_results_[f"split{k}_test_score"][i] for k in range(5)] for i in range(len(alphas))]}
elif workload in ("lasso", "enet"):
    df = pd.read_csv("bench/data/regression.csv")
    X, y = df.drop(columns=["y"]), df["y"]
    alphas = np.logspace(-4, 0, 20) if warm and workload == "lasso" else np.logspace(-3, 1, 20)
    cv = KFold(5, shuffle=True, random_state=0)
    if workload == "lasso":
        model = LassoCV(alphas=alphas, cv=cv, n_jobs=2).fit(X, y)
        # mse_path_ is (alphas, folds), alphas from largest to smallest; runner lists them ascending.
        result = {"mse": model.mse_path_[::-1].tolist()}
    else:
        ratios = [0.3, 0.6, 0.9] if warm else [0.2, 0.5, 0.8]
        model = ElasticNetCV(alphas=alphas, l1_ratio=ratios, cv=cv, n_jobs=2).fit(X, y)
        # mse_path_ is (l1_ratios, alphas descending, folds); runner's trials run alpha-major.
        result = {"mse": [model.mse_path_[r, len(alphas) - 1 - a].tolist() for a in range(len(alphas)) for r in range(len(ratios))]}
elif workload in ("logistic_cv", "logistic_mc"):
    # logistic_mc: make_classification's data (bench/mc_data.py), labels "neg"/"pos".
    df = pd.read_csv("bench/data/mc/classification.csv" if workload == "logistic_mc" else "bench/data/classification.csv")
    X, y = df.drop(columns=["label"]), df["label"]
    cs = [0.03, 0.3, 3.0, 30.0] if warm else [0.01, 0.1, 1.0, 10.0]
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    model = LogisticRegressionCV(Cs=cs, cv=cv, tol=1e-8, max_iter=10000, scoring="neg_log_loss", refit=False, n_jobs=2)
    model.fit(X, y)
    # scores_[positive class] is (folds, Cs).
    result = {"log_loss": (-model.scores_[model.classes_[1]]).T.tolist()}
elif workload in ("svm", "svr"):
    # Issue #26's shape: rbf over 8 C × 3 gamma on 4,000 × 20 (bench/svm_data.py), 5 folds,
    # GridSearchCV's defaults otherwise (it refits the best, as runner's default report does).
    from sklearn.svm import SVC, SVR
    grid = {"svm__C": np.logspace(-2, 2, 8), "svm__gamma": [0.01, 0.05, 0.25]}
    if workload == "svm":
        df = pd.read_csv("bench/data/svm/classification.csv")
        X, y = df.drop(columns=["label"]), df["label"]
        model, cv, scoring = SVC(), StratifiedKFold(5, shuffle=True, random_state=0), "accuracy"
    else:
        df = pd.read_csv("bench/data/svm/regression.csv")
        X, y = df.drop(columns=["y"]), df["y"]
        model, cv, scoring = SVR(), KFold(5, shuffle=True, random_state=0), "neg_mean_squared_error"
    pipe = Pipeline([("scale", StandardScaler()), ("svm", model)])
    search = GridSearchCV(pipe, grid, cv=cv, scoring=scoring, n_jobs=2).fit(X, y)
    # Trials in ParameterGrid's order (C outer, gamma inner), runner's grid order too.
    n = len(search.cv_results_["params"])
    sign = 1 if workload == "svm" else -1
    folds = [[sign * search.cv_results_[f"split{k}_test_score"][i] for k in range(5)] for i in range(n)]
    result = {"accuracy" if workload == "svm" else "mse": folds}
elif workload == "mlp":
    from sklearn.neural_network import MLPClassifier
    df = pd.read_csv("bench/data/small/classification.csv")
    X, y = df.drop(columns=["label"]), df["label"]
    # alpha is the L2 strength on the mean loss, as runner's l2; 50 epochs, no early stop.
    model = MLPClassifier(hidden_layer_sizes=(32,), activation="relu", solver="adam", learning_rate_init=0.001,
                          batch_size=32, max_iter=50, tol=0.0, n_iter_no_change=1000, alpha=0.0001, random_state=0)
    search = GridSearchCV(make_pipeline(StandardScaler(), model), {}, cv=StratifiedKFold(5, shuffle=True, random_state=0),
                          scoring="accuracy", n_jobs=2, refit=False)
    search.fit(X, y)
    result = {"accuracy": [[search.cv_results_[f"split{k}_test_score"][0] for k in range(5)]]}
else:
    df = pd.read_csv("bench/data/classification.csv")
    X, y = df.drop(columns=["label"]), df["label"]
    cs = [0.03, 0.3, 3.0, 30.0] if warm else [0.01, 0.1, 1.0, 10.0]
    pipe = make_pipeline(StandardScaler(), LogisticRegression(tol=1e-8, max_iter=10000))
    search = GridSearchCV(pipe, {"logisticregression__C": cs}, cv=StratifiedKFold(5, shuffle=True, random_state=0),
                          scoring={"accuracy": "accuracy", "log_loss": "neg_log_loss"}, n_jobs=2, refit=False)
    search.fit(X, y)
    result = {
        "accuracy": [[search.cv_results_[f"split{k}_test_accuracy"][i] for k in range(5)] for i in range(len(cs))],
        "log_loss": [[-search.cv_results_[f"split{k}_test_log_loss"][i] for k in range(5)] for i in range(len(cs))],
    }
with open(out, "w") as f:
    json.dump(result, f)
