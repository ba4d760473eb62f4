import ArgumentParser
import SessionStore

/// `session-context scripts`: lists the Lua scripts a worker runs with their SHA1s, or prints one.
///
/// Operators use it to check with `SCRIPT EXISTS` what a Redis has loaded, to preload scripts, or to
/// drive `redis-benchmark` with the real `EVALSHA` (as `scripts/bench` does).
struct ScriptsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scripts",
        abstract: "List the Lua scripts (name and SHA1), or print one's source."
    )

    @Option(help: "Print the source of this script instead of the list.")
    var source: String?

    func run() throws {
        guard let name = self.source else {
            for entry in SessionScriptCatalog.all { print("\(entry.name) \(entry.script.sha1)") }
            return
        }
        guard let entry = SessionScriptCatalog.all.first(where: { $0.name == name }) else {
            throw ValidationError("no script named \(name); known: \(SessionScriptCatalog.all.map(\.name).joined(separator: ", "))")
        }
        print(entry.script.source, terminator: "")
    }
}
