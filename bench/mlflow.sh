#!/usr/bin/env bash
# bench/mlflow.sh — `flywheel server` as an MLflow drop-in: the same mlflow Python client and the same
# workloads against `mlflow server`, FastTrackML and `flywheel server`, one after another.
#
#   ./bench/mlflow.sh                                   # full run (defaults below)
#   SINGLE=500 BATCH_CALLS=5 SEARCH_RUNS=500 SEARCH_REPEATS=5 MODEL_REPEATS=2 ARTIFACT_MB=10 ARTIFACT_REPEATS=1 \
#       ./bench/mlflow.sh                               # quick run
#   FLYWHEEL_BIN=/path/to/flywheel ./bench/mlflow.sh    # use a prebuilt binary, skip the build
#   SERVERS="mlflow fasttrackml" WORKLOADS="single search" ./bench/mlflow.sh   # a subset
#
# 1. builds flywheel in release with scripts/build-release.sh (.build-release, the Swift runtime
#    linked in) unless FLYWHEEL_BIN names a binary
# 2. makes bench/.venv-mlflow if missing: mlflow (full package), scikit-learn, numpy, pandas pinned,
#    and fasttrackml pinned, installed with --no-deps (its wheel asks for mlflow<3; only its `fml`
#    binary is used here, the Go server, which needs no Python package)
# 3. per server, one at a time, on 127.0.0.1 and a free port, each in a fresh temp dir:
#      mlflow       mlflow server, SQLite backend, --serve-artifacts (artifacts in the temp dir),
#                   --workers MLFLOW_WORKERS (1: see bench/tracking.sh on uvicorn and TCP_NODELAY)
#      fasttrackml  fml server, SQLite database, --default-artifact-root in the temp dir; its MLflow
#                   API is at the root URL (http://127.0.0.1:PORT/api/2.0/mlflow/…)
#      flywheel     flywheel init, then flywheel server --port PORT in that workspace
#    waits until GET /api/2.0/mlflow/experiments/get?experiment_id=0 answers 200, then runs each
#    workload in its own client process (bench/mlflow_peers.py workload NAME, at most STEP_TIMEOUT s)
#    and stops the server (SIGTERM to its process group, then SIGKILL).
#    Workloads: single (log_metric × SINGLE), batch (log_batch BATCH_CALLS × BATCH_SIZE), search
#    (SEARCH_RUNS runs, then search_runs `metrics.accuracy > 0.9` by accuracy desc, max
#    SEARCH_LIMIT, median of SEARCH_REPEATS), model (sklearn log_model + load_model × MODEL_REPEATS),
#    artifact (log_artifact + download_artifacts of ARTIFACT_MB MB of random bytes × ARTIFACT_REPEATS).
#    Server CPU: utime+stime of the server's process tree (/proc), before and after each timed part.
#    A workload that fails on a server is reported as "failed: <reason>" and the run goes on.
# 4. prints a markdown table (client time and server CPU per call for each server, Flywheel's
#    speedup and CPU ratio against each peer, the issue's goals); bench/out/mlflow.json holds the
#    numbers, bench/out/mlflow/ the logs, each workload's JSON and the table (mlflow.md).
# Nothing leaves the machine: every server binds 127.0.0.1, MLflow telemetry is off.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

SERVERS=${SERVERS:-mlflow fasttrackml flywheel}
WORKLOADS=${WORKLOADS:-single batch search model artifact}
SINGLE=${SINGLE:-10000}                 # a. log_metric calls on one run
BATCH_CALLS=${BATCH_CALLS:-100}         # b. log_batch calls on one run …
BATCH_SIZE=${BATCH_SIZE:-1000}          #    … of this many metrics each (MLflow's limit is 1000)
SEARCH_RUNS=${SEARCH_RUNS:-10000}       # c. runs to search over (made with create_run + log_batch, not timed)
SEARCH_REPEATS=${SEARCH_REPEATS:-20}    #    searches timed (median reported), after one warm-up
SEARCH_LIMIT=${SEARCH_LIMIT:-100}       #    max_results
POPULATE_THREADS=${POPULATE_THREADS:-4} #    client threads making the search runs
MODEL_REPEATS=${MODEL_REPEATS:-10}      # d. log_model + load_model rounds
ARTIFACT_MB=${ARTIFACT_MB:-100}         # e. file size, MiB
ARTIFACT_REPEATS=${ARTIFACT_REPEATS:-3} #    upload + download rounds
MLFLOW_WORKERS=${MLFLOW_WORKERS:-1}     # mlflow server --workers
IDLE_SECONDS=${IDLE_SECONDS:-5}         # server CPU measured with no calls first, per server (0 = skip)
HTTP_RETRIES=${HTTP_RETRIES:-0}         # the mlflow client's retries on 429/5xx (its default, 7, hides failures for minutes)
STEP_TIMEOUT=${STEP_TIMEOUT:-1200}      # hard cap, seconds, for one workload on one server
READY_TIMEOUT=${READY_TIMEOUT:-90}      # seconds a server gets to come up
OUT=${OUT:-$ROOT/bench/out/mlflow}
JSON=${JSON:-$ROOT/bench/out/mlflow.json}
VENV=${VENV:-$ROOT/bench/.venv-mlflow}
REQUIREMENTS="mlflow==3.17.2 scikit-learn==1.9.1 numpy==2.4.6 pandas==3.1.1"
FASTTRACKML="fasttrackml==0.6.0"

