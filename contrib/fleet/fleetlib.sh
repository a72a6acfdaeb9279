# shellcheck shell=bash
# The gateway fleet of issue 17, in network namespaces: several ringvpn
# gateways behind one anycast service address, announced by BGP (BIRD 2)
# to a router that spreads the clients over them with the kernel's ECMP
# (an L4 hash, so a client stays on one gateway), and a LAN router that
# learns from BGP which gateway holds each client's session.
#
#   client 1  ul 198.18.0.11 --+              +-- g1 --+
#   ...                        +-- router ----+-- g2 --+-- lan router -- LAN host
#   client N  ul 198.18.0.N+10-+  AS 65000    +-- g3 --+   AS 65100     10.100.0.2
#             tunnel 10.99.0.N+10  ECMP to      AS 65001     routes each client
#                                  198.19.255.1 (all)        via its gateway
#
# Sourced by contrib/fleet/lab.sh (the whole lab) and
# tests/integration/fleet.sh (its short form), after
# tests/integration/lib.sh, whose helpers it uses and whose cleanup
# removes everything it makes (namespaces, processes: bird too).
#
# Gateway k (1..FLEET_GATEWAYS): namespace $FL-gk; link "ul"
# 198.18.(10+k).2/24 to the router (router side "gk", .1), link "lan"
# 10.101.k.2/24 to the LAN router (its side "gk", .1). Its ringvpn
# interface is fl<pid>gk, all gateways with the same key and peers (the
# same file, copied: an interface is named after its file, and the UAPI
# sockets of all namespaces share one directory), with ServiceAddress =
# the service address and SessionTable = FLEET_TABLE. Its BIRD announces
# the service address (protocol direct on the tunnel) to the router and
# the routes of the session table (protocol kernel, table FLEET_TABLE,
# protocol 82) to the LAN router with their metric as MED, so that the
# LAN router prefers a client's newest session where two gateways have
# one; BFD and hold time 3 on every BGP session.
#
# Client n (1..FLEET_CLIENTS, and FLEET_CLIENTS + 1, whom the gateways
# learn of through syncconf): namespace $FL-cn on the router's bridge,
# 198.18.0.(10+n)/24, tunnel 10.99.0.(10+n)/32, its own ListenPort; every
# FLEET_WGGO_EVERY-th one is wireguard-go, the others ringvpn. Its peer is
# the service address; its AllowedIPs the LAN.

# Its callers source lib.sh themselves; here for the helpers' sake
# (tests/commands.sh reads what a file sources).
# shellcheck source=../../tests/integration/lib.sh
declare -F lib_init >/dev/null ||
	. "$(dirname "${BASH_SOURCE[0]}")/../../tests/integration/lib.sh"

FLEET_GATEWAYS=${FLEET_GATEWAYS:-2}
FLEET_CLIENTS=${FLEET_CLIENTS:-6}
FLEET_WGGO_EVERY=${FLEET_WGGO_EVERY:-3}
FLEET_SVC=198.19.255.1
FLEET_PORT=51820
FLEET_TABLE=100
FLEET_LAN_HOST=10.100.0.2
# FleetRecovery on the gateways (ringvpn.conf(5)): a gateway that gets
# data under another one's session index offers that client a handshake
# at once. off: a moved client waits out its own timeout (~15 s).
FLEET_RECOVERY=${FLEET_RECOVERY:-on}
FL=fl-$$
FL_R=$FL-r
FL_L=$FL-l
FL_H=$FL-h
declare -A FL_PORT=() FL_KIND=() FL_IF=() FL_PUB=() FL_BIRD=()
FL_MEDIAN= FL_WORST=

fl_gw_ns() { echo "$FL-g$1"; }
fl_gw_if() { echo "fl$$g$1"; }
fl_gw_ul() { echo "198.18.$((10 + $1)).2"; }
fl_gw_lan() { echo "10.101.$1.2"; }
fl_cl_ns() { echo "$FL-c$1"; }
fl_cl_ul() { echo "198.18.0.$((10 + $1))"; }
fl_cl_t4() { echo "10.99.0.$((10 + $1))"; }

# ---------------------------------------------------------------------------
# The network

