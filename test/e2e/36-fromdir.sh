# shellcheck shell=bash
# sandbox create --from DIR (issue 4): the policy's paths come from a root filesystem
# directory instead of the host's /; symbolic links inside it never reach the host; image
# names, Dockerfiles and unusable directories are refused with a hint; the root survives
# stop/start and gateway restarts. The roots are made here from a static busybox.

setup_gw() {
	export OPENSHELL_GATEWAY_PORT
	OPENSHELL_GATEWAY_PORT=$(free_port)
}

teardown_gw() { "$OPENSHELL" gateway stop >/dev/null 2>&1 || true; }

# mkroot DIR: a merged-/usr root with busybox and its applets, an /etc with a marker.
mkroot() {
	local bb
	bb=$(command -v busybox) || skip "needs busybox (apt-get install busybox-static)"
	file -L "$bb" 2>/dev/null | grep -q 'statically linked' || skip "needs a static busybox"
	mkdir -p "$1/usr/bin" "$1/etc" "$1/usr/share"
	cp "$bb" "$1/usr/bin/busybox"
	for a in sh cat ls id echo wc sleep mkdir; do ln -s busybox "$1/usr/bin/$a"; done
	ln -s usr/bin "$1/bin"
	echo "marker-in-dir" >"$1/etc/marker"
	: >"$1/etc/passwd"
	: >"$1/etc/group"
	: >"$1/etc/hosts"
	: >"$1/etc/hostname"
}

# A host directory outside /tmp (the sandbox's /tmp is its own) holding a secret.
host_secret() {
	H=$(mktemp -d /var/tmp/os-e2e-from.XXXXXX)
	trap 'rm -rf "$H"' EXIT
	mkdir -p "$H/sub"
	echo host-secret >"$H/secret"
	echo host-secret >"$H/sub/secret"
	chmod -R a+rX "$H"
}

t_from_dir_runs_the_command_from_that_root() {
	setup_gw
	mkroot "$T/root"
	[ -e /etc/debian_version ] || skip "needs a host file that the root lacks (/etc/debian_version)"
	run openshell sandbox create --name fromdir --from ./root -- /bin/sh -c \
		'cat /etc/marker; cat /etc/debian_version 2>&1; ls /usr/bin/busybox; ls /usr/bin/python3 2>&1; id -u; grep -c "^sandbox:x:1000" /etc/passwd'
	expect_rc 0
	expect_out_line "marker-in-dir"
	expect_out "can't open '/etc/debian_version': No such file or directory"
	expect_out_line "/usr/bin/busybox"
	expect_out "/usr/bin/python3: No such file or directory"
	expect_out_line "1000"
	expect_out_line "1" # the generated /etc/passwd, bound over the root's own
	run openshell sandbox get fromdir
	expect_out "  From: $T/root"
	run openshell sandbox get fromdir -o json
	python3 -c 'import json,sys; v=json.load(sys.stdin); assert v["from"]==sys.argv[1], v' "$T/root" \
		<"$T/.out" || fail "get json has no canonical from"
	teardown_gw
}

t_from_dir_gives_the_root_shell_by_default() {
	setup_gw
	mkroot "$T/root"
	run openshell sandbox create --name sh-default --detach --from "$T/root"
	expect_rc 0
	run openshell sandbox get sh-default -o json
	python3 -c 'import json,sys; v=json.load(sys.stdin); assert v["command"]==["/bin/sh","-l"], v' \
		<"$T/.out" || fail "the default command is not the root's /bin/sh"
	teardown_gw
}

t_from_dir_policy_paths_come_from_the_dir() {
	setup_gw
	need_root
	mkroot "$T/root"
	host_secret
	mkdir -p "$T/root/opt/tools" "$T/root/srv/data"
	echo "tool-from-dir" >"$T/root/opt/tools/t"
	chmod 777 "$T/root/srv/data" # the sandbox's own uid writes there
	cat >"$T/fs.yaml" <<Y
version: 1
filesystem_policy:
  include_workdir: true
  read_only: [/usr, /etc, /opt/tools, $H]
  read_write: [/tmp, /srv/data]
Y
	run openshell sandbox create --no-keep --from ./root --policy "$T/fs.yaml" -- /bin/sh -c \
		"cat /opt/tools/t; echo written >/srv/data/out && echo wrote; cat $H/secret 2>&1; echo x >/etc/new; echo x >/opt/tools/new; ls /var/log 2>&1; echo end"
	expect_rc 0
	expect_out_line "tool-from-dir"
	expect_out_line "wrote"
	expect_out "can't open '$H/secret': No such file or directory" # in the policy, not in DIR
	expect_out "/var/log: No such file or directory"  # the baseline's paths only when DIR has them
	expect_out_line "end"
	expect_err "can't create /etc/new: Read-only file system"
	expect_err "can't create /opt/tools/new: Read-only file system"
	expect_no_out "host-secret"
	expect_no_file "$T/root/etc/new"
	expect_no_file "$T/root/opt/tools/new"
	[ "$(cat "$T/root/srv/data/out")" = written ] || fail "the read_write path is not DIR's"
	teardown_gw
}

