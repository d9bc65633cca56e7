# shellcheck shell=bash
# Sandboxes end to end (issue 4): auto-bootstrap, create/list/get/delete, the command's
# output and exit status, stdin, confinement (identity, file system, kernel, network),
# limits, and that delete leaves nothing behind. Every sandbox's network namespace has
# only loopback, so no test packet can leave the machine.

setup_gw() {
	export OPENSHELL_GATEWAY_PORT
	OPENSHELL_GATEWAY_PORT=$(free_port)
}

teardown_gw() { "$OPENSHELL" gateway stop >/dev/null 2>&1 || true; }

gw_group() { # the running gateway's cgroup name (gateway info)
	"$OPENSHELL" gateway info -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["cgroup"])'
}

delete_all_leaves_nothing() { # delete --all, then no supervisor, dir, socket or cgroup is left
	local group left
	group=$(gw_group)
	run openshell sandbox delete --all
	expect_rc 0
	sleep 0.3
	! pgrep -f "supervise --dir $XDG_STATE_HOME" >/dev/null || fail "supervisors left behind"
	[ -z "$(ls "$XDG_STATE_HOME/openshell/gateways/openshell/sandboxes")" ] || fail "sandbox dirs left behind"
	[ -z "$(ls "$XDG_STATE_HOME/openshell/gateways/openshell/run")" ] || fail "sockets left behind"
	left=$(find /sys/fs/cgroup -maxdepth 6 -type d -path "*/$group/sb-*" 2>/dev/null)
	[ -z "$left" ] || fail "cgroups left behind: $left"
}

sb() { # sb SHELL-SCRIPT: runs it in a new --no-keep sandbox
	run openshell sandbox create --no-keep -- /bin/sh -c "$1"
}

t_create_bootstraps_a_gateway_and_returns_the_exit_status() {
	setup_gw
	run openshell sandbox create --name first -- /bin/sh -c 'echo out; echo err >&2; exit 7'
	expect_rc 7
	expect_out_line "out"
	expect_err_line "err"
	expect_err "Ensuring gateway... OK (gateway openshell)"
	expect_err "Created sandbox: first"
	run openshell sandbox list
	expect_rc 0
	expect_out "first"
	expect_out "Exited"
	run openshell sandbox get first -o json
	python3 -c 'import json,sys; v=json.load(sys.stdin); assert v["exit_code"]==7 and v["phase"]=="Exited", v' \
		<"$T/.out" || fail "get json"
	run openshell sandbox get
	expect_err "Using sandbox 'first' (last used)"
	run openshell sandbox delete first
	expect_rc 0
	expect_out "Deleted sandbox first"
	run openshell sandbox list
	expect_out "No sandboxes found."
	teardown_gw
}

t_stdin_reaches_the_command() {
	setup_gw
	run_in "hello through stdin" openshell sandbox create --no-keep -- /bin/cat
	expect_rc 0
	expect_out "hello through stdin"
	teardown_gw
}

t_identity_environment_and_files() {
	setup_gw
	sb 'id -u; id -g; hostname; echo "home=$HOME proxy=$HTTP_PROXY"; env | grep -c "^OPENSHELL_GATEWAY" ;
	    echo data > /sandbox/f && cat /sandbox/f; echo tmp > /tmp/t && cat /tmp/t;
	    grep -c "^sandbox:x:1000" /etc/passwd; pwd'
	expect_rc 0
	expect_out_line "1000"
	expect_out "home=/sandbox proxy=http://127.0.0.1:3128"
	expect_out_line "0"
	expect_out_line "data"
	expect_out_line "tmp"
	expect_out_line "/sandbox"
	teardown_gw
}

t_host_files_outside_the_policy_are_invisible() {
	setup_gw
	mkdir -p "$HOME/.ssh" && echo secret >"$HOME/.ssh/id_test"
	sb "cat '$HOME/.ssh/id_test' 2>&1; cat /root/.bashrc 2>&1; ls '$XDG_STATE_HOME' 2>&1; echo x > /usr/evil 2>&1; echo x > /etc/evil 2>&1; echo done"
	expect_rc 0
	expect_no_out "secret"
	expect_out "No such file or directory"
	expect_err "Read-only file system"
	expect_out_line "done"
	[ ! -e /usr/evil ] && [ ! -e /etc/evil ] || fail "wrote to the host"
	teardown_gw
}

