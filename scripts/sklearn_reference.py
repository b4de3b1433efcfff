#!/usr/bin/env python3
"""Writes Tests/FlywheelLearnTests/Fixtures/sklearn_reference.json: scikit-learn's test scores on
the fixture datasets with the given splits, which Flywheel's learners must match within 2 points
of accuracy (classifiers) or 0.02 of R² (regressors).

Usage: python3 scripts/sklearn_reference.py   (pip install scikit-learn numpy)
Each entry records the estimator's settings so the Swift tests use the same ones.
"""
import json, os, sys
import numpy as np
import sklearn
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression, LinearRegression, Ridge
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.ensemble import (RandomForestClassifier, RandomForestRegressor,
                              HistGradientBoostingClassifier, HistGradientBoostingRegressor)
from sklearn.cluster import KMeans
from sklearn.metrics import accuracy_score, r2_score

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "Tests", "FlywheelLearnTests", "Fixtures")


def load(name):
    path = os.path.join(FIX, "data", name + ".csv")
    header = open(path).readline().strip().split(",")
    raw = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=str)
    x = raw[:, :-1].astype(float)
    y = raw[:, -1]
    test = np.loadtxt(os.path.join(FIX, "data", name + ".test_idx.txt"), dtype=int)
    mask = np.zeros(len(y), dtype=bool)
    mask[test] = True
    return header, x, y, mask


SEEDS = range(20)

# Randomized estimators also get their mean score over SEEDS, since one seed's score on a
# 38-row test set moves by whole rows (iris: one row is 2.6 points).
SEEDED = {
    ("classification", "decision_tree"): lambda s: DecisionTreeClassifier(random_state=s),
    ("classification", "random_forest"): lambda s: RandomForestClassifier(n_estimators=100, random_state=s, n_jobs=1),
    ("regression", "decision_tree"): lambda s: DecisionTreeRegressor(random_state=s),
    ("regression", "random_forest"): lambda s: RandomForestRegressor(n_estimators=100, random_state=s, n_jobs=1),
}

CLASSIFIERS = {
    "logistic_regression": ({"C": 1.0, "max_iter": 1000, "scaled": True},
                            lambda: make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))),
    "decision_tree": ({"criterion": "gini", "max_depth": None, "min_samples_leaf": 1},
                      lambda: DecisionTreeClassifier(random_state=0)),
    "random_forest": ({"n_trees": 100, "max_features": "sqrt", "bootstrap": True},
                      lambda: RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1)),
    "hist_gradient_boosting": ({"learning_rate": 0.1, "max_iter": 100, "max_leaf_nodes": 31, "min_samples_leaf": 20,
                                "l2": 0.0, "max_bins": 255, "early_stopping": "auto (off below 10,000 rows)"},
                               lambda: HistGradientBoostingClassifier(random_state=0)),
}
REGRESSORS = {
    "linear_regression": ({}, lambda: LinearRegression()),
    "ridge": ({"alpha": 1.0}, lambda: Ridge(alpha=1.0)),
    "decision_tree": ({"criterion": "squared_error", "max_depth": None, "min_samples_leaf": 1},
                      lambda: DecisionTreeRegressor(random_state=0)),
    "random_forest": ({"n_trees": 100, "max_features": 1.0, "bootstrap": True},
                      lambda: RandomForestRegressor(n_estimators=100, random_state=0, n_jobs=1)),
    "hist_gradient_boosting": ({"learning_rate": 0.1, "max_iter": 100, "max_leaf_nodes": 31, "min_samples_leaf": 20,
                                "l2": 0.0, "max_bins": 255},
                               lambda: HistGradientBoostingRegressor(random_state=0)),
}


def main():
    out = {"generated_by": "scripts/sklearn_reference.py", "seeds_for_seed_mean": list(SEEDS), "sklearn": sklearn.__version__, "numpy": np.__version__,
           "python": sys.version.split()[0], "classification": {}, "regression": {}, "kmeans": {}}
    for name in ["iris", "wine", "breast_cancer", "digits"]:
        _, x, y, test = load(name)
        scores = {}
        for est, (params, make) in CLASSIFIERS.items():
            m = make().fit(x[~test], y[~test])
            scores[est] = {"accuracy": float(accuracy_score(y[test], m.predict(x[test]))), "params": params}
            if ("classification", est) in SEEDED:
                make_seeded = SEEDED[("classification", est)]
                scores[est]["seed_mean"] = float(np.mean([accuracy_score(y[test], make_seeded(s).fit(x[~test], y[~test]).predict(x[test]))
                                                          for s in SEEDS]))
        out["classification"][name] = scores
    for name in ["diabetes"]:
        _, x, y, test = load(name)
        y = y.astype(float)
        scores = {}
        for est, (params, make) in REGRESSORS.items():
            m = make().fit(x[~test], y[~test])
            scores[est] = {"r2": float(r2_score(y[test], m.predict(x[test]))), "params": params}
            if ("regression", est) in SEEDED:
                make_seeded = SEEDED[("regression", est)]
                scores[est]["seed_mean"] = float(np.mean([r2_score(y[test], make_seeded(s).fit(x[~test], y[~test]).predict(x[test]))
                                                          for s in SEEDS]))
        out["regression"][name] = scores
    # k-means on iris features: inertia of the best of 10 k-means++ starts, k = 3.
    _, x, _, _ = load("iris")
    km = KMeans(n_clusters=3, n_init=10, random_state=0).fit(x)
    out["kmeans"]["iris"] = {"k": 3, "n_init": 10, "inertia": float(km.inertia_)}
    path = os.path.join(FIX, "sklearn_reference.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
