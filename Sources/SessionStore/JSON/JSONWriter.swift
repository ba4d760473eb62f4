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
        buffer.writeInteger(UInt8(ascii: "\""))
        var needsEscape = false
        for byte in text.utf8 where byte < 0x20 || byte == 0x22 || byte == 0x5C {
            needsEscape = true
            break
        }
        if !needsEscape {
            buffer.writeString(text)
        } else {
            for byte in text.utf8 {
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
