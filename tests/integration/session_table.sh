#!/bin/bash
# A gateway of a fleet: ServiceAddress and SessionTable (ringvpn.conf(5)).
# Gateway G (ringvpn, Threads = 2) has the service addresses 198.18.9.1
# and 2001:db8:9::1 on its interface and SessionTable = 4242; client 1
# (ringvpn) reaches it at 198.18.9.1, client 2 (wireguard-go) at
# [2001:db8:9::1], both through G's underlay address. Each client has an
# IPv4 and an IPv6 tunnel address, so both families of routes appear.
#   - the service addresses are host addresses on G's interface with no
#     prefix route, and table 4242 is empty before any handshake;
#   - after each client's ping, table 4242 holds exactly the AllowedIPs
#     of the clients that made a session (protocol 82), each client's
#     endpoint is still the service address (a reply from elsewhere would
#     have moved it) and G says it answers each from there;
#   - each route's metric is 4000000000 - the wall-clock seconds of its
#     peer's latest handshake (newest session wins, ringvpn(8));
#   - G's link down and up: the kernel deletes the routes through it,
#     and they are back within 3 s;
#   - syncconf changing client 2's AllowedIPs brings the table in step
#     while client 1's session goes on (its ping passes, no handshake);
#     syncconf moving a prefix from client 2 to client 1: it is routed
#     once, at client 1's metric; syncconf removing client 2 removes
#     its routes;
#   - ringvpn down: table 4242 empty and the service addresses gone, the
#     routes deleted by the daemon (ip monitor shows their deletion
#     before the link's);
#   - G and client 1 again (G with Threads = 1), with
#     RINGVPN_TEST_CLOCK_SCALE=60: client 1's routes are there 5 s (300 s
#     of G's clock) after its latest handshake, with client 1 stopped,
#     and go at 540 s (9 s); then after a new session, kill -9 of G takes the
#     routes and addresses with the interface, and ringvpn down succeeds
#     and leaves the namespace as it was before the first up;
#   - SessionTable = 254 and ServiceAddress = 10.0.0.0/24 are refused
#     with the line and reason, and nothing is set up;
#   - G on a host with IPv6 disabled (its namespace): client 1's session
#     routes only its IPv4 prefix, and G logs no refused route.
# Needs root, ip, ping, ncat, ss, wg, wireguard-go; exits 77 (skip)
# otherwise or with RINGVPN_SKIP_NETNS set. RINGVPN names the binary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init session_table wg wireguard-go
NS_SW=rv-st-s-$$
NS_G=rv-st-g-$$
NS_1=rv-st-1-$$
NS_2=rv-st-2-$$
BR=rvst$$br
make_switch "$NS_SW" "$BR"
make_netns "$NS_G"
make_netns "$NS_1"
make_netns "$NS_2"
G4=198.18.0.1 G6=2001:db8:18::1
SVC4=198.18.9.1 SVC6=2001:db8:9::1
switch_port "$NS_SW" "$BR" rvst$$pg "$NS_G" vg "$G4/24" "$G6/64"
switch_port "$NS_SW" "$BR" rvst$$p1 "$NS_1" v1 198.18.0.2/24 \
	2001:db8:18::2/64
switch_port "$NS_SW" "$BR" rvst$$p2 "$NS_2" v2 198.18.0.3/24 \
	2001:db8:18::3/64
# The router in front of a fleet: here, a route to G.
ip -n "$NS_1" route add "$SVC4/32" via "$G4"
ip -n "$NS_2" -6 route add "$SVC6/128" via "$G6"

TABLE=4242
PORT_G=51870
PORT_1=51871
PORT_2=51872
PUB_G=$(make_key g)
PUB_1=$(make_key c1)
PUB_2=$(make_key c2)
G=rvst$$g C1=rvst$$a C2=rvst$$b
C1_IPS="10.61.0.2/32, fd61::2/128"
C2_IPS="10.61.0.3/32, fd61::3/128"
C2_IPS_NEW="10.61.0.3/32, 10.62.0.0/24"
MOVED=10.62.0.0/24
BEFORE=$(net_state "$NS_G")

