#!/usr/bin/env bash
# Throughput, latency and CPU cost of ringvpn next to wireguard-go and a
# bare veth, measured in one run on this machine (run as root):
#
#   [WG_GO_HEAD=PATH] bash contrib/bench/bench.sh [--runs N] [--seconds S]
#       [--ringvpn PATH] [--baseline PATH] [--threads N] [--mtu N]
#       [--kinds LIST]
#
# Two network namespaces joined by a veth pair (198.18.0.1 and .2); in them
# a ringvpn pair and a wireguard-go pair (and a pair of the --baseline
# ringvpn, and of the WG_GO_HEAD wireguard-go, when given), all up at
# once, each on its own tunnel subnet. iperf3's server runs in namespace B, its client in A.
# Every repetition runs every test on every kind back to back (the kind
# order rotates per repetition), so the machine's noise hits all kinds
# alike; the table shows medians. For ringvpn's daemons a second table
# splits their CPU time per thread (by thread name).
#
# stdout gets the report (machine and date first, then the tables: ready to
# paste into a README); progress and per-run numbers go to stderr.
# Exit status: 0 when the measurements ran, whatever the numbers (a failed
# iperf3 run is reported as such); nonzero only if the setup failed.
set -euo pipefail

RUNS=5
SECONDS_PER_TEST=8 # 5 runs x 4 tests x 3 kinds x ~9 s: about 10 minutes
THREADS=2
MTU=1420
RINGVPN=
KINDS=
# A second ringvpn binary (say the last release's), measured in the same
# run as kind ringvpn-base; upstream wireguard-go, as wireguard-go-head,
# when WG_GO_HEAD names its binary (nothing is read by default).
BASELINE=${RINGVPN_BASELINE:-}
WG_GO_HEAD=${WG_GO_HEAD:-}

usage() {
	sed -n '5,6p' "$0" | sed 's/^# *//'
	exit "${1:-2}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=${2:?}; shift 2 ;;
	--seconds) SECONDS_PER_TEST=${2:?}; shift 2 ;;
	--ringvpn) RINGVPN=${2:?}; shift 2 ;;
	--baseline) BASELINE=${2:?}; shift 2 ;;
	--threads) THREADS=${2:?}; shift 2 ;;
	--mtu) MTU=${2:?}; shift 2 ;;
	--kinds) KINDS=${2:?}; shift 2 ;; # e.g. veth,ringvpn
	-h | --help) usage 0 ;;
	*) echo "bench.sh: unknown argument $1" >&2; usage ;;
	esac
done
for n in "$RUNS" "$SECONDS_PER_TEST" "$THREADS" "$MTU"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: not a number: $n" >&2; exit 2; }
done

cd "$(dirname "$0")/../.."
TOP=$PWD

# log, die, the cleanup, the underlay, ringvpn's start and per-thread
# ticks, as rx_capacity.sh has them.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. contrib/bench/lib.sh

# ---------------------------------------------------------------------------
# Packages and the binary

# Packages are installed by need (contrib/need.sh), which calls apt-get
# only when something is missing.
# shellcheck source-path=SCRIPTDIR source=../need.sh
. contrib/need.sh

