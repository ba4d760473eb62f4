import Hummingbird

/// While the worker drains (see ``ConnectionDrain``), every response says `Connection: close` and
/// the connection reads no further request: the client sends its next one on a new connection,
/// which the load balancer gives to another worker.
struct DrainMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let drain: ConnectionDrain

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if self.drain.isDraining {
            response.headers[.connection] = "close"
            context.stopReading()
        }
        return response
    }
}
