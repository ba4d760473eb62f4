import NIOCore
@testable import RedisClient
@testable import SessionStore
import Testing

/// The near cache's own bookkeeping, without Redis: what it evicts, what it refuses, and that
/// what it keeps stays bounded under any traffic. (Its freshness across workers, with a real
/// Redis and its events, is in `NearCacheTests`.)
@Suite("Near cache bookkeeping")
struct NearCacheBookkeepingTests {
    /// A context as Redis would hold it, told apart by its cart id (`cart-<version>`).
    private static func snapshot(_ sessionId: String, version: Int) -> SessionSnapshot {
        let pairs = [("ca", "cart-\(version)"), ("_v", "\(version)")]
        let reply = RESPValue.array(pairs.flatMap { [.bulkString(ByteBuffer(string: $0.0)), .bulkString(ByteBuffer(string: $0.1))] })
        return SessionSnapshot(sessionId: sessionId, hgetall: reply)!
    }

    /// The version of the context the cache serves for `address`, if it serves one.
    private static func cachedVersion(_ cache: NearCache, _ address: SessionAddress) -> String? {
        cache.lookup(address)?.value(of: .cartId)
    }

    private static func live(capacity: Int) -> NearCache {
        let cache = NearCache(capacity: capacity)
        cache.setLive(true)
        return cache
    }

    /// The address of session `id` of the test's tenant.
    private static func address(_ id: String) -> SessionAddress {
        SessionLayout().address(tenant: "bookkeeping", sessionId: id)
    }

    private static func read(_ cache: NearCache, _ address: SessionAddress, version: Int = 1) {
        cache.insert(Self.snapshot(address.sessionId, version: version), for: address, ticket: cache.ticket())
    }

    /// A live cache of capacity 2 that has read `a` and then `b`; `c` is not read yet.
    private static func full() -> (NearCache, SessionAddress, SessionAddress, SessionAddress) {
        let cache = Self.live(capacity: 2)
        let (a, b, c) = (Self.address("a"), Self.address("b"), Self.address("c"))
        Self.read(cache, a)
        Self.read(cache, b)
        return (cache, a, b, c)
    }

    @Test("A full cache evicts the oldest context it holds")
    func evictsOldest() {
        let (cache, a, b, c) = Self.full()
        Self.read(cache, c)
        #expect(cache.lookup(a) == nil)
        #expect(cache.lookup(b) != nil)
        #expect(cache.lookup(c) != nil)
        #expect(cache.count == 2)
    }

    @Test("A context read again after an event counts as new: the oldest other one is evicted, not it")
    func reinsertedIsNewest() {
        let (cache, a, b, c) = Self.full()
        cache.invalidate(a)
        Self.read(cache, a, version: 2)
        Self.read(cache, c)
        #expect(Self.cachedVersion(cache, a) == "cart-2")
        #expect(cache.lookup(b) == nil)
        #expect(cache.lookup(c) != nil)
    }

    @Test("A read that began before an event for its session is not stored")
    func staleReadRefused() {
        let cache = Self.live(capacity: 8)
        let a = Self.address("a")
        let ticket = cache.ticket()
        cache.invalidate(a)
        cache.insert(Self.snapshot("a", version: 1), for: a, ticket: ticket)
        #expect(cache.lookup(a) == nil)
        Self.read(cache, a, version: 2)
        #expect(Self.cachedVersion(cache, a) == "cart-2")
    }

    @Test("Reads and writes of the same sessions, over and over, leave bounded bookkeeping")
    func boundedUnderChurn() {
        let capacity = 4
        let cache = Self.live(capacity: capacity)
        let addresses = (0..<3).map { Self.address("s\($0)") }
        for round in 0..<5_000 {
            for address in addresses {
                Self.read(cache, address, version: round)
                cache.invalidate(address)
            }
        }
        // The recent-invalidation list holds each of the three sessions once; the eviction order
        // at most twice the capacity.
        #expect(cache.bookkeepingCount <= 2 * capacity + addresses.count)
        Self.read(cache, addresses[0], version: 9)
        #expect(Self.cachedVersion(cache, addresses[0]) == "cart-9")
    }

    @Test("Invalidations of more distinct sessions than it remembers forget the oldest, and later reads are stored")
    func forgetsOldestInvalidations() {
        let cache = Self.live(capacity: 1)
        // The cache remembers at least 1024 recent invalidations.
        for number in 0..<3_000 {
            cache.invalidate(Self.address("x\(number)"))
        }
        #expect(cache.bookkeepingCount <= 1024 + 2)
        let a = Self.address("x5")
        Self.read(cache, a, version: 3)
        #expect(Self.cachedVersion(cache, a) == "cart-3")
    }
}

/// How the near cache's listener tells which session an event is about.
@Suite("Near cache listener: the session of an event")
struct NearCacheEventAddressTests {
    private static func message(_ channel: String, _ payload: String) -> RedisPubSubMessage {
        RedisPubSubMessage(channel: channel, pattern: "session-context:*:events", payload: ByteBuffer(string: payload))
    }

    @Test("The tenant comes from the channel and the session id from the payload, escapes decoded")
    func address() {
        let payload = #"{"type":"attribute.set","tenant":"t-1","sessionId":"s\u002d9","version":3,"changed":["context.a"],"at":"2026-12-02T04:15:58.366Z","origin":"w"}"#
        let address = NearCacheListener.address(layout: SessionLayout(), of: Self.message("session-context:t-1:events", payload))
        #expect(address == SessionLayout().address(tenant: "t-1", sessionId: "s-9"))
    }

    @Test("A session id after nested members is found; a member only named like it inside them is not taken")
    func nestedMembers() {
        let payload = #"{"changed":[{"sessionId":"inner"}],"extra":{"sessionId":"no"},"sessionId":"outer"}"#
        #expect(NearCacheListener.address(layout: SessionLayout(), of: Self.message("session-context:t:events", payload))?.sessionId == "outer")
    }

    @Test("Other channels, a missing or non-string session id, and malformed payloads give no session")
    func refused() {
        let good = #"{"sessionId":"s"}"#
        for (channel, payload) in [
            ("session-context::events", good), ("other:t:events", good), ("session-context:t:event", good),
            ("session-context:t:events", #"{"type":"session.deleted"}"#),
            ("session-context:t:events", #"{"sessionId":7}"#),
            ("session-context:t:events", #"{"type":"a" "sessionId":"s"}"#),
            ("session-context:t:events", #"["sessionId","s"]"#),
            ("session-context:t:events", ""),
        ] {
            #expect(NearCacheListener.address(layout: SessionLayout(), of: Self.message(channel, payload)) == nil, "\(channel) \(payload)")
        }
    }
}
