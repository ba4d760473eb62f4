import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RedisClient
import SessionStore
import TestSupport
import Testing

@Suite("Idle expiry")
struct ExpiryTests {
    @Test("A short anonymous TTL really expires the key; writes and /me reads restart it")
    func anonymousExpiry() async throws {
        // 4 s: a loaded machine (the suites run in parallel, on a Redis Cluster in CI's second
        // pass) once took over 2 s between a request and the next, and a 2 s session expired
        // before the read meant to restart it.
        let fixture = try Fixture { $0.anonymousTTL = 4 }
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        let me = try await fixture.storefrontToken(sid: sid)
        let probe = RedisProbe(endpoint: fixture.endpoint)
        let key = fixture.key(sid)
        try await fixture.withApp { client async throws in
            try await StorefrontAPITests.create(client, fixture, sid: sid)
            let created = try await probe.pttl(key)
            #expect(created > 0 && created <= 4000)
            try await Task.sleep(for: .milliseconds(1500))
            // A /me read restarts the clock.
            let beforeRead = try await probe.pttl(key)
            #expect(try await client.send(.get, "/session-context/\(fixture.tenant)/me/context", token: me).status == .ok)
            let afterRead = try await probe.pttl(key)
            #expect(afterRead > beforeRead, "\(beforeRead) ms left before the read, \(afterRead) after")
            try await Task.sleep(for: .milliseconds(1500))
            // So does a write.
            let beforeWrite = try await probe.pttl(key)
            let writing = ContinuousClock.now
            #expect(try await client.send(.post, "/session-context/\(fixture.tenant)/context/\(sid)/attributes", token: token, json: #"{"key":"a","value":"b"}"#).status == .noContent)
            let afterWrite = try await probe.pttl(key)
            #expect(afterWrite > beforeWrite, "\(beforeWrite) ms left before the write, \(afterWrite) after")
            // Left alone, it expires: not before its TTL, and within a few seconds after it.
            try await Task.sleep(for: .milliseconds(2500))
            let kept = try await probe.exists(key)
            #expect(kept || ContinuousClock.now - writing > .milliseconds(3900), "expired before its TTL")
            #expect(try await eventually(attempts: 60, every: .milliseconds(100)) { try await probe.exists(key) == false })
            #expect(try await client.send(.get, "/session-context/\(fixture.tenant)/me/context", token: me).status == .notFound)
        }
    }

    @Test("A session that turns into a customer session takes the customer TTL (0 = never)")
    func customerTTL() async throws {
        let fixture = try Fixture { $0.anonymousTTL = 100; $0.customerTTL = 0 }
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        let customer = try await fixture.storefrontToken(sid: sid, customerId: "C9")
        let probe = RedisProbe(endpoint: fixture.endpoint)
        try await fixture.withApp { client async throws in
            try await StorefrontAPITests.create(client, fixture, sid: sid)
            #expect(try await probe.pttl(fixture.key(sid)) > 0)
            let put = try await client.send(
                .put, "/session-context/\(fixture.tenant)/context/\(sid)", token: token, json: #"{"customerId":"C9","metadata":{"version":1}}"#,
                headers: [HTTPField.Name("saas-token")!: customer]
            )
            #expect(put.status == .noContent)
            #expect(try await probe.pttl(fixture.key(sid)) == -1)
        }
        let withTTL = try Fixture { $0.anonymousTTL = 100; $0.customerTTL = 5000 }
        let sid2 = Fixture.uniqueSessionId()
        let customer2 = try await withTTL.storefrontToken(sid: sid2, customerId: "C9")
        try await withTTL.withApp { client async throws in
            try await StorefrontAPITests.create(client, withTTL, sid: sid2, body: #"{"customerId":"C9","metadata":{"version":0}}"#, saas: customer2)
            let ttl = try await probe.pttl(withTTL.key(sid2))
            #expect(ttl > 100_000 && ttl <= 5_000_000)
            // Every write and /me read restarts the customer's clock, not the anonymous one: each
            // starts from 50 s left, below both TTLs, so a missing or anonymous restart shows.
            let management = try await withTTL.managementToken()
            let base = "/session-context/\(withTTL.tenant)"
            let steps: [(String, () async throws -> HTTPResponse.Status)] = [
                ("POST attribute", { try await client.send(.post, "\(base)/context/\(sid2)/attributes", token: management, json: #"{"key":"k","value":"v"}"#).status }),
                ("DELETE attribute", { try await client.send(.delete, "\(base)/context/\(sid2)/attributes/k", token: management).status }),
                ("PATCH /me", { try await client.send(.patch, "\(base)/me/context", token: customer2, json: #"{"currency":"EUR","metadata":{"version":3}}"#).status }),
                ("GET /me", { try await client.send(.get, "\(base)/me/context", token: customer2).status }),
                ("PUT", { try await client.send(.put, "\(base)/context/\(sid2)", token: management, json: #"{"customerId":"C9","metadata":{"version":4}}"#, headers: [HTTPField.Name("saas-token")!: customer2]).status }),
            ]
            for (name, step) in steps {
                _ = try await probe.send(RESPCommand("PEXPIRE", withTTL.key(sid2), "50000"))
                let status = try await step()
                #expect(status.code < 300, "\(name): \(status)")
                let left = try await probe.pttl(withTTL.key(sid2))
                #expect(left > 100_000 && left <= 5_000_000, "\(name) left \(left) ms")
            }
        }
    }
}
