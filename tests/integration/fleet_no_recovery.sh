#!/bin/bash
# tests/integration/fleet.sh with FleetRecovery off on the gateways: the
# clients of a killed gateway ping again only after their own
# KEEPALIVE_TIMEOUT + REKEY_TIMEOUT (~15 s), and after the rejoin, while
# the LAN host keeps pinging them through their old gateway, only once
# that gateway has let them go (~30 s): the protocol's floor, and the
# gateway's let-go (a quiet peer's session ends instead of being
# chased), which FleetRecovery's quick handshake otherwise hides.
#
# A transfer of a moved client stalls those 30 s, and TCP's retransmit
# timer has backed off to ~26 s by then (0.2 s doubled 7 times): its
# next try may come ~50 s after the stall began, past lib.sh's 60 s
# bound for a transfer (one suite run timed out at 60 s that way).
TRANSFER_TIMEOUT=120 FLEET_RECOVERY=off exec bash "$(dirname "$0")/fleet.sh"