# fleet_network: every namespace and link; forwarding on in the router,
# the gateways and the LAN router; L4 ECMP hashing on the router.
fleet_network() {
	local k n
	make_netns "$FL_R"
	make_netns "$FL_L"
	make_netns "$FL_H"
	ip -n "$FL_R" link add br0 type bridge stp_state 0
	ip -n "$FL_R" addr add 198.18.0.1/24 dev br0
	ip -n "$FL_R" link set br0 up
	ip netns exec "$FL_R" sysctl -q -w net.ipv4.ip_forward=1 \
		net.ipv4.fib_multipath_hash_policy=1
	ip netns exec "$FL_L" sysctl -q -w net.ipv4.ip_forward=1
	link_netns "$FL_L" "$FL_H" host eth0 10.100.0.1/24 "$FLEET_LAN_HOST/24"
	ip -n "$FL_H" route add default via 10.100.0.1
	for ((k = 1; k <= FLEET_GATEWAYS; k++)); do
		make_netns "$(fl_gw_ns "$k")"
		link_netns "$FL_R" "$(fl_gw_ns "$k")" "g$k" ul \
			"198.18.$((10 + k)).1/24" "$(fl_gw_ul "$k")/24"
		link_netns "$FL_L" "$(fl_gw_ns "$k")" "g$k" lan \
			"10.101.$k.1/24" "$(fl_gw_lan "$k")/24"
		ip -n "$(fl_gw_ns "$k")" route add default via "198.18.$((10 + k)).1"
		ip -n "$(fl_gw_ns "$k")" route add 10.100.0.0/24 via "10.101.$k.1"
		ip netns exec "$(fl_gw_ns "$k")" sysctl -q -w net.ipv4.ip_forward=1
	done
	# One more client than the gateways know: syncconf adds it.
	for ((n = 1; n <= FLEET_CLIENTS + 1; n++)); do
		make_netns "$(fl_cl_ns "$n")"
		switch_port "$FL_R" br0 "c$n" "$(fl_cl_ns "$n")" ul \
			"$(fl_cl_ul "$n")/24"
		ip -n "$(fl_cl_ns "$n")" route add default via 198.18.0.1
	done
}

# ---------------------------------------------------------------------------
# BIRD: one per router, gateway and LAN router, each with its own
# control socket $TMP/bird-NAME.ctl and log $TMP/bird-NAME.log.

# The part every BIRD here shares: BFD at 100 ms x 3 on every link, and
# BGP sessions with hold time 3 (BIRD's least) and BFD, so that a
# gateway that goes silent is given up within 0.3 s (BFD), 3 s at most.
bird_common() {
	cat <<EOF
log "$TMP/bird-$1.log" { info, remote, warning, error, auth, fatal, bug };
router id $2;
protocol device { scan time 10; }
protocol bfd {
	interface "*" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };
}
template bgp fleet {
	hold time 3;
	keepalive time 1;
	connect retry time 1;
	error wait time 1, 5;
	bfd on;
}
EOF
}

# The router: a session with each gateway; every path to the service
# address goes to the kernel as one multipath route (merge paths).
bird_router_conf() {
	bird_common router 198.18.0.1
	cat <<EOF
protocol kernel {
	merge paths on;
	ipv4 { import none; export where net = $FLEET_SVC/32; };
}
EOF
	bgp_gateways 65000 fl_gw_ul "where net = $FLEET_SVC/32"
}

# bgp_gateways AS ADDRESS_OF IMPORT: a BGP session with each gateway (at
# the address ADDRESS_OF K prints), importing what IMPORT lets through.
bgp_gateways() {
	local k
	for ((k = 1; k <= FLEET_GATEWAYS; k++)); do
		cat <<EOF
protocol bgp g$k from fleet {
	local as $1;
	neighbor $("$2" "$k") as 65001;
	ipv4 { import $3; export none; };
}
EOF
	done
}

# Gateway K: the service address from its tunnel to the router, the
# session table's routes (next hop self: eBGP's default) to the LAN
# router. `learn`: the table's routes are ringvpn's (protocol 82), not
# BIRD's. Their metric, lower the newer the client's latest handshake,
# goes out as MED: the gateways share one AS, so the LAN router compares
# it (RFC 4271 9.1.2.2) before the router ID.
bird_gateway_conf() {
	local k=$1
	bird_common "g$k" "$(fl_gw_ul "$k")"
	cat <<EOF
protocol direct service_address {
	ipv4;
	interface "$(fl_gw_if "$k")";
}
protocol kernel session_table {
	kernel table $FLEET_TABLE;
	learn;
	ipv4 { import where krt_source = 82; export none; };
}
protocol bgp to_router from fleet {
	local as 65001;
	neighbor 198.18.$((10 + k)).1 as 65000;
	ipv4 { import none; export where proto = "service_address" && net = $FLEET_SVC/32; };
}
protocol bgp to_lan from fleet {
	local as 65001;
	neighbor 10.101.$k.1 as 65100;
	ipv4 {
		import none;
		export filter {
			if proto != "session_table" then reject;
			bgp_med = krt_metric;
			accept;
		};
	};
}
EOF
}

