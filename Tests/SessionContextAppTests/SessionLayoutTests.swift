import Foundation
import NIOCore
import RedisClient
import SessionContextEvents
import SessionStore
import TestSupport
import Testing

@Suite("The bucket layout: keys, slots, event positions, channels")
struct SessionLayoutTests {
    @Test("Everything one write touches is in its bucket's slot; sessions spread evenly over the buckets")
    func oneSlotPerBucket() {
        let layout = SessionLayout(buckets: 16)
        var counts = [Int](repeating: 0, count: 16)
        for index in 0..<16_000 {
            let address = layout.address(tenant: "acme", sessionId: "session-\(index)")
            let slot = RedisHashSlot.of(address.key)
            #expect(RedisHashSlot.of(address.streamKey) == slot)
            #expect(RedisHashSlot.of(address.expiryClaimKey) == slot)
            #expect(RedisHashSlot.of(address.shardChannel) == slot)
            counts[address.bucket] += 1
        }
        // 1,000 a bucket on average; FNV-1a keeps each within a tenth of it.
        #expect(counts.allSatisfy { (900...1100).contains($0) }, "\(counts)")
        #expect(layout.address(tenant: "acme", sessionId: "s1").key == "sc:{acme:\(layout.bucket(of: "s1"))}:s1")
    }

    @Test("A session key is read back to its address; claim keys, keys of the layout before buckets and of another bucket are not")
    func keyParsing() {
        let layout = SessionLayout(buckets: 16)
        let address = layout.address(tenant: "acme", sessionId: "a:b.c-1")
        #expect(SessionAddress(key: address.key, layout: layout) == address)
        #expect(SessionAddress(key: address.expiryClaimKey, layout: layout) == nil)
        #expect(SessionAddress(key: "sc:{acme:a:b.c-1}", layout: layout) == nil)
        let wrongBucket = "sc:{acme:\((address.bucket + 1) % 16)}:a:b.c-1"
        #expect(SessionAddress(key: wrongBucket, layout: layout) == nil)
        #expect(SessionAddress(key: "sc:{acme:3}:", layout: layout) == nil)
        #expect(SessionAddress(key: "sc:{Acme:3}:s", layout: layout) == nil)
    }

    @Test("An event position survives its text form; 0, plain stream ids and malformed text are read as documented")
    func cursorText() {
        var cursor = SessionEventCursor(buckets: 16)
        #expect(cursor.description == "0")
        #expect(SessionEventCursor("0", buckets: 16) == cursor)
        cursor.advance(bucket: 3, to: "1764871234567-0")
        cursor.advance(bucket: 15, to: "1764871230000-12")
        cursor.advance(bucket: 0, to: "1764800000000-1")
        let text = cursor.description
        #expect(text.utf8.count < 64, "\(text)")
        #expect(SessionEventCursor(text, buckets: 16) == cursor)
        #expect(SessionEventCursor(text, buckets: 8) == nil)
        #expect(SessionEventCursor("1763800000000-5", buckets: 4)?.ids == Array(repeating: "1763800000000-5", count: 4))
        for malformed in ["", "$", "abc", "1.2", "18446744073709551616-0", "1764871234567.zzzzzzzzzzzzzz" + String(repeating: ".", count: 15), "-1"] {
            #expect(SessionEventCursor(malformed, buckets: 16) == nil, "\(malformed)")
        }
    }

    @Test("Events go to the channels configured: classic, sharded (in the bucket's slot) or both", arguments: EventChannels.allCases)
    func channels(_ channels: EventChannels) async throws {
        let fixture = try Fixture { $0.eventChannels = channels }
        let sid = Fixture.uniqueSessionId()
        let address = fixture.address(sid)
        let token = try await fixture.managementToken()
        try await withRouter(url: fixture.configuration.redisURL) { router in
            let classic = try await RedisSubscription.subscribe(to: try await router.subscriptionEndpoint(), channels: [address.eventChannel])
            let sharded = try await RedisSubscription.subscribe(
                to: try await router.endpoint(serving: address.key), shardChannels: [address.shardChannel]
            )
            try await fixture.withApp { client async throws in
                let response = try await client.send(.put, "/session-context/\(fixture.tenant)/context/\(sid)?upsert=true", token: token, json: #"{"metadata":{"version":0}}"#)
                #expect(response.status == .noContent)
            }
            let gotClassic = try await Self.first(of: classic)
            let gotSharded = try await Self.first(of: sharded)
            #expect((gotClassic != nil) == channels.includesClassic)
            #expect((gotSharded != nil) == (channels != .classic))
            for payload in [gotClassic, gotSharded].compactMap({ $0 }) {
                #expect(payload.contains(#""sessionId":"\#(sid)""#) && payload.contains(#""type":"created""#))
            }
        }
    }

    /// The first message's payload, or nil when none comes within half a second.
    static func first(of subscription: RedisSubscription) async throws -> String? {
        try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                for try await message in subscription { return String(buffer: message.payload) }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(500))
                return nil
            }
            defer {
                group.cancelAll()
                subscription.cancel()
            }
            return try await group.next() ?? nil
        }
    }
}
