#!/usr/bin/env bash
# bench/serving.sh — Flywheel's model server vs the classic FastAPI + scikit-learn iris service and the
# same service on onnxruntime, on loopback, driven by wrk.
#
#   ./bench/serving.sh                                  # full run: 3 services × 1/16/64 connections × 15 s
#   DURATION=3s ./bench/serving.sh                      # quick check
#   FLYWHEEL_BIN=/path/to/flywheel ./bench/serving.sh   # use a prebuilt binary, skip the build
#   SERVICES="sklearn onnx" ./bench/serving.sh          # peers only
#   HEALTH_FLOOR=0 ./bench/serving.sh                   # skip the health-endpoint floor run
#
# 1. builds flywheel in release with scripts/build-release.sh (.build-release, the Swift runtime linked in) unless FLYWHEEL_BIN names a binary
# 2. makes bench/.venv-serving with the pinned FastAPI, uvicorn, scikit-learn, skl2onnx, onnxruntime
#    if missing; installs wrk (Debian package) if missing
# 3. trains RandomForestClassifier(n_estimators=50, random_state=42) on all 150 rows of
#    examples/iris/data/iris.csv and converts it to ONNX (skl2onnx, zipmap=False) —
#    bench/serving_peers.py train
# 4. per service, one at a time, on 127.0.0.1 and a free port:
#      sklearn   FastAPI + scikit-learn, uvicorn with one worker      POST /predict
#      onnx      the same FastAPI service, model run by onnxruntime    POST /predict
#      flywheel  `flywheel server` on a workspace where a 50-tree forest (seed 42, all 150 rows) is
#                registered as iris@production and deployed as `iris`  POST /predict/iris
#    starts it, waits until it is ready, checks one answer with curl (HTTP 200 and a species, or the
#    run fails), warms it up for WARMUP, then runs
#      wrk -t min(2,c) -c c -d DURATION --timeout WRK_TIMEOUT --latency -s post.lua URL
#    for c in CONNECTIONS (wrk's threads are min(2, c)),
#    reading the server process's utime+stime from /proc/PID/stat before and after each run; stops it
#    with SIGTERM.
#    For Flywheel it then drives GET /v2/health/live the same way (HEALTH_FLOOR=1, the default):
#    the server's floor, routing and HTTP without a model.
# 5. prints a markdown table (req/s, p50, p99, server CPU µs per request) and the issue's targets at
#    64 connections: Flywheel ≥ 20× scikit-learn's req/s, ≥ 5× onnxruntime's, p99 < 5 ms. Raw numbers
#    go to bench/out/serving.json, logs and wrk's outputs to bench/out/serving/.
# wrk runs on the same machine as the servers and takes CPU from them; SERVER_CPUS / WRK_CPUS
# (taskset -c lists, e.g. SERVER_CPUS=0 WRK_CPUS=1) pin them apart if wanted.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${DURATION:-15s}                  # per wrk run; a bare number means seconds
WARMUP=${WARMUP:-2s}                       # wrk at 16 connections before the measured runs, per service
CONNECTIONS=${CONNECTIONS:-1 16 64}
SERVICES=${SERVICES:-sklearn onnx flywheel}
HEALTH_FLOOR=${HEALTH_FLOOR:-1}            # 1: also drive Flywheel's GET /v2/health/live, the server's floor
READY_TIMEOUT=${READY_TIMEOUT:-30}         # seconds a server gets to come up
WRK_TIMEOUT=${WRK_TIMEOUT:-10s}            # wrk drops slower requests from its latencies (its default, 2s,
                                           # cut off the scikit-learn service's tail at 64 connections)
SERVER_CPUS=${SERVER_CPUS:-}               # taskset -c list for the servers (default: not pinned)
WRK_CPUS=${WRK_CPUS:-}                     # taskset -c list for wrk (default: not pinned)
IRIS=${IRIS:-$ROOT/examples/iris/data/iris.csv}
OUT=${OUT:-$ROOT/bench/out/serving}
JSON=${JSON:-$ROOT/bench/out/serving.json}
VENV=${VENV:-$ROOT/bench/.venv-serving}
# Pinned peers. uvicorn[standard] brings uvloop and httptools, uvicorn's fast paths.
REQUIREMENTS="fastapi==0.165.0 uvicorn[standard]==0.54.0 scikit-learn==1.9.1 skl2onnx==1.20.0 onnxruntime==1.32.0 numpy==2.4.6"
BODY='{"sepal_length":6.7,"sepal_width":3.0,"petal_length":5.2,"petal_width":2.3}'

