#!/usr/bin/env python3
"""Writes Tests/FlywheelDataTests/Fixtures/iris_profile_reference.json: numpy's statistics of the
iris fixture (mean, sample and population std, min, max, linear quantiles, category counts), which
FlywheelData's Profile must equal within 1e-12.

Usage: python3 scripts/profile_reference.py   (pip install numpy)
"""
import csv, json, os
import numpy as np

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "FlywheelDataTests", "Fixtures")
rows = list(csv.reader(open(os.path.join(FIX, "iris.csv"))))
header, body = rows[0], rows[1:]
out = {"generated_by": "scripts/profile_reference.py", "numpy": np.__version__, "columns": {}}
for i, name in enumerate(header):
    values = [r[i] for r in body]
    try:
        x = np.array([float(v) for v in values])
    except ValueError:
        cats, counts = np.unique(values, return_counts=True)
        out["columns"][name] = {"frequencies": {str(c): int(k) for c, k in zip(cats, counts)}}
        continue
    out["columns"][name] = {
        "mean": float(x.mean()), "std": float(x.std(ddof=1)), "population_std": float(x.std(ddof=0)),
        "min": float(x.min()), "max": float(x.max()),
        "quantiles": {f"p{q}": float(np.quantile(x, q / 100)) for q in (1, 5, 25, 50, 75, 95, 99)},
        "histogram20": [int(c) for c in np.histogram(x, bins=20)[0]],
    }
with open(os.path.join(FIX, "iris_profile_reference.json"), "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
    f.write("\n")
