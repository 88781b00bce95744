#!/usr/bin/env bash
# Kefu's gateway against a socket.io 4 relay (gateway/loadgen/peer), on this
# machine, in one run:
#
#   1. kefu:  2 gateways + 1 routing service, Redis, MariaDB; visitors and
#             agents on our protocol, every message stored;
#   2. ours:  2 fresh gateways in relay mode (KEFU_RELAY_BENCH=true, the
#             /relay namespace: no store on the path);
#   3. peer:  2 node processes of the socket.io relay sharing one Redis;
#   4. turns: ours and the peer side by side, closed loops in turn;
#   5. monitor (only when BENCH_ONLY names it): the kefu set-up with a
#             supervisor monitoring every chat (loadgen -supervisors 1), in
#             turn with the same load unmonitored: mirror latency, and the
#             nodes' extra CPU per message.
#
# Phases 1-3 each get the same load from gateway/loadgen: a fixed rate
# (latency), a closed loop (throughput), and N idle websockets on one node
# (memory per connection). Our gateways are profiled meanwhile
# (/debug/pprof/, served in relay-bench mode only). Phase 4 repeats short
# closed loops of both in turn: when other work on the machine comes and
# goes, ratios from neighbouring runs are the fairest. Every run records
# the machine's load average. The results table is printed at the end; the
# JSON reports, profiles and logs stay in the output directory.
#
#   gateway/loadgen/bench.sh [OUTDIR]
#
# Knobs (environment): BENCH_VISITORS (1000 visitors, or relay pairs),
# BENCH_AGENTS (100: 10 visitors each), BENCH_RATE (2000 msg/s, relay runs),
# BENCH_KEFU_RATE (200 msg/s: what the stored path sustains here; its run
# is labelled kefu@rate only when it equals BENCH_RATE), BENCH_DURATION
# (20s), BENCH_MAX_DURATION (15s, closed loop), BENCH_WINDOW (1 message in
# flight per visitor in the closed loop), BENCH_IDLE (15000 idle
# websockets), BENCH_IDLE_HOLD (130s: how long they are held before memory
# is read; over 2 minutes, so that Go's periodic GC has run once since the
# connect burst), BENCH_ROUNDS (3 rounds of phase 4), BENCH_ROUND_DURATION
# (10s per closed loop of phase 4), BENCH_TRANSPORT (websocket),
# BENCH_ONLY (kefu,ours,peer,turns: the phases to run; add monitor for
# phase 5: BENCH_MONITOR_VISITORS 500 chats over BENCH_MONITOR_AGENTS 50
# agents, BENCH_MONITOR_RATE 500 visitor messages/s, each answered: 1,000
# msg/s in all, BENCH_ROUNDS turns of BENCH_DURATION each).
#
# Needs go, node/npm, and redis-server + mariadb (deploy/testenv/servers.sh
# installs them when run as root).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$(mktemp -d "${TMPDIR:-/tmp}/kefu-bench-XXXXXX")}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

VISITORS=${BENCH_VISITORS:-1000}
AGENTS=${BENCH_AGENTS:-100}
RATE=${BENCH_RATE:-2000}
KEFU_RATE=${BENCH_KEFU_RATE:-200}
DURATION=${BENCH_DURATION:-20s}
MAX_DURATION=${BENCH_MAX_DURATION:-15s}
WINDOW=${BENCH_WINDOW:-1}
IDLE=${BENCH_IDLE:-15000}
IDLE_HOLD=${BENCH_IDLE_HOLD:-130s}
TRANSPORT=${BENCH_TRANSPORT:-websocket}
ONLY=${BENCH_ONLY:-kefu,ours,peer,turns}
ROUNDS=${BENCH_ROUNDS:-3}
ROUND_DURATION=${BENCH_ROUND_DURATION:-10s}

DEMO_PASSWORD=bench-demo-pass-0123
SECRET=bench-visitor-signing-secret-0123456789abcdef
TESTENV="$OUT/testenv"
BIN="$OUT/bin"
LOGS="$OUT/logs"
mkdir -p "$BIN" "$LOGS"

log() { echo "bench: $*" >&2; }

