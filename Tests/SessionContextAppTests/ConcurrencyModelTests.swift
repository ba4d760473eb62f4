import Foundation
import Hummingbird
import HummingbirdTesting
import SessionStore
import Synchronization
import Testing

/// Many clients on the same few sessions, mixing PUT, PATCH, attribute set and attribute delete.
/// Every write's answer carries the version it produced (`ETag`); the events give the order in
/// which Redis applied them. The test replays the acknowledged writes in that order on a model
/// and checks that the model ends exactly where Redis ended.
@Suite("Mixed writes on shared sessions: a model check")
struct ConcurrencyModelTests {
    /// One write a client sent, and what the service said.
    struct Write: Sendable {
        enum Kind: Sendable, Equatable {
            /// PUT with the version just read; `attribute` non-nil means the body's `context` was `{attribute: value}`.
            case put(attribute: String?)
            /// PATCH /me with the version just read: sets `set` to the value, removes `remove`.
            case patch(set: String, remove: String)
            /// POST attribute.
            case set(String)
            /// DELETE attribute.
            case delete(String)
        }

        var session: String
        var kind: Kind
        /// Unique per write: the `siteCode` of a PUT or PATCH, the value of an attribute set.
        var value: String
        var status: Int
        /// The version from `ETag`, on a 2xx.
        var version: Int64?

        /// What tells this write from another: its unique value, or for a delete the name it deletes.
        var identity: String {
            if case .delete(let name) = self.kind { return "delete " + name }
            return self.value
        }

        /// The event type an applied write of this kind publishes.
        var eventType: String {
            switch self.kind {
            case .put, .patch: return "updated"
            case .set: return "attribute.set"
            case .delete: return "attribute.deleted"
            }
        }
    }

    /// What the test believes a context holds.
    struct Model: Equatable, CustomStringConvertible {
        var siteCode: String?
        var context: [String: String] = [:]

        mutating func apply(_ write: Write) {
            switch write.kind {
            case .put(let attribute):
                self.siteCode = write.value
                if let attribute { self.context = [attribute: write.value] }
            case .patch(let set, let remove):
                self.siteCode = write.value
                self.context[set] = write.value
                self.context[remove] = nil
            case .set(let name): self.context[name] = write.value
            case .delete(let name): self.context[name] = nil
            }
        }

        var description: String { "siteCode=\(self.siteCode ?? "-") context=\(self.context.sorted { $0.key < $1.key })" }
    }

    static let attributeNames = ["a0", "a1", "a2", "a3", "a4"]

