import NIOCore
import RedisClient
import SessionStore
import Testing

@Suite("Rendering a context as JSON")
struct SessionSnapshotTests {
    /// An `HGETALL` reply of these field/value pairs, as the Redis client hands it over.
    private static func reply(_ pairs: [(String, String)]) -> RESPValue {
        .array(pairs.flatMap { [RESPValue.bulkString(ByteBuffer(string: $0.0)), .bulkString(ByteBuffer(string: $0.1))] })
    }

    private static func render(_ sessionId: String, _ pairs: [(String, String)]) throws -> String {
        let snapshot = try #require(SessionSnapshot(sessionId: sessionId, hgetall: Self.reply(pairs)))
        return String(buffer: snapshot.renderJSON())
    }

    @Test("Standard fields in the contract's order whatever the hash's order, attributes as stored, metadata last")
    func order() throws {
        let json = try Self.render("s-1", [
            ("@geo", #"{"lat":"52.5"}"#), ("la", "de"), ("_m", "1770224810134"), ("tl", "DE"), ("ca", "cart-7"),
            ("cy", "EUR"), ("_v", "12"), ("si", "main"), ("cu", "C1"), ("@channel", #""web""#), ("_c", "1770224810000"),
        ])
        #expect(json == #"{"sessionId":"s-1","customerId":"C1","siteCode":"main","currency":"EUR","cartId":"cart-7","#
            + #""targetLocation":"DE","language":"de","context":{"geo":{"lat":"52.5"},"channel":"web"},"#
            + #""metadata":{"version":12,"createdAt":"2026-02-04T17:06:50.000Z","modifiedAt":"2026-02-04T17:06:50.134Z"}}"#)
    }

    @Test("Text is escaped as JSON requires; non-ASCII stays UTF-8")
    func escaping() throws {
        let json = try Self.render("a:b", [("si", "q\"\\\n\t\u{1}é"), ("@na\"me", "1"), ("_v", "1")])
        #expect(json == #"{"sessionId":"a:b","siteCode":"q\"\\\n\t\u0001é","context":{"na\"me":1},"metadata":{"version":1}}"#)
    }

    @Test("A context without metadata renders version 0 and no times")
    func noMetadata() throws {
        #expect(try Self.render("s", [("cy", "USD")]) == #"{"sessionId":"s","currency":"USD","context":{},"metadata":{"version":0}}"#)
    }

    @Test("The largest escaping fits: every byte of every value a control character")
    func worstCase() throws {
        let control = String(repeating: "\u{1}", count: 4096)
        let pairs = [("si", control), ("cu", control)] + (0..<50).map { ("@" + control.prefix(64) + "\($0)", "0") }
        let json = try Self.render(String(repeating: "x", count: 128), pairs)
        #expect(json.utf8.count > 6 * 2 * 4096)
        #expect(json.hasSuffix(#""metadata":{"version":0}}"#))
    }

    @Test("The near cache's pre-rendered form is the same text")
    func prerendered() throws {
        let snapshot = try #require(SessionSnapshot(sessionId: "p", hgetall: Self.reply([("la", "en-US"), ("_v", "3")])))
        #expect(snapshot.prerendered().renderJSON() == snapshot.renderJSON())
    }
}
