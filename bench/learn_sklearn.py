#!/usr/bin/env python3
"""scikit-learn / pandas side of bench/learn.sh, and the report that compares both sides.

    learn_sklearn.py csv    --file F.csv [--repeats N]
    learn_sklearn.py fit    --task classification|regression --data F.csv --test-idx F.txt
                            --model random_forest|hist_gradient_boosting|decision_tree|linear
                            [--repeats N] [--predict-repeats N] [--early-stopping off|auto]
                            [--serve-calls N] [--serve-calls-all-cores N] [--batch-repeats N]
    learn_sklearn.py report --dir OUT_DIR [--meta meta.json]

Each measuring mode prints one JSON object (the same keys flywheel-bench prints). Timings are
wall seconds (time.perf_counter) and process CPU seconds over every thread (time.process_time).
"""
import argparse
import json
import os
import statistics
import sys
import time

# Everything here is measurement; no telemetry exists in these libraries, but be explicit.
os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")


def log(msg):
    print(f"learn_sklearn: {msg}", file=sys.stderr, flush=True)


def measure(fn):
    c0, t0 = time.process_time(), time.perf_counter()
    value = fn()
    t1, c1 = time.perf_counter(), time.process_time()
    return value, (t1 - t0, c1 - c0)


def summary(samples):
    walls = [s[0] for s in samples]
    cpus = [s[1] for s in samples]
    return {"wall_seconds": statistics.median(walls), "cpu_seconds": statistics.median(cpus), "wall_all": walls, "cpu_all": cpus}


