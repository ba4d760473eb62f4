import NIOCore
import NIOPosix
import RedisClient
import SessionStore

/// Looks at what is in Redis, for tests to check what the service left there. On a Redis Cluster
/// it follows `MOVED` to the node serving the key.
struct RedisProbe: Sendable {
    let endpoint: RedisEndpoint

    func send(_ command: RESPCommand) async throws -> RESPValue {
        do {
            return try await Self.send(command, to: self.endpoint)
        } catch let error as RedisError where error.code == .serverError && error.message.hasPrefix("MOVED ") {
            let target = error.message.split(separator: " ")[2]
            var node = self.endpoint
            node.address = .tcp(host: String(target[..<target.lastIndex(of: ":")!]), port: Int(target[target.index(after: target.lastIndex(of: ":")!)...])!)
            return try await Self.send(command, to: node)
        }
    }

    private static func send(_ command: RESPCommand, to endpoint: RedisEndpoint) async throws -> RESPValue {
        let connection = try await RedisConnection.connect(
            to: endpoint, on: MultiThreadedEventLoopGroup.singleton.any(),
            connectTimeout: .seconds(2), commandTimeout: .seconds(2)
        )
        let reply: RESPValue
        do {
            reply = try await connection.send(command)
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
        return reply
    }

    /// The hash at `key` as field -> value.
    func hash(_ key: String) async throws -> [String: String] {
        let reply = try await self.send(RESPCommand("HGETALL", key))
        var result: [String: String] = [:]
        let flat = reply.array ?? []
        var index = 0
        while index + 1 < flat.count {
            result[flat[index].string ?? ""] = flat[index + 1].string ?? ""
            index += 2
        }
        return result
    }

    /// The TTL of `key` in milliseconds (-1 none, -2 no key).
    func pttl(_ key: String) async throws -> Int64 {
        try await self.send(RESPCommand("PTTL", key)).int ?? -2
    }

    /// Connections of this Redis blocked in (or last running) XREAD: the event tails.
    func tailConnections() async throws -> Int {
        try await self.clients { $0.contains(" cmd=xread ") }
    }

    /// Connections of this Redis subscribed to at least one pattern (the near caches).
    func patternSubscribers() async throws -> Int {
        try await self.clients { line in line.split(separator: " ").contains { $0.hasPrefix("psub=") && $0 != "psub=0" } }
    }

    /// Workers listening for this Redis's expired keys (on the channel `SessionExpiryListener` uses).
    func expiryListeners() async throws -> Int {
        let channel = SessionExpiryListener.channel(self.endpoint)
        return Int(try await self.send(RESPCommand("PUBSUB", "NUMSUB", channel)).array?.last?.int ?? 0)
    }

    /// How many of this Redis's connections have a `CLIENT LIST` line that `matches`.
    private func clients(where matches: (Substring) -> Bool) async throws -> Int {
        let list = try await self.send(RESPCommand("CLIENT", "LIST")).string ?? ""
        return list.split(separator: "\n").filter(matches).count
    }

    func exists(_ key: String) async throws -> Bool {
        try await self.send(RESPCommand("EXISTS", key)).int == 1
    }
}
