#!/bin/bash
# The data path with every feature on, and with each one forced off by
# RINGVPN_DISABLE, ringvpn to ringvpn over veth. A runs the mode under
# test, B always runs with everything on, so every fallback also talks to
# a fully offloaded peer. For each mode: A's `show` names the features in
# use and none that was turned off; pings pass both ways over IPv4 and
# IPv6 inside; a 32 MiB TCP transfer each way arrives with the same
# SHA-256; and the counters prove the mode: with GSO a sendmsg carries
# many datagrams and with GRO a receive returns many, without them each
# carries one; with both workers of a Threads = 2 pair sharing crypto
# (parallel) one runs chunks for the other, with parallel off none does.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init fallbacks
make_pair "rv-fb-a-$$" "rv-fb-b-$$"

T4_A=10.92.0.1
T4_B=10.92.0.2
T6_A=fd00:92::1
T6_B=fd00:92::2
SIZE=$((32 << 20))
ALL_OFF=vnet_hdr,tso,uso,udp_gso,udp_gro,multishot_recv,multishot_read,defer_taskrun,evp_aead,parallel
MODES=("" vnet_hdr tso uso udp_gso udp_gro multishot_recv multishot_read
	defer_taskrun evp_aead parallel "$ALL_OFF")

# sum_field NAME FIELD: FIELD summed over NAME's workers.
sum_field() {
	rv_worker_field "$1" "$2" | awk '{ s += $1 } END { print s + 0 }'
}

# shellcheck disable=SC2317 # called through check
features_match() {
	local name=$1 off=$2 line word
	line=$(rv_show "$name" | sed -n 's/^ *data path: //p')
	echo "$name: data path: ${line:-?}"
	[ -n "$line" ] || return 1
	for word in ${off//,/ }; do
		case " $line " in *" $word "*)
			echo "$word is in use though it was turned off"
			return 1 ;;
		esac
	done
	# Old enough to be in every kernel ringvpn supports (Linux 5.0).
	if [ -z "$off" ]; then
		for word in vnet_hdr tso udp_gso udp_gro evp_aead parallel; do
			case " $line " in *" $word "*) ;; *)
				echo "$word is not in use"
				return 1 ;;
			esac
		done
	fi
}

# shellcheck disable=SC2317 # called through check
batching_matches() {
	local name=$1 off=$2 tx sends rx recvs
	tx=$(sum_field "$name" udp_tx)
	sends=$(sum_field "$name" sends)
	rx=$(sum_field "$name" udp_rx)
	recvs=$(sum_field "$name" recvs)
	echo "$name: $tx datagrams in $sends sends, $rx in $recvs receives"
	case ",$off," in
	*,udp_gso,* | *,vnet_hdr,* | *,tso,*) [ "$tx" -eq "$sends" ] || return 1 ;;
	*) [ "$tx" -gt $((2 * sends)) ] || return 1 ;;
	esac
	case ",$off," in
	*,udp_gro,*) [ "$rx" -eq "$recvs" ] || return 1 ;;
	*) [ "$rx" -gt $((2 * recvs)) ] || return 1 ;;
	esac
}

# shellcheck disable=SC2317 # called through check
sharing_matches() {
	local name=$1 off=$2 helped
	helped=$(sum_field "$name" helped)
	echo "$name: chunks of crypto run for another worker: $helped"
	case ",$off," in
	*,parallel,*) [ "$helped" -eq 0 ] ;;
	# With everything on, two workers and one busy peer, the idle one
	# is woken for every super-packet and GRO receive of 16 KiB or
	# more: over 2 x 32 MiB it takes some chunks.
	,,) [ "$helped" -gt 0 ] ;;
	esac
}

run_mode() {
	local off=$1 tag=$2 a b what
	what="off: ${off:-nothing}"
	a=rvf$$a$tag
	b=rvf$$b$tag
	rv_pair "$a" "$b" "$T4_A/24, $T6_A/64" "$T4_B/24, $T6_B/64" \
		"Threads = 2"

	export RINGVPN_DISABLE=$off
	if ! start_ringvpn "$NS_A" "$TMP/$a.conf"; then
		unset RINGVPN_DISABLE
		report FAIL "$what: A starts"
		cat "${RV_LOG[$a]}" || true
		return 0
	fi
	unset RINGVPN_DISABLE
	if ! start_ringvpn "$NS_B" "$TMP/$b.conf"; then
		report FAIL "$what: B starts"
		return 0
	fi
	check "$what: A's show names its features" features_match "$a" "$off"
	check "$what: ping A -> B over IPv4 and IPv6 inside" \
		eval 'ping_ok "$NS_A" "$T4_B" && ping_ok "$NS_A" "$T6_B"'
	check "$what: ping B -> A over IPv4 and IPv6 inside" \
		eval 'ping_ok "$NS_B" "$T4_A" && ping_ok "$NS_B" "$T6_A"'
	check "$what: 32 MiB A -> B [$T4_B], SHA-256 matches" \
		transfer "$NS_A" "$NS_B" "$T4_B" "$SIZE"
	check "$what: 32 MiB B -> A [$T6_A], SHA-256 matches" \
		transfer "$NS_B" "$NS_A" "$T6_A" "$SIZE"
	check "$what: A's counters show the batching of its mode" \
		batching_matches "$a" "$off"
	check "$what: A's workers share crypto unless parallel is off" \
		sharing_matches "$a" "$off"
	check "$what: SIGTERM: both exit 0, interfaces removed" \
		stop_ringvpns "$a" "$b"
	unset "RV_NS[$a]" "RV_NS[$b]"
}

n=0
for mode in "${MODES[@]}"; do
	run_mode "$mode" "$((n++))"
done

exit "$FAILED"
