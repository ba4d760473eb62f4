import NIOCore
import Testing

@testable import RedisClient

@Suite("Redis Cluster routing: hash slots, slot maps, redirects")
struct RedisClusterRoutingTests {
    @Test("Hash slots are CRC16 of the key, or of its hash tag, modulo 16384 (values from the cluster specification and redis-cli)")
    func hashSlots() {
        // CRC16/XMODEM of "123456789" is 0x31C3 (the specification's check value).
        #expect(RedisHashSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        #expect(RedisHashSlot.of("123456789") == 0x31C3 & 0x3FFF)
        #expect(RedisHashSlot.of("foo") == 12182)
        #expect(RedisHashSlot.of("bar") == 5061)
        #expect(RedisHashSlot.of("{user1000}.following") == RedisHashSlot.of("{user1000}.followers"))
        #expect(RedisHashSlot.of("{user1000}.following") == RedisHashSlot.of("user1000"))
        // An empty tag does not count: the whole key is hashed.
        #expect(RedisHashSlot.of("foo{}{bar}") == Int(RedisHashSlot.crc16(Array("foo{}{bar}".utf8)) & 0x3FFF))
        // The tag ends at the first "}" after the first "{".
        #expect(RedisHashSlot.of("foo{{bar}}zap") == RedisHashSlot.of("{bar"))
        #expect(RedisHashSlot.of("foo{bar}{zap}") == RedisHashSlot.of("bar"))
        // Every key of one session shares the session's slot.
        #expect(RedisHashSlot.of("sc:{acme:s1}") == RedisHashSlot.of("sc:{acme:s1}:expired"))
    }

    @Test("A CLUSTER SLOTS reply becomes a map from every slot to its primary")
    func slotMap() throws {
        func node(_ host: String, _ port: Int64) -> RESPValue {
            .array([.bulkString(ByteBuffer(string: host)), .integer(port), .bulkString(ByteBuffer(string: "id"))])
        }
        let reply = RESPValue.array([
            .array([.integer(0), .integer(5460), node("127.0.0.1", 7000), node("127.0.0.1", 7003)]),
            .array([.integer(5461), .integer(10922), node("", 7001)]),
            .array([.integer(10923), .integer(16383), node("127.0.0.1", 7002)]),
        ])
        let map = try RedisClusterSlotMap(clusterSlots: reply, fallbackHost: "10.0.0.9")
        #expect(map.coveredSlots == 16384)
        #expect(map.primary(for: 0) == .init(host: "127.0.0.1", port: 7000))
        #expect(map.primary(for: 5460) == .init(host: "127.0.0.1", port: 7000))
        #expect(map.primary(for: 5461) == .init(host: "10.0.0.9", port: 7001))
        #expect(map.primary(for: 16383) == .init(host: "127.0.0.1", port: 7002))
        #expect(map.primaries.count == 3)
        #expect(map.replicas[.init(host: "127.0.0.1", port: 7000)] == [.init(host: "127.0.0.1", port: 7003)])

        var moved = map
        moved.assign(100, to: .init(host: "127.0.0.1", port: 7002))
        #expect(moved.primary(for: 100) == .init(host: "127.0.0.1", port: 7002))
        #expect(moved.primary(for: 101) == .init(host: "127.0.0.1", port: 7000))

        #expect(throws: RedisError.self) { try RedisClusterSlotMap(clusterSlots: .array([.array([.integer(0), .integer(20000), node("h", 1)])]), fallbackHost: "h") }
        #expect(throws: RedisError.self) { try RedisClusterSlotMap(clusterSlots: .simpleString("OK"), fallbackHost: "h") }
    }

    @Test("MOVED and ASK error replies are read as redirects; other errors are not")
    func redirects() {
        let moved = RedisClusterRedirect(RedisError(.serverError, "MOVED 3999 127.0.0.1:6381"), fallbackHost: "x")
        #expect(moved == RedisClusterRedirect(kind: .moved, slot: 3999, node: .init(host: "127.0.0.1", port: 6381)))
        let ask = RedisClusterRedirect(RedisError(.serverError, "ASK 12 :7001"), fallbackHost: "10.1.1.1")
        #expect(ask == RedisClusterRedirect(kind: .ask, slot: 12, node: .init(host: "10.1.1.1", port: 7001)))
        #expect(RedisClusterRedirect(RedisError(.serverError, "ERR unknown command"), fallbackHost: "x") == nil)
        #expect(RedisClusterRedirect(RedisError(.serverError, "MOVED 99999 h:1"), fallbackHost: "x") == nil)
        #expect(RedisClusterRedirect(RedisError(.connectionClosed, "MOVED 1 h:1"), fallbackHost: "x") == nil)
    }

    @Test("Only errors that prove a command did not run make the cluster client send it again")
    func retries() {
        #expect(RedisClusterClient.neverRan(RedisError(.connectionUnavailable, "down")))
        #expect(RedisClusterClient.neverRan(RedisError(.serverError, "TRYAGAIN Multiple keys request during rehashing of slot")))
        #expect(RedisClusterClient.neverRan(RedisError(.serverError, "CLUSTERDOWN The cluster is down")))
        #expect(!RedisClusterClient.neverRan(RedisError(.connectionClosed, "closed")))
        #expect(!RedisClusterClient.neverRan(RedisError(.timeout, "slow")))
        #expect(!RedisClusterClient.neverRan(RedisError(.serverError, "ERR wrong number of arguments")))
    }

    @Test("Topology URLs: one server, Sentinel, Cluster")
    func topologies() throws {
        #expect(try RedisTopology(url: "redis://127.0.0.1:6379/2") == .standalone(RedisEndpoint(address: .tcp(host: "127.0.0.1", port: 6379), database: 2)))
        let cluster = try RedisTopology(url: "redis-cluster://app:pw@10.0.0.1:7000,10.0.0.2:7001")
        #expect(cluster == .cluster(seeds: [
            RedisEndpoint(address: .tcp(host: "10.0.0.1", port: 7000), username: "app", password: "pw"),
            RedisEndpoint(address: .tcp(host: "10.0.0.2", port: 7001), username: "app", password: "pw"),
        ]))
        guard case .sentinel(let sentinel) = try RedisTopology(url: "redis-sentinel://:pw@h1:26379,h2:26380/mymaster?db=3") else {
            Issue.record("not read as Sentinel")
            return
        }
        #expect(sentinel.primaryName == "mymaster")
        #expect(sentinel.sentinels == [RedisEndpoint(address: .tcp(host: "h1", port: 26379)), RedisEndpoint(address: .tcp(host: "h2", port: 26380))])
        #expect(sentinel.primaryTemplate.password == "pw")
        #expect(sentinel.primaryTemplate.database == 3)
        #expect(!(try RedisTopology(url: "redis-sentinel://:topsecret@h1:1/m").description.contains("topsecret")))
        #expect(!(try RedisTopology(url: "redis-cluster://:topsecret@h1:1").description.contains("topsecret")))
    }

    @Test("Bad topology URLs are refused with a reason", arguments: [
        "redis-sentinel://h1:26379", "redis-sentinel://h1:26379/", "redis-sentinel:///m", "redis-cluster://", "redis-cluster://h:1/3",
        "redis-cluster://h:notaport",
    ])
    func badTopologies(url: String) {
        #expect { try RedisTopology(url: url) } throws: { ($0 as? RedisError)?.code == .invalidURL }
    }
}
