#!/bin/bash
# A site gateway: one ringvpn (Threads = 2) with 50 peers, a LAN behind it,
# and 50 clients, odd-numbered ones ringvpn (Threads = 1), even-numbered
# ones wireguard-go, all on one bridged underlay (198.18.0.0/15; clients 3
# and 4 reach the gateway over IPv6 instead).
#
#   client N (10.77.1.N, fd77::1:N) --+
#   ...                               +-- switch -- gateway -- LAN host
#   client 50 ------------------------+  (bridge)  10.77.0.1   10.78.0.2
#                                                  fd77::1     fd78::2
#
# The gateway forwards (the test turns forwarding on: that is the
# operator's choice, never ringvpn's) between its tunnel and the LAN and
# between its peers. In batches of BATCH clients at a time:
#   - every client pings the LAN host over IPv4 and IPv6;
#   - every client sends a file of its own (256 KiB + 16 KiB per client
#     number, so each one is different) to a receiver on the LAN host,
#     over IPv4 or IPv6 inside, and the SHA-256 of what arrived must match;
# then client to client through the gateway: ringvpn 1 <-> wireguard-go 4
# and ringvpn 3 <-> wireguard-go 2 ping each other both ways over IPv4 and
# IPv6 and send each other a file. The gateway must then show, for every
# peer, a handshake, the client's underlay endpoint and at least the
# client's file in rx_bytes (so it really came through the tunnel); its
# UAPI (`wg show`) must agree on the handshakes. Everything is stopped
# and no namespace may be left over. Wall time and memory are printed.
# GATEWAY_CLIENTS (default 50, even) and BATCH (default 10) change the size.
# Needs root, ip, ping, ncat, ss, sysctl, wireguard-go, wg; exits 77
# (skip) otherwise or with RINGVPN_SKIP_NETNS set. RINGVPN names the binary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init gateway wireguard-go wg sysctl

CLIENTS=${GATEWAY_CLIENTS:-50}
BATCH=${BATCH:-10}
PFX=rv-gw-$$
NS_SW=$PFX-sw
NS_G=$PFX-g
NS_LAN=$PFX-lan
GW=rv$$g
PORT_G=51820
PORT_C=51821
UL4_G=198.18.0.1
UL6_G=2001:db8:18::1
T4_G=10.77.0.1
T6_G=fd77::1
LAN4=10.78.0.2
LAN6=fd78::2
C2C_PAIRS=("1 4" "3 2")
ALLOWED="10.77.0.0/16, 10.78.0.0/24, fd77::/64, fd78::/64"
declare -A C_NAME=() C_NS=() C_PUB=() C_PID=()
BAD=()

t_start=$SECONDS
mem_base=$(mem_used_mib)
mem_peak=$mem_base

mem_sample() {
	local m
	m=$(mem_used_mib)
	[ "$m" -le "$mem_peak" ] || mem_peak=$m
}

is_rv() { [ $(($1 % 2)) -eq 1 ]; }
is_ul6() { [ "$1" -eq 3 ] || [ "$1" -eq 4 ]; }
t4() { echo "10.77.1.$1"; }
t6() { echo "fd77::1:$1"; }
ul4() { echo "198.18.1.$1"; }
ul6() { echo "2001:db8:18::1:$1"; }
file_size() { echo $(((256 + 16 * ($1 - 1)) << 10)); }

# The endpoint the client is configured with, and the one the gateway
# must have learned for it.
client_endpoint() {
	if is_ul6 "$1"; then echo "[$UL6_G]:$PORT_G"; else echo "$UL4_G:$PORT_G"; fi
}
seen_endpoint() {
	if is_ul6 "$1"; then echo "[$(ul6 "$1")]:$PORT_C"
	else echo "$(ul4 "$1"):$PORT_C"; fi
}

# Clients 1, 2 send their file over IPv4, 3, 4 over IPv6, and so on: both
# kinds of client on both families.
lan_addr() {
	if [ $((($1 - 1) / 2 % 2)) -eq 0 ]; then echo "$LAN4"
	else echo "$LAN6"; fi
}

