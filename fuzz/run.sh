#!/bin/sh
# Run every libFuzzer target for FUZZ_TIME seconds each, one after the
# other (the machine is shared), and print a table of executions and
# crashes.  Usage: fuzz/run.sh BUILD_DIR [TARGET...]
#
#   seeds (committed):   fuzz/corpus/<target>/
#   working corpus:      BUILD_DIR/corpus/<target>/   (grows across runs)
#   findings:            BUILD_DIR/crashes/<target>-crash-<sha1> (also leak-, timeout-, oom-)
#   logs:                BUILD_DIR/logs/<target>.log
#
# Exit status: 0 when no target found anything, 1 otherwise.
FUZZ_TIME=${FUZZ_TIME:-300}
build=${1:?usage: fuzz/run.sh BUILD_DIR [TARGET...]}
shift
cd "$(dirname "$0")/.." || exit 2
if test $# = 0; then
	set -- $(ls fuzz/fuzz_*.c | sed 's,fuzz/fuzz_\(.*\)\.c,\1,')
fi
mkdir -p "$build/crashes" "$build/logs" || exit 2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
table=$(mktemp) || exit 2
trap 'rm -f "$table"' EXIT
status=0
for t in "$@"; do
	bin="$build/fuzz_$t"
	test -x "$bin" || { echo "fuzz: no binary $bin (run 'make fuzz')" >&2; exit 2; }
	mkdir -p "$build/corpus/$t" "fuzz/corpus/$t"
	dict=
	test -f "fuzz/$t.dict" && dict="-dict=fuzz/$t.dict"
	before=$(ls "$build/crashes" | grep -c "^$t-")
	echo "== fuzz_$t for ${FUZZ_TIME}s"
	"$bin" -max_total_time="$FUZZ_TIME" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -close_fd_mask=3 -artifact_prefix="$build/crashes/$t-" $dict \
		"$build/corpus/$t" "fuzz/corpus/$t" >"$build/logs/$t.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/logs/$t.log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$build/logs/$t.log" | tail -n 1 | sed 's/cov: //')
	after=$(ls "$build/crashes" | grep -c "^$t-")
	found=$((after - before))
	if test $rc != 0 || test $found != 0; then
		status=1
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$build/logs/$t.log" | head -n 5
		ls "$build/crashes" | grep "^$t-" | sed 's,^,   finding: '"$build"'/crashes/,'
	fi
	printf '%-16s %12s %8s %8s %6s\n' "$t" "${execs:-?}" "${cov:-?}" "$found" "$rc" >>"$table"
done
echo
printf '%-16s %12s %8s %8s %6s\n' target executions coverage findings exit
cat "$table"
exit $status
