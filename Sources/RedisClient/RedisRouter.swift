import Logging
import NIOCore
import ServiceLifecycle

/// Sends each command to the server that should run it: the one Redis server, the primary that
/// Sentinel names, or the Redis Cluster node serving the command's key.
///
/// Callers name the key a command is about (`key:`); a single server ignores it. Run the router
/// as a service: ``run()`` keeps its connections up until graceful shutdown.
public final class RedisRouter: Service, Sendable {
    private enum Backend: Sendable {
        case single(RedisConnectionPool)
        case cluster(RedisClusterClient)
    }

    /// The topology this router serves.
    public let topology: RedisTopology
    private let backend: Backend

    /// A router for `topology`; `pool` gives the connection settings of each server's pool (its
    /// endpoint is replaced by the topology's). Nothing connects until ``run()``.
    public init(topology: RedisTopology, pool: RedisConnectionPool.Configuration, logger: Logger) {
        self.topology = topology
        var pool = pool
        switch topology {
        case .standalone(let endpoint):
            pool.endpoint = endpoint
            self.backend = .single(RedisConnectionPool(configuration: pool, logger: logger))
        case .sentinel(let sentinel):
            pool.endpoint = sentinel.primaryTemplate
            pool.sentinel = sentinel
            self.backend = .single(RedisConnectionPool(configuration: pool, logger: logger))
        case .cluster(let seeds):
            self.backend = .cluster(RedisClusterClient(configuration: .init(seeds: seeds, pool: pool), logger: logger))
        }
    }

    /// A router for one server's pool.
    public init(pool: RedisConnectionPool) {
        self.topology = .standalone(pool.configuration.endpoint)
        self.backend = .single(pool)
    }

    public func run() async throws {
        switch self.backend {
        case .single(let pool): try await pool.run()
        case .cluster(let cluster): try await cluster.run()
        }
    }

    /// Whether this is a Redis Cluster (where one command, or one script, reaches only the keys of one slot).
    public var isCluster: Bool {
        if case .cluster = self.backend { return true }
        return false
    }

    /// The cluster client, when this is a Redis Cluster.
    public var cluster: RedisClusterClient? {
        if case .cluster(let cluster) = self.backend { return cluster }
        return nil
    }

    /// Sends `command`, about `key` (nil for commands about no key), and returns its reply.
    public func send(_ command: RESPCommand, key: String?) async throws(RedisError) -> RESPValue {
        switch self.backend {
        case .single(let pool): return try await pool.send(command)
        case .cluster(let cluster): return try await cluster.send(command, key: key)
        }
    }

    /// Runs a complete `EVALSHA` command of `script` about `key`; on `NOSCRIPT` loads the script
    /// (on that key's server) and sends it once more.
    public func evaluate(_ script: RedisScript, _ command: RESPCommand, key: String) async throws(RedisError) -> RESPValue {
        switch self.backend {
        case .single(let pool):
            return try await pool.evaluate(script, command)
        case .cluster(let cluster):
            return try await cluster.evaluate(script, command, key: key).reply
        }
    }

    /// Runs the `EVALSHA` of `script` like ``evaluate(_:_:key:)``, with two additions for writes:
    /// - `first` (a command about `first.key`, which may be in another slot) runs before the script:
    ///   on a single server in the same write on one connection (its failure is thrown); on a
    ///   cluster it is answered first, and if it fails the script is not sent.
    /// - with `replicas` > 0, `WAIT replicas timeout` follows the script on its connection, in the
    ///   same write: the call returns only once that many replicas have the script's changes, and
    ///   throws ``RedisError/Code/timeout`` when fewer confirmed within `replicaTimeoutMilliseconds`
    ///   (the change is then on the primary but not known to be on a replica).
    public func evaluate(
        _ script: RedisScript,
        _ command: RESPCommand,
        key: String,
        after first: (command: RESPCommand, key: String)?,
        replicas: Int = 0,
        replicaTimeoutMilliseconds: Int = 100
    ) async throws(RedisError) -> RESPValue {
        let wait = replicas > 0 ? RESPCommand("WAIT", String(replicas), String(replicaTimeoutMilliseconds)) : nil
        switch self.backend {
        case .single(let pool):
            let replies = try await pool.connection().evaluate(
                script, command, before: first.map { [$0.command] } ?? [], after: wait.map { [$0] } ?? []
            )
            if wait != nil { try Self.check(replies[1], replicas) }
            return replies[0]
        case .cluster(let cluster):
            if let first { _ = try await cluster.send(first.command, key: first.key) }
            let (reply, waitReply) = try await cluster.evaluate(script, command, then: wait, key: key)
            if let waitReply { try Self.check(waitReply, replicas) }
            return reply
        }
    }