# verdict TEXT: PASS, or FAIL naming the clients in BAD with what each
# said ($TMP/out.N) and the logs of the gateway and the first three.
verdict() {
	local n names=("$GW")
	if [ ${#BAD[@]} -eq 0 ]; then
		echo "PASS: $1"
		return 0
	fi
	echo "FAIL: $1: ${#BAD[@]} client(s) failed: ${BAD[*]}"
	FAILED=1
	for n in "${BAD[@]}"; do
		echo "--- client $n (${C_NAME[$n]:-?}):"
		cat "$TMP/out.$n" 2>/dev/null || true
	done
	for n in "${BAD[@]:0:3}"; do
		names+=("${C_NAME[$n]}")
	done
	dump_instances "${names[@]}"
}

setup_network() {
	make_switch "$NS_SW" br0
	make_netns "$NS_G"
	make_netns "$NS_LAN"
	switch_port "$NS_SW" br0 p0 "$NS_G" ul "$UL4_G/15" "$UL6_G/64"
	ip link add lan netns "$NS_G" type veth peer name eth0 netns "$NS_LAN"
	ip -n "$NS_G" addr add 10.78.0.1/24 dev lan
	ip -n "$NS_G" addr add fd78::1/64 dev lan nodad
	ip -n "$NS_LAN" addr add "$LAN4/24" dev eth0
	ip -n "$NS_LAN" addr add "$LAN6/64" dev eth0 nodad
	ip -n "$NS_G" link set lan up
	ip -n "$NS_LAN" link set eth0 up
	ip -n "$NS_LAN" route add 10.77.0.0/16 via 10.78.0.1
	ip -n "$NS_LAN" route add fd77::/64 via fd78::1
	ip netns exec "$NS_G" sysctl -q -w net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1
}

start_gateway() {
	local conf=$TMP/$GW.conf n
	config_interface "$conf" gw "$PORT_G" "$T4_G/16, $T6_G/64" \
		"Threads = 2"
	for ((n = 1; n <= CLIENTS; n++)); do
		C_PUB[$n]=$(make_key "c$n")
		config_peer "$conf" "${C_PUB[$n]}" \
			"$(t4 "$n")/32, $(t6 "$n")/128" ""
	done
	start_ringvpn "$NS_G" "$conf"
}

# start_client N: its namespace on the switch, then ringvpn or
# wireguard-go in it with the gateway as its only peer.
start_client() {
	local n=$1 ns=$PFX-c$1 name conf
	if is_rv "$n"; then name=rv$$c$n; else name=rv$$w$n; fi
	conf=$TMP/$name.conf
	C_NAME[$n]=$name
	C_NS[$n]=$ns
	make_netns "$ns"
	switch_port "$NS_SW" br0 "p$n" "$ns" ul "$(ul4 "$n")/15" \
		"$(ul6 "$n")/64"
	if is_rv "$n"; then
		config_interface "$conf" "c$n" "$PORT_C" \
			"$(t4 "$n")/32, $(t6 "$n")/128" "Threads = 1"
		config_peer "$conf" "$PUB_G" "$ALLOWED" "$(client_endpoint "$n")"
		start_ringvpn "$ns" "$conf" || return 1
		C_PID[$n]=${RV_PID[$name]}
	else
		config_interface "$conf" "c$n" "$PORT_C" ""
		config_peer "$conf" "$PUB_G" "$ALLOWED" "$(client_endpoint "$n")"
		start_wggo "$ns" "$name" "$conf" "$(t4 "$n")/32" \
			"$(t6 "$n")/128" || return 1
		C_PID[$n]=${WG_PID[$name]}
	fi
}

start_clients() {
	local n
	BAD=()
	for ((n = 1; n <= CLIENTS; n++)); do
		start_client "$n" >"$TMP/out.$n" 2>&1 || BAD+=("$n")
	done
	verdict "$CLIENTS clients up ($((CLIENTS / 2)) ringvpn, $(
		)$((CLIENTS / 2)) wireguard-go)"
}

# shellcheck disable=SC2317 # run through bg_start
ping_lan() {
	local ns=${C_NS[$1]} rc=0
	ping_ok "$ns" "$LAN4" || { echo "no IPv4 ping reply from $LAN4"; rc=1; }
	ping_ok "$ns" "$LAN6" || { echo "no IPv6 ping reply from $LAN6"; rc=1; }
	return "$rc"
}

