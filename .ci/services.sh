# PostgreSQL and Redis for the governance tests, on 127.0.0.1, in throw-away directories.
#
#   source .ci/services.sh        # installs what is missing (Debian packages, needs root), starts both, exports
#                                 # LLMUX_TEST_POSTGRES (an Npgsql connection string) and REDIS_URL
#   llmux_services_stop           # stops both and removes their directories (.ci/run does this in a trap)
#
# Also: llmux_postgres_stop / llmux_postgres_start (the outage test stops and restarts the same cluster).
# PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` user (created if missing).

llmux_free_port() {
  # Bind port 0 and report what the kernel picked (closed again at once).
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

llmux_pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return 0; }; done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

llmux_services_install() {
  local missing=()
  llmux_pg_bin >/dev/null || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "services: ${missing[*]} not installed and cannot apt-get install them here" >&2
    return 1
  fi
  echo "== apt-get install -y ${missing[*]} =="
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null 2>&1; } \
    || { echo "services: apt-get install ${missing[*]} failed" >&2; return 1; }
}

# Runs a command as the cluster's owner (postgres when we are root, else ourselves).
llmux_as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

llmux_postgres_start() {
  local bin; bin=$(llmux_pg_bin) || { echo "services: PostgreSQL binaries not found" >&2; return 1; }
  llmux_as_pg "$bin/pg_ctl" -D "$LLMUX_PG_DIR/data" -l "$LLMUX_PG_DIR/log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $LLMUX_PG_PORT -c unix_socket_directories=$LLMUX_PG_DIR -c max_connections=200 -c fsync=off" start >/dev/null \
    || { echo "services: PostgreSQL did not start:" >&2; tail -20 "$LLMUX_PG_DIR/log" >&2; return 1; }
}

llmux_postgres_stop() {
  local bin; bin=$(llmux_pg_bin) || return 0
  [ -n "${LLMUX_PG_DIR:-}" ] && [ -d "$LLMUX_PG_DIR/data" ] && llmux_as_pg "$bin/pg_ctl" -D "$LLMUX_PG_DIR/data" -m fast -w stop >/dev/null 2>&1
  return 0
}

llmux_services_start() {
  llmux_services_install || return 1
  local bin; bin=$(llmux_pg_bin)
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/false postgres || return 1
  fi
  export LLMUX_PG_DIR; LLMUX_PG_DIR=$(mktemp -d /tmp/llmux-pg.XXXXXX)
  [ "$(id -u)" -eq 0 ] && chown postgres "$LLMUX_PG_DIR"
  export LLMUX_PG_PORT; LLMUX_PG_PORT=$(llmux_free_port)
  llmux_as_pg "$bin/initdb" -D "$LLMUX_PG_DIR/data" -U llmux --auth=trust -E UTF8 --no-locale >/dev/null \
    || { echo "services: initdb failed" >&2; return 1; }
  llmux_postgres_start || return 1
  export LLMUX_TEST_POSTGRES="Host=127.0.0.1;Port=$LLMUX_PG_PORT;Username=llmux;Database=postgres;Pooling=true;Maximum Pool Size=50"

  llmux_redis_start || return 1
  echo "services: PostgreSQL on 127.0.0.1:$LLMUX_PG_PORT, Redis on 127.0.0.1:$LLMUX_REDIS_PORT"
}

# Redis alone (the cache bench needs no PostgreSQL): its own directory and free port, REDIS_URL exported.
llmux_redis_start() {
  command -v redis-server >/dev/null 2>&1 || llmux_services_install || return 1
  export LLMUX_REDIS_DIR; LLMUX_REDIS_DIR=$(mktemp -d /tmp/llmux-redis.XXXXXX)
  export LLMUX_REDIS_PORT; LLMUX_REDIS_PORT=${LLMUX_REDIS_PORT_WANTED:-$(llmux_free_port)}
  redis-server --bind 127.0.0.1 --port "$LLMUX_REDIS_PORT" --dir "$LLMUX_REDIS_DIR" --save "" --appendonly no \
    --daemonize yes --pidfile "$LLMUX_REDIS_DIR/redis.pid" --logfile "$LLMUX_REDIS_DIR/log" \
    || { echo "services: redis-server did not start" >&2; return 1; }
  local i
  for i in $(seq 1 50); do redis-cli -h 127.0.0.1 -p "$LLMUX_REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export REDIS_URL="redis://127.0.0.1:$LLMUX_REDIS_PORT"
}

llmux_redis_stop() {
  if [ -n "${LLMUX_REDIS_DIR:-}" ] && [ -f "$LLMUX_REDIS_DIR/redis.pid" ]; then
    kill "$(cat "$LLMUX_REDIS_DIR/redis.pid")" 2>/dev/null
    sleep 0.2
  fi
  [ -n "${LLMUX_REDIS_DIR:-}" ] && rm -rf "$LLMUX_REDIS_DIR"
  unset LLMUX_REDIS_DIR LLMUX_REDIS_PORT REDIS_URL
  return 0
}

llmux_services_stop() {
  llmux_postgres_stop
  llmux_redis_stop
  [ -n "${LLMUX_PG_DIR:-}" ] && rm -rf "$LLMUX_PG_DIR"
  unset LLMUX_PG_DIR LLMUX_TEST_POSTGRES
  return 0
}

# Sourced: start at once, unless the caller only wants the functions.
if [ "${LLMUX_SERVICES_NO_START:-}" != "1" ]; then
  llmux_services_start
fi