def quantile(values, q):
    s = sorted(values)
    i = min(len(s) - 1, max(0, -(-int(q * len(s) * 1e6) // 1_000_000) - 1))
    return s[i]


# ---------------------------------------------------------------------------------------------
def cmd_csv(a):
    import pandas as pd

    size = os.path.getsize(a.file)
    samples = []
    df = None
    for i in range(a.repeats):
        df, s = measure(lambda: pd.read_csv(a.file))
        samples.append(s)
        log(f"csv {i + 1}/{a.repeats}: {s[0]:.3f} s")
    out = summary(samples)
    out.update(bytes=size, rows=len(df), columns=df.shape[1], mb_per_second=size / 1e6 / out["wall_seconds"],
               pandas=pd.__version__, engine="c (default)")
    print(json.dumps(out, sort_keys=True))


# ---------------------------------------------------------------------------------------------
def load(a):
    import numpy as np
    import pandas as pd

    df = pd.read_csv(a.data)
    y = df[a.target].to_numpy()
    x = df.drop(columns=[a.target]).to_numpy(dtype=np.float64)
    test = np.loadtxt(a.test_idx, dtype=np.int64)
    mask = np.ones(len(df), dtype=bool)
    mask[test] = False
    train = np.flatnonzero(mask)
    return x, y, train, test


def make_model(a):
    from sklearn.ensemble import (HistGradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestClassifier,
                                  RandomForestRegressor)
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    cls = a.task == "classification"
    es = {"off": False, "auto": "auto", "on": True}[a.early_stopping]
    if a.model == "random_forest":
        return (RandomForestClassifier if cls else RandomForestRegressor)(n_estimators=a.trees, n_jobs=-1, random_state=a.seed)
    if a.model == "hist_gradient_boosting":
        return (HistGradientBoostingClassifier if cls else HistGradientBoostingRegressor)(early_stopping=es, random_state=a.seed)
    if a.model == "decision_tree":
        return (DecisionTreeClassifier if cls else DecisionTreeRegressor)(random_state=a.seed)
    if a.model == "linear":
        return LogisticRegression() if cls else LinearRegression()
    raise SystemExit(f"unknown --model {a.model}")


def extras(model):
    import numpy as np

    e = {}
    if hasattr(model, "estimators_"):
        nodes = [t.tree_.node_count for t in model.estimators_]
        depths = [t.tree_.max_depth for t in model.estimators_]
        e.update(trees=len(nodes), mean_nodes=float(np.mean(nodes)), mean_depth=float(np.mean(depths)), max_depth=int(max(depths)))
    if hasattr(model, "tree_"):
        e.update(depth=int(model.tree_.max_depth), nodes=int(model.tree_.node_count), leaves=int(model.tree_.n_leaves))
    if hasattr(model, "n_iter_"):
        n = model.n_iter_
        e["iterations"] = int(n if np.isscalar(n) else max(n))
    if hasattr(model, "early_stopping"):
        e["early_stopping"] = str(model.early_stopping)
    e["estimator"] = type(model).__name__ + (" (standardized)" if type(model).__name__ == "LogisticRegression" else "")
    return e


def latencies(fn, rows, calls, warmup=20):
    for i in range(warmup):
        fn(rows[i % len(rows)])
    ns = []
    c0, t0 = time.process_time(), time.perf_counter()
    for i in range(calls):
        s = time.perf_counter_ns()
        fn(rows[i % len(rows)])
        ns.append(time.perf_counter_ns() - s)
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"calls": calls, "median_us": statistics.median(ns) / 1e3, "p90_us": quantile(ns, 0.9) / 1e3,
            "p99_us": quantile(ns, 0.99) / 1e3, "mean_us": sum(ns) / len(ns) / 1e3, "total_seconds": total, "cpu_seconds": cpu}


def cmd_fit(a):
    import numpy as np
    import sklearn
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.preprocessing import StandardScaler

    (x, y, train, test), load_s = measure(lambda: load(a))
    x_train, x_test, y_train, y_test = x[train], x[test], y[train], y[test]
    out = {"side": "scikit-learn", "task": a.task, "model": a.model, "train_rows": len(train), "test_rows": len(test),
           "features": x.shape[1], "load_seconds": load_s[0], "sklearn": sklearn.__version__, "threads": os.cpu_count()}
    if a.model == "linear" and a.task == "classification":
        (x_train, x_test), s = measure(lambda: (lambda sc: (sc.transform(x_train), sc.transform(x_test)))(StandardScaler().fit(x_train)))
        out["standardize_seconds"] = s[0]

    fits, model = [], None
    for i in range(a.repeats):
        m = make_model(a)
        _, s = measure(lambda: m.fit(x_train, y_train))
        fits.append(s)
        model = m
        log(f"{a.task} {a.model} fit {i + 1}/{a.repeats}: {s[0]:.3f} s wall, {s[1]:.3f} s CPU")
    predicts, pred = [], None
    for _ in range(a.predict_repeats):
        pred, s = measure(lambda: model.predict(x_test))
        predicts.append(s)
    out["fit"] = summary(fits)
    out["predict"] = summary(predicts)
    out["predict_rows_per_second"] = len(test) / out["predict"]["wall_seconds"]
    if a.task == "classification":
        out["accuracy"] = float(accuracy_score(y_test, pred))
    else:
        out["r2"] = float(r2_score(y_test, pred))
    out["extras"] = extras(model)
    try:
        from threadpoolctl import threadpool_info
        out["threadpools"] = [{"api": p.get("user_api"), "lib": p.get("internal_api"), "threads": p.get("num_threads")} for p in threadpool_info()]
    except Exception:  # noqa: BLE001 - informational only
        pass

    if a.serve_calls > 0 and a.model == "random_forest" and a.task == "classification":
        # Single-row predict_proba of the fitted forest: one numpy row per call, the fastest input.
        rows = [x_test[i:i + 1] for i in range(min(len(test), max(a.serve_calls, a.serve_calls_all_cores)))]
        serve = {"test_accuracy": out["accuracy"]}
        model.n_jobs = 1
        serve["single_n_jobs_1"] = latencies(model.predict_proba, rows, a.serve_calls)
        log(f"single row, n_jobs=1: {serve['single_n_jobs_1']['median_us']:.0f} µs median")
        if a.serve_calls_all_cores > 0:
            model.n_jobs = -1
            serve["single_n_jobs_all"] = latencies(model.predict_proba, rows, a.serve_calls_all_cores, warmup=5)
            log(f"single row, n_jobs=-1: {serve['single_n_jobs_all']['median_us']:.0f} µs median")
        # Batch: every row of the file.
        for jobs, key in ((-1, "batch_n_jobs_all"), (1, "batch_n_jobs_1")):
            model.n_jobs = jobs
            samples = [measure(lambda: model.predict_proba(x))[1] for _ in range(a.batch_repeats)]
            b = summary(samples)
            b.update(rows=len(x), rows_per_second=len(x) / b["wall_seconds"])
            serve[key] = b
            log(f"batch {len(x)} rows, n_jobs={jobs}: {b['rows_per_second']:.0f} rows/s")
        model.n_jobs = -1
        out["serve"] = serve
    print(json.dumps(out, sort_keys=True))


# ---------------------------------------------------------------------------------------------
def cmd_report(a):
    d = a.dir

    def get(name):
        p = os.path.join(d, name)
        if not os.path.exists(p):
            return None
        with open(p) as f:
            text = f.read().strip()
        return json.loads(text) if text else None

    def fmt(v, digits=3):
        if v is None:
            return "—"
        if abs(v) >= 1e6:
            return f"{v / 1e6:.2f} M"
        if abs(v) >= 1e4:
            return f"{v:,.0f}"
        return f"{v:.{digits}g}" if abs(v) < 1 else f"{v:,.{max(digits - len(str(int(abs(v)))), 0)}f}"

    def secs(block):
        if not block:
            return "—"
        return f"{block['wall_seconds']:.3g} s ({block['cpu_seconds']:.3g} CPU)"

    def ratio(x):
        return "—" if x is None else f"{x:.2f}×"

    lines = []
    verdicts = []
    row = lines.append
    row("| measure | Flywheel | scikit-learn / pandas | ratio | target |")
    row("|---|---:|---:|---:|---|")

    fw, sk = get("fw_csv.json"), get("sk_csv.json")
    if fw and sk:
        r = fw["mb_per_second"] / sk["mb_per_second"]
        met = r >= 1
        verdicts.append(("CSV parse ≥ pandas", met, f"{fw['mb_per_second']:.1f} vs {sk['mb_per_second']:.1f} MB/s"))
        row(f"| CSV parse, classif_100k.csv ({fw['bytes'] / 1e6:.1f} MB, {fw['rows']:,} rows × {fw['columns']}), MB/s "
            f"[median wall; CPU s] | {fw['mb_per_second']:.1f} [{fw['wall_seconds']:.2f} s; {fw['cpu_seconds']:.2f}] "
            f"| {sk['mb_per_second']:.1f} [{sk['wall_seconds']:.2f} s; {sk['cpu_seconds']:.2f}] | {ratio(r)} "
            f"| ≥ pandas: **{'met' if met else 'missed'}** |")

    names = {"random_forest": None, "hist_gradient_boosting": "HistGradientBoosting (100 iter.)",
             "decision_tree": "DecisionTree", "linear": None}
    for task in ("classification", "regression"):
        data = "classif_100k" if task == "classification" else "regress_100k"
        for model in ("random_forest", "hist_gradient_boosting", "decision_tree", "linear"):
            fw, sk = get(f"fw_{task}_{model}.json"), get(f"sk_{task}_{model}.json")
            if not fw or not sk:
                continue
            name = names[model] or ("LogisticRegression (standardized)" if task == "classification" else "LinearRegression")
            if model == "random_forest":
                name = f"RandomForest ({fw['extras'].get('trees')} trees)"
            key = "accuracy" if task == "classification" else "r2"
            targeted = model in ("random_forest", "hist_gradient_boosting")
            fit_r = sk["fit"]["wall_seconds"] / fw["fit"]["wall_seconds"]
            diff = (fw[key] - sk[key]) * 100
            if targeted:
                fast, equal = fit_r >= 1, abs(diff) <= 1
                verdict = f"≤ scikit-learn at equal {key} (±1 pt): **{'met' if fast and equal else 'missed'}**"
                if not (fast and equal):
                    verdict += " (" + ", ".join(x for x in (("slower" if not fast else ""), (f"{key} off by {diff:+.2f} pt" if not equal else "")) if x) + ")"
                verdicts.append((f"{name} fit on {data}", fast and equal, f"{fw['fit']['wall_seconds']:.3g} s vs {sk['fit']['wall_seconds']:.3g} s, {key} {fw[key]:.4f} vs {sk[key]:.4f}"))
            else:
                verdict = "—"
            it = ""
            if model == "hist_gradient_boosting":
                it = f" [{fw['extras'].get('iterations')} / {sk['extras'].get('iterations')} iter., early stopping {fw['extras'].get('early_stopping')}]"
            nfit = len(fw["fit"]["wall_all"]), len(sk["fit"]["wall_all"])
            row(f"| {data}: {name} fit{it} (median of {nfit[0]} / {nfit[1]}) | {secs(fw['fit'])} | {secs(sk['fit'])} | {ratio(fit_r)} | {verdict} |")
            row(f"| {data}: {name} predict {fw['test_rows']:,} test rows, rows/s | {fmt(fw['predict_rows_per_second'])} "
                f"| {fmt(sk['predict_rows_per_second'])} | {ratio(fw['predict_rows_per_second'] / sk['predict_rows_per_second'])} | — |")
            row(f"| {data}: {name} test {'accuracy' if key == 'accuracy' else 'R²'} | {fw[key]:.4f} | {sk[key]:.4f} "
                f"| {diff:+.2f} pt | {'±1 pt' if targeted else '—'} |")

    fws, skf = get("fw_serve.json"), get("sk_classification_random_forest.json")
    sks = (skf or {}).get("serve")
    if fws and sks:
        s = fws["single_row"]
        best = s["row_api"]["median_us"]
        met = best <= 20
        sk1 = sks["single_n_jobs_1"]["median_us"]
        verdicts.append((f"single-row predict of a {fws['trees']}-tree forest ≤ 20 µs", met, f"{best:.1f} µs median (per-row API)"))
        row(f"| single-row predict, {fws['trees']}-tree forest, median µs: Flywheel `predictProbabilities(row:into:)` vs scikit-learn "
            f"`predict_proba` n_jobs=1 ({s['row_api']['calls']:,} / {sks['single_n_jobs_1']['calls']:,} calls) "
            f"| {best:.1f} (p99 {s['row_api']['p99_us']:.1f}) | {sk1:.0f} (p99 {sks['single_n_jobs_1']['p99_us']:.0f}) "
            f"| {ratio(sk1 / best)} | ≤ 20 µs: **{'met' if met else 'missed'}** |")
        row(f"| the same, Flywheel `predictProbabilities(Matrix)` on a 1-row matrix | {s['matrix_1row']['median_us']:.1f} | | "
            f"{ratio(sk1 / s['matrix_1row']['median_us'])} | |")
        row(f"| the same, Flywheel `Predictor.predict(records:)` (one raw record, serving path) | {s['predictor_record']['median_us']:.1f} "
            f"| | {ratio(sk1 / s['predictor_record']['median_us'])} | |")
        if "single_n_jobs_all" in sks:
            ska = sks["single_n_jobs_all"]
            row(f"| the same, scikit-learn with the forest's n_jobs=-1 ({ska['calls']:,} calls) | | {ska['median_us']:,.0f} "
                f"| {ratio(ska['median_us'] / best)} | |")
        b = fws["batch"]
        skb, skb1 = sks["batch_n_jobs_all"], sks["batch_n_jobs_1"]
        m, m1 = b["matrix"], b["matrix_1thread"]
        met = m["rows_per_second"] >= 1e6
        verdicts.append((f"{m['rows'] // 1000}k-row batch predict ≥ 1M rows/s", met,
                         f"{fmt(m['rows_per_second'])} rows/s on {b['threads']} threads, {fmt(m1['rows_per_second'])} on one"))

        def tp(x):
            return f"{fmt(x['rows_per_second'])} ({x['wall_seconds']:.2f} s; {x['cpu_seconds']:.2f} CPU)"
        row(f"| batch predict, all {m['rows']:,} rows, {fws['trees']}-tree forest, rows/s (wall s; CPU s): Flywheel `predictProbabilities(Matrix)` "
            f"on every core vs scikit-learn `predict_proba` n_jobs=-1 | {tp(m)} | {tp(skb)} | {ratio(m['rows_per_second'] / skb['rows_per_second'])} "
            f"| ≥ 1M rows/s: **{'met' if met else 'missed'}** |")
        row(f"| the same on one thread (Flywheel threadCount 1, scikit-learn n_jobs=1) | {tp(m1)} | {tp(skb1)} "
            f"| {ratio(m1['rows_per_second'] / skb1['rows_per_second'])} | |")
        row(f"| the same, Flywheel `Predictor.predict(table:)` (`flywheel predict`'s path, every core) | {tp(b['predictor_table'])} | | "
            f"{ratio(b['predictor_table']['rows_per_second'] / skb['rows_per_second'])} | |")
        row(f"| Flywheel `Trainer.train` of that forest (bundle: preprocessing, profile, 100 trees) | {fws['trainer']['wall_seconds']:.3g} s "
            f"({fws['trainer']['cpu_seconds']:.3g} CPU), test accuracy {fws['test_accuracy']:.4f} | | | |")

    print("\n".join(lines))
    print()
    print("Targets:")
    for name, met, detail in verdicts:
        print(f"- {name}: **{'met' if met else 'missed'}** ({detail})")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("csv")
    c.add_argument("--file", required=True)
    c.add_argument("--repeats", type=int, default=5)
    f = sub.add_parser("fit")
    f.add_argument("--task", choices=["classification", "regression"], required=True)
    f.add_argument("--data", required=True)
    f.add_argument("--test-idx", required=True)
    f.add_argument("--model", required=True)
    f.add_argument("--target", default="target")
    f.add_argument("--repeats", type=int, default=3)
    f.add_argument("--predict-repeats", type=int, default=5)
    f.add_argument("--trees", type=int, default=100)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--early-stopping", choices=["off", "auto", "on"], default="off")
    f.add_argument("--serve-calls", type=int, default=0)
    f.add_argument("--serve-calls-all-cores", type=int, default=0)
    f.add_argument("--batch-repeats", type=int, default=3)
    r = sub.add_parser("report")
    r.add_argument("--dir", required=True)
    a = p.parse_args()
    {"csv": cmd_csv, "fit": cmd_fit, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()
