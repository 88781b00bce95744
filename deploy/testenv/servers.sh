#!/usr/bin/env bash
# Throw-away Redis and MariaDB servers for tests, on loopback, on free ports,
# in a temporary directory.
#
#   deploy/testenv/servers.sh start   start both (installs them first when root
#                                     and missing); prints the env file's path
#   deploy/testenv/servers.sh env     print the env as `export K=V` lines:
#                                     eval "$(deploy/testenv/servers.sh env)"
#   deploy/testenv/servers.sh stop    stop both and remove the directory
#
# State lives in $KEFU_TESTENV_DIR (default: ${TMPDIR:-/tmp}/kefu-testenv-$UID),
# so start, env and stop of one shell session pair up. The env file
# ($KEFU_TESTENV_DIR/env) holds:
#   KEFU_TEST_REDIS_URL       redis://127.0.0.1:P/0
#   KEFU_TEST_REDIS_PORT      P
#   KEFU_TEST_REDIS_DIR       Redis' --dir (restart Redis with the same command)
#   KEFU_TEST_MYSQL_DSN       root@tcp(127.0.0.1:P)/   (server DSN, no database)
#   KEFU_TEST_MYSQL_PORT      P
#   KEFU_TEST_REQUIRE_SERVERS 1
set -euo pipefail

PATH="$PATH:/usr/sbin:/sbin"
STATE="${KEFU_TESTENV_DIR:-${TMPDIR:-/tmp}/kefu-testenv-$(id -u)}"
ENVFILE="$STATE/env"
DBUSER="$(id -un)" # mariadbd runs as whoever runs this (root in CI)

log() { echo "testenv: $*" >&2; }
die() { echo "testenv: error: $*" >&2; exit 1; }

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_installed() {
	local missing=()
	command -v redis-server >/dev/null || missing+=(redis-server)
	command -v redis-cli >/dev/null || missing+=(redis-cli)
	command -v mariadbd >/dev/null || missing+=(mariadbd)
	command -v mariadb >/dev/null || missing+=(mariadb)
	command -v mariadb-install-db >/dev/null || missing+=(mariadb-install-db)
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		die "missing: ${missing[*]}. Install them as root: apt-get install -y redis-server mariadb-server (or run this script as root)"
	fi
	log "installing redis-server and mariadb-server (missing: ${missing[*]})"
	# Keep the packages' init scripts from starting system-wide servers.
	local policy=/usr/sbin/policy-rc.d made_policy=""
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
	fi
	local rc=0
	{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server mariadb-server; } >&2 || rc=$?
	[ -n "$made_policy" ] && rm -f "$policy"
	[ $rc -eq 0 ] || die "apt-get install failed ($rc)"
	hash -r
	command -v redis-server >/dev/null && command -v mariadbd >/dev/null || die "servers still missing after apt-get install"
}

wait_until() { # wait_until SECONDS DESCRIPTION COMMAND...: until COMMAND succeeds; its exit 2 = give up
	local secs=$1 what=$2 deadline rc
	shift 2
	deadline=$((SECONDS + secs))
	while :; do
		rc=0
		"$@" >/dev/null 2>&1 || rc=$?
		[ $rc -eq 0 ] && return 0
		[ $rc -eq 2 ] && return 1
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.2
	done
}

