# shellcheck shell=bash
# A remote gateway: the same binary on "another host" (a network namespace of the test's
# own, reached over a veth pair with addresses only this test uses; no route anywhere
# else), started there with its own HOME, and used from this host with the client
# certificates copied over, as a user would (gateway add). Sandboxes are created, run,
# exec'd into, given and asked for files, and deleted on the far side.

REMOTE_IP=10.208.0.2

remote_down() {
	[ -n "${NS_FAR:-}" ] || return 0
	far gateway stop >/dev/null 2>&1
	ip netns del "$NS_FAR" 2>/dev/null
	return 0
}

# far ARGS...: openshell on the far host: its network namespace, its own HOME and XDG dirs.
far() {
	nsenter --net="/run/netns/$NS_FAR" env HOME="$T/far/home" XDG_CONFIG_HOME="$T/far/config" \
		XDG_STATE_HOME="$T/far/state" XDG_DATA_HOME="$T/far/data" "$OPENSHELL" "$@"
}

remote_up() {
	local id=$(($$ % 100000))$((RANDOM % 100))
	need_root
	need_cmd ip
	need_cmd nsenter
	NS_FAR=osfar$id
	trap remote_down EXIT
	ip netns add "$NS_FAR" || fail "cannot create a network namespace"
	ip link add "vh$id" type veth peer name "vf$id" || fail "cannot create a veth pair"
	ip link set "vf$id" netns "$NS_FAR" || fail "veth"
	ip addr add 10.208.0.1/30 dev "vh$id" && ip link set "vh$id" up || fail "veth address"
	ip -n "$NS_FAR" addr add "$REMOTE_IP/30" dev "vf$id" || fail "veth address"
	ip -n "$NS_FAR" link set "vf$id" up && ip -n "$NS_FAR" link set lo up || fail "links up"
	mkdir -p "$T/far/home" "$T/far/config" "$T/far/state" "$T/far/data"
	PORT=$(free_port)
}

t_a_gateway_on_another_host() {
	remote_up
	run far gateway start --name far --bind "$REMOTE_IP" --port "$PORT" \
		--server-san "$REMOTE_IP"
	expect_rc 0
	# the user copies the client certificates to this host, then registers the endpoint
	mkdir -p "$(CONF)/gateways/far/mtls"
	cp "$T/far/config/openshell/gateways/far/mtls/"{ca.crt,tls.crt,tls.key} "$(CONF)/gateways/far/mtls/"
	run openshell gateway add "https://$REMOTE_IP:$PORT" --name far
	expect_rc 0
	expect_out "Type: remote"
	run openshell status
	expect_rc 0
	expect_out "$REMOTE_IP:$PORT"
	run openshell sandbox create --no-keep -- /bin/sh -c 'echo "hello from $(hostname) as $(id -u)"; exit 3'
	expect_rc 3
	expect_out "hello from"
	expect_out "as 1000"
	run openshell sandbox create --detach --name work -- /bin/sleep 1000
	expect_rc 0
	echo "a file from here" >"$T/in.txt"
	run openshell sandbox upload work "$T/in.txt" /sandbox/in.txt
	expect_rc 0
	run openshell sandbox exec -n work -- /bin/sh -c 'cat /sandbox/in.txt; echo made there >/sandbox/out.txt'
	expect_rc 0
	expect_out_line "a file from here"
	run openshell sandbox download work /sandbox/out.txt "$T/out.txt"
	expect_rc 0
	[ "$(cat "$T/out.txt")" = "made there" ] || fail "download: $(cat "$T/out.txt" 2>&1)"
	# the sandbox's files live on the far host, not here
	ls "$T"/far/state/openshell/gateways/far/sandboxes/*/workdir/out.txt >/dev/null 2>&1 ||
		fail "the workdir is not on the far host"
	run openshell sandbox create --from ./rootfs -- /bin/true
	expect_rc 1
	expect_err "is remote, and the directory must be an absolute path on its host"
	run openshell sandbox delete work
	expect_rc 0
	run openshell sandbox list
	expect_no_out "work"
	remote_down
	trap - EXIT
}
