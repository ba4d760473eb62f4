import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RedisClient
import SessionContextApp
import SessionStore
import TestSupport
import Testing

/// The findings of the hardening review (issue 21), each reproduced against a real worker and a
/// private redis-server: a client or an operator's fault must never crash the worker, half-apply
/// a write, silence expiry events, or get a 500.
@Suite("Hardening: hostile clients and Redis faults", .serialized)
struct HardeningFaultTests {
    @Test("A flood of idle connections past the open-file limit: the worker stays up, does not spin, logs its limit, and serves once they close")
    func connectionFlood() async throws {
        let redis = try RedisServer.start()
        defer { redis.stop() }
        let worker = try await WorkerProcess.start(
            environment: WorkerProcessTests.environment(redis: redis.url).merging(["SESSION_CONTEXT_LOG_LEVEL": "info"]) { $1 },
            openFiles: 1024
        )
        defer { Task { await worker.kill() } }
        // The limit and what it leaves for HTTP: 1024 less the pool (2 or one per core), 256
        // event-stream subscribers and 64 more.
        #expect(worker.log.contains("openFileLimit=1024"), "\(worker.log.prefix(2000))")
        #expect(worker.log.contains("maxConnections=\(1024 - ServiceConfiguration().reservedFiles)"))

        // 1,100 idle connections in batches of 100, 0.2 s apart, as the finding sent them.
        var flood: [Int32] = []
        defer { for socket in flood { close(socket) } }
        for _ in 0..<11 {
            for _ in 0..<100 { if let socket = Self.connect(port: worker.port) { flood.append(socket) } }
            try await Task.sleep(for: .milliseconds(200))
        }
        // Past its limit the worker stops accepting: the kernel queues a backlog more, and the
        // rest time out connecting. More are open than the worker allows.
        #expect(flood.count > 1024 - ServiceConfiguration().reservedFiles, "\(flood.count) connections open")
        // Held past the limit for 2 s: the worker neither crashes nor spins on accept.
        let before = try #require(worker.cpuTime)
        try await Task.sleep(for: .seconds(2))
        let used = try #require(worker.cpuTime) - before
        #expect(worker.isRunning, "the worker died: \(worker.log.suffix(3000))")
        #expect(used < .milliseconds(500), "the worker burned \(used) of CPU in 2 s while flooded")

        // Once they go, it serves again.
        for socket in flood { close(socket) }
        flood = []
        let serving = try await eventually(attempts: 100, every: .milliseconds(100)) {
            try await TestClient.withClient(host: "127.0.0.1", port: worker.port) { client in
                try await client.execute(TestClient.Request("/health/live", method: .get)).status == .ok
            }
        }
        #expect(serving)
        #expect(worker.isRunning)
    }

