#!/usr/bin/env bash
# bench/tracking.sh — Flywheel tracking vs MLflow on this machine, same workloads on both sides.
#
#   ./bench/tracking.sh                         # full run (defaults below)
#   SINGLE=1000 BATCHED=10000 SEARCH_RUNS=2000 SEARCH_REPEATS=10 ./bench/tracking.sh   # quick run
#
# 1. builds flywheel and flywheel-bench in release with scripts/build-release.sh (.build-release, the Swift runtime linked in)
# 2. makes bench/.venv with mlflow==$MLFLOW_VERSION if missing
# 3. starts `mlflow server` (SQLite backend in a temp dir, 127.0.0.1, a free port), stops it on exit
# 4. workloads: a. SINGLE metrics one call each; b. BATCHED metrics in batches of BATCH_SIZE;
#    c. search over SEARCH_RUNS runs (metrics.accuracy > 0.9, order by accuracy desc, limit
#    SEARCH_LIMIT, median of SEARCH_REPEATS). Flywheel through its Swift API (flywheel-bench)
#    and through its CLI (one process per call); MLflow through MlflowClient over REST.
# 5. the same MlflowClient workloads (a, b) against `flywheel server`'s MLflow API: one client,
#    one protocol, two servers (MLFLOW_API=0 skips it)
# 6. prints a table with ratios and the targets (single ≥ 20× MLflow, batched ≥ 500k/s,
#    search ≤ 20 ms median); results and logs go to bench/out/.
# Nothing leaves the machine: the server binds loopback only, MLflow telemetry is off.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

SINGLE=${SINGLE:-10000}               # a. metrics, one call each (Swift API and MLflow)
CLI_SINGLE=${CLI_SINGLE:-200}         # a'. `flywheel runs log --metric` process invocations
BATCHED=${BATCHED:-100000}            # b. metrics in batches
BATCH_SIZE=${BATCH_SIZE:-1000}        # MLflow's log_batch takes at most 1000 metrics
CLI_BATCHES=${CLI_BATCHES:-$((BATCHED / BATCH_SIZE))}  # b'. `flywheel runs log --batch` invocations
SEARCH_RUNS=${SEARCH_RUNS:-10000}     # c. runs to search over
SEARCH_REPEATS=${SEARCH_REPEATS:-50}  # c. searches timed (median reported)
SEARCH_LIMIT=${SEARCH_LIMIT:-100}     # c. max results
MLFLOW_VERSION=${MLFLOW_VERSION:-3.17.2}
MLFLOW_WORKERS=${MLFLOW_WORKERS:-1}   # see start_server below
DEFAULT_SERVER_SINGLE=${DEFAULT_SERVER_SINGLE:-500}  # single calls against mlflow's default 4-worker server (0 = skip)
MLFLOW_API=${MLFLOW_API:-1}           # 1: also run MlflowClient against flywheel server's MLflow API
STEP_TIMEOUT=${STEP_TIMEOUT:-900}     # hard cap, seconds, for any one step
OUT=${OUT:-$ROOT/bench/out}
if ((SINGLE < 1 || BATCH_SIZE < 1 || BATCH_SIZE > 1000 || BATCHED < BATCH_SIZE || SEARCH_RUNS < 1 || SEARCH_REPEATS < 1 || CLI_SINGLE < 1 || CLI_BATCHES < 1)); then
    echo "tracking.sh: need SINGLE, SEARCH_RUNS, SEARCH_REPEATS, CLI_* ≥ 1, 1 ≤ BATCH_SIZE ≤ 1000 and BATCHED ≥ BATCH_SIZE" >&2
    exit 2
fi
VENV=$ROOT/bench/.venv

# No telemetry, no background job runner, synchronous logging; loopback bypasses any proxy.
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true
export MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false MLFLOW_ENABLE_ASYNC_LOGGING=false
export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
export TIMEFORMAT='%R %U %S'

