#!/bin/bash
# The standard tools against ringvpn, with Debian's wireguard-go as the
# peer on the other side of a veth:
#   - `ringvpn IFNAME` (the userspace-implementation convention) makes an
#     unconfigured interface; `wg set` configures every key; `wg show dump`
#     and `wg showconf` must say exactly what was set; data flows;
#   - raw UAPI requests: "-" removes one prefix; garbage, an unknown key, a
#     bad value and an over-long line get an error reply and change nothing;
#   - a new listen port applies live (wireguard-go roams to it);
#   - `wg syncconf` adds and removes peers without a new handshake for the
#     peer it leaves alone; `ringvpn show` gives the wg view and its own;
#   - deleting the interface makes the daemon exit and remove its socket;
#   - wg-quick up/down with WG_QUICK_USERSPACE_IMPLEMENTATION=ringvpn;
#   - SIGHUP makes a config-file daemon re-read its file (syncconf rules).
# Needs root, ip, ping, ncat, wireguard-go, wg, wg-quick; exits 77 (skip)
# otherwise. RINGVPN names the binary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init uapi_wg wireguard-go wg wg-quick
make_pair "rv-uw-a-$$" "rv-uw-b-$$"

IF_A=rvu$$a
IF_B=rvu$$b
PORT_A=51830
PORT_B=51831
T4_A=10.93.0.1
T4_B=10.93.0.2
T6_A=fd00:93::1
T6_B=fd00:93::2
PUB_A=$(make_key a)
PUB_B=$(make_key b)
PUB_C=$(make_key c)
"$RINGVPN" genpsk >"$TMP/psk"
SOCK=/var/run/wireguard/$IF_A.sock

hex() { base64 -d <<<"$1" | od -An -tx1 | tr -d ' \n'; }

# uapi REQUEST: the raw reply of our socket.
uapi() { printf '%b' "$1" | timeout 5 ncat -U "$SOCK" 2>/dev/null || true; }

# The directory is 0755 when ringvpn made it; tests running at the same
# time may have run wireguard-go under wg-quick's umask 077 first (0700).
# Either way root's, and nobody else may write to it.
socket_modes() {
	case $(stat -c %U:%a /var/run/wireguard) in
	root:755 | root:700) ;;
	*) stat -c '%U:%a %n' /var/run/wireguard; return 1 ;;
	esac &&
		[ "$(stat -c %a "$SOCK")" = 600 ] &&
		[ -z "$(ip -n "$NS_A" -o addr show dev "$IF_A")" ]
}

# Nothing set yet: no key, no peers, the port the daemon chose. Both
# views must cope with the empty device (sorting no peers once tripped
# UBSan).
shows_unconfigured() {
	local dump port
	dump=$(ip netns exec "$NS_A" wg show "$IF_A" dump) || return 1
	echo "$dump"
	port=$(cut -f3 <<<"$dump")
	[ "$(cut -f1,2,4 <<<"$dump")" = "$(printf '(none)\t(none)\toff')" ] &&
		[ "$port" -gt 0 ] 2>/dev/null &&
		in_rv "$IF_A" "$RINGVPN" show "$IF_A" >"$TMP/show0" &&
		cat "$TMP/show0" &&
		grep -q "^interface: $IF_A\$" "$TMP/show0" &&
		grep -q "listening port: $port\$" "$TMP/show0" &&
		! grep -q "^peer:" "$TMP/show0"
}

set_everything() {
	ip netns exec "$NS_A" wg set "$IF_A" private-key "$TMP/a.key" \
		listen-port "$PORT_A" fwmark 0x1234 peer "$PUB_B" \
		preshared-key "$TMP/psk" endpoint "$UL4_B:$PORT_B" \
		persistent-keepalive 25 allowed-ips "$T4_B/32,$T6_B/128"
	ip -n "$NS_A" addr add "$T4_A/24" dev "$IF_A"
	ip -n "$NS_A" addr add "$T6_A/64" dev "$IF_A" nodad
	ip -n "$NS_A" link set "$IF_A" up
}

