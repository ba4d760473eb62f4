extension RedisSubscription {
    /// Keeps a subscription up until the task is cancelled: asks `endpoint` where to subscribe (a
    /// server that may move, under Sentinel or in a cluster, is looked up again on every attempt),
    /// subscribes, hands every message to
    /// `onMessage`, and when the connection drops (or cannot be made) reports it to `onDrop` and
    /// subscribes again after a pause that doubles from `minimumBackoff` up to `maximumBackoff`.
    /// `onSubscribed` runs each time Redis has confirmed the subscription.
    public static func keepSubscribed(
        to endpoint: @Sendable () async throws(RedisError) -> RedisEndpoint,
        channels: [String] = [],
        patterns: [String] = [],
        minimumBackoff: Duration = .milliseconds(50),
        maximumBackoff: Duration = .seconds(2),
        onSubscribed: @Sendable () async -> Void = {},
        onDrop: @Sendable (any Error) async -> Void = { _ in },
        onMessage: @Sendable (RedisPubSubMessage) async -> Void
    ) async {
        var backoff = minimumBackoff
        while !Task.isCancelled {
            do {
                let subscription = try await RedisSubscription.subscribe(to: try await endpoint(), channels: channels, patterns: patterns)
                await onSubscribed()
                backoff = minimumBackoff
                for try await message in subscription {
                    await onMessage(message)
                }
                if Task.isCancelled { return }
                await onDrop(RedisError(.connectionClosed, "the subscription ended"))
            } catch {
                if Task.isCancelled { return }
                await onDrop(error)
            }
            try? await Task.sleep(for: backoff)
            backoff = Swift.min(backoff * 2, maximumBackoff)
        }
    }
}
