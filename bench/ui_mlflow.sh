#!/usr/bin/env bash
# bench/ui_mlflow.sh — the runs table of an experiment of 10,000 runs, MLflow's UI against Flywheel's web UI,
# side by side in headless Chromium: how long until the table shows its rows, and what it took to get there.
#
#   ./bench/ui_mlflow.sh                                  # full: 10,000 runs, 10 loads per UI
#   RUNS=300 REPEATS=3 ./bench/ui_mlflow.sh               # quick
#   FLYWHEEL_BIN=/path/to/flywheel ./bench/ui_mlflow.sh   # a prebuilt release binary (else one is built)
#   CACHE=warm ./bench/ui_mlflow.sh                       # repeat visits: nothing cleared between loads
#
# 1. uses the release flywheel at FLYWHEEL_BIN, or builds one with scripts/build-release.sh when it is
#    unset or empty, bench/.venv-mlflow (mlflow 3.17.2, made by
#    bench/mlflow.sh) and .venv-ui (Selenium) with /usr/bin/chromium and /usr/bin/chromedriver
# 2. starts, each in a fresh temp dir, on 127.0.0.1 and a free port, in its own session:
#      mlflow server, SQLite backend, --serve-artifacts, --workers MLFLOW_WORKERS (as bench/mlflow.sh does)
#      flywheel init, then flywheel server --port 0 (the port is read from its first line)
# 3. populates both with the same RUNS runs through the mlflow client (bench/ui_mlflow.py populate, with
#    bench/.venv-mlflow's python): experiment "ui-bench"; per run create_run (run name, 2 tags) + one
#    log_batch of 10 params and 10 metrics, POPULATE_THREADS client threads; counts them back
# 4. loads each UI's runs table in one headless Chromium (bench/ui_mlflow.py browse, with .venv-ui's
#    python): one warm-up load each, then REPEATS rounds of one load of each (the order swapped every
#    round). CACHE=cold (default) clears the HTTP cache and the site's storage before every load.
#      Flywheel  http://127.0.0.1:P/experiments/ID   (the default: 100 rows, server-rendered)
#      MLflow    http://127.0.0.1:P/#/experiments/ID/runs   (its runs table; #/experiments/ID alone opens
#                the GenAI "Overview" tab in 3.17 for an experiment with no experiment-kind tag)
#    "Rows shown" is when the run names of the table's first FIRST_ROWS rows had been painted (Element
#    Timing), in ms since navigation start; also when the rows reached the DOM, FCP, the load event, and
#    the requests and bytes it took (details at the top of bench/ui_mlflow.py)
# 5. stops both servers (SIGTERM to the process group, then SIGKILL), prints a markdown table (median,
#    p95, MLflow / Flywheel); bench/out/ui_mlflow.json holds the numbers and every load, bench/out/ui_mlflow/
#    the logs, screenshots of the warm-up loads and the table (ui_mlflow.md).
# Nothing leaves the machine: both servers bind 127.0.0.1, MLflow telemetry is off, Chromium runs with
# background networking, sync and component updates off.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

RUNS=${RUNS:-10000}                       # runs in the experiment, on both servers
REPEATS=${REPEATS:-10}                    # timed loads per UI (after one warm-up load each)
FIRST_ROWS=${FIRST_ROWS:-5}               # the table counts as shown once this many rows are painted (5: the first screen of both)
CACHE=${CACHE:-cold}                      # cold: clear cache + site storage before each load; warm: don't
POPULATE_THREADS=${POPULATE_THREADS:-4}   # mlflow client threads making the runs
MLFLOW_WORKERS=${MLFLOW_WORKERS:-1}       # mlflow server --workers
QUIET_MS=${QUIET_MS:-1000}                # after the rows: a page is done once no request starts for this long …
SETTLE_MS=${SETTLE_MS:-15000}             # … or this long after the rows were shown
LOAD_TIMEOUT_MS=${LOAD_TIMEOUT_MS:-120000} # a load whose rows do not show within this fails the run
POPULATE_TIMEOUT=${POPULATE_TIMEOUT:-3600} # seconds, per server
READY_TIMEOUT=${READY_TIMEOUT:-90}        # seconds a server gets to come up
FLYWHEEL_BIN=${FLYWHEEL_BIN:-}
OUT=${OUT:-$ROOT/bench/out/ui_mlflow}
JSON=${JSON:-$ROOT/bench/out/ui_mlflow.json}
VENV=${VENV:-$ROOT/bench/.venv-mlflow}
UI_VENV=${UI_VENV:-$ROOT/.venv-ui}
MLFLOW_VERSION=3.17.2

for v in RUNS REPEATS FIRST_ROWS POPULATE_THREADS MLFLOW_WORKERS QUIET_MS SETTLE_MS LOAD_TIMEOUT_MS POPULATE_TIMEOUT READY_TIMEOUT; do
    [[ ${!v} =~ ^[0-9]+$ ]] && ((${!v} >= 1)) || { echo "ui_mlflow.sh: $v must be a whole number ≥ 1" >&2; exit 2; }
