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
/// walks every index on every primary with `SCAN` and checks each entry against its session
/// under the same rules as a lookup (never removing an entry younger than the grace).
///
/// Every worker tries to claim a pass every ``claimTick`` (or every interval, if shorter), so
/// a fleet that is redeployed more often than the interval still sweeps; the claim lasts an
/// interval and the sweeping worker extends it while it works, so passes never overlap.
public struct CustomerIndexSweeper: Service {
    let store: SessionStore
    /// How often this worker tries to claim a pass: the interval, or ``claimTick`` if shorter.
    let tick: Duration
    let logger: Logger
    /// The key a worker sets to claim one pass (with its instance id as the value).
    let claimKey: String
    /// How long a claim lasts, in milliseconds as `PX` takes it: an interval.
    let claimLifetime: String
    /// The `SCAN` pattern of the indexes this sweeper visits.
    let pattern: String
    /// Index keys asked for per `SCAN` call.
    let batch: Int
    /// The pause between two `SCAN` calls, so that a large keyspace is walked at a bounded pace.
    let pause: Duration

    /// How often a worker tries to claim a pass, at most.
    public static let claimTick: Duration = .seconds(60)

    /// A sweeper that makes a pass every `interval` through `store`; `tenant` limits it to one
    /// tenant's indexes (all tenants when nil), with a claim of its own.
    public init(
        store: SessionStore,
        interval: Duration,
        logger: Logger,
        tenant: String? = nil,
        batch: Int = 200,
        pause: Duration = .milliseconds(10)
    ) {
        self.store = store
        self.tick = min(interval, Self.claimTick)
        self.logger = logger
        self.claimKey = Self.claimKey(tenant: tenant)
        self.claimLifetime = String(max(1, interval.milliseconds))
        self.pattern = CustomerIndex.keyPattern(tenant: tenant)
        self.batch = batch
        self.pause = pause
    }

    /// The claim key of the sweeps of `tenant`'s indexes, or of all tenants' when nil.
    public static func claimKey(tenant: String?) -> String { "sc:sweep:customer-index" + (tenant.map { ":" + $0 } ?? "") }

    /// Tries to claim a pass every ``claimTick`` (or interval, if shorter) and sweeps when it
    /// gets one, until graceful shutdown, which also stops a pass under way.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await Task.sleep(for: self.tick) } catch { return }
                let claimed: Bool
                do throws(RedisError) {
                    claimed = try await self.claim()
                } catch {
                    self.logger.warning("customer index sweep not claimed: redis unavailable", metadata: ["error": "\(error)"])
                    continue
                }
                guard claimed else { continue }
                let start = ContinuousClock.now
                let pass = await self.sweep()
                var metadata: Logger.Metadata = [
                    "indexes": "\(pass.visited)", "failed": "\(pass.failed)", "duration": "\(ContinuousClock.now - start)",
                ]
                if let error = pass.stoppedBy { metadata["error"] = "\(error)" }
                if pass.isComplete {
                    self.logger.info("customer indexes swept", metadata: metadata)
                } else {
                    self.logger.warning("customer index sweep stopped before its end", metadata: metadata)
                }
            }
        }
    }

    /// Claims the pass of this interval for this worker; false when another worker has it.
    func claim() async throws(RedisError) -> Bool {
        let reply = try await self.store.redis.send(
            RESPCommand("SET", self.claimKey, self.store.configuration.origin, "NX", "PX", self.claimLifetime),
            key: self.claimKey
        )
        return reply.string == "OK"
    }

    /// Extends this worker's claim by an interval from now; false when the claim is no longer this worker's.
    func extendClaim() async throws(RedisError) -> Bool {
        var command = SessionScripts.claimExtend.command(keys: [self.claimKey], argumentCount: 2)
        command.append(self.store.configuration.origin)
        command.append(self.claimLifetime)
        return try await self.store.redis.evaluate(SessionScripts.claimExtend, command, key: self.claimKey).int == 1
    }

    /// What one pass did.
    struct Pass {
        /// Indexes checked.
        var visited = 0
        /// Indexes whose check failed (they wait for the next pass).
        var failed = 0
        /// Why the pass, or a primary's walk, stopped early (cancelled, claim lost, Redis unavailable).
        var stoppedBy: (any Error)?

        /// Whether every primary was walked to its end.
        var isComplete: Bool { self.stoppedBy == nil }
    }

    /// One pass by the worker that holds the claim (extended after each batch): checks every index
    /// on every primary against its sessions, which removes its out-of-date entries. A failing
    /// index or primary does not stop the others; cancellation, or losing the claim, stops the pass.
    ///
    /// With Sentinel, a failover during the pass lets the walk go on against the new primary with
    /// the old cursor: some indexes are then skipped or checked twice, which the next pass mends.
    func sweep() async -> Pass {
        var pass = Pass()
        let primaries: [RedisEndpoint]
        do throws(RedisError) {
            primaries = try await self.store.redis.primaries()
        } catch {
            pass.stoppedBy = error
            return pass
        }
        for primary in primaries {
            guard let reason = await self.walk(primary, into: &pass) else { continue }
            pass.stoppedBy = reason
            // A primary Redis could not walk leaves the others to walk; cancellation or a lost claim ends the pass.
            guard reason is RedisError else { break }
        }
        return pass
    }

    /// The claim passed to another worker during the pass.
    struct ClaimLost: Error, CustomStringConvertible {
        var description: String { "the sweep's claim is another worker's now" }
    }

    /// Walks one primary's indexes; returns why it stopped early, or nil when it reached the end.
    private func walk(_ primary: RedisEndpoint, into pass: inout Pass) async -> (any Error)? {
        var cursor = "0"
        repeat {
            if Task.isCancelled { return CancellationError() }
            let keys: [RESPValue]
            do throws(RedisError) {
                let reply = try await self.store.redis.send(
                    RESPCommand("SCAN", cursor, "MATCH", self.pattern, "COUNT", String(self.batch), "TYPE", "zset"),
                    to: primary
                )
                guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let found = parts[1].array else {
                    throw SessionStore.unexpected(reply)
                }
                cursor = next
                keys = found
            } catch {
                return error
            }
            for key in keys.compactMap(\.string) {
                if Task.isCancelled { return CancellationError() }
                guard let index = CustomerIndex(key: key) else { continue }
                do throws(RedisError) {
                    try await self.store.pruneIndex(ofCustomer: index.customerId, tenant: index.tenant)
                    pass.visited += 1
                } catch {
                    pass.failed += 1
                    self.logger.debug("a customer index could not be checked", metadata: ["error": "\(error)"])
                }
            }
            do throws(RedisError) {
                guard try await self.extendClaim() else { return ClaimLost() }
            } catch {
                return error
            }
            if cursor != "0" {
                do { try await Task.sleep(for: self.pause) } catch { return CancellationError() }
            }
        } while cursor != "0"
        return nil
    }
}
