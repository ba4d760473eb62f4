import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RedisClient
import SessionContextApp
import SessionContextEvents
import SessionStore
import Synchronization
import TestSupport
import Testing

@Suite("Durable events: the stream, consumer groups, expiry")
struct EventStreamTests {
    @Test("Every event is also in the tenant's stream, the same payload in the same order as pub/sub")
    func streamMirrorsPubSub() async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        let collector = try await EventCollector.subscribe(endpoint: fixture.endpoint, tenant: fixture.tenant)
        try await fixture.withApp { client async throws in
            let base = "/session-context/\(fixture.tenant)/context/\(sid)"
            _ = try await client.send(.put, base + "?upsert=true", token: token, json: #"{"metadata":{"version":0}}"#)
            _ = try await client.send(.post, base + "/attributes", token: token, json: #"{"key":"a","value":"1"}"#)
            _ = try await client.send(.post, base + "/attributes", token: token, json: #"{"key":"a","value":"1"}"#)
            _ = try await client.send(.delete, base, token: token)
        }
        let published = try await collector.collect(until: { $0[member: "type"]?.stringValue == "deleted" })
        let stored = try await fixture.withEventStream { stream in try await stream.read(after: stream.start).events }
        #expect(stored.map(\.type) == [.created, .attributeSet, .deleted])
        #expect(stored.map { try! JSONParser().parse(Array($0.json.utf8)) } == published)
        #expect(Set(stored.compactMap(\.id)).count == 3)
    }

    @Test("A consumer-group reader stopped for 100 changes reads all 100 after its restart, in order, once")
    func consumerGroupCatchUp() async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        try await fixture.withEventStream(blockTime: .milliseconds(200)) { stream in
            try await stream.createGroup("cart-service")
            try await fixture.withApp { client async throws in
                let base = "/session-context/\(fixture.tenant)/context/\(sid)"
                _ = try await client.send(.put, base + "?upsert=true", token: token, json: #"{"metadata":{"version":0}}"#)
                // The consumer reads and acknowledges the first event, then stops.
                for try await delivery in stream.consume(group: "cart-service", consumer: "cart-1") {
                    #expect(delivery.event.type == .created)
                    try await delivery.acknowledge()
                    break
                }
                for index in 0..<100 {
                    let response = try await client.send(.post, base + "/attributes", token: token, json: #"{"key":"k\#(index)","value":"v"}"#)
                    #expect(response.status == .noContent)
                }
            }
            // Restarted: exactly the 100 it missed, in order, then nothing more.
            var versions: [Int64] = []
            for try await delivery in stream.consume(group: "cart-service", consumer: "cart-1") {
                versions.append(delivery.event.version)
                try await delivery.acknowledge()
                if versions.count == 100 { break }
            }
            #expect(versions == Array(2...101))
            #expect(try await stream.pendingCount("cart-service", RedisProbe(endpoint: fixture.endpoint)) == 0)
            // A restart after everything was acknowledged delivers nothing again.
            let again = try await stream.deliveries(group: "cart-service", consumer: "cart-1", within: .milliseconds(600))
            #expect(again == 0)
        }
    }

    @Test("A consumer reads as it is asked: one that stops after its first event holds one batch, the rest stays in the stream")
    func consumerReadsAsAsked() async throws {
        let fixture = try Fixture()
        try await fixture.withEventStream(blockTime: .milliseconds(200)) { stream in
            try await stream.createGroup("cart-service", startingAt: "0")
            let probe = RedisProbe(endpoint: fixture.endpoint)
            try await Self.store(1...300, in: stream, probe)
            var events = stream.consume(group: "cart-service", consumer: "slow").makeAsyncIterator()
            var versions = [try #require(try await events.next()).event.version]
            // Time for a reader that reads ahead to read on: this one has not.
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await stream.pendingCount("cart-service", probe) == 100)
            while versions.count < 300, let delivery = try await events.next() {
                versions.append(delivery.event.version)
                try await delivery.acknowledge()
            }
            #expect(versions == Array(1...300))
            #expect(try await stream.pendingCount("cart-service", probe) == 1)
        }
    }

    /// Stores events of versions `versions` of session `s` in its bucket's stream directly, as the scripts would.
    static func store(_ versions: ClosedRange<Int>, in stream: SessionEventStream, _ probe: RedisProbe) async throws {
        for version in versions {
            let payload = #"{"type":"attribute.set","tenant":"\#(stream.tenant)","sessionId":"s","version":\#(version),"changed":["context.a"],"at":"2026-12-02T04:15:58.366Z","origin":"w"}"#
            _ = try await probe.send(RESPCommand("XADD", stream.key(of: "s"), "*", "event", payload))
        }
    }

    /// The first delivery of `consumer`, or nil if none comes within 3 s.
    static func firstDelivery(_ stream: SessionEventStream, _ consumer: String) async throws -> SessionEvent? {
        try await withThrowingTaskGroup(of: SessionEvent?.self) { group in
            group.addTask {
                for try await delivery in stream.consume(group: "cart-service", consumer: consumer) { return delivery.event }
                return nil
            }
            group.addTask { try await Task.sleep(for: .seconds(3)); return nil }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    @Test("A consumer cancelled while it waits for new events ends at once, not after its block time")
    func consumerCancelledWhileWaiting() async throws {
        let fixture = try Fixture()
        try await fixture.withEventStream(blockTime: .seconds(30)) { stream in
            try await stream.createGroup("cart-service")
            let ended = ManagedFlag()
            let task = Task {
                for try await _ in stream.consume(group: "cart-service", consumer: "idle") {}
                ended.set()
            }
            // In its blocking read by now (nothing pending, nothing new).
            try await Task.sleep(for: .milliseconds(500))
            task.cancel()
            #expect(try await eventually(attempts: 60) { ended.value })
        }
    }

    @Test("A live reader that leaves frees its Redis connection at once, not after its block time")
    func tailReaderLeaves() async throws {
        // A Redis of its own: the only reader of a stream on it is this one.
        let server = try RedisServer.start()
        defer { server.stop() }
        let probe = RedisProbe(endpoint: server.endpoint)
        try await withRouter(url: server.url) { router in
            let stream = SessionEventStream(redis: router, tenant: Fixture.uniqueTenant(), blockTime: .seconds(30))
            try await Self.store(1...1, in: stream, probe)
            let sawFirst = ManagedFlag()
            let reader = Task {
                for try await event in stream.tail(after: stream.start) where event?.version == 1 { sawFirst.set() }
            }
            #expect(try await eventually(attempts: 60) { sawFirst.value })
            // The reader waits in its next blocking read; then it leaves.
            #expect(try await eventually { try await probe.tailConnections() == 1 })
            reader.cancel()
            // Its read ends well before the 30 s block time.
            #expect(try await eventually(attempts: 40) { try await probe.tailConnections() == 0 })
        }
    }

    @Test("A restarted consumer reads its pending events past entries trimmed from the stream, and acknowledges those")
    func pendingPastTrimmedEntries() async throws {
        let fixture = try Fixture()
        try await fixture.withEventStream(blockTime: .milliseconds(200)) { stream in
            let key = stream.key(of: "s")
            let probe = RedisProbe(endpoint: fixture.endpoint)
            try await stream.createGroup("cart-service", startingAt: "0")
            try await Self.store(1...101, in: stream, probe)
            // All 101 delivered to the consumer, none acknowledged.
            _ = try await probe.send(RESPCommand("XREADGROUP", "GROUP", "cart-service", "c", "COUNT", "200", "STREAMS", key, ">"))
            // The first 100 trimmed away: they stay pending, without their events.
            let last = try await probe.send(RESPCommand("XREVRANGE", key, "+", "-", "COUNT", "1"))
            let lastId = try #require(last.array?.first?.array?.first?.string)
            _ = try await probe.send(RESPCommand("XTRIM", key, "MINID", lastId))
            let first = try await Self.firstDelivery(stream, "c")
            #expect(first?.version == 101)
            // The trimmed 100 were acknowledged on the way: only the delivered one is pending.
            #expect(try await stream.pendingCount("cart-service", probe) == 1)
        }
    }

    @Test("One expiry gives exactly one expired event with three workers listening; the delay is small")
    func oneExpiredEventAcrossWorkers() async throws {
        // A Redis of its own: only these three workers listen for its expiries.
        let server = try RedisServer.start()
        defer { server.stop() }
        let endpoint = server.endpoint
        let redisURL = server.url
        var workers: [WorkerProcess] = []
        for index in 1...3 {
            workers.append(
                try await WorkerProcess.start(
                    environment: WorkerProcessTests.environment(redis: redisURL).merging([
                        "SESSION_CONTEXT_ANONYMOUS_TTL": "1", "SESSION_CONTEXT_INSTANCE_ID": "worker-\(index)",
                    ]) { $1 }
                )
            )
        }
        let sentinelPort = workers[1].port
        // All three workers listen for the expiries before the session is made.
        let probe = RedisProbe(endpoint: endpoint)
        // Up to 15 s: 3 s alone, more when the whole first pass starts at once on 2 cores.
        let listening = try await eventually(attempts: 300) { try await probe.expiryListeners() >= 3 }
        #expect(listening, "the workers did not all subscribe to the expiry notifications")
        let tenant = Fixture.uniqueTenant()
        let token = try await Tokens.sign(TokenClaims(tenant: tenant, expires: .in(3600), scope: "session_context.context_manage"))
        let collector = try await EventCollector.subscribe(endpoint: endpoint, tenant: tenant)
        let headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
        try await TestClient.withClient(host: "127.0.0.1", port: workers[0].port) { client async throws in
            let response = try await client.execute(
                TestClient.Request("/session-context/\(tenant)/context/short?upsert=true", method: .put, headers: headers, body: ByteBuffer(string: #"{"metadata":{"version":0}}"#))
            )
            #expect(response.status == .noContent)
        }
        let created = ContinuousClock.now
        // Wait for the expiry, give the other workers time to (wrongly) publish again, then close with a sentinel.
        let sentinelTask = Task {
            try await Task.sleep(for: .milliseconds(3000))
            try await TestClient.withClient(host: "127.0.0.1", port: sentinelPort) { client async throws in
                _ = try await client.execute(
                    TestClient.Request("/session-context/\(tenant)/context/sentinel?upsert=true", method: .put, headers: headers, body: ByteBuffer(string: #"{"metadata":{"version":0}}"#))
                )
            }
        }
        let expiredAt = Mutex<ContinuousClock.Instant?>(nil)
        let events = try await collector.collect(until: { event in
            event[member: "sessionId"]?.stringValue == "sentinel"
        }, timeout: .seconds(10), onEvent: { event in
            if event[member: "type"]?.stringValue == "expired" { expiredAt.withLock { if $0 == nil { $0 = .now } } }
        })
        try await sentinelTask.value
        for worker in workers { await worker.kill() }
        let expired = events.filter { $0[member: "type"]?.stringValue == "expired" }
        #expect(expired.count == 1)
        #expect(expired.first?[member: "sessionId"]?.stringValue == "short")
        let origin = expired.first?[member: "origin"]?.stringValue ?? ""
        #expect(origin.hasPrefix("worker-"))
        let delay = try #require(expiredAt.withLock { $0 }) - created - .seconds(1)
        // Redis notices an expired key on access or in its active expiry cycle (10 times a second by default).
        #expect(delay < .milliseconds(1500), "expired event came \(delay) after the TTL")
        print("expiry event delay after TTL: \(delay)")
    }

    @Test("session-context events prints one line per event")
    func eventsCommand() async throws {
        let fixture = try Fixture()
        let token = try await fixture.managementToken()
        try await fixture.withApp { client async throws in
            _ = try await client.send(.put, "/session-context/\(fixture.tenant)/context/one?upsert=true", token: token, json: #"{"metadata":{"version":0}}"#)
            _ = try await client.send(.post, "/session-context/\(fixture.tenant)/context/one/attributes", token: token, json: #"{"key":"geo","value":"x"}"#)
        }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("sc-events-\(UUID().uuidString).txt")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = WorkerProcess.binary
        process.arguments = ["events", "--tenant", fixture.tenant, "--from", "0", "--redis-url", fixture.configuration.redisURL]
        process.standardOutput = try FileHandle(forWritingTo: output)
        try process.run()
        var lines: [Substring] = []
        for _ in 0..<100 {
            try await Task.sleep(for: .milliseconds(50))
            lines = ((try? String(contentsOf: output, encoding: .utf8)) ?? "").split(separator: "\n")
            if lines.count >= 2 { break }
        }
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: output)
        #expect(lines.count == 2)
        #expect(lines.first?.contains(" created one v1 ") == true)
        #expect(lines.last?.contains(" attribute.set one v2 context.geo by ") == true)
    }
}

/// A flag set once, read from another task.
final class ManagedFlag: Sendable {
    private let state = Mutex(false)
    func set() { self.state.withLock { $0 = true } }
    var value: Bool { self.state.withLock { $0 } }
}
