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

jobs=$(nproc)

# each_in_parallel FUNC ITEM...: FUNC ITEM for every item, as many at a
# time as there are CPUs; fails if any did.
each_in_parallel() {
	local fn=$1 running=0 status=0 item
	shift
	for item in "$@"; do
		if [ "$running" -ge "$jobs" ]; then
			wait -n || status=1
			running=$((running - 1))
		fi
		"$fn" "$item" &
		running=$((running + 1))
	done
	while [ "$running" -gt 0 ]; do
		wait -n || status=1
		running=$((running - 1))
	done
	return $status
}

build() { # output, sanitizers, sources...
	local exe=$1 san=$2
	shift 2
	"$cc" "${cflags[@]}" -fsanitize="$san" "$@" "$here/fuzz_common.c" \
		"${srcs[@]}" -o "$out/$exe" "${libs[@]}" 2>"$out/$exe.build.log"
}

# The targets share every source but their own: compiled once, with the
# fuzzer's coverage, and linked into each.
obj_of() {
	local rel=${1#"$top"/}
	echo "$out/obj/${rel//\//_}.o"
}
compile_shared() {
	"$cc" "${cflags[@]}" -fsanitize=fuzzer-no-link,address,undefined \
		-c "$1" -o "$(obj_of "$1")" 2>"$(obj_of "$1").log"
}
shared_objs=()
for f in "${srcs[@]}" "$here/fuzz_common.c"; do
	shared_objs+=("$(obj_of "$f")")
done
link_target() { # output, source
	"$cc" "${cflags[@]}" -fsanitize=fuzzer,address,undefined "$2" \
		"${shared_objs[@]}" -o "$out/$1" "${libs[@]}" \
		2>"$out/$1.build.log"
}

if ! build make_seeds address,undefined "$here/make_seeds.c" ||
	! "$out/make_seeds" "$out/seeds"; then
	echo "fuzz: make_seeds failed (see $out)"
	exit 1
fi
mkdir -p "$out/obj"
if ! each_in_parallel compile_shared "${srcs[@]}" "$here/fuzz_common.c"; then
	echo "fuzz: FAIL (compiling the shared sources, see $out/obj/*.log)"
	exit 1
fi

# fuzz_one TARGET: builds and runs one target; its one-line result goes
# to $out/fuzz_TARGET.result, and its status is the exit code.
fuzz_one() {
	local t=$1 log=$out/fuzz_$1.log res=$out/fuzz_$1.result seeds rc
	local execs rate cov
	if ! link_target "fuzz_$t" "$here/fuzz_$t.c"; then
		echo "fuzz $t: FAIL (build, see $out/fuzz_$t.build.log)" >"$res"
		return 1
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
		echo "fuzz $t: FAIL (exit $rc, see $log and $out/artifacts)" >"$res"
		return 1
	fi
	echo "fuzz $t: OK, $execs execs, $rate exec/s, cov ${cov:-?}" >"$res"
}

# One target per CPU at a time: each is a single process run for a
# fixed time, so two CPUs halve the step.
failed=0
# shellcheck disable=SC2086 # the list is words
each_in_parallel fuzz_one $targets || failed=1
for t in $targets; do
	cat "$out/fuzz_$t.result"
done
exit $failed