[[ $DURATION =~ ^[0-9]+$ ]] && DURATION=${DURATION}s
[[ $WARMUP =~ ^[0-9]+$ ]] && WARMUP=${WARMUP}s
[[ $WRK_TIMEOUT =~ ^[0-9]+$ ]] && WRK_TIMEOUT=${WRK_TIMEOUT}s
[[ $DURATION =~ ^[0-9]+[smh]$ ]] || { echo "serving.sh: DURATION is like 15s" >&2; exit 2; }
[[ $WARMUP =~ ^[0-9]+[smh]$ ]] || { echo "serving.sh: WARMUP is like 2s (0s for none)" >&2; exit 2; }
for c in $CONNECTIONS; do
    [[ $c =~ ^[0-9]+$ && $c -ge 1 ]] || { echo "serving.sh: CONNECTIONS are whole numbers ≥ 1" >&2; exit 2; }
done
for s in $SERVICES; do
    [[ $s == sklearn || $s == onnx || $s == flywheel ]] || { echo "serving.sh: SERVICES are sklearn, onnx, flywheel" >&2; exit 2; }
done
[[ -f $IRIS ]] || { echo "serving.sh: $IRIS not found" >&2; exit 2; }

export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
unset FLYWHEEL_WORKSPACE

mkdir -p "$OUT" "$(dirname "$JSON")"
rm -f "$OUT"/*.txt "$OUT"/*.log "$JSON"
LOG=$OUT/serving.log
RAW=$OUT/raw.tsv
META=$OUT/meta.tsv
: >"$LOG"
: >"$RAW"
: >"$META"
BENCH_NAME=serving.sh
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
meta() { printf '%s\t%s\n' "$1" "$2" >>"$META"; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/flywheel-serving-bench.XXXXXX")
SERVER_PID=
WRK_PID=
stop_server() {
    local pid=${SERVER_PID:-}
    SERVER_PID=
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local rc=$?
    [[ -n $WRK_PID ]] && kill -TERM "$WRK_PID" 2>/dev/null
    stop_server
    cd "$ROOT"
    [[ ${KEEP_TMP:-0} == 1 ]] && say "kept $TMP" || rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

server_cmd=()
[[ -n $SERVER_CPUS ]] && server_cmd=(taskset -c "$SERVER_CPUS")
wrk_cmd=(wrk)
[[ -n $WRK_CPUS ]] && wrk_cmd=(taskset -c "$WRK_CPUS" wrk)

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# utime + stime of a whole process (all its threads), in clock ticks.
cpu_ticks() {
    local stat
    stat=$(<"/proc/$1/stat")
    stat=${stat##*) }            # drop "pid (comm) ", comm may hold spaces
    set -- $stat                 # now $1 is field 3 (state), so utime (14) is $12, stime (15) is $13
    echo $(( ${12} + ${13} ))
}
CLK_TCK=$(getconf CLK_TCK)

# wait_ready URL — polls GET URL until HTTP 200, at most READY_TIMEOUT seconds; fails if the server died.
wait_ready() {
    local url=$1 deadline=$((SECONDS + READY_TIMEOUT))
    while ((SECONDS < deadline)); do
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        [[ $(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --max-time 2 "$url" || true) == 200 ]] && return 0
        sleep 0.2
    done
    return 1
}

# check_answer URL — one POST; must be HTTP 200 with a species in the body.
check_answer() {
    local url=$1 out code
    out=$(curl -s --noproxy '*' --max-time 10 -w '\n%{http_code}' -H 'Content-Type: application/json' -d "$BODY" "$url" || true)
    code=${out##*$'\n'}
    out=${out%$'\n'*}
    say "   POST $url -> $code $out"
    [[ $code == 200 && $out =~ setosa|versicolor|virginica ]]
}

cat >"$TMP/post.lua" <<EOF
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
EOF

# to_ms VALUE — wrk's "123.45us" / "1.23ms" / "1.20s" / "2.00m" in milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000; else if (u != "ms") n = -1
        printf "%.4f", n }'
}

# measure SERVICE URL — the wrk runs for one running server (SERVER_PID); appends to RAW.
measure() {
    # measure SERVICE URL [SCRIPT]: wrk with the POST script, or with SCRIPT ("" for a plain GET)
    local service=$1 url=$2 c t file before after requests rps p50 p99 non2xx errors cpu_us
    local script=()
    if [[ $# -lt 3 ]]; then script=(-s "$TMP/post.lua"); elif [[ -n $3 ]]; then script=(-s "$3"); fi
    if [[ $WARMUP != 0s ]]; then
        "${wrk_cmd[@]}" -t2 -c16 -d"$WARMUP" "${script[@]}" "$url" >"$OUT/${service}_warmup.txt" 2>&1 || true
    fi
    for c in $CONNECTIONS; do
        t=$((c < 2 ? c : 2))
        file=$OUT/${service}_c$c.txt
        before=$(cpu_ticks "$SERVER_PID")
        # In the background and waited for, so that a signal stops the script at once (see cleanup).
        timeout 600 "${wrk_cmd[@]}" -t"$t" -c"$c" -d"$DURATION" --timeout "$WRK_TIMEOUT" --latency "${script[@]}" "$url" >"$file" 2>&1 &
        WRK_PID=$!
        if ! wait "$WRK_PID"; then
            WRK_PID=
            loud "$service: wrk failed at $c connections (see $file)"
            return 1
        fi
        WRK_PID=
        if ! after=$(cpu_ticks "$SERVER_PID" 2>/dev/null); then
            loud "$service: the server died during the run at $c connections (see $OUT/${service}_server.log)"
            return 1
        fi
        requests=$(awk '$2 == "requests" && $3 == "in" {print $1}' "$file")
        rps=$(awk '$1 == "Requests/sec:" {print $2}' "$file")
        p50=$(awk '/Latency Distribution/ {d = 1} d && $1 == "50%" {print $2; exit}' "$file")
        p99=$(awk '/Latency Distribution/ {d = 1} d && $1 == "99%" {print $2; exit}' "$file")
        non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$file")
        errors=$(awk '/Socket errors:/ {sub(/.*Socket errors: */, ""); print}' "$file")
        if [[ -z $requests || -z $rps || -z $p50 || -z $p99 || $requests -eq 0 ]]; then
            loud "$service: could not read wrk's output at $c connections (see $file)"
            return 1
        fi
        cpu_us=$(awk -v d=$((after - before)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN {printf "%.1f", d / hz * 1e6 / n}')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$service" "$c" "$t" "$DURATION" "$requests" "$rps" \
            "$(to_ms "$p50")" "$(to_ms "$p99")" "$cpu_us" "$((after - before))" "${non2xx:-0}" "${errors:-}" >>"$RAW"
        say "   $service c=$c: $rps req/s, p50 $p50, p99 $p99, server CPU $cpu_us µs/request${non2xx:+, NON-2XX $non2xx}${errors:+, socket errors: $errors}"
        [[ -z $non2xx && -z $errors ]] || loud "$service: wrk saw failed requests at $c connections (see $file)"
    done
}

FAILED=()

# ---------------------------------------------------------------------------------------
# Flywheel: build (or FLYWHEEL_BIN), then guard on the subcommands this benchmark needs.
FW=
FW_SKIP=
if [[ " $SERVICES " == *" flywheel "* ]]; then
    flywheel_binary "$OUT" server "deploy apply"
    [[ -n $FW_SKIP ]] && echo "flywheel: skipped ($FW_SKIP)"
fi

# ---------------------------------------------------------------------------------------
say "2. wrk and bench/.venv-serving ($REQUIREMENTS)"
if ! command -v wrk >/dev/null; then
    apt-get install -y wrk >>"$LOG" 2>&1 || { apt-get update >>"$LOG" 2>&1 && apt-get install -y wrk >>"$LOG" 2>&1; } \
        || { tail -20 "$LOG" >&2; loud "could not install wrk"; exit 1; }
fi
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
PY=$VENV/bin/python
# shellcheck disable=SC2086
if ! "$PY" - $REQUIREMENTS <<'EOF' 2>/dev/null; then
import sys
from importlib.metadata import version
for req in sys.argv[1:]:
    name, want = req.split("==")
    name = name.split("[")[0]
    if version(name) != want:
        sys.exit(1)
EOF
    # shellcheck disable=SC2086
    timeout 1800 "$VENV/bin/pip" install -q $REQUIREMENTS >>"$LOG" 2>&1 || { tail -30 "$LOG" >&2; loud "pip install failed"; exit 1; }
fi

say "3. training the scikit-learn forest and its ONNX twin on $IRIS"
"$PY" bench/serving_peers.py train "$IRIS" "$TMP/peers" >>"$LOG" 2>&1 || { tail -30 "$LOG" >&2; loud "training the peers' model failed"; exit 1; }

# ---------------------------------------------------------------------------------------
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
START=$SECONDS
for service in $SERVICES; do
    port=$(free_port)
    case $service in
        sklearn | onnx)
            say "4. $service: FastAPI + uvicorn (one worker) on 127.0.0.1:$port"
            "${server_cmd[@]}" "$PY" bench/serving_peers.py serve "$service" "$TMP/peers" "$port" >"$OUT/${service}_server.log" 2>&1 &
            SERVER_PID=$!
            ready=http://127.0.0.1:$port/health
            url=http://127.0.0.1:$port/predict
            ;;
        flywheel)
            [[ -z $FW_SKIP ]] || continue
            say "4. flywheel: workspace, train, register, deploy, server on 127.0.0.1:$port"
            WS=$TMP/flywheel
            mkdir -p "$WS"
            cat >"$WS/deploy.yaml" <<'EOF'
