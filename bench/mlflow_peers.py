"""Client side of bench/mlflow.sh: one mlflow Python client, the same workloads, any MLflow server.

    python mlflow_peers.py workload NAME --uri URL --server-pid PID --out FILE.json [knobs]
    python mlflow_peers.py report --dir DIR --servers "mlflow fasttrackml flywheel" --meta META.tsv --json OUT.json

Workloads (NAME), each run in its own process against a server that is already up:
  single    SINGLE × MlflowClient.log_metric on one run (synchronous)
  batch     BATCH_CALLS × MlflowClient.log_batch of BATCH_SIZE metrics each on one run
  search    SEARCH_RUNS runs made first (create_run + one log_batch each, POPULATE_THREADS threads,
            not timed), then one untimed warm-up and SEARCH_REPEATS timed
            search_runs(filter "metrics.accuracy > 0.9", order by metrics.accuracy DESC,
            max_results SEARCH_LIMIT); the median is reported, the count and top value checked
  model     MODEL_REPEATS × (mlflow.sklearn.log_model of a LogisticRegression fitted on iris inside a
            run, then mlflow.sklearn.load_model of the returned model URI); predictions checked
  artifact  ARTIFACT_REPEATS × (mlflow.log_artifact of an ARTIFACT_MB MB file of random bytes, then
            mlflow.artifacts.download_artifacts of it); size and SHA-256 checked

The server's CPU is utime+stime from /proc/PID/stat of the server process and all its descendants
(mlflow server runs uvicorn as a child process), read before and after each timed part; only the
timed parts count. A workload that raises is written as {"ok": false, "error": ...} and the process
still exits 0, so the shell moves on to the next one.
"""

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import traceback

TICK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------
# CPU of a process tree


def proc_table():
    """{pid: (ppid, utime+stime in ticks)} for every process visible in /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                raw = f.read().decode("ascii", "replace")
        except OSError:
            continue  # gone meanwhile
        rest = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may hold spaces or ')'
        # rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
        table[int(entry)] = (int(rest[1]), int(rest[11]) + int(rest[12]))
    return table


def tree_cpu(root):
    """User+system CPU seconds of ROOT and all its live descendants (0 without a pid)."""
    if not root:
        return 0.0
    table = proc_table()
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    ticks, todo, seen = 0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        if pid in table:
            ticks += table[pid][1]
        todo.extend(children.get(pid, ()))
    return ticks / TICK


def client_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Meter:
    """Adds up wall time, server CPU and client CPU over the timed parts of a workload."""

    def __init__(self, server_pid):
        self.pid = server_pid
        self.wall = self.server = self.client = 0.0
        self.samples = []

    def __enter__(self):
        self._s, self._c, self._t = tree_cpu(self.pid), client_cpu(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        t = time.perf_counter()
        c, s = client_cpu(), tree_cpu(self.pid)
        if exc[0] is None:
            self.samples.append(t - self._t)
            self.wall += t - self._t
            self.server += s - self._s
            self.client += c - self._c
        return False


# The last request a server answered with an error status: failure reasons name it.
LAST_ERROR = {}


def watch_errors():
    """Wraps requests.Session.send (which the mlflow client uses for every call) to remember the
    method, path and status of the last non-2xx answer. Costs one attribute check per request."""
    import urllib.parse

    import requests

    send = requests.Session.send

    def watched(self, request, **kw):
        resp = send(self, request, **kw)
        if resp.status_code >= 300:
            path = urllib.parse.urlsplit(request.url).path
            LAST_ERROR.update(what=f"{request.method} {path} → {resp.status_code}")
        return resp

    requests.Session.send = watched


def short(exc, stage=None):
    """One line naming what failed: the stage, the MLflow error code (else the exception type), its
    message's first line, and the last request answered with an error status."""
    code = getattr(exc, "error_code", None)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    head = code or type(exc).__name__
    if text.startswith(str(head)):
        text = text[len(str(head)) :].lstrip(": ")
    if len(text) > 140:
        text = text[:137] + "..."
    msg = f"{head}: {text}" if text else str(head)
    if stage:
        msg = f"{stage}: {msg}"
    if LAST_ERROR.get("what"):
        msg += f" ({LAST_ERROR['what']})"
    return msg


# ---------------------------------------------------------------------------------------
# workloads


def new_experiment(client, kind):
    return client.create_experiment(f"bench-{kind}-{time.time_ns()}")


STAGE = {"now": None}


