#!/usr/bin/env bash
# Builds ./openshell: one static, stripped x86-64 executable (musl), linking BearSSL,
# libyaml, SQLite and libseccomp built from Debian's source packages.
#
#   ./build.sh               fetch (once), verify, build the libraries (cached), link
#   ./build.sh --update-lock rewrite vendor/sources.lock from what the mirror serves now
#   ./build.sh --clean-vendor forget fetched sources and library builds
#
# Sources are fetched with `apt-get source --download-only` through a private apt
# configuration under vendor/cache/apt (the system's apt setup is never changed) and each
# file is checked against its sha256 in vendor/sources.lock before it is unpacked.
set -euo pipefail
cd "$(dirname "$0")"
top=$(pwd)
cache=$top/vendor/cache
srcdir=$top/vendor/src
builddir=$top/vendor/build
prefix=$builddir/prefix
kh=$builddir/kheaders
jobs=$(nproc 2>/dev/null || echo 2)

say() { printf '==> %s\n' "$*"; }
die() {
	printf 'error: %s\n' "$1" >&2
	[ -z "${2:-}" ] || printf 'hint: %s\n' "$2" >&2
	exit 1
}

usage() {
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
}

update_lock=0
case "${1:-}" in
"") ;;
--update-lock) update_lock=1 ;;
--clean-vendor)
	rm -rf "$cache" "$srcdir" "$builddir"
	say "removed vendor/cache, vendor/src and vendor/build"
	exit 0
	;;
-h | --help)
	usage
	exit 0
	;;
*) die "unknown option '$1'" "run './build.sh --help'" ;;
esac

# ---- build tools ------------------------------------------------------------------------
need_tools() {
	local missing=() cmd pkg
	for pair in musl-gcc:musl-tools gperf:gperf tclsh:tcl xz:xz-utils make:make gcc:gcc \
		file:file patch:patch apt-get:apt; do
		cmd=${pair%%:*}
		pkg=${pair#*:}
		command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
	done
	[ -e /usr/include/linux/filter.h ] || missing+=(linux-libc-dev)
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" = 0 ]; then
		say "installing build tools: ${missing[*]}"
		apt-get update -q >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null ||
			die "apt-get install ${missing[*]} failed"
	else
		die "missing build tools: ${missing[*]}" "run: sudo apt-get install ${missing[*]}"
	fi
}

# ---- fetching ---------------------------------------------------------------------------
# deb-src entries derived from the system's deb entries (deb822 and one-line formats).
write_sources() {
	local out=$1 f
	: >"$out"
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] || continue
		sed -E 's/^Types:.*/Types: deb-src/' "$f" >>"$out"
		echo >>"$out"
	done
	if [ -s /etc/apt/sources.list ]; then
		grep -E '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' >"$cache/apt/src.list" || true
	fi
}

apt_private() {
	apt-get -q -o Dir::Etc::SourceList="$cache/apt/src.list" \
		-o Dir::Etc::SourceParts="$cache/apt/parts" -o Dir::State::Lists="$cache/apt/lists" \
		-o Dir::Cache="$cache/apt/cache" -o Debug::NoLocking=1 "$@"
}

fetch_sources() {
	mkdir -p "$cache/apt/parts" "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial" \
		"$cache/dl"
	touch "$cache/apt/src.list"
	write_sources "$cache/apt/parts/debian.sources"
	if [ ! -e "$cache/apt/lists/.updated" ] || [ "$update_lock" = 1 ]; then
		say "reading Debian's source package lists (private apt configuration)"
		apt_private update >"$cache/apt/update.log" 2>&1 ||
			die "apt-get update (deb-src) failed: $(tail -n 3 "$cache/apt/update.log")"
		touch "$cache/apt/lists/.updated"
	fi
	# apt's sandbox user must be able to write the download directory
	chown _apt "$cache/dl" 2>/dev/null || true
	local pkgs
	pkgs=$(awk '!/^#/ && NF { print $1 }' vendor/sources.lock | sort -u)
	if [ "$update_lock" = 1 ]; then
		# shellcheck disable=SC2086
		(cd "$cache/dl" && apt_private source --download-only $pkgs >/dev/null 2>&1) ||
			die "apt-get source failed"
		return
	fi
	local name ver file sum
	while read -r name ver file sum; do
		[ -e "$cache/dl/$file" ] && continue
		say "fetching $name $ver"
		(cd "$cache/dl" && apt_private source --download-only "$name=$ver" >"$cache/dl/$name.log" 2>&1) ||
			die "cannot fetch $name $ver: $(tail -n 2 "$cache/dl/$name.log")" \
				"the mirror may serve another version; see ./build.sh --update-lock"
		[ -e "$cache/dl/$file" ] || die "fetching $name $ver gave no file $file"
	done < <(grep -vE '^#|^$' vendor/sources.lock)
}