# for_batches FUNC: FUNC N for every client, BATCH at a time in parallel;
# BAD lists those that failed, $TMP/out.N holds what each said.
for_batches() {
	local fn=$1 first n pids=()
	BAD=()
	for ((first = 1; first <= CLIENTS; first += BATCH)); do
		pids=()
		for ((n = first; n < first + BATCH && n <= CLIENTS; n++)); do
			bg_start "$TMP/out.$n" "$fn" "$n"
			pids[n]=$BG_PID
		done
		mem_sample
		for n in "${!pids[@]}"; do
			bg_wait "${pids[n]}" || BAD+=("$n")
		done
	done
}

# The transfers' receivers must run in this shell (lib.sh records them in
# arrays), so a batch is started here and then waited for.
transfer_batches() {
	local first n ids=()
	BAD=()
	for ((first = 1; first <= CLIENTS; first += BATCH)); do
		ids=()
		for ((n = first; n < first + BATCH && n <= CLIENTS; n++)); do
			if transfer_start "${C_NS[$n]}" "$NS_LAN" \
			   "$(lan_addr "$n")" "$(file_size "$n")" \
			   >"$TMP/out.$n" 2>&1; then
				ids[n]=$XFER_ID
			else
				BAD+=("$n")
			fi
		done
		mem_sample
		for n in "${!ids[@]}"; do
			transfer_wait "${ids[n]}" >"$TMP/out.$n" 2>&1 ||
				BAD+=("$n")
		done
	done
}

# c2c A B: ringvpn client A and wireguard-go client B, through the
# gateway: pings both ways on both families, then A's file to B over IPv4
# and B's to A over IPv6, at the same time.
# shellcheck disable=SC2317 # called through check_c2c
c2c() {
	local a=$1 b=$2 rc=0 x y
	ping_ok "${C_NS[$a]}" "$(t4 "$b")" || { echo "IPv4 ping $a -> $b"; rc=1; }
	ping_ok "${C_NS[$a]}" "$(t6 "$b")" || { echo "IPv6 ping $a -> $b"; rc=1; }
	ping_ok "${C_NS[$b]}" "$(t4 "$a")" || { echo "IPv4 ping $b -> $a"; rc=1; }
	ping_ok "${C_NS[$b]}" "$(t6 "$a")" || { echo "IPv6 ping $b -> $a"; rc=1; }
	transfer_start "${C_NS[$a]}" "${C_NS[$b]}" "$(t4 "$b")" \
		$(((1536 + a) << 10)) || rc=1
	x=$XFER_ID
	transfer_start "${C_NS[$b]}" "${C_NS[$a]}" "$(t6 "$a")" \
		$(((1536 + b) << 10)) || rc=1
	y=$XFER_ID
	transfer_wait "$x" || rc=1
	transfer_wait "$y" || rc=1
	return "$rc"
}

check_c2c() {
	local p a b
	BAD=()
	for p in "${C2C_PAIRS[@]}"; do
		read -r a b <<<"$p"
		[ "$b" -le "$CLIENTS" ] || continue
		c2c "$a" "$b" >"$TMP/out.$a" 2>&1 || BAD+=("$a")
	done
	verdict "client to client through the gateway (ringvpn <-> $(
		)wireguard-go: pings both ways on IPv4 and IPv6, a file each $(
		)way, SHA-256s match)"
}

# peer_ok N SHOW_OUTPUT: client N's line in the gateway's `ringvpn show`.
peer_ok() {
	local n=$1 line ep rx hs latest
	line=$(awk -v k="${C_PUB[$n]}:" '$1 == "peer" && $2 == k' <<<"$2")
	[ -n "$line" ] || { echo "no peer line for ${C_PUB[$n]}"; return 1; }
	read -r ep rx hs latest < <(awk '{
		for (i = 3; i < NF; i++) v[$i] = $(i + 1)
		print v["endpoint"], v["rx_bytes"], v["handshakes"],
			v["latest_handshake"] }' <<<"$line")
	echo "$line"
	[ "$ep" = "$(seen_endpoint "$n")" ] ||
		{ echo "endpoint $ep, expected $(seen_endpoint "$n")"; return 1; }
	if ! { [ "$hs" -ge 1 ] && [ "$latest" -gt 0 ]; }; then
		echo "no handshake"
		return 1
	fi
	[ "$rx" -ge "$(file_size "$n")" ] ||
		{ echo "rx_bytes < its file's $(file_size "$n")"; return 1; }
}