mkdir -p "$OUT"
LOG=$OUT/tracking.log
: > "$LOG"
say() { printf '== %s\n' "$*" >&2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/flywheel-tracking-bench.XXXXXX")
SERVER_PID=
cleanup() {
    local rc=$?
    [[ -z $SERVER_PID ]] || stop_server
    [[ ${KEEP_TMP:-0} == 1 ]] && say "kept $TMP" || rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------
say "1. building flywheel and flywheel-bench (release, .build-release, scripts/build-release.sh)"
BIN=$(timeout 3600 ./scripts/build-release.sh flywheel-bench flywheel 2>>"$LOG") || { tail -30 "$LOG" >&2; exit 1; }
FW=$BIN/flywheel

say "2. MLflow $MLFLOW_VERSION in bench/.venv"
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
PY=$VENV/bin/python
if ! "$PY" -c "import mlflow, sys; sys.exit(mlflow.__version__ != '$MLFLOW_VERSION')" 2>/dev/null; then
    timeout 1800 "$VENV/bin/pip" install -q "mlflow==$MLFLOW_VERSION" >>"$LOG" 2>&1 || { tail -30 "$LOG" >&2; exit 1; }
fi

# ---------------------------------------------------------------------------------------
# Flywheel, Swift API: one flywheel-bench process per workload (the other two shrunk to a
# token size) so that each process's CPU time belongs to one workload.
fwbench() {
    local name=$1; shift
    say "Flywheel API: $name"
    { time timeout "$STEP_TIMEOUT" "$BIN/flywheel-bench" tracking --dir "$TMP/fw-$name" "$@" \
        >"$OUT/fw_$name.json" 2>>"$LOG"; } 2>"$OUT/fw_$name.time"
}
fwbench single --single "$SINGLE" --batched "$BATCH_SIZE" --batch-size "$BATCH_SIZE" --search-runs 10 --search-repeats 1
fwbench batched --single 1 --batched "$BATCHED" --batch-size "$BATCH_SIZE" --search-runs 10 --search-repeats 1
fwbench search --single 1 --batched "$BATCH_SIZE" --batch-size "$BATCH_SIZE" \
    --search-runs "$SEARCH_RUNS" --search-repeats "$SEARCH_REPEATS" --search-limit "$SEARCH_LIMIT"

# ---------------------------------------------------------------------------------------
# Flywheel, CLI: one process per call, timed from the shell (includes process start-up and
# opening the workspace, as a shell script tracking a run would pay).
WS=$TMP/fw-cli
(cd "$TMP" && "$FW" init "$WS" >>"$LOG" 2>&1)
cli_result() {  # name calls metrics_per_call errors
    read -r real user sys <"$OUT/fw_$1.time"
    awk -v c="$2" -v m="$3" -v r="$real" -v u="$user" -v s="$sys" -v e="$4" 'BEGIN {
        printf("{\"calls\": %d, \"metrics\": %d, \"seconds\": %s, \"per_second\": %.3f, \"errors\": %d}\n",
               c, c * m, r, (c * m) / r, e) }' >"$OUT/fw_$1.json"
}

say "Flywheel CLI: $CLI_SINGLE × runs log --metric"
RID=$(cd "$TMP" && "$FW" runs create --workspace "$WS" -e bench --name cli-single)
errs=0
{ time for ((i = 0; i < CLI_SINGLE; i++)); do
    timeout 60 "$FW" runs log --workspace "$WS" "$RID" --metric "loss=$i.25" --step "$i" 2>>"$LOG" || errs=$((errs + 1))
done; } 2>"$OUT/fw_cli_single.time"
cli_result cli_single "$CLI_SINGLE" 1 "$errs"

say "Flywheel CLI: $CLI_BATCHES × runs log --batch ($BATCH_SIZE-line JSONL)"
mkdir -p "$TMP/jsonl"
awk -v n="$CLI_BATCHES" -v b="$BATCH_SIZE" -v dir="$TMP/jsonl" 'BEGIN {
    for (k = 0; k < n; k++) {
        f = sprintf("%s/batch%05d.jsonl", dir, k)
        for (j = 0; j < b; j++) {
            i = k * b + j
            printf("{\"metric\": \"m%d\", \"value\": %.3f, \"step\": %d}\n", j % 10, i * 0.001, int(i / 10)) > f
        }
        close(f)
    } }'