update_lock_file() {
	local tmp=vendor/sources.lock.new name file ver
	{
		echo "# Third-party sources, fetched by build.sh from Debian's source packages."
		echo "# name      debian-version           file                                      sha256"
		for name in $(awk '!/^#/ && NF { print $1 }' vendor/sources.lock | sort -u); do
			dsc=$(ls "$cache/dl/${name}"_*.dsc | tail -n 1)
			ver=$(awk '/^Version:/ { print $2 }' "$dsc")
			for file in $(awk '/^Checksums-Sha256:/ { on = 1; next } /^[A-Z]/ { on = 0 } on { print $3 }' "$dsc"); do
				case "$file" in *.asc | *orig-www*) continue ;; esac
				case "$file" in *.debian.tar.*) [ "$name" = bearssl ] || [ "$name" = libyaml ] && continue ;; esac
				printf '%-11s %-24s %-41s %s\n' "$name" "$ver" "$file" \
					"$(sha256sum "$cache/dl/$file" | cut -d' ' -f1)"
			done
		done
	} >"$tmp"
	mv "$tmp" vendor/sources.lock
	say "vendor/sources.lock rewritten; review it with: git diff vendor/sources.lock"
}

verify_sources() {
	local name ver file sum got
	while read -r name ver file sum; do
		got=$(sha256sum "$cache/dl/$file" | cut -d' ' -f1)
		[ "$got" = "$sum" ] || die "sha256 mismatch for $file: expected $sum, got $got" \
			"delete vendor/cache/dl/$file and run ./build.sh again; if the mirror changed, ./build.sh --update-lock"
	done < <(grep -vE '^#|^$' vendor/sources.lock)
}

lock_field() { awk -v n="$1" -v c="$2" '$1 == n { print $c; exit }' vendor/sources.lock; }

# ---- building ---------------------------------------------------------------------------
kernel_headers() {
	# musl-gcc hides the kernel headers (-nostdinc); expose only linux/ asm/ asm-generic/.
	mkdir -p "$kh"
	ln -sfn /usr/include/linux "$kh/linux"
	ln -sfn /usr/include/asm-generic "$kh/asm-generic"
	ln -sfn "/usr/include/$(gcc -print-multiarch)/asm" "$kh/asm"
}

# unpack NAME: a fresh tree in vendor/src/NAME-VER from the orig tarball (+ Debian patches)
unpack() {
	local name=$1 ver file dir
	ver=$(lock_field "$name" 2)
	file=$(lock_field "$name" 3)
	dir=$srcdir/$name-$ver
	rm -rf "$dir"
	mkdir -p "$dir"
	tar -xf "$cache/dl/$file" -C "$dir" --strip-components=1
	echo "$dir"
}

debian_patches() { # debian_patches NAME DIR [PATTERN]: applies Debian's patches matching PATTERN
	local name=$1 dir=$2 pattern=${3:-.} deb p
	deb=$(awk -v n="$name" '$1 == n && $3 ~ /debian\.tar/ { print $3 }' vendor/sources.lock)
	[ -n "$deb" ] || return 0
	mkdir -p "$dir/.deb"
	tar -xf "$cache/dl/$deb" -C "$dir/.deb"
	for p in $(grep -vE '^#|^$' "$dir/.deb/debian/patches/series" | grep -E "$pattern"); do
		patch -d "$dir" -p1 -s <"$dir/.deb/debian/patches/$p" || die "Debian patch $p of $name does not apply"
	done
}

stamp_for() { echo "$builddir/$1-$(lock_field "$1" 2)-$(lock_field "$1" 4 | cut -c1-12).stamp"; }

