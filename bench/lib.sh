# Shared by the bench scripts that compare `flywheel` (the CLI) with peers: source it after
# setting BENCH_NAME (for messages), ROOT (the repo) and FAILED (an array).

say() { printf '== %s\n' "$*" >&2; }

# stop_group PID — stops a server started in its own session (setsid): SIGTERM to its process group
# (which holds children such as mlflow's uvicorn workers), up to 10 s, then SIGKILL; reaps it.
stop_group() {
    local pid=$1
    [[ -n $pid ]] || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
loud() { printf '\n!! %s: %s\n\n' "$BENCH_NAME" "$*" >&2; }

# flywheel_binary LOGDIR SUBCOMMAND...: sets FW to FLYWHEEL_BIN or a fresh release build
# (.build-release), and FW_SKIP to why Flywheel cannot be measured (empty when it can): a failed
# build, or a subcommand this binary lacks. Each SUBCOMMAND is one quoted word list, e.g. "deploy apply".
flywheel_binary() {
    local logdir=$1
    shift
    FW=
    FW_SKIP=
    if [[ -n ${FLYWHEEL_BIN:-} ]]; then
        say "1. using $FLYWHEEL_BIN (no build)"
        FW=$FLYWHEEL_BIN
        [[ -x $FW ]] || FW_SKIP="FLYWHEEL_BIN=$FW is not an executable"
    else
        say "1. building flywheel (release, .build-release, scripts/build-release.sh)"
        local bin
        if bin=$(timeout 3600 "$ROOT/scripts/build-release.sh" flywheel 2>"$logdir/build.log"); then
            FW=$bin/flywheel
        else
            tail -30 "$logdir/build.log" >&2
            loud "flywheel: the build failed (see $logdir/build.log)"
            FAILED+=(flywheel-build)
            FW_SKIP="build failed"
        fi
    fi
    local sub
    for sub in "$@"; do
        [[ -n $FW_SKIP ]] && break
        # An unknown subcommand's --help prints the top-level help and exits 0: look for its USAGE line.
        # shellcheck disable=SC2086 # the subcommand is words on purpose
        if [[ $("$FW" $sub --help 2>&1 || true) != *"USAGE: flywheel $sub"* ]]; then
            FW_SKIP="$FW has no '$sub' subcommand yet"
        fi
    done
    return 0
}

# The machine, as BENCHMARKS.md records it.
machine_line() {
    echo "$(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2 / 1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
}
