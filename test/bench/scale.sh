#!/usr/bin/env bash
# Scale (issue 4): 200 concurrent sandboxes on this machine. Creates N detached sandboxes
# (`sandbox create --detach -- sleep infinity`) one after another, then again with P CLIs
# at once, and reports: total and mean create time (and the mean of the first and last 20,
# to show growth), how many reached Ready, memory per sandbox (PSS of the supervisor,
# pid 1, the proxy and the command, from /proc/*/smaps_rollup; and the drop of MemAvailable,
# which includes kernel memory but also whatever else the machine did), idle CPU of the
# sandboxes, `sandbox list` time at N, exec in the first and the last sandbox, the
# `delete --all` time and what was left behind. Asserts nothing: numbers and counts only.
# Called by test/bench/run.sh with O (the binary); SCALE_N and SCALE_PARALLEL override.
set -u
N=${SCALE_N:-200}
P=${SCALE_PARALLEL:-8}
T=$(mktemp -d /tmp/os-bench-scale.XXXXXX)
export HOME=$T/home XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state
mkdir -p "$HOME"
OPENSHELL_GATEWAY_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export OPENSHELL_GATEWAY_PORT
GW=scale-bench
S=$XDG_STATE_HOME/openshell/gateways/$GW
trap '"$O" gateway destroy --name $GW --yes >/dev/null 2>&1; rm -rf "$T"' EXIT

now_ms() { date +%s%3N; }

ready_count() {
	"$O" sandbox list -o json 2>/dev/null |
		python3 -c 'import json,sys; print(sum(1 for s in json.load(sys.stdin) if s["phase"]=="Ready"))' 2>/dev/null ||
		echo 0
}

# PSS of every process below a supervisor of this gateway, per sandbox and per kind.
memory_report() {
	python3 - "$S" <<'PY'
import collections, os, sys
mark = f"supervise --dir {sys.argv[1]}/"
procs = {}
for p in filter(str.isdigit, os.listdir("/proc")):
    try:
        ppid = int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1])
        cmd = open(f"/proc/{p}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
        procs[int(p)] = (ppid, cmd, open(f"/proc/{p}/comm").read().strip())
    except OSError:
        pass
roots = {p for p, (pp, cmd, _) in procs.items() if mark in cmd and not (pp in procs and mark in procs[pp][1])}
kib, cnt, total = collections.Counter(), collections.Counter(), 0
for p in procs:
    q = p
    while q in procs and q not in roots and q > 1:
        q = procs[q][0]
    if q not in roots:
        continue
    try:
        pss = next(int(l.split()[1]) for l in open(f"/proc/{p}/smaps_rollup") if l.startswith("Pss:"))
    except (OSError, StopIteration):
        continue
    kind = procs[p][2] if procs[p][2] != "openshell" else ("supervisor" if p in roots else "sandbox pid 1")
    kib[kind] += pss
    cnt[kind] += 1
    total += pss
n = max(len(roots), 1)
print(f"   PSS per sandbox {total / n:.0f} KiB ({len(roots)} sandboxes, {total / 1024:.1f} MiB in all)")
for k, v in kib.most_common():
    print(f"     {k}: {v / n:.0f} KiB per sandbox ({cnt[k]} processes)")
PY
}

# CPU used by the sandboxes' processes over a few idle seconds.
idle_cpu() {
	python3 - "$S" <<'PY'
import os, sys, time
mark = f"supervise --dir {sys.argv[1]}/".encode()
def ticks():
    t = 0
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            if mark in open(f"/proc/{p}/cmdline", "rb").read().replace(b"\0", b" "):
                f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
                t += int(f[11]) + int(f[12])
        except OSError:
            pass
    return t
a = ticks(); time.sleep(5); b = ticks()
print(f"   idle CPU of all sandboxes: {(b - a) / os.sysconf('SC_CLK_TCK') / 5 * 100:.1f}% of one CPU")
PY
}

mem_available_kib() { awk '/^MemAvailable/ {print $2}' /proc/meminfo; }

leftovers() {
	local sup dirs socks cgs
	sup=$(pgrep -f "supervise --dir $S/" | wc -l)
	dirs=$(find "$S/sandboxes" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	socks=$(find "$S/run" -mindepth 1 2>/dev/null | wc -l)
	cgs=$(find /sys/fs/cgroup -maxdepth 5 -path "*openshell-$GW/sb-*" -type d 2>/dev/null | wc -l)
	echo "   left behind: $sup sandbox processes, $dirs sandbox dirs, $socks sockets, $cgs cgroups"
}

delete_all() {
	local t0 t1
	t0=$(now_ms)
	"$O" sandbox delete --all >/dev/null 2>&1 || echo "   delete --all reported a failure"
	t1=$(now_ms)
	echo "   delete --all of $1: $((t1 - t0)) ms ($(((t1 - t0) / $1)) ms per sandbox)"
	sleep 0.3
	leftovers
}

"$O" gateway start --name $GW --max-sandboxes $((N + 10)) >/dev/null 2>&1 || {
	echo "   (skipped: cannot start a gateway)"
	exit 0
}
mem0=$(mem_available_kib)

echo "== $N detached sandboxes, one create after another"
: >"$T/times"
t0=$(now_ms)
for i in $(seq "$N"); do
	a=$(now_ms)
	"$O" sandbox create --detach -- sleep infinity >/dev/null 2>>"$T/errors" || echo "fail $i" >>"$T/errors"
	echo $(($(now_ms) - a)) >>"$T/times"
done
t1=$(now_ms)
python3 - "$T/times" "$((t1 - t0))" <<'PY'
import sys
t = [int(x) for x in open(sys.argv[1])]
print(f"   total {int(sys.argv[2]) / 1000:.1f} s, mean {sum(t) / len(t):.0f} ms per create"
      f" (first 20: {sum(t[:20]) / len(t[:20]):.0f} ms, last 20: {sum(t[-20:]) / len(t[-20:]):.0f} ms)")
PY
echo "   Ready: $(ready_count) of $N"
grep -m 3 'error' "$T/errors" | sed 's/^/   /'
memory_report
echo "   MemAvailable dropped by $((($mem0 - $(mem_available_kib)) / N)) KiB per sandbox (noisy: the whole machine)"
idle_cpu
a=$(now_ms)
for i in 1 2 3 4 5; do "$O" sandbox list >/dev/null 2>&1; done
echo "   sandbox list at $N: $((($(now_ms) - a) / 5)) ms (mean of 5, shows $("$O" sandbox list 2>/dev/null | grep -c Ready) Ready)"
read -r first last < <("$O" sandbox list -o json 2>/dev/null |
	python3 -c 'import json,sys; v=json.load(sys.stdin); print(v[0]["name"], v[-1]["name"])')
for name in "$first" "$last"; do
	a=$(now_ms)
	out=$("$O" sandbox exec -n "$name" -- echo ok 2>&1)
	echo "   exec in $name: '$out' in $(($(now_ms) - a)) ms"
done
delete_all "$N"

echo "== $N detached sandboxes, $P CLIs at once"
t0=$(now_ms)
seq "$N" | xargs -P "$P" -I{} sh -c '"$0" sandbox create --detach -- sleep infinity >/dev/null 2>&1 || echo "fail {}"' "$O" >"$T/pfail"
t1=$(now_ms)
echo "   total $(((t1 - t0) / 1000)).$((((t1 - t0) % 1000) / 100)) s, $(((t1 - t0) / N)) ms per sandbox, $(wc -l <"$T/pfail") failed"
echo "   Ready: $(ready_count) of $N"
delete_all "$N"
