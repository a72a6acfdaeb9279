#!/usr/bin/env bash
# Single-peer receive capacity of a ringvpn daemon, for Threads=1 and
# Threads=2 (or --threads LIST) in one run (run as root):
#
#   bash contrib/bench/rx_capacity.sh [--ringvpn PATH] [--rx-load PATH]
#       [--threads LIST] [--runs N] [--seconds S] [--loss PCT]
#       [--start GBITS] [--bisect N] [--saturate GBITS|Nx] [--size BYTES]
#
# Two network namespaces joined by a veth pair: the daemon in D
# (198.18.0.2, tunnel 10.211.0.1), the load generator rx_load in G
# (198.18.0.1). rx_load handshakes as one peer (AllowedIPs 10.211.0.2/32),
# then sends pre-encrypted transport messages, each an IPv4 UDP packet to
# 10.211.0.1 port 9, paced to a rate, in UDP GSO runs. The daemon decrypts
# them and writes them to its TUN device; the sink is an nftables counter
# in D's prerouting hook that counts and drops them.
#
# For each Threads value the search finds the highest rate whose loss is at
# most --loss percent: doubling from --start, then --bisect bisections, one
# step of --seconds each; that is one run, repeated --runs times. Rates are
# Gbit/s of inner bytes (the IPv4 packets the TUN device gets). Then one
# step at --saturate Gbit/s (Nx: N times the median capacity; 0: none)
# shows what the daemon delivers when overloaded.
#
# stdout gets the report (ready to paste into a README); progress and every
# step go to stderr. Exit status: 0 when the measurements ran, nonzero if
# the setup failed.
set -euo pipefail

RINGVPN=./ringvpn
RX_LOAD=
THREADS_LIST=1,2
RUNS=3
STEP_SECONDS=2
LOSS_PCT=0.1
START_GBPS=1
MAX_GBPS=64 # doubling stops here
BISECT=4
SATURATE_GBPS=20
SIZE=1420
MTU=1420
DPORT=9
SETTLE=0.3 # s after a step for the daemon to empty its queues

usage() {
	sed -n '5,7p' "$0" | sed 's/^# *//'
	exit "${1:-2}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--ringvpn) RINGVPN=${2:?}; shift 2 ;;
	--rx-load) RX_LOAD=${2:?}; shift 2 ;;
	--threads) THREADS_LIST=${2:?}; shift 2 ;;
	--runs) RUNS=${2:?}; shift 2 ;;
	--seconds) STEP_SECONDS=${2:?}; shift 2 ;;
	--loss) LOSS_PCT=${2:?}; shift 2 ;;
	--start) START_GBPS=${2:?}; shift 2 ;;
	--bisect) BISECT=${2:?}; shift 2 ;;
	--saturate) SATURATE_GBPS=${2:?}; shift 2 ;;
	--size) SIZE=${2:?}; shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "rx_capacity.sh: unknown argument $1" >&2; usage ;;
	esac
done

# log, die, the cleanup, the underlay, ringvpn's start and per-thread
# ticks, as bench.sh has them.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

is_int() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
is_num() { [[ $1 =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ ]]; }
for n in "$RUNS" "$SIZE"; do
	is_int "$n" || die "not a positive integer: '$n'"
done
[[ $BISECT =~ ^[0-9]+$ ]] || die "--bisect: not a number: '$BISECT'"
for n in "$STEP_SECONDS" "$LOSS_PCT" "$START_GBPS" "${SATURATE_GBPS%x}"; do
	is_num "$n" || die "not a number: '$n'"
done
[[ ! $START_GBPS =~ ^0*\.?0*$ ]] || die "--start: not above 0: '$START_GBPS'"
IFS=, read -r -a THREADS <<<"$THREADS_LIST"
for n in "${THREADS[@]}"; do
	is_int "$n" || die "--threads: not a list of positive integers: '$THREADS_LIST'"
done

# ---------------------------------------------------------------------------
# Packages and binaries

# shellcheck source-path=SCRIPTDIR source=../need.sh
. "$(dirname "$0")/../need.sh"

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
umask 077 # private keys and configs
# Every command this script runs (tests/commands.sh holds it to that).
need awk cat date dirname env getconf grep head id ip mkdir mktemp nft nproc \
	realpath rm sed seq sleep sort tail uname || die "installing packages failed"

