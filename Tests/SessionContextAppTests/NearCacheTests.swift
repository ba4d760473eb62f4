import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RedisClient
import SessionContextApp
import SessionStore
import TestSupport
import Testing

@Suite("Near cache", .serialized)
struct NearCacheTests {
    static func version(_ client: some TestClientProtocol, _ fixture: Fixture, _ sid: String, _ token: String) async throws -> Int64? {
        try await client.send(.get, "/session-context/\(fixture.tenant)/context/\(sid)", token: token).json[member: "metadata"]?[member: "version"]?.intValue
    }

    @Test("Worker B serves from its cache, and a write through worker A reaches it within the pub/sub delay")
    func invalidationAcrossWorkers() async throws {
        try await Self.withTwoWorkers { workerA, workerB, clientA, clientB, sid, token, probe async throws in
            #expect(try await Self.version(clientB, workerB, sid, token) == 1)
            // Behind the service's back (no event): B still answers from its cache.
            _ = try await probe.send(RESPCommand("HSET", workerA.key(sid), "_v", "99"))
            #expect(try await Self.version(clientB, workerB, sid, token) == 1)
            // Read-your-writes on A, and B sees the change once the event arrives.
            _ = try await probe.send(RESPCommand("HSET", workerA.key(sid), "_v", "1"))
            #expect(try await clientA.send(.post, "/session-context/\(workerA.tenant)/context/\(sid)/attributes", token: token, json: #"{"key":"a","value":"b"}"#).status == .noContent)
            #expect(try await Self.version(clientA, workerA, sid, token) == 2)
            let start = ContinuousClock.now
            var seen: Int64? = nil
            // Usually well under a second (0.19 s in a loaded CI pass); 5 s leaves room for a loaded machine.
            while ContinuousClock.now - start < .seconds(5) {
                seen = try await Self.version(clientB, workerB, sid, token)
                if seen == 2 { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(seen == 2)
            print("near cache: worker B saw the new version \(ContinuousClock.now - start) after the write")
        }
    }

    @Test("With the event subscription killed, a worker serves no cached value once it has seen the connection drop")
    func subscriptionLost() async throws {
        try await Self.withTwoWorkers { workerA, workerB, clientA, clientB, sid, token, probe async throws in
            for round in 0..<20 {
                #expect(try await Self.version(clientB, workerB, sid, token) == Int64(1 + round))
                // Kill every pub/sub connection, then change the context behind the service's back.
                // The worker learns of the drop as it learns of an event, through its socket: give it
                // that delay (a read in between may still be served from the cache, as with an event).
                _ = try await probe.send(RESPCommand("CLIENT", "KILL", "TYPE", "pubsub"))
                try await Task.sleep(for: .milliseconds(50))
                _ = try await probe.send(RESPCommand("HSET", workerA.key(sid), "_v", String(2 + round)))
                #expect(try await Self.version(clientB, workerB, sid, token) == Int64(2 + round))
            }
        }
    }

    /// Two workers with a near cache on a Redis of their own, a session created through A, both subscribed.
    static func withTwoWorkers(
        _ body: @Sendable (Fixture, Fixture, any TestClientProtocol, any TestClientProtocol, String, String, RedisProbe) async throws -> Void
    ) async throws {
        let server = try RedisServer.start()
        defer { server.stop() }
        let workerA = try Fixture(endpoint: server.endpoint) { $0.nearCacheSize = 100 }
        var configuredB = workerA
        configuredB.configuration.instanceId = "worker-b"
        let workerB = configuredB
        let sid = Fixture.uniqueSessionId()
        let token = try await workerA.managementToken()
        let probe = RedisProbe(endpoint: server.endpoint)
        try await workerA.withApp { clientA async throws in
            try await workerB.withApp { clientB async throws in
                try await StorefrontAPITests.create(clientA, workerA, sid: sid)
                // Both near caches listen for changes before the test goes on.
                let listening = try await eventually { try await probe.patternSubscribers() >= 2 }
                #expect(listening, "the near caches did not both subscribe to the event channels")
                try await body(workerA, workerB, clientA, clientB, sid, token, probe)
            }
        }
    }
}
