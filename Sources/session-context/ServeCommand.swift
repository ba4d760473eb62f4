import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import SessionContextApp
import SessionStore

/// `session-context serve`: runs one worker.
///
/// Every flag may also come from the environment variable named in its help; a flag wins over
/// the environment, the environment over the default.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a worker: the HTTP API on the given port, session contexts in Redis."
    )

    @Option(help: "Address to bind (env SESSION_CONTEXT_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "HTTP port (env SESSION_CONTEXT_PORT; default 8080).")
    var port: Int?

    @Option(help: "Redis URL: redis://[[user]:password@]host:port/db, rediss://…[?ca=FILE] for TLS, unix:///path, redis-sentinel://host:port,host:port/primaryName or redis-cluster://host:port,host:port (env REDIS_URL; default redis://127.0.0.1:6379/0).")
    var redisURL: String?

    @Option(help: "HS256 secret for bearer tokens (env SESSION_CONTEXT_JWT_SECRET).")
    var jwtSecret: String?

    @Option(help: "JWKS file with public keys for RS256/ES256/EdDSA tokens (env SESSION_CONTEXT_JWKS).")
    var jwks: String?

    @Option(help: "Idle seconds before an anonymous session expires (env SESSION_CONTEXT_ANONYMOUS_TTL; default 3600).")
    var anonymousTTL: Int?

    @Option(help: "Idle seconds before a customer session expires, 0 = never (env SESSION_CONTEXT_CUSTOMER_TTL; default 0).")
    var customerTTL: Int?

    @Option(help: "Largest request body in bytes; larger gets 413 (env SESSION_CONTEXT_BODY_LIMIT; default 65536).")
    var bodyLimit: Int?

    @Option(help: "Comma-separated scopes that grant the management side (env SESSION_CONTEXT_MANAGE_SCOPES; default session_context.context_manage,sessioncontext.context_manage).")
    var manageScopes: String?

    @Option(help: "Connections to Redis per worker (env SESSION_CONTEXT_REDIS_POOL_SIZE; default one per event loop, i.e. per core, at least 2).")
    var redisPoolSize: Int?

    @Option(help: "Milliseconds a Redis command may take before the request gets 503 (env SESSION_CONTEXT_REDIS_TIMEOUT_MS; default 1000).")
    var redisTimeout: Int?

    @Option(help: "Milliseconds connecting to Redis may take (env SESSION_CONTEXT_REDIS_CONNECT_TIMEOUT_MS; default 2000).")
    var redisConnectTimeout: Int?

    @Option(help: "Replicas that must have a change before it is acknowledged, 0 = the primary alone (env SESSION_CONTEXT_REDIS_REPLICA_ACKS; default 0).")
    var redisReplicaAcks: Int?

    @Option(help: "Milliseconds a write waits for those replicas before the request gets 503 (env SESSION_CONTEXT_REDIS_REPLICA_TIMEOUT_MS; default 200).")
    var redisReplicaTimeout: Int?

    @Option(help: "Approximate number of events kept per tenant, shared by its buckets' streams, 0 = no stream (env SESSION_CONTEXT_STREAM_MAX_LENGTH; default 100000).")
    var streamMaxLength: Int?

    @Option(help: "Buckets each tenant's sessions and event streams are spread over, the same for every worker; changing it needs `session-context migrate` (env SESSION_CONTEXT_EVENT_BUCKETS; default 16).")
    var eventBuckets: Int?

    @Option(help: "classic, sharded or both: the pub/sub channels events go to (env SESSION_CONTEXT_EVENT_CHANNELS; default sharded on a Redis Cluster, classic elsewhere).")
    var eventChannels: String?

    @Option(help: "Seconds between heartbeats on an idle event stream (env SESSION_CONTEXT_SSE_HEARTBEAT; default 15).")
    var sseHeartbeat: Int?

    @Option(help: "Milliseconds one event-stream write may stall before the client is dropped (env SESSION_CONTEXT_SSE_WRITE_TIMEOUT_MS; default 10000).")
    var sseWriteTimeout: Int?

    @Option(help: "Event-stream subscribers per worker at most (env SESSION_CONTEXT_SSE_MAX_CLIENTS; default 256).")
    var sseMaxClients: Int?

    @Option(help: "Seconds an idle HTTP connection stays open (env SESSION_CONTEXT_IDLE_TIMEOUT; default 60).")
    var idleTimeout: Int?

    @Option(help: "Most HTTP connections the worker holds at once; past it, it stops accepting until one closes (env SESSION_CONTEXT_MAX_CONNECTIONS; default: the open-file limit, raised to its maximum at start-up, less the files kept for Redis and event streams).")
    var maxConnections: Int?

    @Option(help: "Most attributes one session context may hold, 0 = no limit; past it a change is a 400 (env SESSION_CONTEXT_MAX_ATTRIBUTES; default 2000).")
    var maxAttributes: Int?

    @Option(help: "Largest attribute value in bytes of JSON text; larger is a 400 (env SESSION_CONTEXT_MAX_VALUE_BYTES; default 16384).")
    var maxValueBytes: Int?

    @Option(help: "Contexts held in the near cache of the management read, 0 = off (env SESSION_CONTEXT_NEAR_CACHE_SIZE; default 0).")
    var nearCacheSize: Int?

    @Option(help: "on or off: listen for expiries and publish expired events (env SESSION_CONTEXT_EXPIRY_EVENTS; default on).")
    var expiryEvents: String?

    @Option(help: "Seconds between sweeps of the customer indexes for entries of expired or ended sessions, 0 = never; one worker of the fleet sweeps per interval (env SESSION_CONTEXT_CUSTOMER_INDEX_SWEEP; default 3600).")
    var customerIndexSweep: Int?

    @Option(help: "This worker's id, the origin of its events (env SESSION_CONTEXT_INSTANCE_ID; default random).")
    var instanceId: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical (env SESSION_CONTEXT_LOG_LEVEL; default info).")
    var logLevel: String?

    @Option(help: "text or json: one JSON object per log line (env SESSION_CONTEXT_LOG_FORMAT; default text).")
    var logFormat: String?

    @Option(help: "Seconds to finish in-flight requests after SIGTERM before stopping hard (env SESSION_CONTEXT_SHUTDOWN_TIMEOUT; default 10).")
    var shutdownTimeout: Int?

    @Option(help: "Milliseconds a stopping worker keeps serving with /health/ready at 503 and Connection: close, so load balancers move its clients (env SESSION_CONTEXT_SHUTDOWN_DRAIN_MS; default 1000; 0: none).")
    var shutdownDrainMs: Int?

    func run() async throws {
        // A log written to a pipe whose reader is gone (a log shipper restarted) must not kill the
        // worker: the write fails with EPIPE and the lines are dropped (LogOutput). NIO's sockets
        // never raise the signal themselves.
        signal(SIGPIPE, SIG_IGN)
        var configuration = try self.resolve()
        // Every connection takes a file: a worker past its open-file limit can neither accept nor
        // reach Redis. Raise the limit as far as allowed, and hold HTTP connections below it.
        let openFiles = OpenFileLimit.raiseToMaximum()
        if let openFiles {
            switch configuration.maximumConnections(openFiles: openFiles.current) {
            case .success(let limit): configuration.maxConnections = limit
            case .failure(let error): throw ValidationError(error.description)
            }
        }
        let level = try self.resolvedLogLevel()
        let format = self.logFormat ?? Environment.value("SESSION_CONTEXT_LOG_FORMAT") ?? "text"
        guard format == "text" || format == "json" else { throw ValidationError("log-format must be text or json, not \(format)") }
        let shutdownTimeout = try self.shutdownTimeout ?? Environment.int("SESSION_CONTEXT_SHUTDOWN_TIMEOUT") ?? 10
        guard shutdownTimeout > 0 else { throw ValidationError("shutdown-timeout must be a positive number of seconds") }
        let drainMilliseconds = try self.shutdownDrainMs ?? Environment.int("SESSION_CONTEXT_SHUTDOWN_DRAIN_MS") ?? 1000
        guard drainMilliseconds >= 0, drainMilliseconds < shutdownTimeout * 1000 else {
            throw ValidationError("shutdown-drain-ms must be between 0 and the shutdown timeout (\(shutdownTimeout) s)")
        }
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == "json" ? JSONLogHandler(label: label) : TextLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var logger = Logger(label: "session-context")
        logger.logLevel = level
        var metadata = self.describe(configuration, shutdownTimeout: shutdownTimeout)
        metadata["shutdownDrainMs"] = "\(drainMilliseconds)"
        metadata["openFileLimit"] = "\(openFiles.map { "\($0.current)" } ?? "unknown")"
        metadata["maxConnections"] = "\(configuration.maxConnections.map { "\($0)" } ?? "unlimited")"
        metadata["globalExecutor"] = EventLoopGlobalExecutor.isInstalled ? "event-loops" : "default"
        logger.info("starting worker", metadata: metadata)
        let drain = ConnectionDrain(period: .milliseconds(drainMilliseconds))
        let app = try await buildApplication(configuration, logger: logger, metrics: registry, drain: drain)
        // Shut down in reverse order: the drain first, then the application and its server.
        var groupConfiguration = ServiceGroupConfiguration(services: [app, drain], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(shutdownTimeout)
        groupConfiguration.maximumCancellationDuration = .seconds(2)
        try await ServiceGroup(configuration: groupConfiguration).run()
        logger.info("worker stopped")
    }

    /// The effective configuration for the start-up line, secrets masked.
    private func describe(_ configuration: ServiceConfiguration, shutdownTimeout: Int) -> Logger.Metadata {
        [
            "host": "\(configuration.host)", "port": "\(configuration.port)",
            "redis": "\(self.maskedRedisURL(configuration.redisURL))",
            "anonymousTTL": "\(configuration.anonymousTTL)", "customerTTL": "\(configuration.customerTTL)",
            "jwtSecret": "\(configuration.jwtSecret == nil ? "unset" : "***")",
            "jwks": "\(configuration.jwks == nil ? "unset" : "set")",
            "bodyLimit": "\(configuration.bodyLimit)",
            "manageScopes": "\(configuration.manageScopes.sorted().joined(separator: ","))",
            "redisPoolSize": "\(configuration.redisPoolSize)",
            "redisTimeoutMs": "\(configuration.redisTimeoutMilliseconds)",
            "redisConnectTimeoutMs": "\(configuration.redisConnectTimeoutMilliseconds)",
            "redisReplicaAcks": "\(configuration.redisReplicaAcknowledgements)",
            "redisReplicaTimeoutMs": "\(configuration.redisReplicaTimeoutMilliseconds)",
            "shutdownTimeout": "\(shutdownTimeout)",
            "streamMaxLength": "\(configuration.streamMaxLength)",
            "eventBuckets": "\(configuration.eventBuckets)",
            "eventChannels": "\(configuration.eventChannels?.rawValue ?? "default")",
            "expiryEvents": "\(configuration.expiryEvents)",
            "nearCacheSize": "\(configuration.nearCacheSize)",
            "customerIndexSweep": "\(configuration.customerIndexSweepSeconds)",
            "maxAttributes": "\(configuration.maxAttributes)",
            "idleTimeout": "\(configuration.idleTimeoutSeconds)",
            "maxValueBytes": "\(configuration.maxValueBytes)",
            "instanceId": "\(configuration.instanceId)",
        ]
    }

    /// The effective configuration: flag, else environment, else default; invalid values stop start-up.
    func resolve() throws -> ServiceConfiguration {
        var configuration = ServiceConfiguration()
        configuration.host = self.host ?? Environment.value("SESSION_CONTEXT_HOST") ?? configuration.host
        configuration.port = try self.port ?? Environment.int("SESSION_CONTEXT_PORT") ?? configuration.port
        configuration.redisURL = self.redisURL ?? Environment.value("REDIS_URL") ?? configuration.redisURL
        configuration.jwtSecret = self.jwtSecret ?? Environment.value("SESSION_CONTEXT_JWT_SECRET")
        if let path = self.jwks ?? Environment.value("SESSION_CONTEXT_JWKS") {
            do {
                configuration.jwks = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ValidationError("jwks: cannot read \(path)")
            }
        }
        configuration.anonymousTTL = try self.anonymousTTL ?? Environment.int("SESSION_CONTEXT_ANONYMOUS_TTL") ?? configuration.anonymousTTL
        configuration.customerTTL = try self.customerTTL ?? Environment.int("SESSION_CONTEXT_CUSTOMER_TTL") ?? configuration.customerTTL
        configuration.bodyLimit = try self.bodyLimit ?? Environment.int("SESSION_CONTEXT_BODY_LIMIT") ?? configuration.bodyLimit
        if let scopes = self.manageScopes ?? Environment.value("SESSION_CONTEXT_MANAGE_SCOPES") {
            configuration.manageScopes = Set(scopes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        configuration.redisPoolSize = try self.redisPoolSize ?? Environment.int("SESSION_CONTEXT_REDIS_POOL_SIZE") ?? configuration.redisPoolSize
        configuration.redisTimeoutMilliseconds =
            try self.redisTimeout ?? Environment.int("SESSION_CONTEXT_REDIS_TIMEOUT_MS") ?? configuration.redisTimeoutMilliseconds
        configuration.redisConnectTimeoutMilliseconds =
            try self.redisConnectTimeout ?? Environment.int("SESSION_CONTEXT_REDIS_CONNECT_TIMEOUT_MS") ?? configuration.redisConnectTimeoutMilliseconds
        configuration.redisReplicaAcknowledgements =
            try self.redisReplicaAcks ?? Environment.int("SESSION_CONTEXT_REDIS_REPLICA_ACKS") ?? configuration.redisReplicaAcknowledgements
        configuration.redisReplicaTimeoutMilliseconds =
            try self.redisReplicaTimeout ?? Environment.int("SESSION_CONTEXT_REDIS_REPLICA_TIMEOUT_MS") ?? configuration.redisReplicaTimeoutMilliseconds
        configuration.streamMaxLength =
            try self.streamMaxLength ?? Environment.int("SESSION_CONTEXT_STREAM_MAX_LENGTH") ?? configuration.streamMaxLength
        configuration.eventBuckets = try self.eventBuckets ?? Environment.int("SESSION_CONTEXT_EVENT_BUCKETS") ?? configuration.eventBuckets
        if let channels = self.eventChannels ?? Environment.value("SESSION_CONTEXT_EVENT_CHANNELS") {
            guard let parsed = EventChannels(rawValue: channels) else {
                throw ValidationError("event-channels must be classic, sharded or both, not \(channels)")
            }
            configuration.eventChannels = parsed
        }
        configuration.sseHeartbeatSeconds = try self.sseHeartbeat ?? Environment.int("SESSION_CONTEXT_SSE_HEARTBEAT") ?? configuration.sseHeartbeatSeconds
        configuration.sseWriteTimeoutMilliseconds =
            try self.sseWriteTimeout ?? Environment.int("SESSION_CONTEXT_SSE_WRITE_TIMEOUT_MS") ?? configuration.sseWriteTimeoutMilliseconds
        configuration.sseMaximumClients = try self.sseMaxClients ?? Environment.int("SESSION_CONTEXT_SSE_MAX_CLIENTS") ?? configuration.sseMaximumClients
        configuration.idleTimeoutSeconds = try self.idleTimeout ?? Environment.int("SESSION_CONTEXT_IDLE_TIMEOUT") ?? configuration.idleTimeoutSeconds
        configuration.maxConnections = try self.maxConnections ?? Environment.int("SESSION_CONTEXT_MAX_CONNECTIONS")
        configuration.maxAttributes = try self.maxAttributes ?? Environment.int("SESSION_CONTEXT_MAX_ATTRIBUTES") ?? configuration.maxAttributes
        configuration.maxValueBytes = try self.maxValueBytes ?? Environment.int("SESSION_CONTEXT_MAX_VALUE_BYTES") ?? configuration.maxValueBytes
        configuration.nearCacheSize = try self.nearCacheSize ?? Environment.int("SESSION_CONTEXT_NEAR_CACHE_SIZE") ?? configuration.nearCacheSize
        configuration.customerIndexSweepSeconds =
            try self.customerIndexSweep ?? Environment.int("SESSION_CONTEXT_CUSTOMER_INDEX_SWEEP") ?? configuration.customerIndexSweepSeconds
        switch self.expiryEvents ?? Environment.value("SESSION_CONTEXT_EXPIRY_EVENTS") ?? "on" {
        case "on", "true", "1": configuration.expiryEvents = true
        case "off", "false", "0": configuration.expiryEvents = false
        case let other: throw ValidationError("expiry-events must be on or off, not \(other)")
        }
        configuration.instanceId = self.instanceId ?? Environment.value("SESSION_CONTEXT_INSTANCE_ID") ?? configuration.instanceId
        if let problem = configuration.validate() { throw ValidationError(problem) }
        return configuration
    }

    private func resolvedLogLevel() throws -> Logger.Level {
        let text = self.logLevel ?? Environment.value("SESSION_CONTEXT_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: text) else { throw ValidationError("log-level: \(text) is not a log level") }
        return level
    }

    private func maskedRedisURL(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@"), let scheme = url.range(of: "://") else { return url }
        return String(url[..<scheme.upperBound]) + "***" + String(url[at...])
    }
}