# Each process holds up to one descriptor per connection.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((IDLE + 1000)) ] || log "warning: open-file limit $(ulimit -n) is low for $IDLE idle connections"

STARTED=()  # PIDs of the processes this script started
SERVERS=""  # set once Redis and MariaDB are ours to stop
cleanup() {
	local pid
	for pid in "${STARTED[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${STARTED[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [ -n "$SERVERS" ]; then KEFU_TESTENV_DIR="$TESTENV" bash "$ROOT/deploy/testenv/servers.sh" stop || true; fi
}
trap cleanup EXIT

# stop_pids PID...: SIGTERM, then wait for them.
stop_pids() {
	local pid keep=()
	for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
	for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
	for pid in "${STARTED[@]}"; do
		case " $* " in *" $pid "*) ;; *) keep+=("$pid") ;; esac
	done
	STARTED=("${keep[@]}")
}

USED_PORTS=" "
free_port() {
	local p
	while :; do
		p=$((12000 + RANDOM % 20000))
		case "$USED_PORTS" in *" $p "*) continue ;; esac
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			USED_PORTS="$USED_PORTS$p "
			echo "$p"
			return
		fi
	done
}

wait_healthy() { # URL
	local i
	for i in $(seq 1 300); do
		curl -sf "$1/healthz" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	log "$1 did not become healthy"
	return 1
}

# ---- build ----
log "building into $BIN"
(cd "$ROOT" && go build -o "$BIN/" ./gateway ./services/routing ./gateway/loadgen)
(cd "$ROOT/gateway/loadgen/peer" && npm ci --no-audit --no-fund --loglevel=error >&2)
LOADGEN="$BIN/loadgen"

# ---- Redis and MariaDB ----
KEFU_TESTENV_DIR="$TESTENV" bash "$ROOT/deploy/testenv/servers.sh" start >/dev/null
SERVERS=1
eval "$(KEFU_TESTENV_DIR="$TESTENV" bash "$ROOT/deploy/testenv/servers.sh" env)"
REDIS_PID=$(cat "$TESTENV/redis/redis.pid")
MARIADB_PID=$(cat "$TESTENV/mariadb/mariadbd.pid" 2>/dev/null || cat "$TESTENV/mariadb/mariadb.shellpid")
sql() { mariadb -h127.0.0.1 -P"$KEFU_TEST_MYSQL_PORT" -uroot -e "$1"; }

# start_gateways PHASE DB: starts 2 gateways; sets GW_URLS, GW_PIDS, GW1.
start_gateways() {
	local phase=$1 db=$2 i port pids=() urls=()
	for i in 1 2; do
		port=$(free_port)
		KEFU_ADDR=127.0.0.1:$port KEFU_NODE_ID=gw$i KEFU_PUBLIC_URL=http://127.0.0.1:$port \
			KEFU_REDIS_URL=$KEFU_TEST_REDIS_URL KEFU_MYSQL_DSN="root@tcp(127.0.0.1:$KEFU_TEST_MYSQL_PORT)/$db" \
			KEFU_SECRET=$SECRET KEFU_DEMO_PASSWORD=$DEMO_PASSWORD KEFU_ROUTING=external \
			KEFU_VISITOR_RATE=100000000 KEFU_RELAY_BENCH=true KEFU_DRAIN_DELAY=100ms \
			KEFU_LOG_LEVEL=warn KEFU_LOG_FORMAT=json \
			"$BIN/gateway" >"$LOGS/$phase-gw$i.log" 2>&1 &
		pids+=($!)
		STARTED+=($!)
		urls+=("http://127.0.0.1:$port")
	done
	for i in "${urls[@]}"; do wait_healthy "$i"; done
	GW_URLS=$(IFS=,; echo "${urls[*]}")
	GW_PIDS=$(IFS=,; echo "${pids[*]}")
	GW1=${urls[0]}
	GW1_PID=${pids[0]}
}

