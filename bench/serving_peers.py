"""The peers of bench/serving.sh: the classic FastAPI + scikit-learn iris service, and the same
service with the model run by onnxruntime.

    python serving_peers.py train IRIS_CSV OUTDIR           # writes OUTDIR/model.joblib, OUTDIR/model.onnx
    python serving_peers.py serve sklearn|onnx OUTDIR PORT  # uvicorn, one worker, 127.0.0.1 only
    python serving_peers.py report RAW.tsv META.tsv OUT.json # bench/serving.sh's table and JSON

Training: RandomForestClassifier(n_estimators=50, random_state=42) on all 150 rows of iris.csv
(columns sepal_length, sepal_width, petal_length, petal_width, species). The ONNX model is the same
forest converted by skl2onnx with zipmap=False, so the probabilities come out as a float array.

Serving is the tutorial shape: a pydantic model with the four float fields, POST /predict, answer
{"species": ..., "confidence": max probability}. The features go to the model as a one-row numpy
array [[...]] (the other common tutorial form, a one-row pandas DataFrame, is slower still).
scikit-learn predicts with n_jobs=None, i.e. one thread, the usual setting for a web service.
uvicorn runs programmatically: one worker, no reload, log level warning, no access log (the
"standard" extras, uvloop and httptools, are installed, so uvicorn picks them).
"""

