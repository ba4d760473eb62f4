import Logging
import RedisClient
import ServiceLifecycle

/// Removes, at intervals, the customer-index entries whose session is gone (it expired, or was
/// deleted within the grace of its PUT) or belongs to another customer now.
///
/// Readers of an index prune it as they go (rule 3 of ``CustomerIndex``), but the index of a
/// customer nobody looks up again would keep the entries of that customer's expired sessions for
/// good: an index is in its own cluster slot, so no script can drop an entry when its session
/// expires. Once per interval, one worker of the fleet (the one that claims the pass in Redis)
/// walks every index on every primary with `SCAN` and reads it as a lookup does, which removes
/// what is out of date under the same rules (never an entry younger than the grace).
public struct CustomerIndexSweeper: Service {
    let store: SessionStore
    let interval: Duration
    let logger: Logger
    /// The `SCAN` pattern of the indexes this sweeper visits.
    let pattern: String
    /// Index keys asked for per `SCAN` call.
    let batch: Int
    /// The pause between two `SCAN` calls, so that a large keyspace is walked at a bounded pace.
    let pause: Duration

    /// The key a worker sets to claim one pass; it lasts an interval, so the fleet makes one pass per interval.
    static let claimKey = "sc:sweep:customer-index"

    /// A sweeper that makes a pass every `interval` through `store`; `tenant` limits it to one
    /// tenant's indexes (all tenants when nil).
    public init(
        store: SessionStore,
        interval: Duration,
        logger: Logger,
        tenant: String? = nil,
        batch: Int = 200,
        pause: Duration = .milliseconds(10)
    ) {
        self.store = store
        self.interval = interval
        self.logger = logger
        self.pattern = CustomerIndex.keyPattern(tenant: tenant)
        self.batch = batch
        self.pause = pause
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await Task.sleep(for: self.interval) } catch { return }
                do throws(RedisError) {
                    guard try await self.claim() else { continue }
                    let start = ContinuousClock.now
                    let visited = try await self.sweep()
                    self.logger.info(
                        "customer indexes swept",
                        metadata: ["indexes": "\(visited)", "duration": "\(ContinuousClock.now - start)"]
                    )
                } catch {
                    self.logger.warning("customer index sweep stopped, next one in an interval", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// Claims this interval's pass for this worker; false when another worker has it.
    func claim() async throws(RedisError) -> Bool {
        let reply = try await self.store.redis.send(
            RESPCommand("SET", Self.claimKey, self.store.configuration.origin, "NX", "PX", String(max(1, self.interval.milliseconds))),
            key: Self.claimKey
        )
        return reply.string == "OK"
    }

    /// One pass, whoever holds the claim: reads every index on every primary as a lookup does,
    /// which removes its out-of-date entries. Returns how many indexes it visited.
    public func sweep() async throws(RedisError) -> Int {
        var visited = 0
        for primary in try await self.store.redis.primaries() {
            var cursor = "0"
            repeat {
                let reply = try await self.store.redis.send(
                    RESPCommand("SCAN", cursor, "MATCH", self.pattern, "COUNT", String(self.batch), "TYPE", "zset"),
                    to: primary
                )
                guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let keys = parts[1].array else {
                    throw SessionStore.unexpected(reply)
                }
                for key in keys.compactMap(\.string) {
                    guard let index = CustomerIndex(key: key) else { continue }
                    _ = try await self.store.sessions(ofCustomer: index.customerId, tenant: index.tenant)
                    visited += 1
                }
                cursor = next
                if cursor != "0" { try? await Task.sleep(for: self.pause) }
            } while cursor != "0" && !Task.isCancelled
        }
        return visited
    }
}
