import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A client of a Redis Cluster: sends each command to the primary serving its key's slot, on a
/// pool of pipelined connections per node.
///
/// - The slot map comes from `CLUSTER SLOTS`, asked of a known node (the seeds at first), and is
///   refreshed every ``Configuration/refreshInterval``, after every `MOVED`, and whenever a node
///   cannot be reached.
/// - `MOVED` updates the slot at once and sends the command again to the new owner; `ASK` (a slot
///   being migrated) sends it once to the named node, after `ASKING` on the same connection.
/// - A command that never reached a node (no connection, `TRYAGAIN`, `CLUSTERDOWN`) is retried
///   with a short pause until the command timeout. One that may have run (the connection broke
///   after it was written, or its reply timed out) is never sent twice: the caller gets the error.
///   So after a primary dies, commands fail until its replica is promoted, and then flow again.
///
/// Run it as a service: ``run()`` keeps the map fresh and the pools up until graceful shutdown.
public final class RedisClusterClient: Service, Sendable {
    /// The client's settings.
    public struct Configuration: Sendable {
        /// Nodes to ask for the slot map at start-up (any of them is enough); their credentials
        /// and TLS settings apply to every node.
        public var seeds: [RedisEndpoint]
        /// The settings of each node's pool (its endpoint is replaced by the node's).
        public var pool: RedisConnectionPool.Configuration
        /// How many redirects one command may follow.
        public var maximumRedirects: Int
        /// How often the slot map is refreshed when nothing suggests it changed.
        public var refreshInterval: Duration

        /// Settings for a cluster reached through `seeds`.
        public init(
            seeds: [RedisEndpoint],
            pool: RedisConnectionPool.Configuration,
            maximumRedirects: Int = 5,
            refreshInterval: Duration = .seconds(5)
        ) {
            precondition(!seeds.isEmpty, "a cluster client needs at least one seed node")
            self.seeds = seeds
            self.pool = pool
            self.maximumRedirects = maximumRedirects
            self.refreshInterval = refreshInterval
        }
    }

    /// A node's pool, and the signal that ends it when the node is no longer a primary.
    private struct NodePool: Sendable {
        let pool: RedisConnectionPool
        let retirement: AsyncStream<Never>
        let retire: AsyncStream<Never>.Continuation

        init(_ pool: RedisConnectionPool) {
            self.pool = pool
            (self.retirement, self.retire) = AsyncStream.makeStream(of: Never.self)
        }
    }

    private struct State {
        var slotMap = RedisClusterSlotMap()
        var pools: [RedisClusterSlotMap.Node: NodePool] = [:]
        var refreshWanted = true
        var lastRefresh: ContinuousClock.Instant?
        var hasReachedEveryPrimary = false
    }

    /// The client's settings.
    public let configuration: Configuration
    private let logger: Logger
    private let state: Mutex<State>
    private let newPools: AsyncStream<NodePool>
    private let newPoolsContinuation: AsyncStream<NodePool>.Continuation
    private let commandTimeout: Duration

