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
/// `GET /health/live`, the management read `GET /session-context/{tenant}/context/{sessionId}`,
/// the storefront read `GET /session-context/{tenant}/me/context` and the management write
/// `POST /session-context/{tenant}/context/{sessionId}/attributes` (with a JSON `Content-Type` and
/// a `Content-Length` within the body limit). Every other request goes on to Hummingbird untouched.
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
/// chain) is the routed answer's floor. These routes are answered here with the same bytes, access
/// line, request id, metrics and drain behaviour as the routed answer: each runs the token check
/// of ``TokenAuthMiddleware`` and the body of its controller, and an error they throw is answered
/// as ``ErrorMiddleware`` answers it (``APIError/answering(_:logger:)``).
///
/// The handler sits after Hummingbird's connection state handler, which so sees every request and
/// answer (idle timeout, graceful shutdown). Answers keep the order of pipelined requests: a request
/// is answered here only when no earlier request of the connection waits for Hummingbird's answer
/// (else it goes to Hummingbird too); while a request's work is under way, later requests wait
/// here, and the connection reads no more; the 400 waits until the last answer due is written.
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
        /// The store the routes read and write.
        let store: SessionStore
        /// The largest request body taken, in bytes.
        let bodyLimit: Int
        /// The largest attribute value, in bytes.
        let maximumValueBytes: Int
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
            case setAttribute(tenant: String, sessionId: String, authorization: String)
        }

        let route: Route
        let head: HTTPRequest
        let start: ContinuousClock.Instant
        let startNanoseconds: UInt64
        let requestId: String
        let active: Meter
        /// The body so far, of a request that has one.
        var body: ByteBuffer?

        /// The route's name in the access line and the metrics, as the router names it.
        var routeName: String {
            switch self.route {
            case .live: HealthController.livePath
            case .context: PipelineResponder.contextRoute
            case .me: PipelineResponder.meRoute
            case .setAttribute: PipelineResponder.attributesRoute
            }
        }
    }

    /// The answer to a request taken here.
    struct Answer: Sendable {
        var status: HTTPResponse.Status
        /// Headers beyond `Content-Type`, `Content-Length`, `X-Request-Id` and `Date`.
        var headers: HTTPFields = [:]
        /// A JSON body.
        var body: ByteBuffer?

        /// A 200 with the JSON `body`.
        static func ok(_ body: ByteBuffer) -> Answer {
            Answer(status: .ok, body: body)
        }

        /// The API's answer to `error`.
        init(_ error: APIError) {
            self.init(status: error.status, headers: error.headers, body: error.jsonBody)
        }

        init(status: HTTPResponse.Status, headers: HTTPFields = [:], body: ByteBuffer? = nil) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    /// The routes' names in the access line and the metrics, as the router names them.
    static let contextRoute = "/session-context/{tenant}/context/{sessionId}"
    static let meRoute = "/session-context/{tenant}/me/context"
    static let attributesRoute = "/session-context/{tenant}/context/{sessionId}/attributes"

    private let shared: Shared
    /// Requests passed to Hummingbird whose response's end has not been written.
    private var answersDue = 0
    /// Whether the parts of a request passed to Hummingbird are coming (its head came, its end not).
    private var passing = false
    /// The request taken here whose head came and whose end has not.
    private var taken: Taken?
    /// The request taken here whose work (Redis, a token's signature) is under way; what comes
    /// meanwhile (request parts, a parser's error) waits in `held`, in order.
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
                let active = self.shared.metrics.active(head.method)
                active.increment()
                let body: ByteBuffer? = if case .setAttribute = route { ByteBuffer() } else { nil }
                self.taken = Taken(
                    route: route, head: head, start: .now, startNanoseconds: DispatchTime.now().uptimeNanoseconds,
                    requestId: RequestLogMiddleware<AppRequestContext>.requestId(from: head.headerFields), active: active,
                    body: body
                )
                return
            }
            self.answersDue += 1
            self.passing = true
        case .body(var buffer):
            if self.taken != nil {
                // A write's body, within the limit its Content-Length was checked against; a
                // body on a GET is read and ignored, as the routes do.
                self.taken?.body?.writeBuffer(&buffer)
                return
            }
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

    /// Answers `taken`: the probe at once, the others once their work is done.
    private func respond(to taken: Taken, context: ChannelHandlerContext) {
        switch taken.route {
        case .live:
            self.answer(taken, .ok(HealthController.liveBody), context: context)
        case .context(let tenant, let sessionId, let authorization):
            self.run(taken, context: context) { shared in
                let identity = try await shared.managementAuth.identity(authorization: authorization, tenant: tenant)
                return .ok(try await ManagementController.contextJSON(
                    at: shared.store.address(tenant: identity.tenant, sessionId: sessionId), in: shared.store
                ))
            }
        case .me(let tenant, let authorization):
            self.run(taken, context: context) { shared in
                .ok(try await StorefrontController.contextJSON(
                    of: shared.storefrontAuth.identity(authorization: authorization, tenant: tenant), in: shared.store
                ))
            }
        case .setAttribute(let tenant, let sessionId, let authorization):
            let body = taken.body ?? ByteBuffer()
            self.run(taken, context: context) { shared in
                let identity = try await shared.managementAuth.identity(authorization: authorization, tenant: tenant)
                let version = try await ManagementController.setAttribute(
                    try Request.parseJSON(body), at: shared.store.address(tenant: identity.tenant, sessionId: sessionId),
                    in: shared.store, maximumValueBytes: shared.maximumValueBytes
                )
                return Answer(status: .noContent, headers: [.eTag: SessionWriteOutcome.eTag(version)])
            }
        }
    }

    /// Starts the work of `taken`: `work` in a task, its answer (or its error's) back on the loop.
    private func run(
        _ taken: Taken, context: ChannelHandlerContext, work: @escaping @Sendable (Shared) async throws -> Answer
    ) {
        self.reading = taken
        let shared = self.shared
        let requestId = taken.requestId
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        Task {
            let answer: Answer
            do {
                answer = try await work(shared)
            } catch {
                var logger = shared.logger
                logger[metadataKey: "request_id"] = .string(requestId)
                answer = Answer(APIError.answering(error, logger: logger))
            }
            bound.eventLoop.execute {
                bound.value.handler.finishRunning(answer, context: bound.value.context)
            }
        }
    }

    /// Ends the work under way: its answer, then the requests that waited meanwhile.
    private func finishRunning(_ answer: Answer, context: ChannelHandlerContext) {
        guard let taken = self.reading else { return }
        self.reading = nil
        guard !self.removed else {
            taken.active.decrement()
            return
        }
        self.answer(taken, answer, context: context)
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

    /// Writes `answer` to `taken`, counts and logs it (flushed at the end of the read or the work
    /// that brought it).
    private func answer(_ taken: Taken, _ answer: Answer, context: ChannelHandlerContext) {
        var fields: HTTPFields = [
            .contentType: "application/json",
            .contentLength: String(answer.body?.readableBytes ?? 0),
            RequestLogMiddleware<AppRequestContext>.requestIdHeader: taken.requestId,
            .date: HTTPDate.now,
        ]
        if answer.body == nil { fields[.contentType] = nil }
        if !answer.headers.isEmpty { fields.append(contentsOf: answer.headers) }
        let draining = self.shared.drain?.isDraining == true
        if draining { fields[.connection] = "close" }
        context.write(self.wrapOutboundOut(.head(HTTPResponse(status: answer.status, headerFields: fields))), promise: nil)
        if let body = answer.body {
            context.write(self.wrapOutboundOut(.body(body)), promise: nil)
        }
        context.write(self.wrapOutboundOut(.end(nil)), promise: nil)
        self.needsFlush = true
        if draining {
            // As the drain middleware does: the answer goes out, then the connection reads no more.
            self.finished = true
            self.flushIfNeeded(context: context)
            context.channel.close(mode: .input, promise: nil)
        }
        let route = taken.routeName
        let method = taken.head.method
        self.shared.metrics.record(.init(route: route, method: method, status: answer.status), since: taken.startNanoseconds, active: taken.active)
        guard self.shared.logger.logLevel <= .info else { return }
        AccessLine(
            method: method, path: Self.path(of: taken.head), route: route, status: answer.status, elapsed: .now - taken.start,
            requestId: taken.requestId, frameworkRequestId: RequestID().description
        ).write(to: self.shared.logger)
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

    /// The route `head` asks for, if it is answered here: on a connection kept open, a GET of
    /// `/health/live` or of a context with a token, or a set-attribute POST with a token, a JSON
    /// `Content-Type` and a `Content-Length` within the limit (a chunked body, `Expect`, or a
    /// path holding a `%`, which the router decodes, go to the router). Read as bytes: every
    /// request passes here (String comparisons cost a GET 12,000 instructions).
    private func route(of head: HTTPRequest) -> Taken.Route? {
        let isGet = head.method == .get
        guard isGet || head.method == .post, var target = head.path else { return nil }
        let match = target.withUTF8(Self.match)
        guard let match, head.headerFields[.connection] != "close" else { return nil }
        switch match {
        case .live where isGet:
            return .live
        case .context(let tenant, let sessionId) where isGet:
            guard let authorization = TokenAuthMiddleware.authorization(of: head.headerFields) else { return nil }
            return .context(tenant: tenant, sessionId: sessionId, authorization: authorization)
        case .me(let tenant) where isGet:
            guard let authorization = TokenAuthMiddleware.authorization(of: head.headerFields) else { return nil }
            return .me(tenant: tenant, authorization: authorization)
        case .attributes(let tenant, let sessionId) where !isGet:
            let fields = head.headerFields
            guard let authorization = TokenAuthMiddleware.authorization(of: fields), fields[.contentLength] != nil,
                fields[.transferEncoding] == nil, fields[.expect] == nil,
                (try? Request.checkJSONHead(fields, limit: self.shared.bodyLimit)) != nil
            else { return nil }
            return .setAttribute(tenant: tenant, sessionId: sessionId, authorization: authorization)
        default:
            return nil
        }
    }

    private enum Match {
        case live
        case context(tenant: String, sessionId: String)
        case attributes(tenant: String, sessionId: String)
        case me(tenant: String)
    }

    private static let liveBytes = Array(HealthController.livePath.utf8)
    private static let contextPrefix = Array("/session-context/".utf8)
    private static let contextMiddle = Array("/context/".utf8)
    private static let attributesSuffix = Array("/attributes".utf8)
    private static let meSuffix = Array("/me/context".utf8)

    /// The route of the request target `bytes`: `/health/live`,
    /// `/session-context/{tenant}/context/{sessionId}`, the same with `/attributes`, or
    /// `/session-context/{tenant}/me/context` (valid ids, no `%`), with any query.
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
        var sessionId = rest[(slash + Self.contextMiddle.count)...]
        var attributes = false
        if let end = sessionId.firstIndex(of: UInt8(ascii: "/")) {
            guard sessionId[end...].elementsEqual(Self.attributesSuffix) else { return nil }
            sessionId = sessionId[..<end]
            attributes = true
        }
        let tenantText = String(decoding: UnsafeBufferPointer(rebasing: rest[..<slash]), as: UTF8.self)
        let sessionIdText = String(decoding: UnsafeBufferPointer(rebasing: sessionId), as: UTF8.self)
        guard Identifiers.isValidTenant(tenantText), Identifiers.isValidSessionId(sessionIdText) else { return nil }
        return attributes ? .attributes(tenant: tenantText, sessionId: sessionIdText) : .context(tenant: tenantText, sessionId: sessionIdText)
    }

    /// The path of `head`'s target, without its query.
    private static func path(of head: HTTPRequest) -> String {
        let target = head.path ?? "/"
        return target.utf8.firstIndex(of: UInt8(ascii: "?")).map { String(target[..<$0]) } ?? target
    }
}
