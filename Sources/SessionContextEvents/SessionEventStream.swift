import NIOCore
import RedisClient

/// Reads a tenant's durable event stream (`sc:events:{tenant}`), which keeps every event, not
/// only those a pub/sub subscriber happened to be connected for.
///
/// - ``read(after:count:)`` pages through what is stored;
/// - ``tail(after:)`` follows the stream live, from a given id, with one dedicated connection
///   (closed as soon as the reader leaves);
/// - ``consume(group:consumer:)`` reads as a member of a consumer group, a batch at a time as the
///   consumer asks: after a restart it first gets what it had received but not acknowledged, then
///   everything it missed.
///
/// ```swift
/// // A cart service reacting to attribute changes.
/// let stream = SessionEventStream(endpoint: try RedisEndpoint(url: "redis://127.0.0.1:6379/0"), tenant: "acme")
/// try await stream.createGroup("cart-service")
/// for try await delivery in stream.consume(group: "cart-service", consumer: "cart-1") {
///     if delivery.event.type == .attributeSet, delivery.event.changed.contains("context.geo") {
///         try await recalculatePrices(for: delivery.event.sessionId)
///     }
///     try await delivery.acknowledge()
/// }
/// ```
public struct SessionEventStream: Sendable {
    /// Where the stream's Redis is.
    public let endpoint: RedisEndpoint
    /// The tenant whose events these are.
    public let tenant: String
    /// How long one blocking read waits before it returns empty (and a live reader sends a heartbeat).
    public var blockTime: Duration

    /// A reader of `tenant`'s stream.
    public init(endpoint: RedisEndpoint, tenant: String, blockTime: Duration = .seconds(5)) {
        self.endpoint = endpoint
        self.tenant = tenant
        self.blockTime = blockTime
    }

    /// The stream's key.
    public var key: String { "sc:events:{\(self.tenant)}" }

    /// Up to `count` stored events after `id` (exclusive; `"0"` for the beginning), oldest first.
    public func read(after id: String = "0", count: Int = 100) async throws -> [SessionEvent] {
        try await self.withConnection { connection in
            let reply = try await connection.send(RESPCommand("XRANGE", self.key, "(" + id, "+", "COUNT", String(count)))
            return try StreamEntry.entries(in: reply).events()
        }
    }

    /// The id of the newest stored event, or `"0"` when none is stored, asked through `redis` (the
    /// stream's Redis): a tail after it gets every event appended from the moment of the call on.
    ///
    /// A server that answers a live subscriber takes this id *before* its answer, so that a change
    /// the subscriber makes as soon as it is answered is never before the start of its stream.
    public func newestId(via redis: RedisRouter) async throws -> String {
        Self.newestId(in: try await redis.send(self.newestEntry, key: self.key))
    }

    /// The command that reads the newest stored entry.
    private var newestEntry: RESPCommand { RESPCommand("XREVRANGE", self.key, "+", "-", "COUNT", "1") }

    /// The id in a reply to ``newestEntry``.
    private static func newestId(in reply: RESPValue) -> String {
        StreamEntry.entries(in: reply).first?.id ?? "0"
    }

    /// Why a tail ended: its reader fell more than its buffer behind.
    public struct ReaderTooSlow: Error, Sendable {}

    /// Follows the stream from after `id` (`"$"` for only new events), one event at a time, until
    /// the task is cancelled or Redis fails. `nil` elements mark a block time without events
    /// (for heartbeats). At most `buffer` events wait for the reader; a reader further behind
    /// gets ``ReaderTooSlow`` (it can resume from the last id it saw), never unbounded memory.
    public func tail(after id: String, buffer: Int = 1000) -> AsyncThrowingStream<SessionEvent?, any Error> {
        AsyncThrowingStream(bufferingPolicy: .bufferingOldest(buffer)) { continuation in
            let connection = self.keptConnection()
            let task = Task {
                do {
                    try await self.follow(from: id, on: connection, into: continuation)
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
                connection.shutDown()
            }
            // A reader that leaves ends the blocking read at once: its connection does not wait
            // in XREAD for the rest of a block time.
            continuation.onTermination = { _ in
                task.cancel()
                connection.shutDown()
            }
        }
    }

    /// Reads events after `id` on `connection` and yields them until cancelled.
    private func follow(
        from id: String, on connection: RedisKeptConnection, into continuation: AsyncThrowingStream<SessionEvent?, any Error>.Continuation
    ) async throws {
        var last = id
        if last == "$" {
            last = Self.newestId(in: try await connection.send(self.newestEntry))
        }
        while !Task.isCancelled {
            let reply = try await connection.send(
                RESPCommand("XREAD", "COUNT", "100", "BLOCK", String(self.blockTime.milliseconds), "STREAMS", self.key, last)
            )
            let events = try StreamEntry.entries(ofStreams: reply).events()
            if events.isEmpty, case .dropped = continuation.yield(nil) { throw ReaderTooSlow() }
            for event in events {
                last = event.id ?? last
                if case .dropped = continuation.yield(event) { throw ReaderTooSlow() }
            }
        }
    }

    /// Creates consumer group `group` on the stream (and the stream if need be), reading from
    /// `startingAt` (`"$"`: only events from now on; `"0"`: everything stored). An existing group is kept.
    public func createGroup(_ group: String, startingAt: String = "$") async throws {
        try await self.withConnection { connection in
            do {
                _ = try await connection.send(RESPCommand("XGROUP", "CREATE", self.key, group, startingAt, "MKSTREAM"))
            } catch let error as RedisError where error.code == .serverError && error.message.hasPrefix("BUSYGROUP") {
                return
            }
        }
    }

    /// Connections to the stream's Redis give up connecting after this long.
    private static let connectTimeout = TimeAmount.seconds(2)
    /// A command may wait a block time; it times out this much later.
    private var commandTimeout: TimeAmount { .milliseconds(self.blockTime.milliseconds + 2000) }

    /// A connection of its own to the stream's Redis, kept open between commands.
    func keptConnection() -> RedisKeptConnection {
        RedisKeptConnection(to: self.endpoint, connectTimeout: Self.connectTimeout, commandTimeout: self.commandTimeout)
    }

    /// Runs `body` with a connection of its own, shut when `body` returns.
    func withConnection<Value: Sendable>(_ body: (RedisKeptConnection) async throws -> Value) async throws -> Value {
        let connection = self.keptConnection()
        defer { connection.shutDown() }
        return try await body(connection)
    }
}
