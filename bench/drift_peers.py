"""The data, the peers and the report of bench/drift.sh.

    python drift_peers.py gen DIR LABEL ROWS            # DIR/ref_LABEL.csv, DIR/cur_LABEL.csv (reused if unchanged)
    python drift_peers.py peers DIR LABEL TOOLS REPEATS OUT.json
                                                        # TOOLS: scipy, evidently or scipy,evidently
    python drift_peers.py flywheel BIN DIR LABEL METHOD REPEATS TIMEOUT OUT.json
                                                        # METHOD: auto or ks; `BIN drift REF CUR --json`
    python drift_peers.py report RESULTS_DIR META.tsv OUT.json   # the markdown table and the raw JSON

Data: 20 numeric columns f0..f19. Reference: every column N(0, 1). Current: f0..f9 are N(0.2, 1)
(shifted by 0.2 σ), f10..f19 N(0, 1). numpy's default_rng with a fixed seed per size and side;
values written with 6 significant digits ("%.6g"). A sidecar DIR/LABEL.meta.json records rows,
seed and byte sizes, so the files are made once and reused while they match.

Peers, in one Python process per call, after pandas.read_csv of both files (timed, but apart):
  evidently  Report([DataDriftPreset()]).run(reference_data=ref, current_data=cur)  (Evidently 0.7 API)
  scipy      scipy.stats.ks_2samp(ref[c], cur[c]) for the 20 columns (method="auto")
Each is run REPEATS times; the best and every time are kept. Drifted columns: Evidently's own
DriftedColumnsCount and its per-column ValueDrift verdicts; scipy's p-value < 0.05.

Flywheel: the binary run end to end (reading both CSVs included) REPEATS times, wall clock with
time.perf_counter around the process, CPU and peak RSS from wait4; the last run's JSON is kept.
"""

import json
import math
import os
import sys
import time

COLUMNS = [f"f{i}" for i in range(20)]
SHIFTED = COLUMNS[:10]
SHIFT = 0.2
SEED = 20260
P_THRESHOLD = 0.05


# ----------------------------------------------------------------------------------------- data
def gen(outdir, label, rows):
    import numpy as np

    rows = int(rows)
    os.makedirs(outdir, exist_ok=True)
    ref_path = os.path.join(outdir, f"ref_{label}.csv")
    cur_path = os.path.join(outdir, f"cur_{label}.csv")
    meta_path = os.path.join(outdir, f"{label}.meta.json")
    want = {"rows": rows, "columns": COLUMNS, "shifted": SHIFTED, "shift": SHIFT, "seed": SEED, "format": "%.6g"}
    try:
        with open(meta_path) as f:
            meta = json.load(f)
        if (
            {k: meta.get(k) for k in want} == want
            and os.path.getsize(ref_path) == meta["ref_bytes"]
            and os.path.getsize(cur_path) == meta["cur_bytes"]
        ):
            print(f"reusing {ref_path} and {cur_path} ({rows} rows each)")
            return
    except (OSError, ValueError, KeyError):
        pass

    t0 = time.perf_counter()
    # One stream per size and side, so every file is the same whichever sizes are made.
    shift = np.array([SHIFT if c in SHIFTED else 0.0 for c in COLUMNS])
    for path, side in ((ref_path, 0), (cur_path, 1)):
        rng = np.random.default_rng([SEED, rows, side])
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(",".join(COLUMNS) + "\n")
            chunk = 100_000
            for start in range(0, rows, chunk):
                n = min(chunk, rows - start)
                x = rng.standard_normal((n, len(COLUMNS)))
                if side == 1:
                    x += shift
                # "%.6g" per value, 20 to a row: a format string per row is the fastest plain way.
                np.savetxt(f, x, fmt="%.6g", delimiter=",")
        os.replace(tmp, path)
    want["ref_bytes"] = os.path.getsize(ref_path)
    want["cur_bytes"] = os.path.getsize(cur_path)
    with open(meta_path, "w") as f:
        json.dump(want, f, indent=1)
    print(f"wrote {ref_path} and {cur_path} ({rows} rows each, {(want['ref_bytes'] + want['cur_bytes']) / 1e6:.1f} MB) "
          f"in {time.perf_counter() - t0:.1f} s")


# ---------------------------------------------------------------------------------------- peers
def _cpu():
    t = os.times()
    return t.user + t.system


def _write(out, result):
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, out)


