#!/usr/bin/env python3
"""The Redis key layout of session-context, for the scripts (the one Python copy of it).

The service's own definition is Sources/SessionStore/Layout/SessionLayout.swift; this follows it:
a tenant's sessions are spread over BUCKETS buckets (16 unless the deployment sets
--event-buckets / SESSION_CONTEXT_EVENT_BUCKETS), the bucket of a session being FNV-1a (32-bit)
of the UTF-8 bytes of its id modulo the count. Everything one write touches shares the hash tag
{<tenant>:<bucket>}:

    sc:{<tenant>:<bucket>}:<sessionId>           the context's hash
    sc:expired:{<tenant>:<bucket>}:<sessionId>   the claim on its `expired` event
    sc:events:{<tenant>:<bucket>}                the bucket's event stream
    session-context:{<tenant>:<bucket>}:events   the bucket's sharded channel (SPUBLISH)
    session-context:<tenant>:events              the tenant's classic channel (PUBLISH)
    sc:layout                                    "buckets=<count>"

Import it (scripts/ on sys.path), or run it for the shell scripts:

    python3 scripts/session_layout.py bucket SESSION_ID... [--buckets N]
    python3 scripts/session_layout.py key TENANT SESSION_ID... [--buckets N]
    python3 scripts/session_layout.py streams TENANT [--buckets N]
    python3 scripts/session_layout.py pattern TENANT     (SCAN MATCH pattern of its contexts)

each prints one answer a line; without SESSION_ID, bucket and key read the ids from standard
input, one a line (the first word of each line). --buckets defaults to
SESSION_CONTEXT_EVENT_BUCKETS, else 16.
"""

import argparse
import os
import re
import sys

DEFAULT_BUCKETS = 16
MAXIMUM_BUCKETS = 1024
MARKER_KEY = "sc:layout"

_FNV_OFFSET_BASIS = 0x811C9DC5
_FNV_PRIME = 0x01000193


def buckets_from_environment():
    """The bucket count the workers get from SESSION_CONTEXT_EVENT_BUCKETS, else the default."""
    text = os.environ.get("SESSION_CONTEXT_EVENT_BUCKETS", "")
    return int(text) if text else DEFAULT_BUCKETS


def fnv1a32(data: bytes) -> int:
    value = _FNV_OFFSET_BASIS
    for byte in data:
        value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return value


def bucket(session_id: str, buckets: int = DEFAULT_BUCKETS) -> int:
    """The bucket of `session_id` in a layout of `buckets` buckets."""
    if not 1 <= buckets <= MAXIMUM_BUCKETS:
        raise ValueError(f"a layout has 1 to {MAXIMUM_BUCKETS} buckets, not {buckets}")
    return fnv1a32(session_id.encode("utf-8")) % buckets


def session_key(tenant: str, session_id: str, buckets: int = DEFAULT_BUCKETS) -> str:
    return f"sc:{{{tenant}:{bucket(session_id, buckets)}}}:{session_id}"


def expiry_claim_key(tenant: str, session_id: str, buckets: int = DEFAULT_BUCKETS) -> str:
    return f"sc:expired:{{{tenant}:{bucket(session_id, buckets)}}}:{session_id}"


def stream_key(tenant: str, bucket_number: int) -> str:
    return f"sc:events:{{{tenant}:{bucket_number}}}"


def stream_keys(tenant: str, buckets: int = DEFAULT_BUCKETS) -> list:
    """The event streams of every bucket of `tenant`, by bucket."""
    return [stream_key(tenant, number) for number in range(buckets)]


def session_stream_key(tenant: str, session_id: str, buckets: int = DEFAULT_BUCKETS) -> str:
    return stream_key(tenant, bucket(session_id, buckets))


def classic_channel(tenant: str) -> str:
    return f"session-context:{tenant}:events"


def shard_channel(tenant: str, bucket_number: int) -> str:
    return f"session-context:{{{tenant}:{bucket_number}}}:events"


def session_key_pattern(tenant: str) -> str:
    """A SCAN MATCH pattern of the tenant's context keys (and nothing of its other keys)."""
    return f"sc:{{{tenant}:*}}:*"


_SESSION_KEY = re.compile(r"^sc:\{([a-z][a-z0-9]*):([0-9]+)\}:(.+)$")


def parse_session_key(key: str):
    """(tenant, bucket, session id) of a context key, or None if `key` is not shaped like one."""
    match = _SESSION_KEY.match(key)
    return (match.group(1), int(match.group(2)), match.group(3)) if match else None


def main() -> int:
    parser = argparse.ArgumentParser(description="Prints session-context's Redis names (see the module's docstring).")
    parser.add_argument("what", choices=["bucket", "key", "streams", "pattern"])
    parser.add_argument("names", nargs="*", help="bucket: SESSION_ID...; key: TENANT SESSION_ID...; streams, pattern: TENANT")
    parser.add_argument("--buckets", type=int, default=None,
                        help=f"buckets per tenant (default SESSION_CONTEXT_EVENT_BUCKETS, else {DEFAULT_BUCKETS})")
    args = parser.parse_args()
    buckets = args.buckets if args.buckets is not None else buckets_from_environment()
    if args.what in ("streams", "pattern"):
        if len(args.names) != 1:
            parser.error(f"{args.what} takes one TENANT")
        print("\n".join(stream_keys(args.names[0], buckets)) if args.what == "streams" else session_key_pattern(args.names[0]))
        return 0
    if args.what == "key":
        if not args.names:
            parser.error("key takes a TENANT")
        tenant, ids = args.names[0], args.names[1:]
    else:
        tenant, ids = None, args.names
    if not ids:
        ids = [line.split()[0] for line in sys.stdin if line.strip()]
    for session_id in ids:
        print(session_key(tenant, session_id, buckets) if tenant else bucket(session_id, buckets))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
