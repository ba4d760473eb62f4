import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SessionStore
import Testing

@Suite("Change events")
struct EventTests {
    @Test("One well-formed event per applied change, none for a no-op, in order")
    func oneEventPerChange() async throws {
        let fixture = try Fixture { $0.instanceId = "worker-under-test" }
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        let me = try await fixture.storefrontToken(sid: sid)
        let collector = try await EventCollector.subscribe(endpoint: fixture.endpoint, tenant: fixture.tenant)
        let base = "/session-context/\(fixture.tenant)/context/\(sid)"
        let mePath = "/session-context/\(fixture.tenant)/me/context"
        try await fixture.withApp { client async throws in
            #expect(try await client.send(.put, base + "?upsert=true", token: token, json: #"{"siteCode":"main","metadata":{"version":0}}"#).status == .noContent)  // created v1
            #expect(try await client.send(.post, base + "/attributes", token: token, json: #"{"key":"geo","value":{"lat":"1"}}"#).status == .noContent)  // v2
            #expect(try await client.send(.post, base + "/attributes", token: token, json: #"{"key":"geo","value":{"lat":"1"}}"#).status == .noContent)  // no-op
            #expect(try await client.send(.delete, base + "/attributes/nothing", token: token).status == .noContent)  // no-op
            #expect(try await client.send(.put, base, token: token, json: #"{"siteCode":"main","metadata":{"version":2}}"#).status == .noContent)  // no-op
            #expect(try await client.send(.patch, mePath, token: me, json: #"{"currency":"EUR","metadata":{"version":2}}"#).status == .noContent)  // updated v3
            #expect(try await client.send(.patch, mePath, token: me, json: #"{"currency":"EUR","metadata":{"version":3}}"#).status == .noContent)  // no-op
            #expect(try await client.send(.put, base, token: token, json: #"{"siteCode":"x","metadata":{"version":1}}"#).status == .conflict)  // refused
            #expect(try await client.send(.delete, mePath + "/attributes/geo", token: me).status == .noContent)  // v4
            #expect(try await client.send(.delete, base, token: token).status == .noContent)  // deleted (v4)
        }
        let events = try await collector.collect(until: { $0[member: "type"]?.stringValue == "deleted" })
        #expect(events.map { $0[member: "type"]?.stringValue ?? "" } == ["created", "attribute.set", "updated", "attribute.deleted", "deleted"])
        #expect(events.map { $0[member: "version"]?.intValue ?? -1 } == [1, 2, 3, 4, 4])
        #expect(events[1][member: "changed"] == .array([.string("context.geo")]))
        #expect(events[2][member: "changed"] == .array([.string("currency")]))
        for event in events {
            #expect(event.memberNames == ["type", "tenant", "sessionId", "version", "changed", "at", "origin"])
            #expect(event[member: "tenant"]?.stringValue == fixture.tenant)
            #expect(event[member: "sessionId"]?.stringValue == sid)
            #expect(event[member: "origin"]?.stringValue == "worker-under-test")
            let at = event[member: "at"]?.stringValue ?? ""
            #expect(at.count == 24 && at.hasSuffix("Z") && at.contains("T"))
        }
    }

    @Test("The event's timestamp is the context's modifiedAt")
    func timestampsAgree() async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        let collector = try await EventCollector.subscribe(endpoint: fixture.endpoint, tenant: fixture.tenant)
        let modifiedAt = try await fixture.withApp { client async throws in
            _ = try await client.send(.put, "/session-context/\(fixture.tenant)/context/\(sid)?upsert=true", token: token, json: #"{"metadata":{"version":0}}"#)
            let body = try await client.send(.get, "/session-context/\(fixture.tenant)/context/\(sid)", token: token).json
            return body[member: "metadata"]?[member: "modifiedAt"]?.stringValue
        }
        let events = try await collector.collect(until: { $0[member: "type"]?.stringValue == "created" })
        #expect(events.last?[member: "at"]?.stringValue == modifiedAt)
    }
}