# The dump's configuration columns (not handshake time or counters).
dump_config() {
	ip netns exec "$NS_A" wg show "$IF_A" dump |
		awk -F'\t' 'NR == 1 { print $1, $2, $3, $4; next }
			    { print $1, $2, $3, $4, $8 }' | sort
}

dump_matches() {
	local want got
	want=$(printf '%s\n' \
		"$(cat "$TMP/a.key") $PUB_A $PORT_A 0x1234" \
		"$PUB_B $(cat "$TMP/psk") $UL4_B:$PORT_B $T4_B/32,$T6_B/128 25" |
		sort)
	got=$(dump_config)
	[ "$want" = "$got" ] || { echo "want: $want"; echo "got:  $got"; false; }
}

start_peer_b() {
	config_interface "$TMP/$IF_B.conf" b "$PORT_B" ""
	sed -i '/^Address/d' "$TMP/$IF_B.conf"
	config_peer "$TMP/$IF_B.conf" "$PUB_A" "$T4_A/32, $T6_A/128" \
		"$UL4_A:$PORT_A" "PresharedKey = $(cat "$TMP/psk")"
	start_wggo "$NS_B" "$IF_B" "$TMP/$IF_B.conf" "$T4_B/24" "$T6_B/64"
}

traffic_flows() {
	ping_ok "$NS_A" "$T4_B" && ping_ok "$NS_A" "$T6_B" &&
		transfer "$NS_A" "$NS_B" "$T4_B" $((8 << 20)) &&
		transfer "$NS_B" "$NS_A" "$T6_A" $((8 << 20))
}

counters_moved() {
	ip netns exec "$NS_A" wg show "$IF_A" dump | awk -F'\t' '
		NR == 2 { ok = $5 > 0 && $6 > 8000000 && $7 > 8000000 }
		END { exit !ok }'
}

remove_one_prefix() {
	local r
	r=$(uapi "set=1\npublic_key=$(hex "$PUB_B")\nupdate_only=true\nallowed_ip=-$T6_B/128\n\n")
	[ "$r" = "errno=0" ] || { echo "reply: $r"; return 1; }
	[ "$(ip netns exec "$NS_A" wg show "$IF_A" allowed-ips |
		cut -f2)" = "$T4_B/32" ] || return 1
	r=$(uapi "set=1\npublic_key=$(hex "$PUB_B")\nallowed_ip=$T6_B/128\n\n")
	[ "$r" = "errno=0" ]
}

bad_requests_change_nothing() {
	local before after r long req
	before=$(ip netns exec "$NS_A" wg showconf "$IF_A")
	long=$(head -c 10000 /dev/zero | tr '\0' 1)
	for req in 'hello=1\n\n' 'set=1\nfoo=bar\n\n' \
		"set=1\nlisten_port=99999\n\n" \
		"set=1\nprivate_key=zz\n\n" \
		"set=1\nlisten_port=4000\npublic_key=$(hex "$PUB_C")\nendpoint=nonsense\n\n" \
		"set=1\nfwmark=7\nlisten_port=$long\n\n" \
		"set=1\npublic_key=$(hex "$PUB_C")\nallowed_ip=10.0.0.0/33\n\n"; do
		r=$(uapi "$req")
		case $r in
		errno=0 | "") echo "accepted: $req -> '$r'"; return 1 ;;
		errno=*) ;;
		*) echo "odd reply to $req: $r"; return 1 ;;
		esac
	done
	after=$(ip netns exec "$NS_A" wg showconf "$IF_A")
	[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after"); false; }
}

port_in_use_is_refused() {
	local pid ret=0
	ip netns exec "$NS_A" ncat -u -l "$UL4_A" 4444 >/dev/null 2>&1 &
	pid=$!
	lib_track_pid "$pid"
	wait_for 5 sh -c "ip netns exec $NS_A ss -Hunl 'sport = :4444' | grep . >/dev/null"
	# wg reads our errno as a number: it names the error.
	if ip netns exec "$NS_A" wg set "$IF_A" listen-port 4444 2>"$TMP/err"
	then
		ret=1
	fi
	lib_stop_pid "$pid"
	cat "$TMP/err"
	[ "$ret" = 0 ] && grep -q "Address already in use" "$TMP/err" &&
		[ "$(ip netns exec "$NS_A" wg show "$IF_A" listen-port)" = \
			"$PORT_A" ] && ping_ok "$NS_A" "$T4_B"
}

