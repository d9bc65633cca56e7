# shellcheck shell=bash
# The embedded gateway: start/stop/destroy, mTLS, state, status/info/update, faults
# (issue 3). Each test runs its gateways on free loopback ports with its own state dir.

gw_start() { # gw_start [extra start args...]: starts gateway "t" on a free port
	PORT=$(free_port)
	run openshell gateway start --name t --port "$PORT" "$@"
}

gw_stop() { "$OPENSHELL" gateway stop --name t >/dev/null 2>&1 || true; }

S() { echo "$XDG_STATE_HOME/openshell/gateways/t"; }

api() { # api PATH [curl args...]: gateway t's API with its client certificate (25 s at most)
	local m
	m=$(CONF)/gateways/t/mtls
	curl -sS --max-time 25 --cacert "$m/ca.crt" --cert "$m/tls.crt" --key "$m/tls.key" \
		"https://localhost:$PORT$1" "${@:2}"
}

t_start_registers_and_status_connects() {
	gw_start
	expect_rc 0
	expect_out "Gateway 't' started"
	expect_out "Endpoint: https://127.0.0.1:$PORT"
	expect_file "$(CONF)/gateways/t/mtls/ca.crt"
	expect_mode 600 "$(CONF)/gateways/t/mtls/tls.key"
	expect_mode 700 "$(S)/tls"
	expect_mode 600 "$(S)/tls/ca.key"
	expect_same "$(cat "$(CONF)/active_gateway")" t
	run openshell status
	expect_rc 0
	expect_out "Server Status"
	expect_out "Gateway: t"
	expect_out "Server: https://127.0.0.1:$PORT"
	expect_out "Status: Connected"
	expect_out "Authentication: Authenticated (mTLS transport)"
	run openshell status -o json
	python3 -c 'import json,sys; v=json.load(sys.stdin); assert v["status"]=="connected", v' \
		<"$T/.out" || fail "status json"
	gw_stop
}

t_start_is_idempotent() {
	gw_start
	expect_rc 0
	pid=$(cat "$(S)/gateway.pid")
	run openshell gateway start --name t --port "$PORT"
	expect_rc 0
	expect_err "already running (pid $pid)"
	[ "$(pgrep -fc "gateway run --name t --bind 127.0.0.1 --port $PORT\$")" = 1 ] ||
		fail "more than one daemon"
	gw_stop
}

t_stop_and_restart_keeps_state() {
	gw_start --max-sandboxes 7
	id=$(cat "$(S)/gateway.id")
	run openshell gateway stop --name t
	expect_rc 0
	expect_out "Gateway 't' stopped"
	expect_no_file "$(S)/gateway.pid"
	run openshell status
	expect_out "Status: Disconnected"
	run openshell gateway start --name t --port "$PORT"
	expect_rc 0
	run openshell gateway info -o json
	expect_rc 0
	python3 - "$id" <<'PY' <"$T/.out" || fail "info after restart"
import json, sys
v = json.load(sys.stdin)
assert v["max_sandboxes"] == 7 and v["id"] == int(sys.argv[1]) and v["status"] == "running", v
PY
	gw_stop
}

t_info_and_update_seed_properties() {
	gw_start --cpus 2.0 --memory 8g
	run openshell gateway info
	expect_rc 0
	expect_out "ID: 1"
	expect_out "Status: running"
	expect_out "Port: $PORT"
	expect_out "CPUs: 2.0"
	expect_out "Memory: 8g"
	expect_out "Sandboxes: 0 / 20"
	expect_out "Version: $(cat "$ROOT/VERSION")"
	run openshell gateway info 1
	expect_rc 0
	expect_out "Gateway: t"
	run openshell gateway update t --max-sandboxes 50 --cpus 8.0
	expect_rc 0
	run openshell gateway status
	expect_out "Sandboxes: 0 / 50"
	expect_out "CPUs: 8.0"
	run openshell gateway update t --memory 12q
	expect_rc 1
	expect_err "invalid memory quantity '12q'"
	gw_stop
}

t_mtls_is_required_and_interoperates_with_openssl() {
	need_cmd curl
	gw_start
	m=$(CONF)/gateways/t/mtls
	run openssl verify -CAfile "$m/ca.crt" "$m/tls.crt"
	expect_rc 0
	run curl -sS --cacert "$m/ca.crt" --cert "$m/tls.crt" --key "$m/tls.key" \
		"https://localhost:$PORT/v1/health"
	expect_rc 0
	expect_out '"status":"ok"'
	run curl -sS --cacert "$m/ca.crt" "https://localhost:$PORT/v1/health"
	[ "$rc" != 0 ] || fail "a client without a certificate was accepted"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=evil \
		-keyout "$T/evil.key" -out "$T/evil.crt" -days 1 2>/dev/null
	run curl -sS --cacert "$m/ca.crt" --cert "$T/evil.crt" --key "$T/evil.key" \
		"https://localhost:$PORT/v1/health"
	[ "$rc" != 0 ] || fail "a certificate from another CA was accepted"
	run curl -sS "http://127.0.0.1:$PORT/v1/health"
	[ "$rc" != 0 ] && ! grep -q '"ok"' "$T/.out" || fail "plaintext was served"
	gw_stop
}

