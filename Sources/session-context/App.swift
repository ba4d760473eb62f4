import ArgumentParser

/// The `session-context` command: `serve` runs a worker; `token`, `events` and `scripts` help operators.
@main
struct App: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session-context",
        abstract: "A Redis-backed session context service: stateless workers serving the Session Context API.",
        subcommands: [ServeCommand.self, TokenCommand.self, EventsCommand.self, MigrateCommand.self, ScriptsCommand.self],
        defaultSubcommand: ServeCommand.self
    )

    /// Runs the command with NIO's event loops as Swift Concurrency's global executor
    /// (``EventLoopGlobalExecutor``), so that a request's handler runs on the event loop threads
    /// that do its I/O. Nothing in the process blocks a thread.
    static func main() async {
        _ = EventLoopGlobalExecutor.isInstalled
        do {
            var command = try self.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            self.exit(withError: error)
        }
    }
}