# start_peers PHASE: starts 2 peer nodes; sets PEER_URLS, PEER_PIDS, PEER1.
start_peers() {
	local i port pids=() urls=()
	for i in 1 2; do
		port=$(free_port)
		PORT=$port REDIS_URL=$KEFU_TEST_REDIS_URL node "$ROOT/gateway/loadgen/peer/server.mjs" >"$LOGS/$1-node$i.log" 2>&1 &
		pids+=($!)
		STARTED+=($!)
		urls+=("http://127.0.0.1:$port")
	done
	for i in "${urls[@]}"; do wait_healthy "$i"; done
	PEER_URLS=$(IFS=,; echo "${urls[*]}")
	PEER_PIDS=$(IFS=,; echo "${pids[*]}")
	PEER1=${urls[0]}
	PEER1_PID=${pids[0]}
}

# start_stored PHASE DB: a fresh database, a routing replica (RT_PID) and 2
# gateways on it: the stored path.
start_stored() {
	local port
	fresh_db "$2"
	port=$(free_port)
	KEFU_ADDR=127.0.0.1:$port KEFU_NODE_ID=rt1 KEFU_REDIS_URL=$KEFU_TEST_REDIS_URL \
		KEFU_MYSQL_DSN="root@tcp(127.0.0.1:$KEFU_TEST_MYSQL_PORT)/$2" KEFU_LOG_LEVEL=warn KEFU_LOG_FORMAT=json \
		"$BIN/routing" >"$LOGS/$1-rt1.log" 2>&1 &
	RT_PID=$!
	STARTED+=($RT_PID)
	wait_healthy "http://127.0.0.1:$port"
	start_gateways "$1" "$2"
}

fresh_db() { # DB
	sql "DROP DATABASE IF EXISTS \`$1\`; CREATE DATABASE \`$1\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
	redis-cli -p "$KEFU_TEST_REDIS_PORT" flushall >/dev/null
}

# loadgen LABEL ARGS...: one run, its report in $OUT/LABEL.json.
loadgen() {
	local label=$1
	shift
	log "run $label; $(uptime)"
	"$LOADGEN" -label "$label" -json "$@" >"$OUT/$label.json" 2>"$LOGS/$label.txt" || {
		tail -n 20 "$LOGS/$label.txt" >&2
		return 1
	}
	sed -n '/^== /,$p' "$LOGS/$label.txt" >&2
}

# idle_run LABEL URL PID MODE [profile]: N idle websockets on one node,
# held IDLE_HOLD before memory is read (and, for our gateway, heap and
# goroutine profiles taken).
idle_run() {
	local label=$1 url=$2 pid=$3 mode=$4 prof=()
	[ -z "${5:-}" ] || prof=(-profile "$OUT")
	loadgen "$label" -mode "$mode" -idle -visitors "$IDLE" -gateways "$url" -pids "$pid" \
		-duration "$IDLE_HOLD" -connect-concurrency 128 -watch "redis=$REDIS_PID" "${prof[@]}"
}

common=(-transport "$TRANSPORT" -visitors "$VISITORS" -warmup 3s)

