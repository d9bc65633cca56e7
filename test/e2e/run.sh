#!/usr/bin/env bash
# Runs the end-to-end tests: every t_* function of test/e2e/[0-9]*.sh (or of the files
# given as arguments), each in a subshell with its own HOME and XDG dirs, under a
# time limit. Prints "ok/FAIL/skip file:test" and a final "N passed, N failed, N skipped".
#
#   E2E_FILTER=REGEX   only the tests whose "file:test" matches (a plain substring works)
#   E2E_USER=NAME      run the tests as that ordinary user (root only; created if missing):
#                      the binary and the tests are staged where the user can read them
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

as_user=()
if [ -n "${E2E_USER:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "error: E2E_USER needs root" >&2; exit 2; }
	id "$E2E_USER" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /usr/sbin/nologin "$E2E_USER" ||
		{ echo "error: cannot create user $E2E_USER" >&2; exit 2; }
	stage=$(mktemp -d /tmp/os-e2e-stage.XXXXXX)
	chmod 755 "$stage"
	mkdir -p "$stage/test"
	cp -r "$here" "$stage/test/e2e" && cp "$root/VERSION" "$stage/" &&
		install -m 755 "$OPENSHELL" "$stage/openshell" ||
		{ echo "error: cannot stage the tests in $stage" >&2; exit 2; }
	chmod -R a+rX "$stage"
	staged=()
	for f in "${files[@]}"; do staged+=("$stage/test/e2e/$(basename "$f")"); done
	files=("${staged[@]}")
	here=$stage/test/e2e ROOT=$stage OPENSHELL=$stage/openshell
	as_user=(setpriv --reuid="$E2E_USER" --regid="$E2E_USER" --init-groups --)
	trap 'rm -rf "$stage"' EXIT
fi

passed=0 failed=0 skipped=0
for f in "${files[@]}"; do
	base=$(basename "$f" .sh)
	tests=$(bash -c "source '$here/lib.sh'; source '$f'; declare -F" | awk '{print $3}' | grep '^t_' || true)
	for t in $tests; do
		[ -z "$filter" ] || [[ "$base:$t" =~ $filter ]] || continue
		started=$SECONDS
		T=$(mktemp -d /tmp/os-e2e.XXXXXX)
		chmod 755 "$T"
		mkdir -p "$T/home" "$T/config" "$T/state" "$T/data" "$T/runtime"
		chmod 700 "$T/runtime"
		[ ${#as_user[@]} = 0 ] || chown -R "$E2E_USER:" "$T"
		(
			export T HOME=$T/home XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state \
				XDG_DATA_HOME=$T/data XDG_RUNTIME_DIR=$T/runtime
			unset OPENSHELL_GATEWAY OPENSHELL_GATEWAY_ENDPOINT NO_COLOR
			cd "$T" || exit 1
			timeout -k 5 "$E2E_TIMEOUT" "${as_user[@]}" bash -c "source '$here/lib.sh'; source '$f'; $t" \
				>"$T/.log" 2>&1
			echo $? >"$T/.rc"
		)
		r=$(cat "$T/.rc" 2>/dev/null || echo 1)
		if [ "$r" = 0 ]; then
			echo "ok $base:$t ($((SECONDS - started)) s)"
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
			# one grep over all environments (a grep per process cost seconds per test), and
			# processes running a binary the test placed in $T (started with env -i)
			for e in $(grep -lzx "XDG_STATE_HOME=$T/state" /proc/[0-9]*/environ 2>/dev/null) \
				$(find /proc/[0-9]*/exe -maxdepth 0 -lname "$T/*" 2>/dev/null); do
				kill -9 "$(basename "$(dirname "$e")")" 2>/dev/null
			done
			rm -rf "$T" 2>/dev/null || { sleep 0.5; rm -rf "$T"; } || true
		fi
	done
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
