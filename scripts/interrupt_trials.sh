#!/usr/bin/env bash
# Interrupt safety, measured: runs `pointwise apply` and `pointwise merge` on a ~220 MB raster,
# kills each run at a random moment with SIGINT, SIGTERM or SIGKILL, and checks after every
# trial that the output is either the previous file, untouched, or the complete new result,
# never anything in between, and that SIGINT/SIGTERM left no temporary file behind. (SIGKILL
# cannot be caught: it may leave a hidden .NAME.*.tmp file, never a partial NAME; those are
# counted and removed.)
#
#   scripts/interrupt_trials.sh [TRIALS]      (default 30; uses .build/release/pointwise,
#                                              or $POINTWISE)
set -euo pipefail
trials="${1:-30}"
root="$(cd "$(dirname "$0")/.." && pwd)"
pointwise="${POINTWISE:-$root/.build/release/pointwise}"
[[ -x "$pointwise" ]] || { echo "build first: swift build -c release --product pointwise" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

# A [1, 13, 2048, 2048] float32 .npy file: a NumPy version 1.0 header, then random bytes with
# the exponent bits masked so every value is a finite float.
write_npy() {  # file shape-text element-count
    local dict="{'descr': '<f4', 'fortran_order': False, 'shape': $2, }"
    local length=$(( (10 + ${#dict} + 1 + 63) / 64 * 64 - 10 ))
    { printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $((length % 256)))\\x$(printf %02x $((length / 256)))"
      printf '%-*s\n' $((length - 1)) "$dict"
      head -c $(( $3 * 4 )) /dev/urandom | tr '\200-\377' '\000-\177'; } > "$1"
}
write_npy x.npy "(1, 13, 2048, 2048)" $((13 * 2048 * 2048))
write_npy w.npy "(8, 13)" $((8 * 13))

apply_args=(apply --input x.npy --weight w.npy --activation relu --max-memory 256M)
apply_run() { "$pointwise" "${apply_args[@]}" --output "$@"; }
# The complete results, and the parts a merge trial assembles.
apply_run full.npy
for i in 0 1 2 3; do apply_run "part$i" --shard "$i/4"; done
"$pointwise" merge part0 part1 part2 part3 --output merged.npy
cmp -s full.npy merged.npy || { echo "FAIL: the merged parts differ from the single run" >&2; exit 1; }
full="$(sha256sum < full.npy)"
start=$(date +%s%N); apply_run timing.npy; apply_ms=$(( ($(date +%s%N) - start) / 1000000 ))
rm -f timing.npy
echo "apply takes ${apply_ms} ms here; ${trials} trials, each killed at a random moment in 0–$((apply_ms * 5 / 4)) ms"

signals=(INT TERM KILL)
failures=0 previous_kept=0 completed=0 kill_leftovers=0
for trial in $(seq 1 "$trials"); do
    printf 'previous output %s\n' "$trial" > out.npy
    previous="$(sha256sum < out.npy)"
    signal="${signals[$((RANDOM % 3))]}"
    delay_ms=$((RANDOM % (apply_ms * 5 / 4 + 1)))
    # The binary itself in the background (not a function: $! would be a subshell's pid), with
    # SIGINT's default action restored: a script's background jobs start with SIGINT ignored,
    # which the tool respects, as it should for `nohup` and `&` at a prompt.
    if ((trial % 2)); then env --default-signal=INT "$pointwise" "${apply_args[@]}" --output out.npy &
    else env --default-signal=INT "$pointwise" merge part0 part1 part2 part3 --output out.npy & fi
    pid=$!
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    kill -s "$signal" "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null && status=0 || status=$?
    now="$(sha256sum < out.npy)"
    leftovers=$(find . -maxdepth 1 -name '.out.npy.*.tmp' | wc -l)
    if [[ "$now" == "$previous" ]]; then outcome="previous output intact"; previous_kept=$((previous_kept + 1))
    elif [[ "$now" == "$full" ]]; then outcome="complete new output"; completed=$((completed + 1))
    else outcome="CORRUPT OUTPUT"; failures=$((failures + 1)); fi
    if ((leftovers > 0)); then
        if [[ "$signal" == KILL ]]; then kill_leftovers=$((kill_leftovers + 1)); outcome+=", hidden temporary left (SIGKILL)"
        else outcome+=", TEMPORARY FILE LEFT"; failures=$((failures + 1)); fi
        rm -f .out.npy.*.tmp
    fi
    printf 'trial %2d: %-7s SIG%-4s after %5d ms, exit %3d: %s\n' "$trial" "$([[ $((trial % 2)) == 1 ]] && echo apply || echo merge)" \
        "$signal" "$delay_ms" "$status" "$outcome"
done
echo "${trials} trials: ${previous_kept} left the previous output intact, ${completed} completed, ${failures} failures;" \
     "${kill_leftovers} SIGKILLs left a hidden temporary file"
((failures == 0))
