import NIOCore
import RedisClient

/// A session context as read from Redis: the hash's fields, ready to render as the API's JSON.
public struct SessionSnapshot: Sendable {
    /// The session id.
    public let sessionId: String
    /// The hash's field/value pairs in Redis's order.
    public let fields: [(name: ByteBuffer, value: ByteBuffer)]
    /// The JSON form, when it was rendered ahead (for the near cache, which serves it many times).
    private var rendered: ByteBuffer?

    /// A snapshot from a flat `HGETALL` reply; nil when it is empty (no such session).
    public init?(sessionId: String, hgetall reply: RESPValue) {
        guard let flat = reply.array, flat.count >= 2 else { return nil }
        var fields: [(name: ByteBuffer, value: ByteBuffer)] = []
        fields.reserveCapacity(flat.count / 2)
        var index = 0
        while index + 1 < flat.count {
            if case .bulkString(let name) = flat[index], case .bulkString(let value) = flat[index + 1] {
                fields.append((name, value))
            }
            index += 2
        }
        self.sessionId = sessionId
        self.fields = fields
    }

    /// This snapshot with its JSON form rendered once, to be served many times.
    public func prerendered() -> SessionSnapshot {
        var copy = self
        copy.rendered = self.renderJSON()
        return copy
    }

    /// The decimal integer in `bytes` (as the scripts store numbers), without making a `String`.
    private static func decimal(_ bytes: ByteBuffer) -> Int64? {
        guard bytes.readableBytes > 0, bytes.readableBytes < 19 else { return nil }
        var value: Int64 = 0
        for byte in bytes.readableBytesView {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        return value
    }


    /// The value of standard field `field`, if set.
    public func value(of field: StandardField) -> String? {
        self.fields.first { $0.name.readableBytesView.elementsEqual(field.storageField.utf8) }.map { String(buffer: $0.value) }
    }

    private func meta(_ name: StaticString) -> ByteBuffer? {
        let bytes = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        return self.fields.first { $0.name.readableBytesView.elementsEqual(bytes) }?.value
    }

    /// The context's JSON form: `sessionId`, the standard fields that are set (in the contract's
    /// order), `context` (attribute values spliced in as stored) and `metadata`.
    public func renderJSON() -> ByteBuffer {
        if let rendered = self.rendered { return rendered }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(256 + self.fields.reduce(0) { $0 + $1.name.readableBytes + $1.value.readableBytes })
        buffer.writeStaticString("{\"sessionId\":")
        JSONWriter.writeString(self.sessionId, into: &buffer)
        // One pass over the fields picks the standard ones out, to be written in the contract's order.
        var standard: [ByteBuffer?] = Array(repeating: nil, count: StandardField.allCases.count)
        for (name, value) in self.fields where name.readableBytes == 2 {
            if let index = StandardField.index(ofStorageField: name) { standard[index] = value }
        }
        for (index, field) in StandardField.allCases.enumerated() {
            guard let value = standard[index] else { continue }
            buffer.writeStaticString(",\"")
            buffer.writeString(field.rawValue)
            buffer.writeStaticString("\":")
            JSONWriter.writeString(utf8: value.readableBytesView, into: &buffer)
        }
        buffer.writeStaticString(",\"context\":{")
        var first = true
        for (name, value) in self.fields where name.readableBytesView.first == UInt8(ascii: "@") {
            if !first { buffer.writeInteger(UInt8(ascii: ",")) }
            first = false
            JSONWriter.writeString(utf8: name.readableBytesView.dropFirst(), into: &buffer)
            buffer.writeInteger(UInt8(ascii: ":"))
            buffer.writeImmutableBuffer(value)
        }
        buffer.writeStaticString("},\"metadata\":{\"version\":")
        if let version = self.meta("_v") { buffer.writeImmutableBuffer(version) } else { buffer.writeInteger(UInt8(ascii: "0")) }
        if let created = self.meta("_c").flatMap(Self.decimal) {
            buffer.writeStaticString(",\"createdAt\":\"")
            Timestamp.writeISO8601(milliseconds: created, into: &buffer)
            buffer.writeInteger(UInt8(ascii: "\""))
        }
        if let modified = self.meta("_m").flatMap(Self.decimal) {
            buffer.writeStaticString(",\"modifiedAt\":\"")
            Timestamp.writeISO8601(milliseconds: modified, into: &buffer)
            buffer.writeInteger(UInt8(ascii: "\""))
        }
        buffer.writeStaticString("}}")
        return buffer
    }
}
