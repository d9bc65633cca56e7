# shellcheck shell=bash
# The embedded gateway: start/stop/destroy, mTLS, state, status/info/update, faults
# (issue 3). Each test runs its gateways on free loopback ports with its own state dir.

gw_start() { # gw_start [extra start args...]: starts gateway "t" on a free port
	PORT=$(free_port)
	run openshell gateway start --name t --port "$PORT" "$@"
}

gw_stop() { "$OPENSHELL" gateway stop --name t >/dev/null 2>&1 || true; }

S() { echo "$XDG_STATE_HOME/openshell/gateways/t"; }

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
s.bind(('127.0.0.1', $PORT)); s.listen(1); open('$T/held', 'w').close(); time.sleep(60)" &
	holder=$!
	for _ in $(seq 600); do [ -e "$T/held" ] && break; sleep 0.05; done # held, however slow the machine
	expect_file "$T/held"
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