# The LAN router: each client's route from the gateway that announces
# it, into its main table.
bird_lan_conf() {
	bird_common lan 10.100.0.1
	cat <<EOF
protocol kernel {
	ipv4 { import none; export all; };
}
EOF
	bgp_gateways 65100 fl_gw_lan all
}

# bird_start NS NAME: BIRD in NS with $TMP/bird-NAME.conf, in the
# foreground of a background job (its PID tracked, so the cleanup stops
# it).
bird_start() {
	local ns=$1 name=$2
	ip netns exec "$ns" bird -f -c "$TMP/bird-$name.conf" \
		-s "$TMP/bird-$name.ctl" -P "$TMP/bird-$name.pid" \
		>"$TMP/bird-$name.out" 2>&1 &
	FL_BIRD[$name]=$!
	lib_track_pid "$!"
	wait_for 10 test -S "$TMP/bird-$name.ctl"
}

birdc_in() {
	local name=$1
	shift
	birdc -s "$TMP/bird-$name.ctl" "$@"
}

# bgp_up NAME COUNT: NAME's BIRD has COUNT BGP sessions established.
bgp_up() {
	local got
	got=$(birdc_in "$1" show protocols | awk '$2 == "BGP" && / Established/' |
		wc -l)
	[ "$got" -eq "$2" ]
}

# ---------------------------------------------------------------------------
# Gateways

# fleet_gateway_conf: the gateways' one file ($TMP/gateway.conf: key,
# port, table, a peer per client) and a copy per gateway, named after its
# interface.
fleet_gateway_conf() {
	local conf=$TMP/gateway.conf n k
	FL_PUB[gw]=$(make_key gw)
	# The pool's prefix on the tunnel routes every client into it, also
	# those syncconf adds (it adds no routes).
	config_interface "$conf" gw "$FLEET_PORT" 10.99.0.1/24 \
		"ServiceAddress = $FLEET_SVC" "SessionTable = $FLEET_TABLE" \
		"FleetRecovery = $FLEET_RECOVERY"
	for ((n = 1; n <= FLEET_CLIENTS; n++)); do
		FL_PUB[$n]=$(make_key "c$n")
		config_peer "$conf" "${FL_PUB[$n]}" "$(fl_cl_t4 "$n")/32" ""
	done
	fleet_copy_conf
}

fleet_copy_conf() {
	local k
	for ((k = 1; k <= FLEET_GATEWAYS; k++)); do
		cat "$TMP/gateway.conf" >"$TMP/$(fl_gw_if "$k").conf"
	done
}

# gateway_start K: ringvpn on gateway K.
gateway_start() {
	start_ringvpn "$(fl_gw_ns "$1")" "$TMP/$(fl_gw_if "$1").conf"
}

# gateway_kill K: kill -9 of gateway K's ringvpn, as a crash would.
gateway_kill() { kill9_ringvpn "$(fl_gw_if "$1")"; }

# fleet_up: the network, the BIRDs, the gateways; waits until every BGP
# session is up and the router has a path to the service address
# through every gateway.
fleet_up() {
	local k
	fleet_network
	fleet_gateway_conf
	bird_router_conf >"$TMP/bird-router.conf"
	bird_lan_conf >"$TMP/bird-lan.conf"
	bird_start "$FL_R" router || return 1
	bird_start "$FL_L" lan || return 1
	for ((k = 1; k <= FLEET_GATEWAYS; k++)); do
		bird_gateway_conf "$k" >"$TMP/bird-g$k.conf"
		gateway_start "$k" || return 1
		bird_start "$(fl_gw_ns "$k")" "g$k" || return 1
	done
	wait_for 30 bgp_up router "$FLEET_GATEWAYS" &&
		wait_for 30 bgp_up lan "$FLEET_GATEWAYS" &&
		wait_for 10 router_has_paths "$(seq -s ' ' "$FLEET_GATEWAYS")"
}

# router_paths: the gateways (numbers, sorted) of the router's route to
# the service address.
router_paths() {
	ip -n "$FL_R" route show "$FLEET_SVC/32" |
		awk '{ for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1) }' |
		sed -n 's/^198\.18\.\([0-9]*\)\.2$/\1/p' |
		awk '{ print $1 - 10 }' | sort -n | tr '\n' ' ' | sed 's/ $//'
}

