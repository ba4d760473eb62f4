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
        do {
            return try await self.send(command, key: key)
        } catch where error.code == .serverError && error.message.hasPrefix("NOSCRIPT") {
            _ = try await self.send(RESPCommand("SCRIPT", "LOAD", script.source), key: key)
            return try await self.send(command, key: key)
        }
    }

    /// Sends `first` and then the `EVALSHA` of `script`, in that order: on one connection in one
    /// write on a single server; on a cluster `first` (about `firstKey`, which may be in another
    /// slot) is answered before the script is sent. Fails without running the script if `first` fails.
    public func evaluate(
        _ script: RedisScript,
        _ command: RESPCommand,
        key: String,
        after first: (command: RESPCommand, key: String)
    ) async throws(RedisError) -> RESPValue {
        switch self.backend {
        case .single(let pool):
            let replies = try await pool.connection().pipeline([first.command, command])
            _ = try replies[0].get()
            if case .failure(let error) = replies[1], !(error.code == .serverError && error.message.hasPrefix("NOSCRIPT")) {
                throw error
            }
            if case .success(let reply) = replies[1] { return reply }
            return try await self.evaluate(script, command, key: key)
        case .cluster(let cluster):
            _ = try await cluster.send(first.command, key: first.key)
            return try await self.evaluate(script, command, key: key)
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

    /// The servers that accept writes now: the one server, the current primary, or every primary
    /// of the cluster. Subscribers to node-local notifications (keyspace events) need all of them.
    public func primaries() async throws(RedisError) -> [RedisEndpoint] {
        switch self.topology {
        case .standalone(let endpoint): return [endpoint]
        case .sentinel(let sentinel): return [try await sentinel.primary()]
        case .cluster:
            guard let cluster = self.cluster else { return [] }
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
