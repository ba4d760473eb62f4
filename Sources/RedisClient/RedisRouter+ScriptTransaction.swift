extension RedisRouter {
    /// Runs the complete `EVALSHA` command of `script` and then `reads` (commands on the same key's
    /// slot, such as `HGETALL`) as one `MULTI` … `EXEC` transaction, in one write and one round
    /// trip, and returns the script's reply followed by the reads' replies.
    ///
    /// The reads see exactly the state the script left: no other client's command runs between
    /// them. This lets a script decide and change while the bytes the caller wants come back as the
    /// server has them, never copied through Lua. On `NOSCRIPT` the script is loaded (on `key`'s
    /// server) and the transaction sent once more: the script had not run, and reads change nothing.
    /// An error reply of any of them throws ``RedisError/Code/serverError``.
    public func evaluate(
        _ script: RedisScript,
        _ command: RESPCommand,
        thenRead reads: [RESPCommand],
        key: String
    ) async throws(RedisError) -> [RESPValue] {
        let transaction = RESPCommand.transaction([command] + reads)
        let replies: [RESPValue]
        do {
            replies = try await self.execute(transaction, replies: reads.count + 1, key: key)
        } catch where error.isNoScript {
            _ = try await self.send(RESPCommand("SCRIPT", "LOAD", script.source), key: key)
            replies = try await self.execute(transaction, replies: reads.count + 1, key: key)
        }
        return replies
    }

    /// Sends `transaction` and returns `EXEC`'s replies, throwing the first error reply among them.
    private func execute(_ transaction: RESPCommand, replies count: Int, key: String) async throws(RedisError) -> [RESPValue] {
        let reply = try await self.send(transaction, key: key)
        guard let replies = reply.array, replies.count == count else {
            throw RedisError(.protocolError, "EXEC answered \(reply) for a transaction of \(count) command(s)")
        }
        for case .error(let message) in replies {
            throw RedisError(.serverError, message)
        }
        return replies
    }
}
