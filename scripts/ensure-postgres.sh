#!/usr/bin/env bash
# A private PostgreSQL server for the tests and for trying the daemon on PostgreSQL.
#
#   bash scripts/ensure-postgres.sh DIR [PORT]   # initdb DIR (once), start postgres on 127.0.0.1:PORT,
#                                                # print its connection URL on stdout
#   bash scripts/ensure-postgres.sh --stop DIR   # stop that server (the data stays)
#   bash scripts/ensure-postgres.sh --remove DIR # stop it and remove DIR
#
# Installs Debian's `postgresql` when its binaries are missing. The server has a data dir of its
# own, listens on loopback only, on a port of its own (never 5432 unless asked: the default is a
# free port picked here), with its socket inside DIR, so it never touches another server of the
# machine. initdb and postgres refuse to run as root: as root they run as the `postgres` user.
# The database `ecoware` is created, owned by the user `ecoware` (password `ecoware`, loopback only).
set -euo pipefail
log() { echo "ensure-postgres: $*" >&2; }

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/postgres" ] && { echo "$d"; return 0; }
  done
  return 1
}
BIN=$(find_bin || true)
if [ -z "$BIN" ]; then
  log "installing postgresql"
  bash "$(cd "$(dirname "$0")" && pwd)/apt-install.sh" postgresql
  BIN=$(find_bin)
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

mode=start
if [ "${1:-}" = "--stop" ] || [ "${1:-}" = "--remove" ]; then mode=${1#--}; shift; fi
DIR=${1:?usage: ensure-postgres.sh [--stop|--remove] DIR [PORT]}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
DATA=$DIR/data

stop_server() {
  if [ -f "$DATA/postmaster.pid" ]; then
    as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >&2 || true
  fi
}
if [ "$mode" = stop ]; then stop_server; exit 0; fi
if [ "$mode" = remove ]; then stop_server; rm -rf "$DIR"; exit 0; fi

PORT=${2:-}
if [ -z "$PORT" ] && [ -f "$DIR/port" ]; then PORT=$(cat "$DIR/port"); fi
if [ -z "$PORT" ]; then
  PORT=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
fi
[ "$PORT" != 5432 ] || [ -n "${2:-}" ] || { log "refusing port 5432 unless given explicitly"; exit 2; }

if [ "$(id -u)" = 0 ]; then chown postgres: "$DIR"; fi
if [ ! -f "$DATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  echo postgres >"$pwfile"
  [ "$(id -u)" = 0 ] && chown postgres: "$pwfile"
  as_owner "$BIN/initdb" -D "$DATA" -U postgres --pwfile="$pwfile" --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >&2
  rm -f "$pwfile"
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$DIR'"
    echo "fsync = on"
  } >>"$DATA/postgresql.conf"
fi
echo "$PORT" >"$DIR/port"
if ! as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  as_owner "$BIN/pg_ctl" -D "$DATA" -o "-p $PORT -c unix_socket_directories=$DIR" -l "$DIR/server.log" -w -t 60 start >&2
fi
export PGPASSWORD=postgres
psql_admin() { "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'ecoware'")" != 1 ]; then
  psql_admin -c "CREATE ROLE ecoware LOGIN CREATEDB PASSWORD 'ecoware'" >&2
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'ecoware'")" != 1 ]; then
  psql_admin -c "CREATE DATABASE ecoware OWNER ecoware" >&2
fi
echo "postgres://ecoware:ecoware@127.0.0.1:$PORT/ecoware"
