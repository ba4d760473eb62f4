#!/usr/bin/env python3
"""The chaos run (issue 21): random faults during a mixed load, then a ledger check.

Run through scripts/chaos, which checks the tools and picks the seed:

    scripts/chaos [--duration SECONDS] [--binary PATH] [--seed N] [--no-faults] [--keep]

What it does, with Python's standard library only:

1. Starts a private redis-server on a free 127.0.0.1 port (append-only file, fsync always, so an
   acknowledged write survives a SIGKILL), without presetting notify-keyspace-events.
2. Starts two workers under `prlimit --nofile=1024:1024` (anonymous TTL 4 s, customer TTL 0 =
   never; info-level JSON logs kept in files; --event-buckets BUCKETS), every request carrying
   its own X-Request-Id so a failure can be matched with the worker's log lines. Keys and streams
   are named by scripts/session_layout.py (sc:{<tenant>:<bucket>}:<sessionId>, one stream per bucket).
3. Runs a mixed load from a few threads, each owning its sessions (logged-in customer sessions,
   which never expire): PUT (replace, with the version), PUT with upsert (new sessions), GET,
   GET /me, POST attribute (management and /me), DELETE attribute (both), PATCH /me (with the
   version). Every write is recorded in a ledger with what it sets (each value unique to its
   request) and whether the worker acknowledged it (2xx, with the ETag version), may have
   applied it (503, a timeout, a reset) or refused it (4xx, connection refused).
4. Meanwhile injects a fault every 1-3 s, in a seeded random order that takes every kind once per
   round: Redis SIGKILL + restart, CLIENT KILL TYPE normal, SCRIPT FLUSH, maxmemory reached for
   1-2 s, a flood of 1,100 idle connections to one worker, malformed bodies on raw sockets.
5. Checks afterwards: every acknowledged write is in Redis (last acknowledged value of every
   field, version not below the last acknowledged one), no partial context (every hash has
   _v/_c/_m, no write half-applied), every hash in its session's bucket, every applied change
   once in its bucket's stream, no 5xx but 503, no 4xx on a valid request, reads agreed
   with the ledger, no read refused because Redis reached maxmemory, malformed bodies got
   400/413 or a closed connection, both workers alive with their pids, their logs free of
   error-level lines and crashes, and every expiry after the last Redis restart evented once.

Prints the figures and `chaos: N passed, M failed`; exits 1 on any failure.
"""

import argparse
import collections
import concurrent.futures
import http.client
import json
import os
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

import session_layout as layout

TENANT = "chaos"
EXPIRY_TENANT = "chaosexp"
ANONYMOUS_TTL = 4
HTTP_TIMEOUT = 5.0
LOAD_THREADS = 4
SESSIONS_PER_THREAD = 3
MAX_SESSIONS_PER_THREAD = 10
EXPIRY_SESSIONS = 20
FLOOD_CONNECTIONS = 1100
ABSENT = None  # a field that is not in the hash
STANDARD = {"customerId": "cu", "siteCode": "si", "currency": "cy", "cartId": "ca",
            "targetLocation": "tl", "language": "la"}
UNIQUE_KEYS = ("si", "ca")  # standard fields whose values are unique to the write that set them
ATTRIBUTE_NAMES = ["a0", "a1", "a2", "a3", "a4", "promo code", "größe"]
# The workers' buckets per tenant (given to them as --event-buckets, so the checks name the same keys).
BUCKETS = layout.DEFAULT_BUCKETS
FAULT_KINDS = ["redis-restart", "client-kill", "script-flush", "maxmemory", "connection-flood", "malformed-bodies"]

START = time.monotonic()


def now():
    return time.monotonic() - START


def say(message):
    print(f"[{now():6.1f}s] {message}", flush=True)


def canonical(value):
    """The JSON text of an attribute value in one form, whatever its key order and spacing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def short(value, limit=90):
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------------
# Redis over a raw RESP socket


class RespError(Exception):
    pass


class Resp:
    """One RESP connection to 127.0.0.1:port."""

    def __init__(self, port, timeout=3.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, *args):
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(parts))

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("redis closed the connection")
        self.buffer += chunk

    def _line(self):
        while b"\r\n" not in self.buffer:
            self._fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _exact(self, count):
        while len(self.buffer) < count + 2:
            self._fill()
        data, self.buffer = self.buffer[:count], self.buffer[count + 2:]
        return data

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            length = int(rest)
            return None if length < 0 else self._exact(length).decode("utf-8", "surrogateescape")
        if kind == b"*":
            length = int(rest)
            return None if length < 0 else [self.read() for _ in range(length)]
        raise ConnectionError(f"unexpected RESP line {line!r}")

    def cmd(self, *args):
        self.send(*args)
        reply = self.read()
        if isinstance(reply, RespError):
            raise reply
        return reply


def redis_cmd(port, *args, timeout=3.0):
    connection = Resp(port, timeout)
    try:
        return connection.cmd(*args)
    finally:
        connection.close()


class RedisServer:
    def __init__(self, port, directory):
        self.port = port
        self.dir = directory
        self.proc = None
        self.starts = 0

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        log = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no",
             "--protected-mode", "no"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        self.starts += 1
        self.wait_up(30)

    def wait_up(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}; log: {self.tail()}")
            try:
                if redis_cmd(self.port, "PING", timeout=1.0) == "PONG":
                    return
            except (OSError, RespError, ConnectionError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on {self.port} did not answer PING within {seconds} s")

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def tail(self):
        try:
            with open(os.path.join(self.dir, "redis.log"), errors="replace") as f:
                return "".join(f.readlines()[-5:])
        except OSError:
            return ""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------------------------------------
# Workers


def proc_start_time(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None


class Worker:
    def __init__(self, index, binary, redis_port, secret, directory):
        self.index = index
        self.name = f"w{index}"
        self.binary = binary
        self.port = free_port()
        self.redis_port = redis_port
        self.secret = secret
        self.stdout_path = os.path.join(directory, f"worker-{index}.out")
        self.stderr_path = os.path.join(directory, f"worker-{index}.err")
        self.proc = None
        self.pid = None
        self.started = None
        self.died_at = None

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SESSION_CONTEXT_") and k != "REDIS_URL"}
        out = open(self.stdout_path, "wb")
        err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            ["prlimit", "--nofile=1024:1024", self.binary, "serve", "--host", "127.0.0.1",
             "--port", str(self.port), "--redis-url", f"redis://127.0.0.1:{self.redis_port}/0",
             "--jwt-secret", self.secret, "--redis-timeout", "300",
             "--anonymous-ttl", str(ANONYMOUS_TTL), "--customer-ttl", "0",
             "--log-level", "info", "--log-format", "json", "--shutdown-drain-ms", "0",
             "--instance-id", f"chaos-{self.name}", "--event-buckets", str(BUCKETS)],
            stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        out.close()
        err.close()
        self.pid = self.proc.pid
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited with {self.proc.returncode}: {self.stderr_tail()}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                connection.request("GET", "/health/ready")
                ready = connection.getresponse().status == 200
                connection.close()
                if ready:
                    self.started = proc_start_time(self.pid)
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"worker {self.name} was not ready within 60 s: {self.stderr_tail()}")

    def fd_limit(self):
        try:
            with open(f"/proc/{self.pid}/limits") as f:
                for line in f:
                    if line.startswith("Max open files"):
                        return line.split()[3]
        except OSError:
            pass
        return "?"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr_tail(self, lines=12):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:]).strip()
        except OSError:
            return ""

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def make_token(binary, secret, tenant, sid=None, customer=None, ttl=3600):
    command = [binary, "token", "--tenant", tenant, "--jwt-secret", secret, "--ttl", str(ttl)]
    if sid:
        command += ["--sid", sid]
    if customer:
        command += ["--customer-id", customer]
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=60).stdout.strip()


# ---------------------------------------------------------------------------------------------
# Recording what happened


class Fault:
    def __init__(self, number, kind, started):
        self.number = number
        self.kind = kind
        self.started = started
        self.ended = None
        self.detail = ""
        self.window = None  # maxmemory: (set, cleared)


class Record:
    """Everything the run saw; appends from many threads (list.append is atomic)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []  # Request
        self.faults = []  # Fault
        self.failures = collections.defaultdict(list)  # check -> evidence lines
        self.malformed = []  # (case, worker, outcome, detail, request_id)
        self.last_restart = None
        self.flood_results = []

    def fail(self, check, text):
        with self.lock:
            self.failures[check].append(text)

    def fault_at(self, t):
        names = [f"#{f.number} {f.kind}" for f in self.faults
                 if f.started - 0.05 <= t and (f.ended is None or t <= f.ended + 1.0)]
        return ", ".join(names) if names else "none"