# gw_config THREADS C2_ALLOWED [C1_ALLOWED]: G's file; without
# C2_ALLOWED, no client 2.
gw_config() {
	config_interface "$TMP/$G.conf" g "$PORT_G" "10.61.0.1/24, fd61::1/64" \
		"ServiceAddress = $SVC4, $SVC6/128" "SessionTable = $TABLE" \
		"Threads = $1"
	config_peer "$TMP/$G.conf" "$PUB_1" "${3:-$C1_IPS}" ""
	[ -z "$2" ] || config_peer "$TMP/$G.conf" "$PUB_2" "$2" ""
}

start_c1() {
	config_interface "$TMP/$C1.conf" c1 "$PORT_1" "10.61.0.2/32, fd61::2/128"
	config_peer "$TMP/$C1.conf" "$PUB_G" "10.61.0.1/32, fd61::1/128" \
		"$SVC4:$PORT_G"
	start_ringvpn "$NS_1" "$TMP/$C1.conf"
}

start_c2() {
	{
		echo "[Interface]"
		echo "PrivateKey = $(cat "$TMP/c2.key")"
		echo "ListenPort = $PORT_2"
	} >"$TMP/$C2.wg"
	config_peer "$TMP/$C2.wg" "$PUB_G" "10.61.0.1/32, fd61::1/128" \
		"[$SVC6]:$PORT_G"
	start_wggo "$NS_2" "$C2" "$TMP/$C2.wg" 10.61.0.3/32 fd61::3/128
}

# table_routes [SELECTOR...]: the destinations in table 4242 of G, both
# families, sorted, on one line ("" for none, or no table).
table_routes() {
	{
		ip -n "$NS_G" route show table "$TABLE" "$@" 2>/dev/null || true
		ip -n "$NS_G" -6 route show table "$TABLE" "$@" 2>/dev/null ||
			true
	} | awk '{ print $1 }' | sort | tr '\n' ' ' | sed 's/ $//'
}

# "10.61.0.2/32, fd61::2/128" as `ip route` names the destinations.
as_routes() {
	echo "$@" | tr ',' '\n' | tr -d ' ' | sed 's#/32$##; s#/128$##' |
		sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//'
}

routes_are() { [ "$(table_routes)" = "$(as_routes "$@")" ]; }

# table_is ALLOWED...: table 4242 holds exactly these, all of protocol
# 82 through G's interface (waits 5 s for it).
table_is() {
	local want
	want=$(as_routes "$@")
	if ! wait_for 5 routes_are "$@"; then
		echo "table $TABLE: '$(table_routes)', expected '$want'"
		return 1
	fi
	[ "$(table_routes proto 82 dev "$G")" = "$want" ] || {
		echo "not all of protocol 82 through $G:"
		ip -n "$NS_G" route show table "$TABLE"
		ip -n "$NS_G" -6 route show table "$TABLE"
		return 1
	}
}

# metric_of DST: the metric of G's route to DST in table 4242, one line
# per route.
metric_of() {
	ip -n "$NS_G" route show table "$TABLE" "$1" |
		awk '{ for (i = 1; i < NF; i++) if ($i == "metric") print $(i + 1) }'
}

# metric_is_newest PUB DST: the route's metric is 4000000000 - the
# peer's latest handshake (within SESSION_METRIC_STEP_S, 10 s).
metric_is_newest() {
	local hs m d
	hs=$(rv_peer_field "$G" latest_handshake "$1")
	m=$(metric_of "$2")
	d=$((m - (4000000000 - hs)))
	echo "route $2: metric $m, latest handshake $hs (off by $d s)"
	[ "$d" -ge 0 ] && [ "$d" -le 10 ]
}

# endpoint_of CMD...: the endpoint of G in CMD's `wg show endpoints`.
endpoint_of() { "$@" | awk -v k="$PUB_G" '$1 == k { print $2 }'; }

