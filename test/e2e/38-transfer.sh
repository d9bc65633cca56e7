# shellcheck shell=bash
# sandbox upload / download (issue 4): files and trees both ways with cp-style placement,
# symbolic links kept as links, names starting with '-', files owned by the sandbox's
# user, downloads confined to the workdir (also through symbolic links), uploads refused
# where the sandbox cannot write, and a directory never replaced by a download.

setup_gw() {
	export OPENSHELL_GATEWAY_PORT
	OPENSHELL_GATEWAY_PORT=$(free_port)
	run openshell sandbox create --detach --name box -- /bin/sleep 1000
	expect_rc 0
}

teardown_gw() { "$OPENSHELL" gateway stop >/dev/null 2>&1 || true; }

in_box() { run openshell sandbox exec -n box -- /bin/sh -c "$1"; }

make_tree() { # make_tree DIR: files, an empty dir, a link, an executable, '-' names
	mkdir -p "$1/sub/deeper" "$1/empty" "$1/-dashdir"
	echo alpha >"$1/a.txt"
	echo dash >"$1/-dash"
	echo inner >"$1/-dashdir/-x"
	printf '#!/bin/sh\necho run\n' >"$1/sub/run.sh"
	chmod 755 "$1/sub/run.sh"
	head -c 300000 /dev/urandom >"$1/sub/deeper/blob"
	ln -s ../a.txt "$1/sub/link"
	ln -s /etc "$1/abs-link"
}

t_upload_and_download_a_file() {
	setup_gw
	echo "one file" >one.txt
	run openshell sandbox upload box one.txt
	expect_rc 0
	expect_err_line "Uploading one.txt -> sandbox:~"
	expect_out "Upload complete"
	run openshell sandbox upload box one.txt /sandbox/docs/renamed.txt
	expect_rc 0
	expect_err_line "Uploading one.txt -> sandbox:/sandbox/docs/renamed.txt"
	run openshell sandbox upload box one.txt docs/
	expect_rc 0
	in_box 'cat /sandbox/one.txt /sandbox/docs/renamed.txt /sandbox/docs/one.txt;
		stat -c "%u %a" /sandbox/one.txt'
	expect_rc 0
	[ "$(grep -c '^one file$' "$T/.out")" = 3 ] || fail "the uploads are not all there"
	expect_out_line "1000 644"
	run openshell sandbox download box docs/renamed.txt got.txt
	expect_rc 0
	expect_err_line "Downloading sandbox:docs/renamed.txt -> got.txt"
	expect_out "Download complete"
	cmp -s one.txt got.txt || fail "the downloaded file differs"
	mkdir into
	run openshell sandbox download box /sandbox/one.txt into
	expect_rc 0
	cmp -s one.txt into/one.txt || fail "a download into a directory did not land inside it"
	run openshell sandbox download box one.txt
	expect_rc 0
	expect_err_line "Downloading sandbox:one.txt -> ."
	ls -a | grep -q '^\.openshell-download' && fail "a temporary directory was left behind"
	teardown_gw
}

t_a_tree_round_trips_with_links_and_dash_names() {
	setup_gw
	make_tree tree
	run openshell sandbox upload box tree /sandbox/up
	expect_rc 0
	in_box 'cd /sandbox/up/tree && readlink sub/link abs-link && cat -- -dashdir/-x && ./sub/run.sh &&
		find /sandbox/up ! -uid 1000 | wc -l && find /sandbox/up ! -gid 1000 | wc -l &&
		stat -c %a sub/run.sh'
	expect_rc 0
	expect_out_line "../a.txt"
	expect_out_line "/etc"
	expect_out_line "inner"
	expect_out_line "run"
	[ "$(grep -cx 0 "$T/.out")" = 2 ] || fail "files not owned by the sandbox's user"
	expect_out_line "755"
	run openshell sandbox download box /sandbox/up/tree back
	expect_rc 0
	diff -r --no-dereference tree back >"$T/diff" 2>&1 || fail "the tree differs: $(cat "$T/diff")"
	[ "$(readlink back/abs-link)" = /etc ] || fail "the link was not kept as a link"
	# into an existing directory: under the tree's name, and again (a merge)
	mkdir -p dest
	run openshell sandbox download box up/tree dest
	expect_rc 0
	run openshell sandbox download box up/tree dest
	expect_rc 0
	diff -r --no-dereference tree dest/tree >/dev/null 2>&1 || fail "the merged tree differs"
	# names starting with '-' go after "--"
	run openshell sandbox upload box -- -lead
	expect_rc 1
	expect_err "cannot upload '-lead'"
	echo lead >./-lead
	run openshell sandbox upload box -- -lead
	expect_rc 0
	run openshell sandbox download box -- -lead ./-back
	expect_rc 0
	cmp -s ./-lead ./-back || fail "the '-' file did not come back"
	teardown_gw
}

