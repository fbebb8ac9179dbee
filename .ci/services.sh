#!/usr/bin/env bash
# Makes sure the services the tests need answer; starts a private one where none does.
set -uo pipefail

redis_url="${REDIS_URL:-redis://127.0.0.1:6379}"
redis_port="${redis_url##*:}"; redis_port="${redis_port%%/*}"
if command -v redis-cli >/dev/null 2>&1 && redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
  echo "services: redis answers on port $redis_port"
elif command -v redis-server >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no >/dev/null
  for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && echo "services: started redis on port $redis_port" || { echo "services: redis did not start"; exit 1; }
else
  echo "services: redis-server is not installed; install it (apt-get install redis-server)"; exit 1
fi
