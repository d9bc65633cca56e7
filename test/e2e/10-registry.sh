# shellcheck shell=bash
# The client-side gateway registry: gateway add/select/list/remove, global flags,
# help, usage errors, and every bad-input case (reference/cli.md §3-§6, issue 2).

t_version_lists_libraries() {
	run openshell --version
	expect_rc 0
	expect_out "openshell $(cat "$ROOT/VERSION")"
	expect_out "bearssl"
	expect_out "libyaml 0.2.5"
	expect_out "sqlite 3."
	expect_out "libseccomp 2."
	run openshell -V
	expect_rc 0
}

t_help_at_every_level() {
	run openshell
	expect_rc 0
	expect_out "USAGE"
	expect_out "gateway"
	run openshell gateway
	expect_rc 0
	expect_out "add ENDPOINT"
	expect_out "gw gateways"
	run openshell gw add --help
	expect_rc 0
	expect_out "openshell gateway add [OPTIONS] ENDPOINT"
	expect_out "--name NAME"
	run openshell gateway list -h
	expect_rc 0
	expect_out "--output FORMAT"
}

t_usage_errors_exit_2() {
	run openshell gateway list --prot
	expect_rc 2
	expect_err "error: unknown option '--prot'"
	expect_err "usage: openshell gateway list [OPTIONS]"
	run openshell gateway list --outpt json
	expect_rc 2
	expect_err "hint: did you mean '--output'?"
	run openshell gateway add
	expect_rc 2
	expect_err "error: missing argument ENDPOINT"
	run openshell gateway add http://a http://b
	expect_rc 2
	expect_err "unexpected argument 'http://b'"
	run openshell gateway list -o xml
	expect_rc 2
	expect_err "invalid value 'xml' for '-o': expected one of table, json, yaml"
	run openshell gateway add --name
	expect_rc 2
	expect_err "option '--name' needs a value"
	run openshell gatway list
	expect_rc 2
	expect_err "hint: did you mean 'gateway'?"
}

t_add_plaintext_gateway() {
	run openshell gateway add http://127.0.0.1:1
	expect_rc 0
	expect_out "Gateway 'openshell' added and set as active"
	expect_out "Endpoint: http://127.0.0.1:1"
	expect_out "Type: local"
	expect_out "Auth: plaintext"
	expect_err "Gateway is not reachable at http://127.0.0.1:1"
	expect_mode 700 "$(CONF)/gateways/openshell"
	expect_mode 600 "$(CONF)/gateways/openshell/metadata.json"
	expect_same "$(cat "$(CONF)/active_gateway")" "openshell"
	python3 - "$(CONF)/gateways/openshell/metadata.json" <<'PY' || fail "metadata.json content"
import json, sys
m = json.load(open(sys.argv[1]))
assert list(m) == ["name", "gateway_endpoint", "is_remote", "gateway_port", "auth_mode"], list(m)
assert m["name"] == "openshell" and m["gateway_endpoint"] == "http://127.0.0.1:1"
assert m["is_remote"] is False and m["gateway_port"] == 0 and m["auth_mode"] == "plaintext"
PY
}

t_add_names_remote_host_by_default() {
	# The reachability probe runs in an empty network namespace: no packet leaves.
	need_root
	run unshare -n "$OPENSHELL" gateway add http://gw.example.test:9000
	expect_rc 0
	expect_out "Gateway 'gw.example.test' added"
	expect_out "Type: remote"
}

t_add_without_scheme_means_https() {
	run openshell gateway add 127.0.0.1:8080 --name local
	expect_rc 1
	expect_err "error: no client certificates for gateway 'local'"
	expect_err "hint: place ca.crt, tls.crt and tls.key in"
	expect_no_file "$(CONF)/gateways/local/metadata.json"
	expect_no_file "$(CONF)/active_gateway"
}

