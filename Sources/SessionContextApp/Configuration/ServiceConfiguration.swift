import Logging
import RedisClient
import SessionStore

/// Everything a worker is configured with. The command line reads each from a flag or an
/// environment variable (see `session-context serve --help` and the README's table).
public struct ServiceConfiguration: Sendable {
    /// The address the HTTP server binds to.
    public var host: String = "127.0.0.1"
    /// The HTTP port (0 picks a free one).
    public var port: Int = 8080
    /// The Redis URL (`redis://[[user]:password@]host:port/db` or `unix:///path`).
    public var redisURL: String = "redis://127.0.0.1:6379/0"
    /// The HS256 secret for bearer tokens.
    public var jwtSecret: String?
    /// A JWKS document with the public keys for RS256/ES256/EdDSA tokens.
    public var jwks: String?
    /// Idle time of anonymous sessions, seconds.
    public var anonymousTTL: Int = 3600
    /// Idle time of customer sessions, seconds; 0 = never expire.
    public var customerTTL: Int = 0
    /// The largest request body accepted, bytes.
    public var bodyLimit: Int = 64 * 1024
    /// The scopes that grant the management side.
    public var manageScopes: Set<String> = ["session_context.context_manage", "sessioncontext.context_manage"]
    /// Connections in the Redis pool. By default one per event loop (at least two): a request's
    /// command then always finds a connection on its own loop (see `RedisConnectionPool`).
    public var redisPoolSize: Int = RedisConnectionPool.Configuration.defaultSize
    /// How long a Redis command may take before the request gets a 503, milliseconds.
    public var redisTimeoutMilliseconds: Int = 1000
    /// How long connecting to Redis may take, milliseconds.
    public var redisConnectTimeoutMilliseconds: Int = 2000
    /// How many replicas must have a change before it is acknowledged (Redis `WAIT`, in the same
    /// round trip as the write); 0 acknowledges once the primary has it.
    public var redisReplicaAcknowledgements: Int = 0
    /// How long a write waits for those replicas before the request gets 503, milliseconds.
    public var redisReplicaTimeoutMilliseconds: Int = 200
    /// The approximate number of events kept per tenant, over all its buckets' streams; 0 = no stream.
    public var streamMaxLength: Int = 100_000
    /// How many buckets each tenant's sessions (and event streams) are spread over: the same for
    /// every worker of a deployment, recorded in Redis (see `SessionLayout`).
    public var eventBuckets: Int = SessionLayout.defaultBuckets
    /// The pub/sub channels events are published on; nil: sharded on a Redis Cluster, classic elsewhere.
    public var eventChannels: EventChannels?
    /// Seconds between heartbeat comments on an idle event stream (SSE).
    public var sseHeartbeatSeconds: Int = 15
    /// Milliseconds one SSE write may stall before the client is dropped as too slow.
    public var sseWriteTimeoutMilliseconds: Int = 10_000
    /// Event-stream subscribers one worker serves at most.
    public var sseMaximumClients: Int = 256
    /// Seconds an idle HTTP connection stays open.
    public var idleTimeoutSeconds: Int = 60
    /// The most HTTP connections the worker holds at once; past it, it stops accepting until one
    /// closes (new clients wait in the listen backlog). Nil: derived from the open-file limit
    /// (``maximumConnections(openFiles:)``).
    public var maxConnections: Int?
    /// The most attributes one context may hold; 0 = no limit.
    public var maxAttributes: Int = 2000
    /// The largest attribute value, bytes of JSON text.
    public var maxValueBytes: Int = 16 * 1024
    /// Contexts the near cache of the management read holds; 0 = no near cache.
    public var nearCacheSize: Int = 0
    /// Whether this worker listens for expiries and publishes `expired` events.
    public var expiryEvents: Bool = true
    /// Seconds between sweeps of the customer indexes (see `CustomerIndexSweeper`); 0 = never.
    public var customerIndexSweepSeconds: Int = 3600
    /// The one tenant whose customer indexes the sweep visits, with a claim of its own; nil for
    /// all tenants. Not a command-line setting: tests sharing one Redis set it to their tenant.
    public var customerIndexSweepTenant: String?
    /// This worker's id: the `origin` of its events.
    public var instanceId: String = ServiceConfiguration.makeInstanceId()

    /// The longest interval between customer-index sweeps, seconds: 30 days.
    public static let maximumSweepSeconds = 30 * 86400

    /// The longest idle time, seconds: 100 years. Redis refuses an EXPIRE past its own bound, and
    /// a script must not fail after its first write.
    public static let maximumTTLSeconds = 100 * 365 * 86400

    /// The shortest HS256 secret accepted: as long as the hash output.
    public static let minimumSecretBytes = 32

    /// The defaults.
    public init() {}

    /// Open files a worker needs besides its HTTP connections: the Redis pool, one Redis
    /// connection per event-stream subscriber, the listeners' subscriptions, per-node pools on a
    /// cluster, the listening socket, logs and the runtime's own descriptors.
    public var reservedFiles: Int {
        self.redisPoolSize + self.sseMaximumClients + 64
    }

