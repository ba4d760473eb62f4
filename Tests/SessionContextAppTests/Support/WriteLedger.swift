import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SessionContextEvents
import SessionStore
import Testing
import Synchronization

/// A steady write load through one worker (in process) that records what the service acknowledged:
/// each client creates a session (PUT with upsert), sets three attributes, and starts over with a
/// new session. Every (session, attribute) is written once, so the ledger says exactly what Redis
/// must hold afterwards.
final class WriteLedger: Sendable {
    struct Answer: Sendable {
        var started: ContinuousClock.Instant
        var duration: Duration
        var status: Int
    }

    private struct State {
        var created: [String] = []
        var attributes: [(sessionId: String, name: String, value: String)] = []
        var answers: [Answer] = []
        var stopped = false
    }

    let tenant: String
    let token: String
    private let state = Mutex(State())

    init(tenant: String, token: String) {
        self.tenant = tenant
        self.token = token
    }

    /// Runs one client until ``stop()``; `sessionIds` gives the session ids it writes to, in turn
    /// (new unique ones when nil).
    func runClient(_ client: some TestClientProtocol, sessionIds: [String]? = nil) async {
        await self.runClient(sessionIds: sessionIds) { method, path, headers, body in
            try await client.execute(uri: path, method: method, headers: headers, body: body).status
        }
    }

    /// Runs one client as ``runClient(_:sessionIds:)`` does, on a kept-alive connection of its own
    /// to the worker `client` reaches when that is a live one. A live test client has one
    /// connection, and the worker answers one connection's requests one after another: clients
    /// sharing it would time each other's answers (one held by a Redis fault holds every request
    /// queued behind it).
    func runClientOnOwnConnection(_ client: some TestClientProtocol, sessionIds: [String]? = nil) async {
        guard let port = client.port else { return await self.runClient(client, sessionIds: sessionIds) }
        // Only closing the connection at the end can throw: the answers are recorded by then.
        try? await TestClient.withClient(host: "127.0.0.1", port: port) { own in
            await self.runClient(sessionIds: sessionIds) { method, path, headers, body in
                try await own.execute(TestClient.Request(path, method: method, authority: "localhost", headers: headers, body: body)).status
            }
        }
    }

    /// Sends one request and returns the answer's status.
    private typealias Send = @Sendable (HTTPRequest.Method, String, HTTPFields, ByteBuffer) async throws -> HTTPResponse.Status

