#!/usr/bin/env python3
"""Prints, on one line, what a benchmark result depends on: the machine, the toolchain, Redis and the commit."""
import os
import platform
import subprocess
import sys


def run(*command: str) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def main() -> None:
    redis_port = sys.argv[2] if len(sys.argv) > 2 else None
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "?"
    try:
        kib = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    commit = run("git", "rev-parse", "--short", "HEAD")
    if run("git", "status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    swift = run("swift", "--version").splitlines()[0] if run("swift", "--version") else "?"
    redis = run("redis-cli", "-p", redis_port, "INFO", "server") if redis_port else ""
    redis_version = next((line.split(":", 1)[1].strip() for line in redis.splitlines() if line.startswith("redis_version")), "?")
    print(f"{os.cpu_count()} cores ({cpu}), {memory}, {platform.system()} {platform.release()} {platform.machine()}; "
          f"{swift}; Redis {redis_version}; commit {commit}")


if __name__ == "__main__":
    main()