# Without --ringvpn: build/ringvpn of this tree, brought up to date the way
# contrib/demo.sh builds it (make is incremental).
build_ringvpn() {
	need autoreconf make -- "${NEED_BUILD[@]}" ||
		die "installing the build's packages failed"
	log "== building ringvpn in $TOP/build"
	(
		cd "$TOP"
		[ -x configure ] || autoreconf -fi >/dev/null 2>&1
		mkdir -p build && cd build
		[ -f Makefile ] || ../configure -q
		make -j"$(nproc)" -s ringvpn >/dev/null
	) >&2 || die "building ringvpn failed"
	RINGVPN=$TOP/build/ringvpn
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
umask 077 # private keys and configs
# Every command this script runs, the build's aside (tests/commands.sh
# holds the two lists to that).
need awk cat cut date dirname env getconf grep head id ip iperf3 mkdir \
	mktemp nproc ping realpath rm sed seq sleep sort ss tail timeout tr \
	uname wg wireguard-go || die "installing packages failed"
if [ -n "$RINGVPN" ]; then
	RINGVPN=$(realpath "$RINGVPN")
else
	build_ringvpn
fi
[ -x "$RINGVPN" ] || die "$RINGVPN is not executable"

# The kinds of peer measured; OpenVPN is not measured by this script.
if [ -z "$KINDS" ]; then
	KINDS="veth,ringvpn"
	[ -z "$BASELINE" ] || KINDS+=",ringvpn-base"
	KINDS+=",wireguard-go"
	[ -z "$WG_GO_HEAD" ] || KINDS+=",wireguard-go-head"
fi
IFS=, read -r -a KIND_LIST <<<"$KINDS"
for k in "${KIND_LIST[@]}"; do
	case $k in
	veth | ringvpn | wireguard-go) ;;
	ringvpn-base) [ -x "$BASELINE" ] || die "ringvpn-base needs --baseline PATH" ;;
	wireguard-go-head) [ -x "$WG_GO_HEAD" ] || die "wireguard-go-head needs WG_GO_HEAD=PATH" ;;
	*) die "unknown kind $k (veth, ringvpn, ringvpn-base, wireguard-go, wireguard-go-head)" ;;
	esac
done
has_kind() { [[ ,$KINDS, == *,$1,* ]]; }

# ---------------------------------------------------------------------------
# Cleanup: only what we started and created

TMP=$(mktemp -d /tmp/ringvpn-bench.XXXXXX)
cleanup_on_exit

# ---------------------------------------------------------------------------
# The underlay: two namespaces and a veth pair

NS_A=rvbench-a-$$
NS_B=rvbench-b-$$
UL_A=198.18.0.1
UL_B=198.18.0.2

# ---------------------------------------------------------------------------
# The tunnels. For each kind: the address iperf3 and ping go to (in B) and
# the PIDs whose CPU time is counted.

declare -A TARGET=([veth]=$UL_B)
declare -A VPN_PIDS=([veth]="")
declare -A LOGS=()
STARTED=

# ping_through NS ADDR: one reply within a few tries (the first packet
# also starts the handshake).
ping_through() {
	local i
	for i in $(seq 10); do
		ip netns exec "$1" ping -n -q -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0
	done
	return 1
}

# start_ringvpn BIN NS NAME ADDR PORT PEER_PUB PEER_ADDR [ENDPOINT]: BIN
# (a ringvpn) as NAME in NS (ringvpn_up), the peer at PEER_ADDR. Sets
# STARTED.
# shellcheck disable=SC2317 # called through setup_pair
start_ringvpn() {
	local bin=$1 ns=$2 name=$3 addr=$4 port=$5 peer=$6 peer_addr=$7 ep=${8:-}
	ringvpn_config "$TMP/$name.key" "$port" "$addr/24" "$MTU" "$THREADS" \
		"$peer" "$peer_addr/32" "$ep" >"$TMP/$name.conf"
	LOGS[$name]=$TMP/$name.log
	ringvpn_up "$bin" "$ns" "$name"
	wait_for 100 rv_ready "$ns" "$name" "$addr" || true
	alive "$STARTED" && rv_ready "$ns" "$name" "$addr"
}

# start_wggo BIN NS NAME ADDR PORT PEER_PUB PEER_ADDR [ENDPOINT]: BIN (a
# wireguard-go) in the foreground (-f: $! is the daemon), configured with
# wg setconf once its UAPI socket exists, then addressed and brought up by
# hand. Sets STARTED.
# shellcheck disable=SC2317 # called through setup_pair
start_wggo() {
	local bin=$1 ns=$2 name=$3 addr=$4 port=$5 peer=$6 peer_addr=$7 ep=${8:-} pid
	{
		echo "[Interface]"
		echo "PrivateKey = $(cat "$TMP/$name.key")"
		echo "ListenPort = $port"
		echo
		echo "[Peer]"
		echo "PublicKey = $peer"
		echo "AllowedIPs = $peer_addr/32"
		[ -z "$ep" ] || echo "Endpoint = $ep"
	} >"$TMP/$name.conf"
	mkdir -p /var/run/wireguard
	WG_IFNAMES+=("$name")
	LOGS[$name]=$TMP/$name.log
	ip netns exec "$ns" "$bin" -f "$name" >"${LOGS[$name]}" 2>&1 &
	pid=$!
	track "$pid"
	STARTED=$pid
	wait_for 50 test -S "/var/run/wireguard/$name.sock" || return 1
	ip netns exec "$ns" wg setconf "$name" "$TMP/$name.conf" >&2 || return 1
	ip -n "$ns" addr add "$addr/24" dev "$name" &&
		ip -n "$ns" link set "$name" mtu "$MTU" up
}

