#!/bin/bash
# ringvpn to ringvpn, two network namespaces joined by veth: over an IPv4
# underlay and then over an IPv6 one (fresh daemons each time), ping both
# ways over IPv4 and IPv6 inside the tunnel, `ringvpn show` names the
# peer's endpoint, a 256 MiB TCP transfer arrives with the same SHA-256,
# and SIGTERM shuts each daemon down cleanly (exit 0, interface gone).
# Needs root, ip, ping, ncat, ss; exits 77 (skip) otherwise or with
# RINGVPN_SKIP_NETNS set. RINGVPN names the binary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init tunnel_ringvpn
make_pair "rv-tr-a-$$" "rv-tr-b-$$"

T4_A=10.91.0.1
T4_B=10.91.0.2
T6_A=fd00:91::1
T6_B=fd00:91::2
BIG=$((256 << 20))

# run_underlay FAMILY ENDPOINT_OF_A TRANSFER_FROM
run_underlay() {
	local fam=$1 ep_a=$2 from=$3 a b got
	a=rv$$a$fam
	b=rv$$b$fam
	if ! rv_pair -"$fam" -u "$a" "$b" "$T4_A/24, $T6_A/64" \
		"$T4_B/24, $T6_B/64"; then
		report FAIL "IPv$fam underlay: daemons start"
		return 0
	fi
	check "IPv$fam underlay: ping A -> B over IPv4 inside" \
		ping_ok "$NS_A" "$T4_B"
	check "IPv$fam underlay: ping A -> B over IPv6 inside" \
		ping_ok "$NS_A" "$T6_B"
	check "IPv$fam underlay: ping B -> A over IPv4 inside" \
		ping_ok "$NS_B" "$T4_A"
	check "IPv$fam underlay: ping B -> A over IPv6 inside" \
		ping_ok "$NS_B" "$T6_A"

	got=$(rv_peer_field "$b" endpoint)
	if [ "$got" = "$ep_a" ]; then
		report PASS "IPv$fam underlay: B's show names endpoint $ep_a"
	else
		report FAIL "IPv$fam underlay: B's show names endpoint" \
			"'$got', expected $ep_a"
	fi

	if [ "$from" = A ]; then
		check "IPv$fam underlay: 256 MiB A -> B [$T4_B], SHA-256 matches" \
			transfer "$NS_A" "$NS_B" "$T4_B" "$BIG"
	else
		check "IPv$fam underlay: 256 MiB B -> A [$T6_A], SHA-256 matches" \
			transfer "$NS_B" "$NS_A" "$T6_A" "$BIG"
	fi

	check "IPv$fam underlay: SIGTERM: both exit 0, interfaces removed" \
		stop_ringvpns "$a" "$b"
	unset "RV_NS[$a]" "RV_NS[$b]"
}

run_underlay 4 "$UL4_A:$RV_PORT_A" A
run_underlay 6 "[$UL6_A]:$RV_PORT_A" B

exit "$FAILED"
