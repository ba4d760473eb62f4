import Logging
import Metrics
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A small set of pipelined connections to one Redis server, kept up by themselves.
///
/// Each slot of the pool holds one connection and reconnects with exponential backoff when it drops.
/// Commands go round-robin over the connections that are up. When none is up the pool fails fast
/// with ``RedisError/Code/connectionUnavailable`` once a connection attempt has failed, and otherwise
/// (start-up, or a reconnect under way) waits for a connection at most the command timeout.
///
/// Run it as a service: ``run()`` keeps the connections up until graceful shutdown.
public final class RedisConnectionPool: Service, Sendable {
    /// The pool's settings.
    public struct Configuration: Sendable {
        /// The size to choose when nothing else says: one connection per event loop of NIO's shared
        /// group (one per core), at least two, so that every loop has a connection of its own.
        public static var defaultSize: Int { max(2, NIOSingletons.groupLoopCountSuggestion) }

        /// The server and its credentials.
        public var endpoint: RedisEndpoint
        /// How many connections to keep open.
        public var size: Int
        /// How long opening a connection (TCP and handshake) may take.
        public var connectTimeout: TimeAmount
        /// How long a command may wait for its reply.
        public var commandTimeout: TimeAmount
        /// The first pause before reconnecting; it doubles up to ``maximumBackoff``.
        public var minimumBackoff: TimeAmount
        /// The longest pause between reconnect attempts.
        public var maximumBackoff: TimeAmount
        /// Where to find the server when it may move: asked before every connection attempt (and
        /// then only primaries are accepted). Nil connects to ``endpoint``.
        public var sentinel: RedisSentinel?

        /// Settings with defaults suited to a service on the same network as its Redis.
        public init(
            endpoint: RedisEndpoint,
            size: Int = 4,
            connectTimeout: TimeAmount = .seconds(2),
            commandTimeout: TimeAmount = .seconds(1),
            minimumBackoff: TimeAmount = .milliseconds(50),
            maximumBackoff: TimeAmount = .milliseconds(1000)
        ) {
            self.endpoint = endpoint
            self.size = max(1, size)
            self.connectTimeout = connectTimeout
            self.commandTimeout = commandTimeout
            self.minimumBackoff = minimumBackoff
            self.maximumBackoff = maximumBackoff
        }
    }

    /// The pool's settings.
    public let configuration: Configuration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let state: Mutex<PoolState>
    private let metrics: RedisClientMetrics

    /// A pool for `configuration`; nothing connects until ``run()``.
    public init(
        configuration: Configuration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.state = Mutex(PoolState(size: configuration.size))
        self.metrics = RedisClientMetrics()
    }