# setup_pair KIND START BIN NET PORT: a pair of BIN on NET.1 (in A) and
# NET.2 (in B), each started by START (start_ringvpn or start_wggo; wg's
# keys serve both), A with B as its endpoint.
setup_pair() {
	local kind=$1 start=$2 bin=$3 net=$4 port=$5 a b pa pb pid_a pid_b
	a=rvb$$${kind: -4}a b=rvb$$${kind: -4}b
	wg genkey >"$TMP/$a.key"
	wg genkey >"$TMP/$b.key"
	pa=$(wg pubkey <"$TMP/$a.key")
	pb=$(wg pubkey <"$TMP/$b.key")
	"$start" "$bin" "$NS_B" "$b" "$net.2" "$port" "$pa" "$net.1" ||
		fail_setup "$kind $b did not come up"
	pid_b=$STARTED
	"$start" "$bin" "$NS_A" "$a" "$net.1" "$port" "$pb" "$net.2" \
		"$UL_B:$port" || fail_setup "$kind $a did not come up"
	pid_a=$STARTED
	TARGET[$kind]=$net.2
	VPN_PIDS[$kind]="$pid_a $pid_b"
	ping_through "$NS_A" "$net.2" || fail_setup "no ping through $kind"
}

fail_setup() {
	local f
	for f in "${LOGS[@]}"; do
		log "--- $f (last 20 lines)"
		tail -n 20 "$f" >&2 2>/dev/null || true
	done
	die "$*"
}

# ---------------------------------------------------------------------------
# Measurements. Each helper prints a number, or nothing if it could not
# measure, and always succeeds: a bad number must not end the run.

CLK_TCK=$(getconf CLK_TCK)
IPERF_PID=

# iperf3's server in B, restarted should it have died.
ensure_iperf_server() {
	if [ -n "$IPERF_PID" ] && alive "$IPERF_PID"; then return 0; fi
	[ -z "$IPERF_PID" ] || { wait "$IPERF_PID" 2>/dev/null || true; untrack "$IPERF_PID"; }
	ip netns exec "$NS_B" iperf3 -s -p 5201 >>"$TMP/iperf3-server.log" 2>&1 &
	IPERF_PID=$!
	track "$IPERF_PID"
	wait_for 30 server_listening || true
}

# shellcheck disable=SC2317 # called through wait_for
server_listening() {
	[ -n "$(ip netns exec "$NS_B" ss -Hltn 'sport = :5201' 2>/dev/null)" ]
}

# cpu_ticks PID...: user + system clock ticks of the processes, all their
# threads included (/proc/PID/stat of a thread-group leader sums them).
cpu_ticks() {
	local pid sum=0 stat f
	for pid in "$@"; do
		stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		# Fields after "(comm)": state is field 3, utime 14, stime 15.
		read -r -a f <<<"${stat##*) }"
		sum=$((sum + f[11] + f[12]))
	done
	echo "$sum"
}

# Per thread: the same for each thread of a ringvpn daemon, so that the
# report can say where a daemon's CPU time goes (which worker, the
# control thread). Threads are known by their names (comm): the workers
# call themselves rv-IFNAME-wI, the control thread has the program's
# name. A name that several threads share (a build from before the
# workers were named: all "ringvpn") gets #0, #1, ... in the order of
# the thread IDs, which is the order they were started in.
THREAD_TSV=$TMP/threads.tsv # kind test run daemon thread ticks daemon_ticks bytes

is_ringvpn() { [[ $1 == ringvpn || $1 == ringvpn-base ]]; }

# thread_ticks PID: the process's ticks on a first line "total TICKS",
# then "TID TICKS COMM" per thread (task_ticks), by thread ID.
thread_ticks() {
	echo "total $(cpu_ticks "$1")"
	task_ticks "$1" | sort -n
}

