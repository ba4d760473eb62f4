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

@Suite("Server-sent events")
struct ServerSentEventsTests {
    @Test("A change made through worker process A reaches a subscriber of worker process B's event stream")
    func crossWorker() async throws {
        let redisURL = try RedisServer.sharedURL()
        let workerA = try await WorkerProcess.start(
            environment: WorkerProcessTests.environment(redis: redisURL).merging(["SESSION_CONTEXT_INSTANCE_ID": "worker-a"]) { $1 }
        )
        let workerB = try await WorkerProcess.start(
            environment: WorkerProcessTests.environment(redis: redisURL).merging(["SESSION_CONTEXT_INSTANCE_ID": "worker-b", "SESSION_CONTEXT_SSE_HEARTBEAT": "1"]) { $1 }
        )
        let tenant = Fixture.uniqueTenant()
        let token = try await Tokens.sign(TokenClaims(tenant: tenant, expires: .in(3600), scope: "session_context.context_manage"))
        let storefront = try await Tokens.sign(TokenClaims(tenant: tenant, expires: .in(3600), sid: "s1"))
        let subscriber = try await SSEClient.connect(port: workerB.port, path: "/session-context/\(tenant)/events", token: token)
        // Once answered, the subscriber gets every change from then on.
        #expect(try await subscriber.status() == 200)
        let headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
        try await TestClient.withClient(host: "127.0.0.1", port: workerA.port) { client async throws in
            _ = try await client.execute(TestClient.Request("/session-context/\(tenant)/context/s1?upsert=true", method: .put, headers: headers, body: ByteBuffer(string: #"{"metadata":{"version":0}}"#)))
            _ = try await client.execute(TestClient.Request("/session-context/\(tenant)/context/s1/attributes", method: .post, headers: headers, body: ByteBuffer(string: #"{"key":"geo","value":"x"}"#)))
        }
        let events = await subscriber.next(2)
        await subscriber.close()
        #expect(events.map(\.type) == ["created", "attribute.set"])
        #expect(events.allSatisfy { $0.data.contains("\"origin\":\"worker-a\"") && !$0.id.isEmpty })
        try await TestClient.withClient(host: "127.0.0.1", port: workerB.port) { client async throws in
            // The events route needs the manage scope, and a well-formed Last-Event-ID.
            let refused = try await client.get("/session-context/\(tenant)/events", headers: [.authorization: "Bearer \(storefront)"])
            #expect(refused.status == .forbidden)
            // "$" is what no Last-Event-ID means, not a value the contract's pattern admits; an id
            // part beyond 64 bits is one Redis refuses (it broke the stream after its answer).
            for value in ["nonsense", "$", "18446744073709551616-0", "0-18446744073709551616", "64030000000000000000-0"] {
                let malformed = try await client.get("/session-context/\(tenant)/events", headers: [.authorization: "Bearer \(token)", HTTPField.Name("Last-Event-ID")!: value])
                #expect(malformed.status == .badRequest, "Last-Event-ID: \(value)")
            }
            // A malformed ?from= is refused too, even beside a good Last-Event-ID.
            for query in ["?from=", "?from=nonsense"] {
                let malformed = try await client.get("/session-context/\(tenant)/events\(query)", headers: [.authorization: "Bearer \(token)", HTTPField.Name("Last-Event-ID")!: "0"])
                #expect(malformed.status == .badRequest, "\(query)")
            }
        }
        await workerA.kill()
        await workerB.kill()
    }

    @Test("A change made as soon as the subscription is answered reaches the subscriber (no Last-Event-ID: everything after the answer)")
    func changeRightAfterAnswer() async throws {
        // Over TLS, as with a Redis on another host: a new connection to Redis takes a handshake,
        // where the change goes over a connection of the worker's pool that is already open.
        let server = try RedisServer.startTLS()
        defer { server.stop() }
        let url = "rediss://127.0.0.1:\(server.port)/0?ca=\(server.caFile)"
        let fixture = try Fixture(endpoint: try RedisEndpoint(url: url)) { $0.redisURL = url; $0.sseMaximumClients = 64 }
        let token = try await fixture.managementToken()
        try await fixture.withApp { client async throws in
            let port = try #require(client.port)
            // 24 subscribers at once; each, as soon as it is answered, changes a session of its own.
            let missed = try await withThrowingTaskGroup(of: Int?.self) { group in
                for index in 0..<24 {
                    group.addTask {
                        let subscriber = try await SSEClient.connect(port: port, path: "/session-context/\(fixture.tenant)/events", token: token)
                        guard try await subscriber.status() == 200 else {
                            await subscriber.close()
                            return index
                        }
                        let put = try await client.send(.put, "/session-context/\(fixture.tenant)/context/r\(index)?upsert=true", token: token, json: #"{"metadata":{"version":0}}"#)
                        #expect(put.status == .noContent)
                        let own = await subscriber.first { $0.type == "created" && $0.data.contains(#""sessionId":"r\#(index)""#) }
                        await subscriber.close()
                        return own == nil ? index : nil
                    }
                }
                return try await group.reduce(into: [Int]()) { missed, index in if let index { missed.append(index) } }
            }
            #expect(missed.isEmpty, "subscribers whose own change did not reach them: \(missed.sorted())")
        }
    }

    @Test("Reconnecting with Last-Event-ID loses nothing and repeats nothing")
    func resume() async throws {
        let fixture = try Fixture()
        let token = try await fixture.managementToken()
        try await fixture.withApp { client async throws in
            let port = try #require(client.port)
            let path = "/session-context/\(fixture.tenant)/events"
            let first = try await SSEClient.connect(port: port, path: path, token: token, lastEventId: "0")
            _ = try await client.send(.put, "/session-context/\(fixture.tenant)/context/s1?upsert=true", token: token, json: #"{"metadata":{"version":0}}"#)
            for index in 1...2 {
                _ = try await client.send(.post, "/session-context/\(fixture.tenant)/context/s1/attributes", token: token, json: #"{"key":"a\#(index)","value":"v"}"#)
            }
            let seen = await first.next(3)
            #expect(seen.count == 3)
            await first.close()
            // Changes while disconnected.
            for index in 3...7 {
                _ = try await client.send(.post, "/session-context/\(fixture.tenant)/context/s1/attributes", token: token, json: #"{"key":"a\#(index)","value":"v"}"#)
            }
            let second = try await SSEClient.connect(port: port, path: path, token: token, lastEventId: seen.last?.id)
            let resumed = await second.next(5)
            // Idle, the stream carries heartbeat comments (every second in the tests).
            #expect(try await eventually(attempts: 60) { second.response.heartbeats >= 1 })
            await second.close()
            #expect(resumed.compactMap { try? JSONParser().parse(Array($0.data.utf8))[member: "version"]?.intValue } == [4, 5, 6, 7, 8])
            #expect(Set(resumed.map(\.id)).isDisjoint(with: seen.map(\.id)))
        }
    }

    @Test("Resuming with a Last-Event-ID taken mid-stream, on another worker: exactly the remaining events of every bucket, none twice, each session in order")
    func resumeAcrossBucketsAndWorkers() async throws {
        let fixture = try Fixture()
        let token = try await fixture.managementToken()
        let layout = SessionLayout(buckets: fixture.configuration.eventBuckets)
        // Sessions in every bucket, two at least in each.
        var chosen: [String] = []
        var perBucket = [Int](repeating: 0, count: layout.buckets)
        var index = 0
        while perBucket.contains(where: { $0 < 2 }) {
            let sid = "r\(index)"
            if perBucket[layout.bucket(of: sid)] < 2 {
                chosen.append(sid)
                perBucket[layout.bucket(of: sid)] += 1
            }
            index += 1
        }
        let sessions = chosen
        let path = "/session-context/\(fixture.tenant)/events"
        try await fixture.withApp { workerA async throws in
            try await fixture.withApp { workerB async throws in
                func change(_ client: some TestClientProtocol, _ sid: String, _ request: (HTTPRequest.Method, String, String)) async throws {
                    let response = try await client.send(request.0, "/session-context/\(fixture.tenant)/context/\(sid)\(request.1)", token: token, json: request.2)
                    #expect(response.status.code < 300, "\(sid)")
                }
                for (turn, sid) in sessions.enumerated() {
                    let client: any TestClientProtocol = turn % 2 == 0 ? workerA : workerB
                    try await change(client, sid, (.put, "?upsert=true", #"{"metadata":{"version":0}}"#))
                    try await change(client, sid, (.post, "/attributes", #"{"key":"a","value":"1"}"#))
                }
                // A subscriber reads from the start (a read of every bucket at once: the events come
                // bucket by bucket, not in the order made) and stops half-way.
                let first = try await SSEClient.connect(port: try #require(workerA.port), path: path, token: token, lastEventId: "0")
                #expect(try await first.status() == 200)
                let seen = await first.next(sessions.count)
                #expect(seen.count == sessions.count)
                await first.close()
                for sid in sessions {
                    try await change(workerB, sid, (.post, "/attributes", #"{"key":"b","value":"2"}"#))
                }
                // It comes back through the other worker with the id of the last event it saw.
                let second = try await SSEClient.connect(port: try #require(workerB.port), path: path, token: token, lastEventId: seen.last?.id)
                let rest = await second.next(sessions.count * 2)
                let extra = await second.next(1, timeout: .milliseconds(1500))
                await second.close()
                func version(_ event: SSEClient.Event) -> String {
                    let json = try? JSONParser().parse(Array(event.data.utf8))
                    return "\(json?[member: "sessionId"]?.stringValue ?? "?")/v\(json?[member: "version"]?.intValue ?? -1)"
                }
                let before = seen.map(version), after = rest.map(version)
                #expect(rest.count == sessions.count * 2)
                #expect(extra.isEmpty, "more than the remaining events: \(extra.map(version))")
                #expect(Set(before).isDisjoint(with: after), "repeated: \(Set(before).intersection(after).sorted())")
                let everything = Set(sessions.flatMap { sid in (1...3).map { "\(sid)/v\($0)" } })
                #expect(Set(before).union(after) == everything, "missing: \(everything.subtracting(before).subtracting(after).sorted())")
                // Each session's events in the order they were made.
                for sid in sessions {
                    let order = (before + after).filter { $0.hasPrefix(sid + "/") }
                    #expect(order == order.sorted(), "\(sid): \(order)")
                }
            }
        }
    }

    @Test("A subscriber that never reads is disconnected; the worker does not buffer for it")
    func stalledClient() async throws {
        let server = try RedisServer.start()
        defer { server.stop() }
        let fixture = try Fixture(endpoint: server.endpoint) { $0.sseWriteTimeoutMilliseconds = 500 }
        let token = try await fixture.managementToken()
        let probe = RedisProbe(endpoint: fixture.endpoint)
        try await fixture.withApp { client async throws in
            let port = try #require(client.port)
            let stalled = try await SSEClient.connect(port: port, path: "/session-context/\(fixture.tenant)/events", token: token, reading: false)
            // The subscriber's tail is reading the stream (within 3 s, on a loaded machine).
            #expect(try await eventually(attempts: 60) { try await probe.tailConnections() >= 1 })
            // Large events: each names 300 attributes of 200 characters in `changed`.
            for round in 0..<120 {
                let attributes = (0..<300).map { #""\#(String(repeating: "n", count: 190))\#(round)-\#($0)":"v""# }.joined(separator: ",")
                let response = try await client.send(
                    .put, "/session-context/\(fixture.tenant)/context/big?upsert=true", token: token,
                    json: #"{"context":{\#(attributes)},"metadata":{"version":\#(round)}}"#
                )
                #expect(response.status == .noContent)
            }
            let dropped = try await eventually(every: .milliseconds(100)) { try await probe.tailConnections() == 0 }
            #expect(dropped, "the stalled subscriber's stream is still being served")
            await stalled.close()
        }
    }

    @Test("A subscriber that leaves gives back its slot and its Redis connection at once, not at the next heartbeat")
    func departedClient() async throws {
        let server = try RedisServer.start()
        defer { server.stop() }
        // One subscriber at a time, and no heartbeat write within the test to notice a departure by.
        let fixture = try Fixture(endpoint: server.endpoint) { $0.sseMaximumClients = 1; $0.sseHeartbeatSeconds = 60 }
        let token = try await fixture.managementToken()
        let probe = RedisProbe(endpoint: fixture.endpoint)
        try await fixture.withApp { client async throws in
            let port = try #require(client.port)
            let path = "/session-context/\(fixture.tenant)/events"
            let first = try await SSEClient.connect(port: port, path: path, token: token)
            #expect(try await eventually(attempts: 60) { try await probe.tailConnections() == 1 })
            await first.close()
            #expect(try await eventually(attempts: 60) { try await probe.tailConnections() == 0 })
            // The slot is free: the next subscriber is served (not 503) and follows the stream. (The
            // slot is given back just after the Redis connection closes: a 503 in between is retried.)
            var served: SSEClient?
            try await eventually(attempts: 60) {
                let client = try await SSEClient.connect(port: port, path: path, token: token)
                if try await client.status() == 200 { served = client; return true }
                await client.close()
                return false
            }
            let second = try #require(served)
            #expect(try await eventually(attempts: 60) { try await probe.tailConnections() == 1 })
            _ = try await client.send(.put, "/session-context/\(fixture.tenant)/context/s1?upsert=true", token: token, json: #"{"metadata":{"version":0}}"#)
            #expect(await second.next(1).first?.type == "created")
            await second.close()
        }
    }

    @Test("On SIGTERM a subscriber's stream ends cleanly; one that arrives while the worker drains is served and ended cleanly too")
    func streamsOnShutdown() async throws {
        let server = try RedisServer.start()
        defer { server.stop() }
        let worker = try await WorkerProcess.start(
            environment: WorkerProcessTests.environment(redis: server.url).merging(["SESSION_CONTEXT_SHUTDOWN_DRAIN_MS": "4000"]) { $1 }
        )
        let tenant = Fixture.uniqueTenant()
        let token = try await Tokens.sign(TokenClaims(tenant: tenant, expires: .in(3600), scope: "session_context.context_manage"))
        let path = "/session-context/\(tenant)/events"
        let probe = RedisProbe(endpoint: server.endpoint)
        let before = try await SSEClient.connect(port: worker.port, path: path, token: token)
        #expect(try await eventually(attempts: 60) { try await probe.tailConnections() == 1 })
        worker.terminate()
        // Draining (4 s): /health/ready says 503, the worker still answers.
        #expect(try await eventually(attempts: 60) {
            try await TestClient.withClient(host: "127.0.0.1", port: worker.port) { try await $0.get("/health/ready").status == .serviceUnavailable }
        })
        // A new subscriber is told to go elsewhere by a stream that ends at once (an EventSource
        // reconnects after a stream that ended, and gives up after a 503).
        let during = try await SSEClient.connect(port: worker.port, path: path, token: token)
        #expect(try await during.status() == 200)
        #expect(try await eventually(attempts: 40) { during.response.ended })
        // The one already subscribed is served until the drain ends, then its stream ends cleanly.
        #expect(!before.response.ended)
        #expect(try await eventually(attempts: 200) { before.response.ended })
        await before.close()
        await during.close()
        #expect(await worker.waitForExit(timeout: 15) == 0)
    }
}
