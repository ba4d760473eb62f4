#!/bin/sh
# Entry point of the redis:7.2-bookworm stand-in, with the official image's contract:
#   - `redis-server ARGS`, a first argument that is an option (`--appendonly yes`) or a
#     *.conf file: runs Redis as the redis user in /data (the volume), files chowned to it;
#   - anything else runs as given (`redis-cli`, `sh`, ...).
# The official image builds Redis with protected mode off, so that other containers can reach
# a server that has no password; Debian's redis-server has it on, so it is switched off here,
# before the caller's arguments (which can switch it on again).
set -e
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
    set -- redis-server "$@"
fi
um="$(umask)"
if [ "$um" = 0022 ]; then
    umask 0077
fi
if [ "$1" = redis-server ]; then
    shift
    if [ $# -gt 0 ] && { [ "$1" = -v ] || [ "$1" = --version ] || [ "$1" = -h ] \
            || [ "$1" = --help ] || [ "$1" = --test-memory ] || [ "$1" = --check-system ]; }; then
        set -- redis-server "$@"
    elif [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
        conf="$1"; shift
        set -- redis-server "$conf" --protected-mode no "$@"
    else
        set -- redis-server --protected-mode no "$@"
    fi
    if [ "$(id -u)" = 0 ]; then
        find . \! -user redis -exec chown redis '{}' +
        exec setpriv --reuid=redis --regid=redis --init-groups "$@"
    fi
fi
exec "$@"
