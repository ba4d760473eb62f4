import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SessionStore
import Testing

@Suite("Limits")
struct LimitsTests {
    @Test("Past the attribute limit a change is a 400 and changes nothing; overwriting and removing still work")
    func maxAttributes() async throws {
        let fixture = try Fixture { $0.maxAttributes = 3 }
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        let me = try await fixture.storefrontToken(sid: sid)
        try await fixture.withApp { client async throws in
            try await StorefrontAPITests.create(client, fixture, sid: sid, body: #"{"metadata":{"version":0}}"#)
            let base = "/session-context/\(fixture.tenant)/context/\(sid)"
            for name in ["a", "b", "c"] {
                #expect(try await client.send(.post, base + "/attributes", token: token, json: #"{"key":"\#(name)","value":"v"}"#).status == .noContent)
            }
            let refused = try await client.send(.post, base + "/attributes", token: token, json: #"{"key":"d","value":"v"}"#)
            #expect(refused.status == .badRequest)
            #expect(try refused.json[member: "message"]?.stringValue?.contains("3 attributes") == true)
            #expect(try await client.send(.post, base + "/attributes", token: token, json: #"{"key":"a","value":"changed"}"#).status == .noContent)
            #expect(try await client.send(.put, base, token: token, json: #"{"context":{"w":"1","x":"2","y":"3","z":"4"},"metadata":{"version":5}}"#).status == .badRequest)
            let mePath = "/session-context/\(fixture.tenant)/me/context"
            #expect(try await client.send(.patch, mePath, token: me, json: #"{"context":{"d":"1"},"metadata":{"version":5}}"#).status == .badRequest)
            // One out, one in: still three.
            #expect(try await client.send(.patch, mePath, token: me, json: #"{"context":{"b":null,"d":"1"},"metadata":{"version":5}}"#).status == .noContent)
        }
        let stored = try await RedisProbe(endpoint: fixture.endpoint).hash(fixture.key(sid))
        #expect(stored.keys.filter { $0.hasPrefix("@") }.sorted() == ["@a", "@c", "@d"])
        #expect(stored["_v"] == "6")
    }

    @Test("An attribute value over the configured size is a 400 naming the limit")
    func maxValueBytes() async throws {
        let fixture = try Fixture { $0.maxValueBytes = 100 }
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        try await fixture.withApp { client async throws in
            try await StorefrontAPITests.create(client, fixture, sid: sid, body: #"{"metadata":{"version":0}}"#)
            let big = String(repeating: "x", count: 120)
            let response = try await client.send(.post, "/session-context/\(fixture.tenant)/context/\(sid)/attributes", token: token, json: #"{"key":"k","value":"\#(big)"}"#)
            #expect(response.status == .badRequest)
            #expect(try response.json[member: "message"]?.stringValue?.contains("100 bytes") == true)
            #expect(try await client.send(.post, "/session-context/\(fixture.tenant)/context/\(sid)/attributes", token: token, json: #"{"key":"k","value":"small"}"#).status == .noContent)
        }
    }
}

@Suite("Connection limits")
struct ConnectionLimitsTests {
    @Test("An idle connection is closed after the idle timeout; oversized headers are refused")
    func idleAndHeaders() async throws {
        let fixture = try Fixture { $0.idleTimeoutSeconds = 1 }
        try await fixture.withApp { client async throws in
            let port = try #require(client.port)
            // Idle: a connection that sends nothing is closed by the server.
            let idle = try await RawConnection.open(port: port)
            let start = ContinuousClock.now
            let closed = await idle.waitUntilClosed(timeout: .seconds(5))
            #expect(closed)
            #expect(ContinuousClock.now - start < .seconds(4))
            // Huge headers: the decoder refuses them and the connection ends without a 2xx.
            let huge = try await RawConnection.open(port: port)
            let reply = await huge.send("GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 100 * 1024))\r\n\r\n", timeout: .seconds(5))
            #expect(!reply.hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test("A 10 MB body is a 413 answered before the body is read; nothing changes and the worker serves on")
    func tenMegabyteBody() async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        try await fixture.withApp { client async throws in
            let port = try #require(client.port)
            try await StorefrontAPITests.create(client, fixture, sid: sid)
            let path = "/session-context/\(fixture.tenant)/context/\(sid)"
            let body = #"{"siteCode":""# + String(repeating: "x", count: 10 * 1024 * 1024) + #"","metadata":{"version":1}}"#
            for (method, target) in [("PUT", path), ("POST", path + "/attributes")] {
                let connection = try await RawConnection.open(port: port)
                let start = ContinuousClock.now
                let reply = await connection.send(
                    "\(method) \(target) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\n"
                        + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)",
                    until: #""code":413"#, timeout: .seconds(10)
                )
                #expect(reply.hasPrefix("HTTP/1.1 413"), "\(method): \(reply.prefix(200))")
                #expect(reply.contains(#""code":413"#))
                #expect(ContinuousClock.now - start < .seconds(5))
                try? await connection.channel.close()
            }
            let stored = try await client.send(.get, path, token: token)
            #expect(stored.status == .ok)
            #expect(try stored.json[member: "metadata"]?[member: "version"]?.intValue == 1)
            #expect(try stored.json[member: "siteCode"]?.stringValue == "main")
        }
        #expect(try await RedisProbe(endpoint: fixture.endpoint).hash(fixture.key(sid))["_v"] == "1")
    }
}