[ -x "$RINGVPN" ] || die "no ringvpn at '$RINGVPN' (build it, or give --ringvpn PATH)"
RINGVPN=$(realpath "$RINGVPN")
# rx_load of the same build unless told otherwise.
[ -n "$RX_LOAD" ] || RX_LOAD=$(dirname "$RINGVPN")/contrib/bench/rx_load
[ -x "$RX_LOAD" ] ||
	die "no rx_load at '$RX_LOAD' (make contrib/bench/rx_load, or give --rx-load PATH)"
RX_LOAD=$(realpath "$RX_LOAD")

# ---------------------------------------------------------------------------
# Cleanup: only what this script started and created

TMP=$(mktemp -d /tmp/ringvpn-rxcap.XXXXXX)
cleanup_on_exit

# ---------------------------------------------------------------------------
# The namespaces, the daemon and the sink

NS_G=rxcap-g-$$
NS_D=rxcap-d-$$
UL_G=198.18.0.1
UL_D=198.18.0.2
TUN_D=10.211.0.1 # the daemon's tunnel address: the inner destination
TUN_G=10.211.0.2 # the generator's AllowedIPs: the inner source
PORT=51820

# The sink: in D, before conntrack and routing (prerouting at priority
# raw), the generator's inner packets are counted and dropped. Cheapest
# of the reliable counters: one rule per frame and nothing after it; no
# socket to wake, and no ICMP port unreachable going back through the
# tunnel as there would be with /proc/net/snmp's NoPorts (that would add
# send work to a receive test). The kernel checks the IPv4 header before
# the hook, so a malformed packet shows up as loss.
make_sink() {
	ip netns exec "$NS_D" nft -f - <<EOF
table ip rxcap {
	counter rx { }
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		ip saddr $TUN_G ip daddr $TUN_D udp dport $DPORT counter name rx drop
	}
}
EOF
}

# sink_count: "PACKETS BYTES" counted so far (bytes: whole IPv4 packets).
sink_count() {
	ip netns exec "$NS_D" nft list counter ip rxcap rx |
		awk '$1 == "packets" { print $2, $4; found = 1 }
			END { if (!found) print 0, 0 }'
}

# rcvbuf_errors: UDP RcvbufErrors in D, the datagrams the daemon's sockets
# had no room for: the share of the loss that is the daemon not reading
# fast enough (or not scheduled), as opposed to drops inside it.
rcvbuf_errors() {
	ip netns exec "$NS_D" cat /proc/net/snmp | awk '
		$1 == "Udp:" && !hdr { for (i = 2; i <= NF; i++) col[$i] = i; hdr = 1; next }
		$1 == "Udp:" && hdr && !done { print $col["RcvbufErrors"]; done = 1 }'
}

DAEMON=
DAEMON_LOG=
# start_daemon THREADS: ringvpn in D with one peer, the generator (no
# Endpoint: it learns it from the handshake). Sets DAEMON to its PID.
start_daemon() {
	local threads=$1 name=rxc$$t$1
	ringvpn_config "$TMP/d.key" "$PORT" "$TUN_D/24" "$MTU" "$threads" \
		"$PUB_G" "$TUN_G/32" >"$TMP/$name.conf"
	DAEMON_LOG=$TMP/$name.log
	ringvpn_up "$RINGVPN" "$NS_D" "$name"
	DAEMON=$STARTED
	if ! wait_for 100 rv_ready "$NS_D" "$name" "$TUN_D" || ! alive "$DAEMON"; then
		fail_setup "ringvpn with Threads = $threads did not come up"
	fi
}

stop_daemon() {
	stop "$DAEMON"
	untrack "$DAEMON"
	DAEMON=
}

fail_setup() {
	[ -z "$DAEMON_LOG" ] || {
		log "--- $DAEMON_LOG (last 20 lines)"
		tail -n 20 "$DAEMON_LOG" >&2 2>/dev/null || true
	}
	die "$*"
}

# ---------------------------------------------------------------------------
# One step: rx_load at a rate, the sink's count and the daemon's CPU

CLK_TCK=$(getconf CLK_TCK)

# thread_ticks PID: "TID NAME TICKS" per thread (task_ticks), NAME its
# comm and, as threads may share one, "(main)" for the main thread or
# "(TID)".
thread_ticks() {
	local tid ticks comm who
	task_ticks "$1" | while IFS=$'\t' read -r tid ticks comm; do
		who=$tid
		[ "$tid" != "$1" ] || who=main
		echo "$tid ${comm// /_}($who) $ticks"
	done
}