    /// The connection limit in force under an open-file limit of `openFiles`: the configured one,
    /// else what is left once ``reservedFiles`` are set aside (at most 65,536); or why none can be.
    public func maximumConnections(openFiles: Int) -> Result<Int, ConfigurationError> {
        let left = openFiles - self.reservedFiles
        let advice = "the worker keeps \(self.reservedFiles) files for Redis and event streams (raise the limit, e.g. ulimit -n"
        if let configured = self.maxConnections {
            guard configured <= left else {
                return .failure(ConfigurationError(
                    "max-connections \(configured) does not fit the open-file limit \(openFiles): \(advice), or lower max-connections or sse-max-clients)"
                ))
            }
            return .success(configured)
        }
        guard left >= 1 else {
            return .failure(ConfigurationError(
                "the open-file limit \(openFiles) leaves no room for HTTP connections: \(advice), or lower sse-max-clients)"
            ))
        }
        return .success(Swift.min(left, 65_536))
    }

    /// A configuration that cannot work, with the reason.
    public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
        /// What is wrong, for the operator.
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Checks the values; returns a message naming the first bad one.
    public func validate() -> String? {
        if !(0...65535).contains(self.port) { return "port must be 0 to 65535" }
        if self.anonymousTTL <= 0 { return "anonymous-ttl must be a positive number of seconds" }
        if self.customerTTL < 0 { return "customer-ttl must be 0 (never) or a positive number of seconds" }
        if self.bodyLimit < 1024 { return "body-limit must be at least 1024 bytes" }
        if self.redisPoolSize < 1 || self.redisPoolSize > 64 { return "redis-pool-size must be 1 to 64" }
        if self.redisTimeoutMilliseconds < 1 { return "redis-timeout must be a positive number of milliseconds" }
        if self.redisConnectTimeoutMilliseconds < 1 { return "redis-connect-timeout must be a positive number of milliseconds" }
        if self.redisReplicaAcknowledgements < 0 { return "redis-replica-acks must be 0 or more" }
        if self.redisReplicaTimeoutMilliseconds < 1 || self.redisReplicaTimeoutMilliseconds >= self.redisTimeoutMilliseconds {
            return "redis-replica-timeout must be a positive number of milliseconds below redis-timeout"
        }
        if (self.jwtSecret ?? "").isEmpty && self.jwks == nil { return "set jwt-secret or jwks: no token could be verified" }
        if let secret = self.jwtSecret, !secret.isEmpty, secret.utf8.count < Self.minimumSecretBytes {
            return "jwt-secret must be at least \(Self.minimumSecretBytes) bytes (HS256 needs a 256-bit key)"
        }
        if self.sseHeartbeatSeconds < 1 { return "sse-heartbeat must be at least 1 second" }
        if self.sseWriteTimeoutMilliseconds < 100 { return "sse-write-timeout must be at least 100 milliseconds" }
        if self.sseMaximumClients < 1 { return "sse-max-clients must be at least 1" }
        if self.idleTimeoutSeconds < 1 { return "idle-timeout must be at least 1 second" }
        if let connections = self.maxConnections, connections < 1 { return "max-connections must be at least 1" }
        if self.anonymousTTL > Self.maximumTTLSeconds || self.customerTTL > Self.maximumTTLSeconds {
            return "anonymous-ttl and customer-ttl must be at most \(Self.maximumTTLSeconds) seconds (100 years)"
        }
        if self.maxAttributes < 0 { return "max-attributes must be 0 (no limit) or positive" }
        if self.maxValueBytes < 16 { return "max-value-bytes must be at least 16" }
        if self.nearCacheSize < 0 { return "near-cache-size must be 0 (off) or positive" }
        if !(0...Self.maximumSweepSeconds).contains(self.customerIndexSweepSeconds) {
            return "customer-index-sweep must be 0 (never) or a number of seconds up to \(Self.maximumSweepSeconds) (30 days)"
        }
        if self.streamMaxLength < 0 { return "stream-max-length must be 0 (no stream) or positive" }
        if let problem = SessionLayout.bucketCountProblem(self.eventBuckets) { return problem }
        if self.nearCacheSize > 0, self.eventChannels == .sharded {
            return "near-cache-size needs events on the classic channels (event-channels classic or both): it listens to them to drop changed contexts"
        }
        if self.manageScopes.isEmpty { return "manage-scopes must name at least one scope" }
        return nil
    }

    /// The pub/sub channels to publish on, on a cluster or not.
    public func resolvedEventChannels(cluster: Bool) -> EventChannels {
        if let channels = self.eventChannels { return channels }
        // The near cache listens to the classic channels: a worker with one keeps them on.
        if self.nearCacheSize > 0 { return cluster ? .both : .classic }
        return EventChannels.default(cluster: cluster)
    }

    /// A random instance id.
    public static func makeInstanceId() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return "w-" + String((0..<10).map { _ in alphabet.randomElement()! })
    }
}