    private func runClient(sessionIds: [String]?, send: Send) async {
        var turn = 0
        while !self.state.withLock({ $0.stopped }) {
            let sid = sessionIds.map { $0[turn % $0.count] } ?? UUID().uuidString.lowercased()
            turn += 1
            if sessionIds == nil {
                let created = await self.request(send, .put, "/session-context/\(self.tenant)/context/\(sid)?upsert=true", #"{"currency":"EUR","metadata":{"version":0}}"#)
                guard created else { continue }
                self.state.withLock { $0.created.append(sid) }
            }
            for index in 0..<3 {
                let name = "a\(turn)-\(index)"
                let value = UUID().uuidString
                if await self.request(send, .post, "/session-context/\(self.tenant)/context/\(sid)/attributes", #"{"key":"\#(name)","value":"\#(value)"}"#) {
                    self.state.withLock { $0.attributes.append((sid, name, value)) }
                }
            }
        }
    }

    func stop() { self.state.withLock { $0.stopped = true } }

    /// Whether ``stop()`` was called.
    var isStopped: Bool { self.state.withLock { $0.stopped } }

    /// Runs `count` clients, each on a connection of its own to the worker `client` reaches, while
    /// `fault` runs; stops them when it returns, and returns what it returned.
    func run<Value: Sendable>(
        clients count: Int,
        on client: some TestClientProtocol,
        during fault: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        try await withThrowingTaskGroup(of: Value?.self) { group in
            for _ in 0..<count { group.addTask { await self.runClientOnOwnConnection(client); return nil } }
            group.addTask {
                defer { self.stop() }
                return try await fault()
            }
            var result: Value?
            for try await value in group where value != nil { result = value }
            return try #require(result)
        }
    }

    /// Checks what a fault may do to the answers: nothing but 204 and 503, at least one 503, only
    /// 204s from `recovered` on, none slower than 2 s. Returns the slowest answer's time.
    @discardableResult
    func expectOnlyUnavailable(recoveredBy recovered: ContinuousClock.Instant, sourceLocation: SourceLocation = #_sourceLocation) -> Duration {
        let answers = self.answers
        let statuses = Set(answers.map(\.status))
        #expect(statuses.isSubset(of: [204, 503]), "statuses: \(statuses)", sourceLocation: sourceLocation)
        #expect(answers.contains { $0.status == 503 }, "the fault was not noticed", sourceLocation: sourceLocation)
        let late = answers.filter { $0.started > recovered }
        #expect(!late.isEmpty && late.allSatisfy { $0.status == 204 }, "after recovery: \(late.filter { $0.status != 204 }.count) failures", sourceLocation: sourceLocation)
        let slowest = answers.map(\.duration).max() ?? .zero
        #expect(slowest < .seconds(2), "an answer took \(slowest)", sourceLocation: sourceLocation)
        return slowest
    }

    /// When the last answer that was not a 204 came, if any.
    var lastFailure: ContinuousClock.Instant? {
        self.answers.filter { $0.status != 204 }.map { $0.started + $0.duration }.max()
    }

    private func request(_ send: Send, _ method: HTTPRequest.Method, _ path: String, _ json: String) async -> Bool {
        let started = ContinuousClock.now
        var status = 0
        do {
            status = Int(try await send(method, path, [.authorization: "Bearer \(self.token)", .contentType: "application/json"], ByteBuffer(string: json)).code)
        } catch {
            status = -1
        }
        let answer = Answer(started: started, duration: .now - started, status: status)
        self.state.withLock { $0.answers.append(answer) }
        // A client that got a 503 pauses briefly, as a polite client retrying would.
        if status == 503 { try? await Task.sleep(for: .milliseconds(20)) }
        return status == 204
    }

    var answers: [Answer] { self.state.withLock { $0.answers } }
    var created: [String] { self.state.withLock { $0.created } }
    var attributes: [(sessionId: String, name: String, value: String)] { self.state.withLock { $0.attributes } }

    /// The acknowledged writes missing from the service's answers to GET: sessions that are gone,
    /// attributes without their value.
    func missing(_ client: some TestClientProtocol) async throws -> [String] {
        var expected: [String: [String: String]] = [:]
        for entry in self.attributes { expected[entry.sessionId, default: [:]][entry.name] = entry.value }
        let sessions = Set(self.created).union(expected.keys)
        var missing: [String] = []
        for sid in sessions {
            let response = try await client.execute(
                uri: "/session-context/\(self.tenant)/context/\(sid)", method: .get, headers: [.authorization: "Bearer \(self.token)"], body: nil
            )
            guard response.status == .ok else {
                missing.append("\(sid): \(response.status.code)")
                continue
            }
            let context = try JSONParser().parse(response.body.readableBytesView)[member: "context"]
            for (name, value) in expected[sid] ?? [:] where context?[member: name]?.stringValue != value {
                missing.append("\(sid) \(name)")
            }
        }
        return missing
    }

    /// The acknowledged writes without their event in the tenant's streams: each created session
    /// needs its `created` event, each attribute write its `attribute.set` event naming it.
    func missingEvents(_ stream: SessionEventStream) async throws -> [String] {
        var seen = Set<String>()
        var cursor = stream.start
        while true {
            let (events, next) = try await stream.read(after: cursor, count: 1000)
            if events.isEmpty { break }
            for event in events {
                switch event.type {
                case .created: seen.insert("\(event.sessionId) created")
                case .attributeSet: for name in event.changed { seen.insert("\(event.sessionId) \(name)") }
                default: break
                }
            }
            cursor = next
        }
        let expected = self.created.map { "\($0) created" } + self.attributes.map { "\($0.sessionId) context.\($0.name)" }
        return expected.filter { !seen.contains($0) }
    }
}
