#!/usr/bin/env bash
# A whole Kefu cluster on loopback, without Docker: Redis and MariaDB
# (deploy/testenv/servers.sh), N gateways (node ids gw1..gwN), 2 routing
# replicas (rt1, rt2) and HAProxy in front (deploy/haproxy/haproxy.cfg, the
# file docker-compose.yml mounts too).
#
#   deploy/cluster.sh start   start everything (installs haproxy first when
#                             root and missing); prints the load balancer's URL
#   deploy/cluster.sh env     print the cluster's env as `export K=V` lines:
#                             eval "$(deploy/cluster.sh env)"
#   deploy/cluster.sh stop    stop everything (gateways get SIGTERM and drain)
#                             and remove the state directory
#   deploy/cluster.sh status  one line per process: running or not
#
# Knobs (environment):
#   KEFU_CLUSTER_DIR       state directory (default ${TMPDIR:-/tmp}/kefu-cluster-$UID):
#                          logs/, the env file, pid files; start, env and stop
#                          of one cluster use the same value
#   KEFU_CLUSTER_GATEWAYS  number of gateways, 1..16 (default 2)
#   KEFU_CLUSTER_ROUTINGS  number of routing replicas (default 2)
#   KEFU_CLUSTER_BIN       directory holding the `gateway` and `routing`
#                          binaries; default: built from this checkout into
#                          the state directory
#   KEFU_CLUSTER_KEEP_LOGS=DIR  stop copies the processes' logs there first
#   KEFU_SECRET, KEFU_DEMO_PASSWORD  default: random (printed by env)
#   any other KEFU_* variable reaches every gateway and routing process
#   (e.g. KEFU_VISITOR_RATE, KEFU_AGENT_GRACE, KEFU_DRAIN_DELAY).
#
# Redis and MariaDB: when servers.sh's env is exported (KEFU_TEST_MYSQL_PORT,
# as `make test` does), the cluster uses that MariaDB, with a database of its
# own, and a private redis-server (pub/sub channels are global to a Redis
# server, so two clusters must not share one). Otherwise it runs servers.sh
# with its state inside the cluster's directory.
#
# The env file ($KEFU_CLUSTER_DIR/env) holds KEFU_CLUSTER_LB_URL,
# KEFU_CLUSTER_STATS_URL (HAProxy's stats page), KEFU_CLUSTER_GATEWAYS,
# KEFU_CLUSTER_GW<i>_URL and KEFU_CLUSTER_GW<i>_PID (i = 1..N),
# KEFU_CLUSTER_RT<i>_URL and _PID, KEFU_CLUSTER_HAPROXY_PID,
# KEFU_CLUSTER_REDIS_URL, KEFU_CLUSTER_MYSQL_DSN, KEFU_CLUSTER_LOGS (directory
# of <id>.log files, haproxy.log included), KEFU_CLUSTER_SECRET and
# KEFU_CLUSTER_DEMO_PASSWORD.
set -euo pipefail

PATH="$PATH:/usr/sbin:/sbin"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${KEFU_CLUSTER_DIR:-${TMPDIR:-/tmp}/kefu-cluster-$(id -u)}"
ENVFILE="$STATE/env"
LOGS="$STATE/logs"
HAPROXY_CFG="$ROOT/deploy/haproxy/haproxy.cfg"
MAX_GATEWAYS=16 # the LB_GW<i> slots of haproxy.cfg

log() { echo "cluster: $*" >&2; }
die() { echo "cluster: error: $*" >&2; exit 1; }

. "$ROOT/deploy/testenv/lib.sh"

# random_string N: N hex characters.
random_string() { od -An -tx1 -N $((($1 + 1) / 2)) /dev/urandom | tr -d ' \n' | cut -c "1-$1"; }

ensure_haproxy() {
	command -v haproxy >/dev/null && return 0
	if [ "$(id -u)" != 0 ]; then
		die "haproxy is missing. Install it as root: apt-get install -y haproxy (or run this script as root)"
	fi
	log "installing haproxy"
	# Keep the package's init script from starting a system-wide haproxy.
	local policy=/usr/sbin/policy-rc.d made_policy="" rc=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
	fi
	{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y haproxy; } >&2 || rc=$?
	[ -n "$made_policy" ] && rm -f "$policy"
	[ $rc -eq 0 ] || die "apt-get install haproxy failed ($rc)"
	hash -r
	command -v haproxy >/dev/null || die "haproxy still missing after apt-get install"
}

