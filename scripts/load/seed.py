#!/usr/bin/env python3
"""Creates session contexts through the API for scripts/bench and scripts/soak, and writes the
file scripts/load/api.lua reads: "<sessionId> <storefront token>" per line.

Every context is the reference context of the benchmark: the six standard fields (customerId
only with --customer) and four attributes, one of them a nested object; --delete-attributes N
adds the attributes d0 .. d(N-1) that the DELETE benchmark removes one by one.
Tokens are HS256 JWTs signed with the worker's secret (the same claims `session-context token` makes).
"""
import argparse
import base64
import hashlib
import hmac
import http.client
import json
import sys
import time


def b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def sign(claims: dict, secret: str) -> str:
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = b64(hmac.new(secret.encode(), header + b"." + payload, hashlib.sha256).digest())
    return (header + b"." + payload + b"." + signature).decode()


def reference_body(index: int, customer: str | None, delete_attributes: int) -> str:
    context = {
        "legalEntityId": "68cd05d71aeab17fc69f81b7",
        "geo": {"lat": "52.5", "lon": "13.4"},
        "channel": "web",
        "campaign": "spring",
    }
    for n in range(delete_attributes):
        context[f"d{n}"] = "x"
    body = {
        "siteCode": "main",
        "currency": "EUR",
        "cartId": f"61079711ce0eb9086{index:07d}",
        "targetLocation": "DE",
        "language": "de",
        "context": context,
        "metadata": {"version": 0},
    }
    if customer:
        body["customerId"] = customer
    return json.dumps(body, separators=(",", ":"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--tenant", default="bench")
    parser.add_argument("--prefix", required=True, help="session ids are PREFIX followed by 12 digits")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--customer", action="store_true", help="logged-in customer contexts (customerId set)")
    parser.add_argument("--delete-attributes", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    expires = int(time.time()) + 24 * 3600
    management = sign({"tenant": args.tenant, "exp": expires, "scope": "session_context.context_manage"}, args.secret)
    connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=10)
    with open(args.out, "w") as out:
        for index in range(args.count):
            sid = f"{args.prefix}{index:012d}"
            customer = f"C{index:011d}" if args.customer else None
            claims = {"tenant": args.tenant, "exp": expires, "sid": sid}
            headers = {"Authorization": f"Bearer {management}", "Content-Type": "application/json"}
            if customer:
                claims["customer_id"] = customer
                headers["saas-token"] = sign(claims, args.secret)
            body = reference_body(index, customer, args.delete_attributes)
            connection.request("PUT", f"/session-context/{args.tenant}/context/{sid}?upsert=true", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 204:
                print(f"seed: PUT {sid} answered {response.status}", file=sys.stderr)
                return 1
            out.write(f"{sid} {sign(claims, args.secret)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
