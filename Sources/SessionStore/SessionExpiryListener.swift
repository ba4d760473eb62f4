import Logging
import NIOCore
import RedisClient
import ServiceLifecycle

/// Turns Redis's expiries of session contexts into `expired` events.
///
/// Listens to the keyevent notifications of expired keys (it enables `notify-keyspace-events Ex`
/// at start-up, keeping flags already set; where `CONFIG` is not allowed, as on some managed
/// Redis offerings, enable it there and this logs a warning). Every worker listens; for each
/// expiry the first worker to claim it publishes the one event. Re-subscribes with backoff when
/// the subscription drops; expiries in that gap get no event (pub/sub does not replay).
public struct SessionExpiryListener: Service {
    let store: SessionStore
    let logger: Logger
    /// How often the listener checks whether the set of primaries changed (a failover, a new shard).
    let topologyCheckInterval: Duration

    /// A listener that announces expiries through `store`, reading notifications from every
    /// primary of the store's Redis (one server, the Sentinel primary, or each cluster primary:
    /// keyspace notifications are local to the node where the key expired).
    public init(store: SessionStore, logger: Logger, topologyCheckInterval: Duration = .seconds(1)) {
        self.store = store
        self.logger = logger
        self.topologyCheckInterval = topologyCheckInterval
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let primaries: [RedisEndpoint]
                do {
                    primaries = try await self.store.redis.primaries()
                } catch {
                    self.logger.warning("expiry notifications unavailable: no primary known, retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .milliseconds(500))
                    continue
                }
                // One subscription per primary, until the set of primaries changes.
                await withTaskGroup(of: Void.self) { group in
                    for primary in primaries {
                        group.addTask { await self.listen(to: primary) }
                    }
                    group.addTask { await self.waitForChange(from: primaries) }
                    await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    /// Returns when the primaries are no longer `primaries` (or the task is cancelled).
    private func waitForChange(from primaries: [RedisEndpoint]) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: self.topologyCheckInterval)
            if let current = try? await self.store.redis.primaries(), Set(current) != Set(primaries) {
                self.logger.info("redis primaries changed: resubscribing to expiry notifications")
                return
            }
        }
    }

    /// The channel Redis announces expired keys of `server`'s database on.
    public static func channel(_ server: RedisEndpoint) -> String { "__keyevent@\(server.database)__:expired" }

    private func listen(to server: RedisEndpoint) async {
        await RedisSubscription.keepSubscribed(
            to: { () async throws(RedisError) in server },
            channels: [Self.channel(server)],
            minimumBackoff: .milliseconds(100),
            onSubscribed: { await self.enableNotifications(on: server) },
            onDrop: { error in
                self.logger.warning("expiry notifications unavailable, retrying", metadata: ["error": "\(error)"])
            },
            onMessage: { message in
                guard let address = SessionAddress(key: String(buffer: message.payload)) else { return }
                do {
                    _ = try await self.store.announceExpiry(address)
                } catch {
                    self.logger.warning("could not announce an expiry", metadata: ["error": "\(error)"])
                }
            }
        )
    }

    /// Makes sure `server` sends keyevent notifications for expired keys (checked on every
    /// subscription, so a Redis that restarted without them gets them back).
    @discardableResult
    private func enableNotifications(on server: RedisEndpoint) async -> Bool {
        do {
            let reply = try await self.store.redis.send(RESPCommand("CONFIG", "GET", "notify-keyspace-events"), to: server)
            let current = reply.array?.last?.string ?? ""
            var flags = current
            if !flags.contains("E") { flags += "E" }
            if !flags.contains("x") && !flags.contains("A") { flags += "x" }
            if flags != current {
                _ = try await self.store.redis.send(RESPCommand("CONFIG", "SET", "notify-keyspace-events", flags), to: server)
                self.logger.info("enabled keyevent notifications", metadata: ["notify-keyspace-events": "\(flags)", "server": "\(server)"])
            }
            return true
        } catch where error.code == .serverError {
            self.logger.warning(
                "cannot enable notify-keyspace-events (CONFIG refused): set it to include Ex on the server, or expiries get no event",
                metadata: ["error": "\(error)"]
            )
            return true
        } catch {
            return false
        }
    }
}
