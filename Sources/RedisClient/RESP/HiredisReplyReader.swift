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

    private static func value(of reply: UnsafeMutablePointer<redisReply>) -> RESPValue {
        let reply = reply.pointee
        switch reply.type {
        case REDIS_REPLY_STRING:
            return .bulkString(Self.buffer(reply.str, reply.len))
        case REDIS_REPLY_STATUS:
            return .simpleString(String(buffer: Self.buffer(reply.str, reply.len)))
        case REDIS_REPLY_ERROR:
            return .error(String(buffer: Self.buffer(reply.str, reply.len)))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(reply.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RESPValue] = []
            elements.reserveCapacity(reply.elements)
            for index in 0..<reply.elements {
                if let element = reply.element[index] {
                    elements.append(Self.value(of: element))
                } else {
                    elements.append(.null)
                }
            }
            return .array(elements)
        default:
            return .null
        }
    }

    private static func buffer(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> ByteBuffer {
        guard let pointer, length > 0 else { return ByteBuffer() }
        return ByteBuffer(bytes: UnsafeRawBufferPointer(start: pointer, count: length))
    }
}
