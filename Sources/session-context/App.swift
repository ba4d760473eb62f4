import ArgumentParser

/// The `session-context` command: `serve` runs a worker; `token`, `events` and `scripts` help operators.
@main
struct App: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session-context",
        abstract: "A Redis-backed session context service: stateless workers serving the Session Context API.",
        subcommands: [ServeCommand.self, TokenCommand.self, EventsCommand.self, ScriptsCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
