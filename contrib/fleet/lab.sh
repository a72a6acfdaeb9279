#!/usr/bin/env bash
# The gateway fleet lab of issue 17, whole (as root, on Debian 12):
# three ringvpn gateways behind the anycast address 198.19.255.1,
# announced by BIRD 2 over BGP (hold time 3, BFD) to a router that
# spreads twelve clients (eight ringvpn, four wireguard-go) over them
# with the kernel's L4 ECMP, and a LAN router that learns by BGP which
# gateway holds each client's session. The picture and the checks are in
# contrib/fleet/fleetlib.sh; tests/integration/fleet.sh is the short form
# the test suite runs. In order:
#   1. every client pings the LAN host and sends it 1 MiB (SHA-256
#      compared); clients per gateway; each on the gateway ECMP chose,
#      routed back through it by the LAN router;
#   2. a peer added to the gateways' file, pushed with syncconf during
#      transfers: on every gateway, no session touched, the new client
#      gets through;
#   3. kill -9 of g2's ringvpn during transfers: withdrawal times, each
#      moved client's time until its ping works again, the median and
#      the worst; the others lose nothing; no trace of g2 anywhere;
#   4. g2 starts again: it rejoins; the clients ECMP sends back to it and
#      their times; the LAN router routes each through the gateway of
#      its newest session (the lower MED) though the old one still
#      announces it.
# Installs the package of every command it runs (contrib/need.sh: bird2
# among them), builds build/ringvpn, and removes everything it made when
# it ends or is interrupted (the namespaces, every process it started,
# BIRD too). FLEET_GATEWAYS, FLEET_CLIENTS and FLEET_KILL change the size
# and the gateway killed.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD

# shellcheck source-path=SCRIPTDIR source=../need.sh
. contrib/need.sh
# Every command this script and the files it sources run
# (tests/commands.sh holds it to that).
need autoreconf awk basename bird birdc cat cut date dd diff dirname env \
	grep head id ip ldd make mkdir mktemp ncat nproc ping rm sed seq \
	sha256sum sleep sort ss sysctl tail timeout tr wc wg wireguard-go -- "${NEED_BUILD[@]}"

echo "== building build/ringvpn"
[ -x configure ] || autoreconf -fi >/dev/null 2>&1
mkdir -p build
(cd build && { [ -f Makefile ] || ../configure -q; } &&
	make -j"$(nproc)" -s ringvpn >/dev/null)
RINGVPN=$top/build/ringvpn

FLEET_GATEWAYS=${FLEET_GATEWAYS:-3}
FLEET_CLIENTS=${FLEET_CLIENTS:-12}
FLEET_KILL=${FLEET_KILL:-2}
# shellcheck source=../../tests/integration/lib.sh
. tests/integration/lib.sh
# shellcheck source=fleetlib.sh
. contrib/fleet/fleetlib.sh

lib_init fleet-lab bird birdc wireguard-go wg sysctl
t_start=$SECONDS
echo "== $FLEET_GATEWAYS gateways, $FLEET_CLIENTS clients (every" \
	"${FLEET_WGGO_EVERY}rd wireguard-go)"
check "the fleet comes up: BGP sessions, ECMP over every gateway" fleet_up
[ "$FAILED" -eq 0 ] || exit 1
echo "== the router's route to $FLEET_SVC"
ip -n "$FL_R" route show "$FLEET_SVC/32"
echo "== 1. every client through the anycast address"
fleet_reach
echo "== 2. a peer added with syncconf"
fleet_syncconf
echo "== 3. kill -9 of g$FLEET_KILL's ringvpn"
fleet_kill "$FLEET_KILL"
echo "== 4. g$FLEET_KILL comes back"
fleet_rejoin "$FLEET_KILL"
echo "== the LAN router's routes"
ip -n "$FL_L" route show
echo "== wall time $((SECONDS - t_start)) s;" \
	"$([ "$FAILED" -eq 0 ] && echo "every check passed" || echo "SOME CHECKS FAILED")"
exit "$FAILED"
