import Hummingbird
import HummingbirdTesting
import SessionStore
import Testing

@Suite("No lost update under concurrency")
struct ConcurrencyTests {
    @Test("20 concurrent PUTs with the same version: exactly one 204, the rest 409")
    func optimisticLocking() async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        let statuses = try await fixture.withApp { client async throws in
            try await StorefrontAPITests.create(client, fixture, sid: sid)
            return try await withThrowingTaskGroup(of: (Int, HTTPResponse.Status).self) { group in
                for writer in 0..<20 {
                    group.addTask {
                        let response = try await client.send(
                            .put, "/session-context/\(fixture.tenant)/context/\(sid)", token: token,
                            json: #"{"siteCode":"writer\#(writer)","metadata":{"version":1}}"#
                        )
                        return (writer, response.status)
                    }
                }
                var statuses: [(Int, HTTPResponse.Status)] = []
                for try await status in group { statuses.append(status) }
                return statuses
            }
        }
        let winners = statuses.filter { $0.1 == .noContent }
        #expect(winners.count == 1)
        #expect(statuses.filter { $0.1 == .conflict }.count == 19)
        let stored = try await RedisProbe(endpoint: fixture.endpoint).hash(fixture.key(sid))
        #expect(stored["_v"] == "2")
        #expect(stored["si"] == "writer\(winners.first?.0 ?? -1)")
    }

    @Test("32 clients × 50 distinct attributes on one session: all 1600 present, version 1601")
    func atomicAttributes() async throws {
        let fixture = try Fixture()
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        try await fixture.withApp { client async throws in
            try await StorefrontAPITests.create(client, fixture, sid: sid, body: #"{"metadata":{"version":0}}"#)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<32 {
                    group.addTask {
                        for index in 0..<50 {
                            let response = try await client.send(
                                .post, "/session-context/\(fixture.tenant)/context/\(sid)/attributes", token: token,
                                json: #"{"key":"w\#(writer)-\#(index)","value":{"writer":"\#(writer)","index":"\#(index)"}}"#
                            )
                            #expect(response.status == .noContent)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let body = try await client.send(.get, "/session-context/\(fixture.tenant)/context/\(sid)", token: token).json
            #expect(body[member: "context"]?.memberNames.count == 1600)
            #expect(body[member: "metadata"]?[member: "version"]?.intValue == 1601)
        }
        let stored = try await RedisProbe(endpoint: fixture.endpoint).hash(fixture.key(sid))
        #expect(stored.keys.filter { $0.hasPrefix("@") }.count == 1600)
        #expect(stored["@w31-49"] == #"{"writer":"31","index":"49"}"#)
        #expect(stored["_v"] == "1601")
    }
}
