import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers a request whose head cannot be parsed (a request line or headers over the decoder's
/// limits, a bad method, a broken header line) with the API's JSON 400 and closes the connection.
///
/// Hummingbird answers such a request itself with an empty 400 (no body, no `Content-Type`),
/// the one answer of the service outside the contract's error shape. This handler sits between
/// the HTTP decoder and Hummingbird's request handling and takes the parser's error first, but
/// only between requests: an error inside a request's body still goes to the request (the
/// error middleware answers it, and the handler that reads the body must see it fail rather
/// than end). When responses to earlier pipelined requests are still due, the 400 waits until
/// the last of them is written, so answers keep the order of the requests.
final class MalformedHeadHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Whether a request's head has come and its end has not.
    private var insideRequest = false
    /// Requests whose head has come and whose response's end has not been written.
    private var responsesDue = 0
    /// A parse error met while responses were still due, answered after the last of them.
    private var pendingError: HTTPParserError?
    /// Whether this handler has answered; nothing more is read or written then.
    private var answered = false

    init() {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.answered else { return }
        switch self.unwrapInboundIn(data) {
        case .head:
            self.insideRequest = true
            self.responsesDue += 1
        case .body:
            break
        case .end:
            self.insideRequest = false
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd = if case .end = self.unwrapOutboundIn(data) { true } else { false }
        context.write(data, promise: promise)
        guard isEnd else { return }
        self.responsesDue -= 1
        if self.responsesDue == 0, let error = self.pendingError {
            self.pendingError = nil
            self.answer(error, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let error = error as? HTTPParserError, !self.insideRequest else {
            context.fireErrorCaught(error)
            return
        }
        if self.responsesDue == 0 {
            self.answer(error, context: context)
        } else if self.pendingError == nil {
            self.pendingError = error
        }
    }

    /// Writes the JSON 400 for `error` and closes the connection once it is sent.
    private func answer(_ error: HTTPParserError, context: ChannelHandlerContext) {
        guard !self.answered else { return }
        self.answered = true
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
}
