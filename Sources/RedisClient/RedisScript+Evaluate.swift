extension RedisError {
    /// Whether the server does not know the script an `EVALSHA` named (its script cache is empty
    /// after a restart, or the script was never loaded on that node).
    var isNoScript: Bool { self.code == .serverError && self.message.hasPrefix("NOSCRIPT") }
}

extension RedisConnectionPool {
    /// Runs a complete `EVALSHA` command of `script`; on `NOSCRIPT` loads the script and sends it once more.
    public func evaluate(_ script: RedisScript, _ command: RESPCommand) async throws(RedisError) -> RESPValue {
        do {
            return try await self.send(command)
        } catch where error.isNoScript {
            _ = try await self.send(RESPCommand("SCRIPT", "LOAD", script.source))
            return try await self.send(command)
        }
    }
}

extension RedisConnection {
    /// Sends `before`, the complete `EVALSHA` command of `script` and `after` in one write on this
    /// connection, and returns the replies of the script and of `after`. A command of `before`
    /// that fails throws its error. On `NOSCRIPT` the script is loaded on this connection's server
    /// and the whole write sent once more (so `before` may hold `ASKING`, which counts for one
    /// command only; `before` must be safe to repeat).
    public func evaluate(
        _ script: RedisScript,
        _ command: RESPCommand,
        before: [RESPCommand] = [],
        after: [RESPCommand] = []
    ) async throws(RedisError) -> [RESPValue] {
        let commands = before + [command] + after
        var replies = try await self.pipeline(commands)
        if case .failure(let error) = replies[before.count], error.isNoScript {
            _ = try await self.send(RESPCommand("SCRIPT", "LOAD", script.source))
            replies = try await self.pipeline(commands)
        }
        for reply in replies[..<before.count] { _ = try reply.get() }
        return try replies[before.count...].map { reply throws(RedisError) in try reply.get() }
    }
}