t_downloads_are_confined_to_the_workdir() {
	setup_gw
	in_box 'ln -s /etc /sandbox/etc-link && mkdir /sandbox/d && ln -s /etc/passwd /sandbox/d/pw'
	expect_rc 0
	for p in /etc/passwd /sandbox/../etc/passwd ../etc/passwd; do
		run openshell sandbox download box "$p" out
		expect_rc 1
		expect_err "is outside the sandbox's workdir /sandbox"
		expect_err "hint: only paths under /sandbox can be downloaded"
	done
	run openshell sandbox download box etc-link out
	expect_rc 1
	expect_err "error: '/sandbox/etc-link' leads to '/etc', outside the sandbox's workdir"
	run openshell sandbox download box etc-link/passwd out
	expect_rc 1
	expect_err "leads to '/etc/passwd'"
	expect_no_file out
	# inside a downloaded directory a link stays a link: nothing is read through it
	run openshell sandbox download box d out
	expect_rc 0
	[ -L out/pw ] && [ "$(readlink out/pw)" = /etc/passwd ] || fail "the link was followed"
	run openshell sandbox download box nothere
	expect_rc 1
	expect_err "cannot download '/sandbox/nothere': No such file or directory"
	ls -a | grep -q '^\.openshell-download' && fail "a temporary directory was left behind"
	teardown_gw
}

t_uploads_where_the_sandbox_cannot_write_are_refused() {
	setup_gw
	echo x >f.txt
	make_tree tree
	run openshell sandbox upload box f.txt /usr/evil.txt
	expect_rc 1
	expect_err "error: in '/usr': cannot create 'evil.txt': Read-only file system"
	expect_err "hint: the sandbox can write only under /sandbox, /tmp"
	run openshell sandbox upload box tree /etc
	expect_rc 1
	expect_err "cannot create directory 'tree': Read-only file system"
	# the sandbox side gives up at once while the CLI still sends: its answer still arrives
	head -c 30000000 /dev/zero >big.bin
	for i in 1 2 3; do
		run openshell sandbox upload box big.bin /usr/big.bin
		expect_rc 1
		expect_err "error: in '/usr': cannot create 'big.bin': Read-only file system"
	done
	[ ! -e /usr/evil.txt ] && [ ! -e /etc/tree ] || fail "wrote to the host"
	run openshell sandbox upload box f.txt /tmp/
	expect_rc 0
	in_box 'cat /tmp/f.txt'
	expect_out_line "x"
	teardown_gw
}

t_placement_never_replaces_a_directory() {
	setup_gw
	echo x >f.txt
	run openshell sandbox upload box f.txt /sandbox/a.txt
	expect_rc 0
	in_box 'mkdir -p /sandbox/dir/f.txt'
	run openshell sandbox upload box f.txt /sandbox/dir/
	expect_rc 1
	expect_err "'f.txt' is a directory; it is not replaced"
	mkdir -p blocker/a.txt
	run openshell sandbox download box a.txt blocker
	expect_rc 1
	expect_err "error: 'blocker/a.txt' is a directory; it is not replaced"
	[ -d blocker/a.txt ] || fail "the directory was replaced"
	ls -a blocker | grep -q '^\.openshell-download' && fail "a temporary directory was left"
	echo keep >plain
	run openshell sandbox download box dir plain
	expect_rc 1
	expect_err "'plain' exists and is not a directory"
	teardown_gw
}

t_usage_and_missing_sandboxes() {
	setup_gw
	run openshell sandbox upload box
	expect_rc 2
	expect_err "missing argument NAME LOCAL [DEST]"
	run openshell sandbox download box a b c
	expect_rc 2
	expect_err "unexpected argument 'c'"
	run openshell sandbox upload box nothere.txt
	expect_rc 1
	expect_err "cannot upload 'nothere.txt': No such file or directory"
	echo x >f.txt
	run openshell sandbox upload ghost f.txt
	expect_rc 1
	expect_err "ghost"
	run openshell sandbox create --name done -- /bin/true
	run openshell sandbox download done x
	expect_rc 1
	expect_err "sandbox 'done' has exited"
	teardown_gw
}