RID=$(cd "$TMP" && "$FW" runs create --workspace "$WS" -e bench --name cli-batched)
errs=0
{ time for f in "$TMP"/jsonl/batch*.jsonl; do
    timeout 60 "$FW" runs log --workspace "$WS" "$RID" --batch "$f" 2>>"$LOG" || errs=$((errs + 1))
done; } 2>"$OUT/fw_cli_batched.time"
cli_result cli_batched "$CLI_BATCHES" "$BATCH_SIZE" "$errs"

# ---------------------------------------------------------------------------------------
say "MLflow: populating $SEARCH_RUNS runs for the search workload (in-process, before the server starts)"
MDIR=$TMP/mlflow
mkdir -p "$MDIR/artifacts"
DB_URI="sqlite:///$MDIR/mlflow.db"
timeout "$STEP_TIMEOUT" "$PY" bench/tracking_mlflow.py populate --db-uri "$DB_URI" \
    --artifact-root "$MDIR/artifacts" --runs "$SEARCH_RUNS" >"$OUT/mlflow_populate.json" 2>>"$LOG"
SEARCH_EXP=$(jq -r .experiment_id "$OUT/mlflow_populate.json")
EXPECTED=$(jq -r --argjson l "$SEARCH_LIMIT" '[.expected_matches, $l] | min' "$OUT/mlflow_populate.json")

# Server: uvicorn with MLFLOW_WORKERS workers (default 1). With more than one worker (mlflow's
# own default is 4) uvicorn's accepted sockets lack TCP_NODELAY, and every request on a kept-alive
# connection stalls ~40 ms (Nagle vs delayed ACK); one worker avoids that and the client here is
# sequential anyway. DEFAULT_SERVER_SINGLE calls re-measure single logging with the default.
start_server() {  # workers...
    PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    say "MLflow: starting server on 127.0.0.1:$PORT ($* )"
    setsid "$VENV/bin/mlflow" server --backend-store-uri "$DB_URI" --default-artifact-root "$MDIR/artifacts" \
        --no-serve-artifacts --host 127.0.0.1 --port "$PORT" "$@" >>"$OUT/mlflow_server.log" 2>&1 &
    SERVER_PID=$!
    local up=0
    for _ in $(seq 1 240); do  # at most ~60 s
        if curl -sf --max-time 2 "http://127.0.0.1:$PORT/health" >/dev/null; then up=1; break; fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.25
    done
    [[ $up == 1 ]] || { say "mlflow server did not come up"; tail -30 "$OUT/mlflow_server.log" >&2; exit 1; }
}
stop_server() {
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}
: >"$OUT/mlflow_server.log"
start_server --workers "$MLFLOW_WORKERS"

say "MLflow: single, batched, search through the server (MlflowClient over REST)"
timeout "$STEP_TIMEOUT" "$PY" bench/tracking_mlflow.py bench --uri "http://127.0.0.1:$PORT" --server-pid "$SERVER_PID" \
    --single "$SINGLE" --batched "$BATCHED" --batch-size "$BATCH_SIZE" \
    --search-experiment "$SEARCH_EXP" --search-repeats "$SEARCH_REPEATS" --search-limit "$SEARCH_LIMIT" \
    --expected-returned "$EXPECTED" >"$OUT/mlflow.json"
stop_server

