import NIOCore
import RedisClient

/// Moves every session into a layout (`session-context migrate`): sessions of the layout before
/// buckets, and sessions of another bucket count, go to the key the layout gives them; then the
/// layout is recorded (``SessionLayout/markerKey``), which lets workers of that layout start.
///
/// Each session moves in three scripts (its old and new keys are in different cluster slots, so
/// no one script can do it): read it whole (`DUMP`, its TTL, its version) at the old key; write
/// it at the new key unless a version at least as new is there; delete the old key if it is still
/// the version moved, else move it again. Every step is conditional, so the migration can be run
/// again at any point (it is idempotent and resumes by walking again), and a worker that writes
/// meanwhile loses nothing: a changed old key is moved again, a newer new key is kept. Passes
/// repeat until one finds nothing to move. It publishes no events: nothing in a session changes.
public struct SessionMigration: Sendable {
    /// Where the sessions are.
    public let redis: RedisRouter
    /// The layout to move them into.
    public let layout: SessionLayout
    /// Keys asked for per `SCAN` call.
    public var batch: Int = 500

    /// What a migration has done so far.
    public struct Progress: Sendable, Equatable {
        /// Keys the walks have looked at.
        public var scanned = 0
        /// Sessions written at their new key.
        public var moved = 0
        /// Old keys dropped because a version at least as new was already at the new key.
        public var superseded = 0
        /// Passes over every primary so far.
        public var passes = 0
    }

    /// A migration of `redis` into `layout`.
    public init(redis: RedisRouter, layout: SessionLayout) {
        self.redis = redis
        self.layout = layout
    }

    /// Migrates, calling `report` after each batch; returns the totals.
    @discardableResult
    public func run(report: (Progress) -> Void = { _ in }) async throws -> Progress {
        var progress = Progress()
        var movedInPass: Int
        repeat {
            progress.passes += 1
            movedInPass = 0
            for primary in try await self.redis.primaries() {
                let scan = SessionKeyScan(redis: self.redis, server: primary, pattern: "sc:{*", type: "hash", batch: self.batch)
                try await scan.forEachBatch { keys in
                    progress.scanned += keys.count
                    for move in keys.compactMap({ SessionMove(key: $0, layout: self.layout) }) {
                        switch try await self.perform(move) {
                        case .moved: progress.moved += 1
                        case .superseded: progress.superseded += 1
                        case .gone: break
                        }
                        movedInPass += 1
                    }
                    report(progress)
                    return true
                }
            }
        } while movedInPass > 0
        _ = try await self.redis.send(
            RESPCommand("SET", SessionLayout.markerKey, self.layout.markerValue), key: SessionLayout.markerKey
        )
        report(progress)
        return progress
    }

    enum MoveOutcome { case moved, superseded, gone }

    /// Moves one session; again while a worker keeps changing the old key.
    func perform(_ move: SessionMove) async throws -> MoveOutcome {
        var outcome = MoveOutcome.gone
        for _ in 0..<100 {
            let read = SessionScripts.migrateDump.command(keys: [move.from], argumentCount: 0)
            let dumped = try await self.redis.evaluate(SessionScripts.migrateDump, read, key: move.from)
            guard let parts = dumped.array, parts.count == 3, case .bulkString(let payload) = parts[0], let ttl = parts[1].int,
                let version = parts[2].string
            else { return outcome }
            var write = SessionScripts.migrateRestore.command(keys: [move.to.key], argumentCount: 3, capacity: 64 + payload.readableBytes)
            write.append(payload)
            write.append(String(ttl))
            write.append(version)
            let written = try await self.redis.evaluate(SessionScripts.migrateRestore, write, key: move.to.key)
            // Written once in any round: moved. Kept every time: a newer copy superseded it.
            if written.int == 1 {
                outcome = .moved
            } else if outcome == .gone {
                outcome = .superseded
            }
            var drop = SessionScripts.migrateDrop.command(keys: [move.from], argumentCount: 1)
            drop.append(version)
            if try await self.redis.evaluate(SessionScripts.migrateDrop, drop, key: move.from).int == 1 { return outcome }
        }
        throw RedisError(.timeout, "\(move.from) keeps changing: stop the workers of the old layout and run the migration again")
    }
}