    /// Throws unless a `WAIT` reply counts at least `replicas`.
    private static func check(_ reply: RESPValue, _ replicas: Int) throws(RedisError) {
        let confirmed = reply.int ?? 0
        guard confirmed >= replicas else {
            throw RedisError(.timeout, "the write reached \(confirmed) of \(replicas) replica(s) in time")
        }
    }

    /// Whether commands can be sent now: a connection is up (on a cluster: to every primary, and
    /// every slot has one).
    public var isConnected: Bool {
        switch self.backend {
        case .single(let pool): return pool.isConnected
        case .cluster(let cluster): return cluster.isConnected
        }
    }

    /// Whether the client has been connected everywhere it sends commands at least once since it
    /// started: always true for one server (or Sentinel's primary), where a `PING` tells; on a
    /// cluster, once every primary had a connection up (``RedisClusterClient/hasReachedEveryPrimary``).
    public var hasReachedEveryPrimary: Bool {
        switch self.backend {
        case .single: return true
        case .cluster(let cluster): return cluster.hasReachedEveryPrimary
        }
    }

    /// The servers that accept writes now: the one server, the current primary, or every primary
    /// of the cluster. Subscribers to node-local notifications (keyspace events) need all of them.
    public func primaries() async throws(RedisError) -> [RedisEndpoint] {
        switch (self.topology, self.backend) {
        case (.standalone(let endpoint), _): return [endpoint]
        case (.sentinel(let sentinel), _): return [try await sentinel.primary()]
        case (_, .single(let pool)): return [pool.configuration.endpoint]
        case (.cluster, .cluster(let cluster)):
            var map = cluster.slotMap
            if map.primaries.isEmpty {
                await cluster.refreshSlotMap()
                map = cluster.slotMap
            }
            guard !map.primaries.isEmpty else { throw RedisError(.connectionUnavailable, "the redis cluster's slot map is not known yet") }
            return map.primaries.map { cluster.endpoint(of: $0) }
        }
    }

    /// A server to subscribe to for pub/sub messages: on a cluster any primary will do (the
    /// cluster passes every `PUBLISH` to every node); the first that is known is taken.
    public func subscriptionEndpoint() async throws(RedisError) -> RedisEndpoint {
        let primaries = try await self.primaries()
        return primaries[0]
    }

    /// The server that holds `key` (on a cluster, the primary serving its slot): where a subscriber
    /// to a sharded channel of the same hash tag connects.
    public func endpoint(serving key: String) async throws(RedisError) -> RedisEndpoint {
        if let cluster = self.cluster { return try await cluster.endpoint(serving: key) }
        return try await self.subscriptionEndpoint()
    }

    /// Sends `command` to one server of ``primaries()`` as it is (for per-server commands such as `CONFIG SET`).
    public func send(_ command: RESPCommand, to server: RedisEndpoint) async throws(RedisError) -> RESPValue {
        switch self.backend {
        case .single(let pool): return try await pool.send(command)
        case .cluster(let cluster):
            guard case .tcp(let host, let port) = server.address else { return try await cluster.send(command, key: nil) }
            return try await cluster.send(command, to: RedisClusterSlotMap.Node(host: host, port: port))
        }
    }
}
