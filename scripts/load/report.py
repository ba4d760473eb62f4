#!/usr/bin/env python3
"""Turns the rows scripts/bench collected into bench/results/<name>.md (the table, the ratios
against the targets, memory) and <name>.png (a chart), and prints the Markdown."""
import argparse
import datetime
import json
import os
import statistics


def by_name(rows: list[dict]) -> dict[str, dict]:
    return {row["name"]: row for row in rows}


def merge_rounds(rows: list[dict]) -> list[dict]:
    """One row per name, in first-seen order. A row measured in rounds gets the medians of its
    rounds' requests/s, p50 and p99, the sum of their errors, the largest RSS, and keeps
    `rounds`: each round's requests/s by round number."""
    merged: dict[str, dict] = {}
    for row in rows:
        if "round" not in row:
            merged[row["name"]] = row
            continue
        entry = merged.setdefault(row["name"], {"name": row["name"], "tool": row["tool"], "server": row.get("server"), "parts": []})
        entry["parts"].append(row)
    for entry in merged.values():
        parts = entry.pop("parts", None)
        if not parts:
            continue
        entry["rps"] = statistics.median(part["rps"] for part in parts)
        entry["p50_ms"] = statistics.median(part["p50_ms"] for part in parts)
        entry["p99_ms"] = statistics.median(part["p99_ms"] for part in parts)
        for key in ("errors_status", "errors_connect", "errors_read", "errors_write", "errors_timeout"):
            entry[key] = sum(part.get(key, 0) for part in parts)
        sizes = [part["rss_max_kib"] for part in parts if part.get("rss_max_kib")]
        entry["rss_max_kib"] = max(sizes) if sizes else None
        entry["rounds"] = {part["round"]: part["rps"] for part in parts}
        entry["requests"] = sum(part.get("requests", 0) for part in parts)
        if all("redis_cpu_s" in part for part in parts):
            entry["redis_cpu_s"] = sum(part["redis_cpu_s"] for part in parts)
        if all("server_cpu_s" in part for part in parts):
            entry["server_cpu_s"] = sum(part["server_cpu_s"] for part in parts)
            # Each round's server CPU per request (µs), for the ranges.
            entry["server_cpu_rounds"] = {part["round"]: part["server_cpu_s"] * 1e6 / part["requests"] for part in parts if part.get("requests")}
    return list(merged.values())


def server_cpu_per_request(row: dict) -> float | None:
    """The CPU time (µs) the server the row ran against took per request, when it was measured."""
    if row.get("server_cpu_s") is None or not row.get("requests"):
        return None
    return row["server_cpu_s"] * 1e6 / row["requests"]


def redis_cpu_per_request(row: dict) -> float | None:
    """The Redis CPU time (µs) the row took per request, when it was measured."""
    if row.get("redis_cpu_s") is None or not row.get("requests"):
        return None
    return row["redis_cpu_s"] * 1e6 / row["requests"]


def round_ratios(rows: dict, numerator: str, denominator: str) -> list[float]:
    """numerator / denominator in requests/s for each round both were measured in."""
    if numerator not in rows or denominator not in rows:
        return []
    top, bottom = rows[numerator].get("rounds") or {}, rows[denominator].get("rounds") or {}
    return [top[number] / bottom[number] for number in top if number in bottom and bottom[number]]


def ratio(rows: dict, numerator: str, denominator: str) -> float | None:
    """numerator / denominator in requests/s: the median of the per-round ratios when both were
    measured in the same rounds, else the ratio of the two rows."""
    if numerator not in rows or denominator not in rows or not rows[denominator]["rps"]:
        return None
    per_round = round_ratios(rows, numerator, denominator)
    if per_round:
        return statistics.median(per_round)
    return rows[numerator]["rps"] / rows[denominator]["rps"]


def round_range(rows: dict, numerator: str, denominator: str) -> str:
    """The lowest and highest per-round ratio, when there are rounds."""
    values = round_ratios(rows, numerator, denominator)
    return f" (rounds {min(values):.2f}–{max(values):.2f})" if len(values) > 1 else ""


