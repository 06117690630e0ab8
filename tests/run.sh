#!/bin/sh
# Runs every test: the cmocka binaries (unit and integration) built into
# $1/tests, then the shell tests in tests/sh (real binary, tmux console).
# Prints one summary line "N passed, N failed" and exits non-zero on failure.
set -u
BUILD=${1:-build/asan}
export HOOKDESK_BIN="$PWD/$BUILD/hookdesk"
export HD_RECEIVER_BIN="$PWD/$BUILD/hd-receiver"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/hookdesk-tests.XXXXXX")
pass=0
fail=0
failed_names=""

run_one() {
    name=$1
    shift
    start=$(date +%s)
    if "$@" >"$LOGDIR/$name.log" 2>&1; then
        pass=$((pass + 1))
        echo "PASS $name ($(( $(date +%s) - start ))s)"
    else
        fail=$((fail + 1))
        failed_names="$failed_names $name"
        echo "FAIL $name ($(( $(date +%s) - start ))s) -- log follows"
        tail -n 60 "$LOGDIR/$name.log" | sed 's/^/    /'
    fi
}

for t in "$BUILD"/tests/test_*; do
    case "$t" in *.o|*.d) continue ;; esac
    [ -x "$t" ] || continue
    run_one "$(basename "$t")" "$t"
done
for t in tests/sh/test_*.sh; do
    [ -f "$t" ] || continue
    run_one "$(basename "$t" .sh)" sh "$t"
done

echo
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "logs: $LOGDIR"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
