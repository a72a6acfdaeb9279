#!/bin/bash
# Rekeying under load. Both daemons run with RINGVPN_TEST_CLOCK_SCALE=30,
# so REKEY_AFTER_TIME is 4 s and REJECT_AFTER_TIME 6 s of real time. After
# a first ping has made a session, 64 MiB TCP transfers run back to back
# until both ends' `handshakes` counters have grown by at least 3 (three
# rekeys while data was flowing), for at most MAX_SECONDS. Every transfer's
# SHA-256 must match: no data may be lost or corrupted across a key change.
# Needs root, ip, ping, ncat, ss; exits 77 (skip) otherwise or with
# RINGVPN_SKIP_NETNS set. RINGVPN names the binary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init rekey
make_pair "rv-rk-a-$$" "rv-rk-b-$$"

export RINGVPN_TEST_CLOCK_SCALE=30
# A transfer that stalls for longer than this has lost its session.
TRANSFER_TIMEOUT=20
MAX_SECONDS=45
REKEYS=3
T4_A=10.94.0.1
T4_B=10.94.0.2
A=rv$$a
B=rv$$b

if ! rv_pair -u "$A" "$B" "$T4_A/24" "$T4_B/24"; then
	report FAIL "daemons start"
	exit 1
fi
check "the test clock is said at up" test_clock_said "$A"
check "ping A -> B makes a session" ping_ok "$NS_A" "$T4_B"

base_a=$(rv_peer_field "$A" handshakes)
base_b=$(rv_peer_field "$B" handshakes)
if [ "${base_a:-0}" -ge 1 ] && [ "${base_b:-0}" -ge 1 ]; then
	report PASS "handshakes after the first ping: A $base_a, B $base_b"
else
	report FAIL "handshakes after the first ping: A ${base_a:-none}," \
		"B ${base_b:-none} (expected >= 1 each)"
	base_a=${base_a:-0}
	base_b=${base_b:-0}
fi

transfers=0
bad=0
start=$SECONDS
while :; do
	if transfer "$NS_A" "$NS_B" "$T4_B" $((64 << 20)); then
		transfers=$((transfers + 1))
	else
		bad=$((bad + 1))
		# A stalled session would only fail again until the deadline.
		break
	fi
	hs_a=$(rv_peer_field "$A" handshakes)
	hs_b=$(rv_peer_field "$B" handshakes)
	if [ $((${hs_a:-0} - base_a)) -ge "$REKEYS" ] &&
	   [ $((${hs_b:-0} - base_b)) -ge "$REKEYS" ]; then
		break
	fi
	[ $((SECONDS - start)) -lt "$MAX_SECONDS" ] || break
done
elapsed=$((SECONDS - start))
hs_a=$(rv_peer_field "$A" handshakes)
hs_b=$(rv_peer_field "$B" handshakes)
result="$transfers transfers of 64 MiB in ${elapsed} s, $bad failed;"
result+=" handshakes A $base_a -> ${hs_a:-none}, B $base_b -> ${hs_b:-none}"
if [ "$bad" -eq 0 ] && [ "$transfers" -ge 1 ]; then
	report PASS "every SHA-256 matched ($result)"
else
	report FAIL "transfers across rekeys ($result)"
fi
if [ $((${hs_a:-0} - base_a)) -ge "$REKEYS" ] &&
   [ $((${hs_b:-0} - base_b)) -ge "$REKEYS" ]; then
	report PASS ">= $REKEYS rekeys on both ends during the transfers"
else
	report FAIL "fewer than $REKEYS rekeys on an end ($result)"
fi

exit "$FAILED"
