import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SessionStore
import Testing

@Suite("Storefront side")
struct StorefrontAPITests {
    /// Creates a session through the management side.
    static func create(_ client: some TestClientProtocol, _ fixture: Fixture, sid: String, body: String = #"{"siteCode":"main","metadata":{"version":0}}"#, saas: String? = nil) async throws {
        let token = try await fixture.managementToken()
        var headers: HTTPFields = [:]
        if let saas { headers[HTTPField.Name("saas-token")!] = saas }
        let response = try await client.send(.put, "/session-context/\(fixture.tenant)/context/\(sid)?upsert=true", token: token, json: body, headers: headers)
        #expect(response.status == .noContent)
    }

    @Test("GET /me/context reads the token's session and restarts its idle clock")
    func readMe() async throws {
        let fixture = try Fixture { $0.anonymousTTL = 100 }
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.storefrontToken(sid: sid)
        let probe = RedisProbe(endpoint: fixture.endpoint)
        try await fixture.withApp { client async throws in
            #expect(try await client.send(.get, "/session-context/\(fixture.tenant)/me/context", token: token).status == .notFound)
            try await Self.create(client, fixture, sid: sid)
            _ = try await probe.send(.init("PEXPIRE", fixture.key(sid), "5000"))
            let response = try await client.send(.get, "/session-context/\(fixture.tenant)/me/context", token: token)
            #expect(response.status == .ok)
            #expect(try response.json[member: "sessionId"]?.stringValue == sid)
            #expect(try response.json[member: "context"] == .object([]))
            #expect(try await probe.pttl(fixture.key(sid)) > 90_000)
        }
    }

    @Test("PATCH merges the allowed fields and attributes, ignores others, checks the version")
    func patch() async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.storefrontToken(sid: sid)
        try await fixture.withApp { client async throws in
            try await Self.create(client, fixture, sid: sid, body: #"{"siteCode":"main","cartId":"cart1","context":{"keep":"k","drop":"d"},"metadata":{"version":0}}"#)
            let path = "/session-context/\(fixture.tenant)/me/context"
            let response = try await client.send(
                .patch, path, token: token,
                json: #"{"currency":"USD","cartId":"ignored","customerId":"ignored","context":{"drop":null,"new":{"a":"b"}},"metadata":{"version":1}}"#
            )
            #expect(response.status == .noContent)
            let body = try await client.send(.get, path, token: token).json
            #expect(body[member: "currency"]?.stringValue == "USD")
            #expect(body[member: "cartId"]?.stringValue == "cart1")
            #expect(body[member: "customerId"] == nil)
            #expect(body[member: "context"]?.memberNames.sorted() == ["keep", "new"])
            #expect(body[member: "metadata"]?[member: "version"]?.intValue == 2)
            let stale = try await client.send(.patch, path, token: token, json: #"{"currency":"GBP","metadata":{"version":1}}"#)
            #expect(stale.status == .conflict)
            #expect(try stale.json[member: "currentVersion"]?.intValue == 2)
            #expect(try await client.send(.patch, path, token: token, json: #"{"siteCode":null,"metadata":{"version":2}}"#).status == .noContent)
            #expect(try await client.send(.get, path, token: token).json[member: "siteCode"] == nil)
        }
    }

    @Test("POST /me attribute answers 201 with the name; DELETE answers 204")
    func attributes() async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.storefrontToken(sid: sid)
        try await fixture.withApp { client async throws in
            let path = "/session-context/\(fixture.tenant)/me/context/attributes"
            #expect(try await client.send(.post, path, token: token, json: #"{"key":"a","value":"b"}"#).status == .notFound)
            try await Self.create(client, fixture, sid: sid)
            let response = try await client.send(.post, path, token: token, json: #"{"key":"wish list","value":{"items":"3"}}"#)
            #expect(response.status == .created)
            #expect(String(buffer: response.body) == #""wish list""#)
            #expect(try await client.send(.delete, path + "/wish%20list", token: token).status == .noContent)
            #expect(try await client.send(.get, "/session-context/\(fixture.tenant)/me/context", token: token).json[member: "context"] == .object([]))
        }
    }

    @Test("A customer's session answers only that customer's storefront token")
    func customerOwnership() async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let owner = try await fixture.storefrontToken(sid: sid, customerId: "C1")
        let anonymous = try await fixture.storefrontToken(sid: sid)
        let other = try await fixture.storefrontToken(sid: sid, customerId: "C2")
        try await fixture.withApp { client async throws in
            try await Self.create(client, fixture, sid: sid, body: #"{"customerId":"C1","metadata":{"version":0}}"#, saas: owner)
            let path = "/session-context/\(fixture.tenant)/me/context"
            #expect(try await client.send(.get, path, token: owner).status == .ok)
            #expect(try await client.send(.get, path, token: anonymous).status == .forbidden)
            #expect(try await client.send(.get, path, token: other).status == .forbidden)
            #expect(try await client.send(.post, path + "/attributes", token: other, json: #"{"key":"a","value":"b"}"#).status == .forbidden)
            #expect(try await client.send(.patch, path, token: other, json: #"{"currency":"USD","metadata":{"version":1}}"#).status == .forbidden)
            #expect(try await client.send(.delete, path + "/attributes/a", token: other).status == .forbidden)
        }
        #expect(try await RedisProbe(endpoint: fixture.endpoint).hash(fixture.key(sid))["_v"] == "1")
    }
}
