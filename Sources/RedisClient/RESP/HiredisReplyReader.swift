import CHiredis
import NIOCore

/// Parses RESP replies with hiredis's reply reader, which accepts input in pieces of any size
/// (a reply split across reads, or many pipelined replies in one read).
///
/// The reader fills a flat reply (`chiredis_flat_reply` in the `CHiredis` shim) instead of
/// hiredis's reply objects: no allocation per element, and the strings of a reply already lie
/// one after the other, ready to be copied into one buffer.
///
/// Not thread-safe: owned by one channel handler on one event loop.
final class HiredisReplyReader {
    private let reader: UnsafeMutablePointer<redisReader>
    private let flat: UnsafeMutablePointer<chiredis_flat_reply>

    /// Creates a reader.
    init() {
        self.flat = .allocate(capacity: 1)
        self.flat.initialize(to: chiredis_flat_reply())
        guard let reader = chiredis_flat_reader_create(self.flat) else {
            fatalError("hiredis could not allocate a reply reader")
        }
        self.reader = reader
    }

    deinit {
        redisReaderFree(self.reader)
        chiredis_flat_release(self.flat)
        self.flat.deallocate()
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
        guard redisReaderGetReply(self.reader, &raw) == REDIS_OK else {
            chiredis_flat_reset(self.flat)
            throw self.readerError()
        }
        // Until a reply is whole, the elements read so far stay in the flat reply.
        guard raw != nil else { return nil }
        defer { chiredis_flat_reset(self.flat) }
        return Self.value(of: self.flat.pointee)
    }

    private func readerError() -> RedisError {
        RedisError(.protocolError, String(cString: chiredis_reader_error(self.reader)))
    }

    /// The reply as a ``RESPValue``. Every bulk string of the reply is copied into one buffer and
    /// handed out as a slice of it: one allocation per reply instead of one per string (an
    /// `HGETALL` of a context has two dozen).
    private static func value(of flat: chiredis_flat_reply) -> RESPValue {
        guard let elements = flat.elements, flat.count > 0 else { return .null }
        var arena = ByteBuffer()
        if let bytes = flat.bytes, flat.length > 0 {
            arena.reserveCapacity(flat.length)
            arena.writeBytes(UnsafeRawBufferPointer(start: bytes, count: flat.length))
        }
        var index = 0
        return Self.value(at: &index, of: UnsafeBufferPointer(start: elements, count: flat.count), arena: arena)
    }

    /// The element at `index` and, for an array, the elements after it that it holds; moves `index` past them.
    private static func value(at index: inout Int, of elements: UnsafeBufferPointer<chiredis_flat_element>, arena: ByteBuffer) -> RESPValue {
        guard index < elements.count else { return .null }
        let element = elements[index]
        index += 1
        switch element.type {
        case REDIS_REPLY_STRING:
            return .bulkString(arena.getSlice(at: arena.readerIndex + element.offset, length: element.length) ?? ByteBuffer())
        case REDIS_REPLY_STATUS:
            return .simpleString(arena.getString(at: arena.readerIndex + element.offset, length: element.length) ?? "")
        case REDIS_REPLY_ERROR:
            return .error(arena.getString(at: arena.readerIndex + element.offset, length: element.length) ?? "")
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(element.integer))
        case REDIS_REPLY_ARRAY:
            let count = Int(max(0, element.integer))
            var values: [RESPValue] = []
            values.reserveCapacity(count)
            for _ in 0..<count { values.append(Self.value(at: &index, of: elements, arena: arena)) }
            return .array(values)
        default:
            return .null
        }
    }
}
