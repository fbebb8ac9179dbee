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