def peers(datadir, label, tools, repeats, out):
    import numpy as np
    import pandas as pd

    tools = [t for t in tools.split(",") if t]
    repeats = int(repeats)
    result = {"label": label, "tools": {}}

    t0, c0 = time.perf_counter(), _cpu()
    ref = pd.read_csv(os.path.join(datadir, f"ref_{label}.csv"))
    cur = pd.read_csv(os.path.join(datadir, f"cur_{label}.csv"))
    result["read"] = {"wall": time.perf_counter() - t0, "cpu": _cpu() - c0, "rows_ref": len(ref), "rows_cur": len(cur)}
    print(f"   pandas read_csv ×2: {result['read']['wall']:.3f} s ({len(ref)} + {len(cur)} rows)", flush=True)
    assert list(ref.columns) == COLUMNS and list(cur.columns) == COLUMNS, "unexpected columns"

    if "scipy" in tools:
        import scipy
        from scipy.stats import ks_2samp

        times, cpus, pvalues, stats = [], [], {}, {}
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), _cpu()
            res = {c: ks_2samp(ref[c], cur[c]) for c in COLUMNS}
            times.append(time.perf_counter() - t0)
            cpus.append(_cpu() - c0)
        pvalues = {c: float(r.pvalue) for c, r in res.items()}
        stats = {c: float(r.statistic) for c, r in res.items()}
        drifted = [c for c in COLUMNS if pvalues[c] < P_THRESHOLD]
        result["tools"]["scipy"] = {
            "version": scipy.__version__, "times": times, "cpu": cpus, "best": min(times),
            "pvalues": pvalues, "statistics": stats, "drifted": drifted, "drifted_count": len(drifted),
        }
        print(f"   scipy ks_2samp ×20: best {min(times):.3f} s of {times}; {len(drifted)} drifted", flush=True)
        _write(out, result)

    if "evidently" in tools:
        import evidently
        from evidently import Report
        from evidently.presets import DataDriftPreset

        times, cpus, snap = [], [], None
        for i in range(repeats):
            t0, c0 = time.perf_counter(), _cpu()
            report = Report([DataDriftPreset()])
            snap = report.run(reference_data=ref, current_data=cur)
            times.append(time.perf_counter() - t0)
            cpus.append(_cpu() - c0)
            print(f"   Evidently DataDriftPreset run {i + 1}: {times[-1]:.3f} s", flush=True)
        ev = {"version": evidently.__version__, "times": times, "cpu": cpus, "best": min(times)}
        ev.update(_evidently_verdicts(snap.dict()))
        result["tools"]["evidently"] = ev
        print(f"   Evidently: best {min(times):.3f} s; {ev['drifted_count']} drifted ({ev.get('methods')})", flush=True)
        _write(out, result)

    result["numpy"] = np.__version__
    result["pandas"] = pd.__version__
    _write(out, result)


def _evidently_verdicts(d):
    """Evidently 0.7's snapshot dict: DriftedColumnsCount and one ValueDrift metric per column."""
    out = {"scores": {}, "thresholds": {}, "methods": {}, "drifted": [], "drifted_count": None}
    for m in d.get("metrics", []):
        cfg = m.get("config", {})
        typ = cfg.get("type", "")
        if typ.endswith("DriftedColumnsCount"):
            v = m.get("value", {})
            out["drifted_count"] = int(v.get("count")) if v.get("count") is not None else None
            out["drift_share"] = v.get("share")
        elif typ.endswith("ValueDrift"):
            col, method, thr = cfg.get("column"), cfg.get("method", ""), cfg.get("threshold")
            val = m.get("value")
            if col is None or not isinstance(val, (int, float)):
                continue
            out["scores"][col] = float(val)
            out["thresholds"][col] = thr
            out["methods"][col] = method
            pvalue = "p_value" in method.lower().replace("-", "_") or "test" in method.lower()
            if thr is not None and ((val < thr) if pvalue else (val >= thr)):
                out["drifted"].append(col)
    methods = sorted(set(out["methods"].values()))
    out["methods"] = methods[0] if len(methods) == 1 else methods
    if out["drifted_count"] is None:
        out["drifted_count"] = len(out["drifted"])
    return out