router_has_paths() { [ "$(router_paths)" = "$1" ]; }

# ---------------------------------------------------------------------------
# Clients

# route_gw N PORT: the gateway the router's ECMP sends client N's
# packets from PORT to (the kernel's own choice: `ip route get` with the
# flow's addresses, protocol and ports, as it arrives on the bridge).
route_gw() {
	ip -n "$FL_R" route get "$FLEET_SVC" from "$(fl_cl_ul "$1")" iif br0 \
		ipproto udp sport "$2" dport "$FLEET_PORT" |
		sed -n 's/.* via 198\.18\.\([0-9]*\)\.2 .*/\1/p' |
		awk '{ print $1 - 10 }'
}

# client_ports: a ListenPort for each client, the first from 52000 + 100 n
# on that the router sends to the gateway it is meant for. The hash has a
# seed of its own per boot; choosing the ports through it makes every
# gateway get clients on every run, which a few clients left to chance
# would not. Client n is meant for gateway (n - 1 + (n - 1) / G) mod G + 1
# (G = 3: 1 2 3 2 3 1 3 1 2 ...), so that the wireguard-go ones (every
# third) are not all on one gateway.
client_ports() {
	local n p want
	for ((n = 1; n <= FLEET_CLIENTS; n++)); do
		want=$(((n - 1 + (n - 1) / FLEET_GATEWAYS) % FLEET_GATEWAYS + 1))
		for ((p = 52000 + 100 * n; p < 52100 + 100 * n; p++)); do
			[ "$(route_gw "$n" "$p")" = "$want" ] && break
		done
		FL_PORT[$n]=$p
	done
}

# client_start N: ringvpn or wireguard-go in client N's namespace.
client_start() {
	local n=$1 ns name conf
	ns=$(fl_cl_ns "$n")
	if [ $((n % FLEET_WGGO_EVERY)) -eq 0 ]; then
		FL_KIND[$n]=wireguard-go
		name=fl$$w$n
		conf=$TMP/$name.wg
		{
			echo "[Interface]"
			echo "PrivateKey = $(cat "$TMP/c$n.key")"
			echo "ListenPort = ${FL_PORT[$n]}"
		} >"$conf"
		config_peer "$conf" "${FL_PUB[gw]}" 10.100.0.0/24 \
			"$FLEET_SVC:$FLEET_PORT"
		FL_IF[$n]=$name
		start_wggo "$ns" "$name" "$conf" "$(fl_cl_t4 "$n")/32"
	else
		FL_KIND[$n]=ringvpn
		name=fl$$c$n
		conf=$TMP/$name.conf
		config_interface "$conf" "c$n" "${FL_PORT[$n]}" \
			"$(fl_cl_t4 "$n")/32"
		config_peer "$conf" "${FL_PUB[gw]}" 10.100.0.0/24 \
			"$FLEET_SVC:$FLEET_PORT"
		FL_IF[$n]=$name
		start_ringvpn "$ns" "$conf"
	fi
}

# holder N: the gateways whose ringvpn has a handshake with client N,
# the latest first.
holder() {
	local k pub=${FL_PUB[$1]}
	for ((k = 1; k <= FLEET_GATEWAYS; k++)); do
		ip netns exec "$(fl_gw_ns "$k")" wg show "$(fl_gw_if "$k")" \
			latest-handshakes 2>/dev/null |
			awk -v p="$pub" -v k="$k" '$1 == p && $2 != 0 { print $2, k }'
	done | sort -rn | awk '{ print $2 }' | tr '\n' ' ' | sed 's/ $//'
}

# lan_gw N: the gateway the LAN router sends client N's traffic to.
lan_gw() {
	ip -n "$FL_L" route get "$(fl_cl_t4 "$1")" 2>/dev/null |
		sed -n 's/.* via 10\.101\.\([0-9]*\)\.2 .*/\1/p'
}

# lan_announcers N: the gateways whose BGP routes for client N the LAN
# router has, the best one first, each with its MED: "gK (MED m)".
lan_announcers() {
	birdc_in lan show route all for "$(fl_cl_t4 "$1")/32" | awk '
		/[ \t]via 10\.101\./ { if (g) { printf "%s%s", sep, g; sep = ", " }
			g = $0; sub(/.*via 10\.101\./, "", g)
			sub(/\..*/, "", g); g = "g" g }
		/BGP.med:/ { g = g " (MED " $2 ")" }
		END { if (g) printf "%s%s", sep, g; print "" }'
}

