# shellcheck shell=bash
# The network lab of the proxy tests, sourced by the test files that need it.
#
#   lab_run FUNC     runs FUNC (a function of the calling test file) inside a lab: a network
#                    namespace of its own for the gateway (loopback, plus a veth pair to an
#                    upstream namespace; no default route, so no packet can go anywhere but
#                    the test's own hosts) and a private mount namespace in which $T/hosts is
#                    bound on /etc/hosts. The upstream (tools/upstream.py) answers HTTP on
#                    10.207.0.2 ports 80, 8080 and 6443 and HTTPS on 443; on port 7000 it
#                    reads until the client's half-close, then answers "got <bytes> <sha256>".
#
# Names in $T/hosts: api.test other.test x.corp.test k8s.test -> the upstream;
# lo.test -> 127.0.0.1; meta.test -> 169.254.169.254.

LAB_UP=10.207.0.2

lab_down() {
	[ -n "${LAB_PID:-}" ] && kill "$LAB_PID" 2>/dev/null
	[ -n "${NS_GW:-}" ] && ip netns del "$NS_GW" 2>/dev/null
	[ -n "${NS_UP:-}" ] && ip netns del "$NS_UP" 2>/dev/null
	return 0
}

lab_up() {
	local id=$(($$ % 100000))$((RANDOM % 100))
	NS_GW=osgw$id NS_UP=osup$id
	trap lab_down EXIT
	ip netns add "$NS_GW" && ip netns add "$NS_UP" || fail "cannot create network namespaces"
	ip link add "vg$id" type veth peer name "vu$id" || fail "cannot create a veth pair"
	ip link set "vg$id" netns "$NS_GW" && ip link set "vu$id" netns "$NS_UP" || fail "veth"
	ip -n "$NS_GW" addr add 10.207.0.1/24 dev "vg$id"
	ip -n "$NS_UP" addr add "$LAB_UP/24" dev "vu$id"
	for ns in "$NS_GW" "$NS_UP"; do ip -n "$ns" link set lo up; done
	ip -n "$NS_GW" link set "vg$id" up
	ip -n "$NS_UP" link set "vu$id" up
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-keyout "$T/up.key" -out "$T/up.crt" -subj /CN=api.test \
		-addext subjectAltName=DNS:api.test,DNS:x.corp.test >/dev/null 2>&1 || fail "openssl"
	ip netns exec "$NS_UP" python3 "$ROOT/test/e2e/tools/upstream.py" --bind "$LAB_UP" \
		--port 80 --port 8080 --port 6443 --sink 7000 --tls "443:$T/up.crt:$T/up.key" &
	LAB_PID=$!
	ip netns exec "$NS_GW" timeout 10 bash -c \
		"until (exec 3<>/dev/tcp/$LAB_UP/80) 2>/dev/null; do sleep 0.1; done" ||
		fail "the upstream did not come up"
	cat >"$T/hosts" <<HOSTS
127.0.0.1 localhost
$LAB_UP api.test other.test x.corp.test k8s.test
127.0.0.1 lo.test
169.254.169.254 meta.test
HOSTS
}

lab_run() {
	need_root
	need_cmd ip
	need_cmd openssl
	local file=${BASH_SOURCE[1]}
	lab_up
	ip netns exec "$NS_GW" unshare -m bash -c "mount --make-rprivate / &&
		mount --bind '$T/hosts' /etc/hosts && source '$ROOT/test/e2e/lib.sh' &&
		source '$ROOT/test/e2e/lib_net.sh' && source '$file' && $1"
	local r=$?
	"$OPENSHELL" gateway stop >/dev/null 2>&1 # when the body failed before its own stop
	lab_down
	trap - EXIT
	return $r
}
