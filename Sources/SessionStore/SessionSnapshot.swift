import NIOCore
import RedisClient

/// A session context as read from Redis: the hash's fields, ready to render as the API's JSON.
///
/// The fields' bytes are kept together in one buffer, with where each name and value lies, and
/// where the standard and metadata fields are: reading, copying and rendering a context touches
/// one buffer, not two dozen.
public struct SessionSnapshot: Sendable {
    /// Where one field's name and value lie in ``bytes``.
    struct Field {
        var nameStart: Int32
        var nameLength: Int32
        var valueStart: Int32
        var valueLength: Int32
    }

    /// The session id.
    public let sessionId: String
    /// The names and values of the hash's fields, one after the other.
    private let bytes: ByteBuffer
    /// The fields in Redis's order.
    private let fields: [Field]
    /// Which of the fields are the standard and metadata ones.
    private let slots: FieldSlots
    /// The JSON form, when it was rendered ahead (for the near cache, which serves it many times).
    private var rendered: ByteBuffer?

    /// A snapshot from a flat `HGETALL` reply; nil when it is empty (no such session).
    public init?(sessionId: String, hgetall reply: RESPValue) {
        guard case .array(let flat) = reply, flat.count >= 2 else { return nil }
        var total = 0
        for element in flat {
            if case .bulkString(let text) = element { total += text.readableBytes }
        }
        guard total < Int(Int32.max) else { return nil }
        var bytes = ByteBuffer()
        bytes.reserveCapacity(total)
        var fields: [Field] = []
        fields.reserveCapacity(flat.count / 2)
        var slots = FieldSlots()
        var index = 0
        while index + 1 < flat.count {
            if case .bulkString(let name) = flat[index], case .bulkString(let value) = flat[index + 1] {
                if let slot = FieldSlots.slot(ofStorageField: name) { slots[slot] = fields.count }
                let nameStart = bytes.writerIndex
                bytes.writeImmutableBuffer(name)
                let valueStart = bytes.writerIndex
                bytes.writeImmutableBuffer(value)
                fields.append(Field(
                    nameStart: Int32(nameStart), nameLength: Int32(name.readableBytes),
                    valueStart: Int32(valueStart), valueLength: Int32(value.readableBytes)
                ))
            }
            index += 2
        }
        self.sessionId = sessionId
        self.bytes = bytes
        self.fields = fields
        self.slots = slots
    }

    /// This snapshot with its JSON form rendered once, to be served many times.
    public func prerendered() -> SessionSnapshot {
        var copy = self
        copy.rendered = self.renderJSON()
        return copy
    }

    /// The value of standard field `field`, if set.
    public func value(of field: StandardField) -> String? {
        guard let slot = StandardField.allCases.firstIndex(of: field), self.slots[slot] >= 0 else { return nil }
        let value = self.fields[self.slots[slot]]
        return self.bytes.getString(at: Int(value.valueStart), length: Int(value.valueLength))
    }

    /// The context's JSON form: `sessionId`, the standard fields that are set (in the contract's
    /// order), `context` (attribute values spliced in as stored) and `metadata`. Written into
    /// memory reserved once, with no per-write checks (``JSONByteWriter``).
    public func renderJSON() -> ByteBuffer {
        if let rendered = self.rendered { return rendered }
        var sessionId = self.sessionId
        // Every byte escaped at worst, plus the keys, quotes and punctuation of each field and of the frame.
        let reservation = 200 + JSONByteWriter.escapedLength(of: sessionId.utf8.count)
            + 24 * self.fields.count + JSONByteWriter.escapedLength(of: self.bytes.readableBytes)
        var buffer = ByteBuffer()
        self.bytes.withUnsafeReadableBytes { stored in
            func name(_ field: Field) -> UnsafeRawBufferPointer {
                UnsafeRawBufferPointer(rebasing: stored[Int(field.nameStart)..<Int(field.nameStart + field.nameLength)])
            }
            func value(_ field: Field) -> UnsafeRawBufferPointer {
                UnsafeRawBufferPointer(rebasing: stored[Int(field.valueStart)..<Int(field.valueStart + field.valueLength)])
            }
            func metadata(_ slot: Int) -> Int64? {
                self.slots[slot] >= 0 ? Self.decimal(value(self.fields[self.slots[slot]])) : nil
            }
            buffer.writeJSON(reserving: reservation) { json in
                json.literal("{\"sessionId\":")
                sessionId.withUTF8 { json.string(UnsafeRawBufferPointer($0)) }
                for slot in 0..<FieldSlots.standardCount where self.slots[slot] >= 0 {
                    FieldSlots.jsonKeys[slot].withUnsafeBytes { json.bytes($0) }
                    json.string(value(self.fields[self.slots[slot]]))
                }
                json.literal(",\"context\":{")
                var first = true
                for field in self.fields where field.nameLength > 0 && stored[Int(field.nameStart)] == UInt8(ascii: "@") {
                    if !first { json.byte(UInt8(ascii: ",")) }
                    first = false
                    json.string(UnsafeRawBufferPointer(rebasing: name(field).dropFirst()))
                    json.byte(UInt8(ascii: ":"))
                    json.bytes(value(field))
                }
                json.literal("},\"metadata\":{\"version\":")
                json.decimal(Int(metadata(FieldSlots.version) ?? 0))
                func timestamp(_ slot: Int, _ key: StaticString) {
                    guard let milliseconds = metadata(slot) else { return }
                    json.literal(key)
                    json.iso8601(milliseconds: milliseconds)
                    json.byte(UInt8(ascii: "\""))
                }
                timestamp(FieldSlots.created, ",\"createdAt\":\"")
                timestamp(FieldSlots.modified, ",\"modifiedAt\":\"")
                json.literal("}}")
            }
        }
        return buffer
    }

    /// The non-negative decimal integer in `digits` (as the scripts store numbers), without making a `String`.
    private static func decimal(_ digits: UnsafeRawBufferPointer) -> Int64? {
        guard digits.count > 0, digits.count < 19 else { return nil }
        var value: Int64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        return value
    }
}
