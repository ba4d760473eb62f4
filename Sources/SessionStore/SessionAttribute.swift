/// The body of a POST of an attribute: `{"key": ..., "value": ...}`.
public struct SessionAttribute: Sendable, Equatable {
    /// The attribute name.
    public var name: String
    /// Its value as JSON text (a string or an object).
    public var json: String

    /// Reads an attribute body.
    public init(body: JSONValue, maximumValueBytes: Int = SessionBody.defaultMaximumValueBytes) throws(SessionInputError) {
        guard case .object = body else { throw SessionInputError("the body must be a JSON object") }
        guard let key = body[member: "key"] else { throw SessionInputError("key is required") }
        guard case .string(let name) = key else { throw SessionInputError("key must be a string, not \(key.typeName)") }
        guard Identifiers.isValidAttributeName(name) else {
            throw SessionInputError("key must be 1 to 256 characters without control characters")
        }
        guard let value = body[member: "value"] else { throw SessionInputError("value is required") }
        self.name = name
        self.json = try SessionBody.attributeValue(value, field: "value", maximumBytes: maximumValueBytes)
    }
}
