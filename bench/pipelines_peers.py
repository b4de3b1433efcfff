"""Peers for bench/pipelines.sh: Prefect and Dagster flows, DVC and Flywheel specs, and the report.

    python pipelines_peers.py prefect  linear|fanout STEPS     # one flow run in this process
    python pipelines_peers.py dagster  linear|fanout STEPS     # one job, execute_in_process
    python pipelines_peers.py dagster-mp fanout STEPS          # the same job on the multiprocess executor
    python pipelines_peers.py flywheel-spec linear|fanout STEPS > FILE.yaml
    python pipelines_peers.py dvc-yaml linear|fanout STEPS > dvc.yaml
    python pipelines_peers.py report --raw RAW.tsv --meta META.json --out RESULTS.json

Every step is a trivial process: `true` (Flywheel: `/bin/sh -c "true sN"`; Prefect and Dagster:
`subprocess.run(["true"])`; DVC: `echo N > fN`, since a DVC stage is linked to the next only through
files). "linear" is a chain s0 → s1 → … ; "fanout" is one root, STEPS − 2 independent steps that
need it, and one step that needs them all. A flow run prints one JSON line on stdout with the time
spent importing the framework and running the flow, measured inside this process; the shell times
the whole process.
"""

import json
import statistics
import subprocess
import sys
import time

T0 = time.perf_counter()
TIMES = {}  # extra phases a runner measured


def true_cmd():
    subprocess.run(["true"], check=True)


# --------------------------------------------------------------------------------------------
# Prefect 3: tasks on the default task runner (a thread pool). Linear: each task is called with the
# previous one's result, so it runs after it (a plain call runs the task in the flow's thread).
# Fan-out: .submit() with the root's future as an argument, then a fan-in task with wait_for.


def prefect(shape, n):
    from prefect import flow, task
    from prefect.server.api.server import SubprocessASGIServer

    imported = time.perf_counter()
    # With no PREFECT_API_URL the first API client starts this temporary server (one per port,
    # None: any free one); starting it here, the same way, lets its start-up be timed apart.
    SubprocessASGIServer().start()
    TIMES["server_s"] = time.perf_counter() - imported

    @task
    def step(i, prev=None):
        true_cmd()
        return i

    if shape == "linear":

        @flow(name=f"linear-{n}")
        def pipeline():
            r = None
            for i in range(n):
                r = step.with_options(name=f"s{i}")(i, r)
            return r

    else:

        @flow(name=f"fanout-{n}")
        def pipeline():
            root = step.with_options(name="s0").submit(0)
            mids = [step.with_options(name=f"s{i}").submit(i, root) for i in range(1, n - 1)]
            last = step.with_options(name=f"s{n - 1}").submit(n - 1, wait_for=mids)
            return last.result()

    pipeline()
    return imported


# --------------------------------------------------------------------------------------------
# Dagster: one op definition, aliased n times, linked by Nothing inputs (order only, no data).
# execute_in_process runs the ops one after another in this process with an ephemeral instance.


def dagster_job(shape, n, executor=None):
    from dagster import In, Nothing, job, op

    @op(ins={"after": In(Nothing)})
    def step():
        true_cmd()

    kwargs = {"name": f"{shape}_{n}"}
    if executor is not None:
        kwargs["executor_def"] = executor

    if shape == "linear":

        @job(**kwargs)
        def pipeline():
            r = step.alias("s0")()
            for i in range(1, n):
                r = step.alias(f"s{i}")(after=r)

    else:

        @job(**kwargs)
        def pipeline():
            root = step.alias("s0")()
            mids = [step.alias(f"s{i}")(after=root) for i in range(1, n - 1)]
            step.alias(f"s{n - 1}")(after=mids)

    return pipeline


def dagster(shape, n):
    import dagster  # noqa: F401  (timed as the import)

    imported = time.perf_counter()
    result = dagster_job(shape, n).execute_in_process()
    if not result.success:
        raise SystemExit("dagster job failed")
    return imported