def verdict(value: float | None, target: float, at_most: bool = False) -> str:
    if value is None:
        return "not measured"
    met = value <= target if at_most else value >= target
    return "met" if met else "**not met**"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", required=True)
    parser.add_argument("--machine", required=True)
    parser.add_argument("--settings", required=True)
    parser.add_argument("--instructions", help="bench/results/instructions.json of scripts/bench-instructions, for its target")
    parser.add_argument("--out", required=True, help="path without extension")
    args = parser.parse_args()

    all_rows = [json.loads(line) for line in open(args.rows) if line.strip()]
    memory = next((row for row in all_rows if row["name"] == "memory"), None)
    rows = merge_rounds([row for row in all_rows if row["name"] != "memory"])
    named = by_name(rows)
    # The worker's own service rows (not the bare server's nor the Go peer's).
    service = [row for row in rows if row.get("tool") == "wrk" and row["name"] != "/health/live"
               and row.get("server", "ours") in ("ours", "ours-cached")]

    lines = [
        "# Benchmark: session-context against Redis",
        "",
        f"- When: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {args.machine}",
        f"- Load: {args.settings}; every service row uses valid tokens and distinct sessions round-robin.",
        "- Made by `scripts/bench`; the load generator (wrk or redis-benchmark) runs on the same cores as the worker and Redis.",
        "- Rows measured in rounds show the medians of their rounds; each target ratio is the median of its per-round ratios (range in brackets).",
        "",
        "- Redis CPU per request: the redis-server's CPU time (INFO cpu, user + system) across the row's runs, over its requests;"
        " it includes the pub/sub deliveries to the subscribed workers, and what the machine's sharing costs Redis.",
        "- Server CPU per request: the CPU time (user + system, all threads, `/proc/<pid>/stat`) of the server the row ran against"
        " (the worker, the bare Hummingbird server or the Go peer) across the row's runs, over its requests.",
        "- Servers: ours (the worker), ours-cached (the worker with the near cache on), bare (`bench/bare-hummingbird`: Hummingbird"
        " with one route and nothing else), go (`bench/go-peer`: net/http + redigo + golang-jwt, verifying every token, the same JSON bytes"
        " as the worker, checked before the rows ran).",
        "",
        "| what | tool | server | requests/s | p50 ms | p99 ms | p99/p50 | errors | server RSS max MiB | Redis CPU µs/request | server CPU µs/request |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        errors = sum(row.get(key, 0) for key in ("errors_status", "errors_connect", "errors_read", "errors_write", "errors_timeout"))
        rss = f"{row['rss_max_kib'] / 1024:.1f}" if row.get("rss_max_kib") else ""
        spread = f"{row['p99_ms'] / row['p50_ms']:.1f}" if row.get("p50_ms") else ""
        cpu = redis_cpu_per_request(row)
        cpu_text = "" if cpu is None else f"{cpu:.1f}"
        server_cpu = server_cpu_per_request(row)
        server_text = "" if server_cpu is None else f"{server_cpu:.1f}"
        lines.append(f"| {row['name']} | {row['tool']} | {row.get('server') or ''} | {row['rps']:,.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {spread} | {errors} | {rss} | {cpu_text} | {server_text} |")

    get_vs_live = ratio(named, "GET context", "/health/live")
    me_vs_get = ratio(named, "GET /me (TTL refresh)", "GET context")
    post_vs_get = ratio(named, "POST attribute", "GET context")
    cache_vs_live = ratio(named, "GET, near cache", "/health/live")
    worst_spread = max((row["p99_ms"] / row["p50_ms"] for row in service if row.get("p50_ms")), default=None)
    rss_max = max((row.get("rss_max_kib") or 0 for row in rows if row.get("server", "ours") in ("ours", "ours-cached")), default=0) / 1024
    rss_max_ours = rss_max
    long_run = named.get("mixed, 10x long")
    drift = None
    if long_run and len(long_run.get("rss_samples_kib", [])) >= 10:
        samples = long_run["rss_samples_kib"]
        settled = samples[len(samples) // 10]
        drift = (samples[-1] - settled) / 1024
    fmt = lambda value, suffix="x": "-" if value is None else f"{value:.2f}{suffix}"
    spread_of = lambda numerator, denominator: round_range(named, numerator, denominator)
    lines += [
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "|---|---:|---|",
        f"| management GET >= 0.7x /health/live | {fmt(get_vs_live)}{spread_of('GET context', '/health/live')} | {verdict(get_vs_live, 0.7)} |",
        f"| /me GET >= 0.9x management GET | {fmt(me_vs_get)}{spread_of('GET /me (TTL refresh)', 'GET context')} | {verdict(me_vs_get, 0.9)} |",
        f"| POST attribute >= 0.7x management GET | {fmt(post_vs_get)}{spread_of('POST attribute', 'GET context')} | {verdict(post_vs_get, 0.7)} |",
        f"| near cache: management GET >= 0.9x /health/live | {fmt(cache_vs_live)}{spread_of('GET, near cache', '/health/live')} | {verdict(cache_vs_live, 0.9)} |",
        f"| p99 <= 3x p50 at this concurrency (worst service row) | {fmt(worst_spread)} | {verdict(worst_spread, 3.0, at_most=True)} |",
        f"| worker RSS <= 64 MiB | {rss_max:.1f} MiB | {verdict(rss_max, 64, at_most=True)} |",
        f"| RSS flat across the 10x run (last sample minus the one at 10 %) | {fmt(drift, ' MiB')} | {verdict(None if drift is None else abs(drift), 4, at_most=True)} |",
    ]
    if memory:
        lines.append(f"| Redis memory per reference context <= 400 B, compact encoding | {memory['reference_bytes']} B, {memory['reference_encoding']} | "
                     f"{verdict(memory['reference_bytes'], 400, at_most=True) if memory['reference_encoding'] == 'listpack' else '**not met**'} |")
    # Issue 19: the ratios against the bare Hummingbird route and the Go peer, in the same rounds.
    bare = "bare Hummingbird /health/live"
    issue = [
        ("our /health/live >= 0.9x the bare Hummingbird route", "/health/live", bare, 0.9),
        ("management GET >= 0.75x the bare route", "GET context", bare, 0.75),
        ("near-cache GET >= 0.9x the bare route", "GET, near cache", bare, 0.9),
        ("/me >= 0.85x management GET", "GET /me (TTL refresh)", "GET context", 0.85),
        ("POST attribute >= 0.7x management GET", "POST attribute", "GET context", 0.7),
        ("management GET >= 1.5x the Go peer's GET", "GET context", "Go GET context", 1.5),
    ]
    lines += ["", "## Targets of issue 19", "",
              "Ratios of requests/s, each the median of its per-round ratios (range in brackets); server CPU per request"
              " (medians of the rounds) for the two sides.", "",
              "| target | measured | server CPU µs/request | |", "|---|---:|---:|---|"]
    def round_cpu(name: str) -> str:
        values = list((named.get(name) or {}).get("server_cpu_rounds", {}).values())
        return f"{statistics.median(values):.1f}" if values else "-"
    for label, numerator, denominator, target in issue:
        value = ratio(named, numerator, denominator)
        lines.append(f"| {label} | {fmt(value)}{spread_of(numerator, denominator)} | {round_cpu(numerator)} vs {round_cpu(denominator)} | {verdict(value, target)} |")
    instructions = None
    if args.instructions and os.path.exists(args.instructions):
        instructions = json.load(open(args.instructions))
        cases = {case["name"]: case for case in instructions["cases"]}
        if "GET context" in cases and bare in cases:
            value = cases["GET context"]["per_request"] / cases[bare]["per_request"]
            lines.append(f"| instructions per GET <= 1.5x the bare route's per request (callgrind, [instructions.md](instructions.md), {instructions['when']}) | "
                         f"{value:.2f}x ({cases['GET context']['per_request']:,.0f} / {cases[bare]['per_request']:,.0f}) | | {verdict(value, 1.5, at_most=True)} |")
    if instructions is None:
        lines.append("| instructions per GET <= 1.5x the bare route's per request | - (run `scripts/bench --instructions`) | | not measured |")
    lines += [
        f"| p99 <= 3x p50 (worst row of the worker's) | {fmt(worst_spread)} | | {verdict(worst_spread, 3.0, at_most=True)} |",
        f"| RSS <= 64 MiB | {rss_max_ours:.1f} MiB | | {verdict(rss_max_ours, 64, at_most=True)} |",
        f"| RSS flat across the 10x run (last sample minus the one at 10 %) | {fmt(drift, ' MiB')} | | {verdict(None if drift is None else abs(drift), 4, at_most=True)} |",
    ]
    lines += ["", "Every round-measured row against the bare Hummingbird route (median of per-round ratios of requests/s; server CPU per"
              " request, median of the rounds, and its ratio to the bare server's):", "",
              "| row | vs bare route | server CPU µs/request | CPU vs bare |", "|---|---:|---:|---:|"]
    bare_cpu = [value for value in (named.get(bare) or {}).get("server_cpu_rounds", {}).values()]
    for row in rows:
        if not row.get("rounds") or row["name"] == bare:
            continue
        cpu_values = list(row.get("server_cpu_rounds", {}).values())
        cpu_text = f"{statistics.median(cpu_values):.1f}" if cpu_values else "-"
        cpu_ratio = f"{statistics.median(cpu_values) / statistics.median(bare_cpu):.2f}x" if cpu_values and bare_cpu else "-"
        lines.append(f"| {row['name']} | {fmt(ratio(named, row['name'], bare))}{spread_of(row['name'], bare)} | {cpu_text} | {cpu_ratio} |")
    if bare_cpu:
        lines.append(f"| {bare} | 1.00x | {statistics.median(bare_cpu):.1f} | 1.00x |")
    lines += ["", "Against Redis itself (informative):", ""]
    for service_row, redis_row in (("GET context", "redis HGETALL"), ("POST attribute", "redis EVALSHA set")):
        value = ratio(named, service_row, redis_row)
        if value is not None:
            lines.append(f"- {service_row} / {redis_row}: {value:.2f}x")
    if memory:
        lines += ["", "## Redis memory as attributes grow", "", "| attributes | bytes | encoding |", "|---:|---:|---|"]
        for entry in memory["growth"]:
            lines.append(f"| {entry['attributes']} | {entry['bytes']} | {entry['encoding']} |")
    if long_run and long_run.get("rss_samples_kib"):
        samples = long_run["rss_samples_kib"]
        step = max(1, len(samples) // 15)
        lines += ["", "Worker RSS through the long run (MiB, every %d s): " % step + ", ".join(f"{value / 1024:.1f}" for value in samples[::step])]
    text = "\n".join(lines) + "\n"

    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out + ".md", "w") as out:
        out.write(text)
    print(text)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [3, 2]})
    names = [row["name"] for row in rows]
    def colour(row: dict) -> str:
        if row["tool"] == "redis-benchmark":
            return "#888888"
        if row.get("server") == "bare":
            return "#2a9d8f"
        if row.get("server") == "go":
            return "#8172b3"
        return "#4c72b0" if row["name"] == "/health/live" else "#dd8452"
    colours = [colour(row) for row in rows]
    left.barh(names[::-1], [row["rps"] for row in rows][::-1], color=colours[::-1])
    left.set_xlabel("requests/s (grey: Redis alone, green: bare Hummingbird, blue: our /health/live, orange: the service, purple: Go peer)", fontsize=8)
    left.set_title("Throughput")
    for index, row in enumerate(rows[::-1]):
        left.text(row["rps"], index, f" {row['rps']:,.0f}", va="center", fontsize=8)
    wrk_rows = [row for row in rows if row["tool"] == "wrk"]
    positions = range(len(wrk_rows))
    right.bar([p - 0.2 for p in positions], [row["p50_ms"] for row in wrk_rows], width=0.4, label="p50")
    right.bar([p + 0.2 for p in positions], [row["p99_ms"] for row in wrk_rows], width=0.4, label="p99")
    right.set_xticks(list(positions), [row["name"] for row in wrk_rows], rotation=45, ha="right", fontsize=8)
    right.set_ylabel("ms")
    right.set_title("Latency")
    right.legend()
    figure.suptitle(f"session-context vs Redis: {args.settings}", fontsize=9)
    figure.tight_layout()
    figure.savefig(args.out + ".png", dpi=110)


if __name__ == "__main__":
    main()