class Request:
    __slots__ = ("kind", "method", "path", "worker", "request_id", "t0", "t1", "status", "transport", "body")

    def __init__(self, kind, method, path, worker, request_id):
        self.kind, self.method, self.path, self.worker, self.request_id = kind, method, path, worker, request_id
        self.t0 = now()
        self.t1 = None
        self.status = None
        self.transport = None
        self.body = b""

    def describe(self):
        outcome = self.status if self.status is not None else f"transport error: {self.transport}"
        return (f"{self.method} {self.path} via {self.worker} at {self.t0:.2f}s -> {outcome} "
                f"(request id {self.request_id})")


class Op:
    """One write of the ledger: what it sets ('@name' or a hash field -> value or ABSENT)."""
    __slots__ = ("number", "kind", "effects", "outcome", "version", "request", "creates")

    def __init__(self, number, kind, effects, creates=False):
        self.number, self.kind, self.effects, self.creates = number, kind, effects, creates
        self.outcome = None  # acked | uncertain | refused
        self.version = None
        self.request = None

    def describe(self):
        return f"op {self.number} {self.kind} [{self.outcome}] {self.request.describe() if self.request else ''}"


class Session:
    def __init__(self, sid, customer, token):
        self.sid, self.customer, self.token = sid, customer, token
        self.ops = []
        self.known_version = None
        self.active = False
        self.had_uncertain = False


# ---------------------------------------------------------------------------------------------
# The ledger's judgement


def judge(ops, key, actual):
    """Whether `actual` (a field's value, ABSENT when missing) agrees with the ledger's writes of
    `key`: the last acknowledged value, or the value of an unacknowledged write after it (which
    may have been applied). Returns (ok, explanation)."""
    relevant = [op for op in ops if key in op.effects and op.outcome in ("acked", "uncertain")]
    last_acked = max((i for i, op in enumerate(relevant) if op.outcome == "acked"), default=-1)
    base = relevant[last_acked].effects[key] if last_acked >= 0 else ABSENT
    if actual == base:
        return True, "acknowledged" if last_acked >= 0 else "never written"
    if any(op.effects[key] == actual for op in relevant[last_acked + 1:]):
        return True, "an unacknowledged write"
    if last_acked < 0:
        return False, f"holds {short(actual)!s} which no write of the ledger set (expected {short(base)})"
    acked = relevant[last_acked]
    text = (f"the last acknowledged write ({acked.describe()}) set {short(base)}, "
            f"Redis has {short(actual) if actual is not ABSENT else 'nothing'}")
    earlier = [op for op in relevant[:last_acked] if op.effects[key] == actual]
    if earlier:
        text += f"; that is the value of an earlier write: {earlier[-1].describe()}"
    return False, text


def half_applied(ops, state):
    """Unacknowledged writes that Redis shows applied (one of their unique values is there) but
    not wholly: a field they set, untouched by any later acknowledged write, holds something else."""
    problems = []
    for index, op in enumerate(ops):
        if op.outcome != "uncertain":
            continue
        seen = [k for k, v in op.effects.items()
                if v is not ABSENT and (k.startswith("@") or k in UNIQUE_KEYS) and state.get(k, ABSENT) == v]
        if not seen:
            continue
        for key, value in op.effects.items():
            later = [o for o in ops[index + 1:] if key in o.effects and o.outcome in ("acked", "uncertain")]
            if any(o.outcome == "acked" for o in later):
                continue
            allowed = {value} | {o.effects[key] for o in later}
            if state.get(key, ABSENT) not in allowed:
                problems.append(f"{op.describe()}: applied ({seen[0]} = {short(state.get(seen[0]))}) "
                                f"but {key} is {short(state.get(key, ABSENT)) if state.get(key) is not None else 'absent'}, "
                                f"it set {short(value) if value is not ABSENT else 'absent'}")
    return problems


def state_from_hash(fields):
    state = {}
    for name, value in fields.items():
        if name.startswith("@"):
            try:
                state[name] = canonical(json.loads(value))
            except ValueError:
                state[name] = "<not JSON: " + value + ">"
        elif name in STANDARD.values():
            state[name] = value
    return state


def state_from_body(body):
    state = {}
    for api, field in STANDARD.items():
        if api in body:
            state[field] = body[api]
    for name, value in (body.get("context") or {}).items():
        state["@" + name] = canonical(value)
    return state


# ---------------------------------------------------------------------------------------------
# The load


class TransportError(Exception):
    pass


class Client:
    """One thread's HTTP connections, one kept alive per worker (sometimes renewed)."""

    def __init__(self, record, workers, rng):
        self.record = record
        self.workers = workers
        self.rng = rng
        self.connections = {}
        self.counter = 0
        self.prefix = secrets.token_hex(3)

    def request(self, kind, worker, method, path, token, body=None, headers=None):
        self.counter += 1
        request_id = f"chaos-{self.prefix}-{self.counter}"
        entry = Request(kind, method, path, worker.name, request_id)
        self.record.requests.append(entry)
        all_headers = {"Authorization": f"Bearer {token}", "X-Request-Id": request_id}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        connection = self.connections.get(worker.port)
        if connection is not None and self.rng.random() < 0.1:
            connection.close()  # new connections now and then, as clients behind a balancer make
            connection = None
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", worker.port, timeout=HTTP_TIMEOUT)
            self.connections[worker.port] = connection
        try:
            connection.request(method, path, body=data, headers=all_headers)
            response = connection.getresponse()
            entry.body = response.read()
            entry.status = response.status
            etag = response.getheader("ETag")
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                self.connections.pop(worker.port, None)
        except Exception as error:  # noqa: BLE001 - every transport failure is recorded
            connection.close()
            self.connections.pop(worker.port, None)
            if isinstance(error, ConnectionRefusedError):
                entry.transport = "refused"
            elif isinstance(error, (socket.timeout, TimeoutError)):
                entry.transport = "timeout"
            else:
                entry.transport = type(error).__name__
            entry.t1 = now()
            raise TransportError(entry) from error
        finally:
            if entry.t1 is None:
                entry.t1 = now()
        return entry, etag


def parse_etag(etag):
    if etag and re.fullmatch(r'W?/?"?\d+"?', etag.strip()):
        return int(re.sub(r"\D", "", etag))
    return None


