#!/bin/bash
# tests/integration/fleet.sh with FleetRecovery off on the gateways: the
# clients of a killed gateway ping again only after their own
# KEEPALIVE_TIMEOUT + REKEY_TIMEOUT (~15 s), and after the rejoin, while
# the LAN host keeps pinging them through their old gateway, only once
# that gateway has let them go (~30 s): the protocol's floor, and the
# gateway's let-go (a quiet peer's session ends instead of being
# chased), which FleetRecovery's quick handshake otherwise hides.
FLEET_RECOVERY=off exec bash "$(dirname "$0")/fleet.sh"
