import Dispatch
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import SessionStore

/// Answers in the channel pipeline, before Hummingbird, the requests that need no router: a request
/// head the parser refuses (the API's JSON 400, then the connection closes), the liveness probe
/// `GET /health/live`, the management read `GET /session-context/{tenant}/context/{sessionId}` and
/// the storefront read `GET /session-context/{tenant}/me/context`.
/// Every other request goes on to Hummingbird untouched.
///
/// **Malformed heads.** Hummingbird answers a head it cannot parse (a request line or headers over
/// the decoder's limits, a bad method, a broken header line) with an empty 400, no body and no
/// `Content-Type`: the one answer of the service outside the contract's error shape. The parser's
/// error is taken here, but only between requests: an error inside a request's body still goes to
/// the request (the handler that reads the body must see it fail rather than end).
///
/// **The hot routes.** A plain SwiftNIO HTTP/1 server answers `/health/live` for about 14 µs of
/// CPU, the bare Hummingbird route for 35–41 µs (docs/performance.md): Hummingbird's per-request
/// machinery (a task per connection, the request and response types, the router, the middleware
/// chain) is the routed answer's floor. The probe and the management read are answered here with
/// the same bytes, access line, request id, metrics and drain behaviour as the routed answer. A
/// read runs the token check of ``TokenAuthMiddleware`` and the body of its controller; only its
/// success is answered here: a request they refuse, a session that does not exist or a failing
/// Redis hands the request to Hummingbird, whose routes answer it and say why (so a 404 reads
/// Redis twice: the price of one place for every error's answer; the storefront read's second
/// run restarts the idle clock again, which the first may or may not have done).
///
/// The handler sits after Hummingbird's connection state handler, which so sees every request and
/// answer (idle timeout, graceful shutdown). Answers keep the order of pipelined requests: a request
/// is answered here only when no earlier request of the connection waits for Hummingbird's answer
/// (else it goes to Hummingbird too); while a read is under way, later requests wait here, and
/// the connection reads no more; the 400 waits until the last answer due is written.
final class PipelineResponder: ChannelDuplexHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// What the handler shares with the routed path.
    struct Shared: Sendable {
        /// The application's logger (the access lines go there).
        let logger: Logger
        /// The request metrics the routed path keeps too.
        let metrics: RequestMetrics
        /// The worker's drain, when it has one.
        let drain: ConnectionDrain?
        /// The store the management read reads.
        let store: SessionStore
        /// The management side's token check.
        let managementAuth: TokenAuthMiddleware
        /// The storefront side's token check.
        let storefrontAuth: TokenAuthMiddleware
    }

    /// A request answered here.
    private struct Taken {
        enum Route {
            case live
            case context(tenant: String, sessionId: String, authorization: String)
            case me(tenant: String, authorization: String)
        }

        let route: Route
        let head: HTTPRequest
        let start: ContinuousClock.Instant
        let startNanoseconds: UInt64
        let requestId: String
        let active: Meter
    }

    /// The routes' names in the access line and the metrics, as the router names them.
    static let contextRoute = "/session-context/{tenant}/context/{sessionId}"
    static let meRoute = "/session-context/{tenant}/me/context"

    private let shared: Shared
    /// Requests passed to Hummingbird whose response's end has not been written.
    private var answersDue = 0
    /// Whether the parts of a request passed to Hummingbird are coming (its head came, its end not).
    private var passing = false
    /// The request taken here whose head came and whose end has not.
    private var taken: Taken?
    /// The read under way for a request taken here; what comes meanwhile (request parts, a
    /// parser's error) waits in `held`, in order.
    private var reading: Taken?
    private var held: [Result<HTTPRequestPart, HTTPParserError>] = []
    /// Whether the channel asked for a read while one was under way.
    private var readHeld = false
    /// Whether an answer was written here since the last flush.
    private var needsFlush = false
    /// A parse error met while answers were still due, answered after the last of them.
    private var pendingError: HTTPParserError?
    /// Whether the connection takes no more requests (it got its 400, or a draining answer).
    private var finished = false
    /// Whether the handler has left the pipeline (the connection closed).
    private var removed = false

    init(shared: Shared) {
        self.shared = shared
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.removed = true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = self.unwrapInboundIn(data)
        if self.reading != nil {
            self.held.append(.success(part))
        } else {
            self.take(part, context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.flushIfNeeded(context: context)
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if self.reading != nil {
            self.readHeld = true
        } else {
            context.read()
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd = if case .end = self.unwrapOutboundIn(data) { true } else { false }
        context.write(data, promise: promise)
        guard isEnd else { return }
        self.answersDue -= 1
        if self.answersDue == 0, let error = self.pendingError {
            self.pendingError = nil
            self.refuse(error, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let error = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        if self.reading != nil {
            self.held.append(.failure(error))
        } else {
            self.takeError(error, context: context)
        }
    }

    /// Takes the parser's `error` between requests: the 400 now, or after the answers due.
    /// Inside the body of a request passed on it is the request's: it goes on to the request's
    /// reader. Inside the body of one taken here, that request gets the 400.
    private func takeError(_ error: HTTPParserError, context: ChannelHandlerContext) {
        if self.passing {
            context.fireErrorCaught(error)
        } else if let taken = self.taken {
            self.taken = nil
            taken.active.decrement()
            self.refuse(error, context: context)
        } else if self.answersDue == 0 {
            self.refuse(error, context: context)
        } else if self.pendingError == nil {
            self.pendingError = error
        }
    }

    /// Takes `part` of a request: answers it here or passes it on.
    private func take(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        guard !self.finished else { return }
        switch part {
        case .head(let head):
            if self.answersDue == 0, let route = self.route(of: head) {
                let active = self.shared.metrics.active(.get)
                active.increment()
                self.taken = Taken(
                    route: route, head: head, start: .now, startNanoseconds: DispatchTime.now().uptimeNanoseconds,
                    requestId: RequestLogMiddleware<AppRequestContext>.requestId(from: head.headerFields), active: active
                )
                return
            }
            self.answersDue += 1
            self.passing = true
        case .body:
            if self.taken != nil { return }  // a body on a GET: read and ignored, as the routes do
        case .end:
            if let taken = self.taken {
                self.taken = nil
                self.respond(to: taken, context: context)
                return
            }
            self.passing = false
        }
        context.fireChannelRead(self.wrapInboundOut(part))
    }

    /// Answers `taken`: the probe at once, the read once Redis has answered.
    private func respond(to taken: Taken, context: ChannelHandlerContext) {
        switch taken.route {
        case .live:
            self.answer(taken, body: HealthController.liveBody, context: context)
        case .context(let tenant, let sessionId, let authorization):
            self.read(taken, context: context) { shared in
                let identity = try await shared.managementAuth.identity(authorization: authorization, tenant: tenant)
                return try await ManagementController.contextJSON(
                    at: shared.store.address(tenant: identity.tenant, sessionId: sessionId), in: shared.store
                )
            }
        case .me(let tenant, let authorization):
            self.read(taken, context: context) { shared in
                try await StorefrontController.contextJSON(
                    of: shared.storefrontAuth.identity(authorization: authorization, tenant: tenant), in: shared.store
                )
            }
        }
    }

    /// Starts the read of `taken`: `body` in a task, its answer (or the hand-over) back on the loop.
    private func read(
        _ taken: Taken, context: ChannelHandlerContext, body: @escaping @Sendable (Shared) async throws -> ByteBuffer
    ) {
        self.reading = taken
        let shared = self.shared
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        Task {
            let answer = try? await body(shared)
            bound.eventLoop.execute {
                bound.value.handler.finishReading(answer, context: bound.value.context)
            }
        }
    }

    /// Ends the read under way: its answer, or the request handed to Hummingbird; then the
    /// requests that waited meanwhile.
    private func finishReading(_ body: ByteBuffer?, context: ChannelHandlerContext) {
        guard let taken = self.reading else { return }
        self.reading = nil
        guard !self.removed else {
            taken.active.decrement()
            return
        }
        if let body {
            self.answer(taken, body: body, context: context)
        } else {
            // Refused, not found or failed: the routes answer it, and count and log it themselves.
            taken.active.decrement()
            self.answersDue += 1
            context.fireChannelRead(self.wrapInboundOut(.head(taken.head)))
            context.fireChannelRead(self.wrapInboundOut(.end(nil)))
        }
        var waiting = self.held[...]
        self.held = []
        while let next = waiting.popFirst() {
            switch next {
            case .success(let part): self.take(part, context: context)
            case .failure(let error): self.takeError(error, context: context)
            }
            if self.reading != nil {
                self.held = Array(waiting)
                break
            }
        }
        context.fireChannelReadComplete()
        self.flushIfNeeded(context: context)
        if self.reading == nil, self.readHeld {
            self.readHeld = false
            context.read()
        }
    }

    /// Writes a 200 with the JSON `body` for `taken`, counts and logs it (flushed when the read that
    /// brought it is done).
    private func answer(_ taken: Taken, body: ByteBuffer, context: ChannelHandlerContext) {
        var fields: HTTPFields = [
            .contentType: "application/json",
            .contentLength: String(body.readableBytes),
            RequestLogMiddleware<AppRequestContext>.requestIdHeader: taken.requestId,
            .date: HTTPDate.now,
        ]
        let draining = self.shared.drain?.isDraining == true
        if draining { fields[.connection] = "close" }
        context.write(self.wrapOutboundOut(.head(HTTPResponse(status: .ok, headerFields: fields))), promise: nil)
        context.write(self.wrapOutboundOut(.body(body)), promise: nil)
        context.write(self.wrapOutboundOut(.end(nil)), promise: nil)
        self.needsFlush = true
        if draining {
            // As the drain middleware does: the answer goes out, then the connection reads no more.
            self.finished = true
            self.flushIfNeeded(context: context)
            context.channel.close(mode: .input, promise: nil)
        }
        let route = switch taken.route {
        case .live: HealthController.livePath
        case .context: Self.contextRoute
        case .me: Self.meRoute
        }
        self.shared.metrics.record(.init(route: route, method: .get, status: .ok), since: taken.startNanoseconds, active: taken.active)
        guard self.shared.logger.logLevel <= .info else { return }
        var logger = self.shared.logger
        logger[metadataKey: "hb.request.id"] = .stringConvertible(RequestID())
        logger[metadataKey: "request_id"] = .string(taken.requestId)
        RequestLogMiddleware<AppRequestContext>.log(
            method: .get, path: Self.path(of: taken.head), route: route, status: .ok, elapsed: .now - taken.start, logger: logger
        )
    }

    private func flushIfNeeded(context: ChannelHandlerContext) {
        guard self.needsFlush else { return }
        self.needsFlush = false
        context.flush()
    }

    /// Writes the JSON 400 for `error` and closes the connection once it is sent.
    private func refuse(_ error: HTTPParserError, context: ChannelHandlerContext) {
        guard !self.finished else { return }
        self.finished = true
        let body = APIError.badRequest("the request is malformed: \(error.reason)").jsonBody
        let head = HTTPResponse(
            status: .badRequest,
            headerFields: [.contentType: "application/json", .contentLength: String(body.readableBytes), .connection: "close"]
        )
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        context.write(self.wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// The route `head` asks for, if it is answered here: a GET on a connection kept open, of
    /// `/health/live`, or of a context with a token (one whose path holds a `%` goes to the router,
    /// which decodes it). Read as bytes: every request passes here (String comparisons cost a GET
    /// 12,000 instructions).
    private func route(of head: HTTPRequest) -> Taken.Route? {
        guard head.method == .get, var target = head.path else { return nil }
        let match = target.withUTF8(Self.match)
        guard let match, head.headerFields[.connection] != "close" else { return nil }
        switch match {
        case .live:
            return .live
        case .context(let tenant, let sessionId):
            guard let authorization = TokenAuthMiddleware.authorization(of: head.headerFields) else { return nil }
            return .context(tenant: tenant, sessionId: sessionId, authorization: authorization)
        case .me(let tenant):
            guard let authorization = TokenAuthMiddleware.authorization(of: head.headerFields) else { return nil }
            return .me(tenant: tenant, authorization: authorization)
        }
    }

    private enum Match {
        case live
        case context(tenant: String, sessionId: String)
        case me(tenant: String)
    }

    private static let liveBytes = Array(HealthController.livePath.utf8)
    private static let contextPrefix = Array("/session-context/".utf8)
    private static let contextMiddle = Array("/context/".utf8)
    private static let meSuffix = Array("/me/context".utf8)

    /// The route of the request target `bytes`: `/health/live` or
    /// `/session-context/{tenant}/context/{sessionId}` (valid ids, no `%`), with any query.
    private static func match(_ bytes: UnsafeBufferPointer<UInt8>) -> Match? {
        let path = UnsafeBufferPointer(rebasing: bytes[..<(bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.endIndex)])
        if path.elementsEqual(Self.liveBytes) { return .live }
        guard path.starts(with: Self.contextPrefix), !path.contains(UInt8(ascii: "%")) else { return nil }
        let rest = path[(path.startIndex + Self.contextPrefix.count)...]
        guard let slash = rest.firstIndex(of: UInt8(ascii: "/")) else { return nil }
        if rest[slash...].elementsEqual(Self.meSuffix) {
            let tenant = String(decoding: UnsafeBufferPointer(rebasing: rest[..<slash]), as: UTF8.self)
            return Identifiers.isValidTenant(tenant) ? .me(tenant: tenant) : nil
        }
        guard rest[slash...].starts(with: Self.contextMiddle) else { return nil }
        let sessionId = rest[(slash + Self.contextMiddle.count)...]
        let tenant = rest[..<slash]
        guard !sessionId.contains(UInt8(ascii: "/")) else { return nil }
        let tenantText = String(decoding: UnsafeBufferPointer(rebasing: tenant), as: UTF8.self)
        let sessionIdText = String(decoding: UnsafeBufferPointer(rebasing: sessionId), as: UTF8.self)
        guard Identifiers.isValidTenant(tenantText), Identifiers.isValidSessionId(sessionIdText) else { return nil }
        return .context(tenant: tenantText, sessionId: sessionIdText)
    }

    /// The path of `head`'s target, without its query.
    private static func path(of head: HTTPRequest) -> String {
        let target = head.path ?? "/"
        return target.utf8.firstIndex(of: UInt8(ascii: "?")).map { String(target[..<$0]) } ?? target
    }
}
