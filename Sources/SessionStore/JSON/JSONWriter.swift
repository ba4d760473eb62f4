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
        var text = text
        text.withUTF8 { utf8 in
            buffer.writeJSON(reserving: JSONByteWriter.escapedLength(of: utf8.count)) { $0.string(UnsafeRawBufferPointer(utf8)) }
        }
    }
}