t_disable_gateway_auth_and_plaintext() {
	need_cmd curl
	gw_start --disable-gateway-auth
	expect_rc 0
	run curl -sS --cacert "$(CONF)/gateways/t/mtls/ca.crt" "https://localhost:$PORT/v1/health"
	expect_rc 0
	expect_out '"status":"ok"'
	gw_stop
	run openshell gateway destroy --name t --yes
	expect_rc 0
	gw_start --plaintext
	expect_rc 0
	run curl -sS "http://127.0.0.1:$PORT/v1/health"
	expect_rc 0
	expect_out '"status":"ok"'
	run openshell status
	expect_out "Authentication: Not required (gateway)"
	gw_stop
	run openshell gateway start --name u --plaintext --bind 0.0.0.0 --port "$(free_port)"
	expect_rc 2
	expect_err "refusing to serve plain HTTP on the non-loopback address '0.0.0.0'"
}

t_port_in_use_names_the_holder() {
	PORT=$(free_port)
	python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $PORT)); s.listen(1); time.sleep(60)" &
	holder=$!
	for _ in $(seq 100); do # python3 may start slowly on a busy machine
		grep -qi ":$(printf '%04X' "$PORT") 00000000:0000 0A" /proc/net/tcp && break
		sleep 0.1
	done
	run openshell gateway start --name t --port "$PORT"
	expect_rc 1
	expect_err "cannot listen on 127.0.0.1 port $PORT"
	expect_err "python3, pid $holder"
	kill $holder
}

t_stale_pid_file_is_ignored() {
	gw_start
	pid=$(cat "$(S)/gateway.pid")
	kill -9 "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	expect_file "$(S)/gateway.pid"
	run openshell gateway start --name t --port "$PORT"
	expect_rc 0
	expect_out "Gateway 't' started"
	gw_stop
}

t_deleted_or_corrupt_database_is_refused() {
	gw_start
	gw_stop
	mv "$(S)/gateway.db" "$T/db.bak"
	run openshell gateway start --name t --port "$PORT"
	expect_rc 1
	expect_err "has certificates but no database"
	expect_err "hint: restore gateway.db from a backup"
	expect_no_file "$(S)/gateway.db"
	printf 'garbage garbage garbage garbage garbage garbage garbage garbage' >"$(S)/gateway.db"
	run openshell gateway start --name t --port "$PORT"
	expect_rc 1
	expect_err "not a usable database"
	expect_same "$(head -c 15 "$(S)/gateway.db")" "garbage garbage"
}

t_corrupt_certificate_is_refused() {
	gw_start
	gw_stop
	echo broken >"$(S)/tls/server.crt"
	run openshell gateway start --name t --port "$PORT"
	expect_rc 1
	expect_err "server.crt"
}

t_client_certificate_of_another_gateway_is_refused() {
	gw_start
	P1=$PORT
	PORT=$(free_port)
	run openshell gateway start --name other --port "$PORT"
	expect_rc 0
	cp "$(CONF)/gateways/other/mtls/"* "$(CONF)/gateways/t/mtls/"
	run openshell -g t status
	expect_out "Status: Disconnected"
	"$OPENSHELL" gateway stop --name other >/dev/null
	gw_stop
}

t_destroy_removes_state_and_registration() {
	gw_start
	run openshell gateway destroy --name t
	expect_rc 2
	expect_err "requires confirmation"
	expect_err "hint: pass --yes in non-interactive mode"
	run openshell gateway delete t --yes
	expect_rc 0
	expect_out "Gateway 't' destroyed"
	expect_no_file "$(S)"
	expect_no_file "$(CONF)/gateways/t"
	run openshell gateway list
	expect_out "No gateways found."
}

t_status_without_gateway() {
	run openshell status
	expect_rc 0
	expect_out "Gateway Status"
	expect_out "Status: No gateway configured."
	expect_out "openshell gateway start"
	run openshell status -o json
	expect_same "$out" '{
  "status": "not_configured"
}'
}

t_unknown_gateway_name() {
	run openshell -g nope status
	expect_rc 1
	expect_err "error: unknown gateway 'nope'"
	run openshell gateway stop --name nope
	expect_rc 1
	expect_err "no local gateway named 'nope'"
}

t_survives_sigkill_and_restarts() {
	gw_start --max-sandboxes 9
	pid=$(cat "$(S)/gateway.pid")
	kill -9 "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	run openshell gateway start --name t --port "$PORT"
	expect_rc 0
	run openshell gateway info -o json
	python3 -c 'import json,sys; assert json.load(sys.stdin)["max_sandboxes"]==9' <"$T/.out" ||
		fail "settings lost after SIGKILL"
	gw_stop
}

