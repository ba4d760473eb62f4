/// A JSON value as it came, numbers kept as their literal text and object members in their order,
/// so a value stored and read back is the value that was sent.
public enum JSONValue: Sendable, Equatable {
    case string(String)
    /// A number, its literal text exactly as sent (validated against the JSON grammar).
    case number(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    /// Members in the order they were sent; names are unique.
    case object([(name: String, value: JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.null, .null): return true
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.name == $1.name && $0.value == $1.value }
        default: return false
        }
    }

    /// The member `name` of an object, if this is an object that has it.
    public subscript(member name: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.name == name }?.value
    }

    /// A short name of the value's type, for error messages.
    public var typeName: String {
        switch self {
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
