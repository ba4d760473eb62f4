import ArgumentParser
import Foundation
import RedisClient
import SessionStore

/// `session-context migrate`: moves every session into the layout of `--event-buckets` buckets.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Move every session into the bucket layout (from the layout before buckets, or from another bucket count), then record it.",
        discussion: """
            Idempotent and resumable: run it again after an interruption and it goes on. Safe while workers \
            serve: a session a worker changes meanwhile is moved again, one a worker of the new layout has \
            already written is kept. Workers of a layout refuse to start until the data is in it.
            """
    )

    @OptionGroup var redis: RedisOptions

    @Option(help: "Keys asked for per SCAN call.")
    var batch: Int = 500

    func run() async throws {
        let layout = try self.redis.layout()
        guard (1...100_000).contains(self.batch) else { throw ValidationError("batch must be 1 to 100000") }
        let batch = self.batch
        let started = ContinuousClock.now
        let totals = try await self.redis.withRouter { router in
            var migration = SessionMigration(redis: router, layout: layout)
            migration.batch = batch
            var lastLine = ContinuousClock.now - .seconds(2)
            return try await migration.run { progress in
                guard ContinuousClock.now - lastLine >= .seconds(1) else { return }
                lastLine = ContinuousClock.now
                Self.print("migrate: pass \(progress.passes), \(progress.scanned) keys scanned, \(progress.moved) sessions moved, \(progress.superseded) superseded")
            }
        }
        let seconds = Double((ContinuousClock.now - started).milliseconds) / 1000
        Self.print(
            "migrate: done in \(seconds) s: \(totals.scanned) keys scanned in \(totals.passes) pass(es), \(totals.moved) sessions moved, "
                + "\(totals.superseded) superseded by newer copies; layout \(layout.markerValue) recorded"
        )
    }

    private static func print(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