    /// A client for the cluster of `configuration`; nothing connects until ``run()``.
    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.state = Mutex(State())
        (self.newPools, self.newPoolsContinuation) = AsyncStream.makeStream(of: NodePool.self)
        self.commandTimeout = .nanoseconds(configuration.pool.commandTimeout.nanoseconds)
    }

    /// Keeps the slot map fresh and every node's pool connected until graceful shutdown or
    /// cancellation. The pool of a node that is no longer a primary (nor a seed) is closed.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.maintainSlotMap() }
                for await node in self.newPools {
                    group.addTask {
                        await withTaskGroup(of: Void.self) { lifetime in
                            lifetime.addTask { try? await node.pool.run() }
                            lifetime.addTask {
                                for await _ in node.retirement {}
                                // Commands already on the pool's connections finish first (they
                                // are answered, or redirected with MOVED), then it closes.
                                try? await Task.sleep(for: self.commandTimeout)
                            }
                            await lifetime.next()
                            lifetime.cancelAll()
                        }
                    }
                }
                group.cancelAll()
            }
        }
        self.newPoolsContinuation.finish()
    }

    /// Sends `command` to the primary serving `key`'s slot (any primary when `key` is nil),
    /// following redirects, and returns its reply.
    public func send(_ command: RESPCommand, key: String?) async throws(RedisError) -> RESPValue {
        try await self.perform(key: key) { pool, asking throws(RedisError) in
            if asking {
                return try await pool.connection().pipeline([RESPCommand("ASKING"), command])[1].get()
            }
            return try await pool.send(command)
        }
    }

    /// Runs a complete `EVALSHA` command of `script` on the primary serving `key`'s slot, loading
    /// the script into that node on `NOSCRIPT` (also into the node a migrating slot's `ASK` names).
    /// With a `follower` (such as `WAIT`), sends it right after the script on the same connection,
    /// in the same write, and returns its reply too. Redirects and retries follow the script's reply.
    public func evaluate(
        _ script: RedisScript,
        _ command: RESPCommand,
        then follower: RESPCommand? = nil,
        key: String
    ) async throws(RedisError) -> (reply: RESPValue, followerReply: RESPValue?) {
        let replies = try await self.perform(key: key) { pool, asking throws(RedisError) in
            if !asking, follower == nil { return .array([try await pool.evaluate(script, command)]) }
            return .array(try await pool.connection().evaluate(
                script, command, before: asking ? [RESPCommand("ASKING")] : [], after: follower.map { [$0] } ?? []
            ))
        }
        guard let values = replies.array, let first = values.first else { throw RedisError(.protocolError, "a pipelined reply went missing") }
        return (first, values.count > 1 ? values[1] : nil)
    }

    /// Runs `operation` on the pool of the primary serving `key`'s slot (with `asking` after an
    /// `ASK` redirect: it must send `ASKING` first on the same connection), following redirects
    /// and retrying what never ran.
    private func perform(
        key: String?,
        _ operation: (RedisConnectionPool, _ asking: Bool) async throws(RedisError) -> RESPValue
    ) async throws(RedisError) -> RESPValue {
        let slot = key.map(RedisHashSlot.of)
        let deadline = ContinuousClock.now + self.commandTimeout
        var redirects = 0
        var askTarget: RedisClusterSlotMap.Node?
        var pause = Duration.milliseconds(10)
        while true {
            let node: RedisClusterSlotMap.Node
            if let askTarget {
                node = askTarget
            } else {
                node = try await self.node(serving: slot, until: deadline)
            }
            do {
                return try await operation(self.pool(for: node), askTarget != nil)
            } catch {
                askTarget = nil
                if let redirect = RedisClusterRedirect(error, fallbackHost: node.host) {
                    redirects += 1
                    guard redirects <= self.configuration.maximumRedirects else { throw error }
                    switch redirect.kind {
                    case .moved:
                        self.state.withLock {
                            $0.slotMap.assign(redirect.slot, to: redirect.node)
                            $0.refreshWanted = true
                        }
                    case .ask:
                        askTarget = redirect.node
                    }
                    continue
                }
                guard Self.neverRan(error), ContinuousClock.now + pause < deadline else { throw error }
                self.state.withLock { $0.refreshWanted = true }
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .milliseconds(200))
            }
        }
    }

    /// Sends `command` to one node, as is: no routing, no redirects (for per-node commands such as `CONFIG SET`).
    public func send(_ command: RESPCommand, to node: RedisClusterSlotMap.Node) async throws(RedisError) -> RESPValue {
        try await self.pool(for: node).send(command)
    }

    /// The current slot map (empty until the first refresh succeeded).
    public var slotMap: RedisClusterSlotMap {
        self.state.withLock { $0.slotMap }
    }

    /// Whether every slot has a primary and every primary has a connection up.
    public var isConnected: Bool {
        self.state.withLock { Self.everyPrimaryConnected($0) }
    }

    private static func everyPrimaryConnected(_ state: State) -> Bool {
        state.slotMap.coveredSlots == RedisHashSlot.count
            && state.slotMap.primaries.allSatisfy { state.pools[$0]?.pool.isConnected ?? false }
    }

    /// Whether every slot has had a primary and every primary a connection up, at some moment
    /// since the client started (true from then on). Before that a request to a primary still
    /// waits for its first connection; after, a primary that fails over does not make it false
    /// (its slots answer errors until the slot map moves on; the others serve).
    public var hasReachedEveryPrimary: Bool {
        self.state.withLock { state in
            if !state.hasReachedEveryPrimary { state.hasReachedEveryPrimary = Self.everyPrimaryConnected(state) }
            return state.hasReachedEveryPrimary
        }
    }

    /// The endpoint of `node`, with the seeds' credentials and TLS settings.
    public func endpoint(of node: RedisClusterSlotMap.Node) -> RedisEndpoint {
        var endpoint = self.configuration.seeds[0]
        endpoint.address = .tcp(host: node.host, port: node.port)
        endpoint.database = 0
        return endpoint
    }

    /// Asks a node for the slot map now, unless another caller did within the last 100 ms.
    public func refreshSlotMap() async {
        let now = ContinuousClock.now
        let candidates: [RedisClusterSlotMap.Node]? = self.state.withLock { state in
            if let last = state.lastRefresh, now - last < .milliseconds(100) { return nil }
            state.lastRefresh = now
            state.refreshWanted = false
            var seen = Set<RedisClusterSlotMap.Node>()
            return (state.slotMap.primaries + self.seedNodes).filter { seen.insert($0).inserted }
        }
        guard let candidates else { return }
        var lastError: RedisError?
        for node in candidates {
            do {
                let reply = try await self.pool(for: node).send(RESPCommand("CLUSTER", "SLOTS"))
                let map = try RedisClusterSlotMap(clusterSlots: reply, fallbackHost: node.host)
                guard map.coveredSlots > 0 else { continue }
                let (changed, retired) = self.state.withLock { state in
                    defer { state.slotMap = map }
                    // Nodes that are neither primaries nor seeds now: their pools would go on
                    // reconnecting to a replica, or to an address that is gone, for good. Checked
                    // at every refresh, so a pool a late caller made for such a node goes too.
                    let kept = Set(map.primaries).union(self.seedNodes)
                    let gone = state.pools.keys.filter { !kept.contains($0) }
                    return (state.slotMap != map, gone.compactMap { state.pools.removeValue(forKey: $0) })
                }
                for node in retired { node.retire.finish() }
                // Every primary's pool connects now, not at the first request for one of its slots.
                for primary in map.primaries { _ = self.pool(for: primary) }
                if changed {
                    self.logger.info(
                        "redis cluster slot map updated",
                        metadata: [
                            "primaries": "\(map.primaries.map(\.description).joined(separator: ","))", "slots": "\(map.coveredSlots)",
                            "closedPools": "\(retired.count)",
                        ]
                    )
                }
                return
            } catch {
                lastError = error
            }
        }
        self.state.withLock { $0.refreshWanted = true }
        if let lastError {
            self.logger.warning("no redis cluster node gave its slot map", metadata: ["error": "\(lastError.message)"])
        }
    }

    /// The server of the primary serving `key`'s slot (refreshing the slot map while none is known,
    /// for up to a second): where a subscriber to a sharded channel named like `key` connects.
    public func endpoint(serving key: String) async throws(RedisError) -> RedisEndpoint {
        self.endpoint(of: try await self.node(serving: RedisHashSlot.of(key), until: .now + .seconds(1)))
    }

    /// The primary serving `slot` (any primary for nil), refreshing the map while none is known, until `deadline`.
    private func node(serving slot: Int?, until deadline: ContinuousClock.Instant) async throws(RedisError) -> RedisClusterSlotMap.Node {
        while true {
            let node = self.state.withLock { state in
                slot.map { state.slotMap.primary(for: $0) } ?? state.slotMap.primaries.first
            }
            if let node { return node }
            guard ContinuousClock.now < deadline else {
                throw RedisError(.connectionUnavailable, "no redis cluster node serves this key's slot yet")
            }
            await self.refreshSlotMap()
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The pool of `node`, made (and handed to ``run()``) on first use.
    private func pool(for node: RedisClusterSlotMap.Node) -> RedisConnectionPool {
        let (nodePool, isNew) = self.state.withLock { state -> (NodePool, Bool) in
            if let nodePool = state.pools[node] { return (nodePool, false) }
            var configuration = self.configuration.pool
            configuration.endpoint = self.endpoint(of: node)
            let nodePool = NodePool(RedisConnectionPool(configuration: configuration, logger: self.logger))
            state.pools[node] = nodePool
            return (nodePool, true)
        }
        if isNew { self.newPoolsContinuation.yield(nodePool) }
        return nodePool.pool
    }

    /// The seeds as nodes.
    private var seedNodes: [RedisClusterSlotMap.Node] {
        self.configuration.seeds.compactMap { seed in
            guard case .tcp(let host, let port) = seed.address else { return nil }
            return RedisClusterSlotMap.Node(host: host, port: port)
        }
    }

    /// Refreshes the map at start, when asked to, and every refresh interval.
    private func maintainSlotMap() async {
        var lastFull = ContinuousClock.now
        await self.refreshSlotMap()
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
            let wanted = self.state.withLock { $0.refreshWanted }
            if wanted || ContinuousClock.now - lastFull >= self.configuration.refreshInterval {
                lastFull = ContinuousClock.now
                await self.refreshSlotMap()
            }
        }
    }

    /// Whether `error` proves the command was not run, so that sending it again is safe.
    static func neverRan(_ error: RedisError) -> Bool {
        switch error.code {
        case .connectionUnavailable: return true
        case .serverError:
            return error.message.hasPrefix("TRYAGAIN") || error.message.hasPrefix("CLUSTERDOWN")
                || error.message.hasPrefix("MASTERDOWN") || error.message.hasPrefix("LOADING")
        default: return false
        }
    }
}
