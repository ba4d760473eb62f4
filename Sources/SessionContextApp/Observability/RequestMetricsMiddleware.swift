import Dispatch
import HTTPTypes
import Hummingbird
import Metrics
import Synchronization

/// Counts and times every request, under the names and dimensions of Hummingbird's
/// `MetricsMiddleware`: `hb.requests`, `hb.request.errors` and `http.server.request.duration` by
/// route, method and status, and `http.server.active_requests` by method.
///
/// Unlike Hummingbird's, it keeps a response body of known length as it is. Hummingbird's wraps
/// every body in a closure to time it after the last byte is written, and a wrapped body loses
/// Hummingbird's single write of head, body and end: the head and the body went out in two `write`
/// calls, two TCP segments on the way to the client, 8–10 µs more of the machine's CPU per request.
/// A body of known length is written in full right after the handler returns, so its request is
/// timed then; a body of unknown length (the event stream) is still timed to its end, or to when
/// it is dropped unwritten (``BodyEndAction``).
public struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private let metrics: RequestMetrics

    /// A middleware with metric objects of its own, made on first use.
    public init() {
        self.metrics = RequestMetrics()
    }

    /// A middleware keeping its figures in `metrics` (shared with the hot routes' handler).
    public init(metrics: RequestMetrics) {
        self.metrics = metrics
    }

    /// Counts `request` in progress, then counts and times its answer (or the error it ended in).
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let active = self.metrics.active(request.method)
        active.increment()
        do {
            var response = try await next(request, context)
            let endpoint = RequestMetrics.Endpoint(route: context.endpointPath ?? "Unknown", method: request.method, status: response.status)
            if response.body.contentLength != nil {
                self.metrics.record(endpoint, since: start, active: active)
            } else {
                let body = response.body
                let metrics = self.metrics
                // Also when the body is dropped unwritten: the request is over then too.
                let record = BodyEndAction { metrics.record(endpoint, since: start, active: active) }
                response.body = ResponseBody { writer in
                    defer { record.run() }
                    try await body.write(writer)
                }
            }
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            let endpoint = RequestMetrics.Endpoint(route: context.endpointPath ?? "NotFound", method: request.method, status: status)
            self.metrics.recordError(endpoint, active: active)
            throw error
        }
    }
}

/// The metric objects of `RequestMetricsMiddleware`, made once per method and per route,
/// method and status.
public final class RequestMetrics: Sendable {
    /// What a request's metrics are kept by.
    struct Endpoint: Hashable, Sendable {
        var route: String
        var method: HTTPRequest.Method
        var status: HTTPResponse.Status
    }

    private struct Recorders: Sendable {
        let requests: Counter
        let errors: Counter
        let duration: Timer

        init(_ endpoint: Endpoint) {
            let dimensions = [
                ("http.route", endpoint.route),
                ("http.request.method", endpoint.method.rawValue),
                ("http.response.status_code", String(endpoint.status.code)),
            ]
            self.requests = Counter(label: "hb.requests", dimensions: dimensions)
            self.duration = Timer(label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds)
            self.errors = Counter(
                label: "hb.request.errors",
                dimensions: [
                    ("http.route", endpoint.route),
                    ("http.request.method", endpoint.method.rawValue),
                    ("error.type", String(endpoint.status.code)),
                ]
            )
        }
    }

    private let byMethod = Mutex<[HTTPRequest.Method: Meter]>([:])
    private let byEndpoint = Mutex<[Endpoint: Recorders]>([:])

    /// No metric objects yet: each is made on first use.
    public init() {}

    /// The meter of requests in progress with `method`.
    func active(_ method: HTTPRequest.Method) -> Meter {
        self.byMethod.withLock { meters in
            if let meter = meters[method] { return meter }
            let meter = Meter(label: "http.server.active_requests", dimensions: [("http.request.method", method.rawValue)])
            meters[method] = meter
            return meter
        }
    }

    /// Counts a request answered at `endpoint` and records its duration since `start` (uptime ns).
    func record(_ endpoint: Endpoint, since start: UInt64, active: Meter) {
        let recorders = self.recorders(endpoint)
        recorders.requests.increment()
        recorders.duration.recordNanoseconds(DispatchTime.now().uptimeNanoseconds - start)
        active.decrement()
    }

    /// Counts a request that ended in an error no middleware turned into a response.
    func recordError(_ endpoint: Endpoint, active: Meter) {
        let recorders = self.recorders(endpoint)
        recorders.requests.increment()
        recorders.errors.increment()
        active.decrement()
    }

    private func recorders(_ endpoint: Endpoint) -> Recorders {
        self.byEndpoint.withLock { all in
            if let recorders = all[endpoint] { return recorders }
            let recorders = Recorders(endpoint)
            all[endpoint] = recorders
            return recorders
        }
    }
}