# The multiprocess executor needs a job it can rebuild in each child process and a persistent
# instance (DAGSTER_HOME); the children import this file again, so the job lives at module level.
def _mp_job():
    import os

    from dagster import multiprocess_executor

    shape, n = os.environ["BENCH_DAGSTER_SHAPE"], int(os.environ["BENCH_DAGSTER_STEPS"])
    return dagster_job(shape, n, multiprocess_executor.configured({"max_concurrent": 2}))


def dagster_mp(shape, n):
    import os

    from dagster import DagsterInstance, execute_job, reconstructable

    imported = time.perf_counter()
    os.environ["BENCH_DAGSTER_SHAPE"], os.environ["BENCH_DAGSTER_STEPS"] = shape, str(n)
    with DagsterInstance.get() as instance:
        result = execute_job(reconstructable(_mp_job), instance=instance)
        if not result.success:
            raise SystemExit("dagster job failed")
    return imported


# --------------------------------------------------------------------------------------------
# Specs for Flywheel and DVC.


def shape_edges(shape, n):
    """(name, [names it needs]) for every step."""
    if shape == "linear":
        return [(f"s{i}", [f"s{i - 1}"] if i else []) for i in range(n)]
    if n < 3:
        raise SystemExit("fanout needs at least 3 steps")
    mids = [f"s{i}" for i in range(1, n - 1)]
    return [("s0", [])] + [(m, ["s0"]) for m in mids] + [(f"s{n - 1}", mids)]


def flywheel_spec(shape, n):
    # Each command names its step ("true s7"): the cache key is the command text (and declared
    # deps and references), not the step's name, so 100 identical "true" steps would be cache hits
    # of each other within the first run.
    lines = [f"pipeline: {shape}-{n}", "steps:"]
    for name, needs in shape_edges(shape, n):
        extra = f", needs: [{', '.join(needs)}]" if needs else ""
        lines.append(f'  {name}: {{run: "true {name}"{extra}}}')
    return "\n".join(lines) + "\n"


def dvc_yaml(shape, n):
    lines = ["stages:"]
    for name, needs in shape_edges(shape, n):
        lines.append(f"  {name}:")
        lines.append(f"    cmd: echo {name} > {name}.txt")
        if needs:
            lines.append("    deps:")
            lines += [f"      - {d}.txt" for d in needs]
        lines.append("    outs:")
        lines.append(f"      - {name}.txt")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Report: medians of the raw timings, the table, and the JSON.

PEER_NAMES = {"prefect": "Prefect", "dagster": "Dagster", "dagster-mp": "Dagster (multiprocess)", "dvc": "DVC"}