# snap_threads KIND WHEN: thread_ticks of KIND's daemons (A, then B)
# into $TMP/threads-WHEN-A and -B; nothing for other kinds.
snap_threads() {
	local side=A pid
	is_ringvpn "$1" || return 0
	for pid in ${VPN_PIDS[$1]}; do
		thread_ticks "$pid" >"$TMP/threads-$2-$side"
		side=B
	done
}

# record_threads KIND TEST RUN BYTES: each thread's ticks between the two
# snapshots, as rows of $THREAD_TSV. A thread that started in between counts
# from 0; the time of one that ended in between is in its daemon's total
# only, and shows as "(exited threads)" when it is more than noise.
record_threads() {
	local side
	is_ringvpn "$1" || return 0
	for side in A B; do
		awk -F'\t' -v pre="$1\t$2\t$3\t$side\t" -v by="$4" '
			FNR == 1 { split($0, t, " "); total[FILENAME] = t[2]; pass++; next }
			pass == 1 { before[$1] = $2; next }
			pass == 2 { n[$3]++; next }
			{
				name = $3
				if (n[$3] > 1) name = $3 "#" k[$3]++
				row[++rows] = name; ticks[rows] = $2 - before[$1]
				sum += ticks[rows]
			}
			END {
				all = total[ARGV[2]] - total[ARGV[1]]
				gone = all - sum
				if (gone > 2 && gone * 50 > all) { row[++rows] = "(exited threads)"; ticks[rows] = gone }
				for (i = 1; i <= rows; i++)
					printf "%s%s\t%d\t%d\t%s\n", pre, row[i], ticks[i], all, by
			}' "$TMP/threads-before-$side" "$TMP/threads-after-$side" \
			"$TMP/threads-after-$side" >>"$THREAD_TSV"
	done
}

# udp_errors: UDP InErrors (which include RcvbufErrors) of both namespaces,
# and RcvbufErrors alone: "INERR RCVBUF".
udp_errors() {
	local ns
	for ns in "$NS_A" "$NS_B"; do
		ip netns exec "$ns" cat /proc/net/snmp 2>/dev/null || true
	done | awk '
		$1 == "Udp:" && !hdr { for (i = 2; i <= NF; i++) col[$i] = i; hdr = 1; next }
		$1 == "Udp:" && hdr { e += $col["InErrors"]; r += $col["RcvbufErrors"]; hdr = 0 }
		END { print e + 0, r + 0 }'
}

# iperf_sum JSON: "BYTES BITS_PER_SECOND" of the receiver's sum, or nothing
# (then the error, if iperf3 gave one, on stderr).
iperf_sum() {
	awk '
		/"sum_received"[ \t]*:/ { inside = 1; next }
		inside && /^[ \t]*}/ { inside = 0 }
		inside && /"bytes"[ \t]*:/ { v = $0; sub(/.*:[ \t]*/, "", v); sub(/,.*/, "", v); bytes = v }
		inside && /"bits_per_second"[ \t]*:/ { v = $0; sub(/.*:[ \t]*/, "", v); sub(/,.*/, "", v); bps = v }
		/"error"[ \t]*:/ { err = $0; sub(/.*"error"[ \t]*:[ \t]*/, "", err) }
		END {
			if (bytes + 0 > 0 && bps + 0 > 0) print bytes, bps
			else if (err != "") print "iperf3: " err > "/dev/stderr"
		}' "$1"
}

# ping_rtt ADDR: the median of 20 idle echo round trips from A, in ms.
ping_rtt() {
	ping_through "$NS_A" "$1" || return 0
	ip netns exec "$NS_A" ping -n -c 20 -i 0.05 -W 1 "$1" 2>/dev/null |
		sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' | median || true
}

