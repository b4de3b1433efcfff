#!/usr/bin/env bash
# bench/ui.sh — the web UI's heavy pages at the issue's sizes, rendered by the release build.
#
#   ./bench/ui.sh                                     # full: 100,000 runs, 1M-point chart, 100 × 100k compare
#   RUNS=10000 POINTS=100000 COMPARE_RUNS=20 COMPARE_POINTS=10000 ./bench/ui.sh   # quick
#   BENCH_BIN=/path/to/release/dir ./bench/ui.sh      # use prebuilt flywheel-bench, skip the build
#
# 1. builds flywheel-bench in release (scripts/build-release.sh, .build-release) unless BENCH_BIN
# 2. `flywheel-bench ui` seeds a SQLite workspace in a temp folder (an experiment of RUNS runs with
#    10 params and 10 metrics each; experiments of 100 runs with 20 and with WIDE_KEYS distinct
#    metric keys; a history of POINTS and one of SMALL_POINTS points; COMPARE_RUNS (and
#    COMPARE_RUNS_LARGE) runs of
#    COMPARE_POINTS points; a pipeline run of STEPS steps), then renders each page REPEATS times in
#    process (`WebUI.respond`, what the server calls; HTTP adds the same ~100 µs to every page) and
#    reports p50/p95 and the HTML (and SVG) size;
# 3. prints a markdown table against the issue's targets; bench/out/ui.json holds the numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-100000}
WIDE_KEYS=${WIDE_KEYS:-10000}
POINTS=${POINTS:-1000000}
SMALL_POINTS=${SMALL_POINTS:-100000}
COMPARE_RUNS=${COMPARE_RUNS:-100}
COMPARE_RUNS_LARGE=${COMPARE_RUNS_LARGE:-500}
COMPARE_POINTS=${COMPARE_POINTS:-100000}
STEPS=${STEPS:-1000}
REPEATS=${REPEATS:-20}
OUT=${OUT:-$ROOT/bench/out}
for v in RUNS WIDE_KEYS POINTS SMALL_POINTS COMPARE_RUNS COMPARE_RUNS_LARGE COMPARE_POINTS STEPS REPEATS; do
    [[ ${!v} =~ ^[0-9]+$ ]] && ((${!v} >= 1)) || { echo "ui.sh: $v must be a whole number ≥ 1" >&2; exit 2; }
done
mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/flywheel-ui-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

if [[ -n ${BENCH_BIN:-} ]]; then
    BIN=$BENCH_BIN
else
    echo "== 1. building flywheel-bench (release)" >&2
    BIN=$(timeout 3600 ./scripts/build-release.sh flywheel-bench 2>"$TMP/build.log") || { tail -30 "$TMP/build.log" >&2; exit 1; }
fi
echo "== 2. seeding and rendering (this takes a few minutes at the default sizes)" >&2
start=$(date +%s)
"$BIN/flywheel-bench" ui --dir "$TMP/ws" --runs "$RUNS" --wide-keys "$WIDE_KEYS" --points "$POINTS" --small-points "$SMALL_POINTS" \
    --compare-runs "$COMPARE_RUNS" --compare-runs-large "$COMPARE_RUNS_LARGE" --compare-points "$COMPARE_POINTS" --steps "$STEPS" --repeats "$REPEATS" >"$OUT/ui.json"
end=$(date +%s)

python3 - "$OUT/ui.json" "$((end - start))" <<'PY'
import json, os, platform, subprocess, sys
r = json.load(open(sys.argv[1]))
p = r["pages"]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
try:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "Sources"], capture_output=True, text=True).stdout.strip()
except OSError:
    commit, dirty = "?", ""
print(f"Machine: {os.cpu_count()} CPUs, {cpu}; load {os.getloadavg()[0]:.2f}; commit {commit}{' (+ uncommitted Sources)' if dirty else ''}; {sys.argv[2]} s in all")
print(f"Seeding: {r['runs']} runs in {r['seeding']['big_runs_seconds']:.1f} s; {max(r['compare_runs'], r['compare_runs_large'])} × {r['compare_points']} points in {r['seeding']['compare_seconds']:.1f} s\n")
def row(name, label, target_ms=None, html_max=None, svg_max=None):
    x = p[name]
    goals = []
    if target_ms: goals.append(f"p95 ≤ {target_ms} ms: {'met' if x['p95_ms'] <= target_ms else 'MISSED'}")
    if html_max: goals.append(f"HTML ≤ {html_max // 1000} KB: {'met' if x['html_bytes'] <= html_max else 'MISSED'}")
    if svg_max: goals.append(f"SVG ≤ {svg_max // 1000} KB: {'met' if x['svg_bytes'] <= svg_max else 'MISSED'}")
    svg = f"{x['svg_bytes'] / 1000:.1f} KB" if x["svg_bytes"] else "–"
    print(f"| {label} | {x['status']} | {x['p50_ms']:.1f} ms | {x['p95_ms']:.1f} ms | {x['html_bytes'] / 1000:.1f} KB | {svg} | {'; '.join(goals)} |")
print("| page | status | p50 | p95 | HTML | SVG | goals |")
print("|---|---:|---:|---:|---:|---:|---|")
row("runs_100_rows_20_cols", f"runs table, {r['runs']} runs: 100 rows × 20 columns sorted by a metric", 100, 120_000)
row("runs_1000_rows_20_cols", f"runs table, {r['runs']} runs: 1,000 rows", 400)
row("runs_filter_or", f"runs table, {r['runs']} runs: filter with OR, 100 rows")
row("runs_20_keys", "runs table, 100 runs with 20 metric keys")
row(f"runs_{r['wide_keys']}_keys", f"runs table, 100 runs with {r['wide_keys']} metric keys", None, 150_000)
row(f"runs_{r['wide_keys']}_keys_picker_open", f"the same with the column picker open (every key listed, 300 shown)", None, 150_000)
row(f"chart_{r['points']}_points", f"metric chart, {r['points']} points", 150, None, 40_000)
small = [k for k in p if k.startswith("chart_") and k != f"chart_{r['points']}_points"][0]
row(small, f"metric chart, {small.split('_')[1]} points", 30, None, 40_000)
row(f"compare_{r['compare_runs']}_runs", f"compare {r['compare_runs']} runs × {r['compare_points']} points", 1500, 150_000)
row(f"compare_{r['compare_runs_large']}_runs", f"compare {r['compare_runs_large']} runs × {r['compare_points']} points", 5000, 150_000)
row(f"pipeline_{r['steps']}_steps", f"pipeline run of {r['steps']} steps", 500, 150_000)
row("experiments", "experiments list", None, 150_000)
narrow, wide = p["runs_20_keys"]["p50_ms"], p[f"runs_{r['wide_keys']}_keys"]["p50_ms"]
print(f"\n{r['wide_keys']} keys vs 20 (p50): {wide / narrow:.2f}× (goal ≤ 1.2×: {'met' if wide / narrow <= 1.2 else 'MISSED'})")
PY
