import Logging
import Metrics
import NIOCore
import RedisClient
import ServiceLifecycle
import Synchronization

/// Turns Redis's expiries of session contexts into `expired` events.
///
/// Listens to the keyevent notifications of expired keys (it enables `notify-keyspace-events Ex`
/// at start-up and again on every reconnect and every 10 s, keeping flags already set, so a Redis
/// that restarted without it gets it back; where `CONFIG` is not allowed, as on some managed
/// Redis offerings, enable it there and this logs a warning). Every worker listens; for each
/// expiry the first worker to claim it publishes the one event. Re-subscribes with backoff when
/// the subscription drops; expiries in that gap get no event (pub/sub does not replay).
public struct SessionExpiryListener: Service {
    let store: SessionStore
    let logger: Logger
    /// How often the listener checks whether the set of primaries changed (a failover, a new shard).
    let topologyCheckInterval: Duration

    /// How often the listener checks that each primary still sends expired-key notifications.
    let notificationCheckInterval: Duration
    /// How soon it checks again after a check failed.
    let notificationRetryInterval: Duration

    /// A listener that announces expiries through `store`, reading notifications from every
    /// primary of the store's Redis (one server, the Sentinel primary, or each cluster primary:
    /// keyspace notifications are local to the node where the key expired). It checks each
    /// primary's notification setting every `notificationCheckInterval`, and every
    /// `notificationRetryInterval` while it cannot.
    public init(
        store: SessionStore,
        logger: Logger,
        topologyCheckInterval: Duration = .seconds(1),
        notificationCheckInterval: Duration = .seconds(10),
        notificationRetryInterval: Duration = .milliseconds(250)
    ) {
        self.store = store
        self.logger = logger
        self.topologyCheckInterval = topologyCheckInterval
        self.notificationCheckInterval = notificationCheckInterval
        self.notificationRetryInterval = notificationRetryInterval
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
        let resubscribed = RecheckRequest()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.keepNotificationsEnabled(on: server, recheck: resubscribed) }
            group.addTask { await self.keepSubscribed(to: server, onSubscribed: resubscribed.request) }
            await group.next()
            group.cancelAll()
        }
    }

    private func keepSubscribed(to server: RedisEndpoint, onSubscribed: @escaping @Sendable () -> Void) async {
        await RedisSubscription.keepSubscribed(
            to: { () async throws(RedisError) in server },
            channels: [Self.channel(server)],
            minimumBackoff: .milliseconds(100),
            onSubscribed: onSubscribed,
            onDrop: { error in
                self.logger.warning("expiry notifications unavailable, retrying", metadata: ["error": "\(error)"])
            },
            onMessage: { message in
                guard let address = SessionAddress(key: String(buffer: message.payload), layout: self.store.layout) else { return }
                do {
                    _ = try await self.store.announceExpiry(address)
                } catch {
                    self.logger.warning("could not announce an expiry", metadata: ["error": "\(error)"])
                }
            }
        )
    }

    /// Makes sure `server` keeps sending expired-key notifications: checks at once, whenever
    /// `recheck` is requested (each time the subscription is made again: a Redis that restarted
    /// lost the setting), every ``notificationCheckInterval`` (another client may have changed it),
    /// and every ``notificationRetryInterval`` while the server cannot be asked (the pool's first
    /// commands after a restart may fail). The gauge `session_context_expiry_notifications{server}` is 1
    /// while they are known to be on; every change of that state is logged once.
    private func keepNotificationsEnabled(on server: RedisEndpoint, recheck: RecheckRequest) async {
        let gauge = Gauge(label: "session_context_expiry_notifications", dimensions: [("server", "\(server)")])
        var lastState: NotificationState?
        while !Task.isCancelled {
            recheck.clear()
            let state = await self.enableNotifications(on: server)
            gauge.record(state == .on ? 1 : 0)
            if state != lastState {
                switch state {
                case .on where lastState != nil:
                    self.logger.info("keyevent notifications for expired keys are on again", metadata: ["server": "\(server)"])
                case .on: break
                case .refused:
                    self.logger.warning(
                        "cannot enable notify-keyspace-events (CONFIG refused): set it to include Ex on the server, or expiries get no event",
                        metadata: ["server": "\(server)"]
                    )
                case .unknown(let error):
                    self.logger.warning(
                        "cannot check notify-keyspace-events: expiries may get no event until it is checked again",
                        metadata: ["server": "\(server)", "error": "\(error)"]
                    )
                }
                lastState = state
            }
            // Wait out the interval in retry-sized steps, so a recheck request is served soon. A
            // server that could not be asked is asked again soon; one that answered (on, or
            // refusing CONFIG) at the check interval.
            var interval = self.notificationCheckInterval
            if case .unknown = state { interval = self.notificationRetryInterval }
            let next = ContinuousClock.now + interval
            while !Task.isCancelled, ContinuousClock.now < next, !recheck.isRequested {
                try? await Task.sleep(for: self.notificationRetryInterval)
            }
        }
    }

    /// A request to check a server's notification setting before the interval is over.
    final class RecheckRequest: Sendable {
        private let requested = Mutex(false)
        /// Asks for a check.
        @Sendable func request() { self.requested.withLock { $0 = true } }
        /// Whether a check was asked for since the last ``clear()``.
        var isRequested: Bool { self.requested.withLock { $0 } }
        /// Forgets the requests so far (a check is starting).
        func clear() { self.requested.withLock { $0 = false } }
    }

    /// What a check of a server's notification setting found.
    enum NotificationState: Equatable {
        /// The server sends expired-key notifications (they were on, or were turned on now).
        case on
        /// The server refused `CONFIG` (some managed offerings): an operator must set them.
        case refused
        /// The server could not be asked (for a description of the error).
        case unknown(String)
    }

    /// Makes sure `server` sends keyevent notifications for expired keys, keeping flags already set.
    func enableNotifications(on server: RedisEndpoint) async -> NotificationState {
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
            return .on
        } catch where error.code == .serverError && !error.isUnavailable {
            return .refused
        } catch {
            return .unknown("\(error)")
        }
    }
}
