import NIOCore

/// One reply from a Redis server, in the RESP2 protocol's types.
public enum RESPValue: Sendable, Hashable {
    /// A status reply such as `OK` (`+OK`).
    case simpleString(String)
    /// An error reply (`-ERR …`), its whole text.
    case error(String)
    /// An integer reply (`:42`).
    case integer(Int64)
    /// A bulk string reply (`$3 foo`), its bytes as they came.
    case bulkString(ByteBuffer)
    /// A nil bulk string or nil array (`$-1`, `*-1`).
    case null
    /// An array reply (`*2 …`).
    case array([RESPValue])
}

extension RESPValue {
    /// The value as text: simple and bulk strings (bulk strings decoded as UTF-8), integers in decimal.
    public var string: String? {
        switch self {
        case .simpleString(let text): return text
        case .bulkString(let buffer): return String(buffer: buffer)
        case .integer(let number): return String(number)
        default: return nil
        }
    }

    /// The value as an integer: integer replies, and strings that hold a decimal integer.
    public var int: Int64? {
        switch self {
        case .integer(let number): return number
        case .bulkString(let buffer): return Int64(String(buffer: buffer))
        case .simpleString(let text): return Int64(text)
        default: return nil
        }
    }

    /// The elements of an array reply.
    public var array: [RESPValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Whether this is a nil reply.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
