import Foundation
import TestSupport
import NIOCore
import RedisClient
import SessionStore
import Synchronization
import Testing

/// Subscribes to a tenant's events and collects what arrives: the classic channel, or on the
/// shared Redis Cluster (where workers publish on the sharded channels by default) every
/// bucket's sharded channel, each on the node serving it.
struct EventCollector: Sendable {
    let subscriptions: [RedisSubscription]
    let messages: AsyncThrowingStream<RedisPubSubMessage, any Error>
    /// Whether the events come over several connections (so not in one order across them).
    var isSharded: Bool { self.subscriptions.count > 1 }

    /// `sharded`: whether `endpoint` is a node of a cluster whose workers publish on the sharded
    /// channels (nil: when it is the shared test cluster).
    static func subscribe(
        endpoint: RedisEndpoint, tenant: String, buckets: Int = SessionLayout.defaultBuckets, sharded: Bool? = nil
    ) async throws -> EventCollector {
        var subscriptions: [RedisSubscription] = []
        if sharded ?? (RedisServer.isSharedCluster && endpoint == (try? RedisServer.shared())) {
            let owners = try await Self.slotOwners(endpoint)
            var byNode: [RedisEndpoint: [String]] = [:]
            for bucket in 0..<buckets {
                let channel = SessionLayout.shardChannel(tenant: tenant, bucket: bucket)
                let owner = try #require(owners.first { $0.slots.contains(RedisHashSlot.of(channel)) }).endpoint
                byNode[owner, default: []].append(channel)
            }
            for (node, channels) in byNode {
                subscriptions.append(try await RedisSubscription.subscribe(to: node, shardChannels: channels))
            }
        } else {
            subscriptions.append(try await RedisSubscription.subscribe(to: endpoint, channels: [SessionLayout.classicChannel(tenant: tenant)]))
        }
        let (messages, continuation) = AsyncThrowingStream.makeStream(of: RedisPubSubMessage.self)
        let all = subscriptions
        let readers = all.map { subscription in
            Task {
                do {
                    for try await message in subscription { continuation.yield(message) }
                } catch {
                    continuation.finish(throwing: error)
                }
            }
        }
        continuation.onTermination = { _ in
            for reader in readers { reader.cancel() }
            for subscription in all { subscription.cancel() }
        }
        return EventCollector(subscriptions: subscriptions, messages: messages)
    }

    /// Each primary's slot ranges, from `CLUSTER SLOTS`.
    private static func slotOwners(_ endpoint: RedisEndpoint) async throws -> [(slots: ClosedRange<Int>, endpoint: RedisEndpoint)] {
        let reply = try await RedisProbe(endpoint: endpoint).send(RESPCommand("CLUSTER", "SLOTS"))
        return (reply.array ?? []).compactMap { range in
            guard let parts = range.array, parts.count >= 3, let first = parts[0].int, let last = parts[1].int,
                let node = parts[2].array, node.count >= 2, let port = node[1].int
            else { return nil }
            return (Int(first)...Int(last), RedisEndpoint(address: .tcp(host: "127.0.0.1", port: Int(port))))
        }
    }

    /// Reads events until one satisfies `last` (which is included), or fails after `timeout`.
    /// Over several connections, what comes within a moment after it is included too: events of
    /// other buckets made before it may arrive after it.
    func collect(
        until last: @escaping @Sendable (JSONValue) -> Bool,
        timeout: Duration = .seconds(5),
        onEvent: @escaping @Sendable (JSONValue) -> Void = { _ in }
    ) async throws -> [JSONValue] {
        let grace: Duration = self.isSharded ? .milliseconds(300) : .zero
        let collected = Mutex<(events: [JSONValue], closed: Bool)>(([], false))
        let messages = self.messages
        let reader = Task {
            for try await message in messages {
                let event = try JSONParser().parse(message.payload.readableBytesView)
                collected.withLock { $0.events.append(event) }
                onEvent(event)
                if last(event) {
                    collected.withLock { $0.closed = true }
                    if grace == .zero { return }
                }
            }
        }
        defer { reader.cancel() }
        let deadline = ContinuousClock.now + timeout
        while !collected.withLock({ $0.closed }) {
            guard ContinuousClock.now < deadline else {
                for subscription in self.subscriptions { await subscription.close() }
                throw TestSetupError("no closing event within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        try await Task.sleep(for: grace)
        for subscription in self.subscriptions { await subscription.close() }
        return collected.withLock { $0.events }
    }
}
