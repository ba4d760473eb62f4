import ArgumentParser
import Foundation
import RedisClient
import SessionContextEvents
import SessionStore

/// `session-context events`: tails a tenant's change events in the terminal, one line each.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print a tenant's change events as they happen, one line each, from its durable stream."
    )

    @Option(help: "The tenant.")
    var tenant: String

    @Option(help: "Start after this stream id: 0 for everything stored, $ (default) for new events only.")
    var from: String = "$"

    @Option(help: "Redis URL (env REDIS_URL; default redis://127.0.0.1:6379/0).")
    var redisURL: String?

    @Flag(help: "Print each event's JSON payload instead of the one-line summary.")
    var json = false

    func run() async throws {
        guard Identifiers.isValidTenant(self.tenant) else { throw ValidationError("tenant must match ^[a-z][a-z0-9]+$, 3 to 16 characters") }
        let endpoint: RedisEndpoint
        switch try RedisTopology(url: self.redisURL ?? Environment.value("REDIS_URL") ?? "redis://127.0.0.1:6379/0") {
        case .standalone(let server): endpoint = server
        case .sentinel(let sentinel): endpoint = try await sentinel.primary()
        case .cluster:
            throw ValidationError("there is no durable event stream on a Redis Cluster: subscribe to session-context:\(self.tenant):events instead")
        }
        let stream = SessionEventStream(endpoint: endpoint, tenant: self.tenant)
        for try await event in stream.tail(after: self.from) {
            guard let event else { continue }
            let line: String
            if self.json {
                line = "\(event.id ?? "-") \(event.json)\n"
            } else {
                let changed = event.changed.isEmpty ? "-" : event.changed.joined(separator: ",")
                line = "\(event.id ?? "-") \(event.at) \(event.type.rawValue) \(event.sessionId) v\(event.version) \(changed) by \(event.origin)\n"
            }
            // Unbuffered, so a pipe (| grep) sees each event at once.
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }
}