# ---------------------------------------------------------------------------
# Numbers

# median_of MS...: the median (the lower middle one of an even count).
median_of() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
		END { if (NR) print v[int((NR + 1) / 2)] }'
}

max_of() { printf '%s\n' "$@" | sort -n | tail -n 1; }

# ping_back_start N T0_MS OUT: pings the LAN host from client N every
# 0.2 s until one reply (60 s at most) and writes to OUT the milliseconds
# from T0_MS to that reply (ping's own time stamp), or "none".
ping_back_start() {
	local n=$1 t0=$2 out=$3
	{
		ip netns exec "$(fl_cl_ns "$n")" ping -n -D -i 0.2 -c 1 -w 60 \
			"$FLEET_LAN_HOST" 2>&1 |
			awk -v t0="$t0" '/bytes from/ {
				ts = substr($1, 2, length($1) - 2)
				printf "%d\n", ts * 1000 - t0; got = 1 }
				END { if (!got) print "none" }' >"$out"
	} &
	lib_track_pid "$!"
	FL_PING_PID=$!
}


# ---------------------------------------------------------------------------
# The checks. Each prints its numbers and reports PASS or FAIL lines
# (report, check: tests/integration/lib.sh).

# clients_by_gateway: "gK: N client(s) (n n ...)" per gateway, from the
# gateways' own handshakes (holder).
clients_by_gateway() {
	local k n h
	local -A list=()
	for ((n = 1; n <= FLEET_CLIENTS; n++)); do
		h=$(holder "$n")
		list[${h%% *}]+=" $n"
	done
	for ((k = 1; k <= FLEET_GATEWAYS; k++)); do
		# shellcheck disable=SC2086 # counting the words
		set -- ${list[$k]:-}
		echo "g$k: $# client(s) (${list[$k]# })"
	done
}

# all_placed: every client's session is on the gateway the router's
# ECMP sends it to, and the LAN router sends its traffic there too.
all_placed() {
	local n want h l rc=0
	for ((n = 1; n <= FLEET_CLIENTS; n++)); do
		want=$(route_gw "$n" "${FL_PORT[$n]}")
		h=$(holder "$n")
		l=$(lan_gw "$n")
		if [ "${h%% *}" != "$want" ] || [ "$l" != "$want" ]; then
			echo "client $n: ECMP sends it to g$want, session(s) on" \
				"g${h:-none}, LAN router routes it via g${l:-none}"
			rc=1
		fi
	done
	return "$rc"
}

# every_gateway_used: no gateway without clients.
every_gateway_used() {
	clients_by_gateway
	! clients_by_gateway | grep ': 0 client' >/dev/null
}

# transfers_from CLIENTS BYTES [CHUNK_MS]: a transfer from each client to
# the LAN host; the IDs in XFERS[n].
declare -A XFERS=()
transfers_from() {
	local n bytes=$2 pause=${3:-}
	for n in $1; do
		transfer_start "$(fl_cl_ns "$n")" "$FL_H" "$FLEET_LAN_HOST" \
			"$bytes" $pause || return 1
		XFERS[$n]=$XFER_ID
	done
}

# transfers_ok CLIENTS: every one of their transfers arrived whole.
transfers_ok() {
	local n rc=0
	for n in $1; do
		transfer_wait "${XFERS[$n]}" || rc=1
	done
	return "$rc"
}

all_clients() { seq -s ' ' "$FLEET_CLIENTS"; }

# fleet_reach: each client reaches the LAN host through the service
# address (ping, then 1 MiB with SHA-256 compared), the clients are
# spread over every gateway, each one's session is on the gateway ECMP
# chose and the LAN router routes its return traffic there.
fleet_reach() {
	local n
	client_ports
	for ((n = 1; n <= FLEET_CLIENTS; n++)); do
		client_start "$n" || return 1
	done
	check "the router has one path to $FLEET_SVC per gateway" \
		router_has_paths "$(seq -s ' ' "$FLEET_GATEWAYS")"
	for ((n = 1; n <= FLEET_CLIENTS; n++)); do
		check "client $n (${FL_KIND[$n]}, port ${FL_PORT[$n]}) pings the LAN host through $FLEET_SVC" \
			ping_ok "$(fl_cl_ns "$n")" "$FLEET_LAN_HOST"
	done
	transfers_from "$(all_clients)" $((1 << 20))
	check "every client sends the LAN host 1 MiB, checksums equal" \
		transfers_ok "$(all_clients)"
	echo "clients per gateway:"
	clients_by_gateway | sed 's/^/  /'
	check "every gateway holds clients" every_gateway_used
	check "each session is on the gateway ECMP chose, the LAN router routes the client back through it" \
		all_placed
}

