# shellcheck shell=bash
# End-to-end test helpers, sourced by test/e2e/run.sh for every test file.
#
# A test file test/e2e/NN-area.sh defines functions t_<name>; each runs in its own
# subshell with a fresh HOME and XDG_* dirs under $T (removed afterwards), with
# `set -e` off: a test fails when it calls `fail` or an expect_* helper fails.
#
#   run openshell gateway list      # runs $OPENSHELL; keeps $rc, $out, $err
#   expect_rc 0                     # exit status
#   expect_out 'text'               # stdout contains text (fixed string)
#   expect_err 'error: ...'         # stderr contains text
#   expect_no_out 'text'            # stdout does not contain text
#   expect_out_line 'whole line'    # stdout has exactly this line
#   expect_mode 600 PATH            # permission bits
#   expect_file PATH / expect_no_file PATH
#   skip "reason"                   # ends the test as skipped
#   need_root / need_cmd CMD        # skip unless root / unless CMD exists

fail() {
	echo "    FAIL: $*" >&2
	if [ -n "${_last_cmd:-}" ]; then
		echo "    last command: $_last_cmd (rc=$rc)" >&2
		echo "    --- stdout ---" >&2
		head -c 4000 "$T/.out" | sed 's/^/    /' >&2
		echo "    --- stderr ---" >&2
		head -c 4000 "$T/.err" | sed 's/^/    /' >&2
	fi
	exit 1
}

skip() {
	echo "$*" >"$T/.skip"
	exit 77
}

need_root() { [ "$(id -u)" = 0 ] || skip "needs root"; }
need_cmd() { command -v "$1" >/dev/null 2>&1 || skip "needs $1"; }

# run [openshell] ARGS...: "openshell" as first word means the binary under test.
run() {
	if [ "$1" = openshell ]; then
		shift
		set -- "$OPENSHELL" "$@"
	fi
	_last_cmd="$*"
	"$@" >"$T/.out" 2>"$T/.err" </dev/null
	rc=$?
	out=$(cat "$T/.out")
	err=$(cat "$T/.err")
	return 0
}

# run_in INPUT ARGS...: like run, with INPUT on stdin.
run_in() {
	local input=$1
	shift
	if [ "$1" = openshell ]; then
		shift
		set -- "$OPENSHELL" "$@"
	fi
	_last_cmd="$*"
	printf '%s' "$input" | "$@" >"$T/.out" 2>"$T/.err"
	rc=$?
	out=$(cat "$T/.out")
	err=$(cat "$T/.err")
	return 0
}

expect_rc() { [ "$rc" = "$1" ] || fail "exit status $rc, expected $1"; }
expect_out() { grep -qF -- "$1" "$T/.out" || fail "stdout lacks: $1"; }
expect_err() { grep -qF -- "$1" "$T/.err" || fail "stderr lacks: $1"; }
expect_no_out() { ! grep -qF -- "$1" "$T/.out" || fail "stdout has: $1"; }
expect_no_err() { ! grep -qF -- "$1" "$T/.err" || fail "stderr has: $1"; }
expect_out_line() { grep -qxF -- "$1" "$T/.out" || fail "stdout lacks the line: $1"; }
expect_err_line() { grep -qxF -- "$1" "$T/.err" || fail "stderr lacks the line: $1"; }
expect_out_empty() { [ ! -s "$T/.out" ] || fail "stdout is not empty"; }
expect_file() { [ -e "$1" ] || fail "missing file: $1"; }
expect_no_file() { [ ! -e "$1" ] || fail "file should not exist: $1"; }
expect_mode() {
	local m
	m=$(stat -c %a "$2" 2>/dev/null) || fail "missing file: $2"
	[ "$m" = "$1" ] || fail "mode of $2 is $m, expected $1"
}
expect_same() { [ "$1" = "$2" ] || fail "got '$1', expected '$2'"; }

# The client registry of this test's HOME.
CONF() { echo "$XDG_CONFIG_HOME/openshell"; }

# A free TCP port on 127.0.0.1.
free_port() {
	python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# retry SECONDS CMD...: runs `run CMD...` until its stdout has the text in $want (or time is up).
eventually() {
	local until=$(($(date +%s) + $1))
	shift
	while :; do
		run "$@"
		grep -qF -- "$want" "$T/.out" && return 0
		[ "$(date +%s)" -lt "$until" ] || return 0
		sleep 0.1
	done
}
