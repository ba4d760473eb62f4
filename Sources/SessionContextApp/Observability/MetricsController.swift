import Hummingbird
import Prometheus

/// `GET /metrics`: the process's metrics in the Prometheus text format; no auth (scrape it from
/// the private network, keep it off the public load balancer).
struct MetricsController {
    typealias Context = AppRequestContext

    let registry: PrometheusCollectorRegistry

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("metrics", use: self.metrics)
        return routes
    }

    @Sendable func metrics(_ request: Request, context: Context) async throws -> Response {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16 * 1024)
        self.registry.emit(into: &bytes)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
