#!/bin/bash
# Wire compatibility of the protocol engine alone (no TUN, no data path)
# with wireguard-go: engine_peer talks UDP to a wireguard-go interface in
# another network namespace, once over an IPv4 and once over an IPv6
# underlay.
#   Case A: the engine initiates and checks the echo reply it gets back.
#   Case B: wireguard-go initiates (a ping from its namespace) and the
#           engine answers the handshake and the echo requests.
# Needs root, wireguard-go, wg and ip; exits 77 (skip) otherwise, or when
# RINGVPN_SKIP_NETNS is set (distcheck).
# ENGINE_PEER names the engine_peer binary (default: the build tree's);
# VERBOSE=1 also shows the logs of passing cases.
set -euo pipefail

ENGINE_PEER=${ENGINE_PEER:-./tests/interop/engine_peer}

skip() {
	echo "SKIP: $*"
	exit 77
}

[ -z "${RINGVPN_SKIP_NETNS:-}" ] || skip "RINGVPN_SKIP_NETNS is set"
[ "$(id -u)" -eq 0 ] || skip "needs root"
for tool in wireguard-go wg ip ping; do
	command -v "$tool" >/dev/null 2>&1 || skip "$tool not found"
done
[ -x "$ENGINE_PEER" ] || { echo "FAIL: $ENGINE_PEER not executable"; exit 1; }

NS_WG=rvi-wg-$$
NS_EN=rvi-en-$$
IFNAME=rvi$$
VETH_WG=rviw$$
VETH_EN=rvie$$
WG_PORT=51820
EN_PORT=51821
WG_TUN=10.77.0.1
EN_TUN=10.77.0.2
umask 077 # the key files
TMP=$(mktemp -d /tmp/engine_interop.XXXXXX)
WG_PID=
EN_PID=
PING_PID=

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	local pid
	for pid in $PING_PID $EN_PID $WG_PID; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	ip netns del "$NS_WG" 2>/dev/null || true
	ip netns del "$NS_EN" 2>/dev/null || true
	rm -f "/var/run/wireguard/$IFNAME.sock"
	rm -rf "$TMP"
}
trap cleanup EXIT

in_wg() { ip netns exec "$NS_WG" "$@"; }
in_en() { ip netns exec "$NS_EN" "$@"; }

setup() {
	ip netns add "$NS_WG"
	ip netns add "$NS_EN"
	ip link add "$VETH_WG" netns "$NS_WG" type veth \
		peer name "$VETH_EN" netns "$NS_EN"
	in_wg ip link set lo up
	in_en ip link set lo up
	in_wg ip addr add 198.18.0.1/24 dev "$VETH_WG"
	in_en ip addr add 198.18.0.2/24 dev "$VETH_EN"
	in_wg ip addr add 2001:db8:18::1/64 dev "$VETH_WG" nodad
	in_en ip addr add 2001:db8:18::2/64 dev "$VETH_EN" nodad
	in_wg ip link set "$VETH_WG" up
	in_en ip link set "$VETH_EN" up

	wg genkey >"$TMP/wg.key"
	wg genkey >"$TMP/en.key"
	WG_PUB=$(wg pubkey <"$TMP/wg.key")
	EN_PUB=$(wg pubkey <"$TMP/en.key")

	# wireguard-go's log goes to a file: the UAPI socket is the sign it
	# is ready, and the log is evidence if something goes wrong.
	mkdir -p /var/run/wireguard
	LOG_LEVEL=verbose ip netns exec "$NS_WG" wireguard-go -f "$IFNAME" \
		>"$TMP/wireguard-go.log" 2>&1 &
	WG_PID=$!
	for _ in $(seq 50); do
		[ -S "/var/run/wireguard/$IFNAME.sock" ] && break
		kill -0 "$WG_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -S "/var/run/wireguard/$IFNAME.sock" ]; then
		echo "FAIL: wireguard-go did not start"
		cat "$TMP/wireguard-go.log"
		exit 1
	fi
	in_wg ip addr add "$WG_TUN/24" dev "$IFNAME"
	in_wg ip link set "$IFNAME" up
}

