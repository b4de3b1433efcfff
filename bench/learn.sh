#!/usr/bin/env bash
# bench/learn.sh — Flywheel's data reader and learners vs pandas / scikit-learn, same machine, one run.
#
#   ./bench/learn.sh                                   # full run (defaults below)
#   TREES=10 REPEATS=1 CSV_REPEATS=1 CALLS=1000 SK_CALLS=100 ./bench/learn.sh   # smoke test (a few minutes)
#   FW_BENCH=/path/to/flywheel-bench ./bench/learn.sh  # use a prebuilt binary, skip the build
#
# 1. builds flywheel-bench in release with scripts/build-release.sh (.build-release, the Swift runtime linked in)
# 2. makes bench/.venv-learn with scikit-learn, numpy, pandas from PyPI if missing
# 3. decompresses classif_100k.csv.gz and regress_100k.csv.gz into a temp dir; test rows are
#    splits/NAME.test_idx.txt (0-based), every other row trains
# 4. CSV parse: Flywheel's CSVReader vs pandas.read_csv on classif_100k.csv (CSV_REPEATS each)
# 5. per task and estimator — RandomForest (100 trees, all cores on both sides), HistGradientBoosting
#    (100 iterations, early stopping $EARLY_STOPPING on both sides), DecisionTree, LogisticRegression on
#    standardized features / LinearRegression — fit (median of REPEATS, RF_REPEATS for forests),
#    predict of the 25k test rows (median of PREDICT_REPEATS), test accuracy or R². Flywheel and
#    scikit-learn alternate estimator by estimator, one process each, never concurrently.
# 6. serving: single-row predict latency of the 100-tree classification forest (Flywheel: CALLS calls
#    through three APIs; scikit-learn: SK_CALLS with n_jobs=1, SK_CALLS_ALL with n_jobs=-1) and
#    batch predict of all 100k rows (BATCH_REPEATS each)
# 7. prints a table with ratios and the issue's targets; results and logs go to bench/out/learn/.
# Timings are wall clock; CPU seconds (process, all threads) are reported beside them.
# Every step has a timeout and the run stops by itself (about 10–15 minutes on 2 cores).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