done
[[ $CACHE == cold || $CACHE == warm ]] || { echo "ui_mlflow.sh: CACHE is cold or warm" >&2; exit 2; }

# No telemetry, no background job runner; loopback bypasses any proxy.
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false
export MLFLOW_ENABLE_ASYNC_LOGGING=false PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
unset FLYWHEEL_WORKSPACE MLFLOW_TRACKING_URI MLFLOW_RUN_ID MLFLOW_EXPERIMENT_ID MLFLOW_EXPERIMENT_NAME

mkdir -p "$OUT" "$(dirname "$JSON")"
rm -f "$OUT"/*.json "$OUT"/*.log "$OUT"/*.md "$OUT"/*.png "$OUT"/meta.tsv "$JSON"
META=$OUT/meta.tsv
: >"$META"
BENCH_NAME=ui_mlflow.sh
FAILED=()
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
meta() { printf '%s\t%s\n' "$1" "$2" >>"$META"; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/flywheel-ui-mlflow-bench.XXXXXX")
MLFLOW_PID=
FLYWHEEL_PID=
CLIENT_PID=
stop_servers() {
    local m=$MLFLOW_PID f=$FLYWHEEL_PID
    MLFLOW_PID= FLYWHEEL_PID=
    stop_group "$m"
    stop_group "$f"
}
cleanup() {
    local rc=$?
    [[ -n $CLIENT_PID ]] && kill -TERM -- "-$CLIENT_PID" 2>/dev/null
    stop_servers
    cd "$ROOT"
    [[ ${KEEP_TMP:-0} == 1 ]] && say "kept $TMP" || rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
RUN_START=$SECONDS

# run_client LOG TIMEOUT CMD... — in its own session, in the background and waited for, so that a
# signal stops the script at once (see cleanup); fails with the command's status.
run_client() {
    local log=$1 limit=$2 rc=0
    shift 2
    setsid timeout -k 10 "$limit" "$@" >>"$log" 2>&1 &
    CLIENT_PID=$!
    wait "$CLIENT_PID" || rc=$?
    CLIENT_PID=
    return "$rc"
}

# ---------------------------------------------------------------------------------------
flywheel_binary "$OUT" server
[[ -n $FW_SKIP ]] && { loud "flywheel: $FW_SKIP"; exit 1; }
FW_SOURCE="work tree at commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- Sources Package.swift 2>/dev/null || echo ' (+ uncommitted changes in Sources)')"
[[ -n ${FLYWHEEL_BIN:-} ]] && FW_SOURCE="$FLYWHEEL_BIN (prebuilt; $FW_SOURCE)"

say "2. checking bench/.venv-mlflow (mlflow $MLFLOW_VERSION), .venv-ui (selenium), chromium"
PY=$VENV/bin/python
UIPY=$UI_VENV/bin/python
[[ -x $VENV/bin/mlflow ]] || { loud "$VENV/bin/mlflow is missing: ./bench/mlflow.sh makes bench/.venv-mlflow"; exit 1; }
got=$("$PY" -c 'from importlib.metadata import version; print(version("mlflow"))' 2>/dev/null || echo none)
[[ $got == "$MLFLOW_VERSION" ]] || { loud "bench/.venv-mlflow has mlflow $got, not $MLFLOW_VERSION"; exit 1; }
"$UIPY" -c 'import selenium' 2>/dev/null || { loud "$UIPY cannot import selenium (UI_VENV=$UI_VENV)"; exit 1; }

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_ready PID BASE — GET BASE/api/2.0/mlflow/experiments/get?experiment_id=0 (both servers have the
# Default experiment) until 200, at most READY_TIMEOUT s; fails at once if the server died.
wait_ready() {
    local pid=$1 url="$2/api/2.0/mlflow/experiments/get?experiment_id=0" deadline=$((SECONDS + READY_TIMEOUT))
    while ((SECONDS < deadline)); do
        kill -0 "$pid" 2>/dev/null || return 1
        [[ $(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --max-time 2 "$url" || true) == 200 ]] && return 0
        sleep 0.25
    done
    return 1
}

# ---------------------------------------------------------------------------------------
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
port=$(free_port)
mkdir -p "$TMP/mlflow" "$TMP/flywheel"
say "3. mlflow server (SQLite, --serve-artifacts, --workers $MLFLOW_WORKERS) on 127.0.0.1:$port"
setsid "$VENV/bin/mlflow" server --backend-store-uri "sqlite:///$TMP/mlflow/mlflow.db" \
    --serve-artifacts --artifacts-destination "$TMP/mlflow/artifacts" \
    --host 127.0.0.1 --port "$port" --workers "$MLFLOW_WORKERS" >"$OUT/mlflow_server.log" 2>&1 &
MLFLOW_PID=$!
MLFLOW_BASE=http://127.0.0.1:$port

say "3. flywheel server (workspace in a temp dir) on 127.0.0.1, a free port"
(cd "$TMP/flywheel" && "$FW" init) >"$OUT/flywheel_init.log" 2>&1 || { cat "$OUT/flywheel_init.log" >&2; loud "flywheel init failed"; exit 1; }
(cd "$TMP/flywheel" && exec setsid "$FW" server --workspace "$TMP/flywheel" --host 127.0.0.1 --port 0) >"$OUT/flywheel_server.log" 2>&1 &
FLYWHEEL_PID=$!
FLYWHEEL_BASE=
deadline=$((SECONDS + READY_TIMEOUT))
while [[ -z $FLYWHEEL_BASE ]] && ((SECONDS < deadline)) && kill -0 "$FLYWHEEL_PID" 2>/dev/null; do
    FLYWHEEL_BASE=$(grep -o -m1 'flywheel server listening on http://127\.0\.0\.1:[0-9]*' "$OUT/flywheel_server.log" | sed 's/.* on //' || true)
    [[ -n $FLYWHEEL_BASE ]] || sleep 0.1
done
[[ -n $FLYWHEEL_BASE ]] || { tail -20 "$OUT/flywheel_server.log" >&2; loud "flywheel server did not print its address"; exit 1; }

for s in mlflow flywheel; do
    pid_var=${s^^}_PID base_var=${s^^}_BASE
    if ! wait_ready "${!pid_var}" "${!base_var}"; then
        tail -20 "$OUT/${s}_server.log" >&2
        loud "$s: not ready within ${READY_TIMEOUT}s (see $OUT/${s}_server.log)"
        exit 1
    fi
done

for s in flywheel mlflow; do
    base_var=${s^^}_BASE
    say "4. populating $s (${!base_var}): $RUNS runs, $POPULATE_THREADS client threads"
    rc=0
    run_client "$OUT/populate_$s.log" "$POPULATE_TIMEOUT" "$PY" bench/ui_mlflow.py populate --uri "${!base_var}" --runs "$RUNS" \
        --threads "$POPULATE_THREADS" --out "$OUT/populate_$s.json" || rc=$?
    tail -n 1 "$OUT/populate_$s.log" >&2
    if ((rc != 0)); then
        tail -20 "$OUT/populate_$s.log" >&2
        loud "populating $s failed (status $rc; see $OUT/populate_$s.log)"
        exit 1
    fi
done
exp_id() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["experiment_id"])' "$OUT/populate_$1.json"; }
FW_URL=$FLYWHEEL_BASE/experiments/$(exp_id flywheel)
ML_URL=$MLFLOW_BASE/#/experiments/$(exp_id mlflow)/runs

say "5. loading the runs tables in headless Chromium: 1 warm-up + $REPEATS loads each, $CACHE cache"
say "   $FW_URL"
say "   $ML_URL"
LOAD_BROWSE=$(cut -d' ' -f1-3 /proc/loadavg)
BROWSE_START=$SECONDS
rc=0
run_client "$OUT/browse.log" $((REPEATS * 2 * (LOAD_TIMEOUT_MS / 1000 + SETTLE_MS / 1000 + 30) + 300)) \
    "$UIPY" bench/ui_mlflow.py browse --flywheel "$FW_URL" --mlflow "$ML_URL" --runs "$RUNS" --repeats "$REPEATS" \
    --first-rows "$FIRST_ROWS" --cache "$CACHE" --timeout-ms "$LOAD_TIMEOUT_MS" --quiet-ms "$QUIET_MS" --settle-ms "$SETTLE_MS" \
    --shots "$OUT" --out "$OUT/browse.json" || rc=$?
grep '^   ' "$OUT/browse.log" | tail -n 2 >&2 || true
if ((rc != 0)); then
    tail -20 "$OUT/browse.log" >&2
    loud "the browser step failed (status $rc; see $OUT/browse.log)"
    exit 1
fi
BROWSE_SECONDS=$((SECONDS - BROWSE_START))
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
stop_servers

# ---------------------------------------------------------------------------------------
meta machine "$(machine_line)"
meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta load_average "$LOAD_START at the start, $LOAD_BROWSE before the browser step, $LOAD_END after it (1, 5, 15 min)"
meta elapsed "$((SECONDS - RUN_START)) s in all, $BROWSE_SECONDS s in the browser"
meta servers "mlflow server --workers $MLFLOW_WORKERS, SQLite, --serve-artifacts; flywheel server (its own store); both on 127.0.0.1, plain HTTP"
meta versions "mlflow $MLFLOW_VERSION; flywheel $("$FW" --version 2>/dev/null || echo '?'), $FW_SOURCE"
meta quiet_ms "$QUIET_MS"
meta knobs "RUNS=$RUNS REPEATS=$REPEATS FIRST_ROWS=$FIRST_ROWS CACHE=$CACHE POPULATE_THREADS=$POPULATE_THREADS MLFLOW_WORKERS=$MLFLOW_WORKERS QUIET_MS=$QUIET_MS SETTLE_MS=$SETTLE_MS"

echo
"$UIPY" bench/ui_mlflow.py report --populate-dir "$OUT" --browse "$OUT/browse.json" --meta "$META" --json "$JSON" | tee "$OUT/ui_mlflow.md"
say "results: $JSON; table, logs and screenshots in $OUT"
