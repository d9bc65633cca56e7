#!/usr/bin/env bash
# Runs the libFuzzer targets built in build/fuzz/ (make fuzz / make fuzz-regress).
#   run.sh regress        replay each target's tracked corpus once; "N passed, N failed"
#   run.sh run SECONDS    fuzz each target for SECONDS; new inputs go to build/fuzz/new/
set -u
cd "$(dirname "$0")/../.."
mode=${1:-regress}
secs=${2:-60}
passed=0 failed=0
for bin in build/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	corpus=test/fuzz/corpus/${name#fuzz_}
	mkdir -p "$corpus"
	if [ "$mode" = run ]; then
		mkdir -p "build/fuzz/new/$name"
		"$bin" -max_total_time="$secs" -print_final_stats=1 "build/fuzz/new/$name" "$corpus" \
			>"build/fuzz/$name.log" 2>&1
	else
		"$bin" -runs=0 "$corpus" >"build/fuzz/$name.log" 2>&1
	fi
	if [ $? = 0 ]; then
		echo "ok $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name (see build/fuzz/$name.log)"
		tail -n 20 "build/fuzz/$name.log" | sed 's/^/  /'
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