build_bearssl() {
	local dir
	dir=$(unpack bearssl)
	make -C "$dir" -j"$jobs" lib CC=musl-gcc CFLAGS="-W -Wall -Os -fPIC" LD=musl-gcc \
		LDDLL=musl-gcc >"$dir.log" 2>&1 || die "building BearSSL failed (see $dir.log)"
	cp "$dir/build/libbearssl.a" "$prefix/lib/"
	cp "$dir"/inc/*.h "$prefix/include/"
}

build_libyaml() {
	local dir f
	dir=$(unpack libyaml)
	for f in "$dir"/src/*.c; do
		musl-gcc -Os -I"$dir/include" -DYAML_VERSION_MAJOR=0 -DYAML_VERSION_MINOR=2 \
			-DYAML_VERSION_PATCH=5 -DYAML_VERSION_STRING='"0.2.5"' -DYAML_DECLARE_STATIC \
			-c "$f" -o "${f%.c}.o" || die "building libyaml failed"
	done
	ar rcs "$prefix/lib/libyaml.a" "$dir"/src/*.o
	cp "$dir/include/yaml.h" "$prefix/include/"
}

build_sqlite() {
	local dir
	dir=$(unpack sqlite3)
	# Debian's source fixes (security patches); its build-system patches are not needed.
	debian_patches sqlite3 "$dir" '^(4[12]-|000[0-9]-)'
	mkdir -p "$dir/bld"
	(cd "$dir/bld" && ../configure --disable-tcl >/dev/null 2>&1 && make sqlite3.c >"$dir.log" 2>&1) ||
		die "generating the SQLite amalgamation failed (see $dir.log)"
	musl-gcc -Os -c "$dir/bld/sqlite3.c" -o "$dir/bld/sqlite3.o" \
		-DSQLITE_DQS=0 -DSQLITE_THREADSAFE=0 -DSQLITE_DEFAULT_MEMSTATUS=0 \
		-DSQLITE_DEFAULT_WAL_SYNCHRONOUS=1 -DSQLITE_LIKE_DOESNT_MATCH_BLOBS \
		-DSQLITE_MAX_EXPR_DEPTH=0 -DSQLITE_OMIT_DEPRECATED -DSQLITE_OMIT_PROGRESS_CALLBACK \
		-DSQLITE_OMIT_SHARED_CACHE -DSQLITE_USE_ALLOCA -DSQLITE_OMIT_LOAD_EXTENSION \
		-DSQLITE_OMIT_AUTOINIT -DHAVE_USLEEP=1 -DHAVE_FDATASYNC=1 -DHAVE_LOCALTIME_R=1 ||
		die "compiling SQLite failed"
	ar rcs "$prefix/lib/libsqlite3.a" "$dir/bld/sqlite3.o"
	cp "$dir/bld/sqlite3.h" "$prefix/include/"
}

build_libseccomp() {
	local dir
	dir=$(unpack libseccomp)
	debian_patches libseccomp "$dir"
	(cd "$dir" && CC=musl-gcc CFLAGS="-O2 -isystem $kh" ./configure --host=x86_64-linux-musl \
		--disable-shared --enable-static --disable-python >"$dir.log" 2>&1 &&
		make -C src -j"$jobs" >>"$dir.log" 2>&1) || die "building libseccomp failed (see $dir.log)"
	cp "$dir/src/.libs/libseccomp.a" "$prefix/lib/"
	cp "$dir/include/seccomp.h" "$dir/include/seccomp-syscalls.h" "$prefix/include/"
}

build_lib() {
	local name=$1 fn=$2 stamp
	stamp=$(stamp_for "$name")
	if [ -e "$stamp" ]; then
		return 0
	fi
	say "building $name $(lock_field "$name" 2) with musl-gcc"
	"$fn"
	touch "$stamp"
}

need_tools
fetch_sources
if [ "$update_lock" = 1 ]; then
	update_lock_file
	exit 0
fi
verify_sources
mkdir -p "$prefix/lib" "$prefix/include"
kernel_headers
build_lib bearssl build_bearssl
build_lib libyaml build_libyaml
build_lib sqlite3 build_sqlite
build_lib libseccomp build_libseccomp

defs="-DOS_BEARSSL_VERSION=\\\"$(lock_field bearssl 2)\\\""
say "linking ./openshell"
make -s -j"$jobs" release-bin VENDOR_PREFIX="$prefix" KH="$kh" VENDOR_DEFS="$defs" ||
	die "building openshell failed"
file openshell | grep -q 'statically linked' || die "./openshell is not statically linked: $(file openshell)"
size=$(stat -c %s openshell)
[ "$size" -le $((3 * 1024 * 1024)) ] || die "./openshell is $size bytes, over the 3 MiB budget"
say "built ./openshell ($size bytes, static)"
