import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RedisClient
import SessionContextApp
import SessionStore
import Synchronization
import TestSupport
import Testing

/// Three worker processes on one Redis, under a steady write load, through every fault in turn:
/// Redis killed and restarted, Redis frozen, a worker killed, a worker stopped with SIGTERM.
/// Every write the service acknowledged goes into a ledger; at the end every entry must be in Redis.
///
/// Redis runs with `appendfsync always`, as a deployment that promises "nothing acknowledged is
/// lost" across a Redis crash must (see the README): the restarted server reloads its AOF.
///
/// Outside its faults, Redis may still stall on its own: an `fsync` on a busy disk, or the other
/// suites holding both cores. A ``RedisStallWatch`` records such stalls beside the service; a
/// 503 in one, or after it until that worker serves again, is the service doing what it must,
/// and is told apart from a 503 that a worker fault caused.
@Suite("Faults under load, with a ledger", .serialized)
struct LedgerFaultTests {
    /// The workers' command timeout and connect timeout, in milliseconds.
    static let timeoutMilliseconds = 300
    static let commandTimeout: Duration = .milliseconds(Self.timeoutMilliseconds)
    static let connectTimeout: Duration = .milliseconds(Self.timeoutMilliseconds)
    /// The pool's longest pause between reconnect attempts (its default).
    static let maximumBackoff: Duration = .seconds(1)
    /// How long a worker's pool may take to be back after Redis stalled: a command timeout closes
    /// the connection, and the next attempt may come after the longest backoff.
    static let reconnectBound: Duration = Self.connectTimeout + Self.maximumBackoff

