import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// Logs one line per request — method, path, status, duration — under a request id taken from
/// `X-Request-Id` (when it is a sane token) or made, and echoes that id in the response.
/// Headers are never logged, so neither are tokens.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    static var requestIdHeader: HTTPField.Name { HTTPField.Name("X-Request-Id")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let requestId = Self.requestId(from: request)
        // The request id goes into the logger's metadata only when request lines are written
        // (level info or lower): a copy of the metadata per request is not free either.
        let logging = context.logger.logLevel <= .info
        var context = context
        if logging {
            context.logger[metadataKey: "request_id"] = .string(requestId)
        }
        let start = ContinuousClock.now
        var response = try await next(request, context)
        response.headers[Self.requestIdHeader] = requestId
        guard logging else { return response }
        // The ids are in the logger's metadata already.
        AccessLine(
            method: request.method, path: request.uri.path, route: context.endpointPath ?? "-", status: response.status,
            elapsed: ContinuousClock.now - start
        ).write(to: context.logger)
        return response
    }

    /// The caller's id if it is 1 to 128 characters of letters, digits, `-`, `_`, `.`; else a new one.
    static func requestId(from request: Request) -> String {
        self.requestId(from: request.headers)
    }

    /// The id in `headers`' `X-Request-Id` if it is a sane token; else a new one.
    static func requestId(from headers: HTTPFields) -> String {
        if let given = headers[Self.requestIdHeader], (1...128).contains(given.utf8.count),
            given.utf8.allSatisfy({ byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
            })
        {
            return given
        }
        return RequestIds.next()
    }
}

/// Made request ids: a random per-process prefix and a counter (no random-number syscall per request).
enum RequestIds {
    private static let prefix = String(UInt64.random(in: 0...UInt64.max), radix: 36) + "-"
    private static let counter = Atomic<UInt64>(0)

    static func next() -> String {
        self.prefix + String(self.counter.add(1, ordering: .relaxed).newValue, radix: 36)
    }
}
