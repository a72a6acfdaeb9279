#!/bin/bash
# The fallback data path under valgrind's memcheck. memcheck.sh runs a
# daemon with every data-path feature the kernel has; this one runs it
# with all of them turned off (RINGVPN_DISABLE): no vnet_hdr, no GSO or
# GRO, plain io_uring reads and recvmsgs, where the kernel also writes the
# msghdr's address and flags that the workers then read. Two namespaces:
# A under memcheck (`up -f` in the foreground), B plain; a handshake,
# pings and 4 MiB each way with SHA-256 compared, then SIGTERM. A must
# exit 0 (--error-exitcode turns any error and any definite leak into
# 99) and its log must say "ERROR SUMMARY: 0 errors". Should this
# valgrind not know a system call the daemon needs (io_uring's came with
# 3.16; Debian 12 has 3.19), the test skips (77) and names it.
# Needs root, ip, ping, ncat, valgrind; exits 77 (skip) otherwise or for
# an AddressSanitizer build. RINGVPN names the binary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init valgrind valgrind
# The sanitizer's shadow memory and valgrind cannot share a process.
if asan_build; then
	skip "$RINGVPN is built with AddressSanitizer"
fi
ALL_OFF=vnet_hdr,tso,uso,udp_gso,udp_gro,multishot_recv,multishot_read
ALL_OFF+=,defer_taskrun,evp_aead,parallel
make_pair "rv-vg-a-$$" "rv-vg-b-$$"
A=rvv$$a
B=rvv$$b
rv_pair "$A" "$B" "10.94.0.1/24" "10.94.0.2/24"

# The daemon under memcheck: valgrind runs it in its own process, so the
# PID start_ringvpn records is the daemon's.
REAL=$RINGVPN
LOG=$TMP/memcheck.log
cat >"$TMP/vg-ringvpn" <<EOF
#!/bin/sh
exec env RINGVPN_DISABLE=$ALL_OFF valgrind --tool=memcheck \\
	--leak-check=full --errors-for-leak-kinds=definite \\
	--error-exitcode=99 --track-fds=no --log-file="$LOG" "$REAL" "\$@"
EOF
chmod +x "$TMP/vg-ringvpn"

# unhandled_syscalls: what valgrind said it could not run, if anything.
unhandled_syscalls() { grep -i "unhandled.*syscall" "$LOG" 2>/dev/null; }

start_ringvpn "$NS_B" "$TMP/$B.conf"
RINGVPN=$TMP/vg-ringvpn
TRANSFER_TIMEOUT=40
# Slower under memcheck than start_ringvpn's 10 s allow: a while more.
if ! start_ringvpn "$NS_A" "$TMP/$A.conf" >/dev/null &&
	! wait_for 20 rv_ready "$NS_A" "$A" "$TMP/$A.conf"; then
	if unhandled_syscalls >/dev/null; then
		skip "valgrind $(valgrind --version) cannot run ringvpn:" \
			"$(unhandled_syscalls | sort -u | head -n 3)"
	fi
	tail -n 40 "$LOG"
	report FAIL "ringvpn under memcheck comes up"
	exit 1
fi
RINGVPN=$REAL

# shellcheck disable=SC2317 # called through check
fallback_path() {
	local line
	line=$(rv_show "$A" | sed -n 's/^ *data path: //p')
	echo "data path under memcheck: ${line:-?}"
	[ "$line" = none ]
}
# shellcheck disable=SC2317 # called through check
traffic() {
	ping_ok "$NS_A" 10.94.0.2 &&
		transfer "$NS_A" "$NS_B" 10.94.0.2 $((4 << 20)) &&
		transfer "$NS_B" "$NS_A" 10.94.0.1 $((4 << 20))
}
# shellcheck disable=SC2317 # called through check
clean_exit() {
	local pid=${RV_PID[$A]} status=0
	kill -TERM "$pid"
	wait_for 30 pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" || status=$?
	lib_untrack_pid "$pid"
	grep -E "ERROR SUMMARY|definitely lost" "$LOG" || true
	unhandled_syscalls || true
	if [ "$status" -ne 0 ] ||
		! grep -q "ERROR SUMMARY: 0 errors" "$LOG"; then
		echo "exit status $status"
		tail -n 80 "$LOG"
		return 1
	fi
}

check "under memcheck: every data-path feature is off" fallback_path
check "under memcheck: ping and 4 MiB each way, SHA-256 matches" traffic
check "under memcheck: SIGTERM, exit 0, no errors, no definite leaks" \
	clean_exit
exit "$FAILED"