    @Test("Redis SIGKILL and restart, SIGSTOP, a worker SIGKILLed, a worker SIGTERMed: only 503s in the faults, every acknowledged write kept")
    func faultsUnderLoad() async throws {
        let redis = try RedisServer.start(arguments: ["--appendonly", "yes", "--appendfsync", "always", "--latency-monitor-threshold", "100"])
        defer { redis.stop() }
        let watch = RedisStallWatch(endpoint: redis.endpoint)
        let watching = Task { await watch.run() }
        defer { watching.cancel() }
        let environment = WorkerProcessTests.environment(redis: redis.url).merging([
            "SESSION_CONTEXT_REDIS_TIMEOUT_MS": String(Self.timeoutMilliseconds),
            "SESSION_CONTEXT_REDIS_CONNECT_TIMEOUT_MS": String(Self.timeoutMilliseconds),
        ]) { $1 }
        var started: [WorkerProcess] = []
        for _ in 0..<3 { started.append(try await WorkerProcess.start(environment: environment)) }
        let workers = started
        defer { for worker in workers { Task { await worker.kill() } } }
        let tenant = Fixture.uniqueTenant()
        let token = try await Tokens.sign(TokenClaims(tenant: tenant, expires: .in(3600), scope: "session_context.context_manage"))
        let load = LedgerLoad(tenant: tenant, token: token, ports: workers.map(\.port))

        let timeline = try await withThrowingTaskGroup(of: FaultTimeline?.self) { group in
            for client in 0..<12 { group.addTask { await load.runClient(client); return nil } }
            group.addTask {
                var timeline = FaultTimeline()
                try await Task.sleep(for: .seconds(1))
                timeline.redisKilled = .now
                redis.kill()
                try await Task.sleep(for: .seconds(1))
                try redis.restart()
                timeline.redisBack = .now
                try await Task.sleep(for: .seconds(2.5))
                timeline.redisFrozen = .now
                redis.pause()
                try await Task.sleep(for: .seconds(1))
                redis.resume()
                timeline.redisThawed = .now
                try await Task.sleep(for: .seconds(1.5))
                load.remove(port: workers[0].port)
                timeline.workerKilled = .now
                await workers[0].kill()
                timeline.workerGone = .now
                try await Task.sleep(for: .seconds(1.5))
                load.remove(port: workers[1].port)
                timeline.workerTerminated = .now
                workers[1].terminate()
                try await Task.sleep(for: .milliseconds(200))
                timeline.readinessWhileDraining = try await TestClient.withClient(host: "127.0.0.1", port: workers[1].port) { client async throws in
                    let response = try await client.get("/health/ready")
                    return (Int(response.status.code), response.headers[.connection])
                }
                try await Task.sleep(for: .seconds(1.3))
                load.stop()
                return timeline
            }
            var timeline: FaultTimeline?
            for try await result in group where result != nil { timeline = result }
            return timeline!
        }
        watching.cancel()
        await watching.value
        let outcomes = load.outcomes
        let acknowledged = load.ledger
        let stalls = watch.stalls
        // For each stall, when each worker served again: its first success sent after the stall,
        // but no later than the reconnect bound.
        let served: [[Int: ContinuousClock.Instant]] = stalls.map { stall in
            var first: [Int: ContinuousClock.Instant] = [:]
            for outcome in outcomes where outcome.status == 204 && outcome.start >= stall.end {
                first[outcome.port] = min(first[outcome.port] ?? outcome.start, outcome.start)
            }
            return first.mapValues { min($0, stall.end + Self.reconnectBound) }
        }
        // A 503 while Redis was seen stalled, or after that until its worker served again.
        let inStall = { (outcome: LedgerLoad.Outcome) -> Bool in
            outcome.status == 503 && stalls.indices.contains { index in
                let stall = stalls[index]
                return stall.start < outcome.end && outcome.start < served[index][outcome.port] ?? stall.end + Self.reconnectBound
            }
        }
        // Each stall as "when, after Redis was killed: how long".
        let stallTimes = stalls.map { "\($0.start - timeline.redisKilled): \($0.end - $0.start)" }
        let killed = workers[0].port, terminated = workers[1].port
        let slowest = { (selection: [LedgerLoad.Outcome]) -> Duration in selection.map(\.elapsed).max() ?? .zero }
        let statuses = { (selection: [LedgerLoad.Outcome]) -> [Int?] in selection.map(\.status) }

        // Enough happened, in every phase.
        #expect(acknowledged.count >= 200, "only \(acknowledged.count) writes acknowledged")
        // Never a hang: every request was answered or refused well within the client's bound.
        #expect(slowest(outcomes) < .seconds(3), "slowest: \(slowest(outcomes))")
        // Never anything but success or 503 (no 500, no 404 for a session whose creation was acknowledged).
        let unexpected = outcomes.filter { outcome in outcome.status.map { ![201, 204, 503].contains($0) } ?? false }
        #expect(unexpected.isEmpty, "\(statuses(unexpected))")

        // Redis down: only 503s, answered quickly (the pool fails fast once a reconnect failed).
        let whileDown = outcomes.filter { $0.start > timeline.redisKilled + .milliseconds(100) && $0.end < timeline.redisBack }
        #expect(!whileDown.isEmpty)
        #expect(whileDown.allSatisfy { $0.status == 503 }, "\(statuses(whileDown))")
        // Full service within 2 s of Redis's return, without a worker restart.
        let afterReturn = outcomes.filter { $0.start > timeline.redisBack + .seconds(2) && $0.end < timeline.redisFrozen }
        #expect(!afterReturn.isEmpty)
        let failedAfterReturn = afterReturn.filter { $0.status != 204 && !inStall($0) }
        let failuresAfterReturn = failedAfterReturn.count
        #expect(failuresAfterReturn == 0, "\(failedAfterReturn.count) failures after Redis returned; Redis stalls: \(stallTimes)")
        let firstSuccess = outcomes.filter { $0.start > timeline.redisBack && $0.status == 204 }.map(\.end).min()
        let recovery: Duration? = firstSuccess.map { $0 - timeline.redisBack }
        #expect(recovery != nil && recovery! < .seconds(2), "first success \(String(describing: recovery)) after Redis returned")

        // Redis frozen: 503 within the command timeout (plus scheduling slack), never a hang.
        let frozenFrom = timeline.redisFrozen + .milliseconds(50), frozenUntil = timeline.redisThawed - .milliseconds(500)
        let whileFrozen = outcomes.filter { $0.start > frozenFrom && $0.start < frozenUntil }
        #expect(!whileFrozen.isEmpty)
        #expect(whileFrozen.allSatisfy { $0.status == 503 }, "\(statuses(whileFrozen))")
        #expect(slowest(whileFrozen) < Self.commandTimeout + .milliseconds(700), "slowest \(slowest(whileFrozen))")

        // A worker killed: only requests sent to it may fail; the others keep serving.
        let lost = outcomes.filter { $0.status == nil }
        let explained = { (outcome: LedgerLoad.Outcome) -> Bool in
            (outcome.port == killed && outcome.start < timeline.workerGone)
                || (outcome.port == terminated && outcome.start >= timeline.workerTerminated)
        }
        #expect(lost.allSatisfy(explained), "\(lost.filter { !explained($0) }.count) requests failed outside the worker faults")
        let afterKill = outcomes.filter { $0.start > timeline.workerKilled + .milliseconds(200) }
        #expect(afterKill.filter { $0.status == 204 }.count > 50)
        let unexplained = afterKill.filter { $0.status != 204 && !explained($0) && !inStall($0) }
        let excused = (afterReturn + afterKill).filter { $0.status != 204 && !explained($0) && inStall($0) }.count
        let unexplainedFailures = unexplained.count
        #expect(unexplainedFailures == 0, "Redis stalls: \(stallTimes); \(unexplained.map { "port \($0.port == killed ? "killed" : $0.port == terminated ? "terminated" : "kept") status \($0.status.map(String.init) ?? "none") sent \($0.start - timeline.redisThawed) after the thaw, \($0.start - timeline.workerKilled) after the kill, taking \($0.elapsed)" })")
        // SIGTERM: every request in flight at the stop was answered with success; the process exits 0.
        let inFlight = outcomes.filter { $0.port == terminated && $0.start < timeline.workerTerminated && $0.end > timeline.workerTerminated }
        #expect(inFlight.allSatisfy { $0.status == 204 }, "\(statuses(inFlight))")
        #expect(await workers[1].waitForExit(timeout: 15) == 0)
        // While it drained it told the load balancer it was not ready, and closed each connection after its answer.
        #expect(timeline.readinessWhileDraining?.status == 503)
        #expect(timeline.readinessWhileDraining?.connection == "close")
        // The third worker never restarted.
        #expect(RedisServer.canConnect(port: workers[2].port))

        // The ledger: every acknowledged write is in Redis, with the value written.
        let probe = RedisProbe(endpoint: redis.endpoint)
        var missing: [LedgerLoad.Entry] = []
        for entry in acknowledged {
            let stored = try await probe.send(RESPCommand("HGET", SessionLayout().address(tenant: tenant, sessionId: entry.session).key, entry.field))
            if stored.string != entry.value { missing.append(entry) }
        }
        // Redis's own record of its slow events since its restart, each as "event: latest ms, max ms".
        let latency = (try? await probe.send(RESPCommand("LATENCY", "LATEST")))?.array?.compactMap { event -> String? in
            guard let fields = event.array, fields.count >= 4 else { return nil }
            return "\(fields[0].string ?? "?"): \(fields[2].int ?? 0) ms, max \(fields[3].int ?? 0) ms"
        } ?? []
        print("ledger: \(acknowledged.count) acknowledged writes checked, \(missing.count) missing; \(outcomes.count) requests, "
              + "\(outcomes.filter { $0.status == 503 }.count) 503s, \(lost.count) connection failures; first success \(recovery.map { "\($0)" } ?? "-") "
              + "after Redis returned; slowest answer while frozen \(slowest(whileFrozen)); \(excused) 503s outside the faults "
              + "in Redis stalls (when, after Redis was killed: how long): \(stallTimes); Redis latency events: \(latency)")
        #expect(missing.isEmpty, "\(missing.count) of \(acknowledged.count) acknowledged writes are not in Redis: \(missing.prefix(5))")
    }
}

