extension RedisRouter {
    /// Runs the complete `EVALSHA` command of `script` and then `reads` (commands on the same key's
    /// slot, such as `HGETALL`) as one `MULTI` … `EXEC` transaction, in one write and one round
    /// trip, and returns the script's reply followed by the reads' replies.
    ///
    /// The reads see exactly the state the script left: no other client's command runs between
    /// them. This lets a script decide and change while the bytes the caller wants come back as the
    /// server has them, never copied through Lua. It goes like ``evaluate(_:_:key:)``: on
    /// `NOSCRIPT` the script is loaded into the server that answered (on a cluster, also the one a
    /// migrating slot's `ASK` named) and the transaction sent once more: the script had not run,
    /// and reads change nothing. An error reply of any of the commands throws it
    /// (``RESPCommand/transaction(_:)``).
    public func evaluate(
        _ script: RedisScript,
        _ command: RESPCommand,
        thenRead reads: [RESPCommand],
        key: String
    ) async throws(RedisError) -> [RESPValue] {
        let reply = try await self.evaluate(script, RESPCommand.transaction([command] + reads), key: key)
        guard let replies = reply.array, replies.count == reads.count + 1 else {
            throw RedisError(.protocolError, "EXEC answered \(reply) for a transaction of \(reads.count + 1) command(s)")
        }
        return replies
    }
}
