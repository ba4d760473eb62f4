import Logging
import RedisClient
import SessionContextEvents
import SessionStore

/// Runs `body` with a running router to the Redis at `url` (once it is connected, waiting up to
/// 10 s), stopped afterwards.
func withRouter<Value>(url: String, _ body: (RedisRouter) async throws -> Value) async throws -> Value {
    let router = RedisRouter(
        topology: try RedisTopology(url: url),
        pool: .init(endpoint: RedisEndpoint(address: .tcp(host: "127.0.0.1", port: 6379)), size: 2),
        logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    )
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await router.run() }
        defer { group.cancelAll() }
        let deadline = ContinuousClock.now + .seconds(10)
        while !router.isConnected, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        return try await body(router)
    }
}

extension Fixture {
    /// Runs `body` with a reader of this tenant's event streams, in the worker's layout.
    func withEventStream<Value>(blockTime: Duration = .seconds(5), _ body: (SessionEventStream) async throws -> Value) async throws -> Value {
        try await withRouter(url: self.configuration.redisURL) { router in
            try await body(
                SessionEventStream(
                    redis: router, tenant: self.tenant, layout: SessionLayout(buckets: self.configuration.eventBuckets), blockTime: blockTime
                )
            )
        }
    }
}

extension SessionEventStream {
    /// The stream of the bucket of session `sessionId`.
    func key(of sessionId: String) -> String { self.keys[self.layout.bucket(of: sessionId)] }

    /// How many events `consumer` of `group` is handed within `duration` (its reading is then cancelled).
    func deliveries(group: String, consumer: String, within duration: Duration) async throws -> Int {
        try await withThrowingTaskGroup(of: Int.self) { tasks in
            tasks.addTask {
                var count = 0
                for try await _ in self.consume(group: group, consumer: consumer) { count += 1 }
                return count
            }
            try await Task.sleep(for: duration)
            tasks.cancelAll()
            return try await tasks.next() ?? 0
        }
    }

    /// The events pending in `group`, summed over the buckets.
    func pendingCount(_ group: String, _ probe: RedisProbe) async throws -> Int64 {
        var total: Int64 = 0
        for key in self.keys {
            total += try await probe.send(RESPCommand("XPENDING", key, group)).array?.first?.int ?? 0
        }
        return total
    }
}
