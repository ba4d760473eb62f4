/// Which node serves each hash slot, as a cluster node reported it (`CLUSTER SLOTS`).
public struct RedisClusterSlotMap: Sendable, Equatable {
    /// A node's address as the cluster announces it.
    public struct Node: Sendable, Hashable, CustomStringConvertible {
        /// The host (an IP address unless the cluster announces host names).
        public var host: String
        /// The client port.
        public var port: Int

        /// A node at `host:port`.
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { "\(self.host):\(self.port)" }
    }

    /// The primaries, each once, in the order their first slot range came.
    public private(set) var primaries: [Node]
    /// The replicas of each primary, by primary.
    public private(set) var replicas: [Node: [Node]]
    /// For every slot, the index of its primary in ``primaries``, or -1 when no node serves it.
    private var owners: [Int16]

    /// A map in which no slot is served.
    public init() {
        self.primaries = []
        self.replicas = [:]
        self.owners = Array(repeating: -1, count: RedisHashSlot.count)
    }

    /// A map from a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id, …], replica…], …]`.
    /// `fallbackHost` stands for a node announced without an address (`""` or `?`): the node that answered.
    public init(clusterSlots reply: RESPValue, fallbackHost: String) throws(RedisError) {
        self.init()
        guard let ranges = reply.array else { throw Self.malformed(reply) }
        for range in ranges {
            guard let parts = range.array, parts.count >= 3,
                let start = parts[0].int, let end = parts[1].int,
                start >= 0, end < RedisHashSlot.count, start <= end,
                let primary = Self.node(parts[2], fallbackHost: fallbackHost)
            else { throw Self.malformed(reply) }
            let index = self.index(of: primary)
            for slot in Int(start)...Int(end) { self.owners[slot] = Int16(index) }
            let replicas = parts.dropFirst(3).compactMap { Self.node($0, fallbackHost: fallbackHost) }
            self.replicas[primary] = Array(Set(self.replicas[primary, default: []] + replicas))
        }
    }

    /// The primary serving `slot`, if any.
    public func primary(for slot: Int) -> Node? {
        let owner = self.owners[slot]
        return owner < 0 ? nil : self.primaries[Int(owner)]
    }

    /// How many slots some primary serves (16384 when the map covers the whole key space).
    public var coveredSlots: Int { self.owners.reduce(0) { $0 + ($1 < 0 ? 0 : 1) } }

    /// Records that `slot` moved to `node` (a `MOVED` reply), ahead of the next full refresh.
    public mutating func assign(_ slot: Int, to node: Node) {
        self.owners[slot] = Int16(self.index(of: node))
    }

    private mutating func index(of node: Node) -> Int {
        if let index = self.primaries.firstIndex(of: node) { return index }
        self.primaries.append(node)
        return self.primaries.count - 1
    }

    private static func node(_ value: RESPValue, fallbackHost: String) -> Node? {
        guard let parts = value.array, parts.count >= 2, let host = parts[0].string, let port = parts[1].int,
            (1...65535).contains(port)
        else { return nil }
        return Node(host: host.isEmpty || host == "?" ? fallbackHost : host, port: Int(port))
    }

    private static func malformed(_ reply: RESPValue) -> RedisError {
        RedisError(.protocolError, "CLUSTER SLOTS answered something that is not a slot map")
    }
}
