#!/bin/sh
# fuzz/run.sh - runs the libFuzzer harnesses of fuzz/ (make fuzz, make test).
#
#   sh fuzz/run.sh check CC                  exit 0 when CC links libFuzzer with ASan+UBSan
#   sh fuzz/run.sh run BUILD SECONDS MODE NAME...
#
# MODE "test" (make test) uses a fixed seed so that a run can be repeated;
# MODE "fuzz" (make fuzz) a random one.  Each harness runs SECONDS on a
# working corpus, BUILD/corpus/NAME for fuzz (kept and grown from run to
# run), BUILD/smoke/NAME for test (new each time); the committed seeds in
# fuzz/corpus/NAME are only read.  Per harness one line: executions,
# executions/s, working corpus size, and either "ok" or the crash with its saved
# input (BUILD/crashes/NAME-*) and the end of the sanitizer's report.
# fuzz/NAME.dict, when there is one, is the harness's libFuzzer dictionary.
# A crash, leak, timeout (10 s for one input) or out-of-memory fails the run.
set -u

if [ "${1:-}" = check ]; then
    cc=${2:-clang}
    command -v "$cc" >/dev/null 2>&1 || exit 1
    dir=$(mktemp -d "${TMPDIR:-/tmp}/hd-fuzz-probe.XXXXXX") || exit 1
    printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
        >"$dir/probe.c"
    "$cc" -fsanitize=fuzzer,address,undefined -o "$dir/probe" "$dir/probe.c" >/dev/null 2>&1
    rc=$?
    rm -rf "$dir"
    exit $rc
fi

[ "${1:-}" = run ] || { echo "usage: $0 check CC | run BUILD SECONDS MODE NAME..." >&2; exit 2; }
build=$2
secs=$3
mode=$4
shift 4

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
seed=0
[ "$mode" = test ] && seed=1
pass=0
fail=0
failed=""
mkdir -p "$build/crashes" "$build/logs"
for name in "$@"; do
    bin="$build/fuzz_$name"
    # make test: a fresh working corpus each time (repeatable with the seed);
    # make fuzz: it grows from run to run.
    work="$build/corpus/$name"
    if [ "$mode" = test ]; then
        work="$build/smoke/$name"
        rm -rf "$work"
    fi
    log="$build/logs/$name.log"
    mkdir -p "$work"
    seeds="fuzz/corpus/$name"
    [ -d "$seeds" ] || seeds=""
    dict=""
    [ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
    # libFuzzer writes new inputs to the first directory only.
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -seed="$seed" $dict \
        -print_final_stats=1 -artifact_prefix="$build/crashes/$name-" \
        "$work" $seeds </dev/null >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    size=$(find "$work" -type f | wc -l)
    if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
        pass=$((pass + 1))
        printf 'fuzz %-14s %4ss %10s runs %8s/s  corpus %5s  ok\n' "$name" "$secs" "$runs" \
            "$rate" "$size"
    else
        fail=$((fail + 1))
        failed="$failed $name"
        unit=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1)
        printf 'fuzz %-14s CRASH (exit %s) input: %s -- log %s, end of it:\n' "$name" "$rc" \
            "${unit:-none saved}" "$log"
        grep -E 'ERROR|SUMMARY|rule broken|runtime error|#[0-9]+ 0x' "$log" | head -n 25 | \
            sed 's/^/    /'
    fi
done
[ -n "$failed" ] && echo "fuzz: failed:$failed (reproduce: $build/fuzz_NAME INPUT)"
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
