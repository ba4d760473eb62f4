import NIOCore

extension ByteBuffer {
    /// Appends what `body` writes with a ``JSONByteWriter`` into `reservation` bytes reserved
    /// at once (an upper bound of what it writes).
    mutating func writeJSON(reserving reservation: Int, _ body: (inout JSONByteWriter) -> Void) {
        self.writeWithUnsafeMutableBytes(minimumWritableBytes: reservation) { memory in
            var writer = JSONByteWriter(UnsafeMutableRawBufferPointer(rebasing: memory.prefix(reservation)))
            body(&writer)
            return writer.count
        }
    }
}
