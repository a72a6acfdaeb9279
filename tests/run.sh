#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine, a minimal root too
# (run as root): installs the package of every command it and the tests
# run and the build dependencies, builds, runs the unit and integration
# tests, the same again under ASan/UBSan, the fuzzers for a bounded time,
# and `make distcheck`; ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD

FUZZ_SECONDS=${FUZZ_SECONDS:-20}

passed=0 failed=0 skipped=0
failed_logs=()

# Adds up one automake build's results: a Check program counts its test
# cases, a script counts as one test.
tally_build() {
	local dir=$1 trs log result checks bad
	while IFS= read -r trs; do
		log=${trs%.trs}.log
		result=$(sed -n '/^:test-result: /{s///p;q}' "$trs")
		checks=$(sed -n 's/.*Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2 \3/p' "$log" | tail -n1)
		if [ -n "$checks" ]; then
			set -- $checks
			bad=$(($2 + $3))
			passed=$((passed + $1 - bad))
			failed=$((failed + bad))
			[ "$result" = PASS ] || [ $bad -gt 0 ] || failed=$((failed + 1))
		else
			case $result in
			PASS|XFAIL) passed=$((passed + 1)) ;;
			SKIP) skipped=$((skipped + 1)) ;;
			*) failed=$((failed + 1)) ;;
			esac
		fi
		case $result in PASS|SKIP|XFAIL) ;; *) failed_logs+=("$log") ;; esac
	done < <(find "$dir" -name '*.trs' | sort)
}

step() { # name, command...: a step that is not an automake test
	local name=$1; shift
	echo "== $name"
	if "$@"; then passed=$((passed + 1)); else
		local rc=$?
		if [ $rc -eq 77 ]; then skipped=$((skipped + 1)); else
			failed=$((failed + 1)); failed_logs+=("($name: exit $rc)")
		fi
	fi
}

build_and_check() { # dir, configure flags...: a failed build is a failure
	local dir=$1; shift
	mkdir -p "$dir"
	if ! (cd "$dir" && "$top/configure" -q "$@" >build.log 2>&1 &&
	      make -j"$(nproc)" >>build.log 2>&1); then
		failed=$((failed + 1)); failed_logs+=("$dir/build.log")
		return
	fi
	(cd "$dir" && make -j"$(nproc)" check >check.log 2>&1)
	tally_build "$dir"
}

# shellcheck source-path=SCRIPTDIR source=../contrib/need.sh
. contrib/need.sh
# Every command the suite runs: this script, tests/*.sh,
# tests/integration/*.sh and tests/fuzz/run.sh (tests/commands.sh holds
# the list to that), and clang, which tests/fuzz/run.sh names in a
# variable; then what the unit tests and the fuzzers link with.
need autoreconf awk base64 basename bash bird birdc cat chmod chown clang \
	cp cut date dd diff dirname env find gcc grep groff head id install ip ldd ln \
	make mandoc mkdir mknod mktemp mount mv ncat nft nproc nsenter od ping \
	pkg-config realpath rm sed seq setpriv sh sha256sum sleep sort ss stat \
	sysctl tail timeout touch tr unshare valgrind wc wg wg-quick \
	wireguard-go xargs -- "${NEED_BUILD[@]}" libnl-route-3-dev libclang-rt-14-dev ||
	exit 1
echo "== autoreconf"
autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; exit 1; }

echo "== build and check"
build_and_check build --enable-test-clock
# The benchmark's programs are EXTRA_PROGRAMS, which neither `make` nor a
# test builds: built here, a change to the code they share with the
# daemon and the tests cannot break them unseen.
step "benchmark tools build" bash -c 'make -C build contrib/bench/rx_load contrib/bench/aead_speed >build/bench.log 2>&1 || { tail -n 40 build/bench.log; exit 1; }'
echo "== build and check under ASan/UBSan"
build_and_check build-asan --enable-sanitizers --enable-test-clock

step "TSan: the workers' crypto hand-off, the resolver thread" bash tests/tsan.sh "$top/build"
step "fuzz (${FUZZ_SECONDS}s per target)" bash tests/fuzz/run.sh "$FUZZ_SECONDS" "$top/build/fuzz"
# distcheck proves the tarball builds and passes the unit tests; the
# network tests already ran above.
step "make distcheck" bash -c 'cd build && RINGVPN_SKIP_NETNS=1 make distcheck >distcheck.log 2>&1 || { tail -n 40 distcheck.log; exit 1; }'

for log in "${failed_logs[@]}"; do
	echo "---- $log"
	[ -f "$log" ] && tail -n 60 "$log"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