def stage(name):
    STAGE["now"] = name
    LAST_ERROR.clear()


def w_single(a, client):
    exp = new_experiment(client, "single")
    rid = client.create_run(exp, run_name="single").info.run_id
    m = Meter(a.server_pid)
    with m:
        for i in range(a.single):
            client.log_metric(rid, "loss", 1.0 / (i + 1), step=i, synchronous=True)
    got = len(client.get_metric_history(rid, "loss"))
    out = dict(calls=a.single, unit_count=a.single, wall_s=m.wall, server_cpu_s=m.server, client_cpu_s=m.client)
    if got != a.single:
        out["check"] = f"logged {a.single} points, get_metric_history returned {got}"
    return out


def w_batch(a, client):
    from mlflow.entities import Metric

    exp = new_experiment(client, "batch")
    rid = client.create_run(exp, run_name="batch").info.run_id
    now = int(time.time() * 1000)
    batches = []
    for b in range(a.batch_calls):
        base = b * a.batch_size
        batches.append([
            Metric(key=f"m{j % 10}", value=(base + j) * 0.001, timestamp=now, step=(base + j) // 10)
            for j in range(a.batch_size)
        ])
    m = Meter(a.server_pid)
    with m:
        for batch in batches:
            client.log_batch(rid, metrics=batch, synchronous=True)
    n = a.batch_calls * a.batch_size
    got = len(client.get_metric_history(rid, "m0"))
    want = len({(i // 10) for i in range(n) if i % 10 == 0})
    out = dict(calls=a.batch_calls, unit_count=n, wall_s=m.wall, server_cpu_s=m.server, client_cpu_s=m.client)
    if got != want:
        out["check"] = f"metric m0 should have {want} points, get_metric_history returned {got}"
    return out


def w_search(a, client):
    from concurrent.futures import ThreadPoolExecutor

    from mlflow.entities import Metric, Param

    exp = new_experiment(client, "search")
    rng = random.Random(42)
    acc = [rng.random() for _ in range(a.search_runs)]
    now = int(time.time() * 1000)

    def make(i):
        rid = client.create_run(exp, run_name=f"r{i}", start_time=now + i).info.run_id
        client.log_batch(rid, metrics=[Metric("accuracy", acc[i], now, 0)],
                         params=[Param("model", "rf" if i % 2 == 0 else "lr")], synchronous=True)

    stage("making the runs")
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, a.populate_threads)) as pool:
        for _ in pool.map(make, range(a.search_runs)):
            pass
    populate_s = time.perf_counter() - t0
    print(f"   populated {a.search_runs} runs in {populate_s:.1f} s", file=sys.stderr)

    kw = dict(experiment_ids=[exp], filter_string="metrics.accuracy > 0.9",
              order_by=["metrics.accuracy DESC"], max_results=a.search_limit)
    stage("search_runs")
    client.search_runs(**kw)  # warm-up, not timed
    m = Meter(a.server_pid)
    returned, top = None, None
    for _ in range(a.search_repeats):
        with m:
            runs = client.search_runs(**kw)
        returned = len(runs)
        top = runs[0].data.metrics.get("accuracy") if runs else None
    matches = sorted((v for v in acc if v > 0.9), reverse=True)
    want = min(len(matches), a.search_limit)
    out = dict(calls=a.search_repeats, unit_count=a.search_repeats, wall_s=m.wall, server_cpu_s=m.server,
               client_cpu_s=m.client, median_s=statistics.median(m.samples), min_s=min(m.samples),
               populate_s=populate_s, runs=a.search_runs, returned=returned, expected=want)
    problems = []
    if returned != want:
        problems.append(f"returned {returned} runs, expected {want}")
    if matches and (top is None or abs(top - matches[0]) > 1e-9):
        problems.append(f"top accuracy {top}, expected {matches[0]}")
    if problems:
        out["check"] = "; ".join(problems)
    return out


def w_model(a, client):
    import mlflow
    import numpy as np
    import sklearn
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    mlflow.set_tracking_uri(a.uri)
    mlflow.set_experiment(f"bench-model-{time.time_ns()}")
    x, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(x, y)
    want = model.predict(x)
    # Requirements given, so the client does not infer them (a subprocess per log_model that
    # would dwarf the server's share of the time); the same on every server.
    reqs = [f"scikit-learn=={sklearn.__version__}", f"numpy=={np.__version__}"]
    log, load = Meter(a.server_pid), Meter(a.server_pid)
    dest = tempfile.mkdtemp(prefix="bench-model-")
    try:
        for i in range(a.model_repeats):
            stage("log_model")
            with mlflow.start_run(run_name=f"model-{i}"):
                with log:
                    info = mlflow.sklearn.log_model(model, name="model", pip_requirements=reqs)
            stage("load_model")
            into = os.path.join(dest, str(i))
            os.makedirs(into)
            with load:
                loaded = mlflow.sklearn.load_model(info.model_uri, dst_path=into)
            if not np.array_equal(loaded.predict(x), want):
                raise RuntimeError(f"model {info.model_uri} predicts differently after the round trip")
    finally:
        shutil.rmtree(dest, ignore_errors=True)
    return dict(calls=a.model_repeats, unit_count=a.model_repeats,
                parts={
                    "log": dict(wall_s=log.wall, server_cpu_s=log.server, client_cpu_s=log.client,
                                median_s=statistics.median(log.samples)),
                    "load": dict(wall_s=load.wall, server_cpu_s=load.server, client_cpu_s=load.client,
                                 median_s=statistics.median(load.samples)),
                },
                model_uri=info.model_uri)


def w_artifact(a, client):
    import mlflow

    mlflow.set_tracking_uri(a.uri)
    mlflow.set_experiment(f"bench-artifact-{time.time_ns()}")
    size = int(a.artifact_mb * 1024 * 1024)
    work = tempfile.mkdtemp(prefix="bench-artifact-")
    src = os.path.join(work, "blob.bin")
    with open(src, "wb") as f:
        left = size
        while left:
            n = min(left, 8 << 20)
            f.write(os.urandom(n))
            left -= n
    up, down = Meter(a.server_pid), Meter(a.server_pid)
    try:
        with mlflow.start_run(run_name="artifact") as run:
            for i in range(a.artifact_repeats):
                # New leading bytes each round, so no server can answer a repeat from a
                # content-addressed copy of the last one.
                with open(src, "r+b") as f:
                    f.write(os.urandom(64))
                h = hashlib.sha256()
                with open(src, "rb") as f:
                    for chunk in iter(lambda: f.read(8 << 20), b""):
                        h.update(chunk)
                stage("log_artifact")
                with up:
                    mlflow.log_artifact(src, artifact_path=f"round{i}")
                dst = os.path.join(work, f"down{i}")
                os.makedirs(dst)
                stage("download_artifacts")
                with down:
                    got = mlflow.artifacts.download_artifacts(
                        run_id=run.info.run_id, artifact_path=f"round{i}/blob.bin", dst_path=dst)
                g = hashlib.sha256()
                with open(got, "rb") as f:
                    for chunk in iter(lambda: f.read(8 << 20), b""):
                        g.update(chunk)
                if os.path.getsize(got) != size or g.digest() != h.digest():
                    raise RuntimeError(f"round {i}: the downloaded file differs from the uploaded one")
                shutil.rmtree(dst)
            artifact_uri = run.info.artifact_uri
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dict(calls=a.artifact_repeats, unit_count=a.artifact_repeats, bytes=size, artifact_uri=artifact_uri,
                parts={
                    "upload": dict(wall_s=up.wall, server_cpu_s=up.server, client_cpu_s=up.client,
                                   median_s=statistics.median(up.samples)),
                    "download": dict(wall_s=down.wall, server_cpu_s=down.server, client_cpu_s=down.client,
                                     median_s=statistics.median(down.samples)),
                })


def w_idle(a, client):
    """The server's CPU while nobody calls it (timers, refresh loops): a baseline for the rest."""
    m = Meter(a.server_pid)
    with m:
        time.sleep(a.idle_seconds)
    return dict(calls=0, unit_count=0, wall_s=m.wall, server_cpu_s=m.server, client_cpu_s=m.client)


WORKLOADS = {"idle": w_idle, "single": w_single, "batch": w_batch, "search": w_search, "model": w_model, "artifact": w_artifact}


def workload(a):
    from mlflow.tracking import MlflowClient

    watch_errors()
    client = MlflowClient(tracking_uri=a.uri)
    t0 = time.perf_counter()
    try:
        res = WORKLOADS[a.name](a, client)
        res["ok"] = True
    except BaseException as e:  # noqa: BLE001 — any failure is a result, not a crash
        traceback.print_exc()
        res = {"ok": False, "error": short(e, STAGE["now"]), "stage": STAGE["now"]}
    res.update(workload=a.name, uri=a.uri, total_s=time.perf_counter() - t0)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)
    print(f"   {a.name}: " + ("ok" if res["ok"] else "failed: " + res["error"])
          + (f" (check: {res['check']})" if res.get("check") else ""), file=sys.stderr)


# ---------------------------------------------------------------------------------------
# report

LABELS = {"mlflow": "MLflow", "fasttrackml": "FastTrackML", "flywheel": "Flywheel"}


def fmt_time(s):
    if s >= 10:
        return f"{s:,.1f} s"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 0.001:
        return f"{s * 1e3:.1f} ms" if s >= 0.01 else f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.0f} µs"


