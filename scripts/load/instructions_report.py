#!/usr/bin/env python3
"""Turns scripts/bench-instructions' rows into bench/results/<name>.md and <name>.json: instructions
per request of each case (every pass, their median and spread) and against the bare Hummingbird
route, with issue 19's instruction target; prints the Markdown."""
import argparse
import datetime
import json
import statistics

BARE = "bare Hummingbird /health/live"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", required=True)
    parser.add_argument("--machine", required=True)
    parser.add_argument("--settings", required=True)
    parser.add_argument("--out", required=True, help="path without extension")
    args = parser.parse_args()

    rows = [json.loads(line) for line in open(args.rows) if line.strip()]
    cases: dict[str, dict] = {}
    for row in rows:
        case = cases.setdefault(row["name"], {"name": row["name"], "server": row["server"], "passes": [], "body_bytes": row["body_bytes"] / row["requests"]})
        case["passes"].append(row["per_request"])
    for case in cases.values():
        case["per_request"] = statistics.median(case["passes"])
        low, high = min(case["passes"]), max(case["passes"])
        case["spread_percent"] = (high - low) / case["per_request"] * 100
    bare = cases.get(BARE, {}).get("per_request")
    for case in cases.values():
        case["vs_bare"] = case["per_request"] / bare if bare else None
    get = cases.get("GET context", {}).get("per_request")
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    passes = max(len(case["passes"]) for case in cases.values())

    lines = [
        "# Instructions per request (callgrind)",
        "",
        f"- When: {when}",
        f"- Machine: {args.machine}",
        f"- Method: {args.settings}. Each server runs under `valgrind --tool=callgrind --instr-atstart=no`;"
        " instrumentation is switched on (`callgrind_control -i on`) only around the measured requests, so start-up and"
        " warm-up do not count; Ir (instructions executed in user space by every thread of the server, the kernel's"
        " share not included) over the requests. Made by `scripts/bench --instructions` (`scripts/bench-instructions`).",
        "- The worker runs with its defaults (log level info: one access line per request, to a file); the same Redis and"
        " seeded reference contexts for every case (6 standard fields + 4 attributes); the near cache with 4,096 entries.",
        "",
        "| case | server | instructions per request | " + " | ".join(f"pass {n}" for n in range(1, passes + 1)) + " | spread | vs bare route | body bytes |",
        "|---|---|---:|" + "---:|" * passes + "---:|---:|---:|",
    ]
    for case in cases.values():
        pass_cells = " | ".join(f"{value:,.0f}" for value in case["passes"]) + " | " * (passes - len(case["passes"]))
        ratio = "" if case["vs_bare"] is None else f"{case['vs_bare']:.2f}x"
        lines.append(f"| {case['name']} | {case['server']} | {case['per_request']:,.0f} | {pass_cells} | "
                     f"{case['spread_percent']:.2f} % | {ratio} | {case['body_bytes']:.0f} |")
    worst = max((case["spread_percent"] for case in cases.values() if case["server"] != "go"), default=0)
    lines += ["", f"Largest spread between passes of the Swift servers: {worst:.2f} %."]
    go_spread = [case["spread_percent"] for case in cases.values() if case["server"] == "go"]
    if go_spread:
        lines[-1] += (f" Of the Go peer: {max(go_spread):.2f} %: its garbage collector runs every few thousand requests, and whether"
                      " a cycle falls within the measured ones moves its figure; take it as a range, informative only.")
    if get and bare:
        value = get / bare
        lines += [
            "",
            "## Target of issue 19",
            "",
            "| target | measured | |",
            "|---|---:|---|",
            f"| instructions per management GET <= 1.5x the bare route's per request | {value:.2f}x ({get:,.0f} / {bare:,.0f}) | {'met' if value <= 1.5 else '**not met**'} |",
        ]
    extra = []
    for name, base in (("GET context", "/health/live"), ("GET, near cache", "/health/live"), ("GET /me (TTL refresh)", "GET context"),
                       ("POST attribute", "GET context"), ("/health/live", BARE), ("GET context", "GET context, log level warning"),
                       ("GET context", "Go GET context")):
        if name in cases and base in cases:
            difference = cases[name]["per_request"] - cases[base]["per_request"]
            extra.append(f"- {name} minus {base}: {difference:+,.0f} instructions per request ({cases[name]['per_request'] / cases[base]['per_request']:.2f}x)")
    if extra:
        lines += ["", "Differences:", ""] + extra
    text = "\n".join(lines) + "\n"
    with open(args.out + ".md", "w") as out:
        out.write(text)
    with open(args.out + ".json", "w") as out:
        json.dump({"when": when, "machine": args.machine, "settings": args.settings,
                   "cases": list(cases.values())}, out, indent=1)
        out.write("\n")
    print(text)


if __name__ == "__main__":
    main()