# median: of the numbers on stdin; nothing if there are none.
median() {
	sort -g | awk '{ v[NR] = $1 }
		END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# The four iperf3 tests: name and client options.
TESTS=(1f 1r 4f 4r)
declare -A TEST_OPTS=([1f]="" [1r]="-R" [4f]="-P 4" [4r]="-P 4 -R")
declare -A TEST_NAME=([1f]="1 stream fwd" [1r]="1 stream rev"
	[4f]="4 streams fwd" [4r]="4 streams rev")

RESULTS=$TMP/results.tsv # kind test run gbps cpu_s_per_gb udp_inerr udp_rcvbuf
FAILURES=0

# run_test KIND TEST RUN: one iperf3 run from A to KIND's address in B, with
# the VPN processes' CPU time and the UDP errors around it.
run_test() {
	local kind=$1 test=$2 run=$3 json=$TMP/iperf.json pid
	local t0 t1 e0 e1 sum bytes bps gbps cpu="-" inerr rcvbuf
	local -a opts pids
	read -r -a opts <<<"${TEST_OPTS[$test]}"
	read -r -a pids <<<"${VPN_PIDS[$kind]}"
	ensure_iperf_server
	snap_threads "$kind" before
	t0=$(cpu_ticks "${pids[@]}")
	read -r -a e0 <<<"$(udp_errors)"
	# In the background so that the traps can stop it; timeout bounds a
	# hung connection.
	timeout $((SECONDS_PER_TEST + 20)) ip netns exec "$NS_A" \
		iperf3 -c "${TARGET[$kind]}" -p 5201 -t "$SECONDS_PER_TEST" -J \
		"${opts[@]}" >"$json" 2>&1 &
	pid=$!
	track "$pid"
	wait "$pid" || true
	untrack "$pid"
	t1=$(cpu_ticks "${pids[@]}")
	snap_threads "$kind" after
	read -r -a e1 <<<"$(udp_errors)"
	inerr=$((e1[0] - e0[0]))
	rcvbuf=$((e1[1] - e0[1]))
	sum=$(iperf_sum "$json" 2>&1) || true
	if [[ $sum != [0-9]* ]]; then
		FAILURES=$((FAILURES + 1))
		log "$(printf 'run %d  %-17s %-13s  FAILED: %s' "$run" "$kind" \
			"${TEST_NAME[$test]}" "${sum:-no result (iperf3 exit or timeout)}")"
		return 0
	fi
	read -r bytes bps <<<"$sum"
	gbps=$(awk -v b="$bps" 'BEGIN { printf "%.3f", b / 1e9 }')
	if [ ${#pids[@]} -gt 0 ]; then
		cpu=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v by="$bytes" \
			'BEGIN { printf "%.2f", t / hz / (by / 1e9) }')
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$test" "$run" "$gbps" \
		"$cpu" "$inerr" "$rcvbuf" >>"$RESULTS"
	record_threads "$kind" "$test" "$run" "$bytes"
	log "$(printf 'run %d  %-17s %-13s %7s Gbit/s  %6s CPU-s/GB  UDP errors %s (rcvbuf %s)' \
		"$run" "$kind" "${TEST_NAME[$test]}" "$gbps" "$cpu" "$inerr" "$rcvbuf")"
}

# ---------------------------------------------------------------------------
# The report

# col KIND TEST FIELD: the values of one results column (field 4: Gbit/s,
# 5: CPU-s/GB, 6: UDP InErrors, 7: RcvbufErrors); TEST "" means all tests.
col() {
	awk -F'\t' -v k="$1" -v t="$2" -v f="$3" \
		'$1 == k && (t == "" || $2 == t) && $f != "-" { print $f }' "$RESULTS"
}
total() { awk '{ s += $1 } END { if (NR) print s }'; } # nothing if no runs
fmt() { # PRINTF_FORMAT [VALUE]: "-" without a value
	# shellcheck disable=SC2059 # the format is the argument
	if [ -n "${2:-}" ]; then printf "$1" "$2"; else printf -- "-"; fi
}
kind_label() {
	case $1 in veth) echo "bare veth" ;; *) echo "$1" ;; esac
}

# ratio A B TEST: A's median over B's median for TEST.
ratio() {
	local a b
	a=$(col "$1" "$3" 4 | median)
	b=$(col "$2" "$3" 4 | median)
	if [ -n "$a" ] && [ -n "$b" ]; then
		awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'
	else
		printf -- "-"
	fi
}

ratio_line() { # A B LABEL
	local t line=
	has_kind "$1" && has_kind "$2" || return 0
	for t in "${TESTS[@]}"; do
		line+="${line:+, }$(ratio "$1" "$2" "$t") (${TEST_NAME[$t]})"
	done
	printf '%-25s %s\n' "$3:" "$line"
}

