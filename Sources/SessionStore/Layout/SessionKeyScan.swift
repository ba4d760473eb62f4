import RedisClient

/// Walks the keys of one Redis server with `SCAN`, a batch at a time.
struct SessionKeyScan {
    let redis: RedisRouter
    let server: RedisEndpoint
    let pattern: String
    let type: String
    let batch: Int

    /// Calls `body` with each batch of keys until the walk is done or `body` returns false.
    func forEachBatch(_ body: ([String]) async throws -> Bool) async throws {
        var cursor = "0"
        repeat {
            let reply = try await self.redis.send(
                RESPCommand("SCAN", cursor, "MATCH", self.pattern, "COUNT", String(self.batch), "TYPE", self.type), to: self.server
            )
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let found = parts[1].array else {
                throw SessionStore.unexpected(reply)
            }
            cursor = next
            guard try await body(found.compactMap(\.string)) else { return }
        } while cursor != "0"
    }
}
