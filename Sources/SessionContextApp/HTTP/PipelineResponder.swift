import Dispatch
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers in the channel pipeline, before Hummingbird, the requests that need no route: a request
/// head the parser refuses (the API's JSON 400, then the connection closes) and the liveness probe
/// `GET /health/live`. Every other request goes on to Hummingbird untouched.
///
/// **Malformed heads.** Hummingbird answers a head it cannot parse (a request line or headers over
/// the decoder's limits, a bad method, a broken header line) with an empty 400, no body and no
/// `Content-Type`: the one answer of the service outside the contract's error shape. The parser's
/// error is taken here, but only between requests: an error inside a request's body still goes to
/// the request (the handler that reads the body must see it fail rather than end).
///
/// **The liveness probe.** Load balancers ask it of every worker every few seconds. A plain
/// SwiftNIO HTTP/1 server answers it for about 14 µs of CPU, the bare Hummingbird route for 35–41 µs
/// (docs/performance.md): Hummingbird's per-request machinery (a task per connection, the request
/// and response types, the router, the middleware chain) is the routed answer's floor. Here it
/// costs a third of the routed answer's instructions, with the same bytes, access line, request id,
/// metrics and drain behaviour.
///
/// The handler sits after Hummingbird's connection state handler, which so sees every request and
/// answer (idle timeout, graceful shutdown). Answers keep the order of pipelined requests: the
/// probe is answered here only when no earlier request of the connection waits for Hummingbird's
/// answer (else it goes to Hummingbird too), and the 400 waits until the last answer due is written.
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
    }

    /// A probe being answered here, from its head until its end has come.
    private struct Probe {
        let start: ContinuousClock.Instant
        let startNanoseconds: UInt64
        let requestId: String
        let active: Meter
    }

    private let shared: Shared
    /// Requests passed to Hummingbird whose response's end has not been written.
    private var answersDue = 0
    /// Whether the parts of a request passed to Hummingbird are coming (its head came, its end not).
    private var passing = false
    /// The probe being answered here, while its body and end come.
    private var probe: Probe?
    /// Whether an answer was written here since the last flush.
    private var needsFlush = false
    /// A parse error met while answers were still due, answered after the last of them.
    private var pendingError: HTTPParserError?
    /// Whether the connection got its 400; nothing more is read then.
    private var refused = false

    init(shared: Shared) {
        self.shared = shared
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.refused else { return }
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            if self.answersDue == 0, Self.isLiveProbe(head) {
                let active = self.shared.metrics.active(.get)
                active.increment()
                self.probe = Probe(
                    start: .now, startNanoseconds: DispatchTime.now().uptimeNanoseconds,
                    requestId: RequestLogMiddleware<AppRequestContext>.requestId(from: head.headerFields), active: active
                )
                return
            }
            self.answersDue += 1
            self.passing = true
        case .body:
            if self.probe != nil { return }  // a body on the probe: read and ignored, as the route does
        case .end:
            if let probe = self.probe {
                self.probe = nil
                self.answer(probe, context: context)
                return
            }
            self.passing = false
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.needsFlush {
            self.needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
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
        guard let error = error as? HTTPParserError, !self.passing, self.probe == nil else {
            context.fireErrorCaught(error)
            return
        }
        if self.answersDue == 0 {
            self.refuse(error, context: context)
        } else if self.pendingError == nil {
            self.pendingError = error
        }
    }

    /// Writes the liveness probe's answer (flushed when the read that brought it is done).
    private func answer(_ probe: Probe, context: ChannelHandlerContext) {
        var fields: HTTPFields = [
            .contentType: "application/json",
            .contentLength: "15",
            RequestLogMiddleware<AppRequestContext>.requestIdHeader: probe.requestId,
            .date: HTTPDate.now,
        ]
        let draining = self.shared.drain?.isDraining == true
        if draining { fields[.connection] = "close" }
        context.write(self.wrapOutboundOut(.head(HTTPResponse(status: .ok, headerFields: fields))), promise: nil)
        context.write(self.wrapOutboundOut(.body(HealthController.liveBody)), promise: nil)
        context.write(self.wrapOutboundOut(.end(nil)), promise: nil)
        self.needsFlush = true
        if draining {
            // As the drain middleware does: the answer goes out, then the connection reads no more.
            self.needsFlush = false
            context.flush()
            context.channel.close(mode: .input, promise: nil)
        }
        self.shared.metrics.record(
            .init(route: HealthController.livePath, method: .get, status: .ok), since: probe.startNanoseconds, active: probe.active
        )
        guard self.shared.logger.logLevel <= .info else { return }
        var logger = self.shared.logger
        logger[metadataKey: "hb.request.id"] = .stringConvertible(RequestID())
        logger[metadataKey: "request_id"] = .string(probe.requestId)
        RequestLogMiddleware<AppRequestContext>.log(
            method: .get, path: HealthController.livePath, route: HealthController.livePath, status: .ok,
            elapsed: .now - probe.start, logger: logger
        )
    }

    /// Writes the JSON 400 for `error` and closes the connection once it is sent.
    private func refuse(_ error: HTTPParserError, context: ChannelHandlerContext) {
        guard !self.refused else { return }
        self.refused = true
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

    /// Whether `head` asks `GET /health/live` (with or without a query) on a connection kept open.
    private static func isLiveProbe(_ head: HTTPRequest) -> Bool {
        guard head.method == .get, let path = head.path else { return false }
        let target = path.utf8
        let live = HealthController.livePath.utf8
        guard target.starts(with: live) else { return false }
        let rest = target.dropFirst(live.count)
        guard rest.isEmpty || rest.first == UInt8(ascii: "?") else { return false }
        return head.headerFields[.connection] != "close"
    }
}
