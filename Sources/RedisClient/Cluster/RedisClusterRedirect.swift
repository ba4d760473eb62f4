/// A cluster node's answer that the key's slot is served elsewhere: `MOVED` (for good: update the
/// slot map) or `ASK` (during a slot migration: ask the other node once, after `ASKING`).
struct RedisClusterRedirect: Equatable {
    enum Kind: Equatable { case moved, ask }

    var kind: Kind
    var slot: Int
    var node: RedisClusterSlotMap.Node

    init(kind: Kind, slot: Int, node: RedisClusterSlotMap.Node) {
        self.kind = kind
        self.slot = slot
        self.node = node
    }

    /// The redirect an error reply holds (`MOVED 3999 127.0.0.1:6381`), if it is one. A node
    /// announced without a host (`:6381`) is on `fallbackHost`, the host that answered.
    init?(_ error: RedisError, fallbackHost: String) {
        guard error.code == .serverError else { return nil }
        let words = error.message.split(separator: " ")
        guard words.count == 3, let slot = Int(words[1]), (0..<RedisHashSlot.count).contains(slot),
            let colon = words[2].lastIndex(of: ":"), let port = Int(words[2][words[2].index(after: colon)...])
        else { return nil }
        switch words[0] {
        case "MOVED": self.kind = .moved
        case "ASK": self.kind = .ask
        default: return nil
        }
        self.slot = slot
        let host = String(words[2][..<colon])
        self.node = RedisClusterSlotMap.Node(host: host.isEmpty || host == "?" ? fallbackHost : host, port: port)
    }
}