# handshakes: every gateway's latest handshake with every client.
handshakes() {
	local k
	for ((k = 1; k <= FLEET_GATEWAYS; k++)); do
		ip netns exec "$(fl_gw_ns "$k")" wg show "$(fl_gw_if "$k")" \
			latest-handshakes | sed "s/^/g$k /"
	done
}

# gateways_know PUBKEY: every gateway has the peer.
gateways_know() {
	local k rc=0
	for ((k = 1; k <= FLEET_GATEWAYS; k++)); do
		ip netns exec "$(fl_gw_ns "$k")" wg show "$(fl_gw_if "$k")" \
			peers | grep -x -- "$1" >/dev/null ||
			{ echo "g$k does not have peer $1"; rc=1; }
	done
	return "$rc"
}

# syncconf_all: the gateways' file, changed, applied to each (ringvpn
# syncconf, the file as argument).
syncconf_all() {
	local k
	fleet_copy_conf
	for ((k = 1; k <= FLEET_GATEWAYS; k++)); do
		in_rv "$(fl_gw_if "$k")" "$RINGVPN" syncconf "$(fl_gw_if "$k")" \
			"$TMP/$(fl_gw_if "$k").conf" || return 1
	done
}

same_file() { diff "$1" "$2"; }

# fleet_syncconf: a peer (client FLEET_CLIENTS + 1) added to the file
# and pushed to every gateway with syncconf while every client sends
# 4 MiB: each gateway has the new peer, no session was touched (the same
# latest handshakes), the transfers arrive whole, and the new client
# then reaches the LAN host.
fleet_syncconf() {
	local n=$((FLEET_CLIENTS + 1)) before
	before=$(handshakes)
	transfers_from "$(all_clients)" $((4 << 20)) 250
	FL_PUB[$n]=$(make_key "c$n")
	config_peer "$TMP/gateway.conf" "${FL_PUB[$n]}" "$(fl_cl_t4 "$n")/32" ""
	check "syncconf adds a peer on all $FLEET_GATEWAYS gateways" \
		syncconf_all
	check "every gateway has the new peer" gateways_know "${FL_PUB[$n]}"
	check "the transfers running through syncconf arrive whole" \
		transfers_ok "$(all_clients)"
	handshakes | grep -vF "${FL_PUB[$n]}" >"$TMP/hs.after"
	echo "$before" >"$TMP/hs.before"
	check "syncconf left every session alone (no new handshake)" \
		same_file "$TMP/hs.before" "$TMP/hs.after"
	FL_PORT[$n]=$((52000 + 100 * n))
	client_start "$n" || return 1
	check "the new client $n pings the LAN host" \
		ping_ok "$(fl_cl_ns "$n")" "$FLEET_LAN_HOST"
	transfers_from "$n" $((1 << 20))
	check "the new client sends the LAN host 1 MiB, checksum equal" \
		transfers_ok "$n"
}

# no_trace_of K: gateway K (its ringvpn killed) is in no route of any
# namespace and no BGP table, and its tunnel's address and session table
# are gone.
no_trace_of() {
	local k=$1 ns rc=0 n
	ns=$(fl_gw_ns "$k")
	if ip -n "$ns" addr show | grep -F " $FLEET_SVC/" >/dev/null; then
		echo "g$k still has $FLEET_SVC"
		rc=1
	fi
	if [ -n "$(ip -n "$ns" route show table "$FLEET_TABLE" 2>/dev/null)" ]
	then
		echo "g$k still has routes in table $FLEET_TABLE"
		rc=1
	fi
	if ip -n "$FL_R" route show table all | grep -F "via $(fl_gw_ul "$k") " \
		>/dev/null; then
		echo "the router still routes via g$k:"
		ip -n "$FL_R" route show table all
		rc=1
	fi
	if ip -n "$FL_L" route show table all | grep -F "via $(fl_gw_lan "$k") " \
		>/dev/null; then
		echo "the LAN router still routes via g$k:"
		ip -n "$FL_L" route show table all
		rc=1
	fi
	n=$(birdc_in router show route for "$FLEET_SVC/32" | grep -c "on g$k\b" ||
		true)
	[ "$n" -eq 0 ] || { echo "BIRD on the router has a route from g$k"; rc=1; }
	n=$(birdc_in lan show route | grep -c "on g$k\b" || true)
	[ "$n" -eq 0 ] || { echo "BIRD on the LAN router has routes from g$k"; rc=1; }
	return "$rc"
}

