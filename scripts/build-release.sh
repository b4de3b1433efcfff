#!/usr/bin/env bash
# scripts/build-release.sh [PRODUCT…] — the release build that the benchmarks time and that one
# would ship: optimized, with the Swift runtime and Foundation linked into the binary
# (--static-swift-stdlib on Linux), in .build-release. Builds `flywheel` when no product is named;
# prints the folder that holds the binaries.
#
# Why static: a dynamically linked `flywheel` spends about 9 ms of every start binding symbols
# against libswiftCore and Foundation's libraries (ld.so's do_lookup_x, measured with perf); linked
# statically it starts in about 19 ms instead of 28 (see BENCHMARKS.md, Drift).
#
# Static Foundation takes FoundationNetworking with it, which links libcurl. Distributions ship the
# library (libcurl.so.4) without the linker's libcurl.so unless the development package is
# installed; then a link to it goes in .build-release/link/, where the linker is told to look.
set -euo pipefail
cd "$(dirname "$0")/.."

products=("$@")
[[ ${#products[@]} -gt 0 ]] || products=(flywheel)
flags=(-c release --scratch-path .build-release)
if [[ $(uname -s) == Linux ]]; then
    flags+=(--static-swift-stdlib)
    ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)  # /sbin is not on every user's PATH
    cache=$("$ldconfig" -p 2>/dev/null || true)
    case $(uname -m) in  # the cache's tag for this machine's libraries
        x86_64) arch='x86-64' ;;
        aarch64) arch='AArch64' ;;
        *) arch='' ;;
    esac
    if ! grep -q "libcurl\.so (.*$arch" <<<"$cache"; then
        lib=$(grep "libcurl\.so\.4 (.*$arch" <<<"$cache" | head -n 1 | awk '{ print $NF }' || true)
        if [[ -z $lib ]]; then
            echo "build-release.sh: libcurl.so.4 not found (apt install libcurl4); static Foundation links it" >&2
            exit 1
        fi
        mkdir -p .build-release/link
        ln -sf "$lib" .build-release/link/libcurl.so
        flags+=(-Xlinker -L"$PWD/.build-release/link")
    fi
fi
# One product per invocation: given several --product flags, swift build builds only the last.
for product in "${products[@]}"; do
    swift build "${flags[@]}" --product "$product" >&2
done
swift build "${flags[@]}" --show-bin-path