DATA=${DATA:-$ROOT/../shared/data}          # the shared data sets (classif_100k.csv.gz, …, splits/)
REPEATS=${REPEATS:-3}                       # fits of DecisionTree, HistGradientBoosting, linear models
RF_REPEATS=${RF_REPEATS:-3}                 # fits of each random forest (the longest step)
PREDICT_REPEATS=${PREDICT_REPEATS:-5}       # predictions of the test rows per estimator
CSV_REPEATS=${CSV_REPEATS:-5}               # CSV parses per side
CALLS=${CALLS:-10000}                       # Flywheel single-row calls per API
SK_CALLS=${SK_CALLS:-1000}                  # scikit-learn single-row calls, n_jobs=1
SK_CALLS_ALL=${SK_CALLS_ALL:-200}           # scikit-learn single-row calls, n_jobs=-1 (slow: thread start-up per call)
BATCH_REPEATS=${BATCH_REPEATS:-3}           # 100k-row batch predictions per variant
TREES=${TREES:-100}                         # trees per random forest (the targets are for 100)
EARLY_STOPPING=${EARLY_STOPPING:-off}       # HistGradientBoosting on both sides: off (100 iterations) or auto
SKLEARN_VERSION=${SKLEARN_VERSION:-1.9.1}   # the version ../shared/data/README.md quotes
STEP_TIMEOUT=${STEP_TIMEOUT:-600}           # hard cap, seconds, for any one step
DEADLINE=${DEADLINE:-1200}                  # seconds after the build; later steps are skipped
OUT=${OUT:-$ROOT/bench/out/learn}
VENV=$ROOT/bench/.venv-learn
for v in TREES REPEATS RF_REPEATS PREDICT_REPEATS CSV_REPEATS CALLS SK_CALLS BATCH_REPEATS; do
    [[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || { echo "learn.sh: $v must be a whole number ≥ 1" >&2; exit 2; }
done
[[ $EARLY_STOPPING == off || $EARLY_STOPPING == auto ]] || { echo "learn.sh: EARLY_STOPPING is off or auto" >&2; exit 2; }
for f in classif_100k.csv.gz regress_100k.csv.gz splits/classif_100k.test_idx.txt splits/regress_100k.test_idx.txt; do
    [[ -f $DATA/$f ]] || { echo "learn.sh: $DATA/$f not found (set DATA=…)" >&2; exit 2; }
done

export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
mkdir -p "$OUT"
rm -f "$OUT"/*.json
LOG=$OUT/learn.log
: >"$LOG"
say() { printf '== %s\n' "$*" >&2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/flywheel-learn-bench.XXXXXX")
cleanup() {
    local rc=$?
    [[ ${KEEP_TMP:-0} == 1 ]] && say "kept $TMP" || rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------
if [[ -n ${FW_BENCH:-} ]]; then
    say "1. using $FW_BENCH (no build)"
    BENCH=$FW_BENCH
else
    say "1. building flywheel-bench (release, .build-release, scripts/build-release.sh)"
    BIN=$(timeout 3600 ./scripts/build-release.sh flywheel-bench 2>>"$LOG") || { tail -30 "$LOG" >&2; exit 1; }
    BENCH=$BIN/flywheel-bench
fi
usage=$("$BENCH" learn 2>&1 || true)
[[ $usage == *'learn csv|fit|serve'* ]] || { say "$BENCH has no 'learn' mode (see Package.swift: flywheel-bench needs FlywheelData and FlywheelLearn)"; exit 1; }

say "2. scikit-learn $SKLEARN_VERSION, numpy, pandas in bench/.venv-learn"
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
PY=$VENV/bin/python
if ! "$PY" -c "import sklearn, numpy, pandas, sys; sys.exit(sklearn.__version__ != '$SKLEARN_VERSION')" 2>/dev/null; then
    timeout 1800 "$VENV/bin/pip" install -q "scikit-learn==$SKLEARN_VERSION" numpy pandas >>"$LOG" 2>&1 \
        || { tail -30 "$LOG" >&2; exit 1; }
fi

say "3. decompressing the data into $TMP"
for name in classif_100k regress_100k; do
    zcat "$DATA/$name.csv.gz" >"$TMP/$name.csv"
done
SKP=bench/learn_sklearn.py
START=$SECONDS
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# step NAME OUTFILE COMMAND… — runs one measurement with a timeout, keeps going if it fails.
step() {
    local name=$1 out=$2; shift 2
    if ((SECONDS - START > DEADLINE)); then
        say "$name: skipped (past DEADLINE=${DEADLINE}s)"
        return 0
    fi
    say "$name"
    if ! timeout "$STEP_TIMEOUT" "$@" >"$OUT/$out" 2>>"$LOG"; then
        say "$name: failed or timed out (see $LOG)"
        rm -f "$OUT/$out"
    fi
}

# ---------------------------------------------------------------------------------------
step "4. CSV parse, Flywheel CSVReader" fw_csv.json "$BENCH" learn csv --file "$TMP/classif_100k.csv" --repeats "$CSV_REPEATS"
step "4. CSV parse, pandas.read_csv" sk_csv.json "$PY" "$SKP" csv --file "$TMP/classif_100k.csv" --repeats "$CSV_REPEATS"

for task in classification regression; do
    case $task in
        classification) name=classif_100k ;;
        regression) name=regress_100k ;;
    esac
    for model in linear decision_tree hist_gradient_boosting random_forest; do
        reps=$REPEATS
        [[ $model == random_forest ]] && reps=$RF_REPEATS
        common=(--task "$task" --data "$TMP/$name.csv" --test-idx "$DATA/splits/$name.test_idx.txt" --model "$model"
                --repeats "$reps" --predict-repeats "$PREDICT_REPEATS" --early-stopping "$EARLY_STOPPING" --trees "$TREES")
        serve=()
        if [[ $task == classification && $model == random_forest ]]; then
            serve=(--serve-calls "$SK_CALLS" --serve-calls-all-cores "$SK_CALLS_ALL" --batch-repeats "$BATCH_REPEATS")
        fi
        step "5. $name $model, Flywheel" "fw_${task}_$model.json" "$BENCH" learn fit "${common[@]}"
        step "5. $name $model, scikit-learn" "sk_${task}_$model.json" "$PY" "$SKP" fit "${common[@]}" "${serve[@]}"
    done
done

step "6. serving, Flywheel (Trainer bundle, single-row and batch)" fw_serve.json "$BENCH" learn serve \
    --data "$TMP/classif_100k.csv" --test-idx "$DATA/splits/classif_100k.test_idx.txt" --calls "$CALLS" --batch-repeats "$BATCH_REPEATS" --trees "$TREES"

# ---------------------------------------------------------------------------------------
{
    echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2 / 1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); measuring took $((SECONDS - START)) s; load average at the start: $LOAD_START, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "Versions: $(swift --version 2>/dev/null | head -1 | sed 's/ (.*//'), Flywheel $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- Sources 2>/dev/null || echo '+uncommitted'); $("$PY" --version), $("$PY" -c 'import sklearn, numpy, pandas; print(f"scikit-learn {sklearn.__version__}, numpy {numpy.__version__}, pandas {pandas.__version__}")')"
    echo "Settings: TREES=$TREES REPEATS=$REPEATS RF_REPEATS=$RF_REPEATS PREDICT_REPEATS=$PREDICT_REPEATS CSV_REPEATS=$CSV_REPEATS CALLS=$CALLS SK_CALLS=$SK_CALLS SK_CALLS_ALL=$SK_CALLS_ALL BATCH_REPEATS=$BATCH_REPEATS EARLY_STOPPING=$EARLY_STOPPING"
    echo
    "$PY" "$SKP" report --dir "$OUT"
} | tee "$OUT/learn.md"
say "results in $OUT (learn.md, *.json, learn.log)"
