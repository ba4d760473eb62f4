import NIOCore
import RedisClient
import SessionStore

/// Reads a tenant's durable change events, which keep every event, not only those a pub/sub
/// subscriber happened to be connected for. They are in one stream per bucket of the tenant
/// (`sc:events:{<tenant>:<bucket>}`, see `SessionLayout`); every reader here merges the buckets:
///
/// - ``read(after:count:)`` pages through what is stored;
/// - ``tail(after:buffer:)`` follows the streams live from a ``SessionEventCursor`` (one position
///   per bucket, so a reader resumes exactly: nothing lost, nothing twice);
/// - ``consume(group:consumer:)`` reads as a member of a consumer group (one group of that name on
///   every bucket's stream): after a restart it first gets what it had received but not
///   acknowledged, then everything it missed.
///
/// The events of one session are in one bucket, so they come in the order they were made; there is
/// no order across sessions of different buckets.
///
/// ```swift
/// // A cart service reacting to attribute changes (`redis` is a running RedisRouter).
/// let stream = SessionEventStream(redis: redis, tenant: "acme")
/// try await stream.createGroup("cart-service")
/// for try await delivery in stream.consume(group: "cart-service", consumer: "cart-1") {
///     if delivery.event.type == .attributeSet, delivery.event.changed.contains("context.geo") {
///         try await recalculatePrices(for: delivery.event.sessionId)
///     }
///     try await delivery.acknowledge()
/// }
/// ```
public struct SessionEventStream: Sendable {
    /// The Redis of the streams (one server, Sentinel or a cluster); it must be running.
    public let redis: RedisRouter
    /// The tenant whose events these are.
    public let tenant: String
    /// How the tenant's sessions are spread over buckets (the deployment's).
    public let layout: SessionLayout
    /// How long one blocking read waits before it returns empty (and a live reader sends a heartbeat).
    public var blockTime: Duration
    /// On a Redis Cluster, how long a reader that found nothing new waits before it asks again.
    public var pollInterval: Duration
    /// The key of each bucket's stream, by bucket.
    public let keys: [String]

    /// A reader of `tenant`'s streams in `redis`.
    public init(
        redis: RedisRouter,
        tenant: String,
        layout: SessionLayout = SessionLayout(),
        blockTime: Duration = .seconds(5),
        pollInterval: Duration = .milliseconds(50)
    ) {
        self.redis = redis
        self.tenant = tenant
        self.layout = layout
        self.blockTime = blockTime
        self.pollInterval = pollInterval
        self.keys = layout.streamKeys(tenant: tenant)
    }

    /// A cursor at the start of every bucket.
    public var start: SessionEventCursor { SessionEventCursor(buckets: self.layout.buckets) }

    /// Up to `count` stored events after `cursor` from each bucket, oldest first within a bucket,
    /// and the cursor after them.
    public func read(after cursor: SessionEventCursor, count: Int = 100) async throws -> (events: [SessionEvent], next: SessionEventCursor) {
        let ids = cursor.ids
        let replies = try await self.reads(blocking: false).each { bucket, key in
            RESPCommand("XRANGE", key, "(" + ids[bucket], "+", "COUNT", String(count))
        }
        var next = cursor
        var events: [SessionEvent] = []
        for (bucket, reply) in replies.enumerated() {
            let entries = StreamEntry.entries(in: reply)
            if let last = entries.last { next.advance(bucket: bucket, to: last.id) }
            events += try entries.events(bucket: bucket)
        }
        return (events, next)
    }

    /// The newest stored position in every bucket: a tail after it gets every event appended from
    /// the moment of the call on.
    ///
    /// A server that answers a live subscriber takes this *before* its answer, so that a change
    /// the subscriber makes as soon as it is answered is never before the start of its stream.
    public func newest() async throws -> SessionEventCursor {
        let replies = try await self.reads(blocking: false).each { _, key in RESPCommand("XREVRANGE", key, "+", "-", "COUNT", "1") }
        return SessionEventCursor(ids: replies.map { StreamEntry.entries(in: $0).first?.id ?? "0" })
    }

    /// Why a tail ended: its reader fell more than its buffer behind.
    public struct ReaderTooSlow: Error, Sendable {}

    /// Follows the streams from after `cursor`, one event at a time, until the task is cancelled
    /// or Redis fails. `nil` elements mark a block time without events (for heartbeats). At most
    /// `buffer` events wait for the reader; a reader further behind gets ``ReaderTooSlow`` (it can
    /// resume from the last position it saw), never unbounded memory.
    public func tail(after cursor: SessionEventCursor, buffer: Int = 1000) -> AsyncThrowingStream<SessionEvent?, any Error> {
        AsyncThrowingStream(bufferingPolicy: .bufferingOldest(buffer)) { continuation in
            let task = Task {
                do {
                    let reads = try await self.reads(blocking: true)
                    defer { reads.connection?.shutDown() }
                    try await withTaskCancellationHandler {
                        try await self.follow(from: cursor, with: reads, into: continuation)
                    } onCancel: {
                        // A reader that leaves ends the blocking read at once.
                        reads.connection?.shutDown()
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Reads events after `cursor` and yields them until cancelled.
    private func follow(
        from cursor: SessionEventCursor, with reads: BucketReads,
        into continuation: AsyncThrowingStream<SessionEvent?, any Error>.Continuation
    ) async throws {
        var ids = cursor.ids
        while !Task.isCancelled {
            let found = try await reads.read(["XREAD", "COUNT", "100"], after: ids, block: true)
            if found.isEmpty, case .dropped = continuation.yield(nil) { throw ReaderTooSlow() }
            for (bucket, entries) in found {
                for entry in entries {
                    ids[bucket] = entry.id
                    guard let event = try entry.event(bucket: bucket) else { continue }
                    if case .dropped = continuation.yield(event) { throw ReaderTooSlow() }
                }
            }
        }
    }

    /// Creates consumer group `group` on every bucket's stream (and the streams if need be),
    /// reading from `startingAt` (`"$"`: only events from now on; `"0"`: everything stored).
    /// Existing groups are kept.
    public func createGroup(_ group: String, startingAt: String = "$") async throws {
        for key in self.keys {
            try await self.createGroup(group, startingAt: startingAt, on: key)
        }
    }

    /// Creates the group on one bucket's stream; one that exists is kept.
    private func createGroup(_ group: String, startingAt: String, on key: String) async throws(RedisError) {
        do {
            _ = try await self.redis.send(RESPCommand("XGROUP", "CREATE", key, group, startingAt, "MKSTREAM"), key: key)
        } catch {
            guard error.code == .serverError, error.message.hasPrefix("BUSYGROUP") else { throw error }
        }
    }

    /// Connections to a stream's Redis give up connecting after this long.
    private static let connectTimeout = TimeAmount.seconds(2)
    /// A command may wait a block time; it times out this much later.
    private var commandTimeout: TimeAmount { .milliseconds(self.blockTime.milliseconds + 2000) }

    /// How to read the buckets: on one server (or Sentinel's primary) through a connection of
    /// their own when `blocking`, else through the router; on a cluster always through the router.
    func reads(blocking: Bool) async throws -> BucketReads {
        guard blocking, !self.redis.isCluster else { return BucketReads(stream: self, connection: nil) }
        let endpoint = try await self.redis.subscriptionEndpoint()
        let connection = RedisKeptConnection(to: endpoint, connectTimeout: Self.connectTimeout, commandTimeout: self.commandTimeout)
        return BucketReads(stream: self, connection: connection)
    }
}
