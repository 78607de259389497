#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on 127.0.0.1 for the tuner's multi-worker tests.
#
#   bash .ci/postgres.sh          # start it; writes .ci/postgres.env
#   . .ci/postgres.env            # export RNNKIT_TEST_POSTGRES_URL (and the control command)
#   python -m pytest tests/tuner -m postgres
#   bash .ci/postgres.sh stop     # stop it and delete its data
#
# Sourcing this script (`. .ci/postgres.sh`) starts the server and exports the variables.
# PostgreSQL comes from the Debian packages (installed with apt-get when missing). The
# cluster lives in a temporary folder, runs as a non-root user, listens on 127.0.0.1
# only, on a free port, with a random password.

_rnnkit_pg_main() (
  set -euo pipefail
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  env_file="$here/postgres.env"

  pg_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$dir" ] && command -v pg_config >/dev/null 2>&1; then dir=$(pg_config --bindir); fi
    echo "$dir"
  }

  as_owner() {  # run a PostgreSQL tool as the cluster owner (never as root)
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
  }

  if [ "${1:-start}" = "stop" ]; then
    if [ -f "$env_file" ]; then
      # shellcheck disable=SC1090
      . "$env_file"
      as_owner "$RNNKIT_TEST_POSTGRES_BIN/pg_ctl" -D "$RNNKIT_TEST_POSTGRES_DATA" stop -m fast || true
      rm -rf "$RNNKIT_TEST_POSTGRES_DATA" "$RNNKIT_TEST_POSTGRES_DATA.initdb.log" "$env_file"
    fi
    return 0
  fi

  bin=$(pg_bin)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "Installing PostgreSQL from the Debian packages..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq postgresql >/dev/null \
      || { echo "postgres.sh: PostgreSQL is not installed and apt-get could not install it" >&2; exit 1; }
    bin=$(pg_bin)
  fi

  data=$(mktemp -d /tmp/rnnkit-pg.XXXXXX)
  password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  printf '%s\n' "$password" >"$data.pw"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home "$data" postgres
    chown postgres "$data" "$data.pw"
  fi
  chmod 700 "$data"
  chmod 600 "$data.pw"

  if ! as_owner "$bin/initdb" -D "$data" -U rnnkit --auth=scram-sha-256 --pwfile="$data.pw" \
    --no-instructions >"$data.initdb.log" 2>&1; then
    echo "postgres.sh: initdb failed; the end of $data.initdb.log:" >&2
    tail -n 20 "$data.initdb.log" >&2
    exit 1
  fi
  rm -f "$data.pw"
  cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$data'
max_connections = 100
fsync = off
EOF
  if ! as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start >/dev/null; then
    echo "postgres.sh: the server did not start; the end of $data/server.log:" >&2
    tail -n 20 "$data/server.log" >&2
    exit 1
  fi
  PGPASSWORD="$password" "$bin/createdb" -h 127.0.0.1 -p "$port" -U rnnkit rnnkit_test

  cat >"$env_file" <<EOF
export RNNKIT_TEST_POSTGRES_URL='postgresql://rnnkit:$password@127.0.0.1:$port/rnnkit_test'
export RNNKIT_TEST_POSTGRES_DATA='$data'
export RNNKIT_TEST_POSTGRES_BIN='$bin'
export RNNKIT_TEST_POSTGRES_CTL='$( [ "$(id -u)" -eq 0 ] && echo "runuser -u postgres -- " )$bin/pg_ctl -D $data -l $data/server.log'
EOF
  chmod 600 "$env_file"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data $data); variables in $env_file" >&2
)

if [ "${BASH_SOURCE[0]}" != "$0" ]; then  # sourced: start and export
  _rnnkit_pg_main "$@" && [ "${1:-start}" = "start" ] && . "$(dirname "${BASH_SOURCE[0]}")/postgres.env"
else
  _rnnkit_pg_main "$@"
fi
