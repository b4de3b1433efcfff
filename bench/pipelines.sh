#!/usr/bin/env bash
# bench/pipelines.sh — Flywheel's pipeline executor vs Prefect, Dagster and `dvc repro`, each in its
# local mode, on the same workloads, in one run.
#
#   ./bench/pipelines.sh                        # full run (about 11 minutes with the build done)
#   REPEATS=1 PEERS="dvc" FW=/path/to/flywheel ./bench/pipelines.sh     # quick run
#
# 1. builds flywheel in release with scripts/build-release.sh (.build-release, the Swift runtime linked in) unless FW= names a binary
# 2. makes bench/.venv-pipelines with the pinned Prefect, Dagster and DVC if missing
# 3. workloads, every step a trivial process (`true`):
#      startup   a 1-step pipeline (the fixed cost of one run: process, imports, store, server)
#      linear    STEPS steps in a chain
#      fanout    one root, STEPS − 2 independent steps that need it, one step that needs them all
#      linear_cached  the linear chain again in the same workspace: every step reused
#                     (Flywheel and DVC; Prefect and Dagster have no cross-run reuse by default)
#    Each measurement is one process timed from this shell, on a fresh workspace / repository
#    (setting it up is not timed). Rounds: every side in turn, REPEATS times, never two at once;
#    the medians are reported. Per-step overhead = (wall − startup) / STEPS.
# 4. prints a table with ratios (peer ÷ Flywheel) and the targets; JSON, the raw timings and the
#    logs go to bench/out/pipelines/. With PROFILE=1 (the default) it then runs `strace -c -f` on a
#    Flywheel first run and cached rerun (untimed) and keeps the summaries there too.
#
# Peers, in their local modes:
#   Prefect: a flow of STEPS tasks, each subprocess.run(["true"]); linear by passing the previous
#     result (plain calls), fan-out with .submit on the default thread-pool task runner and a
#     fan-in with wait_for. No PREFECT_API_URL, so each process starts Prefect's temporary local
#     server (SQLite in PREFECT_HOME, a temp dir shared by all Prefect runs of this script).
#   Dagster: STEPS ops in a job run with execute_in_process (in-process executor: one op after
#     another, ephemeral instance). DAGSTER_MP=1 adds one fan-out run of DAGSTER_MP_STEPS ops on
#     the multiprocess executor (a process per op, 2 at once), which is slow and off by default.
#   DVC: dvc.yaml with STEPS stages `cmd: echo sN > sN.txt`, linked by deps/outs on those files,
#     in a fresh `git init` + `dvc init` folder; `dvc repro`, then `dvc repro` again (all skipped).
# Nothing leaves the machine: Prefect's server binds loopback, telemetry is off everywhere.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

REPEATS=${REPEATS:-3}                 # rounds; medians over these
STEPS=${STEPS:-100}                   # steps per pipeline
PEERS=${PEERS:-prefect dagster dvc}   # which peers to run
STEP_TIMEOUT=${STEP_TIMEOUT:-300}     # seconds, for any one measured process
DEADLINE=${DEADLINE:-960}             # seconds from the first measurement; later ones are skipped
DAGSTER_MP=${DAGSTER_MP:-0}           # 1: also Dagster's multiprocess executor on a fan-out (once)
DAGSTER_MP_STEPS=${DAGSTER_MP_STEPS:-10}  # its size: a process per op makes 100 take ~8 minutes here
PROFILE=${PROFILE:-1}                 # 1: strace -c summaries of Flywheel runs after the timings
PREFECT_VERSION=${PREFECT_VERSION:-3.9.1}
DAGSTER_VERSION=${DAGSTER_VERSION:-1.13.28}
DVC_VERSION=${DVC_VERSION:-3.67.1}
OUT=${OUT:-$ROOT/bench/out/pipelines}
VENV=${VENV:-$ROOT/bench/.venv-pipelines}
# Targets from the issue (Flywheel).
TARGET_STEP_S=0.010 TARGET_STARTUP_S=0.100 TARGET_CACHED_S=0.200
if ((REPEATS < 1 || STEPS < 3)); then
    echo "pipelines.sh: need REPEATS ≥ 1 and STEPS ≥ 3" >&2
    exit 2
fi

# No telemetry anywhere; nothing but loopback.
export DO_NOT_TRACK=1 DVC_NO_ANALYTICS=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
# Prefect's temporary server gets 20 s to come up by default; its first start (making the database)
# took longer than that here under load.
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=120
export PIP_DISABLE_PIP_VERSION_CHECK=1
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
unset PREFECT_API_URL PREFECT_API_KEY FLYWHEEL_WORKSPACE

