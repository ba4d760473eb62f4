#!/bin/sh
# Entry point of the nginx:1.28-alpine stand-in (Debian's nginx; Alpine cannot be fetched here).
#
# Docker's embedded DNS server: on a user-defined network every Docker container resolves
# names through 127.0.0.11, and nginx configurations written for Docker name it in their
# `resolver` directive (deploy/nginx.conf does). podman's DNS server (aardvark-dns) answers on
# the network's gateway address instead, the first nameserver in /etc/resolv.conf. So that
# such a configuration runs unchanged, a DNS forwarder (dnsmasq, no cache) listens on
# 127.0.0.11:53 and hands every query to that server. Only where podman's DNS server is in use
# (/etc/resolv.conf searches dns.podman, as on every network podman made with DNS on), and not
# with DOCKER_DNS_SHIM=0.
#
# Then, like the official image's /docker-entrypoint.sh: when the command is nginx, the
# executables in /docker-entrypoint.d/ run first; the command runs as PID 1.
set -eu
if [ "${DOCKER_DNS_SHIM:-1}" = 1 ] && grep -q '^search.*[[:space:]]dns\.podman' /etc/resolv.conf; then
    ns="$(awk '$1 == "nameserver" && $2 !~ /^127\./ && $2 !~ /:/ { print $2; exit }' /etc/resolv.conf)"
    if [ -n "$ns" ]; then
        dnsmasq --listen-address=127.0.0.11 --bind-interfaces --port=53 --no-resolv --no-hosts \
            --server="$ns" --cache-size=0 --user=nobody --group=nogroup \
            --pid-file=/run/dnsmasq-docker-dns.pid
        echo "$0: DNS 127.0.0.11 forwarded to $ns" >&2
    fi
fi
if [ "${1:-}" = nginx ] || [ "${1:-}" = nginx-debug ]; then
    for f in /docker-entrypoint.d/*; do
        [ -f "$f" ] && [ -x "$f" ] && "$f"
    done
    echo "$0: Configuration complete; ready for start up" >&2
fi
exec "$@"