if ((DEFAULT_SERVER_SINGLE > 0)); then
    start_server  # mlflow's defaults (4 workers)
    say "MLflow (default server): $DEFAULT_SERVER_SINGLE single calls"
    timeout "$STEP_TIMEOUT" "$PY" bench/tracking_mlflow.py bench --uri "http://127.0.0.1:$PORT" --server-pid "$SERVER_PID" \
        --single "$DEFAULT_SERVER_SINGLE" --batched 0 >"$OUT/mlflow_default_server.json"
    stop_server
else
    echo '{}' >"$OUT/mlflow_default_server.json"
fi

# ---------------------------------------------------------------------------------------
# The same client and workloads against Flywheel's server: its MLflow API over its own store.
if ((MLFLOW_API == 1)); then
    FWS=$TMP/fw-server
    mkdir -p "$FWS"
    (cd "$FWS" && "$FW" init >/dev/null)
    say "Flywheel server: MlflowClient single and batched through its MLflow API"
    setsid "$FW" server --workspace "$FWS" --port 0 >"$OUT/fw_server.log" 2>&1 &
    FW_SERVER_PID=$!
    FW_PORT=
    for _ in $(seq 1 240); do
        FW_PORT=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$OUT/fw_server.log" | head -1)
        [[ -n $FW_PORT ]] && break
        kill -0 "$FW_SERVER_PID" 2>/dev/null || break
        sleep 0.25
    done
    [[ -n $FW_PORT ]] || { say "flywheel server did not come up"; tail -30 "$OUT/fw_server.log" >&2; exit 1; }
    timeout "$STEP_TIMEOUT" "$PY" bench/tracking_mlflow.py bench --uri "http://127.0.0.1:$FW_PORT" --server-pid "$FW_SERVER_PID" \
        --single "$SINGLE" --batched "$BATCHED" --batch-size "$BATCH_SIZE" >"$OUT/fw_mlflow_api.json"
    kill -TERM "$FW_SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$FW_SERVER_PID" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$FW_SERVER_PID" 2>/dev/null || true
else
    echo '{}' >"$OUT/fw_mlflow_api.json"
fi

# ---------------------------------------------------------------------------------------
{
    echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2 / 1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "Versions: $(swift --version 2>/dev/null | head -1 | sed 's/ (.*//'), MLflow $("$PY" -c 'import mlflow; print(mlflow.__version__)' 2>/dev/null), $("$PY" --version)"
    echo "MLflow server: uvicorn, --workers $MLFLOW_WORKERS, SQLite backend, loopback; client MlflowClient (REST, synchronous)"
    echo "Counts: SINGLE=$SINGLE CLI_SINGLE=$CLI_SINGLE BATCHED=$BATCHED BATCH_SIZE=$BATCH_SIZE CLI_BATCHES=$CLI_BATCHES SEARCH_RUNS=$SEARCH_RUNS SEARCH_REPEATS=$SEARCH_REPEATS SEARCH_LIMIT=$SEARCH_LIMIT"
    echo
    "$PY" bench/tracking_mlflow.py report \
        --flywheel single="$OUT/fw_single.json" --flywheel batched="$OUT/fw_batched.json" \
        --flywheel search="$OUT/fw_search.json" --flywheel cli_single="$OUT/fw_cli_single.json" \
        --flywheel cli_batched="$OUT/fw_cli_batched.json" \
        --mlflow "$OUT/mlflow.json" --mlflow-default "$OUT/mlflow_default_server.json" --populate "$OUT/mlflow_populate.json" \
        --batch-size "$BATCH_SIZE" --search-limit "$SEARCH_LIMIT" --search-repeats-fw "$SEARCH_REPEATS"
    if ((MLFLOW_API == 1)); then
        echo
        "$PY" bench/tracking_mlflow.py api-report --mlflow "$OUT/mlflow.json" --flywheel "$OUT/fw_mlflow_api.json"
    fi
} | tee "$OUT/tracking.md"
say "results in $OUT (tracking.md, *.json, logs)"
