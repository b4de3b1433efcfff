#!/usr/bin/env python3
"""Writes Tests/FlywheelLearnTests/Fixtures/preprocessing_reference.json: scikit-learn's
SimpleImputer, StandardScaler, MinMaxScaler and OneHotEncoder(handle_unknown='ignore') on a small
table with missing values, which Flywheel's Preprocessor must reproduce within 1e-12.

Usage: python3 scripts/preprocessing_reference.py   (pip install scikit-learn numpy)
"""
import json, os
import numpy as np
import sklearn
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import StandardScaler, MinMaxScaler, OneHotEncoder, OrdinalEncoder

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "FlywheelLearnTests", "Fixtures")
rng = np.random.default_rng(7)
n = 40
x = rng.normal(10, 3, n).round(3)
x[[3, 17, 29]] = np.nan
y = rng.integers(0, 4, n).astype(float)
y[[5, 6]] = np.nan
city = rng.choice(["Lima", "Oslo", "Pune"], n).astype(object)
test_city = np.array(["Oslo", "Rome", "Lima", "Pune"], dtype=object)
test_x = np.array([np.nan, 0.0, 12.5, 100.0])

out = {"generated_by": "scripts/preprocessing_reference.py", "sklearn": sklearn.__version__,
       "x": [None if np.isnan(v) else v for v in x], "y": [None if np.isnan(v) else v for v in y],
       "city": list(city), "test_x": [None if np.isnan(v) else v for v in test_x], "test_city": list(test_city)}
for strategy in ["mean", "median", "most_frequent"]:
    imp = SimpleImputer(strategy=strategy).fit(np.c_[x, y])
    out[f"impute_{strategy}"] = imp.statistics_.tolist()
filled = SimpleImputer(strategy="median").fit_transform(x.reshape(-1, 1))
std = StandardScaler().fit(filled)
out["standard_test"] = std.transform(SimpleImputer(strategy="median").fit(x.reshape(-1, 1)).transform(test_x.reshape(-1, 1))).ravel().tolist()
mm = MinMaxScaler().fit(filled)
out["minmax_test"] = mm.transform(SimpleImputer(strategy="median").fit(x.reshape(-1, 1)).transform(test_x.reshape(-1, 1))).ravel().tolist()
ohe = OneHotEncoder(handle_unknown="ignore").fit(city.reshape(-1, 1))
out["onehot_categories"] = [str(c) for c in ohe.categories_[0]]
out["onehot_test"] = ohe.transform(test_city.reshape(-1, 1)).toarray().tolist()
ord_ = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan).fit(city.reshape(-1, 1))
out["ordinal_test"] = [None if np.isnan(v) else v for v in ord_.transform(test_city.reshape(-1, 1)).ravel()]
with open(os.path.join(FIX, "preprocessing_reference.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