service_addresses_on_g() {
	local addrs
	addrs=$(ip -n "$NS_G" -o addr show dev "$G")
	echo "$addrs" | grep -F " $SVC4/32 " >/dev/null &&
		echo "$addrs" | grep -F " $SVC6/128 " >/dev/null || {
		echo "no service addresses on $G: $addrs"
		return 1
	}
	# a host address alone: no route to a prefix through the device
	if ip -n "$NS_G" route show table all | grep -F "$SVC4 " |
		grep -v "^local" >/dev/null ||
		ip -n "$NS_G" -6 route show table all | grep -F "$SVC6 " |
		grep -v "^local" >/dev/null; then
		echo "a route to a service address besides the local one:"
		ip -n "$NS_G" route show table all | grep -F "$SVC4" || true
		ip -n "$NS_G" -6 route show table all | grep -F "$SVC6" || true
		return 1
	fi
}

no_service_addresses() {
	! ip -n "$NS_G" -o addr show | grep -F -e "$SVC4" -e "$SVC6" ||
		{ echo "a service address is left"; return 1; }
}

up_before_handshakes() {
	service_addresses_on_g && table_is ""
}

client1_session() {
	ping_ok "$NS_1" 10.61.0.1 && ping_ok "$NS_1" fd61::1 &&
		table_is "$C1_IPS" || return 1
	local ep local_addr
	ep=$(endpoint_of in_rv "$C1" wg show "$C1" endpoints)
	local_addr=$(rv_peer_field "$G" local "$PUB_1")
	echo "client 1's endpoint $ep, G answers it from $local_addr"
	[ "$ep" = "$SVC4:$PORT_G" ] && [ "$local_addr" = "$SVC4" ] &&
		[ "$(rv_peer_field "$G" routed "$PUB_1")" = yes ] &&
		[ "$(rv_peer_field "$G" routed "$PUB_2")" != yes ] &&
		metric_is_newest "$PUB_1" 10.61.0.2
}

client2_session() {
	ping_ok "$NS_2" 10.61.0.1 && ping_ok "$NS_2" fd61::1 &&
		table_is "$C1_IPS, $C2_IPS" || return 1
	local ep local_addr
	ep=$(endpoint_of ip netns exec "$NS_2" wg show "$C2" endpoints)
	local_addr=$(rv_peer_field "$G" local "$PUB_2")
	echo "client 2's endpoint $ep, G answers it from $local_addr"
	[ "$ep" = "[$SVC6]:$PORT_G" ] && [ "$local_addr" = "$SVC6" ]
}

client1_undisturbed() {
	local hs=$1 now
	ping_ok "$NS_1" 10.61.0.1 || { echo "client 1's ping failed"; return 1; }
	now=$(rv_peer_field "$G" handshakes "$PUB_1")
	echo "G's handshakes with client 1: $hs before, $now after"
	[ "$now" = "$hs" ]
}

syncconf_changes_allowed_ips() {
	local hs
	hs=$(rv_peer_field "$G" handshakes "$PUB_1")
	gw_config 2 "$C2_IPS_NEW"
	in_rv "$G" "$RINGVPN" syncconf "$G" "$TMP/$G.conf" &&
		table_is "$C1_IPS, $C2_IPS_NEW" && client1_undisturbed "$hs"
}

# The kernel deletes the routes through a link that goes down; G puts
# them back when it comes up again.
link_down_up() {
	ip -n "$NS_G" link set "$G" down
	echo "down: '$(table_routes)'"
	[ -z "$(ip -n "$NS_G" route show table "$TABLE")" ] ||
		{ echo "IPv4 routes outlived the link's down"; return 1; }
	ip -n "$NS_G" link set "$G" up
	wait_for 3 routes_are "$C1_IPS, $C2_IPS" ||
		{ echo "after up: '$(table_routes)'"; return 1; }
	table_is "$C1_IPS, $C2_IPS" && ping_ok "$NS_1" 10.61.0.1
}

