# Shell helpers shared by deploy/testenv/servers.sh and deploy/cluster.sh.
# Source it after defining die().

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
pid_of() { [ -s "$1" ] && cat "$1" || true; }

# free_port prints a loopback TCP port nobody listens on (and that no earlier
# call of this script run handed out), below Linux's ephemeral range so that
# no outgoing connection holds it. A start that still loses a race retries.
USED_PORTS=" "
free_port() {
	local p i
	for i in $(seq 1 200); do
		p=$((12000 + RANDOM % 20000))
		case "$USED_PORTS" in *" $p "*) continue ;; esac
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			USED_PORTS="$USED_PORTS$p "
			echo "$p"
			return 0
		fi
	done
	die "no free port found"
}
