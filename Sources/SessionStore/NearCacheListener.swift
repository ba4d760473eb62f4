import Logging
import NIOCore
import RedisClient
import ServiceLifecycle

/// Keeps a ``NearCache`` fresh: pattern-subscribes to every tenant's event channel and drops the
/// entry of each event's session. While the subscription is down the cache is off (empty and
/// bypassed); it goes live again, empty, once Redis has confirmed the new subscription.
public struct NearCacheListener: Service {
    let cache: NearCache
    let redis: RedisRouter
    let layout: SessionLayout
    let logger: Logger

    /// A listener for `cache` reading events through `redis` (on a cluster, from any one node: the
    /// cluster passes every `PUBLISH` to all nodes). It needs events on the classic channels
    /// (``EventChannels/includesClassic``): there is no pattern subscription to sharded channels.
    public init(cache: NearCache, redis: RedisRouter, layout: SessionLayout, logger: Logger) {
        self.cache = cache
        self.redis = redis
        self.layout = layout
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await RedisSubscription.keepSubscribed(
                to: { () async throws(RedisError) in try await self.redis.subscriptionEndpoint() },
                patterns: ["session-context:*:events"],
                maximumBackoff: .seconds(1),
                onSubscribed: { self.cache.setLive(true) },
                onDrop: { error in
                    self.cache.setLive(false)
                    self.logger.warning("near cache off: event subscription lost, resubscribing", metadata: ["error": "\(error)"])
                },
                onMessage: { message in
                    if let address = Self.address(layout: self.layout, of: message) { self.cache.invalidate(address) }
                }
            )
        }
        self.cache.setLive(false)
    }

    /// The session an event is about: the tenant from the channel, the session id from the payload.
    static func address(layout: SessionLayout, of message: RedisPubSubMessage) -> SessionAddress? {
        let channel = message.channel.utf8
        let prefix = "session-context:".utf8, suffix = ":events".utf8
        guard channel.count > prefix.count + suffix.count, channel.starts(with: prefix),
            channel.suffix(suffix.count).elementsEqual(suffix),
            let tenant = String(channel.dropFirst(prefix.count).dropLast(suffix.count)),
            let sessionId = try? JSONParser().stringMember("sessionId", of: message.payload.readableBytesView)
        else { return nil }
        return layout.address(tenant: tenant, sessionId: sessionId)
    }
}
