"""MLflow side of bench/tracking.sh, plus the final report.

Subcommands:
  populate  fill MLflow's SQLite database with the search workload's runs, in-process
            through MLflow's own SqlAlchemyStore and ORM models (before the server starts)
  bench     time single-metric logging, batched logging and search against a running
            `mlflow server` over REST with MlflowClient
  report    print the comparison table from the JSON results of both sides

Each of populate/bench prints one JSON object on stdout. The data of the search workload
is generated with the same LCG (seed 42) as Sources/FlywheelBench/main.swift, so both
sides search identical values and must return the same number of runs.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time


# ---------------------------------------------------------------------------------------
# Shared workload data


class LCG:
    """The generator FlywheelBench uses: 64-bit LCG, top 53 bits as a double in [0, 1)."""

    def __init__(self, state=42):
        self.state = state

    def next(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        return (self.state >> 11) / float(1 << 53)


def accuracies(n):
    rng = LCG()
    return [rng.next() for _ in range(n)]


def cpu_self():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def cpu_tree(root_pid):
    """User+system CPU seconds of a process and all its live descendants (from /proc)."""
    if not root_pid:
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    parent, cpu = {}, {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces; fields follow the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        pid = int(name)
        parent[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    total, todo = 0.0, [root_pid]
    seen = set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        total += cpu.get(p, 0.0)
        todo.extend(c for c, pp in parent.items() if pp == p)
    return total


# ---------------------------------------------------------------------------------------
# populate


def populate(args):
    from mlflow.entities import RunStatus, SourceType, LifecycleStage
    from mlflow.store.tracking.dbmodels.models import (
        SqlLatestMetric,
        SqlMetric,
        SqlParam,
        SqlRun,
        SqlTag,
    )
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
    from mlflow.utils.mlflow_tags import MLFLOW_RUN_NAME
    import uuid

    start = time.perf_counter()
    store = SqlAlchemyStore(args.db_uri, args.artifact_root)  # creates and migrates the schema
    exp_id = store.create_experiment(args.experiment)
    exp = store.get_experiment(exp_id)
    schema_seconds = time.perf_counter() - start

    values = accuracies(args.runs)
    now = int(time.time() * 1000)
    start = time.perf_counter()
    chunk = 2000
    with store.ManagedSessionMaker(read_only=False) as session:
        for lo in range(0, args.runs, chunk):
            objs = []
            for i in range(lo, min(lo + chunk, args.runs)):
                rid = uuid.uuid4().hex
                name = f"r{i}"
                objs.append(
                    SqlRun(
                        run_uuid=rid,
                        name=name,
                        artifact_uri=f"{exp.artifact_location}/{rid}/artifacts",
                        experiment_id=int(exp_id),
                        source_type=SourceType.to_string(SourceType.UNKNOWN),
                        source_name="",
                        entry_point_name="",
                        user_id="bench",
                        status=RunStatus.to_string(RunStatus.FINISHED),
                        start_time=now + i,
                        end_time=now + i + 1,
                        deleted_time=None,
                        source_version="",
                        lifecycle_stage=LifecycleStage.ACTIVE,
                    )
                )
                objs.append(SqlTag(run_uuid=rid, key=MLFLOW_RUN_NAME, value=name))
                objs.append(SqlParam(run_uuid=rid, key="model", value="rf" if i % 2 == 0 else "lr"))
                v = values[i]
                objs.append(SqlMetric(run_uuid=rid, key="accuracy", value=v, timestamp=now, step=0, is_nan=False))
                objs.append(
                    SqlLatestMetric(run_uuid=rid, key="accuracy", value=v, timestamp=now, step=0, is_nan=False)
                )
            session.add_all(objs)
            session.flush()
    insert_seconds = time.perf_counter() - start
    store.engine.dispose()
    expected = sorted((v for v in values if v > 0.9), reverse=True)
    print(
        json.dumps(
            {
                "experiment_id": str(exp_id),
                "runs": args.runs,
                "schema_seconds": schema_seconds,
                "populate_seconds": insert_seconds,
                "expected_matches": len(expected),
                "expected_top": expected[0] if expected else None,
                "method": "in-process through MLflow's SqlAlchemyStore (schema, experiment) and its ORM models "
                "(runs, run-name tags, params, metrics, latest_metrics) in one session, before the server started",
            }
        )
    )


# ---------------------------------------------------------------------------------------
# bench


def bench(args):
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=args.uri)
    out = {}

    def measure(body):
        c0, s0, t0 = cpu_self(), cpu_tree(args.server_pid), time.perf_counter()
        extra = body()
        t1 = time.perf_counter()
        c1, s1 = cpu_self(), cpu_tree(args.server_pid)
        return t1 - t0, c1 - c0, s1 - s0, extra

    exp_id = client.create_experiment(f"bench-{int(time.time() * 1000)}")

    # a. one metric per call
    if args.single > 0:
        run = client.create_run(exp_id, run_name="single")
        rid = run.info.run_id

        def single():
            for i in range(args.single):
                client.log_metric(rid, "loss", 1.0 / (i + 1), step=i, synchronous=True)

        wall, ccpu, scpu, _ = measure(single)
        out.update(
            single_metrics=args.single,
            single_seconds=wall,
            single_per_second=args.single / wall,
            single_client_cpu=ccpu,
            single_server_cpu=scpu,
        )
        got = len(client.get_metric_history(rid, "loss"))
        if got != args.single:
            out["single_error"] = f"logged {args.single}, history has {got}"
        print(f"mlflow single: {args.single / wall:,.0f} metrics/s", file=sys.stderr)

    # b. batches of batch_size metrics per call (same keys/values/steps as FlywheelBench)
    if args.batched > 0:
        run = client.create_run(exp_id, run_name="batched")
        rid = run.info.run_id
        now = int(time.time() * 1000)
        nb = args.batched // args.batch_size
        batches = [
            [
                Metric(key=f"m{j % 10}", value=(b * args.batch_size + j) * 0.001, timestamp=now,
                       step=(b * args.batch_size + j) // 10)
                for j in range(args.batch_size)
            ]
            for b in range(nb)
        ]

        def batched():
            for batch in batches:
                client.log_batch(rid, metrics=batch, synchronous=True)

        wall, ccpu, scpu, _ = measure(batched)
        n = nb * args.batch_size
        out.update(
            batched_metrics=n,
            batched_seconds=wall,
            batched_per_second=n / wall,
            batched_client_cpu=ccpu,
            batched_server_cpu=scpu,
        )
        print(f"mlflow batched: {n / wall:,.0f} metrics/s", file=sys.stderr)

    # c. search through the server
    if args.search_experiment:
        kw = dict(
            experiment_ids=[args.search_experiment],
            filter_string="metrics.accuracy > 0.9",
            order_by=["metrics.accuracy DESC"],
            max_results=args.search_limit,
        )
        client.search_runs(**kw)  # warm-up, not timed (FlywheelBench's first search is timed)
        times, returned, top = [], 0, None
        c0, s0 = cpu_self(), cpu_tree(args.server_pid)
        deadline = time.perf_counter() + args.search_max_seconds
        for k in range(args.search_repeats):
            t0 = time.perf_counter()
            runs = client.search_runs(**kw)
            times.append(time.perf_counter() - t0)
            returned = len(runs)
            top = runs[0].data.metrics.get("accuracy") if runs else None
            if time.perf_counter() > deadline and k >= 4:
                break
        c1, s1 = cpu_self(), cpu_tree(args.server_pid)
        out.update(
            search_repeats=len(times),
            search_median_ms=statistics.median(times) * 1000,
            search_min_ms=min(times) * 1000,
            search_returned=returned,
            search_top=top,
            search_cpu_ms_per_query=(c1 - c0 + s1 - s0) / len(times) * 1000,
        )
        if args.expected_returned is not None and returned != args.expected_returned:
            out["search_error"] = f"returned {returned} runs, expected {args.expected_returned}"
        print(f"mlflow search: median {out['search_median_ms']:.1f} ms over {len(times)}", file=sys.stderr)

    print(json.dumps(out))


# ---------------------------------------------------------------------------------------
# report


def report(args):
    def load(path):
        with open(path) as f:
            return json.load(f)

    fw = {}
    for name, path in (s.split("=", 1) for s in args.flywheel):
        fw[name] = load(path)
        # tracking.sh writes the shell's `time` output ("real user sys") next to each result.
        timing = path[: -len(".json")] + ".time" if path.endswith(".json") else None
        if timing and os.path.exists(timing):
            with open(timing) as f:
                parts = f.read().split()
            if len(parts) >= 3:
                fw[name]["cpu"] = float(parts[-2]) + float(parts[-1])
    ml = load(args.mlflow)
    pop = load(args.populate) if args.populate else {}
    single, batched, search = fw["single"], fw["batched"], fw["search"]
    cli_single, cli_batch = fw.get("cli_single", {}), fw.get("cli_batched", {})

    def num(x, digits=0):
        if x is None:
            return "n/a"
        return f"{x:,.{digits}f}"

    def ratio(a, b):
        if not a or not b:
            return "n/a"
        return f"{a / b:,.1f}×"

    rows = []
    rows.append((
        f"a. single metric per call, Swift API ({int(single['single_metrics']):,} calls), metrics/s",
        num(single["single_per_second"]), num(ml.get("single_per_second")),
        ratio(single["single_per_second"], ml.get("single_per_second")),
        f"≥ 20× → {'met' if ml.get('single_per_second') and single['single_per_second'] >= 20 * ml['single_per_second'] else 'MISSED'}",
    ))
    mdef = load(args.mlflow_default) if args.mlflow_default else {}
    if mdef.get("single_per_second"):
        rows.append((
            f"a. same, MLflow server with its default 4 workers ({mdef['single_metrics']} calls), metrics/s",
            num(single["single_per_second"]), num(mdef["single_per_second"], 1),
            ratio(single["single_per_second"], mdef["single_per_second"]), "(see note on TCP_NODELAY)",
        ))
    if cli_single:
        rows.append((
            f"a'. single metric per call, `flywheel runs log --metric` ({cli_single['calls']} processes), metrics/s",
            num(cli_single["per_second"], 1), num(ml.get("single_per_second")),
            ratio(cli_single["per_second"], ml.get("single_per_second")), "(no target; one process per metric)",
        ))
    rows.append((
        f"b. batched, {int(batched['batched_metrics']):,} metrics in batches of {args.batch_size}, Swift API, metrics/s",
        num(batched["batched_per_second"]), num(ml.get("batched_per_second")),
        ratio(batched["batched_per_second"], ml.get("batched_per_second")),
        f"≥ 500,000/s → {'met' if batched['batched_per_second'] >= 500_000 else 'MISSED'}",
    ))
    if cli_batch:
        rows.append((
            f"b'. batched, `flywheel runs log --batch` ({cli_batch['calls']} processes × {args.batch_size}), metrics/s",
            num(cli_batch["per_second"]), num(ml.get("batched_per_second")),
            ratio(cli_batch["per_second"], ml.get("batched_per_second")),
            f"≥ 500,000/s → {'met' if cli_batch['per_second'] >= 500_000 else 'missed'} (target is for the API)",
        ))
    ms = ml.get("search_median_ms")
    rows.append((
        f"c. search {int(search['search_runs']):,} runs, `metrics.accuracy > 0.9` desc, limit {args.search_limit}, median ms",
        num(search["search_median_ms"], 2), num(ms, 2), ratio(ms, search["search_median_ms"]),
        f"≤ 20 ms → {'met' if search['search_median_ms'] <= 20 else 'MISSED'}",
    ))

    print("| workload | Flywheel | MLflow | ratio | target |")
    print("|---|---:|---:|---:|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print()
    print("Ratio: Flywheel/MLflow for throughput, MLflow/Flywheel for latency (higher = Flywheel faster).")
    print()
    print("CPU seconds (user+sys):")
    print("| workload | Flywheel process | MLflow client | MLflow server (all workers) |")
    print("|---|---:|---:|---:|")
    print(f"| a. single, Swift API vs MlflowClient.log_metric | {num(single.get('cpu'), 2)} | "
          f"{num(ml.get('single_client_cpu'), 2)} | {num(ml.get('single_server_cpu'), 2)} |")
    if cli_single:
        print(f"| a'. single, {cli_single['calls']} CLI processes (sum) | {num(cli_single.get('cpu'), 2)} | | |")
    print(f"| b. batched, Swift API vs MlflowClient.log_batch | {num(batched.get('cpu'), 2)} | "
          f"{num(ml.get('batched_client_cpu'), 2)} | {num(ml.get('batched_server_cpu'), 2)} |")
    if cli_batch:
        print(f"| b'. batched, {cli_batch['calls']} CLI processes (sum) | {num(cli_batch.get('cpu'), 2)} | | |")
    print()
    print("Notes:")
    print(f"- Flywheel search: {int(search['search_returned'])} runs returned, median of "
          f"{args.search_repeats_fw} searches; its {int(search['search_runs']):,} runs were created through the "
          f"store API in {search['search_setup_seconds']:.1f} s (Flywheel CPU figures include process start-up "
          "and, for the API rows, the other workloads shrunk to a token size).")
    if pop:
        print(f"- MLflow search: {ml.get('search_returned')} runs returned (expected "
              f"{min(pop['expected_matches'], args.search_limit)} of {pop['expected_matches']} matches), median of "
              f"{ml.get('search_repeats')} searches through the server after one untimed warm-up; "
              f"{ml.get('search_cpu_ms_per_query', 0):.0f} ms CPU (client+server) per search. Its "
              f"{pop['runs']:,} runs were written {pop['method']}, in {pop['populate_seconds']:.1f} s.")
        want = min(pop["expected_matches"], args.search_limit)
        if int(search["search_returned"]) != want:
            print(f"- Flywheel search check failed: returned {int(search['search_returned'])}, expected {want}")
    if mdef.get("single_per_second"):
        print("- MLflow server workers: with more than one uvicorn worker (MLflow's default is 4) the accepted "
              "sockets lack TCP_NODELAY, so each request on a kept-alive connection waits ~40 ms (Nagle vs. delayed "
              "ACK) between response headers and body; the main MLflow figures use --workers 1, which avoids it.")
    print("- Rows a and b time Flywheel in-process through its Swift API (no network hop) against MLflow's "
          "client over REST to a local server; rows a' and b' pay a process start per call instead.")
    for k in ("single_error", "search_error"):
        if k in ml:
            print(f"- MLflow check failed: {ml[k]}")
    for k, v in fw.items():
        if isinstance(v, dict) and v.get("errors"):
            print(f"- Flywheel {k}: {v['errors']} failed invocations (see log)")


def api_report(args):
    """The same MlflowClient workloads against two servers: mlflow server and flywheel server."""
    m, f = (json.load(open(p)) for p in (args.mlflow, args.flywheel))
    rows = [
        ("a. one metric per call (`log_metric`), metrics/s", "single_per_second", "single_server_cpu", "single_metrics"),
        ("b. batches of 1000 (`log_batch`), metrics/s", "batched_per_second", "batched_server_cpu", "batched_metrics"),
    ]
    print("Same client (MlflowClient over REST), same workloads, two servers:")
    print()
    print("| workload | flywheel server | mlflow server | ratio | server CPU per 1000 metrics (flywheel / mlflow) |")
    print("|---|---:|---:|---:|---:|")
    for label, rate, cpu, n in rows:
        if rate not in m or rate not in f:
            continue
        per = lambda d: d[cpu] / d[n] * 1000 * 1000  # ms per 1000 metrics
        print(f"| {label} | {f[rate]:,.0f} | {m[rate]:,.0f} | {f[rate] / m[rate]:.1f}× | {per(f):.1f} / {per(m):.1f} ms |")
    for d, who in ((f, "flywheel"), (m, "mlflow")):
        for k in ("single_error", "batched_error"):
            if k in d:
                print(f"- {who}: {d[k]}")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)

    a = sub.add_parser("populate")
    a.add_argument("--db-uri", required=True)
    a.add_argument("--artifact-root", required=True)
    a.add_argument("--experiment", default="bench-search")
    a.add_argument("--runs", type=int, default=10_000)

    b = sub.add_parser("bench")
    b.add_argument("--uri", required=True)
    b.add_argument("--server-pid", type=int, default=0)
    b.add_argument("--single", type=int, default=10_000)
    b.add_argument("--batched", type=int, default=100_000)
    b.add_argument("--batch-size", type=int, default=1_000)
    b.add_argument("--search-experiment")
    b.add_argument("--search-repeats", type=int, default=50)
    b.add_argument("--search-limit", type=int, default=100)
    b.add_argument("--search-max-seconds", type=float, default=120)
    b.add_argument("--expected-returned", type=int)

    r = sub.add_parser("report")
    r.add_argument("--flywheel", action="append", default=[], help="NAME=FILE.json")
    r.add_argument("--mlflow", required=True)
    r.add_argument("--mlflow-default")
    r.add_argument("--populate")
    r.add_argument("--batch-size", type=int, default=1000)
    r.add_argument("--search-limit", type=int, default=100)
    r.add_argument("--search-repeats-fw", type=int, default=50)

    ar = sub.add_parser("api-report")
    ar.add_argument("--mlflow", required=True)
    ar.add_argument("--flywheel", required=True)

    args = p.parse_args()
    {"populate": populate, "bench": bench, "report": report, "api-report": api_report}[args.cmd](args)


if __name__ == "__main__":
    main()
