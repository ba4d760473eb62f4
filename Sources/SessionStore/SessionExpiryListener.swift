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
    let endpoint: RedisEndpoint
    let logger: Logger

    /// A listener that announces expiries through `store`, reading notifications from `endpoint`.
    public init(store: SessionStore, endpoint: RedisEndpoint, logger: Logger) {
        self.store = store
        self.endpoint = endpoint
        self.logger = logger
    }

    /// The channel Redis announces expired keys of the endpoint's database on.
    var channel: String { "__keyevent@\(self.endpoint.database)__:expired" }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await RedisSubscription.keepSubscribed(
                to: self.endpoint,
                channels: [self.channel],
                minimumBackoff: .milliseconds(100),
                onSubscribed: { await self.enableNotifications() },
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
    }

    /// Makes sure Redis sends keyevent notifications for expired keys (checked on every
    /// subscription, so a Redis that restarted without them gets them back).
    @discardableResult
    private func enableNotifications() async -> Bool {
        do {
            let reply = try await self.store.redis.send(RESPCommand("CONFIG", "GET", "notify-keyspace-events"))
            let current = reply.array?.last?.string ?? ""
            var flags = current
            if !flags.contains("E") { flags += "E" }
            if !flags.contains("x") && !flags.contains("A") { flags += "x" }
            if flags != current {
                _ = try await self.store.redis.send(RESPCommand("CONFIG", "SET", "notify-keyspace-events", flags))
                self.logger.info("enabled keyevent notifications", metadata: ["notify-keyspace-events": "\(flags)"])
            }
            return true
        } catch let error as RedisError where error.code == .serverError {
            self.logger.warning(
                "cannot enable notify-keyspace-events (CONFIG refused): set it to include Ex on the server, or expiries get no event",
                metadata: ["error": "\(error.message)"]
            )
            return true
        } catch {
            return false
        }
    }
}
