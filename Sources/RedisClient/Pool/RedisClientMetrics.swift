import Metrics

/// The Redis client's metrics, created once: commands, their latency and errors, connections and reconnects.
struct RedisClientMetrics: Sendable {
    private let commands = Counter(label: "redis_commands_total")
    private let latency = Metrics.Timer(label: "redis_command_duration_seconds", preferredDisplayUnit: .seconds)
    private let reconnects = Counter(label: "redis_reconnects_total")
    private let connections = Gauge(label: "redis_pool_connections_up")

    func recordSuccess(since start: ContinuousClock.Instant) {
        self.commands.increment()
        self.latency.recordInterval(since: start)
    }

    func recordFailure(_ error: RedisError, since start: ContinuousClock.Instant) {
        self.commands.increment()
        self.latency.recordInterval(since: start)
        Counter(label: "redis_command_errors_total", dimensions: [("code", error.code.description)]).increment()
    }

    func reconnect() { self.reconnects.increment() }

    func connectionsUp(_ count: Int) { self.connections.record(count) }
}

extension Metrics.Timer {
    /// Records the time elapsed since `start`.
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        self.recordNanoseconds(nanoseconds)
    }
}
