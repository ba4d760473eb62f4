import NIOCore
import Testing

@testable import RedisClient

@Suite("hiredis reply reader")
struct HiredisReplyReaderTests {
    func replies(_ chunks: [String]) throws -> [RESPValue] {
        let reader = HiredisReplyReader()
        var values: [RESPValue] = []
        for chunk in chunks {
            try reader.feed(ByteBuffer(string: chunk))
            while let value = try reader.next() { values.append(value) }
        }
        return values
    }

    @Test("Every RESP2 type")
    func types() throws {
        let values = try self.replies(["+OK\r\n-ERR bad\r\n:42\r\n$3\r\nfoo\r\n$-1\r\n*2\r\n:1\r\n$0\r\n\r\n*-1\r\n"])
        #expect(values == [
            .simpleString("OK"), .error("ERR bad"), .integer(42), .bulkString(ByteBuffer(string: "foo")), .null,
            .array([.integer(1), .bulkString(ByteBuffer())]), .null,
        ])
    }

    @Test("A reply split at every byte comes out whole, once")
    func split() throws {
        let wire = "*3\r\n$5\r\nhello\r\n:-7\r\n*1\r\n+x\r\n"
        let values = try self.replies(wire.map { String($0) })
        #expect(values == [.array([.bulkString(ByteBuffer(string: "hello")), .integer(-7), .array([.simpleString("x")])])])
    }

    @Test("Pipelined replies in one read come out in order")
    func pipelined() throws {
        let values = try self.replies([String(repeating: ":1\r\n", count: 100) + "$2\r\nab"])
        #expect(values.count == 100)
        #expect(try self.replies([":1\r\n$2\r\nab", "\r\n"]).count == 2)
    }

    @Test("Garbage is a protocol error")
    func garbage() {
        #expect(throws: RedisError.self) { try self.replies(["?what\r\n"]) }
    }
}
