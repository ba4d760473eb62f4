/// The pub/sub channels change events are published on, besides the durable stream.
public enum EventChannels: String, Sendable, CaseIterable {
    /// The tenant's classic channel `session-context:<tenant>:events` (`PUBLISH`). On a Redis
    /// Cluster every node passes it to every other node: its cost grows with the cluster.
    case classic
    /// The bucket's sharded channel `session-context:{<tenant>:<bucket>}:events` (`SPUBLISH`,
    /// Redis 7): it stays within the shard that owns the bucket's slot.
    case sharded
    /// Both: for moving subscribers from the classic channel to the sharded ones.
    case both

    /// The default on a topology: sharded on a Redis Cluster, classic on one server or Sentinel.
    public static func `default`(cluster: Bool) -> EventChannels { cluster ? .sharded : .classic }

    /// Whether events go to the tenant's classic channel (what the near cache listens to).
    public var includesClassic: Bool { self != .sharded }

    /// The scripts' argument (ARGV[9]): "c", "s" or "cs".
    var scriptArgument: String {
        switch self {
        case .classic: return "c"
        case .sharded: return "s"
        case .both: return "cs"
        }
    }
}
