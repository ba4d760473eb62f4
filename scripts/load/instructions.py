#!/usr/bin/env python3
"""The request loop of scripts/bench-instructions: an exact number of requests, one at a time on one
keep-alive connection, to a server running under `valgrind --tool=callgrind --instr-atstart=no`.
It sends the warm-up, switches callgrind's instrumentation on (`callgrind_control -i on PID`),
sends the measured requests, switches it off, and prints one JSON line with what it sent.

Requests are formatted as wrk formats them for scripts/load/api.lua (request line, Host,
the headers, body), over the sessions of a scripts/load/seed.py file round-robin, so each measured
request of a set of N sessions goes to a session of its own.

  instructions.py --port P --op live|get|me|post --pid PID --count N --warmup W
                  [--tenant T --token MANAGEMENT_TOKEN --sessions FILE]
"""
import argparse
import json
import socket
import subprocess
import sys
import time


def read_response(sock: socket.socket, pending: bytearray) -> tuple[int, bytes]:
    """One response (status, body); needs Content-Length, as every answer measured here has."""
    while b"\r\n\r\n" not in pending:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("the server closed the connection")
        pending += chunk
    head_end = pending.index(b"\r\n\r\n")
    head = bytes(pending[:head_end]).decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    length = None
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        if name.strip().lower() == "transfer-encoding":
            raise RuntimeError("a chunked answer: " + head[0])
    if length is None:
        length = 0 if status in (204, 304) else None
    if length is None:
        raise RuntimeError("an answer without Content-Length: " + head[0])
    while len(pending) < head_end + 4 + length:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("the server closed the connection mid-body")
        pending += chunk
    body = bytes(pending[head_end + 4 : head_end + 4 + length])
    del pending[: head_end + 4 + length]
    return status, body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--op", choices=["live", "get", "me", "post"], required=True)
    parser.add_argument("--pid", type=int, help="the valgrind process to switch instrumentation on and off in (none: no switching)")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--warmup", type=int, required=True)
    parser.add_argument("--tenant", default="bench")
    parser.add_argument("--token", default="", help="a management token of the tenant")
    parser.add_argument("--sessions", help="sessions file of scripts/load/seed.py")
    args = parser.parse_args()

    host = f"127.0.0.1:{args.port}"
    sessions = []
    if args.op != "live":
        sessions = [line.split() for line in open(args.sessions) if line.strip()]
        if not sessions:
            raise SystemExit("no sessions in " + args.sessions)
    counter = 0

    def request(index: int) -> bytes:
        nonlocal counter
        if args.op == "live":
            return f"GET /health/live HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        sid, storefront = sessions[index % len(sessions)]
        if args.op == "get":
            return (f"GET /session-context/{args.tenant}/context/{sid} HTTP/1.1\r\nHost: {host}\r\n"
                    f"Authorization: Bearer {args.token}\r\n\r\n").encode()
        if args.op == "me":
            return (f"GET /session-context/{args.tenant}/me/context HTTP/1.1\r\nHost: {host}\r\n"
                    f"Authorization: Bearer {storefront}\r\n\r\n").encode()
        counter += 1
        body = f'{{"key":"campaign","value":"c0-{counter}"}}'
        return (f"POST /session-context/{args.tenant}/context/{sid}/attributes HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: Bearer {args.token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n{body}").encode()

    expected = {"live": (200,), "get": (200,), "me": (200,), "post": (200, 201, 204)}[args.op]
    sock = socket.create_connection(("127.0.0.1", args.port), timeout=600)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pending = bytearray()

    def send(first: int, count: int) -> int:
        body_bytes = 0
        for index in range(first, first + count):
            sock.sendall(request(index))
            status, body = read_response(sock, pending)
            if status not in expected:
                raise SystemExit(f"{args.op} request {index} answered {status}: {body[:200]!r}")
            body_bytes += len(body)
        return body_bytes

    def toggle(state: str) -> None:
        if args.pid:
            subprocess.run(["callgrind_control", "-i", state, str(args.pid)], check=True, stdout=subprocess.DEVNULL)

    send(0, args.warmup)
    # The measured requests start where the warm-up started: with a warm-up of one pass over the
    # sessions, every measured request finds its session's token verified and, with the near
    # cache on, its context cached, as in the wrk rows' steady state.
    toggle("on")
    started = time.monotonic()
    body_bytes = send(0, args.count)
    elapsed = time.monotonic() - started
    toggle("off")
    sock.close()
    print(json.dumps({"op": args.op, "requests": args.count, "warmup": args.warmup,
                      "seconds": round(elapsed, 3), "body_bytes": body_bytes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