check_gateway_peers() {
	local show n threads
	BAD=()
	show=$(rv_show "$GW" 2>&1 || true)
	threads=$(awk '$1 == "threads:" { print $2 }' <<<"$show")
	if [ "$threads" = 2 ]; then
		echo "PASS: gateway runs 2 workers"
	else
		echo "FAIL: gateway shows threads: '$threads', expected 2"
		FAILED=1
	fi
	for ((n = 1; n <= CLIENTS; n++)); do
		peer_ok "$n" "$show" >"$TMP/out.$n" 2>&1 || BAD+=("$n")
	done
	verdict "gateway's ringvpn show: every peer has a handshake, $(
		)the client's underlay endpoint and rx_bytes >= its file"
}

# The UAPI is an independent reader of the peers' state.
check_gateway_uapi() {
	local hs n t
	BAD=()
	hs=$(ip netns exec "$NS_G" wg show "$GW" latest-handshakes 2>&1 ||
		true)
	for ((n = 1; n <= CLIENTS; n++)); do
		t=$(awk -v k="${C_PUB[$n]}" '$1 == k { print $2 }' <<<"$hs")
		echo "wg show latest-handshakes: '${t:-none}'" >"$TMP/out.$n"
		[ "${t:-0}" -gt 0 ] || BAD+=("$n")
	done
	verdict "gateway's UAPI (wg show): every peer has a handshake"
}

# Clients all at once, then the gateway (exit 0, interface gone), then the
# rest; afterwards none of our namespaces may remain.
teardown() {
	local pids=() n left
	for n in "${!C_PID[@]}"; do
		pids+=("${C_PID[$n]}")
	done
	if stop_pids "${pids[@]}" >"$TMP/out.stop" 2>&1; then
		echo "PASS: ${#pids[@]} clients exit on SIGTERM"
	else
		echo "FAIL: clients ignored SIGTERM:"
		cat "$TMP/out.stop"
		FAILED=1
	fi
	if stop_ringvpn "$GW" >"$TMP/out.stop" 2>&1; then
		echo "PASS: gateway: SIGTERM: exits 0, interface removed"
	else
		echo "FAIL: gateway: SIGTERM: exits 0, interface removed"
		cat "$TMP/out.stop"
		dump_instances "$GW"
		FAILED=1
	fi
	RV_NS=() WG_NS=()
	lib_cleanup
	TMP=
	left=$(ip netns list | awk -v p="$PFX-" 'index($1, p) == 1 {
		printf " %s", $1 }')
	if [ -z "$left" ]; then
		echo "PASS: no namespace left over"
	else
		echo "FAIL: namespaces left over:$left"
		FAILED=1
	fi
}

report_resources() {
	local rv=() wg=() n
	for n in "${!C_PID[@]}"; do
		if is_rv "$n"; then rv+=("${C_PID[$n]}"); else wg+=("${C_PID[$n]}"); fi
	done
	RSS_LINE="RSS: gateway $(rss_mib "${RV_PID[$GW]}") MiB, ${#rv[@]} $(
		)ringvpn clients $(rss_mib "${rv[@]}") MiB, ${#wg[@]} $(
		)wireguard-go clients $(rss_mib "${wg[@]}") MiB"
}

phase() {
	echo "--- $1 ($((SECONDS - t_start)) s)"
}

phase "network: switch, gateway, LAN"
setup_network
PUB_G=$(make_key gw)
if ! start_gateway; then
	report FAIL "gateway with $CLIENTS peers starts"
	exit 1
fi
echo "PASS: gateway with $CLIENTS peers up"
phase "clients"
start_clients
mem_sample
t_pings=$SECONDS
phase "pings to the LAN host, $BATCH clients at a time"
for_batches ping_lan
verdict "every client pings the LAN host ($LAN4 and $LAN6)"
t_xfers=$SECONDS
phase "a file from every client to the LAN host, $BATCH at a time"
transfer_batches
verdict "every client's file reached the LAN host, SHA-256 matches"
t_c2c=$SECONDS
phase "client to client"
check_c2c
mem_sample
check_gateway_peers
check_gateway_uapi
report_resources
phase "teardown"
teardown
echo "time: pings $((t_xfers - t_pings)) s, transfers $((t_c2c - t_xfers)) s,$(
	) total $((SECONDS - t_start)) s"
echo "memory: in use before ${mem_base} MiB, peak ${mem_peak} MiB $(
	)(+$((mem_peak - mem_base)) MiB); $RSS_LINE"

exit "$FAILED"