def report(raw_path, meta_path, out_path):
    meta = json.load(open(meta_path))
    steps = int(meta["steps"])
    samples = {}  # (side, workload) -> [wall seconds]
    cpu = {}  # (side, workload) -> [CPU seconds, user + system, all processes]
    inproc = {}  # (side, workload) -> [{"import_s":…, "run_s":…}]
    failures = []
    for line in open(raw_path):
        side, workload, rep, rc, seconds, cpu_s, extra = (line.rstrip("\n").split("\t") + [""])[:7]
        if rc != "0":
            failures.append({"side": side, "workload": workload, "repeat": int(rep), "exit": int(rc)})
            continue
        samples.setdefault((side, workload), []).append(float(seconds))
        cpu.setdefault((side, workload), []).append(float(cpu_s))
        if extra:
            try:
                inproc.setdefault((side, workload), []).append(json.loads(extra))
            except ValueError:
                pass

    def med(side, workload):
        v = samples.get((side, workload))
        return statistics.median(v) if v else None

    def overhead(side, workload):
        w, s = med(side, workload), med(side, "startup")
        return None if w is None or s is None else (w - s) / steps

    sides = ["flywheel"] + list(meta["peers"]) + (["dagster-mp"] if meta.get("dagster_mp_steps") else [])
    results = {"meta": meta, "failures": failures, "sides": {}}
    for side in sides:
        entry = {}
        for (s, w), v in sorted(samples.items()):
            if s != side:
                continue
            entry[w] = {"median_s": statistics.median(v), "samples_s": v,
                        "cpu_median_s": statistics.median(cpu[(s, w)]), "cpu_samples_s": cpu[(s, w)]}
            if (s, w) in inproc:
                ip = inproc[(s, w)]
                entry[w]["in_process_median"] = {k: statistics.median(x[k] for x in ip) for k in ip[0]}
        for w in ("linear", "fanout"):
            o = overhead(side, w)
            if o is not None:
                entry[f"{w}_per_step_overhead_s"] = o
        results["sides"][side] = entry

    def ms(x):
        return "—" if x is None else (f"{x * 1e3:,.1f} ms" if abs(x) < 1 else f"{x:,.2f} s")

    def ratio(fw, peer):
        # A difference of two noisy medians can come out at or below zero: no ratio then.
        if fw is None or peer is None or fw <= 0 or peer <= 0:
            return "—"
        return f"{peer / fw:,.1f}×"

    rows = [
        ("startup (1-step pipeline)", lambda s: med(s, "startup")),
        (f"linear {steps}, first run (wall)", lambda s: med(s, "linear")),
        (f"linear {steps}, per-step overhead", lambda s: overhead(s, "linear")),
        (f"fan-out {steps}, first run (wall)", lambda s: med(s, "fanout")),
        (f"fan-out {steps}, per-step overhead", lambda s: overhead(s, "fanout")),
        (f"linear {steps}, cached rerun (wall)", lambda s: med(s, "linear_cached")),
    ]
    table = []
    header = ["workload", "Flywheel"]
    for p in meta["peers"]:
        header += [PEER_NAMES.get(p, p), f"{PEER_NAMES.get(p, p)} ÷ FW"]
    table.append(header)
    for label, f in rows:
        fw = f("flywheel")
        row = [label, ms(fw)]
        for p in meta["peers"]:
            v = f(p)
            row += [ms(v), ratio(fw, v)]
        table.append(row)

    def cpu_med(side, workload):
        v = cpu.get((side, workload))
        return statistics.median(v) if v else None

    cpu_table = [header]
    for label, w in (("startup", "startup"), (f"linear {steps}", "linear"), (f"fan-out {steps}", "fanout"),
                     (f"linear {steps}, cached rerun", "linear_cached")):
        fw_c = cpu_med("flywheel", w)
        row = [f"{label} (CPU)", ms(fw_c)]
        for p in meta["peers"]:
            v = cpu_med(p, w)
            row += [ms(v), ratio(fw_c, v)]
        cpu_table.append(row)
        if w in ("linear", "fanout"):
            def per_step(side):
                a, b = cpu_med(side, w), cpu_med(side, "startup")
                return None if a is None or b is None else (a - b) / steps
            row = [f"{label}, CPU per step", ms(per_step("flywheel"))]
            for p in meta["peers"]:
                row += [ms(per_step(p)), ratio(per_step("flywheel"), per_step(p))]
            cpu_table.append(row)

    def render(tab):
        widths = [max(len(r[i]) for r in tab) for i in range(len(tab[0]))]
        lines = []
        for k, r in enumerate(tab):
            lines.append("  ".join([r[0].ljust(widths[0])] + [c.rjust(widths[i + 1]) for i, c in enumerate(r[1:])]))
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        return lines

    def markdown(tab):
        return (["| " + " | ".join(tab[0]) + " |", "|---" + "|---:" * (len(tab[0]) - 1) + "|"]
                + ["| " + " | ".join(r) + " |" for r in tab[1:]])

    text = render(table) + [""] + render(cpu_table)
    md = markdown(table) + [""] + markdown(cpu_table)

    fw = results["sides"]["flywheel"]
    targets = meta["targets"]
    checks = []

    def check(name, value, limit):
        ok = value is not None and value <= limit
        checks.append({"target": name, "value_s": value, "limit_s": limit, "met": ok})
        return f"{name}: {ms(value)} (≤ {ms(limit)}) {'met' if ok else 'MISSED'}"

    lines = [
        check("startup", med("flywheel", "startup"), targets["startup_s"]),
        check("per-step overhead, linear", fw.get("linear_per_step_overhead_s"), targets["per_step_s"]),
        check("per-step overhead, fan-out", fw.get("fanout_per_step_overhead_s"), targets["per_step_s"]),
        check(f"cached rerun of {steps} steps", med("flywheel", "linear_cached"), targets["cached_rerun_s"]),
    ]
    results["targets"] = checks

    # Inside the peers' processes: the import, Prefect's server start, and the flow itself. The
    # per-step figure from the flow alone does not carry the noise of a 10-second start-up.
    ip_lines = []
    for p in meta["peers"]:
        side = results["sides"].get(p, {})
        flows = {}
        for w in ("startup", "linear", "fanout"):
            m = side.get(w, {}).get("in_process_median")
            if not m:
                continue
            flows[w] = m["run_s"] - m.get("server_s", 0)
            server = f", temporary server start {ms(m['server_s'])}" if "server_s" in m else ""
            ip_lines.append(f"  {PEER_NAMES.get(p, p)} {w}: import {ms(m['import_s'])}{server}, flow {ms(flows[w])}")
        for w in ("linear", "fanout"):
            if w in flows and "startup" in flows:
                per = (flows[w] - flows["startup"]) / steps
                side[f"{w}_per_step_flow_only_s"] = per
                ip_lines.append(f"  {PEER_NAMES.get(p, p)} {w}: per step, flow only {ms(per)}")
    mp = results["sides"].get("dagster-mp", {}) if meta.get("dagster_mp_steps") else {}
    if "fanout" in mp:
        k = int(meta["dagster_mp_steps"])
        wall = mp["fanout"]["median_s"]
        ip_lines.append(f"  Dagster, multiprocess executor, fan-out of {k} ops: {ms(wall)} ({ms(wall / k)} per op)")

    out = ["\n".join(text), "", "Ratios are peer ÷ Flywheel (higher: Flywheel is faster). "
           f"Medians of {meta['repeats']} runs, one process each; per-step overhead = (wall − startup) / {steps}. "
           "CPU: user + system seconds of all the processes of a run.",
           "", "Flywheel targets:"] + ["  " + s for s in lines]
    if ip_lines:
        out += ["", "Peers, inside their process (median):"] + ip_lines
    if failures:
        out += ["", f"FAILED measurements (left out of the medians): {json.dumps(failures)}"]
    out += ["", "Markdown:", ""] + md
    results["table_markdown"] = "\n".join(md)
    json.dump(results, open(out_path, "w"), indent=2)
    print("\n".join(out))
    return 1 if failures else 0


def main(argv):
    what = argv[1]
    if what == "report":
        args = dict(zip(argv[2::2], argv[3::2]))
        return report(args["--raw"], args["--meta"], args["--out"])
    shape, n = argv[2], int(argv[3])
    if shape not in ("linear", "fanout"):
        raise SystemExit(f"unknown shape {shape}")
    if what == "flywheel-spec":
        sys.stdout.write(flywheel_spec(shape, n))
        return 0
    if what == "dvc-yaml":
        sys.stdout.write(dvc_yaml(shape, n))
        return 0
    runner = {"prefect": prefect, "dagster": dagster, "dagster-mp": dagster_mp}[what]
    imported = runner(shape, n)
    done = time.perf_counter()
    # The frameworks log to stdout and stderr; this line is the last one on stdout. run_s is
    # everything after the import (Prefect: server_s of it starting the temporary server).
    print(json.dumps({"import_s": imported - T0, "run_s": done - imported, **TIMES}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
