import Hummingbird
import Logging
import RedisClient
import SessionStore

/// Builds the worker: the Redis pool, the store, the token verifier and the router, in one application.
public func buildApplication(_ configuration: ServiceConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let endpoint = try RedisEndpoint(url: configuration.redisURL)
    let redis = RedisConnectionPool(
        configuration: .init(
            endpoint: endpoint,
            size: configuration.redisPoolSize,
            connectTimeout: .milliseconds(Int64(configuration.redisConnectTimeoutMilliseconds)),
            commandTimeout: .milliseconds(Int64(configuration.redisTimeoutMilliseconds))
        ),
        logger: logger
    )
    let store = SessionStore(
        redis: redis,
        configuration: .init(
            anonymousTTL: configuration.anonymousTTL,
            customerTTL: configuration.customerTTL,
            origin: configuration.instanceId
        )
    )
    let verifier = try await TokenVerifier(secret: configuration.jwtSecret, jwks: configuration.jwks)
    let router = buildRouter(store: store, verifier: verifier, configuration: configuration)
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        services: [redis],
        logger: logger
    )
}

/// The routes: health without auth, the management and storefront sides behind token auth.
public func buildRouter(store: SessionStore, verifier: TokenVerifier, configuration: ServiceConfiguration) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    router.addRoutes(HealthController(redis: store.redis).endpoints, atPath: "/health")
    router.group("/session-context/:tenant")
        .add(middleware: TokenAuthMiddleware(verifier: verifier, requirement: .management(scopes: configuration.manageScopes)))
        .addRoutes(ManagementController(store: store, verifier: verifier, bodyLimit: configuration.bodyLimit).endpoints)
    router.group("/session-context/:tenant")
        .add(middleware: TokenAuthMiddleware(verifier: verifier, requirement: .storefront))
        .addRoutes(StorefrontController(store: store, bodyLimit: configuration.bodyLimit).endpoints)
    return router
}
