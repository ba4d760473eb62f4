import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RedisClient
import SessionStore
import Testing

/// The Lua scripts' failure points (listed above each script in `Sources/SessionStore/Scripts/Lua`)
/// all come before the first write: Redis does not roll a script back, so a step that fails must
/// leave the context exactly as it was, and a step that passed its checks must be applied whole.
@Suite("The scripts: a failing step changes nothing, a large one is applied whole")
struct ScriptAuditTests {
    /// A context body whose attributes are `a0`…`a<count-1>`, at `version`.
    private static func body(attributes count: Int, version: Int, prefix: String = "a") -> String {
        let members = (0..<count).map { #""\#(prefix)\#($0)":"v\#($0)""# }.joined(separator: ",")
        return #"{"siteCode":"main","context":{"# + members + #"},"metadata":{"version":\#(version)}}"#
    }

    @Test("A PUT replacing 3 attributes with 5,000, then 100,000, then 2 is applied whole (max-attributes 0)")
    func largeReplacement() async throws {
        let fixture = try Fixture { $0.maxAttributes = 0; $0.bodyLimit = 8 * 1024 * 1024 }
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        let probe = RedisProbe(endpoint: fixture.endpoint)
        let path = "/session-context/\(fixture.tenant)/context/\(sid)"
        try await fixture.withApp { client async throws in
            // Other names than the replacement's: the replacement deletes these three first (the
            // write that a failing HSET once left behind alone).
            try await StorefrontAPITests.create(client, fixture, sid: sid, body: Self.body(attributes: 3, version: 0, prefix: "old"))
            for (version, count) in [(1, 5_000), (2, 100_000), (3, 2)] {
                let response = try await client.send(.put, path, token: token, json: Self.body(attributes: count, version: version))
                #expect(response.status == .noContent, "\(count) attributes: \(response.status)")
                let stored = try await probe.hash(fixture.key(sid))
                #expect(stored.keys.filter { $0.hasPrefix("@") }.count == count)
                #expect(stored["@a\(count - 1)"] == #""v\#(count - 1)""#)
                #expect(stored["_v"] == "\(version + 1)")
            }
            // A merge that removes 4,000 attributes at once (batched deletes) is applied whole too.
            let setMany = Self.body(attributes: 4_000, version: 4)
            #expect(try await client.send(.put, path, token: token, json: setMany).status == .noContent)
            let nulls = (0..<4_000).map { #""a\#($0)":null"# }.joined(separator: ",")
            let me = try await fixture.storefrontToken(sid: sid)
            let patch = try await client.send(
                .patch, "/session-context/\(fixture.tenant)/me/context", token: me, json: #"{"context":{"# + nulls + #"},"metadata":{"version":5}}"#
            )
            #expect(patch.status == .noContent)
            let stored = try await probe.hash(fixture.key(sid))
            #expect(stored.keys.filter { $0.hasPrefix("@") }.isEmpty)
            #expect(stored["_v"] == "6")
        }
    }

    @Test("A bucket's stream of another type refuses every write before it writes: 503, and the context is unchanged")
    func streamOfAnotherType() async throws {
        let fixture = try Fixture()
        // On a Redis Cluster there is no stream (it would be in another slot): nothing to refuse.
        guard !fixture.configuration.redisURL.hasPrefix("redis-cluster") else { return }
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        let me = try await fixture.storefrontToken(sid: sid)
        let probe = RedisProbe(endpoint: fixture.endpoint)
        let base = "/session-context/\(fixture.tenant)"
        try await fixture.withApp { client async throws in
            try await StorefrontAPITests.create(client, fixture, sid: sid, body: #"{"siteCode":"main","context":{"a":"1","b":"2"},"metadata":{"version":0}}"#)
            let stored = try await probe.hash(fixture.key(sid))
            let streamKey = fixture.address(sid).streamKey
            // A new session in the same bucket, so with the same stream.
            let layout = SessionLayout(buckets: fixture.configuration.eventBuckets)
            let other = try #require((0..<1000).lazy.map { "\(sid)-new\($0)" }.first { layout.bucket(of: $0) == layout.bucket(of: sid) })
            _ = try await probe.send(RESPCommand("DEL", streamKey))
            _ = try await probe.send(RESPCommand("SET", streamKey, "not a stream"))
            let steps: [(String, () async throws -> HTTPResponse.Status)] = [
                ("PUT", { try await client.send(.put, "\(base)/context/\(sid)", token: token, json: #"{"siteCode":"x","context":{"c":"3"},"metadata":{"version":1}}"#).status }),
                ("PATCH /me", { try await client.send(.patch, "\(base)/me/context", token: me, json: #"{"context":{"a":null,"d":"4"},"metadata":{"version":1}}"#).status }),
                ("POST attribute", { try await client.send(.post, "\(base)/context/\(sid)/attributes", token: token, json: #"{"key":"e","value":"5"}"#).status }),
                ("DELETE attribute", { try await client.send(.delete, "\(base)/context/\(sid)/attributes/a", token: token).status }),
                ("DELETE", { try await client.send(.delete, "\(base)/context/\(sid)", token: token).status }),
                ("PUT creating", { try await client.send(.put, "\(base)/context/\(other)?upsert=true", token: token, json: #"{"metadata":{"version":0}}"#).status }),
            ]
            for (name, step) in steps {
                #expect(try await step() == .serviceUnavailable, "\(name)")
                #expect(try await probe.hash(fixture.key(sid)) == stored, "\(name) changed the context")
            }
            #expect(try await probe.exists(fixture.key(other)) == false)
            _ = try await probe.send(RESPCommand("DEL", streamKey))
            #expect(try await client.send(.post, "\(base)/context/\(sid)/attributes", token: token, json: #"{"key":"e","value":"5"}"#).status == .noContent)
        }
    }

    @Test("A stored version that is not a number fails the step before it writes")
    func corruptVersion() async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        let probe = RedisProbe(endpoint: fixture.endpoint)
        let base = "/session-context/\(fixture.tenant)/context/\(sid)"
        try await fixture.withApp { client async throws in
            try await StorefrontAPITests.create(client, fixture, sid: sid, body: #"{"siteCode":"main","context":{"a":"1"},"metadata":{"version":0}}"#)
            _ = try await probe.send(RESPCommand("HSET", fixture.key(sid), "_v", "not-a-number"))
            let stored = try await probe.hash(fixture.key(sid))
            #expect(try await client.send(.post, base + "/attributes", token: token, json: #"{"key":"b","value":"2"}"#).status.code >= 400)
            #expect(try await client.send(.delete, base + "/attributes/a", token: token).status.code >= 400)
            #expect(try await client.send(.put, base, token: token, json: #"{"metadata":{"version":1}}"#).status.code >= 400)
            #expect(try await probe.hash(fixture.key(sid)) == stored)
        }
    }
}