def fmt_rate(x, unit):
    return f"{x:,.0f} {unit}" if x >= 100 else f"{x:,.2f} {unit}" if x < 10 else f"{x:,.1f} {unit}"


def rows_for(results, k):
    """The table's rows for one server: {row key: cell dict}, from its workload results."""
    mb = k["artifact_mb"]
    out = {}

    def fail(key, why):
        out[key] = {"ok": False, "error": why}

    r = results.get("single")
    if r is None:
        pass
    elif not r.get("ok"):
        fail("single", r["error"])
    else:
        out["single"] = dict(ok=True, time_s=r["wall_s"], rate=r["calls"] / r["wall_s"], rate_unit="calls/s",
                             cpu_per_call_s=r["server_cpu_s"] / r["calls"], client_cpu_s=r["client_cpu_s"],
                             server_cpu_s=r["server_cpu_s"], check=r.get("check"))
    r = results.get("batch")
    if r is None:
        pass
    elif not r.get("ok"):
        fail("batch", r["error"])
    else:
        out["batch"] = dict(ok=True, time_s=r["wall_s"], rate=r["unit_count"] / r["wall_s"], rate_unit="metrics/s",
                            cpu_per_call_s=r["server_cpu_s"] / r["calls"],
                            cpu_per_metric_s=r["server_cpu_s"] / r["unit_count"], client_cpu_s=r["client_cpu_s"],
                            server_cpu_s=r["server_cpu_s"], check=r.get("check"))
    r = results.get("search")
    if r is None:
        pass
    elif not r.get("ok"):
        fail("search", r["error"])
    else:
        out["search"] = dict(ok=True, time_s=r["median_s"], rate=1 / r["median_s"], rate_unit="searches/s",
                             cpu_per_call_s=r["server_cpu_s"] / r["calls"], client_cpu_s=r["client_cpu_s"],
                             server_cpu_s=r["server_cpu_s"], populate_s=r["populate_s"], check=r.get("check"))
    for wl, parts in (("model", ("log", "load")), ("artifact", ("upload", "download"))):
        r = results.get(wl)
        if r is None:
            continue
        for p in parts:
            key = f"{wl}_{p}"
            if not r.get("ok"):
                first = {"model": "log_model", "artifact": "log_artifact"}[wl]
                if p != parts[0] and r.get("stage") == first:
                    fail(key, f"not run ({first} failed)")
                else:
                    fail(key, r["error"])
                continue
            d = r["parts"][p]
            n = r["calls"]
            cell = dict(ok=True, time_s=d["wall_s"] / n, median_s=d["median_s"], cpu_per_call_s=d["server_cpu_s"] / n,
                        client_cpu_s=d["client_cpu_s"], server_cpu_s=d["server_cpu_s"], check=r.get("check"))
            if wl == "artifact":
                cell.update(rate=mb * n / d["wall_s"], rate_unit="MB/s", artifact_uri=r.get("artifact_uri"))
            else:
                cell.update(rate=n / d["wall_s"], rate_unit="models/s")
            out[key] = cell
    return out


