#!/usr/bin/env python3
"""Writes the fixtures Flywheel's metric and linear-model tests compare against scikit-learn:

- Tests/FlywheelLearnTests/Fixtures/metric_cases.json: seeded prediction cases (binary, 3- and
  5-class with imbalance and tied scores, perfect and all-wrong predictions, a class never
  predicted, a predicted class never true, regression) with scikit-learn's metric values.
- Tests/FlywheelLearnTests/Fixtures/linear_reference.json: LinearRegression and Ridge coefficients
  on diabetes, and tightly converged LogisticRegression coefficients on standardized iris and
  breast_cancer, fitted on the training rows of the fixture splits.

Usage: python3 scripts/make_metric_fixtures.py   (scikit-learn 1.7, numpy)
"""
import json, os, sys
import numpy as np
import sklearn
from sklearn import metrics as M
from sklearn.linear_model import LinearRegression, Ridge, LogisticRegression
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "Tests", "FlywheelLearnTests", "Fixtures")


def probabilities(rng, n, k, y_true, skill):
    """Rows of small integer weights normalized to sum 1: many tied scores and exact zeros."""
    w = rng.integers(0, 4, size=(n, k)).astype(float)
    for i in range(n):
        if rng.random() < skill:
            w[i, y_true[i]] += rng.integers(1, 4)
        if w[i].sum() == 0:
            w[i, rng.integers(0, k)] = 1
    return w / w.sum(axis=1, keepdims=True)


def classification_case(name, y_true, y_pred, proba, k):
    labels = list(range(k))
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    exp = {
        "accuracy": M.accuracy_score(y_true, y_pred),
        "balanced_accuracy": M.balanced_accuracy_score(y_true, y_pred),
        "confusion_matrix": M.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }
    for avg in ["micro", "macro", "weighted"]:
        exp["precision_" + avg] = M.precision_score(y_true, y_pred, average=avg)
        exp["recall_" + avg] = M.recall_score(y_true, y_pred, average=avg)
        exp["f1_" + avg] = M.f1_score(y_true, y_pred, average=avg)
    if len(set(y_true) | set(y_pred)) <= 2 and k == 2:
        for pos in [0, 1]:
            exp[f"precision_binary_pos{pos}"] = M.precision_score(y_true, y_pred, average="binary", pos_label=pos)
            exp[f"recall_binary_pos{pos}"] = M.recall_score(y_true, y_pred, average="binary", pos_label=pos)
            exp[f"f1_binary_pos{pos}"] = M.f1_score(y_true, y_pred, average="binary", pos_label=pos)
    if proba is not None:
        exp["log_loss"] = M.log_loss(y_true, proba, labels=labels)
        if len(set(y_true)) == k:
            if k == 2:
                exp["roc_auc"] = M.roc_auc_score(y_true, proba[:, 1])
            else:
                exp["roc_auc_ovr_macro"] = M.roc_auc_score(y_true, proba, multi_class="ovr", average="macro")
                exp["roc_auc_ovr_weighted"] = M.roc_auc_score(y_true, proba, multi_class="ovr", average="weighted")
    return {
        "name": name, "classes": k, "y_true": y_true.tolist(), "y_pred": y_pred.tolist(),
        "probabilities": None if proba is None else proba.tolist(),
        "expected": {key: (float(v) if not isinstance(v, list) else v) for key, v in exp.items()},
    }


