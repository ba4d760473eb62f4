import ArgumentParser
import Logging
import RedisClient
import SessionStore

/// The options of the commands that talk to the deployment's Redis directly (`events`, `migrate`).
struct RedisOptions: ParsableArguments {
    @Option(help: "Redis URL: redis://, rediss://, unix://, redis-sentinel:// or redis-cluster:// (env REDIS_URL; default redis://127.0.0.1:6379/0).")
    var redisURL: String?

    @Option(help: "The deployment's buckets per tenant, as its workers have them (env SESSION_CONTEXT_EVENT_BUCKETS; default 16).")
    var eventBuckets: Int?

    /// The layout the options name.
    func layout() throws -> SessionLayout {
        let buckets = try self.eventBuckets ?? Environment.int("SESSION_CONTEXT_EVENT_BUCKETS") ?? SessionLayout.defaultBuckets
        if let problem = SessionLayout.bucketCountProblem(buckets) { throw ValidationError(problem) }
        return SessionLayout(buckets: buckets)
    }

    /// Runs `body` with a running router to the Redis the options name; stops it afterwards.
    func withRouter<Value: Sendable>(_ body: @Sendable @escaping (RedisRouter) async throws -> Value) async throws -> Value {
        let topology = try RedisTopology(url: self.redisURL ?? Environment.value("REDIS_URL") ?? "redis://127.0.0.1:6379/0")
        var logger = Logger(label: "session-context")
        logger.logLevel = .warning
        let router = RedisRouter(
            topology: topology,
            pool: .init(endpoint: RedisEndpoint(address: .tcp(host: "127.0.0.1", port: 6379)), size: 2, commandTimeout: .seconds(10)),
            logger: logger
        )
        return try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask {
                try await router.run()
                return nil
            }
            group.addTask { try await body(router) }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let value = result { return value }
            }
            throw CancellationError()
        }
    }
}
