#!/usr/bin/env bash
# A throw-away three-node Redis Cluster on 127.0.0.1 for the cluster tests.
#
#   redis-cluster.sh start [--owner PID]   start it (idempotent); with --owner,
#                                          stop it again once process PID exits
#   redis-cluster.sh stop                  stop it and delete its files
#   redis-cluster.sh status                exit 0 when the cluster is ok
#
# Nodes: 127.0.0.1:7101-7103 (REDIS_CLUSTER_PORTS to change), no persistence,
# files in ${TMPDIR:-/tmp}/booking-redis-cluster. Installs Debian's
# redis-server and redis-tools packages when redis-server or redis-cli is
# missing (saying so first). Fails loudly when the cluster does not come up.
set -euo pipefail

PORTS=(${REDIS_CLUSTER_PORTS:-7101 7102 7103})
DIR="${TMPDIR:-/tmp}/booking-redis-cluster"

log() { echo "redis-cluster: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

cluster_ok() {
  local port
  for port in "${PORTS[@]}"; do
    redis-cli -h 127.0.0.1 -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
  done
}

ensure_tools() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
  command -v apt-get >/dev/null || die "redis-server/redis-cli not found and no apt-get: install Redis by hand"
  log "installing Debian's redis-server and redis-tools packages (apt-get update, apt-get install)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
}

stop() {
  # Only nodes this script started (they have a pid file in $DIR): never
  # another server that happens to listen on one of the ports.
  local port pidfile
  for port in "${PORTS[@]}"; do
    pidfile="$DIR/$port.pid"
    [ -f "$pidfile" ] || continue
    redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 \
      || kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  for port in "${PORTS[@]}"; do
    pidfile="$DIR/$port.pid"
    [ -f "$pidfile" ] || continue
    for _ in $(seq 1 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$(cat "$pidfile")" 2>/dev/null && die "the node on port $port did not stop"
  done
  rm -rf "$DIR"
  log "stopped"
}

# Stops the cluster once process $1 has exited (in the background).
watch_owner() {
  local owner=$1
  kill -0 "$owner" 2>/dev/null || die "--owner $owner: no such process"
  (
    trap '' HUP
    while kill -0 "$owner" 2>/dev/null; do sleep 1; done
    "$0" stop >/dev/null 2>&1
  ) </dev/null >/dev/null 2>&1 &
  disown
  log "will stop when process $owner exits"
}

start() {
  local owner=""
  if [ "${1:-}" = "--owner" ]; then owner=${2:?--owner needs a PID}; fi
  if cluster_ok; then
    log "already running on ports ${PORTS[*]}"
    return 0
  fi
  ensure_tools
  local port
  for port in "${PORTS[@]}"; do
    listening "$port" && die "port $port is taken but the cluster is not ok; run '$0 stop' (or free the port) first"
  done
  rm -rf "$DIR"
  mkdir -p "$DIR"
  for port in "${PORTS[@]}"; do
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes \
      --cluster-enabled yes --cluster-config-file "nodes-$port.conf" \
      --dir "$DIR" --logfile "$DIR/$port.log" --pidfile "$DIR/$port.pid" \
      --save '' --appendonly no >/dev/null 2>&1 \
      || die "redis-server on port $port did not start (see $DIR/$port.log)"
  done
  for port in "${PORTS[@]}"; do
    for _ in $(seq 1 100); do listening "$port" && break; sleep 0.1; done
    listening "$port" || die "redis-server on port $port is not listening (see $DIR/$port.log)"
  done
  local nodes=()
  for port in "${PORTS[@]}"; do nodes+=("127.0.0.1:$port"); done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$DIR/create.log" 2>&1 \
    || die "redis-cli --cluster create failed: $(tail -n 5 "$DIR/create.log")"
  for _ in $(seq 1 100); do cluster_ok && break; sleep 0.1; done
  cluster_ok || die "the cluster did not reach cluster_state:ok (see $DIR)"
  [ -n "$owner" ] && watch_owner "$owner"
  log "running on ports ${PORTS[*]}"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  status) cluster_ok ;;
  *) echo "usage: $0 start [--owner PID] | stop | status" >&2; exit 2 ;;
esac