def report(a):
    import importlib.metadata as md
    import platform

    meta = {}
    with open(a.meta) as f:
        for line in f:
            key, _, v = line.rstrip("\n").partition("\t")
            if key:
                meta[key] = v
    k = json.loads(meta.get("knobs", "{}"))
    servers = a.servers.split()
    data, raw = {}, {}
    for s in servers:
        results = {}
        for wl in WORKLOADS:
            p = os.path.join(a.dir, f"{s}_{wl}.json")
            if os.path.exists(p):
                with open(p) as f:
                    results[wl] = json.load(f)
        raw[s] = results
        data[s] = rows_for(results, k)
        if meta.get(f"skipped_{s}"):
            for key in ROW_LABELS:
                data[s].setdefault(key, {"ok": False, "error": meta[f"skipped_{s}"]})

    row_keys = [key for key in ROW_LABELS if any(key in data[s] for s in servers)]
    versions = {"python": platform.python_version()}
    for pkg in ("mlflow", "fasttrackml", "scikit-learn", "pandas", "numpy"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass

    def label(key):
        text = ROW_LABELS[key]
        return text.format(**k)

    def cpu_cell(key, c):
        if key == "batch":
            return f"{fmt_time(c['cpu_per_call_s'])} ({c['cpu_per_metric_s'] * 1e6:.2f} µs/metric)"
        return fmt_time(c["cpu_per_call_s"])

    notes = []

    def cells(s, key):
        c = data[s].get(key)
        if c is None:
            return ["–", "–"]
        if not c["ok"]:
            return [f"failed: {c['error']}".replace("|", "/"), "–"]
        mark = ""
        if c.get("check"):
            notes.append(f"{LABELS.get(s, s)}, {key}: check failed: {c['check']}")
            mark = f" (!{len(notes)})"
        return [f"{fmt_time(c['time_s'])}{mark}", cpu_cell(key, c)]

    def ratio(fw, peer, field):
        if not (fw and peer and fw.get("ok") and peer.get("ok")):
            return "n/a"
        x, y = fw.get(field), peer.get(field)
        if not y:
            return "n/a"  # the peer did no measurable work (FastTrackML's local artifact copies)
        if not x:
            return "∞"
        return f"{y / x:,.1f}×"

    def goal(key):
        fw = data.get("flywheel", {}).get(key)
        ft = data.get("fasttrackml", {}).get(key)
        ml = data.get("mlflow", {}).get(key)
        ok = fw is not None and fw.get("ok")
        parts = []

        def verdict(cond):
            return "met" if cond else "MISSED"

        if key == "single":
            parts.append(f"CPU ≤ 100 µs/call: {verdict(ok and fw['cpu_per_call_s'] <= 100e-6) if ok else 'n/a'}")
        if key == "batch":
            parts.append(f"CPU ≤ 2 µs/metric: {verdict(ok and fw['cpu_per_metric_s'] <= 2e-6) if ok else 'n/a'}")
        if key == "search":
            if ok and ml and ml.get("ok"):
                parts.append(f"≥ 20× MLflow: {verdict(ml['time_s'] / fw['time_s'] >= 20)}")
            else:
                parts.append("≥ 20× MLflow: n/a")
        if ok and ft and ft.get("ok"):
            local = str(ft.get("artifact_uri", "")).startswith(("file:", "/"))
            parts.append(f"ahead of FastTrackML: {verdict(fw['time_s'] < ft['time_s'])}"
                         + (" (FastTrackML copies the file locally)" if local else ""))
        else:
            parts.append("ahead of FastTrackML: n/a")
        return "; ".join(parts)

    lines = []
    p = lines.append
    p(f"Machine: {meta.get('machine', '?')}")
    p(f"Date: {meta.get('date', '?')}; the run took {meta.get('elapsed', '?')}; load average {meta.get('load_average', '?')}")
    p("Versions: Flywheel " + meta.get("flywheel", "?") + "; FastTrackML " + meta.get("fml", "?") + "; "
      + ", ".join(f"{n} {v}" for n, v in versions.items()))
    p("Servers: " + "; ".join(meta.get(f"server_{s}", s) for s in servers))
    p("Knobs: " + " ".join(f"{n.upper()}={v}" for n, v in k.items()))
    p("")
    head = ["workload"]
    align = ["---"]
    for s in servers:
        head += [f"{LABELS.get(s, s)} client time", f"{LABELS.get(s, s)} server CPU/call"]
        align += ["---:", "---:"]
    peers = [s for s in servers if s != "flywheel"] if "flywheel" in servers else []
    for s in peers:
        head += [f"Flywheel vs {LABELS.get(s, s)}: speedup", "CPU ratio"]
        align += ["---:", "---:"]
    if "flywheel" in servers:
        head.append("goals (Flywheel)")
        align.append("---")
    p("| " + " | ".join(head) + " |")
    p("|" + "|".join(align) + "|")
    for key in row_keys:
        row = [label(key)]
        for s in servers:
            row += cells(s, key)
        fw = data.get("flywheel", {}).get(key)
        for s in peers:
            pc = data[s].get(key)
            row += [ratio(fw, pc, "time_s"), ratio(fw, pc, "cpu_per_call_s")]
        if "flywheel" in servers:
            row.append(goal(key))
        p("| " + " | ".join(row) + " |")
    p("")
    p("Speedup = peer's client time / Flywheel's; CPU ratio = peer's server CPU per call / Flywheel's "
      "(both > 1× when Flywheel is ahead). Server CPU: utime+stime of the server's process tree, timed parts only.")
    p("")
    p("Throughput (client-observed):")
    p("")
    p("| workload | " + " | ".join(LABELS.get(s, s) for s in servers) + " |")
    p("|---|" + "|".join("---:" for _ in servers) + "|")
    for key in row_keys:
        row = [label(key)]
        for s in servers:
            c = data[s].get(key)
            row.append("–" if c is None else "failed" if not c["ok"] else fmt_rate(c["rate"], c["rate_unit"]))
        p("| " + " | ".join(row) + " |")
    p("")
    p("Notes:")
    for i, n in enumerate(notes, 1):
        p(f"- (!{i}) {n}")
    for s in servers:
        c = data[s].get("search")
        if c and c.get("ok"):
            p(f"- {LABELS.get(s, s)}: {k.get('search_runs')} search runs made in {c['populate_s']:.1f} s "
              f"(create_run + log_batch each, {k.get('populate_threads')} client threads, not timed).")
        c = data[s].get("artifact_upload")
        if c and c.get("ok") and str(c.get("artifact_uri", "")).startswith(("file:", "/")):
            p(f"- {LABELS.get(s, s)}: artifacts go to {c['artifact_uri'].split('/artifacts')[0]}…, a local path: "
              "the client copies the file on disk itself and the server never sees the bytes "
              "(no artifact proxy), so its artifact rows time a file copy and its server CPU there is ~0.")
    for s in servers:
        r = raw[s].get("idle")
        if r and r.get("ok"):
            p(f"- {LABELS.get(s, s)} idle: {r['server_cpu_s'] / r['wall_s'] * 1e3:.1f} ms of server CPU per second "
              f"with no calls (over {r['wall_s']:.0f} s before the workloads); the CPU figures above include this.")
    for line in meta.get("notes", "").split("\\n"):
        if line.strip():
            p(f"- {line}")
    text = "\n".join(lines)
    print(text)

    with open(a.json, "w") as f:
        json.dump({"meta": meta, "knobs": k, "versions": versions, "rows": {key: ROW_LABELS[key].format(**k)
                   for key in row_keys}, "results": data, "raw": raw}, f, indent=1)


ROW_LABELS = {
    "single": "a. log_metric ×{single} (total)",
    "batch": "b. log_batch {batch_calls} × {batch_size} metrics (total)",
    "search": "c. search_runs over {search_runs} runs (median of {search_repeats})",
    "model_log": "d. sklearn log_model (mean of {model_repeats})",
    "model_load": "d'. sklearn load_model (mean of {model_repeats})",
    "artifact_upload": "e. log_artifact {artifact_mb} MB (mean of {artifact_repeats})",
    "artifact_download": "e'. download_artifacts {artifact_mb} MB (mean of {artifact_repeats})",
}


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("workload")
    w.add_argument("name", choices=sorted(WORKLOADS))
    w.add_argument("--uri", required=True)
    w.add_argument("--server-pid", type=int, default=0)
    w.add_argument("--out", required=True)
    w.add_argument("--single", type=int, default=10_000)
    w.add_argument("--batch-calls", type=int, default=100)
    w.add_argument("--batch-size", type=int, default=1000)
    w.add_argument("--search-runs", type=int, default=10_000)
    w.add_argument("--search-repeats", type=int, default=20)
    w.add_argument("--search-limit", type=int, default=100)
    w.add_argument("--populate-threads", type=int, default=4)
    w.add_argument("--model-repeats", type=int, default=10)
    w.add_argument("--artifact-mb", type=float, default=100)
    w.add_argument("--artifact-repeats", type=int, default=3)
    w.add_argument("--idle-seconds", type=float, default=5)
    r = sub.add_parser("report")
    r.add_argument("--dir", required=True)
    r.add_argument("--servers", required=True)
    r.add_argument("--meta", required=True)
    r.add_argument("--json", required=True)
    a = ap.parse_args()
    if a.cmd == "workload":
        workload(a)
    else:
        report(a)


if __name__ == "__main__":
    main()