deployment: iris
routes: [{model: iris@production, weight: 100}]
log: {sample_rate: 0.0}
EOF
            # --test-size 0: train on all 150 rows, as the peers do.
            if ! (cd "$WS" && export FLYWHEEL_WORKSPACE=$WS &&
                "$FW" init &&
                "$FW" train --data "$IRIS" --target species --model random_forest --param n_trees=50 --param seed=42 \
                    --test-size 0 --out model.fwm --register iris --alias production &&
                "$FW" deploy apply deploy.yaml) >"$OUT/flywheel_setup.log" 2>&1; then
                cat "$OUT/flywheel_setup.log" >&2
                loud "flywheel: setting up the workspace failed (see $OUT/flywheel_setup.log)"
                FAILED+=(flywheel)
                continue
            fi
            (cd "$WS" && FLYWHEEL_WORKSPACE=$WS exec "${server_cmd[@]}" "$FW" server --host 127.0.0.1 --port "$port") \
                >"$OUT/flywheel_server.log" 2>&1 &
            SERVER_PID=$!
            ready=http://127.0.0.1:$port/v2/health/ready
            url=http://127.0.0.1:$port/predict/iris
            ;;
    esac
    if ! wait_ready "$ready"; then
        tail -20 "$OUT/${service}_server.log" >&2
        loud "$service: not ready at $ready within ${READY_TIMEOUT}s (see $OUT/${service}_server.log)"
        FAILED+=("$service")
        stop_server
        continue
    fi
    if ! check_answer "$url"; then
        loud "$service: POST $url did not answer HTTP 200 with a species"
        FAILED+=("$service")
        stop_server
        continue
    fi
    # The server says at start whether its handlers run on the event loops (the fast path) or on
    # Swift's cooperative pool; a run on the slow path is measured but flagged.
    if [[ $service == flywheel ]] && ! grep -q "request handlers run on the event loops" "$OUT/flywheel_server.log"; then
        loud "flywheel: the handlers do not run on the event loops (see $OUT/flywheel_server.log); measuring anyway"
        meta flywheel_executor "cooperative pool"
    fi
    measure "$service" "$url" || FAILED+=("$service")
    # The same server's floor: a GET that does no model work, only routing and HTTP.
    if [[ $service == flywheel && $HEALTH_FLOOR == 1 ]]; then
        measure flywheel_health "http://127.0.0.1:$port/v2/health/live" "" || FAILED+=(flywheel_health)
    fi
    stop_server
