#!/usr/bin/env bash
# `make test`: installs what the tests need (as root on Debian), builds the release
# binary (./build.sh) and the sanitizer build (make dev), then runs the unit tests,
# the fuzz-corpus regression and the end-to-end tests against the static binary.
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
rm -f "$log"

echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" = 0 ]