class LoadThread(threading.Thread):
    def __init__(self, index, ctx, seed):
        super().__init__(name=f"load-{index}", daemon=True)
        self.index = index
        self.ctx = ctx
        self.rng = random.Random(seed)
        self.client = Client(ctx.record, ctx.workers, self.rng)
        self.sessions = []
        self.identities = []  # (sid, customer, storefront token) for the sessions it may create
        self.error = None

    # -- the ledger's bookkeeping ----------------------------------------------------------------

    def settle(self, session, op, entry, etag, success):
        """Classifies a write's answer; returns whether it was acknowledged."""
        op.request = entry
        session.ops.append(op)
        if entry.status in success:
            op.outcome = "acked"
            op.version = parse_etag(etag)
            session.known_version = op.version
            return True
        self.classify_failure(session, entry)
        if entry.status == 503 or (entry.status is not None and entry.status >= 500):
            op.outcome = "uncertain"
        elif entry.status is None and entry.transport != "refused":
            op.outcome = "uncertain"
        else:
            op.outcome = "refused"
        if op.outcome == "uncertain":
            session.known_version = None
            session.had_uncertain = True
        return False

    def classify_failure(self, session, entry):
        status = entry.status
        if status is None or status == 503:
            return
        if status >= 500:
            self.ctx.record.fail("5xx", f"{entry.describe()}: {short(entry.body.decode('utf-8', 'replace'), 200)}")
        elif status == 409 and session is not None and session.had_uncertain:
            with self.ctx.op_lock:
                self.ctx.conflicts_after_uncertain += 1
        elif 400 <= status < 500:
            self.ctx.record.fail("4xx", f"{entry.describe()}: {short(entry.body.decode('utf-8', 'replace'), 200)}")

    def send(self, session, kind, worker, method, path, token, body=None, headers=None):
        try:
            return self.client.request(kind, worker, method, path, token, body, headers)
        except TransportError as error:
            return error.args[0], None

    def pause_after(self, entry):
        if entry.status == 503 or entry.status is None:
            time.sleep(0.1)

    # -- values ----------------------------------------------------------------------------------

    def value(self, op_number):
        if self.rng.random() < 0.7:
            return f"v{op_number}-{self.rng.randrange(10**6)}"
        return {"op": str(op_number), "geo": {"lat": f"{self.rng.uniform(-90, 90):.4f}", "n": str(op_number)}}

    def put_body(self, session, number, version, with_context):
        body = {"customerId": session.customer, "siteCode": f"site-{number}",
                "currency": self.rng.choice(["EUR", "USD", "GBP"]), "cartId": f"cart-{number}"}
        location = self.rng.choice([None, "DE", "FR"])
        language = self.rng.choice([None, "de", "en-US"])
        if location:
            body["targetLocation"] = location
        if language:
            body["language"] = language
        effects = {field: body.get(api, ABSENT) for api, field in STANDARD.items()}
        if with_context:
            names = self.rng.sample(ATTRIBUTE_NAMES, self.rng.randint(2, 5))
            body["context"] = {name: self.value(number) for name in names}
            for name in ATTRIBUTE_NAMES:
                effects["@" + name] = canonical(body["context"][name]) if name in body["context"] else ABSENT
        body["metadata"] = {"version": version}
        return body, effects

    # -- requests --------------------------------------------------------------------------------

    def worker(self):
        return self.rng.choice(self.ctx.workers)

    def path(self, session, suffix=""):
        return f"/session-context/{TENANT}/context/{urllib.parse.quote(session.sid, safe='')}{suffix}"

    def create(self):
        if not self.identities:
            return None
        number = self.ctx.next_op()
        sid, customer, token = self.identities.pop(0)
        session = Session(sid, customer, token)
        self.sessions.append(session)
        body, effects = self.put_body(session, number, 0, True)
        op = Op(number, "create", effects, creates=True)
        entry, etag = self.send(session, "create", self.worker(), "PUT", self.path(session, "?upsert=true"),
                                self.ctx.management, body, {"saas-token": session.token})
        session.active = self.settle(session, op, entry, etag, (204,))
        self.pause_after(entry)
        return session

    def learn_version(self, session, storefront):
        """GET the context (checking it against the ledger); its version, or None."""
        worker = self.worker()
        if storefront:
            entry, _ = self.send(session, "get-me", worker, "GET", f"/session-context/{TENANT}/me/context", session.token)
        else:
            entry, _ = self.send(session, "get", worker, "GET", self.path(session), self.ctx.management)
        if entry.status != 200:
            self.classify_failure(session, entry)
            if entry.status == 503 and entry.kind in ("get", "get-me"):
                self.ctx.read_503s.append(entry)
            self.pause_after(entry)
            return None
        try:
            body = json.loads(entry.body)
        except ValueError:
            self.ctx.record.fail("reads", f"{entry.describe()}: not JSON: {short(entry.body)}")
            return None
        self.check_read(session, entry, body)
        version = (body.get("metadata") or {}).get("version")
        return version if isinstance(version, int) else None

    def check_read(self, session, entry, body):
        with self.ctx.op_lock:
            self.ctx.reads_checked += 1
        state = state_from_body(body)
        keys = set(state) | {k for op in session.ops for k in op.effects}
        for key in sorted(keys):
            ok, why = judge(session.ops, key, state.get(key, ABSENT))
            if not ok:
                self.ctx.record.fail("reads", f"{entry.describe()} session {session.sid} {key}: {why}")
        acked = [op.version for op in session.ops if op.outcome == "acked" and op.version is not None]
        version = (body.get("metadata") or {}).get("version")
        if acked and isinstance(version, int) and version < max(acked):
            self.ctx.record.fail("reads", f"{entry.describe()} session {session.sid}: version {version} below the "
                                          f"acknowledged {max(acked)}")

    def step(self, session):
        rng = self.rng
        choice = rng.choices(
            ["get", "get-me", "post", "post-me", "delete", "delete-me", "patch-me", "put", "create"],
            weights=[16, 16, 14, 10, 8, 6, 12, 12, 3])[0]
        if choice == "create":
            # New sessions come spread over the run, so some are created under faults.
            elapsed = (now() - self.ctx.load_start) / max(self.ctx.args.duration, 1)
            if len(self.sessions) < SESSIONS_PER_THREAD + elapsed * (MAX_SESSIONS_PER_THREAD - SESSIONS_PER_THREAD):
                self.create()
            return
        if choice in ("get", "get-me"):
            version = self.learn_version(session, choice == "get-me")
            if version is not None:
                session.known_version = version
            return
        if choice in ("post", "post-me"):
            number = self.ctx.next_op()
            name = rng.choice(ATTRIBUTE_NAMES)
            value = self.value(number)
            op = Op(number, choice, {"@" + name: canonical(value)})
            if choice == "post":
                entry, etag = self.send(session, choice, self.worker(), "POST", self.path(session, "/attributes"),
                                        self.ctx.management, {"key": name, "value": value})
                self.settle(session, op, entry, etag, (204,))
            else:
                entry, etag = self.send(session, choice, self.worker(), "POST",
                                        f"/session-context/{TENANT}/me/context/attributes", session.token,
                                        {"key": name, "value": value})
                self.settle(session, op, entry, etag, (201,))
            self.pause_after(entry)
            return
        if choice in ("delete", "delete-me"):
            number = self.ctx.next_op()
            name = rng.choice(ATTRIBUTE_NAMES)
            op = Op(number, choice, {"@" + name: ABSENT})
            quoted = urllib.parse.quote(name, safe="")
            if choice == "delete":
                entry, etag = self.send(session, choice, self.worker(), "DELETE",
                                        self.path(session, f"/attributes/{quoted}"), self.ctx.management)
            else:
                entry, etag = self.send(session, choice, self.worker(), "DELETE",
                                        f"/session-context/{TENANT}/me/context/attributes/{quoted}", session.token)
            self.settle(session, op, entry, etag, (204,))
            self.pause_after(entry)
            return
        # Versioned writes: PATCH /me and PUT need the current version.
        if session.known_version is None:
            version = self.learn_version(session, choice == "patch-me")
            if version is None:
                return
            session.known_version = version
        number = self.ctx.next_op()
        if choice == "patch-me":
            body = {"siteCode": f"site-{number}", "context": {}, "metadata": {"version": session.known_version}}
            effects = {"si": f"site-{number}"}
            if rng.random() < 0.3:
                body["language"] = rng.choice(["de", "en-US", "fr"])
                effects["la"] = body["language"]
            for name in rng.sample(ATTRIBUTE_NAMES, rng.randint(1, 3)):
                if rng.random() < 0.3:
                    body["context"][name] = None
                    effects["@" + name] = ABSENT
                else:
                    value = self.value(number)
                    body["context"][name] = value
                    effects["@" + name] = canonical(value)
            op = Op(number, "patch-me", effects)
            entry, etag = self.send(session, "patch-me", self.worker(), "PATCH",
                                    f"/session-context/{TENANT}/me/context", session.token, body)
        else:
            body, effects = self.put_body(session, number, session.known_version, rng.random() < 0.8)
            op = Op(number, "put", effects)
            entry, etag = self.send(session, "put", self.worker(), "PUT", self.path(session),
                                    self.ctx.management, body, {"saas-token": session.token})
        self.settle(session, op, entry, etag, (204,))
        if entry.status == 409:
            session.known_version = None
        self.pause_after(entry)

    def run(self):
        try:
            while now() < self.ctx.load_end:
                active = [s for s in self.sessions if s.active]
                if not active:
                    if self.create() is None:
                        time.sleep(0.1)
                    continue
                self.step(self.rng.choice(active))
        except Exception:  # noqa: BLE001
            self.error = traceback.format_exc()
        finally:
            for connection in self.client.connections.values():
                connection.close()