# Installs a fresh configuration. setconf replaces the peer, so nothing
# of a previous case's session survives into the next one.
configure_wg() {
	local endpoint=$1
	cat >"$TMP/wg.conf" <<EOF
[Interface]
PrivateKey = $(cat "$TMP/wg.key")
ListenPort = $WG_PORT

[Peer]
PublicKey = $EN_PUB
AllowedIPs = $EN_TUN/32
Endpoint = $endpoint
EOF
	in_wg wg setconf "$IFNAME" "$TMP/wg.conf"
}

FAILED=0

report() {
	local result=$1
	shift
	echo "$result: $*"
	[ "$result" = PASS ] || FAILED=1
	if [ "$result" = FAIL ] || [ -n "${VERBOSE:-}" ]; then
		echo "--- engine_peer output"
		cat "$TMP/engine.log" 2>/dev/null || true
		if [ -f "$TMP/ping.log" ]; then
			echo "--- ping output"
			cat "$TMP/ping.log"
		fi
		echo "--- wg show"
		in_wg wg show "$IFNAME" || true
		echo "--- wireguard-go log (last 20 lines)"
		tail -n 20 "$TMP/wireguard-go.log" || true
	fi
}

# Case A: engine_peer initiates and verifies wireguard-go's echo reply
# (produced by the kernel of wireguard-go's namespace).
case_initiate() {
	local family=$1 wg_endpoint=$2 en_endpoint=$3 rc=0
	rm -f "$TMP/ping.log"
	configure_wg "$en_endpoint"
	in_en "$ENGINE_PEER" --mode initiate --private-key "$TMP/en.key" \
		--peer "$WG_PUB" --endpoint "$wg_endpoint" \
		--listen-port "$EN_PORT" --local "$EN_TUN" --remote "$WG_TUN" \
		--timeout 8 >"$TMP/engine.log" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ] &&
	   grep -q "echo reply verified: 56 bytes" "$TMP/engine.log"; then
		report PASS "case A ($family underlay): engine initiates," \
			"echo reply from wireguard-go verified"
	else
		report FAIL "case A ($family underlay): engine_peer exit $rc"
	fi
}

# Case B: wireguard-go initiates because its namespace pings the engine's
# tunnel address; the ping only succeeds if wireguard-go accepted our
# handshake response and decrypted our echo replies.
case_respond() {
	local family=$1 en_endpoint=$2 rc=0 ping_rc=0 received
	configure_wg "$en_endpoint"
	in_en "$ENGINE_PEER" --mode respond --private-key "$TMP/en.key" \
		--peer "$WG_PUB" --listen-port "$EN_PORT" \
		--local "$EN_TUN" --remote "$WG_TUN" --count 3 --timeout 10 \
		>"$TMP/engine.log" 2>&1 &
	EN_PID=$!
	for _ in $(seq 50); do
		grep -q "^listening" "$TMP/engine.log" && break
		kill -0 "$EN_PID" 2>/dev/null || break
		sleep 0.1
	done
	in_wg ping -n -c 3 -W 2 "$EN_TUN" >"$TMP/ping.log" 2>&1 || ping_rc=$?
	wait "$EN_PID" || rc=$?
	EN_PID=
	received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$TMP/ping.log")
	if [ "$rc" -eq 0 ] && [ "$ping_rc" -eq 0 ] &&
	   [ "${received:-0}" -eq 3 ]; then
		report PASS "case B ($family underlay): wireguard-go initiates," \
			"3/3 pings answered by the engine"
	else
		report FAIL "case B ($family underlay): engine_peer exit $rc," \
			"ping exit $ping_rc, ${received:-0}/3 replies"
	fi
}

setup
case_initiate IPv4 "198.18.0.1:$WG_PORT" "198.18.0.2:$EN_PORT"
case_respond IPv4 "198.18.0.2:$EN_PORT"
case_initiate IPv6 "[2001:db8:18::1]:$WG_PORT" "[2001:db8:18::2]:$EN_PORT"
case_respond IPv6 "[2001:db8:18::2]:$EN_PORT"

exit "$FAILED"