t_from_dir_symlinks_stay_inside_the_root() {
	setup_gw
	need_root
	mkroot "$T/root"
	host_secret
	ln -s "$H" "$T/root/leak"                  # a policy path that is an absolute link out
	ln -s "$H" "$T/root/opt"                   # a policy path below a link out
	ln -s /etc/shadow "$T/root/usr/share/shadow" # a link to a host file inside a bound dir
	ln -s ../../../../../../../../etc "$T/root/up"
	cat >"$T/fs.yaml" <<Y
version: 1
filesystem_policy:
  include_workdir: true
  read_only: [/usr, /etc, /leak, /opt/sub, /up]
  read_write: [/tmp]
Y
	run openshell sandbox create --no-keep --from ./root --policy "$T/fs.yaml" -- /bin/sh -c \
		'cat /leak/secret 2>&1; cat /opt/sub/secret 2>&1; cat /usr/share/shadow 2>&1; cat /up/marker; cat /up/debian_version 2>&1; echo end'
	expect_rc 0
	expect_out "can't open '/leak/secret': No such file or directory"
	expect_out "can't open '/opt/sub/secret': No such file or directory"
	expect_out "can't open '/usr/share/shadow': No such file or directory"
	expect_out_line "marker-in-dir" # ../.. cannot climb above DIR
	expect_out "can't open '/up/debian_version': No such file or directory"
	expect_out_line "end"
	expect_no_out "host-secret"
	expect_no_out "root:"
	teardown_gw
}

t_from_dir_whose_etc_links_to_a_host_dir() {
	setup_gw
	need_root
	mkroot "$T/root"
	host_secret
	rm -r "$T/root/etc"
	ln -s "$H" "$T/root/etc" # /etc -> a host directory
	run openshell sandbox create --no-keep --from ./root -- /bin/sh -c \
		'cat /etc/secret 2>&1; grep -c "^sandbox:x:1000" /etc/passwd'
	expect_rc 0
	expect_out "can't open '/etc/secret': No such file or directory"
	expect_out_line "1" # the generated files land in the sandbox's own tree
	expect_no_out "host-secret"
	[ "$(ls "$H")" = "$(printf 'secret\nsub')" ] || fail "the jail created files in the host dir: $(ls "$H")"
	teardown_gw
}

t_from_refuses_images_dockerfiles_and_non_directories() {
	setup_gw
	mkdir -p "$T/base" "$T/ctx"
	echo 'FROM scratch' >"$T/Dockerfile"
	echo 'FROM scratch' >"$T/ctx/Dockerfile"
	: >"$T/afile"
	run openshell sandbox create --from ubuntu:24.04 -- /bin/true
	expect_rc 1
	expect_err "error: --from 'ubuntu:24.04' is an image name: this build runs sandboxes from directories only"
	expect_err "hint: pass a directory holding a root filesystem"
	run openshell sandbox create --from base -- /bin/true # a bare word, even with ./base here
	expect_rc 1
	expect_err "error: --from 'base' is an image name"
	expect_err "(./NAME for one here)"
	run openshell sandbox create --from ./Dockerfile -- /bin/true
	expect_rc 1
	expect_err "error: --from './Dockerfile' is a Dockerfile: this build runs sandboxes from directories only"
	run openshell sandbox create --from ./ctx -- /bin/true
	expect_rc 1
	expect_err "error: --from './ctx' is a Dockerfile"
	run openshell sandbox create --from ./missing -- /bin/true
	expect_rc 1
	expect_err "error: --from './missing': no such directory"
	expect_err "hint: make a root filesystem there first: docker export"
	run openshell sandbox create --from ./afile -- /bin/true
	expect_rc 1
	expect_err "error: --from './afile' is not a directory"
	run openshell sandbox create --gateway-endpoint https://192.0.2.1:9 --from ./base -- /bin/true
	expect_rc 1
	expect_err "is remote, and the directory must be an absolute path on its host"
	teardown_gw
}

