import ArgumentParser
import Foundation
import RedisClient
import SessionContextEvents
import SessionStore

/// `session-context events`: tails a tenant's change events in the terminal, one line each.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print a tenant's change events as they happen, one line each, from its durable streams (all buckets merged)."
    )

    @Option(help: "The tenant.")
    var tenant: String

    @Option(help: "Start after this position: 0 for everything stored, $ (default) for new events only, or an event id as the SSE endpoint gives it.")
    var from: String = "$"

    @OptionGroup var redis: RedisOptions

    @Flag(help: "Print each event's JSON payload instead of the one-line summary.")
    var json = false

    func run() async throws {
        guard Identifiers.isValidTenant(self.tenant) else { throw ValidationError("tenant must match ^[a-z][a-z0-9]+$, 3 to 16 characters") }
        let layout = try self.redis.layout()
        let given = self.from == "$" ? nil : SessionEventCursor(self.from, buckets: layout.buckets)
        guard self.from == "$" || given != nil else {
            throw ValidationError("from must be 0, $, a stream id or an event id of this deployment's \(layout.buckets) buckets")
        }
        let (tenant, json) = (self.tenant, self.json)
        try await self.redis.withRouter { router in
            let stream = SessionEventStream(redis: router, tenant: tenant, layout: layout)
            var cursor: SessionEventCursor
            if let given { cursor = given } else { cursor = try await stream.newest() }
            for try await event in stream.tail(after: cursor) {
                guard let event, let bucket = event.bucket, let id = event.id else { continue }
                cursor.advance(bucket: bucket, to: id)
                let line: String
                if json {
                    line = "\(cursor) \(event.json)\n"
                } else {
                    let changed = event.changed.isEmpty ? "-" : event.changed.joined(separator: ",")
                    line = "\(bucket)/\(id) \(event.at) \(event.type.rawValue) \(event.sessionId) v\(event.version) \(changed) by \(event.origin)\n"
                }
                // Unbuffered, so a pipe (| grep) sees each event at once.
                FileHandle.standardOutput.write(Data(line.utf8))
            }
        }
    }
}
