import CHiredis
import NIOCore

/// Parses RESP replies with hiredis's reply reader, which accepts input in pieces of any size
/// (a reply split across reads, or many pipelined replies in one read).
///
/// Not thread-safe: owned by one channel handler on one event loop.
final class HiredisReplyReader {
    private let reader: UnsafeMutablePointer<redisReader>

    /// Creates a reader with hiredis's default reply objects.
    init() {
        guard let reader = redisReaderCreate() else {
            fatalError("hiredis could not allocate a reply reader")
        }
        self.reader = reader
    }

    deinit {
        redisReaderFree(self.reader)
    }

    /// Hands bytes to the reader; they are copied into its own buffer.
    func feed(_ buffer: ByteBuffer) throws(RedisError) {
        let status = buffer.withUnsafeReadableBytes { bytes -> Int32 in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return REDIS_OK }
            return redisReaderFeed(self.reader, base.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        if status != REDIS_OK { throw self.readerError() }
    }

    /// The next complete reply, or `nil` when more bytes are needed.
    func next() throws(RedisError) -> RESPValue? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(self.reader, &raw) == REDIS_OK else { throw self.readerError() }
        guard let raw else { return nil }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return Self.value(of: reply)
    }

    private func readerError() -> RedisError {
        RedisError(.protocolError, String(cString: chiredis_reader_error(self.reader)))
    }

    /// The reply as a ``RESPValue``. Every bulk string of the reply is copied into one buffer and
    /// handed out as a slice of it: one allocation per reply instead of one per string (an
    /// `HGETALL` of a context has two dozen).
    private static func value(of reply: UnsafeMutablePointer<redisReply>) -> RESPValue {
        var arena = ByteBuffer()
        arena.reserveCapacity(Self.bulkBytes(in: reply))
        Self.copyBulkStrings(of: reply, into: &arena)
        var offset = 0
        return Self.value(of: reply, arena: arena, offset: &offset)
    }

    /// How many bytes the bulk strings of `reply` hold, nested arrays included.
    private static func bulkBytes(in reply: UnsafeMutablePointer<redisReply>) -> Int {
        let reply = reply.pointee
        switch reply.type {
        case REDIS_REPLY_STRING: return reply.len
        case REDIS_REPLY_ARRAY:
            var total = 0
            for index in 0..<reply.elements { if let element = reply.element[index] { total += Self.bulkBytes(in: element) } }
            return total
        default: return 0
        }
    }

    /// Writes the bulk strings of `reply` into `arena`, in the order ``value(of:arena:offset:)`` reads them.
    private static func copyBulkStrings(of reply: UnsafeMutablePointer<redisReply>, into arena: inout ByteBuffer) {
        let reply = reply.pointee
        switch reply.type {
        case REDIS_REPLY_STRING:
            if let pointer = reply.str, reply.len > 0 { arena.writeBytes(UnsafeRawBufferPointer(start: pointer, count: reply.len)) }
        case REDIS_REPLY_ARRAY:
            for index in 0..<reply.elements { if let element = reply.element[index] { Self.copyBulkStrings(of: element, into: &arena) } }
        default: break
        }
    }

    private static func value(of reply: UnsafeMutablePointer<redisReply>, arena: ByteBuffer, offset: inout Int) -> RESPValue {
        let reply = reply.pointee
        switch reply.type {
        case REDIS_REPLY_STRING:
            defer { offset += reply.len }
            return .bulkString(arena.getSlice(at: arena.readerIndex + offset, length: reply.len) ?? ByteBuffer())
        case REDIS_REPLY_STATUS:
            return .simpleString(Self.string(reply.str, reply.len))
        case REDIS_REPLY_ERROR:
            return .error(Self.string(reply.str, reply.len))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(reply.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RESPValue] = []
            elements.reserveCapacity(reply.elements)
            for index in 0..<reply.elements {
                if let element = reply.element[index] {
                    elements.append(Self.value(of: element, arena: arena, offset: &offset))
                } else {
                    elements.append(.null)
                }
            }
            return .array(elements)
        default:
            return .null
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> String {
        guard let pointer, length > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }
}