t_from_refuses_unusable_or_untrusted_roots() {
	setup_gw
	need_root
	mkroot "$T/root"
	mkdir -p "$T/empty"
	run openshell sandbox create --from ./empty -- /bin/sh -c true
	expect_rc 1
	expect_err "error: command '/bin/sh' not found in root filesystem '$T/empty', which has no /bin/sh either"
	expect_err "hint: make one with e.g. 'mmdebstrap stable DIR'"
	run openshell sandbox create --from ./root -- /bin/bash
	expect_rc 1
	expect_err "error: command '/bin/bash' not found in root filesystem '$T/root'"
	expect_err "hint: name a program that exists inside it"
	chmod 777 "$T/root"
	run openshell sandbox create --from ./root -- /bin/sh -c true
	expect_rc 1
	expect_err "error: root filesystem '$T/root': '$T/root' is writable by group and others (mode 0777)"
	expect_err "hint: only root or the gateway's user"
	chmod 755 "$T/root" && chown 12345 "$T/root"
	run openshell sandbox create --from ./root -- /bin/sh -c true
	expect_rc 1
	expect_err "'$T/root' is owned by uid 12345, neither root nor the gateway's user"
	chown 0 "$T/root" && chmod 700 "$T/root"
	run openshell sandbox create --from ./root -- /bin/sh -c true
	expect_rc 1
	expect_err "cannot be entered by the sandbox's uid"
	expect_err "hint: each sandbox runs as an unprivileged uid of its own: chmod o+rx"
	run openshell sandbox list
	expect_out "No sandboxes found."
	teardown_gw
}

t_from_dir_survives_stop_start_and_gateway_restarts() {
	setup_gw
	mkroot "$T/root"
	run openshell sandbox create --name keep --detach --from ./root -- /bin/sh -c 'sleep 1000'
	expect_rc 0
	run openshell sandbox exec -n keep -- cat /etc/marker
	expect_out_line "marker-in-dir"
	run openshell sandbox stop keep
	expect_rc 0
	run openshell sandbox start keep
	expect_rc 0
	run openshell sandbox exec -n keep -- cat /etc/marker
	expect_rc 0
	expect_out_line "marker-in-dir"
	run openshell gateway stop
	expect_rc 0
	run openshell gateway start
	expect_rc 0
	want=Ready eventually 30 openshell sandbox get keep
	expect_out "Ready"
	expect_out "  From: $T/root"
	run openshell sandbox exec -n keep -- cat /etc/marker
	expect_out_line "marker-in-dir"
	# checked again at every start: a root that became writable by others is refused
	run openshell sandbox stop keep
	chmod o+w "$T/root"
	run openshell sandbox start keep
	expect_rc 1
	expect_err "'$T/root' is writable by others (mode 0757)"
	chmod 755 "$T/root"
	teardown_gw
}

t_from_dir_as_an_ordinary_user() {
	need_root
	id ostest >/dev/null 2>&1 || useradd -M -d /nonexistent ostest 2>/dev/null || skip "cannot create a test user"
	install -m 755 "$OPENSHELL" "$T/openshell"
	mkdir -p "$T/uhome" && chown ostest "$T/uhome"
	mkroot "$T/uroot"
	chown -R ostest "$T/uroot"
	port=$(free_port)
	run runuser -u ostest -- env -i HOME="$T/uhome" PATH=/usr/bin:/bin OPENSHELL_GATEWAY_PORT="$port" \
		"$T/openshell" sandbox create --no-keep --from "$T/uroot" -- /bin/sh -c 'cat /etc/marker; id -u'
	expect_rc 0
	expect_out_line "marker-in-dir"
	expect_out_line "1000"
	chown -R 0 "$T/uroot" # root's directory is trusted by an ordinary user's gateway too
	run runuser -u ostest -- env -i HOME="$T/uhome" PATH=/usr/bin:/bin OPENSHELL_GATEWAY_PORT="$port" \
		"$T/openshell" sandbox create --no-keep --from "$T/uroot" -- /bin/sh -c 'cat /etc/marker'
	runuser -u ostest -- env -i HOME="$T/uhome" PATH=/usr/bin:/bin "$T/openshell" gateway stop >/dev/null 2>&1
	expect_rc 0
	expect_out_line "marker-in-dir"
}
