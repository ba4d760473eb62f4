# Helpers shared by scripts/bench and scripts/soak. Source it after scripts/lib.sh; do not run it.
# They expect: $binary (the session-context binary), $work (a scratch directory), $secret (the
# HS256 secret), $tenant, and a redis-server started with start_redis (REDIS_PORT).

# start_load_worker PORT [VAR=VALUE ...]: starts a worker on 127.0.0.1:PORT with these extra
# settings, logging to $work/worker-PORT.log; prints its pid once /health/ready answers.
start_load_worker() {
    local port="${1:?start_load_worker needs a port}"
    shift
    start_server "the worker on port $port" "$work/worker-$port.log" "http://127.0.0.1:$port/health/ready" \
        env REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" SESSION_CONTEXT_JWT_SECRET="$secret" \
        SESSION_CONTEXT_HOST=127.0.0.1 SESSION_CONTEXT_PORT="$port" SESSION_CONTEXT_LOG_LEVEL=warning \
        "$@" "$binary" serve
}

# start_server NAME LOG URL COMMAND...: runs COMMAND in the background, logging to LOG; prints its
# pid once URL answers, else shows the log and stops ("NAME did not start").
start_server() {
    local name="$1" log="$2" url="$3"
    shift 3
    "$@" >"$log" 2>&1 &
    local pid=$!
    if ! wait_for_http "$url"; then
        cat "$log" >&2
        die "$name did not start"
    fi
    printf '%s\n' "$pid"
}

# seed_sessions PORT PREFIX COUNT [seed.py options]: creates COUNT reference contexts through the
# worker on PORT; prints the path of the sessions file scripts/load/api.lua reads.
seed_sessions() {
    local port="$1" prefix="$2" count="$3"
    shift 3
    python3 scripts/load/seed.py --port "$port" --secret "$secret" --tenant "$tenant" \
        --prefix "$prefix" --count "$count" --out "$work/$prefix.sessions" "$@" >&2 \
        || die "seeding $prefix sessions failed"
    printf '%s\n' "$work/$prefix.sessions"
}

# sample_rss PID FILE: appends the process's resident set size (KiB) to FILE every second until it exits.
sample_rss() {
    while kill -0 "$1" 2>/dev/null; do
        awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null >>"$2" || true
        sleep 1
    done
}

# management_token: a management token of $tenant, valid for a day.
management_token() {
    "$binary" token --tenant "$tenant" --jwt-secret "$secret" --ttl 86400
}

# swift_build ARGS...: `swift build ARGS...`, under `flock $SWIFT_BUILD_LOCK` when that is set (a
# machine that allows one Swift build at a time; the lock is held for the build only, not the run).
swift_build() {
    if [ -n "${SWIFT_BUILD_LOCK:-}" ]; then
        command -v flock >/dev/null 2>&1 || die "SWIFT_BUILD_LOCK is set but flock is not installed"
        flock "$SWIFT_BUILD_LOCK" swift build "$@"
    else
        swift build "$@"
    fi
}

# build_bare_hummingbird: builds bench/bare-hummingbird (release; the same Hummingbird as the
# worker: the worker's Package.resolved is its starting point when it has none); prints the binary.
build_bare_hummingbird() {
    local package=bench/bare-hummingbird
    [ -f "$package/Package.resolved" ] || cp Package.resolved "$package/Package.resolved"
    swift_build -c release --package-path "$package" --product bare-hummingbird >&2 \
        || die "building $package failed"
    local binary="$package/.build/release/bare-hummingbird"
    [ -x "$binary" ] || die "$binary was not built"
    local ours theirs
    ours="$(python3 -c 'import json,sys; print(next(p["state"].get("version") for p in json.load(open(sys.argv[1]))["pins"] if p["identity"] == "hummingbird"))' Package.resolved)"
    theirs="$(python3 -c 'import json,sys; print(next(p["state"].get("version") for p in json.load(open(sys.argv[1]))["pins"] if p["identity"] == "hummingbird"))' "$package/Package.resolved")"
    [ "$ours" = "$theirs" ] || log "warning: the bare server has Hummingbird $theirs, the worker $ours"
    printf '%s\n' "$binary"
}

# build_go_peer: installs Debian's Go and the peer's two libraries when missing, builds
# bench/go-peer in GOPATH mode (no module proxy); prints the binary.
build_go_peer() {
    local gopath=/usr/share/gocode
    if ! command -v go >/dev/null 2>&1 || [ ! -d "$gopath/src/github.com/gomodule/redigo" ] \
        || [ ! -d "$gopath/src/github.com/golang-jwt/jwt" ]; then
        log "installing Go and the Go peer's libraries (Debian packages)"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            golang-go golang-github-gomodule-redigo-dev golang-github-golang-jwt-jwt-dev >&2
    fi
    mkdir -p bench/go-peer/.build
    GO111MODULE=off GOPATH="$gopath" GOFLAGS= go build -o bench/go-peer/.build/go-peer ./bench/go-peer >&2 \
        || die "building bench/go-peer failed"
    printf '%s\n' bench/go-peer/.build/go-peer
}

# start_bare_server BINARY PORT: starts the bare Hummingbird server; prints its pid once it answers.
start_bare_server() {
    local binary="$1" port="$2"
    start_server "the bare Hummingbird server on port $port" "$work/bare-$port.log" \
        "http://127.0.0.1:$port/health/live" "$binary" "$port"
}

# start_go_peer BINARY PORT: starts the Go peer on the benchmark's Redis and secret; prints its pid.
start_go_peer() {
    local binary="$1" port="$2"
    start_server "the Go peer on port $port" "$work/go-peer-$port.log" "http://127.0.0.1:$port/health/live" \
        "$binary" -port "$port" -redis "127.0.0.1:$REDIS_PORT" -secret "$secret"
}

# process_cpu PID: the CPU time (user + system, seconds, all threads) the process has used so far.
process_cpu() {
    awk -v ticks="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / ticks }' "/proc/$1/stat"
}
