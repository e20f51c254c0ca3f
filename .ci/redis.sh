#!/usr/bin/env bash
# Starts a throwaway Redis for the redisstore tests and exports AUTHWIRE_TEST_REDIS.
#
#   source .ci/redis.sh          # start (installs redis-server if CI=true or root)
#   .ci/redis.sh start|stop      # or run it; "start" prints the export line
#
# Tests read AUTHWIRE_TEST_REDIS; without it they skip, except under CI=true,
# where they fail so that CI cannot pass by skipping.

AUTHWIRE_REDIS_PORT="${AUTHWIRE_REDIS_PORT:-6390}"

authwire_redis_start() {
	if ! command -v redis-server >/dev/null 2>&1; then
		if [ "${CI:-}" = "true" ] || [ "$(id -u)" = "0" ]; then
			local sudo=""
			[ "$(id -u)" = "0" ] || sudo="sudo"
			# apt output goes to stderr so that eval "$(.ci/redis.sh)" sees only the export line.
			{ $sudo apt-get update && $sudo apt-get install -y redis-server; } >&2 || return 1
		else
			echo "redis.sh: redis-server not found; install it (apt-get install redis-server)" >&2
			return 1
		fi
	fi
	if ! redis-cli -p "$AUTHWIRE_REDIS_PORT" ping >/dev/null 2>&1; then
		redis-server --port "$AUTHWIRE_REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes || return 1
		local i
		for i in $(seq 1 50); do
			redis-cli -p "$AUTHWIRE_REDIS_PORT" ping >/dev/null 2>&1 && break
			sleep 0.1
		done
	fi
	redis-cli -p "$AUTHWIRE_REDIS_PORT" ping >/dev/null 2>&1 || { echo "redis.sh: redis did not start" >&2; return 1; }
	export AUTHWIRE_TEST_REDIS="redis://127.0.0.1:${AUTHWIRE_REDIS_PORT}/0"
	echo "export AUTHWIRE_TEST_REDIS=${AUTHWIRE_TEST_REDIS}"
	if [ -n "${GITHUB_ENV:-}" ]; then
		echo "AUTHWIRE_TEST_REDIS=${AUTHWIRE_TEST_REDIS}" >>"$GITHUB_ENV"
	fi
}

authwire_redis_stop() {
	redis-cli -p "$AUTHWIRE_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
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