# lan_routes_via K: the LAN router routes some client through gateway K.
lan_routes_via() {
	ip -n "$FL_L" route show | grep -F "via $(fl_gw_lan "$1") " >/dev/null
}

router_uses() { [[ " $(router_paths) " == *" $1 "* ]]; }

# ms_since T0 CMD...: milliseconds from T0 until CMD is true (checked
# every 20 ms, 10 s at most), or "none".
ms_since() {
	local t0=$1 i
	shift
	for ((i = 0; i < 500; i++)); do
		"$@" && { echo $(($(now_ms) - t0)); return 0; }
		sleep 0.02
	done
	echo none
}

not() { ! "$@"; }

# pingers T0 CLIENTS: ping_back_start for each; PING_PIDS[n].
declare -A PING_PIDS=()
pingers() {
	local n
	for n in $2; do
		ping_back_start "$n" "$1" "$TMP/back.$n"
		PING_PIDS[$n]=$FL_PING_PID
	done
}

# back_wait CLIENTS: waits for their pingers; back_ms N then prints
# client N's time from pingers' T0 to its first reply.
back_wait() {
	local n
	for n in $1; do
		wait "${PING_PIDS[$n]}" 2>/dev/null || true
		lib_untrack_pid "${PING_PIDS[$n]}"
	done
}

back_ms() { cat "$TMP/back.$1"; }

lan_gw_is() { [ "$(lan_gw "$1")" = "$2" ]; }

# moved_ok CLIENTS: each one's session is now on the gateway ECMP
# chooses for it, and the LAN router sends it there, also when its old
# gateway still announces it (the newer session's lower MED wins).
moved_ok() {
	local n want h l rc=0
	for n in $1; do
		want=$(route_gw "$n" "${FL_PORT[$n]}")
		h=$(holder "$n")
		# BGP takes a moment to carry the new session's route.
		wait_for 5 lan_gw_is "$n" "$want" || true
		l=$(lan_gw "$n")
		echo "client $n: ECMP to g$want, sessions (latest first) on g${h// /, g}," \
			"LAN router via g${l:-none} (BGP routes from $(lan_announcers "$n"))"
		[ "${h%% *}" = "$want" ] && [ "$l" = "$want" ] || rc=1
	done
	return "$rc"
}

# times_ok MAX CLIENTS: each one's ping came back within MAX ms.
times_ok() {
	local max=$1 n t rc=0
	for n in $2; do
		t=$(cat "$TMP/back.$n")
		[ "$t" != none ] && [ "$t" -le "$max" ] ||
			{ echo "client $n: ${t} ms"; rc=1; }
	done
	return "$rc"
}

# lan_pingers_start: the LAN host pings every client every 0.2 s (90 s
# at most), so that a moved client's old gateway, which the LAN router
# uses until the new one has a session, keeps sending it traffic: the
# case where a gateway that chased a quiet client kept it from ever
# making a session with its new gateway. FL_LAN_PINGS: their PIDs.
declare -a FL_LAN_PINGS=()
lan_pingers_start() {
	local n
	FL_LAN_PINGS=()
	for ((n = 1; n <= FLEET_CLIENTS; n++)); do
		ip netns exec "$FL_H" ping -n -q -i 0.2 -w 90 "$(fl_cl_t4 "$n")" \
			>/dev/null 2>&1 &
		lib_track_pid "$!"
		FL_LAN_PINGS+=("$!")
	done
}

lan_pingers_stop() {
	local pid
	for pid in "${FL_LAN_PINGS[@]}"; do
		lib_stop_pid "$pid"
	done
	FL_LAN_PINGS=()
}

# disturb ACTION...: every client starts sending 8 MiB (1 MiB per
# 400 ms) and the LAN host starts pinging every client
# (lan_pingers_start), then, a second later, ACTION runs (FL_T0: when)
# and every client starts pinging the LAN host (pingers). FL_BEFORE[n]:
# the gateway ECMP sent client n to before.
declare -a FL_BEFORE=()
disturb() {
	local n
	for ((n = 1; n <= FLEET_CLIENTS; n++)); do
		FL_BEFORE[n]=$(route_gw "$n" "${FL_PORT[$n]}")
	done
	transfers_from "$(all_clients)" $((8 << 20)) 400
	lan_pingers_start
	sleep 1
	FL_T0=$(now_ms)
	"$@" || return 1
	pingers "$FL_T0" "$(all_clients)"
}

