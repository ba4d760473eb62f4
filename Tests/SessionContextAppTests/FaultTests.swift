import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SessionStore
import TestSupport
import Testing

@Suite("Redis faults", .serialized)
struct FaultTests {
    @Test("Redis stopped: 503 with Retry-After within the timeout; restarted: served again without a worker restart")
    func redisRestart() async throws {
        let server = try RedisServer.start()
        defer { server.stop() }
        let fixture = try Fixture(endpoint: server.endpoint) { $0.redisTimeoutMilliseconds = 500 }
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        try await fixture.withApp { client async throws in
            try await StorefrontAPITests.create(client, fixture, sid: sid)
            let path = "/session-context/\(fixture.tenant)/context/\(sid)"
            #expect(try await client.send(.get, path, token: token).status == .ok)

            server.kill()
            for _ in 0..<3 {
                let start = ContinuousClock.now
                let response = try await client.send(.get, path, token: token)
                let elapsed = ContinuousClock.now - start
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "1")
                #expect(try response.json[member: "code"]?.intValue == 503)
                #expect(elapsed < .seconds(3))
            }
            #expect(try await client.send(.get, "/health/ready").status == .serviceUnavailable)
            #expect(try await client.send(.post, path + "/attributes", token: token, json: #"{"key":"a","value":"b"}"#).status == .serviceUnavailable)
            // An event subscriber is told at once too, with or without a Last-Event-ID, not given a
            // stream that breaks.
            let events = "/session-context/\(fixture.tenant)/events"
            #expect(try await client.send(.get, events, token: token).status == .serviceUnavailable)
            #expect(try await client.send(.get, events, token: token, headers: [HTTPField.Name("Last-Event-ID")!: "0"]).status == .serviceUnavailable)

            try server.restart()
            // The data was not persisted (a fresh server): the session is gone, but the service answers.
            var recovered = false
            for _ in 0..<100 {
                let response = try await client.send(.get, path, token: token)
                if response.status == .notFound { recovered = true; break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(recovered)
            try await StorefrontAPITests.create(client, fixture, sid: sid)
            #expect(try await client.send(.post, path + "/attributes", token: token, json: #"{"key":"a","value":"b"}"#).status == .noContent)
        }
    }

    @Test("Redis frozen (SIGSTOP): 503 within the command timeout, never a hang")
    func redisFrozen() async throws {
        let server = try RedisServer.start()
        defer { server.stop() }
        let fixture = try Fixture(endpoint: server.endpoint) { $0.redisTimeoutMilliseconds = 300 }
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        try await fixture.withApp { client async throws in
            try await StorefrontAPITests.create(client, fixture, sid: sid)
            let path = "/session-context/\(fixture.tenant)/context/\(sid)"
            server.pause()
            // Ten clients at once, each on a connection of its own (one connection's requests are
            // answered one after another).
            let port = try #require(client.port)
            let statuses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, Duration).self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        try await TestClient.withClient(host: "127.0.0.1", port: port) { own in
                            let start = ContinuousClock.now
                            let response = try await own.execute(
                                TestClient.Request(path, method: .get, headers: [.authorization: "Bearer \(token)"], body: nil)
                            )
                            return (response.status, ContinuousClock.now - start)
                        }
                    }
                }
                var results: [(HTTPResponse.Status, Duration)] = []
                for try await result in group { results.append(result) }
                return results
            }
            #expect(statuses.allSatisfy { $0.0 == .serviceUnavailable })
            #expect(statuses.allSatisfy { $0.1 < .seconds(3) })
            server.resume()
            var recovered = false
            for _ in 0..<100 {
                if try await client.send(.get, path, token: token).status == .ok { recovered = true; break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(recovered)
        }
    }
}
