#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (address sanitizer on) and runs each in turn, one process
# at a time, for SECONDS (or until --runs inputs), then prints executions, time and speed.
#
#   scripts/fuzz.sh [--runs N] [--jobs N] [--no-build] [SECONDS] [TARGET ...]
#
# SECONDS defaults to 60; TARGETs default to every Fuzz/Sources/* (FuzzNPY, FuzzNPZ, FuzzPNG,
# FuzzSafeTensors, FuzzTorchCheckpoint). Seeds come from Fuzz/Corpus/TARGET (never written to);
# inputs that reach new code go to Fuzz/.runs/TARGET/corpus, and a crash, leak, timeout (an input
# that takes over 1 s) or out-of-memory input is saved under Fuzz/.runs/TARGET/artifacts with the
# full log beside it. Reproduce one with: Fuzz/.build/release/TARGET ARTIFACT
# Exits non-zero if any target found anything.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=""
jobs=""
build=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --jobs) jobs="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        *) break ;;
    esac
done
seconds="${1:-60}"
shift || true
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    for source in Fuzz/Sources/*/; do targets+=("$(basename "$source")"); done
fi

if [[ $build -eq 1 ]]; then
    swift build -c release --package-path Fuzz ${jobs:+-j "$jobs"} \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
fi

# Leaks are findings; a leak check runs after each input that allocated more than it freed.
export ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"
failed=()
summary=()
for target in "${targets[@]}"; do
    work="Fuzz/.runs/$target"
    mkdir -p "$work/corpus" "$work/artifacts"
    options=(-max_total_time="$seconds" -timeout=1 -rss_limit_mb=2048 -detect_leaks=1
             -print_final_stats=1 -artifact_prefix="$work/artifacts/")
    [[ -n "$runs" ]] && options+=(-runs="$runs")
    [[ -f "Fuzz/Dictionaries/$target.dict" ]] && options+=(-dict="Fuzz/Dictionaries/$target.dict")
    echo "== $target: Fuzz/.build/release/$target ${options[*]} $work/corpus Fuzz/Corpus/$target"
    start=$SECONDS
    status=0
    "Fuzz/.build/release/$target" "${options[@]}" "$work/corpus" "Fuzz/Corpus/$target" \
        > "$work/log" 2>&1 || status=$?
    elapsed=$((SECONDS - start))
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -1)
    corpus=$(grep -o 'corp: [0-9]*/[0-9A-Za-z]*' "$work/log" | tail -1 | cut -d' ' -f2 || true)
    line="$target: ${executions:-?} executions in ${elapsed} s, ${speed:-?} exec/s, corpus ${corpus:-?}"
    if [[ $status -ne 0 ]]; then
        line+=" — FAILED (exit $status), see $work/log and $work/artifacts"
        grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|SUMMARY' "$work/log" || true
        failed+=("$target")
    fi
    echo "$line"
    summary+=("$line")
done

echo "== summary"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzzing found problems in: ${failed[*]}" >&2
    exit 1
fi
