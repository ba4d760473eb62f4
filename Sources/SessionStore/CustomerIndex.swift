import RedisClient

/// The index of one customer's sessions, for finding them all (`?customerId=`): a sorted set of
/// session ids, each scored with when it was last entered (epoch ms).
///
/// The index is in its own slot (`sc:customer:{<tenant>:<customerId>}`), not the sessions', so on
/// a Redis Cluster no script can update it atomically with a session. It is therefore a list of
/// *candidates*, kept correct by three rules:
/// 1. A session is entered *before* the PUT that gives it the customer runs (in the same write on
///    a single server, answered first on a cluster). A session of the customer is never missing.
/// 2. Readers check every candidate against the session itself (does it exist, is it this
///    customer's); expired, deleted and re-assigned sessions are dropped from the answer.
/// 3. Readers remove what they found out of date, but only entries unchanged since they read them
///    and older than ``pruneGrace`` — never one whose PUT may still be on its way. A worker that
///    deleted a customer's session removes its entry the same way, if older than the grace (a
///    PUT re-creating the session would have entered it anew, with a recent score).
struct CustomerIndex: Sendable {
    /// How old an out-of-date entry must be before a reader removes it.
    static let pruneGrace: Int64 = 10_000

    let tenant: String
    let customerId: String

    /// The index's key.
    var key: String { Self.keyPrefix + "\(self.tenant):\(self.customerId)}" }

    /// What every index key starts with.
    static let keyPrefix = "sc:customer:{"

    /// A `SCAN` pattern matching the index keys of `tenant`, or of every tenant when nil.
    static func keyPattern(tenant: String?) -> String {
        Self.keyPrefix + (tenant.map { $0 + ":" } ?? "") + "*"
    }

    /// The command entering `sessionId`, stamped now, and the key it is about.
    func add(_ sessionId: String) -> (command: RESPCommand, key: String) {
        (RESPCommand("ZADD", self.key, String(Timestamp.nowMilliseconds()), sessionId), self.key)
    }

    /// Every candidate: session id and its score as Redis wrote it.
    func candidates(_ redis: RedisRouter) async throws(RedisError) -> [(sessionId: String, score: String)] {
        let reply = try await redis.send(RESPCommand("ZRANGE", self.key, "0", "-1", "WITHSCORES"), key: self.key)
        guard let flat = reply.array, flat.count % 2 == 0 else { throw SessionStore.unexpected(reply) }
        return stride(from: 0, to: flat.count, by: 2).compactMap { index in
            guard let sessionId = flat[index].string, let score = flat[index + 1].string else { return nil }
            return (sessionId, score)
        }
    }

    /// Removes the entry of `sessionId`, which this worker deleted, if it is older than the grace.
    func forget(_ sessionId: String, _ redis: RedisRouter) async throws(RedisError) {
        try await self.prune([(sessionId, "")], redis)
    }

    /// Removes `entries` (as read by ``candidates(_:)``) that are still as read and older than the
    /// grace; an empty score matches any.
    func prune(_ entries: [(sessionId: String, score: String)], _ redis: RedisRouter) async throws(RedisError) {
        guard !entries.isEmpty else { return }
        let script = SessionScripts.customerIndexPrune
        var command = script.command(keys: [self.key], argumentCount: 1 + entries.count * 2)
        command.append(String(Timestamp.nowMilliseconds() - Self.pruneGrace))
        for entry in entries {
            command.append(entry.sessionId)
            command.append(entry.score)
        }
        _ = try await redis.evaluate(script, command, key: self.key)
    }
}

extension CustomerIndex {
    /// The index whose key is `key`, if it is one (`sc:customer:{<tenant>:<customerId>}`; a tenant has no `:`).
    init?(key: String) {
        guard let (tenant, customerId) = Identifiers.hashTag(of: key, after: Self.keyPrefix), !customerId.isEmpty else { return nil }
        self.init(tenant: String(tenant), customerId: String(customerId))
    }
}