# thread_cpu BEFORE AFTER SECONDS: "total T%: NAME P%, ..." (threads at
# 1% of a core and more, busiest first), from two thread_ticks files.
thread_cpu() {
	awk -v hz="$CLK_TCK" -v s="$3" '
		FNR == NR { before[$1] = $3; next }
		{ pct = ($3 - before[$1]) / hz / s * 100; total += pct
		  if (pct >= 1) line[$1] = sprintf("%s %.0f%%", $2, pct); p[$1] = pct }
		END {
			n = 0
			for (t in line) order[++n] = t
			for (i = 2; i <= n; i++)   # insertion sort, busiest first
				for (j = i; j > 1 && p[order[j]] > p[order[j - 1]]; j--) {
					x = order[j]; order[j] = order[j - 1]; order[j - 1] = x
				}
			out = sprintf("total %.0f%%", total)
			for (i = 1; i <= n; i++) out = out (i == 1 ? ": " : ", ") line[order[i]]
			print out
		}' "$1" "$2"
}

# field KEY FILE: the value of rx_load's KEY=VALUE line.
field() { sed -n "s/^$1=//p" "$2"; }

# step RATE: one rx_load run of STEP_SECONDS at RATE Gbit/s. Sets
# SENT_GBPS (achieved), GOT_GBPS (delivered to the sink), LOSS (percent),
# CPU (thread_cpu), PASS (0/1: loss within LOSS_PCT), RCVBUF (datagrams
# dropped at the daemon's sockets) and ENCRYPT_S (the time rx_load took
# to encrypt before it sent); nonzero if rx_load failed.
step() {
	local rate=$1 out=$TMP/step.out c0 c1 e0 sent elapsed
	c0=$(sink_count)
	e0=$(rcvbuf_errors)
	thread_ticks "$DAEMON" >"$TMP/ticks0"
	if ! ip netns exec "$NS_G" "$RX_LOAD" --private-key "$TMP/g.key" \
		--peer "$PUB_D" --endpoint "$UL_D:$PORT" --src "$TUN_G" \
		--dst "$TUN_D" --dport "$DPORT" --size "$SIZE" --mtu "$MTU" \
		--rate "$rate" --seconds "$STEP_SECONDS" >"$out" 2>>"$TMP/rx_load.log"; then
		tail -n 5 "$TMP/rx_load.log" >&2
		return 1
	fi
	sleep "$SETTLE"
	c1=$(sink_count)
	RCVBUF=$(($(rcvbuf_errors) - e0))
	thread_ticks "$DAEMON" >"$TMP/ticks1"
	sent=$(field messages "$out")
	elapsed=$(field elapsed_s "$out")
	SENT_GBPS=$(field inner_gbps "$out")
	ENCRYPT_S=$(field encrypt_s "$out")
	CPU=$(thread_cpu "$TMP/ticks0" "$TMP/ticks1" "$elapsed")
	# UDP payload bytes, not packets: the daemon merges packets into USO
	# frames, each with one IPv4 and one UDP header (28 bytes) for all.
	read -r GOT_GBPS LOSS PASS < <(awk -v c0="$c0" -v c1="$c1" -v sent="$sent" \
		-v size="$SIZE" -v s="$elapsed" -v max="$LOSS_PCT" 'BEGIN {
			split(c0, a, " "); split(c1, b, " ")
			got = (b[2] - a[2]) - 28 * (b[1] - a[1]); sent *= size - 28
			loss = sent ? (sent - got) / sent * 100 : 100
			if (loss < 0) loss = 0
			printf "%.3f %.3f %d\n", got * size / (size - 28) * 8 / s / 1e9,
				loss, loss <= max
		}')
	[ "$(field capped "$out")" = 0 ] || log "   (rx_load capped the step: see --max-gib)"
}

calc() { awk "BEGIN { printf \"%.3f\", $* }"; }
fmt2() { awk -v v="$1" 'BEGIN { printf "%.2f", v }'; }
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# log_step WHAT RATE: the step's line on stderr.
log_step() {
	log "$(printf '%-22s target %6.2f  sent %6.2f  delivered %6.2f Gbit/s  loss %7.3f%% (rcvbuf %d)  %s  [%s] (encrypted in %.1f s)' \
		"$1" "$2" "$SENT_GBPS" "$GOT_GBPS" "$LOSS" "$RCVBUF" \
		"$([ "$PASS" = 1 ] && echo pass || echo LOSS)" "$CPU" "$ENCRYPT_S")"
}

