#!/usr/bin/env bash
# bench/drift.sh — Flywheel's `drift` report vs Evidently's DataDriftPreset and scipy's ks_2samp per
# column, on the same CSVs, same machine, one run.
#
#   ./bench/drift.sh                                          # full run: 100k and 1M rows per side
#   FLYWHEEL_BIN=/path/to/flywheel ./bench/drift.sh           # use a prebuilt binary, skip the build
#   SIZES=10000 REPEATS=1 ./bench/drift.sh                    # quick check
#   EVIDENTLY_1M=0 ./bench/drift.sh                           # skip Evidently at 1M rows (minutes)
#
# 1. builds flywheel in release with scripts/build-release.sh (.build-release, the Swift runtime linked in) unless FLYWHEEL_BIN names a binary;
#    a binary without the `drift` subcommand prints "flywheel: skipped" and the peers still run
# 2. makes bench/.venv-drift with the pinned Evidently, pandas (< 3, as Evidently 0.7 needs), numpy
#    and scipy if missing (DO_NOT_TRACK=1 throughout: no Evidently telemetry)
# 3. per size in SIZES (rows per side), makes WORK/ref_LABEL.csv and WORK/cur_LABEL.csv with numpy
#    (fixed seed; 20 columns f0..f19, reference N(0,1), current f0..f9 shifted by +0.2 σ, f10..f19
#    not; 6 significant digits), reused while they match (bench/drift_peers.py gen)
# 4. per size, one tool at a time, never two at once:
#      flywheel auto   `flywheel drift REF CUR --json` — the default, Evidently's choice of test
#                      (Wasserstein distance normed by σ for > 1,000 reference rows), end to end:
#                      process start, reading both CSVs, every column, the JSON
#      flywheel ks     the same with `--method ks` (the test scipy runs below)
#      scipy           ks_2samp(ref[c], cur[c]) for the 20 columns, in Python on DataFrames read
#                      by pandas.read_csv (the read is timed, and reported apart)
#      evidently       Report([DataDriftPreset()]).run(reference_data=ref, current_data=cur), same
#                      (run() also builds the report's plotly widgets — about half its time at 10k
#                      rows in a profile — and computes each column's drift more than once; that is
#                      the preset's cost as shipped, so it is timed as is)
#    Best wall time of REPEATS runs each; Evidently at the largest sizes (≥ 1M rows) runs once
#    (EVIDENTLY_1M_REPEATS) under EVIDENTLY_TIMEOUT seconds, and EVIDENTLY_1M=0 skips it.
# 5. checks that Flywheel flags exactly f0..f9 (warning otherwise), compares its KS p-values with
#    scipy's and its scores with Evidently's, prints a markdown table with the ratios and the
#    issue's targets (≥ 50× Evidently at 100k; the 1M × 20 report in under 2 s); raw numbers go to
#    JSON (bench/out/drift.json), the data, logs and per-tool results to WORK (bench/out/drift/).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

SIZES=${SIZES:-100000 1000000}              # rows per side
REPEATS=${REPEATS:-3}                       # runs per tool and size; the best is reported
EVIDENTLY_1M=${EVIDENTLY_1M:-1}             # 0: skip Evidently at ≥ 1M rows
EVIDENTLY_1M_REPEATS=${EVIDENTLY_1M_REPEATS:-1}
EVIDENTLY_TIMEOUT=${EVIDENTLY_TIMEOUT:-660} # seconds for one Evidently process (reading included) at ≥ 1M rows
STEP_TIMEOUT=${STEP_TIMEOUT:-1800}          # seconds for any other step
WORK=${WORK:-$ROOT/bench/out/drift}
JSON=${JSON:-$ROOT/bench/out/drift.json}
VENV=${VENV:-$ROOT/bench/.venv-drift}
REQUIREMENTS="evidently==0.7.23 pandas==2.3.3 numpy==2.4.6 scipy==1.17.1"

for s in $SIZES; do
    [[ $s =~ ^[0-9]+$ && $s -ge 100 ]] || { echo "drift.sh: SIZES are whole numbers of rows ≥ 100" >&2; exit 2; }
