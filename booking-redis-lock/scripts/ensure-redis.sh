#!/usr/bin/env bash
# Makes sure a Redis server answers on 127.0.0.1:${REDIS_PORT:-6379} for the
# booking-redis-lock tests: does nothing if one already runs, otherwise starts
# one (installing Debian's redis-server package first if it is missing).
# Meant to be called from .ci/run before `cargo test`.
set -euo pipefail

port="${REDIS_PORT:-6379}"

ping_redis() {
    # PING over a plain TCP connection, so redis-cli is not required.
    local reply
    { exec 3<>"/dev/tcp/127.0.0.1/${port}"; } 2>/dev/null || return 1
    printf 'PING\r\n' >&3
    IFS= read -r -t 2 reply <&3 || true
    exec 3>&- 3<&-
    [[ "${reply}" == "+PONG"* ]]
}

if ping_redis; then
    echo "redis: already running on 127.0.0.1:${port}"
    exit 0
fi

if ! command -v redis-server >/dev/null 2>&1; then
    echo "redis: redis-server not found, installing Debian's package"
    sudo_cmd=()
    if [[ "$(id -u)" != 0 ]]; then sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq redis-server
fi

echo "redis: starting redis-server on 127.0.0.1:${port}"
redis-server --bind 127.0.0.1 --port "${port}" --daemonize yes \
    --save '' --appendonly no --logfile "/tmp/redis-${port}.log"

for _ in $(seq 1 50); do
    if ping_redis; then
        echo "redis: up on 127.0.0.1:${port}"
        exit 0
    fi
    sleep 0.2
done
echo "redis: did not come up on 127.0.0.1:${port}; see /tmp/redis-${port}.log" >&2
exit 1
