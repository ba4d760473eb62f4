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
        entry = merged.setdefault(row["name"], {"name": row["name"], "tool": row["tool"], "parts": []})
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
    return list(merged.values())


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
    parser.add_argument("--out", required=True, help="path without extension")
    args = parser.parse_args()

    all_rows = [json.loads(line) for line in open(args.rows) if line.strip()]
    memory = next((row for row in all_rows if row["name"] == "memory"), None)
    rows = merge_rounds([row for row in all_rows if row["name"] != "memory"])
    named = by_name(rows)
    service = [row for row in rows if row.get("tool") == "wrk" and row["name"] != "/health/live"]

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
        "",
        "| what | tool | requests/s | p50 ms | p99 ms | p99/p50 | errors | worker RSS max MiB | Redis CPU µs/request |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        errors = sum(row.get(key, 0) for key in ("errors_status", "errors_connect", "errors_read", "errors_write", "errors_timeout"))
        rss = f"{row['rss_max_kib'] / 1024:.1f}" if row.get("rss_max_kib") else ""
        spread = f"{row['p99_ms'] / row['p50_ms']:.1f}" if row.get("p50_ms") else ""
        cpu = redis_cpu_per_request(row)
        cpu_text = "" if cpu is None else f"{cpu:.1f}"
        lines.append(f"| {row['name']} | {row['tool']} | {row['rps']:,.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {spread} | {errors} | {rss} | {cpu_text} |")

    get_vs_live = ratio(named, "GET context", "/health/live")
    me_vs_get = ratio(named, "GET /me (TTL refresh)", "GET context")
    post_vs_get = ratio(named, "POST attribute", "GET context")
    cache_vs_live = ratio(named, "GET, near cache", "/health/live")
    worst_spread = max((row["p99_ms"] / row["p50_ms"] for row in service if row.get("p50_ms")), default=None)
    rss_max = max((row.get("rss_max_kib") or 0 for row in rows), default=0) / 1024
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
    colours = ["#888888" if row["tool"] == "redis-benchmark" else "#4c72b0" if row["name"] == "/health/live" else "#dd8452" for row in rows]
    left.barh(names[::-1], [row["rps"] for row in rows][::-1], color=colours[::-1])
    left.set_xlabel("requests/s (grey: Redis alone, blue: HTTP floor, orange: the service)")
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