t_add_https_with_certs() {
	mkdir -p "$(CONF)/gateways/sec/mtls"
	for f in ca.crt tls.crt tls.key; do echo x >"$(CONF)/gateways/sec/mtls/$f"; done
	run openshell gateway add https://localhost:8443 --name sec
	expect_rc 0
	expect_out "Auth: mtls"
	run openshell gateway list -o json
	expect_rc 0
	python3 -c '
import json, sys
v = json.load(sys.stdin)
assert v[0]["name"] == "sec" and v[0]["auth"] == "mtls" and v[0]["active"] is True, v
assert sorted(v[0]) == list(v[0]), "keys sorted"
' <"$T/.out" || fail "json"
}

t_plain_add_warns_when_certs_exist() {
	mkdir -p "$(CONF)/gateways/openshell/mtls"
	for f in ca.crt tls.crt tls.key; do echo x >"$(CONF)/gateways/openshell/mtls/$f"; done
	run openshell gateway add http://127.0.0.1:1
	expect_rc 0
	expect_err "Did you mean to use https?"
}

t_add_refuses_duplicate_name() {
	run openshell gateway add http://127.0.0.1:1
	expect_rc 0
	before=$(cat "$(CONF)/gateways/openshell/metadata.json")
	run openshell gateway add http://127.0.0.1:2
	expect_rc 1
	expect_err "error: gateway 'openshell' is already registered"
	expect_err "hint: remove it first with 'openshell gateway remove openshell'"
	expect_same "$(cat "$(CONF)/gateways/openshell/metadata.json")" "$before"
}

t_add_refuses_bad_names() {
	for n in "" "." ".." "a/b" "../up"; do
		run openshell gateway add http://127.0.0.1:1 --name "$n"
		expect_rc 1
		expect_err "error: "
	done
	run openshell gateway add http://127.0.0.1:1 --name ../up
	expect_err "it must be a single path component"
	[ ! -e "$(CONF)/up" ] && [ ! -e "$(CONF)/gateways/up" ] || fail "created a directory"
	expect_no_file "$(CONF)/active_gateway"
}

t_add_refuses_malformed_endpoints() {
	for ep in "http://" "http://host:99999" "http://host:0" "ftp://host" "http://a b" \
		"http://user@host" "http://host/path" "http://[::1"; do
		run openshell gateway add "$ep" --name bad
		expect_rc 1
		expect_err "error: invalid gateway endpoint"
	done
	expect_no_file "$(CONF)/gateways/bad"
}

t_list_marks_active_and_aliases_work() {
	run openshell gateway add http://127.0.0.1:1 --name one
	run openshell gateway add http://127.0.0.1:2 --name two
	run openshell gw ls
	expect_rc 0
	expect_out_line "  NAME  ENDPOINT            TYPE    SOURCE  AUTH"
	expect_out_line "  one   http://127.0.0.1:1  local   user    plaintext"
	expect_out_line "* two   http://127.0.0.1:2  local   user    plaintext"
	run openshell gateways select one
	expect_rc 0
	expect_out "Active gateway set to 'one'"
	run openshell gateway list -o yaml
	expect_rc 0
	expect_out "- active: true"
	expect_out "  name: one"
}

t_list_empty() {
	run openshell gateway list
	expect_rc 0
	expect_out "No gateways found."
	expect_err "Register a gateway with: openshell gateway add <endpoint>"
	run openshell gateway list -o json
	expect_rc 0
	expect_same "$out" "[]"
}

t_no_escape_sequences_off_tty() {
	run openshell gateway add http://127.0.0.1:1
	if grep -q $'\033' "$T/.out" "$T/.err"; then fail "escape sequence in non-TTY output"; fi
}

t_select_unknown_and_env_override() {
	run openshell gateway add http://127.0.0.1:1 --name one
	run openshell gateway add http://127.0.0.1:2 --name two
	run openshell gateway select nope
	expect_rc 1
	expect_err "error: unknown gateway 'nope'"
	expect_err "hint: list the registered gateways with 'openshell gateway list'"
	expect_same "$(cat "$(CONF)/active_gateway")" "two"
	OPENSHELL_GATEWAY=two run openshell gateway select one
	expect_rc 0
	expect_err "OPENSHELL_GATEWAY is set to 'two'"
	expect_same "$(cat "$(CONF)/active_gateway")" "one"
}

