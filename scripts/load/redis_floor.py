#!/usr/bin/env python3
"""Redis alone on one topology: redis-benchmark runs a plain SET and a write shaped like the
service's (write_like.lua: HSET, EXPIRE, XADD, PUBLISH or SPUBLISH in one script), and the CPU
time every Redis server of the topology used during each run (from /proc) is divided by the
operations, with the primaries' socket reads per operation. Appends one JSON row per operation to ROWS.

    redis_floor.py ROWS TOPOLOGY PORT PIDS REPLICA_PIDS [--cluster] [--requests N] [--clients C]

PIDS: every Redis server of the topology, comma-separated (replicas included); REPLICA_PIDS: the
replicas among them (may be empty). PORT: any node (a primary). --cluster runs redis-benchmark
in cluster mode, which puts each key on a node by its {tag} and publishes with SPUBLISH.
"""
import argparse
import json
import os
import pathlib
import re
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).with_name("write_like.lua").read_text()


def ticks(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total


def redis_cli(port, *args):
    return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args],
                          check=True, capture_output=True, text=True).stdout.strip()


def reads(ports):
    """Reads of client sockets so far (INFO stats total_reads_processed), summed over `ports`."""
    total = 0
    for port in ports:
        info = redis_cli(port, "INFO", "stats")
        total += int(re.search(r"^total_reads_processed:(\d+)", info, re.M).group(1))
    return total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("rows")
    parser.add_argument("topology")
    parser.add_argument("port", type=int)
    parser.add_argument("pids")
    parser.add_argument("replica_pids")
    parser.add_argument("--cluster", action="store_true")
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    pids = [int(p) for p in args.pids.split(",") if p]
    replicas = [int(p) for p in args.replica_pids.split(",") if p]
    hz = os.sysconf("SC_CLK_TCK")

    cluster = ["--cluster"] if args.cluster else []
    if args.cluster:
        # SCRIPT LOAD on every primary: EVALSHA goes wherever the key's slot is.
        nodes = redis_cli(args.port, "CLUSTER", "NODES").splitlines()
        primaries = [int(re.search(r":(\d+)@", line).group(1)) for line in nodes if "master" in line.split()[2]]
    else:
        primaries = [args.port]
    sha = {redis_cli(port, "SCRIPT", "LOAD", SCRIPT) for port in primaries}.pop()
    publish = "SPUBLISH" if args.cluster else "PUBLISH"
    operations = {
        "SET": ["-t", "set"],
        "write script": ["EVALSHA", sha, "3", "floor:{tag}:s:__rand_int__", "floor:{tag}:events", "floor:{tag}:ch", "v", publish],
    }
    for name, command in operations.items():
        before = ticks(pids), ticks(replicas), reads(primaries)
        output = subprocess.run(
            ["redis-benchmark", "-h", "127.0.0.1", "-p", str(args.port), *cluster, "-c", str(args.clients),
             "-n", str(args.requests), "-r", "100000", "-q", *command],
            check=True, capture_output=True, text=True).stdout
        after = ticks(pids), ticks(replicas), reads(primaries)
        rate = float(re.findall(r"([\d.]+) requests per second", output)[-1])
        redis_us = (after[0] - before[0]) / hz * 1e6 / args.requests
        replica_us = (after[1] - before[1]) / hz * 1e6 / args.requests
        reads_per_op = (after[2] - before[2]) / args.requests
        row = dict(topology=args.topology, op=name, rps=rate, redis_us=redis_us, replica_us=replica_us, reads_per_op=reads_per_op)
        with open(args.rows, "a") as rows:
            rows.write(json.dumps(row) + "\n")
        print(f"{args.topology:<22} {name:<13} {rate:9.0f} ops/s  Redis CPU {redis_us:5.1f} us/op"
              f" (replicas {replica_us:4.1f}), {reads_per_op:.2f} socket reads/op", file=sys.stderr)


if __name__ == "__main__":
    main()
