#!/usr/bin/env bash
# `make bench`: the performance budgets of the issues, measured in one run against peers
# on this machine. Prints numbers and ratios; asserts nothing (budgets are not tests).
#   gateway cold start to first answer      budget < 150 ms
#   status round trip (TLS handshake incl.) budget < 10 ms
#   gateway idle RSS                         budget < 5 MiB
#   sandbox create --no-keep -- /bin/true   budget <= 3x bwrap --unshare-all ... /bin/true
#   sandbox exec NAME -- /bin/true           budget < 10 ms
#   supervisor RSS                           budget < 3 MiB
#   proxy throughput and decision latency    see test/bench/proxy.sh
#   200 concurrent sandboxes                 see test/bench/scale.sh (times, memory, leftovers)
set -u
cd "$(dirname "$0")/../.."
[ -x ./openshell ] || ./build.sh >/dev/null || exit 1
need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v bwrap >/dev/null || need+=(bubblewrap)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
	else
		echo "error: install ${need[*]} first" >&2
		exit 1
	fi
fi
B=$(mktemp -d /tmp/os-bench.XXXXXX)
export HOME=$B/home XDG_CONFIG_HOME=$B/config XDG_STATE_HOME=$B/state
mkdir -p "$HOME"
O=$PWD/openshell
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export OPENSHELL_GATEWAY_PORT=$PORT
trap '"$O" gateway destroy --yes >/dev/null 2>&1; rm -rf "$B"' EXIT

mean_ms() { python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["mean"]*1000))' "$1"; }

echo "== gateway cold start (first start: PKI + database), to first answer"
hyperfine -r 10 --prepare "$O gateway destroy --yes >/dev/null 2>&1 || true" "$O gateway start" \
	--export-json "$B/start.json" >/dev/null 2>&1
echo "   mean $(mean_ms "$B/start.json") ms (budget 150 ms)"
"$O" gateway start >/dev/null 2>&1
echo "== status round trip (new TCP + TLS handshake + request)"
hyperfine -N -w 5 -r 100 "$O status" --export-json "$B/status.json" >/dev/null 2>&1
echo "   mean $(mean_ms "$B/status.json") ms (budget 10 ms)"
pid=$(cat "$XDG_STATE_HOME/openshell/gateways/openshell/gateway.pid")
echo "== gateway idle RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/"$pid"/status) (budget 5 MiB)"

echo "== sandbox create --no-keep -- /bin/true  vs  bwrap --unshare-all"
hyperfine -N -w 2 -r 20 "$O sandbox create --no-keep -- /bin/true" --export-json "$B/sb.json" >/dev/null 2>&1
hyperfine -N -w 2 -r 20 "bwrap --unshare-all --die-with-parent --ro-bind /usr /usr --symlink usr/lib /lib --symlink usr/lib64 /lib64 --symlink usr/bin /bin --proc /proc --dev /dev /bin/true" --export-json "$B/bwrap.json" >/dev/null 2>&1
sb=$(mean_ms "$B/sb.json")
bw=$(mean_ms "$B/bwrap.json")
echo "   openshell $sb ms, bwrap $bw ms, ratio $(python3 -c "print('%.1f' % ($sb/$bw))")x (budget 3x)"

"$O" sandbox create --detach --name rss -- /bin/sleep 600 >/dev/null 2>&1
echo "== sandbox exec (new TCP connection, resumed TLS session, relay, spawn in the sandbox)"
hyperfine -N -w 3 -r 50 "$O sandbox exec -n rss -- /bin/true" --export-json "$B/exec.json" >/dev/null 2>&1
echo "   mean $(mean_ms "$B/exec.json") ms (budget 10 ms)"
sup=$(pgrep -f "supervise --dir .*$B" | head -n 1)
echo "== supervisor RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/"$sup"/status 2>/dev/null) (budget 3 MiB)"
"$O" sandbox delete rss >/dev/null 2>&1
O=$O ./test/bench/proxy.sh
O=$O ./test/bench/scale.sh
echo "== binary: $(stat -c %s "$O") bytes, $(file -b "$O" | cut -d, -f1-2)"
