#!/usr/bin/env python3
"""Checks that the servers scripts/bench compares answer the same bytes (issue 19): the management
GET of the worker (and of any other worker given) against the Go peer's, on seeded contexts and on
a few made here with awkward values (escapes, non-ASCII, nested and array attributes, no standard
fields, a session id with ':' and '.'), plus a missing session (404, same body), and /health/live
of every server. Exits 1 with the differences when any answer differs.

  compare.py --worker PORT [--worker PORT] --go PORT --bare PORT --secret S --tenant T --sessions FILE
"""
import argparse
import http.client
import json
import sys
import time

from seed import sign  # the same HS256 tokens the seeding uses


def fetch(port: int, path: str, token: str | None = None) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, response.getheader("Content-Type") or "", body


# Contexts with awkward values, created through the worker (PUT with upsert).
AWKWARD = {
    "cmp:odd.one-1": {
        "siteCode": "main \"quoted\" \\ back",
        "currency": "EUR",
        "cartId": "cart/\\/\"ü\"",
        "targetLocation": "DE",
        "language": "de-CH",
        "context": {
            "name with \"quotes\"": {"nested": [1, 2.5, True, None, "x\"y"], "e": "é€😀"},
            "überschrift": "grüße \u2028 line sep, tab\there\nnewline\u0001ctl",
            "empty": {},
            "list": {"items": [], "n": -1.5e3},
            "num": "12",
        },
        "metadata": {"version": 0},
    },
    "cmp_bare_2": {"context": {}, "metadata": {"version": 0}},
    "cmp-customer-3": {
        "customerId": "kunde-ü-1",
        "siteCode": "s",
        "context": {"a": "1", "b": {"c": {"d": "<>&"}}},
        "metadata": {"version": 0},
    },
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", type=int, action="append", required=True, help="a worker's port (the first creates the awkward contexts)")
    parser.add_argument("--go", type=int, required=True)
    parser.add_argument("--bare", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--sessions", required=True, help="a sessions file of scripts/load/seed.py")
    parser.add_argument("--count", type=int, default=50, help="seeded sessions to compare")
    args = parser.parse_args()

    expires = int(time.time()) + 3600
    token = sign({"tenant": args.tenant, "exp": expires, "scope": "session_context.context_manage"}, args.secret)
    for sid, body in AWKWARD.items():
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if "customerId" in body:
            headers["saas-token"] = sign({"tenant": args.tenant, "exp": expires, "sid": sid, "customer_id": body["customerId"]}, args.secret)
        connection = http.client.HTTPConnection("127.0.0.1", args.worker[0], timeout=10)
        connection.request("PUT", f"/session-context/{args.tenant}/context/{sid}?upsert=true",
                           body=json.dumps(body, ensure_ascii=False).encode(), headers=headers)
        response = connection.getresponse()
        answer = response.read()
        connection.close()
        if response.status != 204:
            print(f"compare: creating {sid} answered {response.status}: {answer.decode(errors='replace')}", file=sys.stderr)
            return 1

    seeded = [line.split()[0] for line in open(args.sessions) if line.strip()][: args.count]
    sessions = seeded + list(AWKWARD) + ["cmp-missing-0"]
    differences = []
    compared = 0
    for sid in sessions:
        path = f"/session-context/{args.tenant}/context/{sid}"
        reference = fetch(args.go, path, token)
        for port in args.worker:
            answer = fetch(port, path, token)
            compared += 1
            if answer != reference:
                differences.append(f"GET {path}\n  worker :{port}: {answer}\n  go peer :{args.go}: {reference}")
    live = {port: fetch(port, "/health/live") for port in args.worker + [args.go, args.bare]}
    if len(set(live.values())) != 1:
        differences.append("GET /health/live: " + ", ".join(f":{port} {answer}" for port, answer in live.items()))
    if reference[0] != 404:
        differences.append(f"the missing session answered {reference[0]}, not 404")
    if differences:
        print("compare: the servers' answers differ:\n" + "\n".join(differences), file=sys.stderr)
        return 1
    print(f"compare: {compared} GET answers byte-equal to the Go peer's ({len(seeded)} seeded contexts, "
          f"{len(AWKWARD)} awkward ones, one missing), /health/live equal on {len(live)} servers", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