import csv
import json
import os
import sys

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def load_iris(path):
    x, y = [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            x.append([float(row[c]) for c in FEATURES])
            y.append(row["species"])
    return x, y


def train(csv_path, outdir):
    import joblib
    import numpy as np
    from sklearn.ensemble import RandomForestClassifier
    from skl2onnx import to_onnx

    os.makedirs(outdir, exist_ok=True)
    x, y = load_iris(csv_path)
    x = np.asarray(x, dtype=np.float64)
    model = RandomForestClassifier(n_estimators=50, random_state=42)
    model.fit(x, y)
    joblib.dump(model, os.path.join(outdir, "model.joblib"))

    onx = to_onnx(
        model,
        x[:1].astype(np.float32),
        options={id(model): {"zipmap": False}},
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    with open(os.path.join(outdir, "model.onnx"), "wb") as f:
        f.write(onx.SerializeToString())

    # The same forest through both runtimes must agree on the labels of the training rows.
    import onnxruntime as ort

    sess = ort.InferenceSession(os.path.join(outdir, "model.onnx"), providers=["CPUExecutionProvider"])
    onnx_labels = sess.run(None, {sess.get_inputs()[0].name: x.astype(np.float32)})[0]
    agree = float(np.mean(np.asarray(onnx_labels) == model.predict(x)))
    meta = {
        "rows": len(y),
        "classes": [str(c) for c in model.classes_],
        "train_accuracy": float(model.score(x, y)),
        "onnx_sklearn_label_agreement": agree,
    }
    with open(os.path.join(outdir, "meta.json"), "w") as f:
        json.dump(meta, f)
    print(json.dumps(meta))
    if agree < 0.99:
        sys.exit(f"onnx and scikit-learn disagree on {100 * (1 - agree):.1f}% of the rows")


def make_app(kind, outdir):
    import numpy as np
    from fastapi import FastAPI
    from pydantic import BaseModel

    class Iris(BaseModel):
        sepal_length: float
        sepal_width: float
        petal_length: float
        petal_width: float

    app = FastAPI()

    if kind == "sklearn":
        import joblib

        model = joblib.load(os.path.join(outdir, "model.joblib"))

        @app.post("/predict")
        def predict(iris: Iris):
            # A one-row numpy array, as in most tutorials.
            x = np.array([[iris.sepal_length, iris.sepal_width, iris.petal_length, iris.petal_width]])
            proba = model.predict_proba(x)[0]
            i = int(proba.argmax())
            return {"species": str(model.classes_[i]), "confidence": float(proba[i])}

    elif kind == "onnx":
        import onnxruntime as ort

        opts = ort.SessionOptions()
        # One request is one row: threads only add hand-off cost, and uvicorn is one process.
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        sess = ort.InferenceSession(
            os.path.join(outdir, "model.onnx"), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        input_name = sess.get_inputs()[0].name
        # Outputs: label (strings), probabilities (float array, zipmap=False), classes in training order.
        classes = json.load(open(os.path.join(outdir, "meta.json")))["classes"]

        @app.post("/predict")
        def predict(iris: Iris):
            x = np.array(
                [[iris.sepal_length, iris.sepal_width, iris.petal_length, iris.petal_width]], dtype=np.float32
            )
            _, proba = sess.run(None, {input_name: x})
            proba = proba[0]
            i = int(proba.argmax())
            return {"species": classes[i], "confidence": float(proba[i])}

    else:
        sys.exit(f"unknown service kind {kind!r} (sklearn or onnx)")

    @app.get("/health")
    def health():
        return {"ok": True}

    return app


def serve(kind, outdir, port):
    import uvicorn

    app = make_app(kind, outdir)
    uvicorn.run(app, host="127.0.0.1", port=int(port), workers=1, log_level="warning", access_log=False)


LABELS = {
    "sklearn": "FastAPI + scikit-learn",
    "onnx": "FastAPI + onnxruntime",
    "flywheel": "Flywheel",
    "flywheel_health": "Flywheel, GET /v2/health/live (no model)",
}
# The targets, at 64 connections.
TARGET_VS_SKLEARN = 20.0
TARGET_VS_ONNX = 5.0
TARGET_P99_MS = 5.0


def report(raw_path, meta_path, json_path):
    """Reads bench/serving.sh's raw.tsv and meta.tsv; prints the markdown report, writes the JSON."""
    import importlib.metadata as md
    import platform

    cols = ["service", "connections", "threads", "duration", "requests", "rps", "p50_ms", "p99_ms",
            "cpu_us_per_request", "cpu_ticks", "non_2xx", "socket_errors"]
    rows = []
    with open(raw_path) as f:
        for line in f:
            if not line.strip():
                continue
            r = dict(zip(cols, line.rstrip("\n").split("\t")))
            for k in ("connections", "threads", "requests", "cpu_ticks", "non_2xx"):
                r[k] = int(r[k])
            for k in ("rps", "p50_ms", "p99_ms", "cpu_us_per_request"):
                r[k] = float(r[k])
            rows.append(r)
    meta = {}
    with open(meta_path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            meta[k] = v
    versions = {"python": platform.python_version()}
    for pkg in ("fastapi", "uvicorn", "uvloop", "httptools", "pydantic", "scikit-learn", "skl2onnx",
                "onnxruntime", "numpy"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass

    def at(service, conns):
        for r in rows:
            if r["service"] == service and r["connections"] == conns:
                return r
        return None

    print(f"Machine: {meta.get('machine', '?')}")
    print(f"Date: {meta.get('date', '?')}; measuring took {meta.get('measuring_seconds', '?')} s; "
          f"load average {meta.get('load_average', '?')}")
    print(f"Settings: {meta.get('settings', '?')}; {meta.get('wrk', 'wrk')} on the same machine, POST of one iris row")
    print("Versions: Flywheel " + meta.get("flywheel", "?") + "; "
          + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print()
    print("| service | connections | req/s | p50 ms | p99 ms | server CPU µs/request |")
    print("|---|---:|---:|---:|---:|---:|")
    notes = []
    for r in rows:
        mark = ""
        if r["non_2xx"] or r["socket_errors"]:
            notes.append(f"{LABELS.get(r['service'], r['service'])} at {r['connections']} connections: "
                         f"non-2xx answers {r['non_2xx']}, socket errors: {r['socket_errors'] or 'none'}")
            mark = "*" * len(notes)
        print(f"| {LABELS.get(r['service'], r['service'])} | {r['connections']} | {r['rps']:,.0f}{mark} | "
              f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['cpu_us_per_request']:,.0f} |")
    if meta.get("flywheel_skipped"):
        print(f"| Flywheel | – | skipped ({meta['flywheel_skipped']}) | | | |")
    for i, n in enumerate(notes, 1):
        print(f"{'*' * i} {n}")
    print()

    conns = sorted({r["connections"] for r in rows})
    top = 64 if 64 in conns else (conns[-1] if conns else 64)
    note = "" if top == 64 else f" (64 not measured; at {top})"
    fw, sk, ox = at("flywheel", top), at("sklearn", top), at("onnx", top)
    targets = {}
    fw_missing = f"Flywheel skipped: {meta['flywheel_skipped']}" if meta.get("flywheel_skipped") else "Flywheel not measured"

    def ratio_line(name, peer, target):
        if fw is None or peer is None:
            why = fw_missing if fw is None else f"{LABELS[name]} not measured"
            print(f"- Flywheel ÷ {LABELS[name]} req/s at {top} connections{note}: n/a ({why}); target ≥ {target:g}×")
            targets[f"vs_{name}"] = {"target": target, "ratio": None, "met": None}
            return
        ratio = fw["rps"] / peer["rps"]
        met = ratio >= target
        cpu = peer["cpu_us_per_request"] / fw["cpu_us_per_request"] if fw["cpu_us_per_request"] > 0 else None
        cpu_s = (f"; server CPU per request {fw['cpu_us_per_request']:,.0f} µs vs {peer['cpu_us_per_request']:,.0f} µs"
                 + (f" ({cpu:.1f}× less)" if cpu and cpu >= 1 else f" ({1 / cpu:.1f}× more)" if cpu else ""))
        print(f"- Flywheel ÷ {LABELS[name]} req/s at {top} connections{note}: {ratio:.1f}× "
              f"(target ≥ {target:g}×: {'met' if met else 'missed'}){cpu_s}")
        targets[f"vs_{name}"] = {"target": target, "ratio": ratio, "met": met, "cpu_per_request_ratio": cpu}

    ratio_line("sklearn", sk, TARGET_VS_SKLEARN)
    ratio_line("onnx", ox, TARGET_VS_ONNX)
    if fw is None:
        print(f"- Flywheel p99 at {top} connections{note}: n/a ({fw_missing}); target < {TARGET_P99_MS:g} ms")
        targets["p99"] = {"target_ms": TARGET_P99_MS, "p99_ms": None, "met": None}
    else:
        met = fw["p99_ms"] < TARGET_P99_MS
        print(f"- Flywheel p99 at {top} connections{note}: {fw['p99_ms']:.2f} ms "
              f"(target < {TARGET_P99_MS:g} ms: {'met' if met else 'missed'})")
        targets["p99"] = {"target_ms": TARGET_P99_MS, "p99_ms": fw["p99_ms"], "met": met}
    floor = at("flywheel_health", top)
    if floor:
        print(f"- for reference, the same server's floor, GET /v2/health/live at {top} connections: "
              f"{floor['rps']:,.0f} req/s, p99 {floor['p99_ms']:.2f} ms, {floor['cpu_us_per_request']:,.0f} µs of server CPU "
              f"per request (routing and HTTP only)")
    if sk and ox:
        print(f"- for reference, onnxruntime ÷ scikit-learn req/s at {top} connections: {ox['rps'] / sk['rps']:.1f}×")
    if meta.get("failed"):
        print(f"- FAILED: {meta['failed']}")

    with open(json_path, "w") as f:
        json.dump({"meta": meta, "versions": versions, "connections_for_targets": top, "results": rows,
                   "targets": targets}, f, indent=2)
        f.write("\n")


def main(argv):
    if len(argv) == 3 and argv[0] == "train":
        train(argv[1], argv[2])
    elif len(argv) == 4 and argv[0] == "serve":
        serve(argv[1], argv[2], argv[3])
    elif len(argv) == 4 and argv[0] == "report":
        report(argv[1], argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