mkdir -p "$OUT/logs"
LOG=$OUT/pipelines.log
RAW=$OUT/raw.tsv
: >"$LOG"
: >"$RAW"
rm -f "$OUT"/logs/*
say() { printf '== %s\n' "$*" >&2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/flywheel-pipelines-bench.XXXXXX")
cleanup() {
    local rc=$?
    cd "$ROOT"
    [[ ${KEEP_TMP:-0} == 1 ]] && say "kept $TMP" || rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
DATE_START=$(date -u '+%Y-%m-%d %H:%M UTC')

# ---------------------------------------------------------------------------------------
if [[ -z ${FW:-} ]]; then
    say "1. building flywheel (release, .build-release, scripts/build-release.sh)"
    BIN=$(timeout 3600 nice ./scripts/build-release.sh flywheel 2>>"$LOG") || { tail -30 "$LOG" >&2; exit 1; }
    FW=$BIN/flywheel
else
    say "1. using FW=$FW"
fi
FW=$(realpath "$FW")
[[ -x $FW ]] || { echo "pipelines.sh: no executable at FW=$FW" >&2; exit 1; }

say "2. Prefect $PREFECT_VERSION, Dagster $DAGSTER_VERSION, DVC $DVC_VERSION in ${VENV#"$ROOT"/}"
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
PY=$VENV/bin/python
HELPER=$ROOT/bench/pipelines_peers.py
if ! "$PY" - "$PREFECT_VERSION" "$DAGSTER_VERSION" "$DVC_VERSION" <<'EOF' 2>/dev/null; then
import sys
from importlib.metadata import version
sys.exit([version("prefect"), version("dagster"), version("dvc")] != sys.argv[1:])
EOF
    timeout 1800 "$VENV/bin/pip" install -q "prefect==$PREFECT_VERSION" "dagster==$DAGSTER_VERSION" "dvc==$DVC_VERSION" \
        >>"$LOG" 2>&1 || { tail -30 "$LOG" >&2; exit 1; }
fi
DVC=$VENV/bin/dvc

# Prefect: one home for every Prefect process (its SQLite database is made once, in the warm-up).
export PREFECT_HOME=$TMP/prefect-home
mkdir -p "$PREFECT_HOME"
# Dagster: a home with telemetry off (execute_in_process uses an ephemeral instance anyway).
export DAGSTER_HOME=$TMP/dagster-home
mkdir -p "$DAGSTER_HOME"
printf 'telemetry:\n  enabled: false\n' >"$DAGSTER_HOME/dagster.yaml"

# Specs.
SPECS=$TMP/specs
mkdir -p "$SPECS"
"$PY" "$HELPER" flywheel-spec linear 1 >"$SPECS/startup.yaml"
"$PY" "$HELPER" flywheel-spec linear "$STEPS" >"$SPECS/linear.yaml"
"$PY" "$HELPER" flywheel-spec fanout "$STEPS" >"$SPECS/fanout.yaml"
"$PY" "$HELPER" dvc-yaml linear 1 >"$SPECS/dvc-startup.yaml"
"$PY" "$HELPER" dvc-yaml linear "$STEPS" >"$SPECS/dvc-linear.yaml"
"$PY" "$HELPER" dvc-yaml fanout "$STEPS" >"$SPECS/dvc-fanout.yaml"

# ---------------------------------------------------------------------------------------
# One measurement: runs CMD in DIR under a timeout, stdout to FILE (or /dev/null), stderr to the
# side's log, and appends "side workload repeat exit wall-seconds cpu-seconds [in-process JSON]"
# to raw.tsv. $EPOCHREALTIME is read without a fork; `timeout` adds one exec and fork (~1 ms) on
# every side. CPU is user + system of every process the command started and reaped (Prefect's
# server included), from the shell's `times` before and after: steadier than wall time when the
# machine is shared.
T_MEASURE=
children_cpu() {  # prints "user sys" of this shell's reaped children so far, as "XmY.Zs XmY.Zs"
    times >"$TMP/times"
    { read -r _ && read -r CHILD_CPU; } <"$TMP/times"
}
measure() {  # side workload repeat dir stdout-file cmd...
    local side=$1 workload=$2 rep=$3 dir=$4 out=$5
    shift 5
    if ((SECONDS - T_MEASURE > DEADLINE)); then
        say "   skipped $side $workload (DEADLINE=${DEADLINE}s passed)"
        return 0
    fi
    local t0 t1 c0 c1 rc=0 extra=""
    cd "$dir"
    children_cpu
    c0=$CHILD_CPU
    t0=$EPOCHREALTIME
    timeout "$STEP_TIMEOUT" "$@" >"$out" 2>>"$OUT/logs/$side.stderr" || rc=$?
    t1=$EPOCHREALTIME
    children_cpu
    c1=$CHILD_CPU
    cd "$ROOT"
    if [[ $out != /dev/null ]]; then extra=$(grep '^{"import_s"' "$out" | tail -1 || true); fi
    local secs cpu
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
    cpu=$(awk -v a="$c0" -v b="$c1" 'function s(t,  p) { split(t, p, /[ms]/); return p[1] * 60 + p[2] }
        BEGIN { split(a, x, " "); split(b, y, " "); printf "%.3f", s(y[1]) + s(y[2]) - s(x[1]) - s(x[2]) }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$side" "$workload" "$rep" "$rc" "$secs" "$cpu" "$extra" >>"$RAW"
    printf '   %-10s %-14s #%s  %8.3f s  (CPU %7.2f s)%s\n' "$side" "$workload" "$rep" "$secs" "$cpu" \
        "$( ((rc == 0)) || echo "  FAILED (exit $rc)")" >&2
}

fw_workspace() {  # fresh workspace; prints its path
    local ws
    ws=$(mktemp -d "$TMP/fw.XXXXXX")
    (cd "$ws" && "$FW" init >>"$LOG" 2>&1)
    echo "$ws"
}

dvc_repo() {  # fresh git + dvc repository with dvc.yaml from SPEC; prints its path
    local d
    d=$(mktemp -d "$TMP/dvc.XXXXXX")
    (
        cd "$d"
        git init -q .
        "$DVC" init -q
        "$DVC" config core.analytics false
        "$DVC" config core.autostage false
        "$DVC" config core.site_cache_dir "$TMP/dvc-site"
        cp "$1" dvc.yaml
    ) >>"$LOG" 2>&1
    echo "$d"
}

round_flywheel() {  # repeat (0: the warm-up, startup only)
    local r=$1 ws
    ws=$(fw_workspace)
    measure flywheel startup "$r" "$ws" /dev/null "$FW" run "$SPECS/startup.yaml"
    ((r > 0)) || return 0
    ws=$(fw_workspace)
    measure flywheel linear "$r" "$ws" /dev/null "$FW" run "$SPECS/linear.yaml"
    measure flywheel linear_cached "$r" "$ws" /dev/null "$FW" run "$SPECS/linear.yaml"
    ws=$(fw_workspace)
    measure flywheel fanout "$r" "$ws" /dev/null "$FW" run "$SPECS/fanout.yaml"
}

round_python() {  # side repeat
    local side=$1 r=$2
    measure "$side" startup "$r" "$TMP" "$TMP/$side.stdout" "$PY" "$HELPER" "$side" linear 1
    ((r > 0)) || return 0
    measure "$side" linear "$r" "$TMP" "$TMP/$side.stdout" "$PY" "$HELPER" "$side" linear "$STEPS"
    measure "$side" fanout "$r" "$TMP" "$TMP/$side.stdout" "$PY" "$HELPER" "$side" fanout "$STEPS"
}

round_dvc() {  # repeat
    local r=$1 d
    d=$(dvc_repo "$SPECS/dvc-startup.yaml")
    measure dvc startup "$r" "$d" /dev/null "$DVC" repro
    ((r > 0)) || return 0
    d=$(dvc_repo "$SPECS/dvc-linear.yaml")
    measure dvc linear "$r" "$d" /dev/null "$DVC" repro
    measure dvc linear_cached "$r" "$d" /dev/null "$DVC" repro
    d=$(dvc_repo "$SPECS/dvc-fanout.yaml")
    measure dvc fanout "$r" "$d" /dev/null "$DVC" repro
}

round() {  # side repeat
    case $1 in
        flywheel) round_flywheel "$2" ;;
        prefect | dagster) round_python "$1" "$2" ;;
        dvc) round_dvc "$2" ;;
        *) echo "pipelines.sh: unknown peer '$1'" >&2; exit 2 ;;
    esac
}

# ---------------------------------------------------------------------------------------
say "3. warm-up: each side's startup workload once, not counted (page cache, Prefect's database)"
T_MEASURE=$SECONDS
for side in flywheel $PEERS; do
    round "$side" 0 2>>"$LOG"
done
# The warm-up rows are kept apart from the measured ones.
mv "$RAW" "$OUT/warmup.tsv"
: >"$RAW"

say "4. measuring: $REPEATS rounds of flywheel${PEERS:+, ${PEERS// /, }}; STEPS=$STEPS"
T_MEASURE=$SECONDS
for ((r = 1; r <= REPEATS; r++)); do
    for side in flywheel $PEERS; do round "$side" "$r"; done
done
if [[ $DAGSTER_MP == 1 ]]; then
    say "   Dagster, multiprocess executor (fan-out of $DAGSTER_MP_STEPS, once)"
    measure dagster-mp fanout 1 "$TMP" "$TMP/dagster-mp.stdout" "$PY" "$HELPER" dagster-mp fanout "$DAGSTER_MP_STEPS"
fi
MEASURE_SECONDS=$((SECONDS - T_MEASURE))

# Check that the cached reruns were what they claim: every step of the chain reused / skipped.
say "5. checks"
ws=$(fw_workspace)
(cd "$ws" && "$FW" run "$SPECS/linear.yaml" >/dev/null && "$FW" run --json "$SPECS/linear.yaml" >"$TMP/cached.json") 2>>"$LOG"
FW_CACHE_HITS=$(jq '[.steps[] | select(.cacheHit == true)] | length' "$TMP/cached.json" 2>/dev/null || echo "?")
say "   Flywheel cached rerun: $FW_CACHE_HITS of $STEPS steps reused"
DVC_CACHED_RAN="?"
if [[ " $PEERS " == *" dvc "* ]]; then
    d=$(dvc_repo "$SPECS/dvc-linear.yaml")
    (cd "$d" && "$DVC" repro >/dev/null && "$DVC" repro >"$TMP/dvc-cached.txt") 2>>"$LOG"
    DVC_CACHED_RAN=$(grep -c "^Running stage" "$TMP/dvc-cached.txt" || true)
    say "   DVC cached rerun: $DVC_CACHED_RAN stages ran again"
fi

if [[ $PROFILE == 1 ]] && command -v strace >/dev/null; then
    say "6. strace -c -f on a Flywheel first run and cached rerun (untimed)"
    ws=$(fw_workspace)
    (cd "$ws" && strace -c -f -o "$OUT/strace_linear_first.txt" "$FW" run "$SPECS/linear.yaml" >/dev/null \
        && strace -c -f -o "$OUT/strace_linear_cached.txt" "$FW" run "$SPECS/linear.yaml" >/dev/null) 2>>"$LOG" || true
fi

# ---------------------------------------------------------------------------------------
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
versions=$("$PY" - <<'EOF'
import json
from importlib.metadata import version
print(json.dumps({p: version(p) for p in ("prefect", "dagster", "dvc", "pydantic", "sqlalchemy")}))
EOF
)
jq -n --arg date "$DATE_START" --arg load_start "$LOAD_START" --arg load_end "$LOAD_END" \
    --argjson repeats "$REPEATS" --argjson steps "$STEPS" --arg peers "$PEERS" \
    --arg machine "$(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2 / 1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)" \
    --arg swift "$(swift --version 2>/dev/null | head -1 | sed 's/ (.*//')" \
    --arg commit "$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- Sources Package.swift 2>/dev/null || echo ' (+ uncommitted changes in Sources)')" \
    --arg fw "$FW" --arg python "$("$PY" --version)" --argjson versions "$versions" \
    --arg fw_cache_hits "$FW_CACHE_HITS" --arg dvc_cached_ran "$DVC_CACHED_RAN" \
    --argjson measure_seconds "$MEASURE_SECONDS" --argjson dagster_mp_steps "$( ((DAGSTER_MP == 1)) && echo "$DAGSTER_MP_STEPS" || echo null)" \
    --argjson t_step "$TARGET_STEP_S" --argjson t_start "$TARGET_STARTUP_S" --argjson t_cached "$TARGET_CACHED_S" \
    '{date: $date, machine: $machine, load_average_start: $load_start, load_average_end: $load_end,
      repeats: $repeats, steps: $steps, peers: ($peers | split(" ") | map(select(. != ""))),
      swift: $swift, commit: $commit, flywheel: $fw, python: $python, versions: $versions,
      checks: {flywheel_cached_rerun_hits: $fw_cache_hits, dvc_cached_rerun_stages_run: $dvc_cached_ran},
      measure_seconds: $measure_seconds, dagster_mp_steps: $dagster_mp_steps,
      targets: {per_step_s: $t_step, startup_s: $t_start, cached_rerun_s: $t_cached}}' >"$OUT/meta.json"

{
    echo "Machine: $(jq -r .machine "$OUT/meta.json")"
    echo "Date: $DATE_START; load average (1/5/15 min) at start $LOAD_START, at end $LOAD_END"
    echo "Versions: $(jq -r .swift "$OUT/meta.json"), Flywheel $(jq -r .commit "$OUT/meta.json"); $("$PY" --version);" \
        "$(jq -r '.versions | to_entries | map("\(.key) \(.value)") | join(", ")' "$OUT/meta.json")"
    echo "Measuring took ${MEASURE_SECONDS}s. Flywheel cached rerun reused $FW_CACHE_HITS of $STEPS steps; DVC's rerun ran $DVC_CACHED_RAN stages."
    echo
    "$PY" "$HELPER" report --raw "$RAW" --meta "$OUT/meta.json" --out "$OUT/results.json"
} | tee "$OUT/pipelines.md"
say "results in ${OUT#"$ROOT"/} (pipelines.md, results.json, raw.tsv, logs/)"
