#!/usr/bin/env bash
# Sourced by .ci/run: makes sure a Redis answers at REDIS_URL (default redis://127.0.0.1:6379).
# When none answers there, it starts a private redis-server on a free port and exports REDIS_URL
# pointing at it, so the tests that need Redis run against it.

redis_url="${REDIS_URL:-redis://127.0.0.1:6379}"
redis_port="${redis_url##*:}"; redis_port="${redis_port%%/*}"

redis_answers() { redis-cli -p "$1" ping 2>/dev/null | grep -q PONG; }

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  echo "services: redis-server is not installed; install it (apt-get install redis-server)"
  return 1 2>/dev/null || exit 1
fi

if redis_answers "$redis_port"; then
  echo "services: redis answers at $redis_url"
else
  # Ask the kernel for a free port, then start a private, non-persistent Redis on it.
  free_port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  redis-server --daemonize yes --bind 127.0.0.1 --port "$free_port" --save "" --appendonly no >/dev/null
  for _ in $(seq 1 50); do redis_answers "$free_port" && break; sleep 0.1; done
  if ! redis_answers "$free_port"; then
    echo "services: redis did not start on port $free_port"
    return 1 2>/dev/null || exit 1
  fi
  export REDIS_URL="redis://127.0.0.1:$free_port"
  echo "services: no redis answered at $redis_url; started one at $REDIS_URL"
fi

# PostgreSQL: the same for DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres).
# When none answers there, a private cluster is made with initdb in a temporary folder (trust
# auth, no fsync: it holds test data only) and started with pg_ctl on a free port; as root, both
# run as the `postgres` OS user, since the server refuses to run as root.

database_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

pg_answers() { PGCONNECT_TIMEOUT=3 psql "$1" -Atqc 'SELECT 1' 2>/dev/null | grep -q '^1$'; }

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if ! command -v psql >/dev/null 2>&1 || [ -z "$pg_bin" ]; then
  echo "services: PostgreSQL is not installed; install it (apt-get install postgresql)"
  return 1 2>/dev/null || exit 1
fi

if pg_answers "$database_url"; then
  echo "services: postgresql answers at $database_url"
else
  pg_dir=$(mktemp -d /tmp/ccflow-postgres.XXXXXX)
  as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
  }
  [ "$(id -u)" = 0 ] && chown postgres: "$pg_dir"
  free_port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  if ! as_pg "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 --no-sync >"$pg_dir/initdb.log" 2>&1 ||
    ! as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $free_port -k $pg_dir -c fsync=off" start >/dev/null; then
    echo "services: postgresql did not start on port $free_port (logs in $pg_dir)"
    return 1 2>/dev/null || exit 1
  fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:$free_port/postgres"
  if ! pg_answers "$DATABASE_URL"; then
    echo "services: postgresql started on port $free_port but does not answer (logs in $pg_dir)"
    return 1 2>/dev/null || exit 1
  fi
  echo "services: no postgresql answered at $database_url; started one at $DATABASE_URL"
fi
