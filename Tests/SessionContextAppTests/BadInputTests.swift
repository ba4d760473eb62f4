import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SessionStore
import Testing

@Suite("Bad input")
struct BadInputTests {
    /// Sends `json` and expects `status` with a message that mentions `mentioning`; the session stays at version 1.
    func expectRejected(
        _ client: some TestClientProtocol, _ fixture: Fixture, _ method: HTTPRequest.Method, _ path: String, token: String,
        json: String?, headers: HTTPFields = [:], status: HTTPResponse.Status = .badRequest, mentioning: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let response = try await client.send(method, path, token: token, json: json, headers: headers)
        #expect(response.status == status, "\(json ?? "")", sourceLocation: sourceLocation)
        let message = try response.json[member: "message"]?.stringValue ?? ""
        if let mentioning { #expect(message.contains(mentioning), "\(message)", sourceLocation: sourceLocation) }
    }

    @Test("Malformed JSON and wrong types are 400 naming the field, and change nothing")
    func malformed() async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        let me = try await fixture.storefrontToken(sid: sid)
        try await fixture.withApp { client async throws in
            try await StorefrontAPITests.create(client, fixture, sid: sid)
            let put = "/session-context/\(fixture.tenant)/context/\(sid)"
            let attributes = put + "/attributes"
            let patch = "/session-context/\(fixture.tenant)/me/context"
            try await expectRejected(client, fixture, .put, put, token: token, json: #"{"siteCode":"#, mentioning: "malformed JSON")
            try await expectRejected(client, fixture, .put, put, token: token, json: #"{"a":1,"a":2,"metadata":{"version":1}}"#, mentioning: "duplicate")
            // In a larger object too (its names are kept in a set past the eighth), early or late.
            let many = (0..<12).map { #""c\#($0)":1"# }.joined(separator: ",")
            for repeated in ["c3", "c10"] {
                let body = #"{"context":{\#(many),"\#(repeated)":2},"metadata":{"version":1}}"#
                try await expectRejected(client, fixture, .put, put, token: token, json: body, mentioning: "duplicate member name \"\(repeated)\"")
            }
            try await expectRejected(client, fixture, .put, put, token: token, json: #"[1]"#, mentioning: "object")
            try await expectRejected(client, fixture, .put, put, token: token, json: #"{"siteCode":"x"}"#, mentioning: "metadata.version")
            try await expectRejected(client, fixture, .put, put, token: token, json: #"{"metadata":{"version":"1"}}"#, mentioning: "metadata.version")
            try await expectRejected(client, fixture, .put, put, token: token, json: #"{"metadata":{"version":1.5}}"#, mentioning: "metadata.version")
            try await expectRejected(client, fixture, .put, put, token: token, json: #"{"siteCode":5,"metadata":{"version":1}}"#, mentioning: "siteCode")
            try await expectRejected(client, fixture, .put, put, token: token, json: #"{"currency":"euro","metadata":{"version":1}}"#, mentioning: "currency")
            try await expectRejected(client, fixture, .put, put, token: token, json: #"{"targetLocation":"deu","metadata":{"version":1}}"#, mentioning: "targetLocation")
            try await expectRejected(client, fixture, .put, put, token: token, json: #"{"language":"german!","metadata":{"version":1}}"#, mentioning: "language")
            try await expectRejected(client, fixture, .put, put, token: token, json: #"{"context":[],"metadata":{"version":1}}"#, mentioning: "context")
            try await expectRejected(client, fixture, .put, put, token: token, json: #"{"context":{"n":5},"metadata":{"version":1}}"#, mentioning: "context.n")
            try await expectRejected(client, fixture, .put, put, token: token, json: #"{"sessionId":"other","metadata":{"version":1}}"#, mentioning: "sessionId")
            try await expectRejected(client, fixture, .put, put + "?upsert=maybe", token: token, json: #"{"metadata":{"version":1}}"#, mentioning: "upsert")
            try await expectRejected(client, fixture, .post, attributes, token: token, json: #"{"value":"x"}"#, mentioning: "key")
            try await expectRejected(client, fixture, .post, attributes, token: token, json: #"{"key":"k"}"#, mentioning: "value")
            try await expectRejected(client, fixture, .post, attributes, token: token, json: #"{"key":7,"value":"x"}"#, mentioning: "key")
            try await expectRejected(client, fixture, .post, attributes, token: token, json: #"{"key":"k","value":[1]}"#, mentioning: "value")
            try await expectRejected(client, fixture, .post, attributes, token: token, json: #"{"key":"k","value":true}"#, mentioning: "value")
            try await expectRejected(client, fixture, .post, attributes, token: token, json: #"{"key":"","value":"x"}"#, mentioning: "key")
            try await expectRejected(client, fixture, .post, attributes, token: token, json: "{\"key\":\"a\\u0001b\",\"value\":\"x\"}", mentioning: "key")
            try await expectRejected(client, fixture, .patch, patch, token: me, json: #"{"currency":"USD"}"#, mentioning: "metadata.version")
            try await expectRejected(client, fixture, .patch, patch, token: me, json: #"{"context":{"x":1},"metadata":{"version":1}}"#, mentioning: "context.x")
            let deep = String(repeating: "{\"a\":", count: 40) + "\"x\"" + String(repeating: "}", count: 40)
            try await expectRejected(client, fixture, .post, attributes, token: token, json: #"{"key":"k","value":\#(deep)}"#, mentioning: "nesting")
        }
        let stored = try await RedisProbe(endpoint: fixture.endpoint).hash(fixture.key(sid))
        #expect(stored["_v"] == "1")
        #expect(stored["si"] == "main")
    }

    @Test("Invalid UTF-8 is 400, in a string with or without an escape before it", arguments: [#"{"key":"a"#, #"{"key":"a\n"#])
    func invalidUTF8(prefix: String) async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        try await fixture.withApp { client async throws in
            try await StorefrontAPITests.create(client, fixture, sid: sid)
            var body = ByteBuffer(string: prefix)
            body.writeBytes([0xC3, 0x28])
            body.writeString(#"","value":"x"}"#)
            let response = try await client.execute(
                uri: "/session-context/\(fixture.tenant)/context/\(sid)/attributes", method: .post,
                headers: [.authorization: "Bearer \(token)", .contentType: "application/json"], body: body
            )
            #expect(response.status == .badRequest)
            #expect(try response.json[member: "message"]?.stringValue?.contains("UTF-8") == true)
        }
    }

    @Test("Content-Type application/json in any case and with parameters is accepted; any other media type is 415", arguments: [
        ("application/json", true),
        ("Application/JSON; charset=utf-8", true),
        ("application/json ;charset=UTF-8", true),
        ("application/jsonx", false),
        ("application/json-seq", false),
        ("text/json", false),
        ("application json", false),
        (";application/json", false),
    ])
    func mediaTypes(contentType: String, accepted: Bool) async throws {
        let hash = try await self.attributesOfNewSession { client, path, token, _ in
            let response = try await client.send(.post, path, token: token, json: #"{"key":"k","value":"x"}"#, headers: [.contentType: contentType])
            #expect(response.status == (accepted ? .noContent : .unsupportedMediaType), "\(contentType)")
        }
        #expect(hash["@k"] == (accepted ? #""x""# : nil))
    }

    /// Runs `test` with the attributes path of a new session and a management token; returns the
    /// session's hash in Redis afterwards.
    func attributesOfNewSession(
        _ test: @Sendable (any TestClientProtocol, _ path: String, _ token: String, Fixture) async throws -> Void
    ) async throws -> [String: String] {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        try await fixture.withApp { client async throws in
            try await StorefrontAPITests.create(client, fixture, sid: sid)
            try await test(client, "/session-context/\(fixture.tenant)/context/\(sid)/attributes", token, fixture)
        }
        return try await RedisProbe(endpoint: fixture.endpoint).hash(fixture.key(sid))
    }

    @Test("A body over the limit is 413; a body that is not JSON is 415")
    func sizeAndMediaType() async throws {
        let hash = try await self.attributesOfNewSession { client, path, token, fixture in
            let big = #"{"key":"k","value":""# + String(repeating: "x", count: 70 * 1024) + #""}"#
            try await expectRejected(client, fixture, .post, path, token: token, json: big, status: .contentTooLarge)
            try await expectRejected(client, fixture, .post, path, token: token, json: #"{"key":"k","value":"x"}"#, headers: [.contentType: "text/plain"], status: .unsupportedMediaType)
            try await expectRejected(client, fixture, .post, path, token: token, json: nil, status: .unsupportedMediaType)
            let large = #"{"key":"k","value":""# + String(repeating: "x", count: 20 * 1024) + #""}"#
            try await expectRejected(client, fixture, .post, path, token: token, json: large, mentioning: "larger than")
        }
        #expect(hash["@k"] == nil)
    }

    @Test("Escapes in names and values, \\u ones and surrogate pairs included, are read as what they stand for")
    func escapes() async throws {
        let hash = try await self.attributesOfNewSession { client, path, token, _ in
            let json = #"{"key":"\u00e9t\u00e9 \"q\"","value":"\ud83c\udf89\n\/"}"#
            #expect(try await client.send(.post, path, token: token, json: json).status == .noContent)
            let context = try await client.send(.get, String(path.dropLast("/attributes".count)), token: token).json[member: "context"]
            #expect(context?.memberNames == ["été \"q\""])
            #expect(context?[member: "été \"q\""]?.stringValue == "🎉\n/")
        }
        #expect(hash["@été \"q\""] != nil)
    }

    @Test("Bad tenant, session id and attribute name in the path are 400")
    func badPathParameters() async throws {
        let fixture = try Fixture()
        let token = try await fixture.managementToken()
        try await fixture.withApp { client async throws in
            #expect(try await client.send(.get, "/session-context/AB/context/s1", token: token).status == .badRequest)
            #expect(try await client.send(.get, "/session-context/thistenantnameistoolong/context/s1", token: token).status == .badRequest)
            #expect(try await client.send(.get, "/session-context/\(fixture.tenant)/context/bad%20id", token: token).status == .badRequest)
            // ":" is allowed in session ids, and arrives percent-encoded from many clients.
            #expect(try await client.send(.get, "/session-context/\(fixture.tenant)/context/a%3Ab", token: token).status == .notFound)
            let long = String(repeating: "a", count: 129)
            #expect(try await client.send(.get, "/session-context/\(fixture.tenant)/context/\(long)", token: token).status == .badRequest)
            #expect(try await client.send(.delete, "/session-context/\(fixture.tenant)/context/s1/attributes/a%01b", token: token).status == .badRequest)
            #expect(try await client.send(.delete, "/session-context/\(fixture.tenant)/context/s1/attributes/%ZZ", token: token).status == .badRequest)
            #expect(try await client.send(.delete, "/session-context/\(fixture.tenant)/context/s1/attributes/a%7Fb", token: token).status == .badRequest)
            #expect(try await client.send(.delete, "/session-context/\(fixture.tenant)/context/s1/attributes/a%C2%85b", token: token).status == .badRequest)
            let tooLong = String(repeating: "n", count: 257)
            #expect(try await client.send(.delete, "/session-context/\(fixture.tenant)/context/s1/attributes/\(tooLong)", token: token).status == .badRequest)
            // 256 characters are allowed: the session does not exist.
            #expect(try await client.send(.delete, "/session-context/\(fixture.tenant)/context/s1/attributes/\(tooLong.dropLast())", token: token).status == .notFound)
        }
    }

    @Test("Attribute names with : * { spaces, slashes and Unicode round-trip exactly", arguments: [
        "a:b", "*", "{tag}", "with space", "slash/inside", "ünïcødé ✓", "日本語", "emoji 🎉", "KEYS *", "'); redis.call('FLUSHALL') --", "@at", "_v", "%41", "a\"b\\c",
    ])
    func attributeNames(name: String) async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        let me = try await fixture.storefrontToken(sid: sid)
        try await fixture.withApp { client async throws in
            try await StorefrontAPITests.create(client, fixture, sid: sid)
            var key = ByteBuffer()
            JSONWriter.writeString(name, into: &key)
            let base = "/session-context/\(fixture.tenant)/context/\(sid)"
            #expect(try await client.send(.post, base + "/attributes", token: token, json: #"{"key":\#(String(buffer: key)),"value":"v"}"#).status == .noContent)
            let body = try await client.send(.get, base, token: token).json
            #expect(body[member: "context"]?.memberNames == [name])
            #expect(body[member: "context"]?[member: name]?.stringValue == "v")
            #expect(body[member: "metadata"]?[member: "version"]?.intValue == 2)
            let encoded = name.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))!
            #expect(try await client.send(.delete, "/session-context/\(fixture.tenant)/me/context/attributes/\(encoded)", token: me).status == .noContent)
            #expect(try await client.send(.get, base, token: token).json[member: "context"] == .object([]))
        }
        let stored = try await RedisProbe(endpoint: fixture.endpoint).hash(fixture.key(sid))
        #expect(stored["_v"] == "3")
        #expect(stored["si"] == "main")
    }
}
