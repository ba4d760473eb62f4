import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RedisClient
import SessionContextApp
import SessionStore
import Synchronization
import TestSupport
import Testing

@Suite("The worker process", .serialized)
struct WorkerProcessTests {
    static func environment(redis: String) -> [String: String] {
        ["REDIS_URL": redis, "SESSION_CONTEXT_JWT_SECRET": Fixture.secret, "SESSION_CONTEXT_LOG_LEVEL": "warning"]
    }

    @Test("SIGTERM under load: requests in flight finish with success, the process exits 0")
    func gracefulShutdown() async throws {
        let redis = try RedisServer.start(arguments: ["--enable-debug-command", "yes"])
        defer { redis.stop() }
        let worker = try await WorkerProcess.start(environment: Self.environment(redis: redis.url))
        let tenant = Fixture.uniqueTenant()
        let token = try await Tokens.sign(TokenClaims(tenant: tenant, expires: .in(3600), scope: "session_context.context_manage"))
        let sid = "graceful"
        let base = "/session-context/\(tenant)/context/\(sid)"
        let headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
        try await TestClient.withClient(host: "127.0.0.1", port: worker.port) { client async throws in
            let created = try await client.execute(TestClient.Request(base + "?upsert=true", method: .put, headers: headers, body: ByteBuffer(string: #"{"metadata":{"version":0}}"#)))
            #expect(created.status == .noContent)
        }

        let terminatedAt = Mutex<ContinuousClock.Instant?>(nil)
        let answered = AnswerCount()
        let clients = 12
        // Each client: one request at a time on its own keep-alive connection until the server goes away.
        let outcomes = try await withThrowingTaskGroup(of: [(start: ContinuousClock.Instant, end: ContinuousClock.Instant, status: Int?)].self) { group in
            for index in 0..<clients {
                group.addTask {
                    do {
                        return try await TestClient.withClient(host: "127.0.0.1", port: worker.port) { client async throws in
                            var results: [(start: ContinuousClock.Instant, end: ContinuousClock.Instant, status: Int?)] = []
                            var counter = 0
                            while true {
                                counter += 1
                                let start = ContinuousClock.now
                                do {
                                    let response = try await client.execute(
                                        TestClient.Request(
                                            base + "/attributes", method: .post, headers: headers,
                                            body: ByteBuffer(string: #"{"key":"c\#(index)","value":"\#(counter)"}"#)
                                        )
                                    )
                                    results.append((start, .now, Int(response.status.code)))
                                    answered.add()
                                } catch {
                                    results.append((start, .now, nil))
                                    return results
                                }
                            }
                        }
                    } catch {
                        return []
                    }
                }
            }
            // Let the load run until every client could have had two answers (not for a fixed time:
            // on a loaded machine 300 ms once passed before any was answered), then freeze Redis for
            // 600 ms so that every client has a request in flight, and send SIGTERM in the middle of that.
            let loadDeadline = ContinuousClock.now + .seconds(20)
            while answered.value < 2 * clients, ContinuousClock.now < loadDeadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let probe = RedisProbe(endpoint: redis.endpoint)
            group.addTask {
                _ = try? await probe.send(RESPCommand("DEBUG", "SLEEP", "0.6"))
                return []
            }
            try await Task.sleep(for: .milliseconds(200))
            terminatedAt.withLock { $0 = .now }
            worker.terminate()
            var all: [(start: ContinuousClock.Instant, end: ContinuousClock.Instant, status: Int?)] = []
            for try await results in group { all.append(contentsOf: results) }
            return all
        }
        let exitCode = await worker.waitForExit(timeout: 15)
        let sigterm = try #require(terminatedAt.withLock { $0 })
        let before = outcomes.filter { $0.start < sigterm }
        #expect(before.count > clients)
        // Every client had a request held in Redis when SIGTERM came: all of them were answered after it.
        #expect(before.filter { $0.end > sigterm && $0.status == 204 }.count == clients)
        // Every request sent before SIGTERM got a successful answer.
        #expect(before.allSatisfy { $0.status == 204 }, "\(before.filter { $0.status != 204 }.count) requests in flight failed")
        // Nothing was answered with a server error; requests after the stop were refused, not failed.
        #expect(outcomes.allSatisfy { $0.status == nil || $0.status == 204 })
        #expect(exitCode == 0, "\(worker.log)")
        let stored = try await RedisProbe(endpoint: redis.endpoint).hash(SessionLayout().address(tenant: tenant, sessionId: sid).key)
        let acknowledged = outcomes.filter { $0.status == 204 }.count
        #expect(Int(stored["_v"] ?? "0") == 1 + acknowledged)
    }

    @Test("A log pipe whose reader is gone does not stop the worker: its lines are dropped, requests still answered")
    func closedLogPipe() async throws {
        let redis = try RedisServer.start()
        defer { redis.stop() }
        // The reader is gone before the worker starts: its first lines, at start-up before NIO
        // (which ignores SIGPIPE once it opens a socket) has opened any, meet a broken pipe too.
        let pipe = Pipe()
        try pipe.fileHandleForReading.close()
        let worker = try await WorkerProcess.start(
            environment: Self.environment(redis: redis.url).merging(["SESSION_CONTEXT_LOG_LEVEL": "info"]) { $1 },
            standardOutput: pipe.fileHandleForWriting
        )
        defer { Task { await worker.kill() } }
        try? pipe.fileHandleForWriting.close()
        // Each request's access line is written at once (15 ms apart: LogOutput batches only
        // lines that come closer); without the reader each write fails (SIGPIPE, were it not ignored).
        for _ in 0..<10 {
            let status = try await TestClient.withClient(host: "127.0.0.1", port: worker.port) { try await $0.get("/health/live").status }
            #expect(status == .ok)
            try await Task.sleep(for: .milliseconds(15))
        }
        #expect(worker.isRunning)
    }

    @Test("A bad setting stops start-up with a message that names it")
    func badConfiguration() throws {
        let environment = ["SESSION_CONTEXT_JWT_SECRET": Fixture.secret]
        var result = try WorkerProcess.run(["serve", "--anonymous-ttl", "0"], environment: environment)
        #expect(result.status != 0)
        #expect(result.output.contains("anonymous-ttl"))
        result = try WorkerProcess.run(["serve"], environment: environment.merging(["SESSION_CONTEXT_PORT": "eighty"]) { $1 })
        #expect(result.status != 0)
        #expect(result.output.contains("SESSION_CONTEXT_PORT"))
        result = try WorkerProcess.run(["serve", "--redis-url", "http://nope"], environment: environment)
        #expect(result.status != 0)
        #expect(result.output.contains("Redis URL"))
        result = try WorkerProcess.run(["serve", "--jwt-secret", "short"])
        #expect(result.status != 0)
        #expect(result.output.contains("jwt-secret"))
        result = try WorkerProcess.run(["serve", "--log-format", "xml"], environment: environment)
        #expect(result.status != 0)
        #expect(result.output.contains("log-format"))
    }

    @Test("--help names every environment variable")
    func help() throws {
        let result = try WorkerProcess.run(["serve", "--help"])
        #expect(result.status == 0)
        for variable in [
            "SESSION_CONTEXT_HOST", "SESSION_CONTEXT_PORT", "REDIS_URL", "SESSION_CONTEXT_JWT_SECRET", "SESSION_CONTEXT_JWKS",
            "SESSION_CONTEXT_ANONYMOUS_TTL", "SESSION_CONTEXT_CUSTOMER_TTL", "SESSION_CONTEXT_BODY_LIMIT", "SESSION_CONTEXT_MANAGE_SCOPES",
            "SESSION_CONTEXT_REDIS_POOL_SIZE", "SESSION_CONTEXT_REDIS_TIMEOUT_MS", "SESSION_CONTEXT_REDIS_CONNECT_TIMEOUT_MS",
            "SESSION_CONTEXT_INSTANCE_ID", "SESSION_CONTEXT_LOG_LEVEL", "SESSION_CONTEXT_LOG_FORMAT", "SESSION_CONTEXT_SHUTDOWN_TIMEOUT",
            "SESSION_CONTEXT_STREAM_MAX_LENGTH", "SESSION_CONTEXT_EXPIRY_EVENTS", "SESSION_CONTEXT_NEAR_CACHE_SIZE",
            "SESSION_CONTEXT_SSE_HEARTBEAT", "SESSION_CONTEXT_SSE_WRITE_TIMEOUT_MS", "SESSION_CONTEXT_SSE_MAX_CLIENTS",
            "SESSION_CONTEXT_MAX_ATTRIBUTES", "SESSION_CONTEXT_MAX_VALUE_BYTES", "SESSION_CONTEXT_IDLE_TIMEOUT", "SESSION_CONTEXT_SHUTDOWN_DRAIN_MS",
        ] {
            #expect(result.output.contains(variable), "\(variable)")
        }
    }

    @Test("JSON logs: one object per line, a request line with its id, the start-up line with the secret masked and the executor")
    func jsonLogs() async throws {
        let environment = Self.environment(redis: try RedisServer.sharedURL())
            .merging(["SESSION_CONTEXT_LOG_FORMAT": "json", "SESSION_CONTEXT_LOG_LEVEL": "info"]) { $1 }
        let worker = try await WorkerProcess.start(environment: environment)
        try await TestClient.withClient(host: "127.0.0.1", port: worker.port) { client async throws in
            _ = try await client.get("/health/live", headers: [HTTPField.Name("X-Request-Id")!: "req-42"])
        }
        // The same route through the router (a request that closes its connection goes there).
        let routed = try await RawConnection.open(port: worker.port)
        _ = await routed.send("GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-Id: req-43\r\nConnection: close\r\n\r\n", timeout: .seconds(5))
        try await Task.sleep(for: .milliseconds(200))
        let log = worker.log
        await worker.kill()
        let lines = log.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "\(line)")
        }
        #expect(lines.contains { $0.contains("\"request_id\":\"req-42\"") && $0.contains("\"status\":\"200\"") })
        // The access line the pipeline renders itself has the routed line's members, in its order.
        let members = { (id: String) -> [String] in
            guard let line = lines.first(where: { $0.contains("\"request_id\":\"\(id)\"") }) else { return [] }
            return line.split(separator: ",").compactMap { $0.split(separator: ":").first.map { String($0.drop { $0 == "{" }) } }
        }
        #expect(members("req-42") == [#""ts""#, #""level""#, #""label""#, #""message""#, #""duration_ms""#, #""hb.request.id""#, #""method""#, #""path""#, #""request_id""#, #""route""#, #""status""#])
        #expect(members("req-42") == members("req-43"))
        #expect(lines.contains { $0.contains("starting worker") && $0.contains("\"jwtSecret\":\"***\"") })
        // Its tasks run on the event loops, as the generic executor (EventLoopGlobalExecutor).
        #expect(lines.contains { $0.contains("starting worker") && $0.contains("\"globalExecutor\":\"event-loops\"") })
        #expect(!log.contains(Fixture.secret))
    }
}

/// How many requests the load's clients have had answered, counted as they go.
private final class AnswerCount: Sendable {
    private let count = Mutex(0)

    var value: Int { self.count.withLock { $0 } }

    func add() { self.count.withLock { $0 += 1 } }
}
