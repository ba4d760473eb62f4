# Helpers shared by scripts/bench and scripts/soak. Source it after scripts/lib.sh; do not run it.
# They expect: $binary (the session-context binary), $work (a scratch directory), $secret (the
# HS256 secret), $tenant, and a redis-server started with start_redis (REDIS_PORT).

# start_load_worker PORT [VAR=VALUE ...]: starts a worker on 127.0.0.1:PORT with these extra
# settings, logging to $work/worker-PORT.log; prints its pid once /health/ready answers.
start_load_worker() {
    local port="${1:?start_load_worker needs a port}"
    shift
    env REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" SESSION_CONTEXT_JWT_SECRET="$secret" \
        SESSION_CONTEXT_HOST=127.0.0.1 SESSION_CONTEXT_PORT="$port" SESSION_CONTEXT_LOG_LEVEL=warning \
        "$@" "$binary" serve >"$work/worker-$port.log" 2>&1 &
    local pid=$!
    if ! wait_for_http "http://127.0.0.1:$port/health/ready"; then
        cat "$work/worker-$port.log" >&2
        die "the worker on port $port did not start"
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
