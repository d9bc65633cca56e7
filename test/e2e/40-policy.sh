# shellcheck shell=bash
# `openshell policy validate` and `policy check` (issue 5): no gateway, no sandbox; exit
# codes 0 valid/allow, 1 invalid/deny, 2 usage or unreadable file.

p1() { # the reference's conformance policy P1 (reference/policy.md §9)
	cat >"$T/p1.yaml" <<'Y'
version: 1
network_policies:
  claude_code:
    endpoints:
      - { host: api.anthropic.com, port: 443 }
      - { host: statsig.anthropic.com, port: 443 }
    binaries:
      - { path: /usr/local/bin/claude }
      - { path: /usr/bin/node }
  github:
    endpoints:
      - host: github.com
        port: 443
        protocol: rest
        enforcement: enforce
        rules:
          - allow: { method: GET, path: "/**/info/refs*" }
          - allow: { method: POST, path: "/**/git-upload-pack" }
    binaries:
      - { path: /usr/bin/git }
Y
}

t_validate_accepts_a_good_policy() {
	p1
	run openshell policy validate "$T/p1.yaml"
	expect_rc 0
	expect_out "is a valid policy (2 network rules)"
}

t_validate_lists_every_problem_with_its_place() {
	cat >"$T/bad.yaml" <<'Y'
version: 1
bogus: 1
network_policies:
  r:
    endpoints:
      - { host: "*.com", port: 70000 }
    binaries:
      - { path: /usr/bin/curl }
process:
  run_as_user: root
Y
	run openshell policy validate "$T/bad.yaml"
	expect_rc 1
	expect_err "$T/bad.yaml:2:1"
	expect_err "bogus"
	expect_err "network_policies.r.endpoints[0].port"
	run openshell policy validate "$T/missing.yaml"
	expect_rc 2
	expect_err "missing.yaml"
	run openshell policy validate -o json "$T/bad.yaml"
	expect_rc 1
	python3 -c 'import json,sys; v=json.load(sys.stdin); assert v[0]["valid"] is False and len(v[0]["problems"]) >= 2, v' \
		<"$T/.out" || fail "validate json"
}

t_validate_reports_safety_problems_after_parsing() {
	cat >"$T/unsafe.yaml" <<'Y'
version: 1
filesystem_policy:
  read_write: [/]
  read_only: [relative/path, /a/../b]
process:
  run_as_user: root
network_policies:
  wild:
    endpoints:
      - { host: "*.com", port: 443 }
    binaries:
      - { path: /usr/bin/curl }
Y
	run openshell policy validate "$T/unsafe.yaml"
	expect_rc 1
	expect_err "run_as_user must be 'sandbox' or a numeric UID/GID in range [1, 4294967294], got 'root'"
	expect_err "relative/path"
	expect_err "*.com"
}

t_check_decides_like_the_proxy() {
	p1
	run openshell policy check --policy "$T/p1.yaml" --host api.anthropic.com --port 443 --binary /usr/bin/node
	expect_rc 0
	expect_out_line "Decision: allow"
	expect_out_line "Policy:   claude_code"
	run openshell policy check --policy "$T/p1.yaml" --host API.ANTHROPIC.COM --port 443 --binary /usr/bin/node -o json
	expect_rc 0
	expect_out '"decision": "allow"'
	run openshell policy check --policy "$T/p1.yaml" --host api.anthropic.com --port 80 --binary /usr/bin/node
	expect_rc 1
	expect_out "endpoint api.anthropic.com:80 is not allowed by any policy"
	run openshell policy check --policy "$T/p1.yaml" --host api.anthropic.com --port 443 --binary /usr/bin/python3
	expect_rc 1
	expect_out "binary '/usr/bin/python3' not allowed in policy 'claude_code'"
	run openshell policy check --policy "$T/p1.yaml" --host github.com --port 443 --binary /usr/bin/python3 \
		--ancestor /usr/bin/sh --ancestor /usr/bin/git
	expect_rc 0
	expect_out "Policy:   github"
}

t_check_l7_and_ssrf() {
	p1
	run openshell policy check --policy "$T/p1.yaml" --host github.com --port 443 --binary /usr/bin/git \
		--method GET --path /NVIDIA/x.git/info/refs?service=git-upload-pack
	expect_rc 0
	run openshell policy check --policy "$T/p1.yaml" --host github.com --port 443 --binary /usr/bin/git \
		--method POST --path /NVIDIA/x.git/git-receive-pack -o json
	expect_rc 1
	expect_out '"decision": "deny"'
	expect_out "POST /NVIDIA/x.git/git-receive-pack not permitted by policy"
	run openshell policy check --policy "$T/p1.yaml" --host api.anthropic.com --port 443 --binary /usr/bin/node \
		--resolved 127.0.0.1
	expect_rc 1
	expect_out "always-blocked"
}

t_check_usage_errors() {
	p1
	run openshell policy check --policy "$T/p1.yaml" --host h
	expect_rc 2
	expect_err "required"
	run openshell policy check --policy "$T/nope.yaml" --host h --port 1 --binary /b
	expect_rc 2
	printf 'version: 1\nbogus: true\n' >"$T/bad.yaml"
	run openshell policy check --policy "$T/bad.yaml" --host h --port 1 --binary /b
	expect_rc 2
	expect_err "bogus"
}

t_create_refuses_an_invalid_policy_before_anything_exists() {
	printf 'version: 1\nbogus: true\n' >"$T/bad.yaml"
	run openshell sandbox create --policy "$T/bad.yaml" -- true
	expect_rc 1
	expect_err "bogus"
	expect_err "is not valid"
	expect_no_err "Ensuring gateway"
}
