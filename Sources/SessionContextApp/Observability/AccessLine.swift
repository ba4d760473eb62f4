import HTTPTypes
import Logging

/// One request's access line: the request, how it was answered, how long it took, and (when the
/// logger does not carry them already) its request ids. The one place the line's shape is made:
/// the router's ``RequestLogMiddleware`` and ``PipelineResponder`` both write it through
/// ``write(to:)``.
///
/// It is written as `logger.info("request", metadata: …)` would write it, with the ids in the
/// logger's metadata. Our own handlers (``TextLogHandler``, ``JSONLogHandler``) render it
/// straight into their line when they have no metadata of their own: copying a logger to add
/// the two ids, a metadata dictionary of five items and the handler's merge and sort of them cost
/// the hot routes about 20,000 instructions a request (callgrind), for the same bytes.
struct AccessLine {
    /// The request's method.
    var method: HTTPRequest.Method
    /// The request's path, without its query.
    var path: String
    /// The route's name, as the router names it (`-` for none).
    var route: String
    /// The answer's status.
    var status: HTTPResponse.Status
    /// The time from the request's head to its answer.
    var elapsed: Duration
    /// The caller's or a made request id (`request_id`), when the logger does not carry it.
    var requestId: String?
    /// Hummingbird's request id (`hb.request.id`), when the logger does not carry it.
    var frameworkRequestId: String?

    /// The message of every access line.
    static let message = "request"
    /// The source of every access line: the module's name, as swift-log would take it from
    /// `#fileID`, without taking it apart on every request.
    static let source = "SessionContextApp"

    /// Calls `body` with each of the line's items, in key order as the handlers sort metadata
    /// (no array of them is made: the hot routes write one line each).
    func forEachItem(_ body: (_ key: String, _ value: String) -> Void) {
        body("duration_ms", Self.milliseconds(self.elapsed))
        if let id = self.frameworkRequestId { body("hb.request.id", id) }
        body("method", self.method.rawValue)
        body("path", self.path)
        if let id = self.requestId { body("request_id", id) }
        body("route", self.route)
        body("status", String(self.status.code))
    }

    /// Writes the line at level info: rendered by `logger`'s handler itself when it is one of ours,
    /// else through `logger` as any line.
    func write(to logger: Logger) {
        guard logger.logLevel <= .info else { return }
        // Cast to each concrete handler: a cast to the protocol looks its conformance up on every
        // call (callgrind: 6,700 instructions a request, half of what writing the line costs).
        switch logger.handler {
        case let handler as TextLogHandler where handler.writeAccessLine(self): return
        case let handler as JSONLogHandler where handler.writeAccessLine(self): return
        default: break
        }
        var metadata: Logger.Metadata = [:]
        self.forEachItem { key, value in metadata[key] = .string(value) }
        logger.info(Logger.Message(stringLiteral: Self.message), metadata: metadata, source: Self.source)
    }

    /// `duration` in milliseconds with two decimals, rounded (as `%.2f` writes it; `String(format:)`
    /// cost 11,000 instructions a request, a tenth of a whole `/health/live`).
    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let hundredths = max(0, seconds) * 100_000 + (max(0, attoseconds) + 5_000_000_000_000) / 10_000_000_000_000
        let fraction = hundredths % 100
        return "\(hundredths / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }
}

/// A log handler that renders an ``AccessLine`` itself.
protocol AccessLineWriting {
    /// Writes `line` exactly as the handler writes `logger.info("request", metadata: …)` with
    /// the line's items, and returns true; returns false, writing nothing, when it cannot (it has
    /// metadata or a metadata provider of its own to merge in: the caller then logs the line the
    /// general way).
    func writeAccessLine(_ line: AccessLine) -> Bool
}