port_changes_live() {
	ip netns exec "$NS_A" wg set "$IF_A" listen-port $((PORT_A + 10))
	[ "$(ip netns exec "$NS_A" wg show "$IF_A" listen-port)" = \
		$((PORT_A + 10)) ] &&
		ip netns exec "$NS_A" ss -Hunl "sport = :$((PORT_A + 10))" |
		grep . >/dev/null &&
		ping_ok "$NS_A" "$T4_B" &&
		ip netns exec "$NS_B" wg show "$IF_B" endpoints |
		grep ":$((PORT_A + 10))$" >/dev/null
}

handshake_of() {
	ip netns exec "$NS_A" wg show "$IF_A" latest-handshakes |
		awk -v k="$1" '$1 == k { print $2 }'
}

syncconf_keeps_sessions() {
	local before after
	before=$(handshake_of "$PUB_B")
	{
		echo "[Interface]"
		echo "PrivateKey = $(cat "$TMP/a.key")"
		echo "ListenPort = $((PORT_A + 10))"
		echo "FwMark = 0x1234"
		echo "[Peer]"
		echo "PublicKey = $PUB_B"
		echo "PresharedKey = $(cat "$TMP/psk")"
		echo "AllowedIPs = $T4_B/32, $T6_B/128"
		echo "PersistentKeepalive = 25"
		echo "[Peer]"
		echo "PublicKey = $PUB_C"
		echo "AllowedIPs = 10.93.9.0/24"
	} >"$TMP/sync.conf"
	ip netns exec "$NS_A" wg syncconf "$IF_A" "$TMP/sync.conf"
	ip netns exec "$NS_A" wg show "$IF_A" peers | grep -x "$PUB_C" >/dev/null &&
		ping_ok "$NS_A" "$T4_B" &&
		after=$(handshake_of "$PUB_B") &&
		[ "$before" = "$after" ] && [ "$before" != 0 ] &&
		ip netns exec "$NS_A" wg set "$IF_A" peer "$PUB_C" remove &&
		! ip netns exec "$NS_A" wg show "$IF_A" peers | grep -x "$PUB_C" >/dev/null
}

# Same fields as wg's dump (the counters may move between the two calls).
show_dump_is_wgs() {
	local ours theirs
	ours=$(in_rv "$IF_A" "$RINGVPN" show "$IF_A" dump | cut -f1-4,8 | sort)
	theirs=$(ip netns exec "$NS_A" wg show "$IF_A" dump | cut -f1-4,8 | sort)
	[ "$ours" = "$theirs" ] ||
		{ diff <(echo "$theirs") <(echo "$ours"); false; }
}

show_has_both_views() {
	in_rv "$IF_A" "$RINGVPN" show "$IF_A" >"$TMP/show"
	cat "$TMP/show"
	grep -qx "peer: $PUB_B" "$TMP/show" &&
		grep -q "^  latest handshake: " "$TMP/show" &&
		grep -q "^  fwmark: 0x1234" "$TMP/show" &&
		grep -q "^  data path: " "$TMP/show" &&
		grep -q "^  worker 0: " "$TMP/show"
}

gone_with_interface() {
	local pid=${RV_PID[$IF_A]}
	ip -n "$NS_A" link del "$IF_A"
	wait_for 5 pid_gone "$pid" && [ ! -e "$SOCK" ]
}

