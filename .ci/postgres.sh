#!/usr/bin/env bash
# Start a throwaway PostgreSQL on 127.0.0.1 for the device_bench storage tests.
#
#   .ci/postgres.sh && . .ci/postgres.env   # installs if needed, starts, writes the URL
#   eval "$(.ci/postgres.sh)"                # same, exporting TEST_DATABASE_URL directly
#   .ci/postgres.sh stop                     # stops it (the data directory is kept)
#
# Installs the Debian `postgresql` package when no server binaries exist, initialises a
# cluster in $PG_CI_DATA (not the system cluster, so nothing else on the machine changes),
# listens on loopback only, and creates the role + database named in the URL it prints.
# The export line goes to stdout and to $PG_CI_ENV_FILE; progress goes to stderr.
set -euo pipefail

PG_CI_DATA="${PG_CI_DATA:-/tmp/sdk-ci-postgres}"
PG_CI_PORT="${PG_CI_PORT:-55432}"
PG_CI_DB="${PG_CI_DB:-sdk_test}"
PG_CI_USER="${PG_CI_USER:-sdk_test}"
PG_CI_PASSWORD="${PG_CI_PASSWORD:-sdk_test}"
PG_CI_ENV_FILE="${PG_CI_ENV_FILE:-$(dirname "$0")/postgres.env}"

log() { echo "postgres.sh: $*" >&2; }

# Run a command as the postgres OS user when we are root (initdb refuses to run as root).
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_server() {
  if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then return; fi
  log "installing the postgresql Debian package"
  export DEBIAN_FRONTEND=noninteractive
  apt-cache show postgresql >/dev/null 2>&1 || apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1; }

init_cluster() {
  local bin=$1
  [ -s "$PG_CI_DATA/PG_VERSION" ] && return
  log "initialising a cluster in $PG_CI_DATA"
  mkdir -p "$PG_CI_DATA"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_CI_DATA"
  chmod 700 "$PG_CI_DATA"
  # Local socket (inside the data directory) trusts the admin; TCP needs a password.
  as_pg "$bin/initdb" -D "$PG_CI_DATA" -U postgres -E UTF8 \
    --auth-local=trust --auth-host=scram-sha-256 >&2
}

start_server() {
  local bin=$1
  if as_pg "$bin/pg_ctl" -D "$PG_CI_DATA" status >/dev/null 2>&1; then return; fi
  log "starting on 127.0.0.1:$PG_CI_PORT"
  as_pg "$bin/pg_ctl" -D "$PG_CI_DATA" -l "$PG_CI_DATA/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_CI_PORT -k $PG_CI_DATA" start >&2
}

create_database() {
  local psql=(psql -X -q -v ON_ERROR_STOP=1 -h "$PG_CI_DATA" -p "$PG_CI_PORT" -U postgres)
  "${psql[@]}" -d postgres >&2 <<SQL
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', '$PG_CI_USER', '$PG_CI_PASSWORD')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_CI_USER') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', '$PG_CI_DB', '$PG_CI_USER')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$PG_CI_DB') \gexec
SQL
}

main() {
  if [ "${1:-start}" = stop ]; then
    as_pg "$(pg_bin)/pg_ctl" -D "$PG_CI_DATA" -m fast stop >&2 || true
    return
  fi
  install_server
  local bin
  bin=$(pg_bin)
  init_cluster "$bin"
  start_server "$bin"
  create_database
  local url="postgresql+psycopg://$PG_CI_USER:$PG_CI_PASSWORD@127.0.0.1:$PG_CI_PORT/$PG_CI_DB"
  echo "export TEST_DATABASE_URL=$url" | tee "$PG_CI_ENV_FILE"
}

main "$@"