t_select_without_name_off_tty_lists() {
	run openshell gateway add http://127.0.0.1:1 --name one
	run openshell gateway select
	expect_rc 0
	expect_out "* one"
	expect_out "Select a gateway with: openshell gateway select <name>"
}

t_remove() {
	run openshell gateway add http://127.0.0.1:1 --name one
	mkdir -p "$(CONF)/gateways/one/mtls"
	run openshell gateway remove nope
	expect_rc 1
	expect_err "error: unknown gateway 'nope'"
	run openshell gateway rm
	expect_rc 0
	expect_out "Gateway registration 'one' removed."
	expect_no_file "$(CONF)/gateways/one/metadata.json"
	expect_no_file "$(CONF)/active_gateway"
	expect_file "$(CONF)/gateways/one/mtls"
	run openshell gateway list
	expect_out "No gateways found."
	run openshell gateway remove
	expect_rc 1
	expect_err "no active gateway"
}

t_corrupt_metadata_is_reported_not_overwritten() {
	mkdir -p "$(CONF)/gateways/broken"
	printf '{"name": "broken", "gateway_endpoint": ' >"$(CONF)/gateways/broken/metadata.json"
	run openshell gateway list
	expect_rc 1
	expect_err "error: '$(CONF)/gateways/broken/metadata.json' is corrupt"
	run openshell gateway add http://127.0.0.1:1 --name broken
	expect_rc 1
	expect_err "is corrupt"
	expect_same "$(cat "$(CONF)/gateways/broken/metadata.json")" '{"name": "broken", "gateway_endpoint": '
	printf '{"name": "other", "gateway_endpoint": "http://x:1"}' >"$(CONF)/gateways/broken/metadata.json"
	run openshell gateway select broken
	expect_rc 1
	expect_err "it names gateway 'other', not 'broken'"
	printf '{"name": "broken", "gateway_endpoint": 7}' >"$(CONF)/gateways/broken/metadata.json"
	run openshell gateway select broken
	expect_rc 1
	expect_err "\"gateway_endpoint\" must be a string"
}

t_corrupt_active_gateway() {
	mkdir -p "$(CONF)"
	printf '../../etc' >"$(CONF)/active_gateway"
	run openshell gateway list
	expect_rc 1
	expect_err "active_gateway' is corrupt"
	expect_err "hint: run 'openshell gateway select <name>'"
}

t_home_unset() {
	run env -u HOME -u XDG_CONFIG_HOME "$OPENSHELL" gateway list
	expect_rc 1
	expect_err "error: HOME is not set"
}

t_xdg_config_home_respected() {
	XDG_CONFIG_HOME=$T/alt run openshell gateway add http://127.0.0.1:1
	expect_rc 0
	expect_file "$T/alt/openshell/gateways/openshell/metadata.json"
	expect_no_file "$HOME/.config/openshell"
}

t_system_layer_is_read_only() {
	sys=$T/sys
	mkdir -p "$sys/gateways/corp"
	printf '{"name":"corp","gateway_endpoint":"http://10.0.0.1:1","is_remote":true,"gateway_port":0}' \
		>"$sys/gateways/corp/metadata.json"
	printf 'corp' >"$sys/active_gateway"
	export OPENSHELL_SYSTEM_GATEWAY_DIR=$sys
	run openshell gateway list
	expect_rc 0
	expect_out "* corp"
	expect_out "system"
	run openshell gateway remove corp
	expect_rc 1
	expect_err "registered system-wide"
	run openshell gateway add http://127.0.0.1:1 --name corp
	expect_rc 0
	run openshell gateway list
	expect_out "user"
}