done
for v in REPEATS EVIDENTLY_1M_REPEATS EVIDENTLY_TIMEOUT STEP_TIMEOUT; do
    [[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || { echo "drift.sh: $v must be a whole number ≥ 1" >&2; exit 2; }
done

export DO_NOT_TRACK=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
unset FLYWHEEL_WORKSPACE

mkdir -p "$WORK/results" "$(dirname "$JSON")"
rm -f "$WORK"/results/* "$JSON"
LOG=$WORK/drift.log
META=$WORK/meta.tsv
: >"$LOG"
: >"$META"
BENCH_NAME=drift.sh
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
meta() { printf '%s\t%s\n' "$1" "$2" >>"$META"; }
NOTES=()
note() { NOTES+=("$*"); say "note: $*"; }
FAILED=()
# step CMD… — runs CMD with its output to the log and stderr; returns CMD's exit code (124: timed out).
step() {
    local rc
    "$@" 2>&1 | tee -a "$LOG" >&2
    rc=${PIPESTATUS[0]}
    return "$rc"
}

# label ROWS — 100000 → 100k, 1000000 → 1m, 2500 → 2500
label() {
    local n=$1
    if ((n % 1000000 == 0)); then echo "$((n / 1000000))m"
    elif ((n % 1000 == 0)); then echo "$((n / 1000))k"
    else echo "$n"; fi
}

# ---------------------------------------------------------------------------------------
# Flywheel: FLYWHEEL_BIN or a release build, then guard on the subcommand.
flywheel_binary "$WORK" drift
[[ -n $FW_SKIP ]] && echo "flywheel: skipped ($FW_SKIP)"

# ---------------------------------------------------------------------------------------
say "2. bench/.venv-drift ($REQUIREMENTS)"
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
PY=$VENV/bin/python
# shellcheck disable=SC2086
if ! "$PY" - $REQUIREMENTS <<'EOF' 2>/dev/null; then
import sys
from importlib.metadata import version
for req in sys.argv[1:]:
    name, want = req.split("==")
    if version(name) != want:
        sys.exit(1)
EOF
    # shellcheck disable=SC2086
    timeout 1800 "$VENV/bin/pip" install -q $REQUIREMENTS >>"$LOG" 2>&1 || { tail -30 "$LOG" >&2; loud "pip install failed"; exit 1; }
fi

# ---------------------------------------------------------------------------------------
LABELS=()
for rows in $SIZES; do
    l=$(label "$rows")
    LABELS+=("$l")
    meta "rows_$l" "$rows"
    say "3. data: $rows rows × 20 columns per side ($l)"
    step timeout "$STEP_TIMEOUT" "$PY" bench/drift_peers.py gen "$WORK" "$l" "$rows" || { loud "making the data failed (see $LOG)"; exit 1; }
done

# ---------------------------------------------------------------------------------------
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
START=$SECONDS
R=$WORK/results
for rows in $SIZES; do
    l=$(label "$rows")
    if [[ -z $FW_SKIP ]]; then
        for m in auto ks; do
            say "4. $l: flywheel drift --method $m, $REPEATS runs"
            step timeout "$STEP_TIMEOUT" "$PY" bench/drift_peers.py flywheel "$FW" "$WORK" "$l" "$m" "$REPEATS" "$STEP_TIMEOUT" \
                "$R/flywheel_${m}_$l.json" || { loud "flywheel --method $m failed at $l (see $LOG)"; FAILED+=("flywheel-$m-$l"); }
        done
    fi
    big=0
    ((rows >= 1000000)) && big=1
    if ((big)); then
        # scipy as usual; Evidently alone, once, in its own process under a timeout.
        say "4. $l: scipy ks_2samp × 20, $REPEATS runs"
        step timeout "$STEP_TIMEOUT" "$PY" bench/drift_peers.py peers "$WORK" "$l" scipy "$REPEATS" "$R/peers_$l.json" \
            || { loud "scipy failed at $l (see $LOG)"; FAILED+=("scipy-$l"); }
        if [[ $EVIDENTLY_1M == 0 ]]; then
            meta "evidently_note_$l" "skipped: EVIDENTLY_1M=0"
            note "Evidently at $l skipped (EVIDENTLY_1M=0)"
        else
            say "4. $l: Evidently DataDriftPreset, $EVIDENTLY_1M_REPEATS run(s), at most ${EVIDENTLY_TIMEOUT}s"
            rc=0
            step timeout "$EVIDENTLY_TIMEOUT" "$PY" bench/drift_peers.py peers "$WORK" "$l" evidently "$EVIDENTLY_1M_REPEATS" \
                "$R/evidently_$l.json" || rc=$?
            if ((rc == 124)); then
                meta "evidently_note_$l" "skipped: over ${EVIDENTLY_TIMEOUT} s, stopped"
                note "Evidently at $l: stopped after ${EVIDENTLY_TIMEOUT} s (reading included) without finishing one report"
                rm -f "$R/evidently_$l.json"
            elif ((rc != 0)); then
                meta "evidently_note_$l" "failed (exit $rc)"
                loud "Evidently failed at $l (see $LOG)"
                FAILED+=("evidently-$l")
            fi
        fi
    else
        say "4. $l: scipy ks_2samp × 20 and Evidently DataDriftPreset, $REPEATS runs each, one process"
        step timeout "$STEP_TIMEOUT" "$PY" bench/drift_peers.py peers "$WORK" "$l" scipy,evidently "$REPEATS" "$R/peers_$l.json" \
            || { loud "the peers failed at $l (see $LOG)"; FAILED+=("peers-$l"); }
    fi
done

# ---------------------------------------------------------------------------------------
meta labels "${LABELS[*]}"
meta machine "$(machine_line)"
meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta load_average "start $LOAD_START, end $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
meta versions "$("$PY" -c 'import sys, evidently, pandas, numpy, scipy; print(f"Python {sys.version.split()[0]}, Evidently {evidently.__version__}, pandas {pandas.__version__}, numpy {numpy.__version__}, scipy {scipy.__version__}")' 2>/dev/null || echo '?')"
meta flywheel "$(if [[ -n $FW_SKIP ]]; then echo "skipped ($FW_SKIP)"; else echo "$("$FW" --version 2>/dev/null || echo '?') ($FW); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- Sources Package.swift 2>/dev/null || echo ' + uncommitted changes in Sources')"; fi)"
meta flywheel_skipped "$FW_SKIP"
meta settings "SIZES=\"$SIZES\" REPEATS=$REPEATS EVIDENTLY_1M=$EVIDENTLY_1M EVIDENTLY_1M_REPEATS=$EVIDENTLY_1M_REPEATS EVIDENTLY_TIMEOUT=$EVIDENTLY_TIMEOUT; measuring took $((SECONDS - START)) s"
meta notes "$(IFS=$'\x1f'; echo "${NOTES[*]:-}")"
meta failed "${FAILED[*]:-}"

echo
"$PY" bench/drift_peers.py report "$R" "$META" "$JSON" | tee "$WORK/drift.md"
say "results: $JSON; table $WORK/drift.md; data, logs and per-tool JSON in $WORK"
if ((${#FAILED[@]})); then
    loud "failed: ${FAILED[*]}"
    exit 1
fi
