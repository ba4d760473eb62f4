import NIOCore

/// A NIO decoder that turns the bytes of a Redis connection into ``RESPValue`` replies,
/// using ``HiredisReplyReader`` for the parsing.
struct RESPReplyDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = RESPValue

    private let reader = HiredisReplyReader()

    mutating func decode(buffer: inout ByteBuffer) throws -> RESPValue? {
        if buffer.readableBytes > 0 {
            try self.reader.feed(buffer)
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        }
        return try self.reader.next()
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> RESPValue? {
        try self.decode(buffer: &buffer)
    }
}