report() {
	local k t row
	echo
	echo "Throughput in Gbit/s (iperf3 TCP; fwd: A -> B, rev: B -> A), medians of $RUNS runs:"
	echo
	echo "| peer kind         | 1 stream fwd | 1 stream rev | 4 streams fwd | 4 streams rev | RTT ms | CPU-s/GB | UDP drops |"
	echo "|-------------------|-------------:|-------------:|--------------:|--------------:|-------:|---------:|----------:|"
	for k in "${KIND_LIST[@]}"; do
		row=$(printf '| %-17s ' "$(kind_label "$k")")
		for t in "${TESTS[@]}"; do
			# As wide as the column's heading.
			row+=$(printf '| %*s ' "${#TEST_NAME[$t]}" \
				"$(fmt %.2f "$(col "$k" "$t" 4 | median)")")
		done
		row+=$(printf '| %6s ' "$(fmt %.3f "${RTT_MEDIAN[$k]:-}")")
		row+=$(printf '| %8s ' "$(fmt %.1f "$(col "$k" "" 5 | median)")")
		row+=$(printf '| %9s |' "$(fmt %d "$(col "$k" "" 6 | total)")")
		echo "$row"
	done
	echo
	echo "RTT: median of idle pings; CPU-s/GB: user + system seconds of both"
	echo "VPN processes per 10^9 bytes received, median over all runs; UDP"
	echo "drops: UDP InErrors of both namespaces during the runs, total."
	echo
	ratio_line ringvpn ringvpn-base "ringvpn / ringvpn-base"
	ratio_line ringvpn wireguard-go "ringvpn / wireguard-go"
	ratio_line ringvpn wireguard-go-head "ringvpn / wireguard-go-head"
	ratio_line ringvpn veth "ringvpn / bare veth"
	ratio_line wireguard-go veth "wireguard-go / bare veth"
	echo "openvpn: $(command -v openvpn >/dev/null 2>&1 &&
		echo "installed, not measured by this script" || echo "not installed")"
	echo
	echo "Per test: Gbit/s min / median / max, CPU-s/GB median, UDP InErrors"
	echo "(RcvbufErrors) total:"
	for k in "${KIND_LIST[@]}"; do
		for t in "${TESTS[@]}"; do
			printf '  %-17s %-13s %6s / %6s / %6s  %6s CPU-s/GB  %s (%s)\n' \
				"$(kind_label "$k")" "${TEST_NAME[$t]}" \
				"$(fmt %.2f "$(col "$k" "$t" 4 | sort -g | head -n1)")" \
				"$(fmt %.2f "$(col "$k" "$t" 4 | median)")" \
				"$(fmt %.2f "$(col "$k" "$t" 4 | sort -g | tail -n1)")" \
				"$(fmt %.1f "$(col "$k" "$t" 5 | median)")" \
				"$(fmt %d "$(col "$k" "$t" 6 | total)")" \
				"$(fmt %d "$(col "$k" "$t" 7 | total)")"
		done
	done
	[ "$FAILURES" -eq 0 ] || echo "iperf3 runs that failed: $FAILURES (see stderr)"
}

# thread_cell KIND DAEMON THREAD TEST: "CPU-s/GB (share%)", medians over
# the runs of TEST; "-" if the thread has no row there.
thread_cell() {
	local rows cpu share
	rows=$(awk -F'\t' -v k="$1" -v d="$2" -v th="$3" -v t="$4" \
		'$1 == k && $4 == d && $5 == th && $2 == t' "$THREAD_TSV")
	[ -n "$rows" ] || { printf -- "-"; return 0; }
	cpu=$(awk -F'\t' -v hz="$CLK_TCK" \
		'{ printf "%.6f\n", $6 / hz / ($8 / 1e9) }' <<<"$rows" | median)
	share=$(awk -F'\t' '{ printf "%.6f\n", ($7 > 0 ? 100 * $6 / $7 : 0) }' \
		<<<"$rows" | median)
	printf '%.2f (%.0f%%)' "$cpu" "$share"
}

