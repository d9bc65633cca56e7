#!/usr/bin/env bash
# Runs the end-to-end tests: every t_* function of test/e2e/[0-9]*.sh (or of the files
# given as arguments), each in a subshell with its own HOME and XDG dirs, under a
# time limit. Prints "ok/FAIL/skip file:test" and a final "N passed, N failed, N skipped".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${OPENSHELL:=$root/openshell}"
[ -x "$OPENSHELL" ] || OPENSHELL=$root/build/dev/openshell
export OPENSHELL ROOT=$root
: "${E2E_TIMEOUT:=180}"
filter=${E2E_FILTER:-}

files=()
for f in "$@"; do files+=("$(realpath "$f")"); done
[ ${#files[@]} -gt 0 ] || files=("$here"/[0-9]*.sh)

passed=0 failed=0 skipped=0
for f in "${files[@]}"; do
	base=$(basename "$f" .sh)
	tests=$(bash -c "source '$here/lib.sh'; source '$f'; declare -F" | awk '{print $3}' | grep '^t_' || true)
	for t in $tests; do
		[ -z "$filter" ] || [[ "$base:$t" == *"$filter"* ]] || continue
		T=$(mktemp -d /tmp/os-e2e.XXXXXX)
		chmod 755 "$T"
		mkdir -p "$T/home" "$T/config" "$T/state" "$T/data" "$T/runtime"
		chmod 700 "$T/runtime"
		(
			export T HOME=$T/home XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state \
				XDG_DATA_HOME=$T/data XDG_RUNTIME_DIR=$T/runtime
			unset OPENSHELL_GATEWAY OPENSHELL_GATEWAY_ENDPOINT NO_COLOR
			cd "$T" || exit 1
			timeout -k 5 "$E2E_TIMEOUT" bash -c "source '$here/lib.sh'; source '$f'; $t" \
				>"$T/.log" 2>&1
			echo $? >"$T/.rc"
		)
		r=$(cat "$T/.rc" 2>/dev/null || echo 1)
		if [ "$r" = 0 ]; then
			echo "ok $base:$t"
			passed=$((passed + 1))
		elif [ "$r" = 77 ]; then
			echo "skip $base:$t ($(cat "$T/.skip" 2>/dev/null))"
			skipped=$((skipped + 1))
		else
			[ "$r" = 124 ] && echo "    (timed out after ${E2E_TIMEOUT}s)" >>"$T/.log"
			echo "FAIL $base:$t"
			sed 's/^/  /' "$T/.log" | head -n 80
			failed=$((failed + 1))
		fi
		# Tests may leave daemons behind on failure: kill what still runs from $T, by its
		# command line or by the environment it was started with (gateways, supervisors).
		if [ -d "$T" ]; then
			pkill -9 -f "$T/" 2>/dev/null || true
			for e in /proc/[0-9]*/environ; do
				grep -qzx "XDG_STATE_HOME=$T/state" "$e" 2>/dev/null &&
					kill -9 "$(basename "$(dirname "$e")")" 2>/dev/null
			done
			rm -rf "$T" 2>/dev/null || { sleep 0.5; rm -rf "$T"; } || true
		fi
	done
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