t_fifty_concurrent_clients() {
	gw_start
	for i in $(seq 50); do
		"$OPENSHELL" gateway info -o json >"$T/c$i.out" 2>&1 &
	done
	wait
	for i in $(seq 50); do
		grep -q '"status": "running"' "$T/c$i.out" || { cat "$T/c$i.out"; fail "client $i"; }
	done
	gw_stop
}

t_doctor_logs_show_gateway_log() {
	gw_start
	gw_stop
	run openshell doctor logs --name t
	expect_rc 0
	expect_out "gateway started"
	expect_out "gateway stopped"
	run openshell doctor logs --name t --lines 1
	expect_out "gateway stopped"
	expect_no_out "gateway started"
}

# GET /v1/sandboxes/{name}?wait=MS holds its answer while the sandbox is Provisioning, so a
# client sees Ready (or Error) without polling; it answers at once otherwise.
t_sandbox_get_waits_while_provisioning() {
	need_cmd curl
	gw_start
	m=$(CONF)/gateways/t/mtls
	# the GET follows the POST on the same connection, well before the supervisor is up
	for n in 1 2 3; do
		run api /v1/sandboxes -X POST -H 'Content-Type: application/json' \
			-d '{"name":"w'$n'","command":["sleep","600"]}' \
			--next --cacert "$m/ca.crt" --cert "$m/tls.crt" --key "$m/tls.key" \
			"https://localhost:$PORT/v1/sandboxes/w$n?wait=20000"
		expect_rc 0
		expect_out '"phase":"Provisioning"' # the POST's answer
		[ "$(grep -o '"phase":"[A-Za-z]*"' "$T/.out" | tail -n 1)" = '"phase":"Ready"' ] ||
			fail "GET ?wait answered before the sandbox was ready: $(cat "$T/.out")"
	done
	run api "/v1/sandboxes/w1?wait=20000" # Ready: no wait at all (curl's limit is 25 s)
	expect_rc 0
	expect_out '"phase":"Ready"'
	run api "/v1/sandboxes/w1?wait=soon"
	expect_out '"message":"invalid wait '"'soon'"'"'
	run api "/v1/sandboxes/w1?wait=30001"
	expect_out '"error":"invalid_argument"'
	run api "/v1/sandboxes/nothere?wait=1000"
	expect_out '"error":"not_found"'
	run openshell sandbox delete w1 w2 w3
	expect_rc 0
	gw_stop
}

# The CLI keeps its TLS session (0600) and the next command resumes it; a gateway that was
# restarted no longer knows it, and the command still works (a full handshake), as it does
# with a damaged session file. Removing the registration removes the session.
t_tls_session_is_kept_and_resumed() {
	gw_start
	expect_rc 0
	run openshell -g t status
	expect_rc 0
	f=$(CONF)/gateways/t/tls_session
	expect_file "$f"
	expect_mode 600 "$f"
	before=$(od -An -tx1 -j21 -N32 "$f")
	run openshell -g t status
	expect_rc 0
	expect_same "$(od -An -tx1 -j21 -N32 "$f")" "$before" # resumed: the same session id
	gw_stop
	run openshell gateway start --name t --port "$PORT"
	expect_rc 0
	run openshell -g t status
	expect_rc 0
	[ "$(od -An -tx1 -j21 -N32 "$f")" != "$before" ] || fail "a restarted gateway resumed a session"
	head -c 101 /dev/urandom >"$f"
	run openshell -g t status
	expect_rc 0
	expect_out "Connected"
	gw_stop
	run openshell gateway remove t
	expect_rc 0
	expect_no_file "$f"
}

t_api_refuses_malformed_sandbox_requests() {
	need_cmd curl
	gw_start
	post() { run api /v1/sandboxes -X POST -H 'Content-Type: application/json' -d "$1"; }
	post '{"name": 5}'
	expect_out '"message":"\"name\" must be a string"'
	post '{"command": [1]}'
	expect_out '"message":"\"command\" must be an array of strings without NUL"'
	post '{"command": ["true"], "env": {"A": 1}}'
	expect_out "environment variable 'A': the value must be a string"
	post '{"command": ["true"], "tty": "yes"}'
	expect_out '"message":"\"tty\" must be true or false"'
	post '{"command": ["true"], "from": 7}'
	expect_out '"error":"invalid_argument"'
	post 'null'
	expect_out '"message":"expected a JSON object"'
	for p in "" /logs /policy /policies; do
		run api "/v1/sandboxes/nothere$p"
		expect_out '"error":"not_found"'
	done
	for p in stop start; do
		run api "/v1/sandboxes/nothere/$p" -X POST
		expect_out '"error":"not_found"'
	done
	run api /v1/sandboxes/nothere -X DELETE
	expect_out '"error":"not_found"'
	run api /v1/health
	expect_out '"status":"ok"' # and the gateway is still there
	run openshell sandbox list
	expect_rc 0
	expect_out "No sandboxes"
	gw_stop
}