# A prefix moved from client 2 to client 1 in one syncconf: removals go
# before additions, so it ends up routed once, for client 1 (its
# metric), not lost to client 2's removal.
syncconf_moves_prefix() {
	gw_config 2 "10.61.0.3/32" "$C1_IPS, $MOVED"
	in_rv "$G" "$RINGVPN" syncconf "$G" "$TMP/$G.conf" &&
		table_is "$C1_IPS, $MOVED, 10.61.0.3/32" || return 1
	echo "metrics: $MOVED $(metric_of "$MOVED"), client 1's" \
		"$(metric_of 10.61.0.2)"
	[ "$(metric_of "$MOVED")" = "$(metric_of 10.61.0.2)" ]
}

syncconf_removes_peer() {
	gw_config 2 ""
	in_rv "$G" "$RINGVPN" syncconf "$G" "$TMP/$G.conf" &&
		table_is "$C1_IPS"
}

# ip monitor during down: the daemon deletes its IPv4 routes itself
# (the kernel's own flush of a deleted link's IPv4 routes says nothing),
# before the link goes.
down_leaves_nothing() {
	local mon
	ip -n "$NS_G" monitor route link >"$TMP/monitor" 2>&1 &
	mon=$!
	lib_track_pid "$mon"
	sleep 0.3
	in_rv "$G" "$RINGVPN" down "$G" || return 1
	sleep 0.3
	kill "$mon" 2>/dev/null || true
	wait "$mon" 2>/dev/null || true
	lib_untrack_pid "$mon"
	table_is "" && no_service_addresses || return 1
	awk -v t="table $TABLE" -v g="$G" '
		/^Deleted / && index($0, t) && $2 !~ /:/ && !del { del = NR }
		/^Deleted / && $0 ~ ("^Deleted [0-9]+: " g "[:@]") { link = NR }
		END {
			print "route deleted at line " del ", link at " link
			exit !(del && (!link || del < link))
		}' "$TMP/monitor"
}

# The routes of client 1's session are there 5 s (300 s of G's clock)
# after its latest handshake and go at 540 s (9 s) once it is stopped.
expiry() {
	local hs gone
	hs=$(rv_peer_field "$G" latest_handshake "$PUB_1")
	stop_ringvpn "$C1" || return 1
	while [ "$(date +%s)" -lt $((hs + 5)) ]; do sleep 0.2; done
	table_is "$C1_IPS" || { echo "gone too early"; return 1; }
	wait_for 15 routes_are "" ||
		{ echo "still there: $(table_routes)"; return 1; }
	gone=$(date +%s)
	echo "gone $((gone - hs)) s after the latest handshake (at $hs)"
	[ $((gone - hs)) -ge 8 ] && [ $((gone - hs)) -le 12 ]
}

link_gone() { ! ip -n "$NS_G" link show dev "$G" >/dev/null 2>&1; }

kill9_leaves_nothing() {
	kill9_ringvpn "$G"
	wait_for 5 link_gone || { echo "$G outlived its daemon"; return 1; }
	table_is "" && no_service_addresses || return 1
	in_rv "$G" "$RINGVPN" down "$G" || return 1
	local after
	after=$(net_state "$NS_G")
	[ "$after" = "$BEFORE" ] || {
		diff <(echo "$BEFORE") <(echo "$after")
		return 1
	}
}

# refused LINE TEXT: G's file with LINE (its line 5) is refused with
# TEXT, and G's namespace is as before.
refused() {
	local out
	config_interface "$TMP/$G.conf" g "$PORT_G" "10.61.0.1/24" "$1"
	config_peer "$TMP/$G.conf" "$PUB_1" "$C1_IPS" ""
	rv_register "$NS_G" "$G"
	if out=$(in_rv "$G" "$RINGVPN" up "$TMP/$G.conf" 2>&1); then
		echo "up succeeded"
		in_rv "$G" "$RINGVPN" down "$G" || true
		return 1
	fi
	echo "$out"
	echo "$out" | grep -F "$2" >/dev/null && link_gone &&
		[ "$(net_state "$NS_G")" = "$BEFORE" ]
}

gw_config 2 "$C2_IPS"
if ! start_ringvpn "$NS_G" "$TMP/$G.conf" || ! start_c1 || ! start_c2; then
	report FAIL "G and the clients start"
	exit 1