# sort_moved: FL_MOVED, the clients ECMP now sends to another gateway
# than before disturb; FL_STAYED, the others.
sort_moved() {
	local n
	FL_MOVED='' FL_STAYED=''
	for ((n = 1; n <= FLEET_CLIENTS; n++)); do
		if [ "$(route_gw "$n" "${FL_PORT[$n]}")" != "${FL_BEFORE[n]}" ]
		then
			FL_MOVED+=${FL_MOVED:+ }$n
		else
			FL_STAYED+=${FL_STAYED:+ }$n
		fi
	done
	echo "moved to another gateway by the $1: ${FL_MOVED:-none};" \
		"stayed: ${FL_STAYED:-none}"
}

# outcome WHAT: after disturb and sort_moved, the clients that stayed
# answer at once and their transfers arrive whole; each moved one's time
# from WHAT until its ping works again is printed, with the median and
# the worst (FL_MEDIAN, FL_WORST); they all ping again, their transfers
# arrive whole too (TCP inside the tunnel outlives the move: the tunnel
# addresses stay), and each one's newest session is on its new gateway,
# which the LAN router routes it through.
outcome() {
	local what=$1 n t times=()
	back_wait "$FL_STAYED"
	check "clients that stayed on their gateway answer at once (< 1 s)" \
		times_ok 1000 "$FL_STAYED"
	back_wait "$FL_MOVED"
	for n in $FL_MOVED; do
		t=$(back_ms "$n")
		echo "  client $n (${FL_KIND[$n]}): g${FL_BEFORE[n]} ->" \
			"g$(route_gw "$n" "${FL_PORT[$n]}"), ping works again" \
			"$t ms after the $what"
		[ "$t" = none ] || times+=("$t")
	done
	FL_MEDIAN=$(median_of "${times[@]}")
	FL_WORST=$(max_of "${times[@]}")
	echo "$what: ${#times[@]} moved client(s), median $FL_MEDIAN ms," \
		"worst $FL_WORST ms"
	if [ "$FLEET_RECOVERY" = on ]; then
		check "every moved client pings the LAN host again within 3 s (FleetRecovery)" \
			times_ok 3000 "$FL_MOVED"
	else
		check "every moved client pings the LAN host again" \
			times_ok 60000 "$FL_MOVED"
	fi
	check "the clients that stayed: transfers through the $what arrive whole" \
		transfers_ok "$FL_STAYED"
	check "the moved clients: transfers through the $what arrive whole too" \
		transfers_ok "$FL_MOVED"
	check "each moved client's newest session is on its new gateway, the LAN router routes it there" \
		moved_ok "$FL_MOVED"
	lan_pingers_stop
}

# fleet_kill K: kill -9 of gateway K's ringvpn during transfers. Its
# announcements must go within the BGP hold time (3 s; the times are
# printed), then outcome, and no trace of it may be left anywhere.
fleet_kill() {
	local k=$1 gone_r gone_l
	disturb gateway_kill "$k"
	gone_r=$(ms_since "$FL_T0" not router_uses "$k")
	gone_l=$(ms_since "$FL_T0" not lan_routes_via "$k")
	echo "kill -9 of g$k's ringvpn: the router's path through it went" \
		"after $gone_r ms, the LAN router's routes through it after $gone_l ms"
	check "g$k's announcements withdrawn within 3 s" \
		eval "[ '$gone_r' != none ] && [ '$gone_l' != none ] &&
			[ $gone_r -le 3000 ] && [ $gone_l -le 3000 ]"
	sort_moved kill
	outcome kill
	check "no trace of g$k: no address, no route, no BGP route anywhere" \
		no_trace_of "$k"
}

# fleet_rejoin K: gateway K's ringvpn starts again during transfers. Its
# path comes back on the router (the time printed), then outcome for the
# clients ECMP sends to it again. Their old gateway keeps its session
# and its route until the session expires, but its MED is higher: the
# LAN router routes them through K (moved_ok).
fleet_rejoin() {
	local k=$1 up_r
	disturb gateway_start "$k"
	up_r=$(ms_since "$FL_T0" router_uses "$k")
	echo "g$k's ringvpn started again: the router's path through it is" \
		"back $up_r ms after the start"
	check "g$k rejoins the router's ECMP route" router_has_paths \
		"$(seq -s ' ' "$FLEET_GATEWAYS")"
	sort_moved rejoin
	outcome rejoin
}