# pass_at RATE: one step of search (it works on search's locals lo, hi
# and what): a loss lowers hi, a pass raises lo and may raise CAPACITY.
# Should the generator fall short of RATE (more than 5%; it does when it
# runs out of CPU) and still nothing be lost, the daemon took all it got:
# lo rises to what was sent, hi falls to RATE, and the search narrows in
# on what the generator can do, which a scheduling hiccup cannot end
# early. Nonzero on a loss.
pass_at() {
	local short=
	step "$1" || die "rx_load failed (see above)"
	log_step "$what" "$1"
	if [ "$PASS" != 1 ]; then
		hi=$1
		return 1
	fi
	below "$SENT_GBPS" "$(calc "$1 * 0.95")" && short=">="
	if below "$CAPACITY" "$SENT_GBPS"; then
		CAPACITY=$SENT_GBPS CAP_CPU=$CPU CAP_NOTE=$short
	fi
	if [ -z "$short" ]; then
		lo=$1
		return 0
	fi
	below "$lo" "$SENT_GBPS" && lo=$SENT_GBPS
	hi=$1
	return 0
}

# search THREADS RUN: the highest rate with loss within LOSS_PCT. Sets
# CAPACITY (the highest send rate achieved in a passing step, 0 if none),
# CAP_CPU (that step's thread_cpu) and CAP_NOTE ("" or ">=": the
# generator fell short in that step, so the daemon's capacity is at
# least that).
search() {
	local what="threads $1 run $2" lo=0 hi='' rate=$START_GBPS i
	CAPACITY=0 CAP_CPU=- CAP_NOTE=
	while pass_at "$rate" && [ -z "$hi" ]; do
		rate=$(calc "$rate * 2")
		below "$MAX_GBPS" "$rate" && return 0
	done
	for ((i = 0; i < BISECT; i++)); do
		pass_at "$(calc "($lo + $hi) / 2")" || true
	done
}

# median: of the numbers on stdin.
median() {
	sort -g | awk '{ v[NR] = $1 }
		END { if (NR) printf "%.2f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# saturation_rate THREADS: --saturate in Gbit/s, N times the median of
# THREADS' runs for Nx (--start if none passed).
saturation_rate() {
	local med run
	if [[ $SATURATE_GBPS != *x ]]; then
		echo "$SATURATE_GBPS"
		return
	fi
	med=$(for ((run = 1; run <= RUNS; run++)); do echo "${CAP[$1,$run]}"; done | median)
	below 0 "$med" || med=$START_GBPS
	calc "$med * ${SATURATE_GBPS%x}"
}

# check_tunnel THREADS: a short slow step first: the tunnel carries the
# load at all.
check_tunnel() {
	local seconds=$STEP_SECONDS
	STEP_SECONDS=0.2
	step 0.1 || fail_setup "rx_load failed against Threads = $1"
	STEP_SECONDS=$seconds
	[ "$PASS" = 1 ] ||
		fail_setup "a check at 0.1 Gbit/s lost $LOSS% (Threads = $1)"
}

# ---------------------------------------------------------------------------
# The report

# median_run THREADS: the run whose capacity is the median (the lower
# middle one for an even count).
median_run() {
	local run
	for ((run = 1; run <= RUNS; run++)); do
		echo "${CAP[$1,$run]} $run"
	done | sort -g | awk -v n="$RUNS" 'NR == int((n + 1) / 2) { print $2 }'
}

report_capacity() {
	local t run runs m
	echo "| Threads | capacity, Gbit/s (median) | runs | daemon CPU per thread at capacity (median run) |"
	echo "|---|---|---|---|"
	for t in "${THREADS[@]}"; do
		runs=
		for ((run = 1; run <= RUNS; run++)); do
			runs+="${runs:+ }${NOTE[$t,$run]}$(fmt2 "${CAP[$t,$run]}")"
		done
		m=$(median_run "$t")
		MEDIAN[$t]=$(for ((run = 1; run <= RUNS; run++)); do
			echo "${CAP[$t,$run]}"; done | median)
		echo "| $t | ${NOTE[$t,$m]}${MEDIAN[$t]} | $runs | ${CPUS[$t,$m]} |"
	done
}

report_ratios() {
	local t first=${THREADS[0]}
	for t in "${THREADS[@]:1}"; do
		if below 0 "${MEDIAN[$first]}"; then
			echo "Threads=$t / Threads=$first: $(awk -v a="${MEDIAN[$t]}" \
				-v b="${MEDIAN[$first]}" 'BEGIN { printf "%.2f", a / b }')"
		fi
	done
}

report_saturation() {
	local t asked sent got loss
	echo "At saturation (one step of $STEP_SECONDS s at $SATURATE_GBPS$([[ $SATURATE_GBPS == *x ]] &&
		echo " the median capacity" || echo " Gbit/s")):"
	echo
	echo "| Threads | asked, Gbit/s | sent, Gbit/s | delivered, Gbit/s | loss % | daemon CPU per thread |"
	echo "|---|---|---|---|---|---|"
	for t in "${THREADS[@]}"; do
		read -r asked sent got loss <<<"${SAT[$t]}"
		echo "| $t | $(fmt2 "$asked") | $(fmt2 "$sent") | $(fmt2 "$got") | $(fmt2 "$loss") | ${CPUS[$t,sat]} |"
	done
}