def metric_cases():
    rng = np.random.default_rng(20261129)
    cases = []
    # Binary, imbalanced, tied scores.
    y = (rng.random(200) < 0.3).astype(int)
    p = probabilities(rng, 200, 2, y, 0.6)
    cases.append(classification_case("binary_ties", y, p.argmax(axis=1), p, 2))
    # Binary with scores rounded hard (few distinct thresholds).
    y = (rng.random(60) < 0.5).astype(int)
    s = np.clip(np.round(0.5 * y + rng.normal(0.25, 0.3, 60), 1), 0, 1)
    p = np.column_stack([1 - s, s])
    cases.append(classification_case("binary_rounded", y, (s >= 0.5).astype(int), p, 2))
    # Binary: the positive class never predicted (precision divides by zero).
    y = (rng.random(40) < 0.4).astype(int)
    p = probabilities(rng, 40, 2, y, 0.2)
    cases.append(classification_case("binary_never_positive", y, np.zeros(40, dtype=int), p, 2))
    # 3 classes, imbalanced 60/30/10.
    y = rng.choice(3, size=150, p=[0.6, 0.3, 0.1])
    p = probabilities(rng, 150, 3, y, 0.7)
    cases.append(classification_case("three_class_imbalanced", y, p.argmax(axis=1), p, 3))
    # 5 classes, imbalanced, class 4 never predicted.
    y = rng.choice(5, size=300, p=[0.4, 0.25, 0.15, 0.12, 0.08])
    p = probabilities(rng, 300, 5, y, 0.6)
    pred = p.argmax(axis=1)
    pred[pred == 4] = 0
    cases.append(classification_case("five_class_never_predicted", y, pred, p, 5))
    # 5 classes where the predictions use a class that never occurs in y_true.
    y = rng.choice(4, size=80)
    pred = np.where(rng.random(80) < 0.2, 4, y)
    cases.append(classification_case("predicted_class_never_true", y, pred, None, 5))
    # Perfect and all-wrong predictions.
    y = rng.choice(3, size=45)
    onehot = np.eye(3)[y]
    cases.append(classification_case("perfect", y, y.copy(), onehot, 3))
    wrong = (y + 1) % 3
    cases.append(classification_case("all_wrong", y, wrong, np.eye(3)[wrong], 3))

    regression = []
    for name, n, noise in [("regression_noisy", 120, 5.0), ("regression_close", 50, 0.1)]:
        yt = rng.normal(10, 3, n)
        yp = yt + rng.normal(0, noise, n)
        regression.append({"name": name, "y_true": yt.tolist(), "y_pred": yp.tolist()})
    yt = np.full(10, 2.5)
    regression.append({"name": "constant_target_perfect", "y_true": yt.tolist(), "y_pred": yt.tolist()})
    regression.append({"name": "constant_target_off", "y_true": yt.tolist(), "y_pred": (yt + 1).tolist()})
    for case in regression:
        yt, yp = np.array(case["y_true"]), np.array(case["y_pred"])
        case["expected"] = {
            "mse": float(M.mean_squared_error(yt, yp)), "rmse": float(M.root_mean_squared_error(yt, yp)),
            "mae": float(M.mean_absolute_error(yt, yp)), "r2": float(M.r2_score(yt, yp)),
        }
    return {"generated_by": "scripts/make_metric_fixtures.py", "sklearn": sklearn.__version__,
            "classification": cases, "regression": regression}


def load(name):
    path = os.path.join(FIX, "data", name + ".csv")
    raw = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=str)
    x = raw[:, :-1].astype(float)
    y = raw[:, -1]
    test = np.loadtxt(os.path.join(FIX, "data", name + ".test_idx.txt"), dtype=int)
    mask = np.zeros(len(y), dtype=bool)
    mask[test] = True
    return x, y, mask


def linear_reference():
    out = {"generated_by": "scripts/make_metric_fixtures.py", "sklearn": sklearn.__version__}
    x, y, test = load("diabetes")
    y = y.astype(float)
    for key, model in [("linear_regression", LinearRegression()), ("ridge_alpha_1", Ridge(alpha=1.0))]:
        m = model.fit(x[~test], y[~test])
        out[key] = {"coefficients": m.coef_.tolist(), "intercept": float(m.intercept_),
                    "test_r2": float(M.r2_score(y[test], m.predict(x[test])))}
    for name in ["iris", "breast_cancer"]:
        x, y, test = load(name)
        classes = sorted(set(y))
        yi = np.array([classes.index(v) for v in y])
        sc = StandardScaler().fit(x[~test])
        m = LogisticRegression(C=1.0, tol=1e-10, max_iter=100000).fit(sc.transform(x[~test]), yi[~test])
        out["logistic_" + name] = {"classes": classes, "coefficients": m.coef_.tolist(),
                                   "intercepts": m.intercept_.tolist(),
                                   "test_probabilities_first5": m.predict_proba(sc.transform(x[test]))[:5].tolist()}
    return out


def write(obj, name):
    path = os.path.join(FIX, name)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    write(metric_cases(), "metric_cases.json")
    write(linear_reference(), "linear_reference.json")
