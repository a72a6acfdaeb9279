#!/bin/bash
# One ringvpn daemon under valgrind's memcheck, the other plain, in two
# namespaces: a handshake, pings and 4 MiB each way (sha256 compared),
# a UAPI get and set, then SIGTERM, with SaveConfig writing the set
# keepalive back to the file. Two workers on both ends, so that
# the workers' shared crypto (one reading and writing what another
# prepared) runs under memcheck too. The memcheck'd daemon must exit 0
# with no errors and no definite leaks (--error-exitcode makes either
# one a non-zero status). io_uring completions are marked defined for
# memcheck by the workers (valgrind/memcheck.h), so what the kernel wrote
# into the buffers counts as initialised.
# Needs root, ip, ping, ncat, valgrind, wg; exits 77 (skip) otherwise.
# RINGVPN names the binary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init memcheck valgrind wg
# AddressSanitizer's shadow memory and valgrind cannot share a process:
# the sanitizer build is checked by its own runtime instead.
if asan_build; then
	skip "$RINGVPN is built with AddressSanitizer"
fi
make_pair "rv-mc-a-$$" "rv-mc-b-$$"
A=rvm$$a
B=rvm$$b
# A saves its configuration on the way down (SaveConfig): that path too.
rv_pair -a "SaveConfig = true" "$A" "$B" "10.91.0.1/24" "10.91.0.2/24" \
	"Threads = 2"

# The memcheck'd binary: valgrind runs it in the same process, so the PID
# start_ringvpn records is the daemon's.
REAL=$RINGVPN
cat >"$TMP/vg-ringvpn" <<EOF
#!/bin/sh
exec valgrind --tool=memcheck --leak-check=full \\
	--errors-for-leak-kinds=definite --error-exitcode=99 \\
	--log-file="$TMP/memcheck.log" "$REAL" "\$@"
EOF
chmod +x "$TMP/vg-ringvpn"

start_ringvpn "$NS_B" "$TMP/$B.conf"
RINGVPN=$TMP/vg-ringvpn
TRANSFER_TIMEOUT=120
# Slower under memcheck than start_ringvpn's 10 s allow: a while more.
if ! start_ringvpn "$NS_A" "$TMP/$A.conf" >/dev/null &&
	! wait_for 30 rv_ready "$NS_A" "$A" "$TMP/$A.conf"; then
	cat "$TMP/memcheck.log"
	echo "FAIL: ringvpn under memcheck did not come up"
	exit 1
fi
RINGVPN=$REAL

traffic() {
	ping_ok "$NS_A" 10.91.0.2 &&
		transfer "$NS_A" "$NS_B" 10.91.0.2 $((4 << 20)) &&
		transfer "$NS_B" "$NS_A" 10.91.0.1 $((4 << 20))
}
uapi() {
	ip netns exec "$NS_A" wg show "$A" dump >/dev/null &&
		ip netns exec "$NS_A" wg set "$A" peer "${RV_PUB[$B]}" \
			persistent-keepalive 5 &&
		ip netns exec "$NS_A" wg show "$A" persistent-keepalive |
		grep "	5$" >/dev/null
}
clean_exit() {
	local pid=${RV_PID[$A]} status=0
	kill -TERM "$pid"
	wait_for 60 pid_gone "$pid" || true
	wait "$pid" || status=$?
	lib_untrack_pid "$pid"
	grep -E "ERROR SUMMARY|definitely lost|Invalid|uninitialised" \
		"$TMP/memcheck.log" | head -n 20
	[ "$status" = 0 ] &&
		grep -q "ERROR SUMMARY: 0 errors" "$TMP/memcheck.log" &&
		grep -qx "PersistentKeepalive = 5" "$TMP/$A.conf" || {
		echo "exit status $status"
		tail -n 60 "$TMP/memcheck.log"
		false
	}
}

check "under memcheck: ping and 4 MiB each way, sha256" traffic
check "under memcheck: UAPI get and set" uapi
check "under memcheck: SIGTERM, SaveConfig, exit 0, no errors, no definite leaks" \
	clean_exit
exit "$FAILED"
