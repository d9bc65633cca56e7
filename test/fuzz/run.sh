#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the libFuzzer targets that `make` built as build/fuzz/fuzz_<name>, each with its seed
# corpus test/fuzz/corpus/<name>/ and, when present, the dictionary test/fuzz/corpus/<name>.dict
# (make fuzz / make fuzz-regress call this).
#
#   run.sh regress        replay every corpus file once (-runs=0); one line per target,
#                         then "N passed, N failed"; exit status 1 when any failed
#   run.sh run SECONDS    fuzz each target for SECONDS; new inputs and crashes go to a fresh
#                         temporary directory (printed), never into the tracked corpus
#
# Logs go to the same temporary directory, so runs in parallel do not overwrite each other.
set -u
cd "$(dirname "$0")/../.." || exit 2

usage() {
	echo "usage: $0 regress | run SECONDS" >&2
	exit 2
}

mode=${1:-regress}
case $mode in
regress) ;;
run)
	secs=${2:-}
	[[ $secs =~ ^[1-9][0-9]*$ ]] || usage
	;;
*) usage ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/openshell-fuzz.XXXXXX") || exit 2
passed=0 failed=0 found=0

# run_one NAME BIN CORPUS LOG: one target, libFuzzer's exit status.
run_one() {
	local name=$1 bin=$2 corpus=$3 log=$4
	if [ "$mode" = regress ]; then
		"$bin" -runs=0 "$corpus" >"$log" 2>&1
		return
	fi
	local dict=()
	[ -f "$corpus.dict" ] && dict=(-dict="$corpus.dict")
	mkdir -p "$work/$name/new" "$work/$name/crashes"
	# the first corpus dir receives new inputs; the tracked one is only read
	"$bin" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$work/$name/crashes/" \
		"${dict[@]}" "$work/$name/new" "$corpus" >"$log" 2>&1
}

for bin in build/fuzz/fuzz_*; do
	if [ ! -f "$bin" ] || [ ! -x "$bin" ] || [[ $bin == *.* ]]; then
		continue
	fi
	name=${bin##*/fuzz_}
	corpus=test/fuzz/corpus/$name
	log=$work/$name.log
	found=$((found + 1))
	if [ ! -d "$corpus" ]; then
		echo "FAIL fuzz_$name (no corpus directory $corpus)"
		failed=$((failed + 1))
		continue
	fi
	if run_one "$name" "$bin" "$corpus" "$log"; then
		extra=
		if [ "$mode" = run ]; then
			extra=" ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" |
				grep -o '[0-9]*$' || echo '?') execs, $(find "$work/$name/new" -type f |
				wc -l) new inputs)"
		fi
		echo "ok fuzz_$name$extra"
		passed=$((passed + 1))
	else
		echo "FAIL fuzz_$name (log: $log)"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|Running: )' "$log" | head -n 5 |
			sed 's/^/  /'
		failed=$((failed + 1))
	fi
done

if [ "$found" = 0 ]; then
	echo "no fuzz targets in build/fuzz/ (build them with make fuzz-regress)" >&2
	failed=1
fi
echo "$passed passed, $failed failed"
if [ "$mode" = run ] || [ "$failed" != 0 ]; then
	echo "logs and new inputs: $work"
else
	rm -rf "$work"
fi
[ "$failed" = 0 ]
