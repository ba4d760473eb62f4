/// The reading rules shared by PUT, PATCH and attribute bodies.
public enum SessionBody {
    /// The largest attribute value accepted by default, in bytes of JSON text.
    public static let defaultMaximumValueBytes = 16 * 1024

    /// `metadata.version`, required and an integer.
    static func version(in body: JSONValue) throws(SessionInputError) -> Int64 {
        guard let metadata = body[member: "metadata"] else { throw SessionInputError("metadata.version is required") }
        guard case .object = metadata else { throw SessionInputError("metadata must be an object") }
        guard let version = metadata[member: "version"] else { throw SessionInputError("metadata.version is required") }
        guard case .number(let literal) = version, let number = Int64(literal), number >= 0 else {
            throw SessionInputError("metadata.version must be a non-negative integer")
        }
        return number
    }

    /// A standard field's value: a valid string, or nil for JSON null.
    static func standardValue(_ field: StandardField, _ value: JSONValue) throws(SessionInputError) -> String? {
        switch value {
        case .null:
            return nil
        case .string(let text):
            if let problem = field.problem(with: text) { throw SessionInputError("\(field.rawValue) \(problem)") }
            return text
        default:
            throw SessionInputError("\(field.rawValue) must be a string, not \(value.typeName)")
        }
    }

    /// The attribute map of `context`: names -> JSON text, or nil for a JSON null where allowed.
    static func attributes(_ value: JSONValue, allowingNull: Bool, maximumValueBytes: Int) throws(SessionInputError) -> [(name: String, json: String?)] {
        guard case .object(let members) = value else {
            throw SessionInputError("context must be an object, not \(value.typeName)")
        }
        var result: [(name: String, json: String?)] = []
        result.reserveCapacity(members.count)
        for (name, attribute) in members {
            guard Identifiers.isValidAttributeName(name) else {
                throw SessionInputError("context has an invalid attribute name: 1 to 256 characters, no control characters")
            }
            if case .null = attribute, allowingNull {
                result.append((name, nil))
            } else {
                result.append((name, try self.attributeValue(attribute, field: "context.\(name)", maximumBytes: maximumValueBytes)))
            }
        }
        return result
    }

    /// An attribute value as JSON text: a string or an object, within the size limit.
    public static func attributeValue(_ value: JSONValue, field: String, maximumBytes: Int) throws(SessionInputError) -> String {
        switch value {
        case .string, .object:
            let json = JSONWriter.string(value)
            guard json.utf8.count <= maximumBytes else {
                throw SessionInputError("\(field) is larger than \(maximumBytes) bytes")
            }
            return json
        default:
            throw SessionInputError("\(field) must be a string or an object, not \(value.typeName)")
        }
    }
}