# ------------------------------------------------------------------------------------- flywheel
def _num(v):
    """A JSON number, or Flywheel's "NaN" / "Infinity" / "-Infinity" strings for non-finite ones."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def flywheel(binary, datadir, label, method, repeats, timeout, out):
    import signal
    import subprocess
    import threading

    ref = os.path.join(datadir, f"ref_{label}.csv")
    cur = os.path.join(datadir, f"cur_{label}.csv")
    cmd = [binary, "drift", ref, cur, "--json"]
    if method != "auto":
        cmd += ["--method", method]
    times, cpus, rss, rcs, stdout, stderr = [], [], [], [], b"", b""
    result = {"label": label, "method": method, "command": " ".join(cmd)}
    for _ in range(int(repeats)):
        with open(out + ".stdout", "wb") as so, open(out + ".stderr", "wb") as se:
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd, stdout=so, stderr=se, stdin=subprocess.DEVNULL)
            # A blocking wait (a timer kills the process past the timeout): polling every half
            # millisecond took CPU from the process being timed and added up to one period.
            killed = threading.Event()
            timer = threading.Timer(float(timeout), lambda: (killed.set(), p.kill()))
            timer.start()
            _, status, ru = os.wait4(p.pid, 0)
            wall = time.perf_counter() - t0
            timer.cancel()
            # Timed out only if the timer's kill is what ended it (it may fire just after the exit).
            if killed.is_set() and os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
                result["error"] = f"timed out after {timeout} s"
                _write(out, result)
                sys.exit(1)
            p.returncode = os.waitstatus_to_exitcode(status)
        times.append(wall)
        cpus.append(ru.ru_utime + ru.ru_stime)
        rss.append(ru.ru_maxrss / 1024)  # KiB → MiB
        rcs.append(p.returncode)
    with open(out + ".stdout", "rb") as f:
        stdout = f.read()
    with open(out + ".stderr", "rb") as f:
        stderr = f.read()
    result.update({"times": times, "cpu": cpus, "max_rss_mib": rss, "exit_codes": rcs, "best": min(times)})
    try:
        report = json.loads(stdout)
        cols = report["columns"]
    except (ValueError, KeyError, TypeError) as e:
        result["error"] = f"could not read its JSON ({e}); exit codes {rcs}; stderr: {stderr.decode(errors='replace')[-500:]}"
        _write(out, result)
        print(f"   flywheel {method}: {result['error']}", file=sys.stderr)
        sys.exit(1)
    scores, methods, drifted, status = {}, {}, [], {}
    for c in cols:
        name = c.get("column")
        status[name] = c.get("status")
        r = c.get("result") or {}
        if "score" in r:
            scores[name] = _num(r["score"])
            methods[name] = r.get("method")
        if r.get("drifted"):
            drifted.append(name)
    ms = sorted({m for m in methods.values() if m})
    result.update({
        "scores": scores, "methods": ms[0] if len(ms) == 1 else ms, "drifted": drifted,
        "drifted_count": report.get("driftedColumns", len(drifted)), "dataset_drift": report.get("datasetDrift"),
        "tested_columns": report.get("testedColumns"), "status": status,
        "reference_rows": report.get("referenceRows"), "current_rows": report.get("currentRows"),
    })
    _write(out, result)
    print(f"   flywheel --method {method}: best {min(times):.3f} s of {['%.3f' % t for t in times]}; "
          f"{result['drifted_count']} drifted ({result['methods']}); peak RSS {max(rss):.0f} MiB", flush=True)


# --------------------------------------------------------------------------------------- report
def _load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _max_rel(a, b, floor=1e-300):
    """Max relative difference of a to b over keys where b is a normal number (above floor)."""
    worst, col, n = 0.0, None, 0
    for k, bv in b.items():
        av = a.get(k)
        if av is None or bv is None or not (abs(bv) > floor):
            continue
        n += 1
        d = abs(av - bv) / abs(bv)
        if d > worst or col is None:
            worst, col = d, k
    return worst, col, n


def _fmt_s(x):
    if x is None:
        return "—"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def _ratio(a, b):
    return a / b if a is not None and b else None


def _fmt_ratio(r):
    if r is None:
        return "—"
    if r < 1:
        return f"{r:.2f}×"
    return f"{r:.1f}×" if r < 100 else f"{r:.0f}×"


def report(resdir, meta_path, out):
    meta = {}
    with open(meta_path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            meta[k] = v
    labels = meta.get("labels", "").split()
    notes = [n for n in meta.get("notes", "").split("\x1f") if n]
    raw = {"meta": {k: v for k, v in meta.items() if k != "notes"}, "notes": notes, "sizes": {}}
    warnings = []
    lines = []
    lines.append("| data (rows × 20 cols, each side) | tool | wall s | runs | drifted columns | vs Flywheel |")
    lines.append("| --- | --- | ---: | --- | --- | ---: |")
    for label in labels:
        rows = meta.get(f"rows_{label}", "?")
        fa = _load(os.path.join(resdir, f"flywheel_auto_{label}.json"))
        fk = _load(os.path.join(resdir, f"flywheel_ks_{label}.json"))
        pr = _load(os.path.join(resdir, f"peers_{label}.json")) or {}
        pe = _load(os.path.join(resdir, f"evidently_{label}.json")) or {}
        tools = dict(pr.get("tools", {}))
        tools.update(pe.get("tools", {}))
        ev, sp = tools.get("evidently"), tools.get("scipy")
        read = (pr.get("read") or pe.get("read") or {}).get("wall")
        fa_ok = fa is not None and "error" not in fa
        fk_ok = fk is not None and "error" not in fk
        fa_best = fa["best"] if fa_ok else None
        fk_best = fk["best"] if fk_ok else None
        size = {"rows": rows, "pandas_read_s": read, "flywheel_auto": fa, "flywheel_ks": fk, "evidently": ev, "scipy": sp}

        def drift_cell(r):
            if not r:
                return "—"
            d = r.get("drifted") or []
            exact = sorted(d, key=lambda c: int(c[1:])) == SHIFTED
            return f"{r.get('drifted_count')}" + (" (f0–f9)" if exact else "")

        def runs_cell(r):
            if not r or "times" not in r:
                return "—"
            n = len(r["times"])
            return "1" if n == 1 else f"best of {n}"

        def peer_row(tool, res, base):
            """Appends a peer's row (time, drifted columns, ratio to Flywheel with and without
            pandas' read) and returns the two ratios."""
            r = _ratio(res["best"], base)
            r2 = _ratio(res["best"] + read, base) if read is not None else None
            cell = f"{_fmt_ratio(r)} ({_fmt_ratio(r2)} with read)" if r is not None else "—"
            lines.append(f"| {name} | {tool} | {_fmt_s(res['best'])} | {runs_cell(res)} | {drift_cell(res)} | {cell} |")
            return r, r2

        name = f"{_human(rows)}"
        fw_skip = meta.get("flywheel_skipped")
        if fa_ok:
            lines.append(f"| {name} | Flywheel `drift` (auto: Wasserstein), incl. reading both CSVs | {_fmt_s(fa_best)} | "
                         f"{runs_cell(fa)} | {drift_cell(fa)} | 1× |")
        else:
            why = fw_skip or (fa or {}).get("error", "not run")
            lines.append(f"| {name} | Flywheel `drift` (auto) | skipped | | | ({why}) |")
        if fk_ok:
            lines.append(f"| {name} | Flywheel `drift --method ks`, incl. reading both CSVs | {_fmt_s(fk_best)} | "
                         f"{runs_cell(fk)} | {drift_cell(fk)} | 1× |")
        else:
            lines.append(f"| {name} | Flywheel `drift --method ks` | skipped | | | |")
        if ev:
            r, r2 = peer_row(f"Evidently {ev['version']} `DataDriftPreset` ({ev.get('methods')})", ev, fa_best)
            size["evidently_over_flywheel"] = r
            size["evidently_plus_read_over_flywheel"] = r2
        else:
            why = meta.get(f"evidently_note_{label}") or "not run"
            lines.append(f"| {name} | Evidently `DataDriftPreset` | skipped | | | ({why}) |")
        if sp:
            r, r2 = peer_row(f"scipy {sp['version']} `ks_2samp` × 20 columns", sp, fk_best)
            size["scipy_over_flywheel_ks"] = r
            size["scipy_plus_read_over_flywheel_ks"] = r2
        if read is not None:
            lines.append(f"| {name} | pandas `read_csv` of both files (the peers' input, not in their times) | "
                         f"{_fmt_s(read)} | 1 | | |")

        # Checks: Flywheel's verdicts and its agreement with the peers.
        if fa_ok:
            got = sorted(fa["drifted"], key=lambda c: int(c[1:]) if c[1:].isdigit() else 99)
            if got != SHIFTED and label == "100k":
                warnings.append(f"{label}: Flywheel (auto) flagged {got or 'no columns'}, expected exactly f0..f9")
            elif got != SHIFTED:
                warnings.append(f"{label}: Flywheel (auto) flagged {got or 'no columns'} (expected f0..f9)")
            if ev and ev.get("scores"):
                d, col, n = _max_rel(fa["scores"], ev["scores"])
                size["auto_score_max_rel_diff_vs_evidently"] = {"value": d, "column": col, "columns_compared": n}
                lines_note = f"{label}: Flywheel auto scores vs Evidently's: max relative difference {d:.2e} ({col}, {n} columns)"
                notes.append(lines_note)
            if ev and sorted(fa["drifted"]) != sorted(ev.get("drifted", [])):
                warnings.append(f"{label}: Flywheel (auto) and Evidently disagree on drifted columns: "
                                f"{sorted(fa['drifted'])} vs {sorted(ev.get('drifted', []))}")
        if fk_ok and sp:
            d, col, n = _max_rel(fk["scores"], sp["pvalues"])
            size["ks_pvalue_max_rel_diff_vs_scipy"] = {"value": d, "column": col, "columns_compared": n}
            under = [c for c in COLUMNS if not (abs(sp["pvalues"].get(c, 0)) > 1e-300)]
            fw_under = {c: fk["scores"].get(c) for c in under}
            notes.append(f"{label}: Flywheel --method ks p-values vs scipy's: max relative difference {d:.2e} ({col}, "
                         f"{n} columns with p > 1e-300)"
                         + (f"; {len(under)} columns where scipy's p ≤ 1e-300 (Flywheel: "
                            f"{', '.join(f'{c}={v:.3g}' if isinstance(v, (int, float)) else f'{c}={v}' for c, v in fw_under.items())})"
                            if under else ""))
            if d > 1e-6:
                warnings.append(f"{label}: Flywheel's KS p-values differ from scipy's by up to {d:.2e} (relative, {col})")
            if sorted(fk["drifted"]) != sorted(sp["drifted"]):
                warnings.append(f"{label}: Flywheel --method ks and scipy disagree on drifted columns: "
                                f"{sorted(fk['drifted'])} vs {sorted(sp['drifted'])}")
        raw["sizes"][label] = size

    # Targets.
    s100, s1m = raw["sizes"].get("100k"), raw["sizes"].get("1m")
    targets = []
    if s100 and s100.get("evidently_over_flywheel") is not None:
        r = s100["evidently_over_flywheel"]
        targets.append(f"≥ 50× Evidently at 100k: {'met' if r >= 50 else 'missed'} ({r:.1f}×; "
                       f"{s100['evidently_plus_read_over_flywheel']:.1f}× counting pandas' read on Evidently's side)")
    else:
        targets.append("≥ 50× Evidently at 100k: not measured")
    if s1m and s1m.get("flywheel_auto") and "error" not in s1m["flywheel_auto"]:
        t = s1m["flywheel_auto"]["best"]
        tk = s1m["flywheel_ks"]["best"] if s1m.get("flywheel_ks") and "error" not in s1m["flywheel_ks"] else None
        targets.append(f"1M×20 report under 2 s: {'met' if t < 2 else 'missed'} ({t:.3f} s auto"
                       + (f", {tk:.3f} s --method ks" if tk is not None else "") + ", end to end incl. reading 2 × 1M-row CSVs)")
    else:
        targets.append("1M×20 report under 2 s: not measured")
    raw["targets"] = targets
    raw["warnings"] = warnings

    print("\n".join(lines))
    print()
    for t in targets:
        print(f"- {t}")
    print()
    print("Flywheel's times are one process end to end, reading both CSVs included; the peers' times are the "
          "calls alone on DataFrames already read (pandas' read time is the row below each size; "
          "'with read' adds it). Best wall time of the runs shown.")
    print()
    for k in ("machine", "date", "load_average", "versions", "flywheel", "settings"):
        if meta.get(k):
            print(f"- {k.replace('_', ' ')}: {meta[k]}")
    for n in notes:
        print(f"- {n}")
    for w in warnings:
        print(f"- WARNING: {w}")
    with open(out, "w") as f:
        json.dump(raw, f, indent=1)
    for w in warnings:
        print(f"drift.sh: WARNING: {w}", file=sys.stderr)


def _human(rows):
    try:
        n = int(rows)
    except ValueError:
        return str(rows)
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"gen": gen, "peers": peers, "flywheel": flywheel, "report": report}[cmd](*args)
