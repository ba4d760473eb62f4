import Logging
import RedisClient
import ServiceLifecycle
import Synchronization

/// Makes sure a worker never serves data laid out otherwise than it expects, which it would not
/// see (and so silently lose): on start-up it compares its layout with the one recorded in Redis
/// (``SessionLayout/markerKey``). With none recorded it looks for sessions in the layout before
/// buckets (`sc:{<tenant>:<sessionId>}`) on every primary; finding none, it records its own.
///
/// A mismatch, or sessions to migrate, stops the worker with a message naming the fix
/// (`session-context migrate`). While Redis cannot be reached it tries again every
/// ``retryInterval``; until the check has passed, ``isVerified`` is false (readiness says so).
public struct SessionLayoutCheck: Service {
    let redis: RedisRouter
    let layout: SessionLayout
    let logger: Logger
    let state: VerifiedFlag

    /// How often the check is tried again while Redis cannot answer it.
    public static let retryInterval: Duration = .milliseconds(250)

    /// Why a worker cannot serve this Redis.
    public struct Mismatch: Error, CustomStringConvertible {
        /// What is wrong and how to fix it.
        public let description: String
    }

    /// A check of `layout` against `redis`.
    public init(redis: RedisRouter, layout: SessionLayout, logger: Logger) {
        self.redis = redis
        self.layout = layout
        self.logger = logger
        self.state = VerifiedFlag()
    }

    /// Whether the check has passed.
    public var isVerified: Bool { self.state.value }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.verify()
                    self.state.set()
                    self.logger.debug("session layout verified", metadata: ["layout": "\(self.layout.markerValue)"])
                    return
                } catch let mismatch as Mismatch {
                    self.logger.critical("\(mismatch.description)")
                    throw mismatch
                } catch {
                    try? await Task.sleep(for: Self.retryInterval)
                }
            }
        }
        // A service that returns ends the group: this one waits for the shutdown.
        try? await gracefulShutdown()
    }

    /// Compares the recorded layout with this worker's, recording it when there is none and no
    /// data in another layout is found.
    public func verify() async throws {
        for _ in 0..<3 {
            if let recorded = try await self.recorded() {
                guard recorded == self.layout.markerValue else {
                    throw Mismatch(
                        description: "Redis holds sessions laid out as \(recorded), this worker is configured with "
                            + "\(self.layout.markerValue): start it with the deployment's --event-buckets, or move the "
                            + "data with `session-context migrate --event-buckets \(self.layout.buckets)`"
                    )
                }
                return
            }
            if let found = try await Self.findUnmigrated(self.redis, layout: self.layout) {
                throw Mismatch(
                    description: "Redis holds sessions in an earlier layout (such as \(found)) that this worker would not "
                        + "see: run `session-context migrate --event-buckets \(self.layout.buckets)` first"
                )
            }
            let reply = try await self.redis.send(
                RESPCommand("SET", SessionLayout.markerKey, self.layout.markerValue, "NX"), key: SessionLayout.markerKey
            )
            if reply.string == "OK" { return }
            // Another worker recorded one meanwhile: compare with it.
        }
        throw RedisError(.protocolError, "the layout marker keeps changing")
    }

    private func recorded() async throws -> String? {
        let reply = try await self.redis.send(RESPCommand("GET", SessionLayout.markerKey), key: SessionLayout.markerKey)
        return reply.isNull ? nil : reply.string
    }

    /// The first session key found on any primary that is not where `layout` puts it, if any.
    static func findUnmigrated(_ redis: RedisRouter, layout: SessionLayout) async throws -> String? {
        for primary in try await redis.primaries() {
            var found: String?
            try await SessionKeyScan(redis: redis, server: primary, pattern: "sc:{*", type: "hash", batch: 1000).forEachBatch { keys in
                found = keys.first { SessionMove(key: $0, layout: layout) != nil }
                return found == nil
            }
            if let found { return found }
        }
        return nil
    }
}

/// A flag set once, read from any thread.
final class VerifiedFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var value: Bool { self.flag.load(ordering: .acquiring) }
    func set() { self.flag.store(true, ordering: .releasing) }
}
