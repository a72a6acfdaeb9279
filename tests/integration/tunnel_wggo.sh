#!/bin/bash
# ringvpn with Debian's wireguard-go as the peer, fresh processes per case:
#   initiate (IPv4 underlay): the first ping comes from ringvpn's side, so
#     ringvpn sends the handshake initiation (wireguard-go's log must say
#     it received one);
#   respond (IPv6 underlay): the first ping comes from wireguard-go's side
#     (its log must say it received our handshake response).
# Each case then pings the other way and moves 256 MiB over TCP in both
# directions (one over IPv4, one over IPv6 inside the tunnel), comparing
# SHA-256 on both ends.
# Needs root, ip, ping, ncat, ss, wireguard-go, wg; exits 77 (skip)
# otherwise or with RINGVPN_SKIP_NETNS set. RINGVPN names the binary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init tunnel_wggo wireguard-go wg
make_pair "rv-tw-r-$$" "rv-tw-w-$$"
NS_RV=$NS_A
NS_WG=$NS_B

PORT_RV=51820
PORT_WG=51821
T4_RV=10.92.0.1
T4_WG=10.92.0.2
T6_RV=fd00:92::1
T6_WG=fd00:92::2
BIG=$((256 << 20))
PUB_RV=$(make_key rv)
PUB_WG=$(make_key wg)

# run_case initiate|respond ENDPOINT_OF_RV ENDPOINT_OF_WG
run_case() {
	local mode=$1 ep_rv=$2 ep_wg=$3 rv wg conf_rv conf_wg msg
	rv=rv$$r${mode:0:1}
	wg=rv$$w${mode:0:1}
	conf_rv=$TMP/$rv.conf
	conf_wg=$TMP/$wg.conf
	config_interface "$conf_rv" rv "$PORT_RV" "$T4_RV/24, $T6_RV/64"
	config_peer "$conf_rv" "$PUB_WG" "$T4_WG/32, $T6_WG/128" "$ep_wg"
	config_interface "$conf_wg" wg "$PORT_WG" ""
	config_peer "$conf_wg" "$PUB_RV" "$T4_RV/32, $T6_RV/128" "$ep_rv"

	if ! start_wggo "$NS_WG" "$wg" "$conf_wg" "$T4_WG/24" "$T6_WG/64" ||
	   ! start_ringvpn "$NS_RV" "$conf_rv"; then
		report FAIL "$mode: start ringvpn and wireguard-go"
		return 0
	fi
	if [ "$mode" = initiate ]; then
		check "$mode: first ping ringvpn -> wireguard-go" \
			ping_ok "$NS_RV" "$T4_WG"
		msg="Received handshake initiation"
	else
		check "$mode: first ping wireguard-go -> ringvpn" \
			ping_ok "$NS_WG" "$T4_RV"
		msg="Received handshake response"
	fi
	if grep -q "$msg" "${WG_LOG[$wg]}"; then
		report PASS "$mode: wireguard-go logged \"$msg\""
	else
		report FAIL "$mode: wireguard-go did not log \"$msg\""
	fi
	check "$mode: ping over IPv6 inside, ringvpn -> wireguard-go" \
		ping_ok "$NS_RV" "$T6_WG"
	check "$mode: ping over IPv6 inside, wireguard-go -> ringvpn" \
		ping_ok "$NS_WG" "$T6_RV"
	check "$mode: 256 MiB ringvpn -> wireguard-go [$T4_WG], SHA-256 matches" \
		transfer "$NS_RV" "$NS_WG" "$T4_WG" "$BIG"
	check "$mode: 256 MiB wireguard-go -> ringvpn [$T6_RV], SHA-256 matches" \
		transfer "$NS_WG" "$NS_RV" "$T6_RV" "$BIG"
	check "$mode: SIGTERM: ringvpn exits 0, interface removed" \
		stop_ringvpn "$rv"
	stop_wggo "$wg"
	unset "RV_NS[$rv]" "WG_NS[$wg]"
}

run_case initiate "$UL4_A:$PORT_RV" "$UL4_B:$PORT_WG"
run_case respond "[$UL6_A]:$PORT_RV" "[$UL6_B]:$PORT_WG"

exit "$FAILED"
