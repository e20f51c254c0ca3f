#!/usr/bin/env bash
# Starts throwaway Redis servers for the redisstore tests: a single node
# (exports AUTHWIRE_TEST_REDIS) and a 3-master Redis Cluster on loopback
# (exports AUTHWIRE_TEST_REDIS_CLUSTER, in redisstore.ParseURL's form).
#
#   source .ci/redis.sh          # start (installs redis-server if CI=true or root)
#   .ci/redis.sh start|stop      # or run it; "start" prints the export lines
#
# Tests read both variables; without them they skip, except under CI=true,
# where they fail so that CI cannot pass by skipping. Ports: the single node on
# $AUTHWIRE_REDIS_PORT (6390), the cluster on $AUTHWIRE_REDIS_CLUSTER_PORT and
# the two ports after it (7390-7392).

AUTHWIRE_REDIS_PORT="${AUTHWIRE_REDIS_PORT:-6390}"
AUTHWIRE_REDIS_CLUSTER_PORT="${AUTHWIRE_REDIS_CLUSTER_PORT:-7390}"
AUTHWIRE_REDIS_CLUSTER_DIR="${AUTHWIRE_REDIS_CLUSTER_DIR:-${TMPDIR:-/tmp}/authwire-redis-cluster-${AUTHWIRE_REDIS_CLUSTER_PORT}}"

authwire_redis_wait() { # port
	local i
	for i in $(seq 1 50); do
		redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "redis.sh: redis on port $1 did not start" >&2
	return 1
}

authwire_redis_cluster_ports() {
	echo "$AUTHWIRE_REDIS_CLUSTER_PORT" "$((AUTHWIRE_REDIS_CLUSTER_PORT + 1))" "$((AUTHWIRE_REDIS_CLUSTER_PORT + 2))"
}

authwire_redis_cluster_start() {
	local p ports addrs=""
	ports=$(authwire_redis_cluster_ports)
	if [ "$(redis-cli -p "$AUTHWIRE_REDIS_CLUSTER_PORT" cluster info 2>/dev/null | tr -d '\r' | grep cluster_state)" = "cluster_state:ok" ]; then
		return 0
	fi
	mkdir -p "$AUTHWIRE_REDIS_CLUSTER_DIR"
	for p in $ports; do
		if ! redis-cli -p "$p" ping >/dev/null 2>&1; then
			rm -f "$AUTHWIRE_REDIS_CLUSTER_DIR/nodes-$p.conf"
			redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
				--cluster-enabled yes --cluster-config-file "$AUTHWIRE_REDIS_CLUSTER_DIR/nodes-$p.conf" \
				--dir "$AUTHWIRE_REDIS_CLUSTER_DIR" --logfile "$AUTHWIRE_REDIS_CLUSTER_DIR/redis-$p.log" || return 1
		fi
		authwire_redis_wait "$p" || return 1
		addrs="$addrs 127.0.0.1:$p"
	done
	# shellcheck disable=SC2086
	redis-cli --cluster create $addrs --cluster-replicas 0 --cluster-yes >&2 || return 1
	local i
	for i in $(seq 1 100); do
		local ok=1
		for p in $ports; do
			[ "$(redis-cli -p "$p" cluster info 2>/dev/null | tr -d '\r' | grep cluster_state)" = "cluster_state:ok" ] || ok=0
		done
		[ "$ok" = 1 ] && return 0
		sleep 0.1
	done
	echo "redis.sh: the cluster did not reach cluster_state:ok" >&2
	return 1
}

authwire_redis_start() {
	if ! command -v redis-server >/dev/null 2>&1; then
		if [ "${CI:-}" = "true" ] || [ "$(id -u)" = "0" ]; then
			local sudo=""
			[ "$(id -u)" = "0" ] || sudo="sudo"
			# apt output goes to stderr so that eval "$(.ci/redis.sh)" sees only the export lines.
			{ $sudo apt-get update && $sudo apt-get install -y redis-server; } >&2 || return 1
		else
			echo "redis.sh: redis-server not found; install it (apt-get install redis-server)" >&2
			return 1
		fi
	fi
	if ! redis-cli -p "$AUTHWIRE_REDIS_PORT" ping >/dev/null 2>&1; then
		redis-server --port "$AUTHWIRE_REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes || return 1
	fi
	authwire_redis_wait "$AUTHWIRE_REDIS_PORT" || return 1
	authwire_redis_cluster_start || return 1

	local p1 p2 p3
	read -r p1 p2 p3 <<<"$(authwire_redis_cluster_ports)"
	export AUTHWIRE_TEST_REDIS="redis://127.0.0.1:${AUTHWIRE_REDIS_PORT}/0"
	export AUTHWIRE_TEST_REDIS_CLUSTER="redis://127.0.0.1:${p1}?addr=127.0.0.1:${p2}&addr=127.0.0.1:${p3}"
	echo "export AUTHWIRE_TEST_REDIS='${AUTHWIRE_TEST_REDIS}'"
	echo "export AUTHWIRE_TEST_REDIS_CLUSTER='${AUTHWIRE_TEST_REDIS_CLUSTER}'"
	if [ -n "${GITHUB_ENV:-}" ]; then
		echo "AUTHWIRE_TEST_REDIS=${AUTHWIRE_TEST_REDIS}" >>"$GITHUB_ENV"
		echo "AUTHWIRE_TEST_REDIS_CLUSTER=${AUTHWIRE_TEST_REDIS_CLUSTER}" >>"$GITHUB_ENV"
	fi
}

authwire_redis_stop() {
	local p
	redis-cli -p "$AUTHWIRE_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
	for p in $(authwire_redis_cluster_ports); do
		redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true
	done
	rm -rf "$AUTHWIRE_REDIS_CLUSTER_DIR"
}

# Run directly: act on $1 (default start). Sourced: start, unless told otherwise.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	case "${1:-start}" in
	start) authwire_redis_start ;;
	stop) authwire_redis_stop ;;
	*) echo "usage: $0 [start|stop]" >&2; exit 2 ;;
	esac
else
	case "${1:-start}" in
	stop) authwire_redis_stop ;;
	*) authwire_redis_start ;;
	esac
fi
