#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the service's tests (Debian's postgresql package).
#
#   eval "$(.ci/postgres.sh start)"   # initdb + start in a temp dir; prints export EXCITE_TEST_DATABASE_URL=...
#   .ci/postgres.sh stop              # stop it and remove its files
#
# The cluster runs as the postgres user (initdb refuses root), listens on 127.0.0.1:${EXCITE_TEST_PG_PORT:-54329}
# with trust authentication, and keeps its files in /tmp/excite-postgres (EXCITE_TEST_PG_DIR).
set -euo pipefail

PORT="${EXCITE_TEST_PG_PORT:-54329}"
DIR="${EXCITE_TEST_PG_DIR:-/tmp/excite-postgres}"
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -n "$BIN" ] || { echo "postgres.sh: PostgreSQL is not installed (apt-get install -y postgresql)" >&2; exit 1; }

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      mkdir -p "$DIR"
      [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DIR"
      as_postgres "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 >"$DIR/initdb.log" 2>&1 \
        || { cat "$DIR/initdb.log" >&2; exit 1; }
    fi
    if ! as_postgres "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
      as_postgres "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
        -o "-p $PORT -c listen_addresses=127.0.0.1 -k $DIR -c max_connections=200 -c fsync=off" start >&2 \
        || { cat "$DIR/server.log" >&2; exit 1; }
    fi
    echo "export EXCITE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    if [ -f "$DIR/data/PG_VERSION" ]; then
      as_postgres "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >&2 || true
    fi
    rm -rf "$DIR"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
