#!/usr/bin/env bash
# Makes sure PostgreSQL (with btree_gist, trust auth for `postgres` on
# 127.0.0.1) and Redis listen on 127.0.0.1, as the test suites need.
# Starts them when installed but stopped. On a machine that lacks them it
# CHANGES THE SYSTEM: it installs Debian packages with apt-get and adds a
# `host all all 127.0.0.1/32 trust` line to PostgreSQL's pg_hba.conf; it
# says so on stderr before each such change. Set BOOKING_NO_SYSTEM_CHANGES=1
# to have it stop with a message instead of changing anything.
# Idempotent; prints what it did; fails loudly.
set -euo pipefail

log() { echo "ensure-services: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Announces a change to the system before it is made, or stops when the
# caller asked for no changes.
about_to() {
  if [ "${BOOKING_NO_SYSTEM_CHANGES:-0}" = 1 ]; then
    die "this machine needs a change to run the tests: $*; BOOKING_NO_SYSTEM_CHANGES=1 forbids it, so make it by hand"
  fi
  log "CHANGING THIS MACHINE: $* (set BOOKING_NO_SYSTEM_CHANGES=1 to stop instead)"
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() {
  local port=$1 name=$2
  for _ in $(seq 1 60); do
    listening "$port" && return 0
    sleep 0.5
  done
  die "$name did not start listening on 127.0.0.1:$port"
}

apt_updated=0
apt_install() {
  command -v apt-get >/dev/null || die "apt-get not found: install $* by hand"
  about_to "installing Debian packages $* with apt-get"
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# ------------------------------------------------------------------ PostgreSQL
pg_cluster_version() { ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1; }

ensure_postgres() {
  if ! listening 5432; then
    if [ -z "$(pg_cluster_version)" ] || ! command -v pg_ctlcluster >/dev/null; then
      apt_install postgresql postgresql-contrib
    fi
    local version
    version=$(pg_cluster_version)
    [ -n "$version" ] || die "PostgreSQL installed but no cluster under /etc/postgresql"
    if [ ! -d "/etc/postgresql/$version/main" ]; then
      about_to "creating the PostgreSQL cluster $version/main"
      pg_createcluster "$version" main >/dev/null
    fi
    log "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    wait_for_port 5432 PostgreSQL
  fi
  command -v psql >/dev/null || apt_install postgresql-client
  if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    # A fresh Debian cluster asks for a password on TCP; tests connect as
    # postgres without one, so trust loopback (this is a test machine).
    local hba
    hba=$(su postgres -c "psql -tAc 'show hba_file'" 2>/dev/null || true)
    [ -n "$hba" ] || die "cannot connect to PostgreSQL as postgres on 127.0.0.1, and cannot reach it over the socket to fix it"
    about_to "adding 'host all all 127.0.0.1/32 trust' to $hba (passwordless PostgreSQL logins from this machine) and reloading PostgreSQL"
    sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    su postgres -c "psql -tAc 'select pg_reload_conf()'" >/dev/null
    psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null \
      || die "still cannot connect to PostgreSQL as postgres@127.0.0.1"
  fi
  local gist
  gist=$(psql -h 127.0.0.1 -U postgres -d postgres -tAc "select count(*) from pg_available_extensions where name = 'btree_gist'")
  if [ "$gist" != "1" ]; then
    apt_install postgresql-contrib
    gist=$(psql -h 127.0.0.1 -U postgres -d postgres -tAc "select count(*) from pg_available_extensions where name = 'btree_gist'")
    [ "$gist" = "1" ] || die "the btree_gist extension is not available in this PostgreSQL"
  fi
  # Create it once here so parallel test schemas never race to create it.
  PGOPTIONS='-c client_min_messages=warning' psql -h 127.0.0.1 -U postgres -d postgres -qtAc 'create extension if not exists btree_gist' >/dev/null
  log "PostgreSQL ready on 127.0.0.1:5432 ($(psql -h 127.0.0.1 -U postgres -d postgres -tAc 'show server_version'))"
}

# ----------------------------------------------------------------------- Redis
ensure_redis() {
  if ! listening 6379; then
    command -v redis-server >/dev/null || apt_install redis-server
    log "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no >/dev/null
    wait_for_port 6379 Redis
  fi
  log "Redis ready on 127.0.0.1:6379"
}

ensure_postgres
ensure_redis