fi
check "service addresses are host addresses on G's interface; table $(
	)$TABLE is empty before any handshake" up_before_handshakes
check "client 1's session: its AllowedIPs alone in table $TABLE, $(
	)answered from $SVC4" client1_session
check "client 2's session: both clients' AllowedIPs in table $TABLE, $(
	)client 2 answered from $SVC6" client2_session
check "G's link down and up: the kernel's deleted routes are back" \
	link_down_up
check "syncconf changes client 2's AllowedIPs: the table follows, $(
	)client 1's session goes on" syncconf_changes_allowed_ips
check "syncconf moves $MOVED from client 2 to client 1: routed once, $(
	)for client 1" syncconf_moves_prefix
check "syncconf removes client 2: its routes go" syncconf_removes_peer
check "down: table $TABLE empty, service addresses gone, the routes $(
	)deleted before the link" down_leaves_nothing
lib_untrack_pid "${RV_PID[$G]}"
wait "${RV_PID[$G]}" 2>/dev/null || true

# Client 1 too: its clock and G's must agree on when a session ends.
export RINGVPN_TEST_CLOCK_SCALE=60
gw_config 1 ""
if ! start_ringvpn "$NS_G" "$TMP/$G.conf"; then
	report FAIL "G starts again, Threads = 1, with the test clock"
	exit 1
fi
check "the test clock is said at up" test_clock_said "$G"
lib_stop_pid "${RV_PID[$C1]}"
if ! start_c1; then
	report FAIL "client 1 starts again"
	exit 1
fi
check "client 1's new session: its AllowedIPs in table $TABLE" \
	client1_session
check "expiry: the routes stay 300 s and go 540 s after the last $(
	)handshake" expiry
if ! start_c1; then
	report FAIL "client 1 starts a third time"
	exit 1
fi
check "a session again: its AllowedIPs in table $TABLE" client1_session
check "kill -9 of G: routes and service addresses go with the $(
	)interface; down then succeeds and leaves nothing" kill9_leaves_nothing
unset RINGVPN_TEST_CLOCK_SCALE

check "SessionTable = 254 is refused, nothing set up" refused \
	"SessionTable = 254" \
	"$G.conf:5: invalid SessionTable \`254' (expected a routing table"
check "ServiceAddress = 10.0.0.0/24 is refused, nothing set up" refused \
	"ServiceAddress = 10.0.0.0/24" \
	"$G.conf:5: invalid ServiceAddress \`10.0.0.0/24' (expected"
# IPv6 off in G's namespace: the plan leaves IPv6 out, and so does the
# session table (it used to try, and log the kernel's refusals).
ipv6_off_session() {
	ping_ok "$NS_1" 10.61.0.1 && table_is "10.61.0.2/32" || return 1
	sleep 1
	if grep -i "cannot" "${RV_LOG[$G]}"; then
		echo "G logged a refusal"
		return 1
	fi
}

ip netns exec "$NS_G" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
	net.ipv6.conf.default.disable_ipv6=1
# IPv4 addresses alone and no AllowedIPs routes (the /24 routes client
# 1), so that start_ringvpn finds all it looks for; client 1's
# AllowedIPs still have an IPv6 prefix.
config_interface "$TMP/$G.conf" g "$PORT_G" "10.61.0.1/24" \
	"ServiceAddress = $SVC4" "SessionTable = $TABLE" "Table = off"
config_peer "$TMP/$G.conf" "$PUB_1" "$C1_IPS" ""
lib_stop_pid "${RV_PID[$C1]}"
if ! start_ringvpn "$NS_G" "$TMP/$G.conf" || ! start_c1; then
	report FAIL "G (IPv6 off) and client 1 start"
	exit 1
fi
check "IPv6 off on G: only IPv4 session routes, no refusal logged" \
	ipv6_off_session
in_rv "$G" "$RINGVPN" down "$G" || report FAIL "down of G (IPv6 off)"
ip netns exec "$NS_G" sysctl -q -w net.ipv6.conf.all.disable_ipv6=0 \
	net.ipv6.conf.default.disable_ipv6=0
exit "$FAILED"