# The per-thread table, for the ringvpn kinds measured.
thread_report() {
	local k d th t row
	[ -s "$THREAD_TSV" ] || return 0
	echo
	echo "Per thread of the ringvpn daemons (A runs the iperf3 client, B the"
	echo "server): CPU-s/GB, and in parentheses the thread's share of its"
	echo "daemon's CPU time; medians of $RUNS runs:"
	echo
	row="| peer kind         | daemon | thread            "
	for t in "${TESTS[@]}"; do row+="| ${TEST_NAME[$t]} "; done
	echo "$row|"
	row="|-------------------|--------|-------------------"
	for t in "${TESTS[@]}"; do
		row+="|$(printf '%*s' $((${#TEST_NAME[$t]} + 1)) '' | tr ' ' -):"
	done
	echo "$row|"
	for k in "${KIND_LIST[@]}"; do
		is_ringvpn "$k" || continue
		for d in A B; do
			awk -F'\t' -v k="$k" -v d="$d" '$1 == k && $4 == d { print $5 }' \
				"$THREAD_TSV" | sort -u -V | while IFS= read -r th; do
				row=$(printf '| %-17s | %-6s | %-17s ' "$k" "$d" "$th")
				for t in "${TESTS[@]}"; do
					row+=$(printf '| %*s ' "${#TEST_NAME[$t]}" \
						"$(thread_cell "$k" "$d" "$th" "$t")")
				done
				echo "$row|"
			done
		done
	done
	echo
	echo "Threads by name: rv-IFNAME-wI is worker I (the interface name cut to"
	echo "fit 15 characters); the control thread has the program's name; a"
	echo "name several threads share gets #0, #1, ... by thread ID; the time"
	echo "of threads that ended during a run is \"(exited threads)\"."
}

# ---------------------------------------------------------------------------
# Main

model=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n1)
echo "ringvpn benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) CPUs, ${model:-unknown CPU}, kernel $(uname -r)"
echo "ringvpn: $RINGVPN (Threads = $THREADS, MTU $MTU);" \
	"${BASELINE:+ringvpn-base: $BASELINE;}" \
	"${WG_GO_HEAD:+wireguard-go-head: $WG_GO_HEAD;}" \
	"$(wireguard-go --version 2>/dev/null | head -n1) (MTU $MTU);" \
	"$(iperf3 --version 2>/dev/null | head -n1 | cut -d' ' -f1,2)"
echo "method: two network namespaces over a veth pair; $RUNS runs of" \
	"$SECONDS_PER_TEST s per test, kinds interleaved within each run"

log "== namespaces $NS_A and $NS_B"
make_underlay "$NS_A" rvb$$va "$UL_A/24" "$NS_B" rvb$$vb "$UL_B/24"
has_kind ringvpn &&
	setup_pair ringvpn start_ringvpn "$RINGVPN" 10.201.0 51820
has_kind ringvpn-base &&
	setup_pair ringvpn-base start_ringvpn "$BASELINE" 10.203.0 51822
has_kind wireguard-go &&
	setup_pair wireguard-go start_wggo wireguard-go 10.202.0 51821
has_kind wireguard-go-head &&
	setup_pair wireguard-go-head start_wggo "$WG_GO_HEAD" 10.204.0 51823
: >"$RESULTS"
: >"$THREAD_TSV"
declare -A RTTS=() RTT_MEDIAN=()

for ((run = 1; run <= RUNS; run++)); do
	# Rotate the kinds' order each run: none is always first or last.
	order=()
	for ((i = 0; i < ${#KIND_LIST[@]}; i++)); do
		order+=("${KIND_LIST[(i + run - 1) % ${#KIND_LIST[@]}]}")
	done
	log "== run $run of $RUNS (${order[*]})"
	for k in "${order[@]}"; do
		rtt=$(ping_rtt "${TARGET[$k]}")
		RTTS[$k]+="${rtt:+$rtt }"
		log "$(printf 'run %d  %-17s idle RTT %s ms' "$run" "$k" "${rtt:--}")"
	done
	for t in "${TESTS[@]}"; do
		for k in "${order[@]}"; do
			run_test "$k" "$t" "$run"
		done
	done
done
for k in "${KIND_LIST[@]}"; do
	RTT_MEDIAN[$k]=$(tr ' ' '\n' <<<"${RTTS[$k]:-}" | sed '/^$/d' | median)
done

report
thread_report
exit 0
