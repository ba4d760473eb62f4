# Shared helpers for scripts/run and scripts/test. Source it; do not run it.
#
# Written for `set -euo pipefail`: every variable has a default, every command that may
# fail on purpose is tested explicitly.

# The pid of the redis-server started by start_redis (empty when none is running).
REDIS_PID="${REDIS_PID:-}"
# The port of that redis-server.
REDIS_PORT="${REDIS_PORT:-}"

# Prints a message on stderr.
log() {
    printf '%s\n' "$*" >&2
}

# Prints a message on stderr and exits with status 1.
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Runs a command as root: directly when we are root, through sudo when it exists.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "'$*' needs root and sudo is not installed"
    fi
}

# Installs what building and testing need (hiredis headers, Redis, pkg-config, curl) when
# something is missing, and checks that the Swift toolchain is on PATH.
ensure_packages() {
    local missing=""
    command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
    command -v redis-cli >/dev/null 2>&1 || missing="$missing redis-cli"
    command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
    command -v curl >/dev/null 2>&1 || missing="$missing curl"
    [ -f /usr/include/hiredis/hiredis.h ] || missing="$missing hiredis.h"
    if [ -n "$missing" ]; then
        log "installing packages (missing:$missing)"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq libhiredis-dev redis-server redis-tools pkg-config curl
    fi

    if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
        PATH="/opt/swift/usr/bin:$PATH"
        export PATH
    fi
    command -v swift >/dev/null 2>&1 \
        || die "swift is not on PATH (and not in /opt/swift/usr/bin): install a Swift 6 toolchain from https://swift.org/install"
    command -v python3 >/dev/null 2>&1 || die "python3 is needed to find a free port"
}

# Prints a free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# port_is_free PORT: whether a server could listen on 127.0.0.1:PORT now (SO_REUSEADDR, as
# servers bind, so connections in TIME_WAIT do not count).
port_is_free() {
    python3 -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()' "${1:?port_is_free needs a port}"
}

# start_redis PORT DIR: starts a private, non-persistent redis-server on 127.0.0.1:PORT with
# DIR as its working directory (its log goes to DIR/redis.log), records its pid in REDIS_PID
# and waits until it answers PING (at most 30 s: on a machine busy with other tests it can take
# seconds).
start_redis() {
    local port="${1:?start_redis needs a port}"
    local dir="${2:?start_redis needs a directory}"
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$dir" --daemonize no >"$dir/redis.log" 2>&1 &
    REDIS_PID=$!
    REDIS_PORT="$port"
    local deadline=$((SECONDS + 30))
    while [ "$SECONDS" -le "$deadline" ]; do
        if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)" = "PONG" ]; then
            return 0
        fi
        if ! kill -0 "$REDIS_PID" 2>/dev/null; then
            REDIS_PID=""
            log "redis-server exited; its log ($dir/redis.log):"
            cat "$dir/redis.log" >&2 || true
            die "could not start redis-server on 127.0.0.1:$port"
        fi
        sleep 0.1
    done
    stop_redis
    die "redis-server on 127.0.0.1:$port did not answer PING within 30 s (log: $dir/redis.log)"
}

# Stops the redis-server started by start_redis: TERM, up to 5 s, then KILL.
stop_redis() {
    local pid="${REDIS_PID:-}"
    [ -n "$pid" ] || return 0
    REDIS_PID=""
    stop_pid "$pid"
}

# stop_pid PID: TERM, wait up to 5 s for the process to end, then KILL.
stop_pid() {
    local pid="${1:-}"
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    local attempt
    for attempt in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# Installs what the load scripts (scripts/bench, scripts/soak) need: wrk and redis-benchmark.
ensure_load_tools() {
    local missing=""
    command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
    command -v redis-benchmark >/dev/null 2>&1 || missing="$missing redis-tools"
    if [ -n "$missing" ]; then
        log "installing packages (missing:$missing)"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk redis-tools
    fi
}

# Installs matplotlib (from PyPI) for the benchmark's chart when python3 cannot import it.
ensure_matplotlib() {
    python3 -c 'import matplotlib' 2>/dev/null && return 0
    log "installing matplotlib from PyPI"
    python3 -m pip install -q matplotlib || die "could not install matplotlib (python3 -m pip install matplotlib)"
}

# wait_for_http URL: waits up to 20 s for URL to answer 200.
wait_for_http() {
    local url="${1:?wait_for_http needs a URL}" attempt
    for attempt in $(seq 1 200); do
        if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}
