#!/bin/bash
# The gateway fleet of issue 17, short: two ringvpn gateways behind one
# anycast address (198.19.255.1), announced by BIRD over BGP to a router
# that spreads six clients (four ringvpn, two wireguard-go) over them by
# ECMP; a LAN router that learns by BGP which gateway holds each client.
# contrib/fleet/fleetlib.sh has the picture and the checks:
#   - every client reaches the LAN host (ping, 1 MiB with SHA-256
#     compared), the clients are on both gateways, each on the one ECMP
#     chose, and the LAN router routes it back through that one;
#   - a peer added to the file and pushed with syncconf reaches both
#     gateways, touches no session, and the new client gets through;
#   - kill -9 of g2's ringvpn during transfers: its routes go within 3 s
#     everywhere; its clients (a ringvpn, both wireguard-go) ping again
#     after a new handshake with g1 (each time, the median and the worst
#     printed); g1's clients lose nothing; no trace of g2 is left in any
#     namespace;
#   - g2 comes back: it rejoins the ECMP route, the clients it gets back
#     ping again (times printed), the others lose nothing, and the LAN
#     router routes each through the gateway of its newest session,
#     though the old one still announces it (their MEDs printed).
# The gateways run with FleetRecovery (FLEET_RECOVERY=on, the default):
# moved clients must ping again within 3 s. fleet_no_recovery.sh runs
# this with it off, where they wait out their own timeout (~15 s; ~30 s
# after the rejoin, when the LAN keeps sending to the old gateway).
# contrib/fleet/lab.sh runs the whole lab (three gateways, twelve
# clients). Needs root, bird, birdc, wireguard-go, wg, sysctl; exits 77
# (skip) otherwise, with RINGVPN_SKIP_NETNS set, or in the sanitizer
# build: what the lab adds to session_table.sh and fleet_recovery.sh,
# which run there, is BIRD's and the kernel's work, and the two forms
# take two minutes. RINGVPN names the binary.
set -euo pipefail
here=$(dirname "$0")
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
# shellcheck source=../../contrib/fleet/fleetlib.sh
. "$here/../../contrib/fleet/fleetlib.sh"

lib_init "fleet-${FLEET_RECOVERY:-on}" bird birdc wireguard-go wg sysctl
! asan_build || skip "the fleet lab in the sanitizer build (see the top)"

FLEET_GATEWAYS=2
FLEET_CLIENTS=6
t_start=$SECONDS
check "the fleet comes up: BGP sessions, ECMP over both gateways" fleet_up
[ "$FAILED" -eq 0 ] || exit 1
fleet_reach
fleet_syncconf
fleet_kill 2
fleet_rejoin 2
echo "wall time $((SECONDS - t_start)) s"
exit "$FAILED"