# ---------------------------------------------------------------------------------------------
# Faults


def raw_exchange(port, payload, shut_after_send=False, wait=3.0):
    """Sends `payload` on a new connection; returns (outcome, status, text). outcome: 'answered',
    'closed' (closed or reset without an answer) or 'hang' (no answer 3 s after the payload, nor
    2 s after our end was shut down too)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT)
    received = b""
    try:
        try:
            sock.sendall(payload)
        except OSError:
            pass  # the worker may answer and close before taking everything (a 413)
        if shut_after_send:
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        shut = shut_after_send
        deadline = time.monotonic() + wait
        while True:
            if b"\r\n\r\n" in received:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if shut:
                    return "hang", None, received.decode("latin-1")
                try:
                    sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                shut = True
                deadline = time.monotonic() + 2.0
                continue
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not chunk:
                break
            received += chunk
        # The body, briefly, for the evidence.
        sock.settimeout(0.3)
        try:
            while len(received) < 4096:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                received += chunk
        except OSError:
            pass
    finally:
        sock.close()
    match = re.match(rb"HTTP/1\.[01] (\d{3})", received)
    if match:
        return "answered", int(match.group(1)), received.decode("utf-8", "replace")
    return "closed", None, received.decode("utf-8", "replace")


class Injector(threading.Thread):
    def __init__(self, ctx, seed):
        super().__init__(name="faults", daemon=True)
        self.ctx = ctx
        self.rng = random.Random(seed)
        self.error = None
        self.malformed_counter = 0

    def schedule(self):
        while True:
            kinds = list(FAULT_KINDS)
            self.rng.shuffle(kinds)
            yield from kinds

    def run(self):
        try:
            kinds = self.schedule()
            number = 0
            while True:
                delay = self.rng.uniform(1.0, 3.0)
                if now() + delay + 3.5 >= self.ctx.load_end:
                    break  # every fault ends while the load still runs (the longest takes about 3.5 s)
                time.sleep(delay)
                number += 1
                kind = next(kinds)
                fault = Fault(number, kind, now())
                self.ctx.record.faults.append(fault)
                getattr(self, kind.replace("-", "_"))(fault)
                fault.ended = now()
                say(f"fault #{number} {kind}: {fault.detail}")
        except Exception:  # noqa: BLE001
            self.error = traceback.format_exc()

    def redis_restart(self, fault):
        down = self.rng.uniform(0.5, 2.0)
        self.ctx.redis.kill()
        time.sleep(down)
        self.ctx.redis.start()
        self.ctx.record.last_restart = now()
        fault.detail = f"SIGKILL, down {down:.1f} s, back (AOF loaded) at {now():.1f}s"

    def client_kill(self, fault):
        killed = redis_cmd(self.ctx.redis.port, "CLIENT", "KILL", "TYPE", "normal")
        fault.detail = f"CLIENT KILL TYPE normal closed {killed} connections"

    def script_flush(self, fault):
        redis_cmd(self.ctx.redis.port, "SCRIPT", "FLUSH")
        fault.detail = "SCRIPT FLUSH"

    def maxmemory(self, fault):
        port = self.ctx.redis.port
        info = redis_cmd(port, "INFO", "memory")
        used = int(re.search(r"used_memory:(\d+)", info).group(1))
        hold = self.rng.uniform(1.0, 2.0)
        redis_cmd(port, "CONFIG", "SET", "maxmemory-policy", "noeviction")
        redis_cmd(port, "CONFIG", "SET", "maxmemory", str(used))
        set_at = now()
        time.sleep(hold)
        cleared_at = now()
        redis_cmd(port, "CONFIG", "SET", "maxmemory", "0")
        fault.window = (set_at, cleared_at)
        fault.detail = f"maxmemory {used} B (used_memory) for {hold:.1f} s, then 0"

    def connection_flood(self, fault):
        # The workers take turns, the first one drawn.
        self.floods = getattr(self, "floods", self.rng.randrange(len(self.ctx.workers))) + 1
        worker = self.ctx.workers[self.floods % len(self.ctx.workers)]
        sockets, refused = [], 0
        try:
            for _ in range(FLOOD_CONNECTIONS // 100):
                for _ in range(100):
                    s = socket.socket()
                    s.setblocking(False)
                    code = s.connect_ex(("127.0.0.1", worker.port))
                    if code not in (0, 115, 11):  # EINPROGRESS, EAGAIN
                        refused += 1
                        s.close()
                    else:
                        sockets.append(s)
                time.sleep(0.1)
            time.sleep(2.0)
            established = 0
            closed_by_worker = 0
            for s in sockets:
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    try:
                        s.getpeername()
                        established += 1
                        try:
                            if s.recv(1, socket.MSG_PEEK) == b"":
                                closed_by_worker += 1
                        except BlockingIOError:
                            pass
                        except OSError:
                            closed_by_worker += 1
                    except OSError:
                        pass
        finally:
            for s in sockets:
                s.close()
        self.ctx.record.flood_results.append((worker.name, len(sockets), established, closed_by_worker, refused))
        fault.detail = (f"{FLOOD_CONNECTIONS} idle connections to {worker.name}: {established} connected, "
                        f"{closed_by_worker} closed by the worker, {refused} refused; held 2 s"
                        f"{'' if worker.alive() else '; THE WORKER IS DEAD'}")

    def malformed_bodies(self, fault):
        worker = self.rng.choice(self.ctx.workers)
        target = f"/session-context/{TENANT}/context/{self.ctx.malformed_sid}/attributes"
        json_body = b'{"key":"malformed","value":"should never be stored"}'
        outcomes = []
        cases = [
            ("chunk size zz", b"Transfer-Encoding: chunked", b"zz\r\n" + json_body + b"\r\n0\r\n\r\n", False),
            ("chunk size -1a", b"Transfer-Encoding: chunked", b"-1a\r\n" + json_body + b"\r\n0\r\n\r\n", False),
            ("chunk size FFFFFFFFFFFFFFFFFFFF", b"Transfer-Encoding: chunked",
             b"FFFFFFFFFFFFFFFFFFFF\r\n" + json_body + b"\r\n0\r\n\r\n", False),
            ("chunk smaller than its data", b"Transfer-Encoding: chunked", b"5\r\n" + json_body + b"\r\n0\r\n\r\n", False),
            ("70 KB chunked body", b"Transfer-Encoding: chunked", self.big_chunked(), False),
            ("Content-Length 40 too long, then EOF", b"Content-Length: %d" % (len(json_body) + 40), json_body, True),
            ("invalid JSON", b"Content-Length: 22", b'{"key": "k", "value": ', False),
        ]
        for name, framing, body, shut in cases:
            self.malformed_counter += 1
            request_id = f"chaos-malformed-{self.malformed_counter}"
            payload = (b"POST " + target.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       b"Authorization: Bearer " + self.ctx.management.encode() + b"\r\n"
                       b"Content-Type: application/json\r\nX-Request-Id: " + request_id.encode() + b"\r\n"
                       + framing + b"\r\n\r\n" + body)
            t0 = now()
            try:
                outcome, status, text = raw_exchange(worker.port, payload, shut)
            except OSError as error:
                outcome, status, text = "connect failed", None, str(error)
            expected = (outcome == "closed" or (outcome == "answered" and status in (400, 413))
                        or (name == "invalid JSON" and status == 400))
            record = (name, worker.name, outcome, status, text, request_id, t0, expected)
            self.ctx.record.malformed.append(record)
            outcomes.append(f"{name}: {status if status else outcome}")
        fault.detail = f"to {worker.name}: " + "; ".join(outcomes)

    @staticmethod
    def big_chunked():
        content = b'{"key":"big","value":"' + b"x" * 70000 + b'"}'
        parts = []
        for start in range(0, len(content), 8192):
            piece = content[start:start + 8192]
            parts.append(b"%x\r\n%s\r\n" % (len(piece), piece))
        return b"".join(parts) + b"0\r\n\r\n"


# ---------------------------------------------------------------------------------------------
# The expiry check


class Subscriber(threading.Thread):
    def __init__(self, port, channel):
        super().__init__(name="subscriber", daemon=True)
        self.connection = Resp(port, timeout=None)
        self.connection.send("SUBSCRIBE", channel)
        reply = self.connection.read()
        if not (isinstance(reply, list) and reply[0] == "subscribe"):
            raise RuntimeError(f"SUBSCRIBE answered {reply!r}")
        self.events = []
        self.stopped = False

    def run(self):
        try:
            while not self.stopped:
                message = self.connection.read()
                if isinstance(message, list) and message[0] == "message":
                    try:
                        self.events.append((now(), json.loads(message[2])))
                    except ValueError:
                        self.events.append((now(), {"unparsable": message[2]}))
        except (OSError, ConnectionError):
            pass

    def stop(self):
        self.stopped = True
        try:
            self.connection.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.connection.close()


def expiry_listeners(port):
    channels = redis_cmd(port, "PUBSUB", "NUMSUB", "__keyevent@0__:expired")
    flags = redis_cmd(port, "CONFIG", "GET", "notify-keyspace-events")
    return int(channels[1]), flags[1]


def flags_notify_expired(flags):
    return ("E" in flags) and ("x" in flags or "A" in flags)


# ---------------------------------------------------------------------------------------------
# The run


class Context:
    def __init__(self, args):
        self.args = args
        self.binary = args.binary
        self.secret = secrets.token_hex(24)
        self.record = Record()
        self.workers = []
        self.redis = None
        self.management = None
        self.expiry_management = None
        self.token_ttl = int(args.duration) + 900
        self.load_start = None
        self.stopping = threading.Event()
        self.load_end = None
        self.op_counter = 0
        self.op_lock = threading.Lock()
        self.conflicts_after_uncertain = 0
        self.reads_checked = 0
        self.read_503s = []
        self.malformed_sid = "malformed-target"

    def next_op(self):
        with self.op_lock:
            self.op_counter += 1
            return self.op_counter


def worker_log_lines(ctx):
    """request id -> log lines (not the per-request 'request' line), and the error-level lines."""
    by_request = collections.defaultdict(list)
    errors = []
    other = []
    for worker in ctx.workers:
        try:
            with open(worker.stdout_path, errors="replace") as f:
                for line in f:
                    line = line.rstrip("\n")
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        if line.strip():
                            other.append(f"{worker.name} stdout: {line}")
                        continue
                    level = entry.get("level", "")
                    request_id = entry.get("request_id")
                    if request_id and entry.get("message") != "request":
                        by_request[request_id].append(f"{worker.name}: {line}")
                    if level in ("error", "critical"):
                        errors.append(f"{worker.name}: {line}")
        except OSError:
            pass
    return by_request, errors, other


CRASH_PATTERNS = re.compile(r"Fatal error|Program crashed|Segmentation fault|Illegal instruction|"
                            r"Backtrace|panic|Aborted|Thread \d+ crashed|Too many open files", re.I)


def main():
    parser = argparse.ArgumentParser(description="the chaos run of issue 21")
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--binary", default=".build/debug/session-context")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--no-faults", action="store_true", help="the same load and checks without faults")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (logs, AOF)")
    args = parser.parse_args()
    ctx = Context(args)
    work = tempfile.mkdtemp(prefix="session-context-chaos.")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < FLOOD_CONNECTIONS + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))

    def terminate(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    say(f"chaos: seed {args.seed} (replay: scripts/chaos --duration {args.duration:g} --seed {args.seed}), "
        f"binary {args.binary}, scratch {work}")
    try:
        return run(ctx, work)
    finally:
        ctx.stopping.set()
        for worker in ctx.workers:
            try:
                worker.stop()
            except Exception:  # noqa: BLE001
                pass
        if ctx.redis is not None:
            ctx.redis.kill()
        if args.keep:
            print(f"chaos: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(ctx, work):
    args = ctx.args
    record = ctx.record
    help_text = subprocess.run([args.binary, "serve", "--help"], capture_output=True, text=True, timeout=60).stdout
    max_connections = "--max-connections" in help_text

    ctx.redis = RedisServer(free_port(), os.path.join(work, "redis"))
    ctx.redis.start()
    for index in (1, 2):
        worker = Worker(index, args.binary, ctx.redis.port, ctx.secret, work)
        ctx.workers.append(worker)
    for worker in ctx.workers:
        worker.start()
    say(f"redis-server {ctx.redis.port} (appendonly, fsync always); workers "
        + ", ".join(f"{w.name} port {w.port} pid {w.pid} (open files limit {w.fd_limit()})" for w in ctx.workers)
        + f"; serve --max-connections: {'offered, default kept' if max_connections else 'not offered'}")

    ctx.management = make_token(args.binary, ctx.secret, TENANT, ttl=ctx.token_ttl)
    ctx.expiry_management = make_token(args.binary, ctx.secret, EXPIRY_TENANT, ttl=ctx.token_ttl)

    # The malformed bodies' target: a customer session outside the ledger.
    setup = Client(record, ctx.workers, random.Random(args.seed))
    target_token = make_token(args.binary, ctx.secret, TENANT, sid=ctx.malformed_sid, customer="CMALFORMED", ttl=ctx.token_ttl)
    entry, _ = setup.request("setup", ctx.workers[0], "PUT",
                             f"/session-context/{TENANT}/context/{ctx.malformed_sid}?upsert=true", ctx.management,
                             {"customerId": "CMALFORMED", "metadata": {"version": 0}}, {"saas-token": target_token})
    if entry.status != 204:
        raise RuntimeError(f"setup: {entry.describe()}: {entry.body!r}")

    # Each load thread creates its first sessions before the faults start; the storefront tokens
    # of every session it may create are made now (the token subcommand takes 0.2 s).
    threads = [LoadThread(i, ctx, args.seed * 1000 + i) for i in range(LOAD_THREADS)]
    wanted = [(thread, f"t{thread.index}-{n}-{secrets.token_hex(4)}", f"C{thread.index}x{n}x{secrets.token_hex(3)}")
              for thread in threads for n in range(MAX_SESSIONS_PER_THREAD)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        tokens = list(pool.map(lambda w: make_token(args.binary, ctx.secret, TENANT, sid=w[1], customer=w[2],
                                                    ttl=ctx.token_ttl), wanted))
    for (thread, sid, customer), token in zip(wanted, tokens):
        thread.identities.append((sid, customer, token))
    ctx.load_end = float("inf")
    for thread in threads:
        for _ in range(SESSIONS_PER_THREAD):
            session = thread.create()
            if not session.active:
                raise RuntimeError(f"setup: creating {session.sid} failed: {session.ops[-1].describe()}")
    say(f"{LOAD_THREADS} load threads, {LOAD_THREADS * SESSIONS_PER_THREAD} sessions created; load for {args.duration:g} s")

    load_start = ctx.load_start = now()
    ctx.load_end = load_start + args.duration
    injector = Injector(ctx, args.seed)
    watcher_stop = threading.Event()

    def watch():
        while not watcher_stop.is_set() and not ctx.stopping.is_set():
            for worker in ctx.workers:
                if worker.died_at is None and not worker.alive() and not ctx.stopping.is_set():
                    worker.died_at = now()
                    say(f"WORKER {worker.name} (pid {worker.pid}) EXITED with {worker.proc.returncode} "
                        f"during fault {record.fault_at(worker.died_at)}")
            watcher_stop.wait(0.2)

    watcher = threading.Thread(target=watch, name="watcher", daemon=True)
    watcher.start()
    for thread in threads:
        thread.start()
    if not args.no_faults:
        injector.start()
    for thread in threads:
        thread.join(max(0.0, ctx.load_end - now()) + 4 * HTTP_TIMEOUT)
    if injector.is_alive() or injector.ident is not None:
        injector.join(60)
    load_seconds = now() - load_start
    for thread in threads:
        if thread.is_alive():
            record.fail("harness", f"load thread {thread.name} did not stop")
        if thread.error:
            record.fail("harness", f"load thread {thread.name} failed:\n{thread.error}")
    if injector.error:
        record.fail("harness", f"fault injector failed:\n{injector.error}")
    if injector.is_alive():
        record.fail("harness", "the fault injector did not stop")
    say(f"load over after {load_seconds:.1f} s")

    # After the load: Redis must be up (a restart fault may have failed).
    if not ctx.redis.alive():
        record.fail("harness", "redis-server was not running after the load; restarting it for the checks")
        ctx.redis.start()
    ctx.redis.wait_up(30)

    # (v) Expiry: every expiry after the last restart gets exactly one event.
    expiry = check_expiry(ctx)

    watcher_stop.set()
    watcher.join(2)

    # (i), (ii): the ledger against Redis.
    sessions = [s for t in threads for s in t.sessions]
    ledger = check_ledger(ctx, sessions)

    # Worker logs.
    by_request, error_lines, other_lines = worker_log_lines(ctx)
    crash_lines = []
    for worker in ctx.workers:
        try:
            with open(worker.stderr_path, errors="replace") as f:
                for line in f:
                    if CRASH_PATTERNS.search(line):
                        crash_lines.append(f"{worker.name} stderr: {line.rstrip()}")
        except OSError:
            pass
    crash_lines += [line for line in other_lines if CRASH_PATTERNS.search(line)]

    return report(ctx, sessions, ledger, expiry, by_request, error_lines, crash_lines, load_seconds)


def check_expiry(ctx):
    """Creates anonymous sessions (TTL 4 s) of a second tenant after the last restart, subscribed to
    the tenant's channel first, and counts the expired events of each."""
    port = ctx.redis.port
    result = {"expected": 0, "evented_once": 0, "missing": [], "duplicates": [], "not_expired": [],
              "listeners_before": None, "flags_before": None, "listeners_after": None, "flags_after": None,
              "waited_for_listeners": 0.0}
    # Give the workers the time a fair reconnect takes to listen again (both must, after a restart).
    started = now()
    deadline = time.monotonic() + 15
    listeners, flags = expiry_listeners(port)
    while (listeners < len(ctx.workers) or not flags_notify_expired(flags)) and time.monotonic() < deadline:
        time.sleep(0.25)
        listeners, flags = expiry_listeners(port)
    result["listeners_before"], result["flags_before"] = listeners, flags
    result["waited_for_listeners"] = now() - started
    say(f"expiry check: {listeners} workers subscribed to __keyevent@0__:expired, "
        f"notify-keyspace-events '{flags}' (waited {result['waited_for_listeners']:.1f} s)")

    subscriber = Subscriber(port, layout.classic_channel(EXPIRY_TENANT))
    subscriber.start()
    client = Client(ctx.record, ctx.workers, random.Random(ctx.args.seed + 7))
    created = []
    try:
        for index in range(EXPIRY_SESSIONS):
            sid = f"exp-{index}-{secrets.token_hex(4)}"
            worker = ctx.workers[index % len(ctx.workers)]
            try:
                entry, _ = client.request("expiry-create", worker, "PUT",
                                          f"/session-context/{EXPIRY_TENANT}/context/{sid}?upsert=true",
                                          ctx.expiry_management,
                                          {"siteCode": "main", "context": {"x": "y"}, "metadata": {"version": 0}})
            except TransportError as error:
                entry = error.args[0]
            if entry.status == 204:
                created.append((sid, now()))
            else:
                ctx.record.fail("expiry", f"creating {sid}: {entry.describe()} {short(entry.body.decode('utf-8', 'replace'))}")
        result["expected"] = len(created)
        if not created:
            return result
        deadline = time.monotonic() + (created[-1][1] - now()) + ANONYMOUS_TTL + 10
        expected = {sid for sid, _ in created}
        while time.monotonic() < deadline:
            seen = {e.get("sessionId") for _, e in subscriber.events if e.get("type") == "expired"}
            if expected <= seen:
                time.sleep(2.0)  # a second event would come right after the first
                break
            time.sleep(0.2)
    finally:
        subscriber.stop()
    counts = collections.Counter(e.get("sessionId") for _, e in subscriber.events if e.get("type") == "expired")
    for sid, _ in created:
        exists = redis_cmd(port, "EXISTS", layout.session_key(EXPIRY_TENANT, sid, BUCKETS))
        if exists:
            result["not_expired"].append(sid)
        if counts[sid] == 1:
            result["evented_once"] += 1
        elif counts[sid] == 0:
            result["missing"].append(sid)
        else:
            result["duplicates"].append((sid, counts[sid]))
    _, entries = read_streams(port, EXPIRY_TENANT)
    in_stream = collections.Counter(e.get("sessionId") for _, e in entries if e.get("type") == "expired")
    result["stream_once"] = sum(1 for sid, _ in created if in_stream[sid] == 1)
    result["stream_wrong"] = [(sid, in_stream[sid]) for sid, _ in created if in_stream[sid] != 1]
    result["listeners_after"], result["flags_after"] = expiry_listeners(port)
    result["other_events"] = collections.Counter(e.get("type") for _, e in subscriber.events)
    return result


