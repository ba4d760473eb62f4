import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import RedisClient
import SessionStore

/// Builds the worker: the Redis pool, the store, the token verifier and the router, in one application.
/// `metrics` is the registry that `GET /metrics` shows (the process bootstraps swift-metrics with it);
/// `drain`, run by the caller after the application, lets the worker leave its load balancer's
/// rotation before the server stops.
public func buildApplication(
    _ configuration: ServiceConfiguration,
    logger: Logger,
    metrics: PrometheusCollectorRegistry? = nil,
    drain: ConnectionDrain? = nil
) async throws -> some ApplicationProtocol {
    let topology = try RedisTopology(url: configuration.redisURL)
    let redis = RedisRouter(
        topology: topology,
        pool: .init(
            endpoint: RedisEndpoint(address: .tcp(host: "127.0.0.1", port: 6379)),
            size: configuration.redisPoolSize,
            connectTimeout: .milliseconds(Int64(configuration.redisConnectTimeoutMilliseconds)),
            commandTimeout: .milliseconds(Int64(configuration.redisTimeoutMilliseconds))
        ),
        logger: logger
    )
    let nearCache = configuration.nearCacheSize > 0 ? NearCache(capacity: configuration.nearCacheSize) : nil
    let store = SessionStore(
        redis: redis,
        configuration: .init(
            anonymousTTL: configuration.anonymousTTL,
            customerTTL: configuration.customerTTL,
            origin: configuration.instanceId,
            streamMaxLength: configuration.streamMaxLength,
            layout: SessionLayout(buckets: configuration.eventBuckets),
            eventChannels: configuration.resolvedEventChannels(cluster: redis.isCluster),
            maxAttributes: configuration.maxAttributes,
            replicaAcknowledgements: configuration.redisReplicaAcknowledgements,
            replicaTimeoutMilliseconds: configuration.redisReplicaTimeoutMilliseconds
        ),
        nearCache: nearCache
    )
    let layoutCheck = SessionLayoutCheck(redis: redis, layout: store.layout, logger: logger)
    var services: [any Service] = [redis, layoutCheck]
    if let nearCache {
        services.append(NearCacheListener(cache: nearCache, redis: redis, layout: store.layout, logger: logger))
    }
    if configuration.expiryEvents {
        services.append(SessionExpiryListener(store: store, logger: logger))
    }
    if configuration.customerIndexSweepSeconds > 0 {
        services.append(
            CustomerIndexSweeper(
                store: store,
                interval: .seconds(configuration.customerIndexSweepSeconds),
                logger: logger,
                tenant: configuration.customerIndexSweepTenant
            )
        )
    }
    let verifier = try await TokenVerifier(secret: configuration.jwtSecret, jwks: configuration.jwks)
    let requestMetrics = RequestMetrics()
    let router = buildRouter(
        store: store, verifier: verifier, configuration: configuration, metrics: metrics, drain: drain, layoutCheck: layoutCheck,
        requestMetrics: requestMetrics
    )
    return Application(
        router: router,
        // Idle keep-alive connections close after the idle timeout; request heads are bounded
        // by NIO's HTTP decoder (80 KiB per field and in all). PipelineResponder answers a head
        // the decoder cannot parse with the API's JSON 400 (Hummingbird's own is empty), and the
        // liveness probe, the two reads and the set-attribute POST without the router, with the
        // same answers, log line and metrics.
        server: .http1(
            configuration: .init(idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds))),
            responder: .init(
                logger: logger, metrics: requestMetrics, drain: drain, store: store,
                bodyLimit: configuration.bodyLimit, maximumValueBytes: configuration.maxValueBytes,
                managementAuth: TokenAuthMiddleware(verifier: verifier, requirement: .management(scopes: configuration.manageScopes)),
                storefrontAuth: TokenAuthMiddleware(verifier: verifier, requirement: .storefront)
            )
        ),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: nil,
            // Past the limit the server stops accepting until a connection closes, so the worker
            // never runs out of files (a flood of idle connections once crashed it there).
            availableConnectionsDelegate: configuration.maxConnections.map { .maximum($0, logger: logger) }
        ),
        services: services,
        logger: logger
    )
}

/// The routes: health, metrics and the OpenAPI document without auth; the management and
/// storefront sides behind token auth. Every request is logged and counted.
public func buildRouter(
    store: SessionStore,
    verifier: TokenVerifier,
    configuration: ServiceConfiguration,
    metrics: PrometheusCollectorRegistry? = nil,
    drain: ConnectionDrain? = nil,
    layoutCheck: SessionLayoutCheck? = nil,
    requestMetrics: RequestMetrics = RequestMetrics()
) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    if let drain { router.add(middleware: DrainMiddleware(drain: drain)) }
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: RequestMetricsMiddleware(metrics: requestMetrics))
    router.add(middleware: ErrorMiddleware())
    router.addRoutes(HealthController(redis: store.redis, drain: drain, layoutCheck: layoutCheck).endpoints, atPath: "/health")
    router.addRoutes(OpenAPIController().endpoints)
    if let metrics {
        router.addRoutes(MetricsController(registry: metrics).endpoints)
    }
    router.group("/session-context/:tenant")
        .add(middleware: TokenAuthMiddleware(verifier: verifier, requirement: .management(scopes: configuration.manageScopes)))
        .addRoutes(ManagementController(
                store: store, verifier: verifier, bodyLimit: configuration.bodyLimit, maximumValueBytes: configuration.maxValueBytes
            ).endpoints)
        .addRoutes(
            EventsController(
                store: store,
                heartbeat: .seconds(configuration.sseHeartbeatSeconds),
                writeTimeout: .milliseconds(configuration.sseWriteTimeoutMilliseconds),
                maximumClients: configuration.sseMaximumClients,
                drain: drain
            ).endpoints
        )
    router.group("/session-context/:tenant")
        .add(middleware: TokenAuthMiddleware(verifier: verifier, requirement: .storefront))
        .addRoutes(StorefrontController(store: store, bodyLimit: configuration.bodyLimit, maximumValueBytes: configuration.maxValueBytes).endpoints)
    return router
}