    @Test("Expiry events go on after Redis restarts: the notification setting is applied again on reconnect")
    func expiryEventsAfterRedisRestart() async throws {
        let server = try RedisServer.start()
        defer { server.stop() }
        let worker = try await WorkerProcess.start(
            environment: WorkerProcessTests.environment(redis: server.url).merging(["SESSION_CONTEXT_ANONYMOUS_TTL": "1"]) { $1 }
        )
        defer { Task { await worker.kill() } }
        let probe = RedisProbe(endpoint: server.endpoint)
        #expect(try await eventually { try await Self.notificationsEnabled(probe) }, "never enabled at start-up")

        // Down 1 s, then down 3 s: each time Redis comes back without the setting.
        for downtime in [1, 3] {
            server.kill()
            try await Task.sleep(for: .seconds(downtime))
            try server.relaunch()
            #expect(try await eventually(attempts: 80, every: .milliseconds(100)) { try await Self.notificationsEnabled(probe) }, "not enabled again after \(downtime) s down")
        }
        #expect(try await eventually { try await probe.expiryListeners() >= 1 })

        // A session that expires now gets its one event.
        let tenant = Fixture.uniqueTenant()
        let token = try await Tokens.sign(TokenClaims(tenant: tenant, expires: .in(3600), scope: "session_context.context_manage"))
        let collector = try await EventCollector.subscribe(endpoint: server.endpoint, tenant: tenant)
        try await TestClient.withClient(host: "127.0.0.1", port: worker.port) { client async throws in
            let response = try await client.execute(
                TestClient.Request("/session-context/\(tenant)/context/short?upsert=true", method: .put, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"], body: ByteBuffer(string: #"{"metadata":{"version":0}}"#))
            )
            #expect(response.status == .noContent)
        }
        let events = try await collector.collect(until: { $0[member: "type"]?.stringValue == "expired" }, timeout: .seconds(8))
        #expect(events.last?[member: "sessionId"]?.stringValue == "short")
        #expect(worker.isRunning)
    }

    @Test("Malformed and oversize chunked bodies and a body cut short are 400 or 413, change nothing, and log no error")
    func malformedBodies() async throws {
        try await Self.withWorker { redis, worker, tenant, token in
            let path = "/session-context/\(tenant)/context/s1"
            try await TestClient.withClient(host: "127.0.0.1", port: worker.port) { client async throws in
                let response = try await client.execute(
                    TestClient.Request(path + "?upsert=true", method: .put, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"], body: ByteBuffer(string: #"{"siteCode":"main","metadata":{"version":0}}"#))
                )
                #expect(response.status == .noContent)
            }
            let probe = RedisProbe(endpoint: redis.endpoint)
            let key = SessionLayout().address(tenant: tenant, sessionId: "s1").key
            let stored = try await probe.hash(key)

            let body = #"{"siteCode":"changed","metadata":{"version":1}}"#
            let head = "PUT \(path) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\n"
            let chunked = head + "Transfer-Encoding: chunked\r\n\r\n"
            let big = #"{"siteCode":""# + String(repeating: "x", count: 70 * 1024) + #"","metadata":{"version":1}}"#
            let cases: [(name: String, request: String, status: String)] = [
                ("chunk size zz", chunked + "zz\r\n\(body)\r\n0\r\n\r\n", "400"),
                ("chunk size -1a", chunked + "-1a\r\n\(body)\r\n0\r\n\r\n", "400"),
                ("chunk size of 20 hex digits", chunked + "FFFFFFFFFFFFFFFFFFFF\r\n\(body)\r\n0\r\n\r\n", "400"),
                ("chunk smaller than its data", chunked + "5\r\n\(body)\r\n0\r\n\r\n", "400"),
                ("70 KB chunked body", chunked + String(big.utf8.count, radix: 16) + "\r\n\(big)\r\n0\r\n\r\n", "413"),
            ]
            for (name, request, status) in cases {
                let connection = try await RawConnection.open(port: worker.port)
                let reply = await connection.send(request, timeout: .seconds(5))
                #expect(reply.hasPrefix("HTTP/1.1 \(status)"), "\(name): \(reply.prefix(300))")
                #expect(reply.contains(#""code":\#(status)"#), "\(name): \(reply.prefix(300))")
            }
            // Content-Length 40 bytes more than sent, then the client closes its sending side.
            let short = try await RawConnection.open(port: worker.port)
            let reply = await short.sendThenHalfClose(head + "Content-Length: \(body.utf8.count + 40)\r\n\r\n\(body)", timeout: .seconds(5))
            #expect(reply.hasPrefix("HTTP/1.1 400"), "body cut short: \(reply.prefix(300))")

            #expect(try await probe.hash(key) == stored)
        }
    }

    @Test("A request head the parser refuses gets the API's JSON 400 and a closed connection, after the answers due before it")
    func malformedHeads() async throws {
        try await Self.withWorker { _, worker, tenant, token in
            let events = "/session-context/\(tenant)/events"
            let long = String(repeating: "%C2%BA", count: 15_000)
            let cases: [(name: String, request: String, message: String)] = [
                // What the fuzzer sent: a query of ~90 KB on the SSE route, with a Last-Event-ID.
                ("request line over 80 KiB", "GET \(events)?from=\(long) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nLast-Event-ID: 0\r\n\r\n", "larger than the limit"),
                ("header over 80 KiB", "GET \(events) HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 90 * 1024))\r\n\r\n", "larger than the limit"),
                ("1,001 header fields", "GET /health/live HTTP/1.1\r\n" + (0...1000).map { "X-F\($0): 1\r\n" }.joined() + "\r\n", "larger than the limit"),
                ("bad method", "G(T /health/live HTTP/1.1\r\nHost: x\r\n\r\n", "invalid method"),
                ("bad version", "GET /health/live HTTP/9\r\nHost: x\r\n\r\n", "malformed"),
                ("header line without a colon", "GET /health/live HTTP/1.1\r\nHost x\r\n\r\n", "malformed"),
            ]
            for (name, request, message) in cases {
                let connection = try await RawConnection.open(port: worker.port)
                let reply = await connection.send(request, timeout: .seconds(5))
                #expect(reply.hasPrefix("HTTP/1.1 400"), "\(name): \(reply.prefix(300))")
                #expect(reply.lowercased().contains("content-type: application/json"), "\(name): \(reply.prefix(300))")
                #expect(reply.lowercased().contains("connection: close"), "\(name): \(reply.prefix(300))")
                #expect(reply.contains(#""code":400"#) && reply.contains(message), "\(name): \(reply.prefix(300))")
            }
            // Two good requests pipelined before a broken one: both answered first, in order, then the 400.
            let pipelined = try await RawConnection.open(port: worker.port)
            let good = "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\nGET /session-context/\(tenant)/context/none HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n\r\n"
            let reply = await pipelined.send(good + "G(T / HTTP/1.1\r\n\r\n", timeout: .seconds(5))
            let statuses = reply.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0.prefix(3) }
            #expect(statuses == ["200", "404", "400"], "\(reply.prefix(600))")
            #expect(reply.hasSuffix(#"invalid method"}"#), "\(reply.suffix(200))")
            // The worker still serves.
            let connection = try await RawConnection.open(port: worker.port)
            #expect(await connection.send("GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout: .seconds(5)).hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test("At maxmemory the storefront read still answers and restarts the idle clock; writes get 503 and change nothing")
    func readWhileRedisIsFull() async throws {
        let server = try RedisServer.start()
        defer { server.stop() }
        let fixture = try Fixture(endpoint: server.endpoint) { $0.anonymousTTL = 600 }
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        let me = try await fixture.storefrontToken(sid: sid)
        let probe = RedisProbe(endpoint: server.endpoint)
        try await fixture.withApp { client async throws in
            try await StorefrontAPITests.create(client, fixture, sid: sid, body: #"{"siteCode":"main","context":{"a":"1"},"metadata":{"version":0}}"#)
            _ = try await probe.send(RESPCommand("EXPIRE", fixture.key(sid), "100"))
            _ = try await probe.send(RESPCommand("CONFIG", "SET", "maxmemory-policy", "noeviction"))
            _ = try await probe.send(RESPCommand("CONFIG", "SET", "maxmemory", "1"))
            defer { Task { _ = try? await probe.send(RESPCommand("CONFIG", "SET", "maxmemory", "0")) } }

            let read = try await client.send(.get, "/session-context/\(fixture.tenant)/me/context", token: me)
            #expect(read.status == .ok)
            #expect(try read.json[member: "siteCode"]?.stringValue == "main")
            #expect(try read.json[member: "context"]?[member: "a"]?.stringValue == "1")
            #expect(try await probe.pttl(fixture.key(sid)) > 500_000, "the idle clock was not restarted")
            #expect(try await client.send(.get, "/session-context/\(fixture.tenant)/context/\(sid)", token: token).status == .ok)

            let before = try await probe.hash(fixture.key(sid))
            let write = try await client.send(.post, "/session-context/\(fixture.tenant)/context/\(sid)/attributes", token: token, json: #"{"key":"b","value":"2"}"#)
            #expect(write.status == .serviceUnavailable)
            #expect(try await probe.hash(fixture.key(sid)) == before)

            _ = try await probe.send(RESPCommand("CONFIG", "SET", "maxmemory", "0"))
            #expect(try await client.send(.post, "/session-context/\(fixture.tenant)/context/\(sid)/attributes", token: token, json: #"{"key":"b","value":"2"}"#).status == .noContent)
        }
    }

    /// Runs `body` with a worker process on a private redis-server, a tenant of its own and a
    /// management token for it; then expects no error line in the worker's log.
    private static func withWorker(
        _ body: (RedisServer, WorkerProcess, String, String) async throws -> Void
    ) async throws {
        let redis = try RedisServer.start()
        defer { redis.stop() }
        let worker = try await WorkerProcess.start(environment: WorkerProcessTests.environment(redis: redis.url))
        defer { Task { await worker.kill() } }
        let tenant = Fixture.uniqueTenant()
        let token = try await Tokens.sign(TokenClaims(tenant: tenant, expires: .in(3600), scope: "session_context.context_manage"))
        try await body(redis, worker, tenant, token)
        #expect(worker.isRunning)
        let errors = worker.log.split(separator: "\n").filter { $0.contains(" error ") || $0.contains("unexpected error") || $0.contains("critical") }
        #expect(errors.isEmpty, "error lines: \(errors)")
    }

    private static func notificationsEnabled(_ probe: RedisProbe) async throws -> Bool {
        let flags = try await probe.send(RESPCommand("CONFIG", "GET", "notify-keyspace-events")).array?.last?.string ?? ""
        return flags.contains("E") && (flags.contains("x") || flags.contains("A"))
    }

    /// A blocking TCP connect to 127.0.0.1:`port`; the socket, or nil.
    private static func connect(port: Int) -> Int32? {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return nil }
        // A connect the listener's full backlog leaves unanswered gives up after 100 ms (on Linux
        // the send timeout bounds connect).
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socket)
            return nil
        }
        return socket
    }
}