start_redis() {
	local port=$1 dir=$2
	mkdir -p "$dir"
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
		--dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >&2
	redis_up() { [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; }
	redis_alive() {
		grep -q 'aborting' "$dir/redis.log" 2>/dev/null && return 2
		redis_up
	}
	if ! wait_until 20 redis redis_alive; then
		tail -n 5 "$dir/redis.log" >&2 || true
		log "redis did not start on port $port"
		return 1
	fi
}

start_mariadb() {
	local port=$1 dir=$2 data=$2/data
	mkdir -p "$data"
	mariadb-install-db --no-defaults --datadir="$data" --user="$DBUSER" \
		--auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 ||
		{ tail -n 30 "$dir/install.log" >&2; die "mariadb-install-db failed"; }
	nohup mariadbd --no-defaults --datadir="$data" --socket="$dir/sock" --port="$port" \
		--bind-address=127.0.0.1 --user="$DBUSER" --skip-log-bin --pid-file="$dir/mariadbd.pid" \
		--innodb-flush-log-at-trx-commit=2 --max-connections=500 \
		>"$dir/mariadb.log" 2>&1 </dev/null &
	echo $! >"$dir/mariadb.shellpid"
	local pid=$!
	mariadb_up() {
		alive "$pid" || return 2
		mariadb -h127.0.0.1 -P"$port" -uroot -e 'select 1'
	}
	if ! wait_until 60 mariadb mariadb_up; then
		tail -n 10 "$dir/mariadb.log" >&2 || true
		alive "$pid" && kill -9 "$pid" 2>/dev/null
		log "mariadb did not start on port $port"
		return 1
	fi
}

cmd_start() {
	if [ -s "$ENVFILE" ]; then
		# shellcheck disable=SC1090
		(set -a; . "$ENVFILE"; [ "$(redis-cli -p "$KEFU_TEST_REDIS_PORT" ping 2>/dev/null)" = PONG ] &&
			mariadb -h127.0.0.1 -P"$KEFU_TEST_MYSQL_PORT" -uroot -e 'select 1' >/dev/null 2>&1) &&
			{ log "already running ($ENVFILE)"; echo "$ENVFILE"; return 0; }
		log "stale state in $STATE: cleaning up"
		cmd_stop
	fi
	ensure_installed
	mkdir -p "$STATE"
	local rport mport try
	for try in 1 2 3 4 5; do
		rport=$(free_port)
		rm -rf "$STATE/redis"
		start_redis "$rport" "$STATE/redis" && break
		[ $try -lt 5 ] || die "redis did not start (5 tries)"
	done
	for try in 1 2 3 4 5; do
		mport=$(free_port)
		rm -rf "$STATE/mariadb"
		start_mariadb "$mport" "$STATE/mariadb" && break
		[ $try -lt 5 ] || die "mariadb did not start (5 tries)"
	done
	cat >"$ENVFILE.tmp" <<EOF
KEFU_TEST_REDIS_URL='redis://127.0.0.1:$rport/0'
KEFU_TEST_REDIS_PORT='$rport'
KEFU_TEST_REDIS_DIR='$STATE/redis'
KEFU_TEST_MYSQL_DSN='root@tcp(127.0.0.1:$mport)/'
KEFU_TEST_MYSQL_PORT='$mport'
KEFU_TEST_REQUIRE_SERVERS=1
EOF
	mv "$ENVFILE.tmp" "$ENVFILE"
	log "redis on 127.0.0.1:$rport, mariadb on 127.0.0.1:$mport (state in $STATE)"
	echo "$ENVFILE"
}

cmd_env() {
	[ -s "$ENVFILE" ] || die "not started (no $ENVFILE); run: $0 start"
	sed 's/^/export /' "$ENVFILE"
}

cmd_stop() {
	[ -d "$STATE" ] || return 0
	local pid port=""
	[ -s "$ENVFILE" ] && port=$(sed -n "s/^KEFU_TEST_REDIS_PORT='\(.*\)'/\1/p" "$ENVFILE")
	if [ -n "$port" ]; then redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; fi
	pid=$(pid_of "$STATE/redis/redis.pid")
	if alive "$pid"; then kill "$pid" 2>/dev/null || true; fi
	for f in "$STATE/mariadb/mariadbd.pid" "$STATE/mariadb/mariadb.shellpid"; do
		pid=$(pid_of "$f")
		if alive "$pid"; then kill "$pid" 2>/dev/null || true; fi
	done
	# Give MariaDB a moment to shut down cleanly, then make sure.
	for _ in $(seq 1 100); do
		pid=$(pid_of "$STATE/mariadb/mariadb.shellpid")
		alive "$pid" || break
		sleep 0.1
	done
	for f in "$STATE/mariadb/mariadbd.pid" "$STATE/mariadb/mariadb.shellpid" "$STATE/redis/redis.pid"; do
		pid=$(pid_of "$f")
		if alive "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
	done
	rm -rf "$STATE"
	log "stopped"
}

case "${1:-}" in
start) cmd_start ;;
env) cmd_env ;;
stop) cmd_stop ;;
*)
	echo "usage: $0 start|env|stop" >&2
	exit 2
	;;
esac
