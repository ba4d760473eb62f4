#!/usr/bin/env python3
"""Where the worker's instructions go beyond the bare Hummingbird route, from the callgrind files
scripts/bench-instructions keeps (.run/callgrind): writes bench/results/instructions-profile.md.

Three views, all per request (the measured requests of each case):
  1. our middleware's own cost: each middleware's direct callees other than the rest of the chain
     (`next`, the task switch), plus its own instructions (callgrind_annotate --tree=calling);
  2. areas: the inclusive cost of synchronous functions (the access line, the router, HTTP/1 parsing and
     writing, the Redis client's parts, the snapshot and its JSON, runtime metadata look-ups), for our
     GET, near-cache GET and /health/live against the bare route. Inclusive costs of async functions
     are not shown: callgrind follows a task's resumptions, not its logical calls;
  3. exclusive instructions by library and the symbols that grew most, GET against the bare route.

  callgrind_breakdown.py --dir .run/callgrind --requests 2000 --out bench/results/instructions-profile
"""
import argparse
import collections
import re
import shutil
import subprocess

GET, NEAR, LIVE, BARE = "GET_context", "GET__near_cache", "_health_live", "bare_Hummingbird__health_live"
TITLES = {GET: "GET", NEAR: "near-cache GET", LIVE: "our /health/live", BARE: "bare /health/live"}
MIDDLEWARE = ["RequestLogMiddleware.handle", "RequestMetricsMiddleware.handle", "ErrorMiddleware.handle", "TokenAuthMiddleware.handle"]
CHAIN = re.compile(r"swift_task_switch|thunk for @callee_guaranteed @async|MiddlewareResponder|protocol witness for MiddlewareProtocol.handle|"
                   r"protocol witness for HTTPResponder|RouterResponder.respond|constructResponder|closure #1 in RouterMethods|"
                   r"ManagementController.get|HealthController.live|implicit closure .* in .*endpoints.getter|MiddlewareGroup")