# http_status URL: the HTTP status code of a GET (000 when nothing answers).
http_status() {
	local hostport=${1#http://} path
	path="/${hostport#*/}"
	hostport=${hostport%%/*}
	(
		exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}" || exit 1
		printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$hostport" >&3
		IFS=' ' read -r _ code _ <&3 && echo "$code"
	) 2>/dev/null || echo 000
}

# wait_ready NAME URL PIDFILE [SECONDS]: until GET URL answers 200.
wait_ready() {
	local name=$1 url=$2 pidfile=$3 deadline=$((SECONDS + ${4:-60}))
	until [ "$(http_status "$url")" = 200 ]; do
		if ! alive "$(pid_of "$pidfile")"; then
			tail -n 30 "$LOGS/$name.log" >&2 || true
			die "$name exited during start (log: $LOGS/$name.log)"
		fi
		if [ $SECONDS -ge $deadline ]; then
			tail -n 30 "$LOGS/$name.log" >&2 || true
			die "$name not ready at $url"
		fi
		sleep 0.1
	done
}

# spawn NAME PIDFILE COMMAND...: run in the background, logging to logs/NAME.log.
spawn() {
	local name=$1 pidfile=$2
	shift 2
	nohup "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
	echo $! >"$pidfile"
}

mysql_cli() { mariadb -h127.0.0.1 -P"$MYSQL_PORT" -uroot "$@"; }

cmd_start() {
	if [ -s "$ENVFILE" ]; then
		local lb
		# shellcheck disable=SC1090
		lb=$(. "$ENVFILE" && echo "$KEFU_CLUSTER_LB_URL")
		if [ "$(http_status "$lb/readyz")" = 200 ]; then
			log "already running ($ENVFILE)"
			echo "$lb"
			return 0
		fi
		log "stale state in $STATE: cleaning up"
		cmd_stop
	fi
	local n=${KEFU_CLUSTER_GATEWAYS:-2} nr=${KEFU_CLUSTER_ROUTINGS:-2}
	case "$n" in '' | *[!0-9]*) die "KEFU_CLUSTER_GATEWAYS must be a number" ;; esac
	case "$nr" in '' | *[!0-9]*) die "KEFU_CLUSTER_ROUTINGS must be a number" ;; esac
	[ "$n" -ge 1 ] && [ "$n" -le $MAX_GATEWAYS ] || die "KEFU_CLUSTER_GATEWAYS must be 1..$MAX_GATEWAYS (the LB_GW slots of $HAPROXY_CFG)"
	[ "$nr" -ge 1 ] || die "KEFU_CLUSTER_ROUTINGS must be at least 1"
	ensure_haproxy
	mkdir -p "$STATE" "$LOGS" "$STATE/pids"

	# Binaries.
	local bin=${KEFU_CLUSTER_BIN:-}
	if [ -z "$bin" ]; then
		bin="$STATE/bin"
		log "building gateway and routing into $bin"
		(cd "$ROOT" && go build -o "$bin/" ./gateway ./services/routing) >&2 || die "go build failed"
	fi
	for b in gateway routing; do [ -x "$bin/$b" ] || die "no $b binary in $bin"; done

	# Redis and MariaDB.
	local redis_url mysql_dsn db=kefu
	if [ -n "${KEFU_TEST_MYSQL_PORT:-}" ]; then
		MYSQL_PORT=$KEFU_TEST_MYSQL_PORT
		mysql_cli -e 'select 1' >/dev/null 2>&1 || die "no MariaDB answers on 127.0.0.1:$MYSQL_PORT (KEFU_TEST_MYSQL_PORT)"
		db="kefu_cluster_$(random_string 10)"
		echo "$MYSQL_PORT $db" >"$STATE/database" # dropped by stop
		local rport
		rport=$(free_port)
		mkdir -p "$STATE/redis"
		redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
			--dir "$STATE/redis" --pidfile "$STATE/redis/redis.pid" --logfile "$LOGS/redis.log" >&2
		echo "$rport" >"$STATE/redis/port"
		local deadline=$((SECONDS + 20))
		until [ "$(redis-cli -p "$rport" ping 2>/dev/null)" = PONG ]; do
			[ $SECONDS -lt $deadline ] || die "redis did not start on $rport"
			sleep 0.1
		done
		redis_url="redis://127.0.0.1:$rport/0"
	else
		KEFU_TESTENV_DIR="$STATE/servers" "$ROOT/deploy/testenv/servers.sh" start >/dev/null
		# shellcheck disable=SC1091
		(. "$STATE/servers/env" && echo "$KEFU_TEST_MYSQL_PORT $KEFU_TEST_REDIS_URL") >"$STATE/servers.txt"
		read -r MYSQL_PORT redis_url <"$STATE/servers.txt"
	fi
	mysql_cli -e "CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
	mysql_dsn="root@tcp(127.0.0.1:$MYSQL_PORT)/$db"

	local secret=${KEFU_SECRET:-$(random_string 48)} password=${KEFU_DEMO_PASSWORD:-$(random_string 16)}
	local lbport statsport
	lbport=$(free_port)
	statsport=$(free_port)
	local lb="http://127.0.0.1:$lbport"
	{
		echo "KEFU_CLUSTER_LB_URL='$lb'"
		echo "KEFU_CLUSTER_STATS_URL='http://127.0.0.1:$statsport/stats'"
		echo "KEFU_CLUSTER_GATEWAYS='$n'"
		echo "KEFU_CLUSTER_ROUTINGS='$nr'"
		echo "KEFU_CLUSTER_REDIS_URL='$redis_url'"
		echo "KEFU_CLUSTER_MYSQL_DSN='$mysql_dsn'"
		echo "KEFU_CLUSTER_LOGS='$LOGS'"
		echo "KEFU_CLUSTER_SECRET='$secret'"
		echo "KEFU_CLUSTER_DEMO_PASSWORD='$password'"
	} >"$ENVFILE.tmp"

	# The processes: every KEFU_* setting of the caller, then ours.
	export KEFU_REDIS_URL="$redis_url" KEFU_MYSQL_DSN="$mysql_dsn"
	local i id port
	for i in $(seq 1 "$nr"); do
		id="rt$i"
		port=$(free_port)
		KEFU_ADDR="127.0.0.1:$port" KEFU_NODE_ID="$id" \
			spawn "$id" "$STATE/pids/$id" "$bin/routing"
		echo "KEFU_CLUSTER_RT${i}_URL='http://127.0.0.1:$port'" >>"$ENVFILE.tmp"
		echo "KEFU_CLUSTER_RT${i}_PID='$(cat "$STATE/pids/$id")'" >>"$ENVFILE.tmp"
	done
	local lbenv=()
	for i in $(seq 1 "$n"); do
		id="gw$i"
		port=$(free_port)
		KEFU_ADDR="127.0.0.1:$port" KEFU_NODE_ID="$id" KEFU_SECRET="$secret" KEFU_DEMO_PASSWORD="$password" \
			KEFU_ROUTING=external KEFU_PUBLIC_URL="${KEFU_PUBLIC_URL:-$lb}" KEFU_TRUST_PROXY="${KEFU_TRUST_PROXY:-true}" \
			spawn "$id" "$STATE/pids/$id" "$bin/gateway"
		lbenv+=("LB_GW$i=127.0.0.1:$port")
		echo "KEFU_CLUSTER_GW${i}_URL='http://127.0.0.1:$port'" >>"$ENVFILE.tmp"
		echo "KEFU_CLUSTER_GW${i}_PID='$(cat "$STATE/pids/$id")'" >>"$ENVFILE.tmp"
	done
	for i in $(seq 1 "$nr"); do
		wait_ready "rt$i" "$(sed -n "s/^KEFU_CLUSTER_RT${i}_URL='\(.*\)'/\1/p" "$ENVFILE.tmp")/healthz" "$STATE/pids/rt$i"
	done
	for i in $(seq 1 "$n"); do
		wait_ready "gw$i" "$(sed -n "s/^KEFU_CLUSTER_GW${i}_URL='\(.*\)'/\1/p" "$ENVFILE.tmp")/readyz" "$STATE/pids/gw$i"
	done

	# HAProxy: the same file as docker-compose.yml, filled in from LB_*.
	(
		export "${lbenv[@]}" LB_BIND="127.0.0.1:$lbport" LB_STATS_BIND="127.0.0.1:$statsport"
		haproxy -c -q -f "$HAPROXY_CFG" >&2 || die "haproxy -c failed on $HAPROXY_CFG"
		spawn haproxy "$STATE/pids/haproxy" haproxy -db -f "$HAPROXY_CFG"
	)
	echo "KEFU_CLUSTER_HAPROXY_PID='$(cat "$STATE/pids/haproxy")'" >>"$ENVFILE.tmp"
	wait_ready haproxy "$lb/readyz" "$STATE/pids/haproxy" 20
	mv "$ENVFILE.tmp" "$ENVFILE"
	log "$n gateways, $nr routing replicas, HAProxy on $lb (state in $STATE; eval \"\$($0 env)\" for the details)"
	echo "$lb"
}

cmd_env() {
	[ -s "$ENVFILE" ] || die "not started (no $ENVFILE); run: $0 start"
	sed 's/^/export /' "$ENVFILE"
}

cmd_status() {
	[ -d "$STATE/pids" ] || { echo "not started"; return 0; }
	local f
	for f in "$STATE"/pids/*; do
		if alive "$(pid_of "$f")"; then echo "$(basename "$f") running (pid $(cat "$f"))"; else echo "$(basename "$f") not running"; fi
	done
}

# stop_pids SECONDS PIDFILE...: SIGTERM, wait up to SECONDS, then SIGKILL.
stop_pids() {
	local secs=$1 f pid left deadline
	shift
	for f in "$@"; do
		pid=$(pid_of "$f")
		if alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
	done
	deadline=$((SECONDS + secs))
	while :; do
		left=0
		for f in "$@"; do alive "$(pid_of "$f")" && left=1; done
		[ $left -eq 0 ] && return 0
		[ $SECONDS -lt $deadline ] || break
		sleep 0.1
	done
	for f in "$@"; do
		pid=$(pid_of "$f")
		if alive "$pid"; then
			log "$(basename "$f") did not stop within ${secs}s: killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
}

cmd_stop() {
	[ -d "$STATE" ] || return 0
	local gws=() rts=() f
	for f in "$STATE"/pids/gw*; do [ -e "$f" ] && gws+=("$f"); done
	for f in "$STATE"/pids/rt*; do [ -e "$f" ] && rts+=("$f"); done
	# Gateways first (they drain: KEFU_DRAIN_DELAY, then about 15 s at most),
	# the load balancer once they are gone, routing last.
	[ ${#gws[@]} -eq 0 ] || stop_pids 40 "${gws[@]}"
	[ -e "$STATE/pids/haproxy" ] && stop_pids 10 "$STATE/pids/haproxy"
	[ ${#rts[@]} -eq 0 ] || stop_pids 20 "${rts[@]}"
	if [ -s "$STATE/redis/port" ]; then
		redis-cli -p "$(cat "$STATE/redis/port")" shutdown nosave >/dev/null 2>&1 || true
		local pid
		pid=$(pid_of "$STATE/redis/redis.pid")
		if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
	fi
	if [ -s "$STATE/database" ]; then
		local db
		read -r MYSQL_PORT db <"$STATE/database"
		mysql_cli -e "DROP DATABASE IF EXISTS \`$db\`" >/dev/null 2>&1 || log "could not drop database $db"
	fi
	if [ -d "$STATE/servers" ]; then
		KEFU_TESTENV_DIR="$STATE/servers" "$ROOT/deploy/testenv/servers.sh" stop >/dev/null 2>&1 || true
	fi
	if [ -n "${KEFU_CLUSTER_KEEP_LOGS:-}" ] && [ -d "$LOGS" ]; then
		mkdir -p "$KEFU_CLUSTER_KEEP_LOGS" && cp -r "$LOGS/." "$KEFU_CLUSTER_KEEP_LOGS/" || true
	fi
	rm -rf "$STATE"
	log "stopped"
}

case "${1:-}" in
start) cmd_start ;;
env) cmd_env ;;
stop) cmd_stop ;;
status) cmd_status ;;
*)
	echo "usage: $0 start|env|stop|status" >&2
	exit 2
	;;
esac