done

# ---------------------------------------------------------------------------------------
meta machine "$(machine_line)"
meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta load_average "start $LOAD_START, end $(cut -d' ' -f1-3 /proc/loadavg)"
meta measuring_seconds "$((SECONDS - START))"
meta settings "DURATION=$DURATION WARMUP=$WARMUP WRK_TIMEOUT=$WRK_TIMEOUT CONNECTIONS=\"$CONNECTIONS\" SERVER_CPUS=${SERVER_CPUS:-unpinned} WRK_CPUS=${WRK_CPUS:-unpinned}"
meta wrk "$(wrk --version 2>&1 | head -1 | sed 's/ \[.*//')"
meta flywheel "$(if [[ -n $FW_SKIP ]]; then echo "skipped ($FW_SKIP)"; else "$FW" --version 2>/dev/null || echo '?'; fi); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- Sources Package.swift 2>/dev/null || echo ' (+ uncommitted changes in Sources)')"
meta failed "${FAILED[*]:-}"
meta flywheel_skipped "$FW_SKIP"

echo
"$PY" bench/serving_peers.py report "$RAW" "$META" "$JSON" | tee "$OUT/serving.md"
say "results: $JSON; logs and wrk outputs in $OUT"
if ((${#FAILED[@]})); then
    loud "failed: ${FAILED[*]}"
    exit 1
fi