/// When each fault began and ended.
struct FaultTimeline: Sendable {
    var redisKilled = ContinuousClock.now
    var redisBack = ContinuousClock.now
    var redisFrozen = ContinuousClock.now
    var redisThawed = ContinuousClock.now
    var workerKilled = ContinuousClock.now
    /// When the SIGKILLed worker had exited: requests sent to it until then may fail.
    var workerGone = ContinuousClock.now
    var workerTerminated = ContinuousClock.now
    /// What `/health/ready` of the SIGTERMed worker answered while it drained.
    var readinessWhileDraining: (status: Int, connection: String?)?
}

/// A write load over several workers that records every answer and keeps a ledger of what was acknowledged.
///
/// Each client creates a session, then sets three attributes on it, and starts again; every
/// (session, field) is written exactly once, so an acknowledged write must be found as written.
/// A client whose connection fails moves to another live worker, as a load balancer would.
final class LedgerLoad: Sendable {
    /// One request and its answer (`status` nil: the connection failed).
    struct Outcome: Sendable {
        var port: Int
        var start: ContinuousClock.Instant
        var end: ContinuousClock.Instant
        var status: Int?
        var elapsed: Duration { self.end - self.start }
    }

    /// One acknowledged write: the hash field and the value it must hold.
    struct Entry: Sendable, CustomStringConvertible {
        var session: String
        var field: String
        var value: String
        var description: String { "\(self.session) \(self.field)=\(self.value)" }
    }

