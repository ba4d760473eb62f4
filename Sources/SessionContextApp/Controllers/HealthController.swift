import Hummingbird
import RedisClient
import SessionStore

/// `GET /health/live` (the process answers) and `GET /health/ready` (Redis answers `PING`, on a
/// cluster every primary has been connected, and the worker is not shutting down); no auth.
struct HealthController {
    typealias Context = AppRequestContext

    let redis: RedisRouter
    /// The worker's drain: a draining worker is not ready, so load balancers stop sending to it.
    let drain: ConnectionDrain?
    /// The start-up check of the session layout: a worker is not ready before it has passed.
    let layoutCheck: SessionLayoutCheck?

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("live", use: self.live)
        routes.get("ready", use: self.ready)
        return routes
    }

    /// The liveness route's path; ``PipelineResponder`` answers it before the router does.
    static let livePath = "/health/live"
    /// The liveness answer's body.
    static var liveBody: ByteBuffer { ByteBuffer(staticString: "{\"status\":\"ok\"}") }

    @Sendable func live(_ request: Request, context: Context) async throws -> Response {
        .json(Self.liveBody)
    }

    @Sendable func ready(_ request: Request, context: Context) async throws -> Response {
        if self.drain?.isDraining == true { throw APIError.unavailable("the worker is shutting down") }
        if let check = self.layoutCheck, !check.isVerified {
            throw APIError.unavailable("the session layout in Redis is not verified yet")
        }
        // On a cluster a worker is ready once it has been connected to every primary: before, its
        // first requests for a slot would wait for that primary's first connection.
        if !self.redis.hasReachedEveryPrimary { throw APIError.unavailable("not yet connected to every Redis primary") }
        do {
            _ = try await self.redis.send(RESPCommand("PING"), key: nil)
            return .json(ByteBuffer(staticString: "{\"status\":\"ready\"}"))
        } catch {
            throw APIError.unavailable("Redis does not answer")
        }
    }
}
