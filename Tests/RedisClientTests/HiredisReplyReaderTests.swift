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

    @Test("Bulk strings of nested arrays keep their own bytes (one buffer per reply, sliced)")
    func nestedBulkStrings() throws {
        let values = try self.replies(["*4\r\n$1\r\na\r\n*3\r\n$0\r\n\r\n$3\r\nbcd\r\n$-1\r\n:5\r\n$4\r\ne\r\nf\r\n$2\r\ngh\r\n"])
        #expect(values == [
            .array([
                .bulkString(ByteBuffer(string: "a")),
                .array([.bulkString(ByteBuffer()), .bulkString(ByteBuffer(string: "bcd")), .null]),
                .integer(5),
                .bulkString(ByteBuffer(string: "e\r\nf")),
            ]),
            .bulkString(ByteBuffer(string: "gh")),
        ])
        // A slice changed by its owner leaves the others as they were.
        guard case .array(let elements) = values[0], case .bulkString(var first) = elements[0], case .bulkString(let last) = elements[3] else {
            Issue.record("unexpected shape: \(values)")
            return
        }
        first.writeString("zzz")
        #expect(String(buffer: first) == "azzz")
        #expect(String(buffer: last) == "e\r\nf")
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