    private struct State {
        var ports: [Int]
        var stopped = false
        var requests = 0
        var outcomes: [Outcome] = []
        var ledger: [Entry] = []
    }

    let tenant: String
    let token: String
    private let state: Mutex<State>

    init(tenant: String, token: String, ports: [Int]) {
        self.tenant = tenant
        self.token = token
        self.state = Mutex(State(ports: ports))
    }

    var outcomes: [Outcome] { self.state.withLock { $0.outcomes } }
    var ledger: [Entry] { self.state.withLock { $0.ledger } }

    /// Takes a worker out of the rotation.
    func remove(port: Int) { self.state.withLock { $0.ports.removeAll { $0 == port } } }

    /// Ends the load: every client stops after its current request.
    func stop() { self.state.withLock { $0.stopped = true } }

    /// Whether the clients should stop: ``stop()`` was called, or the test is being torn down.
    private var stopped: Bool { Task.isCancelled || self.state.withLock { $0.stopped } }

    /// Runs one client until ``stop()``.
    func runClient(_ index: Int) async {
        // The client's current session and how many attributes it set there.
        var progress = (session: String?.none, written: 0)
        var attempt = index
        while !self.stopped {
            guard let port = self.state.withLock({ $0.ports.isEmpty ? nil : $0.ports[attempt % $0.ports.count] }) else { return }
            attempt += 1
            let result = try? await TestClient.withClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(5))) { [progress] client async throws in
                var progress = progress
                while !self.stopped {
                    let counter = self.state.withLock { state in state.requests += 1; return state.requests }
                    let (request, entry) = self.request(client: index, counter: counter, session: progress.session)
                    let start = ContinuousClock.now
                    let status: Int?
                    var closing = false
                    do {
                        let response = try await client.execute(request)
                        status = Int(response.status.code)
                        closing = response.headers[.connection] == "close"
                    } catch {
                        status = nil
                    }
                    self.state.withLock { state in
                        state.outcomes.append(Outcome(port: port, start: start, end: .now, status: status))
                        if status == 204 { state.ledger.append(entry) }
                    }
                    if entry.field == "si" {
                        progress.session = status == 204 ? entry.session : nil
                        progress.written = 0
                    } else {
                        progress.written += 1
                        if progress.written == 3 { progress.session = nil }
                    }
                    // A response with `Connection: close` ends the connection, as with any HTTP client.
                    if status == nil || closing { break }
                }
                return progress
            }
            progress = result ?? (nil, 0)
            if !self.stopped { try? await Task.sleep(for: .milliseconds(20)) }
        }
    }

    /// The next request of a client: a new session when it has none, else an attribute on it.
    private func request(client: Int, counter: Int, session: String?) -> (TestClient.Request, Entry) {
        let headers: HTTPFields = [.authorization: "Bearer \(self.token)", .contentType: "application/json"]
        if let session {
            let entry = Entry(session: session, field: "@k\(counter)", value: #""v\#(counter)""#)
            let body = #"{"key":"k\#(counter)","value":"v\#(counter)"}"#
            return (
                TestClient.Request("/session-context/\(self.tenant)/context/\(session)/attributes", method: .post, headers: headers, body: ByteBuffer(string: body)),
                entry
            )
        }
        let sid = "c\(client)-\(counter)"
        let body = #"{"siteCode":"s\#(counter)","metadata":{"version":0}}"#
        return (
            TestClient.Request("/session-context/\(self.tenant)/context/\(sid)?upsert=true", method: .put, headers: headers, body: ByteBuffer(string: body)),
            Entry(session: sid, field: "si", value: "s\(counter)")
        )
    }
}
