#!/bin/bash
# Builds the libFuzzer targets with clang straight from the sources, makes
# seed corpora from real messages, and runs each target for a while.
# Usage: tests/fuzz/run.sh [SECONDS_PER_TARGET] [OUTDIR]
# Exits 77 (skip) without clang or its fuzzer runtime, 1 if a target failed.
set -u

secs=${1:-30}
out=${2:-$(mktemp -d "${TMPDIR:-/tmp}/ringvpn-fuzz.XXXXXX")}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cc=${CLANG:-clang}
targets="handshake data keys config journal offload uapi cmsg save"

mkdir -p "$out" || exit 1
echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' \
	>"$out/probe.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$out/probe.c" \
	-o "$out/probe" 2>/dev/null; then
	echo "fuzz: $cc with libFuzzer (libclang-rt-dev) not found, skipping"
	exit 77
fi

# Everything but the program's entry points; new files are picked up.
srcs=()
for f in "$top"/crypto/*.c "$top"/src/*.c "$top"/src/*/*.c \
	"$top"/netlink/*.c "$top"/tun/*.c; do
	case $f in "$top/src/main.c" | "$top"/src/cli/*.c) continue ;; esac
	srcs+=("$f")
done
# What configure's config.h gives the real build (AC_USE_SYSTEM_EXTENSIONS).
printf '#define _GNU_SOURCE 1\n#define PACKAGE_VERSION "fuzz"\n' \
	>"$out/config.h"
pkgs=(libsodium libb2 liburing libmnl libcrypto)
read -ra pkg_cflags <<<"$(pkg-config --cflags "${pkgs[@]}")"
read -ra pkg_libs <<<"$(pkg-config --libs "${pkgs[@]}")"
cflags=(-std=gnu11 -g -O1 -I"$top" -include "$out/config.h"
	"${pkg_cflags[@]}" -fno-sanitize-recover=all)
libs=("${pkg_libs[@]}" -lpthread)

build() { # output, sanitizers, sources...
	local exe=$1 san=$2
	shift 2
	"$cc" "${cflags[@]}" -fsanitize="$san" "$@" "$here/fuzz_common.c" \
		"${srcs[@]}" -o "$out/$exe" "${libs[@]}" 2>"$out/$exe.build.log"
}

if ! build make_seeds address,undefined "$here/make_seeds.c" ||
	! "$out/make_seeds" "$out/seeds"; then
	echo "fuzz: make_seeds failed (see $out)"
	exit 1
fi

failed=0
for t in $targets; do
	log=$out/fuzz_$t.log
	if ! build "fuzz_$t" fuzzer,address,undefined "$here/fuzz_$t.c"; then
		echo "fuzz $t: FAIL (build, see $out/fuzz_$t.build.log)"
		failed=1
		continue
	fi
	rm -rf "$out/corpus/$t"
	mkdir -p "$out/corpus/$t" "$out/artifacts"
	# Generated seeds (real messages) and checked-in ones (config files).
	seeds=$t
	[ "$t" != save ] || seeds=config # SaveConfig reads config files too
	for d in "$out/seeds/$t" "$here/seeds/$seeds"; do
		[ -d "$d" ] && cp "$d"/* "$out/corpus/$t/"
	done
	"$out/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/$t-" "$out/corpus/$t" \
		>"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -ao 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	if [ "$rc" -ne 0 ] || [ -z "$execs" ]; then
		echo "fuzz $t: FAIL (exit $rc, see $log and $out/artifacts)"
		failed=1
		continue
	fi
	echo "fuzz $t: OK, $execs execs, $rate exec/s, cov ${cov:-?}"
done
exit $failed
