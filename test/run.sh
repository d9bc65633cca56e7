#!/usr/bin/env bash
# `make test`: installs what the tests need (as root on Debian), builds the release
# binary (./build.sh) and the sanitizer build (make dev), then runs the unit tests,
# the fuzz-corpus regression and the end-to-end tests against the static binary (as root,
# a second time for the confinement tests as an ordinary user).
# Ends with one line "N passed, N failed, N skipped"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
root=$(pwd)

need_pkgs=(gcc make musl-tools libbearssl-dev libyaml-dev libsqlite3-dev libseccomp-dev
	python3 curl openssl iproute2 procps file psmisc clang libclang-rt-14-dev)
missing=()
for p in "${need_pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "==> installing test dependencies: ${missing[*]}"
		apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q "${missing[@]}" >/dev/null || {
			echo "error: apt-get install ${missing[*]} failed" >&2
			exit 1
		}
	else
		echo "error: missing packages: ${missing[*]}" >&2
		echo "hint: run 'sudo apt-get install ${missing[*]}'" >&2
		exit 1
	fi
fi

echo "==> release build (./build.sh)"
./build.sh || { echo "error: ./build.sh failed" >&2; exit 1; }
echo "==> dev build (make dev)"
make -s -j"$(nproc)" dev || { echo "error: make dev failed" >&2; exit 1; }

total_p=0 total_f=0 total_s=0
count() { # count LOGFILE: adds the last "N passed, N failed[, N skipped]" line
	local line p f s
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	if [ -z "$line" ]; then
		total_f=$((total_f + 1))
		return
	fi
	p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
	s=$(echo "$line" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p')
	total_p=$((total_p + p))
	total_f=$((total_f + f))
	total_s=$((total_s + ${s:-0}))
}

log=$(mktemp)
echo "==> unit tests"
ASAN_OPTIONS=detect_leaks=1 ./build/dev/unit 2>&1 | tee "$log" | grep -v '^ok '
count "$log"

if command -v clang >/dev/null && [ -n "$(ls test/fuzz/fuzz_*.c 2>/dev/null)" ] &&
	dpkg-query -W libclang-rt-14-dev >/dev/null 2>&1; then
	echo "==> fuzz corpus regression"
	make -s fuzz-regress 2>&1 | tee "$log" | grep -v '^ok '
	count "$log"
fi

echo "==> end-to-end tests"
OPENSHELL=$root/openshell ./test/e2e/run.sh 2>&1 | tee "$log" | grep -v '^ok '
count "$log"

# Sandboxes work both as root and as an ordinary user (issue 4): the confinement, escape,
# lifecycle and transfer tests once more, gateway and CLI run by an unprivileged user.
if [ "$(id -u)" = 0 ]; then
	echo "==> end-to-end tests as an ordinary user (ostest)"
	E2E_USER=ostest OPENSHELL=$root/openshell \
		E2E_FILTER='t_(create_boot|stdin|enforced_limits|links_signals|identity|host_files|kernel_attack|proxy_answers|delete_leaves|exec_runs|denied_system|terminal|stop_and_start|killed_supervisor|logs_show|from_|a_tree|downloads|placement|upload)' \
		./test/e2e/run.sh test/e2e/35-sandbox.sh test/e2e/36-fromdir.sh test/e2e/38-transfer.sh \
		2>&1 | tee "$log" | grep -v '^ok '
	count "$log"
fi
rm -f "$log"

echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" = 0 ]