for v in SINGLE BATCH_CALLS SEARCH_RUNS SEARCH_REPEATS SEARCH_LIMIT POPULATE_THREADS MODEL_REPEATS ARTIFACT_REPEATS \
    MLFLOW_WORKERS STEP_TIMEOUT READY_TIMEOUT HTTP_RETRIES IDLE_SECONDS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || { echo "mlflow.sh: $v must be a whole number" >&2; exit 2; }
done
((BATCH_SIZE >= 1 && BATCH_SIZE <= 1000)) || { echo "mlflow.sh: 1 ≤ BATCH_SIZE ≤ 1000" >&2; exit 2; }
((SINGLE >= 1 && BATCH_CALLS >= 1 && SEARCH_RUNS >= 1 && SEARCH_REPEATS >= 1 && SEARCH_LIMIT >= 1 && MODEL_REPEATS >= 1 \
    && ARTIFACT_REPEATS >= 1 && MLFLOW_WORKERS >= 1)) || { echo "mlflow.sh: the counts must be ≥ 1" >&2; exit 2; }
[[ $ARTIFACT_MB =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "mlflow.sh: ARTIFACT_MB is a number of MiB" >&2; exit 2; }
for s in $SERVERS; do
    [[ $s == mlflow || $s == fasttrackml || $s == flywheel ]] || { echo "mlflow.sh: SERVERS are mlflow, fasttrackml, flywheel" >&2; exit 2; }
done
for w in $WORKLOADS; do
    [[ $w =~ ^(single|batch|search|model|artifact)$ ]] || { echo "mlflow.sh: WORKLOADS are single, batch, search, model, artifact" >&2; exit 2; }
done

# No telemetry, no background job runner, synchronous logging; loopback bypasses any proxy.
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true
export MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false MLFLOW_ENABLE_ASYNC_LOGGING=false
export MLFLOW_HTTP_REQUEST_MAX_RETRIES=$HTTP_RETRIES
export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
unset FLYWHEEL_WORKSPACE MLFLOW_TRACKING_URI MLFLOW_RUN_ID MLFLOW_EXPERIMENT_ID MLFLOW_EXPERIMENT_NAME

mkdir -p "$OUT" "$(dirname "$JSON")"
rm -f "$OUT"/*.json "$OUT"/*.log "$OUT"/*.md "$OUT"/meta.tsv "$JSON"
LOG=$OUT/mlflow.log
META=$OUT/meta.tsv
: >"$LOG"
: >"$META"
BENCH_NAME=mlflow.sh
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
meta() { printf '%s\t%s\n' "$1" "$2" >>"$META"; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/flywheel-mlflow-bench.XXXXXX")
SERVER_PID=
CLIENT_PID=
stop_server() {
    local pid=${SERVER_PID:-}
    SERVER_PID=
    stop_group "$pid"
}
cleanup() {
    local rc=$?
    [[ -n $CLIENT_PID ]] && kill -TERM -- "-$CLIENT_PID" 2>/dev/null
    stop_server
    cd "$ROOT"
    [[ ${KEEP_TMP:-0} == 1 ]] && say "kept $TMP" || rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

FAILED=()
RUN_START=$SECONDS

# ---------------------------------------------------------------------------------------
FW=
FW_SKIP=
if [[ " $SERVERS " == *" flywheel "* ]]; then
    flywheel_binary "$OUT" server
    [[ -n $FW_SKIP ]] && say "flywheel: skipped ($FW_SKIP)"
fi
# What the binary was built from (the work tree may move on during the run).
FW_SOURCE="commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- Sources Package.swift 2>/dev/null || echo ' (+ uncommitted changes in Sources)')"
[[ -n ${FLYWHEEL_BIN:-} ]] && FW_SOURCE="FLYWHEEL_BIN, work tree at $FW_SOURCE"

# ---------------------------------------------------------------------------------------
say "2. bench/.venv-mlflow ($REQUIREMENTS, $FASTTRACKML --no-deps)"
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
PY=$VENV/bin/python
# shellcheck disable=SC2086
if ! "$PY" - $REQUIREMENTS $FASTTRACKML <<'EOF' 2>/dev/null; then
import sys
from importlib.metadata import version
for req in sys.argv[1:]:
    name, want = req.split("==")
    if version(name) != want:
        sys.exit(1)
EOF
    # shellcheck disable=SC2086
    timeout 1800 "$VENV/bin/pip" install -q $REQUIREMENTS >>"$LOG" 2>&1 \
        && timeout 600 "$VENV/bin/pip" install -q --no-deps "$FASTTRACKML" >>"$LOG" 2>&1 \
        || { tail -30 "$LOG" >&2; loud "pip install failed (see $LOG)"; exit 1; }
fi
FML=$VENV/bin/fml
[[ -x $FML ]] || { loud "$FML is missing after installing $FASTTRACKML"; exit 1; }

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_ready BASE — GET BASE/api/2.0/mlflow/experiments/get?experiment_id=0 until 200 (every server
# has the Default experiment), at most READY_TIMEOUT s; fails at once if the server died.
wait_ready() {
    local url="$1/api/2.0/mlflow/experiments/get?experiment_id=0" deadline=$((SECONDS + READY_TIMEOUT))
    while ((SECONDS < deadline)); do
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        [[ $(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --max-time 2 "$url" || true) == 200 ]] && return 0
        sleep 0.25
    done
    return 1
}

# fail_json FILE WORKLOAD REASON — a result file for a workload whose client did not write one.
fail_json() {
    "$PY" -c 'import json, sys; json.dump({"ok": False, "workload": sys.argv[2], "error": sys.argv[3]}, open(sys.argv[1], "w"))' "$@"
}

KNOBS=$("$PY" -c 'import json, sys; print(json.dumps(dict(zip(sys.argv[1::2], [float(v) if "." in v else int(v) for v in sys.argv[2::2]]))))' \
    single "$SINGLE" batch_calls "$BATCH_CALLS" batch_size "$BATCH_SIZE" search_runs "$SEARCH_RUNS" \
    search_repeats "$SEARCH_REPEATS" search_limit "$SEARCH_LIMIT" populate_threads "$POPULATE_THREADS" \
    model_repeats "$MODEL_REPEATS" artifact_mb "$ARTIFACT_MB" artifact_repeats "$ARTIFACT_REPEATS" \
    mlflow_workers "$MLFLOW_WORKERS" http_retries "$HTTP_RETRIES" idle_seconds "$IDLE_SECONDS")

# ---------------------------------------------------------------------------------------
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
MEASURE_START=$SECONDS
for server in $SERVERS; do
    port=$(free_port)
    dir=$TMP/$server
    mkdir -p "$dir"
    slog=$OUT/${server}_server.log
    case $server in
        mlflow)
            say "3. mlflow server (SQLite, --serve-artifacts, --workers $MLFLOW_WORKERS) on 127.0.0.1:$port"
            meta server_mlflow "mlflow server --workers $MLFLOW_WORKERS, SQLite, --serve-artifacts"
            setsid "$VENV/bin/mlflow" server --backend-store-uri "sqlite:///$dir/mlflow.db" \
                --serve-artifacts --artifacts-destination "$dir/artifacts" \
                --host 127.0.0.1 --port "$port" --workers "$MLFLOW_WORKERS" >"$slog" 2>&1 &
            SERVER_PID=$!
            ;;
        fasttrackml)
            say "3. FastTrackML (fml server, SQLite) on 127.0.0.1:$port"
            meta server_fasttrackml "fml server, SQLite, artifacts in a local directory"
            (cd "$dir" && exec setsid "$FML" server --database-uri "sqlite://$dir/fasttrackml.db" \
                --default-artifact-root "$dir/artifacts" --listen-address "127.0.0.1:$port") >"$slog" 2>&1 &
            SERVER_PID=$!
            ;;
        flywheel)
            if [[ -n $FW_SKIP ]]; then
                meta skipped_flywheel "skipped: $FW_SKIP"
                FAILED+=(flywheel)
                continue
            fi
            say "3. flywheel server (workspace in a temp dir) on 127.0.0.1:$port"
            meta server_flywheel "flywheel server (its own store)"
            if ! (cd "$dir" && "$FW" init) >"$OUT/flywheel_init.log" 2>&1; then
                cat "$OUT/flywheel_init.log" >&2
                loud "flywheel: init failed (see $OUT/flywheel_init.log)"
                meta skipped_flywheel "flywheel init failed"
                FAILED+=(flywheel)
                continue
            fi
            (cd "$dir" && exec setsid "$FW" server --workspace "$dir" --host 127.0.0.1 --port "$port") >"$slog" 2>&1 &
            SERVER_PID=$!
            ;;
    esac
    base=http://127.0.0.1:$port
    if ! wait_ready "$base"; then
        tail -20 "$slog" >&2
        loud "$server: not ready within ${READY_TIMEOUT}s (see $slog)"
        meta "skipped_$server" "the server did not come up"
        FAILED+=("$server")
        stop_server
        continue
    fi
    wls=$WORKLOADS
    ((IDLE_SECONDS > 0)) && wls="idle $wls"
    for wl in $wls; do
        res=$OUT/${server}_$wl.json
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            fail_json "$res" "$wl" "the server had exited (see $(basename "$slog"))"
            continue
        fi
        say "   $server: $wl"
        # In the background and waited for, so that a signal stops the script at once (see cleanup).
        setsid timeout -k 10 "$STEP_TIMEOUT" "$PY" bench/mlflow_peers.py workload "$wl" --uri "$base" --server-pid "$SERVER_PID" \
            --out "$res" --single "$SINGLE" --batch-calls "$BATCH_CALLS" --batch-size "$BATCH_SIZE" \
            --search-runs "$SEARCH_RUNS" --search-repeats "$SEARCH_REPEATS" --search-limit "$SEARCH_LIMIT" \
            --populate-threads "$POPULATE_THREADS" --model-repeats "$MODEL_REPEATS" \
            --artifact-mb "$ARTIFACT_MB" --artifact-repeats "$ARTIFACT_REPEATS" --idle-seconds "$IDLE_SECONDS" >>"$OUT/${server}_client.log" 2>&1 &
        CLIENT_PID=$!
        rc=0
        wait "$CLIENT_PID" || rc=$?
        CLIENT_PID=
        tail -n 1 "$OUT/${server}_client.log" >&2
        if ((rc == 124 || rc == 137)); then
            fail_json "$res" "$wl" "timed out after ${STEP_TIMEOUT}s"
            loud "$server: $wl timed out"
        elif ((rc != 0)) || [[ ! -s $res ]]; then
            fail_json "$res" "$wl" "client exited with status $rc (see $(basename "$OUT/${server}_client.log"))"
            loud "$server: $wl: the client failed"
        fi
        if ! grep -q '"ok": true' "$res"; then FAILED+=("$server/$wl"); fi
    done
    stop_server
done

# ---------------------------------------------------------------------------------------
meta machine "$(machine_line)"
meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta load_average "start $LOAD_START, end $(cut -d' ' -f1-3 /proc/loadavg)"
meta elapsed "$((SECONDS - RUN_START)) s in all, $((SECONDS - MEASURE_START)) s with the servers"
meta knobs "$KNOBS"
meta fml "$("$FML" --version 2>/dev/null | awk '{print $NF}' || echo '?')"
meta flywheel "$(if [[ -n $FW_SKIP || -z $FW ]]; then echo "skipped (${FW_SKIP:-not in SERVERS})"; else "$FW" --version 2>/dev/null || echo '?'; fi); $FW_SOURCE"
meta notes "HTTP_RETRIES=$HTTP_RETRIES: the client does not retry 429/5xx answers, so a server error fails its workload at once.\\nmodel: log_model is given pip_requirements, so the client does not infer them (a subprocess per call).\\nFastTrackML: its wheel requires mlflow<3; it is installed with --no-deps and only its Go server (fml) runs."

echo
"$PY" bench/mlflow_peers.py report --dir "$OUT" --servers "$SERVERS" --meta "$META" --json "$JSON" | tee "$OUT/mlflow.md"
say "results: $JSON; table, logs and per-workload JSON in $OUT"
if ((${#FAILED[@]})); then
    loud "failed: ${FAILED[*]}"
    exit 1
fi
