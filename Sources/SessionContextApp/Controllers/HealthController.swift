import Hummingbird
import RedisClient

/// `GET /health/live` (the process answers) and `GET /health/ready` (Redis answers `PING`); no auth.
struct HealthController {
    typealias Context = AppRequestContext

    let redis: RedisConnectionPool

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("live", use: self.live)
        routes.get("ready", use: self.ready)
        return routes
    }

    @Sendable func live(_ request: Request, context: Context) async throws -> Response {
        .json(ByteBuffer(staticString: "{\"status\":\"ok\"}"))
    }

    @Sendable func ready(_ request: Request, context: Context) async throws -> Response {
        do {
            _ = try await self.redis.send(RESPCommand("PING"))
            return .json(ByteBuffer(staticString: "{\"status\":\"ready\"}"))
        } catch {
            throw APIError.unavailable("Redis does not answer")
        }
    }
}
