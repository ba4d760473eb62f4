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

    /// The value of standard field `field`, if set.
    public func value(of field: StandardField) -> String? {
        self.fields.first { $0.name.readableBytesView.elementsEqual(field.storageField.utf8) }.map { String(buffer: $0.value) }
    }

    /// The context's JSON form: `sessionId`, the standard fields that are set (in the contract's
    /// order), `context` (attribute values spliced in as stored) and `metadata`.
    ///
    /// One pass finds the fields and bounds the output; a second writes it into memory reserved
    /// once, with no per-write checks (``JSONByteWriter``).
    public func renderJSON() -> ByteBuffer {
        if let rendered = self.rendered { return rendered }
        var sessionId = self.sessionId
        var reservation = 200 + JSONByteWriter.escapedLength(of: sessionId.utf8.count)
        // Where each standard field (by its position in the contract's order) and each metadata field is.
        var slots = FieldSlots()
        for index in self.fields.indices {
            let (name, value) = self.fields[index]
            reservation += 24 + JSONByteWriter.escapedLength(of: name.readableBytes + value.readableBytes)
            if name.readableBytes == 2, let slot = FieldSlots.slot(ofStorageField: name) { slots[slot] = index }
        }
        var buffer = ByteBuffer()
        buffer.writeJSON(reserving: reservation) { json in
            json.literal("{\"sessionId\":")
            sessionId.withUTF8 { json.string(UnsafeRawBufferPointer($0)) }
            for slot in 0..<FieldSlots.standardCount where slots[slot] >= 0 {
                json.literal(FieldSlots.jsonKey(ofStandardSlot: slot))
                self.fields[slots[slot]].value.withUnsafeReadableBytes { json.string($0) }
            }
            json.literal(",\"context\":{")
            var first = true
            for (name, value) in self.fields where name.readableBytesView.first == UInt8(ascii: "@") {
                if !first { json.byte(UInt8(ascii: ",")) }
                first = false
                name.withUnsafeReadableBytes { json.string(UnsafeRawBufferPointer(rebasing: $0.dropFirst())) }
                json.byte(UInt8(ascii: ":"))
                value.withUnsafeReadableBytes { json.bytes($0) }
            }
            json.literal("},\"metadata\":{\"version\":")
            if slots[FieldSlots.version] >= 0, let version = Self.decimal(self.fields[slots[FieldSlots.version]].value) {
                json.decimal(Int(version))
            } else {
                json.byte(UInt8(ascii: "0"))
            }
            if slots[FieldSlots.created] >= 0, let created = Self.decimal(self.fields[slots[FieldSlots.created]].value) {
                json.literal(",\"createdAt\":\"")
                json.iso8601(milliseconds: created)
                json.byte(UInt8(ascii: "\""))
            }
            if slots[FieldSlots.modified] >= 0, let modified = Self.decimal(self.fields[slots[FieldSlots.modified]].value) {
                json.literal(",\"modifiedAt\":\"")
                json.iso8601(milliseconds: modified)
                json.byte(UInt8(ascii: "\""))
            }
            json.literal("}}")
        }
        return buffer
    }

    /// The non-negative decimal integer in `bytes` (as the scripts store numbers), without making a `String`.
    private static func decimal(_ bytes: ByteBuffer) -> Int64? {
        guard bytes.readableBytes > 0, bytes.readableBytes < 19 else { return nil }
        return bytes.withUnsafeReadableBytes { digits in
            var value: Int64 = 0
            for byte in digits {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
    }
}