report() {
	local model
	declare -gA MEDIAN=()
	model=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n1)
	echo "ringvpn single-peer receive capacity, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(nproc) CPUs, ${model:-unknown CPU}, kernel $(uname -r);" \
		"load average (1 min) at start $LOAD_START, at end $(load_average)"
	echo "ringvpn: $RINGVPN; load: $RX_LOAD"
	echo "method: one peer at one endpoint, $SIZE-byte inner IPv4/UDP packets" \
		"(MTU $MTU), pre-encrypted, sent in UDP GSO runs over veth;" \
		"capacity = highest rate with loss <= $LOSS_PCT%, searched by doubling" \
		"from $START_GBPS Gbit/s then $BISECT bisections, steps of $STEP_SECONDS s;" \
		"$RUNS runs per Threads value"
	echo "Gbit/s are of inner bytes (IPv4 packets written to TUN); >= marks a" \
		"rate the generator could not exceed; CPU in % of one core over the" \
		"step, per thread (comm and thread id), threads under 1% left out"
	echo
	report_capacity
	if [ ${#THREADS[@]} -gt 1 ]; then
		echo
		report_ratios
	fi
	if [ "$SATURATE_GBPS" != 0 ]; then
		echo
		report_saturation
	fi
}

# load_average: the 1-minute one. Other processes on the machine take CPU
# from the daemon and the generator: the report shows how busy it was.
load_average() {
	local one _
	read -r one _ </proc/loadavg
	echo "$one"
}

# ---------------------------------------------------------------------------
# Main

LOAD_START=$(load_average)
log "== namespaces $NS_G and $NS_D (load average $LOAD_START)"
make_underlay "$NS_G" rxc$$g "$UL_G/24" "$NS_D" rxc$$d "$UL_D/24"
make_sink
"$RINGVPN" genkey >"$TMP/d.key"
"$RINGVPN" genkey >"$TMP/g.key"
PUB_D=$("$RINGVPN" pubkey <"$TMP/d.key")
PUB_G=$("$RINGVPN" pubkey <"$TMP/g.key")

declare -A CAP=() NOTE=() CPUS=() SAT=()
for t in "${THREADS[@]}"; do
	log "== ringvpn with Threads = $t"
	start_daemon "$t"
	check_tunnel "$t"
	for ((run = 1; run <= RUNS; run++)); do
		search "$t" "$run"
		CAP[$t,$run]=$CAPACITY NOTE[$t,$run]=$CAP_NOTE CPUS[$t,$run]=$CAP_CPU
		log "threads $t run $run: capacity $CAP_NOTE$CAPACITY Gbit/s"
	done
	if [ "$SATURATE_GBPS" != 0 ]; then
		rate=$(saturation_rate "$t")
		step "$rate" || die "rx_load failed (see above)"
		log_step "threads $t saturation" "$rate"
		SAT[$t]="$rate $SENT_GBPS $GOT_GBPS $LOSS"
		CPUS[$t,sat]=$CPU
	fi
	stop_daemon
done

report
exit 0