# ---- 1. our protocol, with persistence ----
if [[ $ONLY == *kefu* ]]; then
	start_stored kefu kefu_bench
	watch=(-watch "redis=$REDIS_PID,mariadb=$MARIADB_PID,routing=$RT_PID")
	kefu=(-mode kefu -gateways "$GW_URLS" -pids "$GW_PIDS" -agents "$AGENTS" -admin-password "$DEMO_PASSWORD" "${watch[@]}")
	label="kefu@rate"
	[ "$KEFU_RATE" = "$RATE" ] || label="kefu@low"
	loadgen "$label" "${kefu[@]}" "${common[@]}" -rate "$KEFU_RATE" -duration "$DURATION"
	loadgen "kefu@max" "${kefu[@]}" "${common[@]}" -rate 0 -window "$WINDOW" -duration "$MAX_DURATION" -profile "$OUT"
	idle_run "kefu@idle" "$GW1" "$GW1_PID" kefu profile
	stop_pids ${GW_PIDS//,/ } "$RT_PID"
fi

# ---- 2. our gateway, relay only ----
if [[ $ONLY == *ours* ]]; then
	fresh_db relay_bench
	start_gateways ours relay_bench
	relay=(-mode relay -gateways "$GW_URLS" -pids "$GW_PIDS" -watch "redis=$REDIS_PID")
	loadgen "ours@rate" "${relay[@]}" "${common[@]}" -rate "$RATE" -duration "$DURATION"
	loadgen "ours@max" "${relay[@]}" "${common[@]}" -rate 0 -window "$WINDOW" -duration "$MAX_DURATION" -profile "$OUT"
	stop_pids ${GW_PIDS//,/ }
	# A fresh node for the idle run: its memory is then only the idle sockets'.
	start_gateways ours-idle relay_bench
	idle_run "ours@idle" "$GW1" "$GW1_PID" relay profile
	stop_pids ${GW_PIDS//,/ }
fi

# ---- 3. the peer ----
if [[ $ONLY == *peer* ]]; then
	redis-cli -p "$KEFU_TEST_REDIS_PORT" flushall >/dev/null
	start_peers peer
	relay=(-mode relay -gateways "$PEER_URLS" -pids "$PEER_PIDS" -watch "redis=$REDIS_PID")
	loadgen "peer@rate" "${relay[@]}" "${common[@]}" -rate "$RATE" -duration "$DURATION"
	loadgen "peer@max" "${relay[@]}" "${common[@]}" -rate 0 -window "$WINDOW" -duration "$MAX_DURATION"
	stop_pids ${PEER_PIDS//,/ }
	start_peers peer-idle
	idle_run "peer@idle" "$PEER1" "$PEER1_PID" relay
	stop_pids ${PEER_PIDS//,/ }
fi

# ---- 4. ours and the peer in turn ----
# Closed loops alternating between the two, both set-ups running: when other
# work comes and goes on the machine, these ratios are the fairest.
if [[ $ONLY == *turns* ]] && [ "$ROUNDS" -gt 0 ]; then
	fresh_db relay_bench
	start_gateways turns relay_bench
	start_peers turns
	for i in $(seq 1 "$ROUNDS"); do
		for side in ours peer; do
			urls=$GW_URLS pids=$GW_PIDS
			[ $side = ours ] || urls=$PEER_URLS pids=$PEER_PIDS
			loadgen "$side@max-$i" -mode relay -gateways "$urls" -pids "$pids" -watch "redis=$REDIS_PID" \
				"${common[@]}" -rate 0 -window "$WINDOW" -duration "$ROUND_DURATION"
		done
	done
	stop_pids ${GW_PIDS//,/ } ${PEER_PIDS//,/ }
fi

# ---- 5. a supervisor monitoring every chat, in turn with nobody monitoring ----
if [[ $ONLY == *monitor* ]]; then
	start_stored monitor monitor_bench
	mon=(-mode kefu -gateways "$GW_URLS" -pids "$GW_PIDS" -watch "redis=$REDIS_PID,mariadb=$MARIADB_PID,routing=$RT_PID"
		-admin-password "$DEMO_PASSWORD" -transport "$TRANSPORT" -warmup 3s -visitors "${BENCH_MONITOR_VISITORS:-500}"
		-agents "${BENCH_MONITOR_AGENTS:-50}" -rate "${BENCH_MONITOR_RATE:-500}" -duration "$DURATION")
	for i in $(seq 1 "$ROUNDS"); do
		loadgen "unmonitored-$i" "${mon[@]}"
		loadgen "monitored-$i" "${mon[@]}" -supervisors 1
	done
	stop_pids ${GW_PIDS//,/ } "$RT_PID"
fi

# ---- results ----
for f in "$OUT"/*-cpu.pprof "$OUT"/*-heap.pprof; do
	[ -s "$f" ] || continue
	go tool pprof -top -nodecount=40 "$BIN/gateway" "$f" >"${f%.pprof}.top.txt" 2>/dev/null || true
	go tool pprof -top -cum -nodecount=80 "$BIN/gateway" "$f" >"${f%.pprof}.cum.txt" 2>/dev/null || true
done
{
	echo "# $(date -u +%FT%TZ) on $(nproc) CPUs: $VISITORS visitors/pairs ($AGENTS agents), $TRANSPORT, rate $RATE/s (kefu $KEFU_RATE/s) for $DURATION, closed loop (window $WINDOW) for $MAX_DURATION, $IDLE idle"
	echo
	"$LOADGEN" table -base peer "$OUT"/*.json
} | tee "$OUT/results.md"
log "reports, profiles and logs in $OUT"
