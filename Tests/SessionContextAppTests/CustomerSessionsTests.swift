import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RedisClient
import SessionStore
import TestSupport
import Testing

@Suite("Finding and ending a customer's sessions (?customerId=)")
struct CustomerSessionsTests {
    /// Creates session `sid` of `customerId` (nil: anonymous) through a management PUT.
    static func create(_ client: some TestClientProtocol, _ fixture: Fixture, sid: String, customerId: String?) async throws {
        let token = try await fixture.managementToken()
        var headers: HTTPFields = [:]
        var body = #"{"currency":"EUR","metadata":{"version":0}}"#
        if let customerId {
            headers[HTTPField.Name("saas-token")!] = try await fixture.storefrontToken(sid: sid, customerId: customerId)
            body = #"{"customerId":"\#(customerId)","currency":"EUR","metadata":{"version":0}}"#
        }
        let response = try await client.send(.put, "/session-context/\(fixture.tenant)/context/\(sid)?upsert=true", token: token, json: body, headers: headers)
        #expect(response.status == .noContent)
    }

    /// The session ids `GET ?customerId=` lists.
    static func listed(_ client: some TestClientProtocol, _ fixture: Fixture, _ customerId: String) async throws -> [String] {
        let query = customerId.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? customerId
        let response = try await client.send(.get, "/session-context/\(fixture.tenant)/context?customerId=\(query)", token: try await fixture.managementToken())
        #expect(response.status == .ok)
        guard case .array(let items) = try response.json else {
            Issue.record("not a JSON array")
            return []
        }
        for item in items { #expect(item[member: "customerId"]?.stringValue == customerId) }
        return items.compactMap { $0[member: "sessionId"]?.stringValue }
    }

    /// The key of `customerId`'s index in the fixture's tenant.
    static func indexKey(_ fixture: Fixture, _ customerId: String) -> String { "sc:customer:{\(fixture.tenant):\(customerId)}" }

    /// The members of customer-index key `index`, in score order.
    static func members(_ index: String, _ probe: RedisProbe) async throws -> [String] {
        try await probe.send(RESPCommand("ZRANGE", index, "0", "-1")).array?.compactMap(\.string) ?? []
    }

    /// Re-scores the entries of `sessionIds` in `index` as entered a minute ago (past the grace).
    static func enteredAMinuteAgo(_ sessionIds: [String], in index: String, _ probe: RedisProbe) async throws {
        let minuteAgo = String(Int64(Date().timeIntervalSince1970 * 1000) - 60_000)
        _ = try await probe.send(RESPCommand("ZADD", arguments: [index, "XX"] + sessionIds.flatMap { [minuteAgo, $0] }))
    }

    @Test("GET lists exactly the customer's live sessions of this tenant, in full, by session id")
    func list() async throws {
        let fixture = try Fixture()
        let other = try Fixture()
        let mine = (0..<3).map { _ in Fixture.uniqueSessionId() }.sorted()
        try await fixture.withApp { client async throws in
            for sid in mine { try await Self.create(client, fixture, sid: sid, customerId: "C-1 ü") }
            try await Self.create(client, fixture, sid: Fixture.uniqueSessionId(), customerId: "C-2")
            try await Self.create(client, fixture, sid: Fixture.uniqueSessionId(), customerId: nil)
            try await Self.create(client, other, sid: Fixture.uniqueSessionId(), customerId: "C-1 ü")
            #expect(try await Self.listed(client, fixture, "C-1 ü") == mine)
            #expect(try await Self.listed(client, fixture, "C-2").count == 1)
            #expect(try await Self.listed(client, fixture, "nobody") == [])
            let response = try await client.send(
                .get, "/session-context/\(fixture.tenant)/context?customerId=C-2", token: try await fixture.managementToken()
            )
            guard case .array(let items) = try response.json, let first = items.first else { throw TestSetupError("no item") }
            #expect(first.memberNames == ["sessionId", "customerId", "currency", "context", "metadata"])
            #expect(first[member: "metadata"]?[member: "version"]?.intValue == 1)
        }
        // The index entry is written with the session.
        let index = Self.indexKey(fixture, "C-2")
        #expect(try await RedisProbe(endpoint: fixture.endpoint).send(RESPCommand("ZCARD", index)).int == 1)
    }

    @Test("A customer session that expires is no longer listed")
    func expired() async throws {
        // 5 s: long enough that the listing right after the create finds it alive even when the
        // machine is loaded (a 2 s TTL can pass between two requests there).
        let fixture = try Fixture { $0.customerTTL = 5 }
        let sid = Fixture.uniqueSessionId()
        let probe = RedisProbe(endpoint: fixture.endpoint)
        try await fixture.withApp { client async throws in
            try await Self.create(client, fixture, sid: sid, customerId: "C")
            #expect(try await Self.listed(client, fixture, "C") == [sid])
            let expired = try await eventually(attempts: 150, every: .milliseconds(100)) {
                try await probe.send(RESPCommand("EXISTS", fixture.key(sid))).int == 0
            }
            #expect(expired)
            #expect(try await Self.listed(client, fixture, "C") == [])
        }
    }

    @Test("An expired customer session leaves its customer's index with no lookup (the sweep, by the worker that claims it); a live one stays")
    func sweptAfterExpiry() async throws {
        let fixture = try Fixture {
            // 4 s: `live` must still exist when it is made persistent right after its create.
            $0.customerTTL = 4
            $0.customerIndexSweepSeconds = 1
        }
        // A customer id whose ':' and '}' neighbours would merge with the key's own as characters
        // (a leading combining mark, a trailing prepended format character).
        let customer = "\u{301}E:\u{600}"
        let (expiring, live) = (Fixture.uniqueSessionId(), Fixture.uniqueSessionId())
        let probe = RedisProbe(endpoint: fixture.endpoint)
        let index = Self.indexKey(fixture, customer)
        // Another worker holds this interval's pass.
        let claim = CustomerIndexSweeper.claimKey(tenant: fixture.tenant)
        _ = try await probe.send(RESPCommand("SET", claim, "another-worker", "PX", "60000"))
        try await fixture.withApp { client async throws in
            try await Self.create(client, fixture, sid: live, customerId: customer)
            // `live` is kept alive while `expiring` reaches its idle timeout.
            #expect(try await probe.send(RESPCommand("PERSIST", fixture.key(live))).int == 1)
            try await Self.create(client, fixture, sid: expiring, customerId: customer)
            // Both entered a minute ago (past the grace). Nobody looks the customer up from here on.
            try await Self.enteredAMinuteAgo([expiring, live], in: index, probe)
            let expired = try await eventually(attempts: 100, every: .milliseconds(100)) {
                try await probe.send(RESPCommand("EXISTS", fixture.key(expiring))).int == 0
            }
            #expect(expired)
            // This worker tries to claim every second; while the other worker holds the pass, it does not sweep.
            try await Task.sleep(for: .milliseconds(1500))
            #expect(try await probe.send(RESPCommand("ZSCORE", index, expiring)).isNull == false, "swept under another worker's claim")
            _ = try await probe.send(RESPCommand("DEL", claim))
            let swept = try await eventually(attempts: 100, every: .milliseconds(100)) {
                try await probe.send(RESPCommand("ZSCORE", index, expiring)).isNull
            }
            #expect(swept, "the expired session's entry is still in the index")
        }
        #expect(try await Self.members(index, probe) == [live])
    }

    @Test("A session that loses the customer or changes customer is no longer listed")
    func staleEntries() async throws {
        let fixture = try Fixture()
        let (a, b, c) = (Fixture.uniqueSessionId(), Fixture.uniqueSessionId(), Fixture.uniqueSessionId())
        try await fixture.withApp { client async throws in
            try await Self.create(client, fixture, sid: a, customerId: "C")
            try await Self.create(client, fixture, sid: b, customerId: "C")
            try await Self.create(client, fixture, sid: c, customerId: "C")
            #expect(try await Self.listed(client, fixture, "C") == [a, b, c].sorted())
            let token = try await fixture.managementToken()
            // a: logged out (PUT without customerId, with the customer's saas-token); b: then another customer's.
            for sid in [a, b] {
                let logout = try await client.send(
                    .put, "/session-context/\(fixture.tenant)/context/\(sid)", token: token, json: #"{"metadata":{"version":1}}"#,
                    headers: [HTTPField.Name("saas-token")!: try await fixture.storefrontToken(sid: sid, customerId: "C")]
                )
                #expect(logout.status == .noContent)
            }
            let reassigned = try await client.send(
                .put, "/session-context/\(fixture.tenant)/context/\(b)", token: token, json: #"{"customerId":"D","metadata":{"version":2}}"#,
                headers: [HTTPField.Name("saas-token")!: try await fixture.storefrontToken(sid: b, customerId: "D")]
            )
            #expect(reassigned.status == .noContent)
            #expect(try await Self.listed(client, fixture, "C") == [c])
            #expect(try await Self.listed(client, fixture, "D") == [b])
        }
    }

    @Test("Readers remove out-of-date entries older than the grace period, and keep recent ones (a PUT may be on its way)")
    func pruning() async throws {
        let fixture = try Fixture()
        let live = Fixture.uniqueSessionId()
        let probe = RedisProbe(endpoint: fixture.endpoint)
        let index = Self.indexKey(fixture, "C")
        try await fixture.withApp { client async throws in
            try await Self.create(client, fixture, sid: live, customerId: "C")
            let old = String(Int64(Date().timeIntervalSince1970 * 1000) - 60_000)
            let recent = String(Int64(Date().timeIntervalSince1970 * 1000))
            _ = try await probe.send(RESPCommand("ZADD", index, old, "gone-long-ago", recent, "being-created"))
            #expect(try await Self.listed(client, fixture, "C") == [live])
        }
        #expect(Set(try await Self.members(index, probe)) == [live, "being-created"])
    }

    @Test("DELETE of one customer session takes it out of the customer's index if entered before the grace; a recent entry stays")
    func deleteLeavesIndex() async throws {
        let fixture = try Fixture()
        let probe = RedisProbe(endpoint: fixture.endpoint)
        let index = Self.indexKey(fixture, "D")
        let (earlier, recent) = (Fixture.uniqueSessionId(), Fixture.uniqueSessionId())
        try await fixture.withApp { client async throws in
            for sid in [earlier, recent] { try await Self.create(client, fixture, sid: sid, customerId: "D") }
            // The first was entered a minute ago; the second just now (a PUT may still be on its way).
            try await Self.enteredAMinuteAgo([earlier], in: index, probe)
            let token = try await fixture.managementToken()
            for sid in [earlier, recent] {
                #expect(try await client.send(.delete, "/session-context/\(fixture.tenant)/context/\(sid)", token: token).status == .noContent)
            }
        }
        #expect(try await Self.members(index, probe) == [recent])
    }

    @Test("DELETE ends every session of the customer, one deleted event each, and leaves the others")
    func endAll() async throws {
        let fixture = try Fixture()
        let mine = (0..<4).map { _ in Fixture.uniqueSessionId() }.sorted()
        let theirs = Fixture.uniqueSessionId()
        let probe = RedisProbe(endpoint: fixture.endpoint)
        try await fixture.withApp { client async throws in
            for sid in mine { try await Self.create(client, fixture, sid: sid, customerId: "C") }
            try await Self.create(client, fixture, sid: theirs, customerId: "D")
            let collector = try await EventCollector.subscribe(endpoint: fixture.endpoint, tenant: fixture.tenant)
            let token = try await fixture.managementToken()
            let response = try await client.send(.delete, "/session-context/\(fixture.tenant)/context?customerId=C", token: token)
            #expect(response.status == .noContent)
            #expect(response.headers[HTTPField.Name("Sessions-Ended")!] == "4")
            nonisolated(unsafe) var deleted: [String] = []
            let lock = NSLock()
            _ = try await collector.collect(until: { _ in lock.withLock { deleted.count } == 4 }) { event in
                if event[member: "type"]?.stringValue == "deleted", let sid = event[member: "sessionId"]?.stringValue {
                    lock.withLock { deleted.append(sid) }
                }
            }
            #expect(lock.withLock { deleted.sorted() } == mine)
            for sid in mine { #expect(try await probe.exists(fixture.key(sid)) == false) }
            #expect(try await probe.exists(fixture.key(theirs)))
            #expect(try await Self.listed(client, fixture, "C") == [])
            // Nothing left: still 204, none ended.
            let again = try await client.send(.delete, "/session-context/\(fixture.tenant)/context?customerId=C", token: token)
            #expect(again.status == .noContent)
            #expect(again.headers[HTTPField.Name("Sessions-Ended")!] == "0")
        }
    }

    @Test("Log out everywhere misses none of 24 sessions created concurrently through 24 PUTs")
    func endAllAfterConcurrentLogins() async throws {
        let fixture = try Fixture()
        let sids = (0..<24).map { _ in Fixture.uniqueSessionId() }
        try await fixture.withApp { client async throws in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for sid in sids { group.addTask { try await Self.create(client, fixture, sid: sid, customerId: "C") } }
                try await group.waitForAll()
            }
            let response = try await client.send(.delete, "/session-context/\(fixture.tenant)/context?customerId=C", token: try await fixture.managementToken())
            #expect(response.headers[HTTPField.Name("Sessions-Ended")!] == "24")
        }
        let probe = RedisProbe(endpoint: fixture.endpoint)
        for sid in sids { #expect(try await probe.exists(fixture.key(sid)) == false) }
    }

    @Test("Without a valid customerId: 400; with a storefront token: no access")
    func badRequests() async throws {
        let fixture = try Fixture()
        let token = try await fixture.managementToken()
        let storefront = try await fixture.storefrontToken(sid: Fixture.uniqueSessionId(), customerId: "C")
        try await fixture.withApp { client async throws in
            for method in [HTTPRequest.Method.get, .delete] {
                let missing = try await client.send(method, "/session-context/\(fixture.tenant)/context", token: token)
                #expect(missing.status == .badRequest)
                #expect(try missing.json[member: "message"]?.stringValue?.contains("customerId") == true)
                #expect(try await client.send(method, "/session-context/\(fixture.tenant)/context?customerId=a%01b", token: token).status == .badRequest)
                #expect(try await client.send(method, "/session-context/\(fixture.tenant)/context?customerId=C").status == .unauthorized)
                let foreign = try await client.send(method, "/session-context/\(fixture.tenant)/context?customerId=C", token: storefront)
                #expect(foreign.status == .forbidden)
            }
        }
    }
}
