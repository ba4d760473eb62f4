import Foundation
import Logging
import RedisClient
import SessionStore
import Synchronization
import TestSupport
import Testing

/// Data written before buckets (or with another bucket count) is never silently lost: workers
/// refuse it, `session-context migrate` moves it, under live writes, idempotently.
@Suite("Migration to the bucket layout")
struct MigrationTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The key of a session in the layout before buckets.
    static func oldKey(_ tenant: String, _ sid: String) -> String { "sc:{\(tenant):\(sid)}" }

    /// Writes a context the way the scripts before buckets stored one.
    static func seedOld(_ probe: RedisProbe, _ key: String, version: Int, ttl: Int?) async throws {
        _ = try await probe.send(RESPCommand("HSET", key, "_v", String(version), "_c", "1764800000000", "_m", "1764800000000", "si", "main", "@a", #""x""#))
        if let ttl { _ = try await probe.send(RESPCommand("EXPIRE", key, String(ttl))) }
    }

    @Test("A worker refuses data of the layout before buckets and of another bucket count; a fresh Redis gets the marker")
    func layoutCheck() async throws {
        let server = try RedisServer.start()
        defer { server.stop() }
        let probe = RedisProbe(endpoint: server.endpoint)
        try await withRouter(url: server.url) { router in
            // Fresh: the first worker records its layout.
            try await SessionLayoutCheck(redis: router, layout: SessionLayout(buckets: 16), logger: Self.logger).verify()
            #expect(try await probe.send(RESPCommand("GET", SessionLayout.markerKey)).string == "buckets=16")
            // Another count is refused.
            await #expect(throws: SessionLayoutCheck.Mismatch.self) {
                try await SessionLayoutCheck(redis: router, layout: SessionLayout(buckets: 8), logger: Self.logger).verify()
            }
            // Without a marker, a session of the old layout is refused.
            _ = try await probe.send(RESPCommand("DEL", SessionLayout.markerKey))
            try await Self.seedOld(probe, Self.oldKey("acme", "old-1"), version: 3, ttl: nil)
            let error = await #expect(throws: SessionLayoutCheck.Mismatch.self) {
                try await SessionLayoutCheck(redis: router, layout: SessionLayout(buckets: 16), logger: Self.logger).verify()
            }
            #expect(error?.description.contains("session-context migrate") == true)
            #expect(try await probe.send(RESPCommand("EXISTS", SessionLayout.markerKey)).int == 0)
        }
        // The worker process stops with that message instead of serving.
        let result = try Self.runBinary(["serve", "--port", "0", "--redis-url", server.url], environment: ["SESSION_CONTEXT_JWT_SECRET": Fixture.secret])
        #expect(result.status != 0)
        #expect(result.output.contains("session-context migrate"), "\(result.output)")
    }

    @Test("migrate moves every session (old layout and another bucket count) with its fields and TTL, under live writes; again it moves nothing")
    func migrateUnderLiveWrites() async throws {
        let server = try RedisServer.start()
        defer { server.stop() }
        let probe = RedisProbe(endpoint: server.endpoint)
        let layout = SessionLayout(buckets: 16)
        let tenant = Fixture.uniqueTenant()
        let old = (0..<300).map { "old-\($0)" }
        for (index, sid) in old.enumerated() {
            try await Self.seedOld(probe, Self.oldKey(tenant, sid), version: 2, ttl: index % 2 == 0 ? 3600 : nil)
        }
        // Sessions of an 8-bucket deployment move to their 16-bucket keys too.
        let rebucketed = (0..<50).map { "eight-\($0)" }
        for sid in rebucketed {
            try await Self.seedOld(probe, SessionLayout(buckets: 8).address(tenant: tenant, sessionId: sid).key, version: 4, ttl: 600)
        }
        // One a worker of the new layout has already written again, newer: that copy is kept.
        try await Self.seedOld(probe, Self.oldKey(tenant, "both"), version: 3, ttl: nil)
        _ = try await probe.send(RESPCommand("HSET", layout.address(tenant: tenant, sessionId: "both").key, "_v", "9", "si", "newer"))

        // A worker of the old layout keeps changing sessions while the migration runs (its
        // scripts change only sessions that exist, and bump the version).
        let writes = OldLayoutWrites()
        let writer = Task {
            var turn = 0
            while !Task.isCancelled {
                let sid = old[turn % 40]
                let reply = try await probe.send(
                    RESPCommand("EVAL", "if redis.call('EXISTS', KEYS[1]) == 0 then return nil end redis.call('HSET', KEYS[1], '@w', ARGV[1]) return redis.call('HINCRBY', KEYS[1], '_v', 1)", "1", Self.oldKey(tenant, sid), String(turn))
                )
                if let version = reply.int { writes.record(sid, version) }
                turn += 1
                try await Task.sleep(for: .microseconds(200))
            }
        }
        let totals = try await withRouter(url: server.url) { router in
            var migration = SessionMigration(redis: router, layout: layout)
            migration.batch = 25
            return try await migration.run()
        }
        writer.cancel()
        _ = await writer.result
        // Those whose bucket is the same in both counts are where they belong already.
        let rebucketedMoving = rebucketed.filter { layout.bucket(of: $0) != SessionLayout(buckets: 8).bucket(of: $0) }
        #expect(totals.moved == 300 + rebucketedMoving.count)
        #expect(totals.superseded == 1)

        // Nothing left in another layout; every session at its key, as last written, with its TTL.
        for sid in old + ["both"] {
            #expect(try await probe.exists(Self.oldKey(tenant, sid)) == false, "\(sid) left behind")
        }
        for (index, sid) in old.enumerated() {
            let key = layout.address(tenant: tenant, sessionId: sid).key
            let stored = try await probe.hash(key)
            #expect(stored["@a"] == #""x""# && stored["si"] == "main", "\(sid): \(stored)")
            #expect(Int64(stored["_v"] ?? "") == writes.last(sid) ?? 2, "\(sid) lost a write: \(stored)")
            let ttl = try await probe.pttl(key)
            #expect(index % 2 == 0 ? (ttl > 3_000_000 && ttl <= 3_600_000) : ttl == -1, "\(sid) ttl \(ttl)")
        }
        for sid in rebucketed {
            #expect(try await probe.exists(SessionLayout(buckets: 8).address(tenant: tenant, sessionId: sid).key) == (layout.bucket(of: sid) == SessionLayout(buckets: 8).bucket(of: sid)))
            let key = layout.address(tenant: tenant, sessionId: sid).key
            #expect(try await probe.hash(key)["_v"] == "4")
            #expect(try await probe.pttl(key) > 500_000)
        }
        #expect(try await probe.hash(layout.address(tenant: tenant, sessionId: "both").key) == ["_v": "9", "si": "newer"])
        #expect(try await probe.send(RESPCommand("GET", SessionLayout.markerKey)).string == "buckets=16")

        // Idempotent: run again (here through the command), it finds nothing to move.
        let again = try Self.runBinary(["migrate", "--redis-url", server.url, "--event-buckets", "16"])
        #expect(again.status == 0, "\(again.output)")
        #expect(again.output.contains("0 sessions moved"), "\(again.output)")
        try await withRouter(url: server.url) { router in
            try await SessionLayoutCheck(redis: router, layout: layout, logger: Self.logger).verify()
        }
    }

    /// Runs the binary to its end (at most 30 s) and returns its status and output.
    static func runBinary(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        try WorkerProcess.run(["30", WorkerProcess.binary.path] + arguments, environment: environment, executable: URL(fileURLWithPath: "/usr/bin/timeout"))
    }
}

/// The newest version an old-layout writer gave each session.
final class OldLayoutWrites: Sendable {
    private let versions = Mutex<[String: Int64]>([:])
    func record(_ sid: String, _ version: Int64) { self.versions.withLock { $0[sid] = max($0[sid] ?? 0, version) } }
    func last(_ sid: String) -> Int64? { self.versions.withLock { $0[sid] } }
}