t_kernel_attack_surface_is_closed() {
	setup_gw
	sb 'mount -t tmpfs none /tmp 2>&1 | head -1; unshare -U true 2>&1 | head -1;
	    mknod /tmp/dev c 1 3 2>&1 | head -1;
	    python3 -c "
import os, socket, errno
def t(name, f):
    try:
        f(); print(name, \"ALLOWED\")
    except OSError as e:
        print(name, \"DENIED\", errno.errorcode.get(e.errno, e.errno))
t(\"packet\", lambda: socket.socket(17, socket.SOCK_RAW, 0))
t(\"raw\", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, 1))
t(\"netlink-audit\", lambda: socket.socket(16, socket.SOCK_RAW, 9))
t(\"netlink-route\", lambda: socket.socket(16, socket.SOCK_RAW, 0).close())
t(\"memfd\", lambda: os.memfd_create(\"x\"))
t(\"connect-remote\", lambda: socket.create_connection((\"10.0.0.1\", 80), timeout=2))
t(\"connect-local\", lambda: socket.create_connection((\"127.0.0.1\", 9), timeout=2))
t(\"setuid0\", lambda: os.setuid(0))
"'
	expect_rc 0
	expect_out "packet DENIED EPERM"
	expect_out "raw DENIED EPERM"
	expect_out "netlink-audit DENIED EPERM"
	expect_out "netlink-route ALLOWED"
	expect_out "memfd DENIED EPERM"
	expect_out "connect-remote DENIED ENETUNREACH"
	expect_out "connect-local DENIED ECONNREFUSED"
	expect_out "setuid0 DENIED"
	expect_no_out "ALLOWED ALLOWED"
	grep -q "^mount:.*\(permission denied\|Operation not permitted\)" "$T/.out" ||
		grep -qi "must be superuser\|not permitted\|denied" "$T/.out" || fail "mount was not refused"
	teardown_gw
}

t_proxy_answers_with_the_policy_denial() {
	setup_gw
	need_cmd curl
	sb 'curl -s -i http://example.test/path?q=1; echo; curl -s -i -p https://example.test:443/ 2>&1 | head -1'
	expect_rc 0
	expect_out "HTTP/1.1 403 Forbidden"
	expect_out '{"detail":"GET example.test:80/path not permitted by policy","error":"policy_denied"}'
	teardown_gw
}

t_delete_leaves_no_process_behind() {
	setup_gw
	run openshell sandbox create --detach --name sleeper -- /bin/sleep 12345
	expect_rc 0
	pgrep -f "sleep 12345" >/dev/null || fail "the sandbox's command is not running"
	dir=$(ls -d "$XDG_STATE_HOME"/openshell/gateways/openshell/sandboxes/*)
	run openshell sandbox delete sleeper
	expect_rc 0
	sleep 0.2
	! pgrep -f "sleep 12345" >/dev/null || fail "a process survived the delete"
	expect_no_file "$dir"
	run openshell sandbox delete sleeper
	expect_rc 1
	expect_err "Sandbox sleeper not found"
	teardown_gw
}

t_max_sandboxes_is_enforced() {
	setup_gw
	run openshell sandbox create --detach --name one -- /bin/sleep 300
	expect_rc 0
	run openshell gateway update --max-sandboxes 1
	expect_rc 0
	run openshell sandbox create --detach --name two -- /bin/true
	expect_rc 1
	expect_err "has reached its maximum of 1 sandboxes"
	run openshell gateway info -o json
	python3 -c 'import json,sys; v=json.load(sys.stdin); assert v["sandboxes"]==1, v' <"$T/.out" ||
		fail "count"
	run openshell sandbox delete --all
	expect_rc 0
	teardown_gw
}

t_bad_names_and_duplicates() {
	setup_gw
	run openshell sandbox create --name Bad_Name -- /bin/true
	expect_rc 1
	expect_err "invalid sandbox name 'Bad_Name'"
	run openshell sandbox create --name twin --detach -- /bin/sleep 60
	expect_rc 0
	run openshell sandbox create --name twin -- /bin/true
	expect_rc 1
	expect_err "sandbox 'twin' already exists"
	expect_err "hint: delete it first with: openshell sandbox delete twin"
	run openshell sandbox delete twin
	teardown_gw
}

t_configured_gateway_that_is_down_is_not_replaced() {
	setup_gw
	run openshell gateway start
	expect_rc 0
	run openshell gateway stop
	run openshell sandbox create -- /bin/true
	expect_rc 1
	expect_err "does not answer"
	expect_err "never replaced automatically"
}

t_two_clis_racing_bootstrap_start_one_gateway() {
	setup_gw
	"$OPENSHELL" sandbox create --no-keep -- /bin/true >"$T/a" 2>&1 &
	"$OPENSHELL" sandbox create --no-keep -- /bin/true >"$T/b" 2>&1 &
	wait
	[ "$(pgrep -fc "gateway run --name openshell --bind 127.0.0.1 --port $OPENSHELL_GATEWAY_PORT\$")" = 1 ] ||
		{ pgrep -fa "gateway run"; cat "$T/a" "$T/b"; fail "not exactly one gateway"; }
	grep -q "OK (gateway openshell)" "$T/a" && grep -q "OK (gateway openshell)" "$T/b" ||
		{ cat "$T/a" "$T/b"; fail "a CLI failed"; }
	teardown_gw
}

t_rootless_sandbox_as_an_ordinary_user() {
	need_root
	id ostest >/dev/null 2>&1 || useradd -M -d /nonexistent ostest 2>/dev/null || skip "cannot create a test user"
	install -m 755 "$OPENSHELL" "$T/openshell"
	mkdir -p "$T/uhome" && chown ostest "$T/uhome"
	port=$(free_port)
	run runuser -u ostest -- env -i HOME="$T/uhome" PATH=/usr/bin:/bin OPENSHELL_GATEWAY_PORT="$port" \
		"$T/openshell" sandbox create --no-keep -- /bin/sh -c \
		'id -u; echo hi > /sandbox/x && cat /sandbox/x; cat /etc/shadow 2>&1; python3 -c "import socket; socket.socket(17, 3, 0)" 2>&1 | tail -1'
	runuser -u ostest -- env -i HOME="$T/uhome" PATH=/usr/bin:/bin "$T/openshell" gateway stop >/dev/null 2>&1
	expect_rc 0
	expect_out_line "1000"
	expect_out_line "hi"
	expect_out "Permission denied"
	expect_out "PermissionError"
}

t_memory_and_process_limits_hold() {
	need_root
	setup_gw
	run openshell doctor check
	grep -q "cgroups .*ok" "$T/.out" || skip "no writable cgroup hierarchy here"
	run openshell sandbox create --no-keep --memory 64m -- python3 -c '
x = []
for i in range(100):
    x.append(bytearray(16 << 20))
print("allocated 1.6 GB", flush=True)'
	expect_rc 137
	expect_no_out "allocated"
	run openshell sandbox create --no-keep -- python3 -c '
import os, time
n = 0
try:
    for i in range(5000):
        if os.fork() == 0:
            time.sleep(5)
            os._exit(0)
        n += 1
except OSError as e:
    print("fork refused after", n, flush=True)
'
	expect_rc 0
	expect_out "fork refused after"
	n=$(sed -n 's/fork refused after \([0-9]*\)/\1/p' "$T/.out")
	[ "$n" -lt 2048 ] || fail "the pids limit did not hold: $n forks"
	# all sandboxes together: half of what the host can have
	host=$(cat /proc/sys/kernel/pid_max)
	[ "$(cat /proc/sys/kernel/threads-max)" -lt "$host" ] && host=$(cat /proc/sys/kernel/threads-max)
	group=$(gw_group)
	cap=$(cat "$(find /sys/fs/cgroup -maxdepth 5 -type f -path "*/$group/pids.max" | head -1)")
	[ "$cap" = $((host / 2)) ] || fail "the gateway's group allows $cap processes, not $((host / 2))"
	run openshell gateway info
	grep -q "Processes: *$((host / 2)) (all sandboxes together)" "$T/.out" ||
		fail "gateway info does not show the processes cap"
	run openshell sandbox create --cpus abc -- /bin/true
	expect_rc 1
	expect_err "invalid CPU quantity 'abc'"
	teardown_gw
}

t_a_command_may_stay_silent_longer_than_the_idle_timeout() {
	setup_gw
	E2E_SLOW=1 run openshell sandbox create --no-keep -- /bin/sh -c 'sleep 35; echo still here'
	expect_rc 0
	expect_out "still here"
	teardown_gw
}

t_gateway_stop_and_start_bring_sandboxes_back() {
	setup_gw
	run openshell sandbox create --detach --name keeper -- /bin/sh -c 'echo started >> /sandbox/log; sleep 4321'
	expect_rc 0
	log=$(ls "$XDG_STATE_HOME"/openshell/gateways/openshell/sandboxes/*/workdir/log)
	run openshell gateway stop
	expect_rc 0
	! pgrep -f "sleep 4321" >/dev/null || fail "a sandbox process outlived the gateway's graceful stop"
	run openshell gateway start
	expect_rc 0
	want="Phase: Ready" eventually 5 openshell sandbox get keeper
	expect_out "Phase: Ready"
	[ "$(grep -c started "$log")" = 2 ] || fail "the main command did not run again"
	# killed, not stopped: the sandbox keeps running and the next gateway adopts it
	kill -9 "$(cat "$XDG_STATE_HOME/openshell/gateways/openshell/gateway.pid")"
	sleep 0.3
	pgrep -f "sleep 4321" >/dev/null || fail "the sandbox died with a killed gateway"
	run openshell gateway start
	expect_rc 0
	run openshell sandbox get keeper
	expect_out "Phase: Ready"
	[ "$(grep -c started "$log")" = 2 ] || fail "an adopted sandbox was started twice"
	run openshell sandbox delete keeper
	expect_rc 0
	teardown_gw
}

t_killed_supervisor_puts_the_sandbox_in_error() {
	setup_gw
	run openshell sandbox create --detach --name victim -- /bin/sleep 4322
	expect_rc 0
	pkill -9 -f "supervise --dir $XDG_STATE_HOME"
	sleep 0.3
	! pgrep -f "sleep 4322" >/dev/null || fail "the sandbox outlived its supervisor"
	run openshell sandbox get victim
	expect_out "Phase: Error"
	expect_out "exited unexpectedly"
	run openshell sandbox delete victim
	expect_rc 0
	teardown_gw
}

t_exec_runs_confined_commands_in_a_running_sandbox() {
	setup_gw
	run openshell sandbox create --detach --name box -- /bin/sleep 1000
	expect_rc 0
	run openshell sandbox exec -n box -- /bin/sh -c 'echo in exec $(id -u) $(pwd); echo oops >&2; exit 5'
	expect_rc 5
	expect_out_line "in exec 1000 /sandbox"
	expect_err_line "oops"
	run_in "piped" openshell sandbox exec -n box --env FOO=bar --workdir /tmp -- /bin/sh -c 'cat; echo; echo "$FOO $(pwd)"'
	expect_rc 0
	expect_out_line "piped"
	expect_out_line "bar /tmp"
	run openshell sandbox exec -n box --timeout 1 -- /bin/sleep 4323
	expect_rc 124
	sleep 0.3
	! pgrep -f "sleep 4323" >/dev/null || fail "the timed-out command still runs"
	run openshell sandbox exec -n box -- /nonexistent
	expect_rc 127
	expect_err "cannot run '/nonexistent'"
	run openshell sandbox exec -n box -- /bin/sh -c 'mount -t tmpfs x /tmp 2>&1; ls /proc | grep -c "^[0-9]"'
	expect_out "must be superuser"
	run openshell sandbox exec -- /bin/true
	expect_rc 0
	expect_err "Using sandbox 'box' (last used)"
	run openshell sandbox exec -n box
	expect_rc 2
	expect_err "missing the command to run"
	run openshell sandbox delete box
	run openshell sandbox create --name done -- /bin/true
	run openshell sandbox exec -n done -- /bin/true
	expect_rc 1
	expect_err "sandbox 'done' has exited (exit code 0)"
	teardown_gw
}

t_logs_show_proxy_denials_with_the_calling_binary() {
	setup_gw
	need_cmd curl
	run openshell sandbox create --name web -- /bin/sh -c 'curl -s http://example.test/x >/dev/null; exit 0'
	expect_rc 0
	want="Main process exited" eventually 5 openshell logs web
	expect_rc 0
	expect_out "[gateway] [INFO ] [sandbox] sandbox created"
	expect_out "[sandbox] [WARN ] [proxy] HTTP:FORWARD DENIED /usr/bin/curl("
	expect_out ") -> example.test:80 ancestors=/usr/bin/dash"
	expect_out "reason=network connections not allowed by policy"
	expect_out "[sandbox] [INFO ] [sandbox] Main process exited exit_code=0"
	run openshell lg --source gateway
	expect_err "Using sandbox 'web' (last used)"
	expect_no_out "[sandbox] [INFO ]"
	run openshell logs web --source sandbox -n 1
	expect_out "Main process exited"
	expect_no_out "Starting sandbox"
	run openshell logs web --since 5x
	expect_rc 2
	expect_err "unknown duration unit in '5x'"
	run openshell logs web --level error
	expect_rc 0
	expect_out_empty
	run openshell sandbox delete web
	teardown_gw
}

t_terminal_sessions_connect_and_detach() {
	setup_gw
	need_cmd script
	run script -qec "$OPENSHELL sandbox create --no-keep -- /bin/sh -c 'stty size >/dev/null && echo on-a-terminal; tty; echo \$TERM; exit 3'" /dev/null
	expect_rc 3
	expect_out "on-a-terminal"
	expect_out "/dev/pts/0"
	expect_out "xterm-256color"
	run openshell sandbox create --tty --detach --name term -- /bin/sh -c 'echo ready; read line; echo "got $line"; sleep 600'
	expect_rc 0
	printf 'hello\n' >"$T/in"
	{ cat "$T/in"; sleep 1; printf '\020\021'; } | script -qec "$OPENSHELL sandbox connect term" /dev/null >"$T/.out" 2>&1
	rc=$?
	expect_rc 0
	expect_out "ready"
	expect_out "got hello"
	expect_out "Detached from sandbox term"
	run openshell sandbox get term
	expect_out "Phase: Ready"
	run openshell sandbox delete term
	teardown_gw
}

t_large_streams_pass_both_ways() {
	setup_gw
	run openshell sandbox create --detach --name big -- /bin/sleep 600
	expect_rc 0
	head -c 20000000 /dev/urandom >"$T/big.bin"
	sum=$(sha256sum <"$T/big.bin" | cut -d' ' -f1)
	"$OPENSHELL" sandbox exec -n big -- /bin/sh -c 'sha256sum | cut -d" " -f1' <"$T/big.bin" >"$T/sum" 2>"$T/err" ||
		fail "exec with 20 MB of stdin failed: $(cat "$T/err")"
	expect_same "$(cat "$T/sum")" "$sum"
	n=$("$OPENSHELL" sandbox exec -n big -- /bin/sh -c 'head -c 30000000 /dev/zero' | wc -c)
	expect_same "$n" "30000000"
	run openshell sandbox delete big
	teardown_gw
}

t_stop_and_start_one_sandbox() {
	setup_gw
	run openshell sandbox create --detach --name svc -- /bin/sh -c 'echo run >> /sandbox/runs; sleep 4324'
	expect_rc 0
	runs=$(ls "$XDG_STATE_HOME"/openshell/gateways/openshell/sandboxes/*/workdir/runs)
	run openshell sandbox stop svc
	expect_rc 0
	expect_out "Stopped sandbox svc"
	! pgrep -f "sleep 4324" >/dev/null || fail "stop left the command running"
	run openshell sandbox get svc
	expect_out "Phase: Stopped"
	run openshell sandbox exec -n svc -- /bin/true
	expect_rc 1
	expect_err "sandbox 'svc' is Stopped"
	# a sandbox the user stopped stays stopped across a gateway restart
	run openshell gateway stop
	run openshell gateway start
	run openshell sandbox get svc
	expect_out "Phase: Stopped"
	run openshell sandbox start svc
	expect_rc 0
	expect_out "Started sandbox svc"
	run openshell sandbox get svc
	expect_out "Phase: Ready"
	[ "$(grep -c run "$runs")" = 2 ] || fail "/sandbox was not kept or the command did not run again"
	run openshell sandbox delete svc
	teardown_gw
}

t_a_hundred_sandboxes_leave_nothing_behind() {
	setup_gw
	run openshell gateway start
	group=$(gw_group)
	for i in $(seq 100); do
		"$OPENSHELL" sandbox create --no-keep -- /bin/true >/dev/null 2>&1 || fail "create $i failed"
	done
	for i in $(seq 20); do
		"$OPENSHELL" sandbox create --detach --name "d$i" -- /bin/sleep 600 >/dev/null 2>&1 ||
			fail "detached create $i failed"
	done
	delete_all_leaves_nothing
	run openshell gateway info -o json
	python3 -c 'import json,sys; assert json.load(sys.stdin)["sandboxes"]==0' <"$T/.out" || fail "count"
	teardown_gw
	# the gateway's own group goes with it
	left=$(find /sys/fs/cgroup -maxdepth 5 -type d -name "$group" 2>/dev/null)
	[ -z "$left" ] || fail "the gateway's cgroup was left behind: $left"
}

t_two_hundred_sandboxes_at_once() {
	setup_gw
	run openshell gateway start --max-sandboxes 200
	expect_rc 0
	# generated names: 400 petnames, so most draws collide at this count
	seq 200 | xargs -P 8 -I{} sh -c '"$0" sandbox create --detach -- sleep infinity >/dev/null 2>&1 || echo "create {} failed"' \
		"$OPENSHELL" >"$T/failed"
	[ ! -s "$T/failed" ] || fail "$(head -n 3 "$T/failed")"
	run openshell sandbox list -o json
	python3 -c 'import json,sys; v=json.load(sys.stdin); r=[s["phase"] for s in v]; assert len(r)==200 and set(r)=={"Ready"}, (len(r), set(r))' \
		<"$T/.out" || fail "not 200 Ready sandboxes"
	first=$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["name"])' <"$T/.out")
	last=$(python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["name"])' <"$T/.out")
	run openshell sandbox exec -n "$first" -- echo first
	expect_out_line "first"
	run openshell sandbox exec -n "$last" -- echo last
	expect_out_line "last"
	run openshell sandbox create --detach -- sleep infinity
	expect_rc 1
	expect_err "has reached its maximum of 200 sandboxes"
	delete_all_leaves_nothing
	teardown_gw
}

t_denied_system_calls() {
	setup_gw
	sb 'python3 -c "
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
def t(name, nr, *args):
    r = libc.syscall(nr, *[ctypes.c_long(a) for a in args])
    e = ctypes.get_errno()
    print(name, \"ALLOWED\" if r >= 0 else \"DENIED \" + errno.errorcode.get(e, str(e)))
t(\"ptrace\", 101, 16, 1, 0, 0)
t(\"keyctl\", 250, 0, 0, 0, 0)
t(\"add_key\", 248, 0, 0, 0, 0, 0)
t(\"bpf\", 321, 0, 0, 0)
t(\"io_uring_setup\", 425, 1, 0)
t(\"userfaultfd\", 323, 0)
t(\"perf_event_open\", 298, 0, 0, -1, -1, 0)
t(\"kexec_load\", 246, 0, 0, 0, 0)
t(\"init_module\", 175, 0, 0, 0)
t(\"personality\", 135, 8)
t(\"clone3\", 435, 0, 0)
t(\"unshare_user\", 272, 0x10000000)
t(\"tiocsti\", 16, 0, 0x5412, 0)
# CLONE_PARENT with CLONE_SIGHAND but no CLONE_VM: the kernel would refuse it (EINVAL),
# so a filter that let it through creates no process
t(\"clone_parent\", 56, 0x8000 | 0x800, 0, 0, 0, 0)
t(\"subreaper\", 157, 36, 1, 0, 0, 0)
t(\"unshare_files\", 272, 0x400)
# a thread without CLONE_FILES; CLONE_SIGHAND without CLONE_VM makes the kernel refuse it
t(\"thread_own_fds\", 56, 0x10000 | 0x800, 0, 0, 0, 0)
print(\"other_prctl\", \"works\" if libc.prctl(3, 0, 0, 0, 0) >= 0 else \"fails\")
"'
	expect_rc 0
	for call in ptrace keyctl add_key bpf io_uring_setup userfaultfd perf_event_open kexec_load \
		init_module personality unshare_user tiocsti clone_parent subreaper unshare_files \
		thread_own_fds; do
		expect_out "$call DENIED EPERM"
	done
	expect_out "clone3 DENIED ENOSYS"
	expect_out "other_prctl works"
	expect_no_out "ALLOWED"
	teardown_gw
}

t_the_policy_decides_which_host_paths_exist() {
	setup_gw
	need_root
	# not under /tmp: the sandbox's /tmp is a private tmpfs
	H=$(mktemp -d /var/tmp/os-e2e-fs.XXXXXX)
	trap 'rm -rf "$H"' EXIT
	mkdir -p "$H/shared" "$H/hidden"
	echo visible >"$H/shared/f"
	echo secret >"$H/hidden/f"
	chmod 755 "$H" "$H/shared" && chmod 666 "$H/shared/f"
	cat >"$T/fs.yaml" <<Y
version: 1
filesystem_policy:
  include_workdir: true
  read_only: [/usr, /lib, /etc, /proc]
  read_write: [/tmp, $H/shared]
Y
	run openshell sandbox create --no-keep --policy "$T/fs.yaml" -- /bin/sh -c \
		"cat $H/shared/f; echo more >>$H/shared/f && echo wrote; cat $H/hidden/f 2>&1; ls /var/log >/dev/null 2>&1 && echo varlog"
	expect_rc 0
	expect_out_line "visible"
	expect_out_line "wrote"
	expect_out "No such file or directory"
	expect_no_out "secret"
	expect_out_line "varlog" # the baseline (reference/policy.md §2.2) adds /var/log
	grep -q more "$H/shared/f" || fail "the write did not reach the host"
	teardown_gw
}

t_each_sandbox_has_its_own_host_uid() {
	need_root
	need_cmd curl
	setup_gw
	for n in u1 u2 u3; do
		run openshell sandbox create --detach --name $n -- /bin/sleep 1000
		expect_rc 0
	done
	# a request cannot choose the uid: the gateway always allocates it
	m=$(CONF)/gateways/openshell/mtls
	run curl -sS --cacert "$m/ca.crt" --cert "$m/tls.crt" --key "$m/tls.key" \
		-H 'Content-Type: application/json' -d '{"name":"u4","command":["sleep","1000"],"host_uid":0}' \
		"https://localhost:$OPENSHELL_GATEWAY_PORT/v1/sandboxes"
	expect_out '"name":"u4"'
	for n in u1 u2 u3 u4; do
		run openshell sandbox exec -n $n -- cat /proc/self/uid_map
		expect_rc 0
		read -r inside outside count <"$T/.out"
		[ "$inside $count" = "1000 1" ] || fail "$n: unexpected uid map: $(cat "$T/.out")"
		[ "$outside" -ge 200000 ] && [ "$outside" -lt 300000 ] || fail "$n runs as host uid $outside"
		echo "$outside" >>"$T/uids"
	done
	[ "$(sort -u "$T/uids" | wc -l)" = 4 ] || fail "sandboxes share a host uid: $(tr '\n' ' ' <"$T/uids")"
	# the uid survives stop and start (the workdir's files belong to it)
	run openshell sandbox stop u2
	expect_rc 0
	run openshell sandbox start u2
	expect_rc 0
	run openshell sandbox exec -n u2 -- cat /proc/self/uid_map
	read -r inside outside count <"$T/.out"
	[ "$outside" = "$(sed -n 2p "$T/uids")" ] || fail "u2 came back as host uid $outside"
	# a deleted sandbox's uid is given to the next one
	run openshell sandbox delete u1
	run openshell sandbox create --detach --name u5 -- /bin/sleep 1000
	run openshell sandbox exec -n u5 -- cat /proc/self/uid_map
	read -r inside outside count <"$T/.out"
	[ "$outside" = "$(sed -n 1p "$T/uids")" ] || fail "u5 got host uid $outside, not u1's"
	run openshell sandbox delete --all
	expect_rc 0
	teardown_gw
}

t_delete_while_an_exec_is_attached() {
	setup_gw
	run openshell sandbox create --detach --name busy -- /bin/sleep 1000
	expect_rc 0
	"$OPENSHELL" sandbox exec -n busy -- /bin/sh -c 'echo attached; exec sleep 4444' \
		>"$T/exec.out" 2>"$T/exec.err" &
	execpid=$!
	eventually_file() { for _ in $(seq 100); do grep -q attached "$1" && return 0; sleep 0.05; done; return 1; }
	eventually_file "$T/exec.out" || fail "the exec did not start: $(cat "$T/exec.err")"
	run openshell sandbox delete busy
	expect_rc 0
	for _ in $(seq 100); do kill -0 "$execpid" 2>/dev/null || break; sleep 0.05; done
	! kill -0 "$execpid" 2>/dev/null || fail "the attached exec still waits after the delete"
	wait "$execpid"
	erc=$?
	[ "$erc" != 0 ] || fail "the interrupted exec reported success"
	grep -q "sandbox 'busy' was deleted while the command ran" "$T/exec.err" ||
		fail "the interrupted exec said: $(cat "$T/exec.err")"
	! pgrep -f "sleep 4444" >/dev/null || fail "the exec'd process survived the delete"
	run openshell sandbox get busy
	expect_rc 1
	teardown_gw
}

t_get_shows_the_enforced_limits() {
	setup_gw
	run openshell sandbox create --detach --name capped --cpus 0.5 --memory 64m -- /bin/sleep 1000
	expect_rc 0
	run openshell sandbox get capped
	if [ "$(id -u)" = 0 ]; then
		expect_out "Limits: 0.5 CPU, 64 MiB memory, 2048 processes (cgroup v"
		# what the kernel holds, not what was asked for
		id=$(sed -n 's/^ *Id: //p' "$T/.out")
		group=$(gw_group)
		mem=$(find /sys/fs/cgroup -maxdepth 6 -path "*/$group/sb-${id:0:12}/*" \( -name memory.limit_in_bytes -o -name memory.max \) | head -1)
		[ -n "$mem" ] || fail "no memory limit file for the sandbox's cgroup"
		echo $((128 << 20)) >"$mem"
		run openshell sandbox get capped -o json
		python3 -c 'import json,sys; l=json.load(sys.stdin)["limits"]; assert l["memory_bytes"]==128<<20 and l["cpu_millis"]==500 and l["pids"]==2048, l' <"$T/.out" ||
			fail "get -o json does not show the cgroup's limits: $(cat "$T/.out")"
	else
		expect_out "Limits: 0.5 CPU, 64 MiB memory, 2048 processes (NOT enforced:"
	fi
	run openshell sandbox stop capped
	run openshell sandbox get capped
	expect_out "Limits: 0.5 CPU, 64 MiB memory, 2048 processes (at the next start)"
	run openshell sandbox delete capped
	teardown_gw
}

t_stop_is_graceful_and_does_not_hold_the_gateway() {
	setup_gw
	run openshell gateway start
	run openshell sandbox stop nothere
	expect_rc 1
	expect_err "sandbox 'nothere' not found"
	run openshell sandbox start nothere
	expect_rc 1
	run openshell status
	expect_rc 0 # the gateway is still there
	# the main process gets SIGTERM and may finish what it does
	run openshell sandbox create --detach --name polite -- /bin/sh -c \
		'trap "sleep 1; echo saved >> /sandbox/state; exit 0" TERM; while :; do sleep 0.1; done'
	expect_rc 0
	run openshell sandbox stop polite
	expect_rc 0
	expect_out "Stopped sandbox polite"
	run openshell sandbox start polite
	run openshell sandbox exec -n polite -- cat /sandbox/state
	expect_out_line "saved"
	run openshell sandbox delete polite
	# one that ignores SIGTERM is killed after the grace period; meanwhile the gateway serves
	run openshell sandbox create --detach --name deaf -- /bin/sh -c \
		'trap "" TERM; while :; do sleep 0.1; done'
	expect_rc 0
	"$OPENSHELL" sandbox stop deaf >"$T/stop.out" 2>&1 &
	stopper=$!
	want="Stopping" eventually 5 openshell sandbox list
	expect_out "deaf"
	expect_out "Stopping"
	run openshell sandbox start deaf
	expect_rc 1
	expect_err "sandbox 'deaf' is still stopping"
	run openshell sandbox create --no-keep -- /bin/echo served meanwhile
	expect_rc 0
	expect_out "served meanwhile"
	wait "$stopper" || fail "stop failed: $(cat "$T/stop.out")"
	grep -q "Stopped sandbox deaf" "$T/stop.out" || fail "stop said: $(cat "$T/stop.out")"
	run openshell sandbox get deaf
	expect_out "Phase: Stopped"
	run openshell logs deaf --source sandbox
	expect_out "did not stop within 10 s: killed"
	run openshell sandbox delete deaf
	teardown_gw
}

t_links_signals_and_full_disks_stay_inside() {
	setup_gw
	run openshell gateway start
	gwpid=$(cat "$XDG_STATE_HOME/openshell/gateways/openshell/gateway.pid")
	key=$(ls "$XDG_STATE_HOME"/openshell/gateways/openshell/tls/*key* | head -1)
	[ -n "$key" ] || fail "no CA key found to aim at"
	sb "cat '$key' 2>&1 | head -1
	    ln -s /etc/shadow /sandbox/s && cat /sandbox/s 2>&1 | head -1
	    ln /etc/passwd /sandbox/hard 2>&1 | head -1
	    kill -0 $gwpid 2>&1 | head -1
	    echo cmdline: \$(tr '\0' ' ' </proc/1/cmdline)
	    { head -c 1100M /dev/zero >/tmp/big; } 2>&1; echo tmp \$(du -m /tmp/big | cut -f1)"
	expect_rc 0
	expect_out "$key: No such file or directory"
	expect_out "/sandbox/s: Permission denied"
	grep -q "hard.*\(Invalid cross-device link\|Operation not permitted\)" "$T/.out" ||
		fail "a hard link to a host file was made"
	expect_out "No such process"
	# pid 1 is ours, and does not show the supervisor's arguments (host paths)
	expect_out_line "cmdline: openshell-init"
	expect_out "No space left on device"
	mb=$(sed -n 's/^tmp \([0-9]*\)$/\1/p' "$T/.out")
	[ -n "$mb" ] && [ "$mb" -le 1024 ] || fail "/tmp held ${mb:-?} MiB, more than its 1 GiB"
	kill -0 "$gwpid" || fail "the gateway is gone"
	teardown_gw
}
