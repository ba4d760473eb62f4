import HTTPTypes
import Hummingbird
import RedisClient
import SessionContextEvents
import SessionStore
import ServiceLifecycle
import Synchronization

/// `GET /session-context/{tenant}/events` (management scope): the tenant's change events as
/// server-sent events, read from the tenant's durable streams (one per bucket, merged). Each
/// event's `id:` is the reader's position in every bucket after it (``SessionEventCursor``); a
/// client that reconnects with `Last-Event-ID`, to this worker or another, gets everything after
/// it that the streams still hold, none twice, and a client without one every event from just
/// before its answer on. A comment
/// line every heartbeat interval keeps idle connections open; a client whose write stalls longer
/// than the write timeout is disconnected.
struct EventsController {
    typealias Context = AppRequestContext

    let store: SessionStore
    let heartbeat: Duration
    let writeTimeout: Duration
    let maximumClients: Int
    /// The worker's drain, if it has one: a draining worker starts no new stream.
    let drain: ConnectionDrain?
    let clients = SSEClientCount()

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("events", use: self.events)
        return routes
    }

    @Sendable func events(_ request: Request, context: Context) async throws -> Response {
        let tenant = try context.verifiedIdentity.tenant
        // No Last-Event-ID means only new events; "$", Redis's spelling of that, is not a value the
        // contract's pattern admits. Both the header and `?from=` are checked when given; the
        // header (what an EventSource sends when it reconnects) wins.
        let buckets = self.store.layout.buckets
        var resume: SessionEventCursor?
        let given = [
            request.headers[HTTPField.Name("Last-Event-ID")!], request.uri.queryParameters["from"].map(String.init),
        ]
        for case let text? in given.reversed() {
            guard text.utf8.count <= Self.maximumCursorLength, let cursor = SessionEventCursor(text, buckets: buckets) else {
                throw APIError.badRequest(
                    "Last-Event-ID and from must be the id of an event of this stream (or 0 for everything stored, or a stream id such as 1763800000000-0)"
                )
            }
            resume = cursor
        }
        guard self.store.hasStream else {
            throw APIError(
                .notImplemented,
                "the durable event stream is off (stream length 0): subscribe to the pub/sub channel session-context:\(tenant):events"
            )
        }
        if self.drain?.isDraining == true {
            // The stream ends at once, and the client subscribes again (with its Last-Event-ID)
            // through another worker: an EventSource reconnects after a stream that ended, and
            // gives up after a 503.
            return Response(status: .ok, headers: Self.headers, body: .init(byteBuffer: ByteBuffer(string: ": shutting down\n\n")))
        }
        let stream = SessionEventStream(redis: self.store.redis, tenant: tenant, layout: self.store.layout, blockTime: self.heartbeat)
        // The newest stored id, asked before the answer. Without a Last-Event-ID the stream starts
        // after it: a change the subscriber makes as soon as it is answered is in its stream. (The
        // tail's own connection comes up only after the answer: starting from "$" there could begin
        // after such a change, the more so with a Redis on another host or behind TLS.) Asked with
        // a Last-Event-ID too, so that a Redis that is down gets every subscriber a 503 with
        // Retry-After, as every other request, not a 200 whose stream breaks.
        let newest = try await stream.newest()
        let start = resume ?? newest
        guard self.clients.enter(limit: self.maximumClients) else {
            throw APIError.unavailable("too many event subscribers on this worker")
        }
        let closeConnection = context.closeConnection
        let writeTimeout = self.writeTimeout
        let clients = self.clients
        // The slot is given back when the stream ends, or when the body is dropped unwritten.
        let leave = BodyEndAction { clients.leave() }
        let body = ResponseBody { writer in
            defer { leave.run() }
            // A client that goes away is noticed when its connection's input ends, not at the next
            // failed write (a heartbeat or two later): the stream is cancelled, its slot and its
            // Redis connection given back at once. (No middleware replaces a request's body, which
            // this needs: it reads the rest of the connection's input.)
            try await request.body.consumeWithCancellationOnInboundClose { _ in
                try await Self.stream(
                    stream.tail(after: start), from: start, to: &writer, writeTimeout: writeTimeout, closeConnection: closeConnection
                )
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: Self.headers, body: body)
    }

    /// The head of an event stream.
    private static let headers: HTTPFields = [
        .contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no",
    ]

    /// Writes `events` to the client as they come, until they end or the client stops reading.
    private static func stream(
        _ events: AsyncThrowingStream<SessionEvent?, any Error>,
        from start: SessionEventCursor,
        to writer: inout any ResponseBodyWriter,
        writeTimeout: Duration,
        closeConnection: @escaping @Sendable () -> Void
    ) async throws {
        let progress = SSEWriteProgress()
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The watchdog: a write that has not completed within the timeout means the
            // client stopped reading; closing the connection fails the write and ends this.
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: .milliseconds(200))
                    if progress.stalled(longerThan: writeTimeout) {
                        closeConnection()
                        return
                    }
                }
            }
            try await Self.write(ByteBuffer(string: ": connected\n\n"), to: &writer, progress: progress)
            // On graceful shutdown the stream ends (the iteration stops when cancelled), so a
            // subscriber never holds a stopping worker; it reconnects with Last-Event-ID elsewhere.
            var cursor = start
            for try await event in events.cancelOnGracefulShutdown() {
                var chunk = ByteBuffer()
                if let event {
                    if let bucket = event.bucket, let id = event.id { cursor.advance(bucket: bucket, to: id) }
                    chunk.writeString("id: \(cursor)\nevent: \(event.type.rawValue)\ndata: \(event.json)\n\n")
                } else {
                    chunk.writeString(": heartbeat\n\n")
                }
                try await Self.write(chunk, to: &writer, progress: progress)
            }
            group.cancelAll()
        }
    }

    private static func write(_ chunk: ByteBuffer, to writer: inout any ResponseBodyWriter, progress: SSEWriteProgress) async throws {
        progress.begin()
        try await writer.write(chunk)
        progress.end()
    }

    /// The longest `Last-Event-ID` taken: a position in the most buckets a layout may have.
    static let maximumCursorLength = 32 * 1024
}

/// When the write under way began, if one is.
final class SSEWriteProgress: Sendable {
    private let started = Mutex<ContinuousClock.Instant?>(nil)

    func begin() { self.started.withLock { $0 = .now } }
    func end() { self.started.withLock { $0 = nil } }
    func stalled(longerThan limit: Duration) -> Bool {
        self.started.withLock { start in start.map { ContinuousClock.now - $0 > limit } ?? false }
    }
}

/// How many event subscribers this worker serves.
final class SSEClientCount: Sendable {
    private let count = Mutex(0)

    func enter(limit: Int) -> Bool {
        self.count.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func leave() { self.count.withLock { $0 -= 1 } }
}
