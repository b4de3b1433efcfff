"""Reference values for FlywheelMonitoring's KolmogorovSmirnov (scipy.stats.ks_2samp, kstwo.sf).

Writes Tests/FlywheelMonitoringTests/Fixtures/ks-reference.json. Run from the package root with
scipy 1.17 (e.g. `/path/to/venv/bin/python scripts/ks_reference.py`).

Layout: {scipy, numpy, two_sample: [{name, a, b, statistic, pvalue, method}],
kstwo_sf: [{n, d, sf}]}. `method` is "exact" or "asymp", i.e. which branch 'auto' took
(exact when max(n1, n2) <= 10000 and the exact computation succeeded).
"""
import json
import os
import warnings

import numpy as np
import scipy
from scipy import stats

rng = np.random.default_rng(20240601)


def r(x, nd=4):
    return [float(v) for v in np.round(np.asarray(x, dtype=float), nd)]


pairs = [
    ("n1_vs_n1_equal", [0.5], [0.5]),
    ("n1_vs_n1_apart", [0.0], [1.0]),
    ("n1_vs_n5", [0.3], r(rng.normal(size=5))),
    ("n3_vs_n7_ties", [1.0, 2.0, 2.0], [2.0, 2.0, 3.0, 1.0, 0.0, 2.0, 5.0]),
    ("n10_identical", r(rng.normal(size=10)), None),  # b = a: p = 1
    ("n20_vs_n35_ties", r(rng.normal(size=20), 1), r(rng.normal(0.3, 1, size=35), 1)),
    ("n50_vs_n50_shift", r(rng.normal(size=50)), r(rng.normal(0.6, 1, size=50))),
    ("n7_vs_n50", r(rng.normal(size=7)), r(rng.normal(size=50))),
    ("n13_vs_n29_disjoint", r(rng.uniform(0, 1, size=13)), r(rng.uniform(2, 3, size=29))),
    ("n40_vs_n48_gcd8", r(rng.exponential(size=40)), r(rng.exponential(1.5, size=48))),
    ("n500_vs_n700_shift", r(rng.normal(size=500)), r(rng.normal(0.15, 1, size=700))),
    ("n500_vs_n700_same", r(rng.normal(size=500)), r(rng.normal(size=700))),
    ("n2000_vs_n3000_ties", r(rng.normal(size=2000), 1), r(rng.normal(0.05, 1, size=3000), 1)),
    ("n3001_vs_n2999_shift", r(rng.normal(size=3001)), r(rng.normal(0.1, 1, size=2999))),
    ("n12000_vs_n15000_small_shift", r(rng.normal(size=12000), 2), r(rng.normal(0.03, 1, size=15000), 2)),
    ("n12000_vs_n15000_shift", r(rng.normal(size=12000), 2), r(rng.normal(0.08, 1, size=15000), 2)),
    ("n10001_vs_n20_asymp", r(rng.normal(size=10001), 2), r(rng.normal(0.5, 1, size=20), 2)),
]

two_sample = []
for name, a, b in pairs:
    if b is None:
        b = list(a)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an exact->asymp fallback would show up here
        res = stats.ks_2samp(a, b, alternative="two-sided", method="auto")
    method = "exact" if max(len(a), len(b)) <= 10000 else "asymp"
    two_sample.append({"name": name, "a": a, "b": b, "statistic": float(res.statistic),
                       "pvalue": float(res.pvalue), "method": method})

kstwo = []
for n in [1, 5, 50, 140, 141, 1000, 100000, 500000, 2000000]:
    ds = {0.001, 0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99, 0.4 / n, 0.75 / n, 1 - 0.5 / n}
    for c in [0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 100.0, 360.0, 380.0]:
        ds.add(float(np.sqrt(c / n)))
    for d in sorted(ds):
        if 0 < d < 1:
            kstwo.append({"n": n, "d": float(d), "sf": float(stats.kstwo.sf(d, n))})

out = {"scipy": scipy.__version__, "numpy": np.__version__, "two_sample": two_sample, "kstwo_sf": kstwo}
path = os.path.join("Tests", "FlywheelMonitoringTests", "Fixtures", "ks-reference.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
    f.write("\n")
print(path, len(two_sample), "pairs,", len(kstwo), "kstwo points")