def read_stream(port, key):
    """Every entry of the stream `key` as (id, event dict)."""
    length = redis_cmd(port, "XLEN", key)
    entries, start = [], "-"
    for _ in range(length // 1000 + 2):
        page = redis_cmd(port, "XRANGE", key, start, "+", "COUNT", "1000")
        if not page:
            break
        for entry_id, fields in page:
            values = dict(zip(fields[0::2], fields[1::2]))
            try:
                entries.append((entry_id, json.loads(values.get("event", ""))))
            except ValueError:
                entries.append((entry_id, {"unparsable": values}))
        start = "(" + page[-1][0]
    return length, entries


def read_streams(port, tenant):
    """Every entry of the tenant's bucket streams, bucket after bucket, and the longest stream's
    length. A session's events are all in its bucket's stream, in order."""
    longest, entries = 0, []
    for key in layout.stream_keys(tenant, BUCKETS):
        length, found = read_stream(port, key)
        longest = max(longest, length)
        entries += found
    return longest, entries


def check_events(port, sessions, ledger):
    """The streams' events of the ledger's sessions against their versions in Redis."""
    longest, entries = read_streams(port, TENANT)
    result = {"entries": len(entries), "problems": [], "checked": 0, "skipped": None}
    if longest >= 90000:
        result["skipped"] = f"a bucket's stream holds {longest} entries and may have been trimmed"
        return result
    versions = collections.defaultdict(list)
    for _, event in entries:
        versions[event.get("sessionId")].append(event.get("version"))
    for session in sessions:
        key = layout.session_key(TENANT, session.sid, BUCKETS)
        stored = redis_cmd(port, "HGET", key, "_v")
        seen = versions.get(session.sid, [])
        top = int(stored) if stored and stored.isdigit() else 0
        result["checked"] += 1
        duplicates = sorted(v for v, n in collections.Counter(seen).items() if n > 1)
        missing = sorted(set(range(1, top + 1)) - set(seen))
        extra = sorted(v for v in set(seen) if not isinstance(v, int) or v > top or v < 1)
        if duplicates or missing or extra:
            result["problems"].append(
                f"session {session.sid} (_v {stored}): events for versions "
                + "; ".join(filter(None, [
                    f"missing {missing[:10]}" if missing else "",
                    f"more than once {duplicates[:10]}" if duplicates else "",
                    f"beyond the stored version {extra[:10]}" if extra else ""])))
    return result


def check_ledger(ctx, sessions):
    port = ctx.redis.port
    result = {"acked_ops": 0, "fields_checked": 0, "lost": [], "partial": [], "half_applied": [],
              "misplaced": [], "hashes": 0, "sessions": len(sessions)}
    for session in sessions:
        key = layout.session_key(TENANT, session.sid, BUCKETS)
        flat = redis_cmd(port, "HGETALL", key)
        fields = dict(zip(flat[0::2], flat[1::2]))
        acked = [op for op in session.ops if op.outcome == "acked"]
        result["acked_ops"] += len(acked)
        if not fields:
            if acked:
                result["lost"].append(f"session {session.sid}: the context is gone from Redis; "
                                      f"{len(acked)} acknowledged writes, the last {acked[-1].describe()}")
            continue
        state = state_from_hash(fields)
        keys = set(state) | {k for op in session.ops for k in op.effects}
        for field in sorted(keys):
            if any(field in op.effects for op in acked):
                result["fields_checked"] += 1
            ok, why = judge(session.ops, field, state.get(field, ABSENT))
            if not ok:
                result["lost"].append(f"session {session.sid} {field}: {why}")
        versions = [op.version for op in acked if op.version is not None]
        try:
            stored = int(fields.get("_v", "-1"))
        except ValueError:
            stored = -1
        if versions and stored < max(versions):
            result["lost"].append(f"session {session.sid}: _v is {fields.get('_v')}, the last acknowledged "
                                  f"version {max(versions)}")
        for problem in half_applied(session.ops, state):
            result["half_applied"].append(f"session {session.sid}: {problem}")

    # Every applied change publishes exactly one event, in the same script: the stream of the
    # session's bucket holds versions 1.._v of each context, each once.
    result["events"] = check_events(port, sessions, result)

    # (ii) every context hash of both tenants is whole, and in its session's bucket.
    for tenant in (TENANT, EXPIRY_TENANT):
        cursor = "0"
        while True:
            cursor, keys = redis_cmd(port, "SCAN", cursor, "MATCH", layout.session_key_pattern(tenant), "COUNT", "1000")
            for key in keys:
                parsed = layout.parse_session_key(key)
                if not parsed or parsed[0] != tenant or redis_cmd(port, "TYPE", key) != "hash":
                    continue
                result["hashes"] += 1
                if parsed[1] != layout.bucket(parsed[2], BUCKETS):
                    result["misplaced"].append(f"{key}: session {parsed[2]} belongs in bucket {layout.bucket(parsed[2], BUCKETS)}")
                flat = redis_cmd(port, "HGETALL", key)
                fields = dict(zip(flat[0::2], flat[1::2]))
                missing = [f for f in ("_v", "_c", "_m") if f not in fields]
                if missing:
                    result["partial"].append(f"{key} lacks {', '.join(missing)}: {short(fields, 300)}")
            if cursor == "0":
                break
    return result


def report(ctx, sessions, ledger, expiry, by_request, error_lines, crash_lines, load_seconds):
    record = ctx.record
    requests = record.requests
    load_requests = [r for r in requests if r.kind not in ("setup", "expiry-create")]
    print()
    print("=" * 100)
    print(f"chaos run: seed {ctx.args.seed}, {load_seconds:.1f} s of load, {LOAD_THREADS} threads, 2 workers")
    print("requests by kind (status: count):")
    by_kind = collections.defaultdict(collections.Counter)
    for r in requests:
        by_kind[r.kind][str(r.status) if r.status is not None else f"transport:{r.transport}"] += 1
    for kind in sorted(by_kind):
        counts = by_kind[kind]
        print(f"  {kind:14} {sum(counts.values()):6}  " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    total = len(load_requests)
    print(f"  total {total} during the load ({total / max(load_seconds, 0.001):.0f}/s), {len(requests)} in all")
    faults = collections.Counter(f.kind for f in record.faults)
    print("faults injected by kind: " + (", ".join(f"{k} {faults[k]}" for k in FAULT_KINDS) if faults else "none")
          + f" ({len(record.faults)} in all)")
    for fault in record.faults:
        print(f"  #{fault.number:<3} {fault.started:6.1f}s-{fault.ended if fault.ended else 0:6.1f}s {fault.kind}: {fault.detail}")
    status_503 = [r for r in requests if r.status == 503]
    print(f"503s: {len(status_503)}" + (" (" + ", ".join(f"during {k}: {v}" for k, v in sorted(
        collections.Counter(record.fault_at(r.t0).split(", ")[0].split(" ", 1)[-1] for r in status_503).items())) + ")"
        if status_503 else ""))
    transport = collections.Counter(r.transport for r in requests if r.transport)
    print("transport errors (no HTTP answer): " + (", ".join(f"{k} {v}" for k, v in transport.items()) or "0"))
    uncertain = sum(1 for s in sessions for op in s.ops if op.outcome == "uncertain")
    print(f"ledger: {ledger['sessions']} sessions, {ledger['acked_ops']} acknowledged writes, "
          f"{uncertain} unacknowledged that may have applied; {ledger['fields_checked']} acknowledged "
          f"(session, field) values checked in Redis; {ctx.reads_checked} reads checked against the ledger")
    print(f"lost: {len(ledger['lost'])}; partial contexts: {len(ledger['partial'])} of {ledger['hashes']} hashes; "
          f"half-applied writes: {len(ledger['half_applied'])}; hashes outside their session's bucket: {len(ledger['misplaced'])}")
    events = ledger["events"]
    print(f"events: the {BUCKETS} streams sc:events:{{{TENANT}:0..{BUCKETS - 1}}} hold {events['entries']} entries; "
          + (events["skipped"] if events["skipped"] else
             f"{events['checked']} sessions' versions checked, {len(events['problems'])} with a gap or a duplicate"))
    other_5xx = [r for r in requests if r.status is not None and r.status >= 500 and r.status != 503]
    print(f"5xx other than 503: {len(other_5xx)}; 409 after an unacknowledged write: {ctx.conflicts_after_uncertain}")
    oom_reads = []
    for r in ctx.read_503s:
        lines = by_request.get(r.request_id, [])
        if any("OOM" in line for line in lines):
            oom_reads.append((r, lines))
    print(f"reads answered 503: {len(ctx.read_503s)}, of them refused because Redis reached maxmemory (OOM in the worker's log): {len(oom_reads)}")
    malformed_bad = [m for m in record.malformed if not m[7]]
    print(f"malformed bodies: {len(record.malformed)} sent" + (", " if record.malformed else "") + ", ".join(
        f"{k}: {v}" for k, v in sorted(collections.Counter(
            str(m[3]) if m[3] else m[2] for m in record.malformed).items())) + f"; unexpected: {len(malformed_bad)}")
    restarts = [w for w in ctx.workers if not w.alive() or proc_start_time(w.pid) != w.started]
    print("workers: " + "; ".join(
        f"{w.name} pid {w.pid} " + ("alive, same process" if w not in restarts else
                                    f"EXITED (status {w.proc.returncode}) at {w.died_at or 0:.1f}s") for w in ctx.workers)
          + f"; restarts: {len(restarts)}")
    print(f"worker logs: {len(error_lines)} error-level lines, {len(crash_lines)} crash lines")
    last = f"{record.last_restart:.1f}s" if record.last_restart is not None else "none in this run"
    print(f"expiry after the last Redis restart ({last}): {expiry['evented_once']} of {expiry['expected']} "
          f"evented exactly once on pub/sub ({expiry.get('stream_once', 0)} in the stream); missing {len(expiry['missing'])}, duplicated {len(expiry['duplicates'])}, "
          f"not expired {len(expiry['not_expired'])}; listeners {expiry['listeners_before']} "
          f"(notify-keyspace-events '{expiry['flags_before']}') before, {expiry['listeners_after']} "
          f"('{expiry['flags_after']}') after")

    checks = []

    def check(name, ok, evidence):
        checks.append((name, ok, evidence))

    def with_logs(r):
        lines = by_request.get(r.request_id, [])
        return r.describe() + f" [fault: {record.fault_at(r.t0)}]" + "".join(f"\n      log {line[:400]}" for line in lines[:3])

    check("the load ran: requests made and writes acknowledged",
          total > 0 and ledger["acked_ops"] > 0 and not record.failures.get("harness"),
          record.failures.get("harness", []) + ([] if total and ledger["acked_ops"] else ["no load"]))
    check("0 acknowledged writes lost", not ledger["lost"], ledger["lost"])
    check("0 partial contexts (every hash has _v, _c, _m; no write half-applied)",
          not ledger["partial"] and not ledger["half_applied"], ledger["partial"] + ledger["half_applied"])
    events = ledger["events"]
    check(f"every context hash is in its session's bucket ({BUCKETS} buckets, FNV-1a)",
          not ledger["misplaced"], ledger["misplaced"])
    check("every applied change of the ledger's sessions has exactly one event in its bucket's stream",
          not events["problems"], events["problems"])
    check("0 5xx other than 503", not other_5xx,
          [with_logs(r) + f"\n      body {short(r.body.decode('utf-8', 'replace'), 200)}" for r in other_5xx])
    check("0 4xx on valid requests", not record.failures.get("4xx"), record.failures.get("4xx", []))
    check("reads agree with the acknowledged writes", not record.failures.get("reads"), record.failures.get("reads", []))
    check("no read refused because Redis reached maxmemory", not oom_reads,
          [with_logs(r) for r, _ in oom_reads])
    check("malformed bodies: 400/413 or the connection closed, never 5xx or a hang", not malformed_bad,
          [f"{m[0]} to {m[1]} at {m[6]:.1f}s: {m[2]} {m[3] or ''} (request id {m[5]}): {short(m[4].replace(chr(13), ''), 300)}"
           + "".join(f"\n      log {line[:400]}" for line in by_request.get(m[5], [])[:2])
           for m in malformed_bad])
    check("both workers alive with their pids, never restarted", not restarts,
          [f"{w.name} pid {w.pid} exited with {w.proc.returncode} at {w.died_at or 0:.1f}s during fault "
           f"{record.fault_at(w.died_at or 0)}; stderr tail:\n      " + w.stderr_tail().replace("\n", "\n      ")
           for w in restarts])
    check("worker logs: no error-level line, no crash", not error_lines and not crash_lines,
          error_lines + crash_lines)
    expiry_ok = (expiry["expected"] == EXPIRY_SESSIONS and expiry["evented_once"] == expiry["expected"]
                 and not expiry.get("stream_wrong") and not record.failures.get("expiry"))
    check("every expiry after the last Redis restart evented exactly once", expiry_ok,
          record.failures.get("expiry", [])
          + ([f"{len(expiry['missing'])} sessions expired without an event (gone from Redis: "
              f"{len([s for s in expiry['missing'] if s not in expiry['not_expired']])}), e.g. "
              + ", ".join(expiry["missing"][:3])] if expiry["missing"] else [])
          + [f"{sid}: {count} expired events" for sid, count in expiry["duplicates"]]
          + [f"{sid}: {count} expired entries in the stream {layout.session_stream_key(EXPIRY_TENANT, sid, BUCKETS)}"
             for sid, count in expiry.get("stream_wrong", [])[:5]]
          + ([f"still in Redis {ANONYMOUS_TTL + 10} s after their TTL: " + ", ".join(expiry["not_expired"][:5])]
             if expiry["not_expired"] else [])
          + ([f"workers subscribed to __keyevent@0__:expired: {expiry['listeners_before']} of {len(ctx.workers)}, "
              f"notify-keyspace-events '{expiry['flags_before']}' after waiting "
              f"{expiry['waited_for_listeners']:.1f} s"] if not expiry_ok else []))

    print()
    for name, ok, evidence in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
        if not ok:
            for line in evidence[:8]:
                print(f"      {line}")
            if len(evidence) > 8:
                print(f"      ... and {len(evidence) - 8} more")
    passed = sum(1 for _, ok, _ in checks if ok)
    failed = len(checks) - passed
    print(f"seed {ctx.args.seed}: replay with scripts/chaos --duration {ctx.args.duration:g} --seed {ctx.args.seed}")
    print(f"chaos: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