AREAS = [
    ("access line: TextLogHandler.log (StreamLogHandler: metadata merged and prettified, timestamp, write)", r"^protocol witness for LogHandler.log\(event:\) in conformance TextLogHandler$"),
    ("  of it StreamLogHandler.prettify", r"^StreamLogHandler.prettify"),
    ("  of it StreamLogHandler.prepareMetadata (dictionary merges)", r"prepareMetadata"),
    ("access line: duration_ms, String(format:)", r"^String.init\(format:locale:arguments:\)$"),
    ("logger metadata set per request (Logger.subscript.setter)", r"^Logger.subscript.setter$"),
    ("request id (RequestLogMiddleware.requestId)", r"^static RequestLogMiddleware.requestId\(from:\)$"),
    ("router: RouterTrie.resolve", r"^RouterTrie.resolve\(_:\)$"),
    ("HTTP/1 request decoding (HTTP1ToHTTPServerCodec.channelRead)", r"^HTTP1ToHTTPServerCodec.channelRead\(context:data:\)$"),
    ("  of it HTTPFields.init (request headers)", r"^specialized HTTPFields.init\(_:splitCookie:\)$"),
    ("response writing (NIOAsyncChannelHandler._doOutboundWrites)", r"NIOAsyncChannelHandler._doOutboundWrites"),
    ("token: TokenClaims.hasAnyScope", r"^TokenClaims.hasAnyScope\(of:\)$"),
    ("token: VerifiedTokenCache.claims", r"^VerifiedTokenCache.claims\(for:now:\)$"),
    ("path: AppRequestContext.pathSessionId", r"^AppRequestContext.pathSessionId\(\)$"),
    ("metrics: RequestMetrics.record", r"^RequestMetrics.record"),
    ("Redis: RedisConnectionPool.connection()", r"^RedisConnectionPool.connection\(\)$"),
    ("Redis: command encoding (RESPCommand.init)", r"RESPCommand.init\(argumentCount:capacity:\)$"),
    ("Redis: RedisChannelHandler.write + flush", r"^RedisChannelHandler.(write\(context:data:promise:\)|flush\(context:\))$"),
    ("Redis: reply decoding (RESPReplyDecoder.channelRead, hiredis)", r"^RESPReplyDecoder.channelRead\(context:data:\)$"),
    ("snapshot: SessionSnapshot.init(sessionId:hgetall:)", r"SessionSnapshot.init\(sessionId:hgetall:\)$"),
    ("JSON: SessionSnapshot.renderJSON", r"^SessionSnapshot.renderJSON\(\)$"),
    ("near cache (NearCache.*)", r"^NearCache\."),
    ("runtime generic metadata look-ups (_swift_getGenericMetadata)", r"^_swift_getGenericMetadata"),
    ("dynamic casts (swift_dynamicCast: NIOAny, varargs)", r"^swift_dynamicCast$"),
]
LINE = re.compile(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(?:([*><])\s+)?\S*?:(.*?)(?: \((\d[\d,]*)x\))? \[(.*?)\]\s*$")


def annotate(path: str, *options: str) -> list[str]:
    demangle = shutil.which("swift-demangle")
    text = subprocess.run(["callgrind_annotate", "--threshold=100", *options, path], capture_output=True, text=True, check=True).stdout
    if demangle:
        text = subprocess.run([demangle, "--simplified"], input=text, capture_output=True, text=True, check=True).stdout
    return text.splitlines()


def parse(lines: list[str]):
    for line in lines:
        match = LINE.match(line)
        if match:
            yield int(match.group(1).replace(",", "")), match.group(2), match.group(3).replace("'2", "").strip(), match.group(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", default=".run/callgrind")
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--out", required=True, help="path without extension")
    parser.add_argument("--when", default="")
    args = parser.parse_args()
    n = args.requests
    files = {case: f"{args.dir}/callgrind.{case}.out" for case in TITLES}
    exclusive, by_library, inclusive = {}, {}, {}
    for case, path in files.items():
        exclusive[case], by_library[case], inclusive[case] = collections.Counter(), collections.Counter(), []
        for cost, _, name, library in parse(annotate(path)):
            exclusive[case][name] += cost / n
            library = library.split("/")[-1]
            by_library[case]["the binary (our code, Hummingbird, NIO, swift-log, …)" if library.endswith(".nodebug") else library] += cost / n
        inclusive[case] = [(cost / n, name) for cost, _, name, _ in parse(annotate(path, "--inclusive=yes"))]
    totals = {case: sum(exclusive[case].values()) for case in TITLES}

    lines = [
        "# Where the instructions go (callgrind)",
        "",
        f"Made by `scripts/load/callgrind_breakdown.py` from the callgrind files of the last pass of `scripts/bench --instructions`"
        f"{' (' + args.when + ')' if args.when else ''}; instructions per request over {n:,} measured requests. See"
        " [instructions.md](instructions.md) for the method. Totals: "
        + ", ".join(f"{TITLES[case]} {totals[case]:,.0f}" for case in TITLES) + ".",
        "",
        "## Our middleware's own cost (GET)",
        "",
        "Each middleware's own instructions and its direct callees, without the rest of the chain.",
        "",
        "| middleware | own instructions per request | largest parts |",
        "|---|---:|---|",
    ]
    tree = list(parse(annotate(files[GET], "--tree=calling", "--inclusive=yes")))
    own = collections.defaultdict(collections.Counter)
    current = None
    for cost, kind, name, _ in tree:
        if kind == "*":
            current = next((pattern for pattern in MIDDLEWARE if pattern in name), None)
        elif kind == ">" and current and not CHAIN.search(name):
            own[current][name] += cost / n
    for pattern in MIDDLEWARE:
        self_cost = sum(value for name, value in exclusive[GET].items() if pattern in name)
        parts = own[pattern]
        total = self_cost + sum(parts.values())
        largest = "; ".join(f"{name[:70]} {value:,.0f}" for name, value in parts.most_common(5))
        lines.append(f"| {pattern.split('.')[0]} | {total:,.0f} | {largest} |")
    lines += [
        "",
        "## Areas: inclusive instructions per request",
        "",
        "| area | " + " | ".join(TITLES[case] for case in (GET, NEAR, LIVE, BARE)) + " | GET minus bare |",
        "|---|" + "---:|" * 5,
    ]
    for label, pattern in AREAS:
        regex = re.compile(pattern)
        values = {case: max((cost for cost, name in inclusive[case] if regex.search(name)), default=0) for case in TITLES}
        lines.append(f"| {label} | " + " | ".join(f"{values[case]:,.0f}" for case in (GET, NEAR, LIVE, BARE)) + f" | {values[GET] - values[BARE]:+,.0f} |")
    lines += [
        "",
        "## Exclusive instructions by library (GET against the bare route)",
        "",
        "| library | GET | bare | difference |",
        "|---|---:|---:|---:|",
    ]
    for library in sorted(set(by_library[GET]) | set(by_library[BARE]), key=lambda key: -(by_library[GET][key] - by_library[BARE][key])):
        if max(by_library[GET][library], by_library[BARE][library]) >= 50:
            lines.append(f"| {library} | {by_library[GET][library]:,.0f} | {by_library[BARE][library]:,.0f} | {by_library[GET][library] - by_library[BARE][library]:+,.0f} |")
    lines += [
        f"| total | {totals[GET]:,.0f} | {totals[BARE]:,.0f} | {totals[GET] - totals[BARE]:+,.0f} |",
        "",
        "## The symbols that grew most (exclusive, GET against the bare route)",
        "",
        "| symbol | GET | bare | difference |",
        "|---|---:|---:|---:|",
    ]
    growth = sorted(set(exclusive[GET]) | set(exclusive[BARE]), key=lambda key: -(exclusive[GET][key] - exclusive[BARE][key]))
    for name in growth[:30]:
        shown = name.replace("|", "\\|")[:110]
        lines.append(f"| `{shown}` | {exclusive[GET][name]:,.0f} | {exclusive[BARE][name]:,.0f} | {exclusive[GET][name] - exclusive[BARE][name]:+,.0f} |")
    text = "\n".join(lines) + "\n"
    with open(args.out + ".md", "w") as out:
        out.write(text)
    print(text)


if __name__ == "__main__":
    main()
