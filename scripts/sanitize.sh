#!/usr/bin/env bash
# The whole test suite under AddressSanitizer (with LeakSanitizer) and ThreadSanitizer: debug
# builds, each in its own scratch folder (.build/asan, .build/tsan) so that neither clobbers the
# normal .build/debug. Every sanitizer report fails the run and prints its stacks.
#
#   scripts/sanitize.sh [address|thread|all] [extra `swift test` arguments, e.g. --filter Gemm]
#
# JOBS (default 1) is the build's parallelism. ASAN_OPTIONS, LSAN_OPTIONS and TSAN_OPTIONS from
# the environment are appended to the ones below, so they can override any of them
# (TSAN_OPTIONS=halt_on_error=0 lists every race instead of stopping at the first).
set -uo pipefail

usage() { echo "usage: $0 [address|thread|all] [swift test arguments…]" >&2; exit 2; }
which=${1:-all}
[[ $# -gt 0 ]] && shift
case $which in
    address) sanitizers=(address) ;;
    thread) sanitizers=(thread) ;;
    all) sanitizers=(address thread) ;;
    *) usage ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1

# halt_on_error: the first report ends the run with a non-zero status rather than scrolling by.
# detect_leaks: LeakSanitizer at exit, with the false reports of scripts/lsan.supp (see there).
# detect_stack_use_after_return, strict_string_checks: stricter checks, off by default.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1\
:strict_string_checks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# second_deadlock_stack: both stacks of a lock-order inversion; history_size: older accesses of a
# race are still in the trace buffers, so both sides of a race get a stack.
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:history_size=4\
${TSAN_OPTIONS:+:$TSAN_OPTIONS}"

declare -A status build_seconds test_seconds summary
for sanitizer in "${sanitizers[@]}"; do
    short=${sanitizer:0:1}san
    scratch=.build/$short
    log=$scratch/sanitize.log
    mkdir -p "$scratch"
    # --disable-xctest: the tests are all Swift Testing; the empty XCTest pass only adds
    # LeakSanitizer reports of XCTest's own objects (swiftlang/swift-corelibs-xctest#521, #534).
    flags=(--sanitize="$sanitizer" --scratch-path "$scratch" -j "${JOBS:-1}")
    echo "== $sanitizer: swift test ${flags[*]} --disable-xctest $* (log: $log)"
    start=$(date +%s)
    swift build --build-tests "${flags[@]}" 2>&1 | tee "$log"
    status[$sanitizer]=${PIPESTATUS[0]}
    build_seconds[$sanitizer]=$(($(date +%s) - start))
    test_seconds[$sanitizer]=0
    if [[ ${status[$sanitizer]} -eq 0 ]]; then
        start=$(date +%s)
        swift test --skip-build --disable-xctest "${flags[@]}" "$@" 2>&1 | tee -a "$log"
        status[$sanitizer]=${PIPESTATUS[0]}
        test_seconds[$sanitizer]=$(($(date +%s) - start))
    fi
    reports=$(grep -cE '^(==[0-9]+==ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer)' "$log")
    tests=$(grep -oE 'Test run with [0-9]+ tests? in [0-9]+ suites? (passed|failed)' "$log" | tail -1)
    summary[$sanitizer]="${tests:-no test summary (the build failed, or a report stopped the run)}; $reports sanitizer report(s)"
done

echo
echo "== Sanitizers"
failed=0
for sanitizer in "${sanitizers[@]}"; do
    result=passed
    [[ ${status[$sanitizer]} -ne 0 ]] && result="FAILED (exit ${status[$sanitizer]})" && failed=1
    printf '%-8s %s: build %ds, tests %ds; %s\n' "$sanitizer" "$result" "${build_seconds[$sanitizer]}" \
        "${test_seconds[$sanitizer]}" "${summary[$sanitizer]}"
done
exit $failed
