# shellcheck shell=bash
# The egress proxy end to end (issue 5): real sandboxes, the real proxy, a real upstream in a
# network namespace the test made (lib_net.sh). Allowed by exact binary, ancestor and glob;
# denied for other, copied and replaced binaries; SSRF denials; L7 REST rules on plain HTTP;
# TLS passed through untouched on L4 endpoints; live `policy set`; decisions in the log.

source "$ROOT/test/e2e/lib_net.sh"

pgw() {
	export OPENSHELL_GATEWAY_PORT
	OPENSHELL_GATEWAY_PORT=$(free_port)
}

pend() { "$OPENSHELL" gateway stop >/dev/null 2>&1 || true; }

# in_sb POLICY SCRIPT: runs SCRIPT in a new --no-keep sandbox with POLICY (a file name).
in_sb() {
	run openshell sandbox create --no-keep --policy "$1" -- /bin/sh -c "$2"
}

write_policy() { # write_policy FILE: the YAML on stdin
	cat >"$1"
}

body_curl_allowed_by_exact_binary_python_denied() {
	pgw
	write_policy "$T/p.yaml" <<'Y'
version: 1
network_policies:
  upstream:
    endpoints:
      - { host: api.test, port: 80 }
    binaries:
      - { path: /usr/bin/curl }
Y
	in_sb "$T/p.yaml" 'curl -s http://api.test/hello; echo "rc=$?";
		python3 -c "import urllib.request as u
try:
    u.urlopen(\"http://api.test/py\")
    print(\"py ALLOWED\")
except Exception as e:
    print(\"py\", e.code, e.read().decode())"'
	expect_rc 0
	expect_out "GET /hello host=api.test body=0"
	expect_out "rc=0"
	expect_out "py 403"
	expect_out '"error":"policy_denied"'
	expect_no_out "py ALLOWED"
	pend
}
t_curl_allowed_by_exact_binary_python_denied() { lab_run body_curl_allowed_by_exact_binary_python_denied; }

body_connect_tunnel_passes_tls_untouched() {
	pgw
	write_policy "$T/p.yaml" <<'Y'
version: 1
network_policies:
  tls:
    endpoints:
      - { host: api.test, port: 443 }
    binaries:
      - { path: /usr/bin/curl }
Y
	in_sb "$T/p.yaml" 'curl -sk https://api.test/secure; echo "rc=$?"; curl -s -o /dev/null -w "%{http_connect}\n" -k https://other.test/; echo'
	expect_rc 0
	expect_out "GET /secure host=api.test body=0"
	expect_out "rc=0"
	expect_out_line "403"
	pend
}
t_connect_tunnel_passes_tls_untouched() { lab_run body_connect_tunnel_passes_tls_untouched; }

body_ancestors_and_globs_grant_copies_do_not() {
	pgw
	write_policy "$T/p.yaml" <<'Y'
version: 1
network_policies:
  by_ancestor:
    endpoints:
      - { host: api.test, port: 80 }
    binaries:
      - { path: /usr/bin/python3* }
  by_glob:
    endpoints:
      - { host: api.test, port: 8080 }
    binaries:
      - { path: "/usr/bin/*" }
Y
	in_sb "$T/p.yaml" '
		python3 -c "import subprocess; subprocess.run([\"curl\", \"-s\", \"http://api.test/via-parent\"])"
		curl -s -o /dev/null -w "direct %{http_code}\n" http://api.test/direct
		curl -s http://api.test:8080/glob
		cp /usr/bin/curl /tmp/curl && /tmp/curl -s -o /dev/null -w "copy %{http_code}\n" http://api.test/copy'
	expect_rc 0
	expect_out "GET /via-parent host=api.test body=0"
	expect_out_line "direct 403"
	expect_out "GET /glob host=api.test:8080 body=0"
	expect_out_line "copy 403"
	pend
}
t_ancestors_and_globs_grant_copies_do_not() { lab_run body_ancestors_and_globs_grant_copies_do_not; }

body_a_replaced_binary_fails_the_integrity_check() {
	pgw
	write_policy "$T/p.yaml" <<'Y'
version: 1
network_policies:
  tools:
    endpoints:
      - { host: api.test, port: 80 }
    binaries:
      - { path: "/sandbox/bin/*" }
Y
	run openshell sandbox create --detach --name tofu --policy "$T/p.yaml" -- sleep 300
	expect_rc 0
	run openshell sandbox exec -n tofu -- /bin/sh -c 'mkdir -p bin && cp /usr/bin/curl bin/fetch &&
		bin/fetch -s http://api.test/first'
	expect_out "GET /first host=api.test"
	# the same path with other contents (one byte appended: still a working curl)
	run openshell sandbox exec -n tofu -- /bin/sh -c 'cp /usr/bin/curl bin/new && printf x >>bin/new &&
		mv bin/new bin/fetch && bin/fetch -s http://api.test/second'
	expect_out '"error":"policy_denied"'
	expect_no_out "GET /second"
	want="hash changed" eventually 5 openshell logs tofu
	expect_out "binary integrity check failed: Binary integrity violation: /sandbox/bin/fetch hash changed"
	"$OPENSHELL" sandbox delete tofu >/dev/null
	pend
}
t_a_replaced_binary_fails_the_integrity_check() { lab_run body_a_replaced_binary_fails_the_integrity_check; }

body_ssrf_denials() {
	pgw
	write_policy "$T/p.yaml" <<'Y'
version: 1
network_policies:
  lo:
    endpoints:
      - { host: lo.test, port: 80 }
      - { host: meta.test, port: 80 }
      - { host: "*.corp.test", port: 80 }
      - { host: k8s.test, port: 6443, allowed_ips: ["10.207.0.0/24"] }
    binaries:
      - { path: /usr/bin/curl }
Y
	run openshell sandbox create --name ssrf --policy "$T/p.yaml" -- /bin/sh -c 'for u in http://lo.test/ http://meta.test/ http://x.corp.test/ http://k8s.test:6443/; do
		curl -s "$u"; echo; done'
	expect_rc 0
	expect_out '{"detail":"GET lo.test:80 blocked: declared endpoint check failed","error":"ssrf_denied"}'
	expect_out '{"detail":"GET meta.test:80 blocked: declared endpoint check failed","error":"ssrf_denied"}'
	expect_out '{"detail":"GET k8s.test:6443 blocked: allowed_ips check failed","error":"ssrf_denied"}'
	expect_out '{"detail":"GET x.corp.test:80 blocked: internal address","error":"ssrf_denied"}'
	expect_out '"error":"ssrf_denied"'
	expect_no_out "GET / host="
	want="control-plane" eventually 5 openshell logs ssrf
	expect_out "resolves to always-blocked address 127.0.0.1"
	expect_out "port 6443 is a blocked control-plane port"
	pend
}
t_ssrf_denials() { lab_run body_ssrf_denials; }

body_l7_rest_rules_on_plain_http() {
	pgw
	write_policy "$T/p.yaml" <<'Y'
version: 1
network_policies:
  api:
    endpoints:
      - host: api.test
        port: 80
        protocol: rest
        enforcement: enforce
        access: read-only
        deny_rules: [{ method: GET, path: "/secret/**" }]
    binaries:
      - { path: /usr/bin/curl }
Y
	in_sb "$T/p.yaml" 'curl -s http://api.test/repos/a; curl -s -X POST -d x=1 http://api.test/repos/a; echo;
		curl -s -D - http://api.test/secret/key; echo;
		curl -s "http://api.test/public/%2e%2e/ok"'
	expect_rc 0
	expect_out "GET /repos/a host=api.test body=0"
	expect_out '"detail":"POST /repos/a not permitted by policy","error":"policy_denied"'
	expect_out '"layer":"l7"'
	expect_out "X-OpenShell-Policy: api"
	expect_out '"detail":"GET /secret/key blocked by deny rule"'
	expect_out "GET /ok host=api.test"
	expect_no_out "POST /repos/a host="
	pend
}
t_l7_rest_rules_on_plain_http() { lab_run body_l7_rest_rules_on_plain_http; }

body_live_policy_set_opens_then_closes_access() {
	pgw
	write_policy "$T/open.yaml" <<'Y'
version: 1
network_policies:
  upstream:
    endpoints:
      - { host: api.test, port: 80 }
    binaries:
      - { path: /usr/bin/curl }
Y
	run openshell sandbox create --detach --name live -- sleep 300
	expect_rc 0
	run openshell sandbox exec -n live -- curl -s -o /dev/null -w "%{http_code}\n" http://api.test/
	expect_out_line "403"
	run openshell policy set live --policy "$T/open.yaml" --wait --timeout 20
	expect_rc 0
	expect_out "Policy version 1 submitted"
	expect_out "Policy version 1 loaded"
	run openshell sandbox exec -n live -- curl -s http://api.test/now-open
	expect_out "GET /now-open host=api.test"
	run openshell policy set live --policy "$T/open.yaml"
	expect_out "Policy unchanged"
	printf 'version: 1\n' >"$T/closed.yaml"
	run openshell policy set live --policy "$T/closed.yaml" --wait --timeout 20
	expect_rc 0
	run openshell sandbox exec -n live -- curl -s -o /dev/null -w "%{http_code}\n" http://api.test/
	expect_out_line "403"
	run openshell policy list live
	expect_out "VERSION"
	expect_out "LOADED"
	expect_out "SUPERSEDED"
	run openshell policy get live --rev 1 -o json
	python3 -c 'import json,sys; v=json.load(sys.stdin); assert v["version"]==1 and "api.test" in v["policy"], v' \
		<"$T/.out" || fail "policy get json"
	printf 'version: 1\nfilesystem_policy: {read_only: [/usr]}\n' >"$T/static.yaml"
	run openshell policy set live --policy "$T/static.yaml"
	expect_rc 1
	"$OPENSHELL" sandbox delete live >/dev/null
	pend
}
t_live_policy_set_opens_then_closes_access() { lab_run body_live_policy_set_opens_then_closes_access; }

body_a_reload_closes_open_tunnels() {
	pgw
	write_policy "$T/open.yaml" <<'Y'
version: 1
network_policies:
  upstream:
    endpoints:
      - { host: api.test, port: 80 }
    binaries:
      - { path: /usr/bin/python3* }
Y
	run openshell sandbox create --detach --name hold --policy "$T/open.yaml" -- sleep 300
	expect_rc 0
	# a CONNECT tunnel held open; it must be closed when the policy changes
	"$OPENSHELL" sandbox exec -n hold -- python3 -c '
import socket, time
s = socket.create_connection(("127.0.0.1", 3128))
s.sendall(b"CONNECT api.test:80 HTTP/1.1\r\nHost: api.test:80\r\n\r\n")
print(s.recv(100).decode().splitlines()[0], flush=True)
s.settimeout(30)
t = time.time()
print("closed" if s.recv(100) == b"" else "data", flush=True)' >"$T/hold.out" 2>&1 &
	sleep 1
	printf 'version: 1\n' >"$T/closed.yaml"
	run openshell policy set hold --policy "$T/closed.yaml" --wait --timeout 20
	expect_rc 0
	wait
	grep -q "200 Connection Established" "$T/hold.out" || fail "no tunnel: $(cat "$T/hold.out")"
	grep -q "^closed" "$T/hold.out" || fail "the tunnel stayed open: $(cat "$T/hold.out")"
	"$OPENSHELL" sandbox delete hold >/dev/null
	pend
}
t_a_reload_closes_open_tunnels() { lab_run body_a_reload_closes_open_tunnels; }

body_tunnels_carry_a_half_close_both_ways() {
	pgw
	write_policy "$T/p.yaml" <<'Y'
version: 1
network_policies:
  sink:
    endpoints:
      - { host: api.test, port: 7000 }
    binaries:
      - { path: /usr/bin/python3* }
Y
	# the client sends 24 MiB and shuts its side; the upstream only answers after that EOF
	# came through the tunnel, and its answer must still come back before the tunnel ends.
	# Past 4 MiB the relay's pipe grows: the bytes must come through whole and in order.
	in_sb "$T/p.yaml" 'python3 -c "
import hashlib, random, socket
data = random.Random(7).randbytes(24 << 20)
s = socket.create_connection((\"127.0.0.1\", 3128))
s.sendall(b\"CONNECT api.test:7000 HTTP/1.1\\r\\nHost: api.test:7000\\r\\n\\r\\n\")
head = b\"\"
while not head.endswith(b\"\\r\\n\\r\\n\"):
    head += s.recv(1)
print(head.decode().splitlines()[0])
s.sendall(data)
print(\"sent\", hashlib.sha256(data).hexdigest())
s.shutdown(socket.SHUT_WR)
s.settimeout(30)
got = b\"\"
while True:
    d = s.recv(65536)
    if not d:
        break
    got += d
print(got.decode().strip(), \"then EOF\")
"'
	expect_rc 0
	expect_out "200 Connection Established"
	sum=$(sed -n 's/^sent //p' "$T/.out")
	[ -n "$sum" ] || fail "no checksum printed"
	expect_out "got 25165824 $sum then EOF"
	pend
}
t_tunnels_carry_a_half_close_both_ways() { lab_run body_tunnels_carry_a_half_close_both_ways; }

body_git_through_the_proxy() {
	pgw
	need_cmd git
	write_policy "$T/git.yaml" <<'Y'
version: 1
network_policies:
  git:
    endpoints:
      - { host: api.test, port: 80 }
    binaries:
      - { path: /usr/bin/git }
Y
	write_policy "$T/curl.yaml" <<'Y'
version: 1
network_policies:
  curl_only:
    endpoints:
      - { host: api.test, port: 80 }
    binaries:
      - { path: /usr/bin/curl }
Y
	# git's HTTP transport is a helper process (git-remote-http) whose ancestor is git
	in_sb "$T/git.yaml" 'git ls-remote http://api.test/r.git 2>&1; true'
	expect_out "not valid"
	expect_no_out "403"
	in_sb "$T/curl.yaml" 'git ls-remote http://api.test/r.git 2>&1; true'
	expect_out "403"
	pend
}
t_git_through_the_proxy() { lab_run body_git_through_the_proxy; }

body_a_policy_the_proxy_rejects_keeps_the_last_valid_one() {
	pgw
	write_policy "$T/open.yaml" <<'Y'
version: 1
network_policies:
  upstream:
    endpoints:
      - { host: api.test, port: 80 }
    binaries:
      - { path: /usr/bin/curl }
Y
	run openshell sandbox create --detach --name keep --policy "$T/open.yaml" -- sleep 300
	expect_rc 0
	want=LOADED eventually 10 openshell policy list keep
	expect_out LOADED
	# a damaged file (the gateway never writes one): the proxy says why and keeps version 1
	dir=$(ls -d "$XDG_STATE_HOME"/openshell/gateways/openshell/sandboxes/*)
	printf 'version: 1\nbogus: [\n' >"$dir/policy.yaml.tmp" && mv "$dir/policy.yaml.tmp" "$dir/policy.yaml"
	want="previous one stays in force" eventually 10 openshell logs keep
	expect_out "Policy rejected, the previous one stays in force"
	run openshell sandbox exec -n keep -- curl -s http://api.test/still-open
	expect_out "GET /still-open host=api.test"
	"$OPENSHELL" sandbox delete keep >/dev/null
	pend
}
t_a_policy_the_proxy_rejects_keeps_the_last_valid_one() { lab_run body_a_policy_the_proxy_rejects_keeps_the_last_valid_one; }

body_middlewares_this_version_cannot_run_fail_as_configured() {
	pgw
	write_policy "$T/mw.yaml" <<'Y'
version: 1
network_policies:
  upstream:
    endpoints:
      - { host: api.test, port: 80 }
      - { host: other.test, port: 80 }
    binaries:
      - { path: /usr/bin/curl }
network_middlewares:
  strict:
    middleware: openshell/regex
    endpoints: { include: [api.test] }
    config: { patterns: [] }
  lenient:
    middleware: openshell/regex
    order: 1
    on_error: fail_open
    endpoints: { include: ["*.test"], exclude: [api.test] }
    config: { patterns: [] }
Y
	run openshell sandbox create --name mw --policy "$T/mw.yaml" -- /bin/sh -c \
		'curl -s -o /dev/null -w "api %{http_code}\n" http://api.test/; curl -s http://other.test/open'
	expect_rc 0
	expect_out_line "api 403"
	expect_out "GET /open host=other.test"
	want="cannot run" eventually 5 openshell logs mw
	expect_out "network middleware 'strict' (openshell/regex) cannot run in this version and is fail_closed"
	pend
}
t_middlewares_this_version_cannot_run_fail_as_configured() { lab_run body_middlewares_this_version_cannot_run_fail_as_configured; }

# No lab needed: the denial happens before any name is resolved.
t_repeated_denials_are_aggregated_in_the_log() {
	pgw
	need_cmd curl
	run openshell sandbox create --name noisy -- /bin/sh -c \
		'for i in $(seq 30); do curl -s -o /dev/null http://example.test/x; done; echo finished'
	expect_rc 0
	expect_out "finished"
	want="Main process exited" eventually 5 openshell logs noisy
	n=$(grep -c "HTTP:FORWARD DENIED /usr/bin/curl" "$T/.out")
	[ "$n" -ge 1 ] && [ "$n" -le 3 ] || fail "expected the 30 denials folded into at most 3 lines, got $n"
	pend
}

body_l7_tunnels_keep_alive_and_rewrite_what_they_forward() {
	pgw
	write_policy "$T/p.yaml" <<'Y'
version: 1
network_policies:
  api:
    endpoints:
      - { host: api.test, port: 80, protocol: rest, enforcement: enforce, access: read-only }
    binaries:
      - { path: "/usr/bin/python3*" }
Y
	run openshell sandbox create --no-keep --policy "$T/p.yaml" -- python3 -c '
import socket
def tunnel():
    s = socket.create_connection(("127.0.0.1", 3128))
    s.sendall(b"CONNECT api.test:80 HTTP/1.1\r\nHost: api.test:80\r\n\r\n")
    assert b" 200 " in s.recv(1000)
    return s
def exchange(s, req):
    s.sendall(req)
    data = b""
    while b"\n" not in data.split(b"\r\n\r\n", 1)[-1] or b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")
s = tunnel()
# two requests on one tunnel, the second only after the first answer
print("one:", exchange(s, b"GET /first HTTP/1.1\r\nHost: api.test\r\n\r\n").splitlines()[-1])
print("two:", exchange(s, b"GET /second HTTP/1.1\r\nHost: api.test\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n").splitlines()[-1])
r = exchange(s, b"POST /x HTTP/1.1\r\nHost: api.test\r\nContent-Length: 0\r\n\r\n")
print("three:", r.splitlines()[0])
s = tunnel()
print("smuggle:", exchange(s, b"GET /a HTTP/1.1\r\nHost: other.test\r\n\r\n").splitlines()[0])
f = socket.create_connection(("127.0.0.1", 3128))
print("forward:", exchange(f, b"GET http://api.test/fwd HTTP/1.1\r\nHost: evil.example\r\n\r\n").splitlines()[-1])
'
	expect_rc 0
	expect_out "one: GET /first host=api.test body=0 upgrade=None"
	expect_out "two: GET /second host=api.test body=0 upgrade=None"
	expect_out "three: HTTP/1.1 403 Forbidden"
	expect_out "smuggle: HTTP/1.1 403 Forbidden"
	expect_out "forward: GET /fwd host=api.test body=0 upgrade=None via=1.1 openshell-sandbox"
	pend
}
t_l7_tunnels_keep_alive_and_rewrite_what_they_forward() { lab_run body_l7_tunnels_keep_alive_and_rewrite_what_they_forward; }

body_a_reload_ends_idle_keep_alive_l7_tunnels() {
	pgw
	write_policy "$T/open.yaml" <<'Y'
version: 1
network_policies:
  api:
    endpoints:
      - { host: api.test, port: 80, protocol: rest, enforcement: enforce, access: full }
    binaries:
      - { path: "/usr/bin/python3*" }
Y
	run openshell sandbox create --detach --name idle --policy "$T/open.yaml" -- sleep 300
	expect_rc 0
	"$OPENSHELL" sandbox exec -n idle -- python3 -c '
import socket
s = socket.create_connection(("127.0.0.1", 3128))
s.sendall(b"CONNECT api.test:80 HTTP/1.1\r\nHost: api.test:80\r\n\r\n")
print(s.recv(100).decode().splitlines()[0], flush=True)
s.sendall(b"GET /one HTTP/1.1\r\nHost: api.test\r\n\r\n")
r = b""
while b"host=" not in r or not r.endswith(b"\n"):
    r += s.recv(1000)
print(r.decode().splitlines()[-1], flush=True)
s.settimeout(30)
print("closed" if s.recv(100) == b"" else "data", flush=True)' >"$T/idle.out" 2>&1 &
	sleep 1.5
	printf 'version: 1\n' >"$T/closed.yaml"
	run openshell policy set idle --policy "$T/closed.yaml" --wait --timeout 20
	expect_rc 0
	wait
	grep -q "GET /one host=api.test" "$T/idle.out" || fail "no first answer: $(cat "$T/idle.out")"
	grep -q "^closed" "$T/idle.out" || fail "the idle tunnel stayed open: $(cat "$T/idle.out")"
	"$OPENSHELL" sandbox delete idle >/dev/null
	pend
}
t_a_reload_ends_idle_keep_alive_l7_tunnels() { lab_run body_a_reload_ends_idle_keep_alive_l7_tunnels; }
