import ArgumentParser

/// The `session-context` command: `serve` runs a worker, `token` prints a token for local use.
@main
struct App: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session-context",
        abstract: "A Redis-backed session context service: stateless workers serving the Session Context API.",
        subcommands: [ServeCommand.self, TokenCommand.self, EventsCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
