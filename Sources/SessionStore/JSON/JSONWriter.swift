import NIOCore

/// Writes JSON text: compact, strings escaped as RFC 8259 requires, non-ASCII kept as UTF-8.
public enum JSONWriter {
    /// The JSON text of `value`.
    public static func string(_ value: JSONValue) -> String {
        var buffer = ByteBuffer()
        self.write(value, into: &buffer)
        return String(buffer: buffer)
    }

    /// Appends the JSON text of `value`.
    public static func write(_ value: JSONValue, into buffer: inout ByteBuffer) {
        switch value {
        case .string(let text): self.writeString(text, into: &buffer)
        case .number(let literal): buffer.writeString(literal)
        case .bool(let flag): buffer.writeStaticString(flag ? "true" : "false")
        case .null: buffer.writeStaticString("null")
        case .array(let elements):
            buffer.writeInteger(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                self.write(element, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "]"))
        case .object(let members):
            buffer.writeInteger(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                self.writeString(member.name, into: &buffer)
                buffer.writeInteger(UInt8(ascii: ":"))
                self.write(member.value, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "}"))
        }
    }

    /// Appends `text` as a JSON string literal.
    public static func writeString(_ text: String, into buffer: inout ByteBuffer) {
        self.writeString(utf8: text.utf8, into: &buffer)
    }

    /// Appends the UTF-8 text `bytes` (e.g. a value read from Redis, without making a `String` of
    /// it) as a JSON string literal.
    public static func writeString<Bytes: Collection>(utf8 bytes: Bytes, into buffer: inout ByteBuffer) where Bytes.Element == UInt8 {
        buffer.writeInteger(UInt8(ascii: "\""))
        if !bytes.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            buffer.writeBytes(bytes)
        } else {
            for byte in bytes {
                switch byte {
                case 0x22: buffer.writeStaticString("\\\"")
                case 0x5C: buffer.writeStaticString("\\\\")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x09: buffer.writeStaticString("\\t")
                case 0x08: buffer.writeStaticString("\\b")
                case 0x0C: buffer.writeStaticString("\\f")
                case 0..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hex[Int(byte >> 4)])
                    buffer.writeInteger(hex[Int(byte & 0x0F)])
                default: buffer.writeInteger(byte)
                }
            }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}