    /// Keeps every slot connected until graceful shutdown or cancellation, then closes the connections.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for slot in 0..<self.configuration.size {
                    group.addTask { await self.maintain(slot: slot) }
                }
            }
        }
        let (connections, waiters) = self.state.withLock { $0.shutDown() }
        for waiter in waiters {
            waiter.resume(throwing: RedisError(.shutdown, "the Redis client is shutting down"))
        }
        for connection in connections {
            await connection.close()
        }
        self.logger.debug("redis pool closed")
    }

    /// Sends `command` on one of the pool's connections and returns its reply.
    public func send(_ command: RESPCommand) async throws(RedisError) -> RESPValue {
        let start = ContinuousClock.now
        do throws(RedisError) {
            let connection = try await self.connection()
            do throws(RedisError) {
                let reply = try await connection.send(command)
                self.metrics.recordSuccess(since: start)
                return reply
            } catch where error.code == .serverError && error.message.hasPrefix("READONLY") {
                // The server was demoted to a replica (a failover): drop the connection, so that its
                // slot reconnects to the new primary.
                connection.channel.close(promise: nil)
                throw error
            }
        } catch {
            self.metrics.recordFailure(error, since: start)
            throw error
        }
    }

    /// How many connections are up.
    var connectionCount: Int {
        self.state.withLock { $0.connections.count }
    }

    /// Whether at least one connection is up.
    public var isConnected: Bool {
        self.state.withLock { !$0.connections.isEmpty }
    }

    /// A connection that is up, waiting for one only while no attempt has failed yet.
    ///
    /// Called on one of the group's event loops (as request handlers are when Swift Concurrency runs
    /// on NIO's event loops), it prefers a connection of that loop: no thread hop for the command.
    public func connection() async throws(RedisError) -> RedisConnection {
        switch self.lease() {
        case .connection(let connection):
            return connection
        case .unavailable(let error):
            throw error
        case .wait:
            return try await self.waitForConnection()
        }
    }

    /// A connection now if one is up (of the current event loop when there is one), else what to do.
    func lease() -> PoolState.Lease {
        let current = MultiThreadedEventLoopGroup.currentEventLoop
        return self.state.withLock { $0.lease(preferring: current) }
    }

    private func waitForConnection() async throws(RedisError) -> RedisConnection {
        let eventLoop = self.eventLoopGroup.any()
        let timeout = self.configuration.commandTimeout
        do {
            return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RedisConnection, any Error>) in
                let id = self.state.withLock { state -> UInt64? in
                    switch state.lease() {
                    case .connection(let connection):
                        continuation.resume(returning: connection)
                        return nil
                    case .unavailable(let error):
                        continuation.resume(throwing: error)
                        return nil
                    case .wait:
                        return state.addWaiter(continuation)
                    }
                }
                guard let id else { return }
                eventLoop.scheduleTask(in: timeout) {
                    if let waiter = self.state.withLock({ $0.removeWaiter(id) }) {
                        waiter.resume(throwing: RedisError(.connectionUnavailable, "no connection to Redis came up in time"))
                    }
                }
            }
        } catch let error as RedisError {
            throw error
        } catch {
            throw RedisError(.connectionUnavailable, "\(error)")
        }
    }

    /// Keeps one slot connected: connect, wait until the connection drops, pause, again.
    private func maintain(slot: Int) async {
        var backoff = self.configuration.minimumBackoff
        var wasReported = false
        // Each slot stays on one event loop, so the connections are spread evenly over the loops.
        let loops = Array(self.eventLoopGroup.makeIterator())
        let eventLoop = loops.isEmpty ? self.eventLoopGroup.next() : loops[slot % loops.count]
        while !Task.isCancelled {
            do {
                let endpoint = try await self.configuration.sentinel?.primary() ?? self.configuration.endpoint
                let connection = try await RedisConnection.connect(
                    to: endpoint,
                    on: eventLoop,
                    connectTimeout: self.configuration.connectTimeout,
                    commandTimeout: self.configuration.commandTimeout,
                    requirePrimary: self.configuration.sentinel != nil
                )
                backoff = self.configuration.minimumBackoff
                if wasReported {
                    self.logger.info("redis connection restored", metadata: ["slot": "\(slot)"])
                    wasReported = false
                }
                let waiters = self.state.withLock { $0.connected(slot: slot, connection) }
                for waiter in waiters { waiter.resume(returning: connection) }
                self.metrics.connectionsUp(self.state.withLock { $0.connections.count })
                await withTaskCancellationHandler {
                    try? await connection.closeFuture.get()
                } onCancel: {
                    connection.channel.close(promise: nil)
                }
                self.state.withLock { $0.disconnected(slot: slot) }
                self.metrics.connectionsUp(self.state.withLock { $0.connections.count })
                if Task.isCancelled { return }
                self.metrics.reconnect()
                self.logger.warning("redis connection lost, reconnecting", metadata: ["slot": "\(slot)"])
            } catch {
                let waiters = self.state.withLock { $0.failed(slot: slot) }
                for waiter in waiters { waiter.resume(throwing: error) }
                if !wasReported {
                    self.logger.warning(
                        "redis unavailable, retrying with backoff",
                        metadata: ["slot": "\(slot)", "error": "\(error.message)"]
                    )
                    wasReported = true
                }
                try? await Task.sleep(for: .nanoseconds(backoff.nanoseconds))
                backoff = min(backoff * 2, self.configuration.maximumBackoff)
            }
        }
    }
}