    @Test("12 clients × 30 mixed writes on 3 sessions: versions strictly increase, one event per applied write, the replay equals Redis")
    func mixedWrites() async throws {
        let fixture = try Fixture()
        let sessions = (0..<3).map { _ in Fixture.uniqueSessionId() }
        let management = try await fixture.managementToken()
        var storefront: [String: String] = [:]
        for sid in sessions { storefront[sid] = try await fixture.storefrontToken(sid: sid) }
        let storefrontTokens = storefront
        let collector = try await EventCollector.subscribe(endpoint: fixture.endpoint, tenant: fixture.tenant)
        let endMarker = Fixture.uniqueSessionId()

        let (writes, finals) = try await fixture.withApp { client async throws in
            for sid in sessions {
                try await StorefrontAPITests.create(client, fixture, sid: sid, body: #"{"metadata":{"version":0}}"#)
            }
            let writes = try await withThrowingTaskGroup(of: [Write].self) { group in
                for clientIndex in 0..<12 {
                    group.addTask {
                        var generator = SystemRandomNumberGenerator()
                        var writes: [Write] = []
                        for index in 0..<30 {
                            let sid = sessions.randomElement(using: &generator)!
                            let value = "c\(clientIndex)w\(index)"
                            let name = Self.attributeNames.randomElement(using: &generator)!
                            let other = Self.attributeNames.randomElement(using: &generator)!
                            let base = "/session-context/\(fixture.tenant)/context/\(sid)"
                            let kind: Write.Kind
                            let response: TestResponse
                            switch index % 4 {
                            case 0:
                                let version = try await client.send(.get, base, token: management).json[member: "metadata"]?[member: "version"]?.intValue ?? 0
                                let attribute = index % 8 == 0 ? name : nil
                                kind = .put(attribute: attribute)
                                let context = attribute.map { #","context":{"\#($0)":"\#(value)"}"# } ?? ""
                                response = try await client.send(
                                    .put, base, token: management, json: #"{"siteCode":"\#(value)"\#(context),"metadata":{"version":\#(version)}}"#
                                )
                            case 1:
                                let me = "/session-context/\(fixture.tenant)/me/context"
                                let token = storefrontTokens[sid]!
                                let version = try await client.send(.get, me, token: token).json[member: "metadata"]?[member: "version"]?.intValue ?? 0
                                let remove = other == name ? "a9" : other
                                kind = .patch(set: name, remove: remove)
                                response = try await client.send(
                                    .patch, me, token: token,
                                    json: #"{"siteCode":"\#(value)","context":{"\#(name)":"\#(value)","\#(remove)":null},"metadata":{"version":\#(version)}}"#
                                )
                            case 2:
                                kind = .set(name)
                                response = try await client.send(.post, base + "/attributes", token: management, json: #"{"key":"\#(name)","value":"\#(value)"}"#)
                            default:
                                kind = .delete(name)
                                response = try await client.send(.delete, base + "/attributes/" + name, token: management)
                            }
                            let etag = response.headers[.eTag]
                            writes.append(
                                Write(
                                    session: sid, kind: kind, value: value, status: Int(response.status.code),
                                    version: etag.flatMap { Int64($0.trimmingCharacters(in: CharacterSet(charactersIn: "\""))) }
                                )
                            )
                        }
                        return writes
                    }
                }
                var all: [Write] = []
                for try await writes in group { all.append(contentsOf: writes) }
                return all
            }
            var finals: [String: (version: Int64, siteCode: String?, context: [String: String])] = [:]
            for sid in sessions {
                let body = try await client.send(.get, "/session-context/\(fixture.tenant)/context/\(sid)", token: management).json
                var context: [String: String] = [:]
                if case .object(let members)? = body[member: "context"] {
                    for member in members { context[member.name] = member.value.stringValue }
                }
                finals[sid] = (body[member: "metadata"]?[member: "version"]?.intValue ?? -1, body[member: "siteCode"]?.stringValue, context)
            }
            // Published after every write above, so its event arrives after all of theirs.
            try await StorefrontAPITests.create(client, fixture, sid: endMarker)
            return (writes, finals)
        }
        let events = try await collector.collect(until: { $0[member: "sessionId"]?.stringValue == endMarker }, timeout: .seconds(20))

        // Only the answers the contract allows, and every success names a version.
        #expect(writes.allSatisfy { [200, 201, 204, 409].contains($0.status) }, "\(Set(writes.map(\.status)))")
        #expect(writes.filter { (200..<300).contains($0.status) }.allSatisfy { $0.version != nil })
        // Only the writes that name a version can conflict.
        #expect(writes.filter { $0.status == 409 }.allSatisfy { $0.eventType == "updated" })
        #expect(writes.contains { $0.status == 409 }, "no PUT or PATCH ever raced: the test did not exercise the version check")

        for sid in sessions {
            let final = try #require(finals[sid])
            let acknowledged = writes.filter { $0.session == sid && (200..<300).contains($0.status) }
            let sessionEvents = events.filter { $0[member: "sessionId"]?.stringValue == sid && $0[member: "type"]?.stringValue != "created" }
            let versions = sessionEvents.compactMap { $0[member: "version"]?.intValue }
            // One event per applied change, versions 2...final in the order Redis applied them.
            let expected: [Int64] = final.version >= 2 ? Array(2...final.version) : []
            #expect(versions == expected, "\(sid): \(versions)")

            var model = Model()
            for event in sessionEvents {
                let version = try #require(event[member: "version"]?.intValue)
                let type = event[member: "type"]?.stringValue
                let candidates = acknowledged.filter { $0.version == version }
                // Exactly one acknowledged write produced this version; any other write that names it
                // is an attribute delete that found nothing to delete.
                let producers = candidates.filter { $0.eventType == type && !(Self.isNoOp($0, on: model)) }
                // (Two deletes of the same name, one applied and one finding it gone, look alike.)
                #expect(Set(producers.map(\.identity)).count == 1, "\(sid) v\(version) \(type ?? "?"): \(candidates)")
                guard let producer = producers.first else { continue }
                model.apply(producer)
                for other in candidates where other.identity != producer.identity {
                    #expect(Self.isNoOp(other, on: model), "\(sid) v\(version): \(other) also claims this version")
                }
                if case .set(let name) = producer.kind {
                    #expect(event[member: "changed"]?.arrayValue?.compactMap(\.stringValue) == ["context.\(name)"])
                }
            }
            // Every acknowledged write is accounted for by an event.
            let accounted = Set(versions)
            #expect(acknowledged.allSatisfy { accounted.contains($0.version ?? -1) || ($0.version == 1 && Self.isNoOp($0, on: Model())) })
            // The replay ends where Redis ended.
            #expect(Model(siteCode: final.siteCode, context: final.context) == model, "\(sid)")
            #expect(acknowledged.count >= sessionEvents.count)
        }
    }

    /// Whether `write` changes nothing on `model`: only a delete of an attribute that is not there.
    static func isNoOp(_ write: Write, on model: Model) -> Bool {
        if case .delete(let name) = write.kind { return model.context[name] == nil }
        return false
    }
}

extension JSONValue {
    /// The elements, if this is an array.
    var arrayValue: [JSONValue]? { if case .array(let elements) = self { return elements } else { return nil } }
}
