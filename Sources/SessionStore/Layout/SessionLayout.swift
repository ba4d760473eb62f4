/// How session contexts are laid out in Redis: each tenant's sessions are spread over a fixed
/// number of *buckets*, and everything one write touches — the session's hash, the claim on its
/// `expired` event, its bucket's event stream and sharded channel — shares the hash tag
/// `{<tenant>:<bucket>}`, so one Redis Cluster slot. Every write stays one atomic script on
/// every topology, and a tenant's writes spread over up to `buckets` slots (so primaries).
///
/// The bucket of a session is FNV-1a (32-bit) of its id, modulo the count. The count is the
/// deployment's: every worker must use the same, and it is recorded in Redis (``markerKey``);
/// changing it moves every key (`session-context migrate`).
public struct SessionLayout: Sendable, Hashable {
    /// How many buckets each tenant has (1...1024).
    public let buckets: Int

    /// The default bucket count: enough to spread one tenant's writes evenly over the primaries
    /// of a usual cluster (see docs/scaling.md), few enough that a reader merging them stays cheap.
    public static let defaultBuckets = 16

    /// The most buckets a layout may have.
    public static let maximumBuckets = 1024

    /// What is wrong with `count` as a bucket count, or nil when it is one (1 to ``maximumBuckets``).
    public static func bucketCountProblem(_ count: Int) -> String? {
        (1...Self.maximumBuckets).contains(count) ? nil : "event-buckets must be 1 to \(Self.maximumBuckets)"
    }

    /// A layout of `buckets` buckets per tenant (1 to ``maximumBuckets``).
    public init(buckets: Int = Self.defaultBuckets) {
        precondition((1...Self.maximumBuckets).contains(buckets), "a layout has 1 to \(Self.maximumBuckets) buckets")
        self.buckets = buckets
    }

    /// The bucket of `sessionId`.
    public func bucket(of sessionId: some StringProtocol) -> Int {
        var hash: UInt32 = 0x811C_9DC5
        for byte in sessionId.utf8 {
            hash = (hash ^ UInt32(byte)) &* 0x0100_0193
        }
        return Int(hash % UInt32(self.buckets))
    }

    /// The address of `sessionId` of `tenant` (both already valid).
    public func address(tenant: String, sessionId: String) -> SessionAddress {
        SessionAddress(tenant: tenant, sessionId: sessionId, bucket: self.bucket(of: sessionId))
    }

    /// The key of the event stream of `tenant`'s bucket `bucket`.
    public static func streamKey(tenant: String, bucket: Int) -> String { "sc:events:{\(tenant):\(bucket)}" }

    /// The keys of every event stream of `tenant`, by bucket.
    public func streamKeys(tenant: String) -> [String] {
        (0..<self.buckets).map { Self.streamKey(tenant: tenant, bucket: $0) }
    }

    /// The sharded pub/sub channel (`SPUBLISH`) of `tenant`'s bucket `bucket`: in the bucket's slot.
    public static func shardChannel(tenant: String, bucket: Int) -> String { "session-context:{\(tenant):\(bucket)}:events" }

    /// The classic pub/sub channel (`PUBLISH`) of all of `tenant`'s events.
    public static func classicChannel(tenant: String) -> String { "session-context:\(tenant):events" }

    /// The key that records the layout in use (`buckets=<count>`), set by the first worker or by
    /// `session-context migrate`.
    public static let markerKey = "sc:layout"

    /// The marker's value for this layout.
    public var markerValue: String { "buckets=\(self.buckets)" }

    /// The layout a marker value names, if it is one.
    public init?(markerValue: String) {
        guard markerValue.hasPrefix("buckets="), let count = Int(markerValue.dropFirst("buckets=".count)),
            (1...Self.maximumBuckets).contains(count)
        else { return nil }
        self.init(buckets: count)
    }
}
