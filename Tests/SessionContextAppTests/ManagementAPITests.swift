import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SessionStore
import TestSupport
import Testing

@Suite("Management side")
struct ManagementAPITests {
    static let fullBody = #"""
        {"customerId":"C87362407845","siteCode":"main","currency":"EUR","cartId":"61079711ce0eb90861357045",
         "targetLocation":"DE","language":"de","context":{"legalEntityId":"68cd05d71aeab17fc69f81b7","geo":{"lat":"52.5"}},
         "metadata":{"version":0}}
        """#

    @Test("PUT with upsert creates, GET returns the documented shape")
    func createAndRead() async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        let saas = try await fixture.storefrontToken(sid: sid, customerId: "C87362407845")
        try await fixture.withApp { client async throws in
            let put = try await client.send(
                .put, "/session-context/\(fixture.tenant)/context/\(sid)?upsert=true", token: token, json: Self.fullBody,
                headers: [HTTPField.Name("saas-token")!: saas]
            )
            #expect(put.status == .noContent)
            let get = try await client.send(.get, "/session-context/\(fixture.tenant)/context/\(sid)", token: token)
            #expect(get.status == .ok)
            #expect(get.headers[.contentType] == "application/json")
            let body = try get.json
            #expect(body.memberNames == ["sessionId", "customerId", "siteCode", "currency", "cartId", "targetLocation", "language", "context", "metadata"])
            #expect(body[member: "sessionId"]?.stringValue == sid)
            #expect(body[member: "currency"]?.stringValue == "EUR")
            #expect(body[member: "context"]?[member: "geo"] == .object([("lat", .string("52.5"))]))
            #expect(body[member: "context"]?[member: "legalEntityId"]?.stringValue == "68cd05d71aeab17fc69f81b7")
            let metadata = try #require(body[member: "metadata"])
            #expect(metadata[member: "version"]?.intValue == 1)
            let createdAt = try #require(metadata[member: "createdAt"]?.stringValue)
            #expect(createdAt.count == 24 && createdAt.hasSuffix("Z"))
            #expect(metadata[member: "modifiedAt"]?.stringValue == createdAt)
        }
        let stored = try await RedisProbe(endpoint: fixture.endpoint).hash(fixture.key(sid))
        #expect(stored["_v"] == "1")
        #expect(stored["cu"] == "C87362407845")
        #expect(stored["@geo"] == #"{"lat":"52.5"}"#)
    }

    @Test("GET of a missing session is 404 with the session id")
    func getMissing() async throws {
        let fixture = try Fixture()
        let token = try await fixture.managementToken()
        try await fixture.withApp { client async throws in
            let response = try await client.send(.get, "/session-context/\(fixture.tenant)/context/nope", token: token)
            #expect(response.status == .notFound)
            let body = try response.json
            #expect(body[member: "code"]?.intValue == 404)
            #expect(body[member: "sessionId"]?.stringValue == "nope")
            #expect(body[member: "message"]?.stringValue?.isEmpty == false)
        }
    }

    @Test("PUT without upsert on a missing session is 404 and creates nothing")
    func putMissing() async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        try await fixture.withApp { client async throws in
            let response = try await client.send(
                .put, "/session-context/\(fixture.tenant)/context/\(sid)", token: token, json: #"{"siteCode":"main","metadata":{"version":1}}"#
            )
            #expect(response.status == .notFound)
            #expect(try response.json[member: "sessionId"]?.stringValue == sid)
        }
        #expect(try await RedisProbe(endpoint: fixture.endpoint).exists(fixture.key(sid)) == false)
    }

    @Test("PUT replaces standard fields, keeps attributes without context, replaces them with it")
    func putReplaces() async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        try await fixture.withApp { client async throws in
            let base = "/session-context/\(fixture.tenant)/context/\(sid)"
            #expect(try await client.send(.put, base + "?upsert=true", token: token, json: #"{"siteCode":"main","currency":"EUR","context":{"a":"1","b":"2"},"metadata":{"version":0}}"#).status == .noContent)
            #expect(try await client.send(.put, base, token: token, json: #"{"siteCode":"uk","metadata":{"version":1}}"#).status == .noContent)
            var body = try await client.send(.get, base, token: token).json
            #expect(body[member: "siteCode"]?.stringValue == "uk")
            #expect(body[member: "currency"] == nil)
            #expect(body[member: "context"]?.memberNames == ["a", "b"])
            #expect(body[member: "metadata"]?[member: "version"]?.intValue == 2)
            #expect(try await client.send(.put, base, token: token, json: #"{"siteCode":"uk","context":{"c":{"x":"y"}},"metadata":{"version":2}}"#).status == .noContent)
            body = try await client.send(.get, base, token: token).json
            #expect(body[member: "context"]?.memberNames == ["c"])
            #expect(body[member: "metadata"]?[member: "version"]?.intValue == 3)
            // The same content again changes nothing: no bump.
            #expect(try await client.send(.put, base, token: token, json: #"{"siteCode":"uk","context":{"c":{"x":"y"}},"metadata":{"version":3}}"#).status == .noContent)
            body = try await client.send(.get, base, token: token).json
            #expect(body[member: "metadata"]?[member: "version"]?.intValue == 3)
        }
    }

    @Test("PUT with a stale version is 409 with the current version and changes nothing")
    func putConflict() async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        try await fixture.withApp { client async throws in
            let base = "/session-context/\(fixture.tenant)/context/\(sid)"
            _ = try await client.send(.put, base + "?upsert=true", token: token, json: #"{"siteCode":"main","metadata":{"version":0}}"#)
            let response = try await client.send(.put, base, token: token, json: #"{"siteCode":"other","metadata":{"version":7}}"#)
            #expect(response.status == .conflict)
            #expect(try response.json[member: "currentVersion"]?.intValue == 1)
            #expect(try response.json[member: "code"]?.intValue == 409)
        }
        #expect(try await RedisProbe(endpoint: fixture.endpoint).hash(fixture.key(sid))["si"] == "main")
    }

    @Test("saas-token: a customer's context needs that customer's token")
    func saasToken() async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        let customerToken = try await fixture.storefrontToken(sid: sid, customerId: "C1")
        let otherCustomer = try await fixture.storefrontToken(sid: sid, customerId: "C2")
        let saas = HTTPField.Name("saas-token")!
        try await fixture.withApp { client async throws in
            let base = "/session-context/\(fixture.tenant)/context/\(sid)"
            let body = #"{"customerId":"C1","metadata":{"version":0}}"#
            #expect(try await client.send(.put, base + "?upsert=true", token: token, json: body).status == .forbidden)
            #expect(try await client.send(.put, base + "?upsert=true", token: token, json: body, headers: [saas: otherCustomer]).status == .forbidden)
            #expect(try await client.send(.put, base + "?upsert=true", token: token, json: body, headers: [saas: "not-a-token"]).status == .forbidden)
            #expect(try await client.send(.put, base + "?upsert=true", token: token, json: body, headers: [saas: customerToken]).status == .noContent)
            // Stored customer: a body without customerId still needs the customer's token.
            #expect(try await client.send(.put, base, token: token, json: #"{"metadata":{"version":1}}"#).status == .forbidden)
            #expect(try await client.send(.put, base, token: token, json: #"{"customerId":"C1","siteCode":"x","metadata":{"version":1}}"#, headers: [saas: customerToken]).status == .noContent)
        }
        let stored = try await RedisProbe(endpoint: fixture.endpoint).hash(fixture.key(sid))
        #expect(stored["cu"] == "C1")
        #expect(stored["si"] == "x")
    }

    @Test("POST attribute sets (and overwrites) a value; DELETE removes it; absent is a no-op")
    func attributes() async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        try await fixture.withApp { client async throws in
            let base = "/session-context/\(fixture.tenant)/context/\(sid)"
            _ = try await client.send(.put, base + "?upsert=true", token: token, json: #"{"metadata":{"version":0}}"#)
            #expect(try await client.send(.post, base + "/attributes", token: token, json: #"{"key":"geo","value":{"lat":"52.5","n":[1,2.50]}}"#).status == .noContent)
            #expect(try await client.send(.post, base + "/attributes", token: token, json: #"{"key":"geo","value":"plain"}"#).status == .noContent)
            var body = try await client.send(.get, base, token: token).json
            #expect(body[member: "context"]?[member: "geo"]?.stringValue == "plain")
            #expect(body[member: "metadata"]?[member: "version"]?.intValue == 3)
            #expect(try await client.send(.delete, base + "/attributes/geo", token: token).status == .noContent)
            #expect(try await client.send(.delete, base + "/attributes/geo", token: token).status == .noContent)
            body = try await client.send(.get, base, token: token).json
            #expect(body[member: "context"] == .object([]))
            #expect(body[member: "metadata"]?[member: "version"]?.intValue == 4)
            #expect(try await client.send(.post, "/session-context/\(fixture.tenant)/context/missing/attributes", token: token, json: #"{"key":"a","value":"b"}"#).status == .notFound)
            #expect(try await client.send(.delete, "/session-context/\(fixture.tenant)/context/missing/attributes/a", token: token).status == .notFound)
        }
    }

    @Test("Attribute values keep their structure and number literals exactly")
    func valueFidelity() async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        let value = #"{"z":{"deep":[true,false,null,"é\n\"q\""]},"a":12345678901234567890,"f":1.50e-3}"#
        try await fixture.withApp { client async throws in
            let base = "/session-context/\(fixture.tenant)/context/\(sid)"
            _ = try await client.send(.put, base + "?upsert=true", token: token, json: #"{"metadata":{"version":0}}"#)
            #expect(try await client.send(.post, base + "/attributes", token: token, json: #"{"key":"v","value":\#(value)}"#).status == .noContent)
            let response = try await client.send(.get, base, token: token)
            let text = String(buffer: response.body)
            #expect(text.contains(#""v":\#(value)"#))
        }
    }

    @Test("DELETE ends the session: 204, then 404")
    func deleteSession() async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        try await fixture.withApp { client async throws in
            let base = "/session-context/\(fixture.tenant)/context/\(sid)"
            _ = try await client.send(.put, base + "?upsert=true", token: token, json: #"{"metadata":{"version":0}}"#)
            #expect(try await client.send(.delete, base, token: token).status == .noContent)
            #expect(try await client.send(.delete, base, token: token).status == .notFound)
            #expect(try await client.send(.get, base, token: token).status == .notFound)
        }
        #expect(try await RedisProbe(endpoint: fixture.endpoint).exists(fixture.key(sid)) == false)
    }

    @Test("A management read does not restart the idle clock")
    func managementReadKeepsTTL() async throws {
        let fixture = try Fixture { $0.anonymousTTL = 100 }
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        let probe = RedisProbe(endpoint: fixture.endpoint)
        try await fixture.withApp { client async throws in
            let base = "/session-context/\(fixture.tenant)/context/\(sid)"
            _ = try await client.send(.put, base + "?upsert=true", token: token, json: #"{"metadata":{"version":0}}"#)
            _ = try await probe.send(.init("PEXPIRE", fixture.key(sid), "50000"))
            #expect(try await client.send(.get, base, token: token).status == .ok)
            #expect(try await probe.pttl(fixture.key(sid)) <= 50_000)
        }
    }

    @Test("Health: live always, ready when Redis answers and the session layout is verified; no token needed")
    func health() async throws {
        let fixture = try Fixture()
        try await fixture.withApp { client async throws in
            #expect(try await client.send(.get, "/health/live").status == .ok)
            // Ready once the start-up check of the layout has passed (a few milliseconds).
            #expect(try await eventually { try await client.send(.get, "/health/ready").status == .ok })
        }
    }

    @Test("An unknown route is 404 in the JSON error shape; a known path with another method is 405 with Allow")
    func unknownRoute() async throws {
        let fixture = try Fixture()
        try await fixture.withApp { client async throws in
            let response = try await client.send(.get, "/nothing/here")
            #expect(response.status == .notFound)
            #expect(try response.json[member: "code"]?.intValue == 404)
            let wrongMethod = try await client.execute(uri: "/health/live", method: .post, headers: [:], body: nil)
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "GET")
            let patchContext = try await client.execute(uri: "/session-context/acme/context/s1", method: .patch, headers: [:], body: nil)
            #expect(patchContext.status == .methodNotAllowed)
            #expect(patchContext.headers[.allow]?.contains("PUT") == true)
        }
    }
}