# wg-quick takes the userspace path when `ip link add ... type wireguard`
# fails and /sys/module/wireguard does not exist: a shim `ip` refuses the
# former, and a private mount hides the latter where the module exists.
wg_quick() {
	local shim=$TMP/shim
	mkdir -p "$shim"
	ln -sf "$RINGVPN" "$shim/ringvpn"
	cat >"$shim/ip" <<-EOF
		#!/bin/sh
		case "\$*" in *"type wireguard"*) exit 2 ;; esac
		exec $(command -v ip) "\$@"
	EOF
	chmod +x "$shim/ip"
	ip netns exec "$NS_A" unshare -m sh -c '
		[ ! -e /sys/module/wireguard ] ||
			mount -t tmpfs none /sys/module
		exec "$@"' sh env PATH="$shim:$PATH" \
		RINGVPN_RUNDIR="$TMP/run-q" \
		WG_QUICK_USERSPACE_IMPLEMENTATION=ringvpn wg-quick "$@"
}

wg_quick_up_down() {
	local conf=$TMP/$IF_A.conf pid
	config_interface "$conf" a "$PORT_A" "$T4_A/24"
	config_peer "$conf" "$PUB_B" "$T4_B/32" "$UL4_B:$PORT_B" \
		"PresharedKey = $(cat "$TMP/psk")"
	ip netns exec "$NS_B" wg set "$IF_B" peer "$PUB_A" \
		endpoint "$UL4_A:$PORT_A"
	wg_quick up "$conf" || return 1
	pid=$(cat "$TMP/run-q/$IF_A.pid")
	lib_track_pid "$pid"
	ping_ok "$NS_A" "$T4_B" &&
		ip netns exec "$NS_A" wg show "$IF_A" | grep "latest handshake" >/dev/null &&
		wg_quick down "$conf" &&
		wait_for 5 pid_gone "$pid" && [ ! -e "$SOCK" ] &&
		! ip -n "$NS_A" link show "$IF_A" 2>/dev/null
}

sighup_reloads() {
	local conf=$TMP/$IF_A.conf before
	config_interface "$conf" a "$PORT_A" "$T4_A/24"
	config_peer "$conf" "$PUB_B" "$T4_B/32" "$UL4_B:$PORT_B" \
		"PresharedKey = $(cat "$TMP/psk")"
	start_ringvpn "$NS_A" "$conf" || return 1
	ping_ok "$NS_A" "$T4_B" || return 1
	before=$(handshake_of "$PUB_B")
	sed -i "s/^Endpoint.*/&\nPersistentKeepalive = 7/" "$conf"
	config_peer "$conf" "$PUB_C" "10.93.9.0/24" ""
	kill -HUP "${RV_PID[$IF_A]}"
	wait_for 5 sh -c "ip netns exec $NS_A wg show $IF_A peers | grep -x '$PUB_C' >/dev/null" &&
		ip netns exec "$NS_A" wg show "$IF_A" persistent-keepalive |
		grep -x "$PUB_B	7" >/dev/null &&
		ping_ok "$NS_A" "$T4_B" &&
		[ "$(handshake_of "$PUB_B")" = "$before" ]
}

start_userspace "$NS_A" "$IF_A"
check "ringvpn IFNAME: unconfigured, socket 0600 in a directory only root writes" \
	socket_modes
check "wg show and ringvpn show of the unconfigured interface" \
	shows_unconfigured
set_everything
check "wg set with every key: wg show dump says exactly that" dump_matches
start_peer_b
check "data flows both ways (IPv4 and IPv6, 8 MiB each, sha256)" \
	traffic_flows
check "wg show: handshake time and byte counters" counters_moved
check "UAPI allowed_ip=- removes one prefix" remove_one_prefix
check "bad UAPI requests get errno and change nothing" \
	bad_requests_change_nothing
check "a port in use: wg says so, nothing changes" port_in_use_is_refused
check "listen port changes live; the peer roams to it" port_changes_live
check "wg syncconf adds/removes peers, keeps the session" \
	syncconf_keeps_sessions
check "ringvpn show: wg view and ringvpn's facts" show_has_both_views
check "ringvpn show NAME dump: wg show dump's fields" show_dump_is_wgs
check "deleting the interface stops the daemon and removes the socket" \
	gone_with_interface
check "wg-quick up/down with WG_QUICK_USERSPACE_IMPLEMENTATION=ringvpn" \
	wg_quick_up_down
check "SIGHUP re-reads the config file, session kept" sighup_reloads
exit "$FAILED"
